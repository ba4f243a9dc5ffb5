//! One actor's write committed to the engine's KV: the state's chunks, the rows (deletes as
//! rows marked deleted, so they commit with the put), and the meta row last, which is the
//! commit point. What fits one put goes in one; a new state too large for it goes first in
//! puts of its own (nothing refers to them until the meta row switches); rows too many or
//! too large for one put go through the journal (`journal.rs`).

use std::collections::HashSet;

use crate::engine::layout;
use crate::engine::storage::{EngineStorage, failed};
use crate::storage::{ActorWrite, StorageError, StorageResult};

impl EngineStorage {
    pub(super) async fn commit_write(&self, id: &str, write: ActorWrite) -> StorageResult<()> {
        let hosted = self.hosted(|hosted| hosted.get(id).map(|h| (h.meta, h.generation)));
        let (meta, generation) =
            hosted.ok_or_else(|| StorageError::ActorNotFound { id: id.to_owned() })?;
        if !self.is_connected() {
            return Err(StorageError::Backend(
                "not connected to the engine: nothing was written".into(),
            ));
        }
        let mut next = meta;
        next.created |= write.mark_created;
        let chunks = match &write.state {
            Some(state) => {
                next.version = meta.version + 1;
                let chunks = layout::state_chunks(next.version, state);
                next.chunks = chunks.len() as u32;
                chunks
            }
            None => Vec::new(),
        };
        // Prefix and range deletes go through the journal, which applies them as the
        // engine's own range deletes: marking each row they cover deleted would read them
        // all first, and could need more keys than one put holds.
        let ranged = !write.kv_delete_prefix.is_empty() || !write.kv_delete_range.is_empty();
        let (mut removed, mut staged) = match ranged {
            true => (Vec::new(), Vec::new()),
            false => staged_rows(&write),
        };
        let meta_row = |meta: &layout::Meta| (layout::meta_key(), meta.encode());
        let journaled = ranged || !layout::fits_one_put(&staged);
        if journaled {
            // The journal holds the rows, and the meta row naming it is the commit.
            next.journal = self.write_journal(id, generation, &write).await?;
            removed.clear();
            staged.clear();
        }
        if next != meta {
            staged.push(meta_row(&next));
        }
        let commit_put = if layout::fits_one_put(chunks.iter().chain(&staged)) {
            let mut together = chunks;
            together.extend(staged);
            together
        } else {
            // The new state's chunks first: nothing refers to them until the last put
            // switches the meta row, so a failure here leaves the old state current.
            let too_large = || StorageError::Backend("a state chunk is over a limit".into());
            for batch in layout::batches(chunks).ok_or_else(too_large)? {
                self.put(id, generation, batch)
                    .await
                    .map_err(|err| failed("write", err))?;
            }
            // Fits: the rows alone fit one put, or the journal took them.
            staged
        };
        if let Err(err) = self.put(id, generation, commit_put).await {
            self.mark_meta_stale(id);
            return Err(StorageError::Unknown {
                what: format!("engine KV write of actor {id}: {err}"),
            });
        }
        self.count_commit();
        if journaled {
            // Committed: applying it may fail, but then whoever reads the meta row next
            // applies it again.
            match self.finish_journal(id, generation, next, &write).await {
                Ok(settled) => next = settled,
                Err(err) => {
                    self.mark_meta_stale(id);
                    return Err(err);
                }
            }
        }
        self.hosted(|hosted| {
            if let Some(h) = hosted.get_mut(id) {
                h.meta = next;
                h.record.created = next.created;
            }
        });
        // Garbage of the committed write: deleted rows and the old state. Best effort
        // (what is left is never read), and before returning, so the next turn's writes
        // cannot race it.
        let handle = self.handle()?;
        if !removed.is_empty()
            && let Err(err) = handle.kv_delete(id.to_owned(), removed).await
        {
            tracing::debug!(%id, %err, "deleted rows stay marked in engine KV");
        }
        if next.version != meta.version && meta.version > 0 {
            let (start, end) = layout::state_range(meta.version);
            if let Err(err) = handle.kv_delete_range(id.to_owned(), start, end).await {
                tracing::debug!(%id, %err, "an old state version stays in engine KV");
            }
        }
        Ok(())
    }
}

/// The rows of `write` (without prefix or range deletes) as one put holds them: the engine
/// keys it deletes, and those keys marked deleted followed by its puts.
fn staged_rows(write: &ActorWrite) -> (Vec<Vec<u8>>, Vec<layout::Entry>) {
    let put_keys: HashSet<Vec<u8>> = write
        .kv_put
        .iter()
        .map(|(k, _)| layout::row_key(k))
        .collect();
    let mut removed: Vec<Vec<u8>> = write
        .kv_delete
        .iter()
        .map(|k| layout::row_key(k))
        .filter(|k| !put_keys.contains(k))
        .collect();
    removed.sort();
    removed.dedup();
    let mut rows: Vec<layout::Entry> = removed
        .iter()
        .map(|k| (k.clone(), layout::deleted()))
        .collect();
    rows.extend(
        write
            .kv_put
            .iter()
            .map(|(k, v)| (layout::row_key(k), layout::live(v))),
    );
    (removed, rows)
}
