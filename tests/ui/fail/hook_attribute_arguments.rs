use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Clock {
    ticks: u64,
}

#[actor]
impl Clock {
    #[on_wake(eager)]
    fn wake(&mut self) {
        self.ticks += 1;
    }

    #[on_sleep = "now"]
    fn sleep(&mut self) {
        self.ticks = 0;
    }

    #[action = "tick"]
    fn tick(&mut self) -> u64 {
        self.ticks += 1;
        self.ticks
    }
}

fn main() {}
