//! Gameweeks 30–37 synthesized for the season scenario, deterministically from the seed, the
//! real player list and the real 2025-26 fixture list (double and blank gameweeks included).
//!
//! Each fixture is drawn once as a little match timeline — line-ups with substitutions, goals
//! with scorer, assister and minute, cards, saves, defensive actions — and every view of it is a
//! snapshot of that timeline at a minute: 45' (or 15' for a team's second fixture of a double
//! gameweek, which kicks off 30 minutes later) while in play, 90' once over. Points follow the
//! 2025-26 rules (as in the real live data's `explain`), BPS a simplified formula, bonus
//! 3/2/1 per fixture from BPS with FPL's tie rules, so `total_points` always equals the sum of
//! the `explain` points and the fixture stats agree with the live stats.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::fpl::model::{
    EventId, EventLive, ExplainStat, Fixture, FixtureId, FixtureStat, LiveElement, LiveExplain,
    LiveStats, PlayerStats, StatValue,
};

use super::dataset::{LiveState, PlayerSeason, TeamStrength};
use super::rng::{Rng, label};
use super::squad::{DEF, FWD, GKP, LivePoints, MID};

/// One player's part in one fixture.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub element: u32,
    pub et: u8,
    pub home: bool,
    /// Minute he came on (0 for a starter).
    pub on: u8,
    /// Minute he went off (90 if he finished the match).
    pub off: u8,
    pub starter: bool,
    /// Minute of a yellow card (0: none).
    pub yellow: u8,
    /// Minute of a red card (0: none); he goes off then.
    pub red: u8,
    /// Over 90 minutes; a snapshot scales these by the minutes played.
    pub saves: u8,
    pub cbi: u8,
    pub tackles: u8,
    pub recoveries: u8,
    /// Extra BPS over 90 minutes (passing, etc.).
    pub bps_extra: u8,
}

impl Line {
    fn on_pitch(&self, minute: u8) -> bool {
        self.on < minute && minute <= self.off
    }

    fn minutes_at(&self, t: u8) -> u8 {
        t.min(self.off).saturating_sub(self.on)
    }
}

/// A goal.
#[derive(Debug, Clone, Copy)]
pub struct Goal {
    pub minute: u8,
    /// The home team is credited.
    pub home: bool,
    /// The scorer (of the other team for an own goal).
    pub scorer: u32,
    pub assist: Option<u32>,
    pub own_goal: bool,
}

/// A player's figures in a fixture (or summed over a gameweek) at some minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub minutes: u32,
    pub starts: u32,
    pub goals_scored: u32,
    pub assists: u32,
    pub clean_sheets: u32,
    pub goals_conceded: u32,
    pub own_goals: u32,
    pub yellow_cards: u32,
    pub red_cards: u32,
    pub saves: u32,
    pub bonus: i32,
    pub bps: i32,
    pub cbi: u32,
    pub tackles: u32,
    pub recoveries: u32,
    pub defensive_contribution: u32,
}

