//! The alarms of sleeping actors with schedules (standalone; the engine keeps its own): the
//! next due time of each, in one ordered set that one task per actor type sleeps through,
//! not a task per sleeping actor. The task runs only while alarms are set.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;

use crate::naming::ActorId;

/// Wakes sleeping actors at their next schedule.
#[derive(Default)]
pub(crate) struct Alarms {
    set: Mutex<Set>,
    /// Told when an alarm earlier than the ticker's next one is set.
    earlier: Arc<Notify>,
}

#[derive(Default)]
struct Set {
    /// Every alarm, earliest first.
    due: BTreeSet<(SystemTime, ActorId)>,
    /// The alarm of each actor (at most one).
    of: HashMap<ActorId, SystemTime>,
    /// Whether the ticker task is running.
    ticking: bool,
}

/// What the ticker does next.
enum Next {
    /// Nothing is set: the ticker ends (the next `set` starts another).
    Stop,
    /// Wake these now, then look again.
    Wake(Vec<ActorId>),
    /// Sleep until this (or until told of an earlier alarm).
    SleepUntil(SystemTime),
}

impl Alarms {
    fn lock(&self) -> std::sync::MutexGuard<'_, Set> {
        self.set.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets actor `id`'s alarm to `at`, replacing any it had (`only_earlier`: unless that
    /// one is earlier). `true` when no ticker runs and the caller must start one
    /// ([`Alarms::tick`]).
    pub(crate) fn set(&self, id: ActorId, at: SystemTime, only_earlier: bool) -> bool {
        let mut set = self.lock();
        // Whoever finds no ticker running starts one, whatever else this call does.
        let start = !set.ticking;
        set.ticking = true;
        if let Some(&old) = set.of.get(&id) {
            if only_earlier && old <= at {
                return start;
            }
            set.due.remove(&(old, id.clone()));
        }
        set.of.insert(id.clone(), at);
        let earliest = set.due.first().is_none_or(|(first, _)| at < *first);
        set.due.insert((at, id));
        drop(set);
        if earliest && !start {
            self.earlier.notify_one();
        }
        start
    }

    /// Removes actor `id`'s alarm (it woke, or it is destroyed).
    pub(crate) fn clear(&self, id: &ActorId) {
        let mut set = self.lock();
        if let Some(at) = set.of.remove(id) {
            set.due.remove(&(at, id.clone()));
        }
    }

    /// How many alarms are set.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().of.len()
    }

    fn next(&self, now: SystemTime) -> Next {
        let mut set = self.lock();
        let mut due = Vec::new();
        while let Some((at, _)) = set.due.first()
            && *at <= now
        {
            let (_, id) = set.due.pop_first().expect("looked at above");
            set.of.remove(&id);
            due.push(id);
        }
        if !due.is_empty() {
            return Next::Wake(due);
        }
        match set.due.first() {
            Some((at, _)) => Next::SleepUntil(*at),
            None => {
                set.ticking = false;
                Next::Stop
            }
        }
    }

    /// The ticker: wakes each actor (`wake`) as its alarm comes due. It holds its owner only
    /// weakly, between alarms: an owner dropped ends it.
    pub(crate) fn tick<O, F>(
        owner: Weak<O>,
        alarms: fn(&O) -> &Alarms,
        wake: F,
    ) -> impl Future<Output = ()>
    where
        F: Fn(&Arc<O>, &ActorId),
    {
        // However the ticker ends (dropped with its runtime, even before it first ran), the
        // next alarm set starts another: the guard is made before the future is.
        let ended = Ended {
            owner: owner.clone(),
            alarms,
            stopped: false,
        };
        Self::ticking(owner, alarms, wake, ended)
    }

    async fn ticking<O, F>(owner: Weak<O>, alarms: fn(&O) -> &Alarms, wake: F, ended: Ended<O>)
    where
        F: Fn(&Arc<O>, &ActorId),
    {
        let mut ended = ended;
        let Some(earlier) = owner.upgrade().map(|o| alarms(&o).earlier.clone()) else {
            return;
        };
        loop {
            let told = earlier.notified();
            tokio::pin!(told);
            // Registered before the set is read: an earlier alarm set meanwhile is heard.
            told.as_mut().enable();
            let Some(o) = owner.upgrade() else { return };
            let next = alarms(&o).next(SystemTime::now());
            match next {
                Next::Stop => {
                    // `next` marked it stopped under the lock; a ticker started since is not
                    // this one's to mark.
                    ended.stopped = true;
                    return;
                }
                Next::Wake(ids) => {
                    for id in &ids {
                        wake(&o, id);
                    }
                }
                Next::SleepUntil(at) => {
                    drop(o);
                    let delay = at
                        .duration_since(SystemTime::now())
                        .unwrap_or(Duration::ZERO);
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = &mut told => {}
                    }
                }
            }
        }
    }
}

