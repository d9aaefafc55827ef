//! The tournament rules of the FPL domain guide as plain, pure functions: seeding, groups (points
//! race and battle race), qualification, the knockout bracket with byes, the winner of a leg and
//! of a two-legged tie, knockout rounds and their gameweeks, FPL cup results, and one entry's
//! derived gameweek statistics. Nothing here touches a database or the network, so every rule is
//! tested on small constructed cases.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::Serialize;

use crate::fpl::model::EntryId;

/// An entry with the FPL overall rank it is seeded and tie-broken by (`None`: not ranked, which
/// counts as worse than any rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seed {
    pub entry: EntryId,
    pub overall_rank: Option<u64>,
}

/// Better overall rank first; an unranked entry after every ranked one; then the lower entry id,
/// so every ordering is total and reproducible.
fn by_overall_rank(a: &Seed, b: &Seed) -> Ordering {
    let rank = |s: &Seed| s.overall_rank.unwrap_or(u64::MAX);
    rank(a).cmp(&rank(b)).then(a.entry.cmp(&b.entry))
}

/// Entries in seed order: by FPL overall rank.
pub fn seed_order(mut entries: Vec<Seed>) -> Vec<Seed> {
    entries.sort_by(by_overall_rank);
    entries
}

/// Deals seeded entries into `groups` groups serpentine: seeds 1..g go to groups 1..g, seeds
/// g+1..2g back from group g to 1, and so on. Returns each group's members in seed order.
pub fn serpentine(seeded: &[Seed], groups: usize) -> Vec<Vec<Seed>> {
    let groups = groups.max(1);
    let mut out = vec![Vec::new(); groups];
    for (i, seed) in seeded.iter().enumerate() {
        let (row, col) = (i / groups, i % groups);
        let group = if row % 2 == 0 { col } else { groups - 1 - col };
        out[group].push(*seed);
    }
    out
}

/// One row of a points race.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RaceRow {
    pub rank: u32,
    pub entry: EntryId,
    pub overall_rank: Option<u64>,
    /// Σ net points over the group gameweeks with a result.
    pub points: i64,
    /// Gameweeks with a result.
    pub played: u32,
}

/// A points race: group points are the sum of net points over the group gameweeks; ranked by
/// that, descending, ties going to the better FPL overall rank. `net(entry, event)` is the
/// entry's net points of a gameweek, `None` when it has no result (which adds nothing).
pub fn points_race(
    members: &[Seed],
    events: &[u16],
    net: impl Fn(EntryId, u16) -> Option<i32>,
) -> Vec<RaceRow> {
    let mut rows: Vec<(Seed, i64, u32)> = members
        .iter()
        .map(|m| {
            let results: Vec<i32> = events.iter().filter_map(|e| net(m.entry, *e)).collect();
            let points = results.iter().map(|p| i64::from(*p)).sum();
            (*m, points, results.len() as u32)
        })
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(by_overall_rank(&a.0, &b.0)));
    rows.into_iter()
        .enumerate()
        .map(|(i, (seed, points, played))| RaceRow {
            rank: i as u32 + 1,
            entry: seed.entry,
            overall_rank: seed.overall_rank,
            points,
            played,
        })
        .collect()
}

/// A head-to-head fixture of a battle race group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GroupFixture {
    pub event: u16,
    pub home: EntryId,
    pub away: EntryId,
}

