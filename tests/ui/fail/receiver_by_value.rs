use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn take(self) -> u32 {
        0
    }
}
fn main() {}
