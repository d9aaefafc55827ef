//! The `live` snapshot job against the simulator's real gameweek 38: provisional bonus in play,
//! official at the end, identical snapshots written once, results in PostgreSQL and the cache.

use fplsync::cache::{CacheKey, LiveDataset};
use fplsync::fpl::model::EventLive;
use fplsync::fpl::samples::{self, gw38};
use fplsync::sim::Phase;
use serde_json::{Value, json};

use crate::helpers::{point_fpl_at, spawn_app_with, start_sim};

#[actix_rt::test]
async fn live_snapshots_carry_provisional_bonus_in_play_and_the_official_points_at_the_end() {
    let sim = start_sim(0, &[]).await;
    assert!(sim.state().jump(Phase::InPlay, Some(38)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;

    // No metadata yet: the job runs bootstrap first, then takes the snapshot.
    let run = app.trigger("live", json!({"event": 38})).await;
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let in_play: Vec<(i32, i32, bool)> =
        sqlx::query_as("SELECT points, bonus, bonus_provisional FROM live_player_points")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    let live: EventLive = samples::decode(gw38::LIVE_IN_PLAY).unwrap();
    assert_eq!(in_play.len(), live.elements.len());
    let provisional: i32 = in_play.iter().map(|(_, b, _)| b).sum();
    assert!(
        provisional >= 60,
        "ten fixtures award 3+2+1 each: {provisional}"
    );
    assert!(in_play.iter().all(|(_, _, p)| *p));

    // The same snapshot again writes nothing.
    let again = app.trigger("live", json!({"event": 38})).await;
    let again = app.finished_run(again).await;
    let logs = again["logs"].as_array().unwrap();
    let last = logs.last().unwrap()["message"].as_str().unwrap();
    assert_eq!(last, "GW38: identical snapshot, nothing written");

    // Final: official bonus, and every player's points are FPL's own.
    assert!(sim.state().jump(Phase::Final, Some(38)));
    let last = app.trigger("live", json!({"event": 38})).await;
    assert_eq!(app.finished_run(last).await["status"], "succeeded");
    let final_live: EventLive = samples::decode(gw38::LIVE_FINAL).unwrap();
    let stored: Vec<(i32, i32, i32, bool)> = sqlx::query_as(
        "SELECT player_id, points, bonus, bonus_provisional FROM live_player_points ORDER BY player_id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(stored.len(), final_live.elements.len());
    for e in &final_live.elements {
        let row = stored.iter().find(|r| r.0 == e.id.0 as i32).unwrap();
        assert_eq!(row.1, e.stats.total_points, "player {}", e.id);
        assert_eq!(row.2, e.stats.stats.bonus, "player {}", e.id);
        assert!(!row.3);
    }

    // Published as one revision in the cache.
    let cached = app
        .state
        .cache
        .get(CacheKey::Live {
            event: 38,
            dataset: LiveDataset::Elements,
        })
        .await
        .unwrap()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&cached).unwrap();
    assert_eq!(rows.len(), final_live.elements.len());
    assert!(rows.iter().all(|r| r["bonus_provisional"] == false));
}

#[actix_rt::test]
async fn a_live_trigger_with_a_bad_event_is_refused() {
    let app = crate::helpers::spawn_app().await;
    for bad in [
        json!({"event": 0}),
        json!({"event": "38"}),
        json!({"gw": 38}),
    ] {
        let r = app.post("/jobs/live/trigger", Some(bad.clone())).await;
        assert_eq!(r.status, reqwest::StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.body["error"], "invalid_params", "{bad}");
    }
}

#[actix_rt::test]
async fn picks_stored_after_a_live_tick_are_scored_by_the_next_tick() {
    let sim = start_sim(0, &[]).await;
    assert!(sim.state().jump(Phase::InPlay, Some(38)));
    let real: std::collections::BTreeMap<fplsync::fpl::model::EntryId, Value> =
        samples::decode(gw38::LEAGUE_PICKS).unwrap();
    let ids: Vec<u64> = real.keys().map(|e| e.0).collect();
    let url = sim.base_url();
    let first_two = ids[..2].to_vec();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.live.tracked_entries = first_two;
    })
    .await;
    let run_ok = |kind: &'static str, params: Value| {
        let app = &app;
        async move {
            let id = app.trigger(kind, params).await;
            let run = app.finished_run(id).await;
            assert_eq!(run["status"], "succeeded", "{kind}: {run}");
        }
    };
    let picks = || json!({"stage": "picks", "event": 38});
    run_ok("entries", picks()).await;
    run_ok("live", json!({"event": 38})).await;
    let path = format!("/data/live/38/entries?ids={},{},{}", ids[0], ids[1], ids[2]);
    let before = app.get(&path).await.body;
    assert_eq!(before["entries"].as_array().unwrap().len(), 2, "{before}");

    // A third manager is tracked and his picks fetched: the next tick (whose picks of the
    // gameweek were kept in process) scores him too.
    sqlx::query("INSERT INTO tracked_entries (entry_id, source) VALUES ($1, 'config')")
        .bind(ids[2] as i64)
        .execute(&app.state.db)
        .await
        .unwrap();
    run_ok("entries", picks()).await;
    run_ok("live", json!({"event": 38})).await;
    let after = app.get(&path).await.body;
    let entries = after["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{after}");
    assert!(
        entries.iter().any(|e| e["entry"] == ids[2]),
        "the third manager is scored: {after}"
    );
}
