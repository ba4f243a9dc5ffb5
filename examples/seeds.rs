//! Every actor of the seed documents (CORS, authentication, access control, agentOS
//! authentication) on one server. Run: `cargo run --example seeds`.
//!
//! Address from `RIVET_ACTOR_ADDR` (default 127.0.0.1:6420); data under
//! `RIVET_ACTOR_DATA_DIR` (default: a temporary directory), or in memory with
//! `RIVET_ACTOR_STORAGE=memory` (nothing kept: to measure what durability costs); `JWT_SECRET` (unset: `jwtActor`
//! refuses every token, rather than fall back to a known secret); `AUTH_SERVICE_URL`
//! (default: a demo auth service started here, which knows the API keys `premium-key` and
//! `free-key`); `RIVET_ACTOR_WEB_ORIGINS`, comma-separated browser origins allowed beside
//! the seed's three (e.g. where `examples/web/dist/` is served:
//! `RIVET_ACTOR_WEB_ORIGINS=http://127.0.0.1:8080`).
//!
//! Engine mode (`--features engine`): with `RIVET_ENGINE_ENDPOINT` set (and optionally
//! `RIVET_ENGINE_NAMESPACE`, `RIVET_ENGINE_POOL`, `RIVET_ENGINE_TOKEN`) the actors are
//! hosted on that Rivet Engine instead of a port of our own; clients use the engine's
//! endpoint. Without the variable nothing changes.
//!
//! `cargo run --example seeds -- --emit-ts actors.ts` writes the actors' TypeScript types
//! instead (`createClient<Registry>("http://127.0.0.1:6420")` in TypeScript).
//!
//! ```ts
//! const client = createClient({ endpoint: "http://127.0.0.1:6420", encoding: "json" });
//! const chat = client.chatRoom.getOrCreate(["general"], { params: { authToken: "jwt-token-here" } });
//! await chat.sendMessage("Hello, world!");
//! ```

use rivet_actor_examples::seeds::{self, SeedsConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--emit-ts FILE`: write the TypeScript types of these actors (for
    // `createClient<Registry>(endpoint)`) and exit.
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--emit-ts") {
        let file = args.get(at + 1).ok_or("--emit-ts needs a file name")?;
        let registry = seeds::registry(SeedsConfig {
            data_dir: None,
            ..SeedsConfig::from_env()
        });
        std::fs::write(file, registry.typescript())?;
        println!(
            "wrote the TypeScript types of {} actors to {file}",
            registry.actor_types().count()
        );
        return Ok(());
    }
    let mut config = SeedsConfig::from_env();
    if config.jwt_secret.is_empty() {
        eprintln!(
            "JWT_SECRET is not set: jwtActor refuses every token (fails closed). Set it to the secret your tokens are signed with."
        );
    }
    let temp_dir = std::env::temp_dir().join(format!("rivet-actor-seeds-{}", std::process::id()));
    // `RIVET_ACTOR_STORAGE=memory` runs the same binary without durability (to measure what
    // storage costs); otherwise SQLite, in a fresh temporary directory unless one is given.
    let in_memory = rivet_actor::storage::default_storage_kind()?
        == rivet_actor::storage::DefaultStorage::Memory;
    if in_memory {
        config.data_dir = None;
    } else if config.data_dir.is_none() {
        config.data_dir = Some(temp_dir.clone());
    }
    let _auth_service = if std::env::var_os("AUTH_SERVICE_URL").is_none() {
        let (url, task) = seeds::api::demo_auth_service("127.0.0.1:0".parse()?).await?;
        println!("demo auth service on {url} (API keys: premium-key, free-key)");
        config.auth_service_url = url;
        Some(task)
    } else {
        None
    };
    // Checked here so that a mistyped RIVET_ACTOR_WEB_ORIGINS is an error, not a panic.
    seeds::origin_policy(&config.web_origins)?;
    #[cfg(feature = "engine")]
    if let Some(engine) = rivet_actor::engine::EngineConfig::from_env() {
        // Engine mode: the engine's gateway serves clients; this process only hosts.
        let registry = seeds::engine_registry(config);
        let (endpoint, pool) = (engine.endpoint.clone(), engine.pool.clone());
        let host = registry.serve_engine(engine).await?;
        println!("hosting the seed actors for the engine at {endpoint} (pool {pool})");
        println!("press Ctrl-C to leave (the engine moves the actors elsewhere)");
        tokio::signal::ctrl_c().await?;
        host.shutdown().await;
        return Ok(());
    }
    let data_dir = config.data_dir.clone();
    let registry = seeds::registry(config);
    let server = registry.bind(rivet_actor::server::default_addr()).await?;
    println!(
        "serving the seed actors on {} (data in {})",
        server.endpoint(),
        data_dir
            .as_deref()
            .map_or_else(|| "memory".into(), |d| d.display().to_string())
    );
    for actor in registry.actor_types() {
        println!("  {}", actor.name());
    }
    println!("press Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    server.shutdown().await?;
    let _ = std::fs::remove_dir_all(&temp_dir);
    Ok(())
}
