//! The rollover scenario's next season, 2026-27, told from the real pre-season captures: after
//! gameweek 38 of 2025-26 is final, FPL publishes a new season under the same URLs.
//!
//! What the simulator serves from [`Phase::PreSeason`] on (see `clock::Timeline::with_next_season`):
//! - `bootstrap-static/`: the real 2026-27 pre-season capture as it is (581 players, ids and
//!   team ids restarting, players keeping their `code`; no event current, gameweek 1 next),
//!   its events' flags rewritten once gameweek 1's deadline has passed;
//! - `event-status/`: the real pre-season capture (`"status": []`), then gameweek 1's match days;
//! - `fixtures/`: the 380 fixtures of 2026-27 (ids 1–380 in gameweek order, a double round
//!   robin of the 20 teams, kick-off 90 minutes after each deadline), none started;
//! - `event/{gw}/live/`: `{"elements":[]}`, then every player at zero for gameweek 1 (one
//!   `explain` row per fixture) once its deadline has passed;
//! - managers: each simulated manager comes back with a probability of 4 in 5, registering
//!   again under a new entry id (ids restart: `1 ..= total_players` of the capture). Their
//!   `entry/{id}/` has a null `current_event` and null summaries until the deadline, their
//!   history no gameweek yet and 2025/26 among the past seasons, their picks are 404 until the
//!   deadline, then a squad of 2026-27 players. Last season's ids: one that a returning manager
//!   now holds is that manager; any other id up to `total_players` belongs to someone new (a
//!   stranger in no simulated league); the rest answer 404;
//! - leagues: last season's leagues (1 and 2) answer 404; the returning managers are in the
//!   classic league of the real 2026-27 capture ([`NEXT_CLASSIC_LEAGUE`], in its 2026-27 shape:
//!   rows without `id` and `has_played`), which has no `standings.results` yet, only
//!   `new_entries`.

use std::collections::HashMap;

use actix_web::web::Bytes;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::fpl::model::{
    ElementId, ElementSummary, ElementSummaryFixture, ElementTypeId, Entry, EntryEventHistory,
    EntryHistory, EntryId, EntryLeague, EntryLeagues, EventId, EventLive, EventStatus,
    EventStatusDay, ExplainStat, Fixture, FixtureId, LeagueId, LiveElement, LiveExplain, LiveStats,
    PastSeason, Pick, PicksResponse, PlayerStats, TeamId,
};
use crate::fpl::samples::{self, SampleError};

use super::clock::{Phase, Step};
use super::dataset::{BootstrapTemplate, template};
use super::leagues::{page_range, pairing};
use super::managers::Managers;
use super::rng::{Rng, hash, label};
use super::server::Route;
use super::squad::{self, LivePoints, Player, Pool};
use super::world::World;

/// The 2026-27 pre-season bootstrap.
pub const BOOTSTRAP: &str =
    "bootstrap-static/Unholy-smoke__fpl-mirror__bootstrap-static.61d9904.json";
/// `event-status/` before the season: `"status": []`.
pub const EVENT_STATUS: &str =
    "event-status/Unholy-smoke__fpl-mirror__event-status.d071d28-preseason.json";
/// A 2026-27 classic league (its `league` object and its rows' shape).
pub const LEAGUE: &str =
    "leagues-classic-standings/Unholy-smoke__fpl-mirror__league-standings.json";
/// The id of the captured 2026-27 league: the returning managers' classic league.
pub const NEXT_CLASSIC_LEAGUE: u64 = 24124;

/// The slice of the 2026-27 bootstrap the simulator reasons with.
#[derive(Deserialize)]
struct Slim {
    events: Vec<SlimEvent>,
    teams: Vec<SlimTeam>,
    elements: Vec<SlimElement>,
    total_players: u64,
}

#[derive(Deserialize)]
struct SlimEvent {
    deadline_time: DateTime<Utc>,
}

#[derive(Deserialize)]
struct SlimTeam {
    id: u16,
}

#[derive(Deserialize)]
struct SlimElement {
    id: u32,
    element_type: u8,
    team: u16,
    now_cost: u32,
    #[serde(with = "crate::fpl::model::decimal")]
    selected_by_percent: f64,
}

/// Who an entry id is in the next season.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Simulated manager `idx`, registered again under this id.
    Returning(usize),
    /// Someone new, in no simulated league.
    Stranger,
}

