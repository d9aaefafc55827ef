//! `fplsync sim`: an HTTP server that speaks the FPL API, replaying gameweek 38 of 2025-26 from
//! real snapshots, driven by a scenario clock, with synthetic managers at any scale.
//!
//! # Layout
//! - [`clock`]: phases of a gameweek, the scenario timeline, simulated time.
//! - [`squad`]: squad rules — generation, transfers, chips, line-ups, scoring, auto-subs.
//! - [`rng`]: deterministic hashing.

pub mod clock;
pub mod rng;
pub mod squad;
