//! The JSON Schemas of the published datasets (see [`crate::cache::contract`]), as components
//! of the OpenAPI document: generated from the code's types where fplsync builds the value
//! (live rows, managers' scores), written here for FPL's objects (the fields fplsync relies on;
//! the rest allowed) and for the documents PostgreSQL builds.

use serde_json::{Value, json};
use utoipa::PartialSchema;

use crate::managers::EntryScore;
use crate::scoring::LiveRow;

fn generated<T: PartialSchema>() -> Value {
    serde_json::to_value(T::schema()).expect("a schema serialises")
}

/// An object with `required` fields of the given types (a type `"integer?"` may be null); other
/// fields allowed when `open`.
fn object(fields: &[(&str, &str)], open: bool) -> Value {
    let mut properties = serde_json::Map::new();
    for (name, ty) in fields {
        let schema = match ty.strip_suffix('?') {
            Some(ty) => json!({"type": [ty, "null"]}),
            None => json!({"type": ty}),
        };
        properties.insert((*name).to_string(), schema);
    }
    let required: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": open,
    })
}

fn array_of(item: Value) -> Value {
    json!({"type": "array", "items": item})
}

/// Every dataset schema, by component name (the names [`crate::cache::contract::schema_of`]
/// gives).
pub fn schemas() -> Vec<(&'static str, Value)> {
    let fixture = object(
        &[
            ("id", "integer"),
            ("code", "integer"),
            ("event", "integer?"),
            ("team_h", "integer"),
            ("team_a", "integer"),
            ("team_h_score", "integer?"),
            ("team_a_score", "integer?"),
            ("kickoff_time", "string?"),
            ("started", "boolean?"),
            ("finished", "boolean"),
            ("finished_provisional", "boolean"),
            ("minutes", "integer"),
            ("stats", "array"),
        ],
        true,
    );
    let score = generated::<EntryScore>();
    vec![
        (
            "DatasetTeams",
            array_of(object(
                &[
                    ("id", "integer"),
                    ("code", "integer"),
                    ("name", "string"),
                    ("short_name", "string"),
                ],
                true,
            )),
        ),
        (
            "DatasetElementTypes",
            array_of(object(
                &[
                    ("id", "integer"),
                    ("singular_name_short", "string"),
                    ("squad_min_play", "integer"),
                    ("squad_max_play", "integer"),
                ],
                true,
            )),
        ),
        (
            "DatasetPhases",
            array_of(object(
                &[
                    ("id", "integer"),
                    ("name", "string"),
                    ("start_event", "integer?"),
                    ("stop_event", "integer?"),
                ],
                true,
            )),
        ),
        (
            "DatasetEvents",
            array_of(object(
                &[
                    ("id", "integer"),
                    ("name", "string"),
                    ("deadline_time", "string"),
                    ("finished", "boolean"),
                    ("data_checked", "boolean"),
                    ("is_current", "boolean"),
                    ("is_next", "boolean"),
                ],
                true,
            )),
        ),
        (
            "DatasetPlayers",
            array_of(object(
                &[
                    ("id", "integer"),
                    ("code", "integer"),
                    ("web_name", "string"),
                    ("team", "integer"),
                    ("element_type", "integer"),
                    ("now_cost", "integer"),
                    ("status", "string"),
                    ("total_points", "integer"),
                ],
                true,
            )),
        ),
        (
            "DatasetPlayerValues",
            array_of(object(
                &[
                    ("element", "integer"),
                    ("day", "string"),
                    ("now_cost", "integer"),
                    ("selected_by_percent", "number"),
                    ("transfers_in_event", "integer"),
                    ("transfers_out_event", "integer"),
                ],
                false,
            )),
        ),
        ("DatasetFixtures", array_of(fixture)),
        ("DatasetLiveElements", array_of(generated::<LiveRow>())),
        (
            "DatasetLiveEntries",
            json!({
                "type": "object",
                "description": "Entry id (a decimal string) → the manager's live score",
                "propertyNames": {"pattern": "^[1-9][0-9]*$"},
                "additionalProperties": score,
            }),
        ),
        (
            "DatasetTournamentStandings",
            object(
                &[
                    ("tournament", "integer"),
                    ("name", "string"),
                    ("processed_events", "array"),
                    ("group_stage", "object"),
                    ("knockout", "object"),
                ],
                true,
            ),
        ),
        (
            "DatasetTournamentEntries",
            array_of(object(
                &[
                    ("entry", "integer"),
                    ("name", "string?"),
                    ("player_name", "string?"),
                    ("league_rank", "integer?"),
                    ("overall_rank", "integer?"),
                    ("seed", "integer?"),
                    ("group", "integer?"),
                ],
                false,
            )),
        ),
        (
            "DatasetTournamentResults",
            array_of(object(
                &[
                    ("entry", "integer"),
                    ("event", "integer"),
                    ("points", "integer"),
                    ("transfers_cost", "integer"),
                    ("net_points", "integer"),
                    ("captain_points", "integer"),
                    ("bench_points", "integer"),
                    ("autosub_points", "integer"),
                    ("goals_scored", "integer"),
                    ("goals_conceded", "integer"),
                    ("active_chip", "string?"),
                    ("cup", "object?"),
                ],
                false,
            )),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::contract::{every_dataset, schema_of};

    #[test]
    fn every_written_dataset_has_a_schema_and_every_schema_a_dataset() {
        let names: Vec<&str> = schemas().iter().map(|(n, _)| *n).collect();
        let used: std::collections::BTreeSet<&str> =
            every_dataset().into_iter().filter_map(schema_of).collect();
        for name in &used {
            assert!(names.contains(name), "{name} has no schema");
        }
        assert_eq!(
            used.len(),
            names.len(),
            "a schema no dataset uses: {names:?}"
        );
    }
}
