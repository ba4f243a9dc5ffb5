use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Ledger {
    total: u64,
}

#[actor]
impl Ledger {
    /// Runs before there is a state: no receiver, no context, and the old state to read.
    #[on_migrate]
    fn migrate(&self, c: &ActionCtx<'_, Self>) -> Self {
        let _ = c;
        Ledger { total: self.total }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Journal {
    lines: Vec<String>,
}

#[actor]
impl Journal {
    #[on_migrate]
    fn migrate(old: Value, extra: u32) -> Self {
        let _ = (old, extra);
        Journal::default()
    }
}

fn main() {}
