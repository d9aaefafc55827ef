//! Squads of synthetic managers and the scoring of any manager's picks.
//!
//! This module owns the FPL squad rules and nothing else; it does no I/O and knows no endpoint:
//! - [`Pool`]: the real players (id, position, club, price) with a popularity weight.
//! - [`generate`]: a valid 15-man squad (2 GKP, 5 DEF, 5 MID, 3 FWD, at most 3 per club).
//! - [`walk`]: a synthetic manager's gameweeks from [`FIRST_GW`] on — chips, transfers (and
//!   their cost), the line-up of each gameweek — all derived from `(seed, entry)`, never stored.
//! - [`score`]: points of a [`Selection`] against live points, with FPL's automatic
//!   substitutions and captain→vice switch once the gameweek is over.
//!
//! The substitution rules were checked against the 72 real managers of gameweek 38 (see the
//! tests of `managers`): same substitutions, multipliers, points and bench points.

use super::rng::{Rng, hash, label};

pub const GKP: u8 = 1;
pub const DEF: u8 = 2;
pub const MID: u8 = 3;
pub const FWD: u8 = 4;

/// Players of each position (index = element type) in a squad.
pub const SQUAD_COUNT: [usize; 5] = [0, 2, 5, 5, 3];
/// Fewest players of each position in a playing eleven.
pub const PLAY_MIN: [usize; 5] = [0, 1, 3, 2, 1];
/// Most players of each position in a playing eleven.
pub const PLAY_MAX: [usize; 5] = [0, 1, 5, 5, 3];
/// Players allowed from one club.
pub const CLUB_LIMIT: u8 = 3;
/// The first gameweek whose picks are synthesized (the season scenario starts here).
pub const FIRST_GW: u16 = 30;
/// The last gameweek of the season.
pub const LAST_GW: u16 = 38;

/// A player as the squad rules see him.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Player {
    pub id: u32,
    /// Element type: 1 GKP, 2 DEF, 3 MID, 4 FWD.
    pub et: u8,
    pub team: u16,
    /// Price in tenths of a million.
    pub cost: u32,
}

/// The players managers choose from, with weighted draws per position.
#[derive(Debug, Clone)]
pub struct Pool {
    players: Vec<Player>,
    weight: Vec<f64>,
    /// Indices into `players` per element type.
    by_type: [Vec<u32>; 5],
    /// Cumulative weights parallel to `by_type`.
    cumulative: [Vec<f64>; 5],
    /// Element id → index into `players` (`u32::MAX` when absent).
    index_of: Vec<u32>,
}

impl Pool {
    /// A pool of `(player, weight)`; players of other element types than 1–4 are left out.
    pub fn new(entries: impl IntoIterator<Item = (Player, f64)>) -> Self {
        let mut players = Vec::new();
        let mut weight = Vec::new();
        for (p, w) in entries {
            if (GKP..=FWD).contains(&p.et) && usize::from(p.team) < 64 {
                players.push(p);
                weight.push(w.max(0.01));
            }
        }
        let mut by_type: [Vec<u32>; 5] = Default::default();
        let mut cumulative: [Vec<f64>; 5] = Default::default();
        let max_id = players.iter().map(|p| p.id).max().unwrap_or(0) as usize;
        let mut index_of = vec![u32::MAX; max_id + 1];
        for (i, p) in players.iter().enumerate() {
            let et = usize::from(p.et);
            let sum = cumulative[et].last().copied().unwrap_or(0.0) + weight[i];
            by_type[et].push(i as u32);
            cumulative[et].push(sum);
            index_of[p.id as usize] = i as u32;
        }
        Pool {
            players,
            weight,
            by_type,
            cumulative,
            index_of,
        }
    }

    pub fn get(&self, id: u32) -> Option<Player> {
        let i = *self.index_of.get(id as usize)?;
        (i != u32::MAX).then(|| self.players[i as usize])
    }

    /// Popularity weight of a player (0 when unknown).
    pub fn weight(&self, id: u32) -> f64 {
        match self.index_of.get(id as usize) {
            Some(&i) if i != u32::MAX => self.weight[i as usize],
            _ => 0.0,
        }
    }

