//! The `finalize` job: once a gameweek is `data_checked`, its final per-player points (a last
//! snapshot), and for every tracked manager the official result from the picks endpoint
//! (points, transfers cost, bench points, ranks, final picks) stored as the entry's event
//! result beside the points fplsync computed. A disagreement means a scoring rule is wrong: it
//! is logged, counted and alerted. The gameweek is recorded as finalized exactly once, and
//! only then are the dependent jobs (`tournament-results`) asked for, by message.

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;

use super::managers;
use super::snapshot::{self, LiveParams, season_or_bootstrap};
use crate::alerts::Alert;
use crate::fpl::model::PicksResponse;
use crate::jobs::{Delivery, JobContext, JobError, JobOutcome, JobSpec, request_run};
use crate::run::{JobKind, LogLevel, Trigger};
use crate::meta::SeasonId;
use crate::store::StoreError;
use crate::tournament::TOURNAMENT_RESULTS;

pub const FINALIZE: JobKind = JobKind::new("finalize");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FinalizeParams {
    pub event: NonZeroU16,
}

pub fn spec() -> JobSpec {
    JobSpec::new(FINALIZE, run)
}

/// Whether `event` has been finalized.
pub async fn is_finalized(db: &PgPool, season: SeasonId, event: u16) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM event_finalizations WHERE season_id = $1 AND event_id = $2)",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_one(db)
    .await?)
}

pub async fn run(ctx: JobContext, params: FinalizeParams) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let event = params.event.get();
    let season = season_or_bootstrap(&ctx).await?;
    if is_finalized(db, season, event).await? {
        return Ok(JobOutcome::new(format!("GW{event} was already finalized")));
    }
    let checked: Option<bool> =
        sqlx::query_scalar("SELECT data_checked FROM events WHERE season_id = $1 AND id = $2")
            .bind(season.0)
            .bind(i32::from(event))
            .fetch_optional(db)
            .await
            .map_err(StoreError::from)?;
    if checked != Some(true) {
        return Err(JobError::Permanent(anyhow::anyhow!(
            "GW{event} is not data_checked yet: only final data is finalized"
        )));
    }
    // The final per-player points, stored and published.
    let live = LiveParams {
        event: Some(params.event),
    };
    snapshot::run(ctx.clone(), live.clone()).await?;
    ctx.progress(20).await?;

    let tracked = managers::tracked(db, &ctx.deps.settings.live.tracked_entries).await?;
    let report = crate::entries::sync_results(&ctx, season, event).await?;
    // Too few results is an error (retried); some missing ones are not: a manager without a
    // result is never scored as 0 by what builds on it, and a later run can still fetch it.
    crate::entries::judge(&ctx, &format!("GW{event} official results"), &report).await?;
    let fetched = report.stored;
    let unknown = report.unknown;
    ctx.progress(80).await?;

    let mismatches = mismatches(db, season, event).await?;
    if !mismatches.is_empty() {
        ctx.deps
            .metrics
            .live
            .points_mismatches
            .inc_by(mismatches.len() as u64);
        let sample: Vec<String> = mismatches
            .iter()
            .take(10)
            .map(|(entry, ours, theirs)| format!("entry {entry}: ours {ours}, FPL {theirs}"))
            .collect();
        let line = format!(
            "GW{event}: computed points differ from FPL's for {} managers ({})",
            mismatches.len(),
            sample.join("; ")
        );
        ctx.log(LogLevel::Warn, &line).await?;
        ctx.deps
            .alerts
            .emit(Alert::points_mismatch(event, mismatches.len(), &line));
    } else {
        // Agreement resolves an earlier mismatch of the gameweek (nothing if none is open).
        ctx.deps.alerts.emit(Alert::points_agree(event));
    }

    let first = record_finalization(db, season, event, tracked.len(), mismatches.len()).await?;
    // Publish the final scores with the official points beside them.
    snapshot::run(ctx.clone(), live).await?;
    if first {
        request_dependents(&ctx, event).await;
    }
    Ok(JobOutcome::new(format!(
        "GW{event} finalized: {} tracked managers, {fetched} official results fetched, \
         {unknown} unknown to FPL, {} mismatches",
        tracked.len(),
        mismatches.len()
    )))
}

