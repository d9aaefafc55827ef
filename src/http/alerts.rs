//! The alert history, `GET /alerts?severity=&open=&limit=`, and acknowledging an open alert,
//! `POST /alerts/ack`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::alerts::history::{self, AlertRecord};

/// An alert's severity, as the `severity` filter names it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // the document's enum; the handler checks the text (`invalid_severity`)
enum SeverityName {
    Info,
    Warning,
    Critical,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only alerts of this severity.
    #[param(value_type = Option<SeverityName>, inline)]
    severity: Option<String>,
    /// Only groups still firing (`true`) or resolved (`false`).
    open: Option<bool>,
    /// 1..=500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize)]
struct Alerts {
    alerts: Vec<AlertRecord>,
}

/// Alert groups, newest first (`limit` 1–500, default 50).
#[utoipa::path(get, path = "/alerts", operation_id = "list_alerts", tag = "alerts",
    params(ListQuery),
    responses(
        (status = 200, description = "`{\"alerts\": [{key, severity, summary, first_seen, \
            last_seen, count, resolved, delivered, …}]}`", body = Object),
        (status = 400, description = "`invalid_query`, `invalid_severity`, `invalid_limit`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn list(
    state: web::Data<ApiState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    super::error::one_of(
        q.severity.as_deref(),
        "severity",
        &["info", "warning", "critical"],
        "invalid_severity",
    )?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1..=500",
        ));
    }
    let alerts = history::list(&state.db, q.severity.as_deref(), q.open, limit).await?;
    Ok(ok(&Alerts { alerts }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    key: String,
}

/// The JSON schema of the acknowledgement's body.
pub fn ack_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "required": ["key"],
        "properties": {"key": {
            "type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]+$",
            "description": "The alert's `key`, as `GET /alerts` lists it",
        }},
        "additionalProperties": false,
    })
}

/// Longest alert key accepted.
const MAX_KEY: usize = 200;

/// Acknowledges an open alert: no more reminders of it until it resolves (as the bot's `/ack`).
#[utoipa::path(post, path = "/alerts/ack", operation_id = "ack_alert", tag = "alerts",
    responses(
        (status = 200, description = "`{\"key\", \"acked\": true}`", body = Object),
        (status = 400, description = "`invalid_json`: no key, an empty or overlong one, control \
            characters, other fields", body = ErrorBody),
        (status = 404, description = "`alert_not_found`: no open alert has this key", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body not sent as \
            `application/json`", body = ErrorBody),
        (status = 503, description = "`actor_unavailable`: the alerting actor does not answer", body = ErrorBody)))]
pub async fn ack(
    state: web::Data<ApiState>,
    req: actix_web::HttpRequest,
    body: bytes::Bytes,
) -> Result<HttpResponse, ApiError> {
    super::require_json(&req, &body)?;
    let b: AckBody = super::json_body(&body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("acknowledgement: {e}")))?;
    if b.key.is_empty() || b.key.chars().count() > MAX_KEY || b.key.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_json",
            format!("key is 1..={MAX_KEY} characters, none a control character"),
        ));
    }
    match state.alerts.ack(&b.key).await {
        Some(true) => Ok(ok(&serde_json::json!({"key": b.key, "acked": true}))),
        Some(false) => Err(ApiError::not_found(
            "alert_not_found",
            format!("no open alert has the key `{}`", b.key),
        )),
        None => Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "actor_unavailable",
            "the alerting actor does not answer",
        )
        .retry_after(2)),
    }
}
