//! Frames, keys and subprotocols produced by the npm client itself.

use super::*;

// MARK: npm fixtures

#[derive(serde::Deserialize)]
struct NpmFixtures {
    frames: Vec<FixtureFrame>,
    keys: Vec<NpmKey>,
    subprotocols: Vec<NpmSubprotocols>,
    inputs: NpmInputs,
}

#[derive(serde::Deserialize)]
struct NpmKey {
    key: Vec<String>,
    path: String,
    query: Option<String>,
}

#[derive(serde::Deserialize)]
struct NpmSubprotocols {
    encoding: String,
    params: Option<String>,
    header: String,
}

#[derive(serde::Deserialize)]
struct NpmInputs {
    query_input: String,
    actors_input: String,
}

fn npm_fixtures() -> NpmFixtures {
    serde_json::from_str(include_str!("../fixtures/npm_frames.json")).expect("npm_frames.json")
}

/// What the frames written by the npm client (`wire.mjs gen`) decode to.
#[test]
fn npm_frames_decode() {
    let fixtures = npm_fixtures();
    let date = text("2024-01-02T03:04:05.678Z");
    let values = |set: Value| {
        vec![
            int(1 << 60),
            int(-(1 << 60)),
            int(5),
            Value::Bytes(vec![1, 2, 3]),
            Value::Null,
            set,
            map(vec![(
                "nested",
                map(vec![(
                    "$k",
                    arr(vec![
                        Value::Float(1.5),
                        Value::Null,
                        Value::Bool(true),
                        text("s"),
                    ]),
                )]),
            )]),
            int(1 << 40),
            int(-(1 << 40)),
            int(1 << 31),
            int(-7),
            text("text é"),
            date.clone(),
        ]
    };
    let mut seen = 0;
    for frame in &fixtures.frames {
        let encoding = frame.encoding();
        let bytes = frame.bytes();
        let case = frame
            .name
            .trim_end_matches("_json")
            .trim_end_matches("_cbor");
        seen += 1;
        match case {
            "action_basic" => assert_eq!(
                decode_to_server(encoding, &bytes).unwrap(),
                ToServer::ActionRequest {
                    id: 0,
                    name: "increment".into(),
                    args: vec![int(2)]
                }
            ),
            "action_values" => {
                // JSON.stringify writes a Set as `{}`; cbor-x keeps it (tag 258).
                let set = match encoding {
                    Encoding::Json => Value::Map(vec![]),
                    Encoding::Cbor | Encoding::Bare => arr(vec![int(1), text("a")]),
                };
                assert_eq!(
                    decode_to_server(encoding, &bytes).unwrap(),
                    ToServer::ActionRequest {
                        id: 7,
                        name: "mix".into(),
                        args: values(set)
                    },
                    "{}",
                    frame.name
                )
            }
            "action_no_args" => assert_eq!(
                decode_to_server(encoding, &bytes).unwrap(),
                ToServer::ActionRequest {
                    id: u64::MAX,
                    name: "noop".into(),
                    args: vec![]
                }
            ),
            "subscribe" | "unsubscribe" => assert_eq!(
                decode_to_server(encoding, &bytes).unwrap(),
                ToServer::SubscriptionRequest {
                    event_name: "newCount".into(),
                    subscribe: case == "subscribe"
                }
            ),
            "init" => assert_eq!(
                decode_to_client(encoding, &bytes).unwrap(),
                ToClient::Init {
                    actor_id: "actor-1".into(),
                    connection_id: "conn-1".into()
                }
            ),
            "action_response" => assert_eq!(
                decode_to_client(encoding, &bytes).unwrap(),
                ToClient::ActionResponse {
                    id: 3,
                    output: map(vec![("count", int(2))])
                }
            ),
            "event" => assert_eq!(
                decode_to_client(encoding, &bytes).unwrap(),
                ToClient::Event {
                    name: "newCount".into(),
                    args: vec![int(2), text("x")]
                }
            ),
            "action_error" => assert_eq!(
                decode_to_client(encoding, &bytes).unwrap(),
                ToClient::Error(
                    WireError::new("user", "bad_thing", "it broke")
                        .with_metadata(map(vec![("why", int(1))]))
                        .with_action_id(2)
                )
            ),
            "conn_error" => assert_eq!(
                decode_to_client(encoding, &bytes).unwrap(),
                ToClient::Error(WireError {
                    actor: Some(ActorSpecifier {
                        actor_id: "actor-1".into(),
                        generation: 3,
                        key: Some("a/b".into())
                    }),
                    ..WireError::new("auth", "forbidden", "no")
                })
            ),
            "http_action_request" => assert_eq!(
                decode_action_request(encoding, &bytes).unwrap(),
                vec![int(1), text("two"), int(3)]
            ),
            "http_action_response" => assert_eq!(
                decode_action_response(encoding, &bytes).unwrap(),
                arr(vec![int(1), Value::Bytes(vec![255])])
            ),
            "http_error" => assert_eq!(
                decode_error_body(encoding, &bytes).unwrap(),
                WireError::new("actor", "not_found", "The actor does not exist.")
                    .with_metadata(map(vec![("id", text("x"))]))
            ),
            "queue_wait" => assert_eq!(
                decode_queue_send_request(encoding, &bytes).unwrap(),
                QueueSendRequest {
                    name: Some("jobs".into()),
                    body: map(vec![("job", int(1))]),
                    wait: true,
                    timeout_ms: Some(1500)
                }
            ),
            "queue_nowait" => assert_eq!(
                decode_queue_send_request(encoding, &bytes).unwrap(),
                QueueSendRequest {
                    name: Some("jobs".into()),
                    body: text("hi"),
                    wait: false,
                    timeout_ms: None
                }
            ),
            "queue_response" => assert_eq!(
                decode_queue_send_response(encoding, &bytes).unwrap(),
                QueueSendResponse {
                    status: QueueSendStatus::Completed,
                    response: Some(map(vec![("ok", Value::Bool(true))]))
                }
            ),
            "queue_timed_out" => assert_eq!(
                decode_queue_send_response(encoding, &bytes).unwrap(),
                QueueSendResponse {
                    status: QueueSendStatus::TimedOut,
                    response: None
                }
            ),
            "action_dollar" => match encoding {
                // The JSON encoder (and the BARE path's `encodeCborCompat`) escapes literal
                // `$` pairs; we unescape them.
                Encoding::Json | Encoding::Bare => assert_eq!(
                    decode_to_server(encoding, &bytes).unwrap(),
                    ToServer::ActionRequest {
                        id: 1,
                        name: "d".into(),
                        args: vec![
                            arr(vec![text("$x"), int(1)]),
                            arr(vec![text("$$y"), int(2)]),
                            text("$"),
                            int(3)
                        ]
                    }
                ),
                // Its CBOR path sends them raw, and they read as unknown tags (as they do
                // for RivetKit's own server).
                Encoding::Cbor => assert!(matches!(
                    decode_to_server(encoding, &bytes),
                    Err(ProtocolError::InvalidTaggedValue { ref tag, .. }) if tag == "$x"
                )),
            },
            "action_js_shapes" => assert_eq!(
                decode_to_server(encoding, &bytes).unwrap(),
                ToServer::ActionRequest {
                    id: 4,
                    name: "shapes".into(),
                    args: vec![
                        Value::Map(vec![(int(1), text("one"))]),
                        Value::Bytes(vec![9, 8])
                    ]
                }
            ),
            other => panic!("no expectation for npm frame {other}"),
        }
    }
    assert_eq!(seen, 37, "every npm frame was checked");

    for NpmKey { key, path, query } in &fixtures.keys {
        assert_eq!(&path_key::encode(key), path);
        assert_eq!(&path_key::decode(path).unwrap(), key);
        assert_eq!(&query_key::encode(key), query);
        let read_back = query_key::decode_param(query.as_deref());
        if key.iter().any(|part| part.contains(',')) {
            assert_ne!(&read_back, key, "the `rvt-key` collision");
        } else {
            assert_eq!(&read_back, key);
        }
    }
    for NpmSubprotocols {
        encoding,
        params,
        header,
    } in &fixtures.subprotocols
    {
        let parsed = parse_subprotocols(header).unwrap();
        assert_eq!(parsed.encoding.name(), encoding);
        assert_eq!(&parsed.conn_params, params);
        assert_eq!(
            parsed.token, None,
            "the token goes in `rvt-token` for query targets"
        );
    }
    assert_eq!(
        input::decode_query_input(&fixtures.inputs.query_input).unwrap(),
        map(vec![
            ("start", int(5)),
            ("tags", arr(vec![text("x")])),
            ("raw", Value::Bytes(vec![7])),
        ])
    );
    assert_eq!(
        input::decode_actors_input(&fixtures.inputs.actors_input).unwrap(),
        map(vec![("start", int(5))])
    );
}
