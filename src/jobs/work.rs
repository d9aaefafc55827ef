//! Shared work: a bulk run's units in PostgreSQL, done by every instance of the deployment.
//!
//! The leader's run decides *what* is done: it opens the work ([`open`]) with its units and
//! waits until none is left ([`wait_done`]). Every instance — the leader too — runs the
//! [`work`] loop (in [`LANES`] lanes) that claims small batches of units of any open work under
//! a lease (`FOR UPDATE SKIP LOCKED`, the way Oban, River and good_job share jobs), fetches
//! them through its own FPL client (so at its own admission rate: `fpl.rate_per_sec` is per
//! instance), renews the lease while it works, and completes the batch in the transaction that
//! stores its data ([`Claimed::begin`], [`Claimed::finish`]). A unit whose data is stored is done and never
//! fetched again, whoever fetched it. An instance killed mid-batch leaves leases that run out
//! after `units.lease_secs`; the others claim those units again.
//!
//! The work is keyed by what it covers (e.g. the picks of one gameweek), not by run: the run
//! that re-runs an interrupted one (a new leader's start-up recovery) adopts the work, units
//! done and leases held included; the followers go on working while the leadership changes
//! hands. Units are only claimed and completed while the work's run is running (or
//! interrupted, awaiting that re-run), so a cancelled run stores nothing more and its units are
//! released to the run that follows.
//!
//! However many units a work has, what is done per batch or per look costs the same: a claim
//! walks only the units to do and the leases that ran out, and the counts a run or its
//! detail reads (`shared_work.total`, each instance's `work_shares`, whose sum is the units
//! finished) are kept by the statements that add and finish units; only [`open`] counts the
//! units.
//!
//! What a unit is, and how it is fetched and stored, is the kind's: it registers a
//! [`UnitHandler`] under a name in [`Handlers`] (assembled in `app.rs`); this module knows no
//! kind.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use prometheus::IntCounterVec;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::watch;
use tokio::time::Instant;

use super::{Deps, JobContext, JobError};
use crate::config::UnitsSettings;
use crate::fpl::client::FplError;
use crate::metrics::{Family, Metrics};
use crate::run::RunId;
use crate::store::StoreError;

/// Requests in flight from one claimed batch (the admission control sets the pace).
const CONCURRENCY: usize = 16;
/// The most units one claim takes.
pub const MAX_CLAIM: usize = 100;
/// Batches an instance works on at once: while one is stored and the next claimed, the other's
/// requests keep the instance's admission queue busy, so no FPL budget is lost between batches.
pub const LANES: u64 = 2;

/// How many units one lane claims: together the lanes hold about `batch_secs` of this
/// instance's FPL budget (small, so a killed instance costs the others little to fetch again),
/// each at least one, at most [`MAX_CLAIM`]; and no more than a fair share of what is left
/// among the `lanes` of every instance working, so the tail is spread over the instances rather
/// than held by the one that claimed first — even when all are told of new work at once and
/// claim together.
pub fn claim_size(rate_per_sec: u32, batch_secs: u64, claimable: u64, lanes: u64) -> usize {
    let budget = (u64::from(rate_per_sec) * batch_secs / LANES).clamp(1, MAX_CLAIM as u64);
    budget.min(claimable.div_ceil(lanes.max(1)).max(1)) as usize
}

/// How often a worker renews its leases: three times a lease, so one late renewal (a slow
/// statement) does not lose it.
pub fn renew_every(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(100))
}

/// The units families, labelled by the role of the instance (never its id: ids come and go).
#[derive(Clone)]
pub struct UnitMetrics {
    pub claimed: IntCounterVec,
    pub done: IntCounterVec,
    pub expired: IntCounterVec,
}

impl Family for UnitMetrics {
    fn register(m: &Metrics) -> Self {
        UnitMetrics {
            claimed: m.counter_vec(
                "fplsync_units_claimed_total",
                "Units of shared bulk work claimed by this instance, by its role (leader, \
                 follower).",
                &["role"],
            ),
            done: m.counter_vec(
                "fplsync_units_done_total",
                "Units of shared bulk work this instance completed (stored, unknown to FPL or \
                 failed), by its role.",
                &["role"],
            ),
            expired: m.counter_vec(
                "fplsync_units_expired_total",
                "Units this instance claimed again because another instance's lease on them \
                 ran out (it died or hung), by its role.",
                &["role"],
            ),
        }
    }
}

/// Who works: this instance's id and, asked at each claim, its role now.
#[derive(Clone)]
pub struct Worker {
    pub instance: String,
    pub role: Arc<dyn Fn() -> &'static str + Send + Sync>,
}

/// Does one claimed batch: fetches its units ([`Claimed::fetch`]) and stores them with their
/// completion ([`Claimed::begin`], [`Claimed::finish`]).
pub type UnitHandler =
    Arc<dyn Fn(Claimed) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// The unit handlers of the built-in kinds, by name.
#[derive(Clone, Default)]
pub struct Handlers {
    handlers: HashMap<&'static str, UnitHandler>,
}

impl Handlers {
    pub fn with<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn(Claimed) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers
            .insert(name, Arc::new(move |c| Box::pin(f(c))));
        self
    }

    fn names(&self) -> Vec<String> {
        self.handlers.keys().map(|k| k.to_string()).collect()
    }
}

