//! FPL's odd answers through the whole service, against the simulator: Cloudflare's challenge
//! stops every request for the backoff and raises `fpl_blocked`; an HTML page is never taken for
//! data; another gameweek's live data or picks are rejected, and a finalized gameweek keeps its
//! points.

use fplsync::sim::{Phase, Scenario, SimConfig, Simulator};
use serde_json::{Value, json};

use crate::helpers::{TestApp, point_fpl_at, spawn_app_with, start_sim};

fn requests(sim: &fplsync::sim::RunningSim, endpoint: &str) -> u64 {
    sim.state().stats.snapshot()["endpoints"][endpoint]["total"]
        .as_u64()
        .unwrap_or(0)
}

async fn run(app: &TestApp, kind: &str, params: Value) -> Value {
    let id = app.trigger(kind, params).await;
    app.finished_run(id).await
}

fn logs(run: &Value) -> String {
    run["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn alert(app: &TestApp, key: &str) -> Option<Value> {
    let alerts = app.get("/alerts").await.body;
    alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .cloned()
}

#[actix_rt::test]
async fn a_cloudflare_challenge_stops_every_fpl_request_for_the_backoff_and_raises_fpl_blocked() {
    let sim = start_sim(0, &["*:challenge=1"]).await;
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.fpl.blocked_backoff_secs = 3;
        s.alerts.group_wait_ms = 0;
    })
    .await;
    let first = app.trigger("bootstrap", json!({})).await;
    let challenged = app
        .eventually("the challenge alert", || {
            alert(&app, "fpl_blocked:challenge")
        })
        .await;
    assert_eq!(challenged["severity"], "warning", "{challenged}");
    assert!(
        challenged["summary"]
            .as_str()
            .unwrap()
            .contains("challenged us"),
        "{challenged}"
    );
    // During the backoff nothing goes out: not the retry, not another kind's request.
    let fixtures = app.trigger("fixtures", json!({})).await;
    let refused = app
        .eventually("the fixtures attempt refused", || async {
            let run = app.get(&format!("/jobs/{fixtures}")).await.body;
            let logs = logs(&run);
            logs.contains("attempt 1 of").then_some(logs)
        })
        .await;
    assert!(refused.contains("circuit breaker open"), "{refused}");
    assert_eq!(requests(&sim, "bootstrap-static"), 1);
    assert_eq!(requests(&sim, "fixtures"), 0);

    // The challenge lifts; after the backoff the retry goes through and the alert resolves.
    sim.state().faults.clear(None);
    let first = app.finished_run(first).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert!(logs(&first).contains("challenged"), "{}", logs(&first));
    let fixtures = app.finished_run(fixtures).await;
    assert_eq!(fixtures["status"], "succeeded", "{fixtures}");
    app.eventually("the challenge alert resolved", || async {
        alert(&app, "fpl_blocked:challenge")
            .await
            .filter(|a| a["resolved"] == true)
    })
    .await;
}

#[actix_rt::test]
async fn an_html_page_served_with_status_200_is_fpl_unavailable_and_never_stored_as_data() {
    let sim = start_sim(0, &["bootstrap-static:html=1"]).await;
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.fpl.backoff_base_ms = 10;
        s.fpl.backoff_cap_ms = 20;
        s.jobs.max_attempts = 1;
    })
    .await;
    let failed = run(&app, "bootstrap", json!({})).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        logs(&failed).contains("FPL served a page that is not JSON for bootstrap-static/"),
        "{}",
        logs(&failed)
    );
    let seasons: i64 = sqlx::query_scalar("SELECT count(*) FROM seasons")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(seasons, 0, "nothing of the page was stored");
    let metrics = app.get("/metrics").await.body.as_str().unwrap().to_string();
    assert!(
        metrics.contains(
            r#"fplsync_fpl_retries_total{endpoint="bootstrap-static",reason="unavailable"} 3"#
        ),
        "{metrics}"
    );
}

#[actix_rt::test]
async fn another_gameweeks_live_data_or_picks_are_rejected_and_a_finalized_gameweek_keeps_its_points()
 {
    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: 10,
        workers: 1,
        scenario: Scenario::Season,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(32)));
    let url = sim.base_url();
    let tracked: Vec<u64> = (1..=10).map(|i| 20_000_000 + i).collect();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.live.tracked_entries = tracked;
        s.jobs.max_attempts = 2;
        s.jobs.backoff_base_ms = 10;
    })
    .await;
    let ok = |run: Value| {
        assert_eq!(run["status"], "succeeded", "{run}");
        run
    };
    ok(run(&app, "bootstrap", json!({})).await);
    ok(run(&app, "entries", json!({"stage": "picks", "event": 32})).await);
    assert!(sim.state().jump(Phase::Final, Some(32)));
    ok(run(&app, "bootstrap", json!({})).await);
    ok(run(&app, "finalize", json!({"event": 32})).await);
    let points = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_as::<_, (i32, i32, i32)>(
                "SELECT player_id, points, bonus FROM live_player_points WHERE event_id = 32 \
                 ORDER BY player_id",
            )
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    let finalized = points(&app).await;
    assert!(finalized.iter().any(|(_, p, _)| *p > 0));

    // FPL answers GW31's live data when asked for GW32's.
    sim.state()
        .faults
        .set("event-live:wrong-event=1".parse().unwrap());
    let rejected = run(&app, "live", json!({"event": 32})).await;
    assert_eq!(rejected["status"], "failed", "{rejected}");
    assert!(
        logs(&rejected)
            .contains("rejected: asked for GW32, FPL answered with live points of player"),
        "{}",
        logs(&rejected)
    );
    assert_eq!(points(&app).await, finalized, "GW32's points untouched");

    // The next deadline: FPL still answers GW32's picks when asked for GW33's.
    sim.state()
        .faults
        .set("entry-picks:wrong-event=1".parse().unwrap());
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(33)));
    let picks = run(&app, "entries", json!({"stage": "picks", "event": 33})).await;
    assert_eq!(picks["status"], "failed", "{picks}");
    assert!(logs(&picks).contains("picks of GW32"), "{}", logs(&picks));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM entry_picks WHERE event_id = 33")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let metrics = app.get("/metrics").await.body.as_str().unwrap().to_string();
    for endpoint in ["event-live", "entry-picks"] {
        assert!(
            metrics.contains(&format!(
                "fplsync_fpl_wrong_gameweek_total{{endpoint=\"{endpoint}\"}}"
            )),
            "{endpoint}: {metrics}"
        );
    }
}

