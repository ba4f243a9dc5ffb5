use rivet_actor::context::PreConnectCtx;
use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    // `c.sleep()` and friends live on the turn's contexts; a detached connect hook runs
    // outside the turn and has none of them.
    #[before_connect]
    fn check(c: &PreConnectCtx<'_, Self>) -> Result<(), UserError> {
        c.sleep();
        Ok(())
    }
}
fn main() {}
