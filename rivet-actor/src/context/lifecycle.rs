//! What an actor controls of its own life: the stopping signal its long work can watch, the
//! background work (`wait_until`) that going to sleep waits for, and the work
//! (`keep_awake`) that keeps it from going idle. Shared by the instance, its contexts and
//! the host (which raises the signal from outside a running turn).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Raised when the actor starts to stop — it goes to sleep, is destroyed, or its host
/// hands it elsewhere — so long async work can wind down (`c.stopping()`).
///
/// ```
/// use rivet_actor::prelude::*;
/// use std::time::Duration;
///
/// #[derive(Default, Serialize, Deserialize)]
/// pub struct Crawler { pages: u32 }
///
/// #[actor]
/// impl Crawler {
///     /// Works until done or until the actor is stopping, whichever comes first.
///     #[action]
///     async fn crawl(&mut self, c: &mut ActionCtx<'_, Self>, pages: u32) -> u32 {
///         let stopping = c.stopping();
///         for _ in 0..pages {
///             tokio::select! {
///                 () = stopping.stopped() => break,
///                 () = tokio::time::sleep(Duration::from_millis(1)) => self.pages += 1,
///             }
///         }
///         self.pages
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Stopping {
    life: Arc<Life>,
}

impl Stopping {
    /// Whether the actor has started to stop.
    pub fn is_stopping(&self) -> bool {
        self.life.stopping.load(Ordering::SeqCst)
    }

    /// Resolves once the actor starts to stop (at once if it has).
    pub async fn stopped(&self) {
        loop {
            let changed = self.life.changed.notified();
            if self.is_stopping() {
                return;
            }
            changed.await;
        }
    }
}

/// A future handed to [`ActorCtx::wait_until`](crate::ActorCtx::wait_until).
pub(crate) type Background = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// One instance's life: its stopping signal, its background work and what keeps it awake.
/// Made on first use (most actors never ask), so an idle actor pays nothing for it.
pub(crate) struct Life {
    stopping: AtomicBool,
    /// `wait_until` futures still running.
    running: AtomicUsize,
    /// `keep_awake` futures not yet finished (or dropped).
    awake: AtomicUsize,
    /// When the last `keep_awake` future ended: the actor's idle time counts from there.
    awake_ended: Mutex<Option<tokio::time::Instant>>,
    /// Woken when the actor starts to stop and each time background work ends.
    changed: Notify,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Life {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Life {
            stopping: AtomicBool::new(false),
            running: AtomicUsize::new(0),
            awake: AtomicUsize::new(0),
            awake_ended: Mutex::new(None),
            changed: Notify::new(),
            tasks: Mutex::default(),
        })
    }

    /// The signal, for a context to hand out.
    pub(crate) fn signal(self: &Arc<Self>) -> Stopping {
        Stopping { life: self.clone() }
    }

    /// The actor starts to stop: everyone watching hears it.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Runs `work` in the background; going to sleep (or being destroyed) waits for it.
    pub(crate) fn spawn(self: &Arc<Self>, work: Background) {
        self.running.fetch_add(1, Ordering::SeqCst);
        let life = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            // Counted down however the work ends (finished, panicked, aborted).
            let _done = Done(life);
            work.await;
        });
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|task| !task.is_finished());
        tasks.push(task.abort_handle());
    }

    /// Keeps the actor from going idle until the hold is dropped.
    pub(crate) fn hold_awake(self: &Arc<Self>) -> AwakeHold {
        self.awake.fetch_add(1, Ordering::SeqCst);
        AwakeHold(self.clone())
    }

    /// Whether `keep_awake` work is running: the actor does not go idle meanwhile.
    pub(crate) fn keeps_awake(&self) -> bool {
        self.awake.load(Ordering::SeqCst) > 0
    }

    /// When the last `keep_awake` work ended, if any has.
    pub(crate) fn awake_ended(&self) -> Option<tokio::time::Instant> {
        *self.awake_ended.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether any work (`wait_until` or `keep_awake`) is still running.
    pub(crate) fn busy(&self) -> bool {
        self.running.load(Ordering::SeqCst) > 0 || self.keeps_awake()
    }

    /// Resolves when every piece of work has ended.
    pub(crate) async fn idle(&self) {
        loop {
            let ended = self.changed.notified();
            if !self.busy() {
                return;
            }
            ended.await;
        }
    }

    /// Waits up to `limit` for the background work, then cuts off what is left.
    pub(crate) async fn finish(&self, limit: std::time::Duration) {
        if tokio::time::timeout(limit, self.idle()).await.is_err() {
            let left = self.abort_all();
            tracing::warn!(
                left,
                "background work (wait_until) did not finish in time; cut off"
            );
        }
    }

    /// Cuts off the background tasks still running; how many there were.
    pub(crate) fn abort_all(&self) -> usize {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let left = tasks.iter().filter(|task| !task.is_finished()).count();
        for task in tasks {
            task.abort();
        }
        left
    }
}

/// `work`, holding the actor awake with `hold` until it ends (or is dropped): what
/// `c.keep_awake(work)` returns, in a turn or in the `#[run]` loop.
pub(crate) async fn kept_awake<F: Future>(hold: AwakeHold, work: F) -> F::Output {
    let output = work.await;
    drop(hold);
    output
}

/// Keeps the actor from going idle while it lives ([`Life::hold_awake`]); its drop restarts
/// the idle time and tells a leaving actor waiting for its work.
pub(crate) struct AwakeHold(Arc<Life>);

impl Drop for AwakeHold {
    fn drop(&mut self) {
        let life = &self.0;
        *life.awake_ended.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(tokio::time::Instant::now());
        life.awake.fetch_sub(1, Ordering::SeqCst);
        life.changed.notify_waiters();
    }
}

/// Counts a background task down when it ends.
struct Done(std::sync::Weak<Life>);

impl Drop for Done {
    fn drop(&mut self) {
        if let Some(life) = self.0.upgrade() {
            life.running.fetch_sub(1, Ordering::SeqCst);
            life.changed.notify_waiters();
        }
    }
}

/// What the current turn asked to happen once it has committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Sleep,
    Destroy,
}
