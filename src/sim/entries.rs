//! A manager's endpoints — `entry/{id}/`, `history/`, `event/{gw}/picks/`, `transfers/`,
//! `cup/` — built from the manager's simulated gameweeks at a step (see `World::weeks`).
//!
//! What is computed and what is merely plausible:
//! - Points, totals, bank, value, transfers and their cost, chips and automatic substitutions
//!   are consistent with the served live data: `entry_history.points` is Σ `total_points ×
//!   multiplier` of the served picks, `total_points` the running season total net of costs.
//! - Ranks in history rows are hashed plausible numbers (null while a gameweek is live); the
//!   entry's overall rank is its rank in the simulated classic league.
//! - Gameweeks before the first simulated one are history rows only (no picks, no live data).
//! - The 72 real managers at gameweek 38 FINAL serve their real picks response unchanged; they
//!   have no transfer list. Nobody is in the FPL cup (`cup_matches` empty).

use actix_web::web::Bytes;
use chrono::Duration;

use crate::fpl::model::{
    AutomaticSub, Chip, ChipUse, CupStatus, ElementId, ElementTypeId, Entry, EntryCup,
    EntryEventHistory, EntryHistory, EntryId, EntryLeague, EntryLeagues, EventId, LeagueId,
    PastSeason, Pick, PicksResponse, TeamId, Transfer,
};

use super::leagues::{CLASSIC_LEAGUE, H2H_LEAGUE};
use super::rng::{hash, label};
use super::squad::LAST_GW;
use super::world::{Week, World};

/// Managers ranked in the real game (for plausible hashed ranks).
const RANKED: u64 = 12_000_000;

/// Percentile buckets of the API.
const PERCENTILES: [u32; 20] = [
    1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95,
];

const REGIONS: [(u32, &str, &str, &str); 6] = [
    (241, "England", "EN", "ENG"),
    (242, "Scotland", "S1", "SCO"),
    (109, "Ireland", "IE", "IRL"),
    (101, "Indonesia", "ID", "IDN"),
    (105, "India", "IN", "IND"),
    (163, "Norway", "NO", "NOR"),
];

fn percentile(rank: u32) -> u32 {
    let share = (u64::from(rank) * 100).div_ceil(RANKED) as u32;
    PERCENTILES.into_iter().find(|&b| share <= b).unwrap_or(100)
}

/// A hashed rank of entry `id` for purpose `what` in gameweek `gw`.
fn plausible_rank(id: u64, gw: u16, what: &str) -> u32 {
    1 + (hash(&[id, u64::from(gw), label(what)]) % RANKED) as u32
}

fn chip(kind: super::squad::ChipKind) -> Chip {
    Chip::from(kind.api_name())
}

impl World {
    /// Bank and squad value of manager `idx` in a week (real managers: their real figures).
    fn money(&self, idx: usize, week: &Week) -> (i32, u32) {
        match self.managers.real(idx) {
            Some(m) => (
                m.final_picks.entry_history.bank,
                m.final_picks.entry_history.value,
            ),
            None => (
                week.sel.bank,
                week.sel.value() + week.sel.bank.max(0) as u32,
            ),
        }
    }

    /// The history row of a simulated week whose season total after it is `total`.
    fn week_row(&self, idx: usize, week: &Week, total: i32) -> EntryEventHistory {
        let id = self.managers.id(idx);
        let (bank, value) = self.money(idx, week);
        let rank = (!week.live).then(|| plausible_rank(id, week.gw, "rank"));
        let overall = (!week.live).then(|| plausible_rank(id, week.gw, "overall"));
        EntryEventHistory {
            event: EventId(week.gw),
            points: week.scored.points,
            total_points: total,
            rank,
            rank_sort: rank.map(|r| r + (hash(&[id, label("sort")]) % 40) as u32),
            overall_rank: overall,
            percentile_rank: rank.map(percentile),
            overall_rank_percentage: None,
            bank,
            value,
            event_transfers: u32::from(week.sel.transfers),
            event_transfers_cost: i32::from(week.sel.cost),
            points_on_bench: week.scored.bench_points,
        }
    }

