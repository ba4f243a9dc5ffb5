//! Our frames, checked by the npm client.

use super::*;

// MARK: our frames, checked by the npm client

#[derive(serde::Serialize)]
struct RustFixtures {
    generated_by: &'static str,
    frames: Vec<FixtureFrame>,
    path_keys: Vec<RustPathKey>,
    subprotocols: Vec<RustSubprotocols>,
    inputs: Vec<RustInput>,
}

#[derive(serde::Serialize)]
struct RustPathKey {
    key: Vec<String>,
    path: String,
}

#[derive(serde::Serialize)]
struct RustSubprotocols {
    header: String,
    params: Option<String>,
}

#[derive(serde::Serialize)]
struct RustInput {
    input: String,
    query: String,
    actors: String,
}

fn rust_fixtures() -> RustFixtures {
    let mut frames = Vec::new();
    for encoding in both() {
        let mut add = |name: &str, kind: &str, bytes: Vec<u8>| {
            frames.push(FixtureFrame::new(name, kind, encoding, bytes));
        };
        let to_client = |m: ToClient| encode_to_client(encoding, &m);
        add(
            "init",
            "to_client",
            to_client(ToClient::Init {
                actor_id: "actor-1".into(),
                connection_id: "conn-1".into(),
            }),
        );
        add(
            "action_response",
            "to_client",
            to_client(ToClient::ActionResponse {
                id: 0,
                output: int(2),
            }),
        );
        add(
            "action_response_values",
            "to_client",
            to_client(ToClient::ActionResponse {
                id: u64::MAX,
                output: arr(vec![
                    int(1 << 60),
                    int(-(1 << 60)),
                    int((1 << 53) - 1),
                    int(1 << 40),
                    int(-(1 << 40)),
                    int(1 << 32),
                    int(-(1 << 32)),
                    int(u32::MAX as i128),
                    Value::Float(1.5),
                    Value::Null,
                    Value::Bytes(vec![1, 2, 3]),
                    arr(vec![text("$x"), int(1)]),
                    arr(vec![text("$$y"), arr(vec![int(2)])]),
                    Value::Map(vec![(int(1), text("int key")), (text("k"), text("v"))]),
                    text("text é"),
                    Value::Bool(true),
                ]),
            }),
        );
        add(
            "event",
            "to_client",
            to_client(ToClient::Event {
                name: "newCount".into(),
                args: vec![int(2)],
            }),
        );
        add(
            "event_dollar_args",
            "to_client",
            to_client(ToClient::Event {
                name: "e".into(),
                args: vec![text("$a"), int(1)],
            }),
        );
        add(
            "action_error",
            "to_client",
            to_client(ToClient::Error(
                WireError::new("user", "bad_thing", "it broke")
                    .with_metadata(map(vec![("why", arr(vec![int(1), int(2)]))]))
                    .with_action_id(2),
            )),
        );
        add(
            "conn_error",
            "to_client",
            to_client(ToClient::Error(WireError {
                actor: Some(ActorSpecifier {
                    actor_id: "actor-1".into(),
                    generation: 3,
                    key: Some("a/b".into()),
                }),
                ..WireError::new("actor", "not_found", "gone")
            })),
        );
        add(
            "action_request",
            "to_server",
            encode_to_server(
                encoding,
                &ToServer::ActionRequest {
                    id: 0,
                    name: "increment".into(),
                    args: vec![int(2), int((1 << 53) + 1)],
                },
            ),
        );
        add(
            "subscribe",
            "to_server",
            encode_to_server(
                encoding,
                &ToServer::SubscriptionRequest {
                    event_name: "newCount".into(),
                    subscribe: true,
                },
            ),
        );
        add(
            "http_action_request",
            "http_action_request",
            encode_action_request(encoding, &[int(1), text("two")]),
        );
        add(
            "http_action_response",
            "http_action_response",
            encode_action_response(encoding, &map(vec![("n", int(1 << 60))])),
        );
        add(
            "http_error",
            "http_error",
            encode_error_body(
                encoding,
                &WireError::new("user", "bad", "nope").with_metadata(map(vec![("a", int(1))])),
            ),
        );
        add(
            "http_error_plain",
            "http_error",
            encode_error_body(
                encoding,
                &WireError::new("rivetkit", "internal_error", "An internal error occurred"),
            ),
        );
        add(
            "queue_request",
            "http_queue_request",
            encode_queue_send_request(
                encoding,
                &QueueSendRequest {
                    name: Some("jobs".into()),
                    body: map(vec![("job", int(1))]),
                    wait: true,
                    timeout_ms: Some(1500),
                },
            ),
        );
        add(
            "queue_response",
            "http_queue_response",
            encode_queue_send_response(
                encoding,
                &QueueSendResponse {
                    status: QueueSendStatus::Completed,
                    response: Some(map(vec![("ok", Value::Bool(true))])),
                },
            ),
        );
        add(
            "queue_timed_out",
            "http_queue_response",
            encode_queue_send_response(
                encoding,
                &QueueSendResponse {
                    status: QueueSendStatus::TimedOut,
                    response: None,
                },
            ),
        );
    }
    let keys: [&[&str]; 8] = [
        &[],
        &[""],
        &["a"],
        &["a", "b"],
        &["", ""],
        &["a/b", "c\\d"],
        &["é", "x y", "\\0"],
        &["/", "\\", "\\0", "0"],
    ];
    let path_keys = keys
        .iter()
        .map(|key| {
            let key: Vec<String> = key.iter().map(|s| s.to_string()).collect();
            RustPathKey {
                path: path_key::encode(&key),
                key,
            }
        })
        .collect();
    let subprotocols = [
        (Encoding::Json, None, None),
        (
            Encoding::Cbor,
            Some(r#"{"s":"(x) é,/%'*!~","n":[1,2]}"#),
            Some("t0k"),
        ),
    ]
    .into_iter()
    .map(|(encoding, params, token)| RustSubprotocols {
        header: build_subprotocols(encoding, params, token),
        params: params.map(str::to_owned),
    })
    .collect();
    let input_value = map(vec![
        ("start", int(5)),
        ("big", int(1 << 60)),
        ("raw", Value::Bytes(vec![7])),
        ("tags", arr(vec![text("x")])),
        ("dollar", arr(vec![text("$x"), int(1)])),
    ]);
    let inputs = vec![RustInput {
        input: json::to_string(&input_value),
        query: input::encode_query_input(&input_value),
        actors: input::encode_actors_input(&input_value),
    }];
    RustFixtures {
        generated_by: "rivet-actor protocol tests (RIVET_UPDATE_FIXTURES=1 cargo test -p rivet-actor --lib protocol)",
        frames,
        path_keys,
        subprotocols,
        inputs,
    }
}

/// Our encodings, as checked by `node fixtures/wire.mjs check` against the npm client. Set
/// `RIVET_UPDATE_FIXTURES=1` to rewrite the file after a deliberate change, then run the check.
#[test]
fn rust_frames_fixture_is_current() {
    let current = serde_json::to_string_pretty(&rust_fixtures()).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/protocol/fixtures/rust_frames.json"
    );
    if std::env::var_os("RIVET_UPDATE_FIXTURES").is_some() {
        std::fs::write(path, &current).expect("write rust_frames.json");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "fixtures/rust_frames.json is stale: rerun with RIVET_UPDATE_FIXTURES=1, then \
         `node rivet-actor/src/protocol/fixtures/wire.mjs check`"
    );
    // Every frame we wrote also decodes with our own decoders.
    for frame in rust_fixtures().frames {
        let encoding = frame.encoding();
        let bytes = frame.bytes();
        let ok = match frame.kind.as_str() {
            "to_client" => decode_to_client(encoding, &bytes).is_ok(),
            "to_server" => decode_to_server(encoding, &bytes).is_ok(),
            "http_action_request" => decode_action_request(encoding, &bytes).is_ok(),
            "http_action_response" => decode_action_response(encoding, &bytes).is_ok(),
            "http_error" => decode_error_body(encoding, &bytes).is_ok(),
            "http_queue_request" => decode_queue_send_request(encoding, &bytes).is_ok(),
            "http_queue_response" => decode_queue_send_response(encoding, &bytes).is_ok(),
            other => panic!("unknown kind {other}"),
        };
        assert!(ok, "{}", frame.name);
    }
}
