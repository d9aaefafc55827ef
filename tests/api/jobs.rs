//! Job runs: recording, coalescing, backpressure, ordering, concurrency, retries, schedules.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};
use crate::kinds::open_gate;

fn time(run: &Value, field: &str) -> DateTime<Utc> {
    run[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {run}"))
        .parse()
        .unwrap()
}

#[actix_rt::test]
async fn a_triggered_run_is_visible_with_status_progress_attempts_and_logs() {
    let app = spawn_app().await;
    let id = app.trigger("test-flaky", json!({"fail_times": 1})).await;
    let run = app.finished_run(id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["kind"], "test-flaky");
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["attempt"], 2);
    assert_eq!(run["max_attempts"], 3);
    assert_eq!(run["progress"], 100);
    assert_eq!(run["params"], json!({"fail_times": 1, "tag": 0}));
    let logs: Vec<&str> = run["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(logs[0], "attempt 1 begins");
    assert!(
        logs[1].starts_with("attempt 1 of 3 failed: flaky failure on attempt 1; retrying in"),
        "{logs:?}"
    );
    assert_eq!(logs[2..], ["attempt 2 begins", "succeeded on attempt 2"]);

    let listed = app.get("/jobs?kind=test-flaky&status=succeeded").await.body;
    assert_eq!(listed["runs"][0]["id"], id);
}

#[actix_rt::test]
async fn a_duplicate_trigger_returns_the_same_run_id() {
    let app = spawn_app().await;
    let gate = format!("dup-{}", app.id);
    let first = app
        .post("/jobs/test-gate/trigger", Some(json!({"gate": gate})))
        .await;
    let second = app
        .post("/jobs/test-gate/trigger", Some(json!({"gate": gate})))
        .await;
    assert_eq!(first.body["coalesced"], false);
    assert_eq!(second.status, StatusCode::ACCEPTED);
    assert_eq!(second.body["coalesced"], true);
    assert_eq!(first.body["run_id"], second.body["run_id"]);
    // Parameters in another order, or spelling out a default, are the same request.
    let third = app
        .post(
            "/jobs/test-gate/trigger",
            Some(json!({"tag": 0, "gate": gate})),
        )
        .await;
    assert_eq!(third.body["run_id"], first.body["run_id"]);
    // Different parameters are a different run.
    let other = app
        .post(
            "/jobs/test-gate/trigger",
            Some(json!({"gate": gate, "tag": 1})),
        )
        .await;
    assert_ne!(other.body["run_id"], first.body["run_id"]);
    open_gate(&gate);
    let runs = app.get("/jobs?kind=test-gate").await.body;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2);
}

#[actix_rt::test]
async fn runs_of_one_kind_execute_one_at_a_time_in_arrival_order() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for tag in 0..5 {
        ids.push(
            app.trigger("test-sleep", json!({"ms": 30, "tag": tag}))
                .await,
        );
    }
    let mut runs = Vec::new();
    for id in &ids {
        runs.push(app.finished_run(*id).await);
    }
    for pair in runs.windows(2) {
        assert_eq!(pair[1]["status"], "succeeded");
        assert!(
            time(&pair[1], "started_at") >= time(&pair[0], "finished_at"),
            "run {} started before run {} finished",
            pair[1]["id"],
            pair[0]["id"]
        );
    }
}

#[actix_rt::test]
async fn runs_of_different_kinds_proceed_at_the_same_time() {
    let app = spawn_app().await;
    let gate = format!("concurrent-{}", app.id);
    let blocked = app.trigger("test-gate", json!({"gate": gate})).await;
    let other = app.trigger("test-sleep", json!({"ms": 1})).await;
    // test-sleep finishes while test-gate's run is still running.
    assert_eq!(app.finished_run(other).await["status"], "succeeded");
    assert_eq!(
        app.get(&format!("/jobs/{blocked}")).await.body["status"],
        "running"
    );
    open_gate(&gate);
    assert_eq!(app.finished_run(blocked).await["status"], "succeeded");
}

