//! The live data in PostgreSQL: each player's points of a gameweek (`live_player_points`,
//! written only where they changed) and the snapshot's fingerprint (`live_snapshots`), with the
//! reads a snapshot needs around them.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::fpl::model::{ElementId, EventLive, Fixture, TeamId};
use crate::meta::SeasonId;
use crate::meta::sync::{TableCounts, known_ids};
use crate::scoring::{LiveRow, PlayerInfo};
use crate::store::StoreError;

pub async fn event_data_checked(
    db: &PgPool,
    season: SeasonId,
    event: u16,
) -> Result<bool, StoreError> {
    let checked: Option<bool> =
        sqlx::query_scalar("SELECT data_checked FROM events WHERE season_id = $1 AND id = $2")
            .bind(season.0)
            .bind(i32::from(event))
            .fetch_optional(db)
            .await?;
    Ok(checked.unwrap_or(false))
}

/// Whether the fixtures name only teams and events the metadata knows.
pub async fn fixtures_valid(
    db: &PgPool,
    season: SeasonId,
    fixtures: &[Fixture],
) -> Result<bool, StoreError> {
    let (teams, events) = known_ids(db, season).await?;
    Ok(crate::meta::validate::fixtures(fixtures, &teams, &events).is_ok())
}

/// Fixtures stored as gameweek `event`'s that FPL's answer for it (`fixtures`) no longer has:
/// postponed (their `event` now null) or moved to another gameweek.
pub async fn fixtures_moved_out(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    fixtures: &[Fixture],
) -> Result<Vec<i32>, StoreError> {
    let answered: Vec<i32> = fixtures.iter().map(|f| f.id.0 as i32).collect();
    let moved = sqlx::query_scalar(
        "SELECT id FROM fixtures WHERE season_id = $1 AND event_id = $2 AND NOT (id = ANY($3)) \
         ORDER BY id",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .bind(answered)
    .fetch_all(db)
    .await?;
    Ok(moved)
}

/// What besides FPL's data changes the published result: the picks stored, the official
/// results recorded and whether the event is final.
pub async fn inputs_stamp(db: &PgPool, season: SeasonId, event: u16) -> Result<i64, StoreError> {
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
pub fn fingerprint(live: &EventLive, fixtures: &[Fixture], inputs: i64) -> i64 {
    let bytes = serde_json::to_vec(&(live, fixtures, inputs)).expect("models serialise");
    xxhash_rust::xxh3::xxh3_64(&bytes) as i64
}

pub async fn current_event(db: &PgPool, season: SeasonId) -> Result<Option<u16>, StoreError> {
    let id: Option<i32> =
        sqlx::query_scalar("SELECT id FROM events WHERE season_id = $1 AND is_current")
            .bind(season.0)
            .fetch_optional(db)
            .await?;
    Ok(id.and_then(|i| u16::try_from(i).ok()))
}

/// When the stored snapshot has this fingerprint: records that it was confirmed (and one more
/// identical snapshot in a row) and answers true.
pub async fn confirm_unchanged(
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

pub async fn players(
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
pub async fn store(
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
