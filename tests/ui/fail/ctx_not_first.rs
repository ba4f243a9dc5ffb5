use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn greet(&self, name: String, c: &ActionCtx<'_, Self>) -> String {
        let _ = c;
        name
    }
}
fn main() {}
