//! Shutting a host down ([`crate::Registry::shutdown`]): no new instance starts, and every
//! awake one — running or parked — stops the way an actor goes to sleep: the turn it runs
//! ends, its writes settle, its connections close with `actor.stopped`, its `on_sleep` runs.
//! What it stored is kept; a process that starts again wakes it from there.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::runtime::command::Command;
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;

impl<A: Actor> Host<A> {
    /// Whether the host was shut down: commands to an actor that is not awake are refused
    /// with `actor.stopped` instead of waking it.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Refuses new instances, then stops every awake one (all at once) and waits for them.
    pub(crate) async fn shutdown(self: &Arc<Self>) {
        self.closed.store(true, Ordering::Release);
        let awake: Vec<ActorId> = {
            let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            live.keys().cloned().collect()
        };
        futures_util::future::join_all(awake.iter().map(|id| self.stop(id))).await;
    }

    /// Puts instance `id` to sleep now if it is awake (its stopping signal raised first, so
    /// a long turn hears it); returns once it has left.
    pub(crate) async fn stop(self: &Arc<Self>, id: &ActorId) {
        self.signal_stopping(id);
        let (reply, stopped) = oneshot::channel();
        if self
            .send_if_live(id, Command::Stop { reply })
            .await
            .is_none()
        {
            let _ = stopped.await;
        }
    }
}