/// Round-robin fixtures inside one group over its gameweeks (the circle method): every member
/// meets every other once per cycle of n−1 rounds (n rounded up to even; the odd one out rests).
/// Gameweeks beyond one cycle start the next cycle with home and away swapped.
pub fn round_robin(members: &[EntryId], events: &[u16]) -> Vec<GroupFixture> {
    let mut slots: Vec<Option<EntryId>> = members.iter().copied().map(Some).collect();
    if slots.len() < 2 {
        return Vec::new();
    }
    if slots.len() % 2 == 1 {
        slots.push(None);
    }
    let n = slots.len();
    let rounds = n - 1;
    let mut fixtures = Vec::new();
    for (k, event) in events.iter().enumerate() {
        let round = k % rounds;
        let swap = (k / rounds) % 2 == 1;
        // Rotate every slot but the first by `round` places.
        let mut order = vec![slots[0]];
        order.extend((0..n - 1).map(|i| slots[1 + (i + rounds - round) % rounds]));
        for i in 0..n / 2 {
            let (a, b) = (order[i], order[n - 1 - i]);
            if let (Some(a), Some(b)) = (a, b) {
                // Alternate home sides so nobody is always at home.
                let (home, away) = if (round + i).is_multiple_of(2) != swap {
                    (a, b)
                } else {
                    (b, a)
                };
                fixtures.push(GroupFixture {
                    event: *event,
                    home,
                    away,
                });
            }
        }
    }
    fixtures
}

/// Group points of one battle race match, 3/1/0 on net points; `None` (unscored, not 0–0 and
/// not a win) when either side has no result.
pub fn score_battle(home_net: Option<i32>, away_net: Option<i32>) -> Option<(u8, u8)> {
    let (home, away) = (home_net?, away_net?);
    Some(match home.cmp(&away) {
        Ordering::Greater => (3, 0),
        Ordering::Equal => (1, 1),
        Ordering::Less => (0, 3),
    })
}

/// One row of a battle race table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BattleRow {
    pub rank: u32,
    pub entry: EntryId,
    pub overall_rank: Option<u64>,
    pub played: u32,
    pub won: u32,
    pub drawn: u32,
    pub lost: u32,
    /// Group points: 3 a win, 1 a draw.
    pub points: i64,
    /// Net points scored and conceded in scored matches.
    pub points_for: i64,
    pub points_against: i64,
}

/// A battle race table, recomputed from the full history of the group's fixtures (never
/// incremented, so re-running a gameweek cannot count it twice). Unscored matches count for
/// nobody. Ranked by group points, then the better FPL overall rank.
pub fn battle_table(
    members: &[Seed],
    fixtures: &[GroupFixture],
    net: impl Fn(EntryId, u16) -> Option<i32>,
) -> Vec<BattleRow> {
    let mut rows: HashMap<EntryId, BattleRow> = members
        .iter()
        .map(|m| {
            let row = BattleRow {
                rank: 0,
                entry: m.entry,
                overall_rank: m.overall_rank,
                played: 0,
                won: 0,
                drawn: 0,
                lost: 0,
                points: 0,
                points_for: 0,
                points_against: 0,
            };
            (m.entry, row)
        })
        .collect();
    for f in fixtures {
        let (h, a) = (net(f.home, f.event), net(f.away, f.event));
        let Some((hp, ap)) = score_battle(h, a) else {
            continue;
        };
        let (h, a) = (i64::from(h.unwrap_or(0)), i64::from(a.unwrap_or(0)));
        for (entry, got, scored, conceded) in [(f.home, hp, h, a), (f.away, ap, a, h)] {
            if let Some(row) = rows.get_mut(&entry) {
                row.played += 1;
                row.points += i64::from(got);
                row.points_for += scored;
                row.points_against += conceded;
                match got {
                    3 => row.won += 1,
                    1 => row.drawn += 1,
                    _ => row.lost += 1,
                }
            }
        }
    }
    let mut rows: Vec<BattleRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        let seed = |r: &BattleRow| Seed {
            entry: r.entry,
            overall_rank: r.overall_rank,
        };
        b.points
            .cmp(&a.points)
            .then(by_overall_rank(&seed(a), &seed(b)))
    });
    for (i, row) in rows.iter_mut().enumerate() {
        row.rank = i as u32 + 1;
    }
    rows
}

/// An entry through from the group stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Qualifier {
    pub entry: EntryId,
    /// Groups are numbered from 1.
    pub group: u32,
    pub group_rank: u32,
    pub overall_rank: Option<u64>,
}

