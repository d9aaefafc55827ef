//! The alert history in PostgreSQL (`alerts`): one row per group, written in order by one
//! background writer so the alerting actor never waits for the database. The writer's queue is
//! bounded (`alerts.history_queue`); a write that finds it full is dropped and logged (the alert
//! itself is still delivered).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::rules::{GroupId, HistoryOp};
use crate::store::StoreError;

/// Spawns the writer; it ends when every sender is dropped.
pub fn spawn_writer(db: PgPool, capacity: usize) -> mpsc::Sender<HistoryOp> {
    let (tx, mut rx) = mpsc::channel::<HistoryOp>(capacity);
    tokio::spawn(async move {
        // Row ids of this incarnation's groups.
        let mut rows: HashMap<GroupId, i64> = HashMap::new();
        while let Some(op) = rx.recv().await {
            if let Err(e) = apply(&db, &mut rows, op).await {
                tracing::warn!(error = %e, "could not write the alert history");
            }
        }
    });
    tx
}

async fn apply(
    db: &PgPool,
    rows: &mut HashMap<GroupId, i64>,
    op: HistoryOp,
) -> Result<(), sqlx::Error> {
    match op {
        HistoryOp::Open {
            group,
            key,
            source,
            severity,
            summary,
            detail,
            at,
        } => {
            // A group left open by an earlier incarnation of the actor is over: it cannot be
            // resolved by this one.
            sqlx::query("UPDATE alerts SET closed = true WHERE key = $1 AND NOT closed")
                .bind(&key)
                .execute(db)
                .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO alerts (key, source, severity, summary, detail, first_seen, last_seen)
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(&key)
            .bind(source.as_str())
            .bind(severity.as_str())
            .bind(&summary)
            .bind(&detail)
            .bind(at)
            .fetch_one(db)
            .await?;
            rows.insert(group, id);
        }
        HistoryOp::Seen {
            group,
            summary,
            detail,
            count,
            at,
        } => {
            let Some(id) = rows.get(&group) else {
                return Ok(());
            };
            sqlx::query(
                "UPDATE alerts SET summary = $2, detail = $3, count = $4, last_seen = $5
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&summary)
            .bind(&detail)
            .bind(i64::try_from(count).unwrap_or(i64::MAX))
            .bind(at)
            .execute(db)
            .await?;
        }
        HistoryOp::Acked { group } => {
            if let Some(id) = rows.get(&group) {
                sqlx::query("UPDATE alerts SET acked = true WHERE id = $1")
                    .bind(id)
                    .execute(db)
                    .await?;
            }
        }
        HistoryOp::Closed {
            group,
            resolved,
            at,
        } => {
            if let Some(id) = rows.get(&group) {
                sqlx::query(
                    "UPDATE alerts SET closed = true,
                        resolved_at = CASE WHEN $2 THEN $3 ELSE NULL END WHERE id = $1",
                )
                .bind(id)
                .bind(resolved)
                .bind(at)
                .execute(db)
                .await?;
            }
        }
        HistoryOp::Delivery { group, delivered } => {
            if let Some(id) = rows.get(&group) {
                let sql = if delivered {
                    "UPDATE alerts SET delivered = true WHERE id = $1"
                } else {
                    "UPDATE alerts SET undelivered = undelivered + 1 WHERE id = $1"
                };
                sqlx::query(sql).bind(id).execute(db).await?;
            }
        }
    }
    Ok(())
}

/// One alert group as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AlertRecord {
    pub id: i64,
    pub key: String,
    pub source: String,
    pub severity: String,
    pub summary: String,
    pub detail: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub count: i64,
    pub resolved: bool,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed: bool,
    pub acked: bool,
    pub delivered: bool,
    pub undelivered: i32,
}

/// Alert groups, newest first; `open` keeps only those still firing (or only closed ones).
/// Deletes closed alert groups last seen before `before` (a group still open is kept however
/// old); how many.
pub async fn prune(db: &PgPool, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM alerts WHERE closed AND last_seen < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

pub async fn list(
    db: &PgPool,
    severity: Option<&str>,
    open: Option<bool>,
    limit: u32,
) -> Result<Vec<AlertRecord>, StoreError> {
    Ok(sqlx::query_as::<_, AlertRecord>(
        "SELECT id, key, source, severity, summary, detail, first_seen, last_seen, count,
                resolved_at IS NOT NULL AS resolved, resolved_at, closed, acked, delivered,
                undelivered
         FROM alerts
         WHERE ($1::text IS NULL OR severity = $1) AND ($2::bool IS NULL OR closed = NOT $2)
         ORDER BY last_seen DESC, id DESC LIMIT $3",
    )
    .bind(severity)
    .bind(open)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?)
}
