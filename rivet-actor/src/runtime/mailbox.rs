//! Routing commands to instances: the host's map of awake actors, each either running a
//! task that reads its mailbox or parked (`park.rs`), and starting a task where none runs.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::actor::Actor;
use crate::error::ActorError;
use crate::runtime::command::{Command, Mail};
use crate::runtime::host::Host;
use crate::runtime::instance;
use crate::runtime::lookup::ActorId;
use crate::runtime::park::Parked;

/// An awake actor, as the host holds it.
pub(crate) enum Slot<A: Actor> {
    /// Its task runs and reads this mailbox. A closed mailbox is an instance on its way out
    /// (sleeping, stopping, failed): the next command starts a fresh one.
    Running(mpsc::Sender<Mail<A>>),
    /// Quiet for a moment: no task and no mailbox, only the instance. The next command or
    /// its deadline starts a task for it again.
    Parked(Parked<A>),
}

impl<A: Actor> Host<A> {
    /// The mailbox of the awake instance `id`: its task's, a new task for a parked
    /// instance, or a fresh instance's when it is asleep.
    pub(crate) fn sender(self: &Arc<Self>, id: &ActorId) -> mpsc::Sender<Mail<A>> {
        self.route(id, None).0
    }

    /// Under one lock of the map: the running instance's mailbox with `first` given back
    /// to send, or a task started for a parked or sleeping instance with `first` already in
    /// its new mailbox (so a parked one cannot park again before it arrives).
    fn route(
        self: &Arc<Self>,
        id: &ActorId,
        first: Option<Mail<A>>,
    ) -> (mpsc::Sender<Mail<A>>, Option<Mail<A>>) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        match live.get_mut(id) {
            Some(Slot::Running(tx)) if !tx.is_closed() => return (tx.clone(), first),
            Some(slot @ Slot::Parked(_)) => return (self.unpark(id, slot, first), None),
            _ => {}
        }
        if self.is_closed() {
            // Shut down: a closed mailbox, so the sender hears `actor.stopped`.
            let (closed, _) = mpsc::channel(1);
            return (closed, first);
        }
        let (tx, rx) = mpsc::channel(self.config.mailbox);
        preload(&tx, first);
        live.insert(id.clone(), Slot::Running(tx.clone()));
        // Under the map's lock (map, then lives, as everywhere): a stop signalled once the
        // slot exists reaches the life the new instance takes.
        self.forget_life(id);
        tokio::spawn(instance::run(self.clone(), id.clone(), rx));
        (tx, None)
    }

    /// Puts `mail` into the mailbox of instance `id` at once, in order with every command
    /// sent after this returns (a parked or sleeping instance gets a task with it first in
    /// its new mailbox); the mailbox, and `mail` back if it was full or is closing.
    pub(crate) fn send_now(
        self: &Arc<Self>,
        id: &ActorId,
        mail: Mail<A>,
    ) -> (mpsc::Sender<Mail<A>>, Result<(), Mail<A>>) {
        let (tx, back) = self.route(id, Some(mail));
        let queued = match back {
            None => Ok(()),
            Some(mail) => tx.try_send(mail).map_err(|err| err.into_inner()),
        };
        (tx, queued)
    }

    /// The mailbox of instance `id` if its task runs (starting nothing, unparking nothing).
    pub(crate) fn running_sender(&self, id: &ActorId) -> Option<mpsc::Sender<Mail<A>>> {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        match live.get(id) {
            Some(Slot::Running(tx)) if !tx.is_closed() => Some(tx.clone()),
            _ => None,
        }
    }

    /// A mailbox for a handle to keep: as [`Host::sender`], except that a parked instance
    /// stays parked (the handle gets a closed mailbox; its first send finds it closed and
    /// goes through [`Host::send`], which gives the instance a task with that command).
    pub(crate) fn handle_sender(self: &Arc<Self>, id: &ActorId) -> mpsc::Sender<Mail<A>> {
        let parked = {
            let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            matches!(live.get(id), Some(Slot::Parked(_)))
        };
        if parked {
            let (closed, _) = mpsc::channel(1);
            return closed;
        }
        self.sender(id)
    }

    /// Delivers a command to instance `id`, starting it if needed.
    pub(crate) async fn send(self: &Arc<Self>, id: &ActorId, cmd: Command<A>) {
        let mut cmd = cmd;
        // An instance that stopped or parked between lookup and send has closed its
        // mailbox: look again (a parked one gets a task, a stopped one a fresh instance).
        for _ in 0..3 {
            let (tx, mail) = self.route(id, Some(Box::new(cmd)));
            let Some(mail) = mail else { return };
            match tx.send(mail).await {
                Ok(()) => return,
                Err(mpsc::error::SendError(back)) => cmd = *back,
            }
            if let Some(err) = self.recent_start_failure(id) {
                // The instance it reached failed to start; another would too.
                return cmd.fail(err);
            }
        }
        cmd.fail(ActorError::stopped());
    }

    /// Sends `cmd` to instance `id` only if it is awake (running or parked); gives it back
    /// otherwise.
    pub(crate) async fn send_if_live(
        self: &Arc<Self>,
        id: &ActorId,
        cmd: Command<A>,
    ) -> Option<Command<A>> {
        let mut cmd = cmd;
        // A parked instance closed the mailbox a sender found: it is still awake.
        for _ in 0..3 {
            let tx = {
                let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
                match live.get_mut(id) {
                    Some(Slot::Running(tx)) if !tx.is_closed() => tx.clone(),
                    Some(slot @ Slot::Parked(_)) => {
                        self.unpark(id, slot, Some(Box::new(cmd)));
                        return None;
                    }
                    _ => return Some(cmd),
                }
            };
            match tx.send(Box::new(cmd)).await {
                Ok(()) => return None,
                Err(mpsc::error::SendError(back)) => cmd = *back,
            }
        }
        Some(cmd)
    }

    /// Whether instance `id` is awake (its task runs, or it is parked).
    pub(crate) fn is_awake(&self, id: &ActorId) -> bool {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        match live.get(id) {
            Some(Slot::Running(tx)) => !tx.is_closed(),
            Some(Slot::Parked(_)) => true,
            None => false,
        }
    }

    /// Called by an instance task as it exits: forget its mailbox if it is still the
    /// registered one.
    pub(crate) fn forget(&self, id: &ActorId, tx_closed: impl Fn(&mpsc::Sender<Mail<A>>) -> bool) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(live.get(id), Some(Slot::Running(tx)) if tx_closed(tx)) {
            live.remove(id);
            self.awake_keys.remove(id);
            self.lives
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(id);
        }
    }

    /// Number of parked instances.
    pub(crate) fn parked_count(&self) -> usize {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.values()
            .filter(|slot| matches!(slot, Slot::Parked(_)))
            .count()
    }

    /// Number of awake instances (running or parked).
    pub(crate) fn live_count(&self) -> usize {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Puts `first` into a mailbox just made (with room for it, its receiver not yet handed to a
/// task).
pub(crate) fn preload<A: Actor>(tx: &mpsc::Sender<Mail<A>>, first: Option<Mail<A>>) {
    if let Some(Err(err)) = first.map(|mail| tx.try_send(mail)) {
        // Room and a receiver: this cannot fail, but a command is never dropped unanswered.
        let (mpsc::error::TrySendError::Full(mail) | mpsc::error::TrySendError::Closed(mail)) = err;
        mail.fail(ActorError::internal());
    }
}