/// The next season.
pub struct NextSeason {
    bootstrap: BootstrapTemplate,
    deadlines: Vec<DateTime<Utc>>,
    /// Managers registered at the capture (new ids are `1 ..= total_players`).
    pub total_players: u64,
    pool: Pool,
    /// `(id, element type, team)` of every 2026-27 player.
    players: Vec<(u32, u8, u16)>,
    /// The season's 380 fixtures.
    pub fixtures: Vec<Fixture>,
    preseason_status: Bytes,
    /// The captured league object.
    league: Value,
    /// Manager index → new entry id (`None`: did not come back).
    new_ids: Vec<Option<u64>>,
    by_new_id: HashMap<u64, usize>,
}

impl NextSeason {
    /// Builds the season from the samples; the managers who come back are drawn from `seed`.
    pub fn new(seed: u64, managers: &Managers) -> Result<NextSeason, SampleError> {
        let text = samples::json(BOOTSTRAP)?;
        let slim: Slim = serde_json::from_str(&text).map_err(|source| SampleError::Decode {
            name: BOOTSTRAP.into(),
            source,
        })?;
        let bootstrap = template(&text).ok_or_else(|| SampleError::Decode {
            name: BOOTSTRAP.into(),
            source: serde::de::Error::custom("no top-level `events` array"),
        })?;
        let deadlines: Vec<DateTime<Utc>> = slim.events.iter().map(|e| e.deadline_time).collect();
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
            .map(|e| (e.id, e.element_type, e.team))
            .collect();
        let teams: Vec<u16> = slim.teams.iter().map(|t| t.id).collect();
        let fixtures = fixtures(&teams, &deadlines);
        let league: Value = serde_json::from_str(&samples::json(LEAGUE)?).map_err(|source| {
            SampleError::Decode {
                name: LEAGUE.into(),
                source,
            }
        })?;
        let total = slim.total_players.max(1);
        let mut new_ids = Vec::with_capacity(managers.count());
        let mut by_new_id = HashMap::new();
        for idx in 0..managers.count() {
            let old = managers.id(idx);
            if hash(&[seed, old, label("returns")]).is_multiple_of(5) {
                new_ids.push(None);
                continue;
            }
            let mut id = 1 + hash(&[seed, old, label("new-id")]) % total;
            while by_new_id.contains_key(&id) {
                id = id % total + 1;
            }
            by_new_id.insert(id, idx);
            new_ids.push(Some(id));
        }
        Ok(NextSeason {
            bootstrap,
            deadlines,
            total_players: total,
            pool,
            players,
            fixtures,
            preseason_status: Bytes::from(samples::json(EVENT_STATUS)?),
            league: league["league"].clone(),
            new_ids,
            by_new_id,
        })
    }

    /// Gameweek 1's deadline.
    pub fn first_deadline(&self) -> DateTime<Utc> {
        self.deadlines[0]
    }

    /// Manager `idx`'s entry id in the next season, if he came back.
    pub fn new_id(&self, idx: usize) -> Option<u64> {
        self.new_ids.get(idx).copied().flatten()
    }

    /// Who holds entry `id` in the next season (`None`: nobody, 404).
    pub fn holder(&self, id: u64) -> Option<Holder> {
        match self.by_new_id.get(&id) {
            Some(&idx) => Some(Holder::Returning(idx)),
            None if (1..=self.total_players).contains(&id) => Some(Holder::Stranger),
            None => None,
        }
    }

    /// The body of `route` at next-season step `step`; `None` answers 404.
    pub fn body(
        &self,
        world: &World,
        step: Step,
        route: Route,
        now: DateTime<Utc>,
    ) -> Option<Bytes> {
        let started = step.phase.deadline_passed();
        match route {
            Route::Bootstrap => Some(self.bootstrap_body(started)),
            Route::Fixtures(event) => Some(json(
                &self
                    .fixtures
                    .iter()
                    .filter(|f| event.is_none() || f.event.map(|e| e.0) == event)
                    .collect::<Vec<_>>(),
            )),
            Route::Live(gw) => self.live(gw, started),
            Route::EventStatus => Some(self.event_status(started)),
            Route::Entry(id) => self.entry(world, id, started),
            Route::History(id) => self.history(world, id, started),
            Route::Picks(id, gw) => self.picks(id, gw, started),
            Route::Transfers(id) => {
                self.holder(id)?;
                Some(Bytes::from_static(b"[]"))
            }
            // Nobody is in the new season's FPL cup yet: FPL's 404.
            Route::Cup(_) => None,
            Route::Classic(league, page, new_page) => {
                (league == NEXT_CLASSIC_LEAGUE).then(|| self.classic(world, page, new_page, now))
            }
            Route::H2h(..) | Route::H2hMatches(..) => None,
            Route::ElementSummary(id) => self.element_summary(id),
        }
    }