/// How a batch's units ended.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Done: its data is stored (or there was none to store).
    pub stored: Vec<u64>,
    /// FPL answered 404: nothing to store.
    pub unknown: Vec<u64>,
    pub failed: Vec<(u64, String)>,
    /// What a finished unit did, for the run to report ([`notes`]).
    pub notes: HashMap<u64, String>,
}

/// A batch of units this instance holds a lease on.
pub struct Claimed {
    /// The work's parameters, as its run opened it.
    pub params: Value,
    pub units: Vec<u64>,
    key: String,
    deps: Deps,
    worker: Worker,
    role: &'static str,
    lease: Duration,
}

impl Claimed {
    pub fn deps(&self) -> &Deps {
        &self.deps
    }

    /// Fetches every unit with `fetch`, `CONCURRENCY` at a time, renewing the leases
    /// meanwhile. An open circuit breaker (or the bot protection's backoff) is waited out, not
    /// counted against the unit: FPL gave no answer to judge it by.
    pub async fn fetch<T, F, Fut>(&self, fetch: F) -> Vec<(u64, Result<T, FplError>)>
    where
        F: Fn(u64) -> Fut,
        Fut: Future<Output = Result<T, FplError>>,
    {
        let fetch = &fetch;
        let fetches = futures_util::stream::iter(self.units.iter().copied())
            .map(|unit| async move {
                loop {
                    match fetch(unit).await {
                        Err(
                            FplError::CircuitOpen { retry_in } | FplError::Blocked { retry_in },
                        ) => {
                            tokio::time::sleep(retry_in.max(Duration::from_millis(100))).await;
                        }
                        other => return (unit, other),
                    }
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>();
        let renew = async {
            loop {
                tokio::time::sleep(renew_every(self.lease)).await;
                if let Err(e) = self.renew().await {
                    tracing::warn!(error = %e, work = %self.key, "could not renew unit leases");
                }
            }
        };
        tokio::select! {
            results = fetches => results,
            never = renew => never,
        }
    }

    /// Adds units to the work in `tx` (the transaction storing this batch), for any instance to
    /// claim: work whose extent is learnt as it is done (a league's last standings page is
    /// known only when it is read). Units already there are left as they are.
    pub async fn add_units(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        units: &[u64],
    ) -> Result<(), StoreError> {
        add(&mut **tx, &channel_of(&self.deps), &self.key, units)
            .await
            .map(drop)
    }

    async fn renew(&self) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE work_units SET lease_until = now() + make_interval(secs => $4) \
             WHERE work_key = $1 AND unit = ANY($2) AND state = 'leased' AND lease_owner = $3",
        )
        .bind(&self.key)
        .bind(ids(&self.units))
        .bind(&self.worker.instance)
        .bind(self.lease.as_secs_f64())
        .execute(&self.deps.db)
        .await?;
        Ok(())
    }

    /// Opens the transaction that stores the batch, if the work's run still runs (or was
    /// interrupted with its leader: the next leader's re-run adopts the work, so what is done
    /// meanwhile counts): `None` when it was cancelled or ended (the leases are then released
    /// and nothing is to be stored).
    /// The run's row is share-locked until the commit, so it cannot end in between.
    pub async fn begin(&self) -> Result<Option<Transaction<'static, Postgres>>, StoreError> {
        let mut tx = self.deps.db.begin().await?;
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT r.id FROM shared_work w JOIN job_runs r ON r.id = w.run_id \
             WHERE w.key = $1 AND w.state = 'open' AND r.status IN ('running', 'interrupted') \
             FOR SHARE OF r",
        )
        .bind(&self.key)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            let channel = channel_of(&self.deps);
            release(
                &mut *tx,
                &channel,
                &self.key,
                &self.units,
                &self.worker.instance,
            )
            .await?;
            tx.commit().await?;
            return Ok(None);
        }
        Ok(Some(tx))
    }

    /// Records the batch's outcome in `tx` (which holds its data) and commits: a unit is done
    /// exactly when its data is stored. Units whose lease this instance lost meanwhile are
    /// left to the instance that holds it now.
    pub async fn finish(
        self,
        mut tx: Transaction<'static, Postgres>,
        outcome: Outcome,
    ) -> Result<(), StoreError> {
        let mut units = Vec::new();
        let mut states = Vec::new();
        let mut errors: Vec<Option<String>> = Vec::new();
        let mut notes: Vec<Option<String>> = Vec::new();
        let ended = (outcome.stored.iter().map(|&u| (u, "done", None)))
            .chain(outcome.unknown.iter().map(|&u| (u, "unknown", None)))
            .chain(
                outcome
                    .failed
                    .iter()
                    .map(|(u, e)| (*u, "failed", Some(e.clone()))),
            );
        for (u, state, error) in ended {
            units.push(u as i64);
            states.push(state);
            errors.push(error);
            notes.push(outcome.notes.get(&u).cloned());
        }
        // The units finished, and in the same statement this instance's share of the work by
        // how they ended (the work's finished units are the sum of its shares).
        let n: i64 = sqlx::query_scalar(
            "WITH f AS (UPDATE work_units u SET state = o.state, done_by = $5, done_role = $6, \
               last_error = o.error, note = o.note, lease_until = NULL \
               FROM UNNEST($2::bigint[], $3::text[], $4::text[], $7::text[]) \
                 AS o(unit, state, error, note) \
               WHERE u.work_key = $1 AND u.unit = o.unit AND u.state = 'leased' \
               AND u.lease_owner = $5 RETURNING u.state), \
             c AS (SELECT count(*) AS n, count(*) FILTER (WHERE state = 'done') AS done, \
               count(*) FILTER (WHERE state = 'unknown') AS unknown, \
               count(*) FILTER (WHERE state = 'failed') AS failed FROM f), \
             s AS (INSERT INTO work_shares (work_key, instance, role, done, unknown, failed) \
               SELECT $1, $5, $6, done, unknown, failed FROM c WHERE n > 0 \
               ON CONFLICT (work_key, instance) DO UPDATE SET role = EXCLUDED.role, \
                 done = work_shares.done + EXCLUDED.done, \
                 unknown = work_shares.unknown + EXCLUDED.unknown, \
                 failed = work_shares.failed + EXCLUDED.failed) \
             SELECT n FROM c",
        )
        .bind(&self.key)
        .bind(units)
        .bind(states)
        .bind(errors)
        .bind(&self.worker.instance)
        .bind(self.role)
        .bind(notes)
        .fetch_one(&mut *tx)
        .await?;
        let n = n as u64;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(done_channel(&self.deps.settings.database.schema))
            .bind(&self.key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.deps
            .metrics
            .get::<UnitMetrics>()
            .done
            .with_label_values(&[self.role])
            .inc_by(n);
        Ok(())
    }
}

