//! A panic in any hook is caught, leaks nothing and is answered truthfully:
//!
//! | hook panics | the caller hears | afterwards |
//! |---|---|---|
//! | `on_connect` | `rivetkit.internal_error`: the connection is refused | no connection is left registered |
//! | `on_disconnect` | what its action or request answered (already decided) | the connection is gone |
//! | `on_state_change` | the action's success: the change was committed before the hook ran | the change is durable |
//! | `on_sleep` | nothing (no caller); commands that arrive meanwhile go to a fresh instance | the actor sleeps, its alarm armed |
//! | `on_wake` / `create_vars` on a restart | `rivetkit.internal_error` (a failed start) | the next call starts it again |
//! | a registry guard | `rivetkit.internal_error`: the connection is refused | nothing reached the actor |
//! | `on_request` / `on_websocket` | 500 / close 1011 `rivetkit.internal_error` | the connection disconnects after recovery |
//!
//! "Leaks nothing" is observed as the actor going to sleep after its idle timeout again: a
//! connection left registered would keep it awake for ever.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use rivet_actor::guard::{ConnectGuard, GuardCtx};
use rivet_actor::prelude::*;
use rivet_actor::{HostConfig, RegistryBuilder};
use tokio_tungstenite::tungstenite::Message;

#[path = "support/until.rs"]
mod support_until;
use support_until::until;

/// What one registry's hooks report, and which of them are to panic (each `fail_*` counts
/// the panics still to come).
#[derive(Default)]
struct Probe {
    wakes: AtomicU32,
    sleeps: AtomicU32,
    rang: AtomicU32,
    fail_vars: AtomicU32,
    fail_wake: AtomicU32,
    fail_sleep: AtomicU32,
    fail_guard: AtomicU32,
}