    fn bootstrap_body(&self, started: bool) -> Bytes {
        let mut events = self.bootstrap.events.clone();
        if started {
            for ev in &mut events {
                let id = ev["id"].as_u64().unwrap_or(0);
                ev["is_current"] = Value::Bool(id == 1);
                ev["is_next"] = Value::Bool(id == 2);
                if id == 1 {
                    ev["can_enter"] = Value::Bool(false);
                    ev["can_manage"] = Value::Bool(false);
                }
            }
        }
        let events = serde_json::to_vec(&events).expect("JSON serializes");
        let t = &self.bootstrap;
        let mut body = Vec::with_capacity(t.prefix.len() + events.len() + t.suffix.len());
        body.extend_from_slice(&t.prefix);
        body.extend_from_slice(&events);
        body.extend_from_slice(&t.suffix);
        Bytes::from(body)
    }

    fn fixtures_of(&self, gw: u16) -> impl Iterator<Item = &Fixture> {
        self.fixtures
            .iter()
            .filter(move |f| f.event == Some(EventId(gw)))
    }

    /// Gameweek 1 at zero once its deadline has passed; nothing else has started.
    fn live(&self, gw: u16, started: bool) -> Option<Bytes> {
        if !(1..=38).contains(&gw) {
            return None;
        }
        if gw != 1 || !started {
            return Some(Bytes::from_static(b"{\"elements\":[]}"));
        }
        let elements = self
            .players
            .iter()
            .map(|&(id, _, team)| LiveElement {
                id: ElementId(id),
                stats: LiveStats {
                    stats: PlayerStats {
                        starts: Some(0),
                        clearances_blocks_interceptions: Some(0),
                        recoveries: Some(0),
                        tackles: Some(0),
                        defensive_contribution: Some(0),
                        ..PlayerStats::default()
                    },
                    ..LiveStats::default()
                },
                explain: self
                    .fixtures_of(1)
                    .filter(|f| f.team_h.0 == team || f.team_a.0 == team)
                    .map(|f| LiveExplain {
                        fixture: f.id,
                        stats: vec![ExplainStat {
                            identifier: "minutes".into(),
                            points: 0,
                            value: 0,
                            points_modification: Some(0),
                        }],
                    })
                    .collect(),
                modified: Some(false),
            })
            .collect();
        Some(json(&EventLive { elements }))
    }

    fn event_status(&self, started: bool) -> Bytes {
        if !started {
            return self.preseason_status.clone();
        }
        let mut days: Vec<NaiveDate> = self
            .fixtures_of(1)
            .filter_map(|f| f.kickoff_time)
            .map(|t| t.date_naive())
            .collect();
        days.sort();
        days.dedup();
        json(&EventStatus {
            status: days
                .into_iter()
                .map(|date| EventStatusDay {
                    bonus_added: false,
                    date,
                    event: EventId(1),
                    points: String::new(),
                })
                .collect(),
            leagues: String::new(),
        })
    }

    /// The captured league's name.
    fn league_name(&self) -> String {
        self.league["name"].as_str().unwrap_or("").to_string()
    }

    /// When manager `idx` registered for the new season (between the pre-season's publication
    /// and the capture).
    fn registered(&self, id: u64) -> DateTime<Utc> {
        let base: DateTime<Utc> = "2026-06-25T10:00:00Z".parse().expect("a valid time");
        base + Duration::seconds((hash(&[id, label("registered")]) % (45 * 86_400)) as i64)
    }

    fn entry(&self, world: &World, id: u64, started: bool) -> Option<Bytes> {
        let holder = self.holder(id)?;
        let (names, years, leagues) = match holder {
            Holder::Returning(idx) => {
                let league = EntryLeague {
                    id: LeagueId(NEXT_CLASSIC_LEAGUE),
                    name: self.league_name(),
                    short_name: None,
                    created: self.league["created"].as_str().and_then(|t| t.parse().ok()),
                    closed: false,
                    league_type: Some("x".into()),
                    scoring: Some("c".into()),
                    admin_entry: self.admin(),
                    start_event: Some(EventId(1)),
                    has_cup: Some(true),
                    cup_league: None,
                    rank_count: None,
                    entry_rank: None,
                    entry_last_rank: None,
                    entry_percentile_rank: None,
                };
                let m = &world.managers;
                (m.names(idx), m.years_active(idx) + 1, vec![league])
            }
            Holder::Stranger => {
                let mut rng = Rng::keyed(&[id, label("stranger")]);
                let names = super::managers::Names {
                    first: format!("New{}", rng.below(1000)),
                    last: format!("Manager{}", rng.below(1000)),
                    team: format!("Fresh Start {}", id % 1000),
                };
                (names, 1, Vec::new())
            }
        };
        let body = Entry {
            id: EntryId(id),
            name: names.team,
            player_first_name: names.first,
            player_last_name: names.last,
            joined_time: self.registered(id),
            started_event: EventId(1),
            favourite_team: Some(TeamId(1 + (hash(&[id, label("club")]) % 20) as u16)),
            player_region_id: Some(241),
            player_region_name: Some("England".into()),
            player_region_iso_code_short: Some("EN".into()),
            player_region_iso_code_long: Some("ENG".into()),
            years_active: Some(years),
            summary_overall_points: started.then_some(0),
            summary_overall_rank: None,
            summary_event_points: started.then_some(0),
            summary_event_rank: None,
            current_event: started.then_some(EventId(1)),
            entered_events: if started {
                vec![EventId(1)]
            } else {
                Vec::new()
            },
            name_change_blocked: false,
            last_deadline_bank: started.then_some(0),
            last_deadline_value: started.then_some(1000),
            last_deadline_total_transfers: Some(0),
            leagues: EntryLeagues {
                classic: leagues,
                h2h: Vec::new(),
                cup: None,
                cup_matches: Vec::new(),
            },
        };
        Some(json(&body))
    }

