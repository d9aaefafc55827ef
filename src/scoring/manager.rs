//! A manager's gameweek score from their picks and the players' live data: captaincy (the vice
//! takes over when the captain cannot play), triple captain, bench boost, automatic
//! substitutions (bench order, goalkeeper for goalkeeper, formation limits) and transfer cost.
//!
//! Substitutions and the captaincy switch are applied once a player *can no longer play* (all
//! his team's fixtures of the gameweek finished, or it has none): during a gameweek that makes
//! them provisional, at its end they are FPL's own. Scoring is allocation-free per manager so
//! that one live snapshot can score every tracked manager.

use serde::Serialize;

use crate::fpl::model::{Chip, ElementId, ElementType, Pick};

/// What scoring needs to know of one player in this gameweek.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlayerLive {
    /// Points so far, bonus included (official or provisional).
    pub points: i32,
    pub minutes: u32,
    /// Index into the formation limits (the element type id).
    pub element_type: u8,
    /// All his team's fixtures of the gameweek are over (or it has none).
    pub done: bool,
}

impl PlayerLive {
    /// Did not play and cannot any more.
    fn blank(&self) -> bool {
        self.done && self.minutes == 0
    }
}

/// Every player's live data, indexed by element id for constant-time lookups.
#[derive(Debug, Clone, Default)]
pub struct PlayerTable {
    by_id: Vec<Option<PlayerLive>>,
}

impl PlayerTable {
    pub fn insert(&mut self, id: ElementId, p: PlayerLive) {
        let i = id.0 as usize;
        if self.by_id.len() <= i {
            self.by_id.resize(i + 1, None);
        }
        self.by_id[i] = Some(p);
    }

    /// A player missing from the live data has not played.
    pub fn get(&self, id: ElementId) -> PlayerLive {
        self.by_id
            .get(id.0 as usize)
            .copied()
            .flatten()
            .unwrap_or(PlayerLive {
                done: false,
                ..PlayerLive::default()
            })
    }
}

/// How many players of each element type may play (from `element_types`).
#[derive(Debug, Clone)]
pub struct Formation {
    min: [u8; 8],
    max: [u8; 8],
}

impl Formation {
    pub fn from_element_types(types: &[ElementType]) -> Self {
        let mut f = Formation {
            min: [0; 8],
            max: [u8::MAX; 8],
        };
        for t in types {
            let i = usize::from(t.id.0).min(7);
            f.min[i] = t.squad_min_play;
            f.max[i] = t.squad_max_play;
        }
        f
    }

    /// The usual limits: 1 GK; 3–5 DEF; 2–5 MID; 1–3 FWD.
    pub fn standard() -> Self {
        let mut f = Formation {
            min: [0; 8],
            max: [u8::MAX; 8],
        };
        for (t, min, max) in [(1, 1, 1), (2, 3, 5), (3, 2, 5), (4, 1, 3)] {
            f.min[t] = min;
            f.max[t] = max;
        }
        f
    }
}

const GOALKEEPER: u8 = 1;

/// A manager's score for one gameweek.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagerScore {
    /// Points before transfer costs, as FPL's `entry_history.points`.
    pub points: i32,
    pub transfers_cost: i32,
    pub net_points: i32,
    /// Points of the players left on the bench (0 under bench boost).
    pub bench_points: i32,
    /// Points the captaincy earned (the extra multiple of the player who held it).
    pub captain_points: i32,
    /// Substitutions made: (off, on).
    pub subs: Vec<(ElementId, ElementId)>,
}

/// Scores `picks` (15, in position order or not) with `chip` and `transfers_cost`.
pub fn score(
    picks: &[Pick],
    chip: Option<&Chip>,
    transfers_cost: i32,
    players: &PlayerTable,
    formation: &Formation,
) -> ManagerScore {
    let mut squad: [(Pick, PlayerLive); 15] = std::array::from_fn(|_| {
        (
            Pick {
                element: ElementId(0),
                position: 99,
                multiplier: 0,
                is_captain: false,
                is_vice_captain: false,
                element_type: None,
            },
            PlayerLive::default(),
        )
    });
    let n = picks.len().min(15);
    for (slot, pick) in squad.iter_mut().zip(picks) {
        let mut live = players.get(pick.element);
        if let Some(t) = pick.element_type {
            live.element_type = t.0;
        }
        *slot = (pick.clone(), live);
    }
    let squad = &mut squad[..n];
    squad.sort_by_key(|(p, _)| p.position);

    let bench_boost = matches!(chip, Some(Chip::BenchBoost));
    // counted[i]: squad[i] is in the scoring side.
    let mut counted = [false; 15];
    let starters = squad.len().min(11);
    let mut subs = Vec::new();
    if bench_boost {
        counted[..squad.len()].iter_mut().for_each(|c| *c = true);
    } else {
        counted[..starters].iter_mut().for_each(|c| *c = true);
        autosub(squad, &mut counted, formation, &mut subs);
    }

    // Captaincy: the captain's multiple goes to the vice when the captain cannot play.
    let multiple = if matches!(chip, Some(Chip::TripleCaptain)) {
        3
    } else {
        2
    };
    let captain = squad.iter().position(|(p, _)| p.is_captain);
    let vice = squad.iter().position(|(p, _)| p.is_vice_captain);
    let armband = match (captain, vice) {
        (Some(c), _) if !squad[c].1.blank() => Some(c),
        (_, Some(v)) if counted[v] && !squad[v].1.blank() => Some(v),
        _ => None,
    };

    let mut points = 0;
    let mut bench_points = 0;
    let mut captain_points = 0;
    for (i, (_, live)) in squad.iter().enumerate() {
        if counted[i] {
            let m = if Some(i) == armband { multiple } else { 1 };
            points += live.points * m;
            if m > 1 {
                captain_points += live.points * (m - 1);
            }
        } else {
            bench_points += live.points;
        }
    }
    ManagerScore {
        points,
        transfers_cost,
        net_points: points - transfers_cost,
        bench_points,
        captain_points,
        subs,
    }
}

