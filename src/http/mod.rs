//! The control endpoint (actix-web): health, readiness, metrics, the actor tree, the supervision
//! log, job runs and triggers, metadata, live scores and tournaments, alerts, the audit log,
//! the OpenAPI document and the dashboard. JSON everywhere; every error is an [`ApiError`].
//!
//! Handlers read shared state ([`ApiState`]) and talk to actors only to change something
//! (trigger, pause, restart), so reads never queue behind work. Which routes exist and who may
//! call them is one table, [`routes`]; [`access`] enforces it and audits control actions.

pub mod access;
mod actors;
mod alerts;
mod audit;
mod dashboard;
mod data;
mod error;
mod jobs;
mod live;
mod ops;
mod recovery;
pub mod routes;
mod tournaments;

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use sqlx::PgPool;

pub use access::AccessState;
pub use error::{ApiError, CODES as ERROR_CODES};

use crate::cache::Cache;
use crate::config::Settings;
use crate::jobs::{JobCatalog, JobDirectory};
use crate::kv::Kv;
use crate::leader::Leadership;
use crate::metrics::Metrics;
use crate::supervisor::ActorRegistry;

/// What handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub db: PgPool,
    pub kv: Kv,
    pub settings: Arc<Settings>,
    pub metrics: Metrics,
    pub registry: ActorRegistry,
    pub directory: JobDirectory,
    pub catalog: JobCatalog,
    pub cache: Cache,
    /// The gameweek lifecycle's status.
    pub lifecycle: crate::lifecycle::LifecycleBoard,
    /// Writes the audit log in the background.
    pub audit: crate::store::audit::AuditWriter,
    /// Whether this instance leads, and who does.
    pub leadership: Leadership,
    /// Keys, open routes and the trigger rate limit.
    pub access: AccessState,
}

/// Largest request body accepted (trigger parameters are small).
const MAX_BODY: usize = 64 * 1024;

/// Registers every route and the JSON error handlers for malformed input.
pub fn configure(state: ApiState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::bad_request("invalid_query", err.to_string()).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                ApiError::bad_request("invalid_path", err.to_string()).into()
            }))
            .service(
                web::scope("")
                    .wrap(actix_web::middleware::from_fn(access::guard))
                    .configure(routes::register)
                    .default_service(web::to(not_found)),
            );
    }
}

/// A resource whose other methods get a JSON 405 instead of actix's empty one.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "not_found",
        format!("no route for {}", req.path()),
    ))
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.path()),
    ))
}

/// Refuses a request only the leader can serve (it needs the job actors or the scheduler) with
/// 503 `not_leader`, naming the leader and where its control endpoint answers.
fn require_leader(state: &ApiState) -> Result<(), ApiError> {
    if state.leadership.is_leader() {
        return Ok(());
    }
    let status = state.leadership.status();
    let leader = match status.leader {
        Some(l) => format!(
            "the leader is instance {} at http://{}; send it there",
            l.instance, l.http_addr
        ),
        None => "no instance leads right now; one takes over within seconds".into(),
    };
    Err(ApiError::new(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        "not_leader",
        format!(
            "this instance ({}) is a follower and runs no jobs: {leader}",
            status.instance
        ),
    )
    .retry_after(state.settings.http.retry_after_secs))
}

/// Actors that exist only on the leader.
fn leader_only_actor(name: &str) -> bool {
    name == "jobs" || name == "lifecycle" || name == "scheduler" || name.starts_with("job:")
}

/// 200 with a JSON body.
fn ok<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}
