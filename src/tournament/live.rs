//! Standings during a live gameweek: the published standings with the tracked managers' live
//! net points laid over them, for a gameweek the tournament has not processed yet. A points race
//! adds them to the group points and re-ranks (ties keep the published order, which already
//! broke them by overall rank); battle race rows and knockout matches of that gameweek show each
//! side's live net points. Nothing is stored: the official results decide.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::model::TournamentRow;

/// Lays `live_net` (entry → live net points of `event`) over `doc`, the published standings.
pub fn overlay(doc: &mut Value, row: &TournamentRow, event: u16, live_net: &HashMap<u64, i32>) {
    let processed = doc["processed_events"]
        .as_array()
        .is_some_and(|done| done.iter().any(|e| e.as_u64() == Some(u64::from(event))));
    doc["live"] = json!({ "event": event, "applied": !processed });
    if processed {
        return;
    }
    let net = |entry: &Value| entry.as_u64().and_then(|e| live_net.get(&e)).copied();
    let in_groups = matches!(
        (row.group_first_event, row.group_last_event),
        (Some(first), Some(last)) if (first..=last).contains(&i32::from(event))
    );
    if in_groups && let Some(groups) = doc["group_stage"]["groups"].as_array_mut() {
        let race = row.group_mode == "points_race";
        for group in groups {
            let Some(rows) = group["rows"].as_array_mut() else {
                continue;
            };
            for r in rows.iter_mut() {
                let live = net(&r["entry"]);
                r["live_net_points"] = json!(live);
                if race {
                    let total = r["points"].as_i64().unwrap_or(0) + i64::from(live.unwrap_or(0));
                    r["live_points"] = json!(total);
                }
            }
            if race {
                // A stable sort keeps the published tie order (overall rank).
                rows.sort_by_key(|r| std::cmp::Reverse(r["live_points"].as_i64().unwrap_or(0)));
                for (i, r) in rows.iter_mut().enumerate() {
                    r["live_rank"] = json!(i + 1);
                }
            }
        }
    }
    if let Some(rounds) = doc["knockout"]["rounds"].as_array_mut() {
        for round in rounds {
            let live_round = round["events"]
                .as_array()
                .is_some_and(|evs| evs.iter().any(|e| e.as_u64() == Some(u64::from(event))));
            if !live_round {
                continue;
            }
            if let Some(matches) = round["matches"].as_array_mut() {
                for m in matches {
                    m["live"] = json!({
                        "home_net_points": net(&m["home"]),
                        "away_net_points": net(&m["away"]),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(mode: &str) -> TournamentRow {
        let t = chrono::Utc::now();
        TournamentRow {
            id: 1,
            name: "t".into(),
            state: "active".into(),
            source_kind: "entries".into(),
            source_league: None,
            group_mode: mode.into(),
            group_count: Some(1),
            qualifiers_per_group: Some(1),
            group_first_event: Some(30),
            group_last_event: Some(31),
            knockout_mode: "single".into(),
            knockout_first_event: Some(32),
            cup: false,
            roster_synced_at: None,
            roster_state: "ready".into(),
            roster_generation: 1,
            roster_pages_read: 0,
            roster_run_id: None,
            roster_error: None,
            activated_at: Some(t),
            created_at: t,
            updated_at: t,
        }
    }

    fn doc() -> Value {
        json!({
            "processed_events": [30],
            "group_stage": {"groups": [{"rows": [
                {"entry": 1, "points": 60, "rank": 1},
                {"entry": 2, "points": 55, "rank": 2},
            ]}]},
            "knockout": {"rounds": [{"events": [32], "matches": [{"home": 1, "away": 2}]}]},
        })
    }

    #[test]
    fn a_points_race_adds_live_net_points_and_reranks() {
        let mut d = doc();
        let live = HashMap::from([(1, 40), (2, 50)]);
        overlay(&mut d, &row("points_race"), 31, &live);
        let rows = d["group_stage"]["groups"][0]["rows"].as_array().unwrap();
        assert_eq!(rows[0]["entry"], 2);
        assert_eq!(rows[0]["live_points"], 105);
        assert_eq!(rows[0]["live_rank"], 1);
        assert_eq!(rows[1]["live_points"], 100);
        assert_eq!(d["live"]["applied"], true);
    }

    #[test]
    fn a_processed_gameweek_or_one_outside_the_stages_changes_nothing() {
        let mut d = doc();
        overlay(&mut d, &row("points_race"), 30, &HashMap::from([(1, 99)]));
        assert_eq!(d["live"]["applied"], false);
        assert!(
            d["group_stage"]["groups"][0]["rows"][0]
                .get("live_points")
                .is_none()
        );
        let mut d = doc();
        overlay(&mut d, &row("points_race"), 33, &HashMap::from([(1, 99)]));
        assert!(
            d["group_stage"]["groups"][0]["rows"][0]
                .get("live_points")
                .is_none()
        );
        assert!(
            d["knockout"]["rounds"][0]["matches"][0]
                .get("live")
                .is_none()
        );
    }

    #[test]
    fn a_knockout_match_of_the_gameweek_shows_both_sides_and_a_missing_side_as_null() {
        let mut d = doc();
        overlay(&mut d, &row("battle_race"), 32, &HashMap::from([(1, 71)]));
        let live = &d["knockout"]["rounds"][0]["matches"][0]["live"];
        assert_eq!(live["home_net_points"], 71);
        assert!(live["away_net_points"].is_null());
    }
}
