//! Encoding names, JSON tagging, plain JSON and CBOR.

use super::*;

// MARK: encoding

#[test]
fn encoding_names() {
    assert_eq!(Encoding::from_name("json"), Ok(Encoding::Json));
    assert_eq!(Encoding::from_name("cbor"), Ok(Encoding::Cbor));
    assert_eq!(" CBOR ".parse::<Encoding>(), Ok(Encoding::Cbor));
    assert_eq!(Encoding::from_name("bare"), Ok(Encoding::Bare));
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

// Found by fuzzing (`json_frames`, `cbor_frames`): without serde_json's `float_roundtrip`
// these parsed one unit in the last place away from the nearest double, so a number written
// by JavaScript (or by us) read back as another number.
#[test]
fn json_numbers_parse_to_the_nearest_double() {
    for text in [
        "9999999900000000000000000000000000000000000000000000000002009283842",
        "1.612253100864882e265",
        "9.9999999e+66",
    ] {
        let nearest: f64 = text.parse().unwrap();
        assert_eq!(json_in(text).unwrap(), Value::Float(nearest), "{text}");
        assert_eq!(
            json_in(&json_out(&Value::Float(nearest))).unwrap(),
            Value::Float(nearest)
        );
    }
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

// Found by fuzzing (`cbor_frames`, out of memory): a key that is a map whose key is a map
// (and so on) was named by its JSON text quoted again at every level, doubling per level:
// 317 bytes of CBOR, sent on to a JSON client, asked for more than 2 GB.
#[test]
fn json_keys_within_keys_stay_short() {
    let inner = map(vec![("a", int(1))]);
    let one = Value::Map(vec![(Value::Map(vec![(inner.clone(), int(2))]), int(3))]);
    assert_eq!(json_out(&one), r#"{"{{\"a\":1}:2}":3}"#);
    let mut key = inner;
    for _ in 0..64 {
        key = Value::Map(vec![(key, arr(vec![text("\"\\")]))]);
    }
    let deep = Value::Map(vec![(key, Value::Null)]);
    assert!(json_out(&deep).len() < 2000, "{}", json_out(&deep).len());
    assert!(value_to_json_value(&deep).to_string().len() < 2000);
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

// Found by fuzzing (`cbor_frames`): a tag's content was matched before it was normalized,
// so `0(0("a"))` read as `0("a")`, which our encoder wrote back and read as `"a"`.
#[test]
fn cbor_nested_tags_normalize_from_the_inside_out() {
    for (wire, expected) in [
        ("c0c06161", text("a")),
        ("d840d840420102", Value::Bytes(vec![1, 2])),
        ("d90102d901028101", arr(vec![int(1)])),
        ("d820c0c06161", Value::Tag(32, Box::new(text("a")))),
    ] {
        let value = cbor::to_value(&unhex(wire)).unwrap();
        assert_eq!(value, expected, "{wire}");
        assert_eq!(cbor::to_value(&cbor::from_value(&value)).unwrap(), value);
    }
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

#[test]
fn a_message_holds_at_most_max_values_values() {
    let json_array = |n: usize| format!("[{}0]", "0,".repeat(n - 1));
    assert!(json::to_value(json_array(MAX_VALUES).as_bytes()).is_ok());
    assert_eq!(
        json::to_value(json_array(MAX_VALUES + 1).as_bytes()),
        Err(ProtocolError::TooManyValues(MAX_VALUES))
    );
    // Counted at any depth, map entries included: MAX_VALUES / 2 + 1 pairs inside an
    // array of as many items is over.
    let n = MAX_VALUES / 2 + 1;
    let mut cbor = vec![0x9a];
    cbor.extend_from_slice(&(n as u32).to_be_bytes());
    cbor.extend(std::iter::repeat_n(0x00, n - 1));
    cbor.push(0xba);
    cbor.extend_from_slice(&(n as u32).to_be_bytes());
    for key in 0..n as u32 {
        cbor.push(0x1a);
        cbor.extend_from_slice(&key.to_be_bytes());
        cbor.push(0x00);
    }
    assert_eq!(
        cbor::to_value(&cbor),
        Err(ProtocolError::TooManyValues(MAX_VALUES))
    );
}