#[actix_rt::test]
async fn a_postponed_fixture_leaves_its_gameweek_blank_and_its_replay_makes_a_double_gameweek() {
    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: 0,
        workers: 1,
        scenario: Scenario::Season,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(30)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;
    let ok = |run: Value| {
        assert_eq!(run["status"], "succeeded", "{run}");
        run
    };
    ok(run(&app, "bootstrap", json!({})).await);
    ok(run(&app, "fixtures", json!({})).await);
    let stored = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            sqlx::query_as::<_, (Option<i32>, i32, i32)>(
                "SELECT event_id, team_h, team_a FROM fixtures WHERE id = 307",
            )
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let (event, home, away) = stored(&app).await;
    assert_eq!(event, Some(31), "scheduled in GW31 until it is postponed");
    let gw31 = app.get("/data/gameweeks/31").await.body;
    assert!(gw31["fixtures"].as_array().unwrap().contains(&json!(307)));

    // GW31 under way: FPL's answer for it no longer has fixture 307. The live job sees it
    // gone and syncs the season's fixtures first: 307 is unscheduled now.
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(31)));
    let live = ok(run(&app, "live", json!({"event": 31})).await);
    assert!(
        logs(&live).contains("fixtures [307] are no longer in GW31"),
        "{}",
        logs(&live)
    );
    assert_eq!(stored(&app).await.0, None);
    let gw31 = app.get("/data/gameweeks/31").await.body;
    assert!(!gw31["fixtures"].as_array().unwrap().contains(&json!(307)));
    assert!(gw31["postponed"].as_array().unwrap().contains(&json!(307)));
    for team in [home, away] {
        assert!(
            gw31["blank_teams"]
                .as_array()
                .unwrap()
                .contains(&json!(team)),
            "team {team} blank in GW31: {gw31}"
        );
    }
    let all = app.get("/data/fixtures").await.body;
    let postponed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == 307)
        .expect("a postponed fixture is served");
    assert_eq!(
        (&postponed["event"], &postponed["kickoff_time"]),
        (&Value::Null, &Value::Null)
    );

    // Rescheduled into GW36: its teams play twice there.
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(36)));
    ok(run(&app, "bootstrap", json!({})).await);
    ok(run(&app, "live", json!({"event": 36})).await);
    assert_eq!(stored(&app).await.0, Some(36));
    let gw36 = app.get("/data/gameweeks/36").await.body;
    assert!(gw36["fixtures"].as_array().unwrap().contains(&json!(307)));
    assert!(gw36["postponed"].as_array().unwrap().is_empty(), "{gw36}");
    for team in [home, away] {
        assert!(
            gw36["double_teams"]
                .as_array()
                .unwrap()
                .contains(&json!(team)),
            "team {team} double in GW36: {gw36}"
        );
    }
}

#[actix_rt::test]
async fn a_field_new_in_a_gameweeks_live_scores_is_reported_once_and_the_snapshot_still_stores() {
    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: 0,
        workers: 1,
        scenario: Scenario::Season,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.state().jump(Phase::Final, Some(31)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;
    let ok = |run: Value| {
        assert_eq!(run["status"], "succeeded", "{run}");
        run
    };
    ok(run(&app, "bootstrap", json!({})).await);
    // GW30's scores are the season's baseline of `event-live`.
    let baseline = ok(run(&app, "live", json!({"event": 30})).await);
    assert!(
        !logs(&baseline).contains("schema drift"),
        "{}",
        logs(&baseline)
    );

    // GW31's answer carries a field every player object lacked before.
    sim.state()
        .faults
        .set("event-live:add=elements[].shiny".parse().unwrap());
    let live = ok(run(&app, "live", json!({"event": 31})).await);
    assert!(
        logs(&live).contains("schema drift: event-live gained `elements[].shiny`"),
        "{}",
        logs(&live)
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM live_player_points WHERE event_id = 31")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(stored > 0, "the snapshot was stored");
    app.eventually("the schema_drift alert", || {
        alert(&app, "schema_drift:2025-26:event-live:elements[].shiny")
    })
    .await;
}
