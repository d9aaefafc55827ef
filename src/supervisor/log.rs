//! `supervision_events`: the durable supervision log behind `GET /supervision`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::SupervisionEvent;
use crate::store::StoreError;

/// One stored event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EventRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub parent: Option<String>,
    pub event: String,
    pub detail: Option<String>,
    pub backoff_ms: Option<i64>,
    pub restarts: i32,
}

pub async fn insert(db: &PgPool, e: &SupervisionEvent) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO supervision_events (at, actor, parent, event, detail, backoff_ms, restarts) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.at)
    .bind(&e.actor)
    .bind(e.parent.as_deref())
    .bind(e.kind.as_str())
    .bind(e.detail.as_deref())
    .bind(e.backoff.map(|d| d.as_millis() as i64))
    .bind(e.restarts as i32)
    .execute(db)
    .await?;
    Ok(())
}

/// Events newest first, optionally of one actor and since a time.
pub async fn list(
    db: &PgPool,
    actor: Option<&str>,
    since: Option<DateTime<Utc>>,
    limit: u32,
) -> Result<Vec<EventRecord>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, parent, event, detail, backoff_ms, restarts \
         FROM supervision_events \
         WHERE ($1::text IS NULL OR actor = $1) AND ($2::timestamptz IS NULL OR at >= $2) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(actor)
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?)
}

/// Deletes events older than `before`.
pub async fn prune(db: &PgPool, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM supervision_events WHERE at < $1")
        .bind(before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
