// The chat-room tests shared by `hand_expanded.rs` (the hand-written expansion) and
// `tests/tests/macro_chat_room.rs` (the same actor written with `#[actor]`): both must pass
// the same tests, which is what keeps the macro and the runtime's contract in step.
// Included with `include!`; the including file brings `ChatRoom`, `ConnParams`,
// `NewMessage`, `LOG`, `Value` and the prelude into scope.

fn params(token: &str) -> ConnParams {
    ConnParams {
        auth_token: token.into(),
    }
}

#[tokio::test]
async fn hook_order_for_connections_and_stateless_calls() {
    let log = Arc::new(Mutex::new(Vec::new()));
    *LOG.lock().unwrap() = Some(log.clone());
    let test = ActorTest::<ChatRoom>::new();
    let room = test
        .get_or_create(["order"])
        .await
        .unwrap()
        .params(params("a"));
    let conn = room.connect().await.unwrap();
    conn.send_message("hi".into()).await.unwrap();
    conn.close().await;
    room.send_message("stateless".into()).await.unwrap();
    // Let the stateless call's disconnect turn run.
    assert_eq!(room.get_messages().await.unwrap().len(), 2);
    let log = log.lock().unwrap().clone();
    let expected = [
        "create_vars",
        "before_connect",
        "conn_state",
        "on_connect",
        "action",
        "on_disconnect",
        "before_connect",
        "conn_state",
        "on_connect",
        "action",
        "on_disconnect",
    ];
    assert_eq!(&log[..expected.len()], expected);
}

#[tokio::test]
async fn can_invoke_denies_with_forbidden_and_runs_nothing() {
    let test = ActorTest::<ChatRoom>::new();
    let room = test
        .get_or_create(["deny"])
        .await
        .unwrap()
        .params(params("guest"));
    let err = room.send_message("nope".into()).await.unwrap_err();
    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(err.actor_error().unwrap().group, "auth");
    assert!(room.get_messages().await.unwrap().is_empty());
}

#[tokio::test]
async fn rejected_connect_reports_the_user_error() {
    let test = ActorTest::<ChatRoom>::new();
    let room = test
        .get_or_create(["reject"])
        .await
        .unwrap()
        .params(params(""));
    let err = room.connect().await.err().unwrap();
    assert_eq!(err.code(), Some("forbidden"));
    let err = room.get_messages().await.unwrap_err();
    assert_eq!(err.code(), Some("forbidden"));
}

#[tokio::test]
async fn user_errors_keep_code_and_metadata_and_roll_back() {
    let test = ActorTest::<ChatRoom>::new();
    let room = test
        .get_or_create(["errors"])
        .await
        .unwrap()
        .params(params("a"));
    let err = room.send_message(String::new()).await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!((err.group.as_str(), err.code.as_str()), ("user", "empty"));
    assert_eq!(err.metadata, Some(serde_json::json!({"min": 1})));
    // An action that mutated state and then failed leaves no trace.
    let err = room
        .send_message("fail-after-mutating".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("rolled_back"));
    assert!(room.get_messages().await.unwrap().is_empty());
}

#[tokio::test]
async fn panics_are_masked_and_the_instance_reloads() {
    let test = ActorTest::<ChatRoom>::new();
    let room = test
        .get_or_create(["panic"])
        .await
        .unwrap()
        .params(params("a"));
    room.send_message("before".into()).await.unwrap();
    let err = room.explode().await.unwrap_err();
    assert!(err.is_internal(), "{err:?}");
    assert!(!format!("{err:?}").contains("secret"));
    // The half-done push of the panicking turn is gone; the instance still answers.
    let messages = room.get_messages().await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text, "before");
    // Other instances are untouched.
    let other = test
        .get_or_create(["other"])
        .await
        .unwrap()
        .params(params("a"));
    other.send_message("fine".into()).await.unwrap();
}

#[tokio::test]
async fn events_reach_subscribers_only_after_success() {
    let test = ActorTest::<ChatRoom>::new();
    let room = test
        .get_or_create(["events"])
        .await
        .unwrap()
        .params(params("a"));
    let listener = room.connect().await.unwrap();
    let mut news = listener.events::<NewMessage>();
    let bystander = room.connect().await.unwrap();
    let _ = room.send_message("fail-after-mutating".into()).await;
    bystander.send_message("hello".into()).await.unwrap();
    let got = news.next().await.unwrap().unwrap();
    assert_eq!(got.text, "hello");
    assert_eq!(got.user_id, "user-a");
}

#[tokio::test]
async fn get_missing_is_not_found_and_create_twice_fails() {
    let test = ActorTest::<ChatRoom>::new();
    let err = test.get(["missing"]).await.err().unwrap();
    assert!(err.is_not_found());
    test.create(["once"], rivet_actor::NoParams).await.unwrap();
    let err = test
        .create(["once"], rivet_actor::NoParams)
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), Some("already_exists"));
    // Keys with commas are distinct from multi-part keys.
    let a = test.get_or_create(["a,b"]).await.unwrap();
    let b = test.get_or_create(["a", "b"]).await.unwrap();
    assert_ne!(a.id(), b.id());
}

#[tokio::test]
async fn encoded_calls_check_argument_count_and_types() {
    let test = ActorTest::<ChatRoom>::new();
    let id = test.get_or_create(["wire"]).await.unwrap().id().clone();
    let erased = test.registry().actor_type("chatRoom").unwrap();
    let params = Some(Value::Map(vec![(
        Value::Text("auth_token".into()),
        Value::Text("a".into()),
    )]));
    let err = erased
        .stateless(
            &id,
            admit(erased, &id, params.clone()).await,
            "sendMessage",
            vec![Value::Integer(3.into())],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("message", "invalid_args")
    );
    let err = erased
        .stateless(
            &id,
            admit(erased, &id, params.clone()).await,
            "sendMessage",
            vec![Value::Null, Value::Null],
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, "invalid_args");
    let err = erased
        .stateless(&id, admit(erased, &id, params.clone()).await, "nope", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.code, "action_not_found");
    // Params that do not decode are refused before any call is made.
    let err = erased.admit(&id, None, Request::new()).await.err().unwrap();
    assert_eq!(err.code, "invalid_params");
    let ok = erased
        .stateless(
            &id,
            admit(erased, &id, params).await,
            "sendMessage",
            vec![Value::Text("typed".into())],
        )
        .await
        .unwrap();
    assert_eq!(ok, Value::Null);
}

/// The caller admitted to actor `id` with `params` (decoded, guards passed).
async fn admit(
    erased: &std::sync::Arc<dyn rivet_actor::runtime::ErasedActor>,
    id: &rivet_actor::ActorId,
    params: Option<Value>,
) -> rivet_actor::runtime::Admission {
    erased.admit(id, params, Request::new()).await.expect("admitted")
}