/// The top `qualify` of every group, in qualification order: group rank, group id, overall rank,
/// entry id. `tables` holds each group's (entry, rank, overall rank) rows.
pub fn qualification_order(mut qualifiers: Vec<Qualifier>) -> Vec<Qualifier> {
    qualifiers.sort_by(|a, b| {
        a.group_rank
            .cmp(&b.group_rank)
            .then(a.group.cmp(&b.group))
            .then(
                a.overall_rank
                    .unwrap_or(u64::MAX)
                    .cmp(&b.overall_rank.unwrap_or(u64::MAX)),
            )
            .then(a.entry.cmp(&b.entry))
    });
    qualifiers
}

/// The bracket size for `n` entrants: the next power of two (at least 2).
pub fn bracket_size(n: usize) -> usize {
    n.max(2).next_power_of_two()
}

/// Knockout rounds of a bracket of `size`.
pub fn knockout_rounds(size: usize) -> u32 {
    bracket_size(size).trailing_zeros()
}

/// The gameweeks of each knockout round: round r (0-based) plays `legs` consecutive gameweeks
/// from `first_event + r·legs`.
pub fn round_events(first_event: u16, rounds: u32, legs: u8) -> Vec<Vec<u16>> {
    (0..rounds as u16)
        .map(|r| {
            let start = first_event + r * u16::from(legs);
            (start..start + u16::from(legs)).collect()
        })
        .collect()
}

/// Standard seed order of a bracket of `size` slots: 1 v N, and seeds 1 and 2 can only meet in
/// the final (for 8: 1 8 4 5 2 7 3 6).
pub fn seed_positions(size: usize) -> Vec<usize> {
    let mut order = vec![1];
    while order.len() < size {
        let n = order.len() * 2 + 1;
        order = order.iter().flat_map(|s| [*s, n - s]).collect();
    }
    order
}

/// The first round of the bracket: `entrants` in seed order placed by [`seed_positions`]; a slot
/// without an entrant is a bye.
pub fn first_round(entrants: &[EntryId]) -> Vec<(Option<EntryId>, Option<EntryId>)> {
    let slots: Vec<Option<EntryId>> = seed_positions(bracket_size(entrants.len()))
        .into_iter()
        .map(|seed| entrants.get(seed - 1).copied())
        .collect();
    slots.chunks(2).map(|p| (p[0], p[1])).collect()
}

/// One entry's score in one knockout leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LegScore {
    pub net_points: i32,
    /// Goals scored by the counted players.
    pub goals_scored: i32,
    /// Goals conceded by the counted players.
    pub goals_conceded: i32,
}

/// The tie-break level that decided a knockout leg or tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decided {
    Bye,
    NetPoints,
    GoalsScored,
    GoalsConceded,
    LowerEntryId,
    WonBothLegs,
    AggregateNetPoints,
    AggregateGoalsScored,
    AggregateGoalsConceded,
}

/// Higher net points, then more goals scored, then fewer goals conceded; `Equal` when all tie.
fn compare_scores(a: LegScore, b: LegScore) -> (Ordering, Decided) {
    let levels = [
        (a.net_points.cmp(&b.net_points), Decided::NetPoints),
        (a.goals_scored.cmp(&b.goals_scored), Decided::GoalsScored),
        (
            b.goals_conceded.cmp(&a.goals_conceded),
            Decided::GoalsConceded,
        ),
    ];
    levels
        .into_iter()
        .find(|(o, _)| *o != Ordering::Equal)
        .unwrap_or((Ordering::Equal, Decided::LowerEntryId))
}

/// A side of a knockout match: the entry, and its score once it has a result.
pub type Side = Option<(EntryId, Option<LegScore>)>;

/// The winner of one leg: against a bye the present entry; otherwise higher net points, more
/// goals scored, fewer goals conceded, lower entry id. `None` while a present entry has no result
/// (a missing result is never scored as 0) or when neither side has an entry.
pub fn leg_winner(home: Side, away: Side) -> Option<(EntryId, Decided)> {
    match (home, away) {
        (None, None) => None,
        (Some((e, _)), None) | (None, Some((e, _))) => Some((e, Decided::Bye)),
        (Some((h, hs)), Some((a, as_))) => {
            let (hs, as_) = (hs?, as_?);
            Some(decide(h, hs, a, as_, compare_scores))
        }
    }
}

