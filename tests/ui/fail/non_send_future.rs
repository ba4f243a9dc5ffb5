use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

use std::rc::Rc;

async fn yield_now() {}

#[actor]
impl Room {
    #[action]
    async fn count(&self) -> usize {
        let shared = Rc::new(5);
        yield_now().await;
        *shared
    }
}
fn main() {}