    pub fn players(&self) -> &[Player] {
        &self.players
    }

    /// A player of type `et`, drawn by weight.
    fn draw(&self, et: u8, rng: &mut Rng) -> Player {
        let cum = &self.cumulative[usize::from(et)];
        let x = rng.unit() * cum.last().copied().unwrap_or(0.0);
        let k = cum.partition_point(|&c| c <= x).min(cum.len() - 1);
        self.players[self.by_type[usize::from(et)][k] as usize]
    }

    /// A player of type `et` that `fits`, drawn by weight; falls back to a scan.
    fn draw_fitting(&self, et: u8, rng: &mut Rng, fits: impl Fn(&Player) -> bool) -> Player {
        for _ in 0..40 {
            let p = self.draw(et, rng);
            if fits(&p) {
                return p;
            }
        }
        let of_type = &self.by_type[usize::from(et)];
        let start = rng.below(of_type.len() as u64) as usize;
        (0..of_type.len())
            .map(|k| self.players[of_type[(start + k) % of_type.len()] as usize])
            .find(|p| fits(p))
            .expect("the pool has enough players of every position for any squad")
    }
}

/// Club counts of a squad (clubs are numbered below 64).
#[derive(Clone, Copy)]
struct Clubs([u8; 64]);

impl Clubs {
    fn of(players: &[Player]) -> Self {
        let mut c = Clubs([0; 64]);
        for p in players {
            c.0[usize::from(p.team)] += 1;
        }
        c
    }

    fn has_room(&self, team: u16) -> bool {
        self.0[usize::from(team)] < CLUB_LIMIT
    }
}

/// A squad in composition order: 2 GKP, 5 DEF, 5 MID, 3 FWD.
pub type Squad = [Player; 15];

/// A valid squad drawn from the pool by popularity.
pub fn generate(pool: &Pool, rng: &mut Rng) -> Squad {
    let mut squad: Vec<Player> = Vec::with_capacity(15);
    for et in GKP..=FWD {
        for _ in 0..SQUAD_COUNT[usize::from(et)] {
            let clubs = Clubs::of(&squad);
            let p = pool.draw_fitting(et, rng, |p| {
                clubs.has_room(p.team) && !squad.iter().any(|q| q.id == p.id)
            });
            squad.push(p);
        }
    }
    squad.try_into().expect("15 players")
}

/// A chip as the simulator plays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipKind {
    Wildcard,
    FreeHit,
    BenchBoost,
    TripleCaptain,
}

impl ChipKind {
    /// The chips in the priority order used when two fall in the same gameweek.
    pub const ALL: [ChipKind; 4] = [
        ChipKind::Wildcard,
        ChipKind::FreeHit,
        ChipKind::BenchBoost,
        ChipKind::TripleCaptain,
    ];

    /// Chance that a manager plays this chip somewhere in gameweeks 30–38 (so the chance in a
    /// given gameweek is about a ninth of it: 2–4 %).
    fn season_rate(self) -> f64 {
        match self {
            ChipKind::Wildcard => 0.25,
            ChipKind::FreeHit => 0.20,
            ChipKind::BenchBoost => 0.40,
            ChipKind::TripleCaptain => 0.35,
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            ChipKind::Wildcard => "wildcard",
            ChipKind::FreeHit => "freehit",
            ChipKind::BenchBoost => "bboost",
            ChipKind::TripleCaptain => "3xc",
        }
    }

    pub fn from_api(name: &str) -> Option<ChipKind> {
        ChipKind::ALL.into_iter().find(|c| c.api_name() == name)
    }
}

/// The chip a synthetic manager plays in `gw`: each chip at most once in gameweeks 30–38, at
/// most one chip a gameweek.
pub fn chip_for(seed: u64, entry: u64, gw: u16) -> Option<ChipKind> {
    let mut taken: [Option<u16>; 4] = [None; 4];
    for (i, chip) in ChipKind::ALL.into_iter().enumerate() {
        let mut rng = Rng::keyed(&[seed, entry, label("chip"), i as u64]);
        if rng.chance(chip.season_rate()) {
            let at = FIRST_GW + rng.below(u64::from(LAST_GW - FIRST_GW + 1)) as u16;
            if !taken.contains(&Some(at)) {
                taken[i] = Some(at);
                if at == gw {
                    return Some(chip);
                }
            }
        }
    }
    None
}