fn decide(
    h: EntryId,
    hs: LegScore,
    a: EntryId,
    as_: LegScore,
    compare: fn(LegScore, LegScore) -> (Ordering, Decided),
) -> (EntryId, Decided) {
    match compare(hs, as_) {
        (Ordering::Greater, by) => (h, by),
        (Ordering::Less, by) => (a, by),
        (Ordering::Equal, _) => (h.min(a), Decided::LowerEntryId),
    }
}

/// The winner of a two-legged tie between `a` and `b` (scores per leg, `a`'s first): the entry
/// that won both legs; otherwise the aggregate of net points, then of goals scored, then of goals
/// conceded, then the lower entry id.
pub fn two_leg_winner(
    a: EntryId,
    b: EntryId,
    legs: [(LegScore, LegScore); 2],
) -> (EntryId, Decided) {
    let won = legs.map(|(sa, sb)| leg_winner(Some((a, Some(sa))), Some((b, Some(sb)))));
    if let [Some((w1, _)), Some((w2, _))] = won
        && w1 == w2
    {
        return (w1, Decided::WonBothLegs);
    }
    let sum = |pick: fn(&(LegScore, LegScore)) -> LegScore| {
        legs.iter()
            .map(pick)
            .fold(LegScore::default(), |t, s| LegScore {
                net_points: t.net_points + s.net_points,
                goals_scored: t.goals_scored + s.goals_scored,
                goals_conceded: t.goals_conceded + s.goals_conceded,
            })
    };
    let (ta, tb) = (sum(|l| l.0), sum(|l| l.1));
    decide(a, ta, b, tb, |x, y| {
        let (o, by) = compare_scores(x, y);
        let by = match by {
            Decided::NetPoints => Decided::AggregateNetPoints,
            Decided::GoalsScored => Decided::AggregateGoalsScored,
            Decided::GoalsConceded => Decided::AggregateGoalsConceded,
            other => other,
        };
        (o, by)
    })
}

/// A knockout match as the bracket resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnockoutMatch {
    /// 1 for the first round.
    pub round: u32,
    /// 0-based position in the round.
    pub slot: u32,
    pub home: Option<EntryId>,
    pub away: Option<EntryId>,
    pub legs: Vec<KnockoutLeg>,
    pub winner: Option<EntryId>,
    pub decided_by: Option<Decided>,
}

/// One leg of a knockout match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnockoutLeg {
    pub event: u16,
    pub home: Option<LegScore>,
    pub away: Option<LegScore>,
    pub winner: Option<EntryId>,
    pub decided_by: Option<Decided>,
}

/// An entrant of a bracket match: `Some(None)` a bye, `None` a winner not known yet.
type Entrant = Option<Option<EntryId>>;

