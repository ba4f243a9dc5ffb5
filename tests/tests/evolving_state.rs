//! A state type that changes between releases: new fields with serde defaults load old
//! state; the same actor id and key keep working.

use std::path::PathBuf;
use std::time::Duration;

use rivet_actor::prelude::*;

mod v1 {
    use rivet_actor::prelude::*;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Profile {
        pub name: String,
    }

    #[actor(name = "profile")]
    impl Profile {
        #[action]
        fn set_name(&mut self, name: String) {
            self.name = name;
        }
    }
}

mod v2 {
    use rivet_actor::prelude::*;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Profile {
        pub name: String,
        /// Added in v2: old state has no such field.
        #[serde(default = "default_theme")]
        pub theme: String,
    }

    fn default_theme() -> String {
        "light".into()
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub struct View {
        pub name: String,
        pub theme: String,
    }

    #[actor(name = "profile")]
    impl Profile {
        #[action]
        fn view(&self) -> View {
            View {
                name: self.name.clone(),
                theme: self.theme.clone(),
            }
        }
    }
}

fn in_process<T>(work: impl std::future::Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = runtime.block_on(work);
    runtime.shutdown_timeout(Duration::from_secs(5));
    out
}

#[test]
fn a_new_field_with_a_serde_default_loads_old_state() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("rivet-actor-evolve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let id = in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<v1::Profile>()
            .build();
        let profile = registry.get_or_create::<v1::Profile>("ann").await.unwrap();
        profile.set_name("Ann".into()).await.unwrap();
        profile.id().clone()
    });
    in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<v2::Profile>()
            .build();
        let profile = registry.get::<v2::Profile>("ann").await.unwrap();
        assert_eq!(profile.id(), &id);
        let view = profile.view().await.unwrap();
        assert_eq!(
            view,
            v2::View {
                name: "Ann".into(),
                theme: "light".into()
            }
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}
