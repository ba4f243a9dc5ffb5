use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn echo(&self, text: &str) -> String {
        text.to_string()
    }
}
fn main() {}
