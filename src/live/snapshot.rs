//! The `live` job: one snapshot of a gameweek. The event's live data and its fixtures are
//! fetched together (live priority) and processed as one consistent snapshot: bonus official
//! where published and provisional from BPS otherwise, every player's points, minutes and
//! whether he can still play. Only players whose state changed are written ([`super::store`]);
//! an identical snapshot (same fingerprint as the last one processed) writes nothing at all.
//! Every tracked manager is scored ([`super::scores`]) and the result published to the cache as
//! one revision ([`super::publish`]). The gameweek's first snapshot also has its payload's
//! shape compared with the season's (`schema_drift`, as the metadata jobs do).

use std::collections::HashMap;
use std::num::NonZeroU16;

use serde::{Deserialize, Serialize};

use super::publish::publish;
use super::scores::manager_scores;
use super::store::{
    confirm_unchanged, current_event, fingerprint, fixtures_moved_out, fixtures_valid,
    inputs_stamp, players, store,
};
use crate::cache::MetaDataset;
use crate::fpl::Priority;
use crate::fpl::client::Endpoint;
use crate::fpl::model::{ElementId, EventId};
use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec, Kind};
use crate::managers;
use crate::meta::datasets::{Published, publish as publish_meta};
use crate::meta::jobs::{
    DriftChecked, FIXTURES, FixturesParams, report_drift, run_bootstrap_first, season_refreshing,
};
use crate::meta::sync::apply_fixtures;
use crate::meta::sync::current_season;
use crate::run::LogLevel;
use crate::scoring::live_rows;

pub const LIVE: Kind<LiveParams> = Kind::new("live");

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
    let started = std::time::Instant::now();
    let outcome = snapshot(&ctx, params).await;
    ctx.deps
        .metrics
        .get::<super::LiveMetrics>()
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
    let ((live, live_body), fixtures) = tokio::try_join!(
        fpl.event_live_with_body(EventId(event), Priority::Live),
        fpl.event_fixtures(EventId(event), Priority::Live),
    )?;
    if let Err(wrong) = live.check_gameweek(EventId(event), &fixtures) {
        // FPL still on the last gameweek (just after a deadline): nothing of it is stored, so a
        // finalized gameweek is never overwritten with another's points. The retry asks again.
        fpl.rejected(Endpoint::EventLive);
        ctx.log(LogLevel::Warn, format!("rejected: {wrong}"))
            .await?;
        return Err(JobError::Transient(anyhow::anyhow!("rejected: {wrong}")));
    }
    let tracked = managers::tracked(db, &ctx.deps.settings.live.tracked_entries).await?;
    let stamp = inputs_stamp(db, season, event).await?;
    let fingerprint = fingerprint(&live, &fixtures, stamp);
    if confirm_unchanged(db, season, event, fingerprint).await? {
        return Ok(JobOutcome::new(format!(
            "GW{event}: identical snapshot, nothing written"
        )));
    }
    ctx.progress(30).await?;
    // The first snapshot of the gameweek (in this process) is compared for schema drift.
    let first = ctx
        .deps
        .shared
        .get::<DriftChecked>()
        .is_none_or(|memo| memo.first(season, "event-live", event));
    if first && let Some((_, season_name)) = current_season(db).await? {
        report_drift(ctx, season, &season_name, "event-live", &live_body).await?;
    }
    ctx.progress(40).await?;

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
        let moved = fixtures_moved_out(db, season, event, &fixtures).await?;
        if !moved.is_empty() {
            // Postponed or moved: where to, only the season's list says. Until it is synced
            // the gameweek would keep a match that is not played in it (its match window, its
            // teams' blank) — so sync it first, once.
            ctx.log(
                LogLevel::Info,
                format!(
                    "fixtures {moved:?} are no longer in GW{event}: syncing every fixture first"
                ),
            )
            .await?;
            ctx.run_first(FIXTURES, &FixturesParams::default()).await?;
        }
        // The season's fixtures dataset (`meta:fixtures`) follows what the snapshot stored.
        let counts = apply_fixtures(db, season, &fixtures).await?;
        let published = ctx.deps.shared.get::<Published>();
        let changed = counts.inserted + counts.updated > 0;
        publish_meta(
            db,
            &ctx.deps.cache,
            published,
            &[MetaDataset::Fixtures],
            changed,
        )
        .await;
    } else {
        ctx.log(
            LogLevel::Warn,
            "fixtures name teams or events unknown even after a bootstrap: not stored",
        )
        .await?;
    }
    ctx.progress(50).await?;

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
        ctx.deps.shared.get::<managers::PicksCache>(),
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
