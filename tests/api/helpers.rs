//! The test harness: `spawn_app` starts the real application on a random port with its own
//! PostgreSQL database and Redis key prefix, so tests run in parallel without seeing each other.

use std::future::Future;
use std::sync::Once;
use std::time::Duration;

use fplsync::auth::ApiKeySettings;
use fplsync::auth::Role;
use fplsync::cache::Loaders;
use fplsync::http::ApiState;
use fplsync::{Application, Options, Settings};
use rand::Rng;
use reqwest::StatusCode;
use serde_json::Value;

use crate::kinds;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: ApiState,
    /// Unique per test: Redis prefix, gate names.
    pub id: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub body: Value,
}

static TRACING: Once = Once::new();

/// The keys every test application knows. `TestApp::client` sends the admin's, so tests that
/// are not about access control need not think about it.
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";
pub const OPERATOR_KEY: &str = "test-operator-key-0123456789";
pub const VIEWER_KEY: &str = "test-viewer-key-0123456789";
/// The kinds the test operator may steer.
pub const OPERATOR_KINDS: [&str; 2] = ["test-sleep", "test-gate"];

fn test_keys() -> Vec<ApiKeySettings> {
    let key = |name: &str, role, kinds: &[&str], secret: &str| ApiKeySettings {
        name: name.into(),
        role,
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        sha256: fplsync::auth::hash_key(secret),
    };
    vec![
        key("test-admin", Role::Admin, &[], ADMIN_KEY),
        key(
            "test-operator",
            Role::Operator,
            &OPERATOR_KINDS,
            OPERATOR_KEY,
        ),
        key("test-viewer", Role::Viewer, &[], VIEWER_KEY),
    ]
}

/// Settings for a test: its own schema (in the shared `fplsync_test` database, which
/// `.ci/test` drops afterwards), its own Redis prefix, a random port, quick backoffs.
pub fn test_settings(id: &str) -> Settings {
    let mut s = Settings::load(None).expect("default settings");
    s.database.url = "postgres://postgres@127.0.0.1:5432/fplsync_test"
        .to_string()
        .into();
    s.database.schema = format!("t_{id}");
    s.database.max_connections = 4;
    s.redis.prefix = format!("fplsync-test-{id}:");
    s.http.bind = "127.0.0.1:0".into();
    s.http.workers = 1;
    s.auth.keys = test_keys();
    // Tests trigger far more than an operator would; the limit's own test lowers it.
    s.auth.trigger_limit = 1_000_000;
    s.supervisor.backoff_base_ms = 50;
    s.supervisor.backoff_cap_ms = 200;
    s.jobs.backoff_base_ms = 50;
    s.scheduler.jobs.clear();
    // Alerts are announced at once (tests that exercise the group wait set their own).
    s.alerts.group_wait_ms = 0;
    s.alerts.tick_ms = 20;
    // The gameweek lifecycle would poll FPL on its own; tests that want it turn it on.
    s.live.enabled = false;
    // No start-up warm-up unless a test asks for one: a test that ends while the cache is still
    // reading PostgreSQL would drop that query outside the runtime (see spawn_app).
    s.cache.warm.clear();
    s
}

pub fn unique_id() -> String {
    format!("{:012x}", rand::rng().random::<u64>() & 0xffff_ffff_ffff)
}

/// A simulator on a free port, its clock stopped (tests move it), with `entries` synthetic
/// managers and `faults` (in `fplsync sim --fault` syntax).
pub async fn start_sim(entries: u32, faults: &[&str]) -> fplsync::sim::RunningSim {
    fplsync::sim::Simulator::start(fplsync::sim::SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries,
        workers: 1,
        faults: faults.iter().map(|f| f.parse().unwrap()).collect(),
        ..Default::default()
    })
    .await
    .expect("the simulator starts")
}

/// Points the application's FPL client at `base_url`, unthrottled (the server is local): 100
/// req/s with a burst as large, since the default strict pacing (burst 1) would space a test's
/// requests 10 ms apart. Pacing is tested in `fpl::admission` and measured by the
/// `entries_rate_limited` benchmark.
pub fn point_fpl_at(s: &mut Settings, base_url: String) {
    s.fpl.base_url = base_url;
    s.fpl.rate_per_sec = 100;
    s.fpl.burst = 100;
}

/// Starts the application with the built-in kinds plus the test kinds of [`kinds`].
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_using(configure, Loaders::new()).await
}

