//! Liveness by heartbeat: a run is stalled when it shows no sign of life for its kind's stall
//! window, not when it runs long. Clock and limits are scaled together: a stall window of 1 s
//! (with FPL attempts bounded well inside it) against runs lasting tens of windows.

use std::time::Duration;

use fplsync::sim::Phase;
use fplsync::sim::managers::SYNTHETIC_BASE;
use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, point_fpl_at, spawn_app_with, start_sim};

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// Waits up to `deadline` for run `id` to end.
async fn finished(app: &TestApp, id: i64, deadline: Duration) -> Value {
    eventually(&format!("run {id} finishes"), deadline, || async {
        let run = app.get(&format!("/jobs/{id}")).await.body;
        (!["queued", "running"].contains(&run["status"].as_str().unwrap_or(""))).then_some(run)
    })
    .await
}

fn seconds_between(run: &Value, from: &str, to: &str) -> f64 {
    let at = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(run[k].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    (at(to) - at(from)) as f64 / 1000.0
}

#[actix_rt::test]
async fn an_entries_run_lasting_twenty_stall_windows_succeeds_on_its_first_attempt_without_a_stall()
{
    const MANAGERS: u64 = 2000;
    let sim = start_sim(MANAGERS as u32, &[]).await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        // 100 requests a second, strictly paced: 2,000 picks take 20 s, twenty windows of 1 s.
        s.fpl.rate_per_sec = 100;
        s.fpl.burst = 1;
        s.fpl.attempt_timeout_ms = 800;
        s.jobs.stall_secs = 1;
        s.live.tracked_entries = (1..=MANAGERS).map(|i| SYNTHETIC_BASE + i).collect();
    })
    .await;

    let id = app
        .trigger("entries", json!({"stage": "picks", "event": 38}))
        .await;
    let run = finished(&app, id, Duration::from_secs(120)).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(
        (run["attempt"].as_i64(), run["stalls"].as_i64()),
        (Some(1), Some(0))
    );
    let lasted = seconds_between(&run, "started_at", "finished_at");
    assert!(
        lasted >= 20.0,
        "the run lasted {lasted} s, under twenty windows"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM entry_picks").await,
        MANAGERS as i64
    );
    let requests = sim.state().stats.snapshot()["endpoints"]["entry-picks"]["total"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(requests, MANAGERS, "one picks request per manager");
    assert_eq!(run["progress_done"], MANAGERS);
    assert_eq!(run["progress_total"], MANAGERS);
}

#[actix_rt::test]
async fn a_kind_that_hangs_without_progress_is_stalled_and_fails_after_max_stalls_keeping_its_checkpoints()
 {
    let app = spawn_app_with(|s| {
        s.jobs.kinds.insert(
            "test-checkpoint".into(),
            fplsync::config::JobKindSettings {
                stall_secs: Some(1),
                max_stalls: Some(3),
                ..Default::default()
            },
        );
    })
    .await;
    let id = app
        .trigger("test-checkpoint", json!({"units": 10, "hang_at": 6}))
        .await;
    let run = finished(&app, id, Duration::from_secs(30)).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(
        (run["attempt"].as_i64(), run["stalls"].as_i64()),
        (Some(1), Some(3))
    );
    let error = run["error"].as_str().unwrap();
    assert!(
        error.contains("no sign of life for 1 s (stall 3 of 3)"),
        "{error}"
    );
    // The six units stored before the first stall are kept, stored once, by the first attempt:
    // the attempts after each stall resumed from them.
    assert_eq!(
        count(&app, "SELECT count(*) FROM test_checkpoints").await,
        6
    );
    assert_eq!(
        count(&app, "SELECT max(attempt)::bigint FROM test_checkpoints").await,
        1
    );
    let stalls = run["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["message"].as_str().unwrap().contains("stalled"))
        .count();
    assert_eq!(stalls, 3, "{run}");
}
