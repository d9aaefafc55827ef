//! What the simulator serves at each step of its timeline, and the state shared by handlers.
//!
//! [`World`] is the scenario: the shared [`Dataset`], the synthesized season (if any), the
//! managers and the timeline. Its views are pure functions of a step index (one request reads
//! one step, so a response never mixes two phases). Large bodies are built once per step and
//! kept in one-slot caches: the bootstrap (~2 MB), the fixture list (~1 MB), the managers' points
//! table; synthesized live data keeps the last few (gameweek, state) pairs.
//!
//! [`SimState`] adds what changes at run time: the clock, the faults and the request counts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;

use crate::fpl::model::{
    ElementHistory, ElementSummary, ElementSummaryFixture, EventId, EventStatus, EventStatusDay,
    Fixture, FixtureId, PlayerStats, TeamId,
};

use super::clock::{Clock, GAMEWEEK_CYCLE, Phase, Step, Timeline};
use super::dataset::{Dataset, FixtureRow, LiveState, PlayerSeason};
use super::faults::{Faults, Stats};
use super::leagues::{self, FinalPoints, H2hTable, Table};
use super::managers::Managers;
use super::rng::{hash, label};
use super::rollover::NextSeason;
use super::season::Season;
use super::squad::{Compact, FIRST_GW, LAST_GW, LivePoints, Scored, Selection, Transfer, score};
use super::{Scenario, SimConfig};

/// A one-entry cache: the value for the last key asked. The lock is held while computing, so
/// concurrent requests for the same step compute it once.
struct Slot<K, V>(Mutex<Option<(K, V)>>);

impl<K: PartialEq + Copy, V: Clone> Slot<K, V> {
    fn new() -> Self {
        Slot(Mutex::new(None))
    }

    fn get_or(&self, key: K, compute: impl FnOnce() -> V) -> V {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, v)) = &*slot
            && *k == key
        {
            return v.clone();
        }
        let v = compute();
        *slot = Some((key, v.clone()));
        v
    }
}

/// Synthesized live bodies kept (four states of two gameweeks).
const LIVE_CACHE: usize = 8;

/// A manager's simulated gameweek as the current step shows it.
#[derive(Debug, Clone)]
pub struct Week {
    pub gw: u16,
    pub sel: Selection,
    pub transfers: Vec<Transfer>,
    pub scored: Scored,
    /// Substitutions and the armband switch applied (the gameweek finished).
    pub final_rules: bool,
    /// The gameweek is not over: ranks are null.
    pub live: bool,
    /// Points minus transfer cost.
    pub net: i32,
}

/// A fixture of the season scenario postponed out of its original gameweek and moved into a
/// later one, as FPL does: served in its original gameweek until that gameweek's
/// PRE_DEADLINE, then unscheduled (`event` and `kickoff_time` null, `started` null) until the
/// PRE_DEADLINE of the gameweek before the one it moved to, then in that gameweek (its two
/// teams play twice there: a double gameweek; the original one is a blank for them).
///
/// Taken from the real 2025-26 fixture list: FPL numbers a season's fixtures in gameweek order
/// when it publishes them (ids 1–10 gameweek 1, …), so a fixture of a simulated gameweek whose
/// final `event` is later than its id's gameweek was postponed (fixture 307: gameweek 31 → 36).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub fixture: u32,
    pub from: u16,
    pub to: u16,
}

/// Where a moved fixture stands at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovedState {
    /// Still in its original gameweek.
    Original,
    /// Postponed, not yet rescheduled.
    Unscheduled,
    /// In the gameweek it moved to.
    Rescheduled,
}

impl Moved {
    fn find(season: &Season) -> Vec<Moved> {
        let first = season.gameweeks.first().map_or(0, |g| g.event);
        season
            .gameweeks
            .iter()
            .flat_map(|g| g.fixtures.iter().map(move |f| (g.event, f.base.id.0)))
            .filter_map(|(to, fixture)| {
                let from = u16::try_from((fixture.saturating_sub(1)) / 10 + 1).ok()?;
                (from >= first && from < to).then_some(Moved { fixture, from, to })
            })
            .collect()
    }