    /// Rows of the gameweeks before the first simulated one.
    fn early_rows(&self, idx: usize, upto: u16) -> Vec<EntryEventHistory> {
        let id = self.managers.id(idx);
        let base = self.base_total(idx);
        let first = self.managers.selection(idx, self.managers.first_gw());
        let value = first.map_or(1000, |s| s.value());
        let bank = first.map_or(0, |s| s.bank);
        let mut total = 0;
        self.managers
            .early_points(idx, base)
            .into_iter()
            .zip(1u16..)
            .take_while(|(_, gw)| *gw <= upto)
            .map(|(points, gw)| {
                total += points;
                let rank = plausible_rank(id, gw, "rank");
                EntryEventHistory {
                    event: EventId(gw),
                    points,
                    total_points: total,
                    rank: Some(rank),
                    rank_sort: Some(rank),
                    overall_rank: Some(plausible_rank(id, gw, "overall")),
                    percentile_rank: Some(percentile(rank)),
                    overall_rank_percentage: None,
                    bank,
                    value,
                    event_transfers: (hash(&[id, u64::from(gw), label("tr")]) % 2) as u32,
                    event_transfers_cost: 0,
                    points_on_bench: (hash(&[id, u64::from(gw), label("bench")]) % 15) as i32,
                }
            })
            .collect()
    }

    /// Every history row up to the last gameweek whose deadline passed, with the weeks.
    fn rows(&self, idx: usize, index: usize) -> (Vec<EntryEventHistory>, Vec<Week>) {
        let step = self.step(index);
        let upto = World::visible_gw(step);
        let mut rows = self.early_rows(idx, upto);
        let weeks = self.weeks(idx, step);
        let mut total = self.base_total(idx);
        for w in &weeks {
            total += w.net;
            let row = match self.managers.real(idx) {
                Some(m) if w.gw == LAST_GW && !w.live => m.final_picks.entry_history.clone(),
                _ => self.week_row(idx, w, total),
            };
            rows.push(row);
        }
        (rows, weeks)
    }

    /// `entry/{id}/` at step `index`; `None` for an unknown entry.
    pub fn entry(&self, index: usize, id: u64) -> Option<Bytes> {
        let idx = self.managers.index(id)?;
        let step = self.step(index);
        let table = self.table(index);
        let h2h = self.h2h_table(index);
        let (rows, weeks) = self.rows(idx, index);
        let names = self.managers.names(idx);
        let region = REGIONS[(hash(&[id, label("region")]) % REGIONS.len() as u64) as usize];
        let current = World::visible_gw(step);
        let last = rows.last();
        let live = weeks.last().is_some_and(|w| w.live && w.gw == current);
        let n = self.managers.count() as u64;
        let league = |league: u64, rank: u32, last_rank: u32| EntryLeague {
            id: LeagueId(league),
            name: if league == H2H_LEAGUE {
                "fplsync Simulated H2H".into()
            } else {
                "fplsync Simulated League".into()
            },
            short_name: None,
            created: "2025-07-20T12:00:00Z".parse().ok(),
            closed: false,
            league_type: Some("x".into()),
            scoring: Some(if league == H2H_LEAGUE { "h" } else { "c" }.into()),
            admin_entry: Some(EntryId(self.managers.id(0))),
            start_event: Some(EventId(1)),
            has_cup: Some(false),
            cup_league: None,
            rank_count: Some(n),
            entry_rank: Some(rank),
            entry_last_rank: Some(last_rank),
            entry_percentile_rank: Some(percentile(
                (u64::from(rank) * RANKED / n.max(1)).max(1) as u32
            )),
        };
        let body = Entry {
            id: EntryId(id),
            name: names.team,
            player_first_name: names.first,
            player_last_name: names.last,
            joined_time: self.managers.joined(idx),
            started_event: EventId(1),
            favourite_team: Some(TeamId(1 + (hash(&[id, label("club")]) % 20) as u16)),
            player_region_id: Some(region.0),
            player_region_name: Some(region.1.into()),
            player_region_iso_code_short: Some(region.2.into()),
            player_region_iso_code_long: Some(region.3.into()),
            years_active: Some(self.managers.years_active(idx)),
            summary_overall_points: Some(table.total[idx]),
            summary_overall_rank: Some(table.rank[idx]),
            summary_event_points: Some(table.event_points[idx]),
            summary_event_rank: if live {
                None
            } else {
                Some(plausible_rank(id, current, "rank"))
            },
            current_event: (current > 0).then_some(EventId(current)),
            entered_events: (1..=current).map(EventId).collect(),
            name_change_blocked: false,
            last_deadline_bank: last.map(|r| r.bank),
            last_deadline_value: last.map(|r| r.value),
            last_deadline_total_transfers: Some(rows.iter().map(|r| r.event_transfers).sum()),
            leagues: EntryLeagues {
                classic: vec![league(
                    CLASSIC_LEAGUE,
                    table.rank[idx],
                    table.last_rank[idx],
                )],
                h2h: vec![league(H2H_LEAGUE, h2h.rank[idx], h2h.rank[idx])],
                cup: None,
                cup_matches: Vec::new(),
            },
        };
        Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
    }

