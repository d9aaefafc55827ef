//! The hybrid `entries` job (meta → external → integration): for every tracked manager, one of
//! three stages —
//!
//! - `info`: `entry/{id}/` and `entry/{id}/history/` into `entries` (done once fetched since the
//!   run, or the run it re-runs, was created);
//! - `picks` (a gameweek): the picks after its deadline into `entry_picks` (done once stored),
//!   as shared units that every instance of the deployment claims and fetches (see
//!   [`crate::jobs::work`]; [`picks_units`] does a batch);
//! - `results` (a gameweek): the official result after finalization into
//!   `entry_event_results`, beside the points fplsync computed (done once stored), as shared
//!   units too ([`results_units`]).
//!
//! It needs fresh metadata (a `bootstrap` that succeeded within `entries.meta_max_age_hours`;
//! one is run first otherwise). Work is split into units processed in batches ([`units`]); done
//! units are never fetched again, so a crashed or cancelled run resumes where it stopped. When at
//! least `entries.min_success_ratio` of the units tried succeed, the run succeeds with a warning
//! and the failed units are tried again by later runs after their backoff; below that it fails.
//!
//! What it stores is read back for the `/data/managers/*` routes by [`read`].

pub mod read;
pub mod units;

use std::collections::HashMap;
use std::num::NonZeroU16;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::fpl::Priority;
use crate::fpl::model::{Entry, EntryHistory, EntryId, EventId, PicksResponse};
use crate::jobs::work::{self, Claimed, Outcome};
use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec, Kind};
use crate::live::scores::manager_scores;
use crate::live::store::stored_rows;
use crate::managers;
use crate::meta::SeasonId;
use crate::meta::jobs::run_bootstrap_first;
use crate::meta::jobs::season_or_bootstrap;
use crate::run::{LogLevel, RunStatus};
use crate::store::StoreError;
pub use units::UnitReport;

pub const ENTRIES: Kind<EntriesParams> = Kind::new("entries");

/// What the run fetches for each tracked manager.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    #[default]
    Info,
    Picks,
    Results,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Info => "info",
            Stage::Picks => "picks",
            Stage::Results => "results",
        }
    }
}

/// Parameters of `entries`: `{"stage": "info"}` (the default), or `{"stage": "picks" |
/// "results", "event": N}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawParams")]
pub struct EntriesParams {
    pub stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<NonZeroU16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    #[serde(default)]
    stage: Stage,
    #[serde(default)]
    event: Option<NonZeroU16>,
}

impl TryFrom<RawParams> for EntriesParams {
    type Error = String;

    fn try_from(raw: RawParams) -> Result<Self, String> {
        match (raw.stage, raw.event) {
            (Stage::Info, Some(_)) => Err("stage `info` takes no event".into()),
            (Stage::Picks | Stage::Results, None) => {
                Err(format!("stage `{}` needs an event", raw.stage.as_str()))
            }
            (stage, event) => Ok(EntriesParams { stage, event }),
        }
    }
}

pub fn spec() -> JobSpec {
    JobSpec::new(ENTRIES, run)
}

pub async fn run(ctx: JobContext, params: EntriesParams) -> Result<JobOutcome, JobError> {
    ensure_fresh_meta(&ctx).await?;
    let season = season_or_bootstrap(&ctx).await?;
    let (report, what) = match (params.stage, params.event) {
        (Stage::Info, _) => (sync_info(&ctx, season).await?, "entry info".to_string()),
        (Stage::Picks, Some(e)) => (
            sync_picks(&ctx, season, e.get()).await?,
            format!("GW{e} picks"),
        ),
        (Stage::Results, Some(e)) => (
            sync_results(&ctx, season, e.get()).await?,
            format!("GW{e} results"),
        ),
        (stage, None) => {
            return Err(JobError::Permanent(anyhow::anyhow!(
                "stage `{}` needs an event",
                stage.as_str()
            )));
        }
    };
    judge(&ctx, &what, &report).await
}

