//! Typed serde models of the public FPL API responses (`https://fantasy.premierleague.com/api/`).
//!
//! This module owns *decoding only*: one response struct per endpoint the service syncs
//! (bootstrap-static, fixtures, event live, event-status, entry, entry history, picks,
//! transfers, cup, classic and H2H league standings, H2H matches, element-summary), the typed
//! ids they use, the [`Chip`] enum and the [`decimal`] / [`opt_decimal`] helpers for the API's
//! decimal strings. It does no I/O and no scoring; it depends only on serde, serde_json and
//! chrono.
//!
//! Decoding is tolerant on purpose, because the API's schema drifts between seasons and even
//! within one (see `fpl-samples/README.md`):
//! - only the fields in [`NEEDED`] must be there (a payload without one fails with
//!   [`DecodeError::MissingField`] naming it); every other field is optional and takes a
//!   documented default when absent: numbers `0`, flags `false`, texts `""`, lists `[]`,
//!   nullable values `null` (`None`), times the Unix epoch, chips an empty name. A field the API
//!   sends as `null` in some game state is an `Option` (each such field says which season or
//!   state);
//! - unknown fields are ignored (no `deny_unknown_fields` anywhere), and the metadata objects
//!   stored whole keep the text FPL sent ([`Verbatim`]), so nothing is lost by storing them;
//! - decimal strings such as `"5.0"` decode into `f64`, and a JSON number is accepted too.
//!
//! # The fields fplsync needs, per endpoint
//!
//! A path names a field of an object type: `elements[].code` is `code` of every object in the
//! top-level `elements` list, `[]` the top-level list of `fixtures/`. Why each is needed:
//!
//! | endpoint | needed fields | for |
//! |---|---|---|
//! | `bootstrap-static/` | `events`, `teams`, `element_types`, `elements` | the season's metadata |
//! | | `events[].id`, `deadline_time`, `finished`, `data_checked`, `is_current`, `is_next` | the season's name, the lifecycle, finalization |
//! | | `phases[].id` | the row key (phases themselves may be absent) |
//! | | `teams[].id` | fixtures and players reference it |
//! | | `element_types[].id`, `squad_min_play`, `squad_max_play` | formation limits of automatic substitutions |
//! | | `elements[].id`, `code`, `team`, `element_type`, `now_cost` | scoring (team, position), players across seasons (`code`), prices |
//! | `fixtures/` | `[].id`, `event`, `team_h`, `team_a`, `kickoff_time`, `started`, `finished`, `finished_provisional`, `stats` | gameweek fixture sets, match windows, "done" |
//! | | `[].stats[].identifier`, `a`, `h`; `[].stats[].a[]` and `h[]`: `value`, `element` | bonus (official, or provisional from BPS) |
//! | `event/{gw}/live/` | `elements`, `elements[].id`, `stats`; `elements[].stats.minutes`, `total_points`, `bonus`, `goals_scored`, `goals_conceded` | live points, auto-subs, tournament tie-breaks |
//! | `event-status/` | none | (a probe of FPL's clock and update state) |
//! | `entry/{id}/` | `id`, `name`, `player_first_name`, `player_last_name` | tracked managers |
//! | `entry/{id}/history/` | `current`, `current[].event`, `points`, `total_points`, `event_transfers_cost` | official results |
//! | `entry/{id}/event/{gw}/picks/` | `active_chip`, `picks`, `entry_history`; `picks[].element`, `position`, `multiplier`, `is_captain`, `is_vice_captain`; `entry_history.event`, `points`, `total_points`, `event_transfers_cost` | manager scoring, official results |
//! | `leagues-classic/{id}/standings/` | `league`, `league.id`, `standings`, `standings.has_next`, `standings.results`, `standings.results[].entry` (and `has_next`, `results` of `new_entries` when present) | tournament rosters |
//! | `element-summary/{id}/` | the live stats' `minutes`, `total_points`… shared with `event/{gw}/live/` (see [`NEEDED`]) | (not fetched by any job) |
//!
//! [`NEEDED`] lists them exactly; the drift test (`tests/api/fpl_drift.rs`) removes each field
//! of each object type of every real sample and checks that exactly these fail.
//!
//! Every type also implements `Serialize`, so the simulator can re-serve decoded data; decimal
//! fields are written back as strings like the API does (`"5.0"`), though the number of digits
//! may differ from the original (`"15.40"` comes back as `"15.4"`).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

// ---------------------------------------------------------------------------------------------
// Typed ids
// ---------------------------------------------------------------------------------------------

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<$inner> for $name {
            fn from(value: $inner) -> Self {
                Self(value)
            }
        }
    };
}

id_type!(
    /// A player ("element") id; stable within a season only.
    ElementId(u32)
);
id_type!(
    /// A Premier League team id (1..=20 within a season).
    TeamId(u16)
);
id_type!(
    /// A gameweek ("event") id (1..=38).
    EventId(u16)
);
id_type!(
    /// A fixture id; unique within a season.
    FixtureId(u32)
);
id_type!(
    /// A manager's team ("entry") id, within one season: a returning manager registers again
    /// each summer under a new id, and an old id may then belong to someone else.
    EntryId(u64)
);
id_type!(
    /// A classic, H2H or cup league id.
    LeagueId(u64)
);
id_type!(
    /// A position ("element type") id: 1 GKP, 2 DEF, 3 MID, 4 FWD, and 5 MNG in 2024-25 only.
    ElementTypeId(u8)
);

// ---------------------------------------------------------------------------------------------
// Decimal-string helpers
// ---------------------------------------------------------------------------------------------

/// Decodes a visitor input (string or number) into an `f64`.
struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or a string holding one, such as \"5.0\"")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<f64, E> {
        v.trim()
            .parse::<f64>()
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
}

/// Formats a decimal the way the API writes it: at least one fractional digit (`"5.0"`).
fn decimal_string(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

/// `#[serde(with = "decimal")]` for a required decimal: accepts `"5.0"` or `5.0`, writes `"5.0"`.
pub mod decimal {
    use super::*;

    /// Decodes a decimal string (`"5.0"`) or a JSON number into `f64`; `null` is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }

    /// Writes the value back as a decimal string, like the API.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&decimal_string(*v))
    }
}

/// `#[serde(default, with = "opt_decimal")]` for a nullable decimal: `null` or `""` → `None`.
///
/// Always pair it with `#[serde(default)]`, so that a missing field is `None` too.
pub mod opt_decimal {
    use super::*;

    struct OptDecimalVisitor;

    impl<'de> Visitor<'de> for OptDecimalVisitor {
        type Value = Option<f64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("null, a decimal number or a string holding one")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            deserialize(d)
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v.trim().is_empty() {
                Ok(None)
            } else {
                DecimalVisitor.visit_str(v).map(Some)
            }
        }

        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
    }

    /// Decodes `null`, `""`, a decimal string or a JSON number into `Option<f64>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        d.deserialize_any(OptDecimalVisitor)
    }

    /// Writes `None` as `null` and a value as a decimal string, like the API.
    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&decimal_string(*v)),
            None => s.serialize_none(),
        }
    }
}

/// `#[serde(with = "present")]` for a needed field that may be `null` but must be there: a
/// missing key is an error naming the field (serde would otherwise take a missing `Option` as
/// `None`, so a fixture that lost its `event` would pass for an unscheduled one).
pub mod present {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Option::<T>::deserialize(d)
    }

    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Verbatim objects
// ---------------------------------------------------------------------------------------------

/// The JSON text an object was decoded from, so that what fplsync stores is what FPL sent:
/// every field, the ones this model ignores or does not know yet included, with FPL's own
/// decimal strings (insignificant whitespace removed).
///
/// The six metadata objects stored whole ([`Event`], [`Phase`], [`Team`], [`ElementType`],
/// [`Element`], [`Fixture`]) carry one when they were decoded from JSON text (a body, a sample,
/// a stored `data` column); the metadata sync stores it instead of re-serialising the model.
/// A value built or changed in code has none or a stale one: give it [`Verbatim::default`]
/// before storing it. It never takes part in equality.
#[derive(Clone, Default)]
pub struct Verbatim(Option<std::sync::Arc<str>>);

impl Verbatim {
    /// The compact JSON text, if the object was decoded from one.
    pub fn text(&self) -> Option<&str> {
        self.0.as_deref()
    }

    fn of(raw: &str) -> Self {
        Verbatim(Some(compact_json(raw).into()))
    }
}

impl PartialEq for Verbatim {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Verbatim {}

impl fmt::Debug for Verbatim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(t) => write!(f, "Verbatim({} bytes)", t.len()),
            None => f.write_str("Verbatim(none)"),
        }
    }
}

