//! The mailbox an in-process client keeps for its actor, so a call is one channel send. An
//! instance that parks or sleeps closes it: the client then asks the host, which gives the
//! instance a task (or wakes it) with the command first in a new mailbox, and keeps that
//! one for the next calls.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::actor::Actor;
use crate::runtime::command::{Command, Mail};
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;

pub(crate) struct KeptMailbox<A: Actor> {
    host: Arc<Host<A>>,
    id: ActorId,
    tx: Mutex<mpsc::Sender<Mail<A>>>,
}

impl<A: Actor> KeptMailbox<A> {
    pub(crate) fn new(host: Arc<Host<A>>, id: ActorId, tx: mpsc::Sender<Mail<A>>) -> Self {
        Self {
            host,
            id,
            tx: Mutex::new(tx),
        }
    }

    fn tx(&self) -> MutexGuard<'_, mpsc::Sender<Mail<A>>> {
        // Only a sender is read or replaced under it: nothing is left half-written.
        self.tx.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Delivers `cmd`, waiting for room in the mailbox if it is full.
    pub(crate) async fn send(&self, cmd: Command<A>) {
        let tried = self.tx().try_send(Box::new(cmd));
        let mail = match tried {
            Ok(()) => return,
            Err(TrySendError::Full(mail)) => {
                let tx = self.tx().clone();
                match tx.send(mail).await {
                    Ok(()) => return,
                    Err(mpsc::error::SendError(mail)) => mail,
                }
            }
            Err(TrySendError::Closed(mail)) => mail,
        };
        // Parked, asleep or stopped: the host starts what is needed, and its mailbox is
        // the one to keep.
        self.host.send(&self.id, *mail).await;
        if let Some(tx) = self.host.running_sender(&self.id) {
            *self.tx() = tx;
        }
    }

    /// Queues `cmd` at once, before anything sent after this returns (a subscription must
    /// be in place before the calls made after it, a disconnect goes out as the connection
    /// is dropped): into the kept mailbox, or into a new one the host makes for a parked or
    /// sleeping instance. Given back only when the mailbox is full or the instance is on
    /// its way out.
    pub(crate) fn send_now(&self, cmd: Command<A>) -> Result<(), Mail<A>> {
        let mail = match self.tx().try_send(Box::new(cmd)) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(mail)) => return Err(mail),
            Err(TrySendError::Closed(mail)) => mail,
        };
        let (tx, queued) = self.host.send_now(&self.id, mail);
        *self.tx() = tx;
        queued
    }

    /// The host and the actor, for a command given back by [`KeptMailbox::send_now`].
    pub(crate) fn host(&self) -> (Arc<Host<A>>, ActorId) {
        (self.host.clone(), self.id.clone())
    }
}
