//! Requests the engine tunnels to this host, served by the same router as our own server.
//!
//! The engine's gateway strips `/gateway/{actor}` and every `rvt-*` query parameter; the
//! request is put back under `/gateway/{actor_id}` so the router's handlers (origin policy,
//! guards, hooks, every encoding, queues, raw handlers) serve it exactly as they serve a
//! request by id to our own server.

use std::collections::HashMap;

use axum::body::Body;
use futures_util::StreamExt;
use http::{HeaderName, HeaderValue};
use rivet_envoy_client::config::{HttpRequest, HttpResponse};
use tower::ServiceExt;

use crate::engine::call_mac::CallSecret;
use crate::protocol::names::{SEGMENT_ACTION, SEGMENT_GATEWAY, SEGMENT_QUEUE};
use crate::runtime::call_ids::CallKind;
use crate::runtime::peer::CALL_ID_HEADER;
use crate::server::request::ReplayId;

/// The engine's id of a tunnelled request, the same when it delivers the request again.
const HEADER_RAY_ID: &str = "x-rivet-ray-id";

/// `/gateway/{actor_id}{path}`: the path as our router knows it (`path` keeps its query).
pub(crate) fn gateway_uri(actor_id: &str, path: &str) -> String {
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    format!("/{SEGMENT_GATEWAY}/{actor_id}{path}")
}

/// The engine's header map as `http` headers (names it cannot carry are dropped). `insert`,
/// not `append`: the engine adds capitalised copies of some headers.
pub(crate) fn headers(from: &HashMap<String, String>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}

/// Serves one tunnelled request through `router`.
pub(crate) async fn serve(
    router: axum::Router,
    actor_id: &str,
    request: HttpRequest,
    call_secret: Option<&CallSecret>,
) -> anyhow::Result<HttpResponse> {
    let method = http::Method::from_bytes(request.method.as_bytes())?;
    let body = match (request.body, request.body_stream) {
        // Flow-controlled by the engine; our handlers bound what they read. One `recv`
        // future is kept until it yields (dropping it could lose its wake-up).
        (_, Some(stream)) => Body::from_stream(futures_util::stream::unfold(
            stream,
            |mut stream| async move {
                match stream.recv().await {
                    Ok(Some(bytes)) => Some((Ok(bytes), stream)),
                    Ok(None) => None,
                    Err(err) => Some((Err(std::io::Error::other(err.to_string())), stream)),
                }
            },
        )),
        (Some(bytes), None) => Body::from(bytes),
        (None, None) => Body::empty(),
    };
    let mut forwarded = http::Request::builder()
        .method(method)
        .uri(gateway_uri(actor_id, &request.path))
        .body(body)?;
    *forwarded.headers_mut() = headers(&request.headers);
    // The engine delivers a request again (same ray id) to the actor's next host when the
    // last one died before answering: the id lets the actor answer from its record.
    // The gateway forwards a ray id a client sent itself: only one of the shape the engine
    // makes is taken (an odd one would make a record key the engine refuses, failing the
    // turns written with it). A call from another actor's turn carries a signed id of its
    // own (`call_mac.rs`), the same when that turn runs again, recorded in its place.
    let replay_id = {
        let header = |name: &str| forwarded.headers().get(name)?.to_str().ok();
        let call_id = header(CALL_ID_HEADER)
            .zip(call_secret)
            .and_then(|(id, secret)| {
                let (kind, name) = called(&request.path)?;
                secret.verify(id, kind, &name)
            });
        let ray_id = header(HEADER_RAY_ID)
            .filter(|ray| is_ray_id(ray))
            .map(std::sync::Arc::from);
        call_id.or(ray_id)
    };
    if let Some(id) = replay_id {
        forwarded.extensions_mut().insert(ReplayId(id));
    }
    // The actor's hooks have no use for a call's id (and should not pass it around).
    forwarded.headers_mut().remove(CALL_ID_HEADER);
    let response = router.oneshot(forwarded).await?;
    tunnelled(response).await
}

