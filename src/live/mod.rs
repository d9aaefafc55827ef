//! The `live` job: one consistent snapshot of a gameweek (players' live points, the event's
//! fixtures, every tracked manager's score), stored and published as one cache revision.
//!
//! - [`snapshot`]: the job itself (fetch, fingerprint, bonus, store, score, publish).
//! - [`store`]: the live data in PostgreSQL.
//! - [`scores`]: every tracked manager scored against a snapshot.
//! - [`publish`]: the live data in the cache, and the loader behind it.
//! - [`LiveMetrics`]: its Prometheus families (and the points mismatches finalization counts).

mod metrics;
pub mod publish;
pub mod scores;
pub mod snapshot;
pub mod store;

pub use metrics::LiveMetrics;
pub use publish::register_loader;
pub use snapshot::{LIVE, LiveParams};
