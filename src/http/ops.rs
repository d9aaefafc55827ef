//! `/health`, `/ready` and `/metrics`.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::{ApiState, ok};
use crate::leader::{LeaderMetrics, LeaderStatus};
use crate::supervisor::{ActorState, SupervisionMetrics};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness: the process answers HTTP.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process serves HTTP", body = Health)))]
pub async fn health() -> HttpResponse {
    ok(&Health { status: "ok" })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready`, `degraded` (escalated actors, the rest working) or `not_ready`.
    status: &'static str,
    postgres: bool,
    redis: bool,
    failed_actors: Vec<String>,
    reasons: Vec<String>,
    /// This instance, whether it leads, and who does. A follower is ready: it serves reads.
    leadership: LeaderStatus,
}

/// Readiness: PostgreSQL and Redis answer, and no actor is escalated.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "`ready`", body = Readiness),
    (status = 503, description = "`degraded` (escalated actors) or `not_ready` (PostgreSQL or \
        Redis away), with the reasons", body = Readiness)))]
pub async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    let probe = Duration::from_secs(1);
    let postgres = tokio::time::timeout(probe, sqlx::query("SELECT 1").execute(&state.db))
        .await
        .is_ok_and(|r| r.is_ok());
    let redis = state.kv.ping().await.is_ok();
    let failed_actors = state.registry.failed();
    let mut reasons = Vec::new();
    if !postgres {
        reasons.push("PostgreSQL does not answer".to_string());
    }
    if !redis {
        reasons.push("Redis does not answer".to_string());
    }
    for name in &failed_actors {
        reasons.push(format!(
            "actor {name} is failed (escalated) and not restarted"
        ));
    }
    let status = match (postgres && redis, failed_actors.is_empty()) {
        (true, true) => "ready",
        (true, false) => "degraded",
        (false, _) => "not_ready",
    };
    let body = Readiness {
        status,
        postgres,
        redis,
        failed_actors,
        reasons,
        leadership: state.leadership.status(),
    };
    if status == "ready" {
        ok(&body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus text exposition. Actor gauges are refreshed from the registry at scrape time.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text format", body = String,
        content_type = "text/plain; version=0.0.4")))]
pub async fn metrics(state: web::Data<ApiState>) -> HttpResponse {
    let m = state.metrics.get::<SupervisionMetrics>();
    state
        .metrics
        .get::<LeaderMetrics>()
        .leader
        .set(i64::from(state.leadership.is_leader()));
    for actor in state.registry.snapshot() {
        for s in ActorState::ALL {
            m.actor_state
                .with_label_values(&[&actor.name, s.as_str()])
                .set(i64::from(actor.state == s));
        }
        if let (Some(depth), Some(capacity)) = (actor.mailbox_depth, actor.mailbox_capacity) {
            m.mailbox_depth
                .with_label_values(&[&actor.name])
                .set(depth as i64);
            m.mailbox_capacity
                .with_label_values(&[&actor.name])
                .set(capacity as i64);
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
