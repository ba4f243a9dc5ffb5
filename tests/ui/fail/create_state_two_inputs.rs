use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room {
    name: String,
}

#[actor]
impl Room {
    #[create_state]
    fn create(name: Option<String>, size: u32) -> Self {
        let _ = size;
        Room { name: name.unwrap_or_default() }
    }
}
fn main() {}
