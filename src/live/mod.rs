//! Live gameweeks: the time-based jobs and what drives them.
//!
//! - [`lifecycle`]: the gameweek state machine, a pure function of what is known.
//! - [`actor`]: the `lifecycle` actor that ticks it and asks for the runs below.
//! - [`snapshot`]: the `live` job (one consistent snapshot: players, fixtures, manager scores).
//! - [`finalize`]: the `finalize` job (official results once `data_checked`, compared with ours).
//! - [`managers`]: tracked managers, their stored picks and live scores.

pub mod actor;
pub mod finalize;
pub mod lifecycle;
pub mod managers;
mod metrics;
pub mod snapshot;

pub use actor::{Lifecycle, LifecycleBoard, LifecycleDeps, LifecycleStatus};
pub use lifecycle::State;
pub use metrics::LiveMetrics;
pub use snapshot::{LIVE, LiveParams};
