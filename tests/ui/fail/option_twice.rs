use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(name = "room", name = "hall")]
impl Room {
    #[action]
    fn ping(&self) {}
}
fn main() {}
