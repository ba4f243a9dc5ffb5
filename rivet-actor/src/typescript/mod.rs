//! TypeScript types for the npm client, generated from Rust actors (feature `typescript`).
//!
//! `#[actor]` describes every actor to [`Describe`]: its wire name, each action's parameters
//! and result, its events and queues, with each Rust type turned into TypeScript by
//! [`ts-rs`](https://docs.rs/ts-rs) (serde attributes honoured: `rename_all`, `Option`,
//! tagged enums). [`Registry::typescript`](crate::Registry::typescript) then writes a module
//! that declares each actor with RivetKit's own `actor({..})` and `setup({..})` and typed stub
//! actions, so RivetKit's client typing applies unchanged:
//!
//! ```ts
//! import { createClient } from "rivetkit/client";
//! import type { Registry } from "./actors"; // written by Registry::typescript()
//! const client = createClient<Registry>("http://localhost:6420");
//! await client.chatRoom.getOrCreate(["general"]).sendMessage("hi"); // typed
//! ```
//!
//! A type reaches TypeScript when it implements `ts_rs::TS` (`#[derive(TS)]` beside
//! `Serialize`); one that does not is `unknown`, so an actor compiles either way. Two Rust
//! types of different shapes with one TypeScript name (`chat::Message`, `mail::Message`)
//! are both declared, under a comment naming them, so `tsc` refuses the module (duplicate
//! identifier) instead of typing one with the other's shape: rename one with
//! `#[ts(rename = "..")]`.
//!
//! Two things the types do not say: an `f64` that is NaN or infinite reaches a JSON client
//! as `null` (CBOR and BARE carry it as a number), and a 64-bit integer above 2^53 as a
//! `bigint`; a map whose keys are not strings or numbers (tuples, structs) has no faithful
//! TypeScript type.

mod describe;
#[cfg(feature = "typescript")]
mod known;
#[cfg(feature = "typescript")]
mod module;

pub use describe::{ActionShape, ActorShape, Describe, TsKnown, TsProbe, TsUnknown, TypeSink};
#[cfg(feature = "typescript")]
pub(crate) use module::write_module;
