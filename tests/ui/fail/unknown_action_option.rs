use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action(rename = "other")]
    fn get(&self) -> u32 {
        0
    }
}
fn main() {}
