//! Schedules end to end: typed delayed calls of the actor's own actions, run as the actor,
//! durable (a failed turn schedules nothing), listed and cancelled, waking a sleeping actor,
//! and firing after a restart without any request (waking only the actors whose schedules
//! are due).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rivet_actor::HostConfig;
use rivet_actor::prelude::*;
use rivet_actor::schedule::ScheduleId;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Rang {
    text: String,
    /// Whether a connection started the turn (never, for a scheduled call).
    by_conn: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct Reminder {
    rung: Vec<String>,
}

/// The keys of the reminders that woke (`on_wake`), in order.
static WOKEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[actor(events(rang = Rang))]
impl Reminder {
    #[on_wake]
    fn woke(&self, c: &mut ActorCtx<'_, Self>) {
        WOKEN.lock().unwrap().extend(c.key().first().cloned());
    }

    #[action]
    fn remind(
        &mut self,
        c: &mut ActionCtx<'_, Self>,
        text: String,
        after_ms: u64,
    ) -> Result<String, Error> {
        let call = ReminderCall::Ring((text,));
        let id = c.schedule().after(Duration::from_millis(after_ms), call)?;
        Ok(id.to_string())
    }

    #[action]
    fn remind_long_ago(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<(), Error> {
        c.schedule().at(UNIX_EPOCH, ReminderCall::Ring((text,)))?;
        Ok(())
    }

    /// Schedules, then fails: the schedule must never exist.
    #[action]
    fn remind_then_fail(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<(), Error> {
        c.schedule()
            .after(Duration::from_millis(20), ReminderCall::Ring((text,)))?;
        Err(UserError::new("changed my mind").code("nope").into())
    }

    #[action]
    fn schedule_explosion(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<(), Error> {
        c.schedule()
            .after(Duration::from_millis(20), ReminderCall::Explode(()))?;
        Ok(())
    }

    #[action]
    fn explode(&mut self) {
        panic!("a scheduled call that panics");
    }

    #[action]
    fn ring(&mut self, c: &mut ActionCtx<'_, Self>, text: String) {
        self.rung.push(text.clone());
        let by_conn = c.try_conn().is_some();
        c.broadcast(Rang { text, by_conn });
    }

    /// Schedules two calls already due: the first cancels the second (a completion
    /// cancelling its timeout).
    #[action]
    fn remind_twice_long_ago(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<(), Error> {
        let late = UNIX_EPOCH + Duration::from_millis(1);
        let timeout = c
            .schedule()
            .at(late, ReminderCall::Ring(("timeout".into(),)))?;
        let cancel = ReminderCall::CancelOther((timeout.to_string(),));
        c.schedule().at(UNIX_EPOCH, cancel)?;
        Ok(())
    }

    /// Schedules `n` calls all due at the same millisecond.
    #[action]
    fn remind_many_at_once(&mut self, c: &mut ActionCtx<'_, Self>, n: u32) -> Result<(), Error> {
        for i in 0..n {
            c.schedule()
                .at(UNIX_EPOCH, ReminderCall::Ring((i.to_string(),)))?;
        }
        Ok(())
    }

    #[action]
    fn cancel_other(&mut self, c: &mut ActionCtx<'_, Self>, id: String) {
        c.schedule().cancel(&ScheduleId::from(id));
        self.rung.push("done".into());
    }

    #[action]
    fn rung(&self) -> Vec<String> {
        self.rung.clone()
    }

    /// `(id, action, args)` of each pending schedule.
    #[action]
    fn pending(&self, c: &mut ActionCtx<'_, Self>) -> Vec<(String, String, String)> {
        c.schedule()
            .list()
            .into_iter()
            .map(|s| {
                use rivet_actor::Target;
                (
                    s.id.to_string(),
                    s.action.name().to_owned(),
                    format!("{:?}", s.args),
                )
            })
            .collect()
    }

    #[action]
    fn forget(&mut self, c: &mut ActionCtx<'_, Self>, id: String) -> bool {
        let id = ScheduleId::from(id);
        let known = c.schedule().get(&id).is_some();
        c.schedule().cancel(&id) && known
    }
}

async fn serve(config: HostConfig) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .in_memory()
        .config(config)
        .register::<Reminder>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

/// Polls `check` until it holds (5 s at most).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_schedule_fires_as_the_actor_and_reaches_subscribers() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let handle = client.get_or_create::<Reminder>(["fires"]);
    let conn = handle.connect().await.unwrap();
    let mut rang = conn.events::<Rang>();
    let started = std::time::Instant::now();
    conn.remind("tea".into(), 150).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), rang.next())
        .await
        .expect("the schedule fires")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        event,
        Rang {
            text: "tea".into(),
            by_conn: false
        }
    );
    assert_eq!(handle.rung().await.unwrap(), ["tea"]);
    assert!(handle.pending().await.unwrap().is_empty());
    // A time already past fires promptly.
    handle.remind_long_ago("overdue".into()).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), rang.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(event.text, "overdue");
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn schedules_are_listed_and_cancelled_and_a_failed_turn_schedules_nothing() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let handle = client.get_or_create::<Reminder>(["list"]);
    let first = handle.remind("first".into(), 60_000).await.unwrap();
    let second = handle.remind("second".into(), 120_000).await.unwrap();
    let pending = handle.pending().await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].0, first, "earliest first");
    assert_eq!(pending[0].1, "ring");
    assert!(pending[0].2.contains("first"), "{pending:?}");
    assert!(handle.forget(first.clone()).await.unwrap());
    assert!(!handle.forget(first).await.unwrap(), "already cancelled");
    let pending = handle.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].0, second);

    let err = handle.remind_then_fail("never".into()).await.unwrap_err();
    assert_eq!(err.code(), Some("nope"));
    assert_eq!(handle.pending().await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(handle.rung().await.unwrap().is_empty());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_schedule_cancelled_by_one_due_before_it_does_not_fire() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let handle = client.get_or_create::<Reminder>(["cancelled-in-batch"]);
    // Both are due at once, so both are fired in one pass; the first cancels the second.
    handle.remind_twice_long_ago().await.unwrap();
    eventually("the first schedule fires", || async {
        handle.pending().await.unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(handle.rung().await.unwrap(), ["done"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn schedules_due_at_the_same_time_fire_in_the_order_they_were_made() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let handle = client.get_or_create::<Reminder>(["ties"]);
    handle.remind_many_at_once(40).await.unwrap();
    let expected: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    eventually("every schedule fires", || async {
        handle.rung().await.unwrap().len() == expected.len()
    })
    .await;
    assert_eq!(handle.rung().await.unwrap(), expected);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failing_scheduled_call_is_dropped_and_the_actor_goes_on() {
    let (_registry, server, client) = serve(HostConfig::default()).await;
    let handle = client.get_or_create::<Reminder>(["explodes"]);
    handle.schedule_explosion().await.unwrap();
    eventually("the panicking schedule is dropped", || async {
        handle.pending().await.unwrap().is_empty()
    })
    .await;
    handle.remind("after".into(), 10).await.unwrap();
    eventually("the actor still fires schedules", || async {
        handle.rung().await.unwrap() == ["after"]
    })
    .await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_schedule_limits_are_clear_errors() {
    let config = HostConfig {
        max_schedules: 2,
        ..HostConfig::default()
    };
    let (_registry, server, client) = serve(config).await;
    let handle = client.get_or_create::<Reminder>(["limit"]);
    handle.remind("a".into(), 60_000).await.unwrap();
    handle.remind("b".into(), 60_000).await.unwrap();
    let err = handle.remind("c".into(), 60_000).await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("schedule", "limit_reached")
    );

    // One call is bounded in size too (every pending one is held in memory).
    let handle = client.get_or_create::<Reminder>(["size"]);
    let max = rivet_actor::schedule::MAX_CALL_BYTES;
    let err = handle.remind("x".repeat(max), 60_000).await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("schedule", "too_large")
    );
    handle.remind("x".repeat(max - 100), 60_000).await.unwrap();
    assert_eq!(handle.pending().await.unwrap().len(), 1);
    server.shutdown().await.unwrap();
}

/// The actor's stored `rung`, read from storage without touching the actor.
async fn stored_rung(registry: &Registry, key: &str) -> Vec<String> {
    let storage = registry.storage();
    let Some(record) = storage
        .find_by_key("reminder", &[key.to_owned()])
        .await
        .unwrap()
    else {
        return Vec::new();
    };
    let Some(bytes) = storage.load_state(&record.id).await.unwrap() else {
        return Vec::new();
    };
    ciborium::from_reader::<Reminder, _>(bytes.as_slice())
        .unwrap()
        .rung
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rivet-actor-schedules-{name}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn a_sleeping_actor_is_woken_by_its_schedule() {
    let dir = temp_dir("sleep");
    let config = HostConfig {
        idle_timeout: Some(Duration::from_millis(50)),
        ..HostConfig::default()
    };
    let registry = Registry::builder()
        .data_dir(&dir)
        .config(config)
        .register::<Reminder>()
        .build();
    let handle = registry.get_or_create::<Reminder>(["nap"]).await.unwrap();
    handle.remind("wake up".into(), 1000).await.unwrap();
    drop(handle);
    // Asleep after 50 ms; nothing calls it; the alarm wakes it at 1 s.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(stored_rung(&registry, "nap").await.is_empty());
    eventually("the schedule fired in a sleeping actor", || async {
        stored_rung(&registry, "nap").await == ["wake up"]
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_schedule_fires_after_a_server_restart() {
    let dir = temp_dir("restart");
    let config = HostConfig {
        idle_timeout: Some(Duration::from_millis(50)),
        ..HostConfig::default()
    };
    {
        let registry = Registry::builder()
            .data_dir(&dir)
            .config(config.clone())
            .register::<Reminder>()
            .build();
        let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let handle = Client::new(server.endpoint()).get_or_create::<Reminder>(["restart"]);
        handle.remind("after restart".into(), 700).await.unwrap();
        let later = Client::new(server.endpoint()).get_or_create::<Reminder>(["restart-later"]);
        later.remind("in an hour".into(), 3_600_000).await.unwrap();
        server.shutdown().await.unwrap();
        // Let the actor sleep: the first registry's last instance goes away with it.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A new registry on the same data directory; nobody calls the actor.
    let registry = Registry::builder()
        .data_dir(&dir)
        .config(config)
        .register::<Reminder>()
        .build();
    WOKEN.lock().unwrap().clear();
    eventually("the schedule fired after the restart", || async {
        stored_rung(&registry, "restart").await == ["after restart"]
    })
    .await;
    // Only what was due woke: the actor whose schedule is an hour away sleeps on (its
    // alarm is set from its rows).
    let woken = WOKEN.lock().unwrap().clone();
    assert!(woken.contains(&"restart".to_owned()), "{woken:?}");
    assert!(!woken.contains(&"restart-later".to_owned()), "{woken:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
