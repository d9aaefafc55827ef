//! The simulator's actix-web app: the FPL API under a prefix (default `/api/`) and the control
//! API under `/sim/`.
//!
//! Every FPL request goes through one pipeline: parse the path into a [`Route`] (unknown paths
//! and ids answer FPL's 404 `{"detail":"Not found."}`), let the faults decide (latency, 429,
//! update page, 5xx), answer the 503 update page in the UPDATING phases, build the body off the
//! async workers (`web::block`; a step's first league request scores every manager), apply the
//! body faults (truncation, a dropped or added field), and count the answer by endpoint and status.
//!
//! Control routes (JSON; errors are the service's `{"error": code, "message": …}`):
//! `GET /sim/state`, `GET /sim/timeline`, `POST /sim/phase {"phase","event"?}`,
//! `POST /sim/advance {"seconds"}`, `POST /sim/speed {"speed"}`, `GET|POST|DELETE /sim/faults`,
//! `GET|DELETE /sim/stats`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use serde::Deserialize;
use serde_json::{Value, json};

use super::clock::Phase;
use super::faults::{Fault, Outcome, add_field, drop_field};
use super::world::{SimState, World};
use super::{SimConfig, leagues};
use crate::http::ApiError;

/// The page FPL serves (HTTP 503, HTML) while the game is being updated.
pub const UPDATE_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fantasy Premier League</title>
<style>body{font-family:PremierSans-Regular,Arial,sans-serif;background:#37003c;color:#fff;text-align:center;padding:80px 20px}h1{font-size:28px}</style>
</head>
<body>
<div class="container">
<img src="https://fantasy.premierleague.com/static/media/pl-main-logo.png" alt="Premier League" width="120">
<h1>The game is being updated.</h1>
<p>Please check back shortly.</p>
</div>
</body>
</html>
"#;

const NOT_FOUND: &str = r#"{"detail":"Not found."}"#;

/// An FPL path, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Bootstrap,
    Fixtures(Option<u16>),
    Live(u16),
    EventStatus,
    Entry(u64),
    History(u64),
    Picks(u64, u16),
    Transfers(u64),
    Cup(u64),
    /// League, `page_standings`, `page_new_entries`.
    Classic(u64, u32, u32),
    /// League, `page_standings`.
    H2h(u64, u32),
    /// League, `page`, `event`.
    H2hMatches(u64, u32, Option<u16>),
    ElementSummary(u32),
}

impl Route {
    /// Parses a path below the prefix (`entry/123/history/`) and its query.
    pub fn parse(path: &str, query: &HashMap<String, String>) -> Option<Route> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let q = |k: &str| query.get(k).and_then(|v| v.parse::<u16>().ok());
        let page = |k: &str| {
            query
                .get(k)
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(1)
        };
        let n = |s: &str| s.parse::<u64>().ok();
        Some(match segments.as_slice() {
            ["bootstrap-static"] => Route::Bootstrap,
            ["fixtures"] => Route::Fixtures(q("event")),
            ["event", gw, "live"] => Route::Live(gw.parse().ok()?),
            ["event-status"] => Route::EventStatus,
            ["entry", id] => Route::Entry(n(id)?),
            ["entry", id, "history"] => Route::History(n(id)?),
            ["entry", id, "event", gw, "picks"] => Route::Picks(n(id)?, gw.parse().ok()?),
            ["entry", id, "transfers"] => Route::Transfers(n(id)?),
            ["entry", id, "cup"] => Route::Cup(n(id)?),
            ["leagues-classic", id, "standings"] => {
                Route::Classic(n(id)?, page("page_standings"), page("page_new_entries"))
            }
            ["leagues-h2h", id, "standings"] => Route::H2h(n(id)?, page("page_standings")),
            ["leagues-h2h-matches", "league", id] => {
                Route::H2hMatches(n(id)?, page("page"), q("event"))
            }
            ["element-summary", id] => Route::ElementSummary(id.parse().ok()?),
            _ => return None,
        })
    }

    /// The endpoint name used by faults and statistics.
    pub fn endpoint(self) -> &'static str {
        match self {
            Route::Bootstrap => "bootstrap-static",
            Route::Fixtures(_) => "fixtures",
            Route::Live(_) => "event-live",
            Route::EventStatus => "event-status",
            Route::Entry(_) => "entry",
            Route::History(_) => "entry-history",
            Route::Picks(..) => "entry-picks",
            Route::Transfers(_) => "entry-transfers",
            Route::Cup(_) => "entry-cup",
            Route::Classic(..) => "leagues-classic",
            Route::H2h(..) => "leagues-h2h",
            Route::H2hMatches(..) => "leagues-h2h-matches",
            Route::ElementSummary(_) => "element-summary",
        }
    }
}

