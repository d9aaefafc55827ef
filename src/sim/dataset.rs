//! The real 2025-26 data the simulator replays, decoded once per process from the embedded
//! samples (`crate::fpl::samples`) and shared, read-only, by every simulator.
//!
//! It owns:
//! - the bootstrap cut into a template (everything but `events`, pre-serialized) plus the 38
//!   events as JSON values, so a phase's bootstrap is `prefix + events + suffix`;
//! - the gameweek-38 fixtures and live data in every state the scenario needs — the three real
//!   snapshots as they are, plus derived ones (not started, all-zero live, one flag flipped);
//! - the player pool for synthetic squads, the teams and the players' season figures the match
//!   synthesis draws on;
//! - the 72 real managers of `league-picks`: their real final picks and the picks as they were
//!   before the automatic substitutions.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::fpl::model::{
    EntryId, EventLive, ExplainStat, Fixture, LiveElement, LiveStats, PicksResponse, PlayerStats,
    Team,
};
use crate::fpl::samples::{self, SampleError, gw38};

use super::clock::Phase;
use super::squad::{ChipKind, LivePoints, Player, Pool, Selection};

/// Which live data a gameweek shows in a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LiveState {
    /// Deadline passed, nothing played: every player at zero.
    Zero,
    /// Matches in play.
    InPlay,
    /// All matches finished provisionally, provisional bonus.
    Provisional,
    /// Final figures (also served while `finished` but not yet `data_checked`).
    Final,
}

impl LiveState {
    /// The live state of the current gameweek in `phase`; `None` before the deadline.
    pub fn of(phase: Phase) -> Option<LiveState> {
        match phase {
            Phase::PreSeason | Phase::PreDeadline | Phase::UpdatingDeadline => None,
            Phase::DeadlinePassed => Some(LiveState::Zero),
            Phase::InPlay => Some(LiveState::InPlay),
            Phase::Provisional => Some(LiveState::Provisional),
            Phase::Finished | Phase::FlagFlip | Phase::UpdatingFinal | Phase::Final => {
                Some(LiveState::Final)
            }
        }
    }
}

/// One fixture of a snapshot: what the simulator reasons with, and the JSON it serves.
#[derive(Debug, Clone)]
pub struct FixtureRow {
    /// The fixture without its `stats` (kept small; the JSON has them).
    pub info: Fixture,
    pub json: Bytes,
}

/// A whole `fixtures/` snapshot.
pub type FixtureSet = Arc<[FixtureRow]>;

/// The gameweek-38 fixtures in every state of the scenario.
#[derive(Debug, Clone)]
pub struct Gw38Fixtures {
    /// Derived from `8349cd6`: GW38 not started (scores null, minutes 0, no stats).
    pub not_started: FixtureSet,
    /// `8349cd6` as captured.
    pub in_play: FixtureSet,
    /// `5b1d97c` as captured.
    pub provisional: FixtureSet,
    /// `11ca943` as captured.
    pub final_: FixtureSet,
    /// `11ca943` with [`Gw38Fixtures::flipped`]'s `finished` false again.
    pub flag_flip: FixtureSet,
    /// The fixture whose flag flips.
    pub flipped: u32,
}

impl Gw38Fixtures {
    pub fn for_state(&self, state: Option<LiveState>) -> &FixtureSet {
        match state {
            None | Some(LiveState::Zero) => &self.not_started,
            Some(LiveState::InPlay) => &self.in_play,
            Some(LiveState::Provisional) => &self.provisional,
            Some(LiveState::Final) => &self.final_,
        }
    }
}

/// Gameweek-38 live data in one state.
#[derive(Debug, Clone)]
pub struct LiveSnapshot {
    /// The `event/38/live/` body.
    pub json: Bytes,
    /// Decoded rows, sorted by id (for element-summary).
    pub rows: Arc<[LiveElement]>,
    /// Points and minutes by element (for scoring picks).
    pub points: Arc<LivePoints>,
}

/// A player's season figures, for the synthesis of matches.
#[derive(Debug, Clone, Copy)]
pub struct PlayerSeason {
    pub id: u32,
    pub et: u8,
    pub team: u16,
    pub minutes: u32,
    pub goals: u32,
    pub assists: u32,
    pub cost: u32,
}

