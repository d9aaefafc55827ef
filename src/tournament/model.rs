//! A tournament's definition: what `POST /tournaments` accepts, its validation, and how it is
//! stored and shown.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::rules;

/// Largest gameweek of a season.
pub const LAST_EVENT: u16 = 38;
/// Most entries an explicit list may name.
pub const MAX_LISTED_ENTRIES: usize = 100_000;

/// A tournament id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TournamentId(pub i64);

impl std::fmt::Display for TournamentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl TournamentId {
    /// The `tracked_entries.source` of this tournament's entries.
    pub fn tracking_source(self) -> String {
        format!("tournament:{}", self.0)
    }
}

/// The body of `POST /tournaments`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTournament {
    pub name: String,
    pub source: Source,
    #[serde(default)]
    pub group_stage: GroupStage,
    #[serde(default)]
    pub knockout: Knockout,
    /// Also follow the entries' FPL cup matches.
    #[serde(default)]
    pub cup: bool,
}

/// Where the entries come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    ClassicLeague(u64),
    H2hLeague(u64),
    Entries(Vec<u64>),
}

/// `None {}` rather than a unit variant: serde lets a unit variant of an internally tagged enum
/// ignore the object's other fields, and unknown fields are refused here.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum GroupStage {
    None {},
    PointsRace {
        groups: u32,
        #[serde(default)]
        qualifiers_per_group: u32,
        first_event: u16,
        last_event: u16,
    },
    BattleRace {
        groups: u32,
        #[serde(default)]
        qualifiers_per_group: u32,
        first_event: u16,
        last_event: u16,
    },
}

/// `None {}`: see [`GroupStage`].
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Knockout {
    None {},
    Single { first_event: u16 },
    TwoLegs { first_event: u16 },
}

impl Default for GroupStage {
    fn default() -> Self {
        GroupStage::None {}
    }
}

impl Default for Knockout {
    fn default() -> Self {
        Knockout::None {}
    }
}

/// A definition that parses but makes no sense; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn event_ok(field: &str, e: u16) -> Result<(), Invalid> {
    if (1..=LAST_EVENT).contains(&e) {
        Ok(())
    } else {
        Err(Invalid(format!(
            "{field}: a gameweek is 1..={LAST_EVENT}, not {e}"
        )))
    }
}

impl NewTournament {
    /// Checks what can be checked before the roster is known.
    pub fn validate(&self) -> Result<(), Invalid> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Invalid("name: 1 to 200 characters".into()));
        }
        // PostgreSQL refuses NUL in text, and no other control character belongs in a name.
        if name.chars().any(char::is_control) {
            return Err(Invalid(
                "name: no control characters (NUL, newline, tab, …)".into(),
            ));
        }
        match &self.source {
            Source::ClassicLeague(0) | Source::H2hLeague(0) => {
                return Err(Invalid("source: a league id is positive".into()));
            }
            Source::Entries(list) => {
                if list.len() < 2 || list.len() > MAX_LISTED_ENTRIES {
                    return Err(Invalid(format!(
                        "source.entries: 2..={MAX_LISTED_ENTRIES} entry ids"
                    )));
                }
                if list.contains(&0) {
                    return Err(Invalid("source.entries: entry ids are positive".into()));
                }
                let mut sorted = list.clone();
                sorted.sort_unstable();
                if sorted.windows(2).any(|w| w[0] == w[1]) {
                    return Err(Invalid("source.entries: an entry is listed twice".into()));
                }
            }
            _ => {}
        }
        let stage = self.group_stage.spec();
        if let Some(g) = stage {
            if g.groups == 0 {
                return Err(Invalid("group_stage.groups: at least 1".into()));
            }
            event_ok("group_stage.first_event", g.first_event)?;
            event_ok("group_stage.last_event", g.last_event)?;
            if g.first_event > g.last_event {
                return Err(Invalid(
                    "group_stage: first_event is after last_event".into(),
                ));
            }
        }
        match (stage, self.knockout.first_event()) {
            (None, None) => {
                return Err(Invalid(
                    "a tournament needs a group stage, a knockout stage or both".into(),
                ));
            }
            (Some(g), Some(k)) => {
                event_ok("knockout.first_event", k)?;
                if g.qualifiers_per_group == 0 {
                    return Err(Invalid(
                        "group_stage.qualifiers_per_group: at least 1 before a knockout stage"
                            .into(),
                    ));
                }
                // Saturating: the counts come from the request, as large as a u32 holds.
                if g.groups.saturating_mul(g.qualifiers_per_group) < 2 {
                    return Err(Invalid(
                        "group_stage: fewer than 2 qualifiers cannot make a knockout".into(),
                    ));
                }
                if k <= g.last_event {
                    return Err(Invalid(
                        "knockout.first_event must come after group_stage.last_event".into(),
                    ));
                }
            }
            (None, Some(k)) => event_ok("knockout.first_event", k)?,
            (Some(_), None) => {}
        }
        Ok(())
    }
}

/// The parameters of a group stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSpec {
    pub groups: u32,
    pub qualifiers_per_group: u32,
    pub first_event: u16,
    pub last_event: u16,
}