/// `text` without whitespace outside strings (a pretty-printed capture stores like FPL's own
/// compact bodies); borrowed when there is none.
fn compact_json(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    let mut in_string = false;
    let mut escaped = false;
    let needs = b.iter().any(|&c| {
        let ws = !in_string && c.is_ascii_whitespace();
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        }
        ws
    });
    if !needs {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_ascii_whitespace() {
            continue;
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Serde for a verbatim object type (declared `#[serde(remote = "Self")]` with a `#[serde(skip)]
/// verbatim: Verbatim` field): decoding reads the object's text first, decodes the model from
/// it and keeps it; encoding writes the model's fields (a simulator re-serves changed values).
macro_rules! verbatim_serde {
    ($t:ident) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $t::serialize(self, s)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <Box<serde_json::value::RawValue>>::deserialize(d)?;
                let mut de = serde_json::Deserializer::from_str(raw.get());
                let mut value = $t::deserialize(&mut de).map_err(|e| {
                    // The object's own path is the outer deserializer's; the message names the
                    // field (`missing field `code``) without serde_json's position in the object.
                    let text = e.to_string();
                    let text = text.split(" at line ").next().unwrap_or(&text).to_string();
                    serde::de::Error::custom(text)
                })?;
                value.verbatim = Verbatim::of(raw.get());
                Ok(value)
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// What fplsync needs
// ---------------------------------------------------------------------------------------------

/// The fields fplsync needs, per endpoint (named as the sample folders and the simulator name
/// them), as object-type paths (see the module documentation): a payload lacking one of them
/// in every object of its type does not decode, one lacking any other field does.
pub const NEEDED: &[(&str, &[&str])] = &[
    (
        "bootstrap-static",
        &[
            "events",
            "teams",
            "element_types",
            "elements",
            "events[].id",
            "events[].deadline_time",
            "events[].finished",
            "events[].data_checked",
            "events[].is_current",
            "events[].is_next",
            "phases[].id",
            "teams[].id",
            "element_types[].id",
            "element_types[].squad_min_play",
            "element_types[].squad_max_play",
            "elements[].id",
            "elements[].code",
            "elements[].team",
            "elements[].element_type",
            "elements[].now_cost",
        ],
    ),
    (
        "fixtures",
        &[
            "[].id",
            "[].event",
            "[].team_h",
            "[].team_a",
            "[].kickoff_time",
            "[].started",
            "[].finished",
            "[].finished_provisional",
            "[].stats",
            "[].stats[].identifier",
            "[].stats[].a",
            "[].stats[].h",
            "[].stats[].a[].value",
            "[].stats[].a[].element",
            "[].stats[].h[].value",
            "[].stats[].h[].element",
        ],
    ),
    (
        "event-live",
        &[
            "elements",
            "elements[].id",
            "elements[].stats",
            "elements[].stats.minutes",
            "elements[].stats.goals_scored",
            "elements[].stats.goals_conceded",
            "elements[].stats.bonus",
            "elements[].stats.total_points",
        ],
    ),
    ("event-status", &[]),
    (
        "entry",
        &["id", "name", "player_first_name", "player_last_name"],
    ),
    (
        "entry-history",
        &[
            "current",
            "current[].event",
            "current[].points",
            "current[].total_points",
            "current[].event_transfers_cost",
        ],
    ),
    (
        "entry-picks",
        &[
            "active_chip",
            "entry_history",
            "picks",
            "entry_history.event",
            "entry_history.points",
            "entry_history.total_points",
            "entry_history.event_transfers_cost",
            "picks[].element",
            "picks[].position",
            "picks[].multiplier",
            "picks[].is_captain",
            "picks[].is_vice_captain",
        ],
    ),
    (
        "leagues-classic-standings",
        &[
            "league",
            "standings",
            "league.id",
            "standings.has_next",
            "standings.results",
            "standings.results[].entry",
            "new_entries.has_next",
            "new_entries.results",
        ],
    ),
    (
        "element-summary",
        &[
            "history[].minutes",
            "history[].goals_scored",
            "history[].goals_conceded",
            "history[].bonus",
            "history_past[].minutes",
            "history_past[].goals_scored",
            "history_past[].goals_conceded",
            "history_past[].bonus",
        ],
    ),
];

/// The needed fields of `endpoint` (none for an endpoint not listed).
pub fn needed(endpoint: &str) -> &'static [&'static str] {
    NEEDED
        .iter()
        .find(|(e, _)| *e == endpoint)
        .map_or(&[], |(_, fields)| fields)
}

// ---------------------------------------------------------------------------------------------
// Decoding with typed errors
// ---------------------------------------------------------------------------------------------

/// Why a payload does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A field fplsync needs (see [`NEEDED`]) is not there: the schema drifted.
    #[error("the needed field `{field}` is missing (in `{path}`)")]
    MissingField {
        /// Where the object lacking it is (`elements[3]`; `.` for the top level).
        path: String,
        /// The field's name (`code`).
        field: String,
    },
    /// Not the JSON expected (wrong type, not JSON at all).
    #[error("does not decode at `{path}`: {message}")]
    Invalid { path: String, message: String },
}

impl DecodeError {
    /// The missing field's name, if that is what is wrong.
    pub fn missing_field(&self) -> Option<&str> {
        match self {
            DecodeError::MissingField { field, .. } => Some(field),
            DecodeError::Invalid { .. } => None,
        }
    }
}

/// Decodes `body` as `T`, naming the field path of a failure and whether it is a missing field.
pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(body).map_err(|_| {
        // Decode again with path tracking only on failure: it costs nothing when all is well.
        let mut de = serde_json::Deserializer::from_slice(body);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) => {
                let path = e.path().to_string();
                let message = e.inner().to_string();
                match message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next())
                {
                    Some(field) => DecodeError::MissingField {
                        path,
                        field: field.to_string(),
                    },
                    None => DecodeError::Invalid { path, message },
                }
            }
            Ok(_) => DecodeError::Invalid {
                path: ".".into(),
                message: "inconsistent decoder".into(),
            },
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Chips
// ---------------------------------------------------------------------------------------------

/// A chip as the API names it; unknown names are kept in [`Chip::Other`] rather than rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Chip {
    /// `"bboost"`: all 15 picks score.
    BenchBoost,
    /// `"3xc"`: the captain scores three times.
    TripleCaptain,
    /// `"wildcard"`: unlimited free transfers; no effect on scoring.
    Wildcard,
    /// `"freehit"`: one-week squad; no effect on scoring.
    FreeHit,
    /// `"manager"`: the assistant-manager chip of 2024-25 (element type 5 `MNG`).
    AssistantManager,
    /// Any chip name this code does not know yet, kept verbatim.
    Other(String),
}

impl Chip {
    /// The API's name of the chip (`"bboost"`, `"3xc"`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Chip::BenchBoost => "bboost",
            Chip::TripleCaptain => "3xc",
            Chip::Wildcard => "wildcard",
            Chip::FreeHit => "freehit",
            Chip::AssistantManager => "manager",
            Chip::Other(name) => name,
        }
    }
}

impl From<&str> for Chip {
    fn from(name: &str) -> Self {
        match name {
            "bboost" => Chip::BenchBoost,
            "3xc" => Chip::TripleCaptain,
            "wildcard" => Chip::Wildcard,
            "freehit" => Chip::FreeHit,
            "manager" => Chip::AssistantManager,
            other => Chip::Other(other.to_owned()),
        }
    }
}

/// A missing chip name decodes as an empty [`Chip::Other`].
impl Default for Chip {
    fn default() -> Self {
        Chip::Other(String::new())
    }
}

impl fmt::Display for Chip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Chip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Chip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(Chip::from(name.as_str()))
    }
}

// ---------------------------------------------------------------------------------------------
// bootstrap-static/
// ---------------------------------------------------------------------------------------------

/// `bootstrap-static/`: the season's metadata (gameweeks, teams, positions, players, chips).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapStatic {
    /// All gameweeks of the season.
    pub events: Vec<Event>,
    /// Phases (months, and phase 1 "Overall") used for monthly league tables.
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// The 20 teams.
    pub teams: Vec<Team>,
    /// Positions: 4 in most seasons, 5 in 2024-25 (`MNG`).
    pub element_types: Vec<ElementType>,
    /// All players; the list grows during the season.
    pub elements: Vec<Element>,
    /// Chips of the season; missing in the 2023-24 capture (fplbot), so optional.
    #[serde(default)]
    pub chips: Option<Vec<ChipInfo>>,
    /// Game rules; optional so a trimmed or future payload still decodes.
    #[serde(default)]
    pub game_settings: Option<GameSettings>,
    /// Number of registered managers.
    #[serde(default)]
    pub total_players: u64,
}