    /// Where the fixture stands at `step`.
    pub fn state(&self, step: Step) -> MovedState {
        if (step.event, step.phase) < (self.from, Phase::PreDeadline) {
            MovedState::Original
        } else if step.event < self.to - 1 {
            MovedState::Unscheduled
        } else {
            MovedState::Rescheduled
        }
    }
}

/// The scenario and everything served from it.
pub struct World {
    pub data: Arc<Dataset>,
    pub scenario: Scenario,
    pub seed: u64,
    pub timeline: Timeline,
    pub season: Option<Season>,
    /// The season scenario's postponed fixtures (see [`Moved`]).
    pub moved: Vec<Moved>,
    /// The rollover scenario's next season, served from its PRE_SEASON step on.
    pub next: Option<NextSeason>,
    pub managers: Managers,
    /// Points of every synthesized (gameweek, state), for scoring.
    synth_points: HashMap<(u16, LiveState), Arc<LivePoints>>,
    /// Season totals of the real managers before the first simulated gameweek.
    real_base: Vec<i32>,
    bootstrap: Slot<usize, Bytes>,
    fixtures: Slot<usize, Bytes>,
    table: Slot<usize, Arc<Table>>,
    h2h: Slot<usize, Arc<H2hTable>>,
    synth_live: Mutex<VecDeque<((u16, LiveState), Bytes)>>,
    /// Every manager's points in gameweeks that are over (they never change again).
    final_points: Mutex<HashMap<u16, Arc<Vec<FinalPoints>>>>,
    /// Every manager's selection of the gameweek in play, so that a new phase only re-scores.
    selections: Mutex<Option<(u16, Arc<Vec<Compact>>)>>,
}

impl World {
    pub fn new(config: &SimConfig) -> Result<World, crate::fpl::samples::SampleError> {
        let data = Dataset::shared()?;
        let d38 = data.deadline(LAST_GW);
        let (first_gw, season) = match config.scenario {
            Scenario::Gw38 | Scenario::Rollover => (LAST_GW, None),
            Scenario::Season => {
                let fixtures: Vec<Fixture> = data
                    .fixtures
                    .final_
                    .iter()
                    .map(|r| r.info.clone())
                    .collect();
                let season = Season::synthesize(
                    config.seed,
                    FIRST_GW..=LAST_GW - 1,
                    &fixtures,
                    &data.players,
                    &data.teams,
                    |gw| season_deadline(d38, gw),
                );
                (FIRST_GW, Some(season))
            }
        };
        let deadlines: Vec<(u16, DateTime<Utc>)> = (first_gw..=LAST_GW)
            .map(|gw| {
                let d = if season.is_some() {
                    season_deadline(d38, gw)
                } else {
                    d38
                };
                (gw, d)
            })
            .collect();
        let mut synth_points = HashMap::new();
        if let Some(season) = &season {
            for gw in &season.gameweeks {
                for state in [
                    LiveState::Zero,
                    LiveState::InPlay,
                    LiveState::Provisional,
                    LiveState::Final,
                ] {
                    let (_, points) = gw.live(state, &data.players);
                    synth_points.insert((gw.event, state), Arc::new(points));
                }
            }
        }
        let managers = Managers::new(data.clone(), config.seed, config.entries, first_gw);
        let next = match config.scenario {
            Scenario::Rollover => Some(NextSeason::new(config.seed, &managers)?),
            _ => None,
        };
        let mut timeline = Timeline::new(&deadlines);
        if let Some(next) = &next {
            timeline = timeline.with_next_season(next.first_deadline());
        }
        let mut world = World {
            data: data.clone(),
            scenario: config.scenario,
            seed: config.seed,
            timeline,
            next,
            moved: season.as_ref().map_or_else(Vec::new, Moved::find),
            season,
            managers,
            synth_points,
            real_base: Vec::new(),
            bootstrap: Slot::new(),
            fixtures: Slot::new(),
            table: Slot::new(),
            h2h: Slot::new(),
            synth_live: Mutex::new(VecDeque::new()),
            final_points: Mutex::new(HashMap::new()),
            selections: Mutex::new(None),
        };
        // A real manager's total before the first simulated gameweek: his real total before
        // gameweek 38, less what he scores in the synthesized gameweeks 30–37.
        let final_step = Step {
            season: super::clock::SEASON,
            event: LAST_GW,
            phase: Phase::Final,
            at: d38,
        };
        world.real_base = data
            .real
            .iter()
            .enumerate()
            .map(|(idx, m)| {
                let h = &m.final_picks.entry_history;
                let before_38 = h.total_points - h.points + h.event_transfers_cost;
                let synthesized: i32 = world
                    .weeks(idx, final_step)
                    .iter()
                    .filter(|w| w.gw < LAST_GW)
                    .map(|w| w.net)
                    .sum();
                before_38 - synthesized
            })
            .collect();
        Ok(world)
    }