/// Succeeds, with a warning when some units failed, unless too few succeeded.
pub async fn judge(ctx: &JobContext, what: &str, r: &UnitReport) -> Result<JobOutcome, JobError> {
    let line = format!(
        "{what}: {} managers, {} already done, {} stored, {} unknown to FPL, {} failed, \
         {} waiting out a backoff",
        r.total, r.already_done, r.stored, r.unknown, r.failed, r.deferred
    );
    let min = ctx.deps.settings.entries.min_success_ratio;
    if r.success_ratio() < min {
        return Err(JobError::Transient(anyhow::anyhow!(
            "{line}: below the {:.0} % success threshold",
            min * 100.0
        )));
    }
    if r.failed > 0 {
        ctx.log(
            LogLevel::Warn,
            format!("{line}: the failed ones are tried again after their backoff"),
        )
        .await?;
    }
    Ok(JobOutcome::new(line))
}

/// Runs `bootstrap` first when none succeeded recently.
async fn ensure_fresh_meta(ctx: &JobContext) -> Result<(), JobError> {
    let max_age = chrono::Duration::hours(i64::from(ctx.deps.settings.entries.meta_max_age_hours));
    let last: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT max(finished_at) FROM job_runs WHERE kind = 'bootstrap' AND status = $1",
    )
    .bind(RunStatus::Succeeded.as_str())
    .fetch_one(&ctx.deps.db)
    .await
    .map_err(StoreError::from)?;
    if last.is_some_and(|t| Utc::now() - t <= max_age) {
        return Ok(());
    }
    ctx.log(
        LogLevel::Info,
        "metadata is stale or missing: running bootstrap first",
    )
    .await?;
    run_bootstrap_first(ctx).await
}

/// Entry info and history of every tracked manager not fetched since this work began, as the
/// current season's. In a new season this re-checks the managers tracked the season before:
/// an id FPL no longer knows, or one that now belongs to someone else, is recorded in
/// `entry_rechecks` and reported (`tracked_entries_rechecked`), never merged with the old
/// season's manager.
async fn sync_info(ctx: &JobContext, season: SeasonId) -> Result<UnitReport, JobError> {
    let db = &ctx.deps.db;
    let tracked = managers::tracked(db, &ctx.deps.settings.live.tracked_entries).await?;
    let epoch = work_began(db, ctx).await?;
    let ids: Vec<i64> = tracked.iter().map(|&e| e as i64).collect();
    let todo: Vec<i64> = sqlx::query_scalar(
        "SELECT t.id FROM unnest($1::bigint[]) AS t(id) WHERE NOT EXISTS \
         (SELECT 1 FROM entries e WHERE e.season_id = $3 AND e.id = t.id \
          AND e.updated_at >= $2) ORDER BY 1",
    )
    .bind(ids)
    .bind(epoch)
    .bind(season.0)
    .fetch_all(db)
    .await
    .map_err(StoreError::from)?;
    let fpl = ctx.deps.fpl.clone();
    let report = units::process(
        ctx,
        Stage::Info,
        0,
        tracked.len(),
        todo.into_iter().map(|e| e as u64).collect(),
        |entry| {
            let fpl = fpl.clone();
            async move {
                tokio::try_join!(
                    fpl.entry(EntryId(entry), Priority::Bulk),
                    fpl.entry_history(EntryId(entry), Priority::Bulk)
                )
            }
        },
        |batch| store_info(db, season, batch),
    )
    .await?;
    let found = recheck(db, season, &tracked).await?;
    if !found.is_empty() {
        let gone: Vec<u64> = found
            .iter()
            .filter(|r| r.1 == "gone")
            .map(|r| r.0)
            .collect();
        let new_owner: Vec<u64> = found
            .iter()
            .filter(|r| r.1 == "new_owner")
            .map(|r| r.0)
            .collect();
        let line = format!(
            "re-checked in the new season: {} tracked entries FPL no longer knows {gone:?}, {} \
             that now belong to someone else {new_owner:?}: not merged with last season's",
            gone.len(),
            new_owner.len()
        );
        ctx.log(LogLevel::Warn, &line).await?;
        ctx.deps
            .alerts
            .emit(crate::alerts::Alert::tracked_entries_rechecked(
                &season_name(db, season).await?,
                &gone,
                &new_owner,
            ));
    }
    Ok(report)
}

