//! `/metrics` after a demo-like run: the simulator's gameweek through the real jobs, a retry, a
//! stall, a failure, a panic and its restart, cache reads. The exposition passes `promtool check
//! metrics`, has help text for every family, contains each family the service promises, and no
//! label carries an id.

use fplsync::sim::Phase;
use serde_json::json;

use crate::helpers::{assert_promtool_accepts, point_fpl_at, spawn_app_with, start_sim};

/// Every family `/metrics` must show after such a run. One list: add new families here.
pub const FAMILIES: &[&str] = &[
    // Jobs.
    "fplsync_job_requests_total",
    "fplsync_job_runs_total",
    "fplsync_job_run_duration_seconds",
    "fplsync_job_runs_in_progress",
    "fplsync_job_retries_total",
    "fplsync_job_stalls_total",
    // Actors and supervision.
    "fplsync_actor_state",
    "fplsync_actor_restarts_total",
    "fplsync_actor_mailbox_depth",
    "fplsync_actor_mailbox_capacity",
    "fplsync_supervision_events_total",
    // The FPL client.
    "fplsync_fpl_requests_total",
    "fplsync_fpl_request_duration_seconds",
    "fplsync_fpl_admission_wait_seconds",
    "fplsync_fpl_breaker_state",
    // The cache.
    "fplsync_cache_requests_total",
    "fplsync_cache_writes_total",
    "fplsync_cache_degraded",
    // The gameweek lifecycle and leadership.
    "fplsync_lifecycle_state",
    "fplsync_lifecycle_next_poll_timestamp_seconds",
    "fplsync_fpl_updating",
    "fplsync_points_mismatches_total",
    "fplsync_live_snapshot_age_seconds",
    "fplsync_live_tick_duration_seconds",
    "fplsync_tracked_managers",
    "fplsync_leader",
    // Alerting and the bot.
    "fplsync_alerts_emitted_total",
    "fplsync_alerts_dropped_total",
    "fplsync_alerts_sent_total",
    "fplsync_alerts_suppressed_total",
    "fplsync_alerts_undelivered_total",
    "fplsync_bot_commands_total",
];

#[actix_rt::test]
async fn metrics_after_a_demo_like_run_pass_promtool_and_contain_every_family() {
    let sim = start_sim(0, &[]).await;
    assert!(sim.state().jump(Phase::InPlay, Some(38)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.jobs.kinds.insert(
            "test-sleep".into(),
            serde_json::from_value(json!({"stall_secs": 1, "max_stalls": 1})).unwrap(),
        );
    })
    .await;

    for (kind, params) in [
        ("bootstrap", json!({})),
        ("fixtures", json!({})),
        ("live", json!({"event": 38})),
        ("test-flaky", json!({"fail_times": 1})),
    ] {
        let run = app.trigger(kind, params).await;
        assert_eq!(app.finished_run(run).await["status"], "succeeded", "{kind}");
    }
    for (kind, params) in [
        ("test-sleep", json!({"ms": 3000})),
        ("test-fail", json!({"error": "boom"})),
        ("test-panic", json!({"tag": 1})),
    ] {
        let run = app.trigger_when_up(kind, params).await;
        assert_eq!(app.finished_run(run).await["status"], "failed", "{kind}");
    }
    assert_eq!(app.get("/data/events").await.status, 200);

    let text = app
        .eventually("every family in /metrics", || async {
            let text = app.get("/metrics").await.body;
            let text = text.as_str()?.to_string();
            let missing: Vec<_> = FAMILIES
                .iter()
                .filter(|f| !text.contains(&format!("# TYPE {f} ")))
                .collect();
            missing.is_empty().then_some(text)
        })
        .await;
    for f in FAMILIES {
        let has_sample = text
            .lines()
            .any(|l| !l.starts_with('#') && l.starts_with(*f));
        assert!(has_sample, "{f} has no sample");
    }
    // Help text for every family, and no label value that is an id.
    for line in text.lines().filter(|l| l.starts_with("# HELP ")) {
        let help = line.splitn(4, ' ').nth(3).unwrap_or("");
        assert!(!help.trim().is_empty(), "no help: {line}");
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(labels) = line.split_once('{').and_then(|(_, r)| r.split_once('}')) else {
            continue;
        };
        for pair in labels.0.split(',').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap();
            let value = value.trim_matches('"');
            assert!(
                name == "le" || name == "quantile" || !value.chars().all(|c| c.is_ascii_digit()),
                "a label carries an id: {line}"
            );
        }
    }
    assert!(text.contains("fplsync_job_stalls_total{kind=\"test-sleep\"} 1"));
    assert!(text.contains("fplsync_job_retries_total{kind=\"test-flaky\"} 1"));
    assert_promtool_accepts(&text);

    // The Grafana dashboard only charts families that exist.
    let dashboard = include_str!("../../config/grafana-dashboard.json");
    let _: serde_json::Value = serde_json::from_str(dashboard).expect("the dashboard is JSON");
    for name in dashboard.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if let Some(family) = name.strip_prefix("fplsync_").map(|_| name) {
            let family = family.strip_suffix("_bucket").unwrap_or(family);
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "the dashboard charts {family}, which /metrics does not have"
            );
        }
    }
}
