//! Schema drift, systematically, on every real sample: each field of each object type, removed
//! from every object of that type, either leaves a payload that goes through the jobs' own
//! decoding and validation (the field is not needed) or fails it with a typed error naming the
//! field (it is needed) — and the needed fields found are exactly the documented ones
//! (`fpl::model::NEEDED`). A copy with an unknown field in every object goes through too.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use fplsync::fpl::model::{
    self, BootstrapStatic, ClassicStandings, ElementSummary, Entry, EntryHistory, EventLive,
    EventStatus, PicksResponse,
};
use fplsync::fpl::samples::{self, gw38};
use fplsync::meta::drift::{self, PayloadError, Shape, field_path};
use fplsync::meta::validate;
use fplsync::scoring::{self, PlayerInfo};
use serde_json::Value;

/// What the jobs make of a payload.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Synced,
    /// A typed error naming this missing field.
    Missing(String),
    Other(String),
}

/// What the sync path needs besides the payload: the season's teams, events and players (from
/// the 2025-26 bootstrap, as stored before fixtures or live data are synced).
struct Season {
    teams: HashSet<i32>,
    events: HashSet<i32>,
    players: HashMap<model::ElementId, PlayerInfo>,
}

fn season() -> Season {
    let b: BootstrapStatic = samples::decode(gw38::BOOTSTRAP).unwrap();
    Season {
        teams: b.teams.iter().map(|t| i32::from(t.id.0)).collect(),
        events: b.events.iter().map(|e| i32::from(e.id.0)).collect(),
        players: scoring::players_of(&b.elements),
    }
}

fn decoded<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Outcome> {
    model::decode(body).map_err(|e| match e.missing_field() {
        Some(f) => Outcome::Missing(f.to_string()),
        None => Outcome::Other(e.to_string()),
    })
}

fn payload_outcome(e: PayloadError) -> Outcome {
    match e.missing_field() {
        Some(f) => Outcome::Missing(f.to_string()),
        None => Outcome::Other(e.to_string()),
    }
}

/// The payload through the decoding and validation of the job that syncs `endpoint`.
fn sync(endpoint: &str, body: &[u8], season: &Season) -> Outcome {
    let result = match endpoint {
        "bootstrap-static" => drift::bootstrap(body).map(drop).map_err(payload_outcome),
        "fixtures" => drift::fixtures(body)
            .map_err(payload_outcome)
            .and_then(|f| {
                validate::fixtures(&f, &season.teams, &season.events)
                    .map_err(|e| Outcome::Other(e.to_string()))
            }),
        "event-live" => decoded::<EventLive>(body).map(|live| {
            scoring::live_rows(&live, &[], &season.players);
        }),
        "event-status" => decoded::<EventStatus>(body).map(drop),
        "entry" => decoded::<Entry>(body).map(drop),
        "entry-history" => decoded::<EntryHistory>(body).map(drop),
        "entry-picks" => decoded::<PicksResponse>(body).map(drop),
        "leagues-classic-standings" => decoded::<ClassicStandings>(body).map(drop),
        "element-summary" => decoded::<ElementSummary>(body).map(drop),
        other => panic!("no sync path for {other}"),
    };
    match result {
        Ok(()) => Outcome::Synced,
        Err(o) => o,
    }
}

/// The object type paths (and their fields) under `v`, whose path is `path`.
fn walk_types(v: &Value, path: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                out.insert(field_path(path, k));
                walk_types(x, &field_path(path, k), out);
            }
        }
        Value::Array(items) => {
            for x in items {
                walk_types(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// Cuts every long list of objects (longer than a season of gameweeks) down to the objects that between them have every field of
/// the list's subtree (the first one always), so each of the thousands of payloads this test
/// decodes is small; nothing of the payload's shape is lost.
fn reduce(v: &mut Value) {
    match v {
        Value::Object(map) => map.values_mut().for_each(reduce),
        Value::Array(items) => {
            items.iter_mut().for_each(reduce);
            if items.len() > 40 && items.iter().all(Value::is_object) {
                let mut covered = BTreeSet::new();
                let mut kept = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let mut paths = BTreeSet::new();
                    walk_types(item, "", &mut paths);
                    if i == 0 || !paths.is_subset(&covered) {
                        covered.extend(paths);
                        kept.push(item.clone());
                    }
                }
                *items = kept;
            }
        }
        _ => {}
    }
}

/// Removes `field` from every object of type `object_type` under `v` (whose path is `path`).
fn remove(v: &mut Value, path: &str, object_type: &str, field: &str) {
    match v {
        Value::Object(map) => {
            if path == object_type {
                map.remove(field);
            }
            for (k, x) in map.iter_mut() {
                remove(x, &field_path(path, k), object_type, field);
            }
        }
        Value::Array(items) => {
            let element = format!("{path}[]");
            for x in items {
                remove(x, &element, object_type, field);
            }
        }
        _ => {}
    }
}

/// Adds an unknown field to every object under `v`.
fn add_unknown(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.values_mut().for_each(add_unknown);
            map.insert("fplsync_drift_probe".into(), Value::from("new"));
        }
        Value::Array(items) => items.iter_mut().for_each(add_unknown),
        _ => {}
    }
}

