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
}

impl Options {
    /// Whether any option was given.
    pub fn given(&self) -> bool {
        self.span.is_some()
    }
}