fn ids(units: &[u64]) -> Vec<i64> {
    units.iter().map(|&u| u as i64).collect()
}

/// The channel on which the instances of one deployment (one schema) hear of units to claim.
/// PostgreSQL's notifications are per database, so the schema is in the name (cut to the
/// 63 bytes of an identifier: two schemas alike that far only wake each other's lanes).
pub fn channel(schema: &str) -> String {
    identifier(format!("fplsync_work.{schema}"))
}

/// The channel on which runs hear of their units finished.
pub fn done_channel(schema: &str) -> String {
    identifier(format!("fplsync_done.{schema}"))
}

fn identifier(mut name: String) -> String {
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// What this instance's listener heard, for whoever waits on it: units to claim (the lanes),
/// units finished (a run watching its work). The composition root shares one in [`Deps`].
#[derive(Clone)]
pub struct Heard {
    claimable: Arc<watch::Sender<u64>>,
    finished: Arc<watch::Sender<u64>>,
}

impl Default for Heard {
    fn default() -> Self {
        Heard {
            claimable: Arc::new(watch::channel(0).0),
            finished: Arc::new(watch::channel(0).0),
        }
    }
}

/// A wait that ends when `heard` changes, or never without one.
async fn changed(heard: &mut Option<watch::Receiver<u64>>) {
    let Some(rx) = heard else {
        return std::future::pending().await;
    };
    if rx.changed().await.is_err() {
        std::future::pending().await
    }
}

/// Gives units back, to be claimed at once by any instance (they hear of it).
async fn release(
    db: impl sqlx::PgExecutor<'_>,
    channel: &str,
    key: &str,
    units: &[u64],
    instance: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "WITH r AS (UPDATE work_units SET state = 'todo', lease_owner = NULL, lease_until = NULL \
           WHERE work_key = $1 AND unit = ANY($2) AND state = 'leased' AND lease_owner = $3 \
           RETURNING 1) \
         SELECT pg_notify($4, $1) WHERE EXISTS (SELECT 1 FROM r)",
    )
    .bind(key)
    .bind(ids(units))
    .bind(instance)
    .bind(channel)
    .execute(db)
    .await?;
    Ok(())
}

