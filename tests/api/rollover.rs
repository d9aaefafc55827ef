//! The rollover end to end, against the simulator's `rollover` scenario: GW38 of 2025-26 is
//! finalized, then FPL publishes 2026-27 (pre-season: new ids everywhere, no current gameweek,
//! leagues with new joiners only), then GW1's deadline passes. fplsync keeps the old season
//! readable and untouched, creates the new one, sits in PRE_SEASON asking for nothing that
//! cannot succeed, archives the old season's tournaments, re-checks its tracked managers
//! (reporting, never merging, ids that are gone or someone else's now), builds a tournament
//! from a league that has only new joiners, and syncs GW1's picks under the new season.

use std::collections::BTreeMap;

use fplsync::sim::rollover::Holder;
use fplsync::sim::{Phase, RunningSim, Scenario, SimConfig, Simulator};
use serde_json::{Value, json};

use crate::helpers::{TestApp, point_fpl_at, spawn_app_with};

/// Runs `kind` to success. The lifecycle asks for runs too: when it holds the kind, its run is
/// waited for and the kind asked again, so the run returned started after this call.
async fn run_ok(app: &TestApp, kind: &str, params: Value) -> Value {
    let run = loop {
        let r = app
            .post(&format!("/jobs/{kind}/trigger"), Some(params.clone()))
            .await;
        if r.status == 409 && r.body["error"] == "already_running" {
            app.finished_run(r.body["run_id"].as_i64().unwrap()).await;
            continue;
        }
        assert_eq!(r.status, 202, "trigger {kind}: {}", r.body);
        break r.body["run_id"].as_i64().unwrap();
    };
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{kind}: {run}");
    run
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

fn holder(sim: &RunningSim, id: u64) -> Option<Holder> {
    sim.state().world.next.as_ref().unwrap().holder(id)
}

#[actix_rt::test]
async fn the_service_follows_a_season_into_the_next_through_pre_season_to_gw1() {
    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: 60,
        workers: 1,
        scenario: Scenario::Rollover,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    // Five of the real managers (their old ids are strangers' now) and five synthetic ones.
    let world = &sim.state().world;
    let tracked: Vec<u64> = (0..5)
        .chain(72..77)
        .map(|idx| world.managers.id(idx))
        .collect();
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.live.tracked_entries = tracked.clone();
        s.live.enabled = true;
        s.live.start_delay_ms = 10;
        s.live.stale_after_secs = 3600;
        // The lifecycle ticks fast; FPL's clock (the simulator's) stands still between jumps.
        s.live.interval_secs.map(|_| 0.05);
    })
    .await;

    // 2025-26, GW38: a tournament over it, and one never activated.
    run_ok(&app, "bootstrap", json!({})).await;
    let race = app
        .create_league_tournament(json!({
            "name": "Last day race",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 1, "qualifiers_per_group": 0,
                            "first_event": 38, "last_event": 38},
            "knockout": {"mode": "none"},
        }))
        .await["id"]
        .as_i64()
        .unwrap();
    let draft = app
        .create_league_tournament(json!({
            "name": "Never played",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 1, "qualifiers_per_group": 0,
                            "first_event": 38, "last_event": 38},
            "knockout": {"mode": "none"},
        }))
        .await["id"]
        .as_i64()
        .unwrap();
    run_ok(&app, "entries", json!({})).await;
    let activated = app
        .post(&format!("/tournaments/{race}/activate"), None)
        .await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    run_ok(&app, "entries", json!({"stage": "picks", "event": 38})).await;
    assert!(sim.state().jump(Phase::Final, Some(38)));
    app.eventually("GW38 finalized by the lifecycle", || async {
        let n = count(
            &app,
            "SELECT count(*) FROM event_finalizations WHERE event_id = 38",
        )
        .await;
        (n == 1).then_some(())
    })
    .await;
    // The season's last gameweek processed: its tournament is over and archived.
    app.eventually("the race archived after GW38", || async {
        let t = app.get(&format!("/tournaments/{race}")).await.body;
        (t["state"] == "archived").then_some(())
    })
    .await;
    let standings_before = app.get(&format!("/tournaments/{race}/standings")).await;
    assert_eq!(standings_before.status, 200);
    let old_picks = count(&app, "SELECT count(*) FROM entry_picks").await;
    let old_results = count(&app, "SELECT count(*) FROM entry_event_results").await;
    let old_points = count(&app, "SELECT sum(points) FROM live_player_points").await;
    let old_events = app.get("/data/events").await.body;
    assert_eq!(old_events.as_array().unwrap().len(), 38);
    let haaland_old = app.get("/data/players?code=223094").await.body;

    // 2026-27's pre-season: the daily bootstrap finds a new season.
    assert!(sim.state().jump(Phase::PreSeason, None));
    let marker = count(&app, "SELECT COALESCE(max(id), 0) FROM job_runs").await;
    let alerts_before = count(&app, "SELECT COALESCE(max(id), 0) FROM alerts").await;
    let boot = run_ok(&app, "bootstrap", json!({})).await;
    assert!(
        boot["logs"].to_string().contains("2026-27"),
        "{}",
        boot["logs"]
    );
    let seasons = app.get("/data/seasons").await.body;
    let names: Vec<(&str, bool)> = seasons
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(names, vec![("2026-27", true), ("2025-26", false)]);
    let lifecycle = app
        .eventually("the lifecycle in PRE_SEASON", || async {
            let l = app.get("/lifecycle").await.body;
            (l["state"] == "PRE_SEASON").then_some(l)
        })
        .await;
    assert_eq!(lifecycle["event"], Value::Null);

    // The old season is readable and untouched; the new one is served by default.
    assert_eq!(
        app.get("/data/events?season=2025-26").await.body,
        old_events
    );
    let new_events = app.get("/data/events").await.body;
    let new_events = new_events.as_array().unwrap();
    assert_eq!(new_events.len(), 38);
    assert!(new_events.iter().all(|e| e["is_current"] == false));
    assert_eq!(
        app.get("/data/players?code=223094&season=2025-26")
            .await
            .body,
        haaland_old
    );
    let haaland_new = app.get("/data/players?code=223094").await.body;
    let (old, new) = (&haaland_old[0], &haaland_new[0]);
    assert_eq!(old["code"], new["code"]);
    assert_ne!(
        old["id"], new["id"],
        "ids are renumbered; the code links them"
    );
    let unknown = app.get("/data/events?season=2019-20").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["error"], "unknown_season");
    assert_eq!(
        count(&app, "SELECT count(*) FROM entry_picks").await,
        old_picks
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM entry_event_results").await,
        old_results
    );
    assert_eq!(
        count(&app, "SELECT sum(points) FROM live_player_points").await,
        old_points
    );

    // The unplayed draft of last season is archived; the tracked managers are re-checked.
    app.eventually("the draft archived at the rollover", || async {
        let t = app.get(&format!("/tournaments/{draft}")).await.body;
        (t["state"] == "archived").then_some(())
    })
    .await;
    let expected: BTreeMap<i64, &str> = tracked
        .iter()
        .map(|&id| {
            let verdict = match holder(&sim, id) {
                Some(_) => "new_owner",
                None => "gone",
            };
            (id as i64, verdict)
        })
        .collect();
    assert!(expected.values().any(|v| *v == "gone"));
    assert!(expected.values().any(|v| *v == "new_owner"));
    let found = app
        .eventually("the tracked managers re-checked", || async {
            let rows: Vec<(i64, String)> =
                sqlx::query_as("SELECT entry_id, verdict FROM entry_rechecks ORDER BY entry_id")
                    .fetch_all(&app.state.db)
                    .await
                    .unwrap();
            (rows.len() == expected.len()).then_some(rows)
        })
        .await;
    let found: BTreeMap<i64, &str> = found.iter().map(|(e, v)| (*e, v.as_str())).collect();
    assert_eq!(found, expected);
    // Not merged: the new season's rows are the new owners', last season's stay as they were.
    let merged = count(
        &app,
        "SELECT count(*) FROM entries n JOIN entries o ON o.id = n.id AND o.season_id <> n.season_id \
         WHERE n.player_name = o.player_name",
    )
    .await;
    assert_eq!(merged, 0);

    // A tournament from the new season's league: before its first update only new joiners.
    let next = app
        .create_league_tournament(json!({
            "name": "2026-27 cup",
            "source": {"classic_league": 24124},
            "group_stage": {"mode": "points_race", "groups": 1, "qualifiers_per_group": 0,
                            "first_event": 1, "last_event": 1},
            "knockout": {"mode": "none"},
        }))
        .await;
    let next_id = next["id"].as_i64().unwrap();
    let members = count(
        &app,
        &format!("SELECT count(*) FROM tournament_entries WHERE tournament_id = {next_id}"),
    )
    .await;
    assert!(members > 30, "{members} members read from new_entries");
    let activated = app
        .post(&format!("/tournaments/{next_id}/activate"), None)
        .await;
    assert_eq!(activated.status, 200, "{}", activated.body);

    // Pre-season: no run failed, nothing alerted but what the rollover is news of.
    let failed = count(
        &app,
        &format!("SELECT count(*) FROM job_runs WHERE id > {marker} AND status = 'failed'"),
    )
    .await;
    assert_eq!(failed, 0);
    let raised: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT key, severity FROM alerts WHERE id > {alerts_before} AND severity <> 'info' \
         ORDER BY id"
    ))
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert!(
        raised
            .iter()
            .all(|(key, _)| key.starts_with("schema_drift:2026-27:")
                || key == "tracked_entries_rechecked:2026-27"),
        "{raised:?}"
    );
    assert!(
        raised
            .iter()
            .any(|(key, _)| key == "tracked_entries_rechecked:2026-27")
    );

    // GW1's deadline: picks under the new season, next to last season's.
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(1)));
    run_ok(&app, "bootstrap", json!({})).await;
    run_ok(&app, "entries", json!({"stage": "picks", "event": 1})).await;
    let stored = count(
        &app,
        &format!(
            "SELECT count(*) FROM entry_picks p JOIN seasons s ON s.id = p.season_id \
             WHERE s.name = '2026-27' AND p.event_id = 1 AND p.entry_id IN \
             (SELECT entry_id FROM tournament_entries WHERE tournament_id = {next_id})"
        ),
    )
    .await;
    assert_eq!(stored, members);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM entry_picks p JOIN seasons s ON s.id = p.season_id \
             WHERE s.name = '2025-26'"
        )
        .await,
        old_picks
    );
    assert_eq!(
        app.get(&format!("/tournaments/{race}/standings"))
            .await
            .body,
        standings_before.body
    );
}
