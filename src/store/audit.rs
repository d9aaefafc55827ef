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

/// Largest JSON document (`params`, `outcome`) one row keeps, serialized; a larger one is kept
/// as its beginning with a marker ([`bounded`]).
pub const MAX_JSON_BYTES: usize = 16 * 1024;
/// Deepest nesting kept; deeper values become a marker. Well below serde_json's recursion limit
/// of 128, which a read of the row would otherwise hit (the row wraps the caller's body).
pub const MAX_DEPTH: usize = 32;
/// Longest text column (`target`, `actor`) kept, in characters.
const MAX_TEXT_CHARS: usize = 1000;

/// What a row keeps of a caller's JSON: everything that reads back as it was written, and a
/// marked stand-in for what would not.
///
/// - PostgreSQL's `jsonb` refuses the NUL character (`\u0000`): U+FFFD takes its place.
/// - `jsonb` keeps numbers as `numeric` and prints them in full (`1.7976931348623157e308` comes
///   back as 309 digits), which serde_json may then refuse as out of range, breaking every read
///   of the row: a float far from everyday magnitudes is kept as its text.
/// - Nesting deeper than [`MAX_DEPTH`] becomes `"(nested too deep)"`.
/// - A document longer than [`MAX_JSON_BYTES`] becomes `{"truncated": true, "bytes": N,
///   "text": <its first 1000 characters>}`.
pub fn bounded(value: &Value) -> Value {
    let value = storable(value, 0);
    let text = value.to_string();
    if text.len() <= MAX_JSON_BYTES {
        return value;
    }
    serde_json::json!({
        "truncated": true,
        "bytes": text.len(),
        "text": text.chars().take(MAX_TEXT_CHARS).collect::<String>(),
    })
}

fn storable(value: &Value, depth: usize) -> Value {
    if depth >= MAX_DEPTH && (value.is_array() || value.is_object()) {
        return Value::String("(nested too deep)".into());
    }
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Number(n) if !round_trips(n) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(|v| storable(v, depth + 1)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (text(k), storable(v, depth + 1)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether `n` reads back from `jsonb` as the same number: integers do, and floats of everyday
/// magnitude (`numeric` prints the others with hundreds of digits).
fn round_trips(n: &serde_json::Number) -> bool {
    match n.as_f64() {
        _ if n.is_i64() || n.is_u64() => true,
        Some(f) => f == 0.0 || (1e-12..=1e15).contains(&f.abs()),
        None => false,
    }
}

/// Text PostgreSQL accepts: no NUL.
fn text(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// A text column's value: no NUL, at most [`MAX_TEXT_CHARS`] characters.
fn column(s: &str) -> String {
    let s = text(s);
    match s.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

pub async fn insert(db: &PgPool, e: &AuditEntry) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO audit_log (channel, actor, role, action, target, params, result, status, \
         outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(e.channel)
    .bind(column(&e.actor))
    .bind(e.role)
    .bind(&e.action)
    .bind(column(&e.target))
    .bind(bounded(&e.params))
    .bind(&e.result)
    .bind(e.status.map(|s| s as i16))
    .bind(e.outcome.as_ref().map(bounded))
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
    let actors: Vec<String> = entries.iter().map(|e| column(&e.actor)).collect();
    let roles: Vec<Option<&str>> = entries.iter().map(|e| e.role).collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    let targets: Vec<String> = entries.iter().map(|e| column(&e.target)).collect();
    let params: Vec<String> = entries
        .iter()
        .map(|e| bounded(&e.params).to_string())
        .collect();
    let results: Vec<&str> = entries.iter().map(|e| e.result.as_str()).collect();
    let statuses: Vec<Option<i16>> = entries.iter().map(|e| e.status.map(|s| s as i16)).collect();
    let outcomes: Vec<Option<String>> = entries
        .iter()
        .map(|e| e.outcome.as_ref().map(|o| bounded(o).to_string()))
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

/// A row as read: its JSON columns as text, decoded here so one that does not decode cannot
/// fail the whole read.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: DateTime<Utc>,
    channel: String,
    actor: String,
    role: Option<String>,
    action: String,
    target: String,
    params: String,
    result: String,
    status: Option<i16>,
    outcome: Option<String>,
}

/// `text` as JSON; what does not decode (a row written before values were [`bounded`]) is
/// shown as `{"unreadable": <why>, "text": <its beginning>}`.
fn readable(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| {
        serde_json::json!({
            "unreadable": e.to_string(),
            "text": text.chars().take(MAX_TEXT_CHARS).collect::<String>(),
        })
    })
}

pub async fn list(db: &PgPool, f: &AuditFilter<'_>) -> Result<Vec<AuditRecord>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, channel, actor, role, action, target, params::text AS params, result, \
         status, outcome::text AS outcome \
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
    Ok(rows
        .into_iter()
        .map(|r| AuditRecord {
            id: r.id,
            at: r.at,
            channel: r.channel,
            actor: r.actor,
            role: r.role,
            action: r.action,
            target: r.target,
            params: readable(&r.params),
            result: r.result,
            status: r.status,
            outcome: r.outcome.as_deref().map(readable),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_that_would_not_read_back_are_kept_as_marked_text() {
        let huge: Value = serde_json::from_str(r#"{"n": 1.7976931348623157e308}"#).unwrap();
        assert_eq!(bounded(&huge), json!({"n": "1.7976931348623157e+308"}));
        let tiny: Value =
            serde_json::from_str(r#"[5e-324, 0.5, 0, -3, 18446744073709551615]"#).unwrap();
        assert_eq!(
            bounded(&tiny),
            json!(["5e-324", 0.5, 0, -3, 18446744073709551615u64])
        );
        assert_eq!(
            bounded(&json!({"a\u{0}": "b\u{0}"})),
            json!({"a\u{fffd}": "b\u{fffd}"})
        );
        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!([deep]);
        }
        let kept = bounded(&deep).to_string();
        assert!(kept.contains("(nested too deep)"));
        assert!(serde_json::from_str::<Value>(&format!("{{\"body\": {kept}}}")).is_ok());
        let long = json!({"text": "x".repeat(MAX_JSON_BYTES)});
        let kept = bounded(&long);
        assert_eq!(kept["truncated"], true);
        assert!(kept.to_string().len() < 2 * MAX_TEXT_CHARS);
    }

    #[test]
    fn a_stored_value_that_does_not_decode_is_shown_not_failed() {
        let digits = format!("{{\"n\": 1{}}}", "0".repeat(400));
        let shown = readable(&digits);
        assert!(shown["unreadable"].is_string(), "{shown}");
        assert!(shown["text"].as_str().unwrap().starts_with("{\"n\": 1000"));
        assert_eq!(readable(r#"{"a": 1}"#), json!({"a": 1}));
    }
}