/// Opens the shared work `key` for `ctx`'s run with `units` to do, or adopts it. Work still
/// open (its run was interrupted, failed or cancelled before it was done) becomes this run's
/// as it stands: units finished stay finished, except failed ones, which are to do again;
/// leases still running stay with their holders. Work closed (its run saw it done) starts
/// afresh. Units no longer to do are dropped either way.
pub async fn open(
    ctx: &JobContext,
    handler: &str,
    key: &str,
    params: &Value,
    units: &[u64],
) -> Result<(), StoreError> {
    let mut tx = ctx.deps.db.begin().await?;
    let was: Option<String> =
        sqlx::query_scalar("SELECT state FROM shared_work WHERE key = $1 FOR UPDATE")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO shared_work (key, handler, params, run_id, state) \
         VALUES ($1, $2, $3, $4, 'open') \
         ON CONFLICT (key) DO UPDATE SET handler = EXCLUDED.handler, params = EXCLUDED.params, \
         run_id = EXCLUDED.run_id, state = 'open', opened_at = now()",
    )
    .bind(key)
    .bind(handler)
    .bind(params)
    .bind(ctx.run.0)
    .execute(&mut *tx)
    .await?;
    if was.as_deref() != Some("open") {
        // Afresh: every unit goes but those leased to someone now (their holders may still
        // complete them).
        sqlx::query(
            "DELETE FROM work_units WHERE work_key = $1 \
             AND NOT (state = 'leased' AND lease_until >= now())",
        )
        .bind(key)
        .execute(&mut *tx)
        .await?;
    }
    // Units no longer to do are dropped. An anti-join, not `NOT (unit = ANY($2))`: that
    // compares every row with the whole list, and a re-run of a 100,000-unit work would spend
    // seconds here.
    sqlx::query(
        "DELETE FROM work_units w WHERE w.work_key = $1 AND NOT EXISTS \
         (SELECT 1 FROM UNNEST($2::bigint[]) AS u(unit) WHERE u.unit = w.unit)",
    )
    .bind(key)
    .bind(ids(units))
    .execute(&mut *tx)
    .await?;
    // Adopted as it stands, failed units start again; a unit leased now stays its holder's.
    sqlx::query(
        "INSERT INTO work_units (work_key, unit) SELECT $1, u FROM UNNEST($2::bigint[]) AS u \
         ON CONFLICT (work_key, unit) DO UPDATE SET state = 'todo', lease_owner = NULL, \
         lease_role = NULL, lease_until = NULL, done_by = NULL, done_role = NULL, \
         last_error = NULL, note = NULL WHERE work_units.state = 'failed'",
    )
    .bind(key)
    .bind(ids(units))
    .execute(&mut *tx)
    .await?;
    // Counted once here; from now on the statements that add and finish units keep the counts.
    sqlx::query(
        "UPDATE shared_work SET total = (SELECT count(*) FROM work_units WHERE work_key = $1) \
         WHERE key = $1",
    )
    .bind(key)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM work_shares WHERE work_key = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO work_shares (work_key, instance, role, done, unknown, failed) \
         SELECT $1, done_by, COALESCE(max(done_role), ''), \
           count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'unknown'), \
           count(*) FILTER (WHERE state = 'failed') \
         FROM work_units WHERE work_key = $1 AND done_by IS NOT NULL GROUP BY done_by",
    )
    .bind(key)
    .execute(&mut *tx)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel_of(&ctx.deps))
        .bind(key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds units to work `key` (those already there are left as they are).
/// The instances hear of them when the transaction commits.
async fn add(
    db: impl sqlx::PgExecutor<'_>,
    channel: &str,
    key: &str,
    units: &[u64],
) -> Result<u64, StoreError> {
    let added: i64 = sqlx::query_scalar(
        "WITH a AS (INSERT INTO work_units (work_key, unit) \
           SELECT $1, u FROM UNNEST($2::bigint[]) AS u \
           ON CONFLICT (work_key, unit) DO NOTHING RETURNING 1), \
         n AS (SELECT count(*) AS added FROM a), \
         t AS (UPDATE shared_work SET total = total + (SELECT added FROM n) WHERE key = $1) \
         SELECT added FROM n, LATERAL (SELECT CASE WHEN added > 0 THEN pg_notify($3, $1) END) w",
    )
    .bind(key)
    .bind(ids(units))
    .bind(channel)
    .fetch_one(db)
    .await?;
    Ok(added as u64)
}

/// Adds units to `ctx`'s open work `key`, for any instance to claim: how many were new.
pub async fn extend(ctx: &JobContext, key: &str, units: &[u64]) -> Result<u64, StoreError> {
    add(&ctx.deps.db, &channel_of(&ctx.deps), key, units).await
}

fn channel_of(deps: &Deps) -> String {
    channel(&deps.settings.database.schema)
}

/// Instances of the deployment working on shared work now (seen within a lease).
pub async fn instances(deps: &Deps) -> Result<u64, StoreError> {
    live_instances(
        &deps.db,
        Duration::from_secs(deps.settings.units.lease_secs),
    )
    .await
}

/// Instances that worked on (or looked for) shared work within `lease`.
async fn live_instances(db: &PgPool, lease: Duration) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM work_instances WHERE seen_at > now() - make_interval(secs => $1)",
    )
    .bind(lease.as_secs_f64())
    .fetch_one(db)
    .await?;
    Ok(n as u64)
}

/// Where a work's units stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Tally {
    pub todo: i64,
    pub leased: i64,
    pub done: i64,
    pub unknown: i64,
    pub failed: i64,
    /// Leases still running: instances working on the units now.
    pub live_leases: i64,
}

impl Tally {
    /// Units finished one way or the other.
    pub fn finished(&self) -> i64 {
        self.done + self.unknown + self.failed
    }

    /// Units left: to do or being done.
    pub fn left(&self) -> i64 {
        self.todo + self.leased
    }
}

/// The work's units by state, from the counts its statements keep (`shared_work`,
/// `work_shares`) and its leases (few: a batch per lane of each instance), so however many
/// units it has, a run's detail (`GET /jobs/{id}`, polled by clients) costs the same.
async fn tally(db: &PgPool, key: &str) -> Result<Tally, StoreError> {
    Ok(sqlx::query_as(
        "SELECT w.total - s.done - s.unknown - s.failed - l.leased AS todo, l.leased, s.done, \
           s.unknown, s.failed, l.live_leases \
         FROM shared_work w, \
         LATERAL (SELECT count(*) AS leased, \
             count(*) FILTER (WHERE lease_until > now()) AS live_leases \
           FROM work_units u WHERE u.work_key = w.key AND u.state = 'leased') l, \
         LATERAL (SELECT COALESCE(sum(done), 0)::bigint AS done, \
             COALESCE(sum(unknown), 0)::bigint AS unknown, \
             COALESCE(sum(failed), 0)::bigint AS failed \
           FROM work_shares s WHERE s.work_key = w.key) s \
         WHERE w.key = $1",
    )
    .bind(key)
    .fetch_optional(db)
    .await?
    .unwrap_or_default())
}

/// What the run reports when its work is done: the tally and one example failure.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    pub tally: Tally,
    pub example_failure: Option<(u64, String)>,
}

