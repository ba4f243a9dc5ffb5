use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Worker;

#[actor]
impl Worker {
    #[run]
    async fn run(&mut self, c: &RunCtx<Self>) -> u32 {
        let _ = c;
        0
    }
}

fn main() {}
