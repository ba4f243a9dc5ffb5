//! BARE frames: exact bytes of each record (as the npm client's generated v4 codec lays
//! them out), round trips, older versions, and refusals.

use super::*;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![4, 0];
    out.extend_from_slice(payload);
    out
}

#[test]
fn bare_to_server_bytes() {
    let request = ToServer::ActionRequest {
        id: 300,
        name: "increment".into(),
        args: vec![int(2)],
    };
    let mut expected = vec![0, 0xac, 0x02, 9];
    expected.extend_from_slice(b"increment");
    expected.extend_from_slice(&[2, 0x81, 0x02]);
    assert_eq!(encode_to_server(Encoding::Bare, &request), frame(&expected));
    assert_eq!(
        decode_to_server(Encoding::Bare, &frame(&expected)).unwrap(),
        request
    );
    let subscribe = ToServer::SubscriptionRequest {
        event_name: "newCount".into(),
        subscribe: true,
    };
    let mut expected = vec![1, 8];
    expected.extend_from_slice(b"newCount");
    expected.push(1);
    assert_eq!(
        encode_to_server(Encoding::Bare, &subscribe),
        frame(&expected)
    );
    assert_eq!(
        decode_to_server(Encoding::Bare, &frame(&expected)).unwrap(),
        subscribe
    );
}

#[test]
fn bare_to_client_bytes() {
    let init = ToClient::Init {
        actor_id: "a".into(),
        connection_id: "c".into(),
    };
    assert_eq!(
        encode_to_client(Encoding::Bare, &init),
        frame(&[0, 1, b'a', 1, b'c'])
    );
    let error = ToClient::Error(WireError::new("user", "x", "m").with_action_id(2));
    let mut expected = vec![1, 4];
    expected.extend_from_slice(b"user");
    expected.extend_from_slice(&[1, b'x', 1, b'm', 0, 1, 2, 0]);
    assert_eq!(encode_to_client(Encoding::Bare, &error), frame(&expected));
    let response = ToClient::ActionResponse {
        id: 1,
        output: int(5),
    };
    assert_eq!(
        encode_to_client(Encoding::Bare, &response),
        frame(&[2, 1, 1, 0x05])
    );
    let event = ToClient::Event {
        name: "e".into(),
        args: vec![text("hi")],
    };
    assert_eq!(
        encode_to_client(Encoding::Bare, &event),
        frame(&[3, 1, b'e', 4, 0x81, 0x62, b'h', b'i'])
    );
    for message in [init, error, response, event] {
        let bytes = encode_to_client(Encoding::Bare, &message);
        assert_eq!(decode_to_client(Encoding::Bare, &bytes).unwrap(), message);
    }
}

#[test]
fn bare_reads_older_versions() {
    // v1's Init carries a connection token after the ids.
    let v1_init = [1, 0, 0, 1, b'a', 1, b'c', 3, b't', b'o', b'k'];
    assert_eq!(
        decode_to_client(Encoding::Bare, &v1_init).unwrap(),
        ToClient::Init {
            actor_id: "a".into(),
            connection_id: "c".into()
        }
    );
    // v3's Error has no `actor`; v3's requests read like v4's.
    let v3_error = [3, 0, 1, 1, b'g', 1, b'c', 1, b'm', 0, 0];
    assert!(matches!(
        decode_to_client(Encoding::Bare, &v3_error).unwrap(),
        ToClient::Error(WireError { actor: None, .. })
    ));
    let v1_request = [1, 0, 1, 1, b'e', 0];
    assert!(decode_to_server(Encoding::Bare, &v1_request).is_ok());
}

#[test]
fn bare_http_bodies_round_trip() {
    let args = vec![text("a"), int(1)];
    let body = encode_action_request(Encoding::Bare, &args);
    assert_eq!(decode_action_request(Encoding::Bare, &body).unwrap(), args);
    let body = encode_action_response(Encoding::Bare, &int(7));
    assert_eq!(body, frame(&[1, 0x07]));
    assert_eq!(
        decode_action_response(Encoding::Bare, &body).unwrap(),
        int(7)
    );
    let mut error =
        WireError::new("auth", "forbidden", "no").with_metadata(map(vec![("a", int(1))]));
    error.actor = Some(ActorSpecifier {
        actor_id: "id".into(),
        generation: 3,
        key: Some("k".into()),
    });
    let body = encode_error_body(Encoding::Bare, &error);
    assert_eq!(decode_error_body(Encoding::Bare, &body).unwrap(), error);
    let send = QueueSendRequest {
        name: Some("jobs".into()),
        body: text("job"),
        wait: true,
        timeout_ms: Some(1500),
    };
    let body = encode_queue_send_request(Encoding::Bare, &send);
    assert_eq!(
        decode_queue_send_request(Encoding::Bare, &body).unwrap(),
        send
    );
    let reply = QueueSendResponse {
        status: QueueSendStatus::TimedOut,
        response: None,
    };
    let body = encode_queue_send_response(Encoding::Bare, &reply);
    let mut expected = vec![8];
    expected.extend_from_slice(b"timedOut");
    expected.push(0);
    assert_eq!(body, frame(&expected));
    assert_eq!(
        decode_queue_send_response(Encoding::Bare, &body).unwrap(),
        reply
    );
}

#[test]
fn bare_refuses_what_does_not_fit() {
    let refused = |bytes: &[u8]| decode_to_server(Encoding::Bare, bytes).unwrap_err();
    assert!(matches!(refused(&[]), ProtocolError::MalformedBare(_)));
    assert!(refused(&[0, 0, 1, 0, 0]).to_string().contains("version 0"));
    assert!(refused(&[5, 0]).to_string().contains("version 5"));
    assert!(refused(&frame(&[2])).to_string().contains("tag 2"));
    assert!(
        refused(&frame(&[
            0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01
        ]))
        .to_string()
        .contains("longer than 10 bytes")
    );
    assert!(
        refused(&frame(&[
            0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02
        ]))
        .to_string()
        .contains("64 bits")
    );
    assert!(
        refused(&frame(&[1, 9, b'a']))
            .to_string()
            .contains("past the end")
    );
    assert!(
        refused(&frame(&[1, 1, 0xff, 0]))
            .to_string()
            .contains("UTF-8")
    );
    assert!(
        refused(&frame(&[1, 1, b'a', 2]))
            .to_string()
            .contains("not a bool")
    );
    assert!(
        refused(&frame(&[1, 1, b'a', 1, 0]))
            .to_string()
            .contains("unexpected bytes")
    );
    // The largest uint reads; ids are u64.
    let mut max = vec![0];
    max.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    max.extend_from_slice(&[1, b'a', 1, 0x80]);
    assert!(matches!(
        decode_to_server(Encoding::Bare, &frame(&max)).unwrap(),
        ToServer::ActionRequest { id: u64::MAX, .. }
    ));
    // Queue sends exist from v3 on.
    let v2_send = [2, 0, 1, 0x01, 0, 0, 0];
    assert!(decode_queue_send_request(Encoding::Bare, &v2_send).is_err());
}
