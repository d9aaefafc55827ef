//! The meta job kinds: `bootstrap` (season, phases, teams, element types, players, events and
//! the daily price snapshot, from bootstrap-static) and `fixtures` (all fixtures of the season,
//! or one event's). Each fetches through the shared client at meta priority, decodes only the
//! fields fplsync needs and validates (`drift::bootstrap`, `drift::fixtures`: a missing needed
//! field fails the run naming it), writes only what changed, logs what it did per table, and
//! reports a field that appeared or disappeared since the last payload as `schema_drift`.

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::datasets;
use super::drift::{self, Change, PayloadError, Shape};
use super::sync::{self, PriceChange, SeasonId, SyncReport, TableCounts};
use super::validate;
use crate::alerts::Alert;
use crate::cache::MetaDataset;
use crate::fpl::Priority;
use crate::fpl::model::EventId;
use crate::jobs::{
    Delivery, JobContext, JobError, JobKind, JobOutcome, JobSpec, LogLevel, NoParams, RunStatus,
    Trigger, request_run,
};
use crate::store;

pub const BOOTSTRAP: JobKind = JobKind::new("bootstrap");
pub const FIXTURES: JobKind = JobKind::new("fixtures");

pub fn specs() -> [JobSpec; 2] {
    [
        JobSpec::new(BOOTSTRAP, bootstrap),
        JobSpec::new(FIXTURES, fixtures),
    ]
}

fn describe(table: &str, c: TableCounts) -> String {
    format!(
        "{table}: {} inserted, {} updated, {} unchanged",
        c.inserted, c.updated, c.unchanged
    )
}

/// Syncs the season's metadata from bootstrap-static.
pub async fn bootstrap(ctx: JobContext, _: NoParams) -> Result<JobOutcome, JobError> {
    let body = ctx
        .deps
        .fpl
        .get_raw("bootstrap-static/", Priority::Meta)
        .await?;
    ctx.progress(40).await?;
    let payload = drift::bootstrap(&body).map_err(permanent)?;
    let today = Utc::now()
        .with_timezone(&ctx.deps.settings.timezone())
        .date_naive();
    let report = sync::apply_bootstrap(&ctx.deps.db, &payload, today).await?;
    ctx.progress(90).await?;
    let new_season = report
        .new_season
        .then(|| format!("new season {}", report.season));
    let lines = new_season
        .into_iter()
        .chain(report.tables.iter().map(|(t, c)| describe(t, *c)))
        .collect();
    ctx.log_lines(LogLevel::Info, lines).await?;
    if !report.price_changes.is_empty() {
        ctx.deps.alerts.emit(price_alert(&report));
    }
    if report.changed() {
        datasets::publish_sync(&ctx.deps.db, &ctx.deps.cache, &report).await;
    }
    report_drift(
        &ctx,
        report.season_id,
        &report.season,
        "bootstrap-static",
        &body,
    )
    .await?;
    Ok(JobOutcome::new(format!(
        "season {}: {}",
        report.season,
        if report.changed() {
            "metadata updated"
        } else {
            "nothing changed"
        }
    )))
}

/// A payload that cannot be synced: the same bytes will not do better on a retry.
fn permanent(e: PayloadError) -> JobError {
    JobError::Permanent(e.into())
}

/// Compares the payload's fields with what was seen before of `endpoint` this season, and
/// raises one `schema_drift` warning (and a log line) per field not reported before. A failure
/// to read or record it is logged, not a failed run: the data is synced.
async fn report_drift(
    ctx: &JobContext,
    season: SeasonId,
    season_name: &str,
    endpoint: &str,
    body: &[u8],
) -> Result<(), JobError> {
    let shape = match Shape::of(body) {
        Ok(shape) => shape,
        Err(e) => {
            tracing::warn!(error = %e, endpoint, "schema drift not checked");
            return Ok(());
        }
    };
    let drifts = match drift::observe(&ctx.deps.db, season, endpoint, &shape).await {
        Ok(drifts) => drifts,
        Err(e) => {
            tracing::warn!(error = %e, endpoint, "schema drift not recorded");
            return Ok(());
        }
    };
    if drifts.is_empty() {
        return Ok(());
    }
    let lines = drifts
        .iter()
        .map(|d| {
            let appeared = d.change == Change::Appeared;
            ctx.deps.alerts.emit(Alert::schema_drift(
                season_name,
                endpoint,
                &d.field,
                appeared,
            ));
            format!(
                "schema drift: {endpoint} {} `{}`",
                if appeared { "gained" } else { "lost" },
                d.field
            )
        })
        .collect();
    ctx.log_lines(LogLevel::Warn, lines).await?;
    Ok(())
}

