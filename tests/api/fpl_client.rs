//! The FPL client against a real HTTP server: a tiny actix-web app on a random port that answers
//! like FPL does on a good day and on a bad one (429, the update page, slow answers, 404, 403,
//! truncated JSON, paged tables, a run of 5xx).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use fplsync::Settings;
use fplsync::config::FplSettings;
use fplsync::fpl::model::{EntryId, EventId, LeagueId};
use fplsync::fpl::{BreakerState, FplClient, FplError, Priority, samples};
use fplsync::metrics::Metrics;
use serde_json::json;

use crate::helpers::{assert_promtool_accepts, eventually};

const UPDATE_PAGE: &str = "<!DOCTYPE html><html><head><title>Fantasy Premier League</title>\
    </head><body><h1>The game is being updated.</h1></body></html>";

/// What the fake FPL has been asked, and whether its element-summary route is failing.
#[derive(Default)]
struct Fake {
    hits: Mutex<HashMap<String, usize>>,
    user_agent: Mutex<Option<String>>,
    failing: AtomicBool,
}

impl Fake {
    /// Counts a request to `key` and returns how many came before it.
    fn hit(&self, key: &str) -> usize {
        let mut hits = self.hits.lock().unwrap();
        let n = hits.entry(key.to_string()).or_default();
        *n += 1;
        *n - 1
    }

