use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
#[allow(non_snake_case)]
impl Room {
    #[action]
    fn get_count(&self) -> u32 {
        0
    }

    #[action(name = "other")]
    fn getCount(&self) -> u32 {
        1
    }
}

fn main() {}
