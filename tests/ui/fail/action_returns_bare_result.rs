use rivet_actor::prelude::*;

/// A type of the user's own that happens to be called `Result`.
#[derive(Serialize, Deserialize)]
struct Result {
    score: u32,
}

#[derive(Default, Serialize, Deserialize)]
struct Game;

#[actor]
impl Game {
    #[action]
    fn score(&self) -> Result {
        Result { score: 1 }
    }
}

fn main() {}
