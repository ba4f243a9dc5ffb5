use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    /// Hidden by the handle's own `send_and_wait` (a queue send).
    #[action]
    fn send_and_wait(&mut self) -> bool {
        true
    }
}
fn main() {}
