use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

trait Named {}

#[actor]
impl Named for Room {}

fn main() {}
