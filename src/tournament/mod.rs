//! Tournaments built on FPL managers: the rules as pure functions ([`rules`]), a tournament's
//! definition and its validation ([`model`]), storage with the standings derived from it and
//! published to the cache ([`store`]), the `tournament-roster` job that reads a league's
//! roster page by page ([`roster`]), the `tournament-results` job ([`job`]), standings
//! during a live gameweek ([`live`]) and live tables of the classic leagues tournaments read
//! ([`league_table`]).

pub mod job;
pub mod league_table;
pub mod live;
pub mod model;
pub mod roster;
pub mod rules;
pub mod store;

pub use job::{ResultsParams, TOURNAMENT_RESULTS};
pub use model::TournamentId;
pub use roster::{RosterParams, TOURNAMENT_ROSTER};
