//! The `#[actor]` attribute of rivet-actor.
//!
//! Layout: `model/` is the vocabulary (kinds, signatures, options, the actor itself,
//! keeping the user's syn nodes for spans); `parse/` reads the attribute arguments and the
//! impl block's methods into it; `validate/` collects every error; `expand/` writes the
//! generated items by kind; and `fallback` re-emits the user's code beside the errors when
//! there are any. Only `parse/` and `entry` (which drives the steps) use `parse`.

extern crate proc_macro;

mod entry;
mod errors;
mod expand;
mod fallback;
mod model;
mod names;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Turns an impl block (and optionally its state struct) into an actor.
///
/// (The example is in the docs of the re-export `rivet_actor::actor`, where it is compiled
/// and run: a doctest in this crate cannot depend on rivet_actor.)
///
/// # Options
///
/// - `name = "chat"`: the wire name (default: the type's name in lowerCamelCase, `chatRoom`);
/// - `events(new_message = NewMessage, ..)`: declared events (wire name `newMessage`), each
///   its own type; broadcasting anything else does not compile;
/// - `queues(jobs = Job, answers = Question -> Answer)`: declared queues, with an optional
///   completion type (default `()`);
/// - `origins = ["https://a.com", "https://*.b.com"]`: allowed origins
///   (`allow_no_origin = true` lets requests without an `Origin` through);
/// - `sleep_timeout_ms = 60_000`, `no_sleep`, `action_timeout_ms = 5_000`: this type's idle
///   time before it sleeps, that it never sleeps on its own, and how long one of its
///   actions may run, in place of the registry's `HostConfig::idle_timeout` and
///   `action_timeout` (RivetKit's `options.sleepTimeout`, `noSleep`, `actionTimeout`);
/// - `max_queue_size = 100`, `max_queue_message_size = 4_096`, `wait_until_timeout_ms = ..`,
///   `connect_hook_timeout_ms = ..`, `lifecycle_hook_timeout_ms = ..`: this type's bounds in
///   place of the registry's `HostConfig` fields of the same names (RivetKit's
///   `maxQueueSize`, `maxQueueMessageSize`, `waitUntilTimeout`, `onConnectTimeout`, and its
///   lifecycle hook timeouts); each at least 1.
///
/// The options may instead sit on the state struct (`#[actor(..)] struct ChatRoom`) while a
/// bare `#[actor]` on the impl block wires the methods; the struct and the impl block must
/// then be in the same module, and options go in one of the two places only. `#[actor]` on
/// a struct alone makes an actor without actions or hooks.
///
/// # Methods
///
/// Each method carries at most one of these attributes; every one is optional, sync or
/// `async`, and its context parameter (the first after the receiver) may be left out:
///
/// | attribute | receiver | context | other parameters | returns |
/// |---|---|---|---|---|
/// | `#[action]`, `#[action(name = "..")]` | `&self` (read-only) or `&mut self` | `&mut ActionCtx<'_, Self>` or `&ActionCtx` | owned, `Serialize + DeserializeOwned` | `T` or `Result<T, E>` |
/// | `#[create_state]` | none | `&CreateCtx<'_>` | optional `input: I` | `Self` or `Result<Self, E>` |
/// | `#[on_migrate]` | none | none | `old: Value` | `Self` or `Result<Self, E>` |
/// | `#[create_vars]` | `&self` or none | `&CreateCtx<'_>` | none | `V` or `Result<V, E>` |
/// | `#[on_create]`, `#[on_wake]`, `#[on_sleep]`, `#[on_destroy]` | `&mut self` | `&mut ActorCtx<'_, Self>` | none | `()` or `Result<(), E>` |
/// | `#[on_state_change]` | `&self` | `&ActorCtx<'_, Self>` | none | `()` |
/// | `#[before_connect]` | `&self` | `&mut ConnectCtx<'_, Self>` or `&ConnectCtx` | optional `params: &P` | `Result<(), E>` |
/// | `#[conn_state]` | `&self` | same | optional `params: &P` | `S` or `Result<S, E>` |
/// | `#[on_connect]`, `#[on_disconnect]` | `&mut self` | `&mut ActionCtx<'_, Self>` | none | `()` or `Result<(), E>` |
/// | `#[can_invoke]` | `&self` | `&ConnCtx<'_, Self>` | `invoke: Invoke<Self>` | `bool` |
///
/// `E` is `UserError` (reaches the client), `rivet_actor::Error` or any `std::error::Error`
/// (masked as `internal_error`). Without `#[create_state]` the state must be `Default`.
///
/// # Generated
///
/// For `impl ChatRoom`: `ChatRoomAction`, `ChatRoomEvent`, `ChatRoomQueue` (field-less enums
/// to match on in `#[can_invoke]`), `ChatRoomMethods<I>` (the typed client methods, one per
/// action with the same Rust name), hidden `ChatRoomCall`/`ChatRoomReturn`, the `Event` and
/// `Queue` impls of the declared types, and `impl Actor for ChatRoom`. Generic impl blocks
/// are not supported; an impl of a concrete instantiation (`impl Store<Item>`) is.
#[proc_macro_attribute]
pub fn actor(args: TokenStream, input: TokenStream) -> TokenStream {
    entry::actor(args.into(), input.into()).into()
}
