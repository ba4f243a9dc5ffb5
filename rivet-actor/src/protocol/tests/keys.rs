//! Keys, subprotocols and inputs.

use super::*;

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
        parse_subprotocols("rivet,rivet_encoding.bare").map(|p| p.encoding),
        Ok(Encoding::Bare)
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