/// Points for a goal by element type (2025-26: GKP 10, DEF 6, MID 5, FWD 4).
const GOAL_POINTS: [i32; 5] = [0, 10, 6, 5, 4];
const CLEAN_SHEET_POINTS: [i32; 5] = [0, 4, 4, 1, 0];
const GOAL_BPS: [i32; 5] = [0, 12, 12, 18, 24];

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.minutes += o.minutes;
        self.starts += o.starts;
        self.goals_scored += o.goals_scored;
        self.assists += o.assists;
        self.clean_sheets += o.clean_sheets;
        self.goals_conceded += o.goals_conceded;
        self.own_goals += o.own_goals;
        self.yellow_cards += o.yellow_cards;
        self.red_cards += o.red_cards;
        self.saves += o.saves;
        self.bonus += o.bonus;
        self.bps += o.bps;
        self.cbi += o.cbi;
        self.tackles += o.tackles;
        self.recoveries += o.recoveries;
        self.defensive_contribution += o.defensive_contribution;
    }

    /// `(identifier, value, points)` for `explain`: minutes always, other stats when non-zero.
    pub fn explain(&self, et: u8) -> Vec<(&'static str, i32, i32)> {
        let et_ = usize::from(et);
        let dc_threshold = if et == DEF { 10 } else { 12 };
        let rows = [
            (
                "minutes",
                self.minutes as i32,
                match self.minutes {
                    0 => 0,
                    1..=59 => 1,
                    _ => 2,
                },
            ),
            (
                "goals_scored",
                self.goals_scored as i32,
                self.goals_scored as i32 * GOAL_POINTS[et_],
            ),
            ("assists", self.assists as i32, self.assists as i32 * 3),
            (
                "clean_sheets",
                self.clean_sheets as i32,
                self.clean_sheets as i32 * CLEAN_SHEET_POINTS[et_],
            ),
            (
                "goals_conceded",
                self.goals_conceded as i32,
                if et <= DEF {
                    -(self.goals_conceded as i32 / 2)
                } else {
                    0
                },
            ),
            (
                "own_goals",
                self.own_goals as i32,
                -2 * self.own_goals as i32,
            ),
            (
                "yellow_cards",
                self.yellow_cards as i32,
                -(self.yellow_cards as i32),
            ),
            (
                "red_cards",
                self.red_cards as i32,
                -3 * self.red_cards as i32,
            ),
            ("saves", self.saves as i32, self.saves as i32 / 3),
            ("bonus", self.bonus, self.bonus),
            (
                "defensive_contribution",
                self.defensive_contribution as i32,
                if et != GKP && self.defensive_contribution >= dc_threshold {
                    2
                } else {
                    0
                },
            ),
        ];
        rows.into_iter()
            .enumerate()
            .filter(|(i, r)| *i == 0 || r.1 != 0)
            .map(|(_, r)| r)
            .collect()
    }

    pub fn points(&self, et: u8) -> i32 {
        self.explain(et).iter().map(|r| r.2).sum()
    }

    /// The API's stats object; ICT and expected figures are derived, not modelled.
    pub fn player_stats(&self) -> PlayerStats {
        let influence = (f64::from(self.bps.max(0)) * 0.9 * 10.0).round() / 10.0;
        let creativity = f64::from(self.assists * 20 + self.recoveries * 2);
        let threat = f64::from(self.goals_scored * 30 + self.minutes / 10);
        let xg = f64::from(self.goals_scored) * 0.55;
        let xa = f64::from(self.assists) * 0.45;
        PlayerStats {
            minutes: self.minutes,
            goals_scored: self.goals_scored,
            assists: self.assists,
            clean_sheets: self.clean_sheets,
            goals_conceded: self.goals_conceded,
            own_goals: self.own_goals,
            penalties_saved: 0,
            penalties_missed: 0,
            yellow_cards: self.yellow_cards,
            red_cards: self.red_cards,
            saves: self.saves,
            bonus: self.bonus,
            bps: self.bps,
            influence,
            creativity,
            threat,
            ict_index: ((influence + creativity + threat) / 10.0 * 10.0).round() / 10.0,
            expected_goals: xg,
            expected_assists: xa,
            expected_goal_involvements: xg + xa,
            expected_goals_conceded: f64::from(self.goals_conceded) * 0.9,
            starts: Some(self.starts),
            clearances_blocks_interceptions: Some(self.cbi),
            recoveries: Some(self.recoveries),
            tackles: Some(self.tackles),
            defensive_contribution: Some(self.defensive_contribution),
        }
    }
}

/// A synthesized fixture.
#[derive(Debug, Clone)]
pub struct SynthFixture {
    /// The real fixture (ids, teams, difficulty) with the simulated kick-off; no result.
    pub base: Fixture,
    /// 0, or 1 for a team's second fixture of a double gameweek (kicks off 30 min later).
    pub round: u8,
    pub lines: Vec<Line>,
    pub goals: Vec<Goal>,
}

impl SynthFixture {
    /// The match minute shown in `state` (0: not started).
    pub fn minute(&self, state: Option<LiveState>) -> u8 {
        match state {
            None | Some(LiveState::Zero) => 0,
            Some(LiveState::InPlay) => 45 - 30 * self.round,
            Some(LiveState::Provisional | LiveState::Final) => 90,
        }
    }

