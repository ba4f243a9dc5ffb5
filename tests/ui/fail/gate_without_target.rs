use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct NewMessage;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(events(new_message = NewMessage))]
impl Room {
    #[can_subscribe]
    fn may_read(&self) -> bool {
        true
    }

    #[can_publish = "jobs"]
    fn may_queue(&self) -> bool {
        true
    }
}

fn main() {}
