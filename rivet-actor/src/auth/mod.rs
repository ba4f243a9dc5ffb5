//! Authentication building blocks for `#[before_connect]` / `#[conn_state]` hooks and actions.
//!
//! Every helper fails with a [`UserError`](crate::UserError) carrying the code a RivetKit
//! client matches on:
//!
//! | helper | code |
//! |---|---|
//! | `JwtVerifier::verify` (feature `jwt`) | `invalid_token` (`auth_unavailable` if the keys cannot be fetched) |
//! | [`require_role`], [`require_min_role`], [`require_permission`] | `forbidden` |
//! | [`RateLimiter::check`] | `rate_limited` |
//!
//! [`TokenCache`] keeps validated tokens for a while so repeated connections skip the
//! expensive check.
//!
//! With the `jwt` feature: `JwtVerifier` checks HS256 / RS256 tokens (static keys or a
//! `JwksCache` that follows key rotation).
//!
//! RivetKit's forum example, rate-limited and with a token cache, in one actor:
//!
//! ```
//! use rivet_actor::auth::{
//!     RateLimiter, RoleHierarchy, TokenCache, require_permission, require_role,
//! };
//! use rivet_actor::prelude::*;
//! use std::sync::LazyLock;
//! use std::time::{Duration, Instant};
//!
//! static ROLES: LazyLock<RoleHierarchy> =
//!     LazyLock::new(|| RoleHierarchy::new([("user", 1), ("moderator", 2), ("admin", 3)]));
//!
//! #[derive(Default, Serialize, Deserialize)]
//! pub struct Forum { posts: Vec<String> }
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct ConnParams { token: String }
//!
//! #[derive(Clone)]
//! pub struct User { id: String, role: String, permissions: Vec<String> }
//!
//! pub struct Vars { limiter: RateLimiter, tokens: TokenCache<User> }
//!
//! /// Stands in for the expensive check (a JWT, an auth service).
//! fn validate(token: &str) -> Option<User> {
//!     let (id, role, perms) = match token {
//!         "ann-token" => ("ann", "user", vec!["read", "write"]),
//!         "mod-token" => ("mo", "moderator", vec!["read"]),
//!         _ => return None,
//!     };
//!     let permissions = perms.into_iter().map(String::from).collect();
//!     Some(User { id: id.into(), role: role.into(), permissions })
//! }
//!
//! #[actor]
//! impl Forum {
//!     #[create_vars]
//!     fn vars(&self, _c: &CreateCtx<'_>) -> Vars {
//!         Vars { limiter: RateLimiter::new(3, Duration::from_secs(60)), tokens: TokenCache::new() }
//!     }
//!
//!     #[conn_state]
//!     fn auth(&self, c: &mut ConnectCtx<'_, Self>, params: &ConnParams) -> Result<User, UserError> {
//!         let vars = c.vars_mut();
//!         let user = match vars.tokens.get(&params.token) {
//!             Some(user) => user.clone(),
//!             None => {
//!                 let user = validate(&params.token)
//!                     .ok_or_else(|| UserError::new("Invalid token").code("invalid_token"))?;
//!                 vars.tokens.insert(params.token.clone(), user.clone(), Duration::from_secs(300));
//!                 user
//!             }
//!         };
//!         vars.limiter.check(&user.id, Instant::now())?;
//!         Ok(user)
//!     }
//!
//!     #[action]
//!     fn add_post(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<usize, UserError> {
//!         require_permission(&c.conn().state().permissions, "write")?;
//!         self.posts.push(text);
//!         Ok(self.posts.len())
//!     }
//!
//!     #[action]
//!     fn delete_post(&mut self, c: &mut ActionCtx<'_, Self>, index: usize) -> Result<(), UserError> {
//!         require_role(&ROLES, &c.conn().state().role, "moderator")?;
//!         self.posts.remove(index);
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let test = &ActorTest::<Forum>::new();
//! let forum = |token: &str| {
//!     let params = ConnParams { token: token.into() };
//!     async move { test.get_or_create("general").await.unwrap().params(params) }
//! };
//!
//! let ann = forum("ann-token").await;
//! assert_eq!(ann.add_post("hello".into()).await.unwrap(), 1);
//! let err = ann.delete_post(0).await.unwrap_err();
//! assert_eq!(err.code(), Some("forbidden"));
//! assert_eq!(err.actor_error().unwrap().message, "moderator role required");
//!
//! let moderator = forum("mod-token").await;
//! let err = moderator.add_post("spam".into()).await.unwrap_err();
//! assert_eq!(err.actor_error().unwrap().message, "Permission 'write' required");
//! moderator.delete_post(0).await.unwrap();
//!
//! assert_eq!(forum("forged").await.add_post("x".into()).await.unwrap_err().code(), Some("invalid_token"));
//!
//! // Ann's third call this minute is her last.
//! ann.add_post("again".into()).await.unwrap();
//! assert_eq!(ann.add_post("and again".into()).await.unwrap_err().code(), Some("rate_limited"));
//! # });
//! ```

#[cfg(feature = "jwt")]
mod error;
#[cfg(feature = "jwt")]
mod jwks;
#[cfg(feature = "jwt")]
mod jwt;
#[cfg(feature = "jwt")]
mod pem;
mod rate_limit;
mod roles;
#[cfg(all(test, feature = "jwt"))]
mod test_keys;
mod token_cache;

#[cfg(feature = "jwt")]
pub use error::{AuthError, KeyError};
#[cfg(feature = "jwt")]
pub use jwks::JwksCache;
#[cfg(feature = "jwt")]
pub use jwt::JwtVerifier;
pub use rate_limit::RateLimiter;
pub use roles::{RoleHierarchy, require_min_role, require_permission, require_role};
pub use token_cache::TokenCache;
