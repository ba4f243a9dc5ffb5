//! WebSocket messages and HTTP bodies.

use super::*;

// MARK: messages

fn sample_to_server() -> Vec<ToServer> {
    vec![
        ToServer::ActionRequest {
            id: 0,
            name: "increment".into(),
            args: vec![int(2)],
        },
        ToServer::ActionRequest {
            id: u64::MAX,
            name: "mix".into(),
            args: vec![
                Value::Bytes(vec![1]),
                arr(vec![text("$x"), int(1)]),
                int(1 << 60),
                map(vec![("k", Value::Float(0.25))]),
            ],
        },
        ToServer::ActionRequest {
            id: 5,
            name: "dollar".into(),
            args: vec![text("$a"), int(1)],
        },
        ToServer::SubscriptionRequest {
            event_name: "newCount".into(),
            subscribe: true,
        },
        ToServer::SubscriptionRequest {
            event_name: "newCount".into(),
            subscribe: false,
        },
    ]
}

fn sample_to_client() -> Vec<ToClient> {
    vec![
        ToClient::Init {
            actor_id: "actor-1".into(),
            connection_id: "conn-1".into(),
        },
        ToClient::ActionResponse {
            id: 0,
            output: int(2),
        },
        ToClient::ActionResponse {
            id: u64::MAX,
            output: map(vec![("b", Value::Bytes(vec![9])), ("n", int(-(1 << 60)))]),
        },
        ToClient::Event {
            name: "newCount".into(),
            args: vec![int(2)],
        },
        ToClient::Event {
            name: "e".into(),
            args: vec![text("$a"), int(1)],
        },
        ToClient::Error(
            WireError::new("user", "bad_thing", "it broke")
                .with_metadata(map(vec![("why", int(1))]))
                .with_action_id(2),
        ),
        ToClient::Error(WireError {
            actor: Some(ActorSpecifier {
                actor_id: "actor-1".into(),
                generation: 3,
                key: Some("a/b".into()),
            }),
            ..WireError::new("auth", "forbidden", "no")
        }),
    ]
}

#[test]
fn messages_round_trip() {
    for encoding in both() {
        for message in sample_to_server() {
            let wire = encode_to_server(encoding, &message);
            assert_eq!(
                decode_to_server(encoding, &wire).unwrap(),
                message,
                "{encoding}"
            );
        }
        for message in sample_to_client() {
            let wire = encode_to_client(encoding, &message);
            assert_eq!(
                decode_to_client(encoding, &wire).unwrap(),
                message,
                "{encoding}"
            );
        }
    }
}

#[test]
fn frames_follow_the_encoding() {
    let init = &sample_to_client()[0];
    assert_eq!(
        encode_to_client_frame(Encoding::Json, init),
        Frame::Text(
            r#"{"body":{"tag":"Init","val":{"actorId":"actor-1","connectionId":"conn-1"}}}"#.into()
        )
    );
    assert_eq!(
        encode_to_client_frame(Encoding::Cbor, init),
        Frame::Binary(encode_to_client(Encoding::Cbor, init))
    );
    let subscribe = &sample_to_server()[3];
    assert!(matches!(
        encode_to_server_frame(Encoding::Json, subscribe),
        Frame::Text(_)
    ));
    assert!(matches!(
        encode_to_server_frame(Encoding::Cbor, subscribe),
        Frame::Binary(_)
    ));
}

/// The examples of PROTOCOL.md, byte for byte.
#[test]
fn protocol_md_examples() {
    assert_eq!(
        decode_to_server(
            Encoding::Json,
            br#"{"body":{"tag":"ActionRequest","val":{"id":["$BigInt","0"],"name":"increment","args":[2]}}}"#
        )
        .unwrap(),
        ToServer::ActionRequest {
            id: 0,
            name: "increment".into(),
            args: vec![int(2)]
        }
    );
    assert_eq!(
        decode_to_server(
            Encoding::Json,
            br#"{"body":{"tag":"SubscriptionRequest","val":{"eventName":"newCount","subscribe":true}}}"#
        )
        .unwrap(),
        ToServer::SubscriptionRequest {
            event_name: "newCount".into(),
            subscribe: true
        }
    );
    let out = |m: &ToClient| String::from_utf8(encode_to_client(Encoding::Json, m)).unwrap();
    assert_eq!(
        out(&ToClient::Init {
            actor_id: "a1".into(),
            connection_id: "c1".into()
        }),
        r#"{"body":{"tag":"Init","val":{"actorId":"a1","connectionId":"c1"}}}"#
    );
    assert_eq!(
        out(&ToClient::ActionResponse {
            id: 0,
            output: int(2)
        }),
        r#"{"body":{"tag":"ActionResponse","val":{"id":["$BigInt","0"],"output":2}}}"#
    );
    assert_eq!(
        out(&ToClient::Event {
            name: "newCount".into(),
            args: vec![int(2)]
        }),
        r#"{"body":{"tag":"Event","val":{"name":"newCount","args":[2]}}}"#
    );
    assert_eq!(
        out(&ToClient::Error(
            WireError::new("user", "bad_thing", "m")
                .with_metadata(map(vec![("x", int(1))]))
                .with_action_id(2)
        )),
        r#"{"body":{"tag":"Error","val":{"group":"user","code":"bad_thing","message":"m","metadata":{"x":1},"actionId":["$BigInt","2"]}}}"#
    );
    // A connection-level error carries `"actionId": null` (the client's schema requires it).
    assert_eq!(
        out(&ToClient::Error(WireError::new("auth", "forbidden", "no"))),
        r#"{"body":{"tag":"Error","val":{"group":"auth","code":"forbidden","message":"no","actionId":null}}}"#
    );
}

