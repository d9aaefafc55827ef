//! The simulated leagues: classic league 1 and H2H league 2, both over every manager (real and
//! synthetic), with FPL's paging (50 rows a page, `has_next`).
//!
//! - [`Table`]: every manager's points at one step — net points of each simulated gameweek,
//!   season total, gameweek total, rank (ties share it), rank before the gameweek. Computed in
//!   one pass over all managers (squads regenerated on the fly) and cached per step by the world.
//! - [`H2hTable`]: H2H results over the completed gameweeks from the first simulated one, with
//!   a round-robin drawn by the circle method (an odd field meets the "AVERAGE" opponent).

use std::cmp::Reverse;
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

use crate::fpl::model::{
    ClassicStandingRow, ClassicStandings, EntryId, EventId, H2hMatch, H2hStandingRow, H2hStandings,
    LeagueId, LeagueInfo, Page,
};

use super::squad::{Compact, LAST_GW, score};
use super::world::World;

pub const CLASSIC_LEAGUE: u64 = 1;
pub const H2H_LEAGUE: u64 = 2;
pub const PAGE_SIZE: usize = 50;

/// Every manager's points at one step.
#[derive(Debug, Clone)]
pub struct Table {
    /// Simulated gameweeks whose deadline has passed.
    pub gws: Vec<u16>,
    /// Net points, `idx * gws.len() + k`.
    nets: Vec<i16>,
    /// Season total (transfer costs deducted).
    pub total: Vec<i32>,
    /// Net points of the current gameweek (the league's `event_total`).
    pub event_total: Vec<i32>,
    /// Gross points of the current gameweek (the entry's `summary_event_points`).
    pub event_points: Vec<i32>,
    /// Manager indices from first to last.
    pub order: Vec<u32>,
    /// Rank by total (ties share the best rank), by manager index.
    pub rank: Vec<u32>,
    /// Rank without ties (total, then entry id), by manager index.
    pub rank_sort: Vec<u32>,
    /// Rank before the current gameweek's points, by manager index.
    pub last_rank: Vec<u32>,
    /// Average net points of each gameweek of `gws`.
    averages: Vec<i32>,
}

impl Table {
    /// Net points of manager `idx` in simulated gameweek `gw`.
    pub fn net(&self, idx: usize, gw: u16) -> Option<i32> {
        let k = self.gws.iter().position(|&g| g == gw)?;
        Some(i32::from(self.nets[idx * self.gws.len() + k]))
    }

    /// Average net points of gameweek `gw` over all managers (0 for a gameweek not played).
    pub fn average(&self, gw: u16) -> i32 {
        self.gws
            .iter()
            .position(|&g| g == gw)
            .map_or(0, |k| self.averages[k])
    }
}

/// Ranks by `key` descending, ties broken by entry id: (order, rank with ties, rank without).
fn rank_by(key: &[i32], id: impl Fn(usize) -> u64) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let n = key.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| (Reverse(key[i as usize]), id(i as usize)));
    let mut rank = vec![0u32; n];
    let mut rank_sort = vec![0u32; n];
    for (pos, &i) in order.iter().enumerate() {
        let i = i as usize;
        rank_sort[i] = pos as u32 + 1;
        rank[i] = match pos.checked_sub(1).map(|p| order[p] as usize) {
            Some(prev) if key[prev] == key[i] => rank[prev],
            _ => pos as u32 + 1,
        };
    }
    (order, rank, rank_sort)
}

/// A manager's points in a gameweek that is over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FinalPoints {
    pub points: i16,
    pub cost: u8,
}

impl FinalPoints {
    fn net(self) -> i16 {
        self.points - i16::from(self.cost)
    }
}

