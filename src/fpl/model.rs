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
//! - unknown fields are ignored (no `deny_unknown_fields` anywhere);
//! - a field that some season lacks, or that the API sends as `null` in some game state, is an
//!   `Option` (each such field says which season or state);
//! - decimal strings such as `"5.0"` decode into `f64`, and a JSON number is accepted too.
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
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
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
    /// A manager's team ("entry") id; stable across seasons.
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
    pub total_players: u64,
}

/// One gameweek of `bootstrap-static/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Gameweek number.
    pub id: EventId,
    /// Display name ("Gameweek 1").
    pub name: String,
    /// Transfer and team-selection deadline.
    pub deadline_time: DateTime<Utc>,
    /// The deadline as Unix seconds.
    pub deadline_time_epoch: i64,
    /// All matches of the gameweek played (can flip back; only `data_checked` is final).
    pub finished: bool,
    /// Points are final.
    pub data_checked: bool,
    /// The gameweek before the current one.
    pub is_previous: bool,
    /// The current gameweek (none pre-season).
    pub is_current: bool,
    /// The next gameweek.
    pub is_next: bool,
    /// Average manager score (0 before the gameweek).
    pub average_entry_score: i32,
    /// Highest manager score; null until the gameweek has been played.
    pub highest_score: Option<i32>,
    /// Entry with the highest score; null until the gameweek has been played.
    pub highest_scoring_entry: Option<EntryId>,
    /// Most selected player; null before the deadline.
    pub most_selected: Option<ElementId>,
    /// Most transferred-in player; null before the deadline.
    pub most_transferred_in: Option<ElementId>,
    /// Most captained player; null before the deadline.
    pub most_captained: Option<ElementId>,
    /// Most vice-captained player; null before the deadline.
    pub most_vice_captained: Option<ElementId>,
    /// Top-scoring player; null until the gameweek has been played.
    pub top_element: Option<ElementId>,
    /// Top-scoring player and points; null until the gameweek has been played.
    pub top_element_info: Option<TopElementInfo>,
    /// Transfers made for this gameweek.
    pub transfers_made: u64,
    /// Managers ranked in this gameweek.
    pub ranked_count: u64,
    /// FPL cup leagues have been drawn for this gameweek.
    pub cup_leagues_created: bool,
    /// H2H knockout matches have been drawn for this gameweek.
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
}

/// `events[].top_element_info`: the top-scoring player of a gameweek.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopElementInfo {
    /// The player.
    pub id: ElementId,
    /// His points in the gameweek.
    pub points: i32,
}

/// `events[].chip_plays[]`: how many managers played a chip in a gameweek.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipPlay {
    /// The chip.
    pub chip_name: Chip,
    /// Number of managers who played it.
    pub num_played: u64,
}

/// A phase (month) of `bootstrap-static/`; phase 1 is the whole season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// Phase id.
    pub id: u16,
    /// Display name ("Overall", "August", …).
    pub name: String,
    /// First gameweek of the phase.
    pub start_event: EventId,
    /// Last gameweek of the phase.
    pub stop_event: EventId,
    /// Best manager total of the phase; missing in 2023-24, null before the phase is played.
    #[serde(default)]
    pub highest_score: Option<i32>,
}

/// A Premier League team of `bootstrap-static/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Team id within the season.
    pub id: TeamId,
    /// Stable club code across seasons (badge and shirt images use it).
    pub code: u32,
    /// Full name ("Arsenal").
    pub name: String,
    /// Three-letter name ("ARS").
    pub short_name: String,
    /// Overall strength 1..=5; null in the 2026-27 pre-season capture.
    pub strength: Option<u8>,
    /// Home strength rating (Elo-like; small numbers pre-season in 2026-27).
    pub strength_overall_home: u32,
    /// Away strength rating.
    pub strength_overall_away: u32,
    /// Home attack strength.
    pub strength_attack_home: u32,
    /// Away attack strength.
    pub strength_attack_away: u32,
    /// Home defence strength.
    pub strength_defence_home: u32,
    /// Away defence strength.
    pub strength_defence_away: u32,
    /// League-table columns; the API leaves them at 0 in every capture.
    pub played: u32,
    /// Wins (see `played`).
    pub win: u32,
    /// Draws (see `played`).
    pub draw: u32,
    /// Losses (see `played`).
    pub loss: u32,
    /// Table points (see `played`).
    pub points: i32,
    /// Table position (0 pre-season).
    pub position: u32,
    /// Team is unavailable in the game.
    pub unavailable: bool,
    /// Premier League ("pulse") team id.
    pub pulse_id: u32,
    /// Club link; only from 2025-26 on (empty string when present so far).
    #[serde(default)]
    pub link_url: Option<String>,
}

