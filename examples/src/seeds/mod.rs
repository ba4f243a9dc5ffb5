//! The seed documents' server examples as Rust actors, served together by [`registry`].
//!
//! | wire name | seed | module |
//! |---|---|---|
//! | `myActor` | CORS: origin check in `onBeforeConnect` | [`cors`] |
//! | `corsCounter` | the same counter with a declarative origin policy | [`cors`] |
//! | `chatRoom` | authentication: `onBeforeConnect` + `createConnState` | [`chat_room`] |
//! | `jwtActor` | authentication: JWT | [`jwt`] |
//! | `apiActor` | authentication: external auth provider | [`api`] |
//! | `userProfile` | authentication: `c.state` in authorization | [`user_profile`] |
//! | `forumActor` | authentication: role-based access control | [`forum`] |
//! | `rateLimitedActor` | authentication: rate limiting | [`rate_limit`] |
//! | `cachedAuthActor` | authentication: caching tokens | [`cached_auth`] |
//! | `guardedChatRoom` | access control: `canInvoke`, fail by default | [`access_control`] |
//! | `moderationBoard` | authentication: `events.<name>.canSubscribe`, `queues.<name>.canPublish` | [`gates`] |
//! | `leakyActor` | internal errors never reach a client | [`leaky`] |
//! | `vm` | agentOS: auth hooks attached from outside | [`agent_os`] |

use std::path::PathBuf;

use rivet_actor::auth::JwtVerifier;
use rivet_actor::origin::OriginError;
use rivet_actor::{HostConfig, OriginPolicy, Registry};

pub mod access_control;
pub mod agent_os;
pub mod api;
pub mod cached_auth;
pub mod chat_room;
pub mod cors;
pub mod forum;
pub mod gates;
pub mod jwt;
pub mod leaky;
pub mod rate_limit;
pub mod user_profile;

/// The browser origins of the CORS seed.
pub const ALLOWED_ORIGINS: [&str; 3] = [
    "http://localhost:3000",
    "https://myapp.com",
    "https://www.myapp.com",
];

/// The external auth service `apiActor` asks when `AUTH_SERVICE_URL` is not set (the
/// seed's). It is HTTPS, which this example's HTTP client does not speak: set
/// `AUTH_SERVICE_URL`, or let `cargo run --example seeds` start its demo service.
pub const DEFAULT_AUTH_SERVICE_URL: &str = "https://api.my-auth-provider.com/validate";

/// Everything the seed actors are configured with.
#[derive(Clone, Debug)]
pub struct SeedsConfig {
    /// Where actors are stored: a SQLite file under this directory, or memory when `None`.
    pub data_dir: Option<PathBuf>,
    /// The URL `apiActor` POSTs API keys to (`X-API-Key` header).
    pub auth_service_url: String,
    /// The HS256 secret `jwtActor` verifies tokens with.
    pub jwt_secret: String,
    /// Timeouts and limits of the actor hosts (e.g. the connect-hook timeout).
    pub host: HostConfig,
    /// Browser origins the registry lets through beside [`ALLOWED_ORIGINS`]: where a page
    /// of your own is served from (e.g. the React page of `examples/web/` on
    /// `http://127.0.0.1:8080`). `myActor` still takes only the seed's three.
    pub web_origins: Vec<String>,
}