#[actix_rt::test]
async fn a_failing_run_is_retried_with_backoff_without_blocking_other_kinds() {
    let app = spawn_app_with(|s| s.jobs.backoff_base_ms = 400).await;
    let flaky = app.trigger("test-flaky", json!({"fail_times": 2})).await;
    let other = app.trigger("test-sleep", json!({"ms": 1})).await;
    let other = app.finished_run(other).await;
    assert_eq!(other["status"], "succeeded");

    let flaky = app.finished_run(flaky).await;
    assert_eq!(flaky["status"], "succeeded");
    assert_eq!(flaky["attempt"], 3);
    // The other kind finished while the flaky run was still backing off.
    assert!(time(&other, "finished_at") < time(&flaky, "finished_at"));
    // Backoff 400 ms then 800 ms (±20 % jitter) between the attempts' first log lines.
    let begins: Vec<DateTime<Utc>> = flaky["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["message"].as_str().unwrap().ends_with("begins"))
        .map(|l| time(l, "at"))
        .collect();
    assert_eq!(begins.len(), 3);
    let first_gap = (begins[1] - begins[0]).to_std().unwrap();
    let second_gap = (begins[2] - begins[1]).to_std().unwrap();
    assert!(first_gap >= Duration::from_millis(320), "{first_gap:?}");
    assert!(second_gap >= Duration::from_millis(640), "{second_gap:?}");
}

#[actix_rt::test]
async fn a_run_that_exhausts_its_attempts_fails_with_its_last_error() {
    let app = spawn_app().await;
    let id = app.trigger("test-flaky", json!({"fail_times": 5})).await;
    let run = app.finished_run(id).await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["attempt"], 3);
    assert_eq!(run["error"], "flaky failure on attempt 3");
}

#[actix_rt::test]
async fn a_run_that_shows_no_sign_of_life_is_stalled_and_fails_after_three_stalls() {
    let app = spawn_app_with(|s| {
        s.jobs.kinds.insert(
            "test-sleep".into(),
            fplsync::config::JobKindSettings {
                stall_secs: Some(1),
                ..Default::default()
            },
        );
    })
    .await;
    let id = app.trigger("test-sleep", json!({"ms": 60_000})).await;
    let run = app.finished_run(id).await;
    assert_eq!(run["status"], "failed");
    assert_eq!(run["stalls"], 3);
    assert_eq!(run["attempt"], 1, "stalls do not use up attempts");
    assert!(
        run["error"].as_str().unwrap().contains("stall 3 of 3"),
        "{run}"
    );
}

#[actix_rt::test]
async fn a_cron_schedule_triggers_runs_of_its_kind() {
    let app = spawn_app_with(|s| {
        s.scheduler
            .jobs
            .insert("test-sleep".into(), "* * * * * *".into());
    })
    .await;
    let run = app
        .eventually("a scheduled run succeeds", || async {
            let runs = app.get("/jobs?kind=test-sleep&status=succeeded").await.body;
            runs["runs"].as_array().and_then(|r| r.first().cloned())
        })
        .await;
    assert_eq!(run["trigger"], "schedule");
    // End quiet: no tick may be recording a run as the test's runtime goes away.
    let paused = app.post("/actors/scheduler/pause", None).await;
    assert_eq!(paused.body["state"], "paused");
    app.eventually("no scheduled run is left open", || async {
        let open = ["queued", "running"].iter().map(|s| {
            let app = &app;
            async move {
                app.get(&format!("/jobs?kind=test-sleep&status={s}"))
                    .await
                    .body
            }
        });
        let mut idle = true;
        for body in futures_util::future::join_all(open).await {
            idle &= body["runs"].as_array().is_some_and(|r| r.is_empty());
        }
        idle.then_some(())
    })
    .await;
}

