use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Room;

#[actor]
impl Room {
    #[can_invoke]
    fn allow(&self, invoke: Invoke<Self>) -> bool {
        matches!(invoke, Invoke::Action(RoomAction::SendMesage))
    }

    #[action]
    fn send_message(&mut self, text: String) {
        let _ = text;
    }
}
fn main() {}
