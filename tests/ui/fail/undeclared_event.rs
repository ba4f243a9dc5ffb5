use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[derive(Serialize, Deserialize)]
struct Declared;
#[derive(Serialize, Deserialize)]
struct Undeclared;

#[actor(events(declared = Declared))]
impl Room {
    #[action]
    fn shout(&self, c: &ActionCtx<'_, Self>) {
        c.broadcast(Declared);
        c.broadcast(Undeclared);
    }
}
fn main() {}
