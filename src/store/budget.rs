//! What each gameweek cost in FPL requests: the FPL client's counts by endpoint and priority,
//! recorded against the gameweek current when they are recorded (`fpl_requests_by_gameweek`),
//! and the lifecycle's ticks of it (`lifecycle_ticks`). The per-gameweek target an operator is
//! shown is 2E + 3 × ticks + 50 requests for E tracked managers: one picks and one results
//! request per manager, three requests a tick (the probe, event live and fixtures), and fifty
//! for metadata and the rest.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::StoreError;

/// The gameweek current at `now` (FPL's clock): the latest of the newest season's events whose
/// deadline has passed. `(season id, event id)`.
const CURRENT: &str = "SELECT e.season_id, e.id FROM events e \
     WHERE e.season_id = (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1) \
     AND e.deadline_time <= $1 ORDER BY e.id DESC LIMIT 1";

/// Adds `spent` (endpoint, priority, requests) to the gameweek current at `now`. Returns false
/// when no gameweek is current (before a season's first deadline): nothing is recorded.
pub async fn record_spend(
    db: &PgPool,
    now: DateTime<Utc>,
    spent: &[(&str, &str, u64)],
) -> Result<bool, StoreError> {
    if spent.is_empty() {
        return Ok(true);
    }
    let endpoints: Vec<&str> = spent.iter().map(|s| s.0).collect();
    let priorities: Vec<&str> = spent.iter().map(|s| s.1).collect();
    let counts: Vec<i64> = spent
        .iter()
        .map(|s| s.2.min(i64::MAX as u64) as i64)
        .collect();
    let done = sqlx::query(&format!(
        "WITH cur AS ({CURRENT}) \
         INSERT INTO fpl_requests_by_gameweek AS b (season_id, event_id, endpoint, priority, requests) \
         SELECT cur.season_id, cur.id, u.endpoint, u.priority, u.n FROM cur, \
         UNNEST($2::text[], $3::text[], $4::bigint[]) AS u(endpoint, priority, n) \
         ON CONFLICT (season_id, event_id, endpoint, priority) \
         DO UPDATE SET requests = b.requests + EXCLUDED.requests"
    ))
    .bind(now)
    .bind(endpoints)
    .bind(priorities)
    .bind(counts)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Counts one lifecycle tick of a gameweek.
pub async fn count_tick(db: &PgPool, season: i32, event: u16) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO lifecycle_ticks AS t (season_id, event_id, ticks) VALUES ($1, $2, 1) \
         ON CONFLICT (season_id, event_id) DO UPDATE SET ticks = t.ticks + 1",
    )
    .bind(season)
    .bind(i32::from(event))
    .execute(db)
    .await?;
    Ok(())
}

/// What a gameweek has cost so far, against its target.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GameweekBudget {
    pub event: u16,
    /// Requests by endpoint, then by priority.
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
    pub total: u64,
    /// Tracked managers (E).
    pub managers: u64,
    /// Lifecycle ticks of the gameweek.
    pub ticks: u64,
    /// 2E + 3 × ticks + 50.
    pub target: u64,
    pub within_target: bool,
}

/// The target for `managers` tracked managers and `ticks` lifecycle ticks.
pub fn target(managers: u64, ticks: u64) -> u64 {
    2 * managers + 3 * ticks + 50
}

/// The budget of gameweek `event` of season `season`, with `managers` tracked.
pub async fn gameweek(
    db: &PgPool,
    season: i32,
    event: u16,
    managers: u64,
) -> Result<GameweekBudget, StoreError> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT endpoint, priority, requests FROM fpl_requests_by_gameweek \
         WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season)
    .bind(i32::from(event))
    .fetch_all(db)
    .await?;
    let ticks: Option<i64> = sqlx::query_scalar(
        "SELECT ticks FROM lifecycle_ticks WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season)
    .bind(i32::from(event))
    .fetch_optional(db)
    .await?;
    let mut requests: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut total = 0;
    for (endpoint, priority, n) in rows {
        let n = n.max(0) as u64;
        total += n;
        requests.entry(endpoint).or_default().insert(priority, n);
    }
    let ticks = ticks.unwrap_or(0).max(0) as u64;
    let target = target(managers, ticks);
    Ok(GameweekBudget {
        event,
        requests,
        total,
        managers,
        ticks,
        target,
        within_target: total <= target,
    })
}
