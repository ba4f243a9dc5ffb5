//! The options of `#[actor(name = "..", events(..), queues(..), origins = [..], ..)]`.

use proc_macro2::Span;
use syn::{Ident, LitStr, Type};

/// One declared event: `new_message = NewMessage`.
pub struct EventDecl {
    pub ident: Ident,
    pub ty: Type,
}

/// One declared queue: `answers = Question -> Answer`.
pub struct QueueDecl {
    pub ident: Ident,
    pub ty: Type,
    pub completion: Option<Type>,
}

/// The options of one `#[actor(..)]`.
#[derive(Default)]
pub struct Options {
    /// Where the options were written (for errors about them as a whole); `None` when the
    /// attribute had no arguments.
    pub span: Option<Span>,
    pub name: Option<LitStr>,
    pub events: Vec<EventDecl>,
    pub queues: Vec<QueueDecl>,
    pub origins: Option<Vec<LitStr>>,
    /// Whether requests without an `Origin` header pass the `origins` allowlist.
    pub allow_no_origin: Option<syn::LitBool>,
    /// This type's idle time before sleep, milliseconds (overrides `HostConfig`).
    pub sleep_timeout_ms: Option<u64>,
    /// This type's action timeout, milliseconds (overrides `HostConfig`).
    pub action_timeout_ms: Option<u64>,
    /// This type's actors never go to sleep on their own.
    pub no_sleep: bool,
    /// This type's queue and hook bounds (override `HostConfig`; each at least 1).
    pub limits: Limits,
}

/// Bounds a type sets for itself: `max_queue_size = ..` and the others named in
/// [`Limits::KEYS`].
#[derive(Default)]
pub struct Limits {
    pub max_queue_size: Option<u64>,
    pub max_queue_message_size: Option<u64>,
    pub wait_until_timeout_ms: Option<u64>,
    pub connect_hook_timeout_ms: Option<u64>,
    pub lifecycle_hook_timeout_ms: Option<u64>,
}

impl Limits {
    /// The option names, as written in `#[actor(..)]`.
    pub const KEYS: [&'static str; 5] = [
        "max_queue_size",
        "max_queue_message_size",
        "wait_until_timeout_ms",
        "connect_hook_timeout_ms",
        "lifecycle_hook_timeout_ms",
    ];

    /// The slot of option `key` (one of [`Limits::KEYS`]).
    pub fn slot(&mut self, key: &str) -> Option<&mut Option<u64>> {
        Some(match key {
            "max_queue_size" => &mut self.max_queue_size,
            "max_queue_message_size" => &mut self.max_queue_message_size,
            "wait_until_timeout_ms" => &mut self.wait_until_timeout_ms,
            "connect_hook_timeout_ms" => &mut self.connect_hook_timeout_ms,
            "lifecycle_hook_timeout_ms" => &mut self.lifecycle_hook_timeout_ms,
            _ => return None,
        })
    }
}

impl Options {
    /// Whether any option was given.
    pub fn given(&self) -> bool {
        self.span.is_some()
    }
}
