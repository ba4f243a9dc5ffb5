use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    // `#[on_destroy]` runs as a turn: it borrows the state mutably and returns `()`.
    #[on_destroy]
    fn gone(&self, c: &mut ActorCtx<'_, Self>) -> u32 {
        let _ = c;
        0
    }
}
fn main() {}
