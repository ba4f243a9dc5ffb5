//! Actors shared by the workspace's end-to-end tests and the processes they start.

pub mod ledger;
