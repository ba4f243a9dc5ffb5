//! Schedules from the actor's side: `c.schedule().after(..)` / `.at(..)`, list and cancel.