/// The body of `route` at step `index`; `None` answers 404.
fn body(state: &SimState, index: usize, route: Route) -> Option<Bytes> {
    let w = &state.world;
    let step = w.step(index);
    if step.next_season()
        && let Some(next) = &w.next
    {
        return next.body(w, step, route, state.now());
    }
    match route {
        Route::Bootstrap => Some(w.bootstrap(index)),
        Route::Fixtures(event) => Some(w.fixtures(index, event)),
        Route::Live(gw) => w.live(index, gw),
        Route::EventStatus => Some(w.event_status(index)),
        Route::Entry(id) => w.entry(index, id),
        Route::History(id) => w.history(index, id),
        Route::Picks(id, gw) => w.picks(index, id, gw),
        Route::Transfers(id) => w.transfers(index, id),
        Route::Cup(id) => w.cup(id),
        Route::Classic(id, page, new) => {
            leagues::classic_standings(w, index, id, page, new, state.now())
        }
        Route::H2h(id, page) => leagues::h2h_standings(w, index, id, page),
        Route::H2hMatches(id, page, event) => leagues::h2h_matches(w, index, id, page, event),
        Route::ElementSummary(id) => w.element_summary(index, id),
    }
}

fn json_response(status: StatusCode, body: impl Into<Bytes>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(body.into())
}

/// An error page from FPL's edge during an incident, served with status 200.
const ERROR_PAGE: &str = "<!DOCTYPE html><html><head><title>Error</title></head><body>\
    <h1>Sorry, something went wrong.</h1><p>Please try again later.</p></body></html>";

/// Cloudflare's challenge page (abridged), served with 403 and `cf-mitigated: challenge`.
const CHALLENGE_PAGE: &str = "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...\
    </title></head><body><script>window._cf_chl_opt={cvId:'3'};</script><script \
    src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script></body></html>";

fn update_page() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(UPDATE_PAGE)
}

/// The path prefix of the FPL API.
#[derive(Clone)]
struct Prefix(String);

/// Answers every request that is not a control route.
async fn fpl(
    req: HttpRequest,
    state: web::Data<SimState>,
    prefix: web::Data<Prefix>,
) -> Result<HttpResponse, ApiError> {
    let Some(rest) = req.path().strip_prefix(prefix.0.as_str()) else {
        return Err(ApiError::not_found(
            "not_found",
            format!(
                "no route for {} (the FPL API is under {})",
                req.path(),
                prefix.0
            ),
        ));
    };
    let query: HashMap<String, String> = web::Query::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let route = Route::parse(rest, &query);
    let endpoint = route.map_or("unknown", Route::endpoint);
    let mut response = answer(&req, state.clone(), route, endpoint).await;
    // The simulated world's clock, as FPL's own `Date` header gives the real one: clients judge
    // deadlines and kick-offs by it.
    let now: std::time::SystemTime = state.now().into();
    if let Ok(date) = actix_web::http::header::HeaderValue::from_str(&httpdate::fmt_http_date(now))
    {
        response
            .headers_mut()
            .insert(actix_web::http::header::DATE, date);
    }
    state.stats.record(endpoint, response.status().as_u16());
    Ok(response)
}