impl GroupSpec {
    pub fn events(&self) -> Vec<u16> {
        (self.first_event..=self.last_event).collect()
    }
}

impl GroupStage {
    pub fn mode(&self) -> &'static str {
        match self {
            GroupStage::None {} => "none",
            GroupStage::PointsRace { .. } => "points_race",
            GroupStage::BattleRace { .. } => "battle_race",
        }
    }

    pub fn spec(&self) -> Option<GroupSpec> {
        match *self {
            GroupStage::None {} => None,
            GroupStage::PointsRace {
                groups,
                qualifiers_per_group,
                first_event,
                last_event,
            }
            | GroupStage::BattleRace {
                groups,
                qualifiers_per_group,
                first_event,
                last_event,
            } => Some(GroupSpec {
                groups,
                qualifiers_per_group,
                first_event,
                last_event,
            }),
        }
    }
}

impl Knockout {
    pub fn mode(&self) -> &'static str {
        match self {
            Knockout::None {} => "none",
            Knockout::Single { .. } => "single",
            Knockout::TwoLegs { .. } => "two_legs",
        }
    }

    pub fn first_event(&self) -> Option<u16> {
        match *self {
            Knockout::None {} => None,
            Knockout::Single { first_event } | Knockout::TwoLegs { first_event } => {
                Some(first_event)
            }
        }
    }

    pub fn legs(&self) -> u8 {
        match self {
            Knockout::TwoLegs { .. } => 2,
            _ => 1,
        }
    }
}

/// A stored tournament.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TournamentRow {
    pub id: i64,
    pub name: String,
    pub state: String,
    pub source_kind: String,
    pub source_league: Option<i64>,
    pub group_mode: String,
    pub group_count: Option<i32>,
    pub qualifiers_per_group: Option<i32>,
    pub group_first_event: Option<i32>,
    pub group_last_event: Option<i32>,
    pub knockout_mode: String,
    pub knockout_first_event: Option<i32>,
    pub cup: bool,
    pub roster_synced_at: Option<DateTime<Utc>>,
    /// `pending`, `reading`, `ready` or `failed` (see the `tournament-roster` job).
    pub roster_state: String,
    pub roster_generation: i32,
    pub roster_pages_read: i32,
    pub roster_run_id: Option<i64>,
    pub roster_error: Option<String>,
    pub activated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const COLUMNS: &str = "id, name, state, source_kind, source_league, group_mode, group_count, \
     qualifiers_per_group, group_first_event, group_last_event, knockout_mode, \
     knockout_first_event, cup, roster_synced_at, roster_state, roster_generation, \
     roster_pages_read, roster_run_id, roster_error, activated_at, created_at, updated_at";

impl TournamentRow {
    pub fn id(&self) -> TournamentId {
        TournamentId(self.id)
    }

    pub fn group_stage(&self) -> GroupStage {
        let ev = |e: Option<i32>| e.unwrap_or(0) as u16;
        let (groups, qualifiers_per_group, first_event, last_event) = (
            self.group_count.unwrap_or(1) as u32,
            self.qualifiers_per_group.unwrap_or(0) as u32,
            ev(self.group_first_event),
            ev(self.group_last_event),
        );
        match self.group_mode.as_str() {
            "points_race" => GroupStage::PointsRace {
                groups,
                qualifiers_per_group,
                first_event,
                last_event,
            },
            "battle_race" => GroupStage::BattleRace {
                groups,
                qualifiers_per_group,
                first_event,
                last_event,
            },
            _ => GroupStage::None {},
        }
    }

    pub fn knockout(&self) -> Knockout {
        let first_event = self.knockout_first_event.unwrap_or(0) as u16;
        match self.knockout_mode.as_str() {
            "single" => Knockout::Single { first_event },
            "two_legs" => Knockout::TwoLegs { first_event },
            _ => Knockout::None {},
        }
    }

    /// Entrants of the knockout stage for a roster of `entries`.
    pub fn knockout_entrants(&self, entries: usize) -> usize {
        match self.group_stage().spec() {
            Some(g) => {
                // Serpentine groups differ in size by one at most; a group of fewer members
                // than qualifiers sends all of them.
                let groups = g.groups.max(1) as usize;
                (0..groups)
                    .map(|i| {
                        let size = entries / groups + usize::from(i < entries % groups);
                        size.min(g.qualifiers_per_group as usize)
                    })
                    .sum()
            }
            None => entries,
        }
    }

    /// The gameweeks of each knockout round for a roster of `entries`.
    pub fn knockout_events(&self, entries: usize) -> Vec<Vec<u16>> {
        let ko = self.knockout();
        match ko.first_event() {
            None => Vec::new(),
            Some(first) => {
                let entrants = self.knockout_entrants(entries);
                rules::round_events(first, rules::knockout_rounds(entrants), ko.legs())
            }
        }
    }

