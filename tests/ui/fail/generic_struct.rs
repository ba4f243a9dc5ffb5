use rivet_actor::prelude::*;

#[actor]
#[derive(Default, Serialize, Deserialize)]
struct Store<T> {
    items: Vec<T>,
}

fn main() {}
