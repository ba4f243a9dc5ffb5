use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Worker;

#[derive(Serialize, Deserialize)]
struct Job;
#[derive(Serialize, Deserialize)]
struct Undeclared;

#[actor(queues(jobs = Job))]
impl Worker {
    #[action]
    fn work(&mut self, c: &mut ActionCtx<'_, Self>) {
        let _ = c.queue().try_next::<Job>();
        let _ = c.queue().try_next::<Undeclared>();
    }
}

async fn client(worker: rivet_actor::ActorHandle<Worker>) {
    let _ = worker.send(Job).await;
    let _ = worker.send(Undeclared).await;
}

fn main() {
    let _ = client;
}
