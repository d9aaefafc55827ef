//! The alert history: `GET /alerts?severity=&open=&limit=`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::alerts::history::{self, AlertRecord};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    severity: Option<String>,
    /// Only groups still open (`true`) or only closed ones (`false`).
    open: Option<bool>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct Alerts {
    alerts: Vec<AlertRecord>,
}

/// Alert groups, newest first (`limit` 1–500, default 50).
#[utoipa::path(get, path = "/alerts", operation_id = "list_alerts", tag = "alerts",
    params(
        ("severity" = Option<String>, Query, description = "`info`, `warning` or `critical`"),
        ("open" = Option<bool>, Query, description = "Only groups still firing (true) or resolved (false)"),
        ("limit" = Option<u32>, Query, description = "1–500, default 50")),
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
