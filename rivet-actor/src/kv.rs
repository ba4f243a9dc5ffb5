//! The actor's own ordered key/value storage: `c.kv()` in a turn.
//!
//! For data that is large or keeps growing (a chat history, a log, an index): unlike the
//! state, which is encoded and written whole on every turn that changes it, a turn writes
//! only the rows it puts or deletes. Writes are staged in the turn and commit with its state
//! change in one storage write: atomic with it, dropped if the turn fails or panics, durable
//! before the turn's reply leaves. Reads see the turn's own writes.
//!
//! Keys are encoded with [`storekey`], whose bytes sort as the values do (numbers
//! numerically, strings by their bytes, tuples part by part), so ranges and prefixes of
//! typed keys are ranges of rows. Values are any serde type (stored as CBOR).
//!
//! ```
//! use rivet_actor::prelude::*;
//! use rivet_actor::kv::Scan;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! pub struct Journal { entries: u64 }
//!
//! #[actor]
//! impl Journal {
//!     #[action]
//!     fn write(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<u64, Error> {
//!         self.entries += 1;
//!         c.kv().put(&self.entries, &text)?; // committed with `entries`, or not at all
//!         Ok(self.entries)
//!     }
//!
//!     #[action]
//!     async fn latest(&self, c: &ActionCtx<'_, Self>, n: usize) -> Result<Vec<String>, Error> {
//!         let rows: Vec<(u64, String)> = c.kv().range(.., Scan::new().limit(n).reverse()).await?;
//!         Ok(rows.into_iter().map(|(_, text)| text).collect())
//!     }
//! }
//! ```
//!
//! What it costs: with SQLite, one row per key in the actor's `kv` table, written in the
//! turn's transaction; in engine mode, one engine KV row per key, committed with the turn
//! (a turn's writes that one engine put cannot hold go through a journal, still atomic).

use std::ops::{Bound, RangeBounds};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::effects::KvEffects;
use crate::error::ActorError;
use crate::storage::KvScan;
use crate::value::{from_cbor, to_cbor};

pub use storekey;

/// The longest encoded key, in bytes (the engine's limit, less the runtime's prefixes).
pub const MAX_KEY_BYTES: usize = 2000;
/// The largest encoded value, in bytes (the engine's limit for one row, less its marker).
pub const MAX_VALUE_BYTES: usize = 128 * 1024 - 64;
/// The most rows one turn may put or delete (deletes of a range count once).
pub const MAX_TURN_WRITES: usize = 10_000;
/// The most rows one scan returns, whatever its limit says.
pub const MAX_SCAN_ROWS: usize = 10_000;
/// About the most bytes (keys and values) one scan returns: it stops after the row that
/// reaches this, so a page of large values can end before its limit while more rows remain.
///
/// ```
/// assert_eq!(rivet_actor::kv::MAX_SCAN_BYTES, 16 * 1024 * 1024);
/// ```
pub const MAX_SCAN_BYTES: usize = 16 * 1024 * 1024;

/// How a range or prefix is read: at most `limit` rows (default 1,000, at most
/// [`MAX_SCAN_ROWS`]), smallest key first unless reversed. A scan also stops after the row
/// that brings what it read to [`MAX_SCAN_BYTES`], so a page may hold fewer rows than its
/// limit while more remain: read on from after its last key until a page comes back
/// empty.
///
/// ```
/// use rivet_actor::kv::Scan;
///
/// let last_ten = Scan::new().limit(10).reverse();
/// # let _ = last_ten;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scan {
    limit: usize,
    reverse: bool,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            limit: 1_000,
            reverse: false,
        }
    }
}

impl Scan {
    /// The first 1,000 rows in key order.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `limit` rows (clamped to [`MAX_SCAN_ROWS`]; read more by starting the next
    /// range after the last key).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.min(MAX_SCAN_ROWS);
        self
    }

    /// Largest key first.
    pub fn reverse(mut self) -> Self {
        self.reverse = true;
        self
    }
}

/// The actor's key/value storage as a turn sees it: `c.kv()` (see the [module](self) docs).
pub struct Kv<'a> {
    effects: Box<dyn KvEffects + 'a>,
}

