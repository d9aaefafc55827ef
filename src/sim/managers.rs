//! The simulated managers: the 72 real ones of gameweek 38 and N synthetic ones.
//!
//! Managers are addressed by an index (`0..count`): real managers first, by entry id, then the
//! synthetic ones, whose entry ids are `SYNTHETIC_BASE + 1 ..= SYNTHETIC_BASE + N`. Nothing per
//! manager is stored: names, squads, chips and transfers are recomputed from `(seed, entry id)`
//! on demand (see `squad`), so 100,000 managers cost no memory until asked for.
//!
//! Gameweeks before the first simulated one (1–37 in the gw38 scenario, 1–29 in the season
//! scenario) exist only as history rows: a season total split into plausible weekly scores.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::dataset::{Dataset, RealManager};
use super::rng::{Rng, hash, label};
use super::squad::{self, LAST_GW, Selection, Transfer};

/// Synthetic entry ids start above this (real 2025-26 ids stay below 13 million).
pub const SYNTHETIC_BASE: u64 = 20_000_000;

/// The managers of one simulator.
#[derive(Debug, Clone)]
pub struct Managers {
    data: Arc<Dataset>,
    seed: u64,
    synthetic: u32,
    /// First gameweek with picks (38, or 30 in the season scenario).
    first_gw: u16,
}

/// A manager's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub first: String,
    pub last: String,
    pub team: String,
}

impl Names {
    pub fn player_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

const FIRST: [&str; 40] = [
    "James", "Oliver", "Harry", "Jack", "George", "Noah", "Leo", "Arthur", "Muhammad", "Oscar",
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Sophia", "Grace", "Freya", "Rahul",
    "Arjun", "Wei", "Hiroshi", "Lars", "Sven", "Diego", "Mateo", "Luca", "Kofi", "Aoife",
    "Siobhan", "Chloe", "Fatima", "Priya", "Ingrid", "Sofia", "Nia", "Zara", "Maya",
];
const LAST: [&str; 40] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Wright", "Walker", "Evans", "Thomas", "Roberts", "Green", "Hall", "Wood", "Clarke", "Khan",
    "Murphy", "O'Brien", "Kelly", "Singh", "Nguyen", "Chen", "Larsen", "Hansen", "Garcia", "Rossi",
    "Mensah", "Okafor", "Novak", "Silva", "Costa", "Müller", "Dubois", "Sato", "Kim", "Andersen",
    "Byrne",
];
const ADJECTIVE: [&str; 16] = [
    "Expected",
    "Differential",
    "Premium",
    "Budget",
    "Triple",
    "Bench",
    "Wild",
    "Free",
    "Clean",
    "Captain",
    "Mighty",
    "Red",
    "Blue",
    "Golden",
    "Deadline",
    "Late",
];
const NOUN: [&str; 16] = [
    "Toffees",
    "Gunners",
    "Hitters",
    "Boosters",
    "Punters",
    "Wanderers",
    "Rovers",
    "Dreamers",
    "Hammers",
    "Hotspurs",
    "Magpies",
    "Foxes",
    "XI",
    "Athletic",
    "United",
    "City",
];

impl Managers {
    pub fn new(data: Arc<Dataset>, seed: u64, synthetic: u32, first_gw: u16) -> Self {
        Managers {
            data,
            seed,
            synthetic,
            first_gw,
        }
    }

    pub fn count(&self) -> usize {
        self.data.real.len() + self.synthetic as usize
    }

    pub fn first_gw(&self) -> u16 {
        self.first_gw
    }

    /// The entry id of manager `idx`.
    pub fn id(&self, idx: usize) -> u64 {
        match self.data.real.get(idx) {
            Some(m) => m.id,
            None => SYNTHETIC_BASE + (idx - self.data.real.len()) as u64 + 1,
        }
    }

    /// The index of entry `id`, if it is one of ours.
    pub fn index(&self, id: u64) -> Option<usize> {
        if id > SYNTHETIC_BASE && id <= SYNTHETIC_BASE + u64::from(self.synthetic) {
            return Some(self.data.real.len() + (id - SYNTHETIC_BASE - 1) as usize);
        }
        self.data.real.binary_search_by_key(&id, |m| m.id).ok()
    }

    pub fn real(&self, idx: usize) -> Option<&RealManager> {
        self.data.real.get(idx)
    }

    pub fn names(&self, idx: usize) -> Names {
        let id = self.id(idx);
        let mut rng = Rng::keyed(&[id, label("names")]);
        let first = FIRST[rng.below(40) as usize].to_string();
        let last = LAST[rng.below(40) as usize].to_string();
        let team = match rng.below(4) {
            0 => format!("{last}'s {}", NOUN[rng.below(16) as usize]),
            1 => format!("{first}'s XI"),
            _ => format!(
                "{} {}",
                ADJECTIVE[rng.below(16) as usize],
                NOUN[rng.below(16) as usize]
            ),
        };
        Names { first, last, team }
    }

