use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

struct Member {
    name: String,
}

struct Guest {
    name: String,
}

#[actor]
impl Room {
    #[conn_state]
    fn member(&self) -> Member {
        Member { name: "ann".into() }
    }

    #[action]
    fn who(&self, c: &ActionCtx<'_, Self>) -> String {
        let guest: &Guest = c.conn().state();
        guest.name.clone()
    }
}
fn main() {}
