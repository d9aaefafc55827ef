//! The FPL data source: typed models of the API's responses, the embedded real samples, and the
//! resilient client every job fetches through.
//!
//! - [`model`]: serde models of every endpoint (decoding only).
//! - [`samples`]: real captured responses, embedded for tests and the simulator.
//! - [`client`]: [`FplClient`], the one shared client (URLs, retries, errors, pagination, metrics).
//! - [`admission`]: rate limit, in-flight caps and priority order shared by all callers.
//! - [`breaker`]: the circuit breaker that fails calls fast while the API is down.
//! - [`FplMetrics`]: the client's Prometheus families.

pub mod admission;
pub mod breaker;
mod budget;
pub mod client;
mod metrics;
pub mod model;
pub mod samples;

pub use admission::{Admission, AdmissionConfig, Permit, Priority};
pub use breaker::{Breaker, BreakerConfig, BreakerState};
pub use client::{BuildError, Endpoint, FplClient, FplError, LeagueTable};
pub use metrics::FplMetrics;