/// One gameweek of `bootstrap-static/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Event {
    /// Gameweek number.
    pub id: EventId,
    /// Display name ("Gameweek 1").
    #[serde(default)]
    pub name: String,
    /// Transfer and team-selection deadline.
    pub deadline_time: DateTime<Utc>,
    /// The deadline as Unix seconds.
    #[serde(default)]
    pub deadline_time_epoch: i64,
    /// All matches of the gameweek played (can flip back; only `data_checked` is final).
    pub finished: bool,
    /// Points are final.
    pub data_checked: bool,
    /// The gameweek before the current one.
    #[serde(default)]
    pub is_previous: bool,
    /// The current gameweek (none pre-season).
    pub is_current: bool,
    /// The next gameweek.
    pub is_next: bool,
    /// Average manager score (0 before the gameweek).
    #[serde(default)]
    pub average_entry_score: i32,
    /// Highest manager score; null until the gameweek has been played.
    #[serde(default)]
    pub highest_score: Option<i32>,
    /// Entry with the highest score; null until the gameweek has been played.
    #[serde(default)]
    pub highest_scoring_entry: Option<EntryId>,
    /// Most selected player; null before the deadline.
    #[serde(default)]
    pub most_selected: Option<ElementId>,
    /// Most transferred-in player; null before the deadline.
    #[serde(default)]
    pub most_transferred_in: Option<ElementId>,
    /// Most captained player; null before the deadline.
    #[serde(default)]
    pub most_captained: Option<ElementId>,
    /// Most vice-captained player; null before the deadline.
    #[serde(default)]
    pub most_vice_captained: Option<ElementId>,
    /// Top-scoring player; null until the gameweek has been played.
    #[serde(default)]
    pub top_element: Option<ElementId>,
    /// Top-scoring player and points; null until the gameweek has been played.
    #[serde(default)]
    pub top_element_info: Option<TopElementInfo>,
    /// Transfers made for this gameweek.
    #[serde(default)]
    pub transfers_made: u64,
    /// Managers ranked in this gameweek.
    #[serde(default)]
    pub ranked_count: u64,
    /// FPL cup leagues have been drawn for this gameweek.
    #[serde(default)]
    pub cup_leagues_created: bool,
    /// H2H knockout matches have been drawn for this gameweek.
    #[serde(default)]
    pub h2h_ko_matches_created: bool,
    /// Chips played this gameweek; the key is absent in the 2026-27 pre-season capture.
    #[serde(default)]
    pub chip_plays: Vec<ChipPlay>,
    /// The gameweek is released; missing in 2023-24.
    #[serde(default)]
    pub released: Option<bool>,
    /// Managers may still enter; missing in 2023-24.
    #[serde(default)]
    pub can_enter: Option<bool>,
    /// Managers may still change their team; missing in 2023-24.
    #[serde(default)]
    pub can_manage: Option<bool>,
    /// The JSON text this object was decoded from (see [`Verbatim`]).
    #[serde(skip)]
    pub verbatim: Verbatim,
}

verbatim_serde!(Event);

/// `events[].top_element_info`: the top-scoring player of a gameweek.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopElementInfo {
    /// The player.
    #[serde(default)]
    pub id: ElementId,
    /// His points in the gameweek.
    #[serde(default)]
    pub points: i32,
}

/// `events[].chip_plays[]`: how many managers played a chip in a gameweek.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipPlay {
    /// The chip.
    #[serde(default)]
    pub chip_name: Chip,
    /// Number of managers who played it.
    #[serde(default)]
    pub num_played: u64,
}

/// A phase (month) of `bootstrap-static/`; phase 1 is the whole season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Phase {
    /// Phase id.
    pub id: u16,
    /// Display name ("Overall", "August", …).
    #[serde(default)]
    pub name: String,
    /// First gameweek of the phase.
    #[serde(default)]
    pub start_event: Option<EventId>,
    /// Last gameweek of the phase.
    #[serde(default)]
    pub stop_event: Option<EventId>,
    /// Best manager total of the phase; missing in 2023-24, null before the phase is played.
    #[serde(default)]
    pub highest_score: Option<i32>,
    /// The JSON text this object was decoded from (see [`Verbatim`]).
    #[serde(skip)]
    pub verbatim: Verbatim,
}

verbatim_serde!(Phase);

/// A Premier League team of `bootstrap-static/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Team {
    /// Team id within the season.
    pub id: TeamId,
    /// Stable club code across seasons (badge and shirt images use it).
    #[serde(default)]
    pub code: u32,
    /// Full name ("Arsenal").
    #[serde(default)]
    pub name: String,
    /// Three-letter name ("ARS").
    #[serde(default)]
    pub short_name: String,
    /// Overall strength 1..=5; null in the 2026-27 pre-season capture.
    #[serde(default)]
    pub strength: Option<u8>,
    /// Home strength rating (Elo-like; small numbers pre-season in 2026-27).
    #[serde(default)]
    pub strength_overall_home: u32,
    /// Away strength rating.
    #[serde(default)]
    pub strength_overall_away: u32,
    /// Home attack strength.
    #[serde(default)]
    pub strength_attack_home: u32,
    /// Away attack strength.
    #[serde(default)]
    pub strength_attack_away: u32,
    /// Home defence strength.
    #[serde(default)]
    pub strength_defence_home: u32,
    /// Away defence strength.
    #[serde(default)]
    pub strength_defence_away: u32,
    /// League-table columns; the API leaves them at 0 in every capture.
    #[serde(default)]
    pub played: u32,
    /// Wins (see `played`).
    #[serde(default)]
    pub win: u32,
    /// Draws (see `played`).
    #[serde(default)]
    pub draw: u32,
    /// Losses (see `played`).
    #[serde(default)]
    pub loss: u32,
    /// Table points (see `played`).
    #[serde(default)]
    pub points: i32,
    /// Table position (0 pre-season).
    #[serde(default)]
    pub position: u32,
    /// Team is unavailable in the game.
    #[serde(default)]
    pub unavailable: bool,
    /// Premier League ("pulse") team id.
    #[serde(default)]
    pub pulse_id: u32,
    /// Club link; only from 2025-26 on (empty string when present so far).
    #[serde(default)]
    pub link_url: Option<String>,
    /// The JSON text this object was decoded from (see [`Verbatim`]).
    #[serde(skip)]
    pub verbatim: Verbatim,
}

verbatim_serde!(Team);

/// A position ("element type") of `bootstrap-static/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct ElementType {
    /// 1 GKP, 2 DEF, 3 MID, 4 FWD, 5 MNG (2024-25 only).
    pub id: ElementTypeId,
    /// "Goalkeeper".
    #[serde(default)]
    pub singular_name: String,
    /// "GKP".
    #[serde(default)]
    pub singular_name_short: String,
    /// "Goalkeepers".
    #[serde(default)]
    pub plural_name: String,
    /// "GKP".
    #[serde(default)]
    pub plural_name_short: String,
    /// Players of this position in a squad (2 GKP, 5 DEF, 5 MID, 3 FWD; 0 for MNG).
    #[serde(default)]
    pub squad_select: u8,
    /// Minimum in a playing eleven; formation rule for automatic substitutions.
    pub squad_min_play: u8,
    /// Maximum in a playing eleven.
    pub squad_max_play: u8,
    /// Missing in 2023-24 and null since.
    #[serde(default)]
    pub squad_min_select: Option<u8>,
    /// Missing in 2023-24 and null since.
    #[serde(default)]
    pub squad_max_select: Option<u8>,
    /// Shirt is position-specific (goalkeepers).
    #[serde(default)]
    pub ui_shirt_specific: bool,
    /// Positions locked for substitutions (`[12]`, the bench goalkeeper, for GKP).
    #[serde(default)]
    pub sub_positions_locked: Vec<u8>,
    /// Number of players of this position.
    #[serde(default)]
    pub element_count: u32,
    /// The JSON text this object was decoded from (see [`Verbatim`]).
    #[serde(skip)]
    pub verbatim: Verbatim,
}

verbatim_serde!(ElementType);

