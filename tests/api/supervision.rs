//! Supervision through the real tree: panics, restarts with backoff, escalation, operator restart.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

fn kinds_of(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

#[actix_rt::test]
async fn a_panicking_job_fails_its_run_and_its_actor_is_restarted_after_a_backoff() {
    let app = spawn_app().await;

    let run = app.trigger("test-panic", json!({"tag": 1})).await;
    let done = app.finished_run(run).await;
    assert_eq!(done["status"], "failed");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("deliberate test panic 1"), "{error}");

    // The supervision log: started, then failed with the panic, restarting with a backoff, and
    // started again (newest first).
    let events = app
        .eventually("the actor restarts", || async {
            let events = app.supervision("job:test-panic").await;
            (kinds_of(&events) == ["started", "restarting", "failed", "started"]).then_some(events)
        })
        .await;
    assert!(
        events[2]["detail"]
            .as_str()
            .unwrap()
            .contains("deliberate test panic 1")
    );
    let backoff = events[1]["backoff_ms"].as_i64().unwrap();
    assert!((25..=50).contains(&backoff), "first backoff {backoff} ms");

    let actor = app.actor("job:test-panic").await;
    assert_eq!(actor["state"], "running");
    assert_eq!(actor["restarts"], 1);
    assert!(
        actor["last_failure"]["message"]
            .as_str()
            .unwrap()
            .contains("deliberate test panic 1")
    );

    // The service still serves, and the restarted actor takes work again.
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
    let ok = app.trigger("test-sleep", json!({"ms": 1})).await;
    assert_eq!(app.finished_run(ok).await["status"], "succeeded");
    let again = app.trigger_when_up("test-panic", json!({"tag": 2})).await;
    assert_eq!(app.finished_run(again).await["status"], "failed");
}

#[actix_rt::test]
async fn repeated_failures_past_the_intensity_escalate_and_an_operator_restart_brings_the_actor_back()
 {
    let app = spawn_app_with(|s| s.supervisor.max_restarts = 2).await;

    // Two failures are restarted; the third exceeds the intensity (2 in 60 s).
    for tag in 1..=3 {
        let run = app.trigger_when_up("test-panic", json!({"tag": tag})).await;
        assert_eq!(app.finished_run(run).await["status"], "failed");
    }
    app.eventually("the actor is escalated", || async {
        (app.actor("job:test-panic").await["state"] == "failed").then_some(())
    })
    .await;
    // The supervision log is written in order by a background writer: wait for the last row.
    let events = app
        .eventually("the escalation is recorded", || async {
            let events = app.supervision("job:test-panic").await;
            (events[0]["event"] == "escalated").then_some(events)
        })
        .await;
    assert_eq!(
        kinds_of(&events)
            .iter()
            .filter(|e| *e == "restarting")
            .count(),
        2
    );
    // The parent supervisor was told (its row is written just after the child's).
    app.eventually("the parent records the child's escalation", || async {
        let parent = app.supervision("jobs").await;
        parent
            .iter()
            .any(|e| {
                e["event"] == "child_escalated"
                    && e["detail"].as_str().unwrap().contains("job:test-panic")
            })
            .then_some(())
    })
    .await;

    // Degraded: /ready is 503 and names the actor, but everything else keeps working.
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["status"], "degraded");
    assert_eq!(ready.body["failed_actors"], json!(["job:test-panic"]));
    let refused = app.post("/jobs/test-panic/trigger", Some(json!({}))).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.body["error"], "actor_unavailable");
    assert_eq!(refused.retry_after.as_deref(), Some("2"));
    let other = app.trigger("test-sleep", json!({"ms": 1})).await;
    assert_eq!(app.finished_run(other).await["status"], "succeeded");

    // An operator restarts it.
    let restart = app.post("/actors/job:test-panic/restart", None).await;
    assert_eq!(restart.status, StatusCode::ACCEPTED, "{}", restart.body);
    app.eventually("the actor runs again", || async {
        (app.actor("job:test-panic").await["state"] == "running").then_some(())
    })
    .await;
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
    let run = app.trigger_when_up("test-panic", json!({"tag": 9})).await;
    assert_eq!(app.finished_run(run).await["status"], "failed");
}

