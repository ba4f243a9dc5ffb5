use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn get_count(&self) -> u32 {
        0
    }

    #[action(name = "getCount")]
    fn count(&self) -> u32 {
        1
    }
}
fn main() {}
