//! The simulator's season scenario end to end: a tournament from its classic league (500
//! synthetic managers and the 72 real ones), a points-race group stage over gameweeks 30–35 and
//! knockout rounds over 36–38. Every gameweek: picks after the deadline (`entries`), then, once
//! `data_checked`, `finalize` — which stores the official results and hands them to
//! `tournament-results` by message. Standings and bracket are served at the end.

use std::collections::HashMap;

use fplsync::sim::{Phase, Scenario, SimConfig, Simulator};
use serde_json::{Value, json};

use crate::helpers::{TestApp, point_fpl_at, spawn_app_with};

async fn run_ok(app: &TestApp, kind: &str, params: Value) -> Value {
    let run = app.trigger(kind, params).await;
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{kind}: {run}");
    run
}

#[actix_rt::test]
async fn a_season_of_picks_and_finalized_gameweeks_decides_a_500_manager_tournament() {
    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: 500,
        workers: 1,
        scenario: Scenario::Season,
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.state().jump(Phase::PreDeadline, Some(30)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        // The simulator is local: let the bulk work go as fast as it answers.
        s.fpl.rate_per_sec = 5000;
        s.fpl.burst = 5000;
        s.fpl.max_in_flight = 16;
        s.fpl.bulk_max_in_flight = 16;
    })
    .await;
    run_ok(&app, "bootstrap", json!({})).await;

    let created = app
        .create_league_tournament(json!({
            "name": "Season cup",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 4, "qualifiers_per_group": 2,
                            "first_event": 30, "last_event": 35},
            "knockout": {"mode": "single", "first_event": 36},
        }))
        .await;
    let id = created["id"].as_i64().unwrap();
    let tracked: i64 = sqlx::query_scalar("SELECT count(DISTINCT entry_id) FROM tracked_entries")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(tracked, 572, "roster from every standings page");
    // Overall ranks for the seeding.
    run_ok(&app, "entries", json!({})).await;
    let activated = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(activated.status, 200, "{}", activated.body);

    for gw in 30..=38u16 {
        assert!(sim.state().jump(Phase::DeadlinePassed, Some(gw)));
        run_ok(&app, "entries", json!({"stage": "picks", "event": gw})).await;
        assert!(sim.state().jump(Phase::Final, Some(gw)));
        run_ok(&app, "bootstrap", json!({})).await;
        run_ok(&app, "finalize", json!({"event": gw})).await;
        // Finalization asked for the tournament's results by message.
        app.eventually(&format!("GW{gw} processed"), || async {
            let doc = app.get(&format!("/tournaments/{id}/standings")).await.body;
            doc["processed_events"]
                .as_array()
                .is_some_and(|done| done.iter().any(|e| e == gw))
                .then_some(())
        })
        .await;
    }

    let picks: i64 = sqlx::query_scalar("SELECT count(*) FROM entry_picks")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(picks, 572 * 9, "each manager's picks once per gameweek");
    let finalized: Vec<(i32, i32, i32)> = sqlx::query_as(
        "SELECT event_id, entries, mismatches FROM event_finalizations ORDER BY event_id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(finalized.len(), 9);
    for (event, entries, mismatches) in &finalized {
        assert_eq!(*entries, 572, "GW{event}");
        assert_eq!(*mismatches, 0, "GW{event}: our points equal FPL's");
    }

    // The group tables are the sums of the official net points over gameweeks 30–35.
    let nets: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
        "SELECT entry_id, sum(net_points)::bigint FROM entry_event_results \
         WHERE event_id BETWEEN 30 AND 35 GROUP BY entry_id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let doc = app.get(&format!("/tournaments/{id}/standings")).await.body;
    assert_eq!(doc["group_stage"]["complete"], true, "{doc}");
    let groups = doc["group_stage"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4);
    for group in groups {
        let rows = group["rows"].as_array().unwrap();
        for row in rows {
            let entry = row["entry"].as_i64().unwrap();
            assert_eq!(row["points"].as_i64(), nets.get(&entry).copied(), "{row}");
        }
        let points: Vec<i64> = rows.iter().map(|r| r["points"].as_i64().unwrap()).collect();
        assert!(points.windows(2).all(|w| w[0] >= w[1]), "{points:?}");
    }
    let rounds = doc["knockout"]["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3, "{doc}");
    for round in rounds {
        for m in round["matches"].as_array().unwrap() {
            assert!(!m["winner"].is_null(), "{m}");
        }
    }
    assert!(!doc["knockout"]["champion"].is_null(), "{doc}");
}
