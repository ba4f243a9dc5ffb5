use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(nmae = "room")]
impl Room {
    #[action]
    fn get(&self) -> u32 {
        0
    }
}
fn main() {}