    pub fn step(&self, index: usize) -> Step {
        self.timeline.get(index)
    }

    /// The deadline of `gw` as served: simulated for the synthesized gameweeks, real otherwise.
    pub fn deadline(&self, gw: u16) -> DateTime<Utc> {
        match &self.season {
            Some(_) if (FIRST_GW..LAST_GW).contains(&gw) => {
                season_deadline(self.data.deadline(LAST_GW), gw)
            }
            _ => self.data.deadline(gw),
        }
    }

    /// The last gameweek whose deadline has passed at `step` (0: none).
    pub fn visible_gw(step: Step) -> u16 {
        if step.phase.deadline_passed() {
            step.event
        } else {
            step.event - 1
        }
    }

    /// The last gameweek that is over (its data checked) at `step`.
    pub fn completed_gw(step: Step) -> u16 {
        if step.phase == Phase::Final {
            step.event
        } else {
            step.event - 1
        }
    }

    /// Whether the simulator has per-player data for `gw`.
    fn has_live_data(&self, gw: u16) -> bool {
        gw == LAST_GW
            || self
                .season
                .as_ref()
                .is_some_and(|s| s.gameweek(gw).is_some())
    }

    /// The live state of `gw` at `step`; `None` when it has not started or has no data.
    pub fn live_state(&self, gw: u16, step: Step) -> Option<LiveState> {
        if !self.has_live_data(gw) {
            return None;
        }
        match gw.cmp(&step.event) {
            std::cmp::Ordering::Less => Some(LiveState::Final),
            std::cmp::Ordering::Equal => LiveState::of(step.phase),
            std::cmp::Ordering::Greater => None,
        }
    }

    /// Live points of `gw` at `step` and whether the end-of-gameweek rules apply.
    pub fn live_points(&self, gw: u16, step: Step) -> Option<(Arc<LivePoints>, bool)> {
        let state = self.live_state(gw, step)?;
        let final_rules = gw < step.event || step.phase.subs_applied();
        let points = if gw == LAST_GW {
            self.data.live_snapshot(state).points.clone()
        } else {
            self.synth_points.get(&(gw, state))?.clone()
        };
        Some((points, final_rules))
    }

    // -----------------------------------------------------------------------------------------
    // Managers
    // -----------------------------------------------------------------------------------------

    /// Season total of manager `idx` before the first simulated gameweek.
    pub fn base_total(&self, idx: usize) -> i32 {
        match self.real_base.get(idx) {
            Some(&b) => b,
            None => self.managers.synthetic_base(idx),
        }
    }

    /// Manager `idx`'s simulated gameweeks whose deadline has passed at `step`, scored.
    pub fn weeks(&self, idx: usize, step: Step) -> Vec<Week> {
        let upto = World::visible_gw(step);
        let mut out = Vec::new();
        self.managers.walk(idx, upto, |gw, sel, transfers| {
            let Some((live, final_rules)) = self.live_points(gw, step) else {
                return;
            };
            let scored = score(sel, &live, final_rules);
            out.push(Week {
                gw,
                sel: *sel,
                transfers: transfers.to_vec(),
                scored,
                final_rules,
                live: gw > World::completed_gw(step),
                net: scored.points - i32::from(sel.cost),
            });
        });
        out
    }

    /// Cached points of every manager in `gw`, once it is over.
    pub(super) fn final_points(&self, gw: u16) -> Option<Arc<Vec<FinalPoints>>> {
        let cache = self.final_points.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(&gw).cloned()
    }

    pub(super) fn keep_final_points(&self, gw: u16, points: Arc<Vec<FinalPoints>>) {
        let mut cache = self.final_points.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(gw, points);
    }

    /// Cached selections of every manager in `gw`.
    pub(super) fn selections(&self, gw: u16) -> Option<Arc<Vec<Compact>>> {
        let cache = self.selections.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .as_ref()
            .filter(|(g, _)| *g == gw)
            .map(|(_, s)| s.clone())
    }

