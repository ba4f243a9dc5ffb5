//! Calls the actor makes on itself ([`This`](crate::context::This)): typed, no connection,
//! no `can_invoke`, each a turn queued behind the current one; and closures it runs as
//! turns (`This::turn`, run by `Instance::closure_turn`).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::actor::Actor;
use crate::context::client::{Origin, check_cycle};
use crate::context::effects::{SelfCalls, TurnOutput, TurnWork};
use crate::error::ActorError;
use crate::runtime::command::{CallAndReply, Command};
use crate::runtime::host::Host;
use crate::runtime::lookup::ActorId;
use crate::storage::BoxFuture;

pub(crate) struct SelfCaller<A: Actor> {
    host: Arc<Host<A>>,
    id: ActorId,
    tx: mpsc::Sender<crate::runtime::command::Mail<A>>,
    /// The turn that made it: a call awaited inside that turn could never be answered.
    origin: Option<Origin>,
}

impl<A: Actor> SelfCaller<A> {
    pub(crate) fn new(host: Arc<Host<A>>, id: ActorId, origin: Option<Origin>) -> Self {
        let tx = host.sender(&id);
        Self {
            host,
            id,
            tx,
            origin,
        }
    }
}

impl<A: Actor> SelfCaller<A> {
    /// Mails `cmd` (made with the reply channel it is given) and waits for its answer.
    fn mail<T: Send + 'static>(
        &self,
        cmd: impl FnOnce(oneshot::Sender<Result<T, ActorError>>) -> Command<A>,
    ) -> BoxFuture<'static, Result<T, ActorError>> {
        let chain = self.origin.as_ref().and_then(Origin::current);
        if let Err(cycle) = check_cycle(chain.as_ref(), &self.id) {
            return Box::pin(std::future::ready(Err(cycle)));
        }
        let (reply, rx) = oneshot::channel();
        let cmd = cmd(reply);
        let host = self.host.clone();
        let id = self.id.clone();
        let tx = self.tx.clone();
        Box::pin(async move {
            if let Err(mpsc::error::SendError(cmd)) = tx.send(Box::new(cmd)).await {
                // The instance went to sleep or stopped: wake a fresh one.
                host.send(&id, *cmd).await;
            }
            // A dropped reply is a turn that panicked.
            rx.await.unwrap_or_else(|_| Err(ActorError::internal()))
        })
    }
}

impl<A: Actor> SelfCalls<A> for SelfCaller<A> {
    fn call(&self, call: A::Call) -> BoxFuture<'static, Result<A::Return, ActorError>> {
        self.mail(|reply| Command::Internal {
            invocation: CallAndReply::Typed { call, reply },
        })
    }

    fn turn(&self, work: TurnWork<A>) -> BoxFuture<'static, Result<TurnOutput, ActorError>> {
        self.mail(|reply| Command::Turn { work, reply })
    }
}
