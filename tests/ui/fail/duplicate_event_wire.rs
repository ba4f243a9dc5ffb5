use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[derive(Serialize, Deserialize)]
struct A;
#[derive(Serialize, Deserialize)]
struct B;

#[actor(events(user_joined = A, userJoined = B))]
impl Room {}
fn main() {}
