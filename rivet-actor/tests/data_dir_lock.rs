//! One process per data directory: a second process that opens a directory another one
//! serves from fails at start, with a message naming the directory and the other process.

use std::process::Command;

use rivet_actor::storage::SqliteStorage;

const CHILD: &str = "RIVET_LOCK_TEST_CHILD";

#[test]
fn a_second_process_on_the_same_data_directory_fails_at_start() {
    if let Some(dir) = std::env::var_os(CHILD) {
        // The second process: report what opening the directory did, and stop.
        match SqliteStorage::open(&dir) {
            Ok(_) => println!("OPENED"),
            Err(err) => println!("REFUSED: {err}"),
        }
        return;
    }
    let dir = std::env::temp_dir().join(format!("rivet-actor-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let child = |dir: &std::path::Path| {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_second_process_on_the_same_data_directory_fails_at_start",
                "--nocapture",
            ])
            .env(CHILD, dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let held = SqliteStorage::open(&dir).unwrap();
    let refused = child(&dir);
    assert!(refused.contains("REFUSED"), "{refused}");
    assert!(refused.contains(&dir.display().to_string()), "{refused}");
    assert!(
        refused.contains(&format!("process {}", std::process::id())),
        "{refused}"
    );
    drop(held);
    // Free again once this process lets go.
    let opened = child(&dir);
    assert!(opened.contains("OPENED"), "{opened}");
    let _ = std::fs::remove_dir_all(&dir);
}
