//! Scoring rules: bonus (official or provisional from BPS) and managers' gameweek points.

pub mod bonus;
pub mod manager;

use std::collections::HashMap;

pub use manager::{Formation, ManagerScore, PlayerLive, PlayerTable, score};

use crate::fpl::model::{Element, EventLive, Fixture, TeamId};

/// The players' live state for scoring, from one consistent snapshot: the event's live data,
/// the event's fixtures, and the season's players (for team and position).
///
/// Points include bonus: official where FPL has published it for a fixture, provisional from
/// BPS otherwise. A player is `done` once every fixture of his team in this event has finished
/// (provisionally or finally), or when his team has none.
pub fn player_table(live: &EventLive, fixtures: &[Fixture], players: &[Element]) -> PlayerTable {
    let bonus = bonus::per_player(fixtures);
    let mut team_done: HashMap<TeamId, bool> = HashMap::new();
    for f in fixtures {
        let over = f.finished || f.finished_provisional;
        for team in [f.team_h, f.team_a] {
            *team_done.entry(team).or_insert(true) &= over;
        }
    }
    let by_id: HashMap<_, _> = players.iter().map(|p| (p.id, p)).collect();
    let mut table = PlayerTable::default();
    for e in &live.elements {
        let Some(player) = by_id.get(&e.id) else {
            continue;
        };
        let official = e.stats.stats.bonus;
        let counted = bonus.get(&e.id).copied().unwrap_or(0);
        table.insert(
            e.id,
            PlayerLive {
                points: e.stats.total_points - official + counted,
                minutes: e.stats.stats.minutes,
                element_type: player.element_type.0,
                done: team_done.get(&player.team).copied().unwrap_or(true),
            },
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::fpl::model::{BootstrapStatic, EntryId, PicksResponse};
    use crate::fpl::samples::{self, gw38};

    fn gw38_fixtures(name: &str) -> Vec<Fixture> {
        let all: Vec<Fixture> = samples::decode(name).unwrap();
        all.into_iter()
            .filter(|f| f.event.is_some_and(|e| e.0 == 38))
            .collect()
    }

    #[test]
    fn computed_points_equal_the_official_points_of_all_72_real_managers() {
        let boot: BootstrapStatic = samples::decode(gw38::BOOTSTRAP).unwrap();
        let live: EventLive = samples::decode(gw38::LIVE_FINAL).unwrap();
        let table = player_table(&live, &gw38_fixtures(gw38::FIXTURES_FINAL), &boot.elements);
        let formation = Formation::from_element_types(&boot.element_types);
        let managers: BTreeMap<EntryId, PicksResponse> =
            samples::decode(gw38::LEAGUE_PICKS).unwrap();
        assert_eq!(managers.len(), 72);
        for (entry, p) in &managers {
            let cost = p.entry_history.event_transfers_cost;
            let s = score(&p.picks, p.active_chip.as_ref(), cost, &table, &formation);
            assert_eq!(s.points, p.entry_history.points, "entry {entry}");
            assert_eq!(s.net_points, p.entry_history.points - cost, "entry {entry}");
            assert_eq!(
                s.bench_points, p.entry_history.points_on_bench,
                "entry {entry}"
            );
        }
    }

    #[test]
    fn live_points_in_play_carry_provisional_bonus() {
        let boot: BootstrapStatic = samples::decode(gw38::BOOTSTRAP).unwrap();
        let live: EventLive = samples::decode(gw38::LIVE_IN_PLAY).unwrap();
        let fixtures = gw38_fixtures(gw38::FIXTURES_IN_PLAY);
        let table = player_table(&live, &fixtures, &boot.elements);
        let bonus = bonus::per_player(&fixtures);
        let (top, b) = bonus.iter().max_by_key(|(_, b)| **b).unwrap();
        let raw = live.elements.iter().find(|e| e.id == *top).unwrap();
        assert_eq!(table.get(*top).points, raw.stats.total_points + b);
        // In play at half time: nobody is done.
        assert!(live.elements.iter().all(|e| !table.get(e.id).done));
    }
}
