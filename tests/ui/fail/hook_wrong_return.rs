use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[on_create]
    fn created(&mut self) -> u32 {
        0
    }
}
fn main() {}