/// Scores every manager at step `index`.
///
/// The first table of a gameweek walks every manager's squad chain (regenerating squads,
/// transfers and line-ups); it keeps the net points of gameweeks that are over and the current
/// gameweek's selections, so the tables of its later phases only re-score.
pub fn compute_table(world: &World, index: usize) -> Table {
    let step = world.step(index);
    let managers = &world.managers;
    let n = managers.count();
    let first = managers.first_gw();
    let upto = World::visible_gw(step);
    let completed = World::completed_gw(step);
    let gws: Vec<u16> = (first..=upto).collect();
    let k = gws.len();
    let lives: Vec<_> = gws
        .iter()
        .map(|&gw| {
            world
                .live_points(gw, step)
                .expect("a simulated gameweek has data")
        })
        .collect();
    let mut nets = vec![0i16; n * k];
    let mut event_points = vec![0i32; n];
    // Only gameweeks over at this step may use final figures (the clock can go back).
    let cached: Vec<Option<Arc<Vec<FinalPoints>>>> = gws
        .iter()
        .map(|&gw| (gw <= completed).then(|| world.final_points(gw)).flatten())
        .collect();
    let current_sels = (k > 0).then(|| world.selections(upto)).flatten();
    let fast = k > 0
        && cached[..k - 1].iter().all(Option::is_some)
        && (cached[k - 1].is_some() || current_sels.is_some());
    if fast {
        for (j, c) in cached.iter().enumerate() {
            if let Some(c) = c {
                for idx in 0..n {
                    nets[idx * k + j] = c[idx].net();
                    if j + 1 == k {
                        event_points[idx] = i32::from(c[idx].points);
                    }
                }
            }
        }
        if let (None, Some(sels)) = (&cached[k - 1], &current_sels) {
            let (live, final_rules) = &lives[k - 1];
            for idx in 0..n {
                let sel = sels[idx].expand(&world.data.pool);
                let s = score(&sel, live, *final_rules);
                nets[idx * k + k - 1] = (s.points - i32::from(sel.cost)) as i16;
                event_points[idx] = s.points;
            }
        }
    } else if k > 0 {
        // Gameweeks already cached need no line-ups: walk from the first one that is not.
        let from = cached
            .iter()
            .position(Option::is_none)
            .map_or(upto, |j| gws[j]);
        let mut sels = Vec::with_capacity(n);
        let mut points = vec![FinalPoints::default(); n * k];
        for (j, c) in cached.iter().enumerate() {
            if let Some(c) = c {
                for idx in 0..n {
                    points[idx * k + j] = c[idx];
                    nets[idx * k + j] = c[idx].net();
                }
            }
        }
        for idx in 0..n {
            managers.walk_from(idx, from, upto, |gw, sel, _| {
                let j = usize::from(gw - first);
                let (live, final_rules) = &lives[j];
                let s = score(sel, live, *final_rules);
                points[idx * k + j] = FinalPoints {
                    points: s.points as i16,
                    cost: sel.cost,
                };
                nets[idx * k + j] = points[idx * k + j].net();
                if j + 1 == k {
                    event_points[idx] = s.points;
                    sels.push(Compact::of(sel));
                }
            });
        }
        for (j, &gw) in gws.iter().enumerate() {
            if gw <= completed && cached[j].is_none() {
                let column = (0..n).map(|idx| points[idx * k + j]).collect();
                world.keep_final_points(gw, Arc::new(column));
            }
        }
        world.keep_selections(upto, Arc::new(sels));
    }
    let mut total = vec![0i32; n];
    let mut event_total = vec![0i32; n];
    for idx in 0..n {
        let base = world.base_total(idx);
        let row = &nets[idx * k..(idx + 1) * k];
        total[idx] = base + row.iter().map(|&x| i32::from(x)).sum::<i32>();
        match row.last() {
            Some(&last) => event_total[idx] = i32::from(last),
            None => {
                let last = managers
                    .early_points(idx, base)
                    .last()
                    .copied()
                    .unwrap_or(0);
                event_total[idx] = last;
                event_points[idx] = last;
            }
        }
    }
    let averages = (0..k)
        .map(|j| {
            let sum: i64 = (0..n).map(|i| i64::from(nets[i * k + j])).sum();
            (sum as f64 / n.max(1) as f64).round() as i32
        })
        .collect();
    let (order, rank, rank_sort) = rank_by(&total, |i| managers.id(i));
    let before: Vec<i32> = total.iter().zip(&event_total).map(|(t, e)| t - e).collect();
    let (_, last_rank, _) = rank_by(&before, |i| managers.id(i));
    Table {
        gws,
        nets,
        total,
        event_total,
        event_points,
        order,
        rank,
        rank_sort,
        last_rank,
        averages,
    }
}

