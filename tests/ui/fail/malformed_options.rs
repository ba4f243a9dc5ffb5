use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(origins = "https://a.com")]
impl Room {}
fn main() {}