    /// The JSON operators see.
    pub fn view(&self, entries: i64) -> Value {
        let group = match self.group_stage().spec() {
            None => json!({"mode": "none"}),
            Some(g) => json!({
                "mode": self.group_mode,
                "groups": g.groups,
                "qualifiers_per_group": g.qualifiers_per_group,
                "first_event": g.first_event,
                "last_event": g.last_event,
            }),
        };
        let knockout = match self.knockout().first_event() {
            None => json!({"mode": "none"}),
            Some(first) => {
                let events = self.knockout_events(entries.max(0) as usize);
                json!({
                    "mode": self.knockout_mode,
                    "first_event": first,
                    "rounds": events.len(),
                    "events": events,
                })
            }
        };
        let source = match self.source_kind.as_str() {
            "entries" => json!({"kind": "entries"}),
            kind => json!({"kind": kind, "league": self.source_league}),
        };
        json!({
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "source": source,
            "group_stage": group,
            "knockout": knockout,
            "cup": self.cup,
            "entries": entries,
            "roster": {
                "state": self.roster_state,
                "pages_read": self.roster_pages_read,
                "run_id": self.roster_run_id,
                "error": self.roster_error,
            },
            "roster_synced_at": self.roster_synced_at,
            "activated_at": self.activated_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> NewTournament {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_league_points_race_with_a_knockout_is_a_valid_definition() {
        let t = parse(json!({
            "name": "Spring cup",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 4, "qualifiers_per_group": 2,
                            "first_event": 30, "last_event": 35},
            "knockout": {"mode": "single", "first_event": 36},
        }));
        assert_eq!(t.validate(), Ok(()));
        assert_eq!(t.knockout.legs(), 1);
    }

    #[test]
    fn huge_group_and_qualifier_counts_are_validated_without_overflowing() {
        let t = parse(json!({
            "name": "Huge",
            "source": {"classic_league": 1},
            "group_stage": {"mode": "points_race", "groups": 13978359,
                            "qualifiers_per_group": 1280, "first_event": 11, "last_event": 21},
            "knockout": {"mode": "single", "first_event": 22},
        }));
        let _ = t.validate();
    }

    #[test]
    fn knockout_rounds_follow_the_bracket_size_of_the_qualifiers() {
        let row = |groups: i32, q: i32, mode: &str| TournamentRow {
            id: 1,
            name: "t".into(),
            state: "draft".into(),
            source_kind: "entries".into(),
            source_league: None,
            group_mode: mode.into(),
            group_count: Some(groups),
            qualifiers_per_group: Some(q),
            group_first_event: Some(30),
            group_last_event: Some(33),
            knockout_mode: "two_legs".into(),
            knockout_first_event: Some(34),
            cup: false,
            roster_synced_at: None,
            roster_state: "ready".into(),
            roster_generation: 1,
            roster_pages_read: 0,
            roster_run_id: None,
            roster_error: None,
            activated_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        // 3 groups × 2 qualifiers = 6: a bracket of 8, three two-legged rounds.
        let t = row(3, 2, "points_race");
        assert_eq!(
            t.knockout_events(30),
            vec![vec![34, 35], vec![36, 37], vec![38, 39]]
        );
        // 5 entries in 3 groups (2, 2, 1) with 2 qualifiers each: 5 go through.
        assert_eq!(t.knockout_entrants(5), 5);
        // No group stage: every entry; 4 make two rounds.
        let t = row(1, 0, "none");
        assert_eq!(t.knockout_entrants(4), 4);
        assert_eq!(t.knockout_events(4), vec![vec![34, 35], vec![36, 37]]);
    }

    #[test]
    fn definitions_that_make_no_sense_are_refused_naming_the_field() {
        let cases = [
            (
                json!({"name": "x", "source": {"classic_league": 0},
                    "knockout": {"mode": "single", "first_event": 36}}),
                "league id",
            ),
            (
                json!({"name": "x", "source": {"entries": [1]},
                    "knockout": {"mode": "single", "first_event": 36}}),
                "source.entries",
            ),
            (
                json!({"name": "x", "source": {"entries": [1, 1]},
                    "knockout": {"mode": "single", "first_event": 36}}),
                "twice",
            ),
            (
                json!({"name": "x", "source": {"entries": [1, 2]}}),
                "needs a group stage",
            ),
            (
                json!({"name": "x", "source": {"entries": [1, 2]},
                    "knockout": {"mode": "two_legs", "first_event": 39}}),
                "1..=38",
            ),
            (
                json!({"name": "x", "source": {"entries": [1, 2]},
                    "group_stage": {"mode": "battle_race", "groups": 1, "qualifiers_per_group": 2,
                                    "first_event": 30, "last_event": 35},
                    "knockout": {"mode": "single", "first_event": 35}}),
                "after group_stage",
            ),
            (
                json!({"name": "x", "source": {"entries": [1, 2]},
                    "group_stage": {"mode": "points_race", "groups": 0,
                                    "first_event": 30, "last_event": 35}}),
                "groups",
            ),
            (
                json!({"name": " ", "source": {"entries": [1, 2]},
                    "knockout": {"mode": "single", "first_event": 36}}),
                "name",
            ),
        ];
        for (body, needle) in cases {
            let err = parse(body.clone()).validate().unwrap_err();
            assert!(err.0.contains(needle), "{body}: {err}");
        }
    }
}
