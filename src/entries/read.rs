//! Reads of what the `entries` job stores about tracked managers, for the `/data/managers/*`
//! routes: their summaries (paged by entry id), one manager's FPL entry object and season
//! history, and his gameweeks — picks with the chip played, the automatic substitutions, and
//! FPL's official points beside the points fplsync computed.
//!
//! FPL's `automatic_subs` are not stored: they are derived from the two pick lists that are — the
//! picks as made after the deadline (`entry_picks`) and the final picks with substitutions
//! applied (`entry_event_results`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::types::Json;

use crate::fpl::model::{EntryId, EventId};
use crate::meta::SeasonId;
use crate::store::StoreError;

/// A stored manager: the summary FPL's entry object gives.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ManagerSummary {
    /// The entry (manager) id.
    pub entry: i64,
    /// The team's name.
    pub name: Option<String>,
    /// The manager's name.
    pub player_name: Option<String>,
    pub overall_rank: Option<i64>,
    pub summary_points: Option<i32>,
    /// When fplsync last fetched it.
    pub updated_at: DateTime<Utc>,
}

/// One stored manager with FPL's entry object as fetched.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Manager {
    #[serde(flatten)]
    pub summary: ManagerSummary,
    /// FPL's `entry/{id}/` object as fetched (null until fetched).
    #[schema(value_type = Object)]
    pub info: Option<Value>,
}

/// Managers of `season` stored after `after`, by entry id, at most `limit`.
pub async fn managers(
    db: &PgPool,
    season: SeasonId,
    after: EntryId,
    limit: u32,
) -> Result<Vec<ManagerSummary>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id AS entry, name, player_name, overall_rank, summary_points, updated_at \
         FROM entries WHERE season_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(season.0)
    .bind(after.0 as i64)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?)
}

/// One stored manager of `season`; `None` when not stored.
pub async fn manager(
    db: &PgPool,
    season: SeasonId,
    entry: EntryId,
) -> Result<Option<Manager>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        summary: ManagerSummary,
        info: Option<Json<Value>>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id AS entry, name, player_name, overall_rank, summary_points, updated_at, \
         data AS info FROM entries WHERE season_id = $1 AND id = $2",
    )
    .bind(season.0)
    .bind(entry.0 as i64)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Manager {
        summary: r.summary,
        info: r.info.map(|j| j.0),
    }))
}

/// The manager's season history as FPL sent it (`entry/{id}/history/`): `Some(None)` when the
/// manager is stored but his history not fetched yet, `None` when he is not stored.
pub async fn history(
    db: &PgPool,
    season: SeasonId,
    entry: EntryId,
) -> Result<Option<Option<Value>>, StoreError> {
    let row: Option<(Option<Json<Value>>,)> =
        sqlx::query_as("SELECT history FROM entries WHERE season_id = $1 AND id = $2")
            .bind(season.0)
            .bind(entry.0 as i64)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(h,)| h.map(|j| j.0)))
}

/// Whether fplsync stores anything of the manager in `season`: his info, picks or results.
pub async fn known(db: &PgPool, season: SeasonId, entry: EntryId) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM entries WHERE season_id = $1 AND id = $2) \
         OR EXISTS (SELECT 1 FROM entry_picks WHERE season_id = $1 AND entry_id = $2) \
         OR EXISTS (SELECT 1 FROM entry_event_results WHERE season_id = $1 AND entry_id = $2)",
    )
    .bind(season.0)
    .bind(entry.0 as i64)
    .fetch_one(db)
    .await?)
}

/// FPL's official result of a manager's gameweek.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Official {
    /// Points before transfer costs.
    pub points: i32,
    pub net_points: i32,
    pub bench_points: i32,
    pub total_points: Option<i32>,
    pub event_rank: Option<i64>,
    pub overall_rank: Option<i64>,
}

/// An automatic substitution: the starter who went out and the bench player who came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AutoSub {
    pub element_out: u32,
    pub element_in: u32,
}

/// A manager's gameweek as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ManagerGameweek {
    pub event: u16,
    /// The chip played (`bboost`, `3xc`, `freehit`, `wildcard`, `manager`), or null.
    pub active_chip: Option<String>,
    pub transfers_cost: i32,
    /// The final picks (substitutions and captaincy applied) once the official result is
    /// stored, else the picks as made after the deadline: FPL's pick objects.
    #[schema(value_type = Vec<Object>)]
    pub picks: Value,
    /// Substitutions FPL applied: known once both pick lists are stored, else empty.
    pub automatic_subs: Vec<AutoSub>,
    /// FPL's official result, once the gameweek is finalized.
    pub official: Option<Official>,
    /// The points fplsync computed from the final live data (before transfer costs).
    pub computed_points: Option<i32>,
}

