use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[before_conect]
    fn check(&self) -> Result<(), UserError> {
        Ok(())
    }

    #[doc = "unrelated attributes are left alone"]
    #[allow(clippy::unused_self)]
    #[actoin]
    fn get(&self) -> u32 {
        0
    }
}
fn main() {}
