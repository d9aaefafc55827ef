//! `job_runs` and `job_run_logs`: every run with its status, attempts and progress, and the log
//! lines it wrote.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use super::StoreError;
use crate::run::{JobKind, LogLevel, RunId, RunStatus, Trigger};

/// One run as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunRecord {
    pub id: RunId,
    pub kind: String,
    pub params: Value,
    pub trigger: Trigger,
    pub status: RunStatus,
    pub attempt: i32,
    pub max_attempts: i32,
    pub stalls: i32,
    pub progress: i16,
    /// Units handled, of `progress_total`, for a run that counts units (`entries`, …).
    pub progress_done: Option<i64>,
    pub progress_total: Option<i64>,
    /// When the run expects to be done, at the pace it has kept (runs that count units).
    pub progress_eta: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The run this one re-runs (start-up recovery, `POST /recovery/failed-jobs`).
    pub rerun_of: Option<RunId>,
    /// The cron tick a scheduled run was requested for.
    pub scheduled_for: Option<DateTime<Utc>>,
}

/// One line of a run's log.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RunLogLine {
    pub at: DateTime<Utc>,
    pub level: String,
    pub message: String,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    kind: String,
    params: Value,
    trigger: String,
    status: String,
    attempt: i32,
    max_attempts: i32,
    stalls: i32,
    progress: i16,
    progress_done: Option<i64>,
    progress_total: Option<i64>,
    progress_eta: Option<DateTime<Utc>>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    rerun_of: Option<i64>,
    scheduled_for: Option<DateTime<Utc>>,
}

impl TryFrom<RunRow> for RunRecord {
    type Error = StoreError;

    fn try_from(r: RunRow) -> Result<Self, StoreError> {
        Ok(RunRecord {
            id: RunId(r.id),
            kind: r.kind,
            params: r.params,
            trigger: r.trigger.parse().map_err(StoreError::Corrupt)?,
            status: r.status.parse().map_err(StoreError::Corrupt)?,
            attempt: r.attempt,
            max_attempts: r.max_attempts,
            stalls: r.stalls,
            progress: r.progress,
            progress_done: r.progress_done,
            progress_total: r.progress_total,
            progress_eta: r.progress_eta,
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            rerun_of: r.rerun_of.map(RunId),
            scheduled_for: r.scheduled_for,
        })
    }
}

const COLUMNS: &str = "id, kind, params, trigger, status, attempt, max_attempts, stalls, progress, \
                       progress_done, progress_total, progress_eta, error, created_at, started_at, \
                       finished_at, rerun_of, scheduled_for";

fn records(rows: Vec<RunRow>) -> Result<Vec<RunRecord>, StoreError> {
    rows.into_iter().map(RunRecord::try_from).collect()
}

/// Where a run comes from, beyond its trigger: the cron tick of a scheduled run, the run a
/// re-run repeats. Both are unique in `job_runs`, which makes scheduling and recovery idempotent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOrigin {
    pub scheduled_for: Option<DateTime<Utc>>,
    pub rerun_of: Option<RunId>,
}

/// Records a new queued run and returns its id.
pub async fn insert_queued(
    db: &PgPool,
    kind: JobKind,
    params: &Value,
    trigger: Trigger,
    max_attempts: u32,
) -> Result<RunId, StoreError> {
    let inserted = insert_queued_from(
        db,
        kind,
        params,
        trigger,
        max_attempts,
        RunOrigin::default(),
    )
    .await?;
    inserted.ok_or_else(|| StoreError::Corrupt("a run without origin conflicted".into()))
}

/// Records a new queued run with its origin. `None` when a run of the same origin (the same
/// tick of the kind, or a re-run of the same run) already exists: nothing is inserted.
pub async fn insert_queued_from(
    db: &PgPool,
    kind: JobKind,
    params: &Value,
    trigger: Trigger,
    max_attempts: u32,
    origin: RunOrigin,
) -> Result<Option<RunId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO job_runs (kind, params, trigger, status, max_attempts, scheduled_for, rerun_of) \
         VALUES ($1, $2, $3, 'queued', $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(kind.as_str())
    .bind(params)
    .bind(trigger.as_str())
    .bind(max_attempts as i32)
    .bind(origin.scheduled_for)
    .bind(origin.rerun_of.map(|r| r.0))
    .fetch_optional(db)
    .await?;
    Ok(id.map(RunId))
}