/// FPL's automatic substitutions: each starter who cannot play any more, in position order, is
/// replaced by the first bench player (in bench order) who has played, provided the side still
/// fits the formation limits (starters who were not replaced still count towards them); a
/// goalkeeper is only replaced by a goalkeeper, an outfield player only by an outfield player.
fn autosub(
    squad: &[(Pick, PlayerLive)],
    counted: &mut [bool; 15],
    formation: &Formation,
    subs: &mut Vec<(ElementId, ElementId)>,
) {
    let starters = squad.len().min(11);
    let slot = |live: &PlayerLive| usize::from(live.element_type).min(7);
    let mut side = [0u8; 8];
    for (_, live) in &squad[..starters] {
        side[slot(live)] += 1;
    }
    for off in 0..starters {
        let (out_pick, out) = &squad[off];
        if !out.blank() {
            continue;
        }
        let replacement = (starters..squad.len()).find(|&on| {
            let candidate = &squad[on].1;
            if counted[on] || candidate.minutes == 0 {
                return false;
            }
            if (out.element_type == GOALKEEPER) != (candidate.element_type == GOALKEEPER) {
                return false;
            }
            let mut after = side;
            after[slot(out)] -= 1;
            after[slot(candidate)] += 1;
            (0..8).all(|t| formation.min[t] <= after[t] && after[t] <= formation.max[t])
        });
        if let Some(on) = replacement {
            counted[off] = false;
            counted[on] = true;
            side[slot(out)] -= 1;
            side[slot(&squad[on].1)] += 1;
            subs.push((out_pick.element, squad[on].0.element));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::model::ElementTypeId;

    /// A squad: (element id, element type), positions 1–15 in order; captain and vice by id.
    fn picks(squad: &[(u32, u8)], captain: u32, vice: u32) -> Vec<Pick> {
        squad
            .iter()
            .enumerate()
            .map(|(i, (id, t))| Pick {
                element: ElementId(*id),
                position: i as u8 + 1,
                multiplier: 0,
                is_captain: *id == captain,
                is_vice_captain: *id == vice,
                element_type: Some(ElementTypeId(*t)),
            })
            .collect()
    }

    /// GK 1; DEF 2–5; MID 6–9; FWD 10–11 (a 4-4-2), bench: GK 12, DEF 13, MID 14, FWD 15.
    const SQUAD: [(u32, u8); 15] = [
        (1, 1),
        (2, 2),
        (3, 2),
        (4, 2),
        (5, 2),
        (6, 3),
        (7, 3),
        (8, 3),
        (9, 3),
        (10, 4),
        (11, 4),
        (12, 1),
        (13, 2),
        (14, 3),
        (15, 4),
    ];

    /// Everyone played 90 minutes for 2 points, except `blanks` (0 minutes); all done.
    fn table(blanks: &[u32], points: &[(u32, i32)]) -> PlayerTable {
        let mut t = PlayerTable::default();
        for (id, ty) in SQUAD {
            let played = !blanks.contains(&id);
            let pts = points
                .iter()
                .find(|(p, _)| *p == id)
                .map_or(if played { 2 } else { 0 }, |(_, p)| *p);
            t.insert(
                ElementId(id),
                PlayerLive {
                    points: pts,
                    minutes: if played { 90 } else { 0 },
                    element_type: ty,
                    done: true,
                },
            );
        }
        t
    }

    fn run(
        blanks: &[u32],
        points: &[(u32, i32)],
        chip: Option<Chip>,
        cap: u32,
        vice: u32,
    ) -> ManagerScore {
        score(
            &picks(&SQUAD, cap, vice),
            chip.as_ref(),
            4,
            &table(blanks, points),
            &Formation::standard(),
        )
    }

    #[test]
    fn a_full_side_scores_its_eleven_with_a_doubled_captain_less_transfer_costs() {
        let s = run(&[], &[(10, 8)], None, 10, 11);
        // 10 starters × 2 + captain 8 × 2; bench 4 × 2.
        assert_eq!(s.points, 20 + 16);
        assert_eq!(s.captain_points, 8);
        assert_eq!(s.bench_points, 8);
        assert_eq!(s.net_points, 32);
        assert!(s.subs.is_empty());
    }

    #[test]
    fn a_goalkeeper_is_replaced_only_by_the_substitute_goalkeeper() {
        let s = run(&[1], &[], None, 10, 11);
        assert_eq!(s.subs, [(ElementId(1), ElementId(12))]);
        let no_sub_gk = run(&[1, 12], &[], None, 10, 11);
        assert!(
            no_sub_gk.subs.is_empty(),
            "an outfield player cannot go in goal"
        );
    }

    #[test]
    fn substitutes_come_on_in_bench_order() {
        // Midfielder 6 blanks: the first outfield bench player who played (13, a defender) is
        // used, making a 5-3-2.
        let s = run(&[6], &[], None, 10, 11);
        assert_eq!(s.subs, [(ElementId(6), ElementId(13))]);
        // If 13 also blanked, 14 is next.
        let s = run(&[6, 13], &[], None, 10, 11);
        assert_eq!(s.subs, [(ElementId(6), ElementId(14))]);
    }

    #[test]
    fn a_substitution_that_would_break_the_formation_is_skipped() {
        // A 3-5-2 whose defender 2 blanks: midfielder 14, first on the bench, would leave two
        // at the back, and defender 13 blanked too, so nobody comes on.
        let squad: [(u32, u8); 15] = [
            (1, 1),
            (2, 2),
            (3, 2),
            (4, 2),
            (5, 3),
            (6, 3),
            (7, 3),
            (8, 3),
            (9, 3),
            (10, 4),
            (11, 4),
            (12, 1),
            (14, 3),
            (13, 2),
            (15, 4),
        ];
        let mut t = PlayerTable::default();
        for (id, ty) in squad {
            let blank = id == 2 || id == 13;
            t.insert(
                ElementId(id),
                PlayerLive {
                    points: if blank { 0 } else { 2 },
                    minutes: if blank { 0 } else { 90 },
                    element_type: ty,
                    done: true,
                },
            );
        }
        let s = score(&picks(&squad, 10, 11), None, 0, &t, &Formation::standard());
        assert!(s.subs.is_empty(), "{:?}", s.subs);
        assert_eq!(s.points, 10 * 2 + 2);
    }

    #[test]
    fn a_starter_who_can_still_play_is_not_substituted() {
        let mut t = table(&[6], &[]);
        let mut p = t.get(ElementId(6));
        p.done = false;
        t.insert(ElementId(6), p);
        let s = score(&picks(&SQUAD, 10, 11), None, 0, &t, &Formation::standard());
        assert!(s.subs.is_empty());
    }

    #[test]
    fn the_vice_captain_takes_over_when_the_captain_blanks() {
        let s = run(&[10], &[(11, 6)], None, 10, 11);
        assert_eq!(s.captain_points, 6);
        // 10 blanked and was replaced by the first outfield substitute, 13 (a 5-4-1 is valid).
        assert_eq!(s.subs, [(ElementId(10), ElementId(13))]);
        assert_eq!(s.points, 9 * 2 + 6 * 2 + 2);
    }

    #[test]
    fn when_captain_and_vice_both_blank_nobody_is_doubled() {
        let s = run(&[10, 11, 15, 14, 13], &[], None, 10, 11);
        assert_eq!(s.captain_points, 0);
        assert_eq!(s.points, 9 * 2);
    }

    #[test]
    fn triple_captain_triples_the_captain() {
        let s = run(&[], &[(10, 8)], Some(Chip::TripleCaptain), 10, 11);
        assert_eq!(s.captain_points, 16);
        assert_eq!(s.points, 20 + 24);
    }

    #[test]
    fn bench_boost_counts_all_fifteen_and_makes_no_substitutions() {
        let s = run(&[6], &[], Some(Chip::BenchBoost), 10, 11);
        assert!(s.subs.is_empty());
        assert_eq!(s.bench_points, 0);
        // 14 who played × 2, the captain doubled once more.
        assert_eq!(s.points, 14 * 2 + 2);
    }

    #[test]
    fn a_double_gameweek_player_is_done_only_when_both_fixtures_are() {
        // Points already summed by the live data; a blank in his first fixture with a second
        // to come is not substituted.
        let mut t = table(&[], &[(7, 12)]);
        t.insert(
            ElementId(3),
            PlayerLive {
                points: 0,
                minutes: 0,
                element_type: 2,
                done: false,
            },
        );
        let s = score(&picks(&SQUAD, 7, 11), None, 0, &t, &Formation::standard());
        assert!(s.subs.is_empty());
        assert_eq!(s.captain_points, 12);
    }

    #[test]
    fn a_player_whose_team_has_no_fixture_is_substituted() {
        // No fixture: done with 0 minutes, like a player who did not play.
        let mut t = table(&[], &[]);
        t.insert(
            ElementId(4),
            PlayerLive {
                points: 0,
                minutes: 0,
                element_type: 2,
                done: true,
            },
        );
        let s = score(&picks(&SQUAD, 10, 11), None, 0, &t, &Formation::standard());
        assert_eq!(s.subs, [(ElementId(4), ElementId(13))]);
    }
}
