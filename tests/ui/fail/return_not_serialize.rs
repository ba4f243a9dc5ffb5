use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

struct Report {
    lines: Vec<String>,
}

#[actor]
impl Room {
    #[action]
    fn report(&self) -> Report {
        Report { lines: vec![] }
    }
}
fn main() {}
