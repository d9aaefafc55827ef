//! The FPL data source: typed models of the API's responses, the embedded real samples, and the
//! admission control every request to the API goes through.
//!
//! - [`model`]: serde models of every endpoint (decoding only).
//! - [`samples`]: real captured responses, embedded for tests and the simulator.
//! - [`admission`]: rate limit, in-flight caps and priority order shared by all callers.

pub mod admission;
pub mod model;
pub mod samples;

pub use admission::{Admission, AdmissionConfig, Permit, Priority};