/// Waits until no unit of `key` is left to do, whoever does them, reporting progress on the
/// run as `already_done` + finished of `total`; then closes the work.
pub async fn wait_done(
    ctx: &JobContext,
    key: &str,
    total: u64,
    already_done: u64,
) -> Result<Finished, JobError> {
    wait_finished(ctx, key, total, already_done).await?;
    close(ctx, key).await
}

/// Waits like [`wait_done`] but leaves the work open: a run that fails for its failed units
/// lets its retry adopt the work, so only those are done again.
pub async fn wait_finished(
    ctx: &JobContext,
    key: &str,
    total: u64,
    already_done: u64,
) -> Result<Tally, JobError> {
    let mut watch = Watch::new(ctx, key);
    let mut last_percent = u64::MAX;
    loop {
        let t = watch.changed().await?;
        let done = already_done + t.finished as u64;
        let end = t.left() == 0;
        let percent = (done * 100).checked_div(total).unwrap_or(100).min(100);
        if percent != last_percent || end {
            let remaining = (!end).then(|| watch.eta(done, total)).flatten();
            ctx.progress_units(done, total, remaining).await?;
            last_percent = percent;
        }
        if end {
            return watch.tally().await;
        }
    }
}

/// Closes `ctx`'s work `key` (no unit is claimed any more) and tells how it ended.
pub async fn close(ctx: &JobContext, key: &str) -> Result<Finished, JobError> {
    let db = &ctx.deps.db;
    sqlx::query("UPDATE shared_work SET state = 'closed' WHERE key = $1 AND run_id = $2")
        .bind(key)
        .bind(ctx.run.0)
        .execute(db)
        .await
        .map_err(StoreError::from)?;
    let t = tally(db, key).await?;
    let example: Option<(i64, String)> = sqlx::query_as(
        "SELECT unit, last_error FROM work_units \
         WHERE work_key = $1 AND state = 'failed' ORDER BY unit LIMIT 1",
    )
    .bind(key)
    .fetch_optional(db)
    .await
    .map_err(StoreError::from)?;
    Ok(Finished {
        tally: t,
        example_failure: example.map(|(u, e)| (u as u64, e)),
    })
}

/// The run's view of its work while instances do it.
pub struct Watch<'a> {
    ctx: &'a JobContext,
    key: String,
    /// Notifications of finished units (this instance's listener), if it has one.
    heard: Option<watch::Receiver<u64>>,
    started: Instant,
    finished_at_start: Option<i64>,
    last_finished: Option<i64>,
}

impl<'a> Watch<'a> {
    pub fn new(ctx: &'a JobContext, key: &str) -> Self {
        Watch {
            ctx,
            key: key.to_string(),
            heard: ctx
                .deps
                .shared
                .get::<Heard>()
                .map(|h| h.finished.subscribe()),
            started: Instant::now(),
            finished_at_start: None,
            last_finished: None,
        }
    }

    /// The work's tally at once the first time, then as soon as a unit finishes, or whenever
    /// none is left to do (the run must then act: close, add units, or give up).
    ///
    /// The run is alive while units finish or some instance holds a running lease on one
    /// (leases are renewed only while worked on: the wait is then a deliberate one); with no
    /// instance working it goes silent and the runtime's stall watch decides.
    pub async fn changed(&mut self) -> Result<Count, JobError> {
        let poll = Duration::from_millis(self.ctx.deps.settings.units.poll_ms);
        loop {
            if let Some(heard) = &mut self.heard {
                heard.borrow_and_update();
            }
            let t = count(&self.ctx.deps.db, &self.key).await?;
            let first = self.last_finished.is_none();
            let moved = self.last_finished != Some(t.finished);
            if moved || t.live_leases > 0 {
                self.ctx.beat();
            }
            self.finished_at_start.get_or_insert(t.finished);
            self.last_finished = Some(t.finished);
            if first || moved || t.left() == 0 {
                return Ok(t);
            }
            // Instances holding running leases are working on the units (a lease is renewed
            // only while its batch is worked on): a deliberate wait, however long a batch takes.
            let _working = (t.live_leases > 0).then(|| self.ctx.heart.waiting());
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = changed(&mut self.heard) => {}
            }
        }
    }

    /// The time left to reach `total` from `done`, at the pace units finished so far.
    pub fn eta(&self, done: u64, total: u64) -> Option<Duration> {
        let since = (self.last_finished? - self.finished_at_start?).max(0) as u32;
        (since > 0).then(|| self.started.elapsed() / since * total.saturating_sub(done) as u32)
    }

    /// The work's units by state (counted: for small works, or once at the end).
    pub async fn tally(&self) -> Result<Tally, JobError> {
        Ok(tally(&self.ctx.deps.db, &self.key).await?)
    }

    /// Closes the work (no unit is claimed any more) and tells how it ended.
    pub async fn close(self) -> Result<Finished, JobError> {
        close(self.ctx, &self.key).await
    }
}

/// How far a work is, from the numbers its statements keep (read in constant time, however
/// many units it has).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Count {
    pub total: i64,
    pub finished: i64,
    /// Leases still running: instances working on the units now.
    pub live_leases: i64,
}

impl Count {
    /// Units left: to do or being done.
    pub fn left(&self) -> i64 {
        (self.total - self.finished).max(0)
    }
}

