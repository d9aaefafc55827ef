//! One gameweek at a scaled real pace: what an operator sees with the defaults against the
//! public API (4 requests a second, 30 s stall window, a live tick every 30 s), with the clock
//! and the limits scaled together by thirty — 120 requests a second, a 1 s stall window, an FPL
//! attempt bounded at 0.9 s, a live tick every second — so the ratios a real run sees hold.
//! Admission keeps its default burst, in-flight caps and priorities.

use std::time::Duration;

use fplsync::sim::Phase;
use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, point_fpl_at, spawn_app_with, start_sim};

/// The scale of clock and limits.
const SCALE: f64 = 30.0;

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

async fn runs(app: &TestApp, kind: &str) -> Vec<Value> {
    app.get(&format!("/jobs?kind={kind}&limit=500")).await.body["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[actix_rt::test]
async fn a_gameweek_at_a_scaled_real_pace_syncs_every_pick_once_and_stays_within_its_budget() {
    let sim = start_sim(1000, &[]).await;
    assert!(sim.state().jump(Phase::PreDeadline, Some(38)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        // The defaults, scaled: the rate with the clock, the burst and the caps as they are.
        s.fpl.rate_per_sec = (4.0 * SCALE) as u32;
        s.fpl.burst = 1;
        s.fpl.attempt_timeout_ms = 900;
        s.fpl.deadline_ms = (60_000.0 / SCALE) as u64;
        s.jobs.stall_secs = 1;
        s.live.enabled = true;
        s.live.start_delay_ms = 10;
        s.live.stale_after_secs = 3600;
        s.live.interval_secs.map(|secs| secs / SCALE);
    })
    .await;
    assert_eq!(app.state.settings.fpl.max_in_flight, 5, "the default cap");

    // The managers: a tournament from the classic league (72 real, 1,000 synthetic).
    let t = app
        .create_league_tournament(json!({
            "name": "Paced",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 1,
                            "first_event": 38, "last_event": 38},
        }))
        .await;
    let managers = t["entries"].as_i64().unwrap();
    assert_eq!(managers, 1072);
    let id = t["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&format!("/tournaments/{id}/activate"), None)
            .await
            .status,
        200
    );
    let stats = |endpoint: &str| {
        sim.state().stats.snapshot()["endpoints"][endpoint]["total"]
            .as_u64()
            .unwrap_or(0)
    };

    // An hour after the deadline the lifecycle asks for the picks; the matches kick off while
    // they are read, and live ticks run meanwhile.
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    sim.state().advance(35.0 * 60.0);
    let wait = Duration::from_secs(120);
    eventually("the picks sync under way", wait, || async {
        let stored = count(&app, "SELECT count(*) FROM entry_picks").await;
        (stored > 0).then_some(())
    })
    .await;
    assert!(sim.state().jump(Phase::InPlay, Some(38)));
    eventually("every manager's picks stored", wait, || async {
        (count(&app, "SELECT count(*) FROM entry_picks").await == managers).then_some(())
    })
    .await;
    let picks_runs = runs(&app, "entries").await;
    let first = picks_runs.last().unwrap().clone();
    let picks_run = eventually("the picks run ends", wait, || async {
        let r = app.get(&format!("/jobs/{}", first["id"])).await.body;
        (r["status"] != "running" && r["status"] != "queued").then_some(r)
    })
    .await;
    assert_eq!(picks_run["status"], "succeeded", "{picks_run}");
    assert_eq!(picks_run["stalls"], 0, "{picks_run}");
    assert_eq!(picks_run["attempt"], 1, "{picks_run}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM entry_unit_failures").await,
        0
    );
    assert_eq!(
        stats("entry-picks"),
        managers as u64,
        "one picks request per manager"
    );
    // Live ticks ran while the picks were read.
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or("")).ok();
    let (started, finished) = (at(&picks_run["started_at"]), at(&picks_run["finished_at"]));
    let during = runs(&app, "live")
        .await
        .iter()
        .filter_map(|r| at(&r["started_at"]))
        .filter(|t| Some(*t) > started && Some(*t) < finished)
        .count();
    assert!(during >= 2, "{during} live ticks during the picks sync");

    // Final: the last snapshot, every official result, 0 mismatches, once.
    assert!(sim.state().jump(Phase::Final, Some(38)));
    let finalized: (i32, i32) = eventually("GW38 finalized", wait, || async {
        sqlx::query_as("SELECT entries, mismatches FROM event_finalizations WHERE event_id = 38")
            .fetch_optional(&app.state.db)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(finalized, (managers as i32, 0));
    for kind in ["entries", "finalize", "live", "tournament-roster"] {
        for run in runs(&app, kind).await {
            assert_eq!(run["stalls"], 0, "{kind}: {run}");
            assert_ne!(run["status"], "failed", "{kind}: {run}");
        }
    }

    // What the gameweek cost FPL, against 2E + 3 × ticks + 50.
    let budget = eventually("the gameweek's spend recorded", wait, || async {
        let b = app.get("/lifecycle").await.body["budget"].clone();
        let picks = b["requests"]["entry-picks"]["bulk"].as_u64().unwrap_or(0);
        (picks >= 2 * managers as u64).then_some(b)
    })
    .await;
    assert_eq!(budget["event"], 38, "{budget}");
    assert_eq!(budget["managers"], managers, "{budget}");
    assert!(budget["within_target"] == true, "{budget}");
}