/// A side of a round-robin round: `(first, second)` of match `k` in round `round` of a field of
/// `n` (even) players; the circle method keeps player `n − 1` fixed and rotates the others.
pub fn pairing(n: usize, round: usize, k: usize) -> (usize, usize) {
    let m = n - 1;
    let r = round % m;
    if k == 0 {
        (r, m)
    } else {
        ((r + k) % m, (r + m - k) % m)
    }
}

/// H2H results of one manager.
#[derive(Debug, Clone, Copy, Default)]
pub struct H2hRecord {
    pub played: u32,
    pub won: u32,
    pub drawn: u32,
    pub lost: u32,
    pub points_for: i32,
    /// League points: 3 a win, 1 a draw.
    pub total: i32,
}

/// The H2H league at one step.
#[derive(Debug, Clone)]
pub struct H2hTable {
    pub records: Vec<H2hRecord>,
    pub order: Vec<u32>,
    pub rank: Vec<u32>,
}

/// The H2H field size: the managers, plus the AVERAGE opponent when odd.
fn field(n: usize) -> usize {
    n + n % 2
}

/// H2H results over the completed simulated gameweeks at step `index`.
pub fn compute_h2h(world: &World, index: usize, table: &Table) -> H2hTable {
    let step = world.step(index);
    let n = world.managers.count();
    let field = field(n);
    let first = world.managers.first_gw();
    let mut records = vec![H2hRecord::default(); n];
    for gw in first..=World::completed_gw(step) {
        let average = table.average(gw);
        let net = |i: usize| {
            if i >= n {
                average
            } else {
                table.net(i, gw).unwrap_or(0)
            }
        };
        for k in 0..field / 2 {
            let (a, b) = pairing(field, usize::from(gw - first), k);
            let (pa, pb) = (net(a), net(b));
            for (me, mine, theirs) in [(a, pa, pb), (b, pb, pa)] {
                if me >= n {
                    continue;
                }
                let r = &mut records[me];
                r.played += 1;
                r.points_for += mine;
                match mine.cmp(&theirs) {
                    std::cmp::Ordering::Greater => {
                        r.won += 1;
                        r.total += 3;
                    }
                    std::cmp::Ordering::Equal => {
                        r.drawn += 1;
                        r.total += 1;
                    }
                    std::cmp::Ordering::Less => r.lost += 1,
                }
            }
        }
    }
    let key: Vec<i64> = records
        .iter()
        .map(|r| i64::from(r.total) * 100_000 + i64::from(r.points_for))
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| (Reverse(key[i as usize]), world.managers.id(i as usize)));
    let mut rank = vec![0u32; n];
    for (pos, &i) in order.iter().enumerate() {
        let i = i as usize;
        rank[i] = match pos.checked_sub(1).map(|p| order[p] as usize) {
            Some(prev) if key[prev] == key[i] => rank[prev],
            _ => pos as u32 + 1,
        };
    }
    H2hTable {
        records,
        order,
        rank,
    }
}

fn league_info(id: u64, admin: u64) -> LeagueInfo {
    let h2h = id == H2H_LEAGUE;
    LeagueInfo {
        id: LeagueId(id),
        name: if h2h {
            "fplsync Simulated H2H".into()
        } else {
            "fplsync Simulated League".into()
        },
        created: "2025-07-20T12:00:00Z".parse().ok(),
        closed: false,
        max_entries: None,
        league_type: Some("x".into()),
        scoring: Some(if h2h { "h" } else { "c" }.into()),
        admin_entry: Some(EntryId(admin)),
        start_event: Some(EventId(1)),
        code_privacy: Some("p".into()),
        has_cup: Some(false),
        cup_league: None,
        ko_rounds: h2h.then_some(0),
    }
}

/// `(rows of page, has_next)` over `n` items, pages from 1.
pub(super) fn page_range(n: usize, page: u32) -> (std::ops::Range<usize>, bool) {
    let start = (page.max(1) as usize - 1).saturating_mul(PAGE_SIZE).min(n);
    let end = (start + PAGE_SIZE).min(n);
    (start..end, end < n)
}

