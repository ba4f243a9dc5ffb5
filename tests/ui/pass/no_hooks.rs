// An actor with actions and no hooks at all: state from `Default`, no params.
#![deny(warnings)]
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Counter {
    count: i64,
}

#[actor]
impl Counter {
    /// Adds to the counter.
    #[action]
    fn increment(&mut self, by: i64) -> i64 {
        self.count += by;
        self.count
    }

    #[action]
    async fn get(&self) -> i64 {
        self.count
    }

    #[action]
    fn reset(&mut self) {
        self.count = 0;
    }

    // Not an action: stays a plain method.
    fn helper(&self) -> i64 {
        self.count * 2
    }
}

fn main() {
    assert_eq!(<Counter as Actor>::NAME, "counter");
    assert!(!<Counter as Actor>::READS_PARAMS);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let test = ActorTest::<Counter>::new();
        let counter = test.get_or_create("a").await.unwrap();
        assert_eq!(counter.increment(5).await.unwrap(), 5);
        assert_eq!(counter.get().await.unwrap(), 5);
        counter.reset().await.unwrap();
        assert_eq!(counter.get().await.unwrap(), 0);
    });
    let _ = Counter::default().helper();
    let _ = CounterAction::Increment;
}
