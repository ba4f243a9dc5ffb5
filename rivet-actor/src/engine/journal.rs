//! Writes whose rows do not fit one engine put (128 keys, 900 KiB) — a turn that deletes a
//! range of many rows, writes several large values, or many turns merged while a put was in
//! flight — committed atomically all the same, through a redo journal:
//!
//! 1. the write's row operations are written whole as journal pages (`[0x03] ++ index`),
//!    which nothing reads unless the meta row names them;
//! 2. one put of the meta row, naming the journal's page count (and the new state version,
//!    if any), commits the write;
//! 3. the operations are applied to the rows in the order every backend applies a write
//!    (prefix and range deletes, as the engine's own range deletes; deletes; puts), then the
//!    meta row is put again without the journal and the pages are removed.
//!
//! Applying is idempotent and nothing reads the rows meanwhile (reads wait until the write
//! is durable, which it is only once applied). A host that stops, or loses a request's
//! answer, between 2 and the end of 3 leaves the meta row naming the journal: whoever reads
//! the meta row next — the next wake, on any host, or this host's reload — applies it again
//! before anything reads the rows.

use crate::engine::layout::{self, Entry, Meta};
use crate::engine::storage::{EngineStorage, failed};
use crate::storage::{ActorWrite, StorageError, StorageResult};

const PREFIX: u8 = 0;
const RANGE: u8 = 1;
const DELETE: u8 = 2;
const PUT: u8 = 3;

/// The row operations of `write` (its state is not part of the journal).
fn encode(write: &ActorWrite) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        // Keys and values are far below 4 GiB (2 KiB keys, 128 KiB values).
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut out = Vec::new();
    for prefix in &write.kv_delete_prefix {
        out.push(PREFIX);
        field(&mut out, prefix);
    }
    for (start, end) in &write.kv_delete_range {
        out.push(RANGE);
        field(&mut out, start);
        field(&mut out, end);
    }
    for key in &write.kv_delete {
        out.push(DELETE);
        field(&mut out, key);
    }
    for (key, value) in &write.kv_put {
        out.push(PUT);
        field(&mut out, key);
        field(&mut out, value);
    }
    out
}

/// What [`encode`] wrote; `None` if `bytes` are not a journal.
fn decode(mut bytes: &[u8]) -> Option<ActorWrite> {
    fn field(bytes: &mut &[u8]) -> Option<Vec<u8>> {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        let (field, rest) = rest.split_at_checked(len)?;
        *bytes = rest;
        Some(field.to_vec())
    }
    let mut write = ActorWrite::default();
    while let Some((&op, rest)) = bytes.split_first() {
        bytes = rest;
        match op {
            PREFIX => write.kv_delete_prefix.push(field(&mut bytes)?),
            RANGE => {
                let start = field(&mut bytes)?;
                write.kv_delete_range.push((start, field(&mut bytes)?));
            }
            DELETE => write.kv_delete.push(field(&mut bytes)?),
            PUT => {
                let key = field(&mut bytes)?;
                write.kv_put.push((key, field(&mut bytes)?));
            }
            _ => return None,
        }
    }
    Some(write)
}

/// The journal pages of `write`.
fn pages(write: &ActorWrite) -> Vec<Entry> {
    encode(write)
        .chunks(layout::STATE_CHUNK)
        .enumerate()
        .map(|(index, page)| (layout::journal_key(index as u32), page.to_vec()))
        .collect()
}

impl EngineStorage {
    /// Writes the journal of `write` (committing nothing); its number of pages.
    pub(super) async fn write_journal(
        &self,
        id: &str,
        generation: u32,
        write: &ActorWrite,
    ) -> StorageResult<u32> {
        let pages = pages(write);
        let count = u32::try_from(pages.len())
            .map_err(|_| StorageError::Backend("a write too large for the journal".into()))?;
        let batches = layout::batches(pages)
            .ok_or_else(|| StorageError::Backend("a journal page is over a limit".into()))?;
        for batch in batches {
            self.put(id, generation, batch)
                .await
                .map_err(|err| failed("write", err))?;
        }
        Ok(count)
    }

