//! Tournaments in PostgreSQL: creation with the roster, structural changes (roster sync,
//! activation with seeding, groups and fixtures, archiving), the per-gameweek entry statistics,
//! and the standings recomputed from everything stored — group tables, qualification and the
//! bracket — published to the cache as `tournament:{id}:*`.
//!
//! Every structural change and every result write first locks the tournament's row
//! (`SELECT … FOR UPDATE`) in its transaction, so a roster rebuild can never interleave with a
//! results run (a past bug of the peer).
//!
//! - [`roster`]: who plays (read from a league or a list), creation and roster sync.
//! - [`structure`]: activation (seeding, groups, fixtures) and archiving.
//! - [`results`]: a gameweek's entry statistics, from the stored official results.
//! - [`standings`]: group tables, qualification and the bracket, recomputed from everything
//!   stored.
//! - [`cache`]: the standings documents in the cache, and the loader behind them.

mod cache;
mod results;
mod roster;
mod standings;
mod structure;

pub use cache::{publish, register_loader};
pub use results::{CupRow, Processed, process_event};
pub use roster::{
    League, PageStored, ReadStatus, RosterEntry, RosterPage, RosterRead, begin_read, create,
    fail_read, finish_read, read_status, request_read, set_read_run, store_pages,
};
pub use standings::load;
pub use structure::{activate, archive, archive_past_seasons};

use std::collections::HashMap;

use sqlx::{PgPool, Postgres, Transaction};

use crate::fpl::FplError;
use crate::store::StoreError;
use crate::tournament::model::{COLUMNS, Invalid, TournamentId, TournamentRow};

/// Why a tournament operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TournamentError {
    #[error("no tournament {0}")]
    NotFound(TournamentId),
    /// The operation does not fit the tournament's state (`code` is stable).
    #[error("{message}")]
    State { code: &'static str, message: String },
    /// The definition does not fit the roster.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("FPL league {league} does not exist (404)")]
    UnknownLeague { league: u64 },
    #[error("reading the roster from FPL failed: {0}")]
    Fpl(#[from] FplError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TournamentError {
    fn from(e: sqlx::Error) -> Self {
        TournamentError::Store(e.into())
    }
}

/// Locks the tournament's row for the rest of the transaction.
pub(super) async fn fetch_locked(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
) -> Result<TournamentRow, TournamentError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tournaments WHERE id = $1 FOR UPDATE"
    ))
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(TournamentError::NotFound(id))
}

/// One tournament and its roster size.
pub async fn get(
    db: &PgPool,
    id: TournamentId,
) -> Result<Option<(TournamentRow, i64)>, StoreError> {
    let row: Option<TournamentRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM tournaments WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(db)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tournament_entries WHERE tournament_id = $1")
            .bind(id.0)
            .fetch_one(db)
            .await?;
    Ok(Some((row, n)))
}

/// Every tournament (optionally of one state), newest first, with roster sizes.
pub async fn list(
    db: &PgPool,
    state: Option<&str>,
) -> Result<Vec<(TournamentRow, i64)>, StoreError> {
    let rows: Vec<TournamentRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tournaments WHERE $1::text IS NULL OR state = $1 ORDER BY id DESC"
    ))
    .bind(state)
    .fetch_all(db)
    .await?;
    let counts: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
        "SELECT tournament_id, count(*) FROM tournament_entries GROUP BY tournament_id",
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            (r, n)
        })
        .collect())
}

pub(super) fn state_error(code: &'static str, message: String) -> TournamentError {
    TournamentError::State { code, message }
}

/// Active tournaments, for a results run over all of them.
/// The season a tournament is played in (`None` for a draft created before any bootstrap).
pub async fn season_of(db: &PgPool, id: TournamentId) -> Result<Option<i32>, StoreError> {
    Ok(
        sqlx::query_scalar::<_, Option<i32>>("SELECT season_id FROM tournaments WHERE id = $1")
            .bind(id.0)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

pub async fn active_ids(db: &PgPool) -> Result<Vec<TournamentId>, StoreError> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM tournaments WHERE state = 'active' ORDER BY id")
            .fetch_all(db)
            .await?;
    Ok(ids.into_iter().map(TournamentId).collect())
}
