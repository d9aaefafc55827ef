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
use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec};
use crate::run::{JobKind, LogLevel};
use crate::meta::SeasonId;
use crate::meta::jobs::run_bootstrap_first;
use crate::meta::sync::{TableCounts, apply_fixtures, current_season, known_ids};
use crate::scoring::{LiveRow, PlayerInfo, live_rows, player_table};

use super::managers;
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

/// The current season; a `bootstrap` is run first when none is known yet.
pub async fn season_or_bootstrap(ctx: &JobContext) -> Result<SeasonId, JobError> {
    Ok(season_refreshing(ctx).await?.0)
}

/// The current season, and whether a `bootstrap` had to be run first to know it.
async fn season_refreshing(ctx: &JobContext) -> Result<(SeasonId, bool), JobError> {
    if let Some((season, _)) = current_season(&ctx.deps.db).await? {
        return Ok((season, false));
    }
    ctx.log(
        LogLevel::Info,
        "no season is known yet: running bootstrap first",
    )
    .await?;
    run_bootstrap_first(ctx).await?;
    let season = current_season(&ctx.deps.db)
        .await?
        .ok_or_else(|| JobError::Transient(anyhow::anyhow!("no season after bootstrap")))?
        .0;
    Ok((season, true))
}

/// Takes one snapshot of a gameweek.
pub async fn run(ctx: JobContext, params: LiveParams) -> Result<JobOutcome, JobError> {
    let started = std::time::Instant::now();
    let outcome = snapshot(&ctx, params).await;
    ctx.deps
        .metrics
        .live
        .tick_duration
        .observe(started.elapsed().as_secs_f64());
    outcome
}

async fn snapshot(ctx: &JobContext, params: LiveParams) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let (season, mut refreshed) = season_refreshing(ctx).await?;
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
    let tracked = managers::tracked(db, &ctx.deps.settings.live.tracked_entries).await?;
    let stamp = inputs_stamp(db, season, event).await?;
    let fingerprint = fingerprint(&live, &fixtures, stamp);
    if confirm_unchanged(db, season, event, fingerprint).await? {
        return Ok(JobOutcome::new(format!(
            "GW{event}: identical snapshot, nothing written"
        )));
    }
    ctx.progress(30).await?;

    // Players or fixtures the metadata does not know: refresh it (coalesced), once.
    let mut players = players(db, season).await?;
    let (mut rows, mut unknown) = live_rows(&live, &fixtures, &players);
    let mut fixtures_known = fixtures_valid(db, season, &fixtures).await?;
    if (!unknown.is_empty() || !fixtures_known) && !refreshed {
        let line = match unknown.first() {
            Some(first) => format!(
                "{} players unknown (e.g. {first}): running bootstrap first",
                unknown.len()
            ),
            None => "fixtures name unknown teams or events: running bootstrap first".into(),
        };
        ctx.log(LogLevel::Info, line).await?;
        run_bootstrap_first(ctx).await?;
        refreshed = true;
        players = self::players(db, season).await?;
        (rows, unknown) = live_rows(&live, &fixtures, &players);
        fixtures_known = fixtures_valid(db, season, &fixtures).await?;
    }
    debug_assert!(refreshed || (unknown.is_empty() && fixtures_known));
    if !unknown.is_empty() {
        return Err(JobError::Transient(anyhow::anyhow!(
            "{} players of the live data are unknown even after a bootstrap (e.g. {})",
            unknown.len(),
            unknown[0]
        )));
    }
    if fixtures_known {
        apply_fixtures(db, season, &fixtures).await?;
    } else {
        ctx.log(
            LogLevel::Warn,
            "fixtures name teams or events unknown even after a bootstrap: not stored",
        )
        .await?;
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
    ctx.progress(60).await?;

    let scores = manager_scores(
        db,
        season,
        event,
        &tracked,
        &rows,
        Some(&ctx.deps.picks_cache),
    )
    .await?;
    publish(ctx, event, &rows, &fixtures, &scores).await;
    let provisional = rows.iter().filter(|r| r.bonus_provisional).count();
    Ok(JobOutcome::new(format!(
        "GW{event}: {} players, {provisional} with provisional bonus, {} managers scored",
        rows.len(),
        scores.len()
    )))
}

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

async fn event_data_checked(db: &PgPool, season: SeasonId, event: u16) -> Result<bool, StoreError> {
    let checked: Option<bool> =
        sqlx::query_scalar("SELECT data_checked FROM events WHERE season_id = $1 AND id = $2")
            .bind(season.0)
            .bind(i32::from(event))
            .fetch_optional(db)
            .await?;
    Ok(checked.unwrap_or(false))
}

/// Whether the fixtures name only teams and events the metadata knows.
async fn fixtures_valid(
    db: &PgPool,
    season: SeasonId,
    fixtures: &[Fixture],
) -> Result<bool, StoreError> {
    let (teams, events) = known_ids(db, season).await?;
    Ok(crate::meta::validate::fixtures(fixtures, &teams, &events).is_ok())
}