    /// `entry/{id}/history/` at step `index`.
    pub fn history(&self, index: usize, id: u64) -> Option<Bytes> {
        let idx = self.managers.index(id)?;
        let (current, weeks) = self.rows(idx, index);
        let past = (1..self.managers.years_active(idx))
            .map(|k| {
                let end = 2025 - k;
                let rank = plausible_rank(id, k as u16, "past");
                PastSeason {
                    season_name: format!("{}/{:02}", end - 1, end % 100),
                    total_points: 1_800 + (hash(&[id, u64::from(k), label("past")]) % 900) as i32,
                    rank: Some(rank),
                    rank_percentage: Some(f64::from(percentile(rank))),
                }
            })
            .collect();
        let chips = weeks
            .iter()
            .filter_map(|w| {
                let kind = w.sel.chip?;
                Some(ChipUse {
                    name: chip(kind),
                    time: self.deadline(w.gw) - Duration::hours(3),
                    event: EventId(w.gw),
                })
            })
            .collect();
        let body = EntryHistory {
            current,
            past,
            chips,
        };
        Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
    }

    /// `entry/{id}/event/{gw}/picks/` at step `index`: `None` (404) for an unknown entry, a
    /// gameweek whose deadline has not passed, or one before the first simulated gameweek.
    pub fn picks(&self, index: usize, id: u64, gw: u16) -> Option<Bytes> {
        let idx = self.managers.index(id)?;
        let step = self.step(index);
        if gw > World::visible_gw(step) {
            return None;
        }
        if let Some(m) = self.managers.real(idx)
            && gw == LAST_GW
            && World::completed_gw(step) == LAST_GW
        {
            return Some(m.final_json.clone());
        }
        let (rows, weeks) = self.rows(idx, index);
        let week = weeks.iter().find(|w| w.gw == gw)?;
        let row = rows.into_iter().find(|r| r.event.0 == gw)?;
        let body = PicksResponse {
            active_chip: week.sel.chip.map(chip),
            automatic_subs: if week.final_rules {
                week.scored
                    .subs()
                    .iter()
                    .map(|&(inn, out)| AutomaticSub {
                        entry: EntryId(id),
                        element_in: ElementId(inn),
                        element_out: ElementId(out),
                        event: EventId(gw),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            entry_history: row,
            picks: week
                .scored
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
        };
        Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
    }

    /// `entry/{id}/transfers/` at step `index`: the synthetic manager's transfers of the
    /// simulated gameweeks whose deadline has passed, newest first.
    pub fn transfers(&self, index: usize, id: u64) -> Option<Bytes> {
        let idx = self.managers.index(id)?;
        let weeks = self.weeks(idx, self.step(index));
        let mut list: Vec<Transfer> = weeks
            .iter()
            .flat_map(|w| {
                w.transfers.iter().enumerate().map(move |(k, t)| Transfer {
                    entry: EntryId(id),
                    event: EventId(w.gw),
                    element_in: ElementId(t.element_in.id),
                    element_in_cost: t.element_in.cost,
                    element_out: ElementId(t.element_out.id),
                    element_out_cost: t.element_out.cost,
                    time: self.deadline(w.gw)
                        - Duration::minutes(
                            30 + (hash(&[id, u64::from(w.gw), k as u64]) % 2_000) as i64,
                        ),
                })
            })
            .collect();
        list.sort_by_key(|t| std::cmp::Reverse(t.time));
        Some(Bytes::from(serde_json::to_vec(&list).expect("serializes")))
    }

    /// `entry/{id}/cup/`: no simulated manager is in the FPL cup.
    pub fn cup(&self, id: u64) -> Option<Bytes> {
        self.managers.index(id)?;
        let body = EntryCup {
            cup_matches: Vec::new(),
            cup_status: Some(CupStatus::default()),
        };
        Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
    }
}
