use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

struct Point {
    x: i32,
}

#[actor]
impl Room {
    #[action]
    fn mv(&mut self, to: Point) -> i32 {
        to.x
    }
}
fn main() {}