    pub(super) fn keep_selections(&self, gw: u16, sels: Arc<Vec<Compact>>) {
        *self.selections.lock().unwrap_or_else(|e| e.into_inner()) = Some((gw, sels));
    }

    /// Every manager's points at step `index` (computed once per step).
    pub fn table(&self, index: usize) -> Arc<Table> {
        self.table
            .get_or(index, || Arc::new(leagues::compute_table(self, index)))
    }

    /// The H2H league's results at step `index` (computed once per step).
    pub fn h2h_table(&self, index: usize) -> Arc<H2hTable> {
        self.h2h.get_or(index, || {
            Arc::new(leagues::compute_h2h(self, index, &self.table(index)))
        })
    }

    // -----------------------------------------------------------------------------------------
    // bootstrap-static/
    // -----------------------------------------------------------------------------------------

    /// `bootstrap-static/` at step `index`: the real bootstrap with the events' flags and data
    /// rewritten for the phase (players are served as captured at the end of the season).
    pub fn bootstrap(&self, index: usize) -> Bytes {
        self.bootstrap.get_or(index, || {
            let events = self.events(self.step(index));
            let events = serde_json::to_vec(&events).expect("JSON serializes");
            let t = &self.data.bootstrap;
            let mut body = Vec::with_capacity(t.prefix.len() + events.len() + t.suffix.len());
            body.extend_from_slice(&t.prefix);
            body.extend_from_slice(&events);
            body.extend_from_slice(&t.suffix);
            Bytes::from(body)
        })
    }

    fn events(&self, step: Step) -> Vec<Value> {
        let (current, next) = if step.phase.deadline_passed() {
            (step.event, step.event + 1)
        } else {
            (step.event - 1, step.event)
        };
        let mut events = self.data.bootstrap.events.clone();
        for ev in &mut events {
            let Some(id) = ev["id"].as_u64().map(|i| i as u16) else {
                continue;
            };
            if self.season.is_some() && (FIRST_GW..LAST_GW).contains(&id) {
                let d = self.deadline(id);
                ev["deadline_time"] = Value::from(d.to_rfc3339_opts(SecondsFormat::Secs, true));
                ev["deadline_time_epoch"] = Value::from(d.timestamp());
            }
            ev["is_previous"] = Value::Bool(current > 0 && id == current - 1);
            ev["is_current"] = Value::Bool(id == current);
            ev["is_next"] = Value::Bool(id == next);
            let started = id < step.event || (id == step.event && step.phase.deadline_passed());
            if !started {
                blank_event(ev);
                continue;
            }
            ev["can_enter"] = Value::Bool(false);
            ev["can_manage"] = Value::Bool(false);
            if id < step.event {
                ev["finished"] = Value::Bool(true);
                ev["data_checked"] = Value::Bool(true);
                continue;
            }
            let finished = matches!(
                step.phase,
                Phase::Finished | Phase::UpdatingFinal | Phase::Final
            );
            ev["finished"] = Value::Bool(finished);
            ev["data_checked"] = Value::Bool(step.phase == Phase::Final);
            if step.phase < Phase::Finished {
                for k in [
                    "highest_score",
                    "highest_scoring_entry",
                    "top_element",
                    "top_element_info",
                ] {
                    ev[k] = Value::Null;
                }
                ev["average_entry_score"] = Value::from(0);
                ev["ranked_count"] = Value::from(0);
            } else if step.phase < Phase::Final
                && let Some(h) = ev["highest_score"].as_i64()
            {
                // Provisional figures get revised before the data is checked (real: 120 → 117).
                ev["highest_score"] = Value::from(h + 3);
            }
        }
        events
    }

    // -----------------------------------------------------------------------------------------
    // fixtures/
    // -----------------------------------------------------------------------------------------