/// A player ("element") of `bootstrap-static/`, with every field a metadata store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Element {
    /// Player id within the season.
    pub id: ElementId,
    /// Stable player code across seasons (photos use it).
    pub code: u32,
    /// Given name.
    #[serde(default)]
    pub first_name: String,
    /// Family name.
    #[serde(default)]
    pub second_name: String,
    /// Name shown in the game.
    #[serde(default)]
    pub web_name: String,
    /// Preferred full name; only from 2025-26 on (often empty).
    #[serde(default)]
    pub known_name: Option<String>,
    /// Team.
    pub team: TeamId,
    /// Team's stable code.
    #[serde(default)]
    pub team_code: u32,
    /// Position.
    pub element_type: ElementTypeId,
    /// Shirt number; null in every capture so far.
    #[serde(default)]
    pub squad_number: Option<u32>,
    /// Photo file name ("154561.jpg").
    #[serde(default)]
    pub photo: String,
    /// Price in tenths of a million (55 = £5.5m).
    pub now_cost: u32,
    /// Price change in the current gameweek.
    #[serde(default)]
    pub cost_change_event: i32,
    /// Price fall in the current gameweek.
    #[serde(default)]
    pub cost_change_event_fall: i32,
    /// Price change since the season start.
    #[serde(default)]
    pub cost_change_start: i32,
    /// Price fall since the season start.
    #[serde(default)]
    pub cost_change_start_fall: i32,
    /// Predicted price-change progress; a decimal string only from 2025-26 on.
    #[serde(default, with = "opt_decimal")]
    pub price_change_percent: Option<f64>,
    /// Availability: "a" available, "d" doubtful, "i" injured, "s" suspended, "u" unavailable,
    /// "n" not in the squad (seen in 2024-25); kept as a string to accept new codes.
    #[serde(default)]
    pub status: String,
    /// Injury or availability news (empty when none).
    #[serde(default)]
    pub news: String,
    /// When `news` was set; null when there never was any.
    #[serde(default)]
    pub news_added: Option<DateTime<Utc>>,
    /// Chance of playing next gameweek in percent; null when there is no doubt.
    #[serde(default)]
    pub chance_of_playing_next_round: Option<u8>,
    /// Chance of playing this gameweek in percent; null when there is no doubt.
    #[serde(default)]
    pub chance_of_playing_this_round: Option<u8>,
    /// Can be bought; missing in 2023-24.
    #[serde(default)]
    pub can_transact: Option<bool>,
    /// Can be selected; missing in 2023-24.
    #[serde(default)]
    pub can_select: Option<bool>,
    /// Removed from the game; missing in 2023-24.
    #[serde(default)]
    pub removed: Option<bool>,
    /// Special player flag.
    #[serde(default)]
    pub special: bool,
    /// In the current gameweek's dream team.
    #[serde(default)]
    pub in_dreamteam: bool,
    /// Dream-team appearances this season.
    #[serde(default)]
    pub dreamteam_count: u32,
    /// Points this season.
    #[serde(default)]
    pub total_points: i32,
    /// Points in the current gameweek.
    #[serde(default)]
    pub event_points: i32,
    /// Average points over the recent form window (a decimal string).
    #[serde(default, with = "decimal")]
    pub form: f64,
    /// Points per game played (a decimal string).
    #[serde(default, with = "decimal")]
    pub points_per_game: f64,
    /// Share of managers owning him, in percent (a decimal string).
    #[serde(default, with = "decimal")]
    pub selected_by_percent: f64,
    /// Expected points next gameweek; null after the last gameweek (seen in 2025-26).
    #[serde(default, with = "opt_decimal")]
    pub ep_next: Option<f64>,
    /// Expected points this gameweek; null pre-season (2026-27, for every player).
    #[serde(default, with = "opt_decimal")]
    pub ep_this: Option<f64>,
    /// Form per price (a decimal string).
    #[serde(default, with = "decimal")]
    pub value_form: f64,
    /// Season points per price (a decimal string).
    #[serde(default, with = "decimal")]
    pub value_season: f64,
    /// Managers who bought him this season.
    #[serde(default)]
    pub transfers_in: u32,
    /// Managers who bought him this gameweek.
    #[serde(default)]
    pub transfers_in_event: u32,
    /// Managers who sold him this season.
    #[serde(default)]
    pub transfers_out: u32,
    /// Managers who sold him this gameweek.
    #[serde(default)]
    pub transfers_out_event: u32,
    /// Minutes played this season.
    #[serde(default)]
    pub minutes: u32,
    /// Goals this season.
    #[serde(default)]
    pub goals_scored: u32,
    /// Assists this season.
    #[serde(default)]
    pub assists: u32,
    /// Clean sheets this season.
    #[serde(default)]
    pub clean_sheets: u32,
    /// Goals conceded while on the pitch.
    #[serde(default)]
    pub goals_conceded: u32,
    /// Own goals.
    #[serde(default)]
    pub own_goals: u32,
    /// Penalties saved.
    #[serde(default)]
    pub penalties_saved: u32,
    /// Penalties missed.
    #[serde(default)]
    pub penalties_missed: u32,
    /// Yellow cards.
    #[serde(default)]
    pub yellow_cards: u32,
    /// Red cards.
    #[serde(default)]
    pub red_cards: u32,
    /// Saves.
    #[serde(default)]
    pub saves: u32,
    /// Bonus points this season.
    #[serde(default)]
    pub bonus: i32,
    /// Bonus points system score this season (can be negative).
    #[serde(default)]
    pub bps: i32,
    /// Matches started.
    #[serde(default)]
    pub starts: u32,
    /// ICT influence (a decimal string).
    #[serde(default, with = "decimal")]
    pub influence: f64,
    /// ICT creativity (a decimal string).
    #[serde(default, with = "decimal")]
    pub creativity: f64,
    /// ICT threat (a decimal string).
    #[serde(default, with = "decimal")]
    pub threat: f64,
    /// ICT index (a decimal string).
    #[serde(default, with = "decimal")]
    pub ict_index: f64,
    /// Expected goals (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_goals: f64,
    /// Expected assists (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_assists: f64,
    /// Expected goal involvements (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_goal_involvements: f64,
    /// Expected goals conceded (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_goals_conceded: f64,
    /// Per-90 rates: JSON numbers, not strings.
    #[serde(default)]
    pub expected_goals_per_90: f64,
    /// Per 90 minutes.
    #[serde(default)]
    pub expected_assists_per_90: f64,
    /// Per 90 minutes.
    #[serde(default)]
    pub expected_goal_involvements_per_90: f64,
    /// Per 90 minutes.
    #[serde(default)]
    pub expected_goals_conceded_per_90: f64,
    /// Per 90 minutes.
    #[serde(default)]
    pub goals_conceded_per_90: f64,
    /// Per 90 minutes.
    #[serde(default)]
    pub saves_per_90: f64,
    /// Per 90 minutes.
    #[serde(default)]
    pub starts_per_90: f64,
    /// Per 90 minutes.
    #[serde(default)]
    pub clean_sheets_per_90: f64,
    /// Defensive stats scored from 2025-26 on; missing before.
    #[serde(default)]
    pub clearances_blocks_interceptions: Option<u32>,
    /// From 2025-26 on.
    #[serde(default)]
    pub recoveries: Option<u32>,
    /// From 2025-26 on.
    #[serde(default)]
    pub tackles: Option<u32>,
    /// From 2025-26 on.
    #[serde(default)]
    pub defensive_contribution: Option<u32>,
    /// From 2025-26 on (a JSON number).
    #[serde(default)]
    pub defensive_contribution_per_90: Option<f64>,
    /// Set-piece order (1 = first taker); null when not a taker.
    #[serde(default)]
    pub corners_and_indirect_freekicks_order: Option<u8>,
    /// Set-piece note.
    #[serde(default)]
    pub corners_and_indirect_freekicks_text: String,
    /// Direct free-kick order; null when not a taker.
    #[serde(default)]
    pub direct_freekicks_order: Option<u8>,
    /// Direct free-kick note.
    #[serde(default)]
    pub direct_freekicks_text: String,
    /// Penalty order; null when not a taker.
    #[serde(default)]
    pub penalties_order: Option<u8>,
    /// Penalty note.
    #[serde(default)]
    pub penalties_text: String,
    /// Rank by influence among all players.
    #[serde(default)]
    pub influence_rank: u32,
    /// Rank by influence within the position.
    #[serde(default)]
    pub influence_rank_type: u32,
    /// Rank by creativity.
    #[serde(default)]
    pub creativity_rank: u32,
    /// Rank by creativity within the position.
    #[serde(default)]
    pub creativity_rank_type: u32,
    /// Rank by threat.
    #[serde(default)]
    pub threat_rank: u32,
    /// Rank by threat within the position.
    #[serde(default)]
    pub threat_rank_type: u32,
    /// Rank by ICT index.
    #[serde(default)]
    pub ict_index_rank: u32,
    /// Rank by ICT index within the position.
    #[serde(default)]
    pub ict_index_rank_type: u32,
    /// Rank by price.
    #[serde(default)]
    pub now_cost_rank: u32,
    /// Rank by price within the position.
    #[serde(default)]
    pub now_cost_rank_type: u32,
    /// Rank by form.
    #[serde(default)]
    pub form_rank: u32,
    /// Rank by form within the position.
    #[serde(default)]
    pub form_rank_type: u32,
    /// Rank by points per game.
    #[serde(default)]
    pub points_per_game_rank: u32,
    /// Rank by points per game within the position.
    #[serde(default)]
    pub points_per_game_rank_type: u32,
    /// Rank by ownership.
    #[serde(default)]
    pub selected_rank: u32,
    /// Rank by ownership within the position.
    #[serde(default)]
    pub selected_rank_type: u32,
    /// Country id; missing in 2023-24, null for some players since.
    #[serde(default)]
    pub region: Option<u32>,
    /// Date of birth; missing in 2023-24, null for some players since.
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
    /// Date he joined his team; missing in 2023-24, null for some players since.
    #[serde(default)]
    pub team_join_date: Option<NaiveDate>,
    /// `code` is provisional; missing in 2023-24.
    #[serde(default)]
    pub has_temporary_code: Option<bool>,
    /// Opta id ("p154561"); missing in 2023-24.
    #[serde(default)]
    pub opta_code: Option<String>,
    /// Scout article link; only from 2025-26 on.
    #[serde(default)]
    pub scout_news_link: Option<String>,
    /// Assistant-manager scoring totals; only in 2024-25 (the `MNG` season).
    #[serde(default)]
    pub mng_win: Option<i32>,
    /// 2024-25 only.
    #[serde(default)]
    pub mng_draw: Option<i32>,
    /// 2024-25 only.
    #[serde(default)]
    pub mng_loss: Option<i32>,
    /// 2024-25 only.
    #[serde(default)]
    pub mng_underdog_win: Option<i32>,
    /// 2024-25 only.
    #[serde(default)]
    pub mng_underdog_draw: Option<i32>,
    /// 2024-25 only.
    #[serde(default)]
    pub mng_clean_sheets: Option<i32>,
    /// 2024-25 only.
    #[serde(default)]
    pub mng_goals_scored: Option<i32>,
    /// The JSON text this object was decoded from (see [`Verbatim`]).
    #[serde(skip)]
    pub verbatim: Verbatim,
}

verbatim_serde!(Element);

