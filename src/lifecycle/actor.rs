//! The `lifecycle` actor: drives the time-based jobs. Each tick it probes FPL (which tells
//! FPL's clock and whether the game is "updating"), observes what PostgreSQL knows of the
//! current gameweek, lets [`decide`] choose the state and actions, asks the job actors for the
//! runs (`live`, `entries` picks, `bootstrap`, `finalize`; identical requests coalesce) and plans its
//! next tick at the state's interval. It never waits for the runs: the next observation sees
//! what they stored.
//!
//! While FPL is updating no run is requested (it would only fail): "updating" is a state the
//! service reports at `GET /lifecycle` and in `fplsync_fpl_updating`, not an error storm.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::LifecycleMetrics;
use super::decide::{Actions, Decision, EventObs, FixtureObs, Observation, State, Timing, decide};
use crate::alerts::{Alert, AlertSink};
use crate::config::LiveSettings;
use crate::entries::{ENTRIES, EntriesParams, Stage};
use crate::finalize::{FINALIZE, FinalizeParams, is_finalized};
use crate::fpl::client::FplError;
use crate::fpl::{FplClient, Priority};
use crate::jobs::{JobDirectory, Kind, NoParams};
use crate::live::{LIVE, LiveParams};
use crate::managers;
use crate::meta::SeasonId;
use crate::meta::jobs::{BOOTSTRAP, FIXTURES, FixturesParams};
use crate::meta::sync::current_season;
use crate::metrics::Metrics;
use crate::run::Trigger;
use crate::store::StoreError;
use crate::store::budget::{self, GameweekBudget};
use crate::supervisor::{ActorRegistry, ChildLink, Control, ExitGuard, ExitReason, StopChild};

/// Transitions kept for `GET /lifecycle`.
const HISTORY: usize = 64;

/// One change of state.
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub event: Option<u16>,
    pub from: Option<State>,
    pub to: State,
}

/// What the lifecycle knows and plans, as the control endpoint shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LifecycleStatus {
    pub state: Option<State>,
    /// The season (fplsync's id) of `event`.
    pub season_id: Option<i32>,
    pub event: Option<u16>,
    /// FPL's clock at the last tick.
    pub fpl_time: Option<DateTime<Utc>>,
    pub fpl_updating: bool,
    pub updating_since: Option<DateTime<Utc>>,
    pub last_tick_at: Option<DateTime<Utc>>,
    /// The last successful live snapshot (an identical one counts: the data was confirmed).
    pub last_snapshot_at: Option<DateTime<Utc>>,
    pub next_poll_at: Option<DateTime<Utc>>,
    pub tracked_managers: usize,
    /// What the last tick asked for.
    pub actions: Actions,
    pub paused: bool,
    /// `live.enabled` is false: time-based jobs run only when triggered.
    pub disabled: bool,
    pub last_error: Option<String>,
    pub transitions: VecDeque<Transition>,
    /// What the current gameweek has cost in FPL requests so far, against its target (as of
    /// the last tick; `GET /lifecycle` reads it afresh).
    pub budget: Option<GameweekBudget>,
}

/// The lifecycle's status, shared with the control endpoint. Cheap to clone.
#[derive(Clone, Default)]
pub struct LifecycleBoard(Arc<RwLock<LifecycleStatus>>);

impl LifecycleBoard {
    pub fn get(&self) -> LifecycleStatus {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut LifecycleStatus)) {
        f(&mut self.0.write().unwrap_or_else(|e| e.into_inner()));
    }
}

/// What the lifecycle needs, cloned into each incarnation.
#[derive(Clone)]
pub struct LifecycleDeps {
    pub db: PgPool,
    pub fpl: FplClient,
    pub settings: LiveSettings,
    pub directory: JobDirectory,
    pub metrics: Metrics,
    pub alerts: AlertSink,
    pub registry: ActorRegistry,
    pub board: LifecycleBoard,
    pub capacity: usize,
}

pub struct Lifecycle {
    guard: ExitGuard,
    deps: LifecycleDeps,
    timing: Timing,
    paused: bool,
    /// A tick is in flight: a timer meanwhile does not start another.
    ticking: bool,
    /// Bumped by every tick start, so only the newest plan fires.
    generation: u64,
}

impl Lifecycle {
    pub fn new(link: ChildLink, deps: LifecycleDeps) -> Self {
        let timing = Timing::from_settings(&deps.settings);
        Lifecycle {
            guard: ExitGuard::new(link),
            deps,
            timing,
            paused: false,
            ticking: false,
            generation: 0,
        }
    }

