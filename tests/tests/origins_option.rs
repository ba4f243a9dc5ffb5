//! `#[actor(origins = [..], allow_no_origin = ..)]`: the declarative per-actor policy,
//! enforced by the server before any hook.

use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Open {
    n: u32,
}

#[actor(origins = ["https://app.example.com", "https://*.example.org"], allow_no_origin = true)]
impl Open {
    #[action]
    fn bump(&mut self) -> u32 {
        self.n += 1;
        self.n
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct Strict {
    n: u32,
}

#[actor(origins = ["https://app.example.com"])]
impl Strict {
    #[action]
    fn bump(&mut self) -> u32 {
        self.n += 1;
        self.n
    }
}

async fn status(endpoint: &str, actor: &str, origin: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new()
        .post(format!("{endpoint}/gateway/{actor}/action/bump?rvt-method=getOrCreate&rvt-key=k&rvt-runner=default"))
        .header("content-type", "application/json")
        .body(r#"{"args":[]}"#);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn per_actor_origins_and_the_no_origin_choice() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Open>()
        .register::<Strict>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let endpoint = server.endpoint();
    assert_eq!(
        status(&endpoint, "open", Some("https://app.example.com")).await,
        200
    );
    assert_eq!(
        status(&endpoint, "open", Some("https://a.example.org")).await,
        200
    );
    assert_eq!(
        status(&endpoint, "open", Some("https://example.org")).await,
        403
    );
    assert_eq!(
        status(&endpoint, "open", Some("https://evilexample.org")).await,
        403
    );
    assert_eq!(
        status(&endpoint, "open", None).await,
        200,
        "allow_no_origin = true"
    );
    assert_eq!(
        status(&endpoint, "strict", Some("https://app.example.com")).await,
        200
    );
    assert_eq!(
        status(&endpoint, "strict", None).await,
        403,
        "no Origin is refused by default"
    );
    assert_eq!(
        status(&endpoint, "strict", Some("https://a.example.org")).await,
        403
    );
}

/// The CORS layer reads the query as the gateway does: an escaped `rvt%2Dmethod` names the
/// actor type for both, so a preflight is judged by the policy the request will meet. Every
/// answer, with an `Origin` or without, varies by `Origin`.
#[tokio::test]
async fn cors_judges_by_the_policy_the_gateway_enforces_and_always_varies_by_origin() {
    let registry = Registry::builder().in_memory().register::<Strict>().build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!(
        "{}/gateway/strict/action/bump?rvt%2Dmethod=getOrCreate&rvt-key=k",
        server.endpoint()
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    // The registry allows any origin; `strict` allows one. The gateway applies `strict`'s.
    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 403);
    let post = http
        .post(&url)
        .header("content-type", "application/json")
        .header("origin", "https://evil.example")
        .body(r#"{"args":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    assert!(post.headers().get("access-control-allow-origin").is_none());
    // Without an `Origin` (refused by this policy): the answer still varies by it.
    let plain = http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"args":[]}"#)
        .send()
        .await
        .unwrap();
    let vary: Vec<_> = plain.headers().get_all("vary").iter().collect();
    assert!(
        vary.iter().any(|v| v.to_str().unwrap().contains("Origin")),
        "{vary:?}"
    );
    server.shutdown().await.unwrap();
}
