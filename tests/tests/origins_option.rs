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