    /// Goals of each side up to minute `t`.
    fn score_at(&self, t: u8) -> (u16, u16) {
        self.goals
            .iter()
            .filter(|g| g.minute <= t)
            .fold(
                (0, 0),
                |(h, a), g| if g.home { (h + 1, a) } else { (h, a + 1) },
            )
    }

    /// Every line's figures at minute `t`, bonus included once the match is over.
    pub fn figures_at(&self, t: u8, with_bonus: bool) -> Vec<(Line, Figures)> {
        let mut out: Vec<(Line, Figures)> = self
            .lines
            .iter()
            .map(|l| (*l, self.line_figures(l, t)))
            .collect();
        if with_bonus && t >= 90 {
            let bps: Vec<(u32, i32)> = out
                .iter()
                .filter(|(_, f)| f.minutes > 0)
                .map(|(l, f)| (l.element, f.bps))
                .collect();
            let bonus = bonus_points(&bps);
            for (l, f) in &mut out {
                f.bonus = bonus.get(&l.element).copied().unwrap_or(0);
            }
        }
        out
    }

    fn line_figures(&self, l: &Line, t: u8) -> Figures {
        let minutes = u32::from(l.minutes_at(t));
        if minutes == 0 {
            return Figures::default();
        }
        let upto = t.min(l.off);
        let scale = |x: u8| u32::from(x) * minutes / 90;
        let goals = |f: &dyn Fn(&Goal) -> bool| {
            self.goals
                .iter()
                .filter(|g| g.minute <= upto && g.minute > l.on && f(g))
                .count() as u32
        };
        let goals_scored = goals(&|g| g.scorer == l.element && !g.own_goal);
        let own_goals = goals(&|g| g.scorer == l.element && g.own_goal);
        let assists = goals(&|g| g.assist == Some(l.element));
        let goals_conceded = goals(&|g| g.home != l.home);
        let clean_sheets = u32::from(minutes >= 60 && goals_conceded == 0);
        let yellow_cards = u32::from(l.yellow > 0 && l.yellow <= upto);
        let red_cards = u32::from(l.red > 0 && l.red <= upto);
        let (cbi, tackles, recoveries) = (scale(l.cbi), scale(l.tackles), scale(l.recoveries));
        let defensive_contribution = match l.et {
            GKP => 0,
            DEF => cbi + tackles,
            _ => cbi + tackles + recoveries,
        };
        let saves = scale(l.saves);
        let et = usize::from(l.et);
        let bps = if minutes >= 60 { 6 } else { 3 }
            + goals_scored as i32 * GOAL_BPS[et]
            + assists as i32 * 9
            + if l.et <= DEF && clean_sheets > 0 {
                12
            } else {
                0
            }
            + saves as i32 * 2
            - if l.et <= DEF {
                4 * goals_conceded as i32
            } else {
                0
            }
            - 3 * yellow_cards as i32
            - 9 * red_cards as i32
            - 6 * own_goals as i32
            + (cbi / 2 + tackles * 2 + recoveries / 3) as i32
            + scale(l.bps_extra) as i32;
        Figures {
            minutes,
            starts: u32::from(l.starter),
            goals_scored,
            assists,
            clean_sheets,
            goals_conceded,
            own_goals,
            yellow_cards,
            red_cards,
            saves,
            bonus: 0,
            bps,
            cbi,
            tackles,
            recoveries,
            defensive_contribution,
        }
    }

