use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct Job;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(queues(jobs = Job))]
impl Room {
    #[can_publish(jobs)]
    fn may_queue(&self) -> bool {
        true
    }

    #[can_publish(jobs)]
    fn may_queue_too(&self) -> bool {
        false
    }
}

fn main() {}
