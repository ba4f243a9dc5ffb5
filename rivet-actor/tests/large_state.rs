//! A state larger than 64 KiB is stored as content-defined chunks beside a small manifest:
//! a turn that changes part of it writes only the chunks it changed, a failed or panicked
//! turn writes nothing, and what was acknowledged survives a restart and a SIGKILL — through
//! a real server, the typed client and SQLite.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rivet_actor::prelude::*;
use rivet_actor::storage::{KvPair, Storage};

#[path = "support/process.rs"]
mod process;

use process::{in_process, spawn_child, temp_dir};

/// Entries are `"<name>|<filler>"`: large, and told apart by their name.
#[derive(Default, Serialize, Deserialize)]
pub struct Journal {
    entries: Vec<String>,
}

#[actor]
impl Journal {
    #[action]
    fn append(&mut self, name: String, bytes: usize) -> usize {
        self.entries.push(entry(&name, bytes));
        self.entries.len()
    }

    #[action]
    fn append_then_fail(&mut self, name: String) -> Result<(), UserError> {
        self.entries.push(entry(&name, 5000));
        Err(UserError::new("refused").code("refused"))
    }

    #[action]
    fn append_then_panic(&mut self, name: String) -> usize {
        self.entries.push(entry(&name, 5000));
        panic!("the turn fails after changing the state")
    }

    #[action]
    fn remove_first(&mut self) {
        self.entries.remove(0);
    }

    #[action]
    fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries' names, in order.
    #[action]
    fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| e.split('|').next().unwrap_or_default().to_owned())
            .collect()
    }
}

/// An entry of about `bytes` bytes whose filler does not repeat (so chunks are not alike).
fn entry(name: &str, bytes: usize) -> String {
    let mut text = format!("{name}|");
    let mut x = name.bytes().fold(0x9E37_79B9_7F4A_7C15_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    while text.len() < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push(char::from(b'a' + (x % 26) as u8));
    }
    text
}

/// The journal's next release: `entries` renamed `items`, so old state does not decode and
/// `#[on_migrate]` converts it.
mod renamed {
    use rivet_actor::prelude::*;
    use rivet_actor::value::Value;

    #[derive(Default, Serialize, Deserialize)]
    pub struct Journal {
        pub items: Vec<String>,
    }

    #[actor(name = "journal")]
    impl Journal {
        #[on_migrate]
        fn migrate(old: Value) -> Result<Self, UserError> {
            let entries = old
                .as_map()
                .and_then(|fields| fields.iter().find(|(k, _)| k.as_text() == Some("entries")))
                .and_then(|(_, v)| v.as_array())
                .ok_or_else(|| UserError::new("no entries"))?;
            let items = entries
                .iter()
                .filter_map(|e| e.as_text().map(|t| format!("{t}+")))
                .collect();
            Ok(Self { items })
        }

        #[action]
        fn count(&self) -> usize {
            self.items.len()
        }
    }
}

/// A journal of frozen entries: appends skip what is already stored.
#[derive(Default, Serialize, Deserialize)]
pub struct FrozenJournal {
    entries: Vec<Frozen<String>>,
    edits: u32,
}

#[actor]
impl FrozenJournal {
    #[action]
    fn append(&mut self, name: String, bytes: usize) -> usize {
        self.entries.push(Frozen::new(entry(&name, bytes)));
        self.edits += 1;
        self.entries.len()
    }

    #[action]
    fn append_then_fail(&mut self, name: String) -> Result<(), UserError> {
        self.entries.push(Frozen::new(entry(&name, 5000)));
        Err(UserError::new("refused").code("refused"))
    }

    /// Replaces entry `index` (a new frozen value in an old one's place).
    #[action]
    fn replace(&mut self, index: usize, name: String) {
        self.entries[index] = Frozen::new(entry(&name, 8000));
    }

    #[action]
    fn remove_first(&mut self) {
        self.entries.remove(0);
    }

    #[action]
    fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| e.split('|').next().unwrap_or_default().to_owned())
            .collect()
    }
}

fn registry(dir: &Path) -> Registry {
    Registry::builder()
        .data_dir(dir)
        .register::<Journal>()
        .register::<FrozenJournal>()
        .build()
}

async fn serve(dir: &Path) -> (Registry, rivet_actor::server::Server, Client) {
    let registry = registry(dir);
    let server = registry.bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = Client::new(server.endpoint());
    (registry, server, client)
}

