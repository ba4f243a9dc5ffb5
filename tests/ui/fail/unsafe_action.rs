use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    unsafe fn boom(&self) -> bool {
        true
    }
}
fn main() {}