/// What a request's path calls: `/action/<name>` or `/queue/<name>` (query aside, the
/// name percent-decoded as the router reads it).
fn called(path: &str) -> Option<(CallKind, String)> {
    let path = path.split('?').next()?.trim_start_matches('/');
    let (segment, name) = path.split_once('/')?;
    let kind = match segment {
        SEGMENT_ACTION => CallKind::Action,
        SEGMENT_QUEUE => CallKind::Queue,
        _ => return None,
    };
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .ok()?;
    (!name.is_empty() && !name.contains('/')).then(|| (kind, name.into_owned()))
}

/// Whether `ray` has the shape of a ray id: 1 to 128 ASCII letters, digits, `-` or `_`.
fn is_ray_id(ray: &str) -> bool {
    crate::runtime::call_ids::is_ray_shaped(ray, 128)
}

/// An error answer made here, before the router (in JSON, as the npm client reads it).
pub(crate) async fn refused(err: &crate::error::ActorError) -> HttpResponse {
    let response = crate::server::respond::error_response(crate::protocol::Encoding::Json, err);
    // Made in memory: reading it cannot fail.
    tunnelled(response).await.unwrap_or_else(|_| HttpResponse {
        status: err.http_status(),
        headers: HashMap::new(),
        body: None,
        body_stream: None,
    })
}

