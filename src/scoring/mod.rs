//! Scoring rules: bonus (official or provisional from BPS) and managers' gameweek points.

pub mod bonus;
pub mod manager;

use std::collections::HashMap;

pub use manager::{Formation, ManagerScore, PlayerLive, PlayerTable, score};

use crate::fpl::model::{Element, ElementId, EventLive, Fixture, TeamId};

/// What scoring needs to know of a player besides his live stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayerInfo {
    pub team: TeamId,
    pub element_type: u8,
}

/// Team and position of each of the season's players.
pub fn players_of(elements: &[Element]) -> HashMap<ElementId, PlayerInfo> {
    elements
        .iter()
        .map(|e| {
            let info = PlayerInfo {
                team: e.team,
                element_type: e.element_type.0,
            };
            (e.id, info)
        })
        .collect()
}

/// One player's live state as fplsync computes it from a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LiveRow {
    #[schema(value_type = u32)]
    pub id: ElementId,
    /// Points so far, bonus included.
    pub points: i32,
    pub minutes: u32,
    /// Bonus counted in `points`: official where published, else provisional.
    pub bonus: i32,
    /// Some of his team's started fixtures have no official bonus yet.
    pub bonus_provisional: bool,
    pub element_type: u8,
    /// Every fixture of his team in this event is over (or it has none).
    pub done: bool,
}

/// Rows of one consistent snapshot (the event's live data and the event's fixtures), and the
/// live elements `players` does not know (metadata is behind: run a bootstrap).
///
/// Points include bonus: official where FPL has published it for a fixture, provisional from
/// BPS otherwise. A player is `done` once every fixture of his team in this event has finished
/// (provisionally or finally), or when his team has none.
pub fn live_rows(
    live: &EventLive,
    fixtures: &[Fixture],
    players: &HashMap<ElementId, PlayerInfo>,
) -> (Vec<LiveRow>, Vec<ElementId>) {
    let bonus = bonus::per_player(fixtures);
    let mut team_done: HashMap<TeamId, bool> = HashMap::new();
    let mut team_provisional: HashMap<TeamId, bool> = HashMap::new();
    for f in fixtures {
        let over = f.finished || f.finished_provisional;
        let provisional = f.started == Some(true) && !bonus::is_official(f);
        for team in [f.team_h, f.team_a] {
            *team_done.entry(team).or_insert(true) &= over;
            *team_provisional.entry(team).or_insert(false) |= provisional;
        }
    }
    let mut rows = Vec::with_capacity(live.elements.len());
    let mut unknown = Vec::new();
    for e in &live.elements {
        let Some(info) = players.get(&e.id) else {
            unknown.push(e.id);
            continue;
        };
        let counted = bonus.get(&e.id).copied().unwrap_or(0);
        rows.push(LiveRow {
            id: e.id,
            points: e.stats.total_points - e.stats.stats.bonus + counted,
            minutes: e.stats.stats.minutes,
            bonus: counted,
            bonus_provisional: team_provisional.get(&info.team).copied().unwrap_or(false),
            element_type: info.element_type,
            done: team_done.get(&info.team).copied().unwrap_or(true),
        });
    }
    (rows, unknown)
}

/// The scoring table of a snapshot's rows.
pub fn player_table(rows: &[LiveRow]) -> PlayerTable {
    let mut table = PlayerTable::default();
    for r in rows {
        let live = PlayerLive {
            points: r.points,
            minutes: r.minutes,
            element_type: r.element_type,
            done: r.done,
        };
        table.insert(r.id, live);
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
        let fixtures = gw38_fixtures(gw38::FIXTURES_FINAL);
        let (rows, unknown) = live_rows(&live, &fixtures, &players_of(&boot.elements));
        assert!(unknown.is_empty());
        assert!(rows.iter().all(|r| r.done && !r.bonus_provisional));
        let table = player_table(&rows);
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
        let (rows, _) = live_rows(&live, &fixtures, &players_of(&boot.elements));
        let table = player_table(&rows);
        let bonus = bonus::per_player(&fixtures);
        let (top, b) = bonus.iter().max_by_key(|(_, b)| **b).unwrap();
        let raw = live.elements.iter().find(|e| e.id == *top).unwrap();
        assert_eq!(table.get(*top).points, raw.stats.total_points + b);
        // In play at half time: nobody is done, and every bonus is provisional.
        assert!(live.elements.iter().all(|e| !table.get(e.id).done));
        assert!(rows.iter().all(|r| r.bonus_provisional));
    }
}
