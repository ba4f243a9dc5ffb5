use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[on_wake]
    fn wake(&mut self, c: &mut ActorCtx<'_, Self>, extra: u32) {
        let _ = (c, extra);
    }
}
fn main() {}