/// The run that already holds `origin` (after [`insert_queued_from`] returned `None`).
pub async fn find_by_origin(
    db: &PgPool,
    kind: JobKind,
    origin: RunOrigin,
) -> Result<Option<RunRecord>, StoreError> {
    let row: Option<RunRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM job_runs WHERE rerun_of = $2 \
         OR (kind = $1 AND scheduled_for = $3) LIMIT 1"
    ))
    .bind(kind.as_str())
    .bind(origin.rerun_of.map(|r| r.0))
    .bind(origin.scheduled_for)
    .fetch_optional(db)
    .await?;
    row.map(RunRecord::try_from).transpose()
}

/// Marks the start of an attempt.
pub async fn start_attempt(
    db: &PgPool,
    id: RunId,
    attempt: u32,
    stalls: u32,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE job_runs SET status = 'running', attempt = $2, stalls = $3, \
         started_at = COALESCE(started_at, now()) WHERE id = $1",
    )
    .bind(id.0)
    .bind(attempt as i32)
    .bind(stalls as i32)
    .execute(db)
    .await?;
    Ok(())
}

/// Records the error of an attempt that will be retried.
pub async fn note_retry(
    db: &PgPool,
    id: RunId,
    stalls: u32,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE job_runs SET stalls = $2, error = $3 WHERE id = $1")
        .bind(id.0)
        .bind(stalls as i32)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// Progress as units done of a total; the percentage follows from them.
pub async fn set_progress_units(
    db: &PgPool,
    id: RunId,
    done: u64,
    total: u64,
    remaining: Option<std::time::Duration>,
) -> Result<(), StoreError> {
    let percent = (done.min(total) * 100).checked_div(total).unwrap_or(100);
    let eta = remaining
        .and_then(|r| chrono::Duration::from_std(r).ok())
        .map(|r| Utc::now() + r);
    sqlx::query(
        "UPDATE job_runs SET progress = $2, progress_done = $3, progress_total = $4, \
         progress_eta = $5 WHERE id = $1",
    )
    .bind(id.0)
    .bind(percent as i16)
    .bind(done.min(i64::MAX as u64) as i64)
    .bind(total.min(i64::MAX as u64) as i64)
    .bind(eta)
    .execute(db)
    .await?;
    Ok(())
}

/// Records whether an operator paused `kind` (it stays paused across restarts).
pub async fn set_paused(db: &PgPool, kind: JobKind, paused: bool) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_kinds (kind, paused) VALUES ($1, $2) \
         ON CONFLICT (kind) DO UPDATE SET paused = EXCLUDED.paused, updated_at = now()",
    )
    .bind(kind.as_str())
    .bind(paused)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether an operator paused `kind`.
pub async fn is_paused(db: &PgPool, kind: JobKind) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT paused FROM job_kinds WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_optional(db)
            .await?
            .unwrap_or(false),
    )
}

pub async fn set_progress(db: &PgPool, id: RunId, progress: u8) -> Result<(), StoreError> {
    sqlx::query("UPDATE job_runs SET progress = $2 WHERE id = $1")
        .bind(id.0)
        .bind(i16::from(progress.min(100)))
        .execute(db)
        .await?;
    Ok(())
}

