//! How a caller names an actor: by key (get, get-or-create, create) or by id.

use std::fmt;
use std::sync::Arc;

/// An actor's key: an ordered list of strings. `["a,b"]` and `["a", "b"]` are different keys.
///
/// ```
/// use rivet_actor::Key;
/// assert_eq!(Key::from("general").parts(), ["general"]);
/// assert_eq!(Key::from(["org", "room"]).parts(), ["org", "room"]);
/// assert_ne!(Key::from(["a,b"]), Key::from(["a", "b"]));
/// assert!(Key::from(()).parts().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Key(pub Vec<String>);

impl Key {
    /// The key's parts.
    pub fn parts(&self) -> &[String] {
        &self.0
    }
}

impl From<&str> for Key {
    fn from(part: &str) -> Self {
        Key(vec![part.to_owned()])
    }
}

impl From<String> for Key {
    fn from(part: String) -> Self {
        Key(vec![part])
    }
}

impl From<()> for Key {
    fn from(_: ()) -> Self {
        Key(Vec::new())
    }
}

impl From<Vec<String>> for Key {
    fn from(parts: Vec<String>) -> Self {
        Key(parts)
    }
}

impl From<&[&str]> for Key {
    fn from(parts: &[&str]) -> Self {
        Key(parts.iter().map(|p| (*p).to_owned()).collect())
    }
}

impl From<&[String]> for Key {
    fn from(parts: &[String]) -> Self {
        Key(parts.to_vec())
    }
}

impl<const N: usize> From<[&str; N]> for Key {
    fn from(parts: [&str; N]) -> Self {
        Key(parts.iter().map(|p| (*p).to_owned()).collect())
    }
}

impl<const N: usize> From<[String; N]> for Key {
    fn from(parts: [String; N]) -> Self {
        Key(parts.into())
    }
}

/// An actor's stable id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActorId(pub(crate) Arc<str>);

impl ActorId {
    /// Wraps an id string (as received from a client).
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        ActorId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to find (or make) an actor. `I` is the input: typed in-process, encoded from the wire.
#[derive(Clone, Debug)]
pub(crate) enum Lookup<I> {
    /// The actor with this key; `actor.not_found` if none.
    Get(Key),
    /// The actor with this key, created with the input if none.
    GetOrCreate(Key, Option<I>),
    /// A new actor with this key; `actor.already_exists` if taken.
    Create(Key, Option<I>),
    /// The actor with this id.
    Id(ActorId),
}

impl<I> Lookup<I> {
    /// What the lookup names, without its input.
    pub(crate) fn naming(&self) -> Naming<'_> {
        match self {
            Lookup::Get(key) => Naming::Get(key),
            Lookup::GetOrCreate(key, _) => Naming::GetOrCreate(key),
            Lookup::Create(key, _) => Naming::Create(key),
            Lookup::Id(id) => Naming::Id(id),
        }
    }
}

/// What a lookup names and how, without the create input (which need not be `Sync`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Naming<'a> {
    Get(&'a Key),
    GetOrCreate(&'a Key),
    Create(&'a Key),
    Id(&'a ActorId),
}
