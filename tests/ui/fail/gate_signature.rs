use rivet_actor::prelude::*;

#[derive(Serialize, Deserialize)]
struct NewMessage;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor(events(new_message = NewMessage))]
impl Room {
    #[can_subscribe(new_message)]
    fn may_read(&mut self, c: &ConnCtx<'_, Self>, who: String) -> Result<bool, UserError> {
        Ok(c.key().is_empty() && who.is_empty())
    }
}

fn main() {}
