//! Tournaments end to end: created over HTTP from the simulator's leagues (roster from every
//! standings page) or from a list, activated, and decided by the `tournament-results` job from
//! official results inserted here as the lead's jobs will store them.

use std::collections::{BTreeMap, BTreeSet};

use fplsync::fpl::model::{EntryId, EventLive, PicksResponse};
use fplsync::fpl::samples::{self, gw38};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{
    TestApp, point_fpl_at, spawn_app, spawn_app_with, start_sim, units_finished_by_instances,
};

async fn season(db: &PgPool) -> i32 {
    sqlx::query_scalar(
        "INSERT INTO seasons (name, first_deadline) VALUES ('2025-26', '2025-08-15T17:30:00Z') \
         RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

/// An official result as finalization stores it; `picks` as FPL sends them.
async fn result(db: &PgPool, season: i32, event: i32, entry: i64, net: i32, picks: Value) {
    sqlx::query(
        "INSERT INTO entry_event_results (season_id, event_id, entry_id, points, transfers_cost, \
         net_points, bench_points, picks) VALUES ($1, $2, $3, $4, 0, $4, 0, $5)",
    )
    .bind(season)
    .bind(event)
    .bind(entry)
    .bind(net)
    .bind(picks)
    .execute(db)
    .await
    .unwrap();
}

async fn player(db: &PgPool, season: i32, event: i32, id: i32, goals: i32, conceded: i32) {
    sqlx::query(
        "INSERT INTO live_player_points (season_id, event_id, player_id, points, minutes, bonus, \
         bonus_provisional, done, stats, hash) VALUES ($1, $2, $3, 2, 90, 0, false, true, $4, 0)",
    )
    .bind(season)
    .bind(event)
    .bind(id)
    .bind(json!({"goals_scored": goals, "goals_conceded": conceded}))
    .execute(db)
    .await
    .unwrap();
}

async fn results_run(app: &TestApp, params: Value) -> Value {
    let run = app.trigger("tournament-results", params).await;
    app.finished_run(run).await
}

async fn standings(app: &TestApp, id: i64) -> Value {
    let r = app.get(&format!("/tournaments/{id}/standings")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

fn group_rows(doc: &Value, group: usize) -> Vec<Value> {
    doc["group_stage"]["groups"][group]["rows"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_rt::test]
async fn a_tournament_from_the_classic_league_takes_its_roster_from_every_standings_page() {
    let sim = start_sim(200, &[]).await;
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;
    let t = app
        .create_league_tournament(json!({
            "name": "Spring cup",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 4, "qualifiers_per_group": 2,
                            "first_event": 30, "last_event": 35},
            "knockout": {"mode": "single", "first_event": 36},
        }))
        .await;
    // 72 real and 200 synthetic managers: six pages of 50, read by the roster job.
    assert_eq!(t["entries"], 272);
    assert_eq!(t["roster"]["pages_read"], 6);
    assert_eq!(t["state"], "draft");
    // 8 qualifiers: a bracket of 8, three single-leg rounds from GW36.
    assert_eq!(t["knockout"]["events"], json!([[36], [37], [38]]));
    let id = t["id"].as_i64().unwrap();
    let tracked: i64 = sqlx::query_scalar("SELECT count(*) FROM tracked_entries WHERE source = $1")
        .bind(format!("tournament:{id}"))
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(tracked, 272);
    // The same managers from the H2H league's pages.
    let h2h = app
        .create_league_tournament(json!({"name": "H2H", "source": {"h2h_league": 2},
                                         "knockout": {"mode": "two_legs", "first_event": 21}}))
        .await;
    assert_eq!(h2h["entries"], 272);
    assert_eq!(h2h["knockout"]["rounds"], 9, "a bracket of 512");
    let listed = app.get("/tournaments?state=draft").await.body;
    assert_eq!(listed["tournaments"][1]["id"], id, "newest first");

    // The roster can be synced again while a draft; activation seeds serpentine into 4 groups
    // of 68 and publishes (empty) standings.
    let synced = app
        .post(&format!("/tournaments/{id}/sync-roster"), None)
        .await;
    assert_eq!(synced.status, StatusCode::ACCEPTED, "{}", synced.body);
    let run = app
        .finished_run(synced.body["run_id"].as_i64().unwrap())
        .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let active = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(active.status, StatusCode::OK, "{}", active.body);
    let doc = standings(&app, id).await;
    for g in 0..4 {
        assert_eq!(group_rows(&doc, g).len(), 68);
    }
    assert_eq!(doc["knockout"]["waiting_for_group_stage"], true);
    let again = app
        .post(&format!("/tournaments/{id}/sync-roster"), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["error"], "invalid_state");
    let archived = app.post(&format!("/tournaments/{id}/archive"), None).await;
    assert_eq!(archived.body["state"], "archived");
    let tracked: i64 = sqlx::query_scalar("SELECT count(*) FROM tracked_entries WHERE source = $1")
        .bind(format!("tournament:{id}"))
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(tracked, 0, "an archived tournament tracks nobody");
}

#[actix_rt::test]
async fn bad_tournament_requests_get_stable_error_codes() {
    let sim = start_sim(0, &[]).await;
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;
    let raw = app
        .client
        .post(format!("{}/tournaments", app.address))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["error"], "invalid_json");
    let cases = [
        (
            json!({"name": "x", "source": {"classic_league": 1}, "colour": "red",
                "knockout": {"mode": "single", "first_event": 36}}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"name": "x", "source": {"entries": [1, 2]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_tournament",
        ),
        (
            json!({"name": "x", "source": {"entries": [1, 2]},
                "group_stage": {"mode": "battle_race", "groups": 1, "qualifiers_per_group": 2,
                                "first_event": 36, "last_event": 30}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_tournament",
        ),
    ];
    for (body, status, code) in cases {
        let r = app.post("/tournaments", Some(body.clone())).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (status, Some(code)),
            "{body}: {}",
            r.body
        );
    }
    assert_eq!(app.get("/tournaments").await.body["tournaments"], json!([]));
    // A league FPL does not know: the draft is created, its roster read fails for good and says
    // why, and it cannot be activated.
    let r = app
        .post(
            "/tournaments",
            Some(json!({"name": "x", "source": {"classic_league": 99},
                        "knockout": {"mode": "single", "first_event": 36}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let run = app.finished_run(r.body["run_id"].as_i64().unwrap()).await;
    assert_eq!(
        (run["status"].as_str(), run["attempt"].as_i64()),
        (Some("failed"), Some(1))
    );
    let unknown = r.body["id"].as_i64().unwrap();
    let t = app.get(&format!("/tournaments/{unknown}")).await.body;
    assert_eq!(t["roster"]["state"], "failed", "{t}");
    assert!(
        t["roster"]["error"]
            .as_str()
            .unwrap()
            .contains("FPL league 99 does not exist"),
        "{t}"
    );
    let r = app
        .post(&format!("/tournaments/{unknown}/activate"), None)
        .await;
    assert_eq!(
        (r.status, r.body["error"].clone()),
        (StatusCode::CONFLICT, json!("roster_not_ready"))
    );
    let r = app.get("/tournaments/41").await;
    assert_eq!(
        (r.status, r.body["error"].clone()),
        (StatusCode::NOT_FOUND, json!("tournament_not_found"))
    );
    let r = app.get("/tournaments/x").await;
    assert_eq!(r.body["error"], "invalid_path");
    let r = app.get("/tournaments?state=live").await;
    assert_eq!(r.body["error"], "invalid_state");

    // 3 entries cannot fill a knockout that starts in GW38 and needs two rounds.
    let r = app
        .post(
            "/tournaments",
            Some(json!({"name": "late", "source": {"entries": [1, 2, 3]},
                        "knockout": {"mode": "single", "first_event": 38}})),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(
        (r.status, r.body["error"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("invalid_tournament")
        )
    );
    let r = app
        .post(&format!("/tournaments/{id}/sync-roster"), None)
        .await;
    assert_eq!(r.body["error"], "not_a_league");
    let r = app.post(&format!("/tournaments/{id}/explode"), None).await;
    assert_eq!(
        (r.status, r.body["error"].clone()),
        (StatusCode::NOT_FOUND, json!("unknown_action"))
    );
    let r = app
        .post(&format!("/tournaments/{id}/standings"), None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = app
        .post(
            "/jobs/tournament-results/trigger",
            Some(json!({"event": 0})),
        )
        .await;
    assert_eq!(r.body["error"], "invalid_params");
}

/// Six listed managers (overall ranks 1..6 for entries 101..106), a battle race of two groups
/// over GW30–32 with two qualifiers each, and a single-leg knockout over GW33–34.
#[actix_rt::test]
async fn a_battle_race_feeds_a_knockout_bracket_decided_on_the_tie_breaks() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let season = season(db).await;
    for (i, entry) in (101..=106).enumerate() {
        sqlx::query("INSERT INTO entries (season_id, id, overall_rank) VALUES ($1, $2, $3)")
            .bind(season)
            .bind(entry as i64)
            .bind(i as i64 + 1)
            .execute(db)
            .await
            .unwrap();
    }
    let r = app
        .post(
            "/tournaments",
            Some(json!({
                "name": "Battle",
                "source": {"entries": [106, 105, 104, 103, 102, 101]},
                "group_stage": {"mode": "battle_race", "groups": 2, "qualifiers_per_group": 2,
                                "first_event": 30, "last_event": 32},
                "knockout": {"mode": "single", "first_event": 33},
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["knockout"]["events"], json!([[33], [34]]));
    let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Serpentine: group 1 = seeds 1, 4, 5; group 2 = seeds 2, 3, 6.
    let groups: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT entry_id, group_no FROM tournament_entries WHERE tournament_id = $1 ORDER BY entry_id",
    )
    .bind(id)
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(
        groups,
        [(101, 1), (102, 2), (103, 2), (104, 1), (105, 1), (106, 2)]
    );

    // A knockout gameweek before its group stage: the run waits (fails after its retries)
    // and nothing is written.
    let early = results_run(&app, json!({"event": 33, "tournament": id})).await;
    assert_eq!(early["status"], "failed", "{early}");
    assert!(
        early["error"]
            .as_str()
            .unwrap()
            .contains("waiting for the group stage"),
        "{early}"
    );

    // Group gameweeks: constant net points per entry; 105 has no GW31 result, so its GW31
    // match (against 101) stays unscored instead of being a win for 101.
    let nets = [
        (101, 50),
        (102, 70),
        (103, 30),
        (104, 60),
        (105, 40),
        (106, 50),
    ];
    for ev in 30..=32 {
        for (entry, net) in nets {
            if (entry, ev) != (105, 31) {
                result(db, season, ev, entry, net, json!([])).await;
            }
        }
    }
    for ev in [30, 31, 32] {
        let run = results_run(&app, json!({"event": ev})).await;
        assert_eq!(run["status"], "succeeded", "{run}");
    }
    let doc = standings(&app, id).await;
    let table = |g: usize| -> Vec<(i64, i64, i64)> {
        group_rows(&doc, g)
            .iter()
            .map(|r| {
                (
                    r["entry"].as_i64().unwrap(),
                    r["points"].as_i64().unwrap(),
                    r["played"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    // Group 1: 104 beat 105 (GW30) and 101 (GW32); 101 v 105 unscored; 101 and 105 tie on 0
    // and 101 ranks better overall.
    assert_eq!(table(0), [(104, 6, 2), (101, 0, 1), (105, 0, 1)]);
    assert_eq!(table(1), [(102, 6, 2), (106, 3, 2), (103, 0, 2)]);
    let unscored: Vec<&Value> = doc["group_stage"]["groups"][0]["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["home_points"].is_null())
        .collect();
    assert_eq!(unscored.len(), 1);
    assert_eq!(unscored[0]["event"], 31);
    assert_eq!(doc["group_stage"]["complete"], true);
    // Qualification order 104, 102, 101, 106: 104 v 106 and 102 v 101.
    assert_eq!(doc["knockout"]["seeds"], json!([104, 102, 101, 106]));

    // GW33: 104 and 106 level on points, 104's counted players scored more; 101 outscores 102.
    result(
        db,
        season,
        33,
        104,
        55,
        json!([{"element": 1, "position": 1, "multiplier": 1}]),
    )
    .await;
    result(
        db,
        season,
        33,
        106,
        55,
        json!([{"element": 2, "position": 1, "multiplier": 1},
                                           {"element": 1, "position": 12, "multiplier": 0}]),
    )
    .await;
    result(db, season, 33, 101, 45, json!([])).await;
    result(db, season, 33, 102, 40, json!([])).await;
    player(db, season, 33, 1, 2, 0).await;
    player(db, season, 33, 2, 1, 0).await;
    // The final's gameweek: only 104 has a result so far.
    result(db, season, 34, 104, 30, json!([])).await;
    for ev in [33, 34] {
        let run = results_run(&app, json!({"event": ev, "tournament": id})).await;
        assert_eq!(run["status"], "succeeded", "{run}");
    }
    let doc = standings(&app, id).await;
    let semis = &doc["knockout"]["rounds"][0]["matches"];
    assert_eq!(semis[0]["winner"], 104);
    assert_eq!(semis[0]["decided_by"], "goals_scored");
    assert_eq!(semis[1]["winner"], 101);
    assert_eq!(semis[1]["decided_by"], "net_points");
    let fin = &doc["knockout"]["rounds"][1]["matches"][0];
    assert_eq!(
        (fin["home"].clone(), fin["away"].clone()),
        (json!(104), json!(101))
    );
    assert!(
        fin["winner"].is_null(),
        "101 has no GW34 result: no winner, not a 30–0: {fin}"
    );

    // Re-running an earlier gameweek after later ones changes nothing, and never touches the
    // later gameweeks' data.
    let before = standings(&app, id).await;
    let stats_before: Vec<(i32, i64, i32)> = sqlx::query_as(
        "SELECT event_id, entry_id, goals_scored FROM tournament_entry_stats \
         WHERE tournament_id = $1 AND event_id > 30 ORDER BY 1, 2",
    )
    .bind(id)
    .fetch_all(db)
    .await
    .unwrap();
    let run = results_run(&app, json!({"event": 30, "tournament": id})).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(standings(&app, id).await, before);
    let stats_after: Vec<(i32, i64, i32)> = sqlx::query_as(
        "SELECT event_id, entry_id, goals_scored FROM tournament_entry_stats \
         WHERE tournament_id = $1 AND event_id > 30 ORDER BY 1, 2",
    )
    .bind(id)
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(stats_after, stats_before);

    // 101's result arrives: the final is decided and 104 is champion.
    result(db, season, 34, 101, 20, json!([])).await;
    let run = results_run(&app, json!({"event": 34})).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let doc = standings(&app, id).await;
    assert_eq!(doc["knockout"]["champion"], 104);
    let stored: Option<i64> = sqlx::query_scalar(
        "SELECT winner FROM tournament_knockout_matches WHERE tournament_id = $1 AND round = 2",
    )
    .bind(id)
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(stored, Some(104));
}

#[actix_rt::test]
async fn the_72_real_managers_in_a_gameweek_38_points_race_are_ranked_by_their_official_points() {
    let sim = start_sim(0, &[]).await;
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;
    let db = &app.state.db;
    let season = season(db).await;
    let league: BTreeMap<EntryId, PicksResponse> = samples::decode(gw38::LEAGUE_PICKS).unwrap();
    assert_eq!(league.len(), 72);
    for (entry, picks) in &league {
        let h = &picks.entry_history;
        sqlx::query(
            "INSERT INTO entry_event_results (season_id, event_id, entry_id, points, \
             transfers_cost, net_points, bench_points, total_points, overall_rank, active_chip, \
             picks) VALUES ($1, 38, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(season)
        .bind(entry.0 as i64)
        .bind(h.points)
        .bind(h.event_transfers_cost)
        .bind(h.points - h.event_transfers_cost)
        .bind(h.points_on_bench)
        .bind(h.total_points)
        .bind(h.overall_rank.map(i64::from))
        .bind(picks.active_chip.as_ref().map(|c| {
            serde_json::to_value(c)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        }))
        .bind(serde_json::to_value(&picks.picks).unwrap())
        .execute(db)
        .await
        .unwrap();
    }
    // The final live data, as the live job stores it (FPL's stats as sent).
    let live: EventLive = samples::decode(gw38::LIVE_FINAL).unwrap();
    for e in &live.elements {
        sqlx::query(
            "INSERT INTO live_player_points (season_id, event_id, player_id, points, minutes, \
             bonus, bonus_provisional, done, stats, hash) \
             VALUES ($1, 38, $2, $3, 0, 0, false, true, $4, 0)",
        )
        .bind(season)
        .bind(e.id.0 as i32)
        .bind(e.stats.total_points)
        .bind(serde_json::to_value(&e.stats).unwrap())
        .execute(db)
        .await
        .unwrap();
    }
    let t = app
        .create_league_tournament(json!({
            "name": "GW38 sprint",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 1,
                            "first_event": 38, "last_event": 38},
        }))
        .await;
    assert_eq!(t["entries"], 72);
    let id = t["id"].as_i64().unwrap();
    let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let run = results_run(&app, json!({"event": 38})).await;
    assert_eq!(run["status"], "succeeded", "{run}");

    let doc = standings(&app, id).await;
    let rows = group_rows(&doc, 0);
    let got: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r["entry"].as_i64().unwrap(), r["points"].as_i64().unwrap()))
        .collect();
    let mut expected: Vec<(i64, i64, u64)> = league
        .iter()
        .map(|(e, p)| {
            let h = &p.entry_history;
            let net = i64::from(h.points - h.event_transfers_cost);
            (
                e.0 as i64,
                net,
                h.overall_rank.map(u64::from).unwrap_or(u64::MAX),
            )
        })
        .collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
    let expected: Vec<(i64, i64)> = expected.into_iter().map(|(e, n, _)| (e, n)).collect();
    assert_eq!(got, expected);
    let ranks: BTreeSet<i64> = rows.iter().map(|r| r["rank"].as_i64().unwrap()).collect();
    assert_eq!(ranks, (1..=72).collect());

    // The per-entry statistics: captain points and counted players' goals from the final picks.
    let results = app
        .state
        .cache
        .get(fplsync::cache::CacheKey::Tournament {
            id: id as u64,
            dataset: fplsync::cache::TournamentDataset::Results,
        })
        .await
        .unwrap()
        .unwrap();
    let results: Vec<Value> = serde_json::from_slice(&results).unwrap();
    assert_eq!(results.len(), 72);
    let of = |id: u32| live.elements.iter().find(|e| e.id.0 == id).unwrap();
    for row in &results {
        let picks = &league[&EntryId(row["entry"].as_u64().unwrap())];
        let boost = picks
            .active_chip
            .as_ref()
            .map(|c| serde_json::to_value(c).unwrap())
            == Some(json!("bboost"));
        let captain: i32 = picks
            .picks
            .iter()
            .filter(|p| p.multiplier >= 2)
            .map(|p| of(p.element.0).stats.total_points * i32::from(p.multiplier))
            .sum();
        let goals: u32 = picks
            .picks
            .iter()
            .filter(|p| p.position <= 11 || boost)
            .map(|p| of(p.element.0).stats.stats.goals_scored)
            .sum();
        assert_eq!(row["captain_points"], captain, "{row}");
        assert_eq!(row["goals_scored"], goals, "{row}");
        assert_eq!(
            row["net_points"],
            picks.entry_history.points - picks.entry_history.event_transfers_cost
        );
    }
    assert!(results.iter().any(|r| r["goals_scored"].as_i64() > Some(0)));
}

/// The peer rebuilt groups while results were being written. Here a results run waits for the
/// tournament's row lock that every structural change holds, and writes only after it is gone.
#[actix_rt::test]
async fn a_results_run_waits_for_a_structural_change_of_the_tournament_to_finish() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let season = season(db).await;
    let r = app
        .post(
            "/tournaments",
            Some(json!({"name": "Locked", "source": {"entries": [201, 202]},
                        "group_stage": {"mode": "points_race", "groups": 1,
                                        "first_event": 30, "last_event": 30}})),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    result(db, season, 30, 201, 40, json!([])).await;
    result(db, season, 30, 202, 50, json!([])).await;

    // A structural change in progress: the tournament's row is locked as store.rs locks it.
    let mut change = db.begin().await.unwrap();
    sqlx::query("SELECT id FROM tournaments WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *change)
        .await
        .unwrap();
    let run = app
        .trigger("tournament-results", json!({"event": 30}))
        .await;
    app.eventually("the results run waits on the tournament's lock", || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE '%FROM tournaments WHERE id = $1 FOR UPDATE%' AND pid <> pg_backend_pid()",
        )
        .fetch_one(db)
        .await
        .unwrap();
        (waiting > 0).then_some(())
    })
    .await;
    let written: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tournament_entry_stats WHERE tournament_id = $1")
            .bind(id)
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(
        written, 0,
        "nothing is written while the change holds the lock"
    );
    change.commit().await.unwrap();
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let doc = standings(&app, id).await;
    let order: Vec<i64> = group_rows(&doc, 0)
        .iter()
        .map(|r| r["entry"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [202, 201]);
}

/// A tournament results run whose one tournament waits for its group stage fails that
/// tournament's unit only: the run's retries adopt its shared work and do that one again,
/// never the tournament already processed.
#[actix_rt::test]
async fn a_retried_results_run_processes_again_only_the_tournament_that_was_waiting() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let season = season(db).await;
    let create = |body: Value| {
        let app = &app;
        async move {
            let r = app.post("/tournaments", Some(body)).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let id = r.body["id"].as_i64().unwrap();
            let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            id
        }
    };
    let ready = create(json!({"name": "Ready", "source": {"entries": [201, 202]},
        "group_stage": {"mode": "points_race", "groups": 1, "first_event": 32, "last_event": 32}}))
    .await;
    let waiting = create(
        json!({"name": "Waiting", "source": {"entries": [301, 302, 303, 304]},
        "group_stage": {"mode": "points_race", "groups": 1, "qualifiers_per_group": 2,
                        "first_event": 30, "last_event": 31},
        "knockout": {"mode": "single", "first_event": 32}}),
    )
    .await;
    for entry in [201, 202, 301, 302, 303, 304] {
        result(db, season, 32, entry, 40 + entry as i32 % 100, json!([])).await;
    }

    let run = results_run(&app, json!({"event": 32})).await;
    assert_eq!(run["status"], "failed", "{run}");
    let attempts = run["attempt"].as_i64().unwrap();
    assert!(attempts > 1, "retried: {run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap()
            .contains(&format!("tournament {waiting}"))
            && run["error"]
                .as_str()
                .unwrap()
                .contains("waiting for the group stage"),
        "{run}"
    );
    // Claimed once and done: the retries adopted the work and left it alone.
    let claims: Vec<(i64, String, i32)> = sqlx::query_as(
        "SELECT unit, state, claims FROM work_units WHERE work_key = $1 ORDER BY unit",
    )
    .bind(format!("tournament-results:{season}:32"))
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(
        claims,
        [
            (ready, "done".to_string(), 1),
            (waiting, "failed".to_string(), attempts as i32)
        ]
    );
    // The counts the run's detail reads were recounted at each adoption and kept since: the
    // done unit stayed done, the failed one is counted once.
    let units = &run["units"];
    let told = ["total", "todo", "leased", "done", "failed"].map(|k| units[k].as_i64());
    assert_eq!(told, [2, 0, 0, 1, 1].map(Some), "{units}");
    assert_eq!(units_finished_by_instances(&run), 2, "{units}");
    let processed: Vec<i64> = sqlx::query_scalar(
        "SELECT tournament_id FROM tournament_events WHERE event_id = 32 ORDER BY tournament_id",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(processed, [ready]);
    let doc = standings(&app, ready).await;
    assert_eq!(group_rows(&doc, 0)[0]["entry"], 202, "{doc}");
}

/// The message path end to end: finalization of gameweek 38 stores the 72 real managers'
/// official results (they are tracked because the tournament registered them) and asks for
/// `tournament-results`, which decides the points race without anyone triggering it.
#[actix_rt::test]
async fn finalizing_gameweek_38_decides_the_leagues_points_race_by_message() {
    let sim = start_sim(0, &[]).await;
    assert!(sim.state().jump(fplsync::sim::Phase::Final, Some(38)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;
    let t = app
        .create_league_tournament(json!({
            "name": "GW38 by message",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 1,
                            "first_event": 38, "last_event": 38},
        }))
        .await;
    let id = t["id"].as_i64().unwrap();
    let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let run = app.trigger("finalize", json!({"event": 38})).await;
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let doc = app
        .eventually(
            "the requested tournament-results run processes GW38",
            || async {
                let doc = app.get(&format!("/tournaments/{id}/standings")).await.body;
                (doc["processed_events"] == json!([38])).then_some(doc)
            },
        )
        .await;
    let league: BTreeMap<EntryId, PicksResponse> = samples::decode(gw38::LEAGUE_PICKS).unwrap();
    // Seeded before any rank was known: ties fall to the entry id.
    let mut expected: Vec<(i64, i64)> = league
        .iter()
        .map(|(e, p)| {
            let h = &p.entry_history;
            (e.0 as i64, i64::from(h.points - h.event_transfers_cost))
        })
        .collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let got: Vec<(i64, i64)> = group_rows(&doc, 0)
        .iter()
        .map(|r| (r["entry"].as_i64().unwrap(), r["points"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, expected);
    let runs = app.get("/jobs?kind=tournament-results").await.body;
    assert_eq!(runs["runs"][0]["trigger"], "dependency", "{runs}");
}