/// Marks the ticker stopped when it ends other than by finding nothing set (cancelled).
struct Ended<O> {
    owner: Weak<O>,
    alarms: fn(&O) -> &Alarms,
    stopped: bool,
}

impl<O> Drop for Ended<O> {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        if let Some(owner) = self.owner.upgrade() {
            (self.alarms)(&owner).lock().ticking = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Owner {
        alarms: Alarms,
        woken: Mutex<Vec<String>>,
    }

    fn start(owner: &Arc<Owner>) {
        tokio::spawn(Alarms::tick(
            Arc::downgrade(owner),
            |o: &Owner| &o.alarms,
            |o, id| o.woken.lock().unwrap().push(id.as_str().to_owned()),
        ));
    }

    /// Waits (up to 10 s) until `count` wakes happened, and a little more for any extra.
    async fn woken_count(owner: &Owner, count: usize) {
        for _ in 0..1000 {
            if owner.woken.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    fn id(name: &str) -> ActorId {
        ActorId::new(name)
    }

    #[tokio::test]
    async fn alarms_fire_in_order_once_each_and_the_ticker_stops_when_none_is_left() {
        let owner = Arc::new(Owner {
            alarms: Alarms::default(),
            woken: Mutex::new(Vec::new()),
        });
        let start_time = std::time::Instant::now();
        let now = SystemTime::now();
        let ms = Duration::from_millis;
        assert!(owner.alarms.set(id("late"), now + ms(2_000), false));
        start(&owner);
        // Set while the ticker sleeps toward a later one: heard at once, not at 2 s.
        assert!(!owner.alarms.set(id("early"), now + ms(50), false));
        woken_count(&owner, 1).await;
        assert_eq!(*owner.woken.lock().unwrap(), ["early"]);
        assert!(
            start_time.elapsed() < ms(1_500),
            "the earlier alarm was not heard"
        );
        // Replaced: fires once, at the new time; an alarm only moved earlier stays.
        assert!(!owner.alarms.set(id("moved"), now + ms(10_000), false));
        assert!(!owner.alarms.set(id("moved"), now + ms(150), false));
        assert!(!owner.alarms.set(id("moved"), now + ms(5_000), true));
        assert!(!owner.alarms.set(id("cleared"), now + ms(100), false));
        owner.alarms.clear(&id("cleared"));
        woken_count(&owner, 3).await;
        assert_eq!(*owner.woken.lock().unwrap(), ["early", "moved", "late"]);
        assert_eq!(owner.alarms.len(), 0);
        // The ticker has stopped: the next alarm starts another.
        assert!(owner.alarms.set(id("again"), SystemTime::now(), false));
        start(&owner);
        woken_count(&owner, 4).await;
        assert_eq!(owner.woken.lock().unwrap().last().unwrap(), "again");
    }

    #[tokio::test]
    async fn a_ticker_cancelled_with_its_runtime_does_not_stop_later_alarms() {
        let owner = Arc::new(Owner {
            alarms: Alarms::default(),
            woken: Mutex::new(Vec::new()),
        });
        let far = SystemTime::now() + Duration::from_secs(3600);
        assert!(owner.alarms.set(id("far"), far, false));
        let cancelled = tokio::spawn(Alarms::tick(
            Arc::downgrade(&owner),
            |o: &Owner| &o.alarms,
            |o, id| o.woken.lock().unwrap().push(id.as_str().to_owned()),
        ));
        tokio::task::yield_now().await;
        cancelled.abort();
        let _ = cancelled.await;
        assert!(owner.alarms.set(id("soon"), SystemTime::now(), false));
        // Dropped before it ever ran (its runtime going away), the same.
        drop(Alarms::tick(
            Arc::downgrade(&owner),
            |o: &Owner| &o.alarms,
            |_, _| {},
        ));
        // An alarm not moved (it is earlier already) still starts the stopped ticker.
        assert!(owner.alarms.set(id("soon"), far, true));
    }
}