/// Puts a run in a final status. A run already final is left alone, so a late writer can never
/// turn a cancelled run into a succeeded one.
pub async fn finish(
    db: &PgPool,
    id: RunId,
    status: RunStatus,
    stalls: u32,
    error: Option<&str>,
) -> Result<(), StoreError> {
    debug_assert!(status.is_final());
    sqlx::query(
        "UPDATE job_runs SET status = $2, error = COALESCE($3, error), finished_at = now(), \
         stalls = $4, progress = CASE WHEN $2 = 'succeeded' THEN 100 ELSE progress END \
         WHERE id = $1 AND status IN ('queued', 'running')",
    )
    .bind(id.0)
    .bind(status.as_str())
    .bind(error)
    .bind(stalls as i32)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn append_log(
    db: &PgPool,
    id: RunId,
    level: LogLevel,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO job_run_logs (run_id, level, message) VALUES ($1, $2, $3)")
        .bind(id.0)
        .bind(level.as_str())
        .bind(message)
        .execute(db)
        .await?;
    Ok(())
}

/// Appends `messages` in order with one statement (a job reporting several lines at once pays
/// one round trip, not one per line).
pub async fn append_logs(
    db: &PgPool,
    id: RunId,
    level: LogLevel,
    messages: &[String],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_run_logs (run_id, level, message) \
         SELECT $1, $2, m FROM UNNEST($3::text[]) WITH ORDINALITY AS u(m, n) ORDER BY n",
    )
    .bind(id.0)
    .bind(level.as_str())
    .bind(messages)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get(db: &PgPool, id: RunId) -> Result<Option<RunRecord>, StoreError> {
    let row: Option<RunRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM job_runs WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(db)
            .await?;
    row.map(RunRecord::try_from).transpose()
}

pub async fn logs(db: &PgPool, id: RunId) -> Result<Vec<RunLogLine>, StoreError> {
    Ok(
        sqlx::query_as("SELECT at, level, message FROM job_run_logs WHERE run_id = $1 ORDER BY id")
            .bind(id.0)
            .fetch_all(db)
            .await?,
    )
}

/// Runs newest first, optionally of one kind and/or status.
pub async fn list(
    db: &PgPool,
    kind: Option<&str>,
    status: Option<RunStatus>,
    limit: u32,
) -> Result<Vec<RunRecord>, StoreError> {
    let rows: Vec<RunRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM job_runs \
         WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR status = $2) \
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(kind)
    .bind(status.map(RunStatus::as_str))
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    records(rows)
}

/// The runs of `kind` still waiting, oldest first: a restarted job actor rebuilds its queue
/// from these.
pub async fn queued(db: &PgPool, kind: JobKind) -> Result<Vec<RunRecord>, StoreError> {
    let rows: Vec<RunRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM job_runs WHERE kind = $1 AND status = 'queued' ORDER BY id"
    ))
    .bind(kind.as_str())
    .fetch_all(db)
    .await?;
    records(rows)
}

/// Deletes finished runs (and, by cascade, their logs) older than `before`.
pub async fn prune(db: &PgPool, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM job_runs WHERE finished_at < $1 \
         AND status NOT IN ('queued', 'running')",
    )
    .bind(before)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Marks runs of `kind` left `running` by an incarnation that died without recording their end
/// (a panic inside the actor itself) as `interrupted`.
pub async fn interrupt_orphans(db: &PgPool, kind: JobKind) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE job_runs SET status = 'interrupted', finished_at = now(), \
         error = COALESCE(error, 'interrupted: its actor stopped during the run') \
         WHERE kind = $1 AND status = 'running'",
    )
    .bind(kind.as_str())
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// What start-up recovery did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Recovery {
    /// Runs a crash left `running`, now `interrupted`.
    pub interrupted: Vec<RunId>,
    /// (interrupted run, its re-run) pairs queued now.
    pub reruns: Vec<(RunId, RunId)>,
    /// Runs a crash left `running` that are not re-run because they are re-runs themselves (a
    /// run is re-run once: a run that crashes the process would otherwise crash it forever).
    pub not_rerun: Vec<RunId>,
}

