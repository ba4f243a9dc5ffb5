//! rivet-actor: stateful, keyed actors in the model of RivetKit.

pub mod protocol;
pub mod storage;
