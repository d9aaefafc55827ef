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

/// GETs `path` of the simulator's FPL API and decodes it.
async fn sim_get<T: serde::de::DeserializeOwned>(sim: &fplsync::sim::RunningSim, path: &str) -> T {
    reqwest::get(format!("{}{path}", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// fplsync's live scoring against the simulator's own, independent one in a blank gameweek
/// (31: fixture 307 postponed out of it, so four teams have no match) and a double gameweek
/// (36: 307 moved in, its two teams play twice): every player's points with provisional bonus
/// per fixture while in play and official at the end, whether he is done (a blank team's players
/// at once, a double's only when both fixtures are over), and each manager's points and
/// automatic substitutions once the gameweek is finished.
#[actix_rt::test]
async fn double_and_blank_gameweeks_score_as_the_simulators_own_scoring_does() {
    use fplsync::fpl::model::{EventLive, Fixtures, PicksResponse};
    use fplsync::sim::season::bonus_points;
    use std::collections::HashSet;

    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: 150,
        workers: 1,
        scenario: Scenario::Season,
        ..Default::default()
    })
    .await
    .unwrap();
    let ids: Vec<u64> = (1..=150).map(|k| 20_000_000 + k).collect();
    let url = sim.base_url();
    let tracked = ids.clone();
    let app = spawn_app_with(|s| {
        point_fpl_at(s, url);
        s.fpl.rate_per_sec = 5000;
        s.fpl.burst = 5000;
        s.fpl.max_in_flight = 16;
        s.fpl.bulk_max_in_flight = 16;
        s.live.tracked_entries = tracked;
    })
    .await;
    let team_of: HashMap<u32, u16> = sim
        .state()
        .world
        .data
        .players
        .iter()
        .map(|p| (p.id, p.team))
        .collect();
    let moved = sim.state().world.moved.clone();
    assert!(
        moved
            .iter()
            .any(|m| (m.fixture, m.from, m.to) == (307, 31, 36)),
        "{moved:?}"
    );

    let (mut blank_subs, mut double_players) = (0, 0);
    for gw in [31u16, 36] {
        assert!(sim.state().jump(Phase::DeadlinePassed, Some(gw)));
        run_ok(&app, "bootstrap", json!({})).await;
        run_ok(&app, "entries", json!({"stage": "picks", "event": gw})).await;

        for phase in [Phase::InPlay, Phase::Finished] {
            assert!(sim.state().jump(phase, Some(gw)));
            run_ok(&app, "live", json!({"event": gw})).await;
            let live: EventLive = sim_get(&sim, &format!("event/{gw}/live/")).await;
            let fixtures: Fixtures = sim_get(&sim, &format!("fixtures/?event={gw}")).await;
            assert!(fixtures.iter().all(|f| f.id.0 != 307) || gw == 36);
            let mut played: HashMap<u16, usize> = HashMap::new();
            // The simulator's own bonus, fixture by fixture, from the BPS it serves.
            let mut bonus: HashMap<u32, i32> = HashMap::new();
            for f in &fixtures {
                *played.entry(f.team_h.0).or_default() += 1;
                *played.entry(f.team_a.0).or_default() += 1;
                let bps: Vec<(u32, i32)> = f.bps().map(|(e, v)| (e.0, v)).collect();
                for (e, b) in bonus_points(&bps) {
                    *bonus.entry(e).or_default() += b;
                }
            }
            let stored: HashMap<i32, (i32, i32, i32, bool)> =
                sqlx::query_as::<_, (i32, i32, i32, i32, bool)>(
                    "SELECT player_id, points, minutes, bonus, done FROM live_player_points \
                 WHERE event_id = $1",
                )
                .bind(i32::from(gw))
                .fetch_all(&app.state.db)
                .await
                .unwrap()
                .into_iter()
                .map(|(id, p, m, b, d)| (id, (p, m, b, d)))
                .collect();
            assert_eq!(stored.len(), live.elements.len());
            for e in &live.elements {
                let id = e.id.0;
                let n = played.get(&team_of[&id]).copied().unwrap_or(0);
                assert_eq!(
                    e.explain.len(),
                    n,
                    "GW{gw} player {id}: one explain per fixture"
                );
                let (points, minutes, b, done) = stored[&(id as i32)];
                let expected_bonus = bonus.get(&id).copied().unwrap_or(0);
                assert_eq!(b, expected_bonus, "GW{gw} {phase:?} player {id} bonus");
                assert_eq!(
                    points,
                    e.stats.total_points - e.stats.stats.bonus + expected_bonus,
                    "GW{gw} {phase:?} player {id} points"
                );
                assert_eq!(minutes as u32, e.stats.stats.minutes, "player {id}");
                // Done: a team without a fixture at once, the others when all theirs are over.
                assert_eq!(
                    done,
                    n == 0 || phase == Phase::Finished,
                    "GW{gw} {phase:?} {id}"
                );
                if phase == Phase::Finished {
                    assert_eq!(
                        e.stats.stats.bonus, expected_bonus,
                        "official = provisional"
                    );
                }
                if n == 2
                    && e.explain.iter().all(|x| {
                        x.stats
                            .iter()
                            .any(|s| s.identifier == "minutes" && s.value > 0)
                    })
                {
                    double_players += 1;
                }
            }
            if gw == 31 {
                assert_eq!(played.len(), 16, "four teams blank in GW31");
            } else {
                assert_eq!(
                    played.values().filter(|n| **n == 2).count(),
                    2,
                    "the two teams of fixture 307 play twice: {played:?}"
                );
            }
        }

        // Managers, finished: fplsync's points and substitutions are the simulator's.
        let query = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let scores = app
            .get(&format!("/data/live/{gw}/entries?ids={query}"))
            .await
            .body;
        let scores = scores["entries"].as_array().unwrap();
        assert_eq!(scores.len(), ids.len());
        let fixtures: Fixtures = sim_get(&sim, &format!("fixtures/?event={gw}")).await;
        let playing: HashSet<u16> = fixtures
            .iter()
            .flat_map(|f| [f.team_h.0, f.team_a.0])
            .collect();
        for s in scores {
            let entry = s["entry"].as_u64().unwrap();
            let picks: PicksResponse =
                sim_get(&sim, &format!("entry/{entry}/event/{gw}/picks/")).await;
            assert_eq!(
                s["points"].as_i64(),
                Some(i64::from(picks.entry_history.points)),
                "GW{gw} entry {entry}: {s}"
            );
            if picks.active_chip.as_ref().map(|c| c.as_str()) == Some("bboost") {
                continue;
            }
            let ours: HashSet<(u64, u64)> = s["subs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_u64().unwrap(), p[1].as_u64().unwrap()))
                .collect();
            let theirs: HashSet<(u64, u64)> = picks
                .automatic_subs
                .iter()
                .map(|a| (u64::from(a.element_out.0), u64::from(a.element_in.0)))
                .collect();
            assert_eq!(ours, theirs, "GW{gw} entry {entry}");
            blank_subs += theirs
                .iter()
                .filter(|(out, _)| !playing.contains(&team_of[&(*out as u32)]))
                .count();
        }
    }
    assert!(blank_subs > 0, "a blank team's starter was substituted");
    assert!(double_players > 0, "a double gameweek player played twice");
}