/// A position ("element type") of `bootstrap-static/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementType {
    /// 1 GKP, 2 DEF, 3 MID, 4 FWD, 5 MNG (2024-25 only).
    pub id: ElementTypeId,
    /// "Goalkeeper".
    pub singular_name: String,
    /// "GKP".
    pub singular_name_short: String,
    /// "Goalkeepers".
    pub plural_name: String,
    /// "GKP".
    pub plural_name_short: String,
    /// Players of this position in a squad (2 GKP, 5 DEF, 5 MID, 3 FWD; 0 for MNG).
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
    pub ui_shirt_specific: bool,
    /// Positions locked for substitutions (`[12]`, the bench goalkeeper, for GKP).
    #[serde(default)]
    pub sub_positions_locked: Vec<u8>,
    /// Number of players of this position.
    pub element_count: u32,
}

/// A player ("element") of `bootstrap-static/`, with every field a metadata store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    /// Player id within the season.
    pub id: ElementId,
    /// Stable player code across seasons (photos use it).
    pub code: u32,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub second_name: String,
    /// Name shown in the game.
    pub web_name: String,
    /// Preferred full name; only from 2025-26 on (often empty).
    #[serde(default)]
    pub known_name: Option<String>,
    /// Team.
    pub team: TeamId,
    /// Team's stable code.
    pub team_code: u32,
    /// Position.
    pub element_type: ElementTypeId,
    /// Shirt number; null in every capture so far.
    pub squad_number: Option<u32>,
    /// Photo file name ("154561.jpg").
    pub photo: String,
    /// Price in tenths of a million (55 = £5.5m).
    pub now_cost: u32,
    /// Price change in the current gameweek.
    pub cost_change_event: i32,
    /// Price fall in the current gameweek.
    pub cost_change_event_fall: i32,
    /// Price change since the season start.
    pub cost_change_start: i32,
    /// Price fall since the season start.
    pub cost_change_start_fall: i32,
    /// Predicted price-change progress; a decimal string only from 2025-26 on.
    #[serde(default, with = "opt_decimal")]
    pub price_change_percent: Option<f64>,
    /// Availability: "a" available, "d" doubtful, "i" injured, "s" suspended, "u" unavailable,
    /// "n" not in the squad (seen in 2024-25); kept as a string to accept new codes.
    pub status: String,
    /// Injury or availability news (empty when none).
    pub news: String,
    /// When `news` was set; null when there never was any.
    pub news_added: Option<DateTime<Utc>>,
    /// Chance of playing next gameweek in percent; null when there is no doubt.
    pub chance_of_playing_next_round: Option<u8>,
    /// Chance of playing this gameweek in percent; null when there is no doubt.
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
    pub special: bool,
    /// In the current gameweek's dream team.
    pub in_dreamteam: bool,
    /// Dream-team appearances this season.
    pub dreamteam_count: u32,
    /// Points this season.
    pub total_points: i32,
    /// Points in the current gameweek.
    pub event_points: i32,
    /// Average points over the recent form window (a decimal string).
    #[serde(with = "decimal")]
    pub form: f64,
    /// Points per game played (a decimal string).
    #[serde(with = "decimal")]
    pub points_per_game: f64,
    /// Share of managers owning him, in percent (a decimal string).
    #[serde(with = "decimal")]
    pub selected_by_percent: f64,
    /// Expected points next gameweek; null after the last gameweek (seen in 2025-26).
    #[serde(default, with = "opt_decimal")]
    pub ep_next: Option<f64>,
    /// Expected points this gameweek; null pre-season (2026-27, for every player).
    #[serde(default, with = "opt_decimal")]
    pub ep_this: Option<f64>,
    /// Form per price (a decimal string).
    #[serde(with = "decimal")]
    pub value_form: f64,
    /// Season points per price (a decimal string).
    #[serde(with = "decimal")]
    pub value_season: f64,
    /// Managers who bought him this season.
    pub transfers_in: u32,
    /// Managers who bought him this gameweek.
    pub transfers_in_event: u32,
    /// Managers who sold him this season.
    pub transfers_out: u32,
    /// Managers who sold him this gameweek.
    pub transfers_out_event: u32,
    /// Minutes played this season.
    pub minutes: u32,
    /// Goals this season.
    pub goals_scored: u32,
    /// Assists this season.
    pub assists: u32,
    /// Clean sheets this season.
    pub clean_sheets: u32,
    /// Goals conceded while on the pitch.
    pub goals_conceded: u32,
    /// Own goals.
    pub own_goals: u32,
    /// Penalties saved.
    pub penalties_saved: u32,
    /// Penalties missed.
    pub penalties_missed: u32,
    /// Yellow cards.
    pub yellow_cards: u32,
    /// Red cards.
    pub red_cards: u32,
    /// Saves.
    pub saves: u32,
    /// Bonus points this season.
    pub bonus: i32,
    /// Bonus points system score this season (can be negative).
    pub bps: i32,
    /// Matches started.
    pub starts: u32,
    /// ICT influence (a decimal string).
    #[serde(with = "decimal")]
    pub influence: f64,
    /// ICT creativity (a decimal string).
    #[serde(with = "decimal")]
    pub creativity: f64,
    /// ICT threat (a decimal string).
    #[serde(with = "decimal")]
    pub threat: f64,
    /// ICT index (a decimal string).
    #[serde(with = "decimal")]
    pub ict_index: f64,
    /// Expected goals (a decimal string).
    #[serde(with = "decimal")]
    pub expected_goals: f64,
    /// Expected assists (a decimal string).
    #[serde(with = "decimal")]
    pub expected_assists: f64,
    /// Expected goal involvements (a decimal string).
    #[serde(with = "decimal")]
    pub expected_goal_involvements: f64,
    /// Expected goals conceded (a decimal string).
    #[serde(with = "decimal")]
    pub expected_goals_conceded: f64,
    /// Per-90 rates: JSON numbers, not strings.
    pub expected_goals_per_90: f64,
    /// Per 90 minutes.
    pub expected_assists_per_90: f64,
    /// Per 90 minutes.
    pub expected_goal_involvements_per_90: f64,
    /// Per 90 minutes.
    pub expected_goals_conceded_per_90: f64,
    /// Per 90 minutes.
    pub goals_conceded_per_90: f64,
    /// Per 90 minutes.
    pub saves_per_90: f64,
    /// Per 90 minutes.
    pub starts_per_90: f64,
    /// Per 90 minutes.
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
    pub corners_and_indirect_freekicks_order: Option<u8>,
    /// Set-piece note.
    pub corners_and_indirect_freekicks_text: String,
    /// Direct free-kick order; null when not a taker.
    pub direct_freekicks_order: Option<u8>,
    /// Direct free-kick note.
    pub direct_freekicks_text: String,
    /// Penalty order; null when not a taker.
    pub penalties_order: Option<u8>,
    /// Penalty note.
    pub penalties_text: String,
    /// Rank by influence among all players.
    pub influence_rank: u32,
    /// Rank by influence within the position.
    pub influence_rank_type: u32,
    /// Rank by creativity.
    pub creativity_rank: u32,
    /// Rank by creativity within the position.
    pub creativity_rank_type: u32,
    /// Rank by threat.
    pub threat_rank: u32,
    /// Rank by threat within the position.
    pub threat_rank_type: u32,
    /// Rank by ICT index.
    pub ict_index_rank: u32,
    /// Rank by ICT index within the position.
    pub ict_index_rank_type: u32,
    /// Rank by price.
    pub now_cost_rank: u32,
    /// Rank by price within the position.
    pub now_cost_rank_type: u32,
    /// Rank by form.
    pub form_rank: u32,
    /// Rank by form within the position.
    pub form_rank_type: u32,
    /// Rank by points per game.
    pub points_per_game_rank: u32,
    /// Rank by points per game within the position.
    pub points_per_game_rank_type: u32,
    /// Rank by ownership.
    pub selected_rank: u32,
    /// Rank by ownership within the position.
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
}

