//! `audit_log`: who did what to the service, through which channel, with what result. Written
//! for every control action (the HTTP access layer does it for every control route through the
//! [`AuditWriter`]; the Telegram command handler calls [`insert`]), read by `GET /audit`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

use super::StoreError;

/// One control action to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// `http` or `telegram`.
    pub channel: &'static str,
    pub actor: String,
    pub role: Option<&'static str>,
    pub action: String,
    pub target: String,
    pub params: Value,
    /// `ok` or the stable error code.
    pub result: String,
    pub status: Option<u16>,
    pub outcome: Option<Value>,
}

/// One stored action.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub channel: String,
    pub actor: String,
    pub role: Option<String>,
    pub action: String,
    pub target: String,
    pub params: Value,
    pub result: String,
    pub status: Option<i16>,
    pub outcome: Option<Value>,
}

/// PostgreSQL's `jsonb` refuses the NUL character (`\u0000`), which a caller may well send;
/// the record keeps everything else, with U+FFFD in its place.
fn storable(value: &Value) -> Value {
    match value {
        Value::String(s) if s.contains('\0') => Value::String(s.replace('\0', "\u{fffd}")),
        Value::Array(items) => Value::Array(items.iter().map(storable).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.replace('\0', "\u{fffd}"), storable(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub async fn insert(db: &PgPool, e: &AuditEntry) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO audit_log (channel, actor, role, action, target, params, result, status, \
         outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(e.channel)
    .bind(e.actor.replace('\0', "\u{fffd}"))
    .bind(e.role)
    .bind(&e.action)
    .bind(e.target.replace('\0', "\u{fffd}"))
    .bind(storable(&e.params))
    .bind(&e.result)
    .bind(e.status.map(|s| s as i16))
    .bind(e.outcome.as_ref().map(storable))
    .fetch_one(db)
    .await?;
    Ok(id)
}

/// Writes the HTTP layer's audit rows in the background, in order and in batches, so a control
/// request — a refused one in a flood above all — does not wait for its own insert. Nothing is
/// dropped: when the queue is full the caller writes its row itself. [`AuditWriter::flush`]
/// waits until everything handed over so far is written (`GET /audit` and shutdown use it).
#[derive(Clone)]
pub struct AuditWriter {
    tx: tokio::sync::mpsc::Sender<Pending>,
    db: PgPool,
}

enum Pending {
    Entry(AuditEntry),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Rows queued at most, and written per statement at most.
const QUEUE: usize = 8192;
const BATCH: usize = 512;

impl AuditWriter {
    /// Starts the writer task (on the current tokio runtime).
    pub fn spawn(db: PgPool) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel(QUEUE);
        let pool = db.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut flushes = Vec::new();
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let entries: Vec<AuditEntry> = batch
                    .drain(..)
                    .filter_map(|p| match p {
                        Pending::Entry(e) => Some(e),
                        Pending::Flush(done) => {
                            flushes.push(done);
                            None
                        }
                    })
                    .collect();
                if let Err(e) = insert_many(&pool, &entries).await {
                    tracing::error!(error = %e, rows = entries.len(), "could not write the audit log");
                }
                for done in flushes.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        AuditWriter { tx, db }
    }

    /// Hands a row to the writer; writes it here when the queue is full.
    pub async fn record(&self, entry: AuditEntry) {
        use tokio::sync::mpsc::error::TrySendError;
        let entry = match self.tx.try_send(Pending::Entry(entry)) {
            Ok(()) => return,
            Err(
                TrySendError::Full(Pending::Entry(e)) | TrySendError::Closed(Pending::Entry(e)),
            ) => e,
            Err(_) => return,
        };
        if let Err(e) = insert(&self.db, &entry).await {
            tracing::error!(error = %e, action = %entry.action, actor = %entry.actor, "could not write the audit log");
        }
    }

    /// Waits until every row handed over before this call is written.
    pub async fn flush(&self) {
        let (done, written) = tokio::sync::oneshot::channel();
        if self.tx.send(Pending::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// Writes `entries` with one statement, in their order.
async fn insert_many(db: &PgPool, entries: &[AuditEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let channels: Vec<&str> = entries.iter().map(|e| e.channel).collect();
    let actors: Vec<String> = entries
        .iter()
        .map(|e| e.actor.replace('\0', "\u{fffd}"))
        .collect();
    let roles: Vec<Option<&str>> = entries.iter().map(|e| e.role).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    let targets: Vec<String> = entries
        .iter()
        .map(|e| e.target.replace('\0', "\u{fffd}"))
        .collect();
    let params: Vec<String> = entries
        .iter()
        .map(|e| storable(&e.params).to_string())
        .collect();
    let results: Vec<&str> = entries.iter().map(|e| e.result.as_str()).collect();
    let statuses: Vec<Option<i16>> = entries.iter().map(|e| e.status.map(|s| s as i16)).collect();
    let outcomes: Vec<Option<String>> = entries
        .iter()
        .map(|e| e.outcome.as_ref().map(|o| storable(o).to_string()))
        .collect();
    sqlx::query(
        "INSERT INTO audit_log (channel, actor, role, action, target, params, result, status, \
         outcome) \
         SELECT u.channel, u.actor, u.role, u.action, u.target, u.params::jsonb, u.result, \
         u.status, u.outcome::jsonb \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::int2[], $9::text[]) WITH ORDINALITY \
         AS u(channel, actor, role, action, target, params, result, status, outcome, n) \
         ORDER BY u.n",
    )
    .bind(channels)
    .bind(actors)
    .bind(roles)
    .bind(actions)
    .bind(targets)
    .bind(params)
    .bind(results)
    .bind(statuses)
    .bind(outcomes)
    .execute(db)
    .await?;
    Ok(())
}

/// What `GET /audit` filters on.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    pub actor: Option<&'a str>,
    pub action: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub limit: u32,
}

/// Actions newest first.
/// Deletes audit entries written before `before`; how many.
pub async fn prune(db: &PgPool, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

pub async fn list(db: &PgPool, f: &AuditFilter<'_>) -> Result<Vec<AuditRecord>, StoreError> {
    let rows = sqlx::query_as(
        "SELECT id, at, channel, actor, role, action, target, params, result, status, outcome \
         FROM audit_log \
         WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2) \
           AND ($3::timestamptz IS NULL OR at >= $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(f.actor)
    .bind(f.action)
    .bind(f.since)
    .bind(i64::from(f.limit))
    .fetch_all(db)
    .await?;
    Ok(rows)
}
