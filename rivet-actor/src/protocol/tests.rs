//! Tests of the protocol codecs, including fixtures produced by the npm client itself
//! (`fixtures/npm_frames.json`) and our frames checked by it (`fixtures/rust_frames.json`,
//! see `fixtures/wire.mjs`).

use super::*;

// MARK: helpers

fn int(n: i128) -> Value {
    Value::Integer(ciborium::value::Integer::try_from(n).expect("integer in CBOR range"))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array(items)
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn json_in(s: &str) -> Result<Value, ProtocolError> {
    json::to_value(s.as_bytes())
}

fn json_out(v: &Value) -> String {
    json::to_string(v)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn both() -> [Encoding; 2] {
    [Encoding::Json, Encoding::Cbor]
}

// MARK: encoding

#[test]
fn encoding_names() {
    assert_eq!(Encoding::from_name("json"), Ok(Encoding::Json));
    assert_eq!(Encoding::from_name("cbor"), Ok(Encoding::Cbor));
    assert_eq!(" CBOR ".parse::<Encoding>(), Ok(Encoding::Cbor));
    assert_eq!(
        Encoding::from_name("bare"),
        Err(ProtocolError::UnsupportedEncoding("bare".to_owned()))
    );
    assert_eq!(
        Encoding::from_name("xml"),
        Err(ProtocolError::UnknownEncoding("xml".to_owned()))
    );
    assert_eq!(Encoding::Json.name(), "json");
    assert_eq!(Encoding::Cbor.to_string(), "cbor");
    assert_eq!(Encoding::Json.content_type(), "application/json");
    assert_eq!(Encoding::Cbor.content_type(), "application/octet-stream");
    assert!(Encoding::Cbor.is_binary() && !Encoding::Json.is_binary());
    let long = "x".repeat(500);
    let message = Encoding::from_name(&long).unwrap_err().to_string();
    assert!(message.len() < 150, "echoed input is clipped: {message}");
}

// MARK: JSON tagging

#[test]
fn json_numbers() {
    assert_eq!(json_in("2").unwrap(), int(2));
    assert_eq!(json_in("-2").unwrap(), int(-2));
    assert_eq!(
        json_in("18446744073709551615").unwrap(),
        int(u64::MAX as i128)
    );
    assert_eq!(json_in("1.5").unwrap(), Value::Float(1.5));
    assert_eq!(json_in("1e3").unwrap(), Value::Float(1000.0));
    assert_eq!(json_out(&int(9_007_199_254_740_991)), "9007199254740991");
    assert_eq!(
        json_out(&int(9_007_199_254_740_992)),
        r#"["$BigInt","9007199254740992"]"#
    );
    assert_eq!(
        json_out(&int(-9_007_199_254_740_992)),
        r#"["$BigInt","-9007199254740992"]"#
    );
    assert_eq!(json_out(&Value::Float(1.5)), "1.5");
    assert_eq!(json_out(&Value::Float(f64::NAN)), "null");
    assert_eq!(json_out(&Value::Float(f64::INFINITY)), "null");
    assert_eq!(json_out(&Value::Float(f64::NEG_INFINITY)), "null");
}

#[test]
fn json_bigint_both_ways() {
    assert_eq!(json_in(r#"["$BigInt","0"]"#).unwrap(), int(0));
    assert_eq!(
        json_in(r#"["$BigInt","-18446744073709551616"]"#).unwrap(),
        int(-(1i128 << 64))
    );
    assert_eq!(
        json_in(r#"["$BigInt","18446744073709551615"]"#).unwrap(),
        int(u64::MAX as i128)
    );
    assert_eq!(json_in(r#"["$BigInt",5]"#).unwrap(), int(5));
    for v in [
        int(1 << 60),
        int(-(1 << 60)),
        int(u64::MAX as i128),
        int(-(1i128 << 64)),
    ] {
        assert_eq!(json_in(&json_out(&v)).unwrap(), v);
    }
}

#[test]
fn json_bigint_errors() {
    for bad in [
        r#"["$BigInt","18446744073709551616"]"#,
        r#"["$BigInt","-18446744073709551617"]"#,
        r#"["$BigInt","1e3"]"#,
        r#"["$BigInt",""]"#,
        r#"["$BigInt","0x10"]"#,
        r#"["$BigInt",1.5]"#,
        r#"["$BigInt",null]"#,
        r#"["$BigInt","99999999999999999999999999999999999999999999"]"#,
    ] {
        match json_in(bad) {
            Err(ProtocolError::InvalidTaggedValue { tag, .. }) => assert_eq!(tag, "$BigInt"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn json_bytes_both_ways() {
    let bytes = Value::Bytes(vec![0, 1, 2, 250, 255]);
    assert_eq!(json_out(&bytes), r#"["$Uint8Array","AAEC+v8="]"#);
    assert_eq!(json_in(r#"["$Uint8Array","AAEC+v8="]"#).unwrap(), bytes);
    assert_eq!(json_in(r#"["$ArrayBuffer","AAEC+v8="]"#).unwrap(), bytes);
    // Node's Buffer accepts missing padding and the URL-safe alphabet.
    assert_eq!(json_in(r#"["$Uint8Array","AAEC-v8"]"#).unwrap(), bytes);
    assert_eq!(
        json_in(r#"["$Uint8Array",""]"#).unwrap(),
        Value::Bytes(vec![])
    );
    assert!(matches!(
        json_in(r#"["$Uint8Array","!!!"]"#),
        Err(ProtocolError::InvalidTaggedValue { .. })
    ));
    assert!(matches!(
        json_in(r#"["$ArrayBuffer",[1]]"#),
        Err(ProtocolError::InvalidTaggedValue { .. })
    ));
}

#[test]
fn json_undefined_and_set() {
    assert_eq!(json_in(r#"["$Undefined",0]"#).unwrap(), Value::Null);
    assert_eq!(
        json_in(r#"["$Set",[1,["$BigInt","2"],"a"]]"#).unwrap(),
        arr(vec![int(1), int(2), text("a")])
    );
    assert!(matches!(
        json_in(r#"["$Set",{}]"#),
        Err(ProtocolError::InvalidTaggedValue { .. })
    ));
}

#[test]
fn json_escaping_round_trips() {
    let cases = [
        (arr(vec![text("$x"), int(1)]), r#"["$$x",1]"#),
        (arr(vec![text("$$y"), arr(vec![int(2)])]), r#"["$$$y",[2]]"#),
        (arr(vec![text("$BigInt"), text("5")]), r#"["$$BigInt","5"]"#),
        (arr(vec![text("$"), Value::Null]), r#"["$$",null]"#),
        // Not two elements, or not led by a `$` string: left alone.
        (arr(vec![text("$x"), int(1), int(2)]), r#"["$x",1,2]"#),
        (arr(vec![text("$x")]), r#"["$x"]"#),
        (arr(vec![text("x$"), int(1)]), r#"["x$",1]"#),
        (arr(vec![int(1), text("$x")]), r#"[1,"$x"]"#),
    ];
    for (value, wire) in cases {
        assert_eq!(json_out(&value), wire);
        assert_eq!(json_in(wire).unwrap(), value, "{wire}");
    }
    // Escaping applies inside the escaped pair and to nested arrays too.
    let nested = arr(vec![
        text("$a"),
        arr(vec![text("$b"), Value::Bytes(vec![1])]),
    ]);
    assert_eq!(
        json_out(&nested),
        r#"["$$a",["$$b",["$Uint8Array","AQ=="]]]"#
    );
    assert_eq!(json_in(&json_out(&nested)).unwrap(), nested);
    // Unknown tags are errors, as in the client's reviver.
    match json_in(r#"["$Date","x"]"#) {
        Err(ProtocolError::InvalidTaggedValue { tag, reason }) => {
            assert_eq!(tag, "$Date");
            assert!(reason.contains("unknown tag"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn json_maps_and_keys() {
    let value = json_in(r#"{"b":1,"a":{"$k":[true,null]}}"#).unwrap();
    // Order of the input is kept.
    assert_eq!(
        value,
        map(vec![
            ("b", int(1)),
            (
                "a",
                map(vec![("$k", arr(vec![Value::Bool(true), Value::Null]))])
            ),
        ])
    );
    let odd_keys = Value::Map(vec![
        (int(1), text("i")),
        (Value::Float(1.5), text("f")),
        (Value::Float(2.0), text("g")),
        (Value::Bool(true), text("b")),
        (Value::Null, text("n")),
        (Value::Bytes(vec![1]), text("y")),
        (arr(vec![int(1)]), text("a")),
    ]);
    assert_eq!(
        json_out(&odd_keys),
        r#"{"1":"i","1.5":"f","2":"g","true":"b","null":"n","AQ==":"y","[1]":"a"}"#
    );
    assert_eq!(json_out(&Value::Tag(1, Box::new(int(3)))), "3");
    assert_eq!(json_out(&text("a\"\n\u{e9}")), "\"a\\\"\\n\u{e9}\"");
}

#[test]
fn json_malformed() {
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "nul", "1 2", "\u{0}"] {
        assert!(
            matches!(json_in(bad), Err(ProtocolError::MalformedJson(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        json::to_value(&[0x7b, 0xff, 0x7d]),
        Err(ProtocolError::MalformedJson(_))
    ));
    // Nesting beyond serde_json's limit is an error, not a stack overflow.
    let deep = "[".repeat(100_000);
    assert!(matches!(
        json_in(&deep),
        Err(ProtocolError::MalformedJson(_))
    ));
}

// MARK: plain JSON

#[test]
fn plain_json_conversions() {
    let plain = serde_json::json!({"a": [1, -2, 1.5, "s", null, true], "b": ["$BigInt", "1"]});
    let value = json_value_to_value(plain.clone());
    assert_eq!(
        value,
        map(vec![
            (
                "a",
                arr(vec![
                    int(1),
                    int(-2),
                    Value::Float(1.5),
                    text("s"),
                    Value::Null,
                    Value::Bool(true)
                ])
            ),
            ("b", arr(vec![text("$BigInt"), text("1")])),
        ])
    );
    assert_eq!(value_to_json_value(&value), plain);
    assert_eq!(
        value_to_json_value(&arr(vec![
            Value::Bytes(vec![1, 2]),
            int(-(1i128 << 64)),
            Value::Float(f64::NAN),
            Value::Map(vec![(int(7), Value::Null)]),
            Value::Tag(9, Box::new(int(1))),
        ])),
        serde_json::json!(["AQI=", -18446744073709551616.0, null, {"7": null}, 1])
    );
}

// MARK: CBOR

#[test]
fn cbor_integers_as_cbor_x_writes_them() {
    let cases: [(i128, &str); 10] = [
        (0, "00"),
        (23, "17"),
        (4_294_967_295, "1affffffff"),
        (-1, "20"),
        (-4_294_967_296, "3affffffff"),
        // Above 32 bits and within 2^53 − 1: a float64, as cbor-x writes JS numbers.
        (1 << 40, "fb4270000000000000"),
        (-(1 << 40), "fbc270000000000000"),
        // Beyond: the 8-byte integer forms, which cbor-x reads as bigints.
        (1 << 60, "1b1000000000000000"),
        (-(1 << 60), "3b0fffffffffffffff"),
        (u64::MAX as i128, "1bffffffffffffffff"),
    ];
    for (n, wire) in cases {
        assert_eq!(hex(&cbor::from_value(&int(n))), wire, "{n}");
        assert_eq!(cbor::to_value(&unhex(wire)).unwrap(), int(n), "{wire}");
    }
    // Floats stay floats when not in cbor-x's integer range.
    assert_eq!(
        cbor::to_value(&unhex("fb3ff8000000000000")).unwrap(),
        Value::Float(1.5)
    );
    assert_eq!(cbor::to_value(&unhex("f94200")).unwrap(), Value::Float(3.0));
    assert_eq!(
        hex(&cbor::from_value(&Value::Float(1.5))),
        "fb3ff8000000000000"
    );
}

#[test]
fn cbor_javascript_shapes() {
    // Uint8Array (tag 64), Buffer (plain bytes), undefined, Set (tag 258), Map (tag 259).
    assert_eq!(
        cbor::to_value(&unhex("d840420102")).unwrap(),
        Value::Bytes(vec![1, 2])
    );
    assert_eq!(
        cbor::to_value(&unhex("420102")).unwrap(),
        Value::Bytes(vec![1, 2])
    );
    assert_eq!(cbor::to_value(&unhex("f7")).unwrap(), Value::Null);
    assert_eq!(
        cbor::to_value(&unhex("d901028101")).unwrap(),
        arr(vec![int(1)])
    );
    assert_eq!(
        cbor::to_value(&unhex("d90103a10102")).unwrap(),
        Value::Map(vec![(int(1), int(2))])
    );
    // Date: tag 1 with seconds (integer or float) → the ISO text JSON would carry.
    assert_eq!(
        cbor::to_value(&unhex("c11a00000000")).unwrap(),
        text("1970-01-01T00:00:00.000Z")
    );
    assert_eq!(
        cbor::to_value(&unhex("c1fb41d964df496b645a")).unwrap(),
        text("2024-01-02T03:04:05.678Z")
    );
    assert_eq!(
        cbor::to_value(&unhex("c13a0001517f")).unwrap(),
        text("1969-12-31T00:00:00.000Z")
    );
    // Bignums (tags 2/3) within range become integers; other tags are kept.
    assert_eq!(
        cbor::to_value(&unhex("c248ffffffffffffffff")).unwrap(),
        int(u64::MAX as i128)
    );
    assert_eq!(
        cbor::to_value(&unhex("d82063612f62")).unwrap(),
        Value::Tag(32, Box::new(text("a/b")))
    );
    // Tagged pairs are revived in CBOR too, as the client does.
    let tagged = cbor::from_value(&arr(vec![text("$BigInt"), text("5")]));
    assert_eq!(
        cbor::to_value(&tagged).unwrap(),
        arr(vec![text("$BigInt"), text("5")])
    );
    let mut literal = Vec::new();
    literal.extend(unhex("82"));
    literal.extend(cbor::from_value(&text("$BigInt")));
    literal.extend(cbor::from_value(&text("5")));
    assert_eq!(cbor::to_value(&literal).unwrap(), int(5));
}

#[test]
fn cbor_round_trips() {
    let value = map(vec![
        ("bytes", Value::Bytes(vec![0, 255])),
        ("dollar", arr(vec![text("$x"), int(1)])),
        ("big", int(-(1i128 << 64))),
        ("f", Value::Float(-0.5)),
        (
            "list",
            arr(vec![Value::Bool(false), Value::Null, text("é")]),
        ),
        ("tag", Value::Tag(32, Box::new(text("u")))),
    ]);
    let wire = cbor::from_value(&value);
    assert_eq!(cbor::to_value(&wire).unwrap(), value);
    // The genuine `["$x", 1]` array is escaped on the wire.
    let escaped = cbor::from_value(&arr(vec![text("$x"), int(1)]));
    assert_eq!(hex(&escaped), "826324247801");
    // Long strings and arrays use longer heads.
    let long = arr(vec![text(&"a".repeat(300)); 30]);
    assert_eq!(cbor::to_value(&cbor::from_value(&long)).unwrap(), long);
}

#[test]
fn cbor_malformed() {
    for (bad, what) in [
        ("", "end of input"),
        ("82", "end of input"),
        ("0001", "unexpected bytes"),
        ("ff", ""),
        ("62c328", ""),
        ("f8ff", ""),
    ] {
        match cbor::to_value(&unhex(bad)) {
            Err(ProtocolError::MalformedCbor(message)) => {
                assert!(message.contains(what), "{bad}: {message}")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let deep = vec![0x81; 100_000];
    assert!(matches!(
        cbor::to_value(&deep),
        Err(ProtocolError::MalformedCbor(_))
    ));
    // A literal unknown tag (not written by us: we escape it) is an error.
    let mut literal = unhex("82");
    literal.extend(cbor::from_value(&text("$Nope")));
    literal.push(0x01);
    assert!(matches!(
        cbor::to_value(&literal),
        Err(ProtocolError::InvalidTaggedValue { .. })
    ));
}

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

// MARK: keys

#[test]
fn query_keys() {
    assert_eq!(query_key::encode(&[]), None);
    assert_eq!(
        query_key::encode(&["a".into(), "b".into()]).as_deref(),
        Some("a,b")
    );
    assert_eq!(query_key::decode("a,b"), vec!["a", "b"]);
    assert_eq!(query_key::decode(""), vec![""]);
    assert_eq!(query_key::decode(","), vec!["", ""]);
    assert_eq!(query_key::decode_param(None), Vec::<String>::new());
    // The collision of the npm client's form.
    assert_eq!(
        query_key::encode(&["a,b".into()]),
        query_key::encode(&["a".into(), "b".into()])
    );
}

#[test]
fn path_keys() {
    let cases: [(&[&str], &str); 8] = [
        (&[], "/"),
        (&[""], "\\0"),
        (&["a"], "a"),
        (&["a", "b"], "a/b"),
        (&["", ""], "\\0/\\0"),
        (&["a/b", "c\\d"], "a\\/b/c\\\\d"),
        (&["\\0"], "\\\\0"),
        (&["a,b", "é"], "a,b/é"),
    ];
    for (key, wire) in cases {
        let key: Vec<String> = key.iter().map(|s| s.to_string()).collect();
        assert_eq!(path_key::encode(&key), wire);
        assert_eq!(path_key::decode(wire).unwrap(), key, "{wire}");
    }
    // Read as the npm client reads them.
    assert_eq!(path_key::decode("").unwrap(), Vec::<String>::new());
    assert_eq!(path_key::decode("a/").unwrap(), vec!["a", ""]);
    assert_eq!(path_key::decode("a//b").unwrap(), vec!["a", "", "b"]);
    assert_eq!(path_key::decode("\\x").unwrap(), vec!["x"]);
    for bad in ["a\\", "\\0x", "x\\0", "\\0\\0"] {
        assert!(
            matches!(path_key::decode(bad), Err(ProtocolError::InvalidKey(_))),
            "{bad}"
        );
    }
}

#[test]
fn json_keys() {
    let key = vec!["a,b".to_owned(), "".to_owned(), "é/\\".to_owned()];
    let wire = json_key::encode(&key);
    assert_eq!(wire, r#"["a,b","","é/\\"]"#);
    assert_eq!(json_key::decode(&wire).unwrap(), key);
    assert_eq!(json_key::decode("[]").unwrap(), Vec::<String>::new());
    for bad in ["", "\"a\"", "[1]", "{}", "[\"a\""] {
        assert!(
            matches!(json_key::decode(bad), Err(ProtocolError::InvalidKey(_))),
            "{bad}"
        );
    }
}

// MARK: subprotocols

#[test]
fn subprotocols_parse() {
    let parsed = parse_subprotocols(
        "rivet, rivet_encoding.cbor, rivet_target.actor, rivet_actor.abc, rivet_token.t0k, \
         rivet_skip_ready_wait, rivet_conn_params.%7B%22a%22%3A%22x%20y(1)%22%7D, other",
    )
    .unwrap();
    assert_eq!(
        parsed,
        ConnectProtocol {
            encoding: Encoding::Cbor,
            conn_params: Some(r#"{"a":"x y(1)"}"#.into()),
            token: Some("t0k".into()),
            target: Some("actor".into()),
            actor_id: Some("abc".into()),
            skip_ready_wait: true,
        }
    );
    assert_eq!(
        parse_subprotocols("rivet").unwrap().encoding,
        Encoding::Json
    );
    let errors = [
        ("rivet_encoding.json", "`rivet` subprotocol is required"),
        ("", "`rivet` subprotocol is required"),
        (
            "rivet,rivet_encoding.json,rivet_encoding.cbor",
            "more than once",
        ),
        ("rivet,rivet_conn_params.%zz", "percent-encoded"),
        ("rivet,rivet_conn_params.%C3", "percent-encoded"),
        ("rivet,rivet_conn_params.%+1", "percent-encoded"),
    ];
    for (header, expected) in errors {
        match parse_subprotocols(header) {
            Err(ProtocolError::InvalidSubprotocol(message)) => {
                assert!(message.contains(expected), "{header}: {message}")
            }
            other => panic!("{header}: {other:?}"),
        }
    }
    assert_eq!(
        parse_subprotocols("rivet,rivet_encoding.bare"),
        Err(ProtocolError::UnsupportedEncoding("bare".into()))
    );
}

#[test]
fn subprotocols_build() {
    let header = build_subprotocols(Encoding::Json, Some(r#"{"s":"(x) é,/%"}"#), Some("t0k"));
    assert_eq!(
        header,
        "rivet, rivet_encoding.json, rivet_token.t0k, \
         rivet_conn_params.%7B%22s%22%3A%22%28x%29%20%C3%A9%2C%2F%25%22%7D"
    );
    let parsed = parse_subprotocols(&header).unwrap();
    assert_eq!(parsed.conn_params.as_deref(), Some(r#"{"s":"(x) é,/%"}"#));
    assert_eq!(parsed.token.as_deref(), Some("t0k"));
    assert_eq!(
        build_subprotocols(Encoding::Cbor, None, None),
        "rivet, rivet_encoding.cbor"
    );
}

// MARK: inputs

#[test]
fn inputs_round_trip() {
    let value = map(vec![
        ("start", int(5)),
        ("big", int(1 << 60)),
        ("raw", Value::Bytes(vec![7])),
    ]);
    let query = input::encode_query_input(&value);
    assert!(!query.contains(['=', '+', '/']));
    assert_eq!(input::decode_query_input(&query).unwrap(), value);
    let actors = input::encode_actors_input(&value);
    assert_eq!(input::decode_actors_input(&actors).unwrap(), value);
    assert!(matches!(
        input::decode_query_input("***"),
        Err(ProtocolError::InvalidBase64(_))
    ));
    assert!(matches!(
        input::decode_actors_input("gQ=="),
        Err(ProtocolError::MalformedCbor(_))
    ));
}

// MARK: npm fixtures

#[derive(serde::Deserialize)]
struct NpmFixtures {
    frames: Vec<FixtureFrame>,
    keys: Vec<NpmKey>,
    subprotocols: Vec<NpmSubprotocols>,
    inputs: NpmInputs,
}

#[derive(serde::Deserialize, serde::Serialize)]
struct FixtureFrame {
    name: String,
    kind: String,
    encoding: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
}

impl FixtureFrame {
    fn new(name: &str, kind: &str, encoding: Encoding, bytes: Vec<u8>) -> Self {
        let (text, hex_data) = match encoding {
            Encoding::Json => (Some(String::from_utf8(bytes).unwrap()), None),
            Encoding::Cbor => (None, Some(hex(&bytes))),
        };
        FixtureFrame {
            name: format!("{name}_{encoding}"),
            kind: kind.to_owned(),
            encoding: encoding.name().to_owned(),
            text,
            hex: hex_data,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match (&self.text, &self.hex) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(data)) => unhex(data),
            (None, None) => panic!("{}: no data", self.name),
        }
    }

    fn encoding(&self) -> Encoding {
        Encoding::from_name(&self.encoding).unwrap()
    }
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
    serde_json::from_str(include_str!("fixtures/npm_frames.json")).expect("npm_frames.json")
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
                    Encoding::Cbor => arr(vec![int(1), text("a")]),
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
                // The JSON encoder escapes literal `$` pairs; we unescape them.
                Encoding::Json => assert_eq!(
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
