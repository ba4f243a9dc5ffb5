use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Site;

#[actor]
impl Site {
    #[on_request]
    fn http(&mut self, request: RawRequest) -> String {
        format!("{}", request.uri())
    }
}

fn main() {}