/// Start-up recovery, done by an instance as it becomes the leader, before its job actors
/// start (so nothing of this database is running): runs left `running` become `interrupted`,
/// and every interrupted run marked `recover` gets one re-run, queued with trigger `recovery`.
/// Marked are the runs a crash left running — unless they are re-runs themselves: a run that
/// crashes the process would otherwise crash it forever — and every run a graceful shutdown
/// interrupted (that was not the run's doing). Runs left `queued` stay queued: the job actors
/// load them. One transaction; repeating it queues nothing twice (`rerun_of` is unique).
pub async fn recover_at_startup(db: &PgPool) -> Result<Recovery, StoreError> {
    let mut tx = db.begin().await?;
    let crashed: Vec<(i64, bool)> = sqlx::query_as(
        "UPDATE job_runs SET status = 'interrupted', finished_at = now(), \
         recover = (rerun_of IS NULL), \
         error = 'interrupted: the instance running it stopped without recording its end' \
         WHERE status = 'running' RETURNING id, rerun_of IS NOT NULL",
    )
    .fetch_all(&mut *tx)
    .await?;
    let reruns: Vec<(i64, i64)> = sqlx::query_as(
        "WITH todo AS ( \
             UPDATE job_runs SET recover = false \
             WHERE recover AND status = 'interrupted' \
             AND NOT EXISTS (SELECT 1 FROM job_runs r WHERE r.rerun_of = job_runs.id) \
             RETURNING id, kind, params, max_attempts) \
         INSERT INTO job_runs (kind, params, trigger, status, max_attempts, rerun_of) \
         SELECT kind, params, 'recovery', 'queued', max_attempts, id FROM todo ORDER BY id \
         RETURNING rerun_of, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    // Marked runs that already had a re-run need nothing more.
    sqlx::query("UPDATE job_runs SET recover = false WHERE recover")
        .execute(&mut *tx)
        .await?;
    for (original, rerun) in &reruns {
        let line = format!("re-run as run {rerun} by start-up recovery");
        sqlx::query("INSERT INTO job_run_logs (run_id, level, message) VALUES ($1, 'warn', $2)")
            .bind(original)
            .bind(&line)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    // In id order, whatever order the UPDATE met the rows in.
    let mut crashed = crashed;
    crashed.sort();
    let mut reruns: Vec<(RunId, RunId)> = reruns
        .into_iter()
        .map(|(a, b)| (RunId(a), RunId(b)))
        .collect();
    reruns.sort();
    Ok(Recovery {
        interrupted: crashed.iter().map(|(id, _)| RunId(*id)).collect(),
        reruns,
        not_rerun: crashed
            .iter()
            .filter(|(_, is_rerun)| *is_rerun)
            .map(|(id, _)| RunId(*id))
            .collect(),
    })
}

/// Marks the runs a graceful shutdown interrupted (at or after `since`) for re-running by the
/// next start-up recovery: accepted work is never lost.
pub async fn mark_for_recovery(db: &PgPool, since: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE job_runs SET recover = true WHERE status = 'interrupted' AND finished_at >= $1",
    )
    .bind(since)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A failed run of a time window, with its re-run if it has one.
#[derive(Debug, Clone, Serialize)]
pub struct FailedRun {
    pub id: RunId,
    pub kind: String,
    pub params: Value,
    pub max_attempts: i32,
    pub rerun: Option<RunId>,
}

/// The failed runs created in `[from, to)`, oldest first, optionally of one kind; re-runs are
/// left out (recovery re-runs a failed run once, not the re-run again).
pub async fn failed_in_window(
    db: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    kind: Option<&str>,
    limit: u32,
) -> Result<Vec<FailedRun>, StoreError> {
    let rows: Vec<(i64, String, Value, i32, Option<i64>)> = sqlx::query_as(
        "SELECT f.id, f.kind, f.params, f.max_attempts, \
                (SELECT r.id FROM job_runs r WHERE r.rerun_of = f.id) \
         FROM job_runs f \
         WHERE f.status = 'failed' AND f.rerun_of IS NULL \
           AND f.created_at >= $1 AND f.created_at < $2 AND ($3::text IS NULL OR f.kind = $3) \
         ORDER BY f.id LIMIT $4",
    )
    .bind(from)
    .bind(to)
    .bind(kind)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, params, max_attempts, rerun)| FailedRun {
            id: RunId(id),
            kind,
            params,
            max_attempts,
            rerun: rerun.map(RunId),
        })
        .collect())
}
