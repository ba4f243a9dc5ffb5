use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn rename(&self, name: impl Into<String>) -> String {
        name.into()
    }
}
fn main() {}
