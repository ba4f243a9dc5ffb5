//! After a turn: what the state's change writes, and how the instance takes it on once the
//! write is accepted (`saved` becomes the new encoding, `chunks` the new layout).

use crate::actor::Actor;
use crate::error::Error;
use crate::runtime::chunks::{self, Layout, StateWrite};
use crate::runtime::instance::Instance;
use crate::storage::ActorWrite;
use crate::value::diff::{self, Diff, FrozenOffsets};
use crate::value::to_cbor;

/// How a large state is stored, and where its frozen values stood in its last encoding.
pub(crate) struct Chunked {
    pub(crate) layout: Layout,
    pub(crate) frozen: FrozenOffsets,
}

/// A changed state: its storage write, and what the instance takes on once it is accepted.
pub(crate) struct Change {
    write: StateWrite,
    adopt: Adopt,
}

/// What the instance takes on when a change is accepted.
pub(crate) struct Adopt {
    /// How `saved` becomes the new encoding.
    saved: NewSaved,
    layout: Option<Box<Layout>>,
    frozen: FrozenOffsets,
}

enum NewSaved {
    /// It is in `scratch`.
    Scratch,
    /// `saved` patched.
    Diff(Diff),
}

/// The storage write of a state change (rows of its chunks included; empty when nothing
/// changed), and what to take on once it is accepted.
pub(crate) fn split(change: Option<Change>) -> (ActorWrite, Option<Adopt>) {
    match change {
        None => (ActorWrite::default(), None),
        Some(Change { write, adopt }) => (
            ActorWrite {
                state: Some(write.value),
                kv_put: write.put,
                kv_delete: write.delete,
                ..Default::default()
            },
            Some(Adopt {
                layout: write.layout,
                ..adopt
            }),
        ),
    }
}

impl<A: Actor> Instance<A> {
    /// Encodes the state; what storing it writes if it differs from the state as of the
    /// last turn that ended well (committed; its write may still be in flight). A chunked
    /// state is encoded against its last encoding (`value::diff`: only differences are
    /// kept, frozen values where they stood are skipped) and writes only the chunks that
    /// changed; a small one is encoded into `scratch` and compared.
    pub(super) fn state_change(&mut self) -> Result<Option<Change>, Error> {
        let chunking = self.host.storage.chunked_state();
        if let Some(chunked) = self.chunks.as_mut() {
            match diff::encode(&self.state, &mut self.saved, &mut chunked.frozen) {
                Ok(Some((Diff::Same, frozen))) => {
                    // Nothing to write; where the frozen values stand is still worth
                    // knowing (they may be other values with the same bytes).
                    chunked.frozen = frozen;
                    return Ok(None);
                }
                Ok(Some((diff, frozen))) => {
                    let write =
                        chunks::write_for_diff(&chunked.layout, &self.saved, &diff, chunking);
                    return Ok(write.map(|write| Change {
                        write,
                        adopt: Adopt {
                            saved: NewSaved::Diff(diff),
                            layout: None,
                            frozen,
                        },
                    }));
                }
                // The encoder wrote something the session did not expect: the plain way.
                Ok(None) => {}
                Err(err) => return Err(self.encoding_failed(err)),
            }
        }
        if let Err(err) = to_cbor(&self.state, &mut self.scratch) {
            return Err(self.encoding_failed(err));
        }
        Ok(self.scratch_change(chunking))
    }

    /// What storing the encoding in `scratch` writes, against `saved`.
    fn scratch_change(&self, chunking: bool) -> Option<Change> {
        let layout = self.chunks.as_deref().map(|c| &c.layout);
        chunks::write_for(layout, &self.saved, &self.scratch, chunking).map(|write| Change {
            write,
            adopt: Adopt {
                saved: NewSaved::Scratch,
                layout: None,
                frozen: FrozenOffsets::default(),
            },
        })
    }

    fn encoding_failed(&mut self, err: crate::value::ValueError) -> Error {
        self.rollback();
        self.env.outbox.clear();
        Error::internal(format!("the state cannot be encoded: {err}"))
    }

    /// The change's write was accepted: `saved` and the layout are the new ones.
    pub(super) fn adopt(&mut self, adopt: Adopt) {
        match adopt.saved {
            NewSaved::Scratch => std::mem::swap(&mut self.saved, &mut self.scratch),
            NewSaved::Diff(diff) => {
                diff.apply(&mut self.saved);
                // A chunked state is not encoded into `scratch` any more: let it go.
                self.scratch = Vec::new();
            }
        }
        self.chunks = adopt.layout.map(|layout| {
            Box::new(Chunked {
                layout: *layout,
                frozen: adopt.frozen,
            })
        });
    }

    /// Encodes and commits the state and waits until it is durable (after creation or
    /// migration; `saved` and `chunks` are what is stored, if anything).
    pub(crate) async fn commit_whole_state(&mut self, mark_created: bool) -> Result<(), Error> {
        to_cbor(&self.state, &mut self.scratch)
            .map_err(|err| Error::internal(format!("the state cannot be encoded: {err}")))?;
        let change = self.scratch_change(self.host.storage.chunked_state());
        let (mut write, adopt) = split(change);
        write.mark_created = mark_created;
        if let Err(err) = self.env.outbox.stage(&mut write) {
            // The database holds changes no write carries: the start fails.
            return Err(err.into());
        }
        if !write.is_empty() {
            self.write(write).await.map_err(Error::from)?;
        }
        if let Some(adopt) = adopt {
            self.adopt(adopt);
        }
        let completions = self.env.outbox.committed();
        self.complete_when_durable(completions);
        Ok(())
    }
}