    /// The `fixtures/` row in `state`; `flipped` sets `finished` back to false.
    pub fn fixture(&self, state: Option<LiveState>, flipped: bool) -> Fixture {
        let t = self.minute(state);
        let mut f = self.base.clone();
        f.started = Some(t > 0);
        f.minutes = u16::from(t);
        f.finished_provisional = t >= 90;
        f.finished = state == Some(LiveState::Final) && !flipped;
        if t == 0 {
            f.team_h_score = None;
            f.team_a_score = None;
            f.stats = Vec::new();
            return f;
        }
        let (h, a) = self.score_at(t);
        f.team_h_score = Some(h);
        f.team_a_score = Some(a);
        let figures = self.figures_at(t, t >= 90);
        let stat = |id: &str, get: &dyn Fn(&Figures) -> i32, all: bool| {
            let side = |home: bool| {
                let mut v: Vec<StatValue> = figures
                    .iter()
                    .filter(|(l, f)| l.home == home && f.minutes > 0)
                    .map(|(l, f)| StatValue {
                        value: get(f),
                        element: l.element.into(),
                    })
                    .filter(|v| all || v.value != 0)
                    .collect();
                v.sort_by(|x, y| y.value.cmp(&x.value).then(x.element.cmp(&y.element)));
                v
            };
            FixtureStat {
                identifier: id.to_string(),
                a: side(false),
                h: side(true),
            }
        };
        f.stats = vec![
            stat("goals_scored", &|f| f.goals_scored as i32, false),
            stat("assists", &|f| f.assists as i32, false),
            stat("own_goals", &|f| f.own_goals as i32, false),
            stat("penalties_saved", &|_| 0, false),
            stat("penalties_missed", &|_| 0, false),
            stat("yellow_cards", &|f| f.yellow_cards as i32, false),
            stat("red_cards", &|f| f.red_cards as i32, false),
            stat("saves", &|f| f.saves as i32, false),
            stat("bonus", &|f| f.bonus, false),
            stat("bps", &|f| f.bps, true),
            stat(
                "defensive_contribution",
                &|f| f.defensive_contribution as i32,
                false,
            ),
        ];
        f
    }
}

/// Bonus from BPS: 3/2/1 to the best three; tied players share the higher award and push the
/// next award down (3,3,1 — 3,3,3 — 3,2,2 — 3,2,1,1).
pub fn bonus_points(bps: &[(u32, i32)]) -> HashMap<u32, i32> {
    let mut sorted = bps.to_vec();
    sorted.sort_by_key(|x| std::cmp::Reverse(x.1));
    let mut out = HashMap::new();
    let mut awarded = 0;
    let mut i = 0;
    while i < sorted.len() && awarded < 3 {
        let value = sorted[i].1;
        let group: Vec<u32> = sorted[i..]
            .iter()
            .take_while(|x| x.1 == value)
            .map(|x| x.0)
            .collect();
        let award = 3 - awarded as i32;
        for id in &group {
            out.insert(*id, award);
        }
        awarded += group.len();
        i += group.len();
    }
    out
}

/// A synthesized gameweek.
#[derive(Debug, Clone)]
pub struct SynthGw {
    pub event: u16,
    pub deadline: DateTime<Utc>,
    pub fixtures: Vec<SynthFixture>,
    /// The fixture whose `finished` flips back in FLAG_FLIP.
    pub flipped: u32,
}

impl SynthGw {
    /// Live rows of every player in `state`, and their points for scoring.
    pub fn live(&self, state: LiveState, players: &[PlayerSeason]) -> (EventLive, LivePoints) {
        let mut per_player: HashMap<u32, Vec<(u32, Figures)>> = HashMap::new();
        let mut fixtures_of_team: HashMap<u16, Vec<u32>> = HashMap::new();
        for f in &self.fixtures {
            fixtures_of_team
                .entry(f.base.team_h.0)
                .or_default()
                .push(f.base.id.0);
            fixtures_of_team
                .entry(f.base.team_a.0)
                .or_default()
                .push(f.base.id.0);
            let t = f.minute(Some(state));
            for (l, fig) in f.figures_at(t, state >= LiveState::Provisional) {
                per_player
                    .entry(l.element)
                    .or_default()
                    .push((f.base.id.0, fig));
            }
        }
        let mut elements = Vec::with_capacity(players.len());
        let mut points = Vec::with_capacity(players.len());
        for p in players {
            let played = per_player.get(&p.id);
            let mut total = Figures::default();
            let mut explain = Vec::new();
            for &fixture in fixtures_of_team.get(&p.team).map_or(&[][..], Vec::as_slice) {
                let fig = played
                    .and_then(|v| v.iter().find(|x| x.0 == fixture))
                    .map(|x| x.1)
                    .unwrap_or_default();
                total.add(&fig);
                explain.push(LiveExplain {
                    fixture: FixtureId(fixture),
                    stats: fig
                        .explain(p.et)
                        .into_iter()
                        .map(|(identifier, value, points)| ExplainStat {
                            identifier: identifier.to_string(),
                            points,
                            value,
                            points_modification: Some(0),
                        })
                        .collect(),
                });
            }
            let total_points: i32 = explain
                .iter()
                .flat_map(|e| e.stats.iter().map(|s| s.points))
                .sum();
            points.push((p.id, total_points, total.minutes));
            elements.push(LiveElement {
                id: p.id.into(),
                stats: LiveStats {
                    stats: total.player_stats(),
                    total_points,
                    in_dreamteam: false,
                    played: None,
                },
                explain,
                modified: Some(false),
            });
        }
        (EventLive { elements }, LivePoints::new(points))
    }
}

