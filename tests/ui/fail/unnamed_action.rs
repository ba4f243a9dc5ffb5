use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct Ping;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(events(__ = Ping))]
impl Room {
    #[action]
    fn _1(&self) -> bool {
        true
    }
}
fn main() {}