    /// Every fixture at `step`, as JSON rows with their summary.
    fn fixture_rows(&self, step: Step, only_event: Option<u16>) -> Vec<FixtureRow> {
        let f = &self.data.fixtures;
        let state_38 = self.live_state(LAST_GW, step);
        let base = if step.event == LAST_GW && step.phase == Phase::FlagFlip {
            &f.flag_flip
        } else {
            f.for_state(state_38)
        };
        base.iter()
            .map(|r| {
                let Some(m) = self.moved.iter().find(|m| m.fixture == r.info.id.0) else {
                    return r.clone();
                };
                let mut f = r.info.clone();
                match m.state(step) {
                    MovedState::Rescheduled => return r.clone(),
                    MovedState::Original => {
                        f.event = Some(EventId(m.from));
                        f.kickoff_time = Some(self.deadline(m.from) + Phase::InPlay.offset());
                        f.started = Some(false);
                    }
                    MovedState::Unscheduled => {
                        f.event = None;
                        f.kickoff_time = None;
                        f.started = None;
                    }
                }
                f.verbatim = Default::default();
                f.finished = false;
                f.finished_provisional = false;
                f.minutes = 0;
                f.team_h_score = None;
                f.team_a_score = None;
                f.stats = Vec::new();
                FixtureRow {
                    json: Bytes::from(serde_json::to_vec(&f).expect("serializes")),
                    info: f,
                }
            })
            .filter(|r| only_event.is_none() || r.info.event.map(|e| e.0) == only_event)
            .map(|r| {
                let event = r.info.event.map_or(0, |e| e.0);
                let moved_here = self
                    .moved
                    .iter()
                    .any(|m| m.fixture == r.info.id.0 && m.to != event);
                match self.season.as_ref().and_then(|s| s.gameweek(event)) {
                    // A moved fixture not in its final gameweek yet is served as built above.
                    _ if moved_here => r,
                    Some(gw) => {
                        let synth = gw
                            .fixtures
                            .iter()
                            .find(|x| x.base.id == r.info.id)
                            .expect("every real fixture of the gameweek is synthesized");
                        let state = self.live_state(event, step);
                        let flipped = event == step.event
                            && step.phase == Phase::FlagFlip
                            && gw.flipped == r.info.id.0;
                        let mut fixture = synth.fixture(state, flipped);
                        let json = Bytes::from(serde_json::to_vec(&fixture).expect("serializes"));
                        fixture.stats = Vec::new();
                        FixtureRow {
                            info: fixture,
                            json,
                        }
                    }
                    None => r,
                }
            })
            .collect()
    }

    /// `fixtures/` (or `fixtures/?event=N`) at step `index`.
    pub fn fixtures(&self, index: usize, event: Option<u16>) -> Bytes {
        let step = self.step(index);
        match event {
            None => self
                .fixtures
                .get_or(index, || json_array(&self.fixture_rows(step, None))),
            Some(e) => json_array(&self.fixture_rows(step, Some(e))),
        }
    }

    // -----------------------------------------------------------------------------------------
    // event/{gw}/live/
    // -----------------------------------------------------------------------------------------