/// A team's strengths, for the synthesis of scores.
#[derive(Debug, Clone, Copy)]
pub struct TeamStrength {
    pub id: u16,
    pub attack_home: u32,
    pub attack_away: u32,
    pub defence_home: u32,
    pub defence_away: u32,
}

/// One of the 72 real managers of gameweek 38.
#[derive(Debug, Clone)]
pub struct RealManager {
    pub id: u64,
    /// The real picks response (final: substitutions and captaincy applied).
    pub final_picks: PicksResponse,
    /// Its JSON, served as it is once the gameweek is final.
    pub final_json: Bytes,
    /// The picks as chosen before the deadline (substitutions undone, armband restored).
    pub original: Selection,
}

/// The bootstrap cut around its `events`.
#[derive(Debug, Clone)]
pub struct BootstrapTemplate {
    /// The sample's text up to the `events` array.
    pub prefix: Bytes,
    /// The sample's text after it.
    pub suffix: Bytes,
    /// The 38 events as captured (GW38 final and data-checked).
    pub events: Vec<Value>,
}

/// Everything decoded from the samples.
#[derive(Debug)]
pub struct Dataset {
    pub bootstrap: BootstrapTemplate,
    /// Real deadline of each gameweek (index 0 = GW1).
    pub deadlines: Vec<DateTime<Utc>>,
    pub pool: Pool,
    pub players: Vec<PlayerSeason>,
    pub teams: Vec<TeamStrength>,
    pub fixtures: Gw38Fixtures,
    /// GW38 live data: zero, in play, provisional, final.
    pub live: [LiveSnapshot; 4],
    /// Real managers, by entry id.
    pub real: Vec<RealManager>,
}

/// The slice of the bootstrap the simulator reasons with (everything else is served as is).
#[derive(Deserialize)]
struct SlimBootstrap {
    events: Vec<SlimEvent>,
    teams: Vec<Team>,
    elements: Vec<SlimElement>,
}

#[derive(Deserialize)]
struct SlimEvent {
    deadline_time: DateTime<Utc>,
}

#[derive(Deserialize)]
struct SlimElement {
    id: u32,
    element_type: u8,
    team: u16,
    now_cost: u32,
    #[serde(with = "crate::fpl::model::decimal")]
    selected_by_percent: f64,
    minutes: u32,
    goals_scored: u32,
    assists: u32,
}

impl Dataset {
    /// The process-wide dataset, built on first use (a second or so) and shared afterwards.
    pub fn shared() -> Result<Arc<Dataset>, SampleError> {
        static SHARED: Mutex<Option<Arc<Dataset>>> = Mutex::new(None);
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = &*slot {
            return Ok(d.clone());
        }
        let d = Arc::new(Dataset::build()?);
        *slot = Some(d.clone());
        Ok(d)
    }

    /// Decodes only what is needed, into typed values: a `serde_json::Value` of the whole
    /// bootstrap would cost ~15 MB of small allocations that the allocator keeps afterwards.
    fn build() -> Result<Dataset, SampleError> {
        let text = samples::json(gw38::BOOTSTRAP)?;
        let slim: SlimBootstrap = decode(gw38::BOOTSTRAP, &text)?;
        let bootstrap = template(&text).ok_or_else(|| SampleError::Decode {
            name: gw38::BOOTSTRAP.into(),
            source: serde::de::Error::custom("no top-level `events` array"),
        })?;
        drop(text);
        let deadlines = slim.events.iter().map(|e| e.deadline_time).collect();
        let pool = Pool::new(slim.elements.iter().map(|e| {
            (
                Player {
                    id: e.id,
                    et: e.element_type,
                    team: e.team,
                    cost: e.now_cost,
                },
                e.selected_by_percent + 0.3,
            )
        }));
        let players = slim
            .elements
            .iter()
            .map(|e| PlayerSeason {
                id: e.id,
                et: e.element_type,
                team: e.team,
                minutes: e.minutes,
                goals: e.goals_scored,
                assists: e.assists,
                cost: e.now_cost,
            })
            .collect();
        let teams = slim
            .teams
            .iter()
            .map(|t| TeamStrength {
                id: t.id.0,
                attack_home: t.strength_attack_home,
                attack_away: t.strength_attack_away,
                defence_home: t.strength_defence_home,
                defence_away: t.strength_defence_away,
            })
            .collect();
        let fixtures = gw38_fixtures()?;
        let live = gw38_live()?;
        let real = real_managers(&pool)?;
        Ok(Dataset {
            bootstrap,
            deadlines,
            pool,
            players,
            teams,
            fixtures,
            live,
            real,
        })
    }

