//! The mailbox an in-process client keeps for its actor, so a call is one channel send. An
//! instance that parks or sleeps closes it: the client then asks the host, which gives the
//! instance a task (or wakes it) with the command first in a new mailbox, and keeps that
//! one for the next calls.
//!
//! Commands given to one kept mailbox leave in the order they were given. A call that finds
//! the mailbox full waits for room (and is never sent if its caller gives up). A
//! subscription or disconnect cannot wait — it is queued as the caller returns — so one
//! that finds the mailbox full goes into a small backlog that a task feeds in as room
//! frees, and the calls made after it wait until the backlog is empty. Other ways into the
//! actor (queue sends, other handles) are not ordered with these.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, mpsc};

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::command::{Command, Mail};
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;

pub(crate) struct KeptMailbox<A: Actor> {
    host: Arc<Host<A>>,
    id: ActorId,
    kept: Mutex<Kept<A>>,
    /// Told when the backlog has been fed in (calls wait for it).
    fed: Notify,
    /// The runtime the mailbox was made in: a disconnect queued from a `Drop` outside any
    /// runtime still routes and feeds there.
    runtime: Option<tokio::runtime::Handle>,
}

/// The sender and the backlog, under one lock, so a command either goes straight in or
/// queues behind every earlier one.
struct Kept<A: Actor> {
    tx: mpsc::Sender<Mail<A>>,
    /// Subscriptions, unsubscriptions and disconnects that found the mailbox full, in
    /// order: one disconnect per connection, and what the connection's own code asked for
    /// (each new stream of an event after its last was dropped adds two).
    backlog: VecDeque<Mail<A>>,
    /// Whether a task feeds the backlog in (set until it finds the backlog empty).
    feeding: bool,
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
            fed: Notify::new(),
            runtime: tokio::runtime::Handle::try_current().ok(),
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

    /// Delivers a call (or any command that may wait), after everything given before it,
    /// waiting for room in the mailbox if it is full.
    pub(crate) async fn send(&self, cmd: Command<A>) {
        let mut mail = Box::new(cmd);
        let tx = loop {
            let blocked = {
                let kept = self.kept();
                if kept.feeding {
                    // Registered before the lock is let go, so the feeder's word is not missed.
                    let mut fed = Box::pin(self.fed.notified());
                    fed.as_mut().enable();
                    Err((mail, fed))
                } else {
                    match kept.tx.try_send(mail) {
                        Ok(()) => return,
                        Err(TrySendError::Full(back)) => Ok((back, Some(kept.tx.clone()))),
                        Err(TrySendError::Closed(back)) => Ok((back, None)),
                    }
                }
            };
            match blocked {
                // Behind the backlog: try again once it is fed in (never sent meanwhile).
                Err((back, fed)) => {
                    mail = back;
                    fed.await;
                }
                Ok((back, Some(tx))) => {
                    mail = back;
                    break tx;
                }
                Ok((back, None)) => return self.reroute(back).await,
            }
        };
        // Dropped here if the caller gives up: a call never sent.
        if let Err(mpsc::error::SendError(mail)) = tx.send(mail).await {
            self.reroute(mail).await;
        }
    }

    /// Queues `cmd` at once, before anything given after this returns (a subscription must
    /// be in place before the calls made after it, a disconnect goes out as the connection
    /// is dropped): into the kept mailbox, the backlog, or a new mailbox the host makes for
    /// a parked or sleeping instance.
    pub(crate) fn send_now(self: &Arc<Self>, cmd: Command<A>) {
        let _entered = self.runtime.as_ref().map(tokio::runtime::Handle::enter);
        let mut kept = self.kept();
        let mail = Box::new(cmd);
        if kept.feeding {
            kept.backlog.push_back(mail);
            return;
        }
        let mail = match kept.tx.try_send(mail) {
            Ok(()) => return,
            Err(TrySendError::Full(mail)) => mail,
            Err(TrySendError::Closed(mail)) => {
                if self.runtime.is_none() {
                    // No runtime to start a task in: the instance is gone with it.
                    return mail.fail(ActorError::stopped());
                }
                let leaving = matches!(
                    *mail,
                    Command::Disconnect { .. }
                        | Command::Subscribe {
                            subscribe: false,
                            ..
                        }
                );
                if leaving && !self.host.is_awake(&self.id) {
                    // Asleep: it took the connection (and its subscriptions) with it.
                    // Nothing to wake it for.
                    return;
                }
                let (tx, given_back) = self.host.send_now(&self.id, mail);
                kept.tx = tx;
                match given_back {
                    Ok(()) => return,
                    // Full already, or closed again by a park in between: the feeder waits
                    // for room or routes it again.
                    Err(mail) => mail,
                }
            }
        };
        match &self.runtime {
            Some(runtime) => {
                kept.backlog.push_back(mail);
                kept.feeding = true;
                runtime.spawn(Arc::clone(self).feed());
            }
            None => mail.fail(ActorError::stopped()),
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

    /// Feeds the backlog into the mailbox as room frees, in order; then lets the waiting
    /// calls go.
    async fn feed(self: Arc<Self>) {
        let mut end = FeedEnd {
            mailbox: &self,
            done: false,
        };
        loop {
            let (tx, mail) = {
                let mut kept = self.kept();
                let Some(mail) = kept.backlog.pop_front() else {
                    kept.feeding = false;
                    end.done = true;
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

/// The end of a feed: the waiting calls go on. A feed cut short (its runtime shut down)
/// also ends the backlog, failing what is left, so no later call waits for it for ever.
struct FeedEnd<'a, A: Actor> {
    mailbox: &'a KeptMailbox<A>,
    /// The feed emptied the backlog and said so under the lock.
    done: bool,
}

impl<A: Actor> Drop for FeedEnd<'_, A> {
    fn drop(&mut self) {
        if !self.done {
            let left: Vec<Mail<A>> = {
                let mut kept = self.mailbox.kept();
                kept.feeding = false;
                kept.backlog.drain(..).collect()
            };
            for mail in left {
                mail.fail(ActorError::stopped());
            }
        }
        self.mailbox.fed.notify_waiters();
    }
}
