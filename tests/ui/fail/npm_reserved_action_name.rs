use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    /// Wire name `onError`: the npm client's connections have their own.
    #[action]
    fn on_error(&self) -> bool {
        true
    }

    /// `then` would make the npm client's handle look like a promise.
    #[action(name = "then")]
    fn later(&self) -> bool {
        true
    }
}
fn main() {}
