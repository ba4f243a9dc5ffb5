use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct Ping;

#[actor(name = "room")]
#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(events(ping = Ping))]
impl Room {
    #[action]
    fn get(&self) -> u32 {
        0
    }
}

fn main() {}
