//! Runnable examples of rivet-actor.
//!
//! [`seeds`] holds the actors of RivetKit's documentation on CORS, authentication, access
//! control and agentOS authentication, written with `#[actor]`, with the same wire names,
//! behaviour and error codes as the TypeScript originals. `cargo run --example seeds` serves
//! them all; `examples/tests/` drives them with the generated Rust client and the npm client.

//!
//! [`history`] is a chat room whose history lives in the actor's `c.kv()` rows, so a send
//! costs the same with a million stored messages as with none.
//!
//! [`ledger`] is engine mode's scale-out example: a counter that says which host process
//! runs it (`src/bin/engine_host.rs` hosts it on a Rivet Engine; `examples/tests/engine_*`
//! spread it over several hosts and kill some).

#![warn(missing_docs)]

pub mod history;
pub mod ledger;
pub mod seeds;
