// Options on the struct, methods wired by the impl block; once with the struct first and
#![deny(warnings)]
// once with the impl first. The generated enums are nameable here and importable elsewhere.
use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Ping {
    pub n: u32,
}

#[derive(Serialize, Deserialize)]
pub struct Job {
    pub id: u32,
}

pub mod first {
    use super::*;

    #[actor(name = "structFirst", events(ping = Ping), queues(jobs = Job -> bool), origins = ["https://a.com"])]
    #[derive(Default, Serialize, Deserialize)]
    pub struct StructFirst {
        pub pings: u32,
    }

    #[actor]
    impl StructFirst {
        #[can_invoke]
        fn allow(&self, invoke: Invoke<Self>) -> bool {
            matches!(
                invoke,
                Invoke::Action(StructFirstAction::Ping) | Invoke::Subscribe(StructFirstEvent::Ping) | Invoke::Queue(StructFirstQueue::Jobs)
            )
        }

        #[action]
        fn ping(&mut self, c: &mut ActionCtx<'_, Self>) -> u32 {
            self.pings += 1;
            c.broadcast(Ping { n: self.pings });
            self.pings
        }
    }
}

pub mod second {
    use super::*;

    #[actor]
    impl ImplFirst {
        #[action]
        fn get(&self) -> u32 {
            self.n
        }
    }

    #[derive(Default, Serialize, Deserialize)]
    #[actor(name = "implFirst", events(pinged = Ping))]
    pub struct ImplFirst {
        n: u32,
    }
}

mod elsewhere {
    use crate::first::{StructFirstAction, StructFirstEvent, StructFirstQueue};
    use crate::second::ImplFirstEvent;
    use rivet_actor::Target;

    pub fn names() -> [&'static str; 4] {
        [
            StructFirstAction::Ping.name(),
            StructFirstEvent::Ping.name(),
            StructFirstQueue::Jobs.name(),
            ImplFirstEvent::Pinged.name(),
        ]
    }
}

fn main() {
    use rivet_actor::__private::ActorOptions;
    assert_eq!(<first::StructFirst as Actor>::NAME, "structFirst");
    assert_eq!(<second::ImplFirst as Actor>::NAME, "implFirst");
    assert_eq!(elsewhere::names(), ["ping", "ping", "jobs", "pinged"]);
    assert_eq!(
        <first::StructFirst as ActorOptions>::ORIGINS,
        Some(&["https://a.com"][..])
    );
    assert_eq!(<second::ImplFirst as ActorOptions>::ORIGINS, None);
    fn completion<Q: rivet_actor::Queue<first::StructFirst, Completion = bool>>() {}
    completion::<Job>();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let test = ActorTest::<first::StructFirst>::new();
        let a = test.get_or_create("a").await.unwrap();
        assert_eq!(a.ping().await.unwrap(), 1);
        let test = ActorTest::<second::ImplFirst>::new();
        let b = test.get_or_create("b").await.unwrap();
        assert_eq!(b.get().await.unwrap(), 0);
    });
}
