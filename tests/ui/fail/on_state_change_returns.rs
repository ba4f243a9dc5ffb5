use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[on_state_change]
    fn watch(&self) -> bool {
        true
    }
}
fn main() {}