/// The info summary of a sync's price changes.
fn price_alert(report: &SyncReport) -> Alert {
    let line = |c: &PriceChange| {
        format!(
            "{} £{:.1}m → £{:.1}m",
            c.web_name,
            f64::from(c.old_cost) / 10.0,
            f64::from(c.new_cost) / 10.0
        )
    };
    let (risers, fallers): (Vec<_>, Vec<_>) = report
        .price_changes
        .iter()
        .partition(|c| c.new_cost > c.old_cost);
    let list = |v: &[&PriceChange]| v.iter().map(|c| line(c)).collect::<Vec<_>>().join(", ");
    Alert::price_changes(
        &report.season.to_string(),
        format!("price changes: {} up, {} down", risers.len(), fallers.len()),
        format!("risers: {}\nfallers: {}", list(&risers), list(&fallers)),
    )
}

/// Parameters of `fixtures`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixturesParams {
    /// Only this event's fixtures (all of the season's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<u16>,
}

/// Syncs fixtures with their per-fixture stats.
pub async fn fixtures(ctx: JobContext, params: FixturesParams) -> Result<JobOutcome, JobError> {
    let path = match params.event {
        Some(e) => format!("fixtures/?event={}", EventId(e)),
        None => "fixtures/".to_string(),
    };
    let body = ctx.deps.fpl.get_raw(&path, Priority::Meta).await?;
    let payload = drift::fixtures(&body).map_err(permanent)?;
    ctx.progress(40).await?;
    // Metadata missing, or behind FPL's (unknown teams or events): refresh it first, once.
    let mut refreshed = false;
    let (season, name) = loop {
        let problem = match sync::current_season(&ctx.deps.db).await? {
            None => "no season is known yet".to_string(),
            Some((season, name)) => {
                let (teams, events) = sync::known_ids(&ctx.deps.db, season).await?;
                match validate::fixtures(&payload, &teams, &events) {
                    Ok(()) => break (season, name),
                    Err(e) => e.to_string(),
                }
            }
        };
        if refreshed {
            return Err(JobError::Transient(anyhow::anyhow!(
                "{problem}, even after a bootstrap"
            )));
        }
        ctx.log(
            LogLevel::Info,
            format!("{problem}: running bootstrap first"),
        )
        .await?;
        run_bootstrap_first(&ctx).await?;
        refreshed = true;
    };
    let counts = sync::apply_fixtures(&ctx.deps.db, season, &payload).await?;
    ctx.log(LogLevel::Info, describe("fixtures", counts))
        .await?;
    if counts.inserted + counts.updated > 0 {
        datasets::publish(&ctx.deps.db, &ctx.deps.cache, &[MetaDataset::Fixtures]).await;
    }
    report_drift(&ctx, season, &name, "fixtures", &body).await?;
    Ok(JobOutcome::new(format!(
        "season {name}: {} fixtures synced",
        payload.len()
    )))
}

/// How long a job waits for a `bootstrap` it depends on.
const DEPENDENCY_WAIT: Duration = Duration::from_secs(20);

/// Requests a `bootstrap` run as a dependency (identical requests coalesce into one run) and
/// waits for it to end; an error if it does not succeed in time.
pub async fn run_bootstrap_first(ctx: &JobContext) -> Result<(), JobError> {
    let wait = Duration::from_secs(2);
    let requested = request_run(
        &ctx.deps.jobs,
        &ctx.deps.metrics,
        BOOTSTRAP,
        json!({}),
        Trigger::Dependency,
        Delivery::WaitUpTo(wait),
        wait,
    )
    .await
    .map_err(|e| JobError::Transient(anyhow::anyhow!("could not request bootstrap: {e}")))?;
    let run = requested.run_id;
    ctx.log(LogLevel::Info, format!("waiting for bootstrap run {run}"))
        .await?;
    let deadline = tokio::time::Instant::now() + DEPENDENCY_WAIT;
    loop {
        let status = store::runs::get(&ctx.deps.db, run).await?.map(|r| r.status);
        match status {
            Some(RunStatus::Succeeded) => return Ok(()),
            Some(s) if s.is_final() => {
                return Err(JobError::Transient(anyhow::anyhow!(
                    "bootstrap run {run} ended {s}"
                )));
            }
            _ if tokio::time::Instant::now() >= deadline => {
                return Err(JobError::Transient(anyhow::anyhow!(
                    "bootstrap run {run} did not finish within {DEPENDENCY_WAIT:?}"
                )));
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
