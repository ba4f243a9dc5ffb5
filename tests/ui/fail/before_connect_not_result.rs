use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[before_connect]
    fn check(&self, c: &ConnectCtx<'_, Self>) {
        let _ = c;
    }
}
fn main() {}
