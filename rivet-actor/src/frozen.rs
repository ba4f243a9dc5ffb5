//! [`Frozen`]: an immutable part of an actor's state that commits skip while it stays put.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable value inside an actor's state, which later commits skip while it stays put.
///
/// After every turn that may change it, an actor's state is encoded and compared with what
/// is stored, so a state holding megabytes costs that much work on every such turn even
/// when the turn appended one message. A `Frozen` value cannot change, so the runtime
/// keeps its encoding and, when the value stands where it stood last time, does not look
/// at it again: appending a `Frozen` message to a `Vec<Frozen<Message>>` costs about the
/// message, however many the state already holds.
///
/// It pays off for values of a few hundred bytes or more (messages, documents, records): each
/// frozen value costs a commit a map entry, more than encoding a number would. The runtime
/// only diffs states larger than 64 KiB; below that, a `Frozen` value encodes as `T` does.
///
/// `Frozen<T>` encodes exactly as `T` (in storage and on the wire), so a field can change
/// from `Vec<T>` to `Vec<Frozen<T>>` without a migration. It is cheap to clone (shared),
/// and derefs to `T`; to change one, build a new one (`*item = Frozen::new(edited)`). `T`'s
/// encoding must depend on its value only (no interior mutability that changes it). In a
/// type that derives `ts_rs::TS`, mark such a field `#[ts(as = "T")]` (its TypeScript form
/// is `T`'s).
///
/// ```
/// use rivet_actor::prelude::*;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Room {
///     messages: Vec<Frozen<String>>,
/// }
///
/// #[actor]
/// impl Room {
///     #[action]
///     fn say(&mut self, text: String) -> usize {
///         self.messages.push(Frozen::new(text));
///         self.messages.len()
///     }
///
///     #[action]
///     fn last(&self) -> Option<String> {
///         self.messages.last().map(|m| m.to_string())
///     }
/// }
/// ```
pub struct Frozen<T>(Arc<Inner<T>>);

struct Inner<T> {
    value: T,
    /// The length of the value's CBOR encoding, once a commit has encoded it: enough to
    /// skip it where it stood last time (the bytes themselves are not kept).
    encoded_len: OnceLock<usize>,
}

impl<T> Frozen<T> {
    /// Freezes `value`.
    ///
    /// ```
    /// let text = rivet_actor::Frozen::new(String::from("hello"));
    /// assert_eq!(text.len(), 5);
    /// ```
    pub fn new(value: T) -> Self {
        Frozen(Arc::new(Inner {
            value,
            encoded_len: OnceLock::new(),
        }))
    }

    /// The value (also reachable through `Deref`).
    ///
    /// ```
    /// let n = rivet_actor::Frozen::new(7u32);
    /// assert_eq!(*n.get(), 7);
    /// ```
    pub fn get(&self) -> &T {
        &self.0.value
    }

    /// The value, cloned out if it is shared.
    ///
    /// ```
    /// let text = rivet_actor::Frozen::new(String::from("draft"));
    /// let mut owned = text.into_inner();
    /// owned.push('!');
    /// assert_eq!(owned, "draft!");
    /// ```
    pub fn into_inner(self) -> T
    where
        T: Clone,
    {
        match Arc::try_unwrap(self.0) {
            Ok(inner) => inner.value,
            Err(shared) => shared.value.clone(),
        }
    }
}

impl<T> Deref for Frozen<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T> Clone for Frozen<T> {
    fn clone(&self) -> Self {
        Frozen(Arc::clone(&self.0))
    }
}

impl<T> From<T> for Frozen<T> {
    fn from(value: T) -> Self {
        Frozen::new(value)
    }
}

impl<T: Default> Default for Frozen<T> {
    fn default() -> Self {
        Frozen::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Frozen<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

impl<T: fmt::Display> fmt::Display for Frozen<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Frozen<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.value == other.0.value
    }
}

impl<T: Eq> Eq for Frozen<T> {}

impl<T: Serialize + Send + Sync + 'static> Serialize for Frozen<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if crate::value::diff::in_session::<S>() {
            let identity = Arc::as_ptr(&self.0) as *const () as usize;
            let keep = || -> Arc<dyn std::any::Any + Send + Sync> { self.0.clone() };
            let skipped = self
                .0
                .encoded_len
                .get()
                .is_some_and(|&len| crate::value::diff::skip_frozen(identity, keep(), len));
            // The session swallows the empty byte string (one byte, 0x40) given in place
            // of the value.
            if skipped {
                return serializer.serialize_bytes(&[]);
            }
            let mut encoded = Vec::new();
            if crate::value::to_cbor(&self.0.value, &mut encoded).is_ok() {
                let _ = self.0.encoded_len.set(encoded.len());
                crate::value::diff::frozen(identity, keep(), &encoded);
                return serializer.serialize_bytes(&[]);
            }
        }
        self.0.value.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Frozen<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Frozen::new)
    }
}
