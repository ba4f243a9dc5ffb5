use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

struct Token {
    value: String,
}

#[actor]
impl Room {
    #[conn_state]
    fn member(&self, params: &Token) -> String {
        params.value.clone()
    }
}

fn main() {}
