use rivet_actor::prelude::*;

#[actor]
enum Room {
    Open,
}

#[actor]
trait Hook {}

fn main() {}