/// Gameweeks 30–37 of the season scenario.
#[derive(Debug, Clone)]
pub struct Season {
    pub gameweeks: Vec<SynthGw>,
}

impl Season {
    /// Synthesizes gameweeks `events` from `fixtures` (the real list; only their ids, teams and
    /// difficulty are used), kicking off 90 minutes after `deadline(event)`.
    pub fn synthesize(
        seed: u64,
        events: std::ops::RangeInclusive<u16>,
        fixtures: &[Fixture],
        players: &[PlayerSeason],
        teams: &[TeamStrength],
        deadline: impl Fn(u16) -> DateTime<Utc>,
    ) -> Season {
        let gameweeks = events
            .map(|event| {
                let mut of_event: Vec<&Fixture> = fixtures
                    .iter()
                    .filter(|f| f.event == Some(EventId(event)))
                    .collect();
                of_event.sort_by_key(|f| f.id);
                let d = deadline(event);
                let mut seen: HashMap<u16, u8> = HashMap::new();
                let fixtures: Vec<SynthFixture> = of_event
                    .into_iter()
                    .map(|f| {
                        let round = (*seen.get(&f.team_h.0).unwrap_or(&0))
                            .max(*seen.get(&f.team_a.0).unwrap_or(&0))
                            .min(1);
                        *seen.entry(f.team_h.0).or_default() += 1;
                        *seen.entry(f.team_a.0).or_default() += 1;
                        let kickoff = d + Duration::minutes(90 + 30 * i64::from(round));
                        synth_fixture(seed, f, round, kickoff, players, teams)
                    })
                    .collect();
                let flipped = fixtures
                    .get(
                        Rng::keyed(&[seed, u64::from(event), label("flip")])
                            .below(fixtures.len().max(1) as u64) as usize,
                    )
                    .map_or(0, |f| f.base.id.0);
                SynthGw {
                    event,
                    deadline: d,
                    fixtures,
                    flipped,
                }
            })
            .collect();
        Season { gameweeks }
    }

    pub fn gameweek(&self, event: u16) -> Option<&SynthGw> {
        self.gameweeks.iter().find(|g| g.event == event)
    }
}

