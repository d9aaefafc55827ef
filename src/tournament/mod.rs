//! Tournaments built on FPL managers: the rules as pure functions ([`rules`]), a tournament's
//! definition and its validation ([`model`]), storage with the standings derived from it and
//! published to the cache ([`store`]), and the `tournament-results` job ([`job`]).

pub mod job;
pub mod model;
pub mod rules;
pub mod store;

pub use job::{TOURNAMENT_RESULTS, request_results};
pub use model::TournamentId;
