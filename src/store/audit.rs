//! `audit_log`: who did what to the service, through which channel, with what result. Written
//! for every control action (the HTTP access layer does it for every control route; the
//! Telegram command handler calls [`insert`] too), read by `GET /audit`.

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

/// What `GET /audit` filters on.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    pub actor: Option<&'a str>,
    pub action: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub limit: u32,
}

/// Actions newest first.
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