#[actix_rt::test]
async fn the_prune_job_deletes_runs_closed_alerts_and_audit_entries_only_past_their_retention() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let old = app.trigger("test-sleep", json!({"ms": 0})).await;
    app.finished_run(old).await;
    sqlx::query("UPDATE job_runs SET finished_at = now() - interval '40 days' WHERE id = $1")
        .bind(old)
        .execute(db)
        .await
        .unwrap();
    let recent = app.trigger("test-sleep", json!({"ms": 0, "tag": 1})).await;
    app.finished_run(recent).await;
    // Alert groups: closed or open, last seen 40 days or 1 day ago.
    for (key, closed, age) in [
        ("old-closed", true, 40),
        ("old-open", false, 40),
        ("new-closed", true, 1),
    ] {
        sqlx::query(
            "INSERT INTO alerts (key, source, severity, summary, first_seen, last_seen, closed) \
             VALUES ($1, 'test', 'info', 'x', now() - make_interval(days => $3), \
             now() - make_interval(days => $3), $2)",
        )
        .bind(key)
        .bind(closed)
        .bind(age)
        .execute(db)
        .await
        .unwrap();
    }
    // Audit entries: beyond the audit retention (365 days), and within it though older than
    // the runs' retention.
    for (target, age) in [("/old", 400), ("/kept", 40)] {
        sqlx::query(
            "INSERT INTO audit_log (at, channel, actor, action, target, result) \
             VALUES (now() - make_interval(days => $2), 'http', 'test', 'trigger', $1, 'ok')",
        )
        .bind(target)
        .bind(age)
        .execute(db)
        .await
        .unwrap();
    }

    let prune = app.trigger("prune", json!({})).await;
    let run = app.finished_run(prune).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        app.get(&format!("/jobs/{old}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/jobs/{recent}")).await.status,
        StatusCode::OK
    );
    let alerts: Vec<String> = sqlx::query_scalar("SELECT key FROM alerts ORDER BY key")
        .fetch_all(db)
        .await
        .unwrap();
    assert_eq!(alerts, ["new-closed", "old-open"]);
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT target FROM audit_log WHERE target IN ('/old', '/kept') ORDER BY target",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(audited, ["/kept"]);
    // A shorter retention for one run does not reach the audit log.
    let zero_days = app.trigger("prune", json!({"older_than_days": 1})).await;
    app.finished_run(zero_days).await;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE target = '/kept'")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    let bad = app
        .post("/jobs/prune/trigger", Some(json!({"older_than_days": 0})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[actix_rt::test]
async fn a_job_actor_answers_a_status_query_while_its_run_executes() {
    let app = spawn_app().await;
    let gate = format!("status-{}", app.id);
    let running = app.trigger("test-gate", json!({"gate": gate})).await;
    let queued = app
        .trigger("test-gate", json!({"gate": gate, "tag": 1}))
        .await;
    let status = app
        .eventually("the actor reports its running run", || async {
            let actor = app.get("/actors/job:test-gate").await.body;
            (actor["status"]["current"]["run_id"] == running).then_some(actor)
        })
        .await;
    assert_eq!(status["status"]["queued"], json!([queued]));
    assert_eq!(status["status"]["current"]["attempt"], 1);
    assert_eq!(status["state"], "running");
    open_gate(&gate);
    app.finished_run(queued).await;
}

#[actix_rt::test]
async fn queued_and_running_runs_can_be_cancelled_and_the_next_run_starts() {
    let app = spawn_app().await;
    let gate = format!("cancel-{}", app.id);
    let running = app.trigger("test-gate", json!({"gate": gate})).await;
    let queued = app
        .trigger("test-gate", json!({"gate": gate, "tag": 1}))
        .await;
    let last = app
        .trigger("test-gate", json!({"gate": gate, "tag": 2}))
        .await;
    app.eventually("the first run is running", || async {
        (app.get(&format!("/jobs/{running}")).await.body["status"] == "running").then_some(())
    })
    .await;

    let r = app.post(&format!("/jobs/{queued}/cancel"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "cancelled");
    let r = app.post(&format!("/jobs/{running}/cancel"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["error"], "cancelled by an operator");

    // The next queued run takes over, and finished runs cannot be cancelled again.
    app.eventually("the last run starts", || async {
        (app.get(&format!("/jobs/{last}")).await.body["status"] == "running").then_some(())
    })
    .await;
    let again = app.post(&format!("/jobs/{running}/cancel"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["error"], "run_finished");
    let missing = app.post("/jobs/99999999/cancel", None).await;
    assert_eq!(missing.body["error"], "run_not_found");
    open_gate(&gate);
    assert_eq!(app.finished_run(last).await["status"], "succeeded");
    assert_eq!(app.finished_run(running).await["status"], "cancelled");
}

#[actix_rt::test]
async fn a_violated_constraint_fails_a_run_for_good_but_a_lost_connection_is_retried() {
    use fplsync::jobs::JobError;
    use fplsync::store::StoreError;
    let app = spawn_app().await;
    let db = &app.state.db;
    let violated = sqlx::query("INSERT INTO job_runs (kind, trigger, status, max_attempts) VALUES ('x', 'manual', 'nonsense', 1)")
        .execute(db)
        .await
        .unwrap_err();
    assert!(matches!(
        JobError::from(StoreError::from(violated)),
        JobError::Permanent(_)
    ));
    // A connection whose backend PostgreSQL ends (an administrator, a failover) is trouble a
    // retry cures.
    let mut conn = db.acquire().await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(db)
        .await
        .unwrap();
    assert!(killed);
    let lost = sqlx::query("SELECT 1")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert!(
        matches!(
            JobError::from(StoreError::from(lost)),
            JobError::Transient(_)
        ),
        "a terminated connection"
    );
}