/// Every real sample as (endpoint, payload): the league-picks wrapper gives two picks payloads.
fn payloads() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (name, _) in samples::SAMPLES {
        let endpoint = name.split('/').next().unwrap().to_string();
        let v: Value = serde_json::from_str(&samples::json(name).unwrap()).unwrap();
        if *name == gw38::LEAGUE_PICKS {
            for (entry, picks) in v.as_object().unwrap().iter().take(2) {
                out.push((endpoint.clone(), format!("{name}[{entry}]"), picks.clone()));
            }
        } else {
            out.push((endpoint, name.to_string(), v));
        }
    }
    out
}

#[test]
fn removing_any_field_of_a_real_payload_fails_exactly_for_the_documented_needed_fields() {
    let season = season();
    let mut wrong = Vec::new();
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tried = 0;
    for (endpoint, name, mut v) in payloads() {
        reduce(&mut v);
        let body = serde_json::to_vec(&v).unwrap();
        assert_eq!(
            sync(&endpoint, &body, &season),
            Outcome::Synced,
            "{name} syncs as it is"
        );
        let needed: BTreeSet<&str> = model::needed(&endpoint).iter().copied().collect();
        let shape = Shape::of(&body).unwrap();
        for object_type in shape.types() {
            for field in shape.fields_of(object_type) {
                let path = field_path(object_type, field);
                let mut copy = v.clone();
                remove(&mut copy, "", object_type, field);
                let outcome = sync(&endpoint, &serde_json::to_vec(&copy).unwrap(), &season);
                tried += 1;
                let expected = if needed.contains(path.as_str()) {
                    Outcome::Missing(field.to_string())
                } else {
                    Outcome::Synced
                };
                if let Outcome::Missing(f) = &outcome
                    && f == field
                {
                    found
                        .entry(endpoint.clone())
                        .or_default()
                        .insert(path.clone());
                }
                if outcome != expected {
                    wrong.push(format!("{name} without `{path}`: {outcome:?}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {tried} removals went otherwise than documented:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Every documented field was found needed in a real payload of its endpoint.
    for (endpoint, fields) in model::NEEDED {
        let documented: BTreeSet<String> = fields.iter().map(|f| f.to_string()).collect();
        let seen = found.get(*endpoint).cloned().unwrap_or_default();
        assert_eq!(
            seen, documented,
            "{endpoint}: needed fields found vs documented"
        );
    }
    assert!(tried > 1000, "{tried} removals tried");
}

#[test]
fn an_unknown_field_in_every_object_of_a_real_payload_syncs_and_is_kept_verbatim() {
    let season = season();
    for (endpoint, name, mut v) in payloads() {
        reduce(&mut v);
        add_unknown(&mut v);
        let body = serde_json::to_vec(&v).unwrap();
        assert_eq!(sync(&endpoint, &body, &season), Outcome::Synced, "{name}");
        if endpoint == "bootstrap-static" {
            // The stored text of each metadata object is FPL's, unknown fields included.
            let b = drift::bootstrap(&body).unwrap();
            let player: Value =
                serde_json::from_str(b.elements[0].verbatim.text().unwrap()).unwrap();
            assert_eq!(player["fplsync_drift_probe"], "new", "{name}");
            assert_eq!(player, v["elements"][0], "{name}: the object as sent");
        }
    }
}