async fn count(db: &PgPool, key: &str) -> Result<Count, StoreError> {
    Ok(sqlx::query_as(
        "SELECT w.total, \
           (SELECT COALESCE(sum(done + unknown + failed), 0)::bigint FROM work_shares s \
             WHERE s.work_key = w.key) AS finished, \
           (SELECT count(*) FROM work_units u \
             WHERE u.work_key = w.key AND u.state = 'leased' AND u.lease_until > now()) \
           AS live_leases \
         FROM shared_work w WHERE w.key = $1",
    )
    .bind(key)
    .fetch_optional(db)
    .await?
    .unwrap_or_default())
}

/// A finished unit of a work, with what it did.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Ended {
    pub unit: i64,
    pub state: String,
    pub note: Option<String>,
    pub last_error: Option<String>,
}

/// The finished units of work `key`, in unit order.
pub async fn ended(db: &PgPool, key: &str) -> Result<Vec<Ended>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT unit, state, note, last_error FROM work_units \
         WHERE work_key = $1 AND state IN ('done', 'unknown', 'failed') ORDER BY unit",
    )
    .bind(key)
    .fetch_all(db)
    .await?)
}

/// An open work with units to claim.
#[derive(sqlx::FromRow)]
struct OpenWork {
    key: String,
    handler: String,
    params: Value,
    claimable: i64,
    /// Instances working on shared work now (seen within a lease).
    instances: i64,
}

/// Claims a batch of the oldest open work this instance has a handler for.
async fn claim(
    deps: &Deps,
    handlers: &Handlers,
    worker: &Worker,
) -> Result<Option<(Claimed, String)>, StoreError> {
    let db = &deps.db;
    let open: Option<OpenWork> = sqlx::query_as(
        "WITH i AS (SELECT GREATEST(count(*), 1) AS instances FROM work_instances \
           WHERE seen_at > now() - make_interval(secs => $3)) \
         SELECT s.*, (SELECT instances FROM i) AS instances \
         FROM (SELECT w.key, w.handler, w.params, w.opened_at, \
           CASE WHEN w.total - f.finished > (SELECT $2 * instances FROM i) \
             THEN w.total - f.finished ELSE \
           (SELECT count(*) FROM (SELECT 1 FROM work_units u WHERE u.work_key = w.key \
             AND u.state = 'todo' ORDER BY u.unit LIMIT (SELECT $2 * instances FROM i)) c) \
           + (SELECT count(*) FROM (SELECT 1 FROM work_units u WHERE u.work_key = w.key \
             AND u.state = 'leased' AND u.lease_until < now() ORDER BY u.unit \
             LIMIT (SELECT $2 * instances FROM i)) c) END AS claimable \
           FROM shared_work w JOIN job_runs r ON r.id = w.run_id, \
           LATERAL (SELECT COALESCE(sum(done + unknown + failed), 0)::bigint AS finished \
             FROM work_shares s WHERE s.work_key = w.key) f \
           WHERE w.state = 'open' AND r.status IN ('running', 'interrupted') \
             AND w.handler = ANY($1)) s \
         WHERE claimable > 0 ORDER BY opened_at LIMIT 1",
    )
    .bind(handlers.names())
    // Counted only as far as a claim size can use (a fair share of what is left among the
    // lanes working, at most MAX_CLAIM): a work of 100,000 units is not counted at every claim.
    // While more units are left (the work's counters) than the working lanes can hold at
    // once, some are to do and the share is the largest anyway: nothing is counted. Near the
    // end each state is read in unit order from `work_units_claimable`, so the count walks
    // only the units it counts: a scan filtering on either state would pass over every
    // finished unit first (they lie before the rest), making each claim slower as the work
    // goes on.
    .bind(LANES as i64 * MAX_CLAIM as i64)
    .bind(deps.settings.units.lease_secs as f64)
    .fetch_optional(db)
    .await?;
    let Some(open) = open else {
        return Ok(None);
    };
    let settings = &deps.settings;
    let n = claim_size(
        settings.fpl.rate_per_sec,
        settings.units.batch_secs,
        open.claimable as u64,
        LANES * open.instances.max(1) as u64,
    );
    let role = (worker.role)();
    // Leases that ran out first (units a dead or hung instance held: the oldest work), then
    // units to do, each walked in unit order on `work_units_claimable`. The chosen rows are
    // updated through an array of their units, not a join: a generic plan cannot tell how
    // many rows the claim picks and would hash the whole work to join them.
    let claimed: Vec<(i64, bool)> = sqlx::query_as(
        "WITH e AS (SELECT unit FROM work_units WHERE work_key = $1 \
           AND state = 'leased' AND lease_until < now() \
           ORDER BY unit LIMIT $2 FOR UPDATE SKIP LOCKED), \
         t AS (SELECT unit FROM work_units WHERE work_key = $1 AND state = 'todo' \
           ORDER BY unit LIMIT ($2 - (SELECT count(*) FROM e)) FOR UPDATE SKIP LOCKED) \
         UPDATE work_units u SET state = 'leased', lease_owner = $3, lease_role = $4, \
           lease_until = now() + make_interval(secs => $5), claims = u.claims + 1 \
         WHERE u.work_key = $1 \
           AND u.unit = ANY(ARRAY(SELECT unit FROM e UNION ALL SELECT unit FROM t)) \
         RETURNING u.unit, u.unit = ANY(ARRAY(SELECT unit FROM e))",
    )
    .bind(&open.key)
    .bind(n as i64)
    .bind(&worker.instance)
    .bind(role)
    .bind(settings.units.lease_secs as f64)
    .fetch_all(db)
    .await?;
    if claimed.is_empty() {
        return Ok(None);
    }
    let m = deps.metrics.get::<UnitMetrics>();
    m.claimed
        .with_label_values(&[role])
        .inc_by(claimed.len() as u64);
    let expired = claimed.iter().filter(|(_, again)| *again).count() as u64;
    if expired > 0 {
        m.expired.with_label_values(&[role]).inc_by(expired);
        tracing::info!(work = %open.key, expired, "claimed units whose lease ran out");
    }
    let mut units: Vec<u64> = claimed.into_iter().map(|(u, _)| u as u64).collect();
    units.sort_unstable();
    Ok(Some((
        Claimed {
            params: open.params,
            units,
            key: open.key,
            deps: deps.clone(),
            worker: worker.clone(),
            role,
            lease: Duration::from_secs(settings.units.lease_secs),
        },
        open.handler,
    )))
}

