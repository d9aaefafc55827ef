//! The gameweek lifecycle over the simulator's whole gameweek 38, with the 72 real managers
//! tracked: picks synced once after the deadline, live scores in play, a `finished` flag that
//! flips back, "updating" reported rather than failed on, and one finalization whose computed
//! points equal FPL's official ones for every manager.

use std::collections::BTreeMap;

use fplsync::fpl::model::{EntryId, PicksResponse};
use fplsync::fpl::samples::{self, gw38};
use fplsync::sim::Phase;
use serde_json::{Value, json};

use crate::helpers::{TestApp, point_fpl_at, spawn_app_with, start_sim};

async fn lifecycle(app: &TestApp) -> Value {
    app.get("/lifecycle").await.body
}

/// Waits until the lifecycle reports `state` for GW38.
async fn reaches(app: &TestApp, state: &str) -> Value {
    app.eventually(&format!("lifecycle in {state}"), || async {
        let l = lifecycle(app).await;
        (l["state"] == state && l["event"] == 38 && l["fpl_updating"] == false).then_some(l)
    })
    .await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[actix_rt::test]
async fn the_lifecycle_walks_gameweek_38_and_finalizes_it_exactly_once() {
    let sim = start_sim(0, &[]).await;
    assert!(sim.state().jump(Phase::PreDeadline, Some(38)));
    let real: BTreeMap<EntryId, PicksResponse> = samples::decode(gw38::LEAGUE_PICKS).unwrap();
    let tracked: Vec<u64> = real.keys().map(|e| e.0).collect();
    let url = sim.base_url();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.live.enabled = true;
        s.live.start_delay_ms = 10;
        s.live.tracked_entries = tracked.clone();
        s.live.stale_after_secs = 3600;
        s.live.interval_secs.map(|_| 0.05);
    })
    .await;

    // Before the deadline: GW37 is over (and was never followed, so it is not finalized).
    app.eventually("lifecycle before GW38's deadline", || async {
        let l = lifecycle(&app).await;
        (l["state"] == "PRE_DEADLINE" && l["event"] == 37).then_some(())
    })
    .await;

    // The deadline: FPL is updating, which is reported, not failed on.
    assert!(sim.state().jump(Phase::UpdatingDeadline, Some(38)));
    app.eventually("FPL updating reported", || async {
        let l = lifecycle(&app).await;
        (l["fpl_updating"] == true && l["state"] == "PICKS_WAIT").then_some(())
    })
    .await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    reaches(&app, "PICKS_WAIT").await;
    assert_eq!(count(&app, "SELECT count(*) FROM entry_picks").await, 0);

    // An hour after the deadline the picks are fetched, once.
    sim.state().advance(35.0 * 60.0);
    app.eventually("picks of all 72 managers stored", || async {
        (count(&app, "SELECT count(*) FROM entry_picks").await == 72).then_some(())
    })
    .await;
    reaches(&app, "BETWEEN_FIXTURES").await;

    // Kick-off: live, with every tracked manager scored from one live fetch.
    assert!(sim.state().jump(Phase::InPlay, Some(38)));
    reaches(&app, "LIVE_ACTIVE").await;
    let (id, _) = real.iter().next().unwrap();
    let in_play = app
        .eventually("a live score in play", || async {
            let r = app.get(&format!("/data/live/38/entries/{id}")).await;
            (r.status == 200 && r.body["points"].as_i64() > Some(0)).then_some(r.body)
        })
        .await;
    assert_eq!(in_play["final"], false);
    assert!(in_play.get("official_points").is_none());
    let bulk = app.get("/data/live/38/entries").await.body;
    assert_eq!(bulk["entries"].as_array().unwrap().len(), 72, "{bulk}");

    // A one-gameweek points race of the same managers is standing live from these scores.
    let created = app
        .post(
            "/tournaments",
            Some(json!({
                "name": "GW38 live",
                "source": {"entries": tracked},
                "group_stage": {"mode": "points_race", "groups": 1, "qualifiers_per_group": 0,
                                "first_event": 38, "last_event": 38},
                "knockout": {"mode": "none"},
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let t = created.body["id"].as_i64().unwrap();
    let activated = app.post(&format!("/tournaments/{t}/activate"), None).await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    // Read together with the scores of the same moment: a live tick between the two reads
    // may still be settling (its first in-play snapshot is followed by others).
    let (standing, rows) = app
        .eventually("the live standings agree with the live scores", || async {
            let standing = app
                .get(&format!("/tournaments/{t}/standings/live?event=38"))
                .await
                .body;
            let bulk = app.get("/data/live/38/entries").await.body;
            let nets: BTreeMap<i64, i64> = bulk["entries"]
                .as_array()?
                .iter()
                .map(|e| {
                    (
                        e["entry"].as_i64().unwrap(),
                        e["net_points"].as_i64().unwrap(),
                    )
                })
                .collect();
            let rows = standing["group_stage"]["groups"][0]["rows"]
                .as_array()?
                .clone();
            let agree = rows.len() == 72
                && rows.iter().all(|r| {
                    r["live_net_points"].as_i64()
                        == nets.get(&r["entry"].as_i64().unwrap()).copied()
                });
            agree.then_some((standing, rows))
        })
        .await;
    assert_eq!(standing["live"]["applied"], true, "{standing}");
    let live_points: Vec<i64> = rows
        .iter()
        .map(|r| r["live_points"].as_i64().unwrap())
        .collect();
    assert!(
        live_points.windows(2).all(|w| w[0] >= w[1]),
        "{live_points:?}"
    );

    assert!(sim.state().jump(Phase::Provisional, Some(38)));
    reaches(&app, "DAY_SETTLING").await;
    assert!(sim.state().jump(Phase::Finished, Some(38)));
    reaches(&app, "GW_REVIEW").await;
    // A fixture's `finished` turns false again: the state goes back.
    assert!(sim.state().jump(Phase::FlagFlip, Some(38)));
    reaches(&app, "DAY_SETTLING").await;
    assert!(sim.state().jump(Phase::UpdatingFinal, Some(38)));
    app.eventually("FPL updating reported", || async {
        (lifecycle(&app).await["fpl_updating"] == true).then_some(())
    })
    .await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM event_finalizations").await,
        0,
        "only data_checked finalizes"
    );

    // data_checked: finalized, once, with our points equal to FPL's for all 72 managers.
    assert!(sim.state().jump(Phase::Final, Some(38)));
    let done = reaches(&app, "FINALIZED").await;
    let transitions: Vec<(String, String)> = done["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["from"].to_string(), t["to"].as_str().unwrap().to_string()))
        .collect();
    assert!(
        transitions.contains(&("\"GW_REVIEW\"".into(), "DAY_SETTLING".into())),
        "{transitions:?}"
    );
    let results: Vec<(i64, i32, Option<i32>, i32)> = sqlx::query_as(
        "SELECT entry_id, points, computed_points, transfers_cost FROM entry_event_results \
         WHERE event_id = 38 ORDER BY entry_id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(results.len(), 72);
    for (entry, points, computed, cost) in &results {
        let official = &real[&EntryId(*entry as u64)].entry_history;
        assert_eq!(*points, official.points, "entry {entry}");
        assert_eq!(*cost, official.event_transfers_cost, "entry {entry}");
        assert_eq!(*computed, Some(official.points), "entry {entry}");
    }
    let final_score = app
        .eventually("the final live score with FPL's points", || async {
            // `final` comes with data_checked; the official points once they are recorded.
            let r = app.get(&format!("/data/live/38/entries/{id}")).await.body;
            (r["final"] == true && !r["official_points"].is_null()).then_some(r)
        })
        .await;
    let official = &real[id].entry_history;
    assert_eq!(final_score["official_points"], official.points);
    assert_eq!(final_score["points"], official.points);
    assert_eq!(
        final_score["net_points"],
        official.points - official.event_transfers_cost
    );

    // Later ticks change nothing: one finalization, one run that did it.
    let ticks = done["last_tick_at"].clone();
    app.eventually("a few more ticks", || async {
        let l = lifecycle(&app).await;
        (l["last_tick_at"] != ticks && l["state"] == "FINALIZED").then_some(())
    })
    .await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM event_finalizations").await,
        1
    );
    // The finalizing run records the finalization, then asks for `tournament-results` and only
    // then ends with its summary line: wait for that line before counting.
    let finalized_runs = app
        .eventually("the finalizing run has ended", || async {
            let n = count(
                &app,
                "SELECT count(*) FROM job_run_logs WHERE message LIKE 'GW38 finalized%'",
            )
            .await;
            (n > 0).then_some(n)
        })
        .await;
    assert_eq!(finalized_runs, 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM entry_picks").await,
        72,
        "picks fetched once"
    );
}
