use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct Room {
    topic: String,
}

#[actor]
impl Room {
    #[action]
    fn topic(&self) -> String {
        self.topic.clone()
    }
}

#[derive(Serialize, Deserialize)]
#[actor]
struct Lonely {
    n: u32,
}

fn main() {}