/// Resolves the whole bracket from its first round and the scores known so far: each round's
/// legs, winners, and the next round's entrants (winners of slots 2s and 2s+1 meet in slot s).
/// A match whose entrants are not both known yet, or that lacks a result, has no winner; so
/// re-resolving after more results only fills in what was pending.
pub fn resolve_bracket(
    first: &[(Option<EntryId>, Option<EntryId>)],
    events: &[Vec<u16>],
    score: impl Fn(EntryId, u16) -> Option<LegScore>,
) -> Vec<Vec<KnockoutMatch>> {
    let mut rounds: Vec<Vec<KnockoutMatch>> = Vec::new();
    // Entrants of the current round: None inside the pair is a bye, an outer None a pending
    // winner.
    let mut pairs: Vec<(Entrant, Entrant)> =
        first.iter().map(|(h, a)| (Some(*h), Some(*a))).collect();
    for (r, round_events) in events.iter().enumerate() {
        let mut matches = Vec::new();
        for (slot, (home, away)) in pairs.iter().enumerate() {
            let known = |s: &Entrant| s.flatten();
            let mut m = KnockoutMatch {
                round: r as u32 + 1,
                slot: slot as u32,
                home: known(home),
                away: known(away),
                legs: Vec::new(),
                winner: None,
                decided_by: None,
            };
            let (Some(home), Some(away)) = (*home, *away) else {
                matches.push(m);
                continue;
            };
            let side = |e: Option<EntryId>, ev: u16| e.map(|e| (e, score(e, ev)));
            for ev in round_events {
                let (h, a) = (side(home, *ev), side(away, *ev));
                let won = leg_winner(h, a);
                m.legs.push(KnockoutLeg {
                    event: *ev,
                    home: h.and_then(|s| s.1),
                    away: a.and_then(|s| s.1),
                    winner: won.map(|w| w.0),
                    decided_by: won.map(|w| w.1),
                });
            }
            let decided = match (home, away) {
                (None, None) => None,
                (Some(e), None) | (None, Some(e)) => Some((e, Decided::Bye)),
                (Some(h), Some(a)) => match m.legs.as_slice() {
                    [leg] => leg.winner.zip(leg.decided_by),
                    [l1, l2] => match (l1.home.zip(l1.away), l2.home.zip(l2.away)) {
                        (Some(s1), Some(s2)) => Some(two_leg_winner(h, a, [s1, s2])),
                        _ => None,
                    },
                    _ => None,
                },
            };
            m.winner = decided.map(|d| d.0);
            m.decided_by = decided.map(|d| d.1);
            matches.push(m);
        }
        // A match with no entrant at all (two byes) sends a bye on; an undecided one, a pending
        // winner.
        pairs = matches
            .chunks(2)
            .map(|p| {
                let out = |m: &KnockoutMatch| match (m.home, m.away) {
                    (None, None) => Some(None),
                    _ => m.winner.map(Some),
                };
                (out(&p[0]), p.get(1).and_then(out))
            })
            .collect();
        rounds.push(matches);
    }
    rounds
}

/// An FPL cup match result for `entry`: FPL's `winner` when it names one; with no winner field,
/// the entry wins when its score is at least its opponent's.
pub fn cup_won(entry: EntryId, winner: Option<EntryId>, score: i32, opponent_score: i32) -> bool {
    match winner {
        Some(w) => w == entry,
        None => score >= opponent_score,
    }
}

/// One pick as the tournament job reads it from an entry's final picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickRow {
    pub element: u32,
    /// 1..=15: 1–11 selected starters, 12–15 the bench in order.
    pub position: u8,
    /// After substitutions and the captaincy switch.
    pub multiplier: u8,
}

/// A player's gameweek from the live data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlayerGameweek {
    pub points: i32,
    pub goals_scored: i32,
    pub goals_conceded: i32,
}

/// What the tournament job derives from one entry's final picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PickStats {
    /// Points of the pick that carried the captain's multiplier, multiplied.
    pub captain_points: i32,
    /// Points brought in by automatic substitutions (bench players who counted, no bench boost).
    pub autosub_points: i32,
    /// Goals scored and conceded by the counted players: positions 1–11, all 15 under bench
    /// boost; automatic substitutions are ignored.
    pub goals_scored: i32,
    pub goals_conceded: i32,
}

pub fn pick_stats(
    picks: &[PickRow],
    chip: Option<&str>,
    live: &HashMap<u32, PlayerGameweek>,
) -> PickStats {
    let bench_boost = chip == Some("bboost");
    let mut s = PickStats::default();
    for p in picks {
        let player = live.get(&p.element).copied().unwrap_or_default();
        if p.multiplier >= 2 {
            s.captain_points += player.points * i32::from(p.multiplier);
        }
        if !bench_boost && p.position >= 12 && p.multiplier >= 1 {
            s.autosub_points += player.points * i32::from(p.multiplier);
        }
        if p.position <= 11 || bench_boost {
            s.goals_scored += player.goals_scored;
            s.goals_conceded += player.goals_conceded;
        }
    }
    s
}

#[cfg(test)]
mod tests;
