//! The CORS seed: `myActor` (origin check in `before_connect`) and `corsCounter` (declarative
//! `#[actor(origins = [..])]`), over HTTP and WebSocket, through the typed client and raw
//! requests.

mod common;

use common::*;
use rivet_actor::Client;
use rivet_actor_examples::seeds::cors::{CorsCounter, MyActor};

const LOOKALIKES: [&str; 2] = ["https://evilmyapp.com", "https://myapp.com.evil.com"];
const DISALLOWED: [&str; 6] = [
    "https://evil.com",
    "https://evilmyapp.com",
    "https://myapp.com.evil.com",
    "http://myapp.com",
    "https://myapp.com:8443",
    "null",
];

fn with_origin(client: &Client, origin: &str) -> Client {
    client.clone().header("origin", origin)
}

#[tokio::test]
async fn my_actor_admits_the_seeds_origins_over_http() {
    let (_registry, server, client) = start().await;
    let key = key("allowed");
    let mut expected = 0;
    for origin in rivet_actor_examples::seeds::ALLOWED_ORIGINS {
        expected += 1;
        let counter = with_origin(&client, origin).get_or_create::<MyActor>([key.as_str()]);
        assert_eq!(counter.increment().await.unwrap(), expected, "{origin}");
    }
    // The handle's own header works as well as the client's.
    let counter = client
        .get_or_create::<MyActor>([key.as_str()])
        .header("origin", "https://www.myapp.com");
    assert_eq!(counter.increment().await.unwrap(), expected + 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn my_actor_refuses_missing_disallowed_lookalike_and_malformed_origins() {
    let (_registry, server, client) = start().await;
    let key = key("refused");
    // Missing: let through by the registry (non-browser clients), refused by the hook.
    let err = client
        .get_or_create::<MyActor>([key.as_str()])
        .increment()
        .await
        .unwrap_err();
    let err = err.actor_error().expect("an actor error");
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("user", "origin_not_allowed")
    );
    assert_eq!(err.message, "Origin not allowed");
    // Disallowed, lookalike and malformed: refused before the hook by the registry policy,
    // with the same code.
    for origin in DISALLOWED
        .iter()
        .chain(["not a url", "https://", "myapp.com"].iter())
    {
        let err = with_origin(&client, origin)
            .get_or_create::<MyActor>([key.as_str()])
            .increment()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("origin_not_allowed"), "{origin}: {err:?}");
    }
    // Nothing ran: the first allowed call counts 1.
    let counter =
        with_origin(&client, "https://myapp.com").get_or_create::<MyActor>([key.as_str()]);
    assert_eq!(counter.increment().await.unwrap(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn my_actor_checks_websocket_origins_in_its_hook() {
    let (_registry, server, client) = start().await;
    let key = key("ws");
    // The typed client sends no Origin on WebSocket (as a non-browser client): refused by
    // the hook, the seed's `catch` sees `origin_not_allowed`.
    let err = client
        .get_or_create::<MyActor>([key.as_str()])
        .connect()
        .await
        .err()
        .expect("refused");
    assert_eq!(err.code(), Some("origin_not_allowed"));
    // A browser on an allowed origin is accepted.
    for origin in rivet_actor_examples::seeds::ALLOWED_ORIGINS {
        let outcome = ws_connect(&server, "myActor", &key, None, Some(origin)).await;
        assert!(
            matches!(outcome, WsOutcome::Accepted),
            "{origin}: {outcome:?}"
        );
    }
    // Missing (the hook) and lookalike (the registry): an Error frame, then 1011.
    let outcome = ws_connect(&server, "myActor", &key, None, None).await;
    let WsOutcome::Refused {
        error,
        code,
        reason,
    } = outcome
    else {
        panic!("accepted without an Origin");
    };
    assert_eq!(error["code"], "origin_not_allowed");
    assert_eq!(error["group"], "user");
    assert_eq!((code, reason.as_str()), (1011, "user.origin_not_allowed"));
    for origin in LOOKALIKES {
        let outcome = ws_connect(&server, "myActor", &key, None, Some(origin)).await;
        let WsOutcome::Refused { error, code, .. } = outcome else {
            panic!("{origin} accepted");
        };
        assert_eq!(error["code"], "origin_not_allowed", "{origin}");
        assert_eq!(code, 1011);
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn cors_counter_enforces_its_declared_origins_before_the_actor_exists() {
    let (registry, server, client) = start().await;
    let key = key("declared");
    let before = actor_count(&registry).await;
    for origin in DISALLOWED.iter().chain(["not a url"].iter()) {
        let err = with_origin(&client, origin)
            .get_or_create::<CorsCounter>([key.as_str()])
            .increment()
            .await
            .unwrap_err();
        let err = err.actor_error().expect("an actor error");
        assert_eq!(
            (err.group.as_str(), err.code.as_str()),
            ("auth", "origin_not_allowed"),
            "{origin}"
        );
        let response = http_action(
            &server,
            "corsCounter",
            &key,
            "increment",
            None,
            Some(origin),
        )
        .await;
        assert_eq!(response.status(), 403, "{origin}");
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
    // Unlike the registry-wide policy, the actor's own admits no request without an Origin.
    let err = client
        .get_or_create::<CorsCounter>([key.as_str()])
        .increment()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("origin_not_allowed"));
    // Preflights are answered by the server: allowed ones echo the origin, others get 403.
    let allowed = preflight(&server, "corsCounter", &key, "https://myapp.com").await;
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://myapp.com"
    );
    for origin in LOOKALIKES {
        let refused = preflight(&server, "corsCounter", &key, origin).await;
        assert_eq!(refused.status(), 403, "{origin}");
        assert!(
            refused
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
    // WebSockets from lookalike origins are refused with auth.origin_not_allowed.
    for origin in LOOKALIKES {
        let WsOutcome::Refused {
            error,
            code,
            reason,
        } = ws_connect(&server, "corsCounter", &key, None, Some(origin)).await
        else {
            panic!("{origin} accepted");
        };
        assert_eq!(error["code"], "origin_not_allowed");
        assert_eq!((code, reason.as_str()), (1011, "auth.origin_not_allowed"));
    }
    assert_eq!(
        actor_count(&registry).await,
        before,
        "a refused request or preflight created an actor"
    );
    // An allowed origin creates it and counts from 1: nothing refused ever ran.
    let counter =
        with_origin(&client, "http://localhost:3000").get_or_create::<CorsCounter>([key.as_str()]);
    assert_eq!(counter.increment().await.unwrap(), 1);
    let response = http_action(
        &server,
        "corsCounter",
        &key,
        "increment",
        None,
        Some("https://www.myapp.com"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://www.myapp.com"
    );
    assert!(matches!(
        ws_connect(
            &server,
            "corsCounter",
            &key,
            None,
            Some("https://myapp.com")
        )
        .await,
        WsOutcome::Accepted
    ));
    assert_eq!(actor_count(&registry).await, before + 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn web_origins_extend_the_registry_policy_but_not_my_actors_list() {
    const PAGE: &str = "http://127.0.0.1:8080";
    let params = Some(r#"{"authToken":"t"}"#);
    let key = key("web");
    let mut config = config();
    config.web_origins = vec![PAGE.into()];
    let server = rivet_actor_examples::seeds::registry(config)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let outcome = ws_connect(&server, "chatRoom", &key, params, Some(PAGE)).await;
    assert!(matches!(outcome, WsOutcome::Accepted), "{outcome:?}");
    // Another port of the same host is another origin.
    let outcome = ws_connect(
        &server,
        "chatRoom",
        &key,
        params,
        Some("http://127.0.0.1:8081"),
    )
    .await;
    assert!(matches!(outcome, WsOutcome::Refused { .. }), "{outcome:?}");
    // `myActor` checks the seed's own three in its hook.
    let outcome = ws_connect(&server, "myActor", &key, None, Some(PAGE)).await;
    let WsOutcome::Refused { error, .. } = outcome else {
        panic!("myActor accepted {PAGE}");
    };
    assert_eq!(error["code"], "origin_not_allowed");
    server.shutdown().await.unwrap();

    // Without it, the page's origin is refused as any other.
    let (_registry, server, _client) = start().await;
    let outcome = ws_connect(&server, "chatRoom", &key, params, Some(PAGE)).await;
    assert!(matches!(outcome, WsOutcome::Refused { .. }), "{outcome:?}");
    server.shutdown().await.unwrap();

    assert!(rivet_actor_examples::seeds::origin_policy(&["http://x/path".into()]).is_err());
}
