//! Real processes for the tests that need them: `fplsync serve` as a child process (kill -9,
//! signals, several instances of one deployment) and a redis-server of a test's own (stopped
//! and restarted under the service).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{eventually, test_settings};

/// One `fplsync serve` process.
pub struct Instance {
    child: Child,
    pub address: String,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    /// Starts `fplsync serve` on the schema and prefix of test `id`, its FPL client pointed at
    /// `fpl`, and waits until it answers.
    pub async fn start(id: &str, fpl: &str, env: &[(&str, &str)]) -> Instance {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fplsync"));
        cmd.arg("serve")
            .env("FPLSYNC__HTTP__BIND", "127.0.0.1:0")
            .env("FPLSYNC__HTTP__WORKERS", "1")
            .env(
                "FPLSYNC__DATABASE__URL",
                "postgres://postgres@127.0.0.1:5432/fplsync_test",
            )
            .env("FPLSYNC__DATABASE__SCHEMA", format!("t_{id}"))
            .env("FPLSYNC__DATABASE__MAX_CONNECTIONS", "4")
            .env("FPLSYNC__REDIS__PREFIX", format!("fplsync-test-{id}:"))
            .env("FPLSYNC__FPL__BASE_URL", fpl)
            .env("FPLSYNC__FPL__RATE_PER_SEC", "100")
            .env("FPLSYNC__FPL__ATTEMPT_TIMEOUT_MS", "120000")
            .env("FPLSYNC__FPL__DEADLINE_MS", "120000")
            .env("FPLSYNC__JOBS__STALL_SECS", "121")
            .env("FPLSYNC__LEADER__RETRY_MS", "500")
            // The gameweek lifecycle would poll the simulator and ask for runs of its own.
            .env("FPLSYNC__LIVE__ENABLED", "false")
            .env("FPLSYNC__LOG__FORMAT", "json")
            // The tests' admin key, which `client` sends.
            .env(
                "FPLSYNC__AUTH__KEYS",
                format!(
                    "[{{name = \"test-admin\", role = \"admin\", sha256 = \"{}\"}}]",
                    fplsync::auth::hash_key(crate::helpers::ADMIN_KEY)
                ),
            )
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // No schedules unless the test sets some.
        for kind in ["BOOTSTRAP", "FIXTURES", "PRUNE"] {
            if !env
                .iter()
                .any(|(k, _)| *k == format!("FPLSYNC__SCHEDULER__JOBS__{kind}"))
            {
                cmd.env(
                    format!("FPLSYNC__SCHEDULER__JOBS__{kind}"),
                    "0 0 0 1 1 * 2099",
                );
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("fplsync serve starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let port = eventually("the instance listens", Duration::from_secs(30), || async {
            log.lock().unwrap().iter().find_map(|l| {
                let l: Value = serde_json::from_str(l).ok()?;
                (l["message"] == "control endpoint listening").then(|| l["port"].as_u64())?
            })
        })
        .await;
        let instance = Instance {
            child,
            address: format!("http://127.0.0.1:{port}"),
            client: crate::helpers::client_with_key(Some(crate::helpers::ADMIN_KEY)),
            log,
        };
        eventually("the instance is ready", Duration::from_secs(30), || async {
            (instance.get("/ready").await.0 == StatusCode::OK).then_some(())
        })
        .await;
        instance
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        match self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
        {
            Ok(r) => (r.status(), r.json().await.unwrap_or(Value::Null)),
            Err(_) => (StatusCode::BAD_GATEWAY, Value::Null),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.address))
            .json(&body)
            .send()
            .await
            .expect("POST sent");
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn metrics(&self) -> String {
        let r = self
            .client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .expect("GET sent");
        r.text().await.unwrap()
    }

    pub async fn role(&self) -> String {
        let (_, ready) = self.get("/ready").await;
        ready["leadership"]["role"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub async fn trigger_bootstrap(&self) -> i64 {
        let (status, body) = self.post("/jobs/bootstrap/trigger", json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body["run_id"].as_i64().unwrap()
    }

    pub async fn wait_running(&self, run: i64) {
        eventually(
            &format!("run {run} is running"),
            Duration::from_secs(20),
            || async {
                let (_, r) = self.get(&format!("/jobs/{run}")).await;
                (r["status"] == "running").then_some(())
            },
        )
        .await;
    }

    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().unwrap();
    }

    pub fn sigterm(&self) {
        self.signal("-TERM");
    }

    pub fn signal(&self, which: &str) {
        let status = Command::new("kill")
            .args([which, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `deadline` for the process to exit and returns its exit code.
    pub async fn exit_code(&mut self, deadline: Duration) -> Option<i32> {
        let child = Mutex::new(&mut self.child);
        eventually("the process exits", deadline, || async {
            child.lock().unwrap().try_wait().unwrap().map(|s| s.code())
        })
        .await
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The test's schema, read directly.
pub async fn store(id: &str) -> PgPool {
    fplsync::store::pool(&test_settings(id).database)
        .await
        .unwrap()
}

/// A redis-server of the test's own on a free port, killed when dropped.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = PrivateRedis { port, child: None };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/services installs it)");
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn wait_up(&self) -> redis::aio::MultiplexedConnection {
        let url = self.url();
        eventually(
            "the private Redis answers",
            Duration::from_secs(10),
            || async {
                let client = redis::Client::open(url.as_str()).unwrap();
                client.get_multiplexed_async_connection().await.ok()
            },
        )
        .await
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
