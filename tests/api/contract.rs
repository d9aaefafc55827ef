//! The data contract (`src/cache/contract.md`) against a real gameweek: the simulator's GW38
//! played through with a tracked classic league, every value then in Redis matches the schema
//! the contract names for its key, every dataset the code writes was seen, and the document's
//! own read script reads one revision. Then what is stored but not published, over HTTP:
//! managers, their gameweeks (automatic substitutions against FPL's), price changes and the
//! league's live table, with paging and conditional answers.

use std::collections::{BTreeMap, BTreeSet};

use fplsync::cache::CacheKey;
use fplsync::cache::contract::{every_dataset, schema_of};
use fplsync::fpl::model::{EntryId, PicksResponse};
use fplsync::fpl::samples::{self, gw38};
use fplsync::sim::{Phase, RunningSim};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, point_fpl_at, spawn_app_with, start_sim};

/// Checks `value` against `schema` (the JSON Schema subset the OpenAPI document uses), with
/// `$ref`s resolved in `components`; returns the first violation.
fn violation(value: &Value, schema: &Value, components: &Value, at: &str) -> Option<String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return violation(value, &components[name], components, at);
    }
    for key in ["allOf"] {
        for s in schema[key].as_array().into_iter().flatten() {
            if let Some(v) = violation(value, s, components, at) {
                return Some(v);
            }
        }
    }
    if let Some(any) = schema["oneOf"].as_array().or(schema["anyOf"].as_array())
        && any
            .iter()
            .all(|s| violation(value, s, components, at).is_some())
    {
        return Some(format!("{at}: {value} matches none of {any:?}"));
    }
    let type_ok = |t: &str| match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    let nullable = schema["nullable"] == true && value.is_null();
    match &schema["type"] {
        Value::String(t) if !type_ok(t) && !nullable => {
            return Some(format!("{at}: {value} is not {t}"));
        }
        Value::Array(ts) if !ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""))) => {
            return Some(format!("{at}: {value} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Some(format!("{at}: {value} not in {allowed:?}"));
    }
    if let (Some(min), Some(n)) = (schema["minimum"].as_f64(), value.as_f64())
        && n < min
    {
        return Some(format!("{at}: {n} < {min}"));
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            if schema["items"].is_object()
                && let Some(v) =
                    violation(item, &schema["items"], components, &format!("{at}[{i}]"))
            {
                return Some(v);
            }
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                return Some(format!("{at}: `{name}` missing"));
            }
        }
        for (name, field) in object {
            let here = format!("{at}.{name}");
            match schema["properties"].get(name) {
                Some(s) => {
                    if let Some(v) = violation(field, s, components, &here) {
                        return Some(v);
                    }
                }
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => return Some(format!("{here}: not allowed")),
                    s @ Value::Object(_) => {
                        if let Some(v) = violation(field, s, components, &here) {
                            return Some(v);
                        }
                    }
                    _ => {}
                },
            }
        }
    }
    None
}

#[test]
fn the_schema_check_refuses_what_does_not_match() {
    let components = json!({"N": {"type": ["integer", "null"]}});
    let schema = json!({"type": "array", "items": {"type": "object", "required": ["a"],
        "properties": {"a": {"$ref": "#/components/schemas/N"}}, "additionalProperties": false}});
    assert_eq!(
        violation(&json!([{"a": 1}, {"a": null}]), &schema, &components, "v"),
        None
    );
    for bad in [
        json!([{"a": "x"}]),
        json!([{}]),
        json!([{"a": 1, "b": 2}]),
        json!({}),
    ] {
        assert!(
            violation(&bad, &schema, &components, "v").is_some(),
            "{bad}"
        );
    }
}

