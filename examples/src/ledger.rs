//! `Ledger`: a counter that says which process hosts it, for spreading actors over several
//! host processes on a Rivet Engine (engine mode) and watching them move when a host leaves
//! or dies.

use rivet_actor::prelude::*;

/// A running total; `host` answers the id of the process the actor runs in.
#[derive(Default, Serialize, Deserialize)]
pub struct Ledger {
    total: i64,
}

#[actor]
impl Ledger {
    /// Adds `by`; the new total.
    #[action]
    fn add(&mut self, by: i64) -> i64 {
        self.total += by;
        self.total
    }

    /// The total.
    #[action]
    fn total(&self) -> i64 {
        self.total
    }

    /// The id of the process hosting the actor now.
    #[action]
    fn host(&self) -> u32 {
        std::process::id()
    }
}
