//! A gameweek's statistics of every tournament entry, derived from the stored official results
//! and picks (net, captain, bench and automatic-substitution points, goals scored and
//! conceded by the counted players) and the FPL cup matches, written under the row lock.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::{Postgres, Transaction};

use crate::fpl::model::EntryId;
use crate::tournament::model::TournamentId;
use crate::tournament::rules::{self, PickRow, PlayerGameweek};

use super::standings::{processed_events, recompute};
use super::{TournamentError, fetch_locked};

/// What processing one gameweek of one tournament did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// Stats for this many entries written, standings recomputed.
    Done { entries: usize },
    /// The gameweek is not one of the tournament's, or the tournament is not active.
    NotConcerned,
    /// No entry of the tournament has an official result for the gameweek yet.
    NoResults,
    /// A knockout gameweek whose group stage is not complete: these group gameweeks are missing.
    WaitingForGroups(Vec<u16>),
}

/// One entry's FPL cup match of the gameweek, read by the job before it locks anything.
#[derive(Debug, Clone)]
pub struct CupRow {
    pub entry: EntryId,
    pub opponent: Option<EntryId>,
    pub score: Option<i32>,
    pub opponent_score: Option<i32>,
    pub won: bool,
}

/// Processes gameweek `event` of tournament `id` for `season`: the entries' derived statistics
/// of that gameweek only (later gameweeks are never touched), then everything derived is
/// recomputed from the full stored history, under the tournament's row lock — in `tx`, which
/// the caller commits with what else belongs with it (a shared unit's completion).
pub async fn process_event(
    tx: &mut Transaction<'static, Postgres>,
    id: TournamentId,
    season: i32,
    event: u16,
    cup: &[CupRow],
) -> Result<Processed, TournamentError> {
    let row = fetch_locked(tx, id).await?;
    if row.state != "active" {
        return Ok(Processed::NotConcerned);
    }
    let roster: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tournament_entries WHERE tournament_id = $1")
            .bind(id.0)
            .fetch_one(&mut **tx)
            .await?;
    let group_events = row
        .group_stage()
        .spec()
        .map(|g| g.events())
        .unwrap_or_default();
    let knockout_events: Vec<u16> = row.knockout_events(roster as usize).concat();
    let in_groups = group_events.contains(&event);
    if !in_groups && !knockout_events.contains(&event) && !row.cup {
        return Ok(Processed::NotConcerned);
    }
    if !in_groups && knockout_events.contains(&event) {
        let done = processed_events(tx, id).await?;
        let missing: Vec<u16> = group_events
            .iter()
            .copied()
            .filter(|e| !done.contains(e))
            .collect();
        if !missing.is_empty() {
            return Ok(Processed::WaitingForGroups(missing));
        }
    }

    let results: Vec<ResultRow> = sqlx::query_as(
        "SELECT r.entry_id, r.points, r.transfers_cost, r.net_points, r.bench_points, \
         r.active_chip, r.picks FROM entry_event_results r JOIN tournament_entries te \
         ON te.entry_id = r.entry_id AND te.tournament_id = $1 \
         WHERE r.season_id = $2 AND r.event_id = $3",
    )
    .bind(id.0)
    .bind(season)
    .bind(i32::from(event))
    .fetch_all(&mut **tx)
    .await?;
    if results.is_empty() {
        return Ok(Processed::NoResults);
    }
    let live: HashMap<u32, PlayerGameweek> = sqlx::query_as::<
        _,
        (i32, i32, Option<i32>, Option<i32>),
    >(
        "SELECT player_id, points, (stats->>'goals_scored')::int, (stats->>'goals_conceded')::int \
         FROM live_player_points WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season)
    .bind(i32::from(event))
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|(id, points, gs, gc)| {
        let p = PlayerGameweek {
            points,
            goals_scored: gs.unwrap_or(0),
            goals_conceded: gc.unwrap_or(0),
        };
        (id as u32, p)
    })
    .collect();

    let n = results.len();
    let mut cols = StatColumns::default();
    for r in results {
        let picks = pick_rows(&r.picks);
        let s = rules::pick_stats(&picks, r.active_chip.as_deref(), &live);
        cols.entry.push(r.entry_id);
        cols.points.push(r.points);
        cols.cost.push(r.transfers_cost);
        cols.net.push(r.net_points);
        cols.bench.push(r.bench_points);
        cols.captain.push(s.captain_points);
        cols.autosub.push(s.autosub_points);
        cols.scored.push(s.goals_scored);
        cols.conceded.push(s.goals_conceded);
        cols.chip.push(r.active_chip);
    }
    sqlx::query(
        "INSERT INTO tournament_entry_stats (tournament_id, event_id, entry_id, points, \
         transfers_cost, net_points, bench_points, captain_points, autosub_points, goals_scored, \
         goals_conceded, active_chip) \
         SELECT $1, $2, u.e, u.p, u.c, u.n, u.b, u.cap, u.sub, u.gs, u.gc, u.chip FROM UNNEST(\
         $3::bigint[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[], \
         $10::int[], $11::int[], $12::text[]) AS u(e, p, c, n, b, cap, sub, gs, gc, chip) \
         ON CONFLICT (tournament_id, event_id, entry_id) DO UPDATE SET points = EXCLUDED.points, \
         transfers_cost = EXCLUDED.transfers_cost, net_points = EXCLUDED.net_points, \
         bench_points = EXCLUDED.bench_points, captain_points = EXCLUDED.captain_points, \
         autosub_points = EXCLUDED.autosub_points, goals_scored = EXCLUDED.goals_scored, \
         goals_conceded = EXCLUDED.goals_conceded, active_chip = EXCLUDED.active_chip, \
         computed_at = now()",
    )
    .bind(id.0)
    .bind(i32::from(event))
    .bind(&cols.entry)
    .bind(&cols.points)
    .bind(&cols.cost)
    .bind(&cols.net)
    .bind(&cols.bench)
    .bind(&cols.captain)
    .bind(&cols.autosub)
    .bind(&cols.scored)
    .bind(&cols.conceded)
    .bind(&cols.chip)
    .execute(&mut **tx)
    .await?;
    for c in cup {
        sqlx::query(
            "INSERT INTO tournament_cup_results (tournament_id, entry_id, event_id, opponent, \
             score, opponent_score, won) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tournament_id, entry_id, event_id) DO UPDATE SET \
             opponent = EXCLUDED.opponent, score = EXCLUDED.score, \
             opponent_score = EXCLUDED.opponent_score, won = EXCLUDED.won",
        )
        .bind(id.0)
        .bind(c.entry.0 as i64)
        .bind(i32::from(event))
        .bind(c.opponent.map(|o| o.0 as i64))
        .bind(c.score)
        .bind(c.opponent_score)
        .bind(c.won)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO tournament_events (tournament_id, event_id, entries) VALUES ($1, $2, $3) \
         ON CONFLICT (tournament_id, event_id) DO UPDATE SET entries = EXCLUDED.entries, \
         processed_at = now()",
    )
    .bind(id.0)
    .bind(i32::from(event))
    .bind(n as i32)
    .execute(&mut **tx)
    .await?;
    recompute(tx, &row).await?;
    Ok(Processed::Done { entries: n })
}

/// An official result of a tournament entry.
#[derive(sqlx::FromRow)]
pub(super) struct ResultRow {
    entry_id: i64,
    points: i32,
    transfers_cost: i32,
    net_points: i32,
    bench_points: i32,
    active_chip: Option<String>,
    picks: Value,
}

/// The columns of a gameweek's entry statistics, for one UNNEST insert.
#[derive(Default)]
pub(super) struct StatColumns {
    entry: Vec<i64>,
    points: Vec<i32>,
    cost: Vec<i32>,
    net: Vec<i32>,
    bench: Vec<i32>,
    captain: Vec<i32>,
    autosub: Vec<i32>,
    scored: Vec<i32>,
    conceded: Vec<i32>,
    chip: Vec<Option<String>>,
}

/// The picks of `entry_event_results.picks` (FPL's picks array), read defensively: a pick that
/// lacks a field is skipped.
pub(super) fn pick_rows(picks: &Value) -> Vec<PickRow> {
    picks
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some(PickRow {
                        element: u32::try_from(p["element"].as_u64()?).ok()?,
                        position: u8::try_from(p["position"].as_u64()?).ok()?,
                        multiplier: u8::try_from(p["multiplier"].as_u64()?).ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
