//! Durable storage of actor records and state.