/// How long an idle lane waits for a notification before it looks for units anyway: a third
/// of a lease (leases that ran out are claimable without anyone being told), never more often
/// than `poll_ms`.
pub fn idle_wait(lease: Duration, poll: Duration) -> Duration {
    renew_every(lease).max(poll)
}

/// This instance's worker: [`LANES`] lanes, each claiming and doing batches of any open work
/// until `stop` turns true (then giving back what it holds, for the others to claim at once).
/// Idle, a lane waits to hear of units (`LISTEN` on the deployment's [`channel`]: work opened,
/// units added or given back), or [`idle_wait`] at most.
pub async fn work(
    deps: Deps,
    handlers: Handlers,
    worker: Worker,
    settings: UnitsSettings,
    stop: watch::Receiver<bool>,
) {
    let heard = deps.shared.get::<Heard>().cloned().unwrap_or_default();
    let lanes = (0..LANES).map(|_| {
        lane(
            deps.clone(),
            handlers.clone(),
            worker.clone(),
            settings.clone(),
            heard.claimable.subscribe(),
            stop.clone(),
        )
    });
    let lease = Duration::from_secs(settings.lease_secs);
    let channel = channel_of(&deps);
    let done = done_channel(&deps.settings.database.schema);
    tokio::join!(
        futures_util::future::join_all(lanes),
        present(&deps.db, &worker, lease, stop.clone()),
        listen(&deps.db, &channel, &done, &heard, stop)
    );
}