/// The journal's stored state value and its chunk rows.
async fn stored(storage: &Arc<dyn Storage>, key: &str) -> (Vec<u8>, Vec<KvPair>) {
    let record = storage.find_by_key("journal", &[key.into()]).await.unwrap();
    let id = record.expect("stored").id;
    let value = storage.load_state(&id).await.unwrap().expect("a state");
    let chunks = storage.kv_scan_prefix(&id, b"c/").await.unwrap();
    (value, chunks)
}

/// Bytes of chunk rows in `after` that were not in `before`.
fn new_bytes(before: &[KvPair], after: &[KvPair]) -> usize {
    after
        .iter()
        .filter(|row| !before.contains(row))
        .map(|(_, value)| value.len())
        .sum()
}

#[test]
fn a_large_state_writes_only_what_a_turn_changed_and_survives_a_restart() {
    let dir = temp_dir("large-state");
    let expected: Vec<String> = (0..100).map(|i| format!("e{i}")).collect();
    in_process(async {
        let (registry, _server, client) = serve(&dir).await;
        let journal = client.get_or_create::<Journal>(["big"]);
        for name in &expected {
            journal.append(name.clone(), 8000).await.unwrap();
        }
        let storage = registry.storage().clone();
        let (manifest, chunks) = stored(&storage, "big").await;
        let held: usize = chunks.iter().map(|(_, v)| v.len()).sum();
        assert!(held > 800_000, "the chunks hold the state: {held} bytes");
        assert!(
            manifest.len() < 2000,
            "the state value is a manifest: {} bytes",
            manifest.len()
        );

        // An append writes about the entry; a removal at the front about one chunk.
        journal.append("tail".into(), 8000).await.unwrap();
        let (_, after_append) = stored(&storage, "big").await;
        let written = new_bytes(&chunks, &after_append);
        assert!(
            (8000..8000 + 140_000).contains(&written),
            "an 8 KB append wrote {written} bytes"
        );
        journal.remove_first().await.unwrap();
        let (_, after_removal) = stored(&storage, "big").await;
        let written = new_bytes(&after_append, &after_removal);
        assert!(
            written < 140_000,
            "removing the first entry wrote {written} bytes"
        );

        // A failed and a panicked turn change nothing, in memory or stored.
        let err = journal.append_then_fail("lost".into()).await.unwrap_err();
        assert_eq!(err.code(), Some("refused"));
        let err = journal.append_then_panic("lost".into()).await.unwrap_err();
        assert_eq!(err.code(), Some("internal_error"));
        let (_, after_failures) = stored(&storage, "big").await;
        assert_eq!(after_failures, after_removal);
        let mut names = expected[1..].to_vec();
        names.push("tail".into());
        assert_eq!(journal.names().await.unwrap(), names);
    });
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let journal = client.get::<Journal>(["big"]);
        let mut names = expected[1..].to_vec();
        names.push("tail".into());
        assert_eq!(
            journal.names().await.unwrap(),
            names,
            "read back after a restart"
        );
        // It keeps working from what it woke with.
        journal.append("after".into(), 3000).await.unwrap();
        names.push("after".into());
        assert_eq!(journal.names().await.unwrap(), names);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_state_that_shrinks_is_stored_whole_again() {
    let dir = temp_dir("shrinking-state");
    in_process(async {
        let (registry, _server, client) = serve(&dir).await;
        let journal = client.get_or_create::<Journal>(["shrinks"]);
        for i in 0..20 {
            journal.append(format!("s{i}"), 10_000).await.unwrap();
        }
        let storage = registry.storage().clone();
        assert!(!stored(&storage, "shrinks").await.1.is_empty(), "chunked");
        journal.clear().await.unwrap();
        let (value, chunks) = stored(&storage, "shrinks").await;
        assert!(chunks.is_empty(), "no chunk row is left behind");
        assert!(
            value.len() < 100,
            "stored whole again: {} bytes",
            value.len()
        );
        journal.append("small".into(), 100).await.unwrap();
        assert_eq!(journal.names().await.unwrap(), ["small"]);
    });
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let journal = client.get::<Journal>(["shrinks"]);
        assert_eq!(journal.names().await.unwrap(), ["small"]);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Not a test on its own: the server process the SIGKILL test starts and kills. Without the
/// environment variables it returns at once.
#[test]
fn large_state_child_server() {
    process::serve_child(registry);
}

#[test]
fn acknowledged_appends_to_a_large_state_survive_sigkill() {
    let dir = temp_dir("large-sigkill");
    let addr_file = dir.with_extension("addr");
    std::fs::create_dir_all(&dir).unwrap();
    let mut acked: HashSet<String> = HashSet::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for cycle in 0..3 {
        let kill_after = Duration::from_millis(400 + 150 * cycle as u64);
        let written = process::write_until_killed(
            &runtime,
            "large_state_child_server",
            &dir,
            cycle,
            4,
            kill_after,
            |client, writer, name| async move {
                let journal = client.get_or_create::<Journal>([format!("j{}", writer % 2)]);
                // Large entries: both journals pass 64 KiB in the first cycle.
                journal.append(name, 6000).await.is_ok()
            },
        );
        let before = acked.len();
        acked.extend(written.acked);
        assert!(
            acked.len() > before + 12,
            "cycle {cycle}: too little was acknowledged"
        );
    }
    let (mut child, endpoint) = spawn_child("large_state_child_server", &dir, &addr_file);
    let stored: Vec<String> = runtime.block_on(async {
        let client = Client::new(endpoint);
        let mut stored = Vec::new();
        for key in ["j0", "j1"] {
            stored.extend(client.get::<Journal>([key]).names().await.unwrap());
        }
        stored
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "an append was applied twice");
    let lost: Vec<_> = acked.iter().filter(|m| !unique.contains(m)).collect();
    assert!(lost.is_empty(), "acknowledged appends were lost: {lost:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_chunked_state_is_migrated_once_and_leaves_no_old_chunks() {
    let dir = temp_dir("large-migrate");
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let journal = client.get_or_create::<Journal>(["old"]);
        for i in 0..40 {
            journal.append(format!("m{i}"), 5000).await.unwrap();
        }
    });
    in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<renamed::Journal>()
            .build();
        let journal = registry.get::<renamed::Journal>("old").await.unwrap();
        assert_eq!(journal.count().await.unwrap(), 40);
        let storage = registry.storage().clone();
        let (_, chunks) = stored(&storage, "old").await;
        let held: usize = chunks.iter().map(|(_, v)| v.len()).sum();
        // 40 entries of ~5 KB and their CBOR heads: the old chunks are gone.
        assert!((200_000..210_000).contains(&held), "{held} bytes of chunks");
    });
    in_process(async {
        let registry = Registry::builder()
            .data_dir(&dir)
            .register::<renamed::Journal>()
            .build();
        let journal = registry.get::<renamed::Journal>("old").await.unwrap();
        assert_eq!(
            journal.count().await.unwrap(),
            40,
            "read back in the new shape"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn frozen_entries_commit_like_any_state_and_survive_a_restart() {
    let dir = temp_dir("frozen-state");
    let mut names: Vec<String> = (0..60).map(|i| format!("f{i}")).collect();
    in_process(async {
        let (registry, _server, client) = serve(&dir).await;
        let journal = client.get_or_create::<FrozenJournal>(["big"]);
        for name in &names {
            journal.append(name.clone(), 8000).await.unwrap();
        }
        let storage = registry.storage().clone();
        let record = storage
            .find_by_key("frozenJournal", &["big".into()])
            .await
            .unwrap();
        let id = record.expect("stored").id;
        let before = storage.kv_scan_prefix(&id, b"c/").await.unwrap();
        journal.append("tail".into(), 8000).await.unwrap();
        names.push("tail".into());
        let after = storage.kv_scan_prefix(&id, b"c/").await.unwrap();
        let written = new_bytes(&before, &after);
        assert!(
            (8000..8000 + 140_000).contains(&written),
            "an 8 KB append wrote {written} bytes"
        );

        // A failed turn leaves nothing behind; the next turns compare what they must.
        let err = journal.append_then_fail("lost".into()).await.unwrap_err();
        assert_eq!(err.code(), Some("refused"));
        journal.replace(10, "r10".into()).await.unwrap();
        names[10] = "r10".into();
        journal.remove_first().await.unwrap();
        names.remove(0);
        journal.append("end".into(), 100).await.unwrap();
        names.push("end".into());
        assert_eq!(journal.names().await.unwrap(), names);
    });
    in_process(async {
        let (_registry, _server, client) = serve(&dir).await;
        let journal = client.get::<FrozenJournal>(["big"]);
        assert_eq!(
            journal.names().await.unwrap(),
            names,
            "read back after a restart"
        );
        journal.append("again".into(), 9000).await.unwrap();
        names.push("again".into());
        assert_eq!(journal.names().await.unwrap(), names);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
