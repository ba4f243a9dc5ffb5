//! Benchmarks of rivet-actor. `cargo bench -p rivet-actor-bench` runs them; each reports our
//! figure next to a baseline measured in the same run.

pub mod timed;
