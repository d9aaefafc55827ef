//! The control endpoint's contract: health, readiness, metrics, and clear errors for bad input.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_promtool_accepts, spawn_app};

#[actix_rt::test]
async fn health_and_readiness_report_a_healthy_service() {
    let app = spawn_app().await;
    let health = app.get("/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["postgres"], true);
    assert_eq!(ready.body["redis"], true);
}

#[actix_rt::test]
async fn the_actor_tree_lists_every_actor_with_its_parent_and_mailbox() {
    let app = spawn_app().await;
    let actors = app.get("/actors").await.body;
    let names: Vec<&str> = actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[..6],
        ["root", "alerts", "cache", "jobs", "lifecycle", "scheduler"]
    );
    assert!(names.contains(&"job:prune"));
    let prune = app.actor("job:prune").await;
    assert_eq!(prune["parent"], "jobs");
    assert_eq!(prune["role"], "worker");
    assert_eq!(prune["mailbox_capacity"], 16);
    assert_eq!(prune["mailbox_depth"], 0);
    assert_eq!(app.actor("jobs").await["parent"], "root");
    assert_eq!(app.actor("alerts").await["mailbox_capacity"], 256);
}

#[actix_rt::test]
async fn metrics_pass_promtool_and_cover_the_runtime_families() {
    let app = spawn_app().await;
    let ok = app.trigger("test-sleep", json!({"ms": 1})).await;
    app.finished_run(ok).await;
    let failed = app.trigger("test-panic", json!({})).await;
    app.finished_run(failed).await;
    app.eventually("the panicked actor is back", || async {
        (app.actor("job:test-panic").await["state"] == "running").then_some(())
    })
    .await;

    let resp = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    for family in [
        "fplsync_supervision_events_total",
        "fplsync_actor_restarts_total",
        "fplsync_actor_state",
        "fplsync_actor_mailbox_depth",
        "fplsync_actor_mailbox_capacity",
        "fplsync_job_requests_total",
        "fplsync_job_runs_total",
        "fplsync_job_run_duration_seconds",
        "fplsync_job_runs_in_progress",
        "fplsync_alerts_emitted_total",
        "fplsync_cache_requests_total",
        "fplsync_cache_writes_total",
        "fplsync_cache_degraded",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing"
        );
    }
    assert!(text.contains("fplsync_job_runs_total{kind=\"test-panic\",outcome=\"failed\"} 1"));
    assert!(text.contains("fplsync_actor_state{actor=\"job:test-panic\",state=\"running\"} 1"));

    assert_promtool_accepts(&text);
}

