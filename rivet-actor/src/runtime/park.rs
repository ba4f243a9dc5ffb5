//! Parked instances: an awake actor that has been quiet for [`HostConfig::park_after`] gives
//! up its task and its mailbox and stays in the host's map as its instance alone.
//!
//! Most awake actors are idle most of the time (they stay awake for the idle timeout after
//! their last command), and a task with its mailbox costs more than the instance itself. A
//! parked instance costs only what it holds. The next command — through the host, or a
//! sender that finds the closed mailbox and asks the host again — starts a task for it with
//! a fresh mailbox; nothing is read from storage. One sweeper task per actor type wakes
//! parked instances at their deadline: the idle timeout (they then go to sleep as before) or
//! their next schedule.
//!
//! Only an instance with nothing in flight parks: no `#[run]` loop, no background work, no
//! write its gate still holds. Its connections stay open: each is an entry of the instance
//! (its sink for events), and what the client sends next goes through the host like any
//! command. A connected actor does not sleep, parked or not: its deadline is only its next
//! schedule.
//!
//! [`HostConfig::park_after`]: crate::HostConfig::park_after

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::actor::Actor;
use crate::runtime::command::Mail;
use crate::runtime::host::Host;
use crate::runtime::instance::{self, Instance};
use crate::runtime::lookup::ActorId;
use crate::runtime::mailbox::Slot;

/// An instance that could not park (commands arrived as it tried), with its new mailbox.
pub(crate) type Unparkable<A> = (Box<Instance<A>>, mpsc::Receiver<Mail<A>>);

/// A parked instance, in the host's map.
pub(crate) struct Parked<A: Actor> {
    inst: Box<Instance<A>>,
    /// Since when it has been quiet: its idle timeout counts from here.
    quiet_since: Instant,
    /// When the sweeper gives it a task again, if ever.
    deadline: Option<Instant>,
}

/// The deadlines of a host's parked instances, and whether a sweeper watches them.
#[derive(Default)]
pub(crate) struct Deadlines {
    set: Mutex<DeadlineSet>,
    /// Woken when a deadline earlier than every other one is added.
    earlier: Notify,
}

#[derive(Default)]
struct DeadlineSet {
    due: BTreeSet<(Instant, ActorId)>,
    /// The running sweeper's number, if one runs.
    sweeper: Option<u64>,
    /// The number the next sweeper gets.
    next_sweeper: u64,
}

impl Deadlines {
    fn lock(&self) -> MutexGuard<'_, DeadlineSet> {
        // Only inserts and removes run under this lock: a panic cannot leave it half-written.
        self.set.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remove(&self, at: Instant, id: &ActorId) {
        self.lock().due.remove(&(at, id.clone()));
    }
}

impl<A: Actor> Host<A> {
    /// Parks instance `id` (quiet since `quiet_since`, woken by the sweeper at `deadline`):
    /// its mailbox is closed and the instance kept here. Gives the instance back with a new
    /// mailbox when commands arrived meanwhile; they are first in it, in their order.
    pub(crate) fn park(
        self: &Arc<Self>,
        id: &ActorId,
        inst: Box<Instance<A>>,
        mut rx: mpsc::Receiver<Mail<A>>,
        quiet_since: Instant,
        deadline: Option<Instant>,
    ) -> Result<(), Unparkable<A>> {
        // Under the map's lock, so a sender that finds the mailbox closed and asks the host
        // again sees either the parked instance or the mailbox made here.
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        // Only an empty mailbox that no sender holds a slot of (nor waits for one): a sender
        // waiting for a slot may not be polled again until this thread lets go of the map.
        // What can still start after this check is a sender filling the slot it takes in
        // the same poll, which the drain below waits out.
        if rx.capacity() != rx.max_capacity() {
            return Err((inst, rx));
        }
        rx.close();
        let mut arrived = Vec::new();
        loop {
            match rx.try_recv() {
                Ok(mail) => arrived.push(mail),
                Err(TryRecvError::Disconnected) => break,
                // A sender holds a slot it has not filled yet (it fills it in the same
                // poll that took it): let it finish.
                Err(TryRecvError::Empty) => std::thread::yield_now(),
            }
        }
        if !arrived.is_empty() {
            let (tx, rx) = mpsc::channel(self.config.mailbox.max(arrived.len()));
            // Room for all of them: the old mailbox held them.
            for mail in arrived {
                crate::runtime::mailbox::preload(&tx, Some(mail));
            }
            live.insert(id.clone(), Slot::Running(tx));
            return Err((inst, rx));
        }
        if let Some(at) = deadline {
            self.add_deadline(at, id.clone());
        }
        let parked = Parked {
            inst,
            quiet_since,
            deadline,
        };
        live.insert(id.clone(), Slot::Parked(parked));
        Ok(())
    }

