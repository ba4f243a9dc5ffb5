//! Every hook and guard is cut off at its limit: one stuck `.await` in user code (a fetch
//! that never answers) fails what it was doing with `actor.hook_timed_out` and rolls its
//! changes back, and the actor goes on serving instead of being held for ever.

use std::time::Duration;

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;

/// Hangs for ever when the actor's key names `hook`.
async fn hang_if(key: &[String], hook: &str) {
    if key.first().map(String::as_str) == Some(hook) {
        std::future::pending::<()>().await;
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct Stuck {
    wakes: u32,
    sleeps: u32,
}

#[actor]
impl Stuck {
    #[on_wake]
    async fn woke(&mut self, c: &mut ActorCtx<'_, Self>) {
        self.wakes += 1;
        hang_if(c.key(), "on_wake").await;
    }

    #[on_sleep]
    async fn sleeping(&mut self, c: &mut ActorCtx<'_, Self>) {
        self.sleeps += 1;
        hang_if(c.key(), "on_sleep").await;
    }

    #[on_connect]
    async fn connected(&mut self, c: &mut ActionCtx<'_, Self>) {
        hang_if(c.key(), "on_connect").await;
    }

    #[on_disconnect]
    async fn disconnected(&mut self, c: &mut ActionCtx<'_, Self>) {
        hang_if(c.key(), "on_disconnect").await;
    }

    #[can_invoke]
    async fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        if matches!(invoke, Invoke::Action(StuckAction::Guarded)) {
            hang_if(c.key(), "can_invoke").await;
        }
        true
    }

    #[on_request]
    async fn http(&mut self, c: &mut ActionCtx<'_, Self>, _request: RawRequest) -> RawResponse {
        hang_if(c.key(), "on_request").await;
        RawResponse::new("ok".into())
    }

    #[on_state_change]
    async fn changed(&self, c: &ActorCtx<'_, Self>) {
        hang_if(c.key(), "on_state_change").await;
    }

    /// Changes the state: `(wakes, sleeps)` after it.
    #[action]
    fn bump(&mut self) -> (u32, u32) {
        self.wakes += 100;
        (self.wakes, self.sleeps)
    }

    /// `(wakes, sleeps)` as stored.
    #[action]
    fn counts(&self) -> (u32, u32) {
        (self.wakes, self.sleeps)
    }

    #[action]
    fn guarded(&self) {}
}

fn registry() -> Registry {
    Registry::builder()
        .in_memory()
        .config(HostConfig {
            connect_hook_timeout: Duration::from_millis(200),
            lifecycle_hook_timeout: Duration::from_millis(200),
            action_timeout: Duration::from_millis(200),
            idle_timeout: Some(Duration::from_millis(300)),
            ..Default::default()
        })
        .register::<Stuck>()
        .build()
}

/// `call`'s outcome, which must come well before a stuck hook would ever end it.
async fn promptly<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("held by a stuck hook")
}

fn assert_timed_out<T>(result: Result<T, ClientError>, hook: &str) {
    let Err(err) = result else {
        panic!("{hook}: no error");
    };
    assert_eq!(err.code(), Some("hook_timed_out"), "{hook}: {err:?}");
    assert!(err.to_string().contains(hook), "{hook}: {err}");
}

#[tokio::test]
async fn stuck_connection_hooks_and_guards_are_cut_off() {
    let registry = registry();

    // `on_connect` (every call connects, stateless ones too): refused, each time promptly.
    let actor = registry
        .get_or_create::<Stuck>(["on_connect"])
        .await
        .unwrap();
    assert_timed_out(promptly(actor.connect()).await, "on_connect");
    assert_timed_out(promptly(actor.counts()).await, "on_connect");

    // `on_disconnect`: the call is answered, and the next one is not held behind it.
    let actor = registry
        .get_or_create::<Stuck>(["on_disconnect"])
        .await
        .unwrap();
    assert_eq!(promptly(actor.counts()).await.unwrap(), (1, 0));
    assert_eq!(promptly(actor.counts()).await.unwrap(), (1, 0));

    // A guard: the guarded call is refused, the others go on.
    let actor = registry
        .get_or_create::<Stuck>(["can_invoke"])
        .await
        .unwrap();
    assert_timed_out(promptly(actor.guarded()).await, "can_invoke");
    assert_eq!(promptly(actor.counts()).await.unwrap(), (1, 0));
}

#[tokio::test]
async fn stuck_lifecycle_hooks_are_cut_off() {
    let registry = registry();

    // `on_wake`: the start fails, promptly, every time.
    let actor = registry.get_or_create::<Stuck>(["on_wake"]).await;
    let actor = match actor {
        Ok(actor) => actor,
        Err(err) => return assert_timed_out(Err::<(), _>(err), "on_wake"),
    };
    assert_timed_out(promptly(actor.counts()).await, "on_wake");
    assert_timed_out(promptly(actor.counts()).await, "on_wake");

    // `on_state_change`: the change stays committed and answered, and the actor goes on.
    let actor = registry
        .get_or_create::<Stuck>(["on_state_change"])
        .await
        .unwrap();
    assert_eq!(promptly(actor.bump()).await.unwrap(), (101, 0));
    assert_eq!(promptly(actor.counts()).await.unwrap(), (101, 0));

    // `on_sleep`: the actor still goes to sleep (idle after 300 ms) and wakes again; what the
    // hook changed is not kept.
    let actor = registry.get_or_create::<Stuck>(["on_sleep"]).await.unwrap();
    assert_eq!(promptly(actor.counts()).await.unwrap(), (1, 0));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(promptly(actor.counts()).await.unwrap(), (2, 0));
}

#[tokio::test]
async fn a_stuck_request_handler_is_cut_off() {
    let registry = registry();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let fetch = |key: &'static str| {
        let actor = client.get_or_create::<Stuck>([key]);
        async move {
            let request = rivet_actor::http::Request::get("/x")
                .body(Vec::new())
                .unwrap();
            promptly(actor.fetch(request)).await.unwrap()
        }
    };
    let stuck = fetch("on_request").await;
    assert_eq!(stuck.status(), 408);
    let body = String::from_utf8_lossy(stuck.body()).into_owned();
    assert!(body.contains("hook_timed_out"), "{body}");
    assert_eq!(fetch("fine").await.status(), 200);
    server.shutdown().await.unwrap();
}
