//! What `#[on_connect]` and `#[on_disconnect]` change in the state (they take `&mut self`)
//! commits like an action's change and survives a restart; a hook taking `&self`, or none,
//! leaves the connect turn without a state check. What `#[on_state_change]` stages (a
//! schedule, a `c.kv()` row) commits at once, not with some later turn.

use std::time::Duration;

use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Lobby {
    arrivals: u32,
    departures: u32,
}

#[actor]
impl Lobby {
    #[on_connect]
    fn arrived(&mut self) {
        self.arrivals += 1;
    }

    #[on_disconnect]
    fn left(&mut self) {
        self.departures += 1;
    }

    #[action]
    fn counts(&self) -> (u32, u32) {
        (self.arrivals, self.departures)
    }
}

/// Reads its state in `on_connect` only: nothing to commit.
#[derive(Default, Serialize, Deserialize)]
pub struct Quiet {
    greeted: u32,
}

#[actor]
impl Quiet {
    #[on_connect]
    fn arrived(&self, c: &mut ActionCtx<'_, Self>) {
        let _ = (self.greeted, c.conn().id());
    }

    #[action]
    fn greet(&mut self) -> u32 {
        self.greeted += 1;
        self.greeted
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

async fn serve(dir: &std::path::Path) -> (rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .data_dir(dir)
        .register::<Lobby>()
        .register::<Quiet>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (server, client)
}

#[test]
fn connect_and_disconnect_hooks_commit_their_changes() {
    let dir = std::env::temp_dir().join(format!("rivet-actor-hook-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let arrivals = in_process(async {
        let (server, client) = serve(&dir).await;
        let lobby = client.get_or_create::<Lobby>(["main"]);
        // Each stateless call is a connection of its own: it arrives, then leaves.
        let (arrivals, _) = lobby.counts().await.unwrap();
        assert_eq!(arrivals, 1);
        let conn = lobby.connect().await.unwrap();
        let (arrivals, departures) = conn.counts().await.unwrap();
        assert_eq!((arrivals, departures), (2, 1));
        drop(conn);
        let quiet = client.get_or_create::<Quiet>(["q"]);
        assert_eq!(quiet.greet().await.unwrap(), 1);
        assert_eq!(quiet.greet().await.unwrap(), 2);
        // Wait until every connection but this call's has left (the WebSocket's departure
        // runs after the close reaches the actor).
        let mut last = (0, 0);
        for _ in 0..100 {
            last = lobby.counts().await.unwrap();
            if last.1 + 1 == last.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(last.1 + 1, last.0, "every other connection left: {last:?}");
        server.shutdown().await.unwrap();
        last.0
    });
    in_process(async {
        let (server, client) = serve(&dir).await;
        let lobby = client.get::<Lobby>(["main"]);
        let arrivals_before = arrivals;
        let (arrivals, departures) = lobby.counts().await.unwrap();
        // Every arrival and departure before the restart was stored; this call arrived now.
        assert_eq!(
            (arrivals, departures),
            (arrivals_before + 1, arrivals_before)
        );
        let quiet = client.get::<Quiet>(["q"]);
        assert_eq!(quiet.greet().await.unwrap(), 3);
        server.shutdown().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Schedules its own cooling, and notes why, whenever it runs hot.
#[derive(Default, Serialize, Deserialize)]
pub struct Thermostat {
    temp: i64,
}

#[actor]
impl Thermostat {
    #[on_state_change]
    fn watch(&self, c: &ActorCtx<'_, Self>) {
        if self.temp > 100 {
            c.kv().put(&"hot", &self.temp).expect("a small row");
            c.schedule()
                .after(Duration::from_millis(30), ThermostatCall::Cool(()))
                .expect("room for a schedule");
        }
    }

    #[action]
    fn set(&mut self, temp: i64) {
        self.temp = temp;
    }

    #[action]
    fn cool(&mut self) {
        self.temp = 20;
    }

    #[action]
    fn temp(&self) -> i64 {
        self.temp
    }
}

#[tokio::test]
async fn what_on_state_change_stages_commits_without_another_turn() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Thermostat>()
        .build();
    let thermostat = registry.get_or_create::<Thermostat>(["t"]).await.unwrap();
    let id = thermostat.id().as_str().to_owned();
    // Over a connection: a stateless call's disconnect turn would commit what was left.
    let conn = thermostat.connect().await.unwrap();
    conn.set(150).await.unwrap();
    // No request after this one: the row and the schedule are stored, and the schedule
    // fires (cooling runs the hook again, which stages nothing).
    let storage = registry.storage().clone();
    let rows = async |prefix: &[u8]| storage.kv_scan_prefix(&id, prefix).await.unwrap().len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while rows(b"u/").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the kv row was not stored"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The schedule's row goes with the fired turn's commit.
    while rows(b"s/").await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the schedule never fired"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(conn.temp().await.unwrap(), 20);
}
