//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and the targets' seeds through the same
//! checks the fuzz targets run, so that every input the fuzzer ever kept, including each
//! crash it found, is checked on stable by `cargo test`, without nightly or cargo-fuzz.
//!
//! `write_seeds` (ignored) writes the seeds into the corpus folders; FUZZING.md says when.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rivet_actor::__fuzz;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on `data`, naming the input if it panics.
fn replay(target: &str, what: &str, check: __fuzz::Check, data: &[u8]) {
    if std::panic::catch_unwind(|| check(data)).is_err() {
        panic!("{target}: {what} fails its check (replay it with FUZZING.md's command)");
    }
}

#[test]
fn every_corpus_input_passes_its_target_check() {
    let started = Instant::now();
    let mut replayed = 0;
    for &(target, check) in __fuzz::TARGETS {
        let dir = corpus_root().join(target);
        let inputs = files(&dir);
        assert!(!inputs.is_empty(), "{} has no corpus", dir.display());
        for path in inputs {
            let data = fs::read(&path).expect("a corpus file");
            replay(target, &path.display().to_string(), check, &data);
            replayed += 1;
        }
    }
    // A corpus folder without a target here is a target this build lacks (`jwt_header`
    // needs feature `jwt`) or a renamed one; the latter would never be replayed.
    for entry in fs::read_dir(corpus_root()).expect("fuzz/corpus") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        if __fuzz::check(&name).is_none() {
            assert_eq!(
                name, "jwt_header",
                "fuzz/corpus/{name} belongs to no target"
            );
        }
    }
    eprintln!(
        "replayed {replayed} corpus inputs in {:?}",
        started.elapsed()
    );
}

#[test]
fn every_seed_passes_its_target_check() {
    for &(target, check) in __fuzz::TARGETS {
        let seeds = __fuzz::seeds(target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for (index, seed) in seeds.iter().enumerate() {
            replay(target, &format!("seed {index}"), check, seed);
        }
    }
}

/// Writes every target's seeds into its corpus folder as `seed-<n>`; run it after changing
/// the seeds, then minimize the corpus.
#[test]
#[ignore = "writes into fuzz/corpus"]
fn write_seeds() {
    for &(target, _) in __fuzz::TARGETS {
        let dir = corpus_root().join(target);
        fs::create_dir_all(&dir).expect("a corpus folder");
        for (index, seed) in __fuzz::seeds(target).iter().enumerate() {
            fs::write(dir.join(format!("seed-{index}")), seed).expect("a seed file");
        }
    }
}