/// GW38 in play with classic league 1 (the 72 real managers) read by an active tournament,
/// their info and picks fetched and one live snapshot taken.
async fn gameweek_38_in_play() -> (RunningSim, TestApp, i64) {
    let sim = start_sim(0, &[]).await;
    assert!(sim.state().jump(Phase::InPlay, Some(38)));
    let url = sim.base_url();
    let app = spawn_app_with(|s| point_fpl_at(s, url)).await;
    let t = app
        .create_league_tournament(json!({
            "name": "GW38 sprint",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 1,
                            "first_event": 38, "last_event": 38},
        }))
        .await;
    let id = t["id"].as_i64().unwrap();
    let r = app.post(&format!("/tournaments/{id}/activate"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (kind, params) in [
        ("entries", json!({"stage": "info"})),
        ("entries", json!({"stage": "picks", "event": 38})),
        ("live", json!({"event": 38})),
    ] {
        let run = app.trigger(kind, params).await;
        let run = app.finished_run(run).await;
        assert_eq!(run["status"], "succeeded", "{kind}: {run}");
    }
    (sim, app, id)
}

/// GW38 final and `data_checked` (a bootstrap tells the app), then finalized: official
/// results stored, the tournament's results processed.
async fn finalize_38(sim: &RunningSim, app: &TestApp) {
    assert!(sim.state().jump(Phase::Final, Some(38)));
    for (kind, params) in [("bootstrap", json!({})), ("finalize", json!({"event": 38}))] {
        let run = app.trigger(kind, params).await;
        let run = app.finished_run(run).await;
        assert_eq!(run["status"], "succeeded", "{kind}: {run}");
    }
}

/// Every value key in Redis under the app's prefix, as cache keys with their values.
async fn published(app: &TestApp) -> Vec<(CacheKey, Value)> {
    let prefix = app.state.kv.prefix().to_string();
    let keys: Vec<String> = app
        .state
        .kv
        .query(redis::cmd("KEYS").arg(format!("{prefix}*@*")))
        .await
        .unwrap();
    let mut out = Vec::new();
    for full in keys {
        let name = full.strip_prefix(&prefix).unwrap();
        let (key, _rev) = name.rsplit_once('@').unwrap();
        let key: CacheKey = key.parse().unwrap_or_else(|e| panic!("{full}: {e}"));
        let text: Option<String> = app
            .state
            .kv
            .query(redis::cmd("GET").arg(&full))
            .await
            .unwrap();
        let Some(text) = text else { continue }; // expired meanwhile
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"));
        out.push((key, value));
    }
    out
}

#[actix_rt::test]
async fn every_dataset_published_in_a_gameweek_matches_the_schema_the_contract_names() {
    let (sim, app, id) = gameweek_38_in_play().await;
    // Final: finalizing writes the official results and the tournament's results.
    finalize_38(&sim, &app).await;
    app.eventually("the tournament's results are published", || async {
        let doc = app.get(&format!("/tournaments/{id}/standings")).await.body;
        (doc["processed_events"] == json!([38])).then_some(())
    })
    .await;

    let document = app.get("/openapi.json").await.body;
    let components = &document["components"]["schemas"];
    let values = published(&app).await;
    let mut seen = BTreeSet::new();
    for (key, value) in &values {
        let schema =
            schema_of(*key).unwrap_or_else(|| panic!("{key} is written but not in the contract"));
        assert!(
            components[schema].is_object(),
            "{schema} is in the OpenAPI document"
        );
        if let Some(v) = violation(value, &components[schema], components, &key.to_string()) {
            panic!("{key} does not match {schema}: {v}");
        }
        seen.insert(schema);
    }
    let written: BTreeSet<&str> = every_dataset().into_iter().filter_map(schema_of).collect();
    assert_eq!(
        seen, written,
        "every dataset the contract lists was published and checked"
    );
    assert!(
        values
            .iter()
            .any(|(k, v)| k.to_string().starts_with("live:38:entries.")
                && v.as_object().is_some_and(|o| !o.is_empty())),
        "managers' live scores are among them"
    );

    // The document's read script reads a scope's datasets of one revision.
    let document_text = include_str!("../../src/cache/contract.md");
    let script = document_text
        .split("```lua\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the document has a Lua read script");
    let prefix = app.state.kv.prefix().to_string();
    let read: Vec<Option<String>> = app
        .state
        .kv
        .query(
            redis::cmd("EVAL")
                .arg(script)
                .arg(1)
                .arg(format!("{prefix}live:38:rev"))
                .arg(format!("{prefix}live:38:"))
                .arg("elements")
                .arg("fixtures"),
        )
        .await
        .unwrap();
    let elements: Vec<Value> = serde_json::from_str(read[0].as_deref().unwrap()).unwrap();
    let fixtures: Vec<Value> = serde_json::from_str(read[1].as_deref().unwrap()).unwrap();
    assert!(
        elements.len() > 500 && fixtures.len() == 10,
        "{} {}",
        elements.len(),
        fixtures.len()
    );
}

#[actix_rt::test]
async fn stored_managers_and_their_gameweeks_are_read_in_pages_with_fpls_substitutions() {
    let (sim, app, _) = gameweek_38_in_play().await;
    finalize_38(&sim, &app).await;
    let league: BTreeMap<EntryId, PicksResponse> = samples::decode(gw38::LEAGUE_PICKS).unwrap();

    // Every stored manager, 50 a page.
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        let r = app
            .get(&format!("/data/managers?limit=50&after={after}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = r.body["managers"].as_array().unwrap();
        assert!(page.len() <= 50);
        ids.extend(page.iter().map(|m| m["entry"].as_u64().unwrap()));
        match r.body["next_after"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    let expected: Vec<u64> = league.keys().map(|e| e.0).collect();
    assert_eq!(ids, expected);

    let mut subs_seen = 0;
    for (entry, picks) in &league {
        let r = app.get(&format!("/data/managers/{entry}/gameweeks")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let gw = r.body["gameweeks"]
            .as_array()
            .unwrap()
            .last()
            .cloned()
            .unwrap();
        assert_eq!(gw["event"], 38);
        let h = &picks.entry_history;
        assert_eq!(gw["official"]["points"], h.points, "{entry}");
        assert_eq!(
            gw["official"]["net_points"],
            h.points - h.event_transfers_cost
        );
        assert_eq!(
            gw["computed_points"], h.points,
            "fplsync agrees with FPL for {entry}"
        );
        let ins: BTreeSet<u64> = gw["automatic_subs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["element_in"].as_u64().unwrap())
            .collect();
        let fpl: BTreeSet<u64> = picks
            .automatic_subs
            .iter()
            .map(|s| u64::from(s.element_in.0))
            .collect();
        assert_eq!(ins, fpl, "substitutes of {entry}");
        subs_seen += fpl.len();
    }
    assert!(subs_seen > 0, "some managers were substituted");

    let one = expected[0];
    let m = app.get(&format!("/data/managers/{one}")).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    assert_eq!(m.body["entry"], one);
    assert_eq!(m.body["info"]["id"], one);
    let h = app.get(&format!("/data/managers/{one}/history")).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    assert!(h.body["current"].is_array(), "{}", h.body);
    for (path, code) in [
        ("/data/managers/1".to_string(), "manager_not_found"),
        (
            "/data/managers/1/gameweeks".to_string(),
            "manager_not_found",
        ),
        ("/data/managers/0".to_string(), "invalid_path"),
        (
            format!("/data/managers/{one}/gameweeks?after=61"),
            "invalid_query",
        ),
        ("/data/managers?limit=0".to_string(), "invalid_query"),
        (
            "/data/managers?season=2010-11".to_string(),
            "unknown_season",
        ),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.body["error"], code, "{path}: {}", r.body);
    }
}

#[actix_rt::test]
async fn answers_carry_an_etag_and_a_matching_if_none_match_gets_304() {
    let (_sim, app, _) = gameweek_38_in_play().await;
    let url = format!("{}/data/managers?limit=5", app.address);
    let first = app.client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let control = first.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    let ttl = app.state.settings.cache.ttl_secs.entries;
    assert_eq!(control, format!("private, max-age={ttl}"));
    let again = app
        .client
        .get(&url)
        .header("If-None-Match", format!("\"x\", {etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let first_entry = serde_json::from_slice::<Value>(&first.bytes().await.unwrap()).unwrap()
        ["managers"][0]["entry"]
        .clone();
    let other = app
        .client
        .get(format!("{url}&after={first_entry}"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another page has another tag"
    );
}

#[actix_rt::test]
async fn a_days_price_changes_and_a_players_price_history_come_from_the_daily_snapshots() {
    let (_sim, app, _) = gameweek_38_in_play().await;
    let db = &app.state.db;
    // Yesterday's snapshot, as the bootstrap of a day earlier would have left it: two players
    // cost a tenth more or less.
    sqlx::query(
        "INSERT INTO player_values (season_id, player_id, day, now_cost, selected_by_percent, \
         transfers_in_event, transfers_out_event) \
         SELECT season_id, player_id, day - 1, now_cost + CASE player_id WHEN 1 THEN 1 \
         WHEN 2 THEN -1 ELSE 0 END, selected_by_percent, 0, 0 FROM player_values",
    )
    .execute(db)
    .await
    .unwrap();
    let r = app.get("/data/prices/changes").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let changes = r.body["changes"].as_array().unwrap();
    let got: Vec<(i64, i64)> = changes
        .iter()
        .map(|c| {
            (
                c["element"].as_i64().unwrap(),
                c["new_cost"].as_i64().unwrap() - c["old_cost"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [(1, -1), (2, 1)]);
    assert!(changes[0]["web_name"].is_string());
    let paged = app.get("/data/prices/changes?limit=1").await.body;
    assert_eq!(paged["next_after"], 1);
    let rest = app.get("/data/prices/changes?limit=1&after=1").await.body;
    assert_eq!(rest["changes"][0]["element"], 2);
    assert!(rest["next_after"].is_null());
    let day = r.body["day"].as_str().unwrap().to_string();

    let h = app.get("/data/players/1/prices").await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let prices = h.body["prices"].as_array().unwrap();
    assert_eq!(prices.len(), 2);
    assert_eq!(prices[1]["day"], day.as_str());
    assert_eq!(
        prices[0]["now_cost"].as_i64().unwrap() - 1,
        prices[1]["now_cost"].as_i64().unwrap()
    );
    let page = app.get("/data/players/1/prices?limit=1").await.body;
    assert_eq!(page["prices"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_after"], prices[0]["day"]);
    for (path, code) in [
        ("/data/players/99999/prices", "player_not_found"),
        ("/data/players/0/prices", "invalid_path"),
        ("/data/prices/changes?day=yesterday", "invalid_query"),
        ("/data/prices/changes?limit=1001", "invalid_query"),
    ] {
        let r = app.get(path).await;
        assert_eq!(r.body["error"], code, "{path}: {}", r.body);
    }
}

#[actix_rt::test]
async fn a_tracked_classic_league_is_ranked_by_live_total_during_the_gameweek() {
    let (_sim, app, _) = gameweek_38_in_play().await;
    let r = app.get("/data/live/38/leagues/1?limit=1000").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"], 72);
    assert_eq!(r.body["scored"], 72, "{}", r.body);
    let rows = r.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 72);
    let mut previous = i64::MAX;
    for row in rows {
        let total = row["live_total"].as_i64().unwrap();
        assert!(total <= previous, "ranked by live total: {row}");
        previous = total;
        let entry = row["entry"].as_u64().unwrap();
        let live = app
            .get(&format!("/data/live/38/entries/{entry}"))
            .await
            .body;
        assert_eq!(row["live_net_points"], live["net_points"], "{entry}");
        let before = row["total_before"]
            .as_i64()
            .expect("the history gives GW37's total");
        assert_eq!(total, before + live["net_points"].as_i64().unwrap());
    }
    assert_eq!(rows[0]["rank"], 1);
    let page = app
        .get("/data/live/38/leagues/1?offset=10&limit=5")
        .await
        .body;
    assert_eq!(page["rows"].as_array().unwrap().as_slice(), &rows[10..15]);
    for (path, status, code) in [
        (
            "/data/live/38/leagues/2",
            StatusCode::NOT_FOUND,
            "league_not_tracked",
        ),
        (
            "/data/live/61/leagues/1",
            StatusCode::BAD_REQUEST,
            "invalid_event",
        ),
        (
            "/data/live/38/leagues/0",
            StatusCode::BAD_REQUEST,
            "invalid_path",
        ),
        (
            "/data/live/38/leagues/1?limit=0",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
    ] {
        let r = app.get(path).await;
        assert_eq!(
            (r.status, r.body["error"].as_str()),
            (status, Some(code)),
            "{path}"
        );
    }
}