/// A chip of `bootstrap-static/` (chips come in halves since 2025-26: two of each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipInfo {
    /// Chip id.
    #[serde(default)]
    pub id: u32,
    /// The chip.
    #[serde(default)]
    pub name: Chip,
    /// How many a manager gets in the window.
    #[serde(default)]
    pub number: u32,
    /// First gameweek it can be played.
    #[serde(default)]
    pub start_event: EventId,
    /// Last gameweek it can be played.
    #[serde(default)]
    pub stop_event: EventId,
    /// "transfer" or "team".
    #[serde(default)]
    pub chip_type: String,
}

/// `bootstrap-static/ game_settings`: the rules the service needs (league sizes, H2H points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameSettings {
    /// Private leagues a manager may join.
    #[serde(default)]
    pub league_join_private_max: u32,
    /// Public leagues a manager may join.
    #[serde(default)]
    pub league_join_public_max: u32,
    /// Size of a public classic league.
    #[serde(default)]
    pub league_max_size_public_classic: u32,
    /// Size of a public H2H league.
    #[serde(default)]
    pub league_max_size_public_h2h: u32,
    /// Size of a private H2H league.
    #[serde(default)]
    pub league_max_size_private_h2h: u32,
    /// H2H points for a win.
    #[serde(default)]
    pub league_points_h2h_win: i32,
    /// H2H points for a loss.
    #[serde(default)]
    pub league_points_h2h_lose: i32,
    /// H2H points for a draw.
    #[serde(default)]
    pub league_points_h2h_draw: i32,
    /// H2H tie-break stats, such as `"+goals_scored"`, `"-goals_conceded"`.
    #[serde(default)]
    pub league_h2h_tiebreak_stats: Vec<String>,
    /// First cup gameweek; null in every capture so far.
    #[serde(default)]
    pub cup_start_event_id: Option<EventId>,
    /// Last cup gameweek; null in every capture so far.
    #[serde(default)]
    pub cup_stop_event_id: Option<EventId>,
    /// Playing eleven size (11).
    #[serde(default)]
    pub squad_squadplay: u8,
    /// Squad size (15).
    #[serde(default)]
    pub squad_squadsize: u8,
    /// Players allowed from one team (3).
    #[serde(default)]
    pub squad_team_limit: u8,
    /// Budget in tenths of a million (1000).
    #[serde(default)]
    pub squad_total_spend: u32,
    /// Transfer cap.
    #[serde(default)]
    pub transfers_cap: u32,
    /// Share of a price rise kept on sale (0.5).
    #[serde(default)]
    pub transfers_sell_on_fee: f64,
    /// Extra free transfers that can be banked; missing in 2023-24.
    #[serde(default)]
    pub max_extra_free_transfers: Option<u32>,
    /// Days of the form window.
    #[serde(default)]
    pub stats_form_days: u32,
    /// Vice-captain enabled.
    #[serde(default)]
    pub sys_vice_captain_enabled: bool,
    /// Percentile buckets; 2025-26 and 2026-27 send `…, 80, 95, 90, 95` (sic).
    #[serde(default)]
    pub percentile_ranks: Vec<u32>,
    /// Time zone of the rules ("UTC").
    #[serde(default)]
    pub timezone: String,
}

// ---------------------------------------------------------------------------------------------
// fixtures/
// ---------------------------------------------------------------------------------------------

/// `fixtures/` response: a JSON array of fixtures.
pub type Fixtures = Vec<Fixture>;

/// One fixture of `fixtures/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Fixture {
    /// Fixture id.
    pub id: FixtureId,
    /// Stable match code.
    #[serde(default)]
    pub code: u32,
    /// Gameweek; null while a postponed fixture is unscheduled.
    #[serde(with = "present")]
    pub event: Option<EventId>,
    /// Home team.
    pub team_h: TeamId,
    /// Away team.
    pub team_a: TeamId,
    /// Home goals; null before kick-off.
    #[serde(default)]
    pub team_h_score: Option<u16>,
    /// Away goals; null before kick-off.
    #[serde(default)]
    pub team_a_score: Option<u16>,
    /// Kick-off; null while a postponed fixture is unscheduled.
    #[serde(with = "present")]
    pub kickoff_time: Option<DateTime<Utc>>,
    /// Kick-off is provisional.
    #[serde(default)]
    pub provisional_start_time: bool,
    /// Match has started; null for unscheduled fixtures.
    #[serde(with = "present")]
    pub started: Option<bool>,
    /// Final (can flip back; only the event's `data_checked` is final).
    pub finished: bool,
    /// Final whistle blown, bonus provisional.
    pub finished_provisional: bool,
    /// Minutes played so far.
    #[serde(default)]
    pub minutes: u16,
    /// Fixture difficulty for the home team (1..=5).
    #[serde(default)]
    pub team_h_difficulty: u8,
    /// Fixture difficulty for the away team (1..=5).
    #[serde(default)]
    pub team_a_difficulty: u8,
    /// Premier League ("pulse") match id.
    #[serde(default)]
    pub pulse_id: Option<u32>,
    /// Per-stat lists of players (`goals_scored`, `bonus`, `bps`, …); empty before kick-off.
    pub stats: Vec<FixtureStat>,
    /// The JSON text this object was decoded from (see [`Verbatim`]).
    #[serde(skip)]
    pub verbatim: Verbatim,
}

verbatim_serde!(Fixture);

impl Fixture {
    /// The stat with this identifier (`"bps"`, `"bonus"`, `"goals_scored"`, …), if present.
    pub fn stat(&self, identifier: &str) -> Option<&FixtureStat> {
        self.stats.iter().find(|s| s.identifier == identifier)
    }

    /// Every player's BPS in this fixture, home players first; empty when there is no `bps` stat.
    pub fn bps(&self) -> impl Iterator<Item = (ElementId, i32)> {
        self.stat("bps").into_iter().flat_map(FixtureStat::values)
    }
}

/// `fixtures[].stats[]`: one stat with its home (`h`) and away (`a`) players.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixtureStat {
    /// Stat name ("bps", "bonus", "goals_scored", …).
    pub identifier: String,
    /// Away players with a non-zero value.
    pub a: Vec<StatValue>,
    /// Home players with a non-zero value.
    pub h: Vec<StatValue>,
}

impl FixtureStat {
    /// `(player, value)` for home then away players.
    pub fn values(&self) -> impl Iterator<Item = (ElementId, i32)> {
        self.h.iter().chain(&self.a).map(|v| (v.element, v.value))
    }
}

/// One player's value of a fixture stat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatValue {
    /// The value (BPS can be negative).
    pub value: i32,
    /// The player.
    pub element: ElementId,
}

// ---------------------------------------------------------------------------------------------
// event/{gw}/live/
// ---------------------------------------------------------------------------------------------

/// `event/{gw}/live/`: per-player stats of a gameweek (`{"elements":[]}` for a future one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLive {
    /// One row per player.
    pub elements: Vec<LiveElement>,
}

/// An answer of FPL about another gameweek than the one asked for: FPL serves the previous
/// gameweek's data for a short while after a deadline. It is rejected, never stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("asked for GW{asked}, FPL answered with {evidence}")]
pub struct WrongGameweek {
    pub asked: EventId,
    /// What gave it away ("fixture 371 of GW37").
    pub evidence: String,
}

impl EventLive {
    /// Checks that this live answer and the fixtures answer fetched with it are gameweek
    /// `event`'s: every fixture names `event`, and every fixture a player's points are explained
    /// by is one of them. (Before kick-off nothing is explained: nothing to contradict.)
    pub fn check_gameweek(
        &self,
        event: EventId,
        fixtures: &[Fixture],
    ) -> Result<(), WrongGameweek> {
        if let Some(f) = fixtures.iter().find(|f| f.event != Some(event)) {
            return Err(WrongGameweek {
                asked: event,
                evidence: match f.event {
                    Some(e) => format!("fixture {} of GW{e}", f.id),
                    None => format!("fixture {}, which is unscheduled", f.id),
                },
            });
        }
        let ids: std::collections::HashSet<FixtureId> = fixtures.iter().map(|f| f.id).collect();
        let foreign = self
            .elements
            .iter()
            .flat_map(|e| e.explain.iter().map(move |x| (e.id, x.fixture)))
            // An explain without its fixture id (a field FPL may drop) proves nothing.
            .find(|(_, fixture)| fixture.0 != 0 && !ids.contains(fixture));
        match foreign {
            Some((player, fixture)) => Err(WrongGameweek {
                asked: event,
                evidence: format!(
                    "live points of player {player} in fixture {fixture}, not one of GW{event}'s"
                ),
            }),
            None => Ok(()),
        }
    }
}

impl PicksResponse {
    /// Checks that these picks are gameweek `event`'s (`entry_history.event`).
    pub fn check_gameweek(&self, event: EventId) -> Result<(), WrongGameweek> {
        if self.entry_history.event == event {
            return Ok(());
        }
        Err(WrongGameweek {
            asked: event,
            evidence: format!("picks of GW{}", self.entry_history.event),
        })
    }
}

/// One player of `event/{gw}/live/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveElement {
    /// The player.
    pub id: ElementId,
    /// His stats summed over the gameweek's fixtures.
    pub stats: LiveStats,
    /// Points per fixture and stat.
    #[serde(default)]
    pub explain: Vec<LiveExplain>,
    /// Stats were corrected after the fact.
    #[serde(default)]
    pub modified: Option<bool>,
}

