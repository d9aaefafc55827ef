//! Operations: start-up recovery after `kill -9`, graceful shutdown on SIGTERM, two instances
//! (one leader, the other taking over), re-running failed runs, idempotent scheduled ticks, and
//! the cache consistency check.
//!
//! The process-level tests run the real `fplsync serve` binary against an in-process simulator;
//! its `bootstrap` job is kept busy by a latency fault on `bootstrap-static`, lifted when the
//! test wants the job to finish. Every process of a test shares the test's schema and Redis
//! prefix, as instances of one deployment do.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, eventually, point_fpl_at, spawn_app_with, start_sim, unique_id};
use crate::instance::{Instance, store};
use crate::kinds;

/// Latency that keeps a bootstrap run busy for as long as a test needs (the FPL client gives an
/// attempt up to `fpl.attempt_timeout_ms`, raised to match).
const SLOW: &str = "bootstrap-static:latency=60000";

async fn runs_of(db: &PgPool, kind: &str) -> Vec<(i64, String, String, Option<i64>)> {
    sqlx::query_as("SELECT id, status, trigger, rerun_of FROM job_runs WHERE kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(db)
        .await
        .unwrap()
}

/// Waits until `run` is final, read straight from PostgreSQL (no instance needs to be up).
async fn final_status(db: &PgPool, run: i64) -> String {
    eventually(
        &format!("run {run} ends"),
        Duration::from_secs(30),
        || async {
            let status: String = sqlx::query_scalar("SELECT status FROM job_runs WHERE id = $1")
                .bind(run)
                .fetch_one(db)
                .await
                .unwrap();
            (!["queued", "running"].contains(&status.as_str())).then_some(status)
        },
    )
    .await
}

#[actix_rt::test]
async fn a_run_killed_with_sigkill_is_interrupted_at_restart_and_rerun_once() {
    let sim = start_sim(0, &[SLOW]).await;
    let id = unique_id();
    let mut first = Instance::start(&id, &sim.base_url(), &[]).await;
    let run = first.trigger_bootstrap().await;
    first.wait_running(run).await;
    first.kill9();

    // The FPL API is quick again; the restarted service finds the run it left running.
    sim.state().faults.clear(None);
    let second = Instance::start(&id, &sim.base_url(), &[]).await;
    let db = store(&id).await;
    assert_eq!(final_status(&db, run).await, "interrupted");
    let rerun: i64 = eventually("the run is re-run", Duration::from_secs(10), || async {
        sqlx::query_scalar("SELECT id FROM job_runs WHERE rerun_of = $1")
            .bind(run)
            .fetch_optional(&db)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(final_status(&db, rerun).await, "succeeded");
    let (_, rerun_json) = second.get(&format!("/jobs/{rerun}")).await;
    assert_eq!(rerun_json["trigger"], "recovery", "{rerun_json}");
    assert_eq!(rerun_json["rerun_of"], run, "{rerun_json}");
    // The instance led from boot: its recovery ran before the alerting actor started, and the
    // alert waited for it rather than being dropped; it names the runs.
    let alert = eventually(
        "the start-up recovery alert",
        Duration::from_secs(15),
        || async {
            let (_, alerts) = second.get("/alerts").await;
            alerts["alerts"]
                .as_array()?
                .iter()
                .find(|a| a["key"] == "startup_recovery")
                .cloned()
        },
    )
    .await;
    let detail = alert["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("interrupted: run {run}"))
            && detail.contains(&format!("re-run: run {run} as run {rerun}")),
        "{alert}"
    );

    // Once only: another restart re-runs nothing.
    second.sigterm();
    let mut second = second;
    assert_eq!(second.exit_code(Duration::from_secs(30)).await, Some(0));
    let _third = Instance::start(&id, &sim.base_url(), &[]).await;
    let runs = runs_of(&db, "bootstrap").await;
    assert_eq!(
        runs,
        vec![
            (run, "interrupted".into(), "manual".into(), None),
            (rerun, "succeeded".into(), "recovery".into(), Some(run)),
        ]
    );
}

#[actix_rt::test]
async fn sigterm_lets_the_running_job_finish_and_exits_0() {
    a_signal_lets_the_running_job_finish_and_exits_0("-TERM").await;
}

#[actix_rt::test]
async fn sigint_is_as_graceful_as_sigterm() {
    a_signal_lets_the_running_job_finish_and_exits_0("-INT").await;
}

async fn a_signal_lets_the_running_job_finish_and_exits_0(signal: &str) {
    let sim = start_sim(0, &["bootstrap-static:latency=1500"]).await;
    let id = unique_id();
    let mut instance = Instance::start(&id, &sim.base_url(), &[]).await;
    let run = instance.trigger_bootstrap().await;
    instance.wait_running(run).await;
    instance.signal(signal);
    let code = instance.exit_code(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0), "{}", instance.log_text());
    let db = store(&id).await;
    assert_eq!(final_status(&db, run).await, "succeeded");
    assert!(
        instance
            .log_text()
            .contains("shutdown: waiting for running jobs to finish"),
        "{}",
        instance.log_text()
    );
    // The tree stopped in reverse order, alerts last, and the supervision log was flushed
    // before the process exited.
    let stopped: Vec<String> = sqlx::query_scalar(
        "SELECT actor FROM supervision_events WHERE event = 'stopped' AND parent = 'root' \
         ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        stopped,
        ["scheduler", "lifecycle", "jobs", "cache", "alerts"]
    );
}

#[actix_rt::test]
async fn sigterm_interrupts_a_run_longer_than_the_drain_timeout_exits_0_and_the_run_is_not_lost() {
    let sim = start_sim(0, &[SLOW]).await;
    let id = unique_id();
    let drain = [("FPLSYNC__SHUTDOWN__DRAIN_TIMEOUT_SECS", "1")];
    let mut instance = Instance::start(&id, &sim.base_url(), &drain).await;
    let run = instance.trigger_bootstrap().await;
    instance.wait_running(run).await;
    let asked = tokio::time::Instant::now();
    instance.sigterm();
    let code = instance.exit_code(Duration::from_secs(20)).await;
    assert_eq!(code, Some(0), "{}", instance.log_text());
    // The drain timeout plus the stop of the tree, not the minute the run would take.
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "{:?}",
        asked.elapsed()
    );
    let db = store(&id).await;
    assert_eq!(final_status(&db, run).await, "interrupted");

    // The next start re-runs it.
    sim.state().faults.clear(None);
    let _next = Instance::start(&id, &sim.base_url(), &[]).await;
    let rerun: i64 = eventually("the run is re-run", Duration::from_secs(10), || async {
        sqlx::query_scalar("SELECT id FROM job_runs WHERE rerun_of = $1")
            .bind(run)
            .fetch_optional(&db)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(final_status(&db, rerun).await, "succeeded");
}

#[actix_rt::test]
async fn of_two_instances_one_leads_and_the_other_takes_over_within_15_s_without_a_tick_run_twice()
{
    let sim = start_sim(0, &[]).await;
    let id = unique_id();
    let every_second = [("FPLSYNC__SCHEDULER__JOBS__PRUNE", "* * * * * *")];
    let mut first = Instance::start(&id, &sim.base_url(), &every_second).await;
    assert_eq!(first.role().await, "leader");
    let second = Instance::start(&id, &sim.base_url(), &every_second).await;
    assert_eq!(second.role().await, "follower");

    // The follower says who leads, keeps the leader's actors in standby, and refuses triggers
    // naming the leader.
    let (_, actors) = second.get("/actors").await;
    let leader_addr = first.address.trim_start_matches("http://").to_string();
    assert_eq!(
        actors["leadership"]["leader"]["http_addr"], leader_addr,
        "{actors}"
    );
    for name in ["jobs", "lifecycle", "scheduler"] {
        let actor = actors["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap();
        assert_eq!(actor["state"], "standby", "{actor}");
    }
    assert!(second.metrics().await.contains("\nfplsync_leader 0\n"));
    assert!(first.metrics().await.contains("\nfplsync_leader 1\n"));
    let (status, refused) = second.post("/jobs/prune/trigger", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert_eq!(refused["error"], "not_leader");
    assert!(
        refused["message"].as_str().unwrap().contains(&leader_addr),
        "{refused}"
    );

    // The leader's schedule runs.
    let db = store(&id).await;
    let scheduled = || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM job_runs WHERE trigger = 'schedule' AND status = 'succeeded'",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        n
    };
    eventually(
        "the leader runs its schedule",
        Duration::from_secs(10),
        || async { (scheduled().await >= 2).then_some(()) },
    )
    .await;

    first.kill9();
    let killed = Utc::now();
    let took_over = tokio::time::Instant::now();
    eventually(
        "the follower takes over",
        Duration::from_secs(15),
        || async { (second.role().await == "leader").then_some(()) },
    )
    .await;
    assert!(took_over.elapsed() < Duration::from_secs(15));
    let (_, actors) = second.get("/actors").await;
    let scheduler = actors["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "scheduler")
        .cloned()
        .unwrap();
    assert_eq!(scheduler["state"], "running", "{scheduler}");
    assert!(second.metrics().await.contains("\nfplsync_leader 1\n"));
    eventually(
        "the new leader runs the schedule",
        Duration::from_secs(10),
        || async {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM job_runs WHERE trigger = 'schedule' \
                 AND status = 'succeeded' AND scheduled_for > $1",
            )
            .bind(killed)
            .fetch_one(&db)
            .await
            .unwrap();
            (n >= 2).then_some(())
        },
    )
    .await;

    // No tick ran twice: one run per scheduled time, across both leaders.
    let (runs, ticks): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT scheduled_for) FROM job_runs WHERE trigger = 'schedule'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(runs, ticks);
    // A trigger on the new leader is accepted.
    let (status, body) = second.post("/jobs/prune/trigger", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[actix_rt::test]
async fn a_scheduled_tick_asked_for_twice_is_one_run() {
    use fplsync::jobs::Delivery;
    use fplsync::run::{JobKind, Trigger};
    use fplsync::store::runs::RunOrigin;
    let app = spawn_app_with(|_| {}).await;
    let origin = RunOrigin {
        scheduled_for: Some(Utc::now()),
        rerun_of: None,
    };
    let ask = || {
        app.state.directory.request_raw(
            JobKind::new("prune"),
            json!({}),
            (Trigger::Schedule, origin),
            Delivery::WaitUpTo(Duration::from_secs(5)),
            Duration::from_secs(5),
        )
    };
    let first = ask().await.unwrap();
    assert!(!first.coalesced);
    app.finished_run(first.run_id.0).await;
    // The run has ended, so nothing in the actor would coalesce it: the store does.
    let again = ask().await.unwrap();
    assert_eq!(again.run_id, first.run_id);
    assert!(again.coalesced);
    let runs = app.get("/jobs?kind=prune").await.body;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "{runs}");
}

/// A run of test-flaky that fails on its only attempt.
async fn failed_run(app: &TestApp, tag: u32) -> i64 {
    let run = app
        .trigger(
            kinds::FLAKY.as_str(),
            json!({"fail_times": 100, "tag": tag}),
        )
        .await;
    assert_eq!(app.finished_run(run).await["status"], "failed");
    run
}

#[actix_rt::test]
async fn failed_runs_of_a_window_are_rerun_once_however_often_recovery_is_asked() {
    let app = spawn_app_with(|s| s.jobs.max_attempts = 1).await;
    let before = Utc::now();
    let failed = [failed_run(&app, 1).await, failed_run(&app, 2).await];
    let window = json!({"from": before, "kind": "test-flaky"});

    let first = app
        .post("/recovery/failed-jobs", Some(window.clone()))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let reruns: Vec<i64> = first.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["outcome"], "requeued", "{r}");
            r["rerun_id"].as_i64().unwrap()
        })
        .collect();
    let originals: Vec<i64> = first.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_i64().unwrap())
        .collect();
    assert_eq!(originals, failed);
    for (rerun, original) in reruns.iter().zip(failed) {
        let run = app.finished_run(*rerun).await;
        assert_eq!(run["trigger"], "recovery");
        assert_eq!(run["rerun_of"], original);
    }

    // Asked again (the re-runs have failed too by now): nothing runs again.
    let second = app.post("/recovery/failed-jobs", Some(window)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    for (r, rerun) in second.body["runs"].as_array().unwrap().iter().zip(&reruns) {
        assert_eq!(r["outcome"], "already_rerun", "{r}");
        assert_eq!(r["rerun_id"], *rerun);
    }
    assert_eq!(second.body["runs"].as_array().unwrap().len(), 2);
    let all = app.get("/jobs?kind=test-flaky").await.body;
    assert_eq!(all["runs"].as_array().unwrap().len(), 4, "{all}");

    // Bad windows are refused.
    let bad = app
        .post(
            "/recovery/failed-jobs",
            Some(json!({"from": Utc::now(), "to": before})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"], "invalid_params");
    let bad = app
        .post("/recovery/failed-jobs", Some(json!({"from": "yesterday"})))
        .await;
    assert_eq!(bad.body["error"], "invalid_json");
}

#[actix_rt::test]
async fn the_consistency_check_reports_a_cached_dataset_unlike_postgres_and_repairs_it_when_asked()
{
    use bytes::Bytes;
    use fplsync::cache::{CacheKey, MetaDataset};
    let sim = start_sim(0, &[]).await;
    let base_url = sim.base_url();
    let app = spawn_app_with(move |s| point_fpl_at(s, base_url)).await;
    let run = app.trigger("bootstrap", json!({})).await;
    assert_eq!(app.finished_run(run).await["status"], "succeeded");

    let clean = app.post("/recovery/consistency", None).await;
    assert_eq!(clean.status, StatusCode::OK, "{}", clean.body);
    assert!(
        clean.body["checked"].as_u64().unwrap() >= 5,
        "{}",
        clean.body
    );
    assert_eq!(clean.body["differences"], json!([]), "{}", clean.body);

    // The cache drifts from the store of record.
    let teams = CacheKey::Meta(MetaDataset::Teams);
    app.state
        .cache
        .put(vec![(teams, Bytes::from_static(b"[{\"id\": 1}]"))])
        .await
        .unwrap();
    let report = app.post("/recovery/consistency", None).await;
    assert_eq!(
        report.body["differences"],
        json!([{"key": "meta:teams", "problem": "differs", "cached_bytes": 11,
                "postgres_bytes": report.body["differences"][0]["postgres_bytes"],
                "repaired": false}]),
        "{}",
        report.body
    );
    let repaired = app
        .post("/recovery/consistency", Some(json!({"repair": true})))
        .await;
    assert_eq!(repaired.body["differences"][0]["repaired"], true);
    let after = app.post("/recovery/consistency", None).await;
    assert_eq!(after.body["differences"], json!([]), "{}", after.body);
    let served = app.get("/data/teams").await.body;
    assert_eq!(served.as_array().map(Vec::len), Some(20), "{served}");
}

#[actix_rt::test]
async fn a_leader_that_loses_its_lock_session_steps_down_and_leads_again_once_it_gets_the_lock() {
    let app = spawn_app_with(|s| {
        s.leader.check_interval_ms = 200;
        s.leader.retry_ms = 200;
    })
    .await;
    assert_eq!(app.get("/ready").await.body["leadership"]["role"], "leader");
    // PostgreSQL ends the session holding the lock, as a restart or a network cut would.
    let schema = app.state.settings.database.schema.clone();
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_locks \
         WHERE locktype = 'advisory' AND granted AND classid = $1::bigint::oid \
           AND objid = ((hashtext($2)::bigint + 4294967296) % 4294967296)::oid \
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(0x6670_6c73_i64)
    .bind(format!("fplsync leader {schema}"))
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(terminated, [true]);

    // It stops its job actors and scheduler, then takes the free lock again and restarts them.
    let jobs_events = || async {
        app.supervision("jobs")
            .await
            .iter()
            .filter(|e| e["parent"] == "root")
            .map(|e| e["event"].as_str().unwrap().to_string())
            .rev()
            .collect::<Vec<_>>()
    };
    app.eventually("jobs stopped and started again", || async {
        (jobs_events().await == ["started", "stopped", "started"]).then_some(())
    })
    .await;
    app.eventually("the instance leads again", || async {
        let ready = app.get("/ready").await.body;
        (ready["leadership"]["role"] == "leader"
            && app.actor("scheduler").await["state"] == "running")
            .then_some(())
    })
    .await;
    let run = app.trigger_when_up("prune", json!({})).await;
    assert_eq!(app.finished_run(run).await["status"], "succeeded");
    let alerts = app
        .state
        .metrics
        .get::<fplsync::alerts::AlertMetrics>()
        .emitted
        .with_label_values(&["critical"])
        .get();
    assert!(alerts >= 1, "leadership_lost is a critical alert");
}

#[actix_rt::test]
async fn start_up_recovery_reruns_a_crashed_run_once_but_not_a_crashed_rerun_and_repeats_nothing() {
    use fplsync::run::RunId;
    use fplsync::store::runs::recover_at_startup;
    let app = spawn_app_with(|_| {}).await;
    let db = &app.state.db;
    // Rows of a kind no actor runs, as a crash would leave them: a run, and a re-run of an
    // older run, both `running`.
    let insert = |rerun_of: Option<i64>| async move {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO job_runs (kind, trigger, status, max_attempts, rerun_of) \
             VALUES ('test-orphan', 'manual', 'running', 1, $1) RETURNING id",
        )
        .bind(rerun_of)
        .fetch_one(db)
        .await
        .unwrap();
        id
    };
    let older = insert(None).await;
    sqlx::query("UPDATE job_runs SET status = 'failed' WHERE id = $1")
        .bind(older)
        .execute(db)
        .await
        .unwrap();
    let crashed = insert(None).await;
    let crashed_rerun = insert(Some(older)).await;

    let first = recover_at_startup(db).await.unwrap();
    assert_eq!(first.interrupted, [RunId(crashed), RunId(crashed_rerun)]);
    assert_eq!(first.not_rerun, [RunId(crashed_rerun)]);
    assert_eq!(first.reruns.len(), 1);
    assert_eq!(first.reruns[0].0, RunId(crashed));
    let status: String = sqlx::query_scalar("SELECT status FROM job_runs WHERE id = $1")
        .bind(first.reruns[0].1.0)
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(status, "queued");

    let again = recover_at_startup(db).await.unwrap();
    assert!(
        again.interrupted.is_empty() && again.reruns.is_empty(),
        "{again:?}"
    );
}

#[actix_rt::test]
async fn a_paused_job_kind_stays_paused_across_a_restart_of_the_process_until_resumed() {
    let sim = start_sim(0, &[]).await;
    let id = unique_id();
    let first = Instance::start(&id, &sim.base_url(), &[]).await;
    let (status, body) = first.post("/actors/job:prune/pause", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    first.sigterm();
    let mut first = first;
    assert_eq!(first.exit_code(Duration::from_secs(30)).await, Some(0));

    let second = Instance::start(&id, &sim.base_url(), &[]).await;
    // The new incarnation reads the pause when it loads its queue.
    let actor = eventually(
        "job:prune reports its status",
        Duration::from_secs(10),
        || async {
            let (_, actor) = second.get("/actors/job:prune").await;
            (!actor["status"].is_null()).then_some(actor)
        },
    )
    .await;
    assert_eq!(actor["state"], "paused", "{actor}");
    assert_eq!(actor["status"]["paused"], true, "{actor}");
    let (status, body) = second.post("/jobs/prune/trigger", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run = body["run_id"].as_i64().unwrap();
    let (_, queued) = second.get(&format!("/jobs/{run}")).await;
    assert_eq!(
        queued["status"], "queued",
        "a paused kind starts nothing: {queued}"
    );

    let (status, _) = second.post("/actors/job:prune/resume", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let db = store(&id).await;
    assert_eq!(final_status(&db, run).await, "succeeded");
}
