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

#[derive(Default, Serialize, Deserialize)]
struct Game;

#[actor]
impl Game {
    /// Hidden by `c.this().turn(..)` (a closure run as a turn).
    #[action]
    fn turn(&mut self) -> u32 {
        1
    }
}
fn main() {}