    /// When the manager registered (before the season started).
    pub fn joined(&self, idx: usize) -> DateTime<Utc> {
        let base: DateTime<Utc> = "2025-06-20T09:00:00Z".parse().expect("a valid time");
        base + Duration::seconds((hash(&[self.id(idx), label("joined")]) % (50 * 86_400)) as i64)
    }

    /// Manager `idx`'s picks for `gw`, when the simulator has picks for that gameweek.
    pub fn selection(&self, idx: usize, gw: u16) -> Option<Selection> {
        if gw < self.first_gw || gw > LAST_GW {
            return None;
        }
        match self.real(idx) {
            Some(m) => Some(real_selection(m, gw)),
            None => Some(squad::selection(
                &self.data.pool,
                self.seed,
                self.id(idx),
                gw,
            )),
        }
    }

    /// Visits `gw` and its selection and transfers for every simulated gameweek up to `upto`.
    pub fn walk(&self, idx: usize, upto: u16, visit: impl FnMut(u16, &Selection, &[Transfer])) {
        self.walk_from(idx, self.first_gw, upto, visit);
    }

    /// Like [`Managers::walk`], visiting only gameweeks `from..=upto` (cheaper: no line-ups
    /// are drawn for the gameweeks skipped).
    pub fn walk_from(
        &self,
        idx: usize,
        from: u16,
        upto: u16,
        mut visit: impl FnMut(u16, &Selection, &[Transfer]),
    ) {
        let from = from.max(self.first_gw);
        if upto < from {
            return;
        }
        match self.real(idx) {
            Some(m) => {
                for gw in from..=upto.min(LAST_GW) {
                    visit(gw, &real_selection(m, gw), &[]);
                }
            }
            None => {
                let (pool, id) = (&self.data.pool, self.id(idx));
                squad::walk(pool, self.seed, id, from, upto, visit);
            }
        }
    }

    /// A synthetic manager's season total before the first simulated gameweek (40–62 points a
    /// gameweek on average). Real managers' totals derive from their real picks instead.
    pub fn synthetic_base(&self, idx: usize) -> i32 {
        let gws = i32::from(self.first_gw - 1);
        let avg = 40 + (hash(&[self.seed, self.id(idx), label("base")]) % 23) as i32;
        avg * gws + (hash(&[self.seed, self.id(idx), label("extra")]) % 20) as i32
    }

    /// A total split over gameweeks `1..first_gw` as plausible weekly points summing to it.
    pub fn early_points(&self, idx: usize, total: i32) -> Vec<i32> {
        let n = i32::from(self.first_gw - 1);
        if n <= 0 {
            return Vec::new();
        }
        let avg = total / n;
        let mut out = vec![avg; n as usize];
        let mut rng = Rng::keyed(&[self.id(idx), label("early")]);
        for pair in out.chunks_mut(2) {
            if let [a, b] = pair {
                let swing = rng.range(0, 25) as i32;
                let swing = swing.min(*a).min(*b);
                *a += swing;
                *b -= swing;
            }
        }
        if let Some(last) = out.last_mut() {
            *last += total - avg * n;
        }
        out
    }

    /// Seasons played before (1–8), for `years_active` and `history.past`.
    pub fn years_active(&self, idx: usize) -> u32 {
        1 + (hash(&[self.id(idx), label("years")]) % 8) as u32
    }
}

/// A real manager's picks: gameweek 38 as chosen; earlier gameweeks of the season scenario
/// replay the same squad with no chip and no transfers.
fn real_selection(m: &RealManager, gw: u16) -> Selection {
    let mut sel = m.original;
    if gw != LAST_GW {
        sel.chip = None;
        sel.transfers = 0;
        sel.cost = 0;
    }
    sel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn managers(first_gw: u16) -> Managers {
        Managers::new(Dataset::shared().unwrap(), 7, 1_000, first_gw)
    }

    #[test]
    fn ids_and_indices_map_both_ways() {
        let m = managers(38);
        assert_eq!(m.count(), 1_072);
        for idx in [0, 71, 72, 500, 1_071] {
            assert_eq!(m.index(m.id(idx)), Some(idx));
        }
        assert_eq!(m.id(72), SYNTHETIC_BASE + 1);
        assert_eq!(m.index(SYNTHETIC_BASE + 1_001), None);
        assert_eq!(m.index(12345), None);
    }

    #[test]
    fn early_points_sum_to_the_total_and_stay_plausible() {
        let m = managers(30);
        for idx in [0, 100, 999] {
            let base = m.synthetic_base(idx);
            let weeks = m.early_points(idx, base);
            assert_eq!(weeks.len(), 29);
            assert_eq!(weeks.iter().sum::<i32>(), base);
            assert!(weeks.iter().all(|&p| (0..150).contains(&p)), "{weeks:?}");
        }
    }

    #[test]
    fn names_are_deterministic_and_varied() {
        let m = managers(38);
        assert_eq!(m.names(80), m.names(80));
        let distinct: std::collections::HashSet<String> =
            (72..272).map(|i| m.names(i).team).collect();
        assert!(distinct.len() > 100);
    }
}
