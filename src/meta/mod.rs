//! Game metadata: validating FPL's metadata payloads (`validate`), storing them per season with
//! change detection (`sync`), the seasons stored and what a gameweek is made of (`seasons`), the datasets readers get (`datasets`), price changes and
//! price histories from the daily snapshots (`prices`), schema drift — the jobs'
//! decoding and the `schema_drift` record (`drift`) — and the `bootstrap` and `fixtures` job
//! kinds (`jobs`).

pub mod datasets;
pub mod drift;
pub mod jobs;
pub mod prices;
pub mod seasons;
pub mod sync;
pub mod validate;

pub use sync::{PriceChange, SeasonId, SyncReport, TableCounts};
pub use validate::ValidationError;
