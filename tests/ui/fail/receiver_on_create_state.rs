use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[create_state]
    fn create(&self) -> Self {
        Room
    }
}
fn main() {}
