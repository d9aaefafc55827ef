//! The `live` job: one snapshot of a gameweek. The event's live data and its fixtures are
//! fetched together (live priority) and processed as one consistent snapshot: bonus official
//! where published and provisional from BPS otherwise, every player's points, minutes and
//! whether he can still play. Only players whose state changed are written; an identical
//! snapshot (same fingerprint as the last one processed) writes nothing at all. The result is
//! published to the cache (`live:{event}:elements`, `live:{event}:fixtures`) as one revision.

use std::collections::HashMap;
use std::num::NonZeroU16;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::cache::{CacheKey, LiveDataset};
use crate::fpl::Priority;
use crate::fpl::model::{ElementId, EventId, EventLive, Fixture, TeamId};
use crate::jobs::{JobContext, JobError, JobKind, JobOutcome, JobSpec, LogLevel};
use crate::meta::SeasonId;
use crate::meta::jobs::run_bootstrap_first;
use crate::meta::sync::{TableCounts, current_season};
use crate::scoring::{LiveRow, PlayerInfo, live_rows};
use crate::store::StoreError;

pub const LIVE: JobKind = JobKind::new("live");

/// Parameters of `live`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LiveParams {
    /// The gameweek; the current one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<NonZeroU16>,
}

pub fn spec() -> JobSpec {
    JobSpec::new(LIVE, run)
}

/// Takes one snapshot of a gameweek.
pub async fn run(ctx: JobContext, params: LiveParams) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let mut refreshed = false;
    let season = match current_season(db).await? {
        Some((season, _)) => season,
        None => {
            ctx.log(
                LogLevel::Info,
                "no season is known yet: running bootstrap first",
            )
            .await?;
            run_bootstrap_first(&ctx).await?;
            refreshed = true;
            current_season(db)
                .await?
                .ok_or_else(|| JobError::Transient(anyhow::anyhow!("no season after bootstrap")))?
                .0
        }
    };
    let event = match params.event {
        Some(e) => e.get(),
        None => current_event(db, season).await?.ok_or_else(|| {
            JobError::Permanent(anyhow::anyhow!(
                "no gameweek is current; give one with {{\"event\": N}}"
            ))
        })?,
    };

    let fpl = &ctx.deps.fpl;
    let (live, fixtures) = tokio::try_join!(
        fpl.event_live(EventId(event), Priority::Live),
        fpl.event_fixtures(EventId(event), Priority::Live),
    )?;
    let fingerprint = fingerprint(&live, &fixtures);
    if stored_fingerprint(db, season, event).await? == Some(fingerprint) {
        return Ok(JobOutcome::new(format!(
            "GW{event}: identical snapshot, nothing written"
        )));
    }
    ctx.progress(30).await?;

    let mut players = players(db, season).await?;
    let (mut rows, mut unknown) = live_rows(&live, &fixtures, &players);
    if !unknown.is_empty() && !refreshed {
        let line = format!(
            "{} players unknown (e.g. {}): running bootstrap first",
            unknown.len(),
            unknown[0]
        );
        ctx.log(LogLevel::Info, line).await?;
        run_bootstrap_first(&ctx).await?;
        players = self::players(db, season).await?;
        (rows, unknown) = live_rows(&live, &fixtures, &players);
    }
    if !unknown.is_empty() {
        return Err(JobError::Transient(anyhow::anyhow!(
            "{} players of the live data are unknown even after a bootstrap (e.g. {})",
            unknown.len(),
            unknown[0]
        )));
    }

    let stats: HashMap<ElementId, serde_json::Value> = live
        .elements
        .iter()
        .map(|e| (e.id, serde_json::to_value(&e.stats).unwrap_or_default()))
        .collect();
    let counts = store(db, season, event, &rows, &stats, fingerprint).await?;
    ctx.log(
        LogLevel::Info,
        format!(
            "GW{event} players: {} inserted, {} updated, {} unchanged",
            counts.inserted, counts.updated, counts.unchanged
        ),
    )
    .await?;
    publish(&ctx, event, &rows, &fixtures).await;
    let provisional = rows.iter().filter(|r| r.bonus_provisional).count();
    Ok(JobOutcome::new(format!(
        "GW{event}: {} players, {provisional} with provisional bonus",
        rows.len()
    )))
}

/// Identifies a snapshot: equal for identical live data and fixtures.
fn fingerprint(live: &EventLive, fixtures: &[Fixture]) -> i64 {
    let bytes = serde_json::to_vec(&(live, fixtures)).expect("models serialise");
    xxhash_rust::xxh3::xxh3_64(&bytes) as i64
}

async fn current_event(db: &PgPool, season: SeasonId) -> Result<Option<u16>, StoreError> {
    let id: Option<i32> =
        sqlx::query_scalar("SELECT id FROM events WHERE season_id = $1 AND is_current")
            .bind(season.0)
            .fetch_optional(db)
            .await?;
    Ok(id.and_then(|i| u16::try_from(i).ok()))
}

async fn stored_fingerprint(
    db: &PgPool,
    season: SeasonId,
    event: u16,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT fingerprint FROM live_snapshots WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_optional(db)
    .await?)
}

async fn players(
    db: &PgPool,
    season: SeasonId,
) -> Result<HashMap<ElementId, PlayerInfo>, StoreError> {
    let rows: Vec<(i32, i32, i32)> =
        sqlx::query_as("SELECT id, team_id, element_type FROM players WHERE season_id = $1")
            .bind(season.0)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, team, element_type)| {
            let info = PlayerInfo {
                team: TeamId(team as u16),
                element_type: element_type as u8,
            };
            (ElementId(id as u32), info)
        })
        .collect())
}