/// A manager's picks for one gameweek, as chosen before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Positions 1–15: eleven starters (GKP, DEF, MID, FWD), then the bench, GKP first.
    pub picks: [Player; 15],
    /// Index (0–10) of the captain.
    pub captain: u8,
    /// Index (0–10) of the vice-captain.
    pub vice: u8,
    pub chip: Option<ChipKind>,
    /// Transfers made for this gameweek.
    pub transfers: u8,
    /// Points deducted for them.
    pub cost: u8,
    /// Money in the bank, tenths of a million.
    pub bank: i32,
}

impl Selection {
    /// Squad value, tenths of a million.
    pub fn value(&self) -> u32 {
        self.picks.iter().map(|p| p.cost).sum()
    }
}

/// Formations (DEF, MID, FWD) and how often managers pick them.
const FORMATIONS: [((usize, usize, usize), f64); 7] = [
    ((3, 4, 3), 20.0),
    ((3, 5, 2), 18.0),
    ((4, 4, 2), 20.0),
    ((4, 3, 3), 16.0),
    ((4, 5, 1), 12.0),
    ((5, 3, 2), 8.0),
    ((5, 4, 1), 6.0),
];

/// Picks a formation, the starters (the more popular the likelier), the bench order (sub GKP at
/// 12), a captain and a vice among the outfield starters.
pub fn line_up(pool: &Pool, squad: &Squad, rng: &mut Rng) -> Selection {
    let weights: Vec<f64> = FORMATIONS.iter().map(|f| f.1).collect();
    let (d, m, f) = FORMATIONS[rng.weighted(&weights)].0;
    let wanted = [0, 1, d, m, f];
    let mut xi: Vec<Player> = Vec::with_capacity(11);
    let mut bench_gk = None;
    let mut bench: Vec<(f64, Player)> = Vec::with_capacity(3);
    for et in GKP..=FWD {
        let mut of_type: Vec<(f64, Player)> = squad
            .iter()
            .filter(|p| p.et == et)
            .map(|p| (pool.weight(p.id) * (0.5 + rng.unit()), *p))
            .collect();
        of_type.sort_by(|a, b| b.0.total_cmp(&a.0));
        let n = wanted[usize::from(et)];
        xi.extend(of_type[..n].iter().map(|x| x.1));
        for rest in &of_type[n..] {
            if et == GKP {
                bench_gk = Some(rest.1);
            } else {
                bench.push(*rest);
            }
        }
    }
    bench.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut picks = Vec::with_capacity(15);
    picks.extend(xi);
    picks.push(bench_gk.expect("two goalkeepers"));
    picks.extend(bench.into_iter().map(|b| b.1));
    let picks: [Player; 15] = picks.try_into().expect("15 picks");
    // Captain and vice: outfield starters, weighted by popularity squared.
    let w: Vec<f64> = picks[..11]
        .iter()
        .map(|p| {
            if p.et == GKP {
                0.0
            } else {
                pool.weight(p.id).powi(2)
            }
        })
        .collect();
    let captain = rng.weighted(&w);
    let mut w_vice = w.clone();
    w_vice[captain] = 0.0;
    let vice = rng.weighted(&w_vice);
    Selection {
        picks,
        captain: captain as u8,
        vice: vice as u8,
        chip: None,
        transfers: 0,
        cost: 0,
        bank: 0,
    }
}

/// A transfer of a synthetic manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub event: u16,
    pub element_in: Player,
    pub element_out: Player,
}

/// The pairs (out, in) that turn squad `from` into squad `to`, position by position.
fn differences(event: u16, from: &Squad, to: &Squad) -> Vec<Transfer> {
    let mut out = Vec::new();
    for et in GKP..=FWD {
        let gone = from
            .iter()
            .filter(|p| p.et == et && !to.iter().any(|q| q.id == p.id));
        let came = to
            .iter()
            .filter(|p| p.et == et && !from.iter().any(|q| q.id == p.id));
        out.extend(gone.zip(came).map(|(o, i)| Transfer {
            event,
            element_in: *i,
            element_out: *o,
        }));
    }
    out
}