    /// The real deadline of gameweek `gw` (1–38).
    pub fn deadline(&self, gw: u16) -> DateTime<Utc> {
        self.deadlines[usize::from(gw) - 1]
    }

    pub fn live_snapshot(&self, state: LiveState) -> &LiveSnapshot {
        &self.live[state as usize]
    }
}

fn decode<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, SampleError> {
    serde_json::from_str(text).map_err(|source| SampleError::Decode {
        name: name.to_string(),
        source,
    })
}

/// The byte range of the value of top-level key `key` in the JSON object `text` (keys of
/// nested objects are skipped; strings and escapes are respected).
pub fn top_level_value(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let is_key = depth == 1 && &text[start..i.min(b.len())] == key;
                i += 1;
                if is_key {
                    while i < b.len() && b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    if b.get(i) == Some(&b':') {
                        return value_span(b, i + 1);
                    }
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The span of the JSON value starting at or after `from` (whitespace skipped).
fn value_span(b: &[u8], from: usize) -> Option<std::ops::Range<usize>> {
    let mut i = from;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 0 {
                    return Some(start..i + 1);
                }
            }
            b'{' | b'[' => depth += 1,
            // A scalar ends at the next delimiter.
            c if depth == 0 && (c == b',' || c == b'}' || c == b']' || c.is_ascii_whitespace()) => {
                return Some(start..i);
            }
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(start..i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (depth == 0 && start < b.len()).then_some(start..b.len())
}

/// Cuts the bootstrap around its `events` array; everything else is kept byte for byte.
pub(super) fn template(text: &str) -> Option<BootstrapTemplate> {
    let span = top_level_value(text, "events")?;
    let events: Vec<Value> = serde_json::from_str(&text[span.clone()]).ok()?;
    Some(BootstrapTemplate {
        prefix: Bytes::copy_from_slice(&text.as_bytes()[..span.start]),
        suffix: Bytes::copy_from_slice(&text.as_bytes()[span.end..]),
        events,
    })
}

/// A fixtures sample, decoded and re-serialized row by row (the model has every field).
fn fixture_rows(name: &str) -> Result<Vec<FixtureRow>, SampleError> {
    let fixtures: Vec<Fixture> = decode(name, &samples::json(name)?)?;
    Ok(fixtures.into_iter().map(fixture_row).collect())
}

fn fixture_row(mut fixture: Fixture) -> FixtureRow {
    let json = Bytes::from(serde_json::to_vec(&fixture).expect("a fixture serializes"));
    fixture.stats = Vec::new();
    FixtureRow {
        info: fixture,
        json,
    }
}

fn gw38_fixtures() -> Result<Gw38Fixtures, SampleError> {
    let in_play = fixture_rows(gw38::FIXTURES_IN_PLAY)?;
    let provisional = fixture_rows(gw38::FIXTURES_PROVISIONAL)?;
    let final_ = fixture_rows(gw38::FIXTURES_FINAL)?;
    let is_38 = |r: &FixtureRow| r.info.event.map(|e| e.0) == Some(38);
    let flipped = final_
        .iter()
        .filter(|r| is_38(r))
        .map(|r| r.info.id.0)
        .max()
        .unwrap_or(0);
    // Unchanged rows share their bytes with the snapshot they come from.
    let not_started: Vec<FixtureRow> = in_play
        .iter()
        .map(|r| {
            if !is_38(r) {
                return r.clone();
            }
            let mut f = r.info.clone();
            f.started = Some(false);
            f.finished = false;
            f.finished_provisional = false;
            f.minutes = 0;
            f.team_h_score = None;
            f.team_a_score = None;
            fixture_row(f)
        })
        .collect();
    let flag_flip: Vec<FixtureRow> = final_
        .iter()
        .map(|r| {
            if r.info.id.0 != flipped {
                return r.clone();
            }
            let mut f: Fixture = serde_json::from_slice(&r.json).expect("our own JSON decodes");
            f.finished = false;
            fixture_row(f)
        })
        .collect();
    Ok(Gw38Fixtures {
        not_started: not_started.into(),
        in_play: in_play.into(),
        provisional: provisional.into(),
        final_: final_.into(),
        flag_flip: flag_flip.into(),
        flipped,
    })
}

fn live_snapshot(json: Bytes, mut rows: Vec<LiveElement>) -> LiveSnapshot {
    rows.sort_by_key(|e| e.id);
    let points = LivePoints::new(
        rows.iter()
            .map(|e| (e.id.0, e.stats.total_points, e.stats.stats.minutes)),
    );
    LiveSnapshot {
        json,
        rows: rows.into(),
        points: Arc::new(points),
    }
}

fn sample_snapshot(name: &str) -> Result<LiveSnapshot, SampleError> {
    let text = samples::json(name)?;
    let live: EventLive = decode(name, &text)?;
    Ok(live_snapshot(Bytes::from(text), live.elements))
}

fn gw38_live() -> Result<[LiveSnapshot; 4], SampleError> {
    let in_play = sample_snapshot(gw38::LIVE_IN_PLAY)?;
    // All zero: the in-play rows with every figure at 0 and every fixture at 0 minutes.
    let zero: Vec<LiveElement> = in_play
        .rows
        .iter()
        .map(|row| {
            let mut row = row.clone();
            zero_stats(&mut row.stats);
            for e in &mut row.explain {
                e.stats = vec![ExplainStat {
                    identifier: "minutes".into(),
                    points: 0,
                    value: 0,
                    points_modification: Some(0),
                }];
            }
            row
        })
        .collect();
    let zero_json = serde_json::to_vec(&EventLive {
        elements: zero.clone(),
    })
    .expect("serializes");
    Ok([
        live_snapshot(Bytes::from(zero_json), zero),
        in_play,
        sample_snapshot(gw38::LIVE_PROVISIONAL)?,
        sample_snapshot(gw38::LIVE_FINAL)?,
    ])
}

/// Every figure at 0 (optional ones stay absent).
fn zero_stats(s: &mut LiveStats) {
    let p = &mut s.stats;
    let zero = |o: &mut Option<u32>| {
        if o.is_some() {
            *o = Some(0);
        }
    };
    zero(&mut p.starts);
    zero(&mut p.clearances_blocks_interceptions);
    zero(&mut p.recoveries);
    zero(&mut p.tackles);
    zero(&mut p.defensive_contribution);
    *p = PlayerStats {
        minutes: 0,
        goals_scored: 0,
        assists: 0,
        clean_sheets: 0,
        goals_conceded: 0,
        own_goals: 0,
        penalties_saved: 0,
        penalties_missed: 0,
        yellow_cards: 0,
        red_cards: 0,
        saves: 0,
        bonus: 0,
        bps: 0,
        influence: 0.0,
        creativity: 0.0,
        threat: 0.0,
        ict_index: 0.0,
        expected_goals: 0.0,
        expected_assists: 0.0,
        expected_goal_involvements: 0.0,
        expected_goals_conceded: 0.0,
        ..p.clone()
    };
    s.total_points = 0;
    s.in_dreamteam = false;
    s.played = s.played.map(|_| false);
}

fn real_managers(pool: &Pool) -> Result<Vec<RealManager>, SampleError> {
    let text = samples::json(gw38::LEAGUE_PICKS)?;
    let models: BTreeMap<EntryId, PicksResponse> = decode(gw38::LEAGUE_PICKS, &text)?;
    Ok(models
        .into_iter()
        .map(|(id, picks)| RealManager {
            id: id.0,
            original: original_selection(pool, &picks),
            final_json: Bytes::from(serde_json::to_vec(&picks).expect("serializes")),
            final_picks: picks,
        })
        .collect())
}

/// The picks a real manager made before the deadline, from his final picks: each automatic
/// substitution undone (the player who went out back in the eleven, outs first within their
/// position so that re-applying the rules picks the same substitutes), multipliers as chosen.
pub fn original_selection(pool: &Pool, resp: &PicksResponse) -> Selection {
    let mut picks = resp.picks.clone();
    picks.sort_by_key(|p| p.position);
    let player = |p: &crate::fpl::model::Pick| {
        pool.get(p.element.0).unwrap_or(Player {
            id: p.element.0,
            et: p.element_type.map_or(3, |t| t.0),
            team: 0,
            cost: 0,
        })
    };
    let mut order: HashMap<u32, usize> = HashMap::new();
    for (n, sub) in resp.automatic_subs.iter().enumerate() {
        let at = |id: u32| picks.iter().position(|p| p.element.0 == id);
        if let (Some(a), Some(b)) = (at(sub.element_in.0), at(sub.element_out.0)) {
            picks.swap(a, b);
            order.insert(sub.element_out.0, n);
        }
    }
    let eleven = 11.min(picks.len());
    picks[..eleven].sort_by_key(|p| {
        (
            player(p).et,
            order.get(&p.element.0).copied().unwrap_or(usize::MAX),
        )
    });
    let players: Vec<Player> = picks.iter().map(player).collect();
    let index =
        |flag: fn(&crate::fpl::model::Pick) -> bool| picks.iter().position(flag).unwrap_or(0) as u8;
    Selection {
        picks: players.try_into().unwrap_or(
            [Player {
                id: 0,
                et: 1,
                team: 0,
                cost: 0,
            }; 15],
        ),
        captain: index(|p| p.is_captain),
        vice: index(|p| p.is_vice_captain),
        chip: resp
            .active_chip
            .as_ref()
            .and_then(|c| ChipKind::from_api(c.as_str())),
        transfers: resp.entry_history.event_transfers.min(255) as u8,
        cost: resp.entry_history.event_transfers_cost.clamp(0, 255) as u8,
        bank: resp.entry_history.bank,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::squad::score;

    #[test]
    fn rescoring_the_original_picks_of_the_72_real_managers_reproduces_fpl() {
        let d = Dataset::shared().unwrap();
        let live = &d.live_snapshot(LiveState::Final).points;
        assert_eq!(d.real.len(), 72);
        for m in &d.real {
            let real = &m.final_picks;
            let s = score(&m.original, live, true);
            assert_eq!(s.points, real.entry_history.points, "entry {}", m.id);
            assert_eq!(
                s.bench_points, real.entry_history.points_on_bench,
                "{}",
                m.id
            );
            let subs: Vec<(u32, u32)> = real
                .automatic_subs
                .iter()
                .map(|s| (s.element_in.0, s.element_out.0))
                .collect();
            assert_eq!(s.subs(), subs.as_slice(), "entry {}", m.id);
            // Same multiplier and the same bench, player by player (FPL's order of equal
            // positions inside the eleven cannot be recovered, so it is not compared).
            for p in &real.picks {
                let ours = s.picks.iter().find(|q| q.player.id == p.element.0).unwrap();
                assert_eq!(ours.multiplier, p.multiplier, "entry {} {:?}", m.id, p);
                assert_eq!(ours.position > 11, p.position > 11, "entry {}", m.id);
                if p.position > 11 {
                    assert_eq!(ours.position, p.position, "entry {}", m.id);
                }
            }
        }
    }

    #[test]
    fn the_events_array_is_found_at_the_top_level_only() {
        let text =
            r#"{"a": {"events": 1}, "s": "x\"events\"", "events" : [{"id": 1}, "]"], "z": 2}"#;
        let span = top_level_value(text, "events").unwrap();
        assert_eq!(&text[span], r#"[{"id": 1}, "]"]"#);
        let span = top_level_value(text, "z").unwrap();
        assert_eq!(&text[span], "2");
        assert_eq!(top_level_value(text, "missing"), None);
    }

    #[test]
    fn derived_snapshots_differ_from_the_real_ones_only_where_intended() {
        let d = Dataset::shared().unwrap();
        let f = &d.fixtures;
        let gw38 = |set: &FixtureSet| -> Vec<Fixture> {
            set.iter()
                .filter(|r| r.info.event.map(|e| e.0) == Some(38))
                .map(|r| r.info.clone())
                .collect()
        };
        assert!(
            gw38(&f.not_started)
                .iter()
                .all(|x| x.started == Some(false) && x.team_h_score.is_none())
        );
        let flipped: Vec<_> = gw38(&f.flag_flip)
            .into_iter()
            .filter(|x| !x.finished)
            .collect();
        assert_eq!(flipped.len(), 1);
        assert_eq!(flipped[0].id.0, f.flipped);
        let zero: EventLive =
            serde_json::from_slice(&d.live_snapshot(LiveState::Zero).json).unwrap();
        assert_eq!(zero.elements.len(), 840);
        assert!(
            zero.elements
                .iter()
                .all(|e| e.stats.total_points == 0 && e.stats.stats.minutes == 0)
        );
    }
}
