// Per-event and per-queue gates, raw handlers and the run loop.
#![deny(warnings)]
use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct NewMessage;

#[derive(Serialize, Deserialize)]
struct Secret;

#[derive(Serialize, Deserialize)]
struct Job;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(events(new_message = NewMessage, secret = Secret), queues(jobs = Job))]
impl Room {
    #[can_subscribe(secret)]
    fn may_see_secrets(&self, c: &ConnCtx<'_, Self>) -> bool {
        c.key().is_empty()
    }

    #[can_subscribe(new_message)]
    async fn may_read(&self) -> bool {
        true
    }

    #[can_publish(jobs)]
    fn may_queue(&self, _c: &ConnCtx<'_, Self>) -> bool {
        false
    }

    #[on_request]
    async fn http(&mut self, _c: &mut ActionCtx<'_, Self>, _request: RawRequest) -> Result<RawResponse, UserError> {
        Ok(RawResponse::new(Default::default()))
    }

    #[on_websocket]
    fn socket(&self, _socket: RawWebSocket) {}

    #[run]
    async fn run(_c: RunCtx<Self>) -> Result<(), UserError> {
        Ok(())
    }
}

// Options on the struct: the gate's target is checked against the struct's declarations.
#[derive(Default, Serialize, Deserialize)]
#[actor(events(new_message = NewMessage))]
struct Lobby;

#[actor]
impl Lobby {
    #[can_subscribe(new_message)]
    fn may_read(&self) -> bool {
        false
    }

    #[on_request]
    fn http(&self, _request: RawRequest) -> RawResponse {
        RawResponse::new(Default::default())
    }
}

fn main() {
    assert!(<Room as Actor>::HANDLES_REQUESTS);
    assert!(<Room as Actor>::HANDLES_WEBSOCKETS);
    assert!(<Room as Actor>::HAS_RUN);
    assert!(<Lobby as Actor>::HANDLES_REQUESTS);
    assert!(!<Lobby as Actor>::HANDLES_WEBSOCKETS);
    assert!(!<Lobby as Actor>::HAS_RUN);
}
