//! What an idle actor and an idle connection hold up front (issue: ≤ 2 KiB + state per
//! idle actor, ≤ 16 KiB per idle WebSocket): the task's future is allocated at its largest
//! state for as long as the actor is awake, and tokio allocates a channel's first block of
//! 32 slots when the channel is made.
use super::*;
use crate as rivet_actor;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Probe {
    n: i64,
}

#[actor]
impl Probe {
    #[action]
    fn add(&mut self, by: i64) -> i64 {
        self.n += by;
        self.n
    }
}

/// The size of what `f` returns, without calling it.
fn output_size<I, R>(_: &impl FnOnce(I) -> R) -> usize {
    std::mem::size_of::<R>()
}

#[test]
fn the_task_and_the_channels_of_an_idle_actor_stay_small() {
    let host = Host::<Probe>::new(
        Arc::new(crate::storage::MemoryStorage::new()),
        Default::default(),
        Vec::new(),
        Default::default(),
        Default::default(),
    );
    let (_tx, rx) = mpsc::channel(1);
    let task = run::<Probe>(host.clone(), ActorId("x".into()), rx);
    // The loop's wait and a pointer to the instance (boxed once awake); every turn and
    // lifecycle step is boxed too.
    let instance = std::mem::size_of::<Instance<Probe>>();
    let task = std::mem::size_of_val(&task);
    // The loop alone: what a parked instance's task holds once it has a task again.
    let serve = output_size(&|(inst, rx)| {
        serve::<Probe>(host.clone(), ActorId("x".into()), inst, rx, Instant::now())
    });
    // A call's turn: made and moved into its box for every call.
    async fn turn(mut inst: Box<Instance<Probe>>, cmd: Mail<Probe>) {
        inst.handle(cmd).await
    }
    let turn = output_size(&|(inst, cmd)| turn(inst, cmd));
    eprintln!(
        "task future {task} bytes (loop {serve}), instance {instance} bytes, turn {turn} bytes"
    );
    assert!(task <= 512, "the task future is {task} bytes");
    assert!(serve <= 640, "the loop's future is {serve} bytes");
    assert!(instance <= 512, "the instance is {instance} bytes");
    // Moved into its box once per call: every byte of it is copied, and under a
    // kilobyte the allocator serves it from its per-thread cache (880 unoptimized; it
    // was 1,872 before `finish_turn` boxed its rare waits and `handle` took the box).
    assert!(turn <= 1024, "a call's turn is {turn} bytes");
    assert_eq!(std::mem::size_of::<Mail<Probe>>(), 8);
    assert!(std::mem::size_of::<crate::runtime::Outbound>() <= 40);
}
