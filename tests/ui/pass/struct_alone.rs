// `#[actor]` on a struct alone: an actor with no actions or hooks, all defaults; with
#![deny(warnings)]
// options, its events are declared.
use rivet_actor::prelude::*;

#[actor]
#[derive(Default, Serialize, Deserialize)]
struct Plain {
    n: u32,
}

#[derive(Serialize, Deserialize)]
struct Tick;

#[actor(name = "ticker", events(tick = Tick))]
#[derive(Default, Serialize, Deserialize)]
struct Ticker {
    ticks: u32,
}

fn main() {
    use rivet_actor::Target;
    assert_eq!(<Plain as Actor>::NAME, "plain");
    assert_eq!(<Ticker as Actor>::NAME, "ticker");
    assert_eq!(TickerEvent::Tick.name(), "tick");
    assert_eq!(<Tick as rivet_actor::Event<Ticker>>::TARGET, TickerEvent::Tick);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let test = ActorTest::<Plain>::new();
        let handle = test.get_or_create("p").await.unwrap();
        let _conn = handle.connect().await.unwrap();
        let _ = Plain::default().n;
        let _ = Ticker::default().ticks;
    });
}
