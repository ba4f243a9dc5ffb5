//! An actor written with `#[actor]` that uses every hook (sync and async mixed), options on
//! its struct, run in-process through `ActorTest`: hook order, access control, events,
//! errors and wire names.

use std::sync::Mutex;
use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::value::Value;
use rivet_actor::{HostConfig, Target};

/// Hooks record `(actor key, hook)` here; each test uses its own keys.
static LOG: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn record(key: &[String], what: &str) {
    LOG.lock().unwrap().push((key.join("/"), what.to_string()));
}

fn log_of(key: &str) -> Vec<String> {
    LOG.lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, what)| what.clone())
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Said {
    pub by: String,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Secret {
    pub code: u32,
}

#[derive(Serialize, Deserialize)]
pub struct Params {
    pub user: String,
}

pub struct Member {
    pub user: String,
}

pub struct Vars {
    pub wakes: u32,
}

/// The state; its options (wire name, events) are on the struct, its methods on the impl.
#[actor(name = "hookHouse", events(said = Said, secret = Secret))]
#[derive(Serialize, Deserialize)]
pub struct House {
    topic: String,
    said: Vec<String>,
}

#[actor]
impl House {
    #[create_state]
    async fn create(c: &CreateCtx<'_>, topic: Option<String>) -> Result<Self, UserError> {
        record(c.key(), "create_state");
        Ok(House {
            topic: topic.unwrap_or_else(|| "none".into()),
            said: Vec::new(),
        })
    }

    #[on_migrate]
    fn migrate(_old: Value) -> Result<Self, UserError> {
        Err(UserError::new("no migration"))
    }

    #[on_create]
    fn created(&mut self, c: &mut ActorCtx<'_, Self>) {
        record(c.key(), "on_create");
    }

    #[create_vars]
    fn vars(&self, c: &CreateCtx<'_>) -> Vars {
        record(c.key(), "create_vars");
        Vars { wakes: 0 }
    }

    #[on_wake]
    async fn woke(&mut self, c: &mut ActorCtx<'_, Self>) -> Result<(), UserError> {
        c.vars_mut().wakes += 1;
        record(c.key(), "on_wake");
        Ok(())
    }

    #[on_sleep]
    async fn sleeping(&mut self, c: &mut ActorCtx<'_, Self>) {
        record(c.key(), "on_sleep");
    }

    #[on_state_change]
    fn changed(&self, c: &ActorCtx<'_, Self>) {
        record(c.key(), "on_state_change");
    }

    #[before_connect]
    async fn check(&self, c: &mut ConnectCtx<'_, Self>, params: &Params) -> Result<(), UserError> {
        record(c.key(), "before_connect");
        if params.user.is_empty() {
            return Err(UserError::new("who are you?").code("anonymous"));
        }
        Ok(())
    }

    #[conn_state]
    fn member(&self, c: &ConnectCtx<'_, Self>, params: &Params) -> Member {
        record(c.key(), "conn_state");
        Member {
            user: params.user.clone(),
        }
    }

    #[on_connect]
    async fn connected(&mut self, c: &mut ActionCtx<'_, Self>) {
        record(c.key(), "on_connect");
    }

    #[on_disconnect]
    fn disconnected(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<(), UserError> {
        record(c.key(), "on_disconnect");
        Ok(())
    }

    #[can_invoke]
    async fn allow(&self, c: &ConnCtx<'_, Self>, invoke: Invoke<Self>) -> bool {
        let admin = c.conn().state().user == "admin";
        match invoke {
            Invoke::Action(HouseAction::Wipe) => admin,
            Invoke::Action(_) => true,
            Invoke::Subscribe(HouseEvent::Said) => true,
            Invoke::Subscribe(HouseEvent::Secret) => admin,
            _ => false,
        }
    }

    /// Says something to every subscriber.
    #[action]
    async fn say(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<usize, UserError> {
        record(c.key(), "action");
        if text.len() > 5 {
            return Err(UserError::new("too long")
                .code("too_long")
                .metadata(serde_json::json!({"max": 5})));
        }
        self.said.push(text.clone());
        let by = c.conn().state().user.clone();
        c.broadcast(Said { by, text });
        Ok(self.said.len())
    }

    #[action(name = "shout")]
    fn say_loudly(&mut self, text: String) -> String {
        let loud = text.to_uppercase();
        self.said.push(loud.clone());
        loud
    }

    #[action]
    fn read_said(&self, c: &ActionCtx<'_, Self>) -> Vec<String> {
        record(c.key(), "action");
        self.said.clone()
    }

    #[action]
    fn topic(&self) -> String {
        self.topic.clone()
    }

    #[action]
    fn wakes(&self, c: &ActionCtx<'_, Self>) -> u32 {
        c.vars().wakes
    }

    #[action]
    fn wipe(&mut self, c: &mut ActionCtx<'_, Self>) {
        record(c.key(), "wipe");
        self.said.clear();
    }
}

fn params(user: &str) -> Params {
    Params { user: user.into() }
}

/// Waits (up to 5 s) until `key`'s log has `len` entries: turns queued by a dropped
/// connection, or a sleep, run after the call that caused them has returned.
async fn wait_for_log(key: &str, len: usize) -> Vec<String> {
    for _ in 0..500 {
        let log = log_of(key);
        if log.len() >= len {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    log_of(key)
}

#[tokio::test]
async fn hook_order_of_a_connection_then_a_stateless_call() {
    let test = ActorTest::<House>::new();
    let house = test
        .get_or_create(["order"])
        .await
        .unwrap()
        .params(params("ann"));
    let conn = house.connect().await.unwrap();
    assert_eq!(conn.say("hi".into()).await.unwrap(), 1);
    conn.close().await;
    assert_eq!(
        wait_for_log("order", 10).await,
        [
            // `on_create` gets an `ActorCtx`, which lends the vars: they are made first.
            "create_state",
            "create_vars",
            "on_create",
            "on_wake",
            "before_connect",
            "conn_state",
            "on_connect",
            "action",
            "on_state_change",
            "on_disconnect",
        ]
    );

    // A stateless call runs the same pipeline on a throwaway connection; a read-only
    // action changes nothing, so no `on_state_change`.
    assert_eq!(house.read_said().await.unwrap(), ["hi"]);
    assert_eq!(
        wait_for_log("order", 15).await[10..],
        [
            "before_connect",
            "conn_state",
            "on_connect",
            "action",
            "on_disconnect"
        ]
    );
}

#[tokio::test]
async fn create_state_takes_the_input_and_sleep_wakes_again() {
    let registry = Registry::builder().config(HostConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..HostConfig::default()
    });
    let test = ActorTest::<House>::with(registry);
    let house = test
        .create(["sleepy"], Some("cats".into()))
        .await
        .unwrap()
        .params(params("ann"));
    assert_eq!(house.topic().await.unwrap(), "cats");
    assert_eq!(house.wakes().await.unwrap(), 1);
    // create_state, create_vars, on_create, on_wake, then per stateless call
    // before_connect, conn_state, on_connect, on_disconnect (twice), then on_sleep.
    let log = wait_for_log("sleepy", 13).await;
    assert_eq!(log.last().map(String::as_str), Some("on_sleep"), "{log:?}");
    // The next call wakes a fresh instance: vars are made again, state is kept.
    assert_eq!(house.topic().await.unwrap(), "cats");
    assert_eq!(house.wakes().await.unwrap(), 1);
    let log = log_of("sleepy");
    let count = |what: &str| log.iter().filter(|w| *w == what).count();
    assert_eq!(count("create_state"), 1);
    assert_eq!(count("on_create"), 1);
    assert_eq!(count("create_vars"), 2);
    assert_eq!(count("on_wake"), 2);
    let sleep_at = log.iter().position(|w| w == "on_sleep").unwrap();
    assert_eq!(log[sleep_at + 1..][..2], ["create_vars", "on_wake"]);
}

#[tokio::test]
async fn can_invoke_denies_actions_and_subscriptions() {
    let test = ActorTest::<House>::new();
    let guest = as_user(&test, "deny", "guest").await;
    guest.say("a".into()).await.unwrap();
    let err = guest.wipe().await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("auth", "forbidden")
    );
    assert!(!log_of("deny").contains(&"wipe".to_string()));
    assert_eq!(guest.read_said().await.unwrap(), ["a"]);

    let conn = guest.connect().await.unwrap();
    let mut secrets = conn.events::<Secret>();
    let err = secrets.next().await.unwrap().unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert!(secrets.next().await.is_none());

    let admin = as_user(&test, "deny", "admin").await;
    admin.wipe().await.unwrap();
    assert!(log_of("deny").contains(&"wipe".to_string()));
    assert!(admin.read_said().await.unwrap().is_empty());
}

#[tokio::test]
async fn events_reach_subscribers_only() {
    let test = ActorTest::<House>::new();
    let ann = as_user(&test, "events", "ann").await;
    let listener = ann.connect().await.unwrap();
    let mut said = listener.events::<Said>();
    let late = ann.connect().await.unwrap();
    ann.say("one".into()).await.unwrap();
    let first = said.next().await.unwrap().unwrap();
    assert_eq!(
        first,
        Said {
            by: "ann".into(),
            text: "one".into()
        }
    );
    // `late` subscribes after the first event: it sees only the second.
    let mut late_said = late.events::<Said>();
    late.say("two".into()).await.unwrap();
    assert_eq!(late_said.next().await.unwrap().unwrap().text, "two");
    assert_eq!(said.next().await.unwrap().unwrap().text, "two");
}

#[tokio::test]
async fn user_errors_and_rejected_connections() {
    let test = ActorTest::<House>::new();
    let ann = as_user(&test, "errors", "ann").await;
    let err = ann.say("much too long".into()).await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("user", "too_long")
    );
    assert_eq!(err.message, "too long");
    assert_eq!(err.metadata, Some(serde_json::json!({"max": 5})));

    let nobody = as_user(&test, "errors", "").await;
    let err = nobody.connect().await.err().unwrap();
    assert_eq!(err.code(), Some("anonymous"));
    let err = nobody.topic().await.unwrap_err();
    assert_eq!(err.code(), Some("anonymous"));
}

#[tokio::test]
async fn struct_options_and_wire_names_through_the_erased_api() {
    use rivet_actor::actor::ActionTarget;
    assert_eq!(<House as Actor>::NAME, "hookHouse");
    assert_eq!(HouseAction::SayLoudly.name(), "shout");
    assert_eq!(HouseAction::ReadSaid.name(), "readSaid");
    assert!(HouseAction::ReadSaid.is_read_only());
    assert!(!HouseAction::SayLoudly.is_read_only());
    assert_eq!(HouseEvent::ALL, &[HouseEvent::Said, HouseEvent::Secret]);

    let test = ActorTest::<House>::new();
    let id = test.get_or_create(["wire"]).await.unwrap().id().clone();
    let erased = test.registry().actor_type("hookHouse").unwrap();
    let params = Some(Value::Map(vec![(
        Value::Text("user".into()),
        Value::Text("ann".into()),
    )]));
    let loud = erased
        .stateless(
            &id,
            admit(erased, &id, params.clone()).await,
            "shout",
            vec![Value::Text("hey".into())],
        )
        .await
        .unwrap();
    assert_eq!(loud, Value::Text("HEY".into()));
    let err = erased
        .stateless(
            &id,
            admit(erased, &id, params.clone()).await,
            "sayLoudly",
            vec![],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "action_not_found");
    let said = erased
        .stateless(&id, admit(erased, &id, params).await, "readSaid", vec![])
        .await
        .unwrap();
    assert_eq!(said, Value::Array(vec![Value::Text("HEY".into())]));
}

/// A handle on `key` calling as `user`.
async fn as_user(
    test: &ActorTest<House>,
    key: &str,
    user: &str,
) -> rivet_actor::LocalHandle<House> {
    test.get_or_create([key])
        .await
        .unwrap()
        .params(params(user))
}

/// The caller admitted to actor `id` with `params` (decoded, guards passed).
async fn admit(
    erased: &std::sync::Arc<dyn rivet_actor::runtime::ErasedActor>,
    id: &rivet_actor::ActorId,
    params: Option<Value>,
) -> rivet_actor::runtime::Admission {
    erased
        .admit(id, params, Request::new())
        .await
        .expect("admitted")
}
