use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[can_invoke]
    fn allow(&self, invoke: Invoke<Self>) -> Result<bool, UserError> {
        let _ = invoke;
        Ok(true)
    }
}
fn main() {}
