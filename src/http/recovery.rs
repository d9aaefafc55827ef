//! Recovery requests: re-running the failed runs of a time window, and checking (and repairing)
//! the cache against PostgreSQL.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::cache::consistency;
use crate::jobs::{Delivery, RequestError};
use crate::run::{RunId, Trigger};
use crate::store;
use crate::store::runs::RunOrigin;

/// Most failed runs one request re-runs.
const MAX_RUNS: u32 = 1000;

/// The JSON schema of `POST /recovery/failed-jobs`' body, for the OpenAPI document.
pub(super) fn failed_jobs_schema(kinds: &[String]) -> serde_json::Value {
    let mut kind: Vec<serde_json::Value> = kinds.iter().map(|k| k.as_str().into()).collect();
    kind.push(serde_json::Value::Null);
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["from"],
        "properties": {
            "from": {"type": "string", "format": "date-time"},
            "to": {"type": ["string", "null"], "format": "date-time",
                "description": "after `from`; default now"},
            "kind": {"enum": kind},
            "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_RUNS},
        },
    })
}

/// The JSON schema of `POST /recovery/consistency`' body, for the OpenAPI document.
pub(super) fn consistency_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {"repair": {"type": "boolean"}},
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedJobsRequest {
    /// Runs created at or after this (RFC 3339)...
    from: DateTime<Utc>,
    /// ...and before this (default: now).
    to: Option<DateTime<Utc>>,
    /// Only runs of this kind.
    kind: Option<String>,
    /// At most this many runs, oldest first (1..=1000, default 100).
    limit: Option<u32>,
}

#[derive(Serialize)]
struct FailedJobsReport {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    runs: Vec<Rerun>,
}

#[derive(Serialize)]
struct Rerun {
    run_id: RunId,
    kind: String,
    /// `requeued` (re-run now), `already_rerun` (an earlier request did it) or `not_requeued`.
    outcome: &'static str,
    rerun_id: Option<RunId>,
    /// Why it was not requeued.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Re-runs each failed run of the window once, with trigger `recovery`. Idempotent: a run that
/// already has a re-run is reported with it and not run again (the store allows one re-run per
/// run), and re-runs themselves are not re-run.
#[utoipa::path(post, path = "/recovery/failed-jobs", tag = "recovery",
    request_body(content = Object, content_type = "application/json",
        description = "`{\"from\": RFC 3339, \"to\"?: RFC 3339, \"kind\"?: …, \"limit\"?: 1..=1000}`"),
    responses(
        (status = 200, description = "`{\"from\", \"to\", \"runs\": [{\"run_id\", \"kind\", \
            \"outcome\", \"rerun_id\", \"reason\"?}]}`", body = Object),
        (status = 400, description = "`invalid_json`, `invalid_params`, `invalid_limit`", body = ErrorBody),
        (status = 404, description = "`unknown_kind`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body not sent as \
            `application/json`", body = ErrorBody),
        (status = 503, description = "`not_leader` (a follower: the leader is named), \
            `database_unavailable`", body = ErrorBody)))]
pub async fn failed_jobs(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    super::require_json(&req, &body)?;
    let req: FailedJobsRequest = super::json_body(&body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("body: {e}")))?;
    let to = req.to.unwrap_or_else(Utc::now);
    if req.from >= to {
        return Err(ApiError::bad_request(
            "invalid_params",
            "`from` must be before `to`",
        ));
    }
    let limit = req.limit.unwrap_or(100);
    if !(1..=MAX_RUNS).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            format!("limit must be 1..={MAX_RUNS}"),
        ));
    }
    if let Some(kind) = &req.kind
        && state.catalog.get(kind).is_none()
    {
        return Err(ApiError::not_found(
            "unknown_kind",
            format!("no job kind is named `{kind}`"),
        ));
    }
    super::require_leader(&state)?;
    let failed =
        store::runs::failed_in_window(&state.db, req.from, to, req.kind.as_deref(), limit).await?;
    let wait = Duration::from_millis(state.settings.http.enqueue_timeout_ms);
    let mut runs = Vec::with_capacity(failed.len());
    for run in failed {
        let mut report = Rerun {
            run_id: run.id,
            kind: run.kind.clone(),
            outcome: "already_rerun",
            rerun_id: run.rerun,
            reason: None,
        };
        if run.rerun.is_none() {
            match state.catalog.get(&run.kind) {
                None => {
                    report.outcome = "not_requeued";
                    report.reason = Some(format!("no job kind is named `{}` any more", run.kind));
                }
                Some(spec) => {
                    let origin = RunOrigin {
                        scheduled_for: None,
                        rerun_of: Some(run.id),
                    };
                    let requested = state
                        .directory
                        .request_raw(
                            spec.kind,
                            run.params,
                            (Trigger::Recovery, origin),
                            Delivery::WaitUpTo(wait),
                            wait,
                        )
                        .await;
                    match requested {
                        Ok(e) => {
                            report.outcome = if e.coalesced {
                                "already_rerun"
                            } else {
                                "requeued"
                            };
                            report.rerun_id = Some(e.run_id);
                        }
                        Err(
                            e @ (RequestError::MailboxFull { .. }
                            | RequestError::Unavailable { .. }
                            | RequestError::Busy { .. }),
                        ) => {
                            report.outcome = "not_requeued";
                            report.reason = Some(e.to_string());
                        }
                    }
                }
            }
        }
        runs.push(report);
    }
    Ok(ok(&FailedJobsReport {
        from: req.from,
        to,
        runs,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyRequest {
    /// Rewrite differing keys from PostgreSQL (default: report only).
    #[serde(default)]
    repair: bool,
}

/// Compares every cached dataset with PostgreSQL; with `{"repair": true}` fixes the cache.
/// Any instance may run it: it reads Redis and PostgreSQL and writes through the cache.
#[utoipa::path(post, path = "/recovery/consistency", tag = "recovery",
    request_body(content = Object, content_type = "application/json",
        description = "`{\"repair\"?: bool}` (optional)"),
    responses(
        (status = 200, description = "`{\"checked\", \"consistent\", \"differences\", \
            \"skipped\", \"repair\"}`", body = Object),
        (status = 400, description = "`invalid_json`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body not sent as \
            `application/json`", body = ErrorBody),
        (status = 503, description = "`cache_unavailable`", body = ErrorBody)))]
pub async fn consistency(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    super::require_json(&req, &body)?;
    let req: ConsistencyRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ConsistencyRequest::default()
    } else {
        super::json_body(&body)
            .map_err(|e| ApiError::bad_request("invalid_json", format!("body: {e}")))?
    };
    let report = consistency::check(&state.cache, req.repair)
        .await
        .map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "cache_unavailable",
                format!("the consistency check could not run: {e}"),
            )
            .retry_after(state.settings.http.retry_after_secs)
        })?;
    Ok(ok(&report))
}
