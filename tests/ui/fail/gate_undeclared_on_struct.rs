use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct NewMessage;

#[derive(Default, Serialize, Deserialize)]
#[actor(events(new_message = NewMessage))]
struct Room;

#[actor]
impl Room {
    #[can_subscribe(new_mesage)]
    fn may_read(&self) -> bool {
        true
    }
}

fn main() {}