impl<'a> Kv<'a> {
    pub(crate) fn new(effects: Box<dyn KvEffects + 'a>) -> Self {
        Kv { effects }
    }

    /// The value stored under `key`, as this turn sees it.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Profiles;
    /// # #[actor] impl Profiles {
    /// #[action]
    /// async fn nickname(&self, c: &ActionCtx<'_, Self>, user: String) -> Result<Option<String>, Error> {
    ///     Ok(c.kv().get(&("nick", user)).await?)
    /// }
    /// # }
    /// ```
    pub async fn get<K, V>(&self, key: &K) -> Result<Option<V>, ActorError>
    where
        K: storekey::Encode + ?Sized,
        V: DeserializeOwned,
    {
        let key = encode_key(key)?;
        match self.effects.get(key).await? {
            Some(bytes) => decode_value(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Stores `value` under `key` when the turn commits.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Profiles;
    /// # #[actor] impl Profiles {
    /// #[action]
    /// fn set_nickname(&self, c: &ActionCtx<'_, Self>, user: String, nick: String) -> Result<(), Error> {
    ///     Ok(c.kv().put(&("nick", user), &nick)?)
    /// }
    /// # }
    /// ```
    pub fn put<K, V>(&self, key: &K, value: &V) -> Result<(), ActorError>
    where
        K: storekey::Encode + ?Sized,
        V: Serialize + ?Sized,
    {
        let key = encode_key(key)?;
        let mut bytes = Vec::new();
        to_cbor(value, &mut bytes).map_err(|err| {
            ActorError::new(
                "kv",
                "encode",
                format!("a value could not be encoded: {err}"),
            )
        })?;
        let value = bytes;
        if value.len() > MAX_VALUE_BYTES {
            return Err(ActorError::kv_value_too_large(value.len(), MAX_VALUE_BYTES));
        }
        self.effects.put(key, value)
    }

    /// Deletes `key` when the turn commits.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Profiles;
    /// # #[actor] impl Profiles {
    /// #[action]
    /// fn forget(&self, c: &ActionCtx<'_, Self>, user: String) -> Result<(), Error> {
    ///     Ok(c.kv().delete(&("nick", user))?)
    /// }
    /// # }
    /// ```
    pub fn delete<K>(&self, key: &K) -> Result<(), ActorError>
    where
        K: storekey::Encode + ?Sized,
    {
        self.effects.delete(encode_key(key)?)
    }

    /// The rows whose keys lie in `range`, as `(key, value)`, ordered as `scan` says.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// use rivet_actor::kv::Scan;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Log;
    /// # #[actor] impl Log {
    /// #[action]
    /// async fn between(&self, c: &ActionCtx<'_, Self>, from: u64, to: u64) -> Result<Vec<(u64, String)>, Error> {
    ///     Ok(c.kv().range(from..to, Scan::new()).await?)
    /// }
    /// # }
    /// ```
    pub async fn range<K, V, R>(&self, range: R, scan: Scan) -> Result<Vec<(K, V)>, ActorError>
    where
        K: storekey::Encode + storekey::Decode,
        V: DeserializeOwned,
        R: RangeBounds<K>,
    {
        let (start, end) = encode_range(&range)?;
        self.read(start, end, scan).await
    }

    /// The rows whose keys begin with `prefix`'s parts: `prefix(&("room", id))` finds every
    /// key `("room", id, ..)`. Keys are decoded as `K`, the whole key.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// use rivet_actor::kv::Scan;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Rooms;
    /// # #[actor] impl Rooms {
    /// #[action]
    /// async fn messages(&self, c: &ActionCtx<'_, Self>, room: String) -> Result<Vec<String>, Error> {
    ///     let rows: Vec<((String, u64), String)> = c.kv().prefix(&(room,), Scan::new()).await?;
    ///     Ok(rows.into_iter().map(|(_, text)| text).collect())
    /// }
    /// # }
    /// ```
    pub async fn prefix<P, K, V>(&self, prefix: &P, scan: Scan) -> Result<Vec<(K, V)>, ActorError>
    where
        P: storekey::Encode + ?Sized,
        K: storekey::Decode,
        V: DeserializeOwned,
    {
        let start = encode_key(prefix)?;
        let end = crate::storage::prefix_successor(&start);
        self.read(start, end, scan).await
    }

    /// Deletes every row whose key lies in `range` when the turn commits.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Log;
    /// # #[actor] impl Log {
    /// #[action]
    /// fn trim(&self, c: &ActionCtx<'_, Self>, before: u64) -> Result<(), Error> {
    ///     Ok(c.kv().delete_range(..before)?)
    /// }
    /// # }
    /// ```
    pub fn delete_range<K, R>(&self, range: R) -> Result<(), ActorError>
    where
        K: storekey::Encode,
        R: RangeBounds<K>,
    {
        let (start, end) = encode_range(&range)?;
        self.effects.delete_range(start, end)
    }

    /// Deletes every row whose key begins with `prefix`'s parts when the turn commits.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # #[derive(Default, Serialize, Deserialize)] pub struct Rooms;
    /// # #[actor] impl Rooms {
    /// #[action]
    /// fn clear(&self, c: &ActionCtx<'_, Self>, room: String) -> Result<(), Error> {
    ///     Ok(c.kv().delete_prefix(&(room,))?)
    /// }
    /// # }
    /// ```
    pub fn delete_prefix<P>(&self, prefix: &P) -> Result<(), ActorError>
    where
        P: storekey::Encode + ?Sized,
    {
        let start = encode_key(prefix)?;
        let end = crate::storage::prefix_successor(&start);
        self.effects.delete_range(start, end)
    }

    async fn read<K, V>(
        &self,
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        scan: Scan,
    ) -> Result<Vec<(K, V)>, ActorError>
    where
        K: storekey::Decode,
        V: DeserializeOwned,
    {
        let rows = self
            .effects
            .scan(KvScan {
                start,
                end,
                limit: scan.limit,
                reverse: scan.reverse,
                max_bytes: MAX_SCAN_BYTES,
            })
            .await?;
        rows.into_iter()
            .map(|(key, value)| Ok((decode_key(&key)?, decode_value(&value)?)))
            .collect()
    }
}

fn encode_key<K: storekey::Encode + ?Sized>(key: &K) -> Result<Vec<u8>, ActorError> {
    let bytes = storekey::encode_vec(key).map_err(|err| {
        ActorError::new("kv", "encode", format!("a key could not be encoded: {err}"))
    })?;
    if bytes.len() > MAX_KEY_BYTES {
        return Err(ActorError::kv_key_too_large(bytes.len(), MAX_KEY_BYTES));
    }
    Ok(bytes)
}

/// `range` as bytes `[start, end)`: the smallest string after a key is the key plus a zero
/// byte, so excluded starts and included ends move there.
fn encode_range<K, R>(range: &R) -> Result<(Vec<u8>, Option<Vec<u8>>), ActorError>
where
    K: storekey::Encode,
    R: RangeBounds<K>,
{
    let after = |key: &K| {
        encode_key(key).map(|mut bytes| {
            bytes.push(0);
            bytes
        })
    };
    let start = match range.start_bound() {
        Bound::Included(key) => encode_key(key)?,
        Bound::Excluded(key) => after(key)?,
        Bound::Unbounded => Vec::new(),
    };
    let end = match range.end_bound() {
        Bound::Included(key) => Some(after(key)?),
        Bound::Excluded(key) => Some(encode_key(key)?),
        Bound::Unbounded => None,
    };
    Ok((start, end))
}

fn decode_key<K: storekey::Decode>(bytes: &[u8]) -> Result<K, ActorError> {
    storekey::decode(bytes).map_err(|err| {
        ActorError::new(
            "kv",
            "decode",
            format!("a stored key does not decode as the type asked for: {err}"),
        )
    })
}

fn decode_value<V: DeserializeOwned>(bytes: &[u8]) -> Result<V, ActorError> {
    from_cbor(bytes).map_err(|err| {
        ActorError::new(
            "kv",
            "decode",
            format!("a stored value does not decode as the type asked for: {err}"),
        )
    })
}