    fn plan(&mut self, after: Duration, ctx: &mut Context<Self>) {
        let generation = self.generation;
        let at = Utc::now() + chrono::Duration::from_std(after).unwrap_or_default();
        self.deps.board.update(|s| s.next_poll_at = Some(at));
        self.deps
            .metrics
            .get::<LifecycleMetrics>()
            .next_poll
            .set(at.timestamp_millis() as f64 / 1000.0);
        ctx.run_later(after, move |act, ctx| {
            if act.generation == generation {
                act.tick(ctx);
            }
        });
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.ticking {
            return;
        }
        self.generation += 1;
        if self.paused {
            let every = self.timing_fallback();
            self.plan(every, ctx);
            return;
        }
        self.ticking = true;
        let (deps, timing) = (self.deps.clone(), self.timing.clone());
        ctx.spawn(
            async move { tick(&deps, &timing).await }
                .into_actor(self)
                .map(|next, act, ctx| {
                    act.ticking = false;
                    act.plan(next, ctx);
                }),
        );
    }

    /// The interval while paused or before anything is known: the pre-deadline one.
    fn timing_fallback(&self) -> Duration {
        Duration::from_secs_f64(self.deps.settings.interval_secs.pre_deadline)
    }
}

/// One look at the game; returns how long until the next.
async fn tick(deps: &LifecycleDeps, timing: &Timing) -> Duration {
    let fallback = Duration::from_secs_f64(deps.settings.interval_secs.pre_deadline);
    // The probe: FPL's clock and whether it is updating.
    let probe = deps.fpl.event_status(Priority::Live).await;
    let updating_since = deps.fpl.updating_since();
    let updating = matches!(probe, Err(FplError::Updating));
    deps.metrics
        .get::<LifecycleMetrics>()
        .fpl_updating
        .set(i64::from(updating));
    let now = deps.fpl.server_now();
    deps.board.update(|s| {
        s.fpl_time = Some(now);
        s.fpl_updating = updating;
        s.updating_since = updating_since;
        s.last_tick_at = Some(Utc::now());
    });
    if let Err(e) = &probe
        && !updating
    {
        tracing::warn!(error = %e, "lifecycle probe of FPL failed; deciding from stored data");
    }

    let observed = match observe(deps, now).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "lifecycle cannot read PostgreSQL");
            deps.board.update(|s| s.last_error = Some(e.to_string()));
            return fallback;
        }
    };
    let Some((season, obs, last_snapshot)) = observed else {
        // Nothing known of the season yet: metadata first.
        if !updating {
            ask(deps, BOOTSTRAP, NoParams {}).await;
        }
        return fallback;
    };
    archive_past_seasons(deps).await;
    let decision = decide(&obs, timing);
    record(deps, &decision, last_snapshot);
    if !updating {
        act(deps, &decision).await;
    }
    if let Some(event) = decision.event {
        account(deps, season, event).await;
    }
    decision.next_poll
}

/// Counts the tick against its gameweek and shows what the gameweek has cost so far.
async fn account(deps: &LifecycleDeps, season: SeasonId, event: u16) {
    let db = &deps.db;
    let managers = deps.board.get().tracked_managers as u64;
    let spent = match budget::count_tick(db, season.0, event).await {
        Ok(()) => budget::gameweek(db, season.0, event, managers).await,
        Err(e) => Err(e),
    };
    match spent {
        Ok(spent) => {
            let m = deps.metrics.get::<LifecycleMetrics>();
            m.gameweek_target.set(spent.target as i64);
            for priority in Priority::ALL {
                let n: u64 = spent
                    .requests
                    .values()
                    .filter_map(|by| by.get(priority.as_str()))
                    .sum();
                m.gameweek_requests
                    .with_label_values(&[priority.as_str()])
                    .set(n as i64);
            }
            deps.board.update(|s| {
                s.season_id = Some(season.0);
                s.budget = Some(spent);
            });
        }
        Err(e) => tracing::warn!(error = %e, "the gameweek's FPL budget could not be read"),
    }
}

