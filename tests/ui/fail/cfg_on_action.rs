use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    #[cfg(any())]
    fn reset(&mut self) {}
}
fn main() {}
