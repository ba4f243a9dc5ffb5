use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(events(new_message))]
impl Room {}
fn main() {}
