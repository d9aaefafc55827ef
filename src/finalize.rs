//! The `finalize` job: once a gameweek is `data_checked`, its final per-player points (a last
//! snapshot), and for every tracked manager the official result from the picks endpoint
//! (points, transfers cost, bench points, ranks, final picks) stored as the entry's event
//! result beside the points fplsync computed. A disagreement means a scoring rule is wrong: it
//! is logged, counted and alerted. The gameweek is recorded as finalized exactly once, and
//! only then are the dependent jobs (`tournament-results`) asked for, by message.

use std::num::NonZeroU16;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::alerts::Alert;
use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec, Kind};
use crate::live::LiveMetrics;
use crate::live::snapshot::{self, LiveParams};
use crate::managers;
use crate::meta::SeasonId;
use crate::meta::jobs::season_or_bootstrap;
use crate::run::{LogLevel, Trigger};
use crate::store::StoreError;
use crate::tournament::{ResultsParams, TOURNAMENT_RESULTS};

pub const FINALIZE: Kind<FinalizeParams> = Kind::new("finalize");

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
            .get::<LiveMetrics>()
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
        request_dependents(&ctx, params.event).await;
    }
    Ok(JobOutcome::new(format!(
        "GW{event} finalized: {} tracked managers, {fetched} official results fetched, \
         {unknown} unknown to FPL, {} mismatches",
        tracked.len(),
        mismatches.len()
    )))
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
async fn request_dependents(ctx: &JobContext, event: NonZeroU16) {
    if ctx.deps.jobs.get(TOURNAMENT_RESULTS.kind()).is_none() {
        return;
    }
    let params = ResultsParams {
        tournament: None,
        event,
    };
    let wait = Duration::from_secs(2);
    match ctx
        .deps
        .jobs
        .request(TOURNAMENT_RESULTS, &params, Trigger::Dependency, wait)
        .await
    {
        Ok(e) => tracing::info!(event, run = %e.run_id, "tournament results requested"),
        Err(e) => tracing::warn!(event, error = %e, "tournament results not requested"),
    }
}