    /// The league's administrator: the returning manager with the lowest new id.
    fn admin(&self) -> Option<EntryId> {
        self.by_new_id.keys().min().map(|&id| EntryId(id))
    }

    fn history(&self, world: &World, id: u64, started: bool) -> Option<Bytes> {
        let holder = self.holder(id)?;
        let past = match holder {
            Holder::Returning(idx) => {
                // Last season's total as the simulator served it at the end of gameweek 38.
                let last = world
                    .timeline
                    .find(super::squad::LAST_GW, Phase::Final)
                    .map(|i| world.table(i).total[idx]);
                let rank = 1 + (hash(&[id, label("past-rank")]) % 10_000_000) as u32;
                last.map(|total| PastSeason {
                    season_name: "2025/26".into(),
                    total_points: total,
                    rank: Some(rank),
                    rank_percentage: None,
                })
                .into_iter()
                .collect()
            }
            Holder::Stranger => Vec::new(),
        };
        let current = if started {
            vec![self.gw1_row(id)]
        } else {
            Vec::new()
        };
        Some(json(&EntryHistory {
            current,
            past,
            chips: Vec::new(),
        }))
    }

    fn gw1_row(&self, id: u64) -> EntryEventHistory {
        let sel = self.selection(id);
        EntryEventHistory {
            event: EventId(1),
            points: 0,
            total_points: 0,
            rank: None,
            rank_sort: None,
            overall_rank: None,
            percentile_rank: None,
            overall_rank_percentage: None,
            bank: sel.bank,
            value: sel.value(),
            event_transfers: 0,
            event_transfers_cost: 0,
            points_on_bench: 0,
        }
    }

    /// The gameweek-1 squad of entry `id`, from the 2026-27 players.
    fn selection(&self, id: u64) -> squad::Selection {
        let mut rng = Rng::keyed(&[id, label("gw1-squad")]);
        let drawn = squad::generate(&self.pool, &mut rng);
        squad::line_up(&self.pool, &drawn, &mut rng)
    }

    /// Gameweek 1's picks once its deadline has passed (404 before, and for other gameweeks).
    fn picks(&self, id: u64, gw: u16, started: bool) -> Option<Bytes> {
        self.holder(id)?;
        if gw != 1 || !started {
            return None;
        }
        let sel = self.selection(id);
        let scored = squad::score(&sel, &LivePoints::default(), false);
        Some(json(&PicksResponse {
            active_chip: None,
            automatic_subs: Vec::new(),
            entry_history: self.gw1_row(id),
            picks: scored
                .picks
                .iter()
                .map(|p| Pick {
                    element: ElementId(p.player.id),
                    position: p.position,
                    multiplier: p.multiplier,
                    is_captain: p.is_captain,
                    is_vice_captain: p.is_vice_captain,
                    element_type: Some(ElementTypeId(p.player.et)),
                })
                .collect(),
        }))
    }