/// A chip of `bootstrap-static/` (chips come in halves since 2025-26: two of each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipInfo {
    /// Chip id.
    pub id: u32,
    /// The chip.
    pub name: Chip,
    /// How many a manager gets in the window.
    pub number: u32,
    /// First gameweek it can be played.
    pub start_event: EventId,
    /// Last gameweek it can be played.
    pub stop_event: EventId,
    /// "transfer" or "team".
    pub chip_type: String,
}

/// `bootstrap-static/ game_settings`: the rules the service needs (league sizes, H2H points).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameSettings {
    /// Private leagues a manager may join.
    pub league_join_private_max: u32,
    /// Public leagues a manager may join.
    pub league_join_public_max: u32,
    /// Size of a public classic league.
    pub league_max_size_public_classic: u32,
    /// Size of a public H2H league.
    pub league_max_size_public_h2h: u32,
    /// Size of a private H2H league.
    pub league_max_size_private_h2h: u32,
    /// H2H points for a win.
    pub league_points_h2h_win: i32,
    /// H2H points for a loss.
    pub league_points_h2h_lose: i32,
    /// H2H points for a draw.
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
    pub squad_squadplay: u8,
    /// Squad size (15).
    pub squad_squadsize: u8,
    /// Players allowed from one team (3).
    pub squad_team_limit: u8,
    /// Budget in tenths of a million (1000).
    pub squad_total_spend: u32,
    /// Transfer cap.
    pub transfers_cap: u32,
    /// Share of a price rise kept on sale (0.5).
    pub transfers_sell_on_fee: f64,
    /// Extra free transfers that can be banked; missing in 2023-24.
    #[serde(default)]
    pub max_extra_free_transfers: Option<u32>,
    /// Days of the form window.
    pub stats_form_days: u32,
    /// Vice-captain enabled.
    pub sys_vice_captain_enabled: bool,
    /// Percentile buckets; 2025-26 and 2026-27 send `…, 80, 95, 90, 95` (sic).
    #[serde(default)]
    pub percentile_ranks: Vec<u32>,
    /// Time zone of the rules ("UTC").
    pub timezone: String,
}

