//! The actor tree, operator control of actors, and the supervision log.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::Authorized;
use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::jobs::{GetStatus, JobStatus};
use crate::leader::LeaderStatus;
use crate::supervisor::{ActorView, Control, RestartChild};

/// How long an operator's request waits for the actor or supervisor to answer.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Serialize, utoipa::ToSchema)]
pub struct Actors {
    /// This instance, whether it leads, and who does (followers keep `jobs`, its job actors
    /// and `scheduler` in `standby`).
    leadership: LeaderStatus,
    actors: Vec<ActorView>,
}

/// The supervision tree.
#[utoipa::path(get, path = "/actors", operation_id = "list_actors", tag = "actors",
    responses((status = 200, description = "Every actor of the tree", body = Actors)))]
pub async fn list(state: web::Data<ApiState>) -> HttpResponse {
    ok(&Actors {
        leadership: state.leadership.status(),
        actors: state.registry.snapshot(),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActorDetail {
    #[serde(flatten)]
    view: ActorView,
    /// For a job actor: what it holds right now, asked of the actor itself.
    status: Option<JobStatus>,
}

/// One actor; a job actor is asked for its live status (it answers even mid-run).
#[utoipa::path(get, path = "/actors/{name}", operation_id = "get_actor", tag = "actors",
    params(("name" = String, Path, description = "Actor name, e.g. `job:prune`, `scheduler`")),
    responses(
        (status = 200, description = "The actor", body = ActorDetail),
        (status = 404, description = "`unknown_actor`", body = ErrorBody)))]
pub async fn get(
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state.registry.view(&name).ok_or_else(|| {
        ApiError::not_found("unknown_actor", format!("no actor is named `{name}`"))
    })?;
    let addr = name
        .strip_prefix("job:")
        .and_then(|kind| state.catalog.get(kind))
        .and_then(|spec| state.directory.get(spec.kind));
    let status = match addr {
        Some(handle) => handle
            .status
            .send(GetStatus)
            .timeout(CONTROL_TIMEOUT)
            .await
            .ok(),
        None => None,
    };
    Ok(ok(&ActorDetail { view, status }))
}

fn known(state: &ApiState, name: &str) -> Result<(), ApiError> {
    if state.registry.contains(name) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "unknown_actor",
            format!("no actor is named `{name}`"),
        ))
    }
}

async fn control(state: &ApiState, name: &str, command: Control) -> Result<HttpResponse, ApiError> {
    known(state, name)?;
    if super::leader_only_actor(name) {
        super::require_leader(state)?;
    }
    let recipient = state.registry.control(name).ok_or_else(|| {
        ApiError::conflict(
            "not_controllable",
            format!("`{name}` cannot be paused or resumed (it is not running, or not a worker)"),
        )
    })?;
    recipient
        .send(command)
        .timeout(CONTROL_TIMEOUT)
        .await
        .map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "actor_unavailable",
                format!("`{name}` did not answer: {e}"),
            )
            .retry_after(2)
        })?
        .map_err(|e| ApiError::conflict("control_refused", e))?;
    Ok(ok(&state.registry.view(name)))
}

/// An operator may steer the job actors of its kinds; everything else is an admin's.
fn require_actor(caller: &Authorized, name: &str) -> Result<(), ApiError> {
    match name.strip_prefix("job:") {
        Some(kind) => caller.require_kind(kind),
        None if caller.0.role == crate::auth::Role::Admin => Ok(()),
        None => Err(ApiError::forbidden(format!(
            "only an admin may pause or resume `{name}`"
        ))),
    }
}

/// Finish the current run, take no more.
#[utoipa::path(post, path = "/actors/{name}/pause", tag = "actors",
    params(("name" = String, Path,
        description = "`job:<kind>` (admins, or operators of the kind) or `scheduler` (admins)")),
    responses(
        (status = 200, description = "The actor, now paused (its current run finishes)", body = ActorView),
        (status = 404, description = "`unknown_actor`", body = ErrorBody),
        (status = 409, description = "`not_controllable` (not running, or a supervisor), \
            `control_refused`", body = ErrorBody),
        (status = 503, description = "`actor_unavailable`, `not_leader`", body = ErrorBody)))]
pub async fn pause(
    state: web::Data<ApiState>,
    name: web::Path<String>,
    caller: Authorized,
) -> Result<HttpResponse, ApiError> {
    require_actor(&caller, &name)?;
    control(&state, &name, Control::Pause).await
}

/// Take runs again.
#[utoipa::path(post, path = "/actors/{name}/resume", tag = "actors",
    params(("name" = String, Path,
        description = "`job:<kind>` (admins, or operators of the kind) or `scheduler` (admins)")),
    responses(
        (status = 200, description = "The actor, taking runs again", body = ActorView),
        (status = 404, description = "`unknown_actor`", body = ErrorBody),
        (status = 409, description = "`not_controllable` (not running, or a supervisor), \
            `control_refused`", body = ErrorBody),
        (status = 503, description = "`actor_unavailable`, `not_leader`", body = ErrorBody)))]
pub async fn resume(
    state: web::Data<ApiState>,
    name: web::Path<String>,
    caller: Authorized,
) -> Result<HttpResponse, ApiError> {
    require_actor(&caller, &name)?;
    control(&state, &name, Control::Resume).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Restarting {
    actor: String,
    restarting: bool,
}

/// Restarts an actor, failed (escalated) or not, through its supervisor.
#[utoipa::path(post, path = "/actors/{name}/restart", tag = "actors",
    params(("name" = String, Path, description = "Actor name")),
    responses(
        (status = 202, description = "The supervisor restarts it", body = Restarting),
        (status = 404, description = "`unknown_actor`", body = ErrorBody),
        (status = 409, description = "`not_restartable` (the root), `restart_refused`", body = ErrorBody),
        (status = 503, description = "`supervisor_unavailable`, `not_leader`", body = ErrorBody)))]
pub async fn restart(
    state: web::Data<ApiState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    known(&state, &name)?;
    if super::leader_only_actor(&name) {
        super::require_leader(&state)?;
    }
    let supervisor = state.registry.supervisor_of(&name).ok_or_else(|| {
        ApiError::conflict(
            "not_restartable",
            format!("`{name}` is the root of the tree; restart the service instead"),
        )
    })?;
    supervisor
        .send(RestartChild { name: name.clone() })
        .timeout(CONTROL_TIMEOUT)
        .await
        .map_err(|e| {
            ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "supervisor_unavailable",
                format!("the supervisor of `{name}` did not answer: {e}"),
            )
            .retry_after(2)
        })?
        .map_err(|e| ApiError::conflict("restart_refused", e))?;
    Ok(HttpResponse::Accepted().json(Restarting {
        actor: name,
        restarting: true,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SupervisionQuery {
    /// Only this actor's events.
    #[param(pattern = "^[^\\u0000]*$")]
    actor: Option<String>,
    /// Only events at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Events {
    events: Vec<crate::supervisor::log::EventRecord>,
}

/// The supervision log, newest first.
#[utoipa::path(get, path = "/supervision", tag = "actors", params(SupervisionQuery),
    responses(
        (status = 200, description = "Events, newest first", body = Events),
        (status = 400, description = "`invalid_query`, `invalid_limit`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn supervision(
    state: web::Data<ApiState>,
    q: web::Query<SupervisionQuery>,
) -> Result<HttpResponse, ApiError> {
    ApiError::check_text("actor", q.actor.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1..=1000",
        ));
    }
    let events =
        crate::supervisor::log::list(&state.db, q.actor.as_deref(), q.since, limit).await?;
    Ok(ok(&Events { events }))
}
