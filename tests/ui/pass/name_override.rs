// `name =` overrides the actor's wire name; `#[action(name = ..)]` an action's, which lets
// an action whose Rust name would clash with a client method keep its wire name.
use rivet_actor::prelude::*;
use rivet_actor::Target;

#[derive(Default, Serialize, Deserialize)]
struct Lobby;

#[actor(name = "main-lobby")]
impl Lobby {
    #[action(name = "connect")]
    fn join(&mut self) -> bool {
        true
    }

    #[action(name = "get_status")]
    fn current_status(&self) -> String {
        "open".into()
    }
}

fn main() {
    assert_eq!(<Lobby as Actor>::NAME, "main-lobby");
    assert_eq!(LobbyAction::Join.name(), "connect");
    assert_eq!(LobbyAction::from_name("get_status"), Some(LobbyAction::CurrentStatus));
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let test = ActorTest::<Lobby>::new();
        assert!(test.registry().actor_type("main-lobby").is_some());
        let lobby = test.get_or_create("l").await.unwrap();
        assert!(lobby.join().await.unwrap());
        assert_eq!(lobby.current_status().await.unwrap(), "open");
    });
}