async fn season_name(db: &PgPool, season: SeasonId) -> Result<String, StoreError> {
    Ok(sqlx::query_scalar("SELECT name FROM seasons WHERE id = $1")
        .bind(season.0)
        .fetch_one(db)
        .await?)
}

/// Compares the tracked managers known the season before `season` with what `season` has of
/// them: known then and 404 now (`gone`), or another manager's name now (`new_owner`).
/// Records what it finds for the first time and returns only that, so a re-run reports
/// nothing twice.
async fn recheck(
    db: &PgPool,
    season: SeasonId,
    tracked: &[u64],
) -> Result<Vec<(u64, String)>, StoreError> {
    let ids: Vec<i64> = tracked.iter().map(|&e| e as i64).collect();
    // `gone`: a 404 leaves no row, and no failure is recorded for it (FPL answered).
    let found: Vec<(i64, String)> = sqlx::query_as(
        "WITH previous AS ( \
           SELECT id FROM seasons WHERE first_deadline < \
             (SELECT first_deadline FROM seasons WHERE id = $1) \
           ORDER BY first_deadline DESC LIMIT 1), \
         judged AS ( \
           SELECT o.id AS entry_id, o.player_name AS previous_player, n.player_name AS player, \
             CASE WHEN n.id IS NULL THEN 'gone' ELSE 'new_owner' END AS verdict \
           FROM entries o LEFT JOIN entries n ON n.season_id = $1 AND n.id = o.id \
           WHERE o.season_id = (SELECT id FROM previous) AND o.id = ANY($2) \
             AND (n.id IS NULL AND NOT EXISTS (SELECT 1 FROM entry_unit_failures f \
                   WHERE f.stage = 'info' AND f.entry_id = o.id) \
                  OR n.player_name IS DISTINCT FROM o.player_name)) \
         INSERT INTO entry_rechecks (season_id, entry_id, verdict, previous_player, player) \
         SELECT $1, entry_id, verdict, previous_player, player FROM judged \
         ON CONFLICT (season_id, entry_id) DO NOTHING \
         RETURNING entry_id, verdict",
    )
    .bind(season.0)
    .bind(ids)
    .fetch_all(db)
    .await?;
    let mut found: Vec<(u64, String)> = found.into_iter().map(|(e, v)| (e as u64, v)).collect();
    found.sort();
    Ok(found)
}

/// When the work of this run began: its creation, or that of the run it re-runs.
async fn work_began(db: &PgPool, ctx: &JobContext) -> Result<DateTime<Utc>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE((SELECT o.created_at FROM job_runs o WHERE o.id = r.rerun_of), \
         r.created_at) FROM job_runs r WHERE r.id = $1",
    )
    .bind(ctx.run.0)
    .fetch_one(db)
    .await?)
}

async fn store_info(
    db: &PgPool,
    season: SeasonId,
    batch: Vec<(u64, (Entry, EntryHistory))>,
) -> Result<(), StoreError> {
    let ids: Vec<i64> = batch.iter().map(|(e, _)| *e as i64).collect();
    let names: Vec<String> = batch.iter().map(|(_, (e, _))| e.name.clone()).collect();
    let players: Vec<String> = batch
        .iter()
        .map(|(_, (e, _))| format!("{} {}", e.player_first_name, e.player_last_name))
        .collect();
    let ranks: Vec<Option<i64>> = batch
        .iter()
        .map(|(_, (e, _))| e.summary_overall_rank.map(i64::from))
        .collect();
    let points: Vec<Option<i32>> = batch
        .iter()
        .map(|(_, (e, _))| e.summary_overall_points)
        .collect();
    let data: Vec<String> = batch
        .iter()
        .map(|(_, (e, _))| serde_json::to_string(e).expect("entries serialise"))
        .collect();
    let history: Vec<String> = batch
        .iter()
        .map(|(_, (_, h))| serde_json::to_string(h).expect("histories serialise"))
        .collect();
    sqlx::query(
        "INSERT INTO entries (season_id, id, name, player_name, overall_rank, summary_points, \
         data, history) \
         SELECT $8, u.id, u.name, u.player, u.rank, u.points, u.data::jsonb, u.history::jsonb \
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[], \
         $7::text[]) AS u(id, name, player, rank, points, data, history) \
         ON CONFLICT (season_id, id) DO UPDATE SET name = EXCLUDED.name, \
         player_name = EXCLUDED.player_name, overall_rank = EXCLUDED.overall_rank, \
         summary_points = EXCLUDED.summary_points, data = EXCLUDED.data, \
         history = EXCLUDED.history, updated_at = now()",
    )
    .bind(ids)
    .bind(names)
    .bind(players)
    .bind(ranks)
    .bind(points)
    .bind(data)
    .bind(history)
    .bind(season.0)
    .execute(db)
    .await?;
    Ok(())
}