/// Starts the application with `loaders` standing in for the cache's PostgreSQL reads.
pub async fn spawn_app_using(configure: impl FnOnce(&mut Settings), loaders: Loaders) -> TestApp {
    TRACING.call_once(|| {
        let filter = std::env::var("TEST_LOG").unwrap_or_else(|_| "error".into());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
    let id = unique_id();
    let mut settings = test_settings(&id);
    configure(&mut settings);
    let catalog = kinds::register(fplsync::app::builtin_catalog());
    let app = Application::build_with(
        settings,
        Options {
            catalog,
            handle_signals: false,
            loaders,
        },
    )
    .await
    .expect("the application starts (is PostgreSQL up? run .ci/services)");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    actix_rt::spawn(app.run_until_stopped());
    let client = client_with_key(Some(ADMIN_KEY));
    let app = TestApp {
        address,
        client,
        state,
        id,
    };
    // Every actor is running, and every job actor has rebuilt its queue from PostgreSQL (it
    // answers a status query only then). Tests start from a quiet application: one that ended
    // while an actor's query was in flight would drop that query outside the runtime, which
    // sqlx answers with a panic in a destructor.
    let actors = app
        .eventually("all actors running", || async {
            let actors = app.get("/actors").await.body;
            actors["actors"]
                .as_array()
                .filter(|a| !a.is_empty() && a.iter().all(|a| a["state"] == "running"))
                .cloned()
        })
        .await;
    for actor in actors {
        let name = actor["name"].as_str().unwrap().to_string();
        if name.starts_with("job:") {
            app.eventually(&format!("{name} has loaded its queue"), || async {
                let status = app.get(&format!("/actors/{name}")).await.body;
                (!status["status"].is_null()).then_some(())
            })
            .await;
        }
    }
    app
}

/// An HTTP client that sends `key` (if any) with every request.
pub fn client_with_key(key: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(key) = key {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {key}").parse().unwrap(),
        );
    }
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    /// Sends `method path` with `key` (none: no key) and an optional raw body.
    pub async fn request_as(
        &self,
        key: Option<&str>,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let client = client_with_key(key);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client.request(method, format!("{}{path}", self.address));
        if let Some((content_type, bytes)) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            retry_after,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let resp = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET sent");
        Self::reply(resp).await
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.client.post(format!("{}{path}", self.address));
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::reply(req.send().await.expect("POST sent")).await
    }

    /// Triggers `kind` and expects 202; returns the run id.
    pub async fn trigger(&self, kind: &str, params: Value) -> i64 {
        let r = self
            .post(&format!("/jobs/{kind}/trigger"), Some(params))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "trigger {kind}: {}", r.body);
        r.body["run_id"].as_i64().expect("run id")
    }

    /// Triggers `kind` until its actor accepts (it may be restarting).
    pub async fn trigger_when_up(&self, kind: &str, params: Value) -> i64 {
        self.eventually(&format!("{kind} accepts a trigger"), || async {
            let r = self
                .post(&format!("/jobs/{kind}/trigger"), Some(params.clone()))
                .await;
            (r.status == StatusCode::ACCEPTED).then(|| r.body["run_id"].as_i64().unwrap())
        })
        .await
    }

    /// Creates a tournament from a league: 202 at once with the `tournament-roster` run, which
    /// must succeed; returns the tournament as it then stands (roster ready).
    pub async fn create_league_tournament(&self, body: Value) -> Value {
        let r = self.post("/tournaments", Some(body)).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        // The job may have begun before the answer was written.
        assert!(
            ["pending", "reading"].contains(&r.body["roster"]["state"].as_str().unwrap_or("")),
            "{}",
            r.body
        );
        let run = self
            .finished_run(r.body["run_id"].as_i64().expect("a roster run"))
            .await;
        assert_eq!(run["status"], "succeeded", "{run}");
        let id = r.body["id"].as_i64().unwrap();
        let t = self.get(&format!("/tournaments/{id}")).await.body;
        assert_eq!(t["roster"]["state"], "ready", "{t}");
        t
    }

    /// Waits until run `id` reaches a final status and returns it with its logs.
    pub async fn finished_run(&self, id: i64) -> Value {
        self.eventually(&format!("run {id} finishes"), || async {
            let run = self.get(&format!("/jobs/{id}")).await.body;
            let status = run["status"].as_str().unwrap_or("");
            (!["queued", "running"].contains(&status)).then_some(run)
        })
        .await
    }

    pub async fn actor(&self, name: &str) -> Value {
        let actors = self.get("/actors").await.body;
        actors["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no actor {name} in {actors}"))
    }

    pub async fn supervision(&self, actor: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/supervision?actor={actor}&limit=1000"))
            .await;
        r.body["events"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `probe` until it yields a value, failing the test after 20 s.
    pub async fn eventually<T, F, Fut>(&self, what: &str, probe: F) -> T
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        eventually(what, Duration::from_secs(20), probe).await
    }
}

/// The units of a run's shared work that its instances finished, summed over its
/// `units.instances[]`.
pub fn units_finished_by_instances(run: &Value) -> i64 {
    run["units"]["instances"]
        .as_array()
        .expect("the run has shared work")
        .iter()
        .map(|i| i["done"].as_i64().unwrap())
        .sum()
}

/// Polls `probe` every 20 ms until it yields a value, panicking with `what` after `deadline`.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "timed out after {deadline:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resident memory of this process in KiB.
#[allow(dead_code)] // used by the backpressure binary only
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Fails the test unless `promtool check metrics` accepts the exposition `text`.
pub fn assert_promtool_accepts(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (.ci/services installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