/// Stores official results (one statement), with fplsync's own points beside them.
pub async fn store_results(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    batch: &[(u64, PicksResponse)],
    computed: &HashMap<u64, i32>,
) -> Result<usize, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let h = |p: &PicksResponse| p.entry_history.clone();
    let ids: Vec<i64> = batch.iter().map(|(e, _)| *e as i64).collect();
    let points: Vec<i32> = batch.iter().map(|(_, p)| h(p).points).collect();
    let costs: Vec<i32> = batch
        .iter()
        .map(|(_, p)| h(p).event_transfers_cost)
        .collect();
    let bench: Vec<i32> = batch.iter().map(|(_, p)| h(p).points_on_bench).collect();
    let totals: Vec<i32> = batch.iter().map(|(_, p)| h(p).total_points).collect();
    let event_ranks: Vec<Option<i64>> = batch
        .iter()
        .map(|(_, p)| h(p).rank.map(i64::from))
        .collect();
    let overall: Vec<Option<i64>> = batch
        .iter()
        .map(|(_, p)| h(p).overall_rank.map(i64::from))
        .collect();
    let ours: Vec<Option<i32>> = batch
        .iter()
        .map(|(e, _)| computed.get(e).copied())
        .collect();
    let chips: Vec<Option<String>> = batch
        .iter()
        .map(|(_, p)| p.active_chip.as_ref().map(|c| c.as_str().to_string()))
        .collect();
    let picks: Vec<String> = batch
        .iter()
        .map(|(_, p)| serde_json::to_string(&p.picks).expect("picks serialise"))
        .collect();
    sqlx::query(
        "INSERT INTO entry_event_results (season_id, event_id, entry_id, points, transfers_cost, \
         net_points, bench_points, total_points, event_rank, overall_rank, computed_points, \
         active_chip, picks) \
         SELECT $1, $2, u.id, u.points, u.cost, u.points - u.cost, u.bench, u.total, u.erank, \
         u.orank, u.ours, u.chip, u.picks::jsonb \
         FROM UNNEST($3::bigint[], $4::int[], $5::int[], $6::int[], $7::int[], $8::bigint[], \
         $9::bigint[], $10::int[], $11::text[], $12::text[]) \
         AS u(id, points, cost, bench, total, erank, orank, ours, chip, picks) \
         ON CONFLICT (season_id, event_id, entry_id) DO UPDATE SET points = EXCLUDED.points, \
         transfers_cost = EXCLUDED.transfers_cost, net_points = EXCLUDED.net_points, \
         bench_points = EXCLUDED.bench_points, total_points = EXCLUDED.total_points, \
         event_rank = EXCLUDED.event_rank, overall_rank = EXCLUDED.overall_rank, \
         computed_points = EXCLUDED.computed_points, active_chip = EXCLUDED.active_chip, \
         picks = EXCLUDED.picks, recorded_at = now()",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .bind(ids)
    .bind(points)
    .bind(costs)
    .bind(bench)
    .bind(totals)
    .bind(event_ranks)
    .bind(overall)
    .bind(ours)
    .bind(chips)
    .bind(picks)
    .execute(db)
    .await?;
    Ok(batch.len())
}

/// Managers whose computed points differ from the official ones: (entry, ours, FPL's).
async fn mismatches(
    db: &PgPool,
    season: SeasonId,
    event: u16,
) -> Result<Vec<(i64, i32, i32)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT entry_id, computed_points, points FROM entry_event_results \
         WHERE season_id = $1 AND event_id = $2 AND computed_points IS NOT NULL \
         AND computed_points <> points ORDER BY entry_id",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_all(db)
    .await?)
}

/// Records the finalization; true only for the run that recorded it.
async fn record_finalization(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    entries: usize,
    mismatches: usize,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO event_finalizations (season_id, event_id, entries, mismatches) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .bind(entries as i32)
    .bind(mismatches as i32)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Asks the jobs that build on a gameweek's results to run; a catalog without them is fine.
async fn request_dependents(ctx: &JobContext, event: u16) {
    if ctx.deps.jobs.get(TOURNAMENT_RESULTS).is_none() {
        return;
    }
    let wait = Duration::from_secs(2);
    match request_run(
        &ctx.deps.jobs,
        &ctx.deps.metrics,
        TOURNAMENT_RESULTS,
        json!({ "event": event }),
        Trigger::Dependency,
        Delivery::WaitUpTo(wait),
        wait,
    )
    .await
    {
        Ok(e) => tracing::info!(event, run = %e.run_id, "tournament results requested"),
        Err(e) => tracing::warn!(event, error = %e, "tournament results not requested"),
    }
}