#[test]
fn cbor_ids_are_wide_integers() {
    let wire = encode_to_client(
        Encoding::Cbor,
        &ToClient::ActionResponse {
            id: 3,
            output: int(2),
        },
    );
    // "id" (62 69 64), then 1b and 8 bytes, however small the id.
    assert!(
        hex(&wire).contains("6269641b0000000000000003"),
        "{}",
        hex(&wire)
    );
    let request = hex(&encode_to_server(
        Encoding::Cbor,
        &ToServer::ActionRequest {
            id: 0,
            name: "x".into(),
            args: vec![],
        },
    ));
    assert!(request.contains("6269641b0000000000000000"), "{request}");
}

#[test]
fn message_shape_errors() {
    let cases: [(&str, &str); 12] = [
        ("[]", "the message to be an object"),
        ("{}", "`body`"),
        (r#"{"body":1}"#, "`body` to be an object"),
        (r#"{"body":{"val":{}}}"#, "`tag`"),
        (
            r#"{"body":{"tag":"Init","val":{}}}"#,
            "one of ActionRequest, SubscriptionRequest, got `Init`",
        ),
        (r#"{"body":{"tag":"ActionRequest"}}"#, "`val`"),
        (
            r#"{"body":{"tag":"ActionRequest","val":{"name":"x","args":[]}}}"#,
            "`id`",
        ),
        (
            r#"{"body":{"tag":"ActionRequest","val":{"id":-1,"name":"x","args":[]}}}"#,
            "`id`",
        ),
        (
            r#"{"body":{"tag":"ActionRequest","val":{"id":1.5,"name":"x","args":[]}}}"#,
            "`id`",
        ),
        (
            r#"{"body":{"tag":"ActionRequest","val":{"id":1,"args":[]}}}"#,
            "`name`",
        ),
        (
            r#"{"body":{"tag":"ActionRequest","val":{"id":1,"name":"x","args":{}}}}"#,
            "`args`",
        ),
        (
            r#"{"body":{"tag":"SubscriptionRequest","val":{"eventName":"e","subscribe":"yes"}}}"#,
            "`subscribe`",
        ),
    ];
    for (input, expected) in cases {
        match decode_to_server(Encoding::Json, input.as_bytes()) {
            Err(ProtocolError::WrongShape { expected: got }) => {
                assert!(got.contains(expected), "{input}: {got}")
            }
            other => panic!("{input}: {other:?}"),
        }
    }
    // Plain numbers are accepted as ids (the npm client always sends a bigint).
    assert!(
        decode_to_server(
            Encoding::Json,
            br#"{"body":{"tag":"ActionRequest","val":{"id":4,"name":"x","args":[]}}}"#
        )
        .is_ok()
    );
    // Unknown fields are ignored, as zod does.
    assert!(decode_to_server(
        Encoding::Json,
        br#"{"body":{"tag":"SubscriptionRequest","val":{"eventName":"e","subscribe":true,"x":1}},"y":2}"#
    )
    .is_ok());
    // The same shapes in CBOR.
    let cbor_bad = cbor::from_value(&map(vec![("body", map(vec![("tag", text("Nope"))]))]));
    assert!(matches!(
        decode_to_server(Encoding::Cbor, &cbor_bad),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert!(matches!(
        decode_to_server(Encoding::Cbor, b"{}"),
        Err(ProtocolError::MalformedCbor(_))
    ));
    assert!(matches!(
        decode_to_client(
            Encoding::Json,
            br#"{"body":{"tag":"Event","val":{"name":"e","args":2}}}"#
        ),
        Err(ProtocolError::WrongShape { .. })
    ));
    // Error messages are printable and name the problem.
    let message = decode_to_server(Encoding::Json, b"{}")
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "invalid message: expected `body` in the message to be present"
    );
    let message = decode_to_server(
        Encoding::Json,
        br#"{"body":{"tag":"ActionRequest","val":{"id":1,"name":"x","args":{}}}}"#,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        message,
        "invalid message: expected `args` in `val` of the ActionRequest message to be an array"
    );
}

#[test]
fn wire_error_helpers() {
    let error = WireError::new("actor", "not_found", "gone");
    assert_eq!(error.close_reason(), "actor.not_found");
    assert_eq!(error.to_string(), "actor.not_found: gone");
    let long = WireError::new("g", "é".repeat(100), "m");
    assert!(long.close_reason().len() <= 123);
}

// MARK: HTTP bodies

#[test]
fn http_bodies_round_trip() {
    for encoding in both() {
        let args = vec![int(1), text("two"), Value::Bytes(vec![3])];
        let wire = encode_action_request(encoding, &args);
        assert_eq!(decode_action_request(encoding, &wire).unwrap(), args);

        let output = map(vec![("n", int(1 << 60))]);
        let wire = encode_action_response(encoding, &output);
        assert_eq!(decode_action_response(encoding, &wire).unwrap(), output);

        let error = WireError::new("user", "bad", "nope")
            .with_metadata(map(vec![("a", int(1))]))
            .with_action_id(9);
        let wire = encode_error_body(encoding, &error);
        let back = decode_error_body(encoding, &wire).unwrap();
        assert_eq!(back.action_id, None, "no action id in HTTP error bodies");
        assert_eq!(
            back,
            WireError {
                action_id: None,
                ..error
            }
        );

        for request in [
            QueueSendRequest {
                name: Some("jobs".into()),
                body: map(vec![("job", int(1))]),
                wait: true,
                timeout_ms: Some(1500),
            },
            QueueSendRequest {
                name: None,
                body: Value::Null,
                wait: false,
                timeout_ms: None,
            },
        ] {
            let wire = encode_queue_send_request(encoding, &request);
            assert_eq!(decode_queue_send_request(encoding, &wire).unwrap(), request);
        }
        for response in [
            QueueSendResponse {
                status: QueueSendStatus::Completed,
                response: Some(text("done")),
            },
            QueueSendResponse {
                status: QueueSendStatus::TimedOut,
                response: None,
            },
        ] {
            let wire = encode_queue_send_response(encoding, &response);
            assert_eq!(
                decode_queue_send_response(encoding, &wire).unwrap(),
                response
            );
        }
    }
}

#[test]
fn http_bodies_exact_json() {
    let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
    assert_eq!(
        s(encode_action_response(Encoding::Json, &int(2))),
        r#"{"output":2}"#
    );
    assert_eq!(
        s(encode_error_body(
            Encoding::Json,
            &WireError::new("rivetkit", "internal_error", "An internal error occurred")
                .with_action_id(1)
        )),
        r#"{"group":"rivetkit","code":"internal_error","message":"An internal error occurred"}"#
    );
    assert_eq!(
        s(encode_queue_send_response(
            Encoding::Json,
            &QueueSendResponse {
                status: QueueSendStatus::Completed,
                response: None
            }
        )),
        r#"{"status":"completed"}"#
    );
    assert_eq!(
        s(encode_action_request(
            Encoding::Json,
            &[int(1), int(1 << 60)]
        )),
        r#"{"args":[1,["$BigInt","1152921504606846976"]]}"#
    );
}

#[test]
fn http_body_errors() {
    assert!(matches!(
        decode_action_request(Encoding::Json, br#"{"args":{}}"#),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert!(matches!(
        decode_action_request(Encoding::Json, br#"{}"#),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert!(matches!(
        decode_action_request(Encoding::Json, br#"[1]"#),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert!(matches!(
        decode_queue_send_request(Encoding::Json, br#"{"body":1,"timeout":-5}"#),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert!(matches!(
        decode_queue_send_request(Encoding::Json, br#"{"body":1,"wait":"yes"}"#),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert_eq!(
        decode_queue_send_request(Encoding::Json, br#"{"body":1,"timeout":2.7,"wait":null}"#)
            .unwrap(),
        QueueSendRequest {
            name: None,
            body: int(1),
            wait: false,
            timeout_ms: Some(2)
        }
    );
    assert!(matches!(
        decode_queue_send_response(Encoding::Json, br#"{"status":"pending"}"#),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert!(matches!(
        decode_error_body(Encoding::Json, br#"{"group":"g","code":"c"}"#),
        Err(ProtocolError::WrongShape { .. })
    ));
    assert_eq!(
        decode_action_response(Encoding::Json, b"{}").unwrap(),
        Value::Null
    );
}