/// Writes the players whose state changed, and the snapshot's fingerprint, in one transaction.
async fn store(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    rows: &[LiveRow],
    stats: &HashMap<ElementId, serde_json::Value>,
    fingerprint: i64,
) -> Result<TableCounts, StoreError> {
    let mut tx = db.begin().await?;
    let stored: HashMap<i32, i64> = sqlx::query_as::<_, (i32, i64)>(
        "SELECT player_id, hash FROM live_player_points WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let mut counts = TableCounts::default();
    let mut changed: Vec<(&LiveRow, &serde_json::Value, i64)> = Vec::new();
    let none = serde_json::Value::Null;
    for row in rows {
        let stats = stats.get(&row.id).unwrap_or(&none);
        let hash =
            xxhash_rust::xxh3::xxh3_64(&serde_json::to_vec(&(row, stats)).expect("rows serialise"))
                as i64;
        match stored.get(&(row.id.0 as i32)) {
            Some(h) if *h == hash => counts.unchanged += 1,
            Some(_) => {
                counts.updated += 1;
                changed.push((row, stats, hash));
            }
            None => {
                counts.inserted += 1;
                changed.push((row, stats, hash));
            }
        }
    }
    if !changed.is_empty() {
        let ids: Vec<i32> = changed.iter().map(|(r, _, _)| r.id.0 as i32).collect();
        let points: Vec<i32> = changed.iter().map(|(r, _, _)| r.points).collect();
        let minutes: Vec<i32> = changed.iter().map(|(r, _, _)| r.minutes as i32).collect();
        let bonus: Vec<i32> = changed.iter().map(|(r, _, _)| r.bonus).collect();
        let provisional: Vec<bool> = changed
            .iter()
            .map(|(r, _, _)| r.bonus_provisional)
            .collect();
        let done: Vec<bool> = changed.iter().map(|(r, _, _)| r.done).collect();
        let stats: Vec<String> = changed.iter().map(|(_, s, _)| s.to_string()).collect();
        let hashes: Vec<i64> = changed.iter().map(|(_, _, h)| *h).collect();
        sqlx::query(
            "INSERT INTO live_player_points (season_id, event_id, player_id, points, minutes, \
             bonus, bonus_provisional, done, stats, hash) \
             SELECT $1, $2, u.id, u.points, u.minutes, u.bonus, u.provisional, u.done, \
             u.stats::jsonb, u.hash \
             FROM UNNEST($3::int[], $4::int[], $5::int[], $6::int[], $7::bool[], $8::bool[], \
             $9::text[], $10::bigint[]) AS u(id, points, minutes, bonus, provisional, done, stats, hash) \
             ON CONFLICT (season_id, event_id, player_id) DO UPDATE SET points = EXCLUDED.points, \
             minutes = EXCLUDED.minutes, bonus = EXCLUDED.bonus, \
             bonus_provisional = EXCLUDED.bonus_provisional, done = EXCLUDED.done, \
             stats = EXCLUDED.stats, hash = EXCLUDED.hash, updated_at = now()",
        )
        .bind(season.0)
        .bind(i32::from(event))
        .bind(ids)
        .bind(points)
        .bind(minutes)
        .bind(bonus)
        .bind(provisional)
        .bind(done)
        .bind(stats)
        .bind(hashes)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO live_snapshots (season_id, event_id, fingerprint) VALUES ($1, $2, $3) \
         ON CONFLICT (season_id, event_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, \
         taken_at = now()",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .bind(fingerprint)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(counts)
}

/// Publishes the snapshot's players and fixtures to the cache as one revision; a cache that
/// cannot take it is logged, never fatal.
async fn publish(ctx: &JobContext, event: u16, rows: &[LiveRow], fixtures: &[Fixture]) {
    let key = |dataset| CacheKey::Live {
        event: u32::from(event),
        dataset,
    };
    let entries = vec![
        (
            key(LiveDataset::Elements),
            Bytes::from(serde_json::to_vec(rows).expect("rows serialise")),
        ),
        (
            key(LiveDataset::Fixtures),
            Bytes::from(serde_json::to_vec(fixtures).expect("fixtures serialise")),
        ),
    ];
    if let Err(e) = ctx.deps.cache.put(entries).await {
        tracing::warn!(error = %e, event, "live snapshot not written through to the cache");
    }
}

/// Lets the cache read `live:{event}:*` keys through from PostgreSQL once they expire.
pub fn register_loader(loaders: &crate::cache::Loaders, db: PgPool) {
    loaders.register(crate::cache::Family::Live, move |key| {
        let db = db.clone();
        async move {
            let CacheKey::Live { event, dataset } = key else {
                return Err(anyhow::anyhow!("{key} is not a live key"));
            };
            let event = i32::try_from(event)?;
            let season = "(SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1)";
            let sql = match dataset {
                LiveDataset::Elements => format!(
                    "SELECT json_agg(json_build_object('id', player_id, 'points', points, \
                     'minutes', minutes, 'bonus', bonus, 'bonus_provisional', bonus_provisional, \
                     'done', done) ORDER BY player_id)::text FROM live_player_points \
                     WHERE season_id = {season} AND event_id = $1"
                ),
                LiveDataset::Fixtures => format!(
                    "SELECT json_agg(data ORDER BY id)::text FROM fixtures \
                     WHERE season_id = {season} AND event_id = $1"
                ),
            };
            let text: Option<String> = sqlx::query_scalar(&sql).bind(event).fetch_one(&db).await?;
            Ok(text.map(Bytes::from))
        }
    });
}
