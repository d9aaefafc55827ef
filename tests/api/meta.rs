//! Metadata storage on real payloads: counts, idempotence, seasons, price changes.

use fplsync::fpl::model::BootstrapStatic;
use fplsync::fpl::samples;
use fplsync::meta::sync::apply_bootstrap;
use sqlx::PgPool;

use crate::helpers::{test_settings, unique_id};

const BOOT_2024_25: &str =
    "bootstrap-static/tonglam__letletme_data__bootstrap-static.bbb9999d.json";

async fn database() -> PgPool {
    let settings = test_settings(&unique_id());
    fplsync::store::connect_and_migrate(&settings.database)
        .await
        .unwrap()
}

fn day(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 5, d).unwrap()
}

async fn count(db: &PgPool, table: &str, season: i32) -> i64 {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {table} WHERE season_id = $1"
    ))
    .bind(season)
    .fetch_one(db)
    .await
    .unwrap()
}

/// The transaction ids that last wrote each row: unchanged when nothing was rewritten.
async fn row_versions(db: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT string_agg(xmin::text, ',' ORDER BY season_id, id) FROM players \
         UNION ALL SELECT string_agg(xmin::text, ',' ORDER BY season_id, id) FROM events \
         UNION ALL SELECT string_agg(xmin::text, ',' ORDER BY season_id, player_id) FROM player_values",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

#[actix_rt::test]
async fn a_real_bootstrap_lands_with_the_payloads_row_counts_and_a_rerun_writes_nothing() {
    let db = database().await;
    let b: BootstrapStatic = samples::decode(samples::gw38::BOOTSTRAP).unwrap();
    let first = apply_bootstrap(&db, &b, day(25)).await.unwrap();
    assert_eq!(first.season, "2025-26");
    assert!(first.new_season);
    let season = first.season_id.0;
    for (table, expected) in [
        ("phases", b.phases.len()),
        ("teams", b.teams.len()),
        ("element_types", b.element_types.len()),
        ("players", b.elements.len()),
        ("events", b.events.len()),
        ("player_values", b.elements.len()),
    ] {
        assert_eq!(count(&db, table, season).await, expected as i64, "{table}");
        assert_eq!(first.counts(table).inserted as usize, expected, "{table}");
    }
    // Every field of the API object is kept.
    let form: String = sqlx::query_scalar(
        "SELECT data::json->>'form' FROM players WHERE season_id = $1 AND id = $2",
    )
    .bind(season)
    .bind(b.elements[0].id.0 as i32)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(form.parse::<f64>().unwrap(), b.elements[0].form);

    let versions = row_versions(&db).await;
    let again = apply_bootstrap(&db, &b, day(25)).await.unwrap();
    assert!(!again.changed(), "{:?}", again.tables);
    assert!(!again.new_season);
    assert_eq!(again.counts("players").unchanged as usize, b.elements.len());
    assert_eq!(row_versions(&db).await, versions, "a re-run rewrote rows");
}

#[actix_rt::test]
async fn a_payload_from_another_season_starts_that_season() {
    let db = database().await;
    let now: BootstrapStatic = samples::decode(samples::gw38::BOOTSTRAP).unwrap();
    let before: BootstrapStatic = samples::decode(BOOT_2024_25).unwrap();
    let a = apply_bootstrap(&db, &now, day(1)).await.unwrap();
    let b = apply_bootstrap(&db, &before, day(1)).await.unwrap();
    assert_eq!(b.season, "2024-25");
    assert!(b.new_season);
    assert_ne!(a.season_id, b.season_id);
    // The 2024-25 season had a fifth element type (the assistant manager).
    assert_eq!(count(&db, "element_types", b.season_id.0).await, 5);
    assert_eq!(count(&db, "element_types", a.season_id.0).await, 4);
    assert_eq!(
        count(&db, "players", b.season_id.0).await,
        before.elements.len() as i64
    );
}

#[actix_rt::test]
async fn price_changes_are_reported_and_snapshotted_per_day() {
    let db = database().await;
    let mut b: BootstrapStatic = samples::decode(samples::gw38::BOOTSTRAP).unwrap();
    apply_bootstrap(&db, &b, day(1)).await.unwrap();
    let (riser, faller) = (b.elements[0].id.0 as i32, b.elements[1].id.0 as i32);
    b.elements[0].now_cost += 1;
    b.elements[1].now_cost -= 1;
    // Changed in code: what is stored is the model, not the text FPL sent.
    b.elements[0].verbatim = Default::default();
    b.elements[1].verbatim = Default::default();
    let next_day = apply_bootstrap(&db, &b, day(2)).await.unwrap();
    assert_eq!(next_day.counts("players").updated, 2);
    let moves: Vec<(i32, i32)> = next_day
        .price_changes
        .iter()
        .map(|c| (c.player_id, c.new_cost - c.old_cost))
        .collect();
    assert_eq!(moves, [(riser, 1), (faller, -1)]);
    // A new day gets a full snapshot; the old day's is kept.
    assert_eq!(
        next_day.counts("player_values").inserted as usize,
        b.elements.len()
    );
    let days: i64 = sqlx::query_scalar("SELECT count(DISTINCT day) FROM player_values")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(days, 2);
}

#[actix_rt::test]
async fn datasets_are_the_current_seasons_objects_in_id_order() {
    use fplsync::cache::MetaDataset;
    use fplsync::fpl::model::Element;
    use fplsync::meta::datasets::load;
    let db = database().await;
    assert!(load(&db, MetaDataset::Teams).await.unwrap().is_none());
    let old: BootstrapStatic = samples::decode(BOOT_2024_25).unwrap();
    let now: BootstrapStatic = samples::decode(samples::gw38::BOOTSTRAP).unwrap();
    apply_bootstrap(&db, &old, day(1)).await.unwrap();
    apply_bootstrap(&db, &now, day(1)).await.unwrap();
    let players: Vec<Element> =
        serde_json::from_slice(&load(&db, MetaDataset::Players).await.unwrap().unwrap()).unwrap();
    assert_eq!(players.len(), now.elements.len());
    assert!(players.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(players[0], now.elements[0]);
    let fixtures = load(&db, MetaDataset::Fixtures).await.unwrap().unwrap();
    assert_eq!(&fixtures[..], b"[]");
}

mod jobs {
    use actix_web::{App, HttpResponse, HttpServer, web};
    use fplsync::fpl::model::{BootstrapStatic, TeamId};
    use fplsync::fpl::samples;
    use fplsync::sim::RunningSim;
    use serde_json::{Value, json};

    use crate::helpers::{TestApp, point_fpl_at, spawn_app_with, start_sim};

    async fn sim() -> RunningSim {
        start_sim(0, &[]).await
    }

    async fn app_on(base_url: String) -> TestApp {
        spawn_app_with(move |s| point_fpl_at(s, base_url)).await
    }

    fn log_lines(run: &Value) -> Vec<String> {
        run["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["message"].as_str().unwrap().to_string())
            .collect()
    }

    #[actix_rt::test]
    async fn the_bootstrap_job_syncs_the_simulators_metadata_and_a_rerun_writes_nothing() {
        let sim = sim().await;
        let app = app_on(sim.base_url()).await;
        let first = app.trigger("bootstrap", json!({})).await;
        let run = app.finished_run(first).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        let logs = log_lines(&run);
        assert!(logs.contains(&"new season 2025-26".to_string()), "{logs:?}");
        assert!(
            logs.iter()
                .any(|l| l.starts_with("players: ") && l.contains(" inserted, 0 updated")),
            "{logs:?}"
        );

        let second = app.trigger("bootstrap", json!({})).await;
        let run = app.finished_run(second).await;
        assert_eq!(run["status"], "succeeded");
        let logs = log_lines(&run);
        let table_lines: Vec<_> = logs.iter().filter(|l| l.contains(" inserted, ")).collect();
        assert_eq!(table_lines.len(), 6, "{logs:?}");
        assert!(
            table_lines
                .iter()
                .all(|l| l.contains(": 0 inserted, 0 updated, ")),
            "{logs:?}"
        );
        assert!(
            logs.last().unwrap().ends_with("nothing changed"),
            "{logs:?}"
        );
    }

    #[actix_rt::test]
    async fn fixtures_before_any_bootstrap_request_one_as_a_dependency_then_succeed() {
        let sim = sim().await;
        let app = app_on(sim.base_url()).await;
        let run = app.trigger("fixtures", json!({})).await;
        let run = app.finished_run(run).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["attempt"], 1, "it waited for its dependency: {run}");
        let deps = app.get("/jobs?kind=bootstrap").await.body;
        let deps = deps["runs"].as_array().unwrap();
        assert_eq!(deps.len(), 1, "one coalesced bootstrap run: {deps:?}");
        assert_eq!(deps[0]["trigger"], "dependency");
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM fixtures")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        assert_eq!(stored, 380);
    }

    #[actix_rt::test]
    async fn a_bootstrap_with_a_broken_relationship_writes_nothing_and_fails_clearly() {
        // An FPL stand-in serving a real payload in which one player's team does not exist.
        let mut broken: BootstrapStatic = samples::decode(samples::gw38::BOOTSTRAP).unwrap();
        broken.elements[5].team = TeamId(99);
        let name = broken.elements[5].web_name.clone();
        let body = serde_json::to_string(&broken).unwrap();
        let server = HttpServer::new(move || {
            let body = body.clone();
            App::new().route(
                "/api/bootstrap-static/",
                web::get().to(move || {
                    let body = body.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(body)
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_rt::spawn(server.run());

        let app = app_on(format!("http://127.0.0.1:{port}/api/")).await;
        let run = app.trigger("bootstrap", json!({})).await;
        let run = app.finished_run(run).await;
        assert_eq!(run["status"], "failed");
        assert_eq!(run["attempt"], 1, "invalid data is not retried");
        let error = run["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("({name}) references team 99")),
            "{error}"
        );
        for table in ["seasons", "teams", "players", "events"] {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&app.state.db)
                .await
                .unwrap();
            assert_eq!(n, 0, "{table} was written");
        }
    }

    /// The `schema_drift` alerts in the history, by key.
    async fn drift_alerts(app: &TestApp) -> Vec<(String, i64)> {
        let history = app.get("/alerts?limit=500").await.body;
        let mut keys: Vec<(String, i64)> = history["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["source"] == "schema_drift")
            .map(|a| {
                let key = a["key"].as_str().unwrap().to_string();
                (key, a["count"].as_i64().unwrap())
            })
            .collect();
        keys.sort();
        keys
    }

    async fn run_ok(app: &TestApp, kind: &str) -> Value {
        let run = app.trigger(kind, json!({})).await;
        let run = app.finished_run(run).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        run
    }

    #[actix_rt::test]
    async fn a_field_that_appears_or_disappears_is_reported_once_per_season_and_the_data_still_syncs()
     {
        let sim = sim().await;
        let app = app_on(sim.base_url()).await;
        // The first payloads are the baseline: nothing to report.
        run_ok(&app, "bootstrap").await;
        run_ok(&app, "fixtures").await;

        // FPL drops a player field fplsync does not need and adds one it does not know.
        let fault = |spec: &str| sim.state().faults.set(spec.parse().unwrap());
        fault("bootstrap-static:drop=elements[].news,add=elements[].shirt_colour");
        fault("fixtures:add=[].var_checks");
        let run = run_ok(&app, "bootstrap").await;
        let logs = log_lines(&run);
        assert!(
            logs.contains(&"schema drift: bootstrap-static lost `elements[].news`".to_string())
                && logs.contains(
                    &"schema drift: bootstrap-static gained `elements[].shirt_colour`".to_string()
                ),
            "{logs:?}"
        );
        run_ok(&app, "fixtures").await;
        let expected = vec![
            (
                "schema_drift:2025-26:bootstrap-static:elements[].news".to_string(),
                1,
            ),
            (
                "schema_drift:2025-26:bootstrap-static:elements[].shirt_colour".to_string(),
                1,
            ),
            ("schema_drift:2025-26:fixtures:[].var_checks".to_string(), 1),
        ];
        app.eventually("three schema_drift alerts", || async {
            (drift_alerts(&app).await == expected).then_some(())
        })
        .await;
        // The data synced, the new field kept in the stored object as FPL sent it.
        let data: String = sqlx::query_scalar("SELECT data FROM players ORDER BY id LIMIT 1")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        let player: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(player["shirt_colour"], "added by the simulator");
        assert!(player.get("news").is_none(), "{player}");

        // The same drift again is not news: no log line, no alert.
        let run = run_ok(&app, "bootstrap").await;
        let logs = log_lines(&run);
        assert!(
            logs.iter().all(|l| !l.starts_with("schema drift")),
            "{logs:?}"
        );
        run_ok(&app, "fixtures").await;
        // Recorded in PostgreSQL, so a restarted service does not raise it again either.
        let recorded: Vec<(String, bool, bool)> = sqlx::query_as(
            "SELECT field, present, reported_gone FROM schema_fields \
             WHERE field IN ('elements[].news', 'elements[].shirt_colour') ORDER BY field",
        )
        .fetch_all(&app.state.db)
        .await
        .unwrap();
        assert_eq!(
            recorded,
            [
                ("elements[].news".to_string(), false, true),
                ("elements[].shirt_colour".to_string(), true, false)
            ]
        );
        assert_eq!(drift_alerts(&app).await, expected);

        // A needed field gone fails the run, naming it, and writes nothing.
        fault("bootstrap-static:drop=elements[].code");
        let run = app.trigger("bootstrap", json!({})).await;
        let run = app.finished_run(run).await;
        assert_eq!(run["status"], "failed", "{run}");
        assert_eq!(run["attempt"], 1, "a drifted schema is not retried");
        let error = run["error"].as_str().unwrap();
        assert!(
            error.contains("bootstrap-static: the needed field `code` is missing"),
            "{error}"
        );
    }

    #[actix_rt::test]
    async fn synced_metadata_is_served_through_the_cache_and_filtered() {
        let sim = sim().await;
        let app = app_on(sim.base_url()).await;
        let none = app.get("/data/teams").await;
        assert_eq!(none.status, reqwest::StatusCode::NOT_FOUND);
        assert_eq!(none.body["error"], "no_data");

        let boot = app.trigger("bootstrap", json!({})).await;
        assert_eq!(app.finished_run(boot).await["status"], "succeeded");
        let fixtures = app.trigger("fixtures", json!({})).await;
        assert_eq!(app.finished_run(fixtures).await["status"], "succeeded");

        // Written through on commit: served from the in-process tier, not PostgreSQL.
        let local_hits = || {
            app.state
                .metrics
                .get::<fplsync::cache::CacheMetrics>()
                .requests
                .with_label_values(&["player_values", "local", "hit"])
                .get()
        };
        let before = local_hits();
        let players = app.get("/data/players").await.body;
        assert_eq!(local_hits(), before + 1);
        let all = players.as_array().unwrap();
        let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM players")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
        assert_eq!(all.len() as i64, expected);

        let gks = app.get("/data/players?team=1&position=1").await.body;
        let gks = gks.as_array().unwrap();
        assert!(!gks.is_empty());
        assert!(gks.iter().all(|p| p["team"] == 1 && p["element_type"] == 1));
        let in_gw = app.get("/data/fixtures?event=38").await.body;
        assert_eq!(in_gw.as_array().unwrap().len(), 10);
        assert_eq!(
            app.get("/data/teams").await.body.as_array().unwrap().len(),
            20
        );
        assert_eq!(
            app.get("/data/events").await.body.as_array().unwrap().len(),
            38
        );

        for bad in [
            "/data/players?team=abc",
            "/data/players?team=0",
            "/data/players?colour=red",
            "/data/fixtures?event=0",
        ] {
            let r = app.get(bad).await;
            assert_eq!(r.status, reqwest::StatusCode::BAD_REQUEST, "{bad}");
            assert!(
                r.body["error"].as_str().unwrap().starts_with("invalid"),
                "{bad}: {}",
                r.body
            );
        }
    }
}