    /// Applies the journal `meta` names, if any; the meta row after.
    pub(super) async fn settle_journal(
        &self,
        id: &str,
        generation: u32,
        meta: Meta,
    ) -> StorageResult<Meta> {
        if meta.journal == 0 {
            return Ok(meta);
        }
        let keys: Vec<Vec<u8>> = (0..meta.journal).map(layout::journal_key).collect();
        let mut encoded = Vec::new();
        for batch in keys.chunks(layout::MAX_KEYS) {
            let pages = self
                .handle()?
                .kv_get(id.to_owned(), batch.to_vec())
                .await
                .map_err(|err| failed("read", err))?;
            for page in pages {
                encoded.extend(page.ok_or_else(|| corrupt(id))?);
            }
        }
        let write = decode(&encoded).ok_or_else(|| corrupt(id))?;
        tracing::info!(%id, pages = meta.journal, "applying a committed write's journal");
        self.finish_journal(id, generation, meta, &write).await
    }

    /// Applies `write`, committed through the journal `meta` names, and puts the meta row
    /// again without it; the meta row after. An error leaves the journal named (its outcome
    /// is [`StorageError::Unknown`] to a caller that committed it).
    pub(super) async fn finish_journal(
        &self,
        id: &str,
        generation: u32,
        meta: Meta,
        write: &ActorWrite,
    ) -> StorageResult<Meta> {
        let unknown = |err: anyhow::Error| StorageError::Unknown {
            what: format!("applying the journal of actor {id}: {err}"),
        };
        if self.journals_stalled() {
            return Err(unknown(anyhow::anyhow!(
                "stalled after the commit point (a test)"
            )));
        }
        self.apply(id, generation, write).await.map_err(unknown)?;
        let settled = Meta { journal: 0, ..meta };
        let meta_row = vec![(layout::meta_key(), settled.encode())];
        self.put(id, generation, meta_row).await.map_err(unknown)?;
        // Never read again once the meta row stopped naming them.
        let (start, end) = layout::journal_range();
        if let Err(err) = self
            .handle()?
            .kv_delete_range(id.to_owned(), start, end)
            .await
        {
            tracing::debug!(%id, %err, "journal pages stay in engine KV");
        }
        Ok(settled)
    }

    /// The row operations of `write`, each on the rows themselves.
    async fn apply(&self, id: &str, generation: u32, write: &ActorWrite) -> anyhow::Result<()> {
        let handle = self.handle()?;
        let fenced = || anyhow::anyhow!("actor {id} no longer runs here");
        let ranges = write
            .kv_delete_prefix
            .iter()
            .map(|prefix| layout::prefix_range(prefix))
            .chain(
                write
                    .kv_delete_range
                    .iter()
                    .map(|(start, end)| (layout::row_key(start), layout::row_key(end))),
            );
        for (start, end) in ranges.filter(|(start, end)| start < end) {
            anyhow::ensure!(self.still_hosted(id, generation), fenced());
            handle.kv_delete_range(id.to_owned(), start, end).await?;
        }
        for keys in write.kv_delete.chunks(layout::MAX_KEYS) {
            anyhow::ensure!(self.still_hosted(id, generation), fenced());
            let keys = keys.iter().map(|key| layout::row_key(key)).collect();
            handle.kv_delete(id.to_owned(), keys).await?;
        }
        let puts = write
            .kv_put
            .iter()
            .map(|(key, value)| (layout::row_key(key), layout::live(value)))
            .collect();
        let batches =
            layout::batches(puts).ok_or_else(|| anyhow::anyhow!("a row is over a limit"))?;
        for batch in batches {
            self.put(id, generation, batch).await?;
        }
        Ok(())
    }
}

fn corrupt(id: &str) -> StorageError {
    StorageError::Corrupt {
        what: format!("the journal of actor {id} is missing or unreadable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_holds_every_row_operation_of_a_write() {
        let write = ActorWrite {
            state: None,
            mark_created: false,
            kv_put: vec![
                (b"u/a".to_vec(), vec![7; 200_000]),
                (b"u/b".to_vec(), Vec::new()),
            ],
            kv_delete: vec![b"q/1".to_vec()],
            kv_delete_prefix: vec![Vec::new(), b"s/".to_vec()],
            kv_delete_range: vec![(b"u/0".to_vec(), b"u/9".to_vec())],
        };
        let pages = pages(&write);
        assert_eq!(pages.len(), 2, "200 KB of values take two pages");
        assert!(
            pages
                .iter()
                .all(|(_, page)| page.len() <= layout::MAX_VALUE)
        );
        let joined: Vec<u8> = pages.into_iter().flat_map(|(_, page)| page).collect();
        assert_eq!(decode(&joined), Some(write));
        assert_eq!(decode(&[]), Some(ActorWrite::default()));
        assert_eq!(decode(&[PUT, 0, 0, 0, 9, 1]), None, "cut short");
        assert_eq!(decode(&[9]), None, "an unknown operation");
    }
}
