use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[can_invoke]
    fn allow(&mut self, invoke: Invoke<Self>) -> bool {
        let _ = invoke;
        true
    }
}
fn main() {}