/// Draws one match.
fn synth_fixture(
    seed: u64,
    real: &Fixture,
    round: u8,
    kickoff: DateTime<Utc>,
    players: &[PlayerSeason],
    teams: &[TeamStrength],
) -> SynthFixture {
    let mut rng = Rng::keyed(&[seed, u64::from(real.id.0), label("match")]);
    let mut lines = team_lines(&mut rng, players, real.team_h.0, true);
    lines.extend(team_lines(&mut rng, players, real.team_a.0, false));
    let strength = |id: u16| teams.iter().find(|t| t.id == id).copied();
    let ratio = |att: Option<u32>, def: Option<u32>| match (att, def) {
        (Some(a), Some(d)) if d > 0 => f64::from(a) / f64::from(d),
        _ => 1.0,
    };
    let (h, a) = (strength(real.team_h.0), strength(real.team_a.0));
    let lambda_h = 1.45 * ratio(h.map(|t| t.attack_home), a.map(|t| t.defence_away));
    let lambda_a = 1.15 * ratio(a.map(|t| t.attack_away), h.map(|t| t.defence_home));
    let season = |id: u32| players.iter().find(|p| p.id == id);
    let mut goals = Vec::new();
    for (home, lambda) in [(true, lambda_h), (false, lambda_a)] {
        for _ in 0..rng.poisson(lambda).min(6) {
            let minute = rng.range(1, 90) as u8;
            let on = |side: bool| -> Vec<Line> {
                lines
                    .iter()
                    .filter(|l| l.home == side && l.on_pitch(minute))
                    .copied()
                    .collect()
            };
            if rng.chance(0.03) {
                let them = on(!home);
                if !them.is_empty() {
                    let who = them[rng.below(them.len() as u64) as usize].element;
                    goals.push(Goal {
                        minute,
                        home,
                        scorer: who,
                        assist: None,
                        own_goal: true,
                    });
                }
                continue;
            }
            let us = on(home);
            if us.is_empty() {
                continue;
            }
            let w: Vec<f64> = us
                .iter()
                .map(|l| {
                    [0.0, 0.02, 1.0, 3.0, 5.0][usize::from(l.et)]
                        * (1.0 + season(l.element).map_or(0.0, |p| f64::from(p.goals)))
                })
                .collect();
            let scorer = us[rng.weighted(&w)].element;
            let assist = if rng.chance(0.7) {
                let w: Vec<f64> = us
                    .iter()
                    .map(|l| {
                        if l.element == scorer {
                            0.0
                        } else {
                            [0.0, 0.1, 1.5, 3.0, 2.0][usize::from(l.et)]
                                * (1.0 + season(l.element).map_or(0.0, |p| f64::from(p.assists)))
                        }
                    })
                    .collect();
                (w.iter().sum::<f64>() > 0.0).then(|| us[rng.weighted(&w)].element)
            } else {
                None
            };
            goals.push(Goal {
                minute,
                home,
                scorer,
                assist,
                own_goal: false,
            });
        }
    }
    goals.sort_by_key(|g| (g.minute, !g.home));
    let mut base = real.clone();
    base.kickoff_time = Some(kickoff);
    base.provisional_start_time = false;
    base.started = Some(false);
    base.finished = false;
    base.finished_provisional = false;
    base.minutes = 0;
    base.team_h_score = None;
    base.team_a_score = None;
    base.stats = Vec::new();
    SynthFixture {
        base,
        round,
        lines,
        goals,
    }
}

