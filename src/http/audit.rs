//! `GET /audit`: the audit log of control actions, newest first.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::store::audit::{self, AuditFilter, AuditRecord};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only actions of this caller (a key's name, `anonymous`, `chat:<id>`).
    #[param(pattern = "^[^\\u0000]*$")]
    actor: Option<String>,
    /// Only this action (an operation id: `trigger`, `cancel`, `pause`, `resume`, `restart`, …).
    #[param(pattern = "^[^\\u0000]*$")]
    action: Option<String>,
    /// Only actions at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Actions {
    actions: Vec<AuditRecord>,
}

/// Every control action (HTTP or Telegram), allowed or refused: who, what, parameters, result,
/// when.
#[utoipa::path(get, path = "/audit", operation_id = "list_audit", tag = "operations", params(AuditQuery),
    responses(
        (status = 200, description = "Actions, newest first", body = Actions),
        (status = 400, description = "`invalid_query`, `invalid_limit`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn list(
    state: web::Data<ApiState>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    ApiError::check_text("actor", q.actor.as_deref())?;
    ApiError::check_text("action", q.action.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1..=1000",
        ));
    }
    let filter = AuditFilter {
        actor: q.actor.as_deref(),
        action: q.action.as_deref(),
        since: q.since,
        limit,
    };
    // Read your writes: what was handed to the writer is in the table before it is read.
    state.audit.flush().await;
    let actions = audit::list(&state.db, &filter).await?;
    Ok(ok(&Actions { actions }))
}