// ---------------------------------------------------------------------------------------------
// fixtures/
// ---------------------------------------------------------------------------------------------

/// `fixtures/` response: a JSON array of fixtures.
pub type Fixtures = Vec<Fixture>;

/// One fixture of `fixtures/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fixture {
    /// Fixture id.
    pub id: FixtureId,
    /// Stable match code.
    pub code: u32,
    /// Gameweek; null while a postponed fixture is unscheduled.
    pub event: Option<EventId>,
    /// Home team.
    pub team_h: TeamId,
    /// Away team.
    pub team_a: TeamId,
    /// Home goals; null before kick-off.
    pub team_h_score: Option<u16>,
    /// Away goals; null before kick-off.
    pub team_a_score: Option<u16>,
    /// Kick-off; null while a postponed fixture is unscheduled.
    pub kickoff_time: Option<DateTime<Utc>>,
    /// Kick-off is provisional.
    pub provisional_start_time: bool,
    /// Match has started; null for unscheduled fixtures.
    pub started: Option<bool>,
    /// Final (can flip back; only the event's `data_checked` is final).
    pub finished: bool,
    /// Final whistle blown, bonus provisional.
    pub finished_provisional: bool,
    /// Minutes played so far.
    pub minutes: u16,
    /// Fixture difficulty for the home team (1..=5).
    pub team_h_difficulty: u8,
    /// Fixture difficulty for the away team (1..=5).
    pub team_a_difficulty: u8,
    /// Premier League ("pulse") match id.
    #[serde(default)]
    pub pulse_id: Option<u32>,
    /// Per-stat lists of players (`goals_scored`, `bonus`, `bps`, …); empty before kick-off.
    #[serde(default)]
    pub stats: Vec<FixtureStat>,
}

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
    #[serde(default)]
    pub a: Vec<StatValue>,
    /// Home players with a non-zero value.
    #[serde(default)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayerStats {
    /// Minutes played.
    pub minutes: u32,
    /// Goals.
    pub goals_scored: u32,
    /// Assists.
    pub assists: u32,
    /// Clean sheets.
    pub clean_sheets: u32,
    /// Goals conceded.
    pub goals_conceded: u32,
    /// Own goals.
    pub own_goals: u32,
    /// Penalties saved.
    pub penalties_saved: u32,
    /// Penalties missed.
    pub penalties_missed: u32,
    /// Yellow cards.
    pub yellow_cards: u32,
    /// Red cards.
    pub red_cards: u32,
    /// Saves.
    pub saves: u32,
    /// Official bonus (0 in live data until the match's bonus is added).
    pub bonus: i32,
    /// Bonus points system score (can be negative).
    pub bps: i32,
    /// ICT influence (a decimal string).
    #[serde(with = "decimal")]
    pub influence: f64,
    /// ICT creativity (a decimal string).
    #[serde(with = "decimal")]
    pub creativity: f64,
    /// ICT threat (a decimal string).
    #[serde(with = "decimal")]
    pub threat: f64,
    /// ICT index (a decimal string).
    #[serde(with = "decimal")]
    pub ict_index: f64,
    /// Expected goals (a decimal string).
    #[serde(with = "decimal")]
    pub expected_goals: f64,
    /// Expected assists (a decimal string).
    #[serde(with = "decimal")]
    pub expected_assists: f64,
    /// Expected goal involvements (a decimal string).
    #[serde(with = "decimal")]
    pub expected_goal_involvements: f64,
    /// Expected goals conceded (a decimal string).
    #[serde(with = "decimal")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStats {
    /// Counting stats.
    #[serde(flatten)]
    pub stats: PlayerStats,
    /// Gameweek points (all fixtures of a double gameweek, bonus included once official).
    pub total_points: i32,
    /// In the gameweek's dream team.
    pub in_dreamteam: bool,
    /// Played in the gameweek; only seen in the final 2025-26 GW38 snapshot.
    #[serde(default)]
    pub played: Option<bool>,
}

