//! Real inputs to start each target's corpus from: what our encoders write, plus a few
//! forms only other writers produce (the npm client's tagged pairs, old BARE versions).
//! The fuzzer mutates from these, so every decoder starts past its first checks.

use crate::protocol::{
    self, ActorSpecifier, Encoding, QueueSendRequest, QueueSendResponse, QueueSendStatus, ToClient,
    ToServer, Value, WireError, input, json_key, path_key,
};

/// The seed inputs of the target `name` (none for a name that is not a target).
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    match name {
        "bare_frames" => frames(Encoding::Bare, bare_extra()),
        "json_frames" => frames(Encoding::Json, json_extra()),
        "cbor_frames" => frames(Encoding::Cbor, cbor_extra()),
        "keys" => texts(keys()),
        "subprotocols" => texts(subprotocols()),
        "origins" => texts(origins()),
        "cors_path" => texts(cors_paths()),
        #[cfg(feature = "jwt")]
        "jwt_header" => texts(jwt_tokens()),
        _ => Vec::new(),
    }
}

fn texts(texts: Vec<String>) -> Vec<Vec<u8>> {
    texts.into_iter().map(String::into_bytes).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// One of each kind of value, including those the value codecs tag.
fn values() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Bool(true),
        Value::Integer(42.into()),
        Value::Integer((-7).into()),
        Value::Integer((1_i64 << 40).into()),
        Value::Integer(u64::MAX.into()),
        Value::Float(1.5),
        Value::Float(-0.0),
        text("héllo"),
        Value::Bytes(vec![0, 1, 2, 255]),
        // A genuine `["$x", v]` array: written escaped as `["$$x", v]`.
        Value::Array(vec![text("$BigInt"), text("1")]),
        Value::Map(vec![
            (
                text("k"),
                Value::Array(vec![Value::Integer(1.into()), Value::Null]),
            ),
            (
                text("nested"),
                Value::Map(vec![(text("b"), Value::Bool(false))]),
            ),
        ]),
    ]
}

fn error() -> WireError {
    let mut error = WireError::new("user", "empty", "empty message")
        .with_metadata(Value::Map(vec![(text("field"), text("text"))]))
        .with_action_id(3);
    error.actor = Some(ActorSpecifier {
        actor_id: "abc123".to_owned(),
        generation: 2,
        key: Some("room\\/1/\\0".to_owned()),
    });
    error
}

/// Every message and body our encoders write in `encoding`, then `extra`.
fn frames(encoding: Encoding, extra: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let to_server = [
        ToServer::ActionRequest {
            id: 0,
            name: "sendMessage".to_owned(),
            args: values(),
        },
        ToServer::ActionRequest {
            id: u64::MAX,
            name: String::new(),
            args: Vec::new(),
        },
        ToServer::SubscriptionRequest {
            event_name: "newMessage".to_owned(),
            subscribe: true,
        },
    ];
    let to_client = [
        ToClient::Init {
            actor_id: "abc123".to_owned(),
            connection_id: "conn-1".to_owned(),
        },
        ToClient::Error(error()),
        ToClient::Error(WireError::new("actor", "not_found", "no such actor")),
        ToClient::ActionResponse {
            id: 7,
            output: Value::Array(values()),
        },
        ToClient::Event {
            name: "newMessage".to_owned(),
            args: vec![text("hi"), Value::Integer(1.into())],
        },
    ];
    let sends = [
        QueueSendRequest {
            name: Some("jobs".to_owned()),
            body: Value::Map(vec![(text("task"), text("resize"))]),
            wait: true,
            timeout_ms: Some(1000),
        },
        QueueSendRequest {
            name: None,
            body: Value::Null,
            wait: false,
            timeout_ms: None,
        },
    ];
    let replies = [
        QueueSendResponse {
            status: QueueSendStatus::Completed,
            response: Some(Value::Integer(5.into())),
        },
        QueueSendResponse {
            status: QueueSendStatus::TimedOut,
            response: None,
        },
    ];
    let mut out = Vec::new();
    out.extend(
        to_server
            .iter()
            .map(|m| protocol::encode_to_server(encoding, m)),
    );
    out.extend(
        to_client
            .iter()
            .map(|m| protocol::encode_to_client(encoding, m)),
    );
    out.push(protocol::encode_action_request(encoding, &values()));
    out.push(protocol::encode_action_response(
        encoding,
        &Value::Array(values()),
    ));
    out.push(protocol::encode_error_body(encoding, &error()));
    out.extend(
        sends
            .iter()
            .map(|s| protocol::encode_queue_send_request(encoding, s)),
    );
    out.extend(
        replies
            .iter()
            .map(|r| protocol::encode_queue_send_response(encoding, r)),
    );
    out.extend(extra);
    out
}

/// A BARE `str` or `data`: its length as ULEB128 (one byte here), then the bytes.
fn bare_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(u8::try_from(bytes.len()).expect("short"));
    out.extend_from_slice(bytes);
}

/// Frames of older versions: a v1 `Init` with its connection token, a v3 `Error` (no
/// `actor` field).
fn bare_extra() -> Vec<Vec<u8>> {
    let mut init = vec![1, 0, 0];
    for part in ["abc123", "conn-1", "token"] {
        bare_str(&mut init, part.as_bytes());
    }
    let mut error = vec![3, 0, 1];
    for part in ["user", "empty", "empty message"] {
        bare_str(&mut error, part.as_bytes());
    }
    error.extend_from_slice(&[0, 1, 9]);
    vec![init, error]
}

