//! The agentOS authentication seed: the library's `vm` has no hooks; the application's
//! `onBeforeConnect` and `createConnState` are attached with `RegistryBuilder::guard`.

mod common;

use common::*;
use rivet_actor_examples::seeds::agent_os::{AuthParams, Caller, Vm};

fn params(token: &str) -> AuthParams {
    AuthParams {
        auth_token: token.into(),
    }
}

#[tokio::test]
async fn guards_authenticate_the_library_vm() {
    let (_registry, server, client) = start().await;
    let key = key("my-agent");
    // `client.vm.getOrCreate(["my-agent"], { params: { authToken: "my-jwt-token" } })`.
    let agent = client
        .get_or_create::<Vm>([key.as_str()])
        .params(params("my-jwt-token"));
    let caller = Caller {
        user_id: "user-123".into(),
        role: "member".into(),
    };
    assert_eq!(agent.whoami().await.unwrap(), Some(caller.clone()));
    assert_eq!(agent.exec("ls".into()).await.unwrap(), "user-123$ ls");
    let conn = agent.connect().await.unwrap();
    assert_eq!(conn.whoami().await.unwrap(), Some(caller));
    assert_eq!(conn.exec("pwd".into()).await.unwrap(), "user-123$ pwd");
    conn.close().await;
    // An invalid token is refused by the guard: nothing runs.
    let refused = client
        .get_or_create::<Vm>([key.as_str()])
        .params(params(""));
    let err = refused.exec("rm -rf /".into()).await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.group.as_str(), err.code.as_str(), err.message.as_str()),
        ("user", "forbidden", "Forbidden")
    );
    assert_eq!(
        refused.connect().await.err().unwrap().code(),
        Some("forbidden")
    );
    // Without params the guards cannot read `{ authToken }`.
    let anonymous = client.get_or_create::<Vm>([key.as_str()]);
    assert_eq!(
        anonymous.whoami().await.unwrap_err().code(),
        Some("invalid_params")
    );
    // The refused commands never ran.
    assert_eq!(agent.exec("echo".into()).await.unwrap(), "user-123$ echo");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_actors_api_passes_the_registry_guards_and_keeps_nothing_refused() {
    let (registry, server, _client) = start().await;
    let http = reqwest::Client::new();
    let actors = format!("{}/actors", server.endpoint());
    let body = serde_json::json!({ "name": "vm", "key": key("api-guarded") });
    // No token: the guard refuses, as on the gateway, and the created actor is discarded.
    let before = actor_count(&registry).await;
    for (params, status, code) in [
        (None, 400, "invalid_params"),
        (Some(r#"{"authToken":""}"#), 403, "forbidden"),
    ] {
        let mut put = http.put(&actors).json(&body);
        if let Some(params) = params {
            put = put.header("x-rivet-conn-params", params);
        }
        let refused = put.send().await.unwrap();
        assert_eq!(refused.status(), status, "{params:?}");
        let error: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(error["code"], code, "{error}");
    }
    assert_eq!(actor_count(&registry).await, before);
    // With a token it passes, and the keyed lookup asks the guard too.
    let created = http
        .put(&actors)
        .header("x-rivet-conn-params", r#"{"authToken":"t"}"#)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    assert_eq!(actor_count(&registry).await, before + 1);
    let lookup = |params: &'static str| {
        http.get(format!(
            "{actors}?name=vm&key={}",
            body["key"].as_str().unwrap()
        ))
        .header("x-rivet-conn-params", params)
    };
    assert_eq!(
        lookup(r#"{"authToken":""}"#).send().await.unwrap().status(),
        403
    );
    assert_eq!(
        lookup(r#"{"authToken":"t"}"#)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.shutdown().await.unwrap();
}
