use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Counter;

#[actor]
impl Counter {
    #[action]
    fn increment(&mut self, c: ActionCtx<'_, Self>) {
        let _ = c;
    }
}

fn main() {}