async fn answer(
    req: &HttpRequest,
    state: web::Data<SimState>,
    route: Option<Route>,
    endpoint: &str,
) -> HttpResponse {
    let decision = state.faults.decide(endpoint);
    if let Some(latency) = decision.latency {
        actix_rt::time::sleep(latency).await;
    }
    match decision.outcome {
        Outcome::RateLimited(secs) => {
            return HttpResponse::TooManyRequests()
                .insert_header((RETRY_AFTER, secs.to_string()))
                .insert_header((CONTENT_TYPE, "application/json"))
                .body(
                    json!({
                        "detail": format!("Request was throttled. Expected available in {secs} seconds.")
                    })
                    .to_string(),
                );
        }
        Outcome::Updating => return update_page(),
        Outcome::Html => {
            return HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
                .body(ERROR_PAGE);
        }
        Outcome::Challenge => {
            return HttpResponse::Forbidden()
                .insert_header(("cf-mitigated", "challenge"))
                .insert_header((CONTENT_TYPE, "text/html; charset=UTF-8"))
                .body(CHALLENGE_PAGE);
        }
        Outcome::Error(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            // A server error comes from FPL's edge, as a page; a client error from the API
            // itself (Django REST framework), as JSON.
            if status.is_client_error() {
                return json_response(status, r#"{"detail":"Bad request."}"#);
            }
            return HttpResponse::build(status)
                .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
                .body(format!("<h1>Server Error ({})</h1>", status.as_u16()));
        }
        Outcome::Serve => {}
    }
    let Some(mut route) = route else {
        return json_response(StatusCode::NOT_FOUND, NOT_FOUND);
    };
    if decision.wrong_event {
        // FPL just after a deadline: the gameweek before the one asked for.
        route = match route {
            Route::Live(e) if e > 1 => Route::Live(e - 1),
            Route::Picks(entry, e) if e > 1 => Route::Picks(entry, e - 1),
            other => other,
        };
    }
    if !matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(r#"{{"detail":"Method \"{}\" not allowed."}}"#, req.method()),
        );
    }
    let index = state.step_index();
    if state.world.step(index).phase.is_updating() {
        return update_page();
    }
    let built = {
        let state = state.clone();
        web::block(move || body(&state, index, route)).await
    };
    let mut bytes = match built {
        Ok(Some(b)) => b,
        Ok(None) => return json_response(StatusCode::NOT_FOUND, NOT_FOUND),
        Err(e) => {
            tracing::error!(error = %e, "simulator response failed");
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, r#"{"detail":"error"}"#);
        }
    };
    if (decision.drop_field.is_some() || decision.add_field.is_some())
        && let Ok(mut v) = serde_json::from_slice::<Value>(&bytes)
    {
        if let Some(field) = &decision.drop_field {
            drop_field(&mut v, field);
        }
        if let Some(field) = &decision.add_field {
            add_field(&mut v, field);
        }
        bytes = Bytes::from(serde_json::to_vec(&v).expect("JSON serializes"));
    }
    if decision.truncate {
        bytes = bytes.slice(..bytes.len() / 2);
    }
    json_response(StatusCode::OK, bytes)
}

// ---------------------------------------------------------------------------------------------
// Control API
// ---------------------------------------------------------------------------------------------

fn state_json(state: &SimState) -> Value {
    let now = state.now();
    let world = &state.world;
    let index = world.timeline.index_at(now);
    let step = world.step(index);
    let next = world
        .timeline
        .steps()
        .get(index + 1)
        .filter(|s| s.at > now)
        .map(|s| json!({"season": s.season, "event": s.event, "phase": s.phase, "at": s.at}));
    json!({
        "scenario": world.scenario.name(),
        "season": step.season,
        "event": step.event,
        "phase": step.phase,
        "updating": step.phase.is_updating(),
        "phase_started_at": step.at,
        "sim_time": now,
        "speed": state.speed(),
        "next": next,
        "current_event": World::visible_gw(step),
        "entries": state.entries,
        "managers": world.managers.count(),
        "seed": world.seed,
    })
}

async fn get_state(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(state_json(&state))
}