/// `elements[].explain[]`: a player's points in one fixture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveExplain {
    /// The fixture.
    pub fixture: FixtureId,
    /// Points per stat.
    #[serde(default)]
    pub stats: Vec<ExplainStat>,
}

/// `explain[].stats[]`: points earned by one stat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainStat {
    /// Stat name ("minutes", "goals_scored", "bonus", …).
    pub identifier: String,
    /// Points it earned.
    pub points: i32,
    /// The stat's value.
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
    pub status: Vec<EventStatusDay>,
    /// League tables state: `""`, `"Updating"`, `"Updated"`.
    pub leagues: String,
}

/// One match day of `event-status/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStatusDay {
    /// Bonus added for the day's matches.
    pub bonus_added: bool,
    /// The day.
    pub date: NaiveDate,
    /// The gameweek.
    pub event: EventId,
    /// Points state: `""`, `"l"` (live), `"p"` (provisional), `"r"` (confirmed); others possible.
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
    pub joined_time: DateTime<Utc>,
    /// First gameweek played.
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
    pub summary_overall_points: Option<i32>,
    /// Overall rank; null pre-season.
    pub summary_overall_rank: Option<u32>,
    /// Points of the current gameweek; null pre-season.
    pub summary_event_points: Option<i32>,
    /// Rank in the current gameweek; null pre-season and while live.
    pub summary_event_rank: Option<u32>,
    /// Current gameweek; null pre-season.
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
    pub id: LeagueId,
    /// League name.
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
    pub rank: Option<u32>,
    /// Gameweek rank without ties; null while the gameweek is live.
    pub rank_sort: Option<u32>,
    /// Overall rank; null before the first ranking.
    pub overall_rank: Option<u32>,
    /// Gameweek percentile; null while the gameweek is live.
    #[serde(default)]
    pub percentile_rank: Option<u32>,
    /// Overall percentile, a decimal string ("30"); only from 2026-27 on, null while live.
    #[serde(default, with = "opt_decimal")]
    pub overall_rank_percentage: Option<f64>,
    /// Money in the bank, tenths of a million.
    pub bank: i32,
    /// Squad value, tenths of a million.
    pub value: u32,
    /// Transfers made for the gameweek.
    pub event_transfers: u32,
    /// Points deducted for extra transfers.
    pub event_transfers_cost: i32,
    /// Points left on the bench.
    pub points_on_bench: i32,
}

/// `history.past[]`: a past season's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastSeason {
    /// "2022/23".
    pub season_name: String,
    /// Season points.
    pub total_points: i32,
    /// Final overall rank.
    pub rank: Option<u32>,
    /// Final percentile, a decimal string ("3"); seen in 2026-27, optional.
    #[serde(default, with = "opt_decimal")]
    pub rank_percentage: Option<f64>,
}

/// `history.chips[]`: a chip the manager played.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipUse {
    /// The chip.
    pub name: Chip,
    /// When it was activated.
    pub time: DateTime<Utc>,
    /// The gameweek.
    pub event: EventId,
}

