//! The alert history: `GET /alerts?severity=&open=&limit=`.

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
