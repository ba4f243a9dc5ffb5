//! Calls between actors (`c.client()`): typed, in-process, through the called actor's
//! connect hooks; and cycles — an actor calling itself inside its turn, A → B → A, and a
//! longer ring — fail with `actor.call_cycle` instead of hanging, while a call from a task
//! the turn spawned simply queues.

use std::time::Duration;

use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
pub struct Inventory {
    stock: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Staff {
    badge: String,
}

#[actor]
impl Inventory {
    /// Only staff may touch the stock.
    #[before_connect]
    fn staff_only(&self, params: &Option<Staff>) -> Result<(), UserError> {
        match params {
            Some(staff) if staff.badge == "staff" => Ok(()),
            _ => Err(UserError::new("staff only").code("staff_only")),
        }
    }

    #[action]
    fn restock(&mut self, n: u32) -> u32 {
        self.stock += n;
        self.stock
    }

    #[action]
    fn take(&mut self, n: u32) -> bool {
        let ok = self.stock >= n;
        if ok {
            self.stock -= n;
        }
        ok
    }

    #[action]
    fn stock(&self) -> u32 {
        self.stock
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct Checkout {
    orders: u32,
}

#[actor]
impl Checkout {
    #[action]
    async fn order(&mut self, c: &mut ActionCtx<'_, Self>, n: u32) -> Result<bool, Error> {
        let inventory = c.client().get_or_create::<Inventory>(["main"]).await?;
        let staff = Staff {
            badge: "staff".into(),
        };
        let taken = inventory.with_params(Some(staff)).take(n).await?;
        if taken {
            self.orders += 1;
        }
        Ok(taken)
    }

    /// Without params: the inventory's `before_connect` refuses.
    #[action]
    async fn sneak(&self, c: &ActionCtx<'_, Self>) -> Result<bool, Error> {
        let inventory = c.client().get_or_create::<Inventory>(["main"]).await?;
        Ok(inventory.take(1).await?)
    }

    #[action]
    fn orders(&self) -> u32 {
        self.orders
    }
}

/// Rings of actors calling each other: each `relay` calls the next key's `relay` (the last
/// calls `echo` on the first), and reports what happened.
#[derive(Default, Serialize, Deserialize)]
pub struct Node {
    echoes: u32,
}

#[actor]
impl Node {
    /// Calls `relay` on each of `next` in turn (the last one is asked to `echo`), from
    /// inside this turn; the error code if a call fails.
    #[action]
    async fn relay(&self, c: &ActionCtx<'_, Self>, next: Vec<String>) -> Result<String, Error> {
        let Some((first, rest)) = next.split_first() else {
            return Ok("end".into());
        };
        let peer = c.client().get_or_create::<Node>([first.as_str()]).await?;
        let answer = if rest.is_empty() {
            peer.echo().await.map(|n| format!("echo {n}"))
        } else {
            peer.relay(rest.to_vec()).await
        };
        Ok(answer.unwrap_or_else(|err| format!("refused: {}", err.code().unwrap_or("?"))))
    }

    #[action]
    fn echo(&mut self) -> u32 {
        self.echoes += 1;
        self.echoes
    }

    /// Calls itself from inside its turn, through `c.client()` and through `c.this()`.
    #[action]
    async fn call_myself(&self, c: &ActionCtx<'_, Self>) -> Result<Vec<String>, Error> {
        let me = c
            .client()
            .get_for_id::<Node>(&rivet_actor::ActorId::new(c.actor_id()))
            .await?;
        let through_client = me.echoes().await;
        let through_this = c.this().echoes().await;
        Ok([through_client, through_this]
            .into_iter()
            .map(|r| match r {
                Ok(n) => format!("ok {n}"),
                Err(err) => format!("refused: {}", err.code().unwrap_or("?")),
            })
            .collect())
    }

    /// Asks `other` to call back from a task it spawns: no cycle, the call queues.
    #[action]
    async fn call_back_later(&self, c: &ActionCtx<'_, Self>, other: String) -> Result<(), Error> {
        let peer = c.client().get_or_create::<Node>([other.as_str()]).await?;
        peer.echo_soon(c.key()[0].clone()).await?;
        Ok(())
    }

    #[action]
    fn echo_soon(&self, c: &ActionCtx<'_, Self>, caller: String) {
        let client = c.client();
        tokio::spawn(async move {
            let peer = client
                .get_or_create::<Node>([caller.as_str()])
                .await
                .unwrap();
            peer.echo().await.unwrap();
        });
    }

    #[action]
    fn echoes(&self) -> u32 {
        self.echoes
    }
}

/// Its `#[run]` loop calls another actor once it starts.
#[derive(Default, Serialize, Deserialize)]
pub struct Reporter;

#[actor]
impl Reporter {
    #[run]
    async fn run(c: RunCtx<Self>) -> Result<(), Error> {
        let node = c.client().get_or_create::<Node>(["from-run"]).await?;
        node.echo().await?;
        Ok(())
    }

    #[action]
    fn ping(&self) -> bool {
        true
    }
}

fn registry() -> Registry {
    Registry::builder()
        .in_memory()
        .register::<Inventory>()
        .register::<Checkout>()
        .register::<Node>()
        .register::<Reporter>()
        .build()
}

/// Within 5 s, or the test fails (a hang is the bug these tests look for).
async fn soon<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .expect("the call hung")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_calls_another_through_its_connect_hooks() {
    let registry = registry();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let inventory = registry
        .get_or_create::<Inventory>(["main"])
        .await
        .unwrap()
        .params(Some(Staff {
            badge: "staff".into(),
        }));
    inventory.restock(5).await.unwrap();

    // Over the network into Checkout, in-process from Checkout to Inventory.
    let checkout = Client::new(server.endpoint()).get_or_create::<Checkout>(["c"]);
    assert!(soon(checkout.order(3)).await.unwrap());
    assert!(!soon(checkout.order(3)).await.unwrap());
    assert_eq!(checkout.orders().await.unwrap(), 1);
    assert_eq!(inventory.stock().await.unwrap(), 2);

    let err = soon(checkout.sneak()).await.unwrap_err();
    assert_eq!(err.code(), Some("staff_only"), "{err:?}");
    assert_eq!(inventory.stock().await.unwrap(), 2);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_would_wait_for_themselves_are_refused() {
    let registry = registry();
    let a = registry.get_or_create::<Node>(["a"]).await.unwrap();

    // Itself, inside its own turn, both ways.
    assert_eq!(
        soon(a.call_myself()).await.unwrap(),
        ["refused: call_cycle", "refused: call_cycle"]
    );

    // A -> B -> A: B's call back into A is refused, A hears B's answer.
    assert_eq!(
        soon(a.relay(vec!["b".into(), "a".into()])).await.unwrap(),
        "refused: call_cycle"
    );
    // A -> B -> C -> A.
    assert_eq!(
        soon(a.relay(vec!["b".into(), "c".into(), "a".into()]))
            .await
            .unwrap(),
        "refused: call_cycle"
    );
    // No cycle: A -> B -> C -> D echoes.
    assert_eq!(
        soon(a.relay(vec!["b".into(), "c".into(), "d".into()]))
            .await
            .unwrap(),
        "echo 1"
    );
    assert_eq!(a.echoes().await.unwrap(), 0, "no refused call ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_back_from_a_spawned_task_queues_and_runs() {
    let registry = registry();
    let a = registry.get_or_create::<Node>(["later-a"]).await.unwrap();
    soon(a.call_back_later("later-b".into())).await.unwrap();
    for _ in 0..100 {
        if a.echoes().await.unwrap() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the call from the spawned task never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_calls_other_actors() {
    let registry = registry();
    let reporter = registry.get_or_create::<Reporter>(["r"]).await.unwrap();
    assert!(reporter.ping().await.unwrap());
    let node = registry.get_or_create::<Node>(["from-run"]).await.unwrap();
    for _ in 0..100 {
        if node.echoes().await.unwrap() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the run loop's call never ran");
}

/// A request from another host's turn carries the chain of actors waiting on it in
/// `x-actor-call-chain` (engine mode): one naming the actor it reaches is refused at once,
/// not left in the mailbox behind the turn that waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_chain_names_its_own_actor_is_a_cycle() {
    let registry = registry();
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let node = registry.get_or_create::<Node>(["chained"]).await.unwrap();
    let id = node.id().as_str().to_owned();
    let through = |chain: String| {
        Client::new(server.endpoint())
            .header("x-actor-call-chain", &chain)
            .get_or_create::<Node>(["chained"])
    };
    let err = soon(through(format!("another,{id}")).echo())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("call_cycle"), "{err:?}");
    // A chain of other actors only: the call runs (and extends it).
    assert_eq!(soon(through("another".into()).echo()).await.unwrap(), 1);
    server.shutdown().await.unwrap();
}