    /// `event/{gw}/live/` at step `index`; `None` for a gameweek that does not exist.
    ///
    /// A gameweek not started, or one the simulator has no player data for (before the first
    /// simulated gameweek), answers `{"elements":[]}` as FPL does for a future gameweek.
    pub fn live(&self, index: usize, gw: u16) -> Option<Bytes> {
        if !(1..=LAST_GW).contains(&gw) {
            return None;
        }
        let step = self.step(index);
        let Some(state) = self.live_state(gw, step) else {
            return Some(Bytes::from_static(b"{\"elements\":[]}"));
        };
        if gw == LAST_GW {
            return Some(self.data.live_snapshot(state).json.clone());
        }
        let mut cache = self.synth_live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, body)) = cache.iter().find(|(k, _)| *k == (gw, state)) {
            return Some(body.clone());
        }
        let synth = self.season.as_ref()?.gameweek(gw)?;
        let (live, _) = synth.live(state, &self.data.players);
        let body = Bytes::from(serde_json::to_vec(&live).expect("serializes"));
        if cache.len() == LIVE_CACHE {
            cache.pop_front();
        }
        cache.push_back(((gw, state), body.clone()));
        Some(body)
    }

    // -----------------------------------------------------------------------------------------
    // event-status/
    // -----------------------------------------------------------------------------------------

    /// Match days of `gw`, from its fixtures' kick-off times.
    fn match_days(&self, gw: u16) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = match self.season.as_ref().and_then(|s| s.gameweek(gw)) {
            Some(g) => g
                .fixtures
                .iter()
                .filter_map(|f| f.base.kickoff_time)
                .map(|t| t.date_naive())
                .collect(),
            None => self
                .data
                .fixtures
                .final_
                .iter()
                .filter(|r| r.info.event == Some(EventId(gw)))
                .filter_map(|r| r.info.kickoff_time)
                .map(|t| t.date_naive())
                .collect(),
        };
        days.sort();
        days.dedup();
        days
    }

    /// `event-status/` at step `index`: the current gameweek's match days (the previous one,
    /// all confirmed, before the deadline).
    pub fn event_status(&self, index: usize) -> Bytes {
        let step = self.step(index);
        let (gw, phase) = if step.phase.deadline_passed() {
            (step.event, step.phase)
        } else {
            (step.event - 1, Phase::Final)
        };
        let (points, bonus_added, leagues) = match phase {
            Phase::PreSeason
            | Phase::PreDeadline
            | Phase::UpdatingDeadline
            | Phase::DeadlinePassed => ("", false, ""),
            Phase::InPlay => ("l", false, ""),
            Phase::Provisional => ("p", true, ""),
            Phase::Finished | Phase::FlagFlip | Phase::UpdatingFinal => ("r", true, "Updating"),
            Phase::Final => ("r", true, "Updated"),
        };
        let status = self
            .match_days(gw)
            .into_iter()
            .map(|date| EventStatusDay {
                bonus_added,
                date,
                event: EventId(gw),
                points: points.to_string(),
            })
            .collect();
        let body = EventStatus {
            status,
            leagues: leagues.to_string(),
        };
        Bytes::from(serde_json::to_vec(&body).expect("serializes"))
    }

    // -----------------------------------------------------------------------------------------
    // element-summary/{id}/
    // -----------------------------------------------------------------------------------------

    /// `element-summary/{id}/` at step `index`: the player's fixtures not yet started and his
    /// rows for the fixtures played in the gameweeks the simulator has data for.
    pub fn element_summary(&self, index: usize, element: u32) -> Option<Bytes> {
        let player = *self.data.players.iter().find(|p| p.id == element)?;
        let step = self.step(index);
        let rows: Vec<FixtureRow> = self
            .fixture_rows(step, None)
            .into_iter()
            .filter(|r| r.info.team_h.0 == player.team || r.info.team_a.0 == player.team)
            .collect();
        let fixtures = rows
            .iter()
            .filter(|r| r.info.started != Some(true) && !r.info.finished)
            .map(|r| upcoming(&r.info, player.team))
            .collect();
        let history = rows
            .iter()
            .filter(|r| r.info.started == Some(true))
            .filter_map(|r| self.history_row(step, &player, &r.info))
            .collect();
        let body = ElementSummary {
            fixtures,
            history,
            history_past: Vec::new(),
        };
        Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
    }

    fn history_row(&self, step: Step, p: &PlayerSeason, f: &Fixture) -> Option<ElementHistory> {
        let gw = f.event?.0;
        let state = self.live_state(gw, step)?;
        let (stats, total_points): (PlayerStats, i32) = if gw == LAST_GW {
            let rows = &self.data.live_snapshot(state).rows;
            let row = &rows[rows.binary_search_by_key(&p.id, |r| r.id.0).ok()?];
            (row.stats.stats.clone(), row.stats.total_points)
        } else {
            let synth = self.season.as_ref()?.gameweek(gw)?;
            let fx = synth.fixtures.iter().find(|x| x.base.id == f.id)?;
            let t = fx.minute(Some(state));
            let fig = fx
                .figures_at(t, state >= LiveState::Provisional)
                .into_iter()
                .find(|(l, _)| l.element == p.id)
                .map(|(_, f)| f)
                .unwrap_or_default();
            (fig.player_stats(), fig.points(p.et))
        };
        let was_home = f.team_h.0 == p.team;
        Some(ElementHistory {
            element: p.id.into(),
            fixture: f.id,
            round: EventId(gw),
            opponent_team: if was_home { f.team_a } else { f.team_h },
            was_home,
            kickoff_time: f.kickoff_time,
            team_h_score: f.team_h_score,
            team_a_score: f.team_a_score,
            total_points,
            stats,
            value: p.cost,
            transfers_balance: 0,
            selected: (hash(&[u64::from(p.id), label("selected")]) % 2_000_000) as u32,
            transfers_in: 0,
            transfers_out: 0,
            modified: Some(false),
        })
    }
}

