use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room {
    name: String,
}

#[actor]
impl Room {
    #[create_state]
    fn create(name: &str) -> Self {
        Room { name: name.to_owned() }
    }
}

fn main() {}