    fn hits(&self, key: &str) -> usize {
        self.hits.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

fn json_body(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

async fn bootstrap(fake: web::Data<Fake>, req: HttpRequest) -> HttpResponse {
    fake.hit("bootstrap");
    *fake.user_agent.lock().unwrap() = req
        .headers()
        .get("user-agent")
        .map(|v| v.to_str().unwrap().to_string());
    json_body(samples::json(samples::gw38::BOOTSTRAP).unwrap())
}

async fn event_status(fake: web::Data<Fake>) -> HttpResponse {
    if fake.hit("event-status") == 0 {
        return HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", "1"))
            .finish();
    }
    json_body(json!({"status": [], "leagues": ""}).to_string())
}

async fn fixtures_updating(fake: web::Data<Fake>) -> HttpResponse {
    fake.hit("fixtures");
    HttpResponse::ServiceUnavailable()
        .content_type("text/html; charset=utf-8")
        .body(UPDATE_PAGE)
}

async fn slow_live(fake: web::Data<Fake>) -> HttpResponse {
    fake.hit("live");
    actix_rt::time::sleep(Duration::from_secs(30)).await;
    json_body(json!({"elements": []}).to_string())
}

async fn not_found(fake: web::Data<Fake>) -> HttpResponse {
    fake.hit("cup");
    HttpResponse::NotFound()
        .content_type("application/json")
        .body(r#"{"detail":"Not found."}"#)
}

/// Cloudflare's challenge page as it arrives (abridged): a 403 whose HTML runs the challenge.
const CHALLENGE_PAGE: &str = "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...\
    </title></head><body><script>window._cf_chl_opt={cvId:'3'};</script>\
    <script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script></body></html>";

/// Entry 7's transfers: Cloudflare's challenge with its header; entry 8's: the same page
/// without the header (a proxy dropped it); entry 9's: a 403 that is no challenge.
async fn forbidden(fake: web::Data<Fake>, id: web::Path<u64>) -> HttpResponse {
    let id = id.into_inner();
    fake.hit(&format!("transfers-{id}"));
    match id {
        7 => HttpResponse::Forbidden()
            .insert_header(("cf-mitigated", "challenge"))
            .content_type("text/html; charset=UTF-8")
            .body(CHALLENGE_PAGE),
        8 => HttpResponse::Forbidden()
            .content_type("text/html; charset=UTF-8")
            .body(CHALLENGE_PAGE),
        _ => HttpResponse::Forbidden()
            .content_type("application/json")
            .body(r#"{"detail":"You do not have permission to perform this action."}"#),
    }
}

/// Entry 5: an HTML error page with status 200; entry 6: a 502 with an HTML page; entry 4: a
/// 200 whose body is plain text, without any content type.
async fn error_page(fake: web::Data<Fake>, id: web::Path<u64>) -> HttpResponse {
    let id = id.into_inner();
    fake.hit(&format!("entry-{id}"));
    match id {
        5 => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><body><h1>Something went wrong</h1></body></html>"),
        6 => HttpResponse::BadGateway()
            .content_type("text/html")
            .body("<html><body><h1>502 Bad Gateway</h1></body></html>"),
        _ => HttpResponse::Ok().body("upstream connect error or disconnect/reset before headers"),
    }
}

/// Entry 1's history is always cut in half; entry 2's only on the first request; entry 3's is
/// complete JSON of the wrong shape.
async fn history(fake: web::Data<Fake>, id: web::Path<u64>) -> HttpResponse {
    let id = id.into_inner();
    let n = fake.hit(&format!("history-{id}"));
    let full = json!({"current": [], "past": [], "chips": []});
    let text = full.to_string();
    match id {
        1 => json_body(text[..text.len() / 2].to_string()),
        2 if n == 0 => json_body(text[..text.len() / 2].to_string()),
        3 => json_body(json!({"current": "none"}).to_string()),
        _ => json_body(text),
    }
}

/// A classic league of 150 entries, 50 a page.
async fn classic_page(
    fake: web::Data<Fake>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let page: u32 = query["page_standings"].parse().unwrap();
    fake.hit(&format!("classic-{page}"));
    let rows: Vec<_> = (0..50)
        .map(|i| {
            let rank = (page - 1) * 50 + i + 1;
            json!({
                "entry": 1000 + rank, "entry_name": format!("Team {rank}"),
                "player_name": format!("Manager {rank}"), "rank": rank, "last_rank": rank,
                "rank_sort": rank, "total": 3000 - rank as i32, "event_total": 50,
            })
        })
        .collect();
    json_body(
        json!({
            "league": {"id": 314, "name": "Test league"},
            "standings": {"has_next": page < 3, "page": page, "results": rows},
        })
        .to_string(),
    )
}

async fn element_summary(fake: web::Data<Fake>) -> HttpResponse {
    fake.hit("element-summary");
    if fake.failing.load(Ordering::SeqCst) {
        return HttpResponse::InternalServerError().body("boom");
    }
    json_body(json!({"fixtures": [], "history": [], "history_past": []}).to_string())
}

/// Starts the fake FPL on a random port; returns its `/api` base URL (no trailing slash, to show
/// the client joins paths onto it correctly) and its record of requests.
fn spawn_fake_fpl() -> (String, web::Data<Fake>) {
    let fake = web::Data::new(Fake::default());
    let data = fake.clone();
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).service(
            web::scope("/api")
                .route("/bootstrap-static/", web::get().to(bootstrap))
                .route("/event-status/", web::get().to(event_status))
                .route("/fixtures/", web::get().to(fixtures_updating))
                .route("/event/{gw}/live/", web::get().to(slow_live))
                .route("/entry/{id}/cup/", web::get().to(not_found))
                .route("/entry/{id}/transfers/", web::get().to(forbidden))
                .route("/entry/{id}/", web::get().to(error_page))
                .route("/entry/{id}/history/", web::get().to(history))
                .route(
                    "/leagues-classic/{id}/standings/",
                    web::get().to(classic_page),
                )
                .route("/element-summary/{id}/", web::get().to(element_summary)),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind the fake FPL");
    let port = server.addrs()[0].port();
    actix_rt::spawn(server.run());
    (format!("http://127.0.0.1:{port}/api"), fake)
}

/// `[fpl]` settings for tests: the fake's URL, quick backoffs, generous limits.
fn fpl_settings(base_url: &str) -> FplSettings {
    let mut f = Settings::load(None).expect("default settings").fpl;
    f.base_url = base_url.to_string();
    f.attempt_timeout_ms = 2000;
    f.deadline_ms = 10_000;
    f.backoff_base_ms = 10;
    f.backoff_cap_ms = 50;
    f.rate_per_sec = 100;
    f
}

fn client(settings: &FplSettings) -> (FplClient, Metrics) {
    let metrics = Metrics::new();
    let client = FplClient::new(settings, &metrics).expect("client builds");
    (client, metrics)
}

#[actix_rt::test]
async fn the_client_decodes_a_real_bootstrap_and_says_who_it_is() {
    let (url, fake) = spawn_fake_fpl();
    let (client, metrics) = client(&fpl_settings(&url));
    let boot = client
        .bootstrap_static(Priority::Meta)
        .await
        .expect("bootstrap");
    assert_eq!(boot.events.len(), 38);
    assert!(boot.elements.len() > 500);
    let ua = fake
        .user_agent
        .lock()
        .unwrap()
        .clone()
        .expect("a User-Agent");
    assert!(
        ua.starts_with(&format!("fplsync/{} (+", env!("CARGO_PKG_VERSION"))),
        "{ua}"
    );
    let rendered = metrics.render();
    assert!(
        rendered
            .contains(r#"fplsync_fpl_requests_total{class="2xx",endpoint="bootstrap-static",priority="meta"} 1"#),
        "{rendered}"
    );
    assert!(rendered.contains(r#"fplsync_fpl_admission_wait_seconds_count{priority="meta"} 1"#));
}

#[actix_rt::test]
async fn a_429_is_retried_after_the_retry_after_it_names() {
    let (url, fake) = spawn_fake_fpl();
    let (client, metrics) = client(&fpl_settings(&url));
    let started = Instant::now();
    let status = client
        .event_status(Priority::Live)
        .await
        .expect("second try");
    let waited = started.elapsed();
    assert!(status.status.is_empty());
    assert_eq!(fake.hits("event-status"), 2);
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(3),
        "waited {waited:?}"
    );
    assert!(
        metrics.render().contains(
            r#"fplsync_fpl_retries_total{endpoint="event-status",reason="rate_limited"} 1"#
        )
    );
}

#[actix_rt::test]
async fn the_update_page_is_classified_as_updating_after_its_retries() {
    let (url, fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.max_retries = 2;
    let (client, _) = client(&settings);
    let err = client.fixtures(Priority::Live).await.unwrap_err();
    assert_eq!(err, FplError::Updating);
    assert_eq!(fake.hits("fixtures"), 3, "retried like a 5xx");
    // Expected behaviour, not a breaker failure.
    assert_eq!(client.breaker_state(), BreakerState::Closed);
}

#[actix_rt::test]
async fn slow_answers_time_out_on_every_attempt_then_fail_cleanly() {
    let (url, fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.attempt_timeout_ms = 150;
    settings.max_retries = 2;
    let (client, metrics) = client(&settings);
    let started = Instant::now();
    let err = client
        .event_live(EventId(38), Priority::Live)
        .await
        .unwrap_err();
    assert_eq!(err, FplError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.hits("live"), 3);
    assert!(metrics.render().contains(
        r#"fplsync_fpl_requests_total{class="error",endpoint="event-live",priority="live"} 3"#
    ));
}

#[actix_rt::test]
async fn a_call_stops_at_its_deadline_even_with_retries_left() {
    let (url, _fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.attempt_timeout_ms = 200;
    settings.deadline_ms = 300;
    settings.max_retries = 10;
    let (client, _) = client(&settings);
    let started = Instant::now();
    let err = client
        .event_live(EventId(38), Priority::Live)
        .await
        .unwrap_err();
    assert_eq!(err, FplError::Deadline);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(1),
        "{took:?}"
    );
}

#[actix_rt::test]
async fn a_404_is_not_found_and_not_retried() {
    let (url, fake) = spawn_fake_fpl();
    let (client, _) = client(&fpl_settings(&url));
    let err = client
        .entry_cup(EntryId(404), Priority::Tournament)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        FplError::NotFound {
            path: "entry/404/cup/".into()
        }
    );
    assert_eq!(fake.hits("cup"), 1);
}

#[actix_rt::test]
async fn a_403_with_cloudflares_challenge_stops_every_request_for_the_backoff_then_one_probe_goes()
{
    let (url, fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.blocked_backoff_secs = 2;
    let (client, _) = client(&settings);
    let err = client
        .entry_transfers(EntryId(7), Priority::Bulk)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        FplError::Blocked {
            retry_in: Duration::from_secs(2)
        }
    );
    assert_eq!(fake.hits("transfers-7"), 1, "a challenge is not retried");
    assert!(client.blocked_since().is_some());
    assert_eq!(client.breaker_state(), BreakerState::Open);
    // Nothing goes out during the backoff, to any endpoint.
    let err = client.bootstrap_static(Priority::Meta).await.unwrap_err();
    assert!(
        matches!(err, FplError::CircuitOpen { retry_in } if retry_in > Duration::from_secs(1)),
        "{err:?}"
    );
    assert_eq!(fake.hits("bootstrap"), 0);
    // Then one probe; its success lets everything through again and ends the episode.
    eventually("the backoff to end", Duration::from_secs(10), || async {
        (client.breaker_state() != BreakerState::Open).then_some(())
    })
    .await;
    client
        .bootstrap_static(Priority::Meta)
        .await
        .expect("the probe");
    assert_eq!(fake.hits("bootstrap"), 1);
    assert_eq!(client.breaker_state(), BreakerState::Closed);
    assert!(client.blocked_since().is_none());
}

#[actix_rt::test]
async fn the_challenge_page_is_recognised_without_its_header() {
    let (url, fake) = spawn_fake_fpl();
    let (client, _) = client(&fpl_settings(&url));
    let err = client
        .entry_transfers(EntryId(8), Priority::Bulk)
        .await
        .unwrap_err();
    assert!(matches!(err, FplError::Blocked { .. }), "{err:?}");
    assert_eq!(fake.hits("transfers-8"), 1);
}

#[actix_rt::test]
async fn a_403_without_the_challenge_refuses_that_resource_only_and_is_not_retried() {
    let (url, fake) = spawn_fake_fpl();
    let (client, _) = client(&fpl_settings(&url));
    let err = client
        .entry_transfers(EntryId(9), Priority::Bulk)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        FplError::Forbidden {
            path: "entry/9/transfers/".into()
        }
    );
    assert_eq!(fake.hits("transfers-9"), 1);
    assert!(client.blocked_since().is_none());
    client
        .bootstrap_static(Priority::Meta)
        .await
        .expect("other requests go on");
}

#[actix_rt::test]
async fn a_page_that_is_not_json_is_fpl_unavailable_whatever_its_status_and_is_retried_never_decoded()
 {
    let (url, fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.max_retries = 2;
    let (client, metrics) = client(&settings);
    for (id, status) in [(5, 200), (6, 502), (4, 200)] {
        let err = client.entry(EntryId(id), Priority::Bulk).await.unwrap_err();
        assert_eq!(
            err,
            FplError::Unavailable {
                status,
                path: format!("entry/{id}/")
            },
            "entry {id}"
        );
        assert_eq!(
            fake.hits(&format!("entry-{id}")),
            3,
            "entry {id}: 1 + 2 retries"
        );
    }
    let (for_, last) = client.unavailable_for().expect("FPL is unavailable");
    assert!(for_ < Duration::from_secs(60));
    assert_eq!(
        last,
        fplsync::fpl::client::Unavailability::Page { status: 200 }
    );
    assert!(
        metrics
            .render()
            .contains(r#"fplsync_fpl_retries_total{endpoint="entry",reason="unavailable"} 6"#),
        "{}",
        metrics.render()
    );
    // Any answer with data ends the episode.
    client.bootstrap_static(Priority::Meta).await.unwrap();
    assert!(client.unavailable_for().is_none());
}

#[actix_rt::test]
async fn json_cut_short_on_every_try_is_retried_like_a_5xx_then_reported_as_truncated() {
    let (url, fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.max_retries = 2;
    let (client, metrics) = client(&settings);
    let err = client
        .entry_history(EntryId(1), Priority::Bulk)
        .await
        .unwrap_err();
    let FplError::Truncated { path, message } = &err else {
        panic!("expected Truncated, got {err:?}");
    };
    assert_eq!(path, "entry/1/history/");
    assert!(message.contains("EOF"), "{message}");
    assert_eq!(fake.hits("history-1"), 3, "one try and two retries");
    assert!(
        metrics.render().contains(
            r#"fplsync_fpl_retries_total{endpoint="entry-history",reason="truncated"} 2"#
        )
    );
    // A job retries it with its backoff rather than failing the run at once.
    assert!(matches!(
        fplsync::jobs::JobError::from(err),
        fplsync::jobs::JobError::Transient(_)
    ));
}

#[actix_rt::test]
async fn a_body_cut_short_once_is_read_whole_on_the_retry() {
    let (url, fake) = spawn_fake_fpl();
    let (client, _) = client(&fpl_settings(&url));
    let history = client
        .entry_history(EntryId(2), Priority::Bulk)
        .await
        .expect("the retry reads the whole body");
    assert!(history.current.is_empty());
    assert_eq!(fake.hits("history-2"), 2);
}

#[actix_rt::test]
async fn a_complete_body_that_does_not_decode_is_permanent_and_not_retried() {
    let (url, fake) = spawn_fake_fpl();
    let (client, _) = client(&fpl_settings(&url));
    let err = client
        .entry_history(EntryId(3), Priority::Bulk)
        .await
        .unwrap_err();
    let FplError::Decode { path, message } = &err else {
        panic!("expected Decode, got {err:?}");
    };
    assert_eq!(path, "entry/3/history/");
    assert!(message.contains("current"), "{message}");
    assert_eq!(
        fake.hits("history-3"),
        1,
        "the same bytes would not decode on retry"
    );
    assert!(matches!(
        fplsync::jobs::JobError::from(err),
        fplsync::jobs::JobError::Permanent(_)
    ));
}

/// A server that promises `Content-Length: 1000` and closes the connection after a few bytes,
/// on the first `cut` connections, then answers whole. Returns its base URL and a counter of
/// connections.
async fn spawn_cutting_server(cut: usize) -> (String, std::sync::Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    actix_rt::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await;
            let body = r#"{"fixtures": [], "history": [], "history_past": []}"#;
            let answer = if n < cut {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: 1000\r\nconnection: close\r\n\r\n{}",
                    &body[..10]
                )
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (format!("http://127.0.0.1:{port}/api/"), connections)
}

#[actix_rt::test]
async fn a_connection_closed_before_its_content_length_is_retried_as_truncated() {
    let (url, connections) = spawn_cutting_server(1).await;
    let (client, metrics) = client(&fpl_settings(&url));
    let summary = client
        .element_summary(fplsync::fpl::model::ElementId(7), Priority::Meta)
        .await
        .expect("the retry reads the whole body");
    assert!(summary.history.is_empty());
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert!(
        metrics.render().contains(
            r#"fplsync_fpl_retries_total{endpoint="element-summary",reason="truncated"} 1"#
        )
    );

    let (url, _) = spawn_cutting_server(usize::MAX).await;
    let mut settings = fpl_settings(&url);
    settings.max_retries = 1;
    let (always_cut, _) = self::client(&settings);
    let err = always_cut
        .element_summary(fplsync::fpl::model::ElementId(7), Priority::Meta)
        .await
        .unwrap_err();
    assert!(matches!(err, FplError::Truncated { .. }), "{err:?}");
    assert!(!err.to_string().contains("Some("), "{err}");
}

#[actix_rt::test]
async fn a_classic_league_is_read_across_all_its_pages_once_each() {
    let (url, fake) = spawn_fake_fpl();
    let (client, _) = client(&fpl_settings(&url));
    let table = client
        .classic_standings(LeagueId(314), Priority::Tournament)
        .await
        .expect("standings");
    assert_eq!(table.league.name, "Test league");
    assert_eq!(table.pages, 3);
    let entries: Vec<u64> = table.rows.iter().map(|r| r.entry.0).collect();
    assert_eq!(entries, (1001..=1150).collect::<Vec<_>>());
    for page in 1..=3 {
        assert_eq!(fake.hits(&format!("classic-{page}")), 1, "page {page}");
    }
    assert_eq!(fake.hits("classic-4"), 0);
}

#[actix_rt::test]
async fn a_page_cap_stops_a_list_that_never_ends() {
    let (url, _fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.max_pages = 2;
    let (client, _) = client(&settings);
    let err = client
        .classic_standings(LeagueId(314), Priority::Tournament)
        .await
        .unwrap_err();
    assert!(
        matches!(err, FplError::TooManyPages { max_pages: 2, .. }),
        "{err:?}"
    );
}

#[actix_rt::test]
async fn a_run_of_5xx_opens_the_breaker_which_then_recovers() {
    let (url, fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.max_retries = 0;
    settings.breaker_window = 4;
    settings.breaker_min_calls = 4;
    settings.breaker_open_secs = 1;
    let (client, metrics) = client(&settings);
    let summary = |c: FplClient| async move {
        c.element_summary(fplsync::fpl::model::ElementId(7), Priority::Meta)
            .await
    };
    fake.failing.store(true, Ordering::SeqCst);
    for _ in 0..4 {
        let err = summary(client.clone()).await.unwrap_err();
        assert!(
            matches!(err, FplError::Status { status: 500, .. }),
            "{err:?}"
        );
    }
    assert_eq!(client.breaker_state(), BreakerState::Open);
    assert!(metrics.render().contains("fplsync_fpl_breaker_state 2"));
    // Open: fails fast, the API hears nothing.
    let err = summary(client.clone()).await.unwrap_err();
    assert!(matches!(err, FplError::CircuitOpen { .. }), "{err:?}");
    assert_eq!(fake.hits("element-summary"), 4);

    fake.failing.store(false, Ordering::SeqCst);
    let recovered = eventually(
        "the breaker lets a probe through",
        Duration::from_secs(5),
        || {
            let client = client.clone();
            async move { summary(client).await.ok() }
        },
    )
    .await;
    assert!(recovered.history.is_empty());
    assert_eq!(client.breaker_state(), BreakerState::Closed);
    assert!(metrics.render().contains("fplsync_fpl_breaker_state 0"));
    assert_eq!(fake.hits("element-summary"), 5, "exactly one probe");
}

#[actix_rt::test]
async fn the_fpl_metrics_pass_promtool() {
    let (url, _fake) = spawn_fake_fpl();
    let mut settings = fpl_settings(&url);
    settings.max_retries = 1;
    let (client, metrics) = client(&settings);
    client.bootstrap_static(Priority::Meta).await.unwrap();
    client.fixtures(Priority::Live).await.unwrap_err();
    client
        .entry_cup(EntryId(1), Priority::Bulk)
        .await
        .unwrap_err();
    let text = metrics.render();
    for family in [
        "fplsync_fpl_requests_total",
        "fplsync_fpl_request_duration_seconds",
        "fplsync_fpl_admission_wait_seconds",
        "fplsync_fpl_breaker_state",
        "fplsync_fpl_retries_total",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} missing"
        );
    }
    assert_promtool_accepts(&text);
}