    /// The new season's classic league: no table yet, the members as new entries.
    fn classic(&self, world: &World, page: u32, new_page: u32, now: DateTime<Utc>) -> Bytes {
        let mut members: Vec<(DateTime<Utc>, u64, usize)> = self
            .by_new_id
            .iter()
            .map(|(&id, &idx)| (self.registered(id), id, idx))
            .collect();
        members.sort();
        let (range, has_next) = page_range(members.len(), new_page);
        let rows: Vec<Value> = members[range]
            .iter()
            .map(|&(joined, id, idx)| {
                let names = world.managers.names(idx);
                json!({
                    "entry": id,
                    "entry_name": names.team,
                    "player_first_name": names.first,
                    "player_last_name": names.last,
                    "joined_time": joined.to_rfc3339_opts(SecondsFormat::Secs, true),
                })
            })
            .collect();
        let mut league = self.league.clone();
        league["admin_entry"] = self.admin().map_or(Value::Null, |e| Value::from(e.0));
        let body = json!({
            "last_updated_data": now.to_rfc3339_opts(SecondsFormat::Secs, true),
            "league": league,
            "new_entries": {"has_next": has_next, "page": new_page.max(1), "results": rows},
            "standings": {"has_next": false, "page": page.max(1), "results": []},
        });
        Bytes::from(serde_json::to_vec(&body).expect("JSON serializes"))
    }

    fn element_summary(&self, id: u32) -> Option<Bytes> {
        let &(_, _, team) = self.players.iter().find(|p| p.0 == id)?;
        let fixtures = self
            .fixtures
            .iter()
            .filter(|f| f.team_h.0 == team || f.team_a.0 == team)
            .map(|f| {
                let is_home = f.team_h.0 == team;
                ElementSummaryFixture {
                    id: f.id,
                    code: f.code,
                    team_h: f.team_h,
                    team_a: f.team_a,
                    team_h_score: None,
                    team_a_score: None,
                    event: f.event,
                    kickoff_time: f.kickoff_time,
                    provisional_start_time: false,
                    finished: false,
                    minutes: 0,
                    event_name: f.event.map(|e| format!("Gameweek {e}")),
                    is_home,
                    difficulty: 3,
                }
            })
            .collect();
        Some(json(&ElementSummary {
            fixtures,
            history: Vec::new(),
            history_past: Vec::new(),
        }))
    }
}

/// A double round robin of `teams` over 38 gameweeks (the circle method, home and away swapped
/// in the second half), fixture ids in gameweek order, kick-off 90 minutes after each deadline.
fn fixtures(teams: &[u16], deadlines: &[DateTime<Utc>]) -> Vec<Fixture> {
    let n = teams.len();
    let rounds = n.saturating_sub(1);
    let mut out = Vec::new();
    for (g, deadline) in deadlines.iter().enumerate().take(2 * rounds) {
        let round = g % rounds.max(1);
        for k in 0..n / 2 {
            let (a, b) = pairing(n, round, k);
            let (mut h, mut a) = if (round + k).is_multiple_of(2) {
                (a, b)
            } else {
                (b, a)
            };
            if g >= rounds {
                std::mem::swap(&mut h, &mut a);
            }
            let id = out.len() as u32 + 1;
            out.push(Fixture {
                id: FixtureId(id),
                code: 2_610_000 + id,
                event: Some(EventId(g as u16 + 1)),
                team_h: TeamId(teams[h]),
                team_a: TeamId(teams[a]),
                team_h_score: None,
                team_a_score: None,
                kickoff_time: Some(*deadline + Duration::minutes(90)),
                provisional_start_time: false,
                started: Some(false),
                finished: false,
                finished_provisional: false,
                minutes: 0,
                team_h_difficulty: 3,
                team_a_difficulty: 3,
                pulse_id: Some(130_000 + id),
                stats: Vec::new(),
                verbatim: Default::default(),
            });
        }
    }
    out
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("JSON serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_seasons_fixtures_are_a_double_round_robin_in_gameweek_order() {
        let teams: Vec<u16> = (1..=20).collect();
        let d: DateTime<Utc> = "2026-08-21T17:30:00Z".parse().unwrap();
        let deadlines: Vec<_> = (0..38).map(|g| d + Duration::days(7 * g)).collect();
        let f = fixtures(&teams, &deadlines);
        assert_eq!(f.len(), 380);
        assert!(f.iter().enumerate().all(|(i, x)| x.id.0 == i as u32 + 1));
        let mut pairs: HashMap<(u16, u16), usize> = HashMap::new();
        for gw in 1..=38u16 {
            let of: Vec<&Fixture> = f.iter().filter(|x| x.event == Some(EventId(gw))).collect();
            assert_eq!(of.len(), 10);
            let mut seen: Vec<u16> = of.iter().flat_map(|x| [x.team_h.0, x.team_a.0]).collect();
            seen.sort();
            assert_eq!(seen, teams, "every team once in GW{gw}");
        }
        for x in &f {
            *pairs.entry((x.team_h.0, x.team_a.0)).or_default() += 1;
        }
        assert_eq!(pairs.len(), 380, "each team hosts each other team once");
    }
}