/// Replaces `n` random players of `squad`, keeping it valid; returns the transfers.
fn make_transfers(
    pool: &Pool,
    squad: &mut Squad,
    event: u16,
    n: u8,
    rng: &mut Rng,
) -> Vec<Transfer> {
    let mut done = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let slot = rng.below(15) as usize;
        let out = squad[slot];
        let mut others = *squad;
        others[slot] = Player {
            id: u32::MAX,
            team: 0,
            ..out
        };
        let clubs = Clubs::of(&others);
        let inn = pool.draw_fitting(out.et, rng, |p| {
            p.id != out.id && clubs.has_room(p.team) && !others.iter().any(|q| q.id == p.id)
        });
        squad[slot] = inn;
        done.push(Transfer {
            event,
            element_in: inn,
            element_out: out,
        });
    }
    done
}

/// Walks a synthetic manager's gameweeks `FIRST_GW..=upto`, calling `visit` with the selection
/// and transfers of each gameweek from `from` on (earlier ones only move the squad along).
///
/// The squad is drawn once (as of gameweek 29), then each gameweek: a wildcard redraws it for
/// good, a free hit for that gameweek only; otherwise 0–3 transfers (35/45/15/5 %) with one free
/// transfer a gameweek, so the cost is 0, 0, 4 or 8 points. The line-up, captain and vice are
/// drawn afresh each gameweek. The bank is fixed per manager (no budget rule is enforced).
pub fn walk(
    pool: &Pool,
    seed: u64,
    entry: u64,
    from: u16,
    upto: u16,
    mut visit: impl FnMut(u16, &Selection, &[Transfer]),
) {
    let mut squad = generate(pool, &mut Rng::keyed(&[seed, entry, label("squad")]));
    let bank = (hash(&[seed, entry, label("bank")]) % 25) as i32;
    for gw in FIRST_GW..=upto.min(LAST_GW) {
        let mut rng = Rng::keyed(&[seed, entry, u64::from(gw), label("week")]);
        let chip = chip_for(seed, entry, gw);
        let (week_squad, transfers, cost) = match chip {
            Some(ChipKind::Wildcard) => {
                let fresh = generate(pool, &mut rng);
                let t = differences(gw, &squad, &fresh);
                squad = fresh;
                (squad, t, 0)
            }
            Some(ChipKind::FreeHit) => {
                let fresh = generate(pool, &mut rng);
                (fresh, differences(gw, &squad, &fresh), 0)
            }
            _ => {
                let n = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3]
                    [rng.below(20) as usize];
                let t = make_transfers(pool, &mut squad, gw, n, &mut rng);
                (squad, t, 4 * n.saturating_sub(1))
            }
        };
        if gw < from {
            continue;
        }
        let mut sel = line_up(pool, &week_squad, &mut rng);
        sel.chip = chip;
        sel.transfers = transfers.len() as u8;
        sel.cost = cost;
        sel.bank = bank;
        visit(gw, &sel, &transfers);
    }
}

/// A synthetic manager's selection for `gw` (30–38).
pub fn selection(pool: &Pool, seed: u64, entry: u64, gw: u16) -> Selection {
    let mut out = None;
    walk(pool, seed, entry, gw, gw, |g, sel, _| {
        if g == gw {
            out = Some(*sel);
        }
    });
    out.expect("gameweek within 30..=38")
}

/// A selection in 34 bytes (element ids, armband, chip, cost): what scoring needs, for caching
/// a gameweek's selections of every manager (3.4 MB for 100,000 managers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compact {
    ids: [u16; 15],
    captain: u8,
    vice: u8,
    chip: u8,
    cost: u8,
}

impl Compact {
    pub fn of(sel: &Selection) -> Compact {
        Compact {
            ids: std::array::from_fn(|i| sel.picks[i].id as u16),
            captain: sel.captain,
            vice: sel.vice,
            chip: sel
                .chip
                .and_then(|c| ChipKind::ALL.iter().position(|x| *x == c))
                .map_or(0, |i| i as u8 + 1),
            cost: sel.cost,
        }
    }

