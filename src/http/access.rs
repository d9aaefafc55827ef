//! Access control of the control endpoint, and the audit of control actions.
//!
//! One middleware wraps every route. It finds the route in the table ([`super::routes`]),
//! authenticates the key (`Authorization: Bearer <key>` or `X-API-Key`), answers 401 without a
//! valid key and 403 when the key's role is below the route's, and hands the caller to the
//! handler ([`Authorized`]), which checks what depends on the request (an operator's job kinds).
//! Every control route's call — allowed or refused — is written to the audit log with who,
//! what, the parameters (path and body), the result and when.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use serde_json::{Map, Value};

use super::routes::{self, Access, Route};
use super::{ApiError, ApiState};
use crate::auth::{Caller, KeyRing, Role};
use crate::config::Settings;
use crate::store::audit::AuditEntry;

type TriggerLimiter = RateLimiter<
    (String, String),
    governor::state::keyed::DefaultKeyedStateStore<(String, String)>,
    DefaultClock,
>;

/// What the access layer shares across workers.
#[derive(Clone)]
pub struct AccessState {
    keys: KeyRing,
    open: Arc<Vec<String>>,
    triggers: Arc<TriggerLimiter>,
}

impl AccessState {
    pub fn new(settings: &Settings) -> Self {
        let a = &settings.auth;
        let limit = NonZeroU32::new(a.trigger_limit).unwrap_or(NonZeroU32::MIN);
        // GCRA: a burst of `limit`, one more every period / limit (the cooldown).
        let quota = Quota::with_period(Duration::from_secs(a.trigger_period_secs) / limit.get())
            .unwrap_or_else(|| Quota::per_hour(limit))
            .allow_burst(limit);
        if a.keys.is_empty() {
            tracing::warn!(
                "auth.keys is empty: only the open routes answer (see `fplsync hash-key`)"
            );
        }
        AccessState {
            keys: KeyRing::new(&a.keys),
            open: Arc::new(a.open.clone()),
            triggers: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// Counts a manual trigger of `kind` by `caller`; refused ones say how long to wait.
    pub fn count_trigger(&self, caller: &Caller, kind: &str) -> Result<(), Duration> {
        self.triggers
            .check_key(&(caller.name.clone(), kind.to_string()))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// The probes that answer without a key.
    pub fn open_probes(&self) -> &[String] {
        &self.open
    }
}

/// The caller of a route that needs a key, as the middleware authenticated it.
#[derive(Debug, Clone)]
pub struct Authorized(pub Caller);

impl Authorized {
    /// 403 unless the caller may steer runs of `kind`.
    pub fn require_kind(&self, kind: &str) -> Result<(), ApiError> {
        if self.0.may_operate(kind) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "key `{}` ({}) may not steer job kind `{kind}`",
                self.0.name,
                self.0.role.as_str()
            )))
        }
    }
}

/// What a key may do, as `GET /auth/whoami` tells it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct KeyView {
    /// The key's configured name.
    name: String,
    /// `viewer`, `operator` or `admin`.
    role: String,
    /// The job kinds an operator may steer (empty for the other roles: an admin steers all).
    kinds: Vec<String>,
}

/// The caller's key: its name, role and, for an operator, the job kinds it may steer. The
/// dashboard shows only the actions the key may take (the routes check again).
#[utoipa::path(get, path = "/auth/whoami", tag = "operations", responses(
    (status = 200, description = "The caller's key", body = KeyView)))]
pub async fn whoami(caller: Authorized) -> actix_web::HttpResponse {
    let c = caller.0;
    super::ok(&KeyView {
        name: c.name,
        role: c.role.as_str().to_string(),
        kinds: c.kinds,
    })
}

impl FromRequest for Authorized {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .map(Authorized)
                .ok_or_else(|| ApiError::unauthorized("this route needs an API key")),
        )
    }
}

