//! fplsync keeps Fantasy Premier League data in sync: every job kind runs in its own supervised
//! actor, PostgreSQL is the store of record, Redis the shared cache, and operators steer it
//! through an HTTP control endpoint, Prometheus metrics and a supervision log.
//!
//! # Layout
//! - [`config`]: layered settings and their validation.
//! - [`fpl`]: the FPL data source (API models, embedded real samples).
//! - [`supervisor`]: OTP-style supervision built on actix (restarts, backoff, intensity,
//!   escalation, the actor registry, the supervision log).
//! - [`jobs`]: job kinds as plain async functions, the thin job actor around each, triggers.
//! - [`scheduler`]: cron-driven triggers.
//! - [`alerts`]: the alert message, sink and actor.
//! - [`cache`]: the two-tier cache (in-process and Redis, read-through to PostgreSQL) and its
//!   actor.
//! - [`store`]: PostgreSQL (migrations, queries). [`kv`]: Redis.
//! - [`http`]: the control endpoint. [`metrics`]: Prometheus families.
//! - [`app`]: wires it all together. [`telemetry`]: tracing set-up.

pub mod alerts;
pub mod app;
pub mod cache;
pub mod config;
pub mod fpl;
pub mod http;
pub mod jobs;
pub mod kv;
pub mod metrics;
pub mod scheduler;
pub mod store;
pub mod supervisor;
pub mod telemetry;

pub use app::{Application, Options, StartError};
pub use config::Settings;