fn empty_page<T>(page: u32) -> Page<T> {
    Page {
        has_next: false,
        page: page.max(1),
        results: Vec::new(),
    }
}

/// `leagues-classic/{id}/standings/?page_standings=N` at step `index`.
pub fn classic_standings(
    world: &World,
    index: usize,
    league: u64,
    page: u32,
    page_new_entries: u32,
    now: DateTime<Utc>,
) -> Option<Bytes> {
    if league != CLASSIC_LEAGUE {
        return None;
    }
    let table = world.table(index);
    let (range, has_next) = page_range(table.order.len(), page);
    let results = table.order[range]
        .iter()
        .map(|&i| {
            let i = i as usize;
            let names = world.managers.names(i);
            ClassicStandingRow {
                entry: EntryId(world.managers.id(i)),
                entry_name: names.team.clone(),
                player_name: names.player_name(),
                rank: table.rank[i],
                last_rank: table.last_rank[i],
                rank_sort: table.rank_sort[i],
                total: table.total[i],
                event_total: table.event_total[i],
                id: Some(i as u64 + 1),
                has_played: Some(true),
            }
        })
        .collect();
    let body = ClassicStandings {
        league: league_info(league, world.managers.id(0)),
        new_entries: Some(empty_page(page_new_entries)),
        standings: Page {
            has_next,
            page: page.max(1),
            results,
        },
        last_updated_data: Some(now),
    };
    Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
}

/// `leagues-h2h/{id}/standings/?page_standings=N` at step `index`.
pub fn h2h_standings(world: &World, index: usize, league: u64, page: u32) -> Option<Bytes> {
    if league != H2H_LEAGUE {
        return None;
    }
    let h2h = world.h2h_table(index);
    let (range, has_next) = page_range(h2h.order.len(), page);
    let results = h2h.order[range]
        .iter()
        .enumerate()
        .map(|(pos, &i)| {
            let i = i as usize;
            let names = world.managers.names(i);
            let r = h2h.records[i];
            H2hStandingRow {
                entry: EntryId(world.managers.id(i)),
                entry_name: Some(names.team.clone()),
                player_name: Some(names.player_name()),
                rank: Some(h2h.rank[i]),
                last_rank: Some(h2h.rank[i]),
                rank_sort: Some((page.max(1) - 1) * PAGE_SIZE as u32 + pos as u32 + 1),
                total: Some(r.total),
                matches_played: Some(r.played),
                matches_won: Some(r.won),
                matches_drawn: Some(r.drawn),
                matches_lost: Some(r.lost),
                points_for: Some(r.points_for),
                id: Some(i as u64 + 1),
                division: Some(1),
            }
        })
        .collect();
    let body = H2hStandings {
        league: league_info(league, world.managers.id(0)),
        new_entries: Some(empty_page(1)),
        standings: Page {
            has_next,
            page: page.max(1),
            results,
        },
    };
    Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
}