/// Publishes a decision on the board and in the metrics; alerts on stale live data.
fn record(deps: &LifecycleDeps, d: &Decision, last_snapshot: Option<DateTime<Utc>>) {
    let m = deps.metrics.get::<LifecycleMetrics>();
    for s in State::ALL {
        m.state
            .with_label_values(&[s.as_str()])
            .set(i64::from(s == d.state));
    }
    let age = last_snapshot.map(|t| (Utc::now() - t).num_milliseconds() as f64 / 1000.0);
    if let Some(age) = age {
        m.snapshot_age.set(age.max(0.0));
    }
    deps.board.update(|s| {
        if s.state != Some(d.state) || s.event != d.event {
            tracing::info!(
                from = s.state.map(State::as_str),
                to = d.state.as_str(),
                event = d.event,
                "gameweek lifecycle"
            );
            s.transitions.push_back(Transition {
                at: Utc::now(),
                event: d.event,
                from: s.state,
                to: d.state,
            });
            if s.transitions.len() > HISTORY {
                s.transitions.pop_front();
            }
        }
        s.state = Some(d.state);
        s.event = d.event;
        s.actions = d.actions;
        s.last_snapshot_at = last_snapshot;
        s.last_error = None;
    });
    let stale = Duration::from_secs(deps.settings.stale_after_secs).as_secs_f64();
    if d.state.is_live()
        && let (Some(age), Some(event)) = (age, d.event)
        && age > stale
    {
        deps.alerts
            .emit(Alert::live_stale(event, Duration::from_secs_f64(age)));
    } else if d.state.is_live()
        && let Some(event) = d.event
    {
        // Fresh again: resolves the stale alert (nothing happens if none is open).
        deps.alerts.emit(Alert::live_fresh(event));
    }
}

/// Asks for the runs a decision calls for.
async fn act(deps: &LifecycleDeps, d: &Decision) {
    let a = d.actions;
    if a.recheck_entries {
        let info = EntriesParams {
            stage: Stage::Info,
            event: None,
        };
        ask(deps, ENTRIES, info).await;
    }
    let Some(event) = d.event.and_then(std::num::NonZeroU16::new) else {
        return;
    };
    if a.sync_picks {
        let picks = EntriesParams {
            stage: Stage::Picks,
            event: Some(event),
        };
        ask(deps, ENTRIES, picks).await;
    }
    if a.snapshot {
        ask(deps, LIVE, LiveParams { event: Some(event) }).await;
    }
    if a.refresh_meta {
        ask(deps, BOOTSTRAP, NoParams {}).await;
    }
    if a.sync_fixtures {
        let fixtures = FixturesParams {
            event: Some(event.get()),
        };
        ask(deps, FIXTURES, fixtures).await;
    }
    if a.finalize {
        ask(deps, FINALIZE, FinalizeParams { event }).await;
    }
}

async fn ask<P: Serialize>(deps: &LifecycleDeps, kind: Kind<P>, params: P) {
    let wait = Duration::from_secs(1);
    match deps
        .directory
        .request(kind, &params, Trigger::Lifecycle, wait)
        .await
    {
        Ok(e) => tracing::debug!(%kind, run = %e.run_id, coalesced = e.coalesced, "lifecycle run"),
        Err(e) => tracing::warn!(%kind, error = %e, "lifecycle run not requested"),
    }
}

/// kickoff_time, started, finished, finished_provisional.
type FixtureRow = (Option<DateTime<Utc>>, Option<bool>, bool, bool);

/// The observation and when the live data was last confirmed; `None` before any season.
type Observed = Option<(SeasonId, Observation, Option<DateTime<Utc>>)>;

/// What PostgreSQL knows of the current gameweek, judged at `now` (FPL's clock).
async fn observe(deps: &LifecycleDeps, now: DateTime<Utc>) -> Result<Observed, StoreError> {
    let db = &deps.db;
    let Some((season, _)) = current_season(db).await? else {
        return Ok(None);
    };
    let events: Vec<(i32, DateTime<Utc>, bool)> = sqlx::query_as(
        "SELECT id, deadline_time, data_checked FROM events WHERE season_id = $1 ORDER BY id",
    )
    .bind(season.0)
    .fetch_all(db)
    .await?;
    let current = events
        .iter()
        .rev()
        .find(|(_, deadline, _)| *deadline <= now)
        .map(|&(id, deadline, data_checked)| EventObs {
            id: id as u16,
            deadline,
            data_checked,
        });
    let next_deadline = events
        .iter()
        .find(|(_, deadline, _)| *deadline > now)
        .map(|(_, d, _)| *d);
    let tracked = managers::tracked(db, &deps.settings.tracked_entries).await?;
    deps.metrics
        .get::<LifecycleMetrics>()
        .tracked_managers
        .set(tracked.len() as i64);
    deps.board.update(|s| s.tracked_managers = tracked.len());
    let mut obs = Observation {
        now,
        current,
        next_deadline,
        fixtures: Vec::new(),
        picks_missing: false,
        followed: false,
        finalized: false,
        unchanged_snapshots: 0,
        recheck_pending: recheck_pending(db, season, &tracked).await?,
    };
    let Some(event) = current else {
        return Ok(Some((season, obs, None)));
    };
    let e = i32::from(event.id);
    let fixtures: Vec<FixtureRow> = sqlx::query_as(
        "SELECT kickoff_time, started, finished, finished_provisional FROM fixtures \
         WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season.0)
    .bind(e)
    .fetch_all(db)
    .await?;
    obs.fixtures = fixtures
        .into_iter()
        .map(|(kickoff, started, finished, provisional)| FixtureObs {
            kickoff,
            started: started.unwrap_or(false),
            finished,
            finished_provisional: provisional,
        })
        .collect();
    obs.picks_missing = !managers::missing_picks(db, season, event.id, &tracked)
        .await?
        .is_empty();
    let snapshot: Option<(DateTime<Utc>, i32)> = sqlx::query_as(
        "SELECT checked_at, unchanged FROM live_snapshots WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season.0)
    .bind(e)
    .fetch_optional(db)
    .await?;
    let has_picks: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM entry_picks WHERE season_id = $1 AND event_id = $2)",
    )
    .bind(season.0)
    .bind(e)
    .fetch_one(db)
    .await?;
    obs.followed = snapshot.is_some() || has_picks;
    obs.finalized = is_finalized(db, season, event.id).await?;
    obs.unchanged_snapshots = snapshot.map_or(0, |(_, n)| n.max(0) as u32);
    Ok(Some((season, obs, snapshot.map(|(t, _)| t))))
}

