//! Queue sends between actors (`c.client()`'s `Peer::send` / `send_and_wait`): the message
//! is durably queued in the other actor, through its connect hooks and `can_publish` with
//! the peer's params; a `#[run]` loop's completion comes back typed; a send into an actor
//! whose turn waits upstream, or a call back from the receiver's hooks into the sending
//! turn, is a cycle, not a hang.

use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::queue::QueueSendResult;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Order {
    item: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Quote {
    item: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Badge {
    team: String,
}

/// Takes orders (in a turn) and quotes (in its loop); only the kitchen may publish orders.
#[derive(Default, Serialize, Deserialize)]
pub struct Pantry;

#[actor(queues(orders = Order, quotes = Quote -> u32))]
impl Pantry {
    #[conn_state]
    fn team(&self, params: &Option<Badge>) -> String {
        params
            .as_ref()
            .map(|badge| badge.team.clone())
            .unwrap_or_default()
    }

    #[can_publish(orders)]
    fn kitchen_only(&self, c: &ConnCtx<'_, Self>) -> bool {
        c.conn().state() == "kitchen"
    }

    #[run]
    async fn run(c: RunCtx<Self>) {
        while let Some(quote) = c.queue().next::<Quote>().await {
            let price = quote.body.item.len() as u32;
            c.queue().complete(&quote, price);
        }
    }

    #[action]
    fn orders(&self, c: &mut ActionCtx<'_, Self>) -> Vec<String> {
        let mut items = Vec::new();
        while let Some(order) = c.queue().try_next::<Order>() {
            items.push(order.body.item);
        }
        items
    }

    #[action]
    fn waiting(&self, c: &ActionCtx<'_, Self>) -> usize {
        c.queue().waiting::<Order>()
    }
}

/// Orders from the pantry as a team; asks it for quotes; sends to `Relay`, which calls
/// back.
#[derive(Default, Serialize, Deserialize)]
pub struct Kitchen;

#[actor]
impl Kitchen {
    #[action]
    fn open(&self) -> bool {
        true
    }

    #[action]
    async fn relay(&self, c: &ActionCtx<'_, Self>) -> Result<(), Error> {
        let relay = c.client().get_or_create::<Relay>(["r"]).await?;
        relay.send(Order { item: "x".into() }).await?;
        Ok(())
    }

    #[action]
    async fn order(
        &self,
        c: &ActionCtx<'_, Self>,
        team: String,
        item: String,
    ) -> Result<(), Error> {
        let pantry = c.client().get_or_create::<Pantry>(["main"]).await?;
        pantry
            .with_params(Some(Badge { team }))
            .send(Order { item })
            .await?;
        Ok(())
    }

    #[action]
    async fn quote(&self, c: &ActionCtx<'_, Self>, item: String) -> Result<Option<u32>, Error> {
        let pantry = c.client().get_or_create::<Pantry>(["main"]).await?;
        let sent = pantry
            .send_and_wait(Quote { item }, Duration::from_secs(5))
            .await?;
        Ok(match sent {
            QueueSendResult::Completed(price) => price,
            QueueSendResult::TimedOut => None,
        })
    }
}

/// Sends to its own queue from inside its turn through `c.client()`: a cycle.
#[derive(Default, Serialize, Deserialize)]
pub struct Echo;

#[actor(queues(notes = Order))]
impl Echo {
    #[action]
    async fn note_to_self(&self, c: &ActionCtx<'_, Self>) -> String {
        let me = match c.client().get::<Echo>(["self"]).await {
            Ok(me) => me,
            Err(err) => return format!("lookup: {err}"),
        };
        match me.send(Order { item: "x".into() }).await {
            Ok(()) => "sent".into(),
            Err(ClientError::Actor(err)) => format!("{}.{}", err.group, err.code),
            Err(other) => format!("unexpected: {other}"),
        }
    }
}

/// What `Relay`'s `on_connect` heard when it called back into the sender.
static CALLED_BACK: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Calls back into the actor that sends to it, from its connect hook.
#[derive(Default, Serialize, Deserialize)]
pub struct Relay;

#[actor(queues(notes = Order))]
impl Relay {
    #[on_connect]
    async fn call_back(&self, c: &mut ActionCtx<'_, Self>) -> Result<(), Error> {
        let kitchen = c.client().get_or_create::<Kitchen>(["k"]).await?;
        let heard = match kitchen.open().await {
            Ok(_) => "answered".to_owned(),
            Err(ClientError::Actor(err)) => format!("{}.{}", err.group, err.code),
            Err(other) => format!("unexpected: {other}"),
        };
        *CALLED_BACK.lock().unwrap() = Some(heard);
        Ok(())
    }
}

async fn serve() -> (Registry, rivet_actor::server::Server, Client) {
    let registry = Registry::builder()
        .in_memory()
        .register::<Pantry>()
        .register::<Kitchen>()
        .register::<Echo>()
        .register::<Relay>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

#[tokio::test]
async fn an_actor_queues_work_in_another_through_its_publish_gate() {
    let (_registry, server, client) = serve().await;
    let kitchen = client.get_or_create::<Kitchen>(["k"]);
    kitchen
        .order("kitchen".into(), "flour".into())
        .await
        .unwrap();
    kitchen
        .order("kitchen".into(), "salt".into())
        .await
        .unwrap();
    // Refused by the pantry's `can_publish`: nothing is queued.
    let err = kitchen
        .order("guests".into(), "cake".into())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("forbidden"), "{err:?}");
    let pantry = client.get_or_create::<Pantry>(["main"]);
    assert_eq!(pantry.waiting().await.unwrap(), 2);
    assert_eq!(pantry.orders().await.unwrap(), ["flour", "salt"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_send_and_wait_between_actors_gets_the_typed_completion() {
    let (_registry, server, client) = serve().await;
    let kitchen = client.get_or_create::<Kitchen>(["k"]);
    assert_eq!(kitchen.quote("saffron".into()).await.unwrap(), Some(7));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_send_into_its_own_actor_from_its_turn_is_a_cycle() {
    let (_registry, server, client) = serve().await;
    let echo = client.get_or_create::<Echo>(["self"]);
    let answer = tokio::time::timeout(Duration::from_secs(10), echo.note_to_self())
        .await
        .expect("the send did not hang");
    assert_eq!(answer.unwrap(), "actor.call_cycle");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_receivers_hooks_calling_back_into_the_sending_turn_are_a_cycle() {
    let (_registry, server, client) = serve().await;
    let kitchen = client.get_or_create::<Kitchen>(["k"]);
    // The send's connect hook calls the kitchen, whose turn waits on the send: refused at
    // once (not after the hook timeout), and the send goes on.
    tokio::time::timeout(Duration::from_secs(3), kitchen.relay())
        .await
        .expect("the call back hung")
        .unwrap();
    let heard = CALLED_BACK.lock().unwrap().clone();
    assert_eq!(heard.as_deref(), Some("actor.call_cycle"));
    server.shutdown().await.unwrap();
}
