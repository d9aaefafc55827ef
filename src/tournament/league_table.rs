//! Live tables of tracked classic leagues: a league whose roster a tournament of the season
//! reads (its members are then tracked managers with live scores) ranked by live total — the
//! total before the gameweek plus the live net points of it — during the gameweek. Nothing is
//! stored: the members and their totals come from PostgreSQL, the live scores from the ones the
//! `live` job already computed.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgPool;

use crate::fpl::model::{EntryId, EventId, LeagueId};
use crate::meta::SeasonId;
use crate::store::StoreError;

/// A member of a tracked classic league, with his total before the gameweek.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub entry: i64,
    pub name: Option<String>,
    pub player_name: Option<String>,
    /// His rank in the league's standings as last read.
    pub league_rank: Option<i32>,
    /// His season total after the latest gameweek before this one that fplsync knows (his
    /// stored history or official results); null when none is known.
    pub total_before: Option<i32>,
}

/// The members of classic league `league` as the season's unarchived tournaments on it read
/// them (a tournament created before the first bootstrap has no season yet: it counts); `None`
/// when no such tournament tracks the league.
pub async fn members(
    db: &PgPool,
    season: SeasonId,
    league: LeagueId,
    event: EventId,
) -> Result<Option<Vec<Member>>, StoreError> {
    let Ok(league) = i64::try_from(league.0) else {
        return Ok(None);
    };
    let tracked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM tournaments WHERE source_kind = 'classic' \
         AND source_league = $2 AND state <> 'archived' AND (season_id = $1 OR season_id IS NULL))",
    )
    .bind(season.0)
    .bind(league)
    .fetch_one(db)
    .await?;
    if !tracked {
        return Ok(None);
    }
    // The latest known total before the gameweek, from whichever source knows a later one.
    let members = sqlx::query_as(
        "SELECT DISTINCT ON (te.entry_id) te.entry_id AS entry, te.name, te.player_name, \
         te.league_rank, \
         (SELECT x.total FROM ( \
            SELECT r.event_id AS ev, r.total_points AS total FROM entry_event_results r \
            WHERE r.season_id = $1 AND r.entry_id = te.entry_id AND r.event_id < $3 \
              AND r.total_points IS NOT NULL \
            UNION ALL \
            SELECT (h->>'event')::int, (h->>'total_points')::int FROM entries e \
            CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN \
              jsonb_typeof(e.history->'current') = 'array' THEN e.history->'current' \
              ELSE '[]'::jsonb END) h \
            WHERE e.season_id = $1 AND e.id = te.entry_id AND (h->>'event')::int < $3 \
          ) x ORDER BY x.ev DESC LIMIT 1) AS total_before \
         FROM tournament_entries te JOIN tournaments t ON t.id = te.tournament_id \
         WHERE t.source_kind = 'classic' AND t.source_league = $2 AND t.state <> 'archived' \
           AND (t.season_id = $1 OR t.season_id IS NULL) \
         ORDER BY te.entry_id, t.id DESC",
    )
    .bind(season.0)
    .bind(league)
    .bind(i32::from(event.0))
    .fetch_all(db)
    .await?;
    Ok(Some(members))
}

/// One row of a live table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TableRow {
    /// Rank by live total; equal totals share a rank.
    pub rank: u32,
    pub entry: u64,
    pub name: Option<String>,
    pub player_name: Option<String>,
    /// Rank in the league's standings as last read.
    pub league_rank: Option<i32>,
    /// Season total before the gameweek (null when unknown: counted as 0).
    pub total_before: Option<i32>,
    /// Live net points of the gameweek (null: no live score, no picks yet).
    pub live_net_points: Option<i32>,
    /// `total_before` + `live_net_points`.
    pub live_total: i32,
}

/// The members ranked by live total (ties in the league's published order, then by entry id);
/// `live_net` maps an entry to his live net points.
pub fn rank(members: Vec<Member>, live_net: &HashMap<EntryId, i32>) -> Vec<TableRow> {
    let mut rows: Vec<TableRow> = members
        .into_iter()
        .map(|m| {
            let entry = m.entry as u64;
            let live = live_net.get(&EntryId(entry)).copied();
            TableRow {
                rank: 0,
                entry,
                name: m.name,
                player_name: m.player_name,
                league_rank: m.league_rank,
                total_before: m.total_before,
                live_net_points: live,
                live_total: m.total_before.unwrap_or(0) + live.unwrap_or(0),
            }
        })
        .collect();
    rows.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.live_total),
            r.league_rank.unwrap_or(i32::MAX),
            r.entry,
        )
    });
    let mut previous: Option<(i32, u32)> = None;
    for (i, row) in rows.iter_mut().enumerate() {
        row.rank = match previous {
            Some((total, rank)) if total == row.live_total => rank,
            _ => i as u32 + 1,
        };
        previous = Some((row.live_total, row.rank));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(entry: i64, league_rank: i32, total_before: Option<i32>) -> Member {
        Member {
            entry,
            name: None,
            player_name: None,
            league_rank: Some(league_rank),
            total_before,
        }
    }

    #[test]
    fn members_are_ranked_by_total_before_plus_live_net_points_and_ties_share_a_rank() {
        let members = vec![
            member(1, 1, Some(2000)),
            member(2, 2, Some(1990)),
            member(3, 3, Some(1980)),
            member(4, 4, None),
        ];
        let live = HashMap::from([(EntryId(1), 40), (EntryId(2), 60), (EntryId(3), 50)]);
        let rows = rank(members, &live);
        let got: Vec<(u32, u64, i32)> = rows
            .iter()
            .map(|r| (r.rank, r.entry, r.live_total))
            .collect();
        assert_eq!(got, [(1, 2, 2050), (2, 1, 2040), (3, 3, 2030), (4, 4, 0)]);

        let tied = rank(
            vec![member(7, 2, Some(10)), member(5, 1, Some(10))],
            &HashMap::new(),
        );
        let got: Vec<(u32, u64)> = tied.iter().map(|r| (r.rank, r.entry)).collect();
        assert_eq!(got, [(1, 5), (1, 7)]);
        assert_eq!(tied[0].live_net_points, None);
    }
}