/// One manager's picks response for `event` (the picks stage and the official results both
/// come from it), at bulk priority.
async fn fetch_picks(
    fpl: crate::fpl::FplClient,
    entry: u64,
    event: u16,
) -> Result<crate::fpl::model::PicksResponse, crate::fpl::client::FplError> {
    fpl.entry_picks(EntryId(entry), EventId(event), Priority::Bulk)
        .await
}

/// The handler name of the picks stage's shared units (see [`crate::jobs::work`]).
pub const PICKS_UNITS: &str = "entries-picks";

/// The picks of every tracked manager with none stored for `event`, fetched as shared units
/// by every instance of the deployment (each through its own FPL budget); this run opens the
/// work (or adopts the one an interrupted run left) and waits until every unit is done.
pub async fn sync_picks(
    ctx: &JobContext,
    season: SeasonId,
    event: u16,
) -> Result<UnitReport, JobError> {
    let db = &ctx.deps.db;
    let tracked = managers::tracked(db, &ctx.deps.settings.live.tracked_entries).await?;
    let todo = managers::missing_picks(db, season, event, &tracked).await?;
    shared_stage(
        ctx,
        Stage::Picks,
        PICKS_UNITS,
        season,
        event,
        tracked.len(),
        todo,
    )
    .await
}

/// Does one claimed batch of picks units, on whichever instance claimed it: fetches the picks
/// at bulk priority and stores them, the failures and the units' completion in one
/// transaction.
pub async fn picks_units(claimed: Claimed) -> Result<(), JobError> {
    let (work, answers, outcome) = fetch_batch(&claimed).await?;
    let picks: Vec<_> = answers.into_iter().map(|(e, p)| (EntryId(e), p)).collect();
    let Some(mut tx) = claimed.begin().await? else {
        return Ok(()); // the run ended meanwhile: its units were given back
    };
    managers::store_picks(&mut *tx, SeasonId(work.season), work.event, &picks).await?;
    complete(claimed, tx, Stage::Picks, work.event, outcome).await
}

/// The handler name of the results stage's shared units (see [`crate::jobs::work`]).
pub const RESULTS_UNITS: &str = "entries-results";

/// What a picks or results unit needs besides its manager: the season and the gameweek.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct GameweekWork {
    season: i32,
    event: u16,
}

/// Opens the shared work of a gameweek stage over `todo` (the tracked managers without its data)
/// and waits until every unit is done, by whichever instances.
async fn shared_stage(
    ctx: &JobContext,
    stage: Stage,
    handler: &str,
    season: SeasonId,
    event: u16,
    total: usize,
    todo: Vec<u64>,
) -> Result<UnitReport, JobError> {
    let db = &ctx.deps.db;
    let due = units::not_deferred(db, stage, event, &todo).await?;
    let key = format!("entries:{}:{}:{event}", stage.as_str(), season.0);
    let params = serde_json::to_value(GameweekWork {
        season: season.0,
        event,
    })
    .expect("work parameters serialise");
    work::open(ctx, handler, &key, &params, &due).await?;
    let already_done = total - todo.len();
    let finished = work::wait_done(ctx, &key, total as u64, already_done as u64).await?;
    let t = finished.tally;
    let report = UnitReport {
        total,
        already_done,
        deferred: todo.len() - due.len(),
        stored: t.done as usize,
        unknown: t.unknown as usize,
        failed: t.failed as usize,
    };
    if let Some((entry, error)) = finished.example_failure {
        ctx.log(
            LogLevel::Warn,
            format!(
                "{} units failed, e.g. entry {entry}: {error}",
                report.failed
            ),
        )
        .await?;
    }
    Ok(report)
}

