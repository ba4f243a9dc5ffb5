//! A panic in user code during a stateless call or a queue send is answered as
//! `internal_error`, and the throwaway connection still goes away (its `on_disconnect` runs
//! after the actor recovers), so the actor is not left holding a connection forever.

use rivet_actor::prelude::*;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Poison;

#[derive(Default, Serialize, Deserialize)]
struct Fragile {
    disconnects: u32,
}

#[actor(queues(poison = Poison))]
impl Fragile {
    #[can_invoke]
    fn allow(&self, invoke: Invoke<Self>) -> bool {
        if matches!(invoke, Invoke::Queue(FragileQueue::Poison)) {
            panic!("can_invoke panics on the poison queue");
        }
        true
    }

    #[on_disconnect]
    fn left(&mut self) {
        self.disconnects += 1;
    }

    #[action]
    fn boom(&mut self) {
        panic!("the action panics");
    }

    /// How many connections had left before this call's own.
    #[action]
    fn disconnects(&self) -> u32 {
        self.disconnects
    }
}

#[tokio::test]
async fn panics_do_not_leak_throwaway_connections() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Fragile>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let fragile = Client::new(server.endpoint()).get_or_create::<Fragile>(["f"]);
    assert_eq!(fragile.disconnects().await.unwrap(), 0);
    let err = fragile.boom().await.unwrap_err();
    assert!(err.is_internal(), "{err:?}");
    let err = fragile.send(Poison).await.unwrap_err();
    assert!(err.is_internal(), "{err:?}");
    // The first call's connection, then the two that panicked: all three left.
    assert_eq!(fragile.disconnects().await.unwrap(), 3);
    server.shutdown().await.unwrap();
}