/// What the npm client writes and we never do: tagged pairs of every kind, a number id.
fn json_extra() -> Vec<Vec<u8>> {
    [
        r#"{"body":{"tag":"ActionRequest","val":{"id":["$BigInt","0"],"name":"x","args":[["$Set",[1,2]],["$Undefined",0],["$$x",1],["$ArrayBuffer","AAE="],["$Uint8Array","-_8"],["$BigInt","-18446744073709551616"]]}}}"#,
        r#"{"body":{"tag":"SubscriptionRequest","val":{"eventName":"e","subscribe":false}}}"#,
        r#"{"body":{"tag":"Error","val":{"group":"g","code":"c","message":"m","actionId":null,"actor":{"actorId":"a","generation":1.0}}}}"#,
        r#"{"body":1.5e300,"wait":null,"timeout":12.7,"name":null}"#,
        r#"{"status":"timedOut","response":{"1":[true,null,-0.0]}}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// What cbor-x writes and we never do: its tags for bytes, sets, maps and dates, a large
/// integer as a float, `undefined`.
fn cbor_extra() -> Vec<Vec<u8>> {
    let args = Value::Array(vec![
        Value::Tag(64, Box::new(Value::Bytes(vec![1, 2]))),
        Value::Tag(258, Box::new(Value::Array(vec![Value::Integer(1.into())]))),
        Value::Tag(259, Box::new(Value::Map(vec![(text("k"), text("v"))]))),
        Value::Tag(1, Box::new(Value::Integer(1_700_000_000.into()))),
        Value::Tag(0, Box::new(text("2023-11-14T22:13:20.000Z"))),
        Value::Float(4_294_967_296.0),
    ]);
    let message = Value::Map(vec![(
        text("body"),
        Value::Map(vec![
            (text("tag"), text("ActionRequest")),
            (
                text("val"),
                Value::Map(vec![
                    (text("id"), Value::Integer(1.into())),
                    (text("name"), text("x")),
                    (text("args"), args),
                ]),
            ),
        ]),
    )]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&message, &mut bytes).expect("writing to a Vec");
    // `undefined` (0xf7) as a whole body.
    vec![bytes, vec![0xf7]]
}

fn keys() -> Vec<String> {
    let key = ["room/1".to_owned(), String::new(), "a,b\\c".to_owned()];
    vec![
        "a,b".to_owned(),
        String::new(),
        "/".to_owned(),
        path_key::encode(&key),
        json_key::encode(&key),
        input::encode_query_input(&Value::Array(values())),
        input::encode_actors_input(&Value::Map(vec![(text("count"), Value::Integer(1.into()))])),
    ]
}

fn subprotocols() -> Vec<String> {
    let mut out: Vec<String> = [Encoding::Json, Encoding::Cbor, Encoding::Bare]
        .into_iter()
        .map(|encoding| {
            protocol::build_subprotocols(encoding, Some(r#"{"token":"x y","n":[1]}"#), Some("t0k"))
        })
        .collect();
    out.push(
        "rivet, rivet_encoding.bare, rivet_target.actor, rivet_actor.abc123, rivet_token.tok, \
         rivet_skip_ready_wait, rivet_conn_params.%7B%22a%22%3A1%7D"
            .to_owned(),
    );
    out
}

fn origins() -> Vec<String> {
    [
        "https://myapp.com\nhttps://*.myapp.com\nhttps://app.myapp.com",
        "http://localhost:3000\nhttp://LOCALHOST:3000",
        "http://[::1]:8080\nhttps://*.a.b.example\nhttp://[::1]:8080",
        "https://*.myapp.com\nhttps://evilmyapp.com",
        "wss://x.example:443\nwss://x.example",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn cors_paths() -> Vec<String> {
    [
        "/gateway/chatRoom/action/send?rvt-method=getOrCreate&rvt-key=a,b",
        "/gateway/abc123@ns/request/api/items?x=1\nhttps://a.example.org",
        "/gateway/chat%20room/connect?rvt-method=get\nhttps://evil.example",
        "/gateway/abc/request\nhttps://app.example.com",
        "/gateway/abc/queue/jobs\nnull",
        "/actors?name=chatRoom\nhttps://APP.example.com:443",
        "/metadata",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

#[cfg(feature = "jwt")]
fn jwt_tokens() -> Vec<String> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

    let claims = serde_json::json!({"sub": "ann", "exp": 4_102_444_800_u64, "role": "admin"});
    let key = EncodingKey::from_secret(super::web::JWT_SECRET.as_bytes());
    let signed = |header: &Header| encode(header, &claims, &key).expect("HMAC signing");
    let mut with_kid = Header::new(Algorithm::HS256);
    with_kid.kid = Some("key-1".to_owned());
    vec![
        signed(&Header::new(Algorithm::HS256)),
        signed(&with_kid),
        signed(&Header::new(Algorithm::HS512)),
        // `{"alg":"none"}`, unsigned.
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.".to_owned(),
        // `{"alg":"RS256","kid":"k"}` with a made-up signature.
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln".to_owned(),
    ]
}
