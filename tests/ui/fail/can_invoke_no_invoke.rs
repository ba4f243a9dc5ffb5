use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[can_invoke]
    fn allow(&self, c: &ConnCtx<'_, Self>) -> bool {
        let _ = c;
        true
    }
}
fn main() {}
