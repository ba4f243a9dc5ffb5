//! The mailbox an in-process client keeps for its actor, so a call is one channel send. An
//! instance that parks or sleeps closes it: the client then asks the host, which gives the
//! instance a task (or wakes it) with the command first in a new mailbox, and keeps that
//! one for the next calls.
//!
//! Commands leave in the order they were given. One that finds the mailbox full waits in a
//! backlog of its own, which a task feeds in as room frees; every later command queues
//! behind it there, so a subscription made while the actor is busy still goes out before
//! the calls made after it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::command::{Command, Mail};
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;

pub(crate) struct KeptMailbox<A: Actor> {
    host: Arc<Host<A>>,
    id: ActorId,
    kept: Mutex<Kept<A>>,
}

/// The sender and the commands waiting for room in it, under one lock so that a command
/// either goes straight in or queues behind every earlier one.
struct Kept<A: Actor> {
    tx: mpsc::Sender<Mail<A>>,
    /// Commands that found the mailbox full, and every one given after them, in order.
    /// Bounded by the callers waiting: each command here belongs to a caller still
    /// waiting for its answer, or to a subscription or disconnect of a live connection.
    backlog: VecDeque<Mail<A>>,
    /// Whether a task feeds the backlog in (set until it finds the backlog empty).
    feeding: bool,
}

/// Where a command given to [`KeptMailbox::queue`] went.
enum Queued<A: Actor> {
    /// Into the mailbox or the backlog: on its way.
    Done,
    /// The mailbox is closed (the instance parked, sleeps or stops): route it again.
    Closed(Mail<A>),
}

impl<A: Actor> KeptMailbox<A> {
    pub(crate) fn new(host: Arc<Host<A>>, id: ActorId, tx: mpsc::Sender<Mail<A>>) -> Self {
        Self {
            host,
            id,
            kept: Mutex::new(Kept {
                tx,
                backlog: VecDeque::new(),
                feeding: false,
            }),
        }
    }

    /// The host the actor lives on.
    pub(crate) fn host(&self) -> &Arc<Host<A>> {
        &self.host
    }

    /// The actor's id.
    pub(crate) fn id(&self) -> &ActorId {
        &self.id
    }

    fn kept(&self) -> MutexGuard<'_, Kept<A>> {
        // Nothing is left half-written under it: a sender replaced, a deque pushed or popped.
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts `mail` into the mailbox, or into the backlog behind earlier commands (starting
    /// the task that feeds it in when the mailbox is full).
    fn queue(self: &Arc<Self>, kept: &mut Kept<A>, mail: Mail<A>) -> Queued<A> {
        if kept.feeding {
            kept.backlog.push_back(mail);
            return Queued::Done;
        }
        match kept.tx.try_send(mail) {
            Ok(()) => Queued::Done,
            Err(TrySendError::Full(mail)) => {
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    // No runtime to wait in (a connection dropped outside one): nobody can
                    // wait for this answer either.
                    mail.fail(ActorError::stopped());
                    return Queued::Done;
                };
                kept.backlog.push_back(mail);
                kept.feeding = true;
                runtime.spawn(Arc::clone(self).feed());
                Queued::Done
            }
            Err(TrySendError::Closed(mail)) => Queued::Closed(mail),
        }
    }

    /// Delivers `cmd` in order with every other command given to this mailbox.
    pub(crate) async fn send(self: &Arc<Self>, cmd: Command<A>) {
        let queued = self.queue(&mut self.kept(), Box::new(cmd));
        if let Queued::Closed(mail) = queued {
            self.reroute(mail).await;
        }
    }

    /// Queues `cmd` at once, before anything given after this returns (a subscription must
    /// be in place before the calls made after it, a disconnect goes out as the connection
    /// is dropped): into the kept mailbox, its backlog, or a new mailbox the host makes for
    /// a parked or sleeping instance.
    pub(crate) fn send_now(self: &Arc<Self>, cmd: Command<A>) {
        let mut kept = self.kept();
        let Queued::Closed(mail) = self.queue(&mut kept, Box::new(cmd)) else {
            return;
        };
        let (tx, given_back) = self.host.send_now(&self.id, mail);
        kept.tx = tx;
        if let Err(mail) = given_back {
            // The new mailbox is full already, or closing again: queue it like any other.
            if let Queued::Closed(mail) = self.queue(&mut kept, mail) {
                mail.fail(ActorError::stopped());
            }
        }
    }

    /// Parked, asleep or stopped: the host starts what is needed, and its mailbox is the
    /// one to keep.
    async fn reroute(&self, mail: Mail<A>) {
        self.host.send(&self.id, *mail).await;
        if let Some(tx) = self.host.running_sender(&self.id) {
            self.kept().tx = tx;
        }
    }

    /// Feeds the backlog into the mailbox as room frees, in order; commands given
    /// meanwhile join the backlog. Ends once it is empty.
    async fn feed(self: Arc<Self>) {
        loop {
            let (tx, mail) = {
                let mut kept = self.kept();
                let Some(mail) = kept.backlog.pop_front() else {
                    kept.feeding = false;
                    return;
                };
                (kept.tx.clone(), mail)
            };
            if let Err(mpsc::error::SendError(mail)) = tx.send(mail).await {
                self.reroute(mail).await;
            }
        }
    }
}