// ---------------------------------------------------------------------------------------------
// entry/{id}/event/{gw}/picks/
// ---------------------------------------------------------------------------------------------

/// `entry/{id}/event/{gw}/picks/`: a manager's 15 picks of a gameweek.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PicksResponse {
    /// Chip played this gameweek; null when none.
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
    pub entry: EntryId,
    /// Bench player who came in.
    pub element_in: ElementId,
    /// Starter who went out.
    pub element_out: ElementId,
    /// The gameweek.
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
    pub entry: EntryId,
    /// Gameweek the transfer counts for.
    pub event: EventId,
    /// Player bought.
    pub element_in: ElementId,
    /// Price paid, tenths of a million.
    pub element_in_cost: u32,
    /// Player sold.
    pub element_out: ElementId,
    /// Price received, tenths of a million.
    pub element_out_cost: u32,
    /// When it was made.
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
/// Shape taken from `entry/{id}/ leagues.cup_matches` (2025-26); every field but `id` is
/// optional because H2H payloads have no sample and byes or the "AVERAGE" opponent send nulls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H2hMatch {
    /// Match id.
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
    pub page: u32,
    /// The rows.
    pub results: Vec<T>,
}

/// `league` of a standings response (classic or H2H).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeagueInfo {
    /// League id.
    pub id: LeagueId,
    /// League name.
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
    pub entry_name: String,
    /// Manager name.
    pub player_name: String,
    /// Rank (ties share it).
    pub rank: u32,
    /// Rank before the last gameweek (0 after GW1).
    pub last_rank: u32,
    /// Rank without ties.
    pub rank_sort: u32,
    /// League total.
    pub total: i32,
    /// Points of the current gameweek.
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
    pub id: FixtureId,
    /// Stable match code.
    pub code: u32,
    /// Home team.
    pub team_h: TeamId,
    /// Away team.
    pub team_a: TeamId,
    /// Home goals; null before kick-off.
    pub team_h_score: Option<u16>,
    /// Away goals; null before kick-off.
    pub team_a_score: Option<u16>,
    /// Gameweek; null while unscheduled.
    pub event: Option<EventId>,
    /// Kick-off; null while unscheduled.
    pub kickoff_time: Option<DateTime<Utc>>,
    /// Kick-off is provisional.
    pub provisional_start_time: bool,
    /// Played.
    pub finished: bool,
    /// Minutes played.
    pub minutes: u16,
    /// "Gameweek 7"; null while unscheduled.
    #[serde(default)]
    pub event_name: Option<String>,
    /// The player's team is at home.
    pub is_home: bool,
    /// Difficulty for the player's team (1..=5).
    pub difficulty: u8,
}

/// `element-summary history[]`: the player in one fixture this season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementHistory {
    /// The player.
    pub element: ElementId,
    /// The fixture.
    pub fixture: FixtureId,
    /// The gameweek.
    pub round: EventId,
    /// The opponent.
    pub opponent_team: TeamId,
    /// Played at home.
    pub was_home: bool,
    /// Kick-off.
    pub kickoff_time: Option<DateTime<Utc>>,
    /// Home goals.
    pub team_h_score: Option<u16>,
    /// Away goals.
    pub team_a_score: Option<u16>,
    /// Points in the fixture.
    pub total_points: i32,
    /// Counting stats.
    #[serde(flatten)]
    pub stats: PlayerStats,
    /// Price at the time, tenths of a million.
    pub value: u32,
    /// Transfers in minus out for the gameweek.
    pub transfers_balance: i64,
    /// Managers owning him.
    pub selected: u32,
    /// Transfers in for the gameweek.
    pub transfers_in: u32,
    /// Transfers out for the gameweek.
    pub transfers_out: u32,
    /// Stats were corrected after the fact.
    #[serde(default)]
    pub modified: Option<bool>,
}

/// `element-summary history_past[]`: the player's totals of a past season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementHistoryPast {
    /// "2021/22".
    pub season_name: String,
    /// Stable player code.
    pub element_code: u32,
    /// Price at the season start.
    pub start_cost: u32,
    /// Price at the season end.
    pub end_cost: u32,
    /// Season points.
    pub total_points: i32,
    /// Counting stats.
    #[serde(flatten)]
    pub stats: PlayerStats,
}
