//! Bonus points: official where FPL has published them for a fixture, otherwise provisional,
//! computed from the fixture's BPS with FPL's tie rules.

use std::collections::HashMap;

use crate::fpl::model::{ElementId, Fixture};

/// Bonus of one fixture from its BPS: the three best get 3, 2 and 1; players tied share the
/// higher award and push the next award down (3, 3, 1 — or 3, 3, 3 and no more — or 3, 2, 2).
pub fn from_bps(bps: impl IntoIterator<Item = (ElementId, i32)>) -> Vec<(ElementId, i32)> {
    let mut ranked: Vec<(ElementId, i32)> = bps.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut awards = Vec::new();
    let mut position = 0;
    while position < ranked.len() && position < 3 {
        let score = ranked[position].1;
        let award = 3 - position as i32;
        let tied = ranked[position..]
            .iter()
            .take_while(|(_, s)| *s == score)
            .count();
        awards.extend(
            ranked[position..position + tied]
                .iter()
                .map(|(id, _)| (*id, award)),
        );
        position += tied;
    }
    awards
}

/// Whether FPL has published official bonus for `fixture` (its `bonus` stat has entries).
pub fn is_official(fixture: &Fixture) -> bool {
    fixture
        .stat("bonus")
        .is_some_and(|s| !s.h.is_empty() || !s.a.is_empty())
}

/// Bonus per player over `fixtures` (a double gameweek sums both): official where published,
/// provisional from BPS for fixtures that have started and have none yet.
pub fn per_player(fixtures: &[Fixture]) -> HashMap<ElementId, i32> {
    let mut bonus: HashMap<ElementId, i32> = HashMap::new();
    for f in fixtures {
        let awards: Vec<(ElementId, i32)> = if is_official(f) {
            f.stat("bonus")
                .map(|s| s.values().collect())
                .unwrap_or_default()
        } else if f.started == Some(true) {
            from_bps(f.bps())
        } else {
            Vec::new()
        };
        for (id, b) in awards {
            *bonus.entry(id).or_default() += b;
        }
    }
    bonus
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::model::{EventLive, Fixtures};
    use crate::fpl::samples::{self, gw38};

    fn e(id: u32) -> ElementId {
        ElementId(id)
    }

    #[test]
    fn the_three_best_bps_get_three_two_and_one() {
        let awards = from_bps([(e(1), 30), (e(2), 50), (e(3), 40), (e(4), 10)]);
        assert_eq!(awards, [(e(2), 3), (e(3), 2), (e(1), 1)]);
    }

    #[test]
    fn two_tied_first_share_three_and_the_next_gets_one() {
        let awards = from_bps([(e(1), 50), (e(2), 50), (e(3), 40), (e(4), 30)]);
        assert_eq!(awards, [(e(1), 3), (e(2), 3), (e(3), 1)]);
    }

    #[test]
    fn three_tied_first_all_get_three_and_nobody_else_scores() {
        let awards = from_bps([(e(1), 50), (e(2), 50), (e(3), 50), (e(4), 40)]);
        assert_eq!(awards, [(e(1), 3), (e(2), 3), (e(3), 3)]);
    }

    #[test]
    fn two_tied_second_both_get_two() {
        let awards = from_bps([(e(1), 60), (e(2), 50), (e(3), 50), (e(4), 40)]);
        assert_eq!(awards, [(e(1), 3), (e(2), 2), (e(3), 2)]);
    }

    #[test]
    fn bonus_recomputed_from_the_final_bps_equals_every_official_bonus() {
        let fixtures: Fixtures = samples::decode(gw38::FIXTURES_FINAL).unwrap();
        let live: EventLive = samples::decode(gw38::LIVE_FINAL).unwrap();
        let gw: Vec<_> = fixtures
            .into_iter()
            .filter(|f| f.event.is_some_and(|e| e.0 == 38))
            .collect();
        let mut recomputed: HashMap<ElementId, i32> = HashMap::new();
        for f in &gw {
            for (id, b) in from_bps(f.bps()) {
                *recomputed.entry(id).or_default() += b;
            }
        }
        let mut total = 0;
        for p in &live.elements {
            let official = p.stats.stats.bonus;
            assert_eq!(
                recomputed.get(&p.id).copied().unwrap_or(0),
                official,
                "player {}",
                p.id
            );
            total += official;
        }
        assert_eq!(total, 64);
        // The final fixtures publish official bonus, which per_player uses as is.
        assert!(gw.iter().all(is_official));
        assert_eq!(per_player(&gw), recomputed);
    }

    #[test]
    fn in_play_fixtures_without_official_bonus_get_provisional_bonus() {
        let fixtures: Fixtures = samples::decode(gw38::FIXTURES_IN_PLAY).unwrap();
        let live: EventLive = samples::decode(gw38::LIVE_IN_PLAY).unwrap();
        let gw: Vec<_> = fixtures
            .into_iter()
            .filter(|f| f.event.is_some_and(|e| e.0 == 38))
            .collect();
        assert!(live.elements.iter().all(|p| p.stats.stats.bonus == 0));
        assert!(
            gw.iter()
                .all(|f| f.started == Some(true) && !is_official(f))
        );
        let bonus = per_player(&gw);
        // Ten fixtures, 3 + 2 + 1 at least each (more with ties).
        let total: i32 = bonus.values().sum();
        assert!(total >= 60, "{total}");
        for f in &gw {
            let best = f.bps().max_by_key(|(_, b)| *b).unwrap();
            assert_eq!(bonus.get(&best.0), Some(&3), "fixture {}", f.id);
        }
    }
}
