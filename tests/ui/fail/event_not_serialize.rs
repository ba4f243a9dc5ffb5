use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

struct Ping;

#[actor(events(ping = Ping))]
impl Room {}
fn main() {}
