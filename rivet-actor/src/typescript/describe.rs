//! What `#[actor]` tells about an actor's types, feature or not: the generated `describe`
//! probes each type (`(&TsProbe::<T>::new()).ts(sink)`), which is its TypeScript form when
//! `T: ts_rs::TS` (with the `typescript` feature) and `unknown` otherwise.

use std::collections::BTreeMap;
use std::marker::PhantomData;

/// The TypeScript declarations the described types need, by name.
#[derive(Default, Debug)]
pub struct TypeSink {
    pub(crate) decls: BTreeMap<String, String>,
    /// The Rust type behind each declaration (to name both sides of a clash).
    #[cfg(feature = "typescript")]
    pub(crate) rust_names: BTreeMap<String, &'static str>,
    /// Declarations of other Rust types that took a name already declared differently.
    #[cfg(feature = "typescript")]
    pub(crate) clashes: Vec<Clash>,
}

/// Two Rust types with one TypeScript name and different shapes.
#[cfg(feature = "typescript")]
#[derive(Debug, Clone)]
pub(crate) struct Clash {
    pub(crate) name: String,
    pub(crate) rust_name: &'static str,
    pub(crate) decl: String,
}

impl TypeSink {
    /// The declarations collected so far (`export type Message = {..};`), by type name.
    pub fn declarations(&self) -> impl Iterator<Item = (&str, &str)> {
        self.decls
            .iter()
            .map(|(name, decl)| (name.as_str(), decl.as_str()))
    }
}

/// One action: its wire name, its parameters (name, TypeScript type) and its result.
#[derive(Debug, Clone)]
pub struct ActionShape {
    /// The wire name (`sendMessage`).
    pub name: String,
    /// Parameter names and TypeScript types, in order.
    pub params: Vec<(String, String)>,
    /// The result's TypeScript type (`void` for `()`).
    pub output: String,
}

/// An actor as the client sees it.
#[derive(Debug, Clone, Default)]
pub struct ActorShape {
    /// The wire name (`chatRoom`).
    pub name: String,
    /// Its actions.
    pub actions: Vec<ActionShape>,
    /// Its events: wire name and payload type.
    pub events: Vec<(String, String)>,
    /// Its queues: wire name, message type and completion type.
    pub queues: Vec<(String, String, String)>,
}

/// Collects an actor's shape and the declarations its types need; filled by the code
/// `#[actor]` generates (`Actor::describe`).
#[derive(Default, Debug)]
pub struct Describe {
    pub(crate) shape: ActorShape,
    /// Where probed types leave their declarations.
    pub types: TypeSink,
}

impl Describe {
    /// Starts describing the actor `name`.
    pub fn new(name: &str) -> Self {
        Self {
            shape: ActorShape {
                name: name.to_owned(),
                ..ActorShape::default()
            },
            types: TypeSink::default(),
        }
    }

    /// Adds an action.
    pub fn action(&mut self, name: &str, params: Vec<(&str, String)>, output: String) {
        self.shape.actions.push(ActionShape {
            name: name.to_owned(),
            params: params
                .into_iter()
                .map(|(name, ty)| (name.to_owned(), ty))
                .collect(),
            output,
        });
    }

    /// Adds an event.
    pub fn event(&mut self, name: &str, payload: String) {
        self.shape.events.push((name.to_owned(), payload));
    }

    /// Adds a queue.
    pub fn queue(&mut self, name: &str, message: String, completion: String) {
        self.shape
            .queues
            .push((name.to_owned(), message, completion));
    }

    /// The shape described so far.
    pub fn shape(&self) -> &ActorShape {
        &self.shape
    }
}

/// A type to probe: `(&TsProbe::<T>::new()).ts(sink)` picks [`TsKnown`] when `T` has a
/// TypeScript form, else [`TsUnknown`] (method resolution tries `&TsProbe<T>` by value
/// before it borrows again).
pub struct TsProbe<T: ?Sized>(PhantomData<fn() -> Box<T>>);

impl<T: ?Sized> TsProbe<T> {
    /// A probe for `T`.
    pub fn new() -> Self {
        TsProbe(PhantomData)
    }
}

impl<T: ?Sized> Default for TsProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The fallback: a type without a TypeScript form is `unknown`.
pub trait TsUnknown {
    /// `unknown`.
    fn ts(&self, sink: &mut TypeSink) -> String {
        let _ = sink;
        "unknown".to_owned()
    }
}

impl<T: ?Sized> TsUnknown for &TsProbe<T> {}

/// A type with a TypeScript form (through `ts_rs::TS`, with the `typescript` feature;
/// without it nothing implements this, and every type is `unknown`).
pub trait TsKnown {
    /// The type's TypeScript form; its declarations (and its dependencies') go to `sink`.
    fn ts(&self, sink: &mut TypeSink) -> String;
}
