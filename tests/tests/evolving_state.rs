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

/// v3 splits `name` into two fields: old state no longer decodes, and `#[on_migrate]`
/// converts it.
mod v3 {
    use rivet_actor::prelude::*;
    use rivet_actor::value::Value;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Profile {
        pub first: String,
        pub last: String,
    }

    #[actor(name = "profile")]
    impl Profile {
        #[on_migrate]
        fn migrate(old: Value) -> Result<Self, UserError> {
            let name = old
                .as_map()
                .and_then(|fields| fields.iter().find(|(k, _)| k.as_text() == Some("name")))
                .and_then(|(_, v)| v.as_text())
                .ok_or_else(|| UserError::new("old profile has no name"))?;
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            Ok(Self {
                first: first.into(),
                last: last.into(),
            })
        }

        #[action]
        fn full_name(&self) -> (String, String) {
            (self.first.clone(), self.last.clone())
        }
    }
}

/// v3 without a migration hook: the actor must refuse to start, its bytes untouched.
mod v3_unmigrated {
    use rivet_actor::prelude::*;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Profile {
        pub first: String,
        pub last: String,
    }

    #[actor(name = "profile")]
    impl Profile {
        #[action]
        fn full_name(&self) -> (String, String) {
            (self.first.clone(), self.last.clone())
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

#[test]
fn an_incompatible_change_is_converted_by_on_migrate_once() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("rivet-actor-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<v1::Profile>()
            .build();
        let profile = registry.get_or_create::<v1::Profile>("ann").await.unwrap();
        profile.set_name("Ann Lee".into()).await.unwrap();
    });
    let stored_before = in_process(async {
        // Without a hook: a clear refusal, and the stored bytes stay as they were.
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<v3_unmigrated::Profile>()
            .build();
        let id = registry
            .storage()
            .find_by_key("profile", &["ann".to_owned()])
            .await
            .unwrap()
            .unwrap()
            .id;
        let before = registry.storage().load_state(&id).await.unwrap();
        let profile = registry.get::<v3_unmigrated::Profile>("ann").await.unwrap();
        let err = profile.full_name().await.unwrap_err();
        assert_eq!(err.code(), Some("start_failed"), "{err:?}");
        assert_eq!(registry.storage().load_state(&id).await.unwrap(), before);
        before
    });
    in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<v3::Profile>()
            .build();
        let profile = registry.get::<v3::Profile>("ann").await.unwrap();
        assert_eq!(
            profile.full_name().await.unwrap(),
            ("Ann".to_owned(), "Lee".to_owned())
        );
        // The migrated shape was written back once.
        let id = profile.id().clone();
        let after = registry.storage().load_state(id.as_str()).await.unwrap();
        assert_ne!(after, stored_before);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
