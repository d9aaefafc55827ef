//! One test per rule of the guide's "Tournaments" section, and per tie-break level.

use std::collections::HashMap;

use super::*;

fn e(id: u64) -> EntryId {
    EntryId(id)
}

fn seed(id: u64, rank: u64) -> Seed {
    Seed {
        entry: e(id),
        overall_rank: Some(rank),
    }
}

fn score(net: i32, gs: i32, gc: i32) -> LegScore {
    LegScore {
        net_points: net,
        goals_scored: gs,
        goals_conceded: gc,
    }
}

fn results(rows: &[(u64, u16, i32)]) -> impl Fn(EntryId, u16) -> Option<i32> + '_ {
    move |entry, event| {
        rows.iter()
            .find(|(e, ev, _)| *e == entry.0 && *ev == event)
            .map(|r| r.2)
    }
}

#[test]
fn seeds_follow_overall_rank_with_unranked_entries_last() {
    let order = seed_order(vec![
        seed(1, 500),
        Seed {
            entry: e(2),
            overall_rank: None,
        },
        seed(3, 10),
        seed(4, 500),
    ]);
    let ids: Vec<u64> = order.iter().map(|s| s.entry.0).collect();
    assert_eq!(ids, [3, 1, 4, 2]);
}

#[test]
fn groups_are_dealt_serpentine_by_seed() {
    let seeded: Vec<Seed> = (1..=8).map(|i| seed(i, i)).collect();
    let groups = serpentine(&seeded, 3);
    let ids: Vec<Vec<u64>> = groups
        .iter()
        .map(|g| g.iter().map(|s| s.entry.0).collect())
        .collect();
    // 1 2 3 → groups A B C, 4 5 6 → C B A, 7 8 → A B.
    assert_eq!(ids, vec![vec![1, 6, 7], vec![2, 5, 8], vec![3, 4]]);
}

#[test]
fn a_points_race_sums_net_points_and_breaks_ties_on_the_better_overall_rank() {
    let members = [seed(1, 300), seed(2, 100), seed(3, 200)];
    let rows = [
        (1, 30, 60),
        (1, 31, 50),
        (2, 30, 55),
        (2, 31, 55),
        (3, 30, 120),
        (3, 32, 1),
    ];
    let table = points_race(&members, &[30, 31], results(&rows));
    let got: Vec<(u32, u64, i64, u32)> = table
        .iter()
        .map(|r| (r.rank, r.entry.0, r.points, r.played))
        .collect();
    // 3 has 120 (GW32 is outside the race); 1 and 2 tie on 110 and 2 ranks better overall.
    assert_eq!(got, [(1, 3, 120, 1), (2, 2, 110, 2), (3, 1, 110, 2)]);
}

#[test]
fn round_robin_fixtures_pair_every_member_once_per_cycle() {
    let members = [e(1), e(2), e(3), e(4)];
    let fixtures = round_robin(&members, &[30, 31, 32]);
    assert_eq!(fixtures.len(), 6);
    let mut pairs: Vec<(u64, u64)> = fixtures
        .iter()
        .map(|f| (f.home.0.min(f.away.0), f.home.0.max(f.away.0)))
        .collect();
    pairs.sort();
    assert_eq!(pairs, [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]);
    for ev in [30, 31, 32] {
        let mut playing: Vec<u64> = fixtures
            .iter()
            .filter(|f| f.event == ev)
            .flat_map(|f| [f.home.0, f.away.0])
            .collect();
        playing.sort();
        assert_eq!(playing, [1, 2, 3, 4], "everyone plays once in GW{ev}");
    }
}

#[test]
fn in_an_odd_group_one_member_rests_each_gameweek() {
    let fixtures = round_robin(&[e(1), e(2), e(3)], &[1, 2, 3]);
    assert_eq!(fixtures.len(), 3);
    for ev in 1..=3 {
        assert_eq!(fixtures.iter().filter(|f| f.event == ev).count(), 1);
    }
}

