use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Store<T> {
    items: Vec<T>,
}

#[actor]
impl<T: Clone> Store<T> {
    #[action]
    fn count(&self) -> usize {
        self.items.len()
    }
}

fn main() {}
