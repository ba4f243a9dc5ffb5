//! Nothing is kept for a refused request: an actor created for a request that its guards,
//! params, connect hooks or `can_invoke` refuse is discarded (unless something else used it
//! meanwhile) — even when its client hangs up before the refusal —, a failed
//! `create_state` leaves no record, and keys are bounded.

use std::path::PathBuf;

use futures_util::StreamExt;
use rivet_actor::prelude::*;
use rivet_actor::protocol::Encoding;

#[derive(Serialize, Deserialize)]
pub struct Door {
    opened: u32,
}

#[derive(Deserialize)]
pub struct Params {
    token: String,
}

#[actor]
impl Door {
    #[create_state]
    fn create(input: Option<String>) -> Result<Self, UserError> {
        if input.as_deref() == Some("bad") {
            return Err(UserError::new("Bad input").code("bad_input"));
        }
        Ok(Door { opened: 0 })
    }

    #[conn_state]
    fn who(&self, _c: &ConnectCtx<'_, Self>, params: &Params) -> Result<String, UserError> {
        if params.token.is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden"));
        }
        Ok(params.token.clone())
    }

    #[can_invoke]
    fn allow(&self, c: &ConnCtx<'_, Self>, _invoke: Invoke<Self>) -> bool {
        c.conn().state() != "guest"
    }

    #[action]
    fn open(&mut self) -> u32 {
        self.opened += 1;
        self.opened
    }
}

/// Refuses every caller after a slow check made outside the actor.
#[derive(Default, Serialize, Deserialize)]
pub struct SlowGate;

#[actor]
impl SlowGate {
    #[before_connect]
    async fn check(
        _c: &rivet_actor::context::PreConnectCtx<'_, Self>,
        _params: &Option<String>,
    ) -> Result<(), UserError> {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        Err(UserError::new("Forbidden").code("forbidden"))
    }

    #[action]
    fn enter(&self) {}
}

fn data_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rivet-actor-refused-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn db_size(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir.join("actors.sqlite")).map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_refused_get_or_creates_leave_no_actor() {
    let dir = data_dir("thousand");
    let registry = Registry::builder()
        .data_dir(&dir)
        .register::<Door>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let before = db_size(&dir);
    // Refused by conn_state (empty token) and by can_invoke (a guest), over HTTP in every
    // encoding and over WebSocket; each with a key never seen before.
    let refusals = (0..1000).map(|i| {
        let endpoint = server.endpoint();
        async move {
            let encoding = [Encoding::Json, Encoding::Cbor, Encoding::Bare][i % 3];
            let client = Client::new(endpoint).encoding(encoding);
            let token = if i % 2 == 0 { "" } else { "guest" };
            let door = client
                .get_or_create::<Door>([format!("door-{i}")])
                .params(serde_json::json!({ "token": token }));
            if i % 10 == 0 {
                assert!(door.connect().await.is_err() || door.open().await.is_err());
            } else {
                let err = door.open().await.unwrap_err();
                assert_eq!(err.code(), Some("forbidden"), "{err:?}");
            }
        }
    });
    futures_util::stream::iter(refusals)
        .buffer_unordered(50)
        .collect::<Vec<()>>()
        .await;
    assert_eq!(
        registry.storage().list_actors(None).await.unwrap().len(),
        0,
        "refused requests left actors behind"
    );
    // Created and removed rows are reused pages: the database itself does not grow.
    assert!(
        db_size(&dir) <= before + 256 * 1024,
        "the database grew from {before} to {} bytes",
        db_size(&dir)
    );
    // An accepted request still creates and keeps its actor.
    let client = Client::new(server.endpoint());
    let door = client
        .get_or_create::<Door>(["kept"])
        .params(serde_json::json!({ "token": "ann" }));
    assert_eq!(door.open().await.unwrap(), 1);
    assert_eq!(registry.storage().list_actors(None).await.unwrap().len(), 1);
    server.shutdown().await.unwrap();
    drop(registry);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_someone_else_uses_is_kept_when_a_refused_request_created_it() {
    let registry = Registry::builder().in_memory().register::<Door>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    // A member holds a connection while the refused creator's discard comes in.
    let member = client
        .get_or_create::<Door>(["shared"])
        .params(serde_json::json!({ "token": "ann" }));
    let conn = member.connect().await.unwrap();
    let refused = client
        .get_or_create::<Door>(["shared"])
        .params(serde_json::json!({ "token": "" }));
    assert!(refused.open().await.is_err());
    assert_eq!(conn.open().await.unwrap(), 1);
    assert_eq!(registry.storage().list_actors(None).await.unwrap().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failed_create_state_leaves_no_record_and_the_key_can_be_created_again() {
    let registry = Registry::builder().in_memory().register::<Door>().build();
    let err = match registry
        .get_or_create_with::<Door>("fresh", Some("bad".to_owned()))
        .await
    {
        Ok(door) => door
            .params(Params {
                token: "ann".into(),
            })
            .open()
            .await
            .unwrap_err(),
        Err(err) => err,
    };
    assert_eq!(err.code(), Some("bad_input"), "{err:?}");
    assert!(
        registry
            .storage()
            .list_actors(None)
            .await
            .unwrap()
            .is_empty(),
        "the failed creation left a record"
    );
    let door = registry
        .get_or_create_with::<Door>("fresh", Some("good".to_owned()))
        .await
        .unwrap()
        .params(Params {
            token: "ann".into(),
        });
    assert_eq!(door.open().await.unwrap(), 1);
}

#[tokio::test]
async fn keys_are_bounded_in_parts_and_bytes() {
    let registry = Registry::builder().in_memory().register::<Door>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let params = serde_json::json!({ "token": "ann" });
    let many: Vec<String> = (0..17).map(|i| i.to_string()).collect();
    let long = vec!["x".repeat(1025)];
    for key in [many, long] {
        let err = client
            .get_or_create::<Door>(key)
            .params(params.clone())
            .open()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("key_too_large"), "{err:?}");
        assert_eq!(err.actor_error().unwrap().http_status(), 400);
    }
    let at_the_bounds: Vec<String> = (0..16).map(|_| "y".repeat(64)).collect();
    let door = client.get_or_create::<Door>(at_the_bounds).params(params);
    assert_eq!(door.open().await.unwrap(), 1);
    assert_eq!(registry.storage().list_actors(None).await.unwrap().len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_client_that_hangs_up_before_its_refusal_leaves_no_actor() {
    use tokio::io::AsyncWriteExt;
    let registry = Registry::builder()
        .in_memory()
        .register::<SlowGate>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let address = server.endpoint().trim_start_matches("http://").to_owned();
    for i in 0..5 {
        // Created by the request, then the client goes while the check still runs.
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let body = r#"{"args":[]}"#;
        let request = format!(
            "POST /gateway/slowGate/action/enter?rvt-method=getOrCreate&rvt-key=k{i} HTTP/1.1\r\n\
             host: {address}\r\ncontent-type: application/json\r\nx-rivet-encoding: json\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(socket);
    }
    // The refusals come 300 ms in; the actors made for them go then.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let left = registry.storage().list_actors(None).await.unwrap().len();
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} actors were kept for clients that hung up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.shutdown().await.unwrap();
}
