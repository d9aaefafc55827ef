//! Game metadata: validating FPL's metadata payloads and storing them, per season, with change
//! detection (`validate`, `sync`).

pub mod sync;
pub mod validate;

pub use sync::{PriceChange, SeasonId, SyncReport, TableCounts};
pub use validate::ValidationError;
