//! Job runs: listing, one run with its log, and manual triggers.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::access::Authorized;
use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::jobs::{Cancel, Delivery, RequestError};
use crate::run::{RunId, RunStatus, Trigger};
use crate::store::runs::RunOrigin;
use crate::store::{self, runs::RunLogLine, runs::RunRecord};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only runs of this job kind.
    kind: Option<String>,
    /// Only runs in this status.
    #[param(value_type = Option<RunStatus>)]
    status: Option<String>,
    /// 1..=500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Runs {
    runs: Vec<RunRecord>,
}

/// Runs, newest first.
#[utoipa::path(get, path = "/jobs", operation_id = "list_runs", tag = "jobs", params(ListQuery),
    responses(
        (status = 200, description = "Runs, newest first", body = Runs),
        (status = 400, description = "`invalid_query`, `invalid_status`, `unknown_kind`, \
            `invalid_limit`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn list(
    state: web::Data<ApiState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(str::parse::<RunStatus>)
        .transpose()
        .map_err(|e| ApiError::bad_request("invalid_status", format!("status: {e}")))?;
    if let Some(kind) = q.kind.as_deref().filter(|k| state.catalog.get(k).is_none()) {
        return Err(ApiError::bad_request(
            "unknown_kind",
            format!("no job kind is named `{kind}`"),
        ));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1..=500",
        ));
    }
    let runs = store::runs::list(&state.db, q.kind.as_deref(), status, limit).await?;
    Ok(ok(&Runs { runs }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    run: RunRecord,
    logs: Vec<RunLogLine>,
    /// For a run whose bulk work every instance shares (`entries` picks and results, `finalize`): its units by state
    /// and each instance's share; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    units: Option<crate::jobs::work::WorkShare>,
}

/// One run with its log lines.
#[utoipa::path(get, path = "/jobs/{id}", operation_id = "get_run", tag = "jobs",
    params(("id" = i64, Path, minimum = 1, description = "Run id")),
    responses(
        (status = 200, description = "The run and its log", body = RunDetail),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 404, description = "`run_not_found`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn get(state: web::Data<ApiState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = RunId(super::path_id(id.into_inner(), "a run id")?);
    let run = store::runs::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("run_not_found", format!("no run has id {id}")))?;
    let logs = store::runs::logs(&state.db, id).await?;
    let units = crate::jobs::work::share(&state.db, id).await?;
    Ok(ok(&RunDetail { run, logs, units }))
}

/// The JSON schema of a trigger's body, for the OpenAPI document: every kind's parameters in
/// one object (a kind refuses the others' with 400 `invalid_params`; see the README's job
/// kinds), and nothing else.
pub(super) fn trigger_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "event": {"type": ["integer", "null"], "minimum": 0, "maximum": u16::MAX,
                "description": "fixtures (optional), live (optional), entries (picks, results), \
                    finalize, tournament-results: a gameweek (from 1, except fixtures)"},
            "stage": {"type": ["string", "null"], "enum": ["info", "picks", "results", null],
                "description": "entries"},
            "older_than_days": {"type": ["integer", "null"], "minimum": 1, "maximum": u32::MAX,
                "description": "prune"},
            "tournament": {"type": ["integer", "null"], "minimum": i64::MIN, "maximum": i64::MAX,
                "description": "tournament-results (optional)"},
        },
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    run_id: RunId,
    kind: String,
    coalesced: bool,
}

/// Queues a run of `kind`. The body, if any, is the kind's parameters as a JSON object.
/// Manual runs are served before scheduled ones.
#[utoipa::path(post, path = "/jobs/{kind}/trigger", tag = "jobs",
    params(("kind" = String, Path, description = "Job kind, e.g. `prune`")),
    request_body(content = Object, description = "The kind's parameters (optional)",
        content_type = "application/json"),
    responses(
        (status = 202, description = "Queued (or coalesced with an identical queued or running \
            run)", body = Accepted),
        (status = 400, description = "`invalid_json`, `invalid_params`, `invalid_body`", body = ErrorBody),
        (status = 404, description = "`unknown_kind`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body not sent as \
            `application/json`", body = ErrorBody),
        (status = 409, description = "`already_running`: an exclusive kind (`jobs.exclusive`) \
            has a run queued or running; `run_id` names it", body = ErrorBody),
        (status = 429, description = "`rate_limited` (`auth.trigger_limit` per kind and key) or \
            `mailbox_full`; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`actor_unavailable`, `not_leader` (a follower; the leader is named)", body = ErrorBody)))]