#[test]
fn a_battle_race_match_gives_three_points_for_a_win_and_one_each_for_a_draw() {
    assert_eq!(score_battle(Some(70), Some(50)), Some((3, 0)));
    assert_eq!(score_battle(Some(40), Some(40)), Some((1, 1)));
    assert_eq!(score_battle(Some(-4), Some(10)), Some((0, 3)));
}

#[test]
fn a_battle_race_match_where_a_side_has_no_result_is_left_unscored_not_won() {
    // The peer awarded wins against entries with no result; here nobody gets anything.
    assert_eq!(score_battle(Some(80), None), None);
    assert_eq!(score_battle(None, Some(0)), None);
    let members = [seed(1, 1), seed(2, 2)];
    let fixtures = [GroupFixture {
        event: 30,
        home: e(1),
        away: e(2),
    }];
    let table = battle_table(&members, &fixtures, results(&[(1, 30, 80)]));
    assert!(
        table
            .iter()
            .all(|r| r.played == 0 && r.points == 0 && r.won == 0)
    );
}

#[test]
fn a_battle_race_table_is_recomputed_from_the_whole_history_and_ranked_by_points_then_overall_rank()
{
    let members = [seed(1, 30), seed(2, 20), seed(3, 10)];
    let f = |event, home, away| GroupFixture {
        event,
        home: e(home),
        away: e(away),
    };
    let fixtures = [f(1, 1, 2), f(2, 2, 3), f(3, 3, 1)];
    let rows = [
        (1, 1, 50),
        (2, 1, 40),
        (2, 2, 60),
        (3, 2, 30),
        (3, 3, 70),
        (1, 3, 40),
    ];
    let table = battle_table(&members, &fixtures, results(&rows));
    let again = battle_table(&members, &fixtures, results(&rows));
    assert_eq!(table, again, "recomputing gives the same table");
    let got: Vec<(u64, i64, u32, u32, u32)> = table
        .iter()
        .map(|r| (r.entry.0, r.points, r.won, r.drawn, r.lost))
        .collect();
    // Each won once, so all have 3: overall rank decides (3 best, then 2, then 1).
    assert_eq!(got, [(3, 3, 1, 0, 1), (2, 3, 1, 0, 1), (1, 3, 1, 0, 1)]);
    assert_eq!(table[0].points_for, 100);
    assert_eq!(table[0].points_against, 100);
}

#[test]
fn qualifiers_are_ordered_by_group_rank_group_overall_rank_and_entry_id() {
    let q = |entry, group, group_rank, overall_rank| Qualifier {
        entry: e(entry),
        group,
        group_rank,
        overall_rank,
    };
    let order = qualification_order(vec![
        q(10, 2, 2, Some(5)),
        q(11, 1, 2, Some(9)),
        q(12, 2, 1, Some(50)),
        q(13, 1, 1, Some(40)),
        q(14, 3, 1, None),
        q(15, 3, 1, None),
    ]);
    let ids: Vec<u64> = order.iter().map(|q| q.entry.0).collect();
    // Group 3 has two first places (a constructed tie): unranked both, so entry id decides.
    assert_eq!(ids, [13, 12, 14, 15, 11, 10]);
}

#[test]
fn the_bracket_is_the_next_power_of_two_in_standard_seed_order() {
    assert_eq!(bracket_size(5), 8);
    assert_eq!(bracket_size(8), 8);
    assert_eq!(bracket_size(1), 2);
    assert_eq!(seed_positions(4), [1, 4, 2, 3]);
    assert_eq!(seed_positions(8), [1, 8, 4, 5, 2, 7, 3, 6]);
    assert_eq!(knockout_rounds(8), 3);
    assert_eq!(knockout_rounds(5), 3);
}

#[test]
fn empty_bracket_slots_are_byes_for_the_top_seeds() {
    let entrants: Vec<EntryId> = (1..=5).map(e).collect();
    let round = first_round(&entrants);
    assert_eq!(
        round,
        vec![
            (Some(e(1)), None),
            (Some(e(4)), Some(e(5))),
            (Some(e(2)), None),
            (Some(e(3)), None),
        ]
    );
}