/// `leagues-h2h-matches/league/{id}/?page=N[&event=E]` at step `index`: every match of every
/// gameweek from the first simulated one to 38, by gameweek; points once the deadline passed,
/// results once the gameweek is over.
pub fn h2h_matches(
    world: &World,
    index: usize,
    league: u64,
    page: u32,
    event: Option<u16>,
) -> Option<Bytes> {
    if league != H2H_LEAGUE {
        return None;
    }
    let step = world.step(index);
    let managers = &world.managers;
    let n = managers.count();
    let field = field(n);
    let per_gw = field / 2;
    let first = managers.first_gw();
    let gws: Vec<u16> = match event {
        Some(e) if (first..=LAST_GW).contains(&e) => vec![e],
        Some(_) => Vec::new(),
        None => (first..=LAST_GW).collect(),
    };
    let (range, has_next) = page_range(gws.len() * per_gw, page);
    let table = world.table(index);
    let completed = World::completed_gw(step);
    let results = range
        .map(|m| {
            let gw = gws[m / per_gw];
            let k = m % per_gw;
            let (a, b) = pairing(field, usize::from(gw - first), k);
            let average = table.gws.contains(&gw).then(|| table.average(gw));
            let points = |i: usize| {
                if i >= n { average } else { table.net(i, gw) }
            };
            let (pa, pb) = (points(a), points(b));
            let done = gw <= completed;
            let outcome = |mine: Option<i32>, theirs: Option<i32>| match (done, mine, theirs) {
                (true, Some(x), Some(y)) => {
                    let (w, d, l) = (u8::from(x > y), u8::from(x == y), u8::from(x < y));
                    (
                        Some(i32::from(w)),
                        Some(i32::from(d)),
                        Some(i32::from(l)),
                        Some(3 * i32::from(w) + i32::from(d)),
                    )
                }
                _ => (None, None, None, None),
            };
            let (w1, d1, l1, t1) = outcome(pa, pb);
            let (w2, d2, l2, t2) = outcome(pb, pa);
            let side = |i: usize| {
                (i < n).then(|| {
                    let names = managers.names(i);
                    (
                        EntryId(managers.id(i)),
                        names.team.clone(),
                        names.player_name(),
                    )
                })
            };
            let (s1, s2) = (side(a), side(b));
            let winner = match (done, pa, pb) {
                (true, Some(x), Some(y)) if x > y => s1.as_ref().map(|s| s.0),
                (true, Some(x), Some(y)) if y > x => s2.as_ref().map(|s| s.0),
                _ => None,
            };
            H2hMatch {
                id: u64::from(gw) * 1_000_000 + k as u64 + 1,
                league: Some(LeagueId(league)),
                event: Some(EventId(gw)),
                entry_1_entry: s1.as_ref().map(|s| s.0),
                entry_1_name: s1.as_ref().map(|s| s.1.clone()),
                entry_1_player_name: s1.as_ref().map(|s| s.2.clone()),
                entry_1_points: pa.or(Some(0)),
                entry_1_win: w1,
                entry_1_draw: d1,
                entry_1_loss: l1,
                entry_1_total: t1,
                entry_2_entry: s2.as_ref().map(|s| s.0),
                entry_2_name: Some(s2.as_ref().map_or("AVERAGE".into(), |s| s.1.clone())),
                entry_2_player_name: Some(s2.as_ref().map_or("AVERAGE".into(), |s| s.2.clone())),
                entry_2_points: pb.or(Some(0)),
                entry_2_win: w2,
                entry_2_draw: d2,
                entry_2_loss: l2,
                entry_2_total: t2,
                is_knockout: Some(false),
                winner,
                is_bye: Some(false),
                knockout_name: None,
            }
        })
        .collect();
    let body = Page {
        has_next,
        page: page.max(1),
        results,
    };
    Some(Bytes::from(serde_json::to_vec(&body).expect("serializes")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_circle_method_gives_everyone_one_match_a_round_and_each_pair_once() {
        for n in [2usize, 4, 10, 36] {
            let mut pairs = HashSet::new();
            for round in 0..n - 1 {
                let mut seen = HashSet::new();
                for k in 0..n / 2 {
                    let (a, b) = pairing(n, round, k);
                    assert_ne!(a, b);
                    assert!(seen.insert(a) && seen.insert(b), "n {n} round {round}");
                    assert!(pairs.insert((a.min(b), a.max(b))), "pair repeated");
                }
                assert_eq!(seen.len(), n);
            }
            assert_eq!(pairs.len(), n * (n - 1) / 2);
        }
    }

    #[test]
    fn ranks_share_ties_and_rank_sort_does_not() {
        let (order, rank, rank_sort) = rank_by(&[50, 70, 50, 90], |i| 10 - i as u64);
        assert_eq!(order, vec![3, 1, 2, 0]);
        assert_eq!(rank, vec![3, 2, 3, 1]);
        assert_eq!(rank_sort, vec![4, 2, 3, 1]);
    }

    #[test]
    fn pages_have_fifty_rows_and_say_whether_more_follow() {
        assert_eq!(page_range(120, 1), (0..50, true));
        assert_eq!(page_range(120, 3), (100..120, false));
        assert_eq!(page_range(120, 4), (120..120, false));
        assert_eq!(page_range(100, 2), (50..100, false));
        assert_eq!(page_range(10, 0), (0..10, false));
    }
}