/// Whether tracked managers are to be re-checked in `season`: a season before it is stored
/// (a rollover happened) and some tracked manager has no entry info of `season` and no
/// failed or pending re-check of it yet.
async fn recheck_pending(
    db: &PgPool,
    season: SeasonId,
    tracked: &[u64],
) -> Result<bool, StoreError> {
    if tracked.is_empty() {
        return Ok(false);
    }
    let ids: Vec<i64> = tracked.iter().map(|&e| e as i64).collect();
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM seasons o WHERE o.first_deadline < \
           (SELECT first_deadline FROM seasons WHERE id = $1)) \
         AND EXISTS (SELECT 1 FROM unnest($2::bigint[]) AS t(id) \
           WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.season_id = $1 AND e.id = t.id) \
           AND NOT EXISTS (SELECT 1 FROM entry_rechecks r WHERE r.season_id = $1 \
                           AND r.entry_id = t.id) \
           AND NOT EXISTS (SELECT 1 FROM entry_unit_failures f WHERE f.stage = 'info' \
                           AND f.entry_id = t.id))",
    )
    .bind(season.0)
    .bind(ids)
    .fetch_one(db)
    .await?)
}

/// Archives the tournaments of seasons before the current one (after a rollover) and says so.
async fn archive_past_seasons(deps: &LifecycleDeps) {
    match crate::tournament::store::archive_past_seasons(&deps.db).await {
        Ok(ids) if ids.is_empty() => {}
        Ok(ids) => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            tracing::info!(tournaments = ?ids, "tournaments of a past season archived");
            deps.alerts.emit(Alert::operations(
                crate::alerts::Severity::Info,
                "tournaments_archived",
                format!(
                    "a new season began: {} tournament(s) of the last one archived ({}); their \
                     standings stay readable",
                    ids.len(),
                    ids.join(", ")
                ),
                None,
            ));
        }
        Err(e) => tracing::warn!(error = %e, "past seasons' tournaments not archived"),
    }
}

impl Actor for Lifecycle {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.deps.capacity);
        let name = self.guard.name().to_string();
        self.paused = self.deps.registry.is_paused(&name);
        let (paused, disabled) = (self.paused, !self.deps.settings.enabled);
        self.deps.board.update(|s| {
            s.paused = paused;
            s.disabled = disabled;
        });
        self.deps
            .registry
            .attach(&name, None, Some(ctx.address().recipient()));
        if self.deps.settings.enabled {
            self.plan(
                Duration::from_millis(self.deps.settings.start_delay_ms),
                ctx,
            );
        } else {
            tracing::info!("gameweek lifecycle disabled (live.enabled = false)");
        }
    }
}

impl Handler<Control> for Lifecycle {
    type Result = Result<(), String>;

    fn handle(&mut self, msg: Control, _: &mut Context<Self>) -> Self::Result {
        self.paused = msg != Control::Resume;
        let paused = self.paused;
        self.deps.board.update(|s| s.paused = paused);
        self.deps
            .registry
            .set_paused(self.guard.name(), self.paused);
        Ok(())
    }
}

impl Handler<StopChild> for Lifecycle {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.guard.set(ExitReason::Normal);
        ctx.stop();
    }
}
