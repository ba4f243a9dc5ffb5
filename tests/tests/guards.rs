//! Connection guards attached from outside an actor's impl block (the agentOS pattern),
//! end to end over the network.

use rivet_actor::guard::{ConnectGuard, GuardCtx};
use rivet_actor::prelude::*;

/// Stands for an actor a library defines: no hooks of its own.
mod library {
    use rivet_actor::prelude::*;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Vm {
        pub runs: u32,
    }

    #[actor]
    impl Vm {
        #[action]
        fn run(&mut self, c: &mut ActionCtx<'_, Self>) -> String {
            self.runs += 1;
            let user = c.conn().extension::<super::User>().map(|u| u.id.clone());
            format!(
                "run {} by {}",
                self.runs,
                user.unwrap_or_else(|| "nobody".into())
            )
        }
    }
}

use library::Vm;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthParams {
    auth_token: String,
}

struct User {
    id: String,
}

struct TokenGuard;

impl ConnectGuard<Vm> for TokenGuard {
    type Params = AuthParams;
    type Identity = User;

    async fn check(
        &self,
        _c: &GuardCtx<'_>,
        params: AuthParams,
    ) -> Result<User, rivet_actor::Error> {
        if params.auth_token.is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden").into());
        }
        Ok(User {
            id: format!("user-{}", params.auth_token),
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Params<'a> {
    auth_token: &'a str,
}

#[tokio::test]
async fn a_guard_gates_an_actor_it_did_not_define() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Vm>()
        .guard::<Vm, _>(TokenGuard)
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());

    let allowed = client
        .get_or_create::<Vm>(["agent"])
        .params(Params { auth_token: "ann" });
    assert_eq!(allowed.run().await.unwrap(), "run 1 by user-ann");
    let conn = allowed.connect().await.unwrap();
    assert_eq!(conn.run().await.unwrap(), "run 2 by user-ann");

    let refused = client
        .get_or_create::<Vm>(["agent"])
        .params(Params { auth_token: "" });
    assert_eq!(refused.run().await.unwrap_err().code(), Some("forbidden"));
    assert_eq!(
        refused.connect().await.err().unwrap().code(),
        Some("forbidden")
    );
    let missing = client.get_or_create::<Vm>(["agent"]);
    assert_eq!(
        missing.run().await.unwrap_err().code(),
        Some("invalid_params")
    );
    // Refused calls ran nothing.
    assert_eq!(allowed.run().await.unwrap(), "run 3 by user-ann");
}

/// Holds each caller until the test releases it, noting the actor id it was asked about.
#[derive(Default)]
struct Gate {
    seen: std::sync::Mutex<Vec<String>>,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

struct HoldingGuard;

impl ConnectGuard<Vm> for HoldingGuard {
    type Params = AuthParams;
    type Identity = User;

    async fn check(
        &self,
        c: &GuardCtx<'_>,
        params: AuthParams,
    ) -> Result<User, rivet_actor::Error> {
        let gate = c
            .data::<std::sync::Arc<Gate>>()
            .expect("the gate is registered");
        gate.seen.lock().unwrap().push(c.actor_id().to_owned());
        gate.entered.notify_one();
        gate.release.notified().await;
        if params.auth_token.is_empty() {
            return Err(UserError::new("Forbidden").code("forbidden").into());
        }
        Ok(User {
            id: params.auth_token,
        })
    }
}

/// The actors of type `vm`, as the management API lists them.
async fn listed(endpoint: &str) -> Vec<serde_json::Value> {
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("{endpoint}/actors?name=vm"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["actors"].as_array().unwrap().clone()
}

#[tokio::test]
async fn guards_run_before_the_actor_is_created_and_see_the_id_it_gets() {
    let gate = std::sync::Arc::new(Gate::default());
    let dir = std::env::temp_dir().join(format!("rivet-actor-guards-first-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let registry = Registry::builder()
        .data_dir(&dir)
        .admin_token("admin-secret")
        .data(gate.clone())
        .register::<Vm>()
        .guard::<Vm, _>(HoldingGuard)
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let endpoint = server.endpoint();
    let call = |key: &'static str, token: &'static str| {
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!(
                    "{endpoint}/gateway/vm/action/run?rvt-method=getOrCreate&rvt-key={key}"
                ))
                .header("x-rivet-encoding", "json")
                .header(
                    "x-rivet-conn-params",
                    format!(r#"{{"authToken":"{token}"}}"#),
                )
                .body(r#"{"args":[]}"#)
                .send()
                .await
                .unwrap()
        })
    };

    // Admitted: while the guard decides, the actor does not exist yet; afterwards it has the
    // id the guard was shown.
    let admitted = call("fresh", "ann");
    gate.entered.notified().await;
    assert!(
        listed(&endpoint).await.is_empty(),
        "created before its guard decided"
    );
    gate.release.notify_one();
    let response = admitted.await.unwrap();
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-rivet-actor"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"output":"run 1 by ann"}"#
    );
    assert_eq!(*gate.seen.lock().unwrap(), vec![id.clone()]);

    // Refused: nothing is created, before or after the guard answers.
    let refused = call("never", "");
    gate.entered.notified().await;
    assert_eq!(listed(&endpoint).await.len(), 1);
    gate.release.notify_one();
    let response = refused.await.unwrap();
    assert_eq!(response.status(), 403);
    let actors = listed(&endpoint).await;
    assert_eq!(actors.len(), 1);
    assert_eq!(actors[0]["actor_id"], id.as_str());
    let _ = std::fs::remove_dir_all(&dir);
}
