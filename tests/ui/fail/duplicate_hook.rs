use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[on_wake]
    fn wake(&mut self) {}

    #[on_wake]
    fn wake_again(&mut self) {}
}
fn main() {}
