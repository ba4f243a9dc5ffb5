use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[derive(Deserialize)]
struct Params {
    token: String,
}

#[actor]
impl Room {
    // Without `self` the hook runs outside the turn, where no vars are lent.
    #[before_connect]
    fn check(c: &mut ConnectCtx<'_, Self>, params: &Params) -> Result<(), UserError> {
        let _ = (c, params);
        Ok(())
    }
}

fn main() {}
