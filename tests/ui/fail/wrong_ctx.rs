use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn get(&self, c: &ActorCtx<'_, Self>) -> u32 {
        let _ = c;
        0
    }

    #[on_state_change]
    fn changed(&self, c: &mut ActorCtx<'_, Self>) {
        let _ = c;
    }
}
fn main() {}