#[actix_rt::test]
async fn an_operator_restart_of_a_running_actor_interrupts_its_run_and_keeps_its_queue() {
    let app = spawn_app().await;
    let gate = format!("restart-{}", app.id);
    let running = app
        .trigger("test-gate", json!({"gate": gate, "tag": 1}))
        .await;
    let queued = app
        .trigger("test-gate", json!({"gate": gate, "tag": 2}))
        .await;
    app.eventually("the first run is running", || async {
        (app.get(&format!("/jobs/{running}")).await.body["status"] == "running").then_some(())
    })
    .await;

    let r = app.post("/actors/job:test-gate/restart", None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let interrupted = app.finished_run(running).await;
    assert_eq!(interrupted["status"], "interrupted");

    // The new incarnation rebuilt its queue from PostgreSQL and runs the queued run.
    app.eventually("the queued run starts after the restart", || async {
        (app.get(&format!("/jobs/{queued}")).await.body["status"] == "running").then_some(())
    })
    .await;
    crate::kinds::open_gate(&gate);
    assert_eq!(app.finished_run(queued).await["status"], "succeeded");
    app.eventually("the restart is recorded", || async {
        let events = app.supervision("job:test-gate").await;
        (kinds_of(&events) == ["started", "stopped", "started"]).then_some(())
    })
    .await;
}

#[actix_rt::test]
async fn pausing_an_actor_is_answered_during_a_run_and_holds_its_queue_until_resumed() {
    let app = spawn_app().await;
    let gate = format!("pause-{}", app.id);
    let running = app.trigger("test-gate", json!({"gate": gate})).await;
    app.eventually("the run is running", || async {
        (app.get(&format!("/jobs/{running}")).await.body["status"] == "running").then_some(())
    })
    .await;

    // The actor answers control messages while its run executes.
    let paused = app.post("/actors/job:test-gate/pause", None).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.body["state"], "paused");

    let queued = app.trigger("test-sleep", json!({"ms": 1})).await;
    assert_eq!(app.finished_run(queued).await["status"], "succeeded");
    let held = app
        .trigger("test-gate", json!({"gate": gate, "tag": 2}))
        .await;
    crate::kinds::open_gate(&gate);
    assert_eq!(app.finished_run(running).await["status"], "succeeded");
    // Paused: the queued run does not start.
    assert_eq!(app.actor("job:test-gate").await["mailbox_depth"], 1);
    assert_eq!(
        app.get(&format!("/jobs/{held}")).await.body["status"],
        "queued"
    );

    let resumed = app.post("/actors/job:test-gate/resume", None).await;
    assert_eq!(resumed.body["state"], "running");
    assert_eq!(app.finished_run(held).await["status"], "succeeded");
}

#[actix_rt::test]
async fn after_a_supervisor_is_restarted_its_children_can_still_be_restarted() {
    let app = spawn_app().await;
    let r = app.post("/actors/jobs/restart", None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    app.eventually("jobs and its children running again", || async {
        let jobs = app.actor("jobs").await;
        let child = app.actor("job:prune").await;
        (jobs["state"] == "running" && child["state"] == "running").then_some(())
    })
    .await;
    // The registry follows the new incarnation of `jobs`: the child's restart reaches it.
    let r = app.post("/actors/job:prune/restart", None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    app.eventually("job:prune restarted by the new supervisor", || async {
        let events = app.supervision("job:prune").await;
        let kinds = kinds_of(&events);
        (kinds.iter().filter(|k| *k == "started").count() >= 3).then_some(())
    })
    .await;
}
