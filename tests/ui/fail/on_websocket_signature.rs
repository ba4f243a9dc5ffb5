use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Site;

#[actor]
impl Site {
    #[on_websocket]
    fn socket(&mut self) -> u32 {
        0
    }
}

fn main() {}