    /// The selection back (bank and transfer count are not kept: 0).
    pub fn expand(&self, pool: &Pool) -> Selection {
        Selection {
            picks: std::array::from_fn(|i| {
                let id = u32::from(self.ids[i]);
                pool.get(id).unwrap_or(Player {
                    id,
                    et: MID,
                    team: 0,
                    cost: 0,
                })
            }),
            captain: self.captain,
            vice: self.vice,
            chip: self
                .chip
                .checked_sub(1)
                .map(|i| ChipKind::ALL[usize::from(i)]),
            transfers: 0,
            cost: self.cost,
            bank: 0,
        }
    }
}

/// Points and minutes of every player in one state of a gameweek, indexed by element id.
#[derive(Debug, Clone, Default)]
pub struct LivePoints {
    points: Vec<i16>,
    minutes: Vec<u16>,
}

impl LivePoints {
    pub fn new(rows: impl IntoIterator<Item = (u32, i32, u32)>) -> Self {
        let mut lp = LivePoints::default();
        for (id, points, minutes) in rows {
            let i = id as usize;
            if lp.points.len() <= i {
                lp.points.resize(i + 1, 0);
                lp.minutes.resize(i + 1, 0);
            }
            lp.points[i] = points as i16;
            lp.minutes[i] = minutes.min(u32::from(u16::MAX)) as u16;
        }
        lp
    }

    pub fn points(&self, id: u32) -> i32 {
        self.points.get(id as usize).map_or(0, |&p| i32::from(p))
    }

    pub fn played(&self, id: u32) -> bool {
        self.minutes.get(id as usize).is_some_and(|&m| m > 0)
    }
}

/// One scored pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoredPick {
    pub player: Player,
    /// 1–15.
    pub position: u8,
    pub multiplier: u8,
    pub is_captain: bool,
    pub is_vice_captain: bool,
}

/// A selection scored against live points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scored {
    pub picks: [ScoredPick; 15],
    /// Automatic substitutions `(element_in, element_out)`, in the order applied.
    pub subs: [(u32, u32); 4],
    pub n_subs: usize,
    /// Σ points × multiplier (transfer cost not deducted).
    pub points: i32,
    /// Points of the bench (0 under bench boost).
    pub bench_points: i32,
}

impl Scored {
    pub fn subs(&self) -> &[(u32, u32)] {
        &self.subs[..self.n_subs]
    }
}