#[test]
fn knockout_rounds_play_their_legs_on_consecutive_gameweeks() {
    assert_eq!(round_events(36, 3, 1), vec![vec![36], vec![37], vec![38]]);
    assert_eq!(round_events(33, 2, 2), vec![vec![33, 34], vec![35, 36]]);
}

#[test]
fn a_leg_against_a_bye_goes_to_the_present_entry() {
    assert_eq!(
        leg_winner(None, Some((e(7), None))),
        Some((e(7), Decided::Bye))
    );
    assert_eq!(leg_winner(None, None), None);
}

#[test]
fn a_leg_is_won_on_higher_net_points_first() {
    let w = leg_winner(
        Some((e(1), Some(score(50, 0, 9)))),
        Some((e(2), Some(score(60, 0, 9)))),
    );
    assert_eq!(w, Some((e(2), Decided::NetPoints)));
}

#[test]
fn a_leg_level_on_points_goes_to_more_goals_scored_by_counted_players() {
    let w = leg_winner(
        Some((e(1), Some(score(60, 3, 9)))),
        Some((e(2), Some(score(60, 2, 0)))),
    );
    assert_eq!(w, Some((e(1), Decided::GoalsScored)));
}

#[test]
fn a_leg_level_on_points_and_goals_goes_to_fewer_goals_conceded() {
    let w = leg_winner(
        Some((e(1), Some(score(60, 2, 5)))),
        Some((e(2), Some(score(60, 2, 4)))),
    );
    assert_eq!(w, Some((e(2), Decided::GoalsConceded)));
}

#[test]
fn a_leg_level_on_everything_goes_to_the_lower_entry_id() {
    let w = leg_winner(
        Some((e(9), Some(score(60, 2, 4)))),
        Some((e(3), Some(score(60, 2, 4)))),
    );
    assert_eq!(w, Some((e(3), Decided::LowerEntryId)));
}

#[test]
fn a_leg_where_an_entry_has_no_result_has_no_winner_yet() {
    let w = leg_winner(Some((e(1), Some(score(80, 0, 0)))), Some((e(2), None)));
    assert_eq!(w, None);
}

#[test]
fn an_entry_that_won_both_legs_wins_the_tie_whatever_the_aggregate() {
    let legs = [
        (score(51, 0, 0), score(50, 0, 0)),
        (score(41, 0, 0), score(40, 0, 0)),
    ];
    assert_eq!(
        two_leg_winner(e(1), e(2), legs),
        (e(1), Decided::WonBothLegs)
    );
}

#[test]
fn a_split_two_legged_tie_goes_to_the_higher_aggregate_of_net_points() {
    let legs = [
        (score(90, 0, 0), score(50, 9, 0)),
        (score(30, 0, 0), score(60, 9, 0)),
    ];
    assert_eq!(
        two_leg_winner(e(1), e(2), legs),
        (e(1), Decided::AggregateNetPoints)
    );
}

#[test]
fn a_split_tie_level_on_aggregate_points_goes_to_more_aggregate_goals_scored() {
    let legs = [
        (score(70, 1, 0), score(50, 1, 0)),
        (score(50, 1, 0), score(70, 2, 0)),
    ];
    assert_eq!(
        two_leg_winner(e(1), e(2), legs),
        (e(2), Decided::AggregateGoalsScored)
    );
}

#[test]
fn a_split_tie_level_on_aggregate_points_and_goals_goes_to_fewer_aggregate_goals_conceded() {
    let legs = [
        (score(70, 1, 1), score(50, 1, 3)),
        (score(50, 1, 2), score(70, 1, 1)),
    ];
    assert_eq!(
        two_leg_winner(e(1), e(2), legs),
        (e(1), Decided::AggregateGoalsConceded)
    );
}

