//! fplsync keeps Fantasy Premier League data in sync: every job kind runs in its own supervised
//! actor, PostgreSQL is the store of record, Redis the shared cache, and operators steer it
//! through an HTTP control endpoint, Prometheus metrics and a supervision log.
//!
//! # Layout
//! - [`config`]: layered settings and their validation.
//! - [`fpl`]: the FPL data source (API models, embedded real samples, the resilient client with
//!   its admission control and circuit breaker).
//! - [`supervisor`]: OTP-style supervision built on actix (restarts, backoff, intensity,
//!   escalation, the actor registry, the supervision log).
//! - [`jobs`]: job kinds as plain async functions, the thin job actor around each, triggers.
//! - [`scheduler`]: cron-driven triggers. [`scoring`]: bonus and managers' points.
//! - [`alerts`]: the alert message, sink and actor.
//! - [`live`]: live gameweek data (the `live` snapshot job).
//! - [`meta`]: game metadata (validation, change-detecting storage).
//! - [`cache`]: the two-tier cache (in-process and Redis, read-through to PostgreSQL) and its
//!   actor.
//! - [`store`]: PostgreSQL (migrations, queries). [`kv`]: Redis.
//! - [`leader`]: which of several instances runs the scheduler and the job actors.
//! - [`http`]: the control endpoint. [`metrics`]: Prometheus families.
//! - [`sim`]: `fplsync sim`, an FPL API simulator (scenario clock, synthetic managers, faults).
//! - [`demo`]: `fplsync demo`, the simulator and the service together.
//! - [`tournament`]: tournaments (rules, storage and standings, the `tournament-results` job).
//! - [`auth`]: API keys, roles and the constant-time key check.
//! - [`app`]: wires it all together. [`telemetry`]: tracing set-up.

pub mod alerts;
pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod demo;
pub mod entries;
pub mod fpl;
pub mod http;
pub mod jobs;
pub mod kv;
pub mod leader;
pub mod live;
pub mod meta;
pub mod metrics;
pub mod run;
pub mod scheduler;
pub mod scoring;
pub mod sim;
pub mod store;
pub mod supervisor;
pub mod telemetry;
pub mod tournament;

pub use app::{Application, Options, StartError};
pub use config::Settings;
