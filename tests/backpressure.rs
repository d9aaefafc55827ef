//! Backpressure, in a test binary of its own: it measures this process's memory, which tests
//! running beside it in the shared binary would disturb (cargo runs test binaries one by one).

// Shared with the api binary; this one uses only part of them.
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "api/kinds.rs"]
mod kinds;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{rss_kib, spawn_app_with};
use crate::kinds::open_gate;

#[actix_rt::test]
async fn a_full_mailbox_answers_429_with_retry_after_and_rejected_requests_do_not_grow_memory() {
    let app = spawn_app_with(|s| {
        s.mailbox.jobs.insert("test-gate".into(), 2);
    })
    .await;
    let gate = format!("full-{}", app.id);
    let running = app
        .trigger("test-gate", json!({"gate": gate, "tag": 0}))
        .await;
    app.eventually("the first run is running", || async {
        (app.get(&format!("/jobs/{running}")).await.body["status"] == "running").then_some(())
    })
    .await;
    app.trigger("test-gate", json!({"gate": gate, "tag": 1}))
        .await;
    app.trigger("test-gate", json!({"gate": gate, "tag": 2}))
        .await;

    let full = app
        .post(
            "/jobs/test-gate/trigger",
            Some(json!({"gate": gate, "tag": 3})),
        )
        .await;
    assert_eq!(full.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(full.retry_after.as_deref(), Some("2"));
    assert_eq!(full.body["error"], "mailbox_full");
    assert!(full.body["message"].as_str().unwrap().contains("full"));
    let actor = app.actor("job:test-gate").await;
    assert_eq!(actor["mailbox_depth"], 2);
    assert_eq!(actor["mailbox_capacity"], 2);

    // Thousands of rejected requests keep nothing: no rows, no queue, no memory. (A warm-up
    // first, so allocator pools and connection buffers are already sized.)
    for tag in 0..300 {
        let body = json!({"gate": gate, "tag": 100_000 + tag});
        let r = app.post("/jobs/test-gate/trigger", Some(body)).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    }
    let before = rss_kib();
    for tag in 0..3000 {
        let r = app
            .post(
                "/jobs/test-gate/trigger",
                Some(json!({"gate": gate, "tag": 1000 + tag})),
            )
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    }
    let grown_kib = rss_kib().saturating_sub(before);
    assert!(grown_kib < 8 * 1024, "memory grew by {grown_kib} KiB");
    let runs = app.get("/jobs?kind=test-gate&limit=500").await.body;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 3);
    let metrics = app.get("/metrics").await.body;
    assert!(
        metrics.as_str().unwrap().contains(
            "fplsync_job_requests_total{kind=\"test-gate\",result=\"mailbox_full\",trigger=\"manual\"} 3301"
        ),
        "rejections are counted"
    );
    open_gate(&gate);
    app.finished_run(running).await;
}