impl SeedsConfig {
    /// From the environment: `RIVET_ACTOR_DATA_DIR` (else in memory), `AUTH_SERVICE_URL`
    /// (else [`DEFAULT_AUTH_SERVICE_URL`]), `JWT_SECRET` (else none: `jwtActor` then refuses
    /// every token — the seed's own fallback, `"secret"`, would let anyone mint tokens),
    /// `RIVET_ACTOR_WEB_ORIGINS` (comma-separated, else none).
    pub fn from_env() -> Self {
        Self {
            data_dir: std::env::var_os("RIVET_ACTOR_DATA_DIR").map(PathBuf::from),
            auth_service_url: std::env::var("AUTH_SERVICE_URL")
                .unwrap_or_else(|_| DEFAULT_AUTH_SERVICE_URL.to_owned()),
            jwt_secret: std::env::var("JWT_SECRET").unwrap_or_default(),
            host: HostConfig::default(),
            web_origins: std::env::var("RIVET_ACTOR_WEB_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

impl Default for SeedsConfig {
    /// [`SeedsConfig::from_env`].
    fn default() -> Self {
        Self::from_env()
    }
}

/// What the actors' hooks read of the config. Hooks cannot be handed registry-level
/// dependencies (the runtime has no way to give a registry's hooks shared data), so
/// [`registry`] publishes them here, process-wide: the last registry built wins.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) auth_service_url: String,
    /// One HTTP client for the registry's hooks (cheap to clone; shares its connections).
    pub(crate) http: reqwest::Client,
    /// `None` when the secret is empty: every token is then invalid.
    pub(crate) jwt: Option<JwtVerifier>,
}

impl Settings {
    fn new(config: &SeedsConfig) -> Self {
        Self {
            auth_service_url: config.auth_service_url.clone(),
            http: reqwest::Client::new(),
            jwt: JwtVerifier::hs256(&config.jwt_secret).ok(),
        }
    }
}

/// The settings a registry's hooks read, handed to them as registry data
/// (`c.data::<Settings>()`).
pub(crate) fn settings(data: Option<&Settings>) -> Settings {
    data.cloned()
        .unwrap_or_else(|| Settings::new(&SeedsConfig::from_env()))
}

/// The registry-wide origin policy: the seed's three origins and `web_origins`, and requests
/// without an `Origin` (non-browser clients) let through at this level. `myActor` refuses
/// those itself. Fails on a `web_origins` entry that is not `scheme://host[:port]`.
pub fn origin_policy(web_origins: &[String]) -> Result<OriginPolicy, OriginError> {
    let origins = ALLOWED_ORIGINS
        .iter()
        .copied()
        .chain(web_origins.iter().map(String::as_str));
    Ok(OriginPolicy::allow(origins)?.allow_missing(true))
}

/// Every seed actor in one registry, with the agentOS guards attached to `vm`.
///
/// # Panics
///
/// On a `web_origins` entry [`origin_policy`] refuses; check them with it first to report
/// the mistake more gently.
pub fn registry(config: SeedsConfig) -> Registry {
    let builder = match &config.data_dir {
        Some(dir) => Registry::builder().data_dir(dir),
        None => Registry::builder().in_memory(),
    };
    register(builder, config).build()
}

/// The seed registry for engine mode: the actors kept in the Rivet Engine's KV, to be
/// hosted with [`Registry::serve_engine`] (`config.data_dir` is not used).
#[cfg(feature = "engine")]
pub fn engine_registry(config: SeedsConfig) -> Registry {
    register(Registry::builder().engine(), config).build()
}

/// Every seed actor, its origins and settings, on `builder`.
fn register(
    builder: rivet_actor::RegistryBuilder,
    config: SeedsConfig,
) -> rivet_actor::RegistryBuilder {
    let origins = origin_policy(&config.web_origins).unwrap_or_else(|error| panic!("{error}"));
    let builder = builder
        .data(Settings::new(&config))
        .origins(origins)
        .config(config.host)
        .register::<cors::MyActor>()
        .register::<cors::CorsCounter>()
        .register::<chat_room::ChatRoom>()
        .register::<jwt::JwtActor>()
        .register::<api::ApiActor>()
        .register::<user_profile::UserProfile>()
        .register::<forum::ForumActor>()
        .register::<rate_limit::RateLimitedActor>()
        .register::<cached_auth::CachedAuthActor>()
        .register::<access_control::GuardedChatRoom>()
        .register::<gates::ModerationBoard>()
        .register::<leaky::LeakyActor>();
    agent_os::register(builder)
}

/// Milliseconds since the Unix epoch (JavaScript's `Date.now()`).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