/// Stats shared by live, element-summary history and past-season rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerStats {
    /// Minutes played.
    pub minutes: u32,
    /// Goals.
    pub goals_scored: u32,
    /// Assists.
    #[serde(default)]
    pub assists: u32,
    /// Clean sheets.
    #[serde(default)]
    pub clean_sheets: u32,
    /// Goals conceded.
    pub goals_conceded: u32,
    /// Own goals.
    #[serde(default)]
    pub own_goals: u32,
    /// Penalties saved.
    #[serde(default)]
    pub penalties_saved: u32,
    /// Penalties missed.
    #[serde(default)]
    pub penalties_missed: u32,
    /// Yellow cards.
    #[serde(default)]
    pub yellow_cards: u32,
    /// Red cards.
    #[serde(default)]
    pub red_cards: u32,
    /// Saves.
    #[serde(default)]
    pub saves: u32,
    /// Official bonus (0 in live data until the match's bonus is added).
    pub bonus: i32,
    /// Bonus points system score (can be negative).
    #[serde(default)]
    pub bps: i32,
    /// ICT influence (a decimal string).
    #[serde(default, with = "decimal")]
    pub influence: f64,
    /// ICT creativity (a decimal string).
    #[serde(default, with = "decimal")]
    pub creativity: f64,
    /// ICT threat (a decimal string).
    #[serde(default, with = "decimal")]
    pub threat: f64,
    /// ICT index (a decimal string).
    #[serde(default, with = "decimal")]
    pub ict_index: f64,
    /// Expected goals (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_goals: f64,
    /// Expected assists (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_assists: f64,
    /// Expected goal involvements (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_goal_involvements: f64,
    /// Expected goals conceded (a decimal string).
    #[serde(default, with = "decimal")]
    pub expected_goals_conceded: f64,
    /// Starts; optional because older seasons' payloads lack it.
    #[serde(default)]
    pub starts: Option<u32>,
    /// Defensive stats; from 2025-26 on.
    #[serde(default)]
    pub clearances_blocks_interceptions: Option<u32>,
    /// From 2025-26 on.
    #[serde(default)]
    pub recoveries: Option<u32>,
    /// From 2025-26 on.
    #[serde(default)]
    pub tackles: Option<u32>,
    /// From 2025-26 on.
    #[serde(default)]
    pub defensive_contribution: Option<u32>,
}

/// `elements[].stats` of `event/{gw}/live/`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveStats {
    /// Counting stats.
    #[serde(flatten)]
    pub stats: PlayerStats,
    /// Gameweek points (all fixtures of a double gameweek, bonus included once official).
    pub total_points: i32,
    /// In the gameweek's dream team.
    #[serde(default)]
    pub in_dreamteam: bool,
    /// Played in the gameweek; only seen in the final 2025-26 GW38 snapshot.
    #[serde(default)]
    pub played: Option<bool>,
}

/// `elements[].explain[]`: a player's points in one fixture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveExplain {
    /// The fixture.
    #[serde(default)]
    pub fixture: FixtureId,
    /// Points per stat.
    #[serde(default)]
    pub stats: Vec<ExplainStat>,
}

/// `explain[].stats[]`: points earned by one stat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainStat {
    /// Stat name ("minutes", "goals_scored", "bonus", …).
    #[serde(default)]
    pub identifier: String,
    /// Points it earned.
    #[serde(default)]
    pub points: i32,
    /// The stat's value.
    #[serde(default)]
    pub value: i32,
    /// Chip or rule adjustment; optional because older payloads lack it.
    #[serde(default)]
    pub points_modification: Option<i32>,
}

// ---------------------------------------------------------------------------------------------
// event-status/
// ---------------------------------------------------------------------------------------------

/// `event-status/`: per match day, whether bonus and points are in (`status: []` pre-season).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStatus {
    /// One row per match day of the current gameweek.
    #[serde(default)]
    pub status: Vec<EventStatusDay>,
    /// League tables state: `""`, `"Updating"`, `"Updated"`.
    #[serde(default)]
    pub leagues: String,
}

/// One match day of `event-status/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStatusDay {
    /// Bonus added for the day's matches.
    #[serde(default)]
    pub bonus_added: bool,
    /// The day.
    #[serde(default)]
    pub date: NaiveDate,
    /// The gameweek.
    #[serde(default)]
    pub event: EventId,
    /// Points state: `""`, `"l"` (live), `"p"` (provisional), `"r"` (confirmed); others possible.
    #[serde(default)]
    pub points: String,
}

// ---------------------------------------------------------------------------------------------
// entry/{id}/
// ---------------------------------------------------------------------------------------------

/// `entry/{id}/`: a manager's summary and leagues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Entry id.
    pub id: EntryId,
    /// Team name.
    pub name: String,
    /// Manager's first name.
    pub player_first_name: String,
    /// Manager's last name.
    pub player_last_name: String,
    /// Registration time.
    #[serde(default)]
    pub joined_time: DateTime<Utc>,
    /// First gameweek played.
    #[serde(default)]
    pub started_event: EventId,
    /// Favourite club; null when not chosen.
    #[serde(default)]
    pub favourite_team: Option<TeamId>,
    /// Country id.
    #[serde(default)]
    pub player_region_id: Option<u32>,
    /// Country name.
    #[serde(default)]
    pub player_region_name: Option<String>,
    /// ISO 3166 alpha-2.
    #[serde(default)]
    pub player_region_iso_code_short: Option<String>,
    /// ISO 3166 alpha-3.
    #[serde(default)]
    pub player_region_iso_code_long: Option<String>,
    /// Seasons played.
    #[serde(default)]
    pub years_active: Option<u32>,
    /// Season points; null pre-season.
    #[serde(default)]
    pub summary_overall_points: Option<i32>,
    /// Overall rank; null pre-season.
    #[serde(default)]
    pub summary_overall_rank: Option<u32>,
    /// Points of the current gameweek; null pre-season.
    #[serde(default)]
    pub summary_event_points: Option<i32>,
    /// Rank in the current gameweek; null pre-season and while live.
    #[serde(default)]
    pub summary_event_rank: Option<u32>,
    /// Current gameweek; null pre-season.
    #[serde(default)]
    pub current_event: Option<EventId>,
    /// Gameweeks the entry played.
    #[serde(default)]
    pub entered_events: Vec<EventId>,
    /// Name changes are blocked.
    #[serde(default)]
    pub name_change_blocked: bool,
    /// Bank at the last deadline, tenths of a million.
    #[serde(default)]
    pub last_deadline_bank: Option<i32>,
    /// Team value at the last deadline, tenths of a million.
    #[serde(default)]
    pub last_deadline_value: Option<u32>,
    /// Transfers made up to the last deadline.
    #[serde(default)]
    pub last_deadline_total_transfers: Option<u32>,
    /// Leagues the entry is in.
    #[serde(default)]
    pub leagues: EntryLeagues,
}

/// `entry/{id}/ leagues`: the manager's classic and H2H leagues and cup matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryLeagues {
    /// Classic leagues (including the overall, country and team leagues).
    #[serde(default)]
    pub classic: Vec<EntryLeague>,
    /// H2H leagues.
    #[serde(default)]
    pub h2h: Vec<EntryLeague>,
    /// FPL cup state.
    #[serde(default)]
    pub cup: Option<EntryLeaguesCup>,
    /// FPL cup matches played so far.
    #[serde(default)]
    pub cup_matches: Vec<H2hMatch>,
}

/// A league row of `entry/{id}/ leagues`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryLeague {
    /// League id.
    #[serde(default)]
    pub id: LeagueId,
    /// League name.
    #[serde(default)]
    pub name: String,
    /// Short name of system leagues ("overall", "region-101"); null for private leagues.
    #[serde(default)]
    pub short_name: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
    /// Closed to new entries.
    #[serde(default)]
    pub closed: bool,
    /// "s" system, "x" private, "c" public.
    #[serde(default)]
    pub league_type: Option<String>,
    /// "c" classic, "h" head-to-head.
    #[serde(default)]
    pub scoring: Option<String>,
    /// Administrator entry; null for system leagues.
    #[serde(default)]
    pub admin_entry: Option<EntryId>,
    /// First gameweek counted.
    #[serde(default)]
    pub start_event: Option<EventId>,
    /// League runs its own cup.
    #[serde(default)]
    pub has_cup: Option<bool>,
    /// Its cup league; null when none.
    #[serde(default)]
    pub cup_league: Option<LeagueId>,
    /// Entries ranked in the league.
    #[serde(default)]
    pub rank_count: Option<u64>,
    /// The entry's rank; null before the first ranking.
    #[serde(default)]
    pub entry_rank: Option<u32>,
    /// The entry's previous rank.
    #[serde(default)]
    pub entry_last_rank: Option<u32>,
    /// The entry's percentile.
    #[serde(default)]
    pub entry_percentile_rank: Option<u32>,
}

/// `entry/{id}/ leagues.cup`: the entry's FPL cup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryLeaguesCup {
    /// Cup matches.
    #[serde(default)]
    pub matches: Vec<H2hMatch>,
    /// Qualification state.
    #[serde(default)]
    pub status: Option<CupStatus>,
    /// The cup league; null when none.
    #[serde(default)]
    pub cup_league: Option<LeagueId>,
}