/// What besides FPL's data changes the published result: the picks stored, the official
/// results recorded and whether the event is final.
async fn inputs_stamp(db: &PgPool, season: SeasonId, event: u16) -> Result<i64, StoreError> {
    let stamp: Option<i64> = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM entry_picks WHERE season_id = $1 AND event_id = $2) * 7919 \
         + (SELECT count(*) FROM entry_event_results WHERE season_id = $1 AND event_id = $2) * 104729 \
         + (SELECT count(*) FROM tracked_entries) * 31 \
         + COALESCE((SELECT data_checked::int FROM events WHERE season_id = $1 AND id = $2), 0)",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_one(db)
    .await?;
    Ok(stamp.unwrap_or(0))
}

/// Identifies a snapshot: equal for identical live data, fixtures and other inputs.
fn fingerprint(live: &EventLive, fixtures: &[Fixture], inputs: i64) -> i64 {
    let bytes = serde_json::to_vec(&(live, fixtures, inputs)).expect("models serialise");
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

/// When the stored snapshot has this fingerprint: records that it was confirmed (and one more
/// identical snapshot in a row) and answers true.
async fn confirm_unchanged(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    fingerprint: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE live_snapshots SET checked_at = now(), unchanged = unchanged + 1 \
         WHERE season_id = $1 AND event_id = $2 AND fingerprint = $3",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .bind(fingerprint)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
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
         taken_at = now(), checked_at = now(), unchanged = 0",
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
async fn publish(
    ctx: &JobContext,
    event: u16,
    rows: &[LiveRow],
    fixtures: &[Fixture],
    scores: &managers::Scoreboard,
) {
    let key = |dataset| CacheKey::Live {
        event: u32::from(event),
        dataset,
    };
    let mut entries = vec![
        (
            key(LiveDataset::Elements),
            Bytes::from(serde_json::to_vec(rows).expect("rows serialise")),
        ),
        (
            key(LiveDataset::Fixtures),
            Bytes::from(serde_json::to_vec(fixtures).expect("fixtures serialise")),
        ),
    ];
    entries.extend(scores.shards());
    if let Err(e) = ctx.deps.cache.put(entries).await {
        tracing::warn!(error = %e, event, "live snapshot not written through to the cache");
    }
}

/// Lets the cache read `live:{event}:*` keys through from PostgreSQL once they expire: players
/// and fixtures as stored, managers' scores recomputed from the stored points and picks.
pub fn register_loader(loaders: &crate::cache::Loaders, db: PgPool, configured: Vec<u64>) {
    loaders.register(crate::cache::Family::Live, move |key| {
        let db = db.clone();
        let configured = configured.clone();
        async move {
            let CacheKey::Live { event, dataset } = key else {
                return Err(anyhow::anyhow!("{key} is not a live key"));
            };
            let event = u16::try_from(event)?;
            let Some((season, _)) = current_season(&db).await? else {
                return Ok(None);
            };
            match dataset {
                LiveDataset::Entries(shard) => {
                    let rows = stored_rows(&db, season, event).await?;
                    if rows.is_empty() {
                        return Ok(None);
                    }
                    let n = u64::from(LiveDataset::ENTRY_SHARDS);
                    let tracked: Vec<u64> = managers::tracked(&db, &configured)
                        .await?
                        .into_iter()
                        .filter(|e| e % n == u64::from(shard))
                        .collect();
                    let scores = manager_scores(&db, season, event, &tracked, &rows, None).await?;
                    Ok(Some(scores.shard(shard)))
                }
                LiveDataset::Elements => {
                    let text: Option<String> = sqlx::query_scalar(
                        "SELECT json_agg(json_build_object('id', l.player_id, 'points', l.points, \
                         'minutes', l.minutes, 'bonus', l.bonus, \
                         'bonus_provisional', l.bonus_provisional, \
                         'element_type', p.element_type, 'done', l.done) \
                         ORDER BY l.player_id)::text FROM live_player_points l \
                         JOIN players p ON p.season_id = l.season_id AND p.id = l.player_id \
                         WHERE l.season_id = $1 AND l.event_id = $2",
                    )
                    .bind(season.0)
                    .bind(i32::from(event))
                    .fetch_one(&db)
                    .await?;
                    Ok(text.map(Bytes::from))
                }
                LiveDataset::Fixtures => {
                    let text: Option<String> = sqlx::query_scalar(
                        "SELECT '[' || string_agg(data, ',' ORDER BY id) || ']' FROM fixtures \
                         WHERE season_id = $1 AND event_id = $2",
                    )
                    .bind(season.0)
                    .bind(i32::from(event))
                    .fetch_one(&db)
                    .await?;
                    Ok(text.map(Bytes::from))
                }
            }
        }
    });
}

/// The stored live rows of `event`.
pub async fn stored_rows(
    db: &PgPool,
    season: SeasonId,
    event: u16,
) -> Result<Vec<LiveRow>, StoreError> {
    let rows: Vec<(i32, i32, i32, i32, bool, i32, bool)> = sqlx::query_as(
        "SELECT l.player_id, l.points, l.minutes, l.bonus, l.bonus_provisional, \
         p.element_type, l.done FROM live_player_points l \
         JOIN players p ON p.season_id = l.season_id AND p.id = l.player_id \
         WHERE l.season_id = $1 AND l.event_id = $2",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, points, minutes, bonus, bonus_provisional, element_type, done)| LiveRow {
                id: ElementId(id as u32),
                points,
                minutes: minutes as u32,
                bonus,
                bonus_provisional,
                element_type: element_type as u8,
                done,
            },
        )
        .collect())
}
