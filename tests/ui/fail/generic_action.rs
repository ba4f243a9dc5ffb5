use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[action]
    fn get<T: Default>(&self) -> u32 {
        let _ = T::default();
        0
    }
}
fn main() {}
