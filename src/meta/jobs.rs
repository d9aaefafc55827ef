//! The meta job kinds: `bootstrap` (season, phases, teams, element types, players, events and
//! the daily price snapshot, from bootstrap-static) and `fixtures` (all fixtures of the season,
//! or one event's). Each fetches through the shared client at meta priority, decodes only the
//! fields fplsync needs and validates (`drift::bootstrap`, `drift::fixtures`: a missing needed
//! field fails the run naming it), writes only what changed, logs what it did per table, and
//! reports a field that appeared or disappeared since the last payload as `schema_drift`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::SeasonId;
use super::datasets;
use super::drift::{self, Change, PayloadError, Shape};
use super::sync::current_season;
use super::sync::{self, PriceChange, SyncReport, TableCounts};
use super::validate;
use crate::alerts::Alert;
use crate::cache::MetaDataset;
use crate::fpl::Priority;
use crate::fpl::model::EventId;
use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec, Kind, NoParams};
use crate::run::LogLevel;

pub const BOOTSTRAP: Kind<NoParams> = Kind::new("bootstrap");
pub const FIXTURES: Kind<FixturesParams> = Kind::new("fixtures");

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
    let published = ctx.deps.shared.get::<datasets::Published>();
    datasets::publish_sync(&ctx.deps.db, &ctx.deps.cache, published, &report).await;
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

/// Which gameweeks' live payloads this process has compared for drift. A gameweek's answers
/// keep one shape, while reading a megabyte's shape on every changed snapshot (every 30 s in
/// play) would cost CPU that the live tick needs; the first snapshot of each gameweek after a
/// start is enough. Cheap to clone.
#[derive(Clone, Default)]
pub struct DriftChecked(Arc<Mutex<HashSet<DriftCheck>>>);

/// A payload checked: its season, endpoint and gameweek.
type DriftCheck = (SeasonId, &'static str, u16);

impl DriftChecked {
    /// True the first time `(season, endpoint, event)` is asked for in this process.
    pub fn first(&self, season: SeasonId, endpoint: &'static str, event: u16) -> bool {
        self.0
            .lock()
            .expect("drift memo lock")
            .insert((season, endpoint, event))
    }
}

/// Compares the payload's fields with what was seen before of `endpoint` this season, and
/// raises one `schema_drift` warning (and a log line) per field not reported before. A failure
/// to read or record it is logged, not a failed run: the data is synced.
pub async fn report_drift(
    ctx: &JobContext,
    season: SeasonId,
    season_name: &str,
    endpoint: &str,
    body: &Bytes,
) -> Result<(), JobError> {
    let bytes = body.clone();
    let shape = match ctx.compute(move || Shape::of(&bytes)).await? {
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
    let changed = counts.inserted + counts.updated > 0;
    let published = ctx.deps.shared.get::<datasets::Published>();
    datasets::publish(
        &ctx.deps.db,
        &ctx.deps.cache,
        published,
        &[MetaDataset::Fixtures],
        changed,
    )
    .await;
    report_drift(&ctx, season, &name, "fixtures", &body).await?;
    Ok(JobOutcome::new(format!(
        "season {name}: {} fixtures synced",
        payload.len()
    )))
}

/// Runs a `bootstrap` first, as a dependency of the calling run, and waits for its outcome.
pub async fn run_bootstrap_first(ctx: &JobContext) -> Result<(), JobError> {
    ctx.run_first(BOOTSTRAP, &NoParams {}).await
}

/// The current season; a `bootstrap` is run first when none is known yet.
pub async fn season_or_bootstrap(ctx: &JobContext) -> Result<SeasonId, JobError> {
    Ok(season_refreshing(ctx).await?.0)
}

/// The current season, and whether a `bootstrap` had to be run first to know it.
pub async fn season_refreshing(ctx: &JobContext) -> Result<(SeasonId, bool), JobError> {
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