/// FPL cup qualification state; every field is null outside the cup season.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CupStatus {
    /// Gameweek whose score qualifies.
    #[serde(default)]
    pub qualification_event: Option<EventId>,
    /// Number of qualifiers.
    #[serde(default)]
    pub qualification_numbers: Option<u64>,
    /// Rank needed to qualify.
    #[serde(default)]
    pub qualification_rank: Option<u64>,
    /// State string (e.g. "QUALIFIED", "NOT_QUALIFIED_RANK").
    #[serde(default)]
    pub qualification_state: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// entry/{id}/history/
// ---------------------------------------------------------------------------------------------

/// `entry/{id}/history/`: the manager's gameweeks this season, past seasons and chips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryHistory {
    /// One row per gameweek played this season.
    pub current: Vec<EntryEventHistory>,
    /// One row per past season.
    #[serde(default)]
    pub past: Vec<PastSeason>,
    /// Chips played this season.
    #[serde(default)]
    pub chips: Vec<ChipUse>,
}

/// A manager's gameweek: `history.current[]` and `picks.entry_history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryEventHistory {
    /// The gameweek.
    pub event: EventId,
    /// Gross points of the gameweek (transfer cost not deducted).
    pub points: i32,
    /// Season total after the gameweek (transfer costs deducted).
    pub total_points: i32,
    /// Gameweek rank; null while the gameweek is live.
    #[serde(default)]
    pub rank: Option<u32>,
    /// Gameweek rank without ties; null while the gameweek is live.
    #[serde(default)]
    pub rank_sort: Option<u32>,
    /// Overall rank; null before the first ranking.
    #[serde(default)]
    pub overall_rank: Option<u32>,
    /// Gameweek percentile; null while the gameweek is live.
    #[serde(default)]
    pub percentile_rank: Option<u32>,
    /// Overall percentile, a decimal string ("30"); only from 2026-27 on, null while live.
    #[serde(default, with = "opt_decimal")]
    pub overall_rank_percentage: Option<f64>,
    /// Money in the bank, tenths of a million.
    #[serde(default)]
    pub bank: i32,
    /// Squad value, tenths of a million.
    #[serde(default)]
    pub value: u32,
    /// Transfers made for the gameweek.
    #[serde(default)]
    pub event_transfers: u32,
    /// Points deducted for extra transfers.
    pub event_transfers_cost: i32,
    /// Points left on the bench.
    #[serde(default)]
    pub points_on_bench: i32,
}

/// `history.past[]`: a past season's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastSeason {
    /// "2022/23".
    #[serde(default)]
    pub season_name: String,
    /// Season points.
    #[serde(default)]
    pub total_points: i32,
    /// Final overall rank.
    #[serde(default)]
    pub rank: Option<u32>,
    /// Final percentile, a decimal string ("3"); seen in 2026-27, optional.
    #[serde(default, with = "opt_decimal")]
    pub rank_percentage: Option<f64>,
}

/// `history.chips[]`: a chip the manager played.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipUse {
    /// The chip.
    #[serde(default)]
    pub name: Chip,
    /// When it was activated.
    #[serde(default)]
    pub time: DateTime<Utc>,
    /// The gameweek.
    #[serde(default)]
    pub event: EventId,
}

// ---------------------------------------------------------------------------------------------
// entry/{id}/event/{gw}/picks/
// ---------------------------------------------------------------------------------------------

/// `entry/{id}/event/{gw}/picks/`: a manager's 15 picks of a gameweek.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PicksResponse {
    /// Chip played this gameweek; null when none.
    #[serde(with = "present")]
    pub active_chip: Option<Chip>,
    /// Substitutions applied (after the gameweek; empty before).
    #[serde(default)]
    pub automatic_subs: Vec<AutomaticSub>,
    /// The gameweek's points, ranks, bank and value.
    pub entry_history: EntryEventHistory,
    /// The 15 picks, by position (1–11 starters, 12–15 bench in order).
    pub picks: Vec<Pick>,
}

/// `picks[]`: one pick of a manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    /// The player.
    pub element: ElementId,
    /// 1..=15; 12 is the bench goalkeeper.
    pub position: u8,
    /// 0 bench, 1 starter, 2 captain, 3 triple captain (after substitutions once final).
    pub multiplier: u8,
    /// Captain.
    pub is_captain: bool,
    /// Vice-captain.
    pub is_vice_captain: bool,
    /// Player's position; optional because older payloads lack it.
    #[serde(default)]
    pub element_type: Option<ElementTypeId>,
}

/// `automatic_subs[]`: a substitution FPL applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomaticSub {
    /// The manager.
    #[serde(default)]
    pub entry: EntryId,
    /// Bench player who came in.
    #[serde(default)]
    pub element_in: ElementId,
    /// Starter who went out.
    #[serde(default)]
    pub element_out: ElementId,
    /// The gameweek.
    #[serde(default)]
    pub event: EventId,
}

// ---------------------------------------------------------------------------------------------
// entry/{id}/transfers/ and entry/{id}/cup/ (no samples: decoded defensively)
// ---------------------------------------------------------------------------------------------

/// `entry/{id}/transfers/` response: a JSON array, newest first.
pub type Transfers = Vec<Transfer>;

/// One transfer of `entry/{id}/transfers/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The manager.
    #[serde(default)]
    pub entry: EntryId,
    /// Gameweek the transfer counts for.
    #[serde(default)]
    pub event: EventId,
    /// Player bought.
    #[serde(default)]
    pub element_in: ElementId,
    /// Price paid, tenths of a million.
    #[serde(default)]
    pub element_in_cost: u32,
    /// Player sold.
    #[serde(default)]
    pub element_out: ElementId,
    /// Price received, tenths of a million.
    #[serde(default)]
    pub element_out_cost: u32,
    /// When it was made.
    #[serde(default)]
    pub time: DateTime<Utc>,
}

/// `entry/{id}/cup/`: FPL cup matches and qualification (404 = not in the cup).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryCup {
    /// Cup matches so far.
    #[serde(default)]
    pub cup_matches: Vec<H2hMatch>,
    /// Qualification state.
    #[serde(default)]
    pub cup_status: Option<CupStatus>,
}

/// A head-to-head match: H2H league matches and FPL cup matches share this shape.
///
/// Shape taken from `entry/{id}/ leagues.cup_matches` (2025-26); every field is
/// optional because H2H payloads have no sample and byes or the "AVERAGE" opponent send nulls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H2hMatch {
    /// Match id (fplsync keys matches by gameweek and entries, not by it).
    #[serde(default)]
    pub id: u64,
    /// The league (or cup league).
    #[serde(default)]
    pub league: Option<LeagueId>,
    /// The gameweek.
    #[serde(default)]
    pub event: Option<EventId>,
    /// First entry; null for a bye slot.
    #[serde(default)]
    pub entry_1_entry: Option<EntryId>,
    /// First entry's team name.
    #[serde(default)]
    pub entry_1_name: Option<String>,
    /// First entry's manager name.
    #[serde(default)]
    pub entry_1_player_name: Option<String>,
    /// First entry's gameweek points.
    #[serde(default)]
    pub entry_1_points: Option<i32>,
    /// First entry's wins in the league (1 for this match once won).
    #[serde(default)]
    pub entry_1_win: Option<i32>,
    /// First entry's draws.
    #[serde(default)]
    pub entry_1_draw: Option<i32>,
    /// First entry's losses.
    #[serde(default)]
    pub entry_1_loss: Option<i32>,
    /// First entry's H2H points from this match.
    #[serde(default)]
    pub entry_1_total: Option<i32>,
    /// Second entry; null for a bye or the "AVERAGE" opponent.
    #[serde(default)]
    pub entry_2_entry: Option<EntryId>,
    /// Second entry's team name.
    #[serde(default)]
    pub entry_2_name: Option<String>,
    /// Second entry's manager name.
    #[serde(default)]
    pub entry_2_player_name: Option<String>,
    /// Second entry's gameweek points.
    #[serde(default)]
    pub entry_2_points: Option<i32>,
    /// Second entry's wins.
    #[serde(default)]
    pub entry_2_win: Option<i32>,
    /// Second entry's draws.
    #[serde(default)]
    pub entry_2_draw: Option<i32>,
    /// Second entry's losses.
    #[serde(default)]
    pub entry_2_loss: Option<i32>,
    /// Second entry's H2H points from this match.
    #[serde(default)]
    pub entry_2_total: Option<i32>,
    /// Knockout match.
    #[serde(default)]
    pub is_knockout: Option<bool>,
    /// Winning entry; null before the result or for a draw.
    #[serde(default)]
    pub winner: Option<EntryId>,
    /// Bye match.
    #[serde(default)]
    pub is_bye: Option<bool>,
    /// Round name ("Round of 2097152", "Final").
    #[serde(default)]
    pub knockout_name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// leagues-classic/{id}/standings/, leagues-h2h/{id}/standings/, leagues-h2h-matches/league/{id}/
// ---------------------------------------------------------------------------------------------