/// The key a request presents, if any.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, key) = v.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| key.trim());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Who is calling `route`, or why they may not.
fn authorize(
    state: &ApiState,
    route: &Route,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    let open = match route.access {
        Access::Open => true,
        Access::Probe => state.access.open.contains(&route.operation_id),
        _ => false,
    };
    let caller = presented_key(headers).and_then(|k| state.access.keys.authenticate(k));
    if open {
        return Ok(caller);
    }
    let caller = caller.ok_or_else(|| {
        ApiError::unauthorized(if presented_key(headers).is_some() {
            "the API key is not configured"
        } else {
            "this route needs an API key (Authorization: Bearer <key>)"
        })
    })?;
    let least = route.access.least_role().unwrap_or(Role::Viewer);
    if caller.role < least {
        return Err(ApiError::forbidden(format!(
            "key `{}` is {}; {} {} needs {}",
            caller.name,
            match caller.role {
                Role::Viewer => "a viewer",
                Role::Operator => "an operator",
                Role::Admin => "an admin",
            },
            route.method,
            route.path,
            match route.access {
                Access::Operate => "an operator of the kind, or an admin",
                _ => "an admin",
            }
        )));
    }
    Ok(Some(caller))
}

/// The middleware: authenticate, authorize, and audit control actions.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let route = routes::find(req.method(), req.match_info().as_str());
    // No route: the 404 or 405 answer needs no key and says nothing about data.
    let Some(route) = route else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let state = req
        .app_data::<web::Data<ApiState>>()
        .expect("ApiState is registered")
        .clone();
    let decision = authorize(&state, route, req.headers());
    if !route.audited() {
        return match decision {
            Ok(caller) => {
                if let Some(caller) = caller {
                    req.extensions_mut().insert(caller);
                }
                Ok(next.call(req).await?.map_into_boxed_body())
            }
            Err(e) => Ok(req.error_response(e)),
        };
    }

    // A control action: keep the body to record it, then give it back to the handler. A body
    // that cannot be read (too large, broken) refuses the action — which is recorded too.
    let (body, decision) = match req.extract::<web::Bytes>().await {
        Ok(body) => {
            req.set_payload(Payload::from(body.clone()));
            (body, decision)
        }
        Err(e) => {
            let status = e.as_response_error().status_code();
            let code = if status == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                "payload_too_large"
            } else {
                "invalid_body"
            };
            let status = if status.is_client_error() {
                status
            } else {
                actix_web::http::StatusCode::BAD_REQUEST
            };
            let refused = decision.and(Err(ApiError::new(status, code, format!("body: {e}"))));
            (web::Bytes::new(), refused)
        }
    };
    let path = req.path().to_string();
    // Routing has not happened yet, so the path's parameters are read with the route's pattern.
    let mut params = Map::new();
    let mut matched = actix_web::dev::Path::new(req.match_info().as_str().to_string());
    if actix_web::dev::ResourceDef::new(route.path.as_str()).capture_match_info(&mut matched) {
        for (name, value) in matched.iter() {
            params.insert(name.to_string(), Value::String(value.to_string()));
        }
    }
    // Who the key says the caller is, even when the action is refused (a 403 names them).
    let known = presented_key(req.headers()).and_then(|k| state.access.keys.authenticate(k));
    if !body.iter().all(u8::is_ascii_whitespace) {
        let body = if known.is_none() {
            // Anyone can send this: the row says a body came, not what it held, so an
            // anonymous flood writes a few bytes a row whatever it sends.
            serde_json::json!({"omitted": "no valid API key", "bytes": body.len()})
        } else {
            serde_json::from_slice(&body).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&body).chars().take(1000).collect())
            })
        };
        params.insert("body".into(), body);
    }
    let mut entry = AuditEntry {
        channel: "http",
        actor: "anonymous".into(),
        role: None,
        action: route.operation_id.clone(),
        target: path,
        params: Value::Object(params),
        result: "ok".into(),
        status: None,
        outcome: None,
    };
    let response = match decision {
        Ok(caller) => {
            if let Some(caller) = caller {
                entry.actor = caller.name.clone();
                entry.role = Some(caller.role.as_str());
                req.extensions_mut().insert(caller);
            }
            next.call(req).await?.map_into_boxed_body()
        }
        Err(e) => {
            if let Some(c) = known {
                entry.actor = c.name;
                entry.role = Some(c.role.as_str());
            }
            req.error_response(e)
        }
    };
    // Read the (small, JSON) answer to record it, and send the same bytes on.
    let (http_req, res) = response.into_parts();
    let (res, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    entry.status = Some(res.status().as_u16());
    entry.outcome = serde_json::from_slice::<Value>(&bytes).ok();
    if !res.status().is_success() {
        entry.result = entry
            .outcome
            .as_ref()
            .and_then(|o| o["error"].as_str())
            .unwrap_or("error")
            .to_string();
    }
    state.audit.record(entry).await;
    let res = res.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(http_req, res))
}