    /// Starts a task for the parked instance in `slot` (of actor `id`), with `first` already
    /// in its new mailbox; the mailbox.
    pub(crate) fn unpark(
        self: &Arc<Self>,
        id: &ActorId,
        slot: &mut Slot<A>,
        first: Option<Mail<A>>,
    ) -> mpsc::Sender<Mail<A>> {
        let (tx, rx) = mpsc::channel(self.config.mailbox);
        crate::runtime::mailbox::preload(&tx, first);
        if let Slot::Parked(parked) = std::mem::replace(slot, Slot::Running(tx.clone())) {
            if let Some(at) = parked.deadline {
                self.deadlines.remove(at, id);
            }
            let serve = instance::serve(
                self.clone(),
                id.clone(),
                parked.inst,
                rx,
                parked.quiet_since,
            );
            tokio::spawn(serve);
        }
        tx
    }

    /// The sweeper reached deadline `at` of actor `id`: a task for it, if it is still the
    /// same parked instance.
    fn deadline_reached(self: &Arc<Self>, id: &ActorId, at: Instant) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = live.get_mut(id)
            && matches!(slot, Slot::Parked(parked) if parked.deadline == Some(at))
        {
            self.unpark(id, slot, None);
        }
    }

    /// Adds a deadline, starting the sweeper if none runs.
    fn add_deadline(self: &Arc<Self>, at: Instant, id: ActorId) {
        let mut set = self.deadlines.lock();
        let earliest = set.due.first().is_none_or(|(first, _)| at < *first);
        set.due.insert((at, id));
        if set.sweeper.is_none() {
            let number = set.next_sweeper;
            set.next_sweeper += 1;
            set.sweeper = Some(number);
            let sweeper = Sweeper {
                deadlines: self.deadlines.clone(),
                number,
            };
            tokio::spawn(sweep(Arc::downgrade(self), sweeper));
        } else if earliest {
            self.deadlines.earlier.notify_one();
        }
    }
}

/// A running sweeper's claim on its deadlines: however its task ends (no deadline left,
/// the host gone, the task dropped with its runtime), the next deadline starts a new one.
struct Sweeper {
    deadlines: Arc<Deadlines>,
    number: u64,
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        let mut set = self.deadlines.lock();
        if set.sweeper == Some(self.number) {
            set.sweeper = None;
        }
    }
}

/// Gives parked instances a task at their deadlines; ends when none is left (the next park
/// starts it again) or the host is gone. Holds the host only while it acts.
async fn sweep<A: Actor>(host: Weak<Host<A>>, sweeper: Sweeper) {
    let deadlines = &sweeper.deadlines;
    loop {
        let next = {
            let mut set = deadlines.lock();
            match set.due.first() {
                Some(first) => first.clone(),
                None => {
                    // Given up under the lock: a deadline added after this starts another.
                    set.sweeper = None;
                    return;
                }
            }
        };
        if next.0 <= Instant::now() {
            deadlines.lock().due.remove(&next);
            let Some(host) = host.upgrade() else { return };
            host.deadline_reached(&next.1, next.0);
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep_until(next.0) => {}
            () = deadlines.earlier.notified() => {}
        }
    }
}

impl<A: Actor> Instance<A> {
    /// When its next schedule is due, on the runtime's clock.
    pub(crate) fn due(&self) -> Option<Instant> {
        let at = self.env.outbox.schedule.next_due()?;
        let wait = at
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        // A schedule too far ahead for the clock is one the instance never waits for.
        Instant::now().checked_add(wait)
    }

    /// Whether nothing of the instance needs its task: no `#[run]` loop, no background
    /// work, no write in flight (open connections stay with the parked instance).
    pub(crate) fn can_park(&self) -> bool {
        self.run_loop.is_none()
            && self.gate.is_clear()
            && !self
                .env
                .outbox
                .life_if_made()
                .is_some_and(|life| life.busy())
    }

    /// Lets go of what a quiet instance keeps only to be quick: its encoding buffer, and
    /// the parts of its outbox that hold nothing.
    pub(crate) fn shed(&mut self) {
        self.scratch = Vec::new();
        self.conns.shrink_to_fit();
        let outbox = &self.env.outbox;
        outbox.queue.shed();
        outbox.schedule.shed();
        outbox.replay.shed();
    }

    /// When a parked instance needs a task again without a command: its idle timeout
    /// (counted from `quiet_since`; none while connections are open) or its next schedule,
    /// whichever comes first.
    pub(crate) fn park_deadline(
        &self,
        config: &crate::runtime::host::HostConfig,
        quiet_since: Instant,
    ) -> Option<Instant> {
        let idle = config
            .idle_timeout
            .filter(|_| self.conns.is_empty())
            .and_then(|idle| quiet_since.checked_add(idle));
        match (idle, self.due()) {
            (Some(idle), Some(due)) => Some(idle.min(due)),
            (idle, due) => idle.or(due),
        }
    }
}
