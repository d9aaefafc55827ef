//! `job_runs` and `job_run_logs`: every run with its status, attempts and progress, and the log
//! lines it wrote.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use super::StoreError;
use crate::jobs::{JobKind, LogLevel, RunId, RunStatus, Trigger};

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
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
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
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
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
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
    }
}

const COLUMNS: &str = "id, kind, params, trigger, status, attempt, max_attempts, stalls, progress, \
                       error, created_at, started_at, finished_at";

fn records(rows: Vec<RunRow>) -> Result<Vec<RunRecord>, StoreError> {
    rows.into_iter().map(RunRecord::try_from).collect()
}

/// Records a new queued run and returns its id.
pub async fn insert_queued(
    db: &PgPool,
    kind: JobKind,
    params: &Value,
    trigger: Trigger,
    max_attempts: u32,
) -> Result<RunId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO job_runs (kind, params, trigger, status, max_attempts) \
         VALUES ($1, $2, $3, 'queued', $4) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(params)
    .bind(trigger.as_str())
    .bind(max_attempts as i32)
    .fetch_one(db)
    .await?;
    Ok(RunId(id))
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
