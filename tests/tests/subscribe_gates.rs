//! Per-event `#[can_subscribe(event)]` gates over the network: they run after `can_invoke`,
//! a refusal answers `auth.forbidden` and delivers nothing, and an ungated event stays open.

use std::time::Duration;

use rivet_actor::prelude::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Headline {
    text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Scoop {
    text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Gossip {
    text: String,
}

#[derive(Serialize, Deserialize)]
struct Badge {
    role: String,
}

struct Role(String);

#[derive(Default, Serialize, Deserialize)]
struct Newsroom;

#[actor(events(headline = Headline, scoop = Scoop, gossip = Gossip))]
impl Newsroom {
    #[conn_state]
    fn badge(&self, params: &Badge) -> Role {
        Role(params.role.clone())
    }

    /// Nobody reads gossip: `can_invoke` refuses it before any per-event gate runs.
    #[can_invoke]
    fn allow(&self, invoke: Invoke<Self>) -> bool {
        !matches!(invoke, Invoke::Subscribe(NewsroomEvent::Gossip))
    }

    /// Scoops are for editors.
    #[can_subscribe(scoop)]
    fn editors_only(&self, c: &ConnCtx<'_, Self>) -> bool {
        c.conn().state().0 == "editor"
    }

    /// Gated like scoops but always allowed: gates are per event.
    #[can_subscribe(gossip)]
    async fn gossip_gate(&self) -> bool {
        true
    }

    #[action]
    fn publish(&self, c: &mut ActionCtx<'_, Self>, text: String) {
        c.broadcast(Headline { text: text.clone() });
        c.broadcast(Scoop { text: text.clone() });
        c.broadcast(Gossip { text });
    }
}

async fn next_within<T>(
    stream: &mut rivet_actor::client::EventStream<T>,
) -> Option<Result<T, ClientError>>
where
    T: serde::de::DeserializeOwned,
{
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an answer within 5 s")
}

#[tokio::test]
async fn per_event_gates_refuse_and_deliver_nothing() {
    let registry = Registry::builder()
        .in_memory()
        .register::<Newsroom>()
        .build();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    let room = client.get_or_create::<Newsroom>(["desk"]);

    let reader = room
        .params(Badge {
            role: "reader".into(),
        })
        .connect()
        .await
        .unwrap();
    let editor = room
        .params(Badge {
            role: "editor".into(),
        })
        .connect()
        .await
        .unwrap();
    // One connection's subscriptions are handled in order: once the later refusals arrive,
    // the headline subscription before them is in place.
    let mut reader_headlines = reader.events::<Headline>();
    let mut reader_scoops = reader.events::<Scoop>();
    let mut reader_gossip = reader.events::<Gossip>();
    let mut editor_scoops = editor.events::<Scoop>();

    // The refusals arrive as errors on the refused streams.
    let refused = next_within(&mut reader_scoops).await.unwrap().unwrap_err();
    assert!(refused.is_forbidden(), "{refused:?}");
    let refused = next_within(&mut reader_gossip).await.unwrap().unwrap_err();
    assert!(refused.is_forbidden(), "can_invoke runs first: {refused:?}");

    editor.publish("mayor resigns".into()).await.unwrap();
    let scoop = next_within(&mut editor_scoops).await.unwrap().unwrap();
    assert_eq!(scoop.text, "mayor resigns");
    let headline = next_within(&mut reader_headlines).await.unwrap().unwrap();
    assert_eq!(headline.text, "mayor resigns");
    // The reader was never subscribed: nothing more arrives on its refused streams.
    let nothing = tokio::time::timeout(Duration::from_millis(300), reader_scoops.next()).await;
    assert!(
        nothing.is_err() || matches!(nothing, Ok(None)),
        "{nothing:?}"
    );

    // Both connections are still usable after a refusal.
    reader.publish("second".into()).await.unwrap();
    assert_eq!(
        next_within(&mut reader_headlines)
            .await
            .unwrap()
            .unwrap()
            .text,
        "second"
    );
    reader.close().await;
    editor.close().await;
    server.shutdown().await.unwrap();
}