/// The official result of every tracked manager without one for `event`, stored beside the
/// points fplsync computes from its stored picks and the stored live points; fetched as shared
/// units like the picks.
pub async fn sync_results(
    ctx: &JobContext,
    season: SeasonId,
    event: u16,
) -> Result<UnitReport, JobError> {
    let db = &ctx.deps.db;
    let tracked = managers::tracked(db, &ctx.deps.settings.live.tracked_entries).await?;
    let todo = managers::missing_results(db, season, event, &tracked).await?;
    shared_stage(
        ctx,
        Stage::Results,
        RESULTS_UNITS,
        season,
        event,
        tracked.len(),
        todo,
    )
    .await
}

/// Fetches a claimed batch's picks responses and sorts them by how each unit ended.
async fn fetch_batch(
    claimed: &Claimed,
) -> Result<(GameweekWork, Vec<(u64, PicksResponse)>, Outcome), JobError> {
    let work: GameweekWork = serde_json::from_value(claimed.params.clone())
        .map_err(|e| JobError::permanent(format!("gameweek work parameters: {e}")))?;
    let fpl = claimed.deps().fpl.clone();
    let results = claimed
        .fetch(|entry| fetch_picks(fpl.clone(), entry, work.event))
        .await;
    let mut answers = Vec::new();
    let mut outcome = Outcome::default();
    for (entry, got) in results {
        match got {
            Ok(p) => {
                answers.push((entry, p));
                outcome.stored.push(entry);
            }
            Err(crate::fpl::client::FplError::NotFound { .. }) => outcome.unknown.push(entry),
            Err(e) => outcome.failed.push((entry, e.to_string())),
        }
    }
    Ok((work, answers, outcome))
}

/// Records a batch's failures (and clears those of its stored units) in `tx`, then completes
/// the batch with it.
async fn complete(
    claimed: Claimed,
    mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
    stage: Stage,
    event: u16,
    outcome: Outcome,
) -> Result<(), JobError> {
    units::clear_failures(&mut *tx, stage, event, &outcome.stored).await?;
    if !outcome.failed.is_empty() {
        units::record_failures(&mut *tx, stage, event, &outcome.failed).await?;
    }
    claimed.finish(tx, outcome).await?;
    Ok(())
}

/// Does one claimed batch of results units, on whichever instance claimed it: fetches the
/// picks responses at bulk priority, computes the managers' points from the stored picks and
/// live points, and stores the results, the failures and the units' completion in one
/// transaction.
pub async fn results_units(claimed: Claimed) -> Result<(), JobError> {
    let (work, answers, outcome) = fetch_batch(&claimed).await?;
    let season = SeasonId(work.season);
    let deps = claimed.deps().clone();
    let entries: Vec<u64> = answers.iter().map(|(e, _)| *e).collect();
    let rows = stored_rows(&deps.db, season, work.event).await?;
    let computed: HashMap<u64, i32> = manager_scores(
        &deps.db,
        season,
        work.event,
        &entries,
        &rows,
        deps.shared.get::<managers::PicksCache>(),
    )
    .await?
    .scores()
    .map(|s| (s.entry, s.points))
    .collect();
    let Some(mut tx) = claimed.begin().await? else {
        return Ok(()); // the run ended meanwhile: its units were given back
    };
    managers::store_results(&mut *tx, season, work.event, &answers, &computed).await?;
    complete(claimed, tx, Stage::Results, work.event, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gameweek_stage_needs_an_event_and_info_takes_none() {
        let parse = |v: serde_json::Value| serde_json::from_value::<EntriesParams>(v);
        assert_eq!(parse(serde_json::json!({})).unwrap().stage, Stage::Info);
        let picks = parse(serde_json::json!({"stage": "picks", "event": 38})).unwrap();
        assert_eq!(
            (picks.stage, picks.event.map(|e| e.get())),
            (Stage::Picks, Some(38))
        );
        for bad in [
            serde_json::json!({"stage": "picks"}),
            serde_json::json!({"stage": "results", "event": 0}),
            serde_json::json!({"stage": "info", "event": 3}),
            serde_json::json!({"stage": "everything"}),
            serde_json::json!({"event": 3, "extra": 1}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