/// Scores `sel` against `live`.
///
/// Before the gameweek is over (`final_rules` false) the picks are scored as chosen: starters ×1,
/// captain ×2 (×3 with triple captain), bench ×0 (×1 with bench boost). With `final_rules`, FPL's
/// end-of-gameweek rules apply first: each starter who did not play (0 minutes), in position
/// order, is replaced by the first bench player, in bench order, who played and keeps a valid
/// formation (a goalkeeper only by the sub goalkeeper); the eleven are then re-sorted by
/// position; if the captain did not play the vice takes his multiplier (if neither did, the
/// captain keeps it, as FPL shows).
/// FPL records substitutions under bench boost too (they change no points), and so does this.
pub fn score(sel: &Selection, live: &LivePoints, final_rules: bool) -> Scored {
    let mut picks: [ScoredPick; 15] = std::array::from_fn(|i| ScoredPick {
        player: sel.picks[i],
        position: 0,
        multiplier: 0,
        is_captain: i == usize::from(sel.captain),
        is_vice_captain: i == usize::from(sel.vice),
    });
    let mut subs = [(0, 0); 4];
    let mut n_subs = 0;
    if final_rules {
        for i in 0..11 {
            if live.played(picks[i].player.id) {
                continue;
            }
            for j in 11..15 {
                let (out, inn) = (picks[i].player, picks[j].player);
                if !live.played(inn.id) || (out.et == GKP) != (inn.et == GKP) {
                    continue;
                }
                let mut count = [0usize; 5];
                for (k, p) in picks[..11].iter().enumerate() {
                    let et = if k == i { inn.et } else { p.player.et };
                    count[usize::from(et)] += 1;
                }
                if (DEF..=FWD).any(|et| {
                    let c = count[usize::from(et)];
                    c < PLAY_MIN[usize::from(et)] || c > PLAY_MAX[usize::from(et)]
                }) {
                    continue;
                }
                picks.swap(i, j);
                subs[n_subs] = (inn.id, out.id);
                n_subs += 1;
                break;
            }
        }
        if n_subs > 0 {
            picks[..11].sort_by_key(|p| p.player.et);
        }
    }
    let bench_boost = sel.chip == Some(ChipKind::BenchBoost);
    let armband = if sel.chip == Some(ChipKind::TripleCaptain) {
        3
    } else {
        2
    };
    for (i, p) in picks.iter_mut().enumerate() {
        p.position = i as u8 + 1;
        p.multiplier = u8::from(i < 11 || bench_boost);
    }
    let counts = |p: &ScoredPick| p.multiplier > 0 && (!final_rules || live.played(p.player.id));
    let captain = picks.iter().position(|p| p.is_captain && counts(p));
    let vice = picks.iter().position(|p| p.is_vice_captain && counts(p));
    // If neither played, FPL leaves the armband with a captain still in the eleven (it scores
    // nothing); one substituted onto the bench just has the bench multiplier.
    let in_eleven = picks[..11].iter().position(|p| p.is_captain);
    if let Some(i) = captain.or(vice).or(in_eleven) {
        picks[i].multiplier = armband;
    }
    let points = picks
        .iter()
        .map(|p| live.points(p.player.id) * i32::from(p.multiplier))
        .sum();
    let bench_points = if bench_boost {
        0
    } else {
        picks[11..].iter().map(|p| live.points(p.player.id)).sum()
    };
    Scored {
        picks,
        subs,
        n_subs,
        points,
        bench_points,
    }
}