/// Our answer as the envoy sends it back through the tunnel.
async fn tunnelled(response: axum::response::Response) -> anyhow::Result<HttpResponse> {
    let (parts, body) = response.into_parts();
    // Our answers are made in memory (protocol replies, raw handlers' responses), so the
    // body is whole already: it goes inline.
    let mut bytes = Vec::new();
    let mut frames = body.into_data_stream();
    while let Some(chunk) = frames.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    let mut out: HashMap<String, String> = HashMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::SET_COOKIE && out.contains_key(name.as_str()) {
            // Cookies cannot be joined (a date in one has a comma): the last one crosses.
            tracing::warn!(
                "the engine's tunnel carries one Set-Cookie per response; the others are dropped"
            );
            out.insert(name.as_str().to_owned(), value);
            continue;
        }
        // One value per name crosses the tunnel: repeated headers are joined as HTTP allows.
        out.entry(name.as_str().to_owned())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    Ok(HttpResponse {
        status: parts.status.as_u16(),
        headers: out,
        body: Some(bytes),
        body_stream: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_back_under_the_gateway() {
        assert_eq!(
            gateway_uri("abc", "/action/x?y=1"),
            "/gateway/abc/action/x?y=1"
        );
        assert_eq!(gateway_uri("abc", "connect"), "/gateway/abc/connect");
    }

    #[tokio::test]
    async fn repeated_headers_are_joined_but_cookies_are_not() {
        let response = http::Response::builder()
            .header("vary", "origin")
            .header("vary", "accept")
            .header("set-cookie", "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT")
            .header("set-cookie", "b=2")
            .body(axum::body::Body::from("ok"))
            .unwrap();
        let tunnelled = tunnelled(response).await.unwrap();
        assert_eq!(tunnelled.headers["vary"], "origin, accept");
        assert_eq!(tunnelled.headers["set-cookie"], "b=2");
        assert_eq!(tunnelled.body.as_deref(), Some(&b"ok"[..]));
    }

    #[derive(Default, serde::Serialize, serde::Deserialize)]
    pub struct Jar {
        coins: i64,
    }

    #[crate::actor]
    impl Jar {
        #[action]
        fn add(&mut self, by: i64) -> i64 {
            self.coins += by;
            self.coins
        }
    }

    #[tokio::test]
    async fn a_signed_call_id_is_recorded_in_place_of_the_ray_id() {
        use crate as rivet_actor;
        use crate::runtime::call_ids::CallIds;
        let registry = rivet_actor::Registry::builder()
            .in_memory()
            .register::<Jar>()
            .build();
        let jar = registry.get_or_create::<Jar>("j").await.unwrap();
        let router = crate::server::router::router(registry.clone());
        let secret = CallSecret::new(Some("t0k")).unwrap();
        let add = |ray: &str, call: Option<String>, secret: Option<&'static CallSecret>| {
            let mut headers = HashMap::from([
                ("x-rivet-encoding".to_owned(), "json".to_owned()),
                ("X-Rivet-Ray-Id".to_owned(), ray.to_owned()),
            ]);
            if let Some(call) = call {
                headers.insert("x-actor-call-id".to_owned(), call);
            }
            let request = HttpRequest {
                method: "POST".into(),
                path: "/action/add".into(),
                headers,
                body: Some(br#"{"args":[2]}"#.to_vec()),
                body_stream: None,
            };
            let (router, id) = (router.clone(), jar.id().as_str().to_owned());
            async move {
                let answer = serve(router, &id, request, secret).await.unwrap();
                String::from_utf8(answer.body.unwrap()).unwrap()
            }
        };
        let secret: &'static CallSecret = Box::leak(Box::new(secret));
        let id = CallIds::new("ray-0", "caller", "forward")
            .take("target", CallKind::Action, "add", None)
            .id;
        let signed = secret.sign(&id, CallKind::Action, "add");
        // A call made again by a turn run again: a fresh ray id, the same call id.
        let once = Some(signed.clone());
        assert_eq!(
            add("ray-a", once.clone(), Some(secret)).await,
            r#"{"output":2}"#
        );
        assert_eq!(add("ray-b", once, Some(secret)).await, r#"{"output":2}"#);
        // Signed for another action, unsigned, or on a host without the secret: not taken
        // (the ray id is, as for any request).
        let refund = Some(secret.sign(&id, CallKind::Action, "refund"));
        assert_eq!(add("ray-c", refund, Some(secret)).await, r#"{"output":4}"#);
        assert_eq!(
            add("ray-d", Some(id.unsigned()), Some(secret)).await,
            r#"{"output":6}"#
        );
        assert_eq!(add("ray-e", Some(signed), None).await, r#"{"output":8}"#);
        // The engine's own replay of a request (its header capitalised as it may be).
        assert_eq!(add("ray-e", None, Some(secret)).await, r#"{"output":8}"#);
    }

    #[test]
    fn the_called_action_or_queue_is_read_from_the_path() {
        assert_eq!(
            called("/action/add"),
            Some((CallKind::Action, "add".into()))
        );
        assert_eq!(
            called("queue/coins?x=1"),
            Some((CallKind::Queue, "coins".into()))
        );
        assert_eq!(
            called("/action/add%20item"),
            Some((CallKind::Action, "add item".into()))
        );
        assert_eq!(called("/action/a%2Fb"), None);
        assert_eq!(called("/action/"), None);
        assert_eq!(called("/request/add"), None);
        assert_eq!(called("/action/a/b"), None);
    }

    #[test]
    fn only_ray_ids_of_the_engine_s_shape_are_taken() {
        assert!(is_ray_id("0e7d1c2a-9b4f-4c55-8a1e-3f2b6d9c0a11"));
        assert!(is_ray_id("ray_1"));
        assert!(!is_ray_id(""));
        assert!(!is_ray_id(&"a".repeat(129)));
        assert!(!is_ray_id("a/b"));
        assert!(!is_ray_id("ä"));
    }

    #[test]
    fn headers_are_lowercased_and_deduplicated() {
        let from = HashMap::from([
            ("Upgrade".to_owned(), "websocket".to_owned()),
            ("x-rivet-encoding".to_owned(), "cbor".to_owned()),
            ("bad header".to_owned(), "x".to_owned()),
        ]);
        let headers = headers(&from);
        assert_eq!(headers.len(), 2);
        assert_eq!(headers["upgrade"], "websocket");
        assert_eq!(headers["x-rivet-encoding"], "cbor");
    }
}
