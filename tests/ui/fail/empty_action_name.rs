use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action(name = "")]
    fn nameless(&self) {}
}
fn main() {}
