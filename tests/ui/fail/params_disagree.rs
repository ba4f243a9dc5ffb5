use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[derive(Serialize, Deserialize)]
struct Token {
    token: String,
}

#[derive(Serialize, Deserialize)]
struct Other {
    token: String,
}

#[actor]
impl Room {
    #[before_connect]
    fn check(&self, params: &Token) -> Result<(), UserError> {
        let _ = &params.token;
        Ok(())
    }

    #[conn_state]
    fn state(&self, params: &Other) -> String {
        params.token.clone()
    }
}
fn main() {}