/// Takes one of the panics still to come.
fn due(flag: &AtomicU32) -> bool {
    flag.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn count(counter: &AtomicU32) -> u32 {
    counter.load(Ordering::SeqCst)
}

/// Its connection params name the hook that panics for that connection (`on_connect`,
/// `on_disconnect`, `guard`); its state says whether `on_state_change` panics.
#[derive(Default, Serialize, Deserialize)]
struct Touchy {
    count: u32,
    touchy: bool,
}

fn text_response(status: u16, text: String) -> RawResponse {
    let mut response = RawResponse::new(text.into());
    *response.status_mut() = rivet_actor::http::StatusCode::from_u16(status).unwrap();
    response
}

#[actor]
impl Touchy {
    #[create_vars]
    fn vars(&self, c: &CreateCtx<'_>) -> Arc<Probe> {
        let probe = c.data::<Arc<Probe>>().unwrap().clone();
        if due(&probe.fail_vars) {
            panic!("create_vars panics");
        }
        probe
    }

    #[on_wake]
    fn woke(&mut self, c: &mut ActorCtx<'_, Self>) {
        c.vars().wakes.fetch_add(1, Ordering::SeqCst);
        if due(&c.vars().fail_wake) {
            panic!("on_wake panics");
        }
    }

    #[on_sleep]
    async fn sleeping(&mut self, c: &mut ActorCtx<'_, Self>) {
        let probe = c.vars().clone();
        probe.sleeps.fetch_add(1, Ordering::SeqCst);
        if due(&probe.fail_sleep) {
            // Long enough for a call to arrive while the instance is going to sleep.
            tokio::time::sleep(Duration::from_millis(300)).await;
            panic!("on_sleep panics");
        }
    }

    #[conn_state]
    fn trigger(&self, params: &Option<String>) -> Option<String> {
        params.clone()
    }

    #[on_connect]
    fn connected(&mut self, c: &mut ActionCtx<'_, Self>) {
        if c.conn().state().as_deref() == Some("on_connect") {
            panic!("on_connect panics");
        }
    }

    #[on_disconnect]
    fn disconnected(&mut self, c: &mut ActionCtx<'_, Self>) {
        if c.conn().state().as_deref() == Some("on_disconnect") {
            panic!("on_disconnect panics");
        }
    }

    #[on_state_change]
    fn changed(&self) {
        if self.touchy {
            panic!("on_state_change panics");
        }
    }

    #[on_request]
    fn http(&mut self, request: RawRequest) -> RawResponse {
        if request.uri().path() == "/panic" {
            panic!("on_request panics");
        }
        self.count += 1;
        text_response(200, format!("count {}", self.count))
    }

    #[on_websocket]
    fn socket(&self, socket: RawWebSocket) {
        if socket.uri().path() == "/panic" {
            panic!("on_websocket panics");
        }
        let _ = socket.split().0.send("hello".to_string());
    }

    /// Counts one more; `touchy` makes `on_state_change` panic after this commit.
    #[action]
    fn bump(&mut self, touchy: bool) -> u32 {
        self.count += 1;
        self.touchy = touchy;
        self.count
    }

    #[action]
    fn count(&self) -> u32 {
        self.count
    }

    #[action]
    fn boom(&mut self) {
        self.count += 100;
        panic!("the action panics");
    }

    #[action]
    fn ring_later(&mut self, c: &mut ActionCtx<'_, Self>, after_ms: u64) -> Result<(), Error> {
        let ring = TouchyCall::Ring(());
        c.schedule().after(Duration::from_millis(after_ms), ring)?;
        Ok(())
    }

    #[action]
    fn ring(&self, c: &ActionCtx<'_, Self>) {
        c.vars().rang.fetch_add(1, Ordering::SeqCst);
    }
}

/// Panics for connections whose params say `guard`, and when its probe says so.
struct Gate;

impl ConnectGuard<Touchy> for Gate {
    type Params = Option<String>;
    type Identity = ();

    async fn check(&self, c: &GuardCtx<'_>, params: Option<String>) -> Result<(), Error> {
        let probe = c.data::<Arc<Probe>>().unwrap();
        if params.as_deref() == Some("guard") || due(&probe.fail_guard) {
            panic!("the guard panics");
        }
        Ok(())
    }
}

const IDLE: Duration = Duration::from_millis(100);

fn builder(probe: &Arc<Probe>) -> RegistryBuilder {
    Registry::builder()
        .in_memory()
        .config(HostConfig {
            idle_timeout: Some(IDLE),
            ..Default::default()
        })
        .data(probe.clone())
        .guard::<Touchy, _>(Gate)
}

fn registry() -> (Arc<Probe>, Registry) {
    let probe = Arc::new(Probe::default());
    let registry = builder(&probe).register::<Touchy>().build();
    (probe, registry)
}

async fn serve() -> (Arc<Probe>, rivet_actor::server::Server, Client) {
    let (probe, registry) = registry();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (probe, server, client)
}

/// The actor sleeps again: `on_sleep` has run more than `before` times. Each test reads
/// `before` while the actor is asleep (or not yet made), so a leaked connection, which keeps
/// it awake, fails this.
async fn sleeps_again(probe: &Probe, before: u32) {
    until("the actor went to sleep again", || {
        count(&probe.sleeps) > before
    })
    .await;
}

fn assert_internal<T: std::fmt::Debug>(result: Result<T, rivet_actor::ClientError>) {
    let err = result.unwrap_err();
    assert!(err.is_internal(), "{err:?}");
}

#[tokio::test]
async fn on_connect_panicking_refuses_the_connection_and_leaves_none() {
    let (probe, server, client) = serve().await;
    let touchy = client.get_or_create::<Touchy>(["on_connect"]);
    let refused = touchy.params("on_connect");
    assert_internal(refused.connect().await.map(|_| ()));
    assert_internal(refused.count().await);
    assert_eq!(touchy.count().await.unwrap(), 0);
    sleeps_again(&probe, 0).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn on_disconnect_panicking_still_removes_the_connection() {
    let (probe, server, client) = serve().await;
    let touchy = client.get_or_create::<Touchy>(["on_disconnect"]);
    let leaving = touchy.params("on_disconnect");
    // The answer was decided before the disconnect: it stands.
    assert_eq!(leaving.bump(false).await.unwrap(), 1);
    let conn = leaving.connect().await.unwrap();
    assert_eq!(conn.bump(false).await.unwrap(), 2);
    conn.close().await;
    assert_eq!(touchy.count().await.unwrap(), 2);
    sleeps_again(&probe, 0).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn on_state_change_panicking_does_not_unsay_a_committed_change() {
    let (probe, server, client) = serve().await;
    let touchy = client.get_or_create::<Touchy>(["on_state_change"]);
    // Committed before on_state_change ran: a success, and it stays.
    assert_eq!(touchy.bump(true).await.unwrap(), 1);
    assert_eq!(touchy.count().await.unwrap(), 1);
    let conn = touchy.connect().await.unwrap();
    assert_eq!(conn.bump(true).await.unwrap(), 2);
    assert_eq!(conn.bump(false).await.unwrap(), 3);
    conn.close().await;
    assert_eq!(touchy.count().await.unwrap(), 3);
    sleeps_again(&probe, 0).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn on_sleep_panicking_still_puts_the_actor_to_sleep() {
    let (probe, registry) = registry();
    let touchy = registry.get_or_create::<Touchy>("on_sleep").await.unwrap();
    probe.fail_sleep.store(1, Ordering::SeqCst);
    // Due while on_sleep runs: only the alarm that sleeping arms can wake the actor for it.
    touchy.ring_later(200).await.unwrap();
    until("on_sleep began", || count(&probe.sleeps) == 1).await;
    // Arrives while the instance is going to sleep: a fresh instance answers it.
    assert_eq!(touchy.count().await.unwrap(), 0);
    until("the schedule rang", || count(&probe.rang) == 1).await;
    let asleep = count(&probe.sleeps);
    sleeps_again(&probe, asleep).await;
    assert_eq!(touchy.count().await.unwrap(), 0);
}

#[tokio::test]
async fn on_wake_panicking_is_a_failed_start_and_the_actor_starts_later() {
    let (probe, registry) = registry();
    let touchy = registry.get_or_create::<Touchy>("on_wake").await.unwrap();
    assert_eq!(touchy.bump(false).await.unwrap(), 1);
    sleeps_again(&probe, 0).await;
    // Waking from sleep.
    probe.fail_wake.store(1, Ordering::SeqCst);
    assert_internal(touchy.count().await);
    assert_eq!(touchy.count().await.unwrap(), 1);
    sleeps_again(&probe, 1).await;
    // Recovering from a panicked turn.
    probe.fail_wake.store(1, Ordering::SeqCst);
    assert_internal(touchy.boom().await);
    assert_eq!(touchy.count().await.unwrap(), 1);
    sleeps_again(&probe, 2).await;
    assert_eq!(touchy.count().await.unwrap(), 1);
}

#[tokio::test]
async fn create_vars_panicking_is_a_failed_start_and_the_actor_starts_later() {
    let (probe, registry) = registry();
    let touchy = registry
        .get_or_create::<Touchy>("create_vars")
        .await
        .unwrap();
    assert_eq!(touchy.bump(false).await.unwrap(), 1);
    sleeps_again(&probe, 0).await;
    probe.fail_vars.store(1, Ordering::SeqCst);
    assert_internal(touchy.count().await);
    assert_eq!(touchy.count().await.unwrap(), 1);
    sleeps_again(&probe, 1).await;
    probe.fail_vars.store(1, Ordering::SeqCst);
    assert_internal(touchy.boom().await);
    assert_eq!(touchy.count().await.unwrap(), 1);
    sleeps_again(&probe, 2).await;
}

#[tokio::test]
async fn a_guard_panicking_refuses_the_connection() {
    let (probe, server, client) = serve().await;
    let touchy = client.get_or_create::<Touchy>(["guard"]);
    let refused = touchy.params("guard");
    assert_internal(refused.count().await);
    assert_internal(refused.connect().await.map(|_| ()));
    assert_eq!(touchy.count().await.unwrap(), 0);
    sleeps_again(&probe, 0).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_guard_panicking_in_process_reaches_the_caller_as_an_error() {
    let probe = Arc::new(Probe::default());
    let test = ActorTest::<Touchy>::with(builder(&probe));
    let touchy = test.get_or_create("guard").await.unwrap();
    probe.fail_guard.store(1, Ordering::SeqCst);
    assert_internal(touchy.count().await);
    probe.fail_guard.store(1, Ordering::SeqCst);
    assert_internal(touchy.connect().await.map(|_| ()));
    assert_eq!(touchy.count().await.unwrap(), 0);
    sleeps_again(&probe, 0).await;
}

fn get(path: &str) -> rivet_actor::http::Request<Vec<u8>> {
    rivet_actor::http::Request::get(path)
        .body(Vec::new())
        .unwrap()
}

/// A raw response's status and error (`group.code`), or its text.
fn error_of(response: &RawResponse) -> (u16, String) {
    let status = response.status().as_u16();
    let text = match serde_json::from_slice::<serde_json::Value>(response.body()) {
        Ok(body) => format!("{}.{}", body["group"], body["code"]).replace('"', ""),
        Err(_) => String::from_utf8_lossy(response.body()).into_owned(),
    };
    (status, text)
}

#[tokio::test]
async fn raw_handlers_panicking_answer_internal_error_and_leave_no_connection() {
    let (probe, server, client) = serve().await;
    let touchy = client.get_or_create::<Touchy>(["raw"]);
    let internal = (500, "rivetkit.internal_error".to_string());
    let response = touchy.fetch(get("/panic")).await.unwrap();
    assert_eq!(error_of(&response), internal);
    let refused = touchy.params("on_connect").fetch(get("/hit")).await;
    assert_eq!(error_of(&refused.unwrap()), internal);
    // The handler's change was committed before the disconnect: its answer stands.
    let leaving = touchy.params("on_disconnect").fetch(get("/hit")).await;
    assert_eq!(error_of(&leaving.unwrap()), (200, "count 1".to_string()));
    let mut socket = touchy.websocket("/panic").await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next()).await;
    match closed.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1011);
            assert_eq!(frame.reason.as_str(), "rivetkit.internal_error");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    assert_eq!(touchy.count().await.unwrap(), 1);
    sleeps_again(&probe, 0).await;
    server.shutdown().await.unwrap();
}
