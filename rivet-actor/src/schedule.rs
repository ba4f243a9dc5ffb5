//! Schedules from the actor's side: [`ActorCtx::schedule`](crate::ActorCtx::schedule).
//!
//! A schedule is a typed call of one of the actor's own actions, run later as a turn of the
//! actor itself (no connection, `c.try_conn()` is `None`; `can_invoke` does not apply):
//!
//! ```
//! use std::time::Duration;
//! use rivet_actor::prelude::*;
//! use rivet_actor::schedule::ScheduleId;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! pub struct Reminder { rung: Vec<String> }
//!
//! #[actor]
//! impl Reminder {
//!     #[action]
//!     fn remind(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<ScheduleId, Error> {
//!         c.schedule().after(Duration::from_secs(60), ReminderCall::Ring((text,)))
//!     }
//!
//!     #[action]
//!     fn ring(&mut self, text: String) {
//!         self.rung.push(text);
//!     }
//! }
//! ```
//!
//! The call is the generated `Call` enum, so a misspelt action or a wrong argument type does
//! not compile. Schedules are durable: added or cancelled in a turn, they are written in that
//! turn's commit (a failed turn schedules nothing); they survive restarts, and a sleeping
//! actor is woken when one is due (after a restart, the registry wakes actors with pending
//! schedules when it is built). A due schedule's call and the deletion of its row commit
//! together, so it takes effect exactly once; a call that fails is logged and not retried.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::actor::{Actor, ActorCall};
use crate::context::ActorCtx;
use crate::context::effects::TurnEffects;
use crate::error::Error;
use crate::value::Value;

/// The largest scheduled call, CBOR-encoded (action name, arguments and time): a larger one
/// answers `schedule.too_large`. Every pending schedule is held in memory while its actor is
/// awake, so this with [`HostConfig::max_schedules`](crate::HostConfig::max_schedules)
/// bounds what they hold (64 MiB at most by default).
///
/// ```
/// assert_eq!(rivet_actor::schedule::MAX_CALL_BYTES, 64 * 1024);
/// ```
pub const MAX_CALL_BYTES: usize = 64 * 1024;

/// The id of a pending schedule.
///
/// ```
/// use rivet_actor::schedule::ScheduleId;
///
/// let id = ScheduleId::from("0193a5");
/// assert_eq!(id.as_str(), "0193a5");
/// assert_eq!(id.to_string(), "0193a5");
/// ```
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ScheduleId(String);

impl ScheduleId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ScheduleId {
    fn from(id: &str) -> Self {
        ScheduleId(id.to_owned())
    }
}

impl From<String> for ScheduleId {
    fn from(id: String) -> Self {
        ScheduleId(id)
    }
}

impl fmt::Display for ScheduleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pending schedule, as [`Schedules::list`] and [`Schedules::get`] show it.
#[derive(Debug)]
pub struct Scheduled<A: Actor> {
    /// Its id.
    pub id: ScheduleId,
    /// The action it calls.
    pub action: A::Action,
    /// The call's arguments, as the wire's positional array.
    pub args: Vec<Value>,
    /// When it is due.
    pub run_at: SystemTime,
}

/// The actor's schedules, inside a turn: [`ActorCtx::schedule`](crate::ActorCtx::schedule).
pub struct Schedules<'a, A: Actor> {
    effects: &'a dyn TurnEffects<A>,
}

impl<A: Actor> Schedules<'_, A> {
    /// Calls `call` after `delay`, as a turn of the actor itself.
    ///
    /// # Errors
    /// `schedule.limit_reached` when the actor already holds
    /// [`HostConfig::max_schedules`](crate::HostConfig::max_schedules) schedules;
    /// `schedule.too_large` when the encoded call passes [`MAX_CALL_BYTES`]; an internal
    /// error if the arguments cannot be encoded.
    pub fn after(&self, delay: Duration, call: A::Call) -> Result<ScheduleId, Error> {
        // A delay past what the clock holds is as good as never (the latest moment stored).
        // Where the platform's clock ends sooner (Windows: year 30828), its year 9999.
        let latest = UNIX_EPOCH
            .checked_add(Duration::from_millis(i64::MAX as u64))
            .unwrap_or(UNIX_EPOCH + Duration::from_secs(253_402_300_799));
        let when = SystemTime::now().checked_add(delay).unwrap_or(latest);
        self.at(when, call)
    }

    /// Calls `call` at `when` (at once if `when` has passed), as a turn of the actor itself.
    ///
    /// # Errors
    /// As [`Schedules::after`].
    pub fn at(&self, when: SystemTime, call: A::Call) -> Result<ScheduleId, Error> {
        let action = call.action();
        let args = call.to_args()?;
        let id = self
            .effects
            .schedule(action, args, when)
            .map_err(Error::from)?;
        Ok(ScheduleId(id))
    }

    /// Cancels a pending schedule (the cancellation commits with this turn); whether it was
    /// pending.
    pub fn cancel(&self, id: &ScheduleId) -> bool {
        self.effects.cancel_schedule(id.as_str())
    }

    /// The pending schedules, earliest first, as this turn sees them (its own additions and
    /// cancellations included).
    pub fn list(&self) -> Vec<Scheduled<A>> {
        self.effects.schedules()
    }

    /// One pending schedule.
    pub fn get(&self, id: &ScheduleId) -> Option<Scheduled<A>> {
        self.list().into_iter().find(|s| &s.id == id)
    }
}

impl<'a, A: Actor> ActorCtx<'a, A> {
    /// The actor's schedules: add, list and cancel delayed calls of its own actions.
    ///
    /// ```
    /// # use rivet_actor::prelude::*;
    /// # use std::time::Duration;
    /// # #[derive(Default, Serialize, Deserialize)] struct Counter { n: u64 }
    /// # #[actor] impl Counter {
    /// # #[action] fn increment(&mut self, by: u64) -> u64 { self.n += by; self.n }
    /// #[action]
    /// fn later(&mut self, c: &mut ActionCtx<'_, Self>) -> Result<usize, Error> {
    ///     let id = c.schedule().after(Duration::from_secs(5), CounterCall::Increment((1,)))?;
    ///     assert!(c.schedule().get(&id).is_some());
    ///     Ok(c.schedule().list().len()) // this turn's additions included
    /// }
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let test = ActorTest::<Counter>::new();
    /// # let counter = test.get_or_create("c").await.unwrap();
    /// # assert_eq!(counter.later().await.unwrap(), 1);
    /// # assert_eq!(counter.later().await.unwrap(), 2);
    /// # });
    /// ```
    pub fn schedule(&self) -> Schedules<'_, A> {
        Schedules {
            effects: self.effects,
        }
    }
}
