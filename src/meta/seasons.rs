//! The seasons fplsync has stored, and what one gameweek of a season is made of: which of its
//! fixtures are scheduled, which of the season's are postponed (no gameweek yet), and which
//! teams play twice (a double gameweek) or not at all (a blank one).
//!
//! A season is created by the first bootstrap that describes it (named from its first
//! deadline); every table of season data is keyed by it, so an old season stays readable after
//! the rollover. Players are linked across seasons by their `code`, which FPL keeps while it
//! renumbers their ids every summer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::sync::SeasonId;
use crate::store::StoreError;

/// One stored season.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Season {
    #[serde(skip)]
    pub id: SeasonId,
    /// `2025-26`.
    pub name: String,
    pub first_deadline: DateTime<Utc>,
    /// The most recent season: what `/data/*` serves without `?season=`.
    pub current: bool,
    /// Gameweeks stored, and how many of them are finalized.
    pub events: i64,
    pub finalized_events: i64,
}

/// Every stored season, the most recent first.
pub async fn list(db: &PgPool) -> Result<Vec<Season>, StoreError> {
    let rows: Vec<(i32, String, DateTime<Utc>, i64, i64)> = sqlx::query_as(
        "SELECT s.id, s.name, s.first_deadline, \
         (SELECT count(*) FROM events e WHERE e.season_id = s.id), \
         (SELECT count(*) FROM event_finalizations f WHERE f.season_id = s.id) \
         FROM seasons s ORDER BY s.first_deadline DESC",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(
            |(i, (id, name, first_deadline, events, finalized))| Season {
                id: SeasonId(id),
                name,
                first_deadline,
                current: i == 0,
                events,
                finalized_events: finalized,
            },
        )
        .collect())
}

/// The season named `name` (`2025-26`), if stored.
pub async fn named(db: &PgPool, name: &str) -> Result<Option<SeasonId>, StoreError> {
    Ok(
        sqlx::query_scalar::<_, i32>("SELECT id FROM seasons WHERE name = $1")
            .bind(name)
            .fetch_optional(db)
            .await?
            .map(SeasonId),
    )
}

/// Whether `name` is written as a season is: `2025-26`, the second year the first's next.
pub fn valid_name(name: &str) -> bool {
    let Some((first, second)) = name.split_once('-') else {
        return false;
    };
    let (Ok(first), Ok(second)) = (first.parse::<u32>(), second.parse::<u32>()) else {
        return false;
    };
    name.len() == 7 && (1990..=2200).contains(&first) && second == (first + 1) % 100
}

/// What one gameweek is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Gameweek {
    pub season: String,
    pub event: u16,
    /// Its fixtures, by id.
    pub fixtures: Vec<u32>,
    /// Teams with two or more fixtures in it.
    pub double_teams: Vec<u16>,
    /// Teams with none.
    pub blank_teams: Vec<u16>,
    /// Fixtures of the season without a gameweek (postponed, not yet rescheduled).
    pub postponed: Vec<u32>,
}

/// Teams playing twice or more, and teams not playing, among `teams` given a gameweek's
/// fixtures as (home, away) pairs: `(double, blank)`, each in id order.
pub fn double_and_blank(teams: &[u16], fixtures: &[(u16, u16)]) -> (Vec<u16>, Vec<u16>) {
    let mut played: BTreeMap<u16, usize> = teams.iter().map(|&t| (t, 0)).collect();
    for &(h, a) in fixtures {
        *played.entry(h).or_default() += 1;
        *played.entry(a).or_default() += 1;
    }
    let double = played.iter().filter(|(_, n)| **n >= 2).map(|(t, _)| *t);
    let blank = played.iter().filter(|(_, n)| **n == 0).map(|(t, _)| *t);
    (double.collect(), blank.collect())
}

/// Gameweek `event` of `season` as stored; `None` when the season has no such gameweek.
pub async fn gameweek(
    db: &PgPool,
    season: SeasonId,
    event: u16,
) -> Result<Option<Gameweek>, StoreError> {
    let name: Option<String> = sqlx::query_scalar(
        "SELECT s.name FROM seasons s JOIN events e ON e.season_id = s.id \
         WHERE s.id = $1 AND e.id = $2",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_optional(db)
    .await?;
    let Some(season_name) = name else {
        return Ok(None);
    };
    let teams: Vec<i32> = sqlx::query_scalar("SELECT id FROM teams WHERE season_id = $1")
        .bind(season.0)
        .fetch_all(db)
        .await?;
    let rows: Vec<(i32, Option<i32>, i32, i32)> = sqlx::query_as(
        "SELECT id, event_id, team_h, team_a FROM fixtures \
         WHERE season_id = $1 AND (event_id = $2 OR event_id IS NULL) ORDER BY id",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_all(db)
    .await?;
    let teams: Vec<u16> = teams.into_iter().map(|t| t as u16).collect();
    let in_it: Vec<&(i32, Option<i32>, i32, i32)> = rows.iter().filter(|r| r.1.is_some()).collect();
    let pairs: Vec<(u16, u16)> = in_it.iter().map(|r| (r.2 as u16, r.3 as u16)).collect();
    let (double_teams, blank_teams) = double_and_blank(&teams, &pairs);
    Ok(Some(Gameweek {
        season: season_name,
        event,
        fixtures: in_it.iter().map(|r| r.0 as u32).collect(),
        double_teams,
        blank_teams,
        postponed: rows
            .iter()
            .filter(|r| r.1.is_none())
            .map(|r| r.0 as u32)
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::model::{EventId, Fixtures};
    use crate::fpl::samples::{self, gw38};

    #[test]
    fn season_names_are_two_consecutive_years() {
        for good in ["2025-26", "1999-00", "2026-27"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in [
            "2025-27",
            "2025",
            "25-26",
            "2025-2026",
            "2025-6",
            "abcd-ef",
            "",
            "2025-26 ",
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    /// The real 2025-26 fixture list: gameweek 31 is blank for the teams of its postponed
    /// matches, 33 double for those replayed in it, 38 is one match each for all twenty.
    #[test]
    fn the_real_fixture_list_has_its_blank_and_double_gameweeks() {
        let fixtures: Fixtures = samples::decode(gw38::FIXTURES_FINAL).unwrap();
        let teams: Vec<u16> = (1..=20).collect();
        let of = |gw: u16| -> Vec<(u16, u16)> {
            fixtures
                .iter()
                .filter(|f| f.event == Some(EventId(gw)))
                .map(|f| (f.team_h.0, f.team_a.0))
                .collect()
        };
        assert_eq!(double_and_blank(&teams, &of(38)), (vec![], vec![]));
        let (double, blank) = double_and_blank(&teams, &of(31));
        assert!(double.is_empty());
        assert!(!blank.is_empty(), "GW31 is a blank gameweek");
        assert_eq!(of(31).len() * 2 + blank.len(), 20);
        let (double, blank) = double_and_blank(&teams, &of(33));
        assert!(!double.is_empty(), "GW33 is a double gameweek");
        assert!(blank.is_empty());
        assert_eq!(of(33).len() * 2, 20 + double.len());
    }
}