pub async fn trigger(
    state: web::Data<ApiState>,
    kind: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
    caller: Authorized,
) -> Result<HttpResponse, ApiError> {
    let spec = state.catalog.get(&kind).ok_or_else(|| {
        ApiError::not_found("unknown_kind", format!("no job kind is named `{kind}`"))
    })?;
    caller.require_kind(spec.kind.as_str())?;
    super::require_json(&req, &body)?;
    let raw: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        super::json_body(&body)
            .map_err(|e| ApiError::bad_request("invalid_json", format!("body: {e}")))?
    };
    if !raw.is_object() {
        return Err(ApiError::bad_request(
            "invalid_params",
            "parameters must be a JSON object",
        ));
    }
    let params = spec
        .parse_params(raw)
        .map_err(|e| ApiError::bad_request("invalid_params", format!("{kind}: {e}")))?;
    super::require_leader(&state)?;
    // Counted once the request is valid: a typo does not use up the allowance.
    if let Err(wait) = state.access.count_trigger(&caller.0, spec.kind.as_str()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "key `{}` has used up its manual triggers of {kind} (auth.trigger_limit)",
                caller.0.name
            ),
        )
        .retry_after(wait.as_secs_f64().ceil() as u64));
    }
    let http = &state.settings.http;
    let result = state
        .directory
        .request_raw(
            spec.kind,
            params,
            (Trigger::Manual, RunOrigin::default()),
            Delivery::Immediate,
            Duration::from_millis(http.enqueue_timeout_ms),
        )
        .await;
    match result {
        Ok(e) => Ok(HttpResponse::Accepted().json(Accepted {
            run_id: e.run_id,
            kind: spec.kind.to_string(),
            coalesced: e.coalesced,
        })),
        Err(e @ RequestError::MailboxFull { .. }) => {
            Err(
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "mailbox_full", e.to_string())
                    .retry_after(http.retry_after_secs),
            )
        }
        Err(e @ RequestError::Busy { run_id, .. }) => {
            Err(ApiError::conflict("already_running", e.to_string()).with_run(run_id))
        }
        Err(e @ RequestError::Unavailable { .. }) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "actor_unavailable",
            e.to_string(),
        )
        .retry_after(http.retry_after_secs)),
    }
}

/// Cancels a queued or running run: 200 with the run as recorded, 409 if it has already ended.
#[utoipa::path(post, path = "/jobs/{id}/cancel", tag = "jobs",
    params(("id" = i64, Path, minimum = 1, description = "Run id")),
    responses(
        (status = 200, description = "The run, now `cancelled`", body = RunRecord),
        (status = 400, description = "`invalid_path`, `invalid_body`", body = ErrorBody),
        (status = 404, description = "`run_not_found`", body = ErrorBody),
        (status = 409, description = "`run_finished`", body = ErrorBody),
        (status = 503, description = "`actor_unavailable`, `database_unavailable`, `not_leader`", body = ErrorBody)))]
pub async fn cancel(
    state: web::Data<ApiState>,
    id: web::Path<i64>,
    caller: Authorized,
) -> Result<HttpResponse, ApiError> {
    let id = RunId(super::path_id(id.into_inner(), "a run id")?);
    let run = store::runs::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("run_not_found", format!("no run has id {id}")))?;
    caller.require_kind(&run.kind)?;
    let finished = || ApiError::conflict("run_finished", format!("run {id} has already ended"));
    if run.status.is_final() {
        return Err(finished());
    }
    // Only the leader's actor holds the run; marking it here could race with its start.
    super::require_leader(&state)?;
    let actor = state
        .catalog
        .get(&run.kind)
        .and_then(|spec| state.directory.get(spec.kind));
    match actor {
        Some(handle) => handle
            .cancel
            .send(Cancel { run: id })
            .timeout(Duration::from_secs(5))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "actor_unavailable",
                    format!("the {} actor did not answer: {e}", run.kind),
                )
                .retry_after(2)
            })?
            .map_err(|_| finished())?,
        // Its actor is down (restarting or failed): a queued run is simply marked, and the next
        // incarnation, which loads only queued runs, will not see it.
        None => {
            let reason = Some("cancelled by an operator");
            store::runs::finish(&state.db, id, RunStatus::Cancelled, 0, reason).await?;
        }
    }
    let run = store::runs::get(&state.db, id)
        .await?
        .ok_or_else(finished)?;
    Ok(ok(&run))
}
