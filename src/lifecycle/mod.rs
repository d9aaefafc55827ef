//! The gameweek lifecycle: what drives the time-based jobs.
//!
//! - [`decide`]: the gameweek state machine, a pure function of what is known.
//! - [`actor`]: the `lifecycle` actor that ticks it, asks the job actors for the runs the state
//!   calls for (`live`, `entries` picks, `bootstrap`, `finalize`) and shows its status.
//! - [`LifecycleMetrics`]: its Prometheus families.

pub mod actor;
pub mod decide;
mod metrics;

pub use actor::{Lifecycle, LifecycleBoard, LifecycleDeps, LifecycleStatus};
pub use decide::State;
pub use metrics::LifecycleMetrics;