fn upcoming(f: &Fixture, team: u16) -> ElementSummaryFixture {
    let is_home = f.team_h == TeamId(team);
    ElementSummaryFixture {
        id: FixtureId(f.id.0),
        code: f.code,
        team_h: f.team_h,
        team_a: f.team_a,
        team_h_score: f.team_h_score,
        team_a_score: f.team_a_score,
        event: f.event,
        kickoff_time: f.kickoff_time,
        provisional_start_time: f.provisional_start_time,
        finished: f.finished,
        minutes: f.minutes,
        event_name: f.event.map(|e| format!("Gameweek {e}")),
        is_home,
        difficulty: if is_home {
            f.team_h_difficulty
        } else {
            f.team_a_difficulty
        },
    }
}

/// An event not played yet: no result, no selection data, open for team changes.
fn blank_event(ev: &mut Value) {
    for (k, v) in [
        ("finished", Value::Bool(false)),
        ("data_checked", Value::Bool(false)),
        ("average_entry_score", Value::from(0)),
        ("highest_score", Value::Null),
        ("highest_scoring_entry", Value::Null),
        ("most_selected", Value::Null),
        ("most_transferred_in", Value::Null),
        ("most_captained", Value::Null),
        ("most_vice_captained", Value::Null),
        ("top_element", Value::Null),
        ("top_element_info", Value::Null),
        ("transfers_made", Value::from(0)),
        ("ranked_count", Value::from(0)),
        ("chip_plays", Value::Array(Vec::new())),
        ("cup_leagues_created", Value::Bool(false)),
        ("h2h_ko_matches_created", Value::Bool(false)),
        ("can_enter", Value::Bool(true)),
        ("can_manage", Value::Bool(true)),
    ] {
        ev[k] = v;
    }
}

/// `[row,row,…]` from pre-serialized rows.
fn json_array(rows: &[FixtureRow]) -> Bytes {
    let size: usize = rows.iter().map(|r| r.json.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 2);
    out.push(b'[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&r.json);
    }
    out.push(b']');
    Bytes::from(out)
}

/// Deadline of `gw` in the season scenario: gameweek 38's real one, 30 hours apart before it.
fn season_deadline(d38: DateTime<Utc>, gw: u16) -> DateTime<Utc> {
    d38 - GAMEWEEK_CYCLE * i32::from(LAST_GW - gw)
}

/// Everything handlers share: the world, the clock, faults and request counts.
pub struct SimState {
    pub world: World,
    pub faults: Faults,
    pub stats: Stats,
    clock: Mutex<Clock>,
    /// Synthetic managers (for the state report).
    pub entries: u32,
}

impl SimState {
    pub fn new(config: &SimConfig) -> Result<SimState, crate::fpl::samples::SampleError> {
        let world = World::new(config)?;
        let clock = Clock::new(world.timeline.start(), config.speed);
        Ok(SimState {
            faults: Faults::new(config.seed, config.faults.clone()),
            stats: Stats::default(),
            clock: Mutex::new(clock),
            entries: config.entries,
            world,
        })
    }

    fn clock(&self) -> std::sync::MutexGuard<'_, Clock> {
        self.clock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock().now()
    }

    /// The index of the step in force now.
    pub fn step_index(&self) -> usize {
        self.world.timeline.index_at(self.now())
    }

    pub fn speed(&self) -> f64 {
        self.clock().speed()
    }

    pub fn set_speed(&self, speed: f64) {
        self.clock().set_speed(speed);
    }

    /// Moves simulated time by `seconds` (negative goes back).
    pub fn advance(&self, seconds: f64) {
        let ms = (seconds * 1000.0).clamp(-1e15, 1e15) as i64;
        self.clock().advance(chrono::Duration::milliseconds(ms));
    }

    /// Jumps to the start of `phase` of gameweek `event` (default: the current gameweek).
    /// Returns false when the scenario has no such step.
    pub fn jump(&self, phase: Phase, event: Option<u16>) -> bool {
        let event = event.unwrap_or_else(|| self.world.step(self.step_index()).event);
        match self.world.timeline.find(event, phase) {
            Some(i) => {
                self.clock().jump(self.world.timeline.get(i).at);
                true
            }
            None => false,
        }
    }
}
