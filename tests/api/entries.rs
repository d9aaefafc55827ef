//! The hybrid `entries` job against the simulator's synthetic managers: done units are never
//! fetched again (a cancelled run resumes), partial success succeeds with a warning and defers
//! the failed units, too many failures fail the run, and entry info lands in `entries`.

use fplsync::sim::Phase;
use fplsync::sim::managers::SYNTHETIC_BASE;
use serde_json::json;

use crate::helpers::{
    TestApp, point_fpl_at, spawn_app_with, start_sim, units_finished_by_instances,
};

const MANAGERS: u64 = 300;

fn synthetic() -> Vec<u64> {
    (1..=MANAGERS).map(|i| SYNTHETIC_BASE + i).collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

fn picks_requests(sim: &fplsync::sim::RunningSim) -> u64 {
    sim.state().stats.snapshot()["endpoints"]["entry-picks"]["total"]
        .as_u64()
        .unwrap_or(0)
}

/// The run's units as its detail tells them (from the counts the statements keep) are those
/// its units' rows say, counted one by one.
async fn units_as_counted(app: &TestApp, run: &serde_json::Value) {
    let units = &run["units"];
    let key = units["key"].as_str().expect("the run has shared work");
    let (todo, leased, done, unknown, failed): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'todo'), count(*) FILTER (WHERE state = 'leased'), \
         count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'unknown'), \
         count(*) FILTER (WHERE state = 'failed') FROM work_units WHERE work_key = $1",
    )
    .bind(key)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    let told = ["todo", "leased", "done", "unknown", "failed"].map(|s| units[s].as_i64());
    let counted = [todo, leased, done, unknown, failed].map(Some);
    assert_eq!(told, counted, "{units}");
    assert_eq!(
        units["total"].as_i64(),
        Some(todo + leased + done + unknown + failed)
    );
    assert_eq!(
        units_finished_by_instances(run),
        done + unknown + failed,
        "{units}"
    );
}

async fn app_tracking(sim: &fplsync::sim::RunningSim) -> TestApp {
    let url = sim.base_url();
    spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.live.tracked_entries = synthetic();
    })
    .await
}

#[actix_rt::test]
async fn a_cancelled_entries_run_resumes_without_fetching_a_done_manager_again() {
    let sim = start_sim(MANAGERS as u32, &["entry-picks:latency=5"]).await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    let app = app_tracking(&sim).await;
    let params = json!({"stage": "picks", "event": 38});

    let first = app.trigger("entries", params.clone()).await;
    app.eventually("a third of the picks stored", || async {
        (count(&app, "SELECT count(*) FROM entry_picks").await >= 100).then_some(())
    })
    .await;
    assert_eq!(
        app.post(&format!("/jobs/{first}/cancel"), None)
            .await
            .status,
        200
    );
    assert_eq!(app.finished_run(first).await["status"], "cancelled");
    let done = count(&app, "SELECT count(*) FROM entry_picks").await;
    assert!((100..MANAGERS as i64).contains(&done), "{done} stored");

    let second = app.trigger("entries", params).await;
    let second = app.finished_run(second).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    // The second run adopted the work, down to the managers still missing.
    assert_eq!(second["units"]["done"], MANAGERS as i64 - done, "{second}");
    units_as_counted(&app, &second).await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM entry_picks").await,
        MANAGERS as i64
    );
    // The second run fetched exactly the managers still missing: none that was done.
    let summary = second["logs"].as_array().unwrap().last().unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    let missing = MANAGERS as i64 - done;
    assert!(
        summary.contains(&format!("{done} already done, {missing} stored")),
        "{summary}"
    );
    // Over both runs, FPL saw each manager once, plus at most the requests the cancelled run
    // had in flight or fetched but not yet stored (one batch).
    let requests = picks_requests(&sim);
    let slack = (fplsync::entries::units::BATCH + 16) as u64;
    assert!(
        (MANAGERS..=MANAGERS + slack).contains(&requests),
        "{requests} requests"
    );
    assert_eq!(second["progress"], 100);
}

#[actix_rt::test]
async fn a_few_failed_managers_make_a_warning_and_wait_out_their_backoff() {
    let sim = start_sim(MANAGERS as u32, &["entry-picks:error=0.1,status=400"]).await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    let app = app_tracking(&sim).await;
    let params = json!({"stage": "picks", "event": 38});

    let run = app.trigger("entries", params.clone()).await;
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let stored = count(&app, "SELECT count(*) FROM entry_picks").await;
    let failed = count(&app, "SELECT count(*) FROM entry_unit_failures").await;
    assert!(
        failed > 0 && stored + failed == MANAGERS as i64,
        "{stored} + {failed}"
    );
    assert_eq!(run["units"]["failed"], failed, "{run}");
    units_as_counted(&app, &run).await;
    let warned = run["logs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["level"] == "warn" && l["message"].as_str().unwrap().contains("backoff"));
    assert!(warned, "{run}");

    // A run right after tries none of them again: they wait out their backoff.
    let fetched = picks_requests(&sim);
    let again = app.trigger("entries", params).await;
    let again = app.finished_run(again).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(picks_requests(&sim), fetched);
    let summary = again["logs"].as_array().unwrap().last().unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        summary.contains(&format!("{failed} waiting out a backoff")),
        "{summary}"
    );
}

#[actix_rt::test]
async fn too_many_failed_managers_fail_the_run() {
    let sim = start_sim(MANAGERS as u32, &["entry-picks:error=0.5,status=400"]).await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    let app = app_tracking(&sim).await;
    let run = app
        .trigger("entries", json!({"stage": "picks", "event": 38}))
        .await;
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains("below the 80 % success threshold"),
        "{run}"
    );
}

#[actix_rt::test]
async fn entry_info_and_history_of_every_tracked_manager_are_stored_once_per_run() {
    let sim = start_sim(MANAGERS as u32, &[]).await;
    assert!(sim.state().jump(Phase::Final, Some(38)));
    let app = app_tracking(&sim).await;
    let run = app.trigger("entries", json!({})).await;
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM entries WHERE history IS NOT NULL AND name IS NOT NULL"
        )
        .await,
        MANAGERS as i64
    );
    let bad = app
        .post("/jobs/entries/trigger", Some(json!({"stage": "picks"})))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"], "invalid_params");
}
