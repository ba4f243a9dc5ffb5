use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    #[on_wake]
    fn both(&mut self) {}
}
fn main() {}
