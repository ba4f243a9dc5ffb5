use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Sleepy;

#[actor(no_sleep, sleep_timeout_ms = 1_000)]
impl Sleepy {
    #[action]
    fn ping(&self) {}
}

#[derive(Default, Serialize, Deserialize)]
struct Hasty;

#[actor(action_timeout_ms = 0)]
impl Hasty {
    #[action]
    fn ping(&self) {}
}

#[derive(Default, Serialize, Deserialize)]
struct Vague;

#[actor(sleep_timeout_ms = "30s")]
impl Vague {
    #[action]
    fn ping(&self) {}
}

#[derive(Default, Serialize, Deserialize)]
struct Restless;

#[actor(sleep_timeout_ms = 0)]
impl Restless {
    #[action]
    fn ping(&self) {}
}

#[derive(Default, Serialize, Deserialize)]
struct Unqueued;

#[actor(max_queue_size = 0)]
impl Unqueued {
    #[action]
    fn ping(&self) {}
}

#[derive(Default, Serialize, Deserialize)]
struct Wordy;

#[actor(max_queue_message_size = "1k")]
impl Wordy {
    #[action]
    fn ping(&self) {}
}

fn main() {}
