// Every hook, sync and async mixed, with and without their optional parameters.
#![deny(warnings)]
use rivet_actor::prelude::*;
use rivet_actor::value::Value;

#[derive(Serialize, Deserialize)]
struct Room {
    topic: String,
    log: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct RoomInput {
    topic: String,
}

#[derive(Serialize, Deserialize)]
struct Params {
    token: String,
}

struct Member {
    name: String,
}

struct Vars {
    started: u32,
}

#[derive(Serialize, Deserialize)]
struct Said {
    text: String,
}

#[actor(events(said = Said))]
impl Room {
    #[create_state]
    async fn create(c: &CreateCtx<'_>, input: RoomInput) -> Result<Self, UserError> {
        Ok(Room {
            topic: format!("{}:{}", c.key().join("/"), input.topic),
            log: vec![],
        })
    }

    #[on_migrate]
    fn migrate(_old: Value) -> Result<Self, UserError> {
        Err(UserError::new("cannot migrate"))
    }

    #[create_vars]
    fn vars(&self) -> Vars {
        Vars { started: 0 }
    }

    #[on_create]
    fn created(&mut self) {
        self.log.push("created".into());
    }

    #[on_wake]
    async fn woke(&mut self, c: &mut ActorCtx<'_, Self>) -> Result<(), UserError> {
        c.vars_mut().started += 1;
        Ok(())
    }

    #[on_sleep]
    fn sleeping(&mut self, _c: &mut ActorCtx<'_, Self>) {}

    #[on_state_change]
    async fn changed(&self, _c: &ActorCtx<'_, Self>) {}

    #[before_connect]
    fn check(&self, params: &Params) -> Result<(), UserError> {
        if params.token.is_empty() {
            return Err(UserError::new("no token").code("forbidden"));
        }
        Ok(())
    }

    #[conn_state]
    async fn member(&self, c: &ConnectCtx<'_, Self>, params: &Params) -> Member {
        let _ = c.key();
        Member {
            name: params.token.clone(),
        }
    }

    #[on_connect]
    async fn joined(&mut self, c: &mut ActionCtx<'_, Self>) {
        let name = c.conn().state().name.clone();
        self.log.push(format!("joined {name}"));
    }

    #[on_disconnect]
    fn left(&mut self) -> Result<(), UserError> {
        Ok(())
    }

    #[can_invoke]
    async fn allow(&self, invoke: Invoke<Self>) -> bool {
        matches!(
            invoke,
            Invoke::Action(RoomAction::Say | RoomAction::Topic) | Invoke::Subscribe(RoomEvent::Said)
        )
    }

    #[action]
    fn say(&mut self, c: &mut ActionCtx<'_, Self>, text: String) -> Result<usize, UserError> {
        self.log.push(text.clone());
        c.broadcast(Said { text });
        Ok(self.log.len())
    }

    #[action]
    async fn topic(&self, c: &ActionCtx<'_, Self>) -> String {
        let _ = c.vars().started;
        self.topic.clone()
    }
}

fn main() {
    assert!(<Room as Actor>::READS_PARAMS);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let test = ActorTest::<Room>::new();
        let room = test
            .create(["r"], RoomInput { topic: "rust".into() })
            .await
            .unwrap()
            .params(Params { token: "ann".into() });
        assert_eq!(room.topic().await.unwrap(), "r:rust");
        // created, one join per stateless call, then the message.
        assert_eq!(room.say("hi".into()).await.unwrap(), 4);
    });
}