/// Hears of units to claim (waking the lanes) and of units finished (waking a run that
/// watches its work). A lost connection is made again (notifications meanwhile are lost: all
/// are woken once it is back, and look on their own anyway).
async fn listen(
    db: &PgPool,
    channel: &str,
    done: &str,
    heard: &Heard,
    mut stop: watch::Receiver<bool>,
) {
    let retry = Duration::from_secs(1);
    let mut listener = loop {
        let listening = async {
            let mut l = sqlx::postgres::PgListener::connect_with(db).await?;
            l.listen_all([channel, done]).await?;
            Ok::<_, sqlx::Error>(l)
        };
        match listening.await {
            Ok(l) => break l,
            Err(e) => tracing::warn!(error = %e, "could not listen for shared work; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = stop.changed() => return,
        }
    };
    loop {
        tokio::select! {
            got = listener.recv() => match got {
                Ok(n) if n.channel() == done => heard.finished.send_modify(|n| *n += 1),
                Ok(_) => heard.claimable.send_modify(|n| *n += 1),
                Err(e) => {
                    tracing::warn!(error = %e, "listening for shared work failed; listening again");
                    tokio::select! {
                        _ = tokio::time::sleep(retry) => {}
                        _ = stop.changed() => return,
                    }
                    heard.claimable.send_modify(|n| *n += 1);
                    heard.finished.send_modify(|n| *n += 1);
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// Keeps this instance in `work_instances` while its worker runs (seen every third of a
/// lease), and takes it out when it stops.
async fn present(db: &PgPool, worker: &Worker, lease: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        let seen = sqlx::query(
            "INSERT INTO work_instances (instance, role, seen_at) VALUES ($1, $2, now()) \
             ON CONFLICT (instance) DO UPDATE SET role = EXCLUDED.role, seen_at = now()",
        )
        .bind(&worker.instance)
        .bind((worker.role)())
        .execute(db)
        .await;
        if let Err(e) = seen {
            tracing::warn!(error = %e, "could not record this instance as working");
        }
        tokio::select! {
            _ = tokio::time::sleep(renew_every(lease)) => {}
            _ = stop.changed() => {}
        }
    }
    let gone = sqlx::query("DELETE FROM work_instances WHERE instance = $1")
        .bind(&worker.instance)
        .execute(db)
        .await;
    if let Err(e) = gone {
        tracing::warn!(error = %e, "could not record this instance as gone");
    }
}

async fn lane(
    deps: Deps,
    handlers: Handlers,
    worker: Worker,
    settings: UnitsSettings,
    mut heard: watch::Receiver<u64>,
    mut stop: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(settings.poll_ms);
    let idle = idle_wait(Duration::from_secs(settings.lease_secs), poll);
    let channel = channel_of(&deps);
    loop {
        if *stop.borrow() {
            return;
        }
        // Seen before the claim: what is heard while it looks wakes the wait below at once.
        heard.borrow_and_update();
        let next = claim(&deps, &handlers, &worker).await;
        let (claimed, handler) = match next {
            Ok(Some(c)) => c,
            Ok(None) => {
                tokio::select! {
                    _ = heard.changed() => {}
                    _ = tokio::time::sleep(idle) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not claim units");
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
        };
        let Some(f) = handlers.handlers.get(handler.as_str()).cloned() else {
            continue; // claimed only for handlers it has
        };
        let (key, units) = (claimed.key.clone(), claimed.units.clone());
        tokio::select! {
            done = f(claimed) => if let Err(e) = done {
                // Given back, so another attempt (here or elsewhere) takes them now.
                tracing::warn!(error = %e, work = %key, "a batch of units failed");
                if let Err(e) = release(&deps.db, &channel, &key, &units, &worker.instance).await {
                    tracing::warn!(error = %e, work = %key, "could not release units");
                }
            },
            _ = stop.changed() => {
                if let Err(e) = release(&deps.db, &channel, &key, &units, &worker.instance).await {
                    tracing::warn!(error = %e, work = %key, "could not release units");
                }
                return;
            }
        }
    }
}

/// One instance's part in a run's shared work.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InstanceShare {
    pub instance: String,
    /// Its role when it last completed or claimed a unit (`leader`, `follower`).
    pub role: String,
    /// Units it completed (stored, unknown to FPL or failed).
    pub done: i64,
    /// Units it holds a lease on now.
    pub leased: i64,
}

/// A run's shared work: its units by state and who did them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkShare {
    pub key: String,
    /// `open` while units are left, `closed` once the run saw them all done.
    pub state: String,
    pub total: i64,
    pub todo: i64,
    pub leased: i64,
    pub done: i64,
    pub unknown: i64,
    pub failed: i64,
    pub instances: Vec<InstanceShare>,
}

/// The shared work `run` opened (or adopted), if any.
pub async fn share(db: &PgPool, run: RunId) -> Result<Option<WorkShare>, StoreError> {
    let work: Option<(String, String)> =
        sqlx::query_as("SELECT key, state FROM shared_work WHERE run_id = $1 LIMIT 1")
            .bind(run.0)
            .fetch_optional(db)
            .await?;
    let Some((key, state)) = work else {
        return Ok(None);
    };
    let t = tally(db, &key).await?;
    let instances: Vec<InstanceShare> = sqlx::query_as(
        "SELECT COALESCE(s.instance, l.instance) AS instance, \
           COALESCE(l.role, s.role) AS role, \
           COALESCE(s.done + s.unknown + s.failed, 0) AS done, COALESCE(l.leased, 0) AS leased \
         FROM (SELECT instance, role, done, unknown, failed FROM work_shares \
           WHERE work_key = $1) s \
         FULL JOIN (SELECT lease_owner AS instance, max(lease_role) AS role, \
             count(*) AS leased \
           FROM work_units WHERE work_key = $1 AND state = 'leased' GROUP BY lease_owner) l \
         ON l.instance = s.instance \
         ORDER BY 1",
    )
    .bind(&key)
    .fetch_all(db)
    .await?;
    Ok(Some(WorkShare {
        key,
        state,
        total: t.todo + t.leased + t.finished(),
        todo: t.todo,
        leased: t.leased,
        done: t.done,
        unknown: t.unknown,
        failed: t.failed,
        instances,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_holds_about_batch_secs_of_the_instances_budget_within_bounds() {
        // Two lanes: each holds half of the instance's batch_secs.
        assert_eq!(claim_size(20, 2, 10_000, 6), 20);
        assert_eq!(claim_size(4, 2, 10_000, 6), 4);
        assert_eq!(claim_size(1_000, 2, 10_000, 6), MAX_CLAIM);
        assert_eq!(claim_size(0, 2, 10_000, 6), 1);
    }

    #[test]
    fn near_the_end_a_claim_takes_a_fair_share_among_the_lanes_working_but_never_nothing() {
        // Two instances, four lanes: a quarter of what is left.
        assert_eq!(claim_size(100, 2, 100, 4), 25);
        // Three instances told of twelve units at once: two each, so every lane has some.
        assert_eq!(claim_size(20, 2, 12, 6), 2);
        assert_eq!(claim_size(20, 2, 9, 4), 3);
        assert_eq!(claim_size(20, 2, 1, 6), 1);
        assert_eq!(
            claim_size(20, 2, 5, 0),
            5,
            "no lanes known: within the budget"
        );
    }

    #[test]
    fn an_idle_lane_looks_anyway_every_third_of_a_lease_never_more_often_than_poll() {
        let ms = Duration::from_millis;
        assert_eq!(idle_wait(Duration::from_secs(30), ms(250)), ms(10_000));
        assert_eq!(idle_wait(Duration::from_secs(3), ms(250)), ms(1_000));
        assert_eq!(idle_wait(Duration::from_secs(3), ms(5_000)), ms(5_000));
    }

    #[test]
    fn a_deployments_channel_names_its_schema_within_an_identifiers_63_bytes() {
        assert_eq!(channel("fplsync"), "fplsync_work.fplsync");
        let long = channel(&"s".repeat(100));
        assert_eq!(long.len(), 63);
        assert!(long.starts_with("fplsync_work.sss"));
    }

    #[test]
    fn leases_are_renewed_three_times_a_lease() {
        assert_eq!(
            renew_every(Duration::from_secs(30)),
            Duration::from_secs(10)
        );
        assert_eq!(renew_every(Duration::ZERO), Duration::from_millis(100));
    }
}
