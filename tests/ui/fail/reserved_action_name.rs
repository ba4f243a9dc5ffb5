use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn connect(&mut self) -> bool {
        true
    }
}
fn main() {}