/// The rules a selection must satisfy; `Err` names the first one broken.
pub fn check(sel: &Selection) -> Result<(), String> {
    let mut squad = [0usize; 5];
    for p in &sel.picks {
        squad[usize::from(p.et)] += 1;
    }
    if squad[1..] != SQUAD_COUNT[1..] {
        return Err(format!("composition {:?}", &squad[1..]));
    }
    let clubs = Clubs::of(&sel.picks);
    if clubs.0.iter().any(|&c| c > CLUB_LIMIT) {
        return Err("more than 3 players from one club".into());
    }
    let mut ids: Vec<u32> = sel.picks.iter().map(|p| p.id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != 15 {
        return Err("a player twice".into());
    }
    let mut xi = [0usize; 5];
    for p in &sel.picks[..11] {
        xi[usize::from(p.et)] += 1;
    }
    for et in 1..5 {
        if xi[et] < PLAY_MIN[et] || xi[et] > PLAY_MAX[et] {
            return Err(format!("formation {:?}", &xi[1..]));
        }
    }
    if !sel.picks[..11].windows(2).all(|w| w[0].et <= w[1].et) {
        return Err("starters not ordered by position".into());
    }
    if sel.picks[11].et != GKP {
        return Err("position 12 is not the sub goalkeeper".into());
    }
    if sel.captain == sel.vice || sel.captain > 10 || sel.vice > 10 {
        return Err("captain and vice must be two different starters".into());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pool of 20 clubs with 3 GKP, 8 DEF, 8 MID, 4 FWD each.
    pub(crate) fn pool() -> Pool {
        let mut id = 0;
        let mut entries = Vec::new();
        for team in 1..=20u16 {
            for (et, n) in [(GKP, 3), (DEF, 8), (MID, 8), (FWD, 4)] {
                for k in 0..n {
                    id += 1;
                    let p = Player {
                        id,
                        et,
                        team,
                        cost: 40 + u32::from(et) * 10 + k,
                    };
                    entries.push((p, f64::from(1 + (id * 7919) % 40)));
                }
            }
        }
        Pool::new(entries)
    }

    #[test]
    fn generated_squads_are_valid_for_every_manager_and_gameweek() {
        let pool = pool();
        for entry in 0..300 {
            walk(&pool, 11, entry, FIRST_GW, LAST_GW, |gw, sel, transfers| {
                check(sel).unwrap_or_else(|e| panic!("entry {entry} gw {gw}: {e}"));
                assert!(usize::from(sel.transfers) == transfers.len());
                assert!([0, 4, 8].contains(&sel.cost), "cost {}", sel.cost);
                if matches!(sel.chip, Some(ChipKind::Wildcard | ChipKind::FreeHit)) {
                    assert_eq!(sel.cost, 0);
                }
            });
        }
    }

    #[test]
    fn squads_are_deterministic_per_seed_and_differ_across_seeds() {
        let pool = pool();
        let a = selection(&pool, 1, 20_000_001, 38);
        assert_eq!(a, selection(&pool, 1, 20_000_001, 38));
        assert_ne!(a.picks, selection(&pool, 2, 20_000_001, 38).picks);
        assert_ne!(a.picks, selection(&pool, 1, 20_000_002, 38).picks);
    }

    #[test]
    fn a_compact_selection_scores_like_the_full_one() {
        let pool = pool();
        let live = LivePoints::new(
            pool.players()
                .iter()
                .map(|p| (p.id, (p.id % 9) as i32, p.id % 3 * 45)),
        );
        for entry in 0..200 {
            walk(&pool, 4, entry, FIRST_GW, LAST_GW, |_, sel, _| {
                let back = Compact::of(sel).expand(&pool);
                assert_eq!(
                    (back.picks, back.chip, back.cost),
                    (sel.picks, sel.chip, sel.cost)
                );
                assert_eq!(score(&back, &live, true), score(sel, &live, true));
            });
        }
    }

    #[test]
    fn chips_are_played_at_most_once_and_at_low_rates() {
        let mut per_chip = [0u32; 4];
        for entry in 0..5_000u64 {
            let chips: Vec<ChipKind> = (FIRST_GW..=LAST_GW)
                .filter_map(|gw| chip_for(3, entry, gw))
                .collect();
            for c in &chips {
                assert_eq!(chips.iter().filter(|x| *x == c).count(), 1);
                per_chip[ChipKind::ALL.iter().position(|x| x == c).unwrap()] += 1;
            }
        }
        // Per gameweek: a ninth of the season rate, a few per cent.
        for (chip, n) in ChipKind::ALL.iter().zip(per_chip) {
            let per_gw = f64::from(n) / 5_000.0 / 9.0;
            assert!(per_gw > 0.01 && per_gw < 0.05, "{chip:?}: {per_gw}");
        }
    }

    fn sel_of(players: &[(u32, u8)], captain: u8, vice: u8, chip: Option<ChipKind>) -> Selection {
        let picks: [Player; 15] = std::array::from_fn(|i| Player {
            id: players[i].0,
            et: players[i].1,
            team: i as u16,
            cost: 50,
        });
        Selection {
            picks,
            captain,
            vice,
            chip,
            transfers: 0,
            cost: 0,
            bank: 0,
        }
    }

    /// 1 GK, 4 DEF, 4 MID, 2 FWD; bench: GK 12, DEF 13, MID 14, FWD 15. Ids = position.
    fn four_four_two(chip: Option<ChipKind>) -> Selection {
        let types = [1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 1, 2, 3, 4];
        let players: Vec<(u32, u8)> = (0..15).map(|i| (i as u32 + 1, types[i])).collect();
        sel_of(&players, 9, 10, chip)
    }

    fn live(rows: &[(u32, i32, u32)]) -> LivePoints {
        let mut all: Vec<(u32, i32, u32)> = (1..=15).map(|id| (id, 2, 90)).collect();
        for r in rows {
            all[r.0 as usize - 1] = *r;
        }
        LivePoints::new(all)
    }

    #[test]
    fn live_scoring_doubles_the_captain_and_ignores_the_bench() {
        let s = score(&four_four_two(None), &live(&[(9, 0, 0)]), false);
        // Ten starters at 2 (id 9 scored nothing), captain (id 10) doubled, nobody substituted.
        assert_eq!(s.points, 2 * 10 + 2);
        assert_eq!(s.n_subs, 0);
        assert_eq!(s.bench_points, 8);
        let s = score(
            &four_four_two(Some(ChipKind::BenchBoost)),
            &live(&[]),
            false,
        );
        assert_eq!(s.points, 15 * 2 + 2);
        assert_eq!(s.bench_points, 0);
        let s = score(
            &four_four_two(Some(ChipKind::TripleCaptain)),
            &live(&[]),
            false,
        );
        assert_eq!(s.points, 11 * 2 + 2 * 2);
    }

    #[test]
    fn a_starter_who_did_not_play_is_replaced_by_the_first_bench_player_keeping_the_formation() {
        // MID 6 did not play: DEF 13 comes on (first outfield bench player who played).
        let s = score(&four_four_two(None), &live(&[(6, 0, 0)]), true);
        assert_eq!(s.subs(), &[(13, 6)]);
        assert_eq!(s.points, 11 * 2 + 2);
        // Starters re-sorted by position: five defenders, then three midfielders.
        let ets: Vec<u8> = s.picks[..11].iter().map(|p| p.player.et).collect();
        assert_eq!(ets, vec![1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4]);
        assert_eq!(s.picks[12].player.id, 6);
        // FWD 10 and 11 did not play: DEF 13 replaces the first (one forward is enough), MID 14
        // cannot replace the second (no forward left), FWD 15 can.
        let s = score(&four_four_two(None), &live(&[(10, 0, 0), (11, 0, 0)]), true);
        assert_eq!(s.subs(), &[(13, 10), (15, 11)]);
    }

    #[test]
    fn formation_limits_and_the_goalkeeper_rule_hold_for_substitutions() {
        // 3 DEF in a 3-5-2 with one missing: the bench MID and FWD cannot replace him.
        let types = [1, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 1, 3, 4, 2];
        let players: Vec<(u32, u8)> = (0..15).map(|i| (i as u32 + 1, types[i])).collect();
        let sel = sel_of(&players, 5, 6, None);
        let s = score(&sel, &live(&[(2, 0, 0)]), true);
        assert_eq!(s.subs(), &[(15, 2)]);
        // The goalkeeper only by the sub goalkeeper, and not if he did not play either.
        let s = score(&four_four_two(None), &live(&[(1, 0, 0), (12, 0, 0)]), true);
        assert_eq!(s.n_subs, 0);
        let s = score(&four_four_two(None), &live(&[(1, 0, 0)]), true);
        assert_eq!(s.subs(), &[(12, 1)]);
    }

    #[test]
    fn the_vice_takes_the_armband_when_the_captain_does_not_play() {
        // Captain id 10 (index 9) out, no bench forward played: vice (id 11) doubles.
        let s = score(
            &four_four_two(None),
            &live(&[(10, 0, 0), (15, 0, 0), (13, 0, 0), (14, 0, 0), (11, 5, 90)]),
            true,
        );
        let m = |id: u32| {
            s.picks
                .iter()
                .find(|p| p.player.id == id)
                .unwrap()
                .multiplier
        };
        assert_eq!((m(10), m(11)), (1, 2));
        assert_eq!(s.points, 9 * 2 + 5 * 2);
        // Triple captain passes ×3 on.
        let s = score(
            &four_four_two(Some(ChipKind::TripleCaptain)),
            &live(&[(10, 0, 0), (15, 0, 0), (13, 0, 0), (14, 0, 0)]),
            true,
        );
        assert_eq!(
            s.picks
                .iter()
                .find(|p| p.player.id == 11)
                .unwrap()
                .multiplier,
            3
        );
        // Neither played: the captain keeps the armband, which scores nothing.
        let s = score(
            &four_four_two(None),
            &live(&[(10, 0, 0), (11, 0, 0), (15, 0, 0), (13, 0, 0), (14, 0, 0)]),
            true,
        );
        let m = |id: u32| {
            s.picks
                .iter()
                .find(|p| p.player.id == id)
                .unwrap()
                .multiplier
        };
        assert_eq!((m(10), m(11)), (2, 1));
        assert_eq!(s.points, 9 * 2);
    }
}