/// The manager's gameweeks of `season` after `after`, oldest first, at most `limit`.
pub async fn gameweeks(
    db: &PgPool,
    season: SeasonId,
    entry: EntryId,
    after: EventId,
    limit: u32,
) -> Result<Vec<ManagerGameweek>, StoreError> {
    type Row = (
        i32,
        Option<String>,
        i32,
        Option<Json<Value>>,
        Option<Json<Value>>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
        Option<i64>,
        Option<i64>,
        Option<i32>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT COALESCE(p.event_id, r.event_id), COALESCE(r.active_chip, p.active_chip), \
         COALESCE(r.transfers_cost, p.transfers_cost), p.picks, r.picks, r.points, \
         r.net_points, r.bench_points, r.total_points, r.event_rank, r.overall_rank, \
         r.computed_points \
         FROM (SELECT * FROM entry_picks WHERE season_id = $1 AND entry_id = $2) p \
         FULL JOIN (SELECT * FROM entry_event_results WHERE season_id = $1 AND entry_id = $2) r \
              ON r.event_id = p.event_id \
         WHERE COALESCE(p.event_id, r.event_id) > $3 ORDER BY 1 LIMIT $4",
    )
    .bind(season.0)
    .bind(entry.0 as i64)
    .bind(i32::from(after.0))
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(event, chip, cost, made, fin, points, net, bench, total, erank, orank, ours)| {
                let automatic_subs = match (&made, &fin) {
                    (Some(made), Some(fin)) => substitutions(&made.0, &fin.0),
                    _ => Vec::new(),
                };
                let official = match (points, net, bench) {
                    (Some(points), Some(net_points), Some(bench_points)) => Some(Official {
                        points,
                        net_points,
                        bench_points,
                        total_points: total,
                        event_rank: erank,
                        overall_rank: orank,
                    }),
                    _ => None,
                };
                ManagerGameweek {
                    event: u16::try_from(event).unwrap_or_default(),
                    active_chip: chip,
                    transfers_cost: cost,
                    picks: fin
                        .or(made)
                        .map(|j| j.0)
                        .unwrap_or(Value::Array(Vec::new())),
                    automatic_subs,
                    official,
                    computed_points: ours,
                }
            },
        )
        .collect())
}

/// The substitutions between the picks as made and the final picks. FPL moves a substitute
/// into the eleven (positions 1–11) and the starter he replaced onto the bench — with Bench
/// Boost too, where every multiplier stays 1 — so a bench player now in the eleven came in and
/// a starter now on the bench went out. Where the final picks keep the positions as made (only
/// multipliers changed), a starter whose multiplier fell to 0 went out and a bench player whose
/// multiplier rose from 0 came in. Pairs are formed in pick order (FPL brings the bench on in
/// its order). A captaincy passing to the vice-captain is no substitution.
pub fn substitutions(made: &Value, fin: &Value) -> Vec<AutoSub> {
    let picks = |picks: &Value| -> Vec<(u32, u8, u64)> {
        picks
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some((
                    u32::try_from(p["element"].as_u64()?).ok()?,
                    u8::try_from(p["position"].as_u64()?).ok()?,
                    p["multiplier"].as_u64()?,
                ))
            })
            .collect()
    };
    let mut made = picks(made);
    made.sort_by_key(|p| p.1);
    let fin = picks(fin);
    let final_of = |element: u32| fin.iter().find(|f| f.0 == element).map(|f| (f.1, f.2));
    let starter = |position: u8| position <= 11;
    let moved = made
        .iter()
        .any(|(e, pos, _)| final_of(*e).is_some_and(|(p, _)| starter(p) != starter(*pos)));
    let (out, ins): (Vec<u32>, Vec<u32>) = if moved {
        let changed = |wanted_starter: bool| {
            made.iter()
                .filter(|(e, pos, _)| {
                    starter(*pos) == wanted_starter
                        && final_of(*e).is_some_and(|(p, _)| starter(p) != wanted_starter)
                })
                .map(|(e, ..)| *e)
                .collect::<Vec<u32>>()
        };
        (changed(true), changed(false))
    } else {
        let out = made
            .iter()
            .filter(|(e, pos, m)| starter(*pos) && *m > 0 && final_of(*e).is_some_and(|f| f.1 == 0))
            .map(|(e, ..)| *e)
            .collect();
        let ins = made
            .iter()
            .filter(|(e, pos, m)| {
                !starter(*pos) && *m == 0 && final_of(*e).is_some_and(|f| f.1 > 0)
            })
            .map(|(e, ..)| *e)
            .collect();
        (out, ins)
    };
    out.into_iter()
        .zip(ins)
        .map(|(element_out, element_in)| AutoSub {
            element_out,
            element_in,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pick(element: u32, position: u8, multiplier: u8) -> Value {
        json!({"element": element, "position": position, "multiplier": multiplier,
               "is_captain": multiplier == 2, "is_vice_captain": false})
    }

    #[test]
    fn a_starter_who_did_not_play_is_replaced_by_the_first_bench_player_who_did() {
        let made: Vec<Value> = (1..=15)
            .map(|p| pick(100 + p, p as u8, if p <= 11 { 1 } else { 0 }))
            .collect();
        let mut fin = made.clone();
        fin[4] = pick(105, 5, 0); // starter 105 out
        fin[12] = pick(113, 13, 1); // second outfield bench player in
        let subs = substitutions(&json!(made), &json!(fin));
        assert_eq!(
            subs,
            [AutoSub {
                element_out: 105,
                element_in: 113
            }]
        );
    }

    #[test]
    fn under_bench_boost_a_substitute_is_the_bench_player_moved_into_the_eleven() {
        let made: Vec<Value> = (1..=15).map(|p| pick(100 + p, p as u8, 1)).collect();
        let mut fin = made.clone();
        fin[1] = pick(113, 2, 1); // 113 from the bench into the eleven
        fin[12] = pick(102, 13, 1); // 102 onto the bench
        assert_eq!(
            substitutions(&json!(made), &json!(fin)),
            [AutoSub {
                element_out: 102,
                element_in: 113
            }]
        );
    }

    #[test]
    fn the_captaincy_passing_to_the_vice_or_a_bench_boost_is_no_substitution() {
        let mut made: Vec<Value> = (1..=15).map(|p| pick(p, p as u8, 1)).collect();
        made[0] = pick(1, 1, 2);
        let mut fin = made.clone();
        fin[0] = pick(1, 1, 1);
        fin[1] = pick(2, 2, 2);
        assert!(substitutions(&json!(made), &json!(fin)).is_empty());
        assert!(substitutions(&json!(made), &json!(null)).is_empty());
    }
}