/// A team's line-up for one match: a goalkeeper and ten outfield players (the more minutes a
/// player had in the real season, the likelier he starts), up to three substitutions, cards,
/// saves and defensive actions.
fn team_lines(rng: &mut Rng, players: &[PlayerSeason], team: u16, home: bool) -> Vec<Line> {
    let squad: Vec<&PlayerSeason> = players.iter().filter(|p| p.team == team).collect();
    let weight = |p: &PlayerSeason| (f64::from(p.minutes) + 20.0).powf(1.5);
    let pick = |et: u8, n: usize, taken: &mut Vec<u32>, rng: &mut Rng| -> Vec<PlayerSeason> {
        let mut out = Vec::new();
        for _ in 0..n {
            let cands: Vec<&&PlayerSeason> = squad
                .iter()
                .filter(|p| p.et == et && !taken.contains(&p.id))
                .collect();
            if cands.is_empty() {
                break;
            }
            let w: Vec<f64> = cands.iter().map(|p| weight(p)).collect();
            let p = **cands[rng.weighted(&w)];
            taken.push(p.id);
            out.push(p);
        }
        out
    };
    let formations = [
        (4, 4, 2),
        (4, 3, 3),
        (3, 4, 3),
        (4, 5, 1),
        (3, 5, 2),
        (5, 3, 2),
    ];
    let (d, m, f) = formations[rng.below(formations.len() as u64) as usize];
    let mut taken = Vec::new();
    let mut starters = pick(GKP, 1, &mut taken, rng);
    starters.extend(pick(DEF, d, &mut taken, rng));
    starters.extend(pick(MID, m, &mut taken, rng));
    starters.extend(pick(FWD, f, &mut taken, rng));
    let new_line = |p: &PlayerSeason, on: u8, starter: bool, rng: &mut Rng| {
        let (cbi, tackles, recoveries) = match p.et {
            GKP => (rng.range(0, 2), 0, rng.range(2, 8)),
            DEF => (rng.range(2, 12), rng.range(0, 4), rng.range(1, 6)),
            MID => (rng.range(0, 6), rng.range(0, 5), rng.range(2, 10)),
            _ => (rng.range(0, 3), rng.range(0, 2), rng.range(0, 4)),
        };
        Line {
            element: p.id,
            et: p.et,
            home,
            on,
            off: 90,
            starter,
            yellow: 0,
            red: 0,
            saves: if p.et == GKP {
                rng.poisson(2.6) as u8
            } else {
                0
            },
            cbi: cbi as u8,
            tackles: tackles as u8,
            recoveries: recoveries as u8,
            bps_extra: rng.range(0, 8) as u8,
        }
    };
    let mut lines: Vec<Line> = starters.iter().map(|p| new_line(p, 0, true, rng)).collect();
    let n_subs = [0, 1, 1, 2, 2, 2, 3, 3, 3, 3][rng.below(10) as usize];
    for _ in 0..n_subs {
        let bench = pick(
            [DEF, MID, MID, FWD][rng.below(4) as usize],
            1,
            &mut taken,
            rng,
        );
        let Some(sub) = bench.first() else { continue };
        let outfield: Vec<usize> = (1..lines.len())
            .filter(|&i| lines[i].starter && lines[i].off == 90)
            .collect();
        if outfield.is_empty() {
            break;
        }
        let i = outfield[rng.below(outfield.len() as u64) as usize];
        let minute = rng.range(55, 88) as u8;
        lines[i].off = minute;
        lines.push(new_line(sub, minute, false, rng));
    }
    for l in &mut lines {
        let span = (l.on + 1, l.off);
        if rng.chance(0.11) {
            l.yellow = rng.range(u32::from(span.0), u32::from(span.1)) as u8;
        }
        if l.starter && l.off == 90 && rng.chance(0.01) {
            l.red = rng.range(20, 89) as u8;
            l.off = l.red;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::model::TeamId;

    fn players() -> Vec<PlayerSeason> {
        let mut out = Vec::new();
        let mut id = 0;
        for team in 1..=4u16 {
            for (et, n) in [(GKP, 2), (DEF, 7), (MID, 7), (FWD, 3)] {
                for k in 0..n {
                    id += 1;
                    out.push(PlayerSeason {
                        id,
                        et,
                        team,
                        minutes: 300 * k,
                        goals: k,
                        assists: k,
                        cost: 50,
                    });
                }
            }
        }
        out
    }

    fn fixture(id: u32, event: u16, h: u16, a: u16) -> Fixture {
        serde_json::from_value(serde_json::json!({
            "id": id, "code": id, "event": event, "team_h": h, "team_a": a,
            "team_h_score": null, "team_a_score": null, "kickoff_time": null,
            "provisional_start_time": false, "started": false, "finished": false,
            "finished_provisional": false, "minutes": 0,
            "team_h_difficulty": 3, "team_a_difficulty": 3, "stats": []
        }))
        .unwrap()
    }

    fn season(seed: u64) -> Season {
        // GW30: two fixtures; GW31: a double gameweek for teams 1 and 2, team 4 blank.
        let fixtures = [
            fixture(1, 30, 1, 2),
            fixture(2, 30, 3, 4),
            fixture(3, 31, 1, 3),
            fixture(4, 31, 2, 1),
        ];
        let deadline = |e: u16| {
            "2026-05-14T13:30:00Z".parse::<DateTime<Utc>>().unwrap()
                + Duration::hours(30 * i64::from(e - 30))
        };
        Season::synthesize(seed, 30..=31, &fixtures, &players(), &[], deadline)
    }

    #[test]
    fn bonus_follows_the_tie_rules() {
        let b = |bps: &[i32]| {
            let rows: Vec<(u32, i32)> = bps
                .iter()
                .enumerate()
                .map(|(i, v)| (i as u32, *v))
                .collect();
            let m = bonus_points(&rows);
            (0..bps.len() as u32)
                .map(|i| m.get(&i).copied().unwrap_or(0))
                .collect::<Vec<_>>()
        };
        assert_eq!(b(&[30, 20, 10, 5]), vec![3, 2, 1, 0]);
        assert_eq!(b(&[30, 30, 10, 5]), vec![3, 3, 1, 0]);
        assert_eq!(b(&[30, 30, 30, 5]), vec![3, 3, 3, 0]);
        assert_eq!(b(&[30, 20, 20, 5]), vec![3, 2, 2, 0]);
        assert_eq!(b(&[30, 20, 10, 10]), vec![3, 2, 1, 1]);
    }

    #[test]
    fn live_points_equal_the_explain_and_agree_with_the_fixture_stats() {
        let s = season(5);
        let players = players();
        for gw in &s.gameweeks {
            for state in [LiveState::InPlay, LiveState::Provisional, LiveState::Final] {
                let (live, points) = gw.live(state, &players);
                assert_eq!(live.elements.len(), players.len());
                for e in &live.elements {
                    let explained: i32 = e
                        .explain
                        .iter()
                        .flat_map(|x| &x.stats)
                        .map(|s| s.points)
                        .sum();
                    assert_eq!(e.stats.total_points, explained);
                    assert_eq!(points.points(e.id.0), explained);
                }
                for f in &gw.fixtures {
                    let fx = f.fixture(Some(state), false);
                    let goals_for = |home: bool| {
                        let stat = fx.stat("goals_scored").unwrap();
                        let own = fx.stat("own_goals").unwrap();
                        let side = |s: &FixtureStat, h: bool| -> i32 {
                            if h {
                                s.h.iter().map(|v| v.value).sum()
                            } else {
                                s.a.iter().map(|v| v.value).sum()
                            }
                        };
                        side(stat, home) + side(own, !home)
                    };
                    assert_eq!(fx.team_h_score.unwrap() as i32, goals_for(true));
                    assert_eq!(fx.team_a_score.unwrap() as i32, goals_for(false));
                    let bonus: i32 = fx.stat("bonus").unwrap().values().map(|v| v.1).sum();
                    if state == LiveState::InPlay {
                        assert_eq!(bonus, 0);
                    } else {
                        assert!((6..=9).contains(&bonus), "bonus {bonus}");
                    }
                }
            }
        }
    }

    #[test]
    fn double_gameweeks_sum_both_fixtures_and_blank_teams_score_nothing() {
        let s = season(5);
        let gw = s.gameweek(31).unwrap();
        assert_eq!(
            gw.fixtures.iter().map(|f| f.round).collect::<Vec<_>>(),
            vec![0, 1]
        );
        let (live, _) = gw.live(LiveState::Final, &players());
        let team_of = |id: u32| players().iter().find(|p| p.id == id).unwrap().team;
        for e in &live.elements {
            let n = e.explain.len();
            match team_of(e.id.0) {
                1 => assert_eq!(n, 2),
                4 => {
                    assert_eq!(n, 0);
                    assert_eq!(e.stats.total_points, 0);
                }
                _ => assert_eq!(n, 1),
            }
        }
        // Every fixture has 11 starters a side and a plausible number of minutes.
        for f in &gw.fixtures {
            for home in [true, false] {
                assert_eq!(
                    f.lines
                        .iter()
                        .filter(|l| l.home == home && l.starter)
                        .count(),
                    11
                );
            }
        }
        assert_eq!(gw.fixtures[0].base.team_h, TeamId(1));
    }

    #[test]
    fn the_season_is_deterministic_per_seed() {
        let a = season(5);
        let b = season(5);
        let c = season(6);
        let goals = |s: &Season| {
            s.gameweeks
                .iter()
                .flat_map(|g| g.fixtures.iter().map(|f| (f.goals.len(), f.lines.len())))
                .collect::<Vec<_>>()
        };
        assert_eq!(goals(&a), goals(&b));
        let (la, _) = a.gameweeks[0].live(LiveState::Final, &players());
        let (lb, _) = b.gameweeks[0].live(LiveState::Final, &players());
        let (lc, _) = c.gameweeks[0].live(LiveState::Final, &players());
        assert_eq!(la, lb);
        assert_ne!(la, lc);
    }
}
