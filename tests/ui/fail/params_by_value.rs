use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[derive(Serialize, Deserialize)]
struct Params {
    token: String,
}

#[actor]
impl Room {
    #[before_connect]
    fn check(&self, params: Params) -> Result<(), UserError> {
        let _ = params.token;
        Ok(())
    }
}
fn main() {}
