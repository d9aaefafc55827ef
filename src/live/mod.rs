//! Live gameweek data: the `live` job kind (one consistent snapshot of a gameweek, processed and
//! stored), the first piece of the time-based jobs.

pub mod snapshot;

pub use snapshot::{LIVE, LiveParams};