#[actix_rt::test]
async fn bad_http_input_gets_a_json_error_with_a_stable_code() {
    let app = spawn_app().await;
    let cases: Vec<(
        reqwest::Method,
        &str,
        Option<&'static str>,
        StatusCode,
        &str,
    )> = vec![
        (
            Method::POST,
            "/jobs/nope/trigger",
            None,
            StatusCode::NOT_FOUND,
            "unknown_kind",
        ),
        (
            Method::POST,
            "/jobs/test-sleep/trigger",
            Some("{not json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            Method::POST,
            "/jobs/test-sleep/trigger",
            Some("[1,2]"),
            StatusCode::BAD_REQUEST,
            "invalid_params",
        ),
        (
            Method::POST,
            "/jobs/test-sleep/trigger",
            Some(r#"{"ms":"soon"}"#),
            StatusCode::BAD_REQUEST,
            "invalid_params",
        ),
        (
            Method::POST,
            "/jobs/test-sleep/trigger",
            Some(r#"{"colour":1}"#),
            StatusCode::BAD_REQUEST,
            "invalid_params",
        ),
        (
            Method::GET,
            "/jobs?status=done",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_status",
        ),
        (
            Method::GET,
            "/jobs?kind=nope",
            None,
            StatusCode::BAD_REQUEST,
            "unknown_kind",
        ),
        (
            Method::GET,
            "/jobs?limit=0",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            Method::GET,
            "/jobs?limit=many",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/jobs?colour=red",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/jobs/abc",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_path",
        ),
        (
            Method::GET,
            "/jobs/999999999",
            None,
            StatusCode::NOT_FOUND,
            "run_not_found",
        ),
        (
            Method::GET,
            "/supervision?since=yesterday",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/supervision?limit=100000",
            None,
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            Method::GET,
            "/nowhere",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::DELETE,
            "/jobs",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/actors/nobody/pause",
            None,
            StatusCode::NOT_FOUND,
            "unknown_actor",
        ),
        (
            Method::POST,
            "/actors/root/restart",
            None,
            StatusCode::CONFLICT,
            "not_restartable",
        ),
        (
            Method::POST,
            "/actors/jobs/pause",
            None,
            StatusCode::CONFLICT,
            "not_controllable",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let mut req = app
            .client
            .request(method.clone(), format!("{}{path}", app.address));
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let resp = req.send().await.unwrap();
        let got = resp.status();
        let json: serde_json::Value = resp.json().await.unwrap_or_else(|e| {
            panic!("{method} {path}: body is not JSON: {e}");
        });
        assert_eq!(got, status, "{method} {path}: {json}");
        assert_eq!(json["error"], code, "{method} {path}: {json}");
        assert!(
            !json["message"].as_str().unwrap().is_empty(),
            "{method} {path}: no message"
        );
    }
    // Bad requests left nothing behind.
    let runs = app.get("/jobs").await.body;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 0);
}

#[test]
fn the_binary_refuses_bad_configuration_and_names_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_fplsync"))
        .arg("migrate")
        .env("FPLSYNC__HTTP__BIND", "not-an-address")
        .env("FPLSYNC__SCHEDULER__JOBS__PRUNE", "whenever")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("http.bind"), "{stderr}");
    assert!(stderr.contains("scheduler.jobs.prune"), "{stderr}");
}

#[test]
fn the_binary_refuses_schedules_and_warm_keys_the_catalog_and_the_cache_do_not_know() {
    let out = Command::new(env!("CARGO_BIN_EXE_fplsync"))
        .arg("serve")
        .env("FPLSYNC__HTTP__BIND", "127.0.0.1:0")
        .env("FPLSYNC__SCHEDULER__JOBS__NOSUCHKIND", "0 0 * * * *")
        // `finalize` needs its gameweek: a cron tick, which gives no parameters, cannot run it.
        .env("FPLSYNC__SCHEDULER__JOBS__FINALIZE", "0 0 * * * *")
        .env("FPLSYNC__CACHE__WARM", "[\"meta:teams\", \"meta:nope\"]")
        .env(
            "FPLSYNC__DATABASE__URL",
            "postgres://postgres@127.0.0.1:5432/fplsync_test_unused",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for problem in [
        "scheduler.jobs.nosuchkind: no job kind is named `nosuchkind`",
        "scheduler.jobs.finalize: `finalize` cannot run without parameters",
        "cache.warm[1]: `meta:nope` is not a cache key",
    ] {
        assert!(stderr.contains(problem), "{problem} missing from: {stderr}");
    }
}

#[test]
fn secrets_never_reach_the_log_or_error_output() {
    let out = Command::new(env!("CARGO_BIN_EXE_fplsync"))
        .arg("migrate")
        .env(
            "FPLSYNC__DATABASE__URL",
            "postgres://u:hunter2@127.0.0.1:1/x",
        )
        .env("FPLSYNC__DATABASE__ACQUIRE_TIMEOUT_MS", "500")
        .env("FPLSYNC__TELEGRAM__TOKEN", "123:SECRET")
        // A token needs a chat to alert, else the configuration is refused before PostgreSQL.
        .env("FPLSYNC__TELEGRAM__CHAT_IDS", "[1]")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("PostgreSQL"), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
    assert!(!all.contains("SECRET"), "{all}");
}

#[test]
fn the_demo_plays_gameweek_38_through_to_final() {
    let id = crate::helpers::unique_id();
    let out = Command::new(env!("CARGO_BIN_EXE_fplsync"))
        .args([
            "demo",
            "--speed",
            "3600",
            "--entries",
            "100",
            "--exit-when-final",
        ])
        .env("FPLSYNC__HTTP__BIND", "127.0.0.1:0")
        .env(
            "FPLSYNC__DATABASE__URL",
            "postgres://postgres@127.0.0.1:5432/fplsync_test",
        )
        .env("FPLSYNC__DATABASE__SCHEMA", format!("t_{id}"))
        .env("FPLSYNC__REDIS__PREFIX", format!("fplsync-test-{id}:"))
        .env("FPLSYNC__LOG__FORMAT", "json")
        .env("RUST_LOG", "fplsync::demo=info,warn")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{log}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let narration: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "fplsync::demo")
        .map(|l| l["message"].as_str().unwrap_or_default().to_string())
        .collect();
    for expected in [
        "simulator: GW38 PRE_DEADLINE",
        // The clock waits for the tournament, so the picks sync starts at the deadline.
        "simulator: clock held at the gameweek's start until the tournament is active",
        "simulator: clock running at 3600× after",
        "simulator: GW38 IN_PLAY",
        "simulator: GW38 FINAL",
        // The tournament from the classic league: 72 real and 100 synthetic managers.
        "roster ready: 172 managers from 4 pages",
        "activated: 172 tracked managers",
        // Picks after the deadline, live scores during the matches.
        "picks stored: 172 of 172 managers for GW38",
        "live GW38: top managers",
        "fixtures 10 started, 0 finished",
        "service has stored: GW38 current, finished, data checked; fixtures 10 started, 10 finished",
        // Finalized against FPL's official points, and the standings from it.
        "GW38 finalized: official results of 172 managers, 0 mismatches",
        "standings after GW38: leader",
        "gameweek 38 is final and stored, finalized, and the tournament's results are in",
    ] {
        assert!(
            narration.iter().any(|m| m.contains(expected)),
            "missing `{expected}` in:\n{}",
            narration.join("\n")
        );
    }
    assert!(
        !narration
            .iter()
            .any(|m| m.contains("the gameweek starts anyway")),
        "the clock was let go before the tournament was active:\n{}",
        narration.join("\n")
    );
}
