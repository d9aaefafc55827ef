//! The control endpoint (actix-web): health, readiness, metrics, the actor tree, the supervision
//! log, job runs and triggers, metadata, stored managers and prices, live scores and tables,
//! tournaments, alerts, the audit log,
//! the OpenAPI document and the dashboard. JSON everywhere; every error is an [`ApiError`].
//!
//! Handlers read shared state ([`ApiState`]) and talk to actors only to change something
//! (trigger, pause, restart), so reads never queue behind work. Which routes exist and who may
//! call them is one table, [`routes`]; [`access`] enforces it and audits control actions.

pub mod access;
mod actors;
mod alerts;
mod audit;
mod conditional;
mod contract;
mod dashboard;
mod data;
mod error;
mod jobs;
mod live;
mod managers;
mod ops;
mod prices;
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
    /// The alerting actor, for acknowledgements.
    pub alerts: crate::alerts::AlertSink,
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

/// A resource whose other methods get a JSON 405 with `Allow` naming `allowed` (RFC 9110
/// §15.5.6) instead of actix's empty one.
fn resource(path: &str, allowed: &[actix_web::http::Method]) -> actix_web::Resource {
    let allow = allowed
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    web::resource(path).default_service(web::to(move |req: HttpRequest| {
        let allow = allow.clone();
        async move {
            let mut response = actix_web::ResponseError::error_response(&method_not_allowed(&req));
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
    }))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "not_found",
        format!("no route for {}", req.path()),
    ))
}

fn method_not_allowed(req: &HttpRequest) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.path()),
    )
}

/// A route's id from its path: ids start at 1, so anything else is a malformed path — 400
/// `invalid_path` on every route, as for an id that is not a number at all.
fn path_id(raw: i64, what: &str) -> Result<i64, ApiError> {
    if raw < 1 {
        return Err(ApiError::bad_request(
            "invalid_path",
            format!("{what} is an integer from 1, got {raw}"),
        ));
    }
    Ok(raw)
}

/// A JSON request body as `T`. JSON has one number type, and JSON Schema counts `11320.0` as
/// the integer 11320, so whole numbers written with a fraction or exponent are taken as the
/// integers they are before `T`'s integer fields see them; `1.5` stays a float (and is refused
/// where an integer is due).
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(body)?;
    serde_json::from_value(integral(value))
}

/// `value` with every whole float within 64 bits made an integer.
fn integral(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Within ±2^63 (2^64 unsigned), where the conversion is exact.
            let whole = f.fract() == 0.0;
            if whole && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
                Value::from(f as i64)
            } else if whole && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
                Value::from(f as u64)
            } else {
                Value::Number(n)
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(integral).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, integral(v))).collect())
        }
        other => other,
    }
}

/// Refuses a request body that is not declared JSON: 415 `unsupported_media_type` unless the
/// `Content-Type` is `application/json` (parameters such as `charset` allowed) or the body is
/// empty (routes whose body is optional).
fn require_json(req: &HttpRequest, body: &[u8]) -> Result<(), ApiError> {
    if body.is_empty() {
        return Ok(());
    }
    use actix_web::HttpMessage;
    let json = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.type_() == "application" && m.subtype() == "json");
    if json {
        Ok(())
    } else {
        Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be JSON, sent with Content-Type: application/json",
        ))
    }
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
