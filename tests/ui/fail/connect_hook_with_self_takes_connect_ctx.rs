use rivet_actor::context::PreConnectCtx;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[derive(Deserialize)]
struct Params {
    token: String,
}

#[actor]
impl Room {
    // With `&self` the hook runs in the turn, and gets `ConnectCtx`.
    #[conn_state]
    fn member(&self, c: &PreConnectCtx<'_, Self>, params: &Params) -> String {
        let _ = c;
        params.token.clone()
    }
}

fn main() {}