async fn timeline(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "steps": state.world.timeline.steps() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseBody {
    phase: String,
    #[serde(default)]
    event: Option<u16>,
}

async fn set_phase(
    state: web::Data<SimState>,
    body: web::Json<PhaseBody>,
) -> Result<HttpResponse, ApiError> {
    let phase = Phase::parse(&body.phase).ok_or_else(|| {
        ApiError::bad_request(
            "unknown_phase",
            format!(
                "unknown phase `{}` (one of {})",
                body.phase,
                Phase::ALL.map(Phase::name).join(", ")
            ),
        )
    })?;
    if !state.jump(phase, body.event) {
        return Err(ApiError::not_found(
            "no_such_step",
            format!(
                "the {} scenario has no {} in gameweek {}",
                state.world.scenario.name(),
                phase.name(),
                body.event.map_or("(current)".into(), |e| e.to_string())
            ),
        ));
    }
    Ok(HttpResponse::Ok().json(state_json(&state)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    seconds: f64,
}

async fn advance(
    state: web::Data<SimState>,
    body: web::Json<AdvanceBody>,
) -> Result<HttpResponse, ApiError> {
    if !body.seconds.is_finite() {
        return Err(ApiError::bad_request(
            "invalid_seconds",
            "seconds must be finite",
        ));
    }
    state.advance(body.seconds);
    Ok(HttpResponse::Ok().json(state_json(&state)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpeedBody {
    speed: f64,
}

async fn speed(
    state: web::Data<SimState>,
    body: web::Json<SpeedBody>,
) -> Result<HttpResponse, ApiError> {
    if !body.speed.is_finite() || body.speed < 0.0 {
        return Err(ApiError::bad_request(
            "invalid_speed",
            "speed must be a finite number ≥ 0",
        ));
    }
    state.set_speed(body.speed);
    Ok(HttpResponse::Ok().json(state_json(&state)))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultBody {
    Spec { spec: String },
    Fault(Box<Fault>),
}

fn faults_json(state: &SimState) -> Value {
    json!({ "faults": state.faults.list() })
}

async fn list_faults(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(faults_json(&state))
}

async fn add_fault(
    state: web::Data<SimState>,
    body: web::Json<FaultBody>,
) -> Result<HttpResponse, ApiError> {
    let fault = match body.into_inner() {
        FaultBody::Spec { spec } => spec
            .parse::<Fault>()
            .map_err(|e| ApiError::bad_request("invalid_fault", e.to_string()))?,
        FaultBody::Fault(f) => {
            f.validate()
                .map_err(|e| ApiError::bad_request("invalid_fault", e))?;
            *f
        }
    };
    state.faults.set(fault);
    Ok(HttpResponse::Ok().json(faults_json(&state)))
}

#[derive(Deserialize)]
struct EndpointQuery {
    endpoint: Option<String>,
}

async fn clear_faults(
    state: web::Data<SimState>,
    query: web::Query<EndpointQuery>,
) -> HttpResponse {
    state.faults.clear(query.endpoint.as_deref());
    HttpResponse::Ok().json(faults_json(&state))
}

async fn get_stats(state: web::Data<SimState>) -> HttpResponse {
    HttpResponse::Ok().json(state.stats.snapshot())
}

async fn reset_stats(state: web::Data<SimState>) -> HttpResponse {
    state.stats.reset();
    HttpResponse::Ok().json(state.stats.snapshot())
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.path()),
    ))
}

fn control(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.app_data(
        web::JsonConfig::default()
            .error_handler(|err, _| ApiError::bad_request("invalid_json", err.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| ApiError::bad_request("invalid_query", err.to_string()).into()),
    )
    .service(resource("/sim/state").route(web::get().to(get_state)))
    .service(resource("/sim/timeline").route(web::get().to(timeline)))
    .service(resource("/sim/phase").route(web::post().to(set_phase)))
    .service(resource("/sim/advance").route(web::post().to(advance)))
    .service(resource("/sim/speed").route(web::post().to(speed)))
    .service(
        resource("/sim/faults")
            .route(web::get().to(list_faults))
            .route(web::post().to(add_fault))
            .route(web::delete().to(clear_faults)),
    )
    .service(
        resource("/sim/stats")
            .route(web::get().to(get_stats))
            .route(web::delete().to(reset_stats)),
    );
}

/// The HTTP server of a simulator, listening on `listener`, not yet running.
pub fn build(
    state: Arc<SimState>,
    listener: TcpListener,
    config: &SimConfig,
) -> std::io::Result<Server> {
    let data = web::Data::from(state);
    let prefix = web::Data::new(Prefix(config.prefix.clone()));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(prefix.clone())
            .configure(control)
            .default_service(web::to(fpl))
    })
    .workers(config.workers.max(1))
    .shutdown_timeout(1)
    .listen(listener)?;
    if !config.handle_signals {
        server = server.disable_signals();
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, query: &[(&str, &str)]) -> Option<Route> {
        let q = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Route::parse(path, &q)
    }

    #[test]
    fn fpl_paths_parse_with_or_without_the_trailing_slash() {
        assert_eq!(parse("bootstrap-static/", &[]), Some(Route::Bootstrap));
        assert_eq!(
            parse("fixtures", &[("event", "38")]),
            Some(Route::Fixtures(Some(38)))
        );
        assert_eq!(parse("event/38/live/", &[]), Some(Route::Live(38)));
        assert_eq!(
            parse("entry/123/event/38/picks/", &[]),
            Some(Route::Picks(123, 38))
        );
        assert_eq!(
            parse("leagues-classic/1/standings/", &[("page_standings", "3")]),
            Some(Route::Classic(1, 3, 1))
        );
        assert_eq!(
            parse(
                "leagues-h2h-matches/league/2/",
                &[("page", "2"), ("event", "38")]
            ),
            Some(Route::H2hMatches(2, 2, Some(38)))
        );
        assert_eq!(parse("entry/abc/", &[]), None);
        assert_eq!(parse("event/38/", &[]), None);
        assert_eq!(parse("", &[]), None);
    }
}