/// A page of a paged list (`standings`, `new_entries`, H2H matches): 50 rows a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// Another page follows.
    pub has_next: bool,
    /// This page's number, from 1.
    #[serde(default)]
    pub page: u32,
    /// The rows.
    pub results: Vec<T>,
}

impl<T> Default for Page<T> {
    /// No rows, no next page: a list FPL left out.
    fn default() -> Self {
        Page {
            has_next: false,
            page: 0,
            results: Vec::new(),
        }
    }
}

/// `league` of a standings response (classic or H2H).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeagueInfo {
    /// League id.
    pub id: LeagueId,
    /// League name.
    #[serde(default)]
    pub name: String,
    /// Creation time.
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
    /// Closed to new entries.
    #[serde(default)]
    pub closed: bool,
    /// Maximum size; null when unlimited.
    #[serde(default)]
    pub max_entries: Option<u32>,
    /// "s" system, "x" private, "c" public.
    #[serde(default)]
    pub league_type: Option<String>,
    /// "c" classic, "h" head-to-head.
    #[serde(default)]
    pub scoring: Option<String>,
    /// Administrator; null for system leagues.
    #[serde(default)]
    pub admin_entry: Option<EntryId>,
    /// First gameweek counted.
    #[serde(default)]
    pub start_event: Option<EventId>,
    /// "p" private code.
    #[serde(default)]
    pub code_privacy: Option<String>,
    /// League runs its own cup.
    #[serde(default)]
    pub has_cup: Option<bool>,
    /// Its cup league; null when none.
    #[serde(default)]
    pub cup_league: Option<LeagueId>,
    /// H2H knockout rounds (H2H leagues only).
    #[serde(default)]
    pub ko_rounds: Option<u32>,
}

/// `leagues-classic/{id}/standings/`: one page of a classic league table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassicStandings {
    /// The league.
    pub league: LeagueInfo,
    /// Entries that joined since the last update (paged separately).
    #[serde(default)]
    pub new_entries: Option<Page<NewEntry>>,
    /// The table page.
    pub standings: Page<ClassicStandingRow>,
    /// When the table was computed; seen in 2026-27.
    #[serde(default)]
    pub last_updated_data: Option<DateTime<Utc>>,
}

/// A row of a classic league table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicStandingRow {
    /// The entry.
    pub entry: EntryId,
    /// Team name.
    #[serde(default)]
    pub entry_name: String,
    /// Manager name.
    #[serde(default)]
    pub player_name: String,
    /// Rank (ties share it).
    #[serde(default)]
    pub rank: u32,
    /// Rank before the last gameweek (0 after GW1).
    #[serde(default)]
    pub last_rank: u32,
    /// Rank without ties.
    #[serde(default)]
    pub rank_sort: u32,
    /// League total.
    #[serde(default)]
    pub total: i32,
    /// Points of the current gameweek.
    #[serde(default)]
    pub event_total: i32,
    /// Row id; dropped from the rows in 2026-27.
    #[serde(default)]
    pub id: Option<u64>,
    /// Entry has played; dropped from the rows in 2026-27.
    #[serde(default)]
    pub has_played: Option<bool>,
}

/// A row of `new_entries` (no sample with rows: decoded defensively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEntry {
    /// The entry.
    pub entry: EntryId,
    /// Team name.
    #[serde(default)]
    pub entry_name: Option<String>,
    /// Manager's first name.
    #[serde(default)]
    pub player_first_name: Option<String>,
    /// Manager's last name.
    #[serde(default)]
    pub player_last_name: Option<String>,
    /// When the entry joined the league.
    #[serde(default)]
    pub joined_time: Option<DateTime<Utc>>,
}

/// `leagues-h2h/{id}/standings/`: one page of an H2H league table (no sample: defensive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct H2hStandings {
    /// The league.
    pub league: LeagueInfo,
    /// Entries that joined since the last update.
    #[serde(default)]
    pub new_entries: Option<Page<NewEntry>>,
    /// The table page.
    pub standings: Page<H2hStandingRow>,
}

/// A row of an H2H league table (no sample: every field but `entry` optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H2hStandingRow {
    /// The entry.
    pub entry: EntryId,
    /// Team name.
    #[serde(default)]
    pub entry_name: Option<String>,
    /// Manager name.
    #[serde(default)]
    pub player_name: Option<String>,
    /// Rank.
    #[serde(default)]
    pub rank: Option<u32>,
    /// Previous rank.
    #[serde(default)]
    pub last_rank: Option<u32>,
    /// Rank without ties.
    #[serde(default)]
    pub rank_sort: Option<u32>,
    /// H2H league points (3/1/0).
    #[serde(default)]
    pub total: Option<i32>,
    /// Matches played.
    #[serde(default)]
    pub matches_played: Option<u32>,
    /// Matches won.
    #[serde(default)]
    pub matches_won: Option<u32>,
    /// Matches drawn.
    #[serde(default)]
    pub matches_drawn: Option<u32>,
    /// Matches lost.
    #[serde(default)]
    pub matches_lost: Option<u32>,
    /// FPL points scored over the matches.
    #[serde(default)]
    pub points_for: Option<i32>,
    /// Row id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Division id.
    #[serde(default)]
    pub division: Option<u64>,
}

/// `leagues-h2h-matches/league/{id}/?page=N`: one page of H2H matches.
pub type H2hMatches = Page<H2hMatch>;

// ---------------------------------------------------------------------------------------------
// element-summary/{id}/
// ---------------------------------------------------------------------------------------------

/// `element-summary/{id}/`: a player's remaining fixtures, this season and past seasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementSummary {
    /// Upcoming fixtures of his team.
    #[serde(default)]
    pub fixtures: Vec<ElementSummaryFixture>,
    /// One row per fixture played this season.
    #[serde(default)]
    pub history: Vec<ElementHistory>,
    /// One row per past season.
    #[serde(default)]
    pub history_past: Vec<ElementHistoryPast>,
}

/// `element-summary fixtures[]`: an upcoming fixture, from the player's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementSummaryFixture {
    /// Fixture id.
    #[serde(default)]
    pub id: FixtureId,
    /// Stable match code.
    #[serde(default)]
    pub code: u32,
    /// Home team.
    #[serde(default)]
    pub team_h: TeamId,
    /// Away team.
    #[serde(default)]
    pub team_a: TeamId,
    /// Home goals; null before kick-off.
    #[serde(default)]
    pub team_h_score: Option<u16>,
    /// Away goals; null before kick-off.
    #[serde(default)]
    pub team_a_score: Option<u16>,
    /// Gameweek; null while unscheduled.
    #[serde(default)]
    pub event: Option<EventId>,
    /// Kick-off; null while unscheduled.
    #[serde(default)]
    pub kickoff_time: Option<DateTime<Utc>>,
    /// Kick-off is provisional.
    #[serde(default)]
    pub provisional_start_time: bool,
    /// Played.
    #[serde(default)]
    pub finished: bool,
    /// Minutes played.
    #[serde(default)]
    pub minutes: u16,
    /// "Gameweek 7"; null while unscheduled.
    #[serde(default)]
    pub event_name: Option<String>,
    /// The player's team is at home.
    #[serde(default)]
    pub is_home: bool,
    /// Difficulty for the player's team (1..=5).
    #[serde(default)]
    pub difficulty: u8,
}

/// `element-summary history[]`: the player in one fixture this season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementHistory {
    /// The player.
    #[serde(default)]
    pub element: ElementId,
    /// The fixture.
    #[serde(default)]
    pub fixture: FixtureId,
    /// The gameweek.
    #[serde(default)]
    pub round: EventId,
    /// The opponent.
    #[serde(default)]
    pub opponent_team: TeamId,
    /// Played at home.
    #[serde(default)]
    pub was_home: bool,
    /// Kick-off.
    #[serde(default)]
    pub kickoff_time: Option<DateTime<Utc>>,
    /// Home goals.
    #[serde(default)]
    pub team_h_score: Option<u16>,
    /// Away goals.
    #[serde(default)]
    pub team_a_score: Option<u16>,
    /// Points in the fixture.
    #[serde(default)]
    pub total_points: i32,
    /// Counting stats.
    #[serde(flatten)]
    pub stats: PlayerStats,
    /// Price at the time, tenths of a million.
    #[serde(default)]
    pub value: u32,
    /// Transfers in minus out for the gameweek.
    #[serde(default)]
    pub transfers_balance: i64,
    /// Managers owning him.
    #[serde(default)]
    pub selected: u32,
    /// Transfers in for the gameweek.
    #[serde(default)]
    pub transfers_in: u32,
    /// Transfers out for the gameweek.
    #[serde(default)]
    pub transfers_out: u32,
    /// Stats were corrected after the fact.
    #[serde(default)]
    pub modified: Option<bool>,
}

/// `element-summary history_past[]`: the player's totals of a past season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementHistoryPast {
    /// "2021/22".
    #[serde(default)]
    pub season_name: String,
    /// Stable player code.
    #[serde(default)]
    pub element_code: u32,
    /// Price at the season start.
    #[serde(default)]
    pub start_cost: u32,
    /// Price at the season end.
    #[serde(default)]
    pub end_cost: u32,
    /// Season points.
    #[serde(default)]
    pub total_points: i32,
    /// Counting stats.
    #[serde(flatten)]
    pub stats: PlayerStats,
}
