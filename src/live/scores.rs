//! Every tracked manager scored against a snapshot's player rows: the live net points of each,
//! with captaincy, chips, provisional automatic substitutions and the official points beside
//! them once known.

use sqlx::PgPool;

use super::store::event_data_checked;
use crate::managers;
use crate::meta::SeasonId;
use crate::scoring::{LiveRow, player_table};
use crate::store::StoreError;

/// Every tracked manager with picks for `event`, to be scored against the snapshot's rows; the
/// picks come from `cache` when given (the live tick's), else straight from PostgreSQL.
pub async fn manager_scores(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    tracked: &[u64],
    rows: &[LiveRow],
    cache: Option<&managers::PicksCache>,
) -> Result<managers::Scoreboard, StoreError> {
    if tracked.is_empty() {
        return Ok(managers::Scoreboard::empty(event));
    }
    let all = match cache {
        Some(cache) => cache.event_picks(db, season, event).await?,
        None => std::sync::Arc::new(managers::load_picks(db, season, event, tracked).await?),
    };
    let sorted: Vec<u64>;
    let tracked = if tracked.is_sorted() {
        tracked
    } else {
        let mut copy = tracked.to_vec();
        copy.sort_unstable();
        sorted = copy;
        &sorted[..]
    };
    let chosen: Vec<u32> = all
        .iter()
        .enumerate()
        .filter(|(_, m)| tracked.binary_search(&m.entry.0).is_ok())
        .map(|(i, _)| i as u32)
        .collect();
    if chosen.is_empty() {
        return Ok(managers::Scoreboard::empty(event));
    }
    let formation = managers::formation(db, season).await?;
    let is_final = event_data_checked(db, season, event).await?;
    let official = managers::official_points(db, season, event).await?;
    let table = player_table(rows);
    Ok(managers::Scoreboard::new(
        event, all, chosen, table, formation, is_final, official,
    ))
}
