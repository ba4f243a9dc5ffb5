use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Site;

#[actor]
impl Site {
    #[on_request]
    fn http(&mut self, c: &ConnCtx<'_, Self>) -> RawResponse {
        let _ = c;
        RawResponse::new(Default::default())
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Other;

#[actor]
impl Other {
    #[on_request]
    fn http(&mut self, request: RawRequest, extra: u32) -> RawResponse {
        let _ = (request, extra);
        RawResponse::new(Default::default())
    }
}

fn main() {}