#[test]
fn the_bracket_advances_winners_and_byes_and_waits_for_missing_results() {
    let entrants: Vec<EntryId> = (1..=3).map(e).collect();
    let first = first_round(&entrants); // 1 v bye, 2 v 3
    let events = round_events(36, 2, 1);
    let scores: HashMap<(u64, u16), LegScore> =
        [((2, 36), score(40, 0, 0)), ((3, 36), score(45, 0, 0))].into();
    let lookup = |entry: EntryId, ev: u16| scores.get(&(entry.0, ev)).copied();
    let rounds = resolve_bracket(&first, &events, lookup);
    assert_eq!(rounds[0][0].winner, Some(e(1)));
    assert_eq!(rounds[0][0].decided_by, Some(Decided::Bye));
    assert_eq!(rounds[0][1].winner, Some(e(3)));
    let fin = &rounds[1][0];
    assert_eq!((fin.home, fin.away), (Some(e(1)), Some(e(3))));
    assert_eq!(fin.winner, None, "the final has no results yet");
    assert_eq!(fin.legs[0].home, None, "a missing result is not a 0");
}

#[test]
fn a_two_legged_bracket_is_decided_once_both_legs_have_results() {
    let first = first_round(&[e(1), e(2)]);
    let events = round_events(35, 1, 2);
    let one_leg: HashMap<(u64, u16), LegScore> =
        [((1, 35), score(40, 0, 0)), ((2, 35), score(45, 0, 0))].into();
    let rounds = resolve_bracket(&first, &events, |x, ev| one_leg.get(&(x.0, ev)).copied());
    assert_eq!(rounds[0][0].legs[0].winner, Some(e(2)));
    assert_eq!(rounds[0][0].winner, None);
    let mut both = one_leg.clone();
    both.insert((1, 36), score(60, 0, 0));
    both.insert((2, 36), score(50, 0, 0));
    let rounds = resolve_bracket(&first, &events, |x, ev| both.get(&(x.0, ev)).copied());
    assert_eq!(rounds[0][0].winner, Some(e(1)));
    assert_eq!(rounds[0][0].decided_by, Some(Decided::AggregateNetPoints));
}

#[test]
fn a_cup_match_without_a_winner_field_is_won_by_a_score_at_least_the_opponents() {
    assert!(cup_won(e(1), None, 50, 50));
    assert!(cup_won(e(1), None, 51, 50));
    assert!(!cup_won(e(1), None, 49, 50));
    assert!(
        !cup_won(e(1), Some(e(2)), 60, 50),
        "FPL's winner field decides"
    );
    assert!(cup_won(e(1), Some(e(1)), 40, 50));
}

#[test]
fn goals_count_for_positions_one_to_eleven_only_and_auto_subs_are_ignored() {
    let live: HashMap<u32, PlayerGameweek> = [
        (
            1,
            PlayerGameweek {
                points: 10,
                goals_scored: 1,
                goals_conceded: 2,
            },
        ),
        (
            12,
            PlayerGameweek {
                points: 6,
                goals_scored: 1,
                goals_conceded: 0,
            },
        ),
    ]
    .into();
    // Player 1 captained at position 1, player 2 at position 2 did not play and was replaced
    // by player 12 (bench position 12, multiplier 1 after the substitution).
    let picks = [
        PickRow {
            element: 1,
            position: 1,
            multiplier: 2,
        },
        PickRow {
            element: 2,
            position: 2,
            multiplier: 0,
        },
        PickRow {
            element: 12,
            position: 12,
            multiplier: 1,
        },
    ];
    let s = pick_stats(&picks, None, &live);
    assert_eq!(s.captain_points, 20);
    assert_eq!(s.autosub_points, 6);
    assert_eq!((s.goals_scored, s.goals_conceded), (1, 2));
    // Under bench boost all 15 count, and nobody came in by substitution.
    let s = pick_stats(&picks, Some("bboost"), &live);
    assert_eq!((s.goals_scored, s.autosub_points), (2, 0));
}
