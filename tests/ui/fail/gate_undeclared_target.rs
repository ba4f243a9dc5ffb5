use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct NewMessage;

#[derive(Serialize, Deserialize)]
struct Job;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(events(new_message = NewMessage), queues(jobs = Job))]
impl Room {
    #[can_subscribe(new_mesage)]
    fn may_read(&self) -> bool {
        true
    }

    #[can_publish(job)]
    fn may_queue(&self) -> bool {
        true
    }
}

fn main() {}
