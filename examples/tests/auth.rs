//! The authentication seed's examples end to end through the generated network client:
//! `chatRoom` (onBeforeConnect + createConnState, params and bearer headers), `jwtActor`,
//! `apiActor` (external auth service), `userProfile`, `forumActor`, `rateLimitedActor`,
//! `cachedAuthActor`.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use jsonwebtoken::{EncodingKey, Header};
use rivet_actor_examples::seeds::api::{self, ApiActor};
use rivet_actor_examples::seeds::cached_auth::{self, CachedAuthActor};
use rivet_actor_examples::seeds::chat_room::{ChatRoom, ConnParams, NewMessage};
use rivet_actor_examples::seeds::forum::ForumActor;
use rivet_actor_examples::seeds::jwt::JwtActor;
use rivet_actor_examples::seeds::rate_limit::{self, RateLimitedActor};
use rivet_actor_examples::seeds::user_profile::UserProfile;
use serde_json::json;

fn chat_params(token: &str) -> ConnParams {
    ConnParams {
        auth_token: token.into(),
    }
}

#[tokio::test]
async fn chat_room_authenticates_by_params_and_broadcasts_to_members() {
    let (_registry, server, client) = start().await;
    let key = key("general");
    let room = client
        .get_or_create::<ChatRoom>([key.as_str()])
        .params(chat_params("jwt-token-here"));
    // Authentication on connect, by params.
    let conn = room.connect().await.unwrap();
    let mut news = conn.events::<NewMessage>();
    conn.get_messages().await.unwrap(); // the subscription is on the wire
    // Authentication on a stateless call, by params.
    room.send_message("Hello, world!".into()).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), news.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        event,
        NewMessage {
            user_id: "user-123".into(),
            text: "Hello, world!".into()
        }
    );
    conn.send_message("over the socket".into()).await.unwrap();
    let messages = room.get_messages().await.unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].user_id, "user-123");
    assert_eq!(messages[1].text, "over the socket");
    assert!(messages[0].timestamp > 1_600_000_000_000);
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn chat_room_refuses_bad_tokens_and_non_members() {
    let (_registry, server, client) = start().await;
    let key = key("refusals");
    let empty = client
        .get_or_create::<ChatRoom>([key.as_str()])
        .params(chat_params(""));
    assert_eq!(
        empty.send_message("x".into()).await.unwrap_err().code(),
        Some("forbidden")
    );
    assert_eq!(
        empty.connect().await.err().unwrap().code(),
        Some("forbidden")
    );
    // No params and no header: no token.
    let anonymous = client.get_or_create::<ChatRoom>([key.as_str()]);
    assert_eq!(
        anonymous.send_message("x".into()).await.unwrap_err().code(),
        Some("forbidden")
    );
    // A guest is authenticated but may not post.
    let guest = client
        .get_or_create::<ChatRoom>([key.as_str()])
        .params(chat_params("guest"));
    let err = guest.send_message("x".into()).await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.group.as_str(), err.code.as_str()),
        ("user", "insufficient_permissions")
    );
    assert_eq!(err.message, "Insufficient permissions");
    let conn = guest.connect().await.unwrap();
    assert_eq!(
        conn.send_message("x".into()).await.unwrap_err().code(),
        Some("insufficient_permissions")
    );
    assert!(guest.get_messages().await.unwrap().is_empty());
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn chat_room_reads_bearer_headers_on_stateless_calls_only() {
    let (_registry, server, client) = start().await;
    let key = key("headers");
    // `createClient({ headers: { Authorization: "Bearer my-token" } })`.
    let with_header = client.clone().header("Authorization", "Bearer my-token");
    let chat = with_header.get_or_create::<ChatRoom>([key.as_str()]);
    chat.send_message("Hello, world!".into()).await.unwrap();
    // The handle's own header.
    let chat = client
        .get_or_create::<ChatRoom>([key.as_str()])
        .header("authorization", "Bearer other-token");
    chat.send_message("again".into()).await.unwrap();
    assert_eq!(chat.get_messages().await.unwrap().len(), 2);
    // Not a bearer token.
    let basic = client
        .get_or_create::<ChatRoom>([key.as_str()])
        .header("authorization", "Basic dXNlcjpwYXNz");
    assert_eq!(
        basic.get_messages().await.unwrap_err().code(),
        Some("forbidden")
    );
    // Headers are not sent on WebSocket connections ("does not work for .connect()").
    let err = with_header
        .get_or_create::<ChatRoom>([key.as_str()])
        .connect()
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), Some("forbidden"));
    server.shutdown().await.unwrap();
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt(secret: &str, permissions: Option<&[&str]>, exp: u64) -> String {
    let mut claims = json!({ "sub": "user-42", "role": "editor", "exp": exp });
    if let Some(permissions) = permissions {
        claims["permissions"] = json!(permissions);
    }
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn jwt_actor_verifies_signature_expiry_and_algorithm() {
    let (_registry, server, client) = start().await;
    let key = key("jwt");
    let in_an_hour = now_secs() + 3600;
    let handle = |token: String| {
        client
            .get_or_create::<JwtActor>([key.as_str()])
            .params(json!({ "token": token }))
    };
    // Valid, with `write`: over HTTP and WebSocket.
    let writer = handle(jwt(JWT_SECRET, Some(&["read", "write"]), in_an_hour));
    assert!(writer.protected_action().await.unwrap().success);
    let conn = writer.connect().await.unwrap();
    assert!(conn.protected_action().await.unwrap().success);
    conn.close().await;
    // Valid without `write` (or without permissions at all): forbidden.
    for permissions in [Some(&["read"][..]), None] {
        let reader = handle(jwt(JWT_SECRET, permissions, in_an_hour));
        let err = reader.protected_action().await.unwrap_err();
        let err = err.actor_error().unwrap();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("forbidden", "Write permission required")
        );
    }
    // Expired (past the default leeway), signed with another key, `alg: none`, garbage,
    // and no `exp` at all: invalid_token, on both paths.
    let header_none = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64url(
        json!({"sub": "user-42", "role": "admin", "permissions": ["write"], "exp": in_an_hour})
            .to_string()
            .as_bytes(),
    );
    let no_exp = jsonwebtoken::encode(
        &Header::default(),
        &json!({"sub": "user-42", "role": "admin", "permissions": ["write"]}),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    for (what, token) in [
        (
            "expired",
            jwt(JWT_SECRET, Some(&["write"]), now_secs() - 3600),
        ),
        (
            "wrong key",
            jwt("another-secret", Some(&["write"]), in_an_hour),
        ),
        ("alg none", format!("{header_none}.{payload}.")),
        ("garbage", "not.a.jwt".to_owned()),
        ("no exp", no_exp),
    ] {
        let refused = handle(token);
        let err = refused.protected_action().await.unwrap_err();
        assert_eq!(err.code(), Some("invalid_token"), "{what}: {err:?}");
        let err = err.actor_error().unwrap();
        assert_eq!(err.message, "Invalid or expired token");
        let reason = err.metadata.as_ref().and_then(|m| m["reason"].as_str());
        let expected = match what {
            "expired" => "expired",
            "wrong key" => "bad_signature",
            "alg none" => "unsupported_algorithm",
            "no exp" => "missing_claim",
            _ => "malformed",
        };
        assert_eq!(reason, Some(expected), "{what}");
        let err = refused.connect().await.err().unwrap();
        assert_eq!(err.code(), Some("invalid_token"), "{what} over WebSocket");
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn api_actor_asks_the_external_auth_service() {
    let (_registry, server, client) = start().await;
    let key = key("api");
    let with_key = |api_key: &str| {
        client
            .get_or_create::<ApiActor>([key.as_str()])
            .params(json!({ "apiKey": api_key }))
    };
    assert_eq!(
        with_key("premium-key").premium_action().await.unwrap(),
        "Premium content"
    );
    let conn = with_key("premium-key").connect().await.unwrap();
    assert_eq!(conn.premium_action().await.unwrap(), "Premium content");
    conn.close().await;
    let err = with_key("free-key").premium_action().await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("forbidden", "Premium subscription required")
    );
    let err = with_key("stolen-key").premium_action().await.unwrap_err();
    assert_eq!(err.code(), Some("invalid_api_key"));
    let err = with_key("stolen-key").connect().await.err().unwrap();
    assert_eq!(err.code(), Some("invalid_api_key"));
    // The demo service itself: 401 without a known key.
    assert!(api::demo_lookup("stolen-key").is_none());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn user_profile_admits_only_its_owner_while_private() {
    let (_registry, server, client) = start().await;
    let key = key("profile");
    let owner = client
        .get_or_create::<UserProfile>([key.as_str()])
        .params(json!({ "userId": "user-123" }));
    assert_eq!(owner.get_profile().await.unwrap().owner_id, "user-123");
    let conn = owner.connect().await.unwrap();
    assert_eq!(conn.get_profile().await.unwrap().owner_id, "user-123");
    conn.close().await;
    for refused in [
        client
            .get_or_create::<UserProfile>([key.as_str()])
            .params(json!({ "userId": "user-456" })),
        client
            .get_or_create::<UserProfile>([key.as_str()])
            .params(json!({})),
        client.get_or_create::<UserProfile>([key.as_str()]),
    ] {
        let err = refused.get_profile().await.unwrap_err();
        let err = err.actor_error().unwrap();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("forbidden", "Access denied to private profile")
        );
        assert_eq!(
            refused.connect().await.err().unwrap().code(),
            Some("forbidden")
        );
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn forum_actor_checks_roles_and_permissions() {
    let (_registry, server, client) = start().await;
    let key = key("forum");
    let as_role = |token: &str| {
        client
            .get_or_create::<ForumActor>([key.as_str()])
            .params(json!({ "token": token }))
    };
    // A user may edit but not delete.
    let user = as_role("user");
    user.edit_post("post-1".into(), "new text".into())
        .await
        .unwrap();
    let err = user.delete_post("post-1".into()).await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("forbidden", "moderator role required")
    );
    // Moderators and admins may do both ("all" permissions), over HTTP and WebSocket.
    for role in ["moderator", "admin"] {
        let handle = as_role(role);
        handle.delete_post("post-1".into()).await.unwrap();
        handle.edit_post("post-1".into(), "x".into()).await.unwrap();
        let conn = handle.connect().await.unwrap();
        conn.delete_post("post-2".into()).await.unwrap();
        conn.close().await;
    }
    let conn = user.connect().await.unwrap();
    assert_eq!(
        conn.delete_post("p".into()).await.unwrap_err().code(),
        Some("forbidden")
    );
    conn.close().await;
    assert_eq!(
        as_role("root")
            .edit_post("p".into(), "x".into())
            .await
            .unwrap_err()
            .code(),
        Some("invalid_token")
    );
    server.shutdown().await.unwrap();
}

#[test]
fn forum_helpers_follow_the_hierarchy() {
    use rivet_actor_examples::seeds::forum::*;
    let user = ConnState {
        role: Role::User,
        permissions: Permissions::Only(vec!["read".into(), "edit_posts".into()]),
    };
    let admin = ConnState {
        role: Role::Admin,
        permissions: Permissions::All,
    };
    assert!(require_role(&user, Role::User).is_ok());
    assert_eq!(
        require_role(&user, Role::Admin).unwrap_err().message(),
        "admin role required"
    );
    assert!(require_role(&admin, Role::Moderator).is_ok());
    assert!(require_permission(&user, "edit_posts").is_ok());
    let err = require_permission(&user, "delete_users").unwrap_err();
    assert_eq!(
        (err.code_str(), err.message()),
        ("forbidden", "Permission 'delete_users' required")
    );
    assert!(require_permission(&admin, "delete_users").is_ok());
    let moderator_reader = ConnState {
        role: Role::Moderator,
        permissions: Permissions::Only(vec!["read".into()]),
    };
    let err = require_permission(&moderator_reader, "edit_posts").unwrap_err();
    assert_eq!(err.message(), "Permission 'edit_posts' required");
}

#[tokio::test]
async fn rate_limited_actor_allows_ten_connects_per_user_per_minute() {
    let (_registry, server, client) = start().await;
    let key = key("limited");
    let as_user = |token: &str| {
        client
            .get_or_create::<RateLimitedActor>([key.as_str()])
            .params(json!({ "authToken": token }))
    };
    let ann = as_user("ann");
    // Connections and stateless calls both count.
    let conn = ann.connect().await.unwrap();
    assert!(conn.get_data().await.unwrap().success);
    for _ in 1..rate_limit::LIMIT {
        assert!(ann.get_data().await.unwrap().success);
    }
    let err = ann.get_data().await.unwrap_err();
    let err = err.actor_error().unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("rate_limited", "Too many requests, try again later")
    );
    assert_eq!(
        ann.connect().await.err().unwrap().code(),
        Some("rate_limited")
    );
    // The connection made before the limit keeps working; other users have their own limit.
    assert!(conn.get_data().await.unwrap().success);
    assert!(as_user("bob").get_data().await.unwrap().success);
    assert_eq!(
        as_user("").get_data().await.unwrap_err().code(),
        Some("forbidden")
    );
    conn.close().await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn cached_auth_actor_validates_a_token_once() {
    let (_registry, server, client) = start().await;
    let key = key("cached");
    let token = format!("token-{key}");
    let handle = client
        .get_or_create::<CachedAuthActor>([key.as_str()])
        .params(json!({ "authToken": token }));
    assert_eq!(cached_auth::validations(&token), 0);
    assert_eq!(handle.get_data().await.unwrap().user_id, "user-123");
    assert_eq!(cached_auth::validations(&token), 1);
    // The second connect with the same token (stateless, then WebSocket) hits the cache.
    assert_eq!(handle.get_data().await.unwrap().user_id, "user-123");
    let conn = handle.connect().await.unwrap();
    assert_eq!(conn.get_data().await.unwrap().user_id, "user-123");
    assert_eq!(cached_auth::validations(&token), 1);
    conn.close().await;
    // Another token is validated on its own; an invalid one is refused (and not cached).
    let other = format!("other-{key}");
    let second = client
        .get_or_create::<CachedAuthActor>([key.as_str()])
        .params(json!({ "authToken": other }));
    second.get_data().await.unwrap();
    assert_eq!(cached_auth::validations(&other), 1);
    let empty = client
        .get_or_create::<CachedAuthActor>([key.as_str()])
        .params(json!({ "authToken": "" }));
    assert_eq!(
        empty.get_data().await.unwrap_err().code(),
        Some("invalid_token")
    );
    assert_eq!(
        empty.get_data().await.unwrap_err().code(),
        Some("invalid_token")
    );
    assert_eq!(cached_auth::validations(""), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_a_jwt_secret_the_jwt_actor_refuses_every_token() {
    // `cargo run --example seeds` without JWT_SECRET: no fallback secret to mint tokens with.
    let registry =
        rivet_actor_examples::seeds::registry(rivet_actor_examples::seeds::SeedsConfig {
            jwt_secret: String::new(),
            ..config()
        });
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = rivet_actor::Client::new(server.endpoint());
    let in_an_hour = now_secs() + 3600;
    for secret in ["secret", JWT_SECRET, ""] {
        let token = if secret.is_empty() {
            "not-a-token".to_owned()
        } else {
            jwt(secret, Some(&["read", "write"]), in_an_hour)
        };
        let handle = client
            .get_or_create::<JwtActor>([key("nosecret").as_str()])
            .params(json!({ "token": token }));
        let err = handle.protected_action().await.unwrap_err();
        assert_eq!(
            err.code(),
            Some("invalid_token"),
            "signed with {secret:?}: {err:?}"
        );
    }
    server.shutdown().await.unwrap();
}
