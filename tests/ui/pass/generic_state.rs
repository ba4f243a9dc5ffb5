// State types with generic fields, and an actor on a concrete instantiation of a generic
// state type.
use std::collections::HashMap;

use rivet_actor::prelude::*;

#[derive(Default, Serialize, Deserialize)]
struct Store<T> {
    items: HashMap<String, Vec<T>>,
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct Item {
    label: String,
}

#[actor(name = "itemStore")]
impl Store<Item> {
    #[action]
    fn put(&mut self, key: String, item: Item) -> usize {
        let list = self.items.entry(key).or_default();
        list.push(item);
        list.len()
    }

    #[action]
    fn all(&self, key: String) -> Option<Vec<Item>> {
        self.items.get(&key).cloned()
    }

    #[action]
    fn snapshot(&self) -> Self {
        Store {
            items: self.items.clone(),
        }
    }
}

fn main() {
    assert_eq!(<Store<Item> as Actor>::NAME, "itemStore");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let test = ActorTest::<Store<Item>>::new();
        let store = test.get_or_create("s").await.unwrap();
        let n = store
            .put("k".into(), Item { label: "a".into() })
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(store.all("k".into()).await.unwrap().unwrap()[0].label, "a");
        assert_eq!(store.snapshot().await.unwrap().items.len(), 1);
    });
}
