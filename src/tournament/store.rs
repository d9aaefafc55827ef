//! Tournaments in PostgreSQL: creation with the roster, structural changes (roster sync,
//! activation with seeding, groups and fixtures, archiving), the per-gameweek entry statistics,
//! and the standings recomputed from everything stored — group tables, qualification and the
//! bracket — published to the cache as `tournament:{id}:*`.
//!
//! Every structural change and every result write first locks the tournament's row
//! (`SELECT … FOR UPDATE`) in its transaction, so a roster rebuild can never interleave with a
//! results run (a past bug of the peer).

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};

use super::model::{
    COLUMNS, GroupStage, Invalid, NewTournament, Source, TournamentId, TournamentRow,
};
use super::rules::{self, LegScore, PickRow, PlayerGameweek, Seed};
use crate::cache::{Cache, CacheKey, Family, Loaders, TournamentDataset};
use crate::fpl::model::{EntryId, LeagueId};
use crate::fpl::{FplClient, FplError, Priority};
use crate::store::StoreError;

/// Why a tournament operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TournamentError {
    #[error("no tournament {0}")]
    NotFound(TournamentId),
    /// The operation does not fit the tournament's state (`code` is stable).
    #[error("{message}")]
    State { code: &'static str, message: String },
    /// The definition does not fit the roster.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("FPL league {league} does not exist (404)")]
    UnknownLeague { league: u64 },
    #[error("reading the roster from FPL failed: {0}")]
    Fpl(#[from] FplError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TournamentError {
    fn from(e: sqlx::Error) -> Self {
        TournamentError::Store(e.into())
    }
}

/// One roster entry as a source gives it.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub entry: EntryId,
    pub name: Option<String>,
    pub player_name: Option<String>,
    pub league_rank: Option<i32>,
}

/// Reads the roster of a source: every standings page of a league, or the listed ids.
pub async fn fetch_roster(
    fpl: &FplClient,
    source: &Source,
) -> Result<Vec<RosterEntry>, TournamentError> {
    let not_found = |league: u64| {
        move |e: FplError| match e {
            FplError::NotFound { .. } => TournamentError::UnknownLeague { league },
            e => TournamentError::Fpl(e),
        }
    };
    Ok(match source {
        Source::ClassicLeague(id) => fpl
            .classic_standings(LeagueId(*id), Priority::Tournament)
            .await
            .map_err(not_found(*id))?
            .rows
            .into_iter()
            .map(|r| RosterEntry {
                entry: r.entry,
                name: Some(r.entry_name),
                player_name: Some(r.player_name),
                league_rank: i32::try_from(r.rank_sort).ok(),
            })
            .collect(),
        Source::H2hLeague(id) => fpl
            .h2h_standings(LeagueId(*id), Priority::Tournament)
            .await
            .map_err(not_found(*id))?
            .rows
            .into_iter()
            .map(|r| RosterEntry {
                entry: r.entry,
                name: r.entry_name,
                player_name: r.player_name,
                league_rank: r.rank_sort.or(r.rank).and_then(|r| i32::try_from(r).ok()),
            })
            .collect(),
        Source::Entries(ids) => ids
            .iter()
            .map(|id| RosterEntry {
                entry: EntryId(*id),
                name: None,
                player_name: None,
                league_rank: None,
            })
            .collect(),
    })
}

/// Creates a draft tournament with its roster (read from FPL first, so a failed read stores
/// nothing) and registers the entries as tracked by it.
pub async fn create(
    db: &PgPool,
    fpl: &FplClient,
    def: &NewTournament,
) -> Result<TournamentRow, TournamentError> {
    def.validate()?;
    let roster = fetch_roster(fpl, &def.source).await?;
    if roster.len() < 2 {
        return Err(Invalid(format!(
            "the source has {} entries; a tournament needs at least 2",
            roster.len()
        ))
        .into());
    }
    let (kind, league) = match &def.source {
        Source::ClassicLeague(id) => ("classic", Some(*id as i64)),
        Source::H2hLeague(id) => ("h2h", Some(*id as i64)),
        Source::Entries(_) => ("entries", None),
    };
    let g = def.group_stage.spec();
    let mut tx = db.begin().await?;
    let row: TournamentRow = sqlx::query_as(&format!(
        "INSERT INTO tournaments (name, source_kind, source_league, group_mode, group_count, \
         qualifiers_per_group, group_first_event, group_last_event, knockout_mode, \
         knockout_first_event, cup) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         RETURNING {COLUMNS}"
    ))
    .bind(def.name.trim())
    .bind(kind)
    .bind(league)
    .bind(def.group_stage.mode())
    .bind(g.map(|g| g.groups as i32))
    .bind(g.map(|g| g.qualifiers_per_group as i32))
    .bind(g.map(|g| i32::from(g.first_event)))
    .bind(g.map(|g| i32::from(g.last_event)))
    .bind(def.knockout.mode())
    .bind(def.knockout.first_event().map(i32::from))
    .bind(def.cup)
    .fetch_one(&mut *tx)
    .await?;
    replace_roster(&mut tx, row.id(), &roster).await?;
    let row = fetch_locked(&mut tx, row.id()).await?;
    tx.commit().await?;
    Ok(row)
}

/// Replaces the roster (and the tracked entries of this tournament) with `roster`.
async fn replace_roster(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
    roster: &[RosterEntry],
) -> Result<(), TournamentError> {
    let ids: Vec<i64> = roster.iter().map(|r| r.entry.0 as i64).collect();
    let names: Vec<Option<String>> = roster.iter().map(|r| r.name.clone()).collect();
    let players: Vec<Option<String>> = roster.iter().map(|r| r.player_name.clone()).collect();
    let ranks: Vec<Option<i32>> = roster.iter().map(|r| r.league_rank).collect();
    sqlx::query(
        "DELETE FROM tournament_entries WHERE tournament_id = $1 AND NOT (entry_id = ANY($2))",
    )
    .bind(id.0)
    .bind(&ids)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO tournament_entries (tournament_id, entry_id, name, player_name, league_rank) \
         SELECT $1, u.id, u.name, u.player, u.rank \
         FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::int[]) AS u(id, name, player, rank) \
         ON CONFLICT (tournament_id, entry_id) DO UPDATE SET name = EXCLUDED.name, \
         player_name = EXCLUDED.player_name, league_rank = EXCLUDED.league_rank",
    )
    .bind(id.0)
    .bind(&ids)
    .bind(&names)
    .bind(&players)
    .bind(&ranks)
    .execute(&mut **tx)
    .await?;
    let source = id.tracking_source();
    sqlx::query("DELETE FROM tracked_entries WHERE source = $1 AND NOT (entry_id = ANY($2))")
        .bind(&source)
        .bind(&ids)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO tracked_entries (entry_id, source) SELECT u, $1 FROM UNNEST($2::bigint[]) u \
         ON CONFLICT DO NOTHING",
    )
    .bind(&source)
    .bind(&ids)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE tournaments SET roster_synced_at = now(), updated_at = now() WHERE id = $1",
    )
    .bind(id.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Locks the tournament's row for the rest of the transaction.
async fn fetch_locked(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
) -> Result<TournamentRow, TournamentError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tournaments WHERE id = $1 FOR UPDATE"
    ))
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(TournamentError::NotFound(id))
}

/// One tournament and its roster size.
pub async fn get(
    db: &PgPool,
    id: TournamentId,
) -> Result<Option<(TournamentRow, i64)>, StoreError> {
    let row: Option<TournamentRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM tournaments WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(db)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tournament_entries WHERE tournament_id = $1")
            .bind(id.0)
            .fetch_one(db)
            .await?;
    Ok(Some((row, n)))
}

/// Every tournament (optionally of one state), newest first, with roster sizes.
pub async fn list(
    db: &PgPool,
    state: Option<&str>,
) -> Result<Vec<(TournamentRow, i64)>, StoreError> {
    let rows: Vec<TournamentRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tournaments WHERE $1::text IS NULL OR state = $1 ORDER BY id DESC"
    ))
    .bind(state)
    .fetch_all(db)
    .await?;
    let counts: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
        "SELECT tournament_id, count(*) FROM tournament_entries GROUP BY tournament_id",
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            (r, n)
        })
        .collect())
}

fn state_error(code: &'static str, message: String) -> TournamentError {
    TournamentError::State { code, message }
}

/// Re-reads a league tournament's roster from every standings page. Only a draft's roster
/// changes: an active tournament's groups and bracket are fixed.
pub async fn sync_roster(
    db: &PgPool,
    fpl: &FplClient,
    id: TournamentId,
) -> Result<TournamentRow, TournamentError> {
    let (row, _) = get(db, id).await?.ok_or(TournamentError::NotFound(id))?;
    let source = match (row.source_kind.as_str(), row.source_league) {
        ("classic", Some(l)) => Source::ClassicLeague(l as u64),
        ("h2h", Some(l)) => Source::H2hLeague(l as u64),
        _ => {
            return Err(state_error(
                "not_a_league",
                format!("tournament {id} has an explicit entry list, not a league"),
            ));
        }
    };
    let roster = fetch_roster(fpl, &source).await?;
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    if row.state != "draft" {
        return Err(state_error(
            "invalid_state",
            format!(
                "tournament {id} is {}: only a draft's roster can change",
                row.state
            ),
        ));
    }
    replace_roster(&mut tx, id, &roster).await?;
    let row = fetch_locked(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Seeds a draft by FPL overall rank, deals the groups serpentine, fixes battle race fixtures,
/// and makes it active; its (empty) standings are published.
pub async fn activate(
    db: &PgPool,
    cache: &Cache,
    id: TournamentId,
) -> Result<TournamentRow, TournamentError> {
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    if row.state != "draft" {
        return Err(state_error(
            "invalid_state",
            format!(
                "tournament {id} is {}: only a draft can be activated",
                row.state
            ),
        ));
    }
    // The overall rank fplsync knows best: the entry's, else its latest official result's.
    let seeds: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT te.entry_id, COALESCE(e.overall_rank, \
           (SELECT r.overall_rank FROM entry_event_results r WHERE r.entry_id = te.entry_id \
            AND r.overall_rank IS NOT NULL ORDER BY r.season_id DESC, r.event_id DESC LIMIT 1)) \
         FROM tournament_entries te LEFT JOIN entries e ON e.id = te.entry_id \
         WHERE te.tournament_id = $1",
    )
    .bind(id.0)
    .fetch_all(&mut *tx)
    .await?;
    let seeded = rules::seed_order(
        seeds
            .iter()
            .map(|(e, r)| Seed {
                entry: EntryId(*e as u64),
                overall_rank: r.map(|r| r as u64),
            })
            .collect(),
    );
    let stage = row.group_stage();
    if let Some(g) = stage.spec()
        && g.groups as usize > seeded.len()
    {
        return Err(Invalid(format!(
            "{} groups for {} entries: every group needs an entry",
            g.groups,
            seeded.len()
        ))
        .into());
    }
    let rounds = row.knockout_events(seeded.len());
    if let Some(last) = rounds.last().and_then(|r| r.last())
        && *last > super::model::LAST_EVENT
    {
        return Err(Invalid(format!(
            "{} knockout rounds from GW{} end in GW{last}, after the season",
            rounds.len(),
            rounds[0][0]
        ))
        .into());
    }
    let groups = match stage.spec() {
        Some(g) => rules::serpentine(&seeded, g.groups as usize),
        None => vec![seeded.clone()],
    };
    let mut entries = Vec::new();
    let mut seeds_of = Vec::new();
    let mut ranks = Vec::new();
    let mut group_of = Vec::new();
    let index: HashMap<EntryId, usize> = seeded
        .iter()
        .enumerate()
        .map(|(i, s)| (s.entry, i))
        .collect();
    for (g, members) in groups.iter().enumerate() {
        for m in members {
            entries.push(m.entry.0 as i64);
            seeds_of.push(index[&m.entry] as i32 + 1);
            ranks.push(m.overall_rank.map(|r| r as i64));
            group_of.push(stage.spec().map(|_| g as i32 + 1));
        }
    }
    sqlx::query(
        "UPDATE tournament_entries te SET seed = u.seed, overall_rank = u.rank, group_no = u.g \
         FROM UNNEST($2::bigint[], $3::int[], $4::bigint[], $5::int[]) AS u(id, seed, rank, g) \
         WHERE te.tournament_id = $1 AND te.entry_id = u.id",
    )
    .bind(id.0)
    .bind(&entries)
    .bind(&seeds_of)
    .bind(&ranks)
    .bind(&group_of)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM tournament_group_fixtures WHERE tournament_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    if let (GroupStage::BattleRace { .. }, Some(g)) = (stage, stage.spec()) {
        for (i, members) in groups.iter().enumerate() {
            let ids: Vec<EntryId> = members.iter().map(|m| m.entry).collect();
            let fixtures = rules::round_robin(&ids, &g.events());
            let ev: Vec<i32> = fixtures.iter().map(|f| i32::from(f.event)).collect();
            let home: Vec<i64> = fixtures.iter().map(|f| f.home.0 as i64).collect();
            let away: Vec<i64> = fixtures.iter().map(|f| f.away.0 as i64).collect();
            sqlx::query(
                "INSERT INTO tournament_group_fixtures (tournament_id, group_no, event_id, \
                 home_entry, away_entry) SELECT $1, $2, u.ev, u.h, u.a \
                 FROM UNNEST($3::int[], $4::bigint[], $5::bigint[]) AS u(ev, h, a)",
            )
            .bind(id.0)
            .bind(i as i32 + 1)
            .bind(&ev)
            .bind(&home)
            .bind(&away)
            .execute(&mut *tx)
            .await?;
        }
    }
    sqlx::query(
        "UPDATE tournaments SET state = 'active', activated_at = now(), updated_at = now() \
         WHERE id = $1",
    )
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    let row = fetch_locked(&mut tx, id).await?;
    recompute(&mut tx, &row).await?;
    tx.commit().await?;
    publish(db, cache, id).await;
    Ok(row)
}

/// Archives a tournament: its results stay readable, its entries are no longer tracked for it.
pub async fn archive(db: &PgPool, id: TournamentId) -> Result<TournamentRow, TournamentError> {
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    if row.state == "archived" {
        return Err(state_error(
            "invalid_state",
            format!("tournament {id} is already archived"),
        ));
    }
    sqlx::query("DELETE FROM tracked_entries WHERE source = $1")
        .bind(id.tracking_source())
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE tournaments SET state = 'archived', updated_at = now() WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    let row = fetch_locked(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Active tournaments, for a results run over all of them.
pub async fn active_ids(db: &PgPool) -> Result<Vec<TournamentId>, StoreError> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM tournaments WHERE state = 'active' ORDER BY id")
            .fetch_all(db)
            .await?;
    Ok(ids.into_iter().map(TournamentId).collect())
}

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
/// recomputed from the full stored history, under the tournament's row lock.
pub async fn process_event(
    db: &PgPool,
    id: TournamentId,
    season: i32,
    event: u16,
    cup: &[CupRow],
) -> Result<Processed, TournamentError> {
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    if row.state != "active" {
        return Ok(Processed::NotConcerned);
    }
    let roster: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tournament_entries WHERE tournament_id = $1")
            .bind(id.0)
            .fetch_one(&mut *tx)
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
        let done = processed_events(&mut tx, id).await?;
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
    .fetch_all(&mut *tx)
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
    .fetch_all(&mut *tx)
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
    .execute(&mut *tx)
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
        .execute(&mut *tx)
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
    .execute(&mut *tx)
    .await?;
    recompute(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(Processed::Done { entries: n })
}

/// An official result of a tournament entry.
#[derive(sqlx::FromRow)]
struct ResultRow {
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
struct StatColumns {
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

/// Group table rows for one UNNEST insert: played, won, drawn, lost, points, for, against.
#[derive(Default)]
struct StandingColumns {
    group: Vec<i32>,
    entry: Vec<i64>,
    rank: Vec<i32>,
    counts: [Vec<i64>; 7],
}

/// Battle race fixture scores for one UNNEST update.
#[derive(Default)]
struct FixtureScores {
    event: Vec<i32>,
    home: Vec<i64>,
    home_points: Vec<Option<i32>>,
    away_points: Vec<Option<i32>>,
}

/// A roster entry as recompute reads it.
#[derive(sqlx::FromRow)]
struct Member {
    entry_id: i64,
    name: Option<String>,
    player_name: Option<String>,
    overall_rank: Option<i64>,
    group_no: Option<i32>,
}

/// The picks of `entry_event_results.picks` (FPL's picks array), read defensively: a pick that
/// lacks a field is skipped.
fn pick_rows(picks: &Value) -> Vec<PickRow> {
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

async fn processed_events(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
) -> Result<Vec<u16>, TournamentError> {
    let events: Vec<i32> = sqlx::query_scalar(
        "SELECT event_id FROM tournament_events WHERE tournament_id = $1 ORDER BY event_id",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?;
    Ok(events.into_iter().map(|e| e as u16).collect())
}

/// Recomputes group tables, qualification and the bracket from every stored gameweek, and
/// stores them with the standings document. Deterministic: the same stored statistics always
/// give the same standings, whatever order gameweeks were processed in.
async fn recompute(
    tx: &mut Transaction<'_, Postgres>,
    row: &TournamentRow,
) -> Result<(), TournamentError> {
    let id = row.id();
    let members: Vec<Member> = sqlx::query_as(
        "SELECT entry_id, name, player_name, overall_rank, seed, group_no \
             FROM tournament_entries WHERE tournament_id = $1 ORDER BY seed NULLS LAST, entry_id",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?;
    let names: HashMap<i64, (Option<String>, Option<String>)> = members
        .iter()
        .map(|m| (m.entry_id, (m.name.clone(), m.player_name.clone())))
        .collect();
    let stats: HashMap<(u64, u16), LegScore> = sqlx::query_as::<_, (i64, i32, i32, i32, i32)>(
        "SELECT entry_id, event_id, net_points, goals_scored, goals_conceded \
         FROM tournament_entry_stats WHERE tournament_id = $1",
    )
    .bind(id.0)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .map(|(e, ev, net, gs, gc)| {
        let s = LegScore {
            net_points: net,
            goals_scored: gs,
            goals_conceded: gc,
        };
        ((e as u64, ev as u16), s)
    })
    .collect();
    let net = |e: EntryId, ev: u16| stats.get(&(e.0, ev)).map(|s| s.net_points);
    let done = processed_events(tx, id).await?;
    let seed = |m: &Member| Seed {
        entry: EntryId(m.entry_id as u64),
        overall_rank: m.overall_rank.map(|r| r as u64),
    };
    let with_names = |mut v: Value| {
        let entry = v["entry"].as_i64().unwrap_or(0);
        if let (Some(obj), Some((name, player))) = (v.as_object_mut(), names.get(&entry)) {
            obj.insert("name".into(), json!(name));
            obj.insert("player_name".into(), json!(player));
        }
        v
    };

    sqlx::query("DELETE FROM tournament_group_standings WHERE tournament_id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    let stage = row.group_stage();
    let mut rows = StandingColumns::default();
    let mut group_docs = Vec::new();
    let mut qualifiers = Vec::new();
    let group_complete = stage
        .spec()
        .is_none_or(|g| g.events().iter().all(|e| done.contains(e)));
    if let Some(g) = stage.spec() {
        for group in 1..=g.groups as i32 {
            let ms: Vec<Seed> = members
                .iter()
                .filter(|m| m.group_no == Some(group))
                .map(seed)
                .collect();
            // (entry, rank, played, won, drawn, lost, points, for, against, row json)
            let mut table: Vec<(i64, i32, [i64; 7], Value)> = Vec::new();
            let mut fixtures_doc = Vec::new();
            match stage {
                GroupStage::PointsRace { .. } => {
                    for r in rules::points_race(&ms, &g.events(), net) {
                        let v = serde_json::to_value(&r).unwrap_or_default();
                        table.push((
                            r.entry.0 as i64,
                            r.rank as i32,
                            [r.played as i64, 0, 0, 0, r.points, r.points, 0],
                            v,
                        ));
                    }
                }
                _ => {
                    let fixtures: Vec<rules::GroupFixture> = sqlx::query_as::<_, (i32, i64, i64)>(
                        "SELECT event_id, home_entry, away_entry FROM tournament_group_fixtures \
                         WHERE tournament_id = $1 AND group_no = $2 ORDER BY event_id, home_entry",
                    )
                    .bind(id.0)
                    .bind(group)
                    .fetch_all(&mut **tx)
                    .await?
                    .into_iter()
                    .map(|(ev, h, a)| rules::GroupFixture {
                        event: ev as u16,
                        home: EntryId(h as u64),
                        away: EntryId(a as u64),
                    })
                    .collect();
                    let mut scores = FixtureScores::default();
                    for f in &fixtures {
                        let (h, a) = (net(f.home, f.event), net(f.away, f.event));
                        let scored = rules::score_battle(h, a);
                        scores.event.push(i32::from(f.event));
                        scores.home.push(f.home.0 as i64);
                        scores.home_points.push(scored.map(|s| i32::from(s.0)));
                        scores.away_points.push(scored.map(|s| i32::from(s.1)));
                        fixtures_doc.push(json!({
                            "event": f.event, "home": f.home, "away": f.away,
                            "home_net": h, "away_net": a,
                            "home_points": scored.map(|s| s.0), "away_points": scored.map(|s| s.1),
                        }));
                    }
                    sqlx::query(
                        "UPDATE tournament_group_fixtures f SET home_points = u.hp, \
                         away_points = u.ap FROM UNNEST($2::int[], $3::bigint[], $4::int[], \
                         $5::int[]) AS u(ev, h, hp, ap) WHERE f.tournament_id = $1 \
                         AND f.event_id = u.ev AND f.home_entry = u.h",
                    )
                    .bind(id.0)
                    .bind(&scores.event)
                    .bind(&scores.home)
                    .bind(&scores.home_points)
                    .bind(&scores.away_points)
                    .execute(&mut **tx)
                    .await?;
                    for r in rules::battle_table(&ms, &fixtures, net) {
                        let v = serde_json::to_value(&r).unwrap_or_default();
                        let nums = [
                            r.played as i64,
                            r.won as i64,
                            r.drawn as i64,
                            r.lost as i64,
                            r.points,
                            r.points_for,
                            r.points_against,
                        ];
                        table.push((r.entry.0 as i64, r.rank as i32, nums, v));
                    }
                }
            }
            for (entry, rank, n, _) in &table {
                rows.group.push(group);
                rows.entry.push(*entry);
                rows.rank.push(*rank);
                rows.counts.iter_mut().zip(n).for_each(|(c, n)| c.push(*n));
                if (*rank as u32) <= g.qualifiers_per_group {
                    let m = members.iter().find(|m| m.entry_id == *entry);
                    qualifiers.push(rules::Qualifier {
                        entry: EntryId(*entry as u64),
                        group: group as u32,
                        group_rank: *rank as u32,
                        overall_rank: m.and_then(|m| m.overall_rank).map(|r| r as u64),
                    });
                }
            }
            group_docs.push(json!({
                "group": group,
                "rows": table.into_iter().map(|t| with_names(t.3)).collect::<Vec<_>>(),
                "fixtures": fixtures_doc,
            }));
        }
    }

    sqlx::query(
        "INSERT INTO tournament_group_standings (tournament_id, group_no, entry_id, rank, played, \
         won, drawn, lost, points, points_for, points_against) \
         SELECT $1, u.g, u.e, u.r, u.p, u.w, u.d, u.l, u.pts, u.f, u.a FROM UNNEST($2::int[], \
         $3::bigint[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], \
         $9::bigint[], $10::bigint[], $11::bigint[]) AS u(g, e, r, p, w, d, l, pts, f, a)",
    )
    .bind(id.0)
    .bind(&rows.group)
    .bind(&rows.entry)
    .bind(&rows.rank)
    .bind(&rows.counts[0])
    .bind(&rows.counts[1])
    .bind(&rows.counts[2])
    .bind(&rows.counts[3])
    .bind(&rows.counts[4])
    .bind(&rows.counts[5])
    .bind(&rows.counts[6])
    .execute(&mut **tx)
    .await?;

    sqlx::query("DELETE FROM tournament_knockout_legs WHERE tournament_id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM tournament_knockout_matches WHERE tournament_id = $1")
        .bind(id.0)
        .execute(&mut **tx)
        .await?;
    let knockout = row.knockout();
    let knockout_doc = match knockout.first_event() {
        None => json!({"mode": "none"}),
        Some(first) => {
            // The bracket waits for the group stage it depends on.
            let entrants: Option<Vec<EntryId>> = match stage.spec() {
                None => Some(members.iter().map(|m| EntryId(m.entry_id as u64)).collect()),
                Some(_) if group_complete => Some(
                    rules::qualification_order(qualifiers.clone())
                        .into_iter()
                        .map(|q| q.entry)
                        .collect(),
                ),
                Some(_) => None,
            };
            match entrants {
                None => json!({
                    "mode": knockout.mode(),
                    "waiting_for_group_stage": true,
                    "rounds": [],
                }),
                Some(entrants) => {
                    let first_round = rules::first_round(&entrants);
                    let events = rules::round_events(
                        first,
                        rules::knockout_rounds(entrants.len()),
                        knockout.legs(),
                    );
                    let lookup = |e: EntryId, ev: u16| stats.get(&(e.0, ev)).copied();
                    let bracket = rules::resolve_bracket(&first_round, &events, lookup);
                    store_bracket(tx, id, &bracket).await?;
                    let champion = bracket
                        .last()
                        .and_then(|r| r.first())
                        .and_then(|m| m.winner);
                    json!({
                        "mode": knockout.mode(),
                        "waiting_for_group_stage": false,
                        "size": rules::bracket_size(entrants.len()),
                        "seeds": entrants,
                        "rounds": bracket.iter().zip(&events).enumerate().map(|(i, (matches, evs))| json!({
                            "round": i + 1,
                            "events": evs,
                            "matches": matches,
                        })).collect::<Vec<_>>(),
                        "champion": champion,
                    })
                }
            }
        }
    };
    let doc = json!({
        "tournament": id.0,
        "name": row.name,
        "processed_events": done,
        "group_stage": {
            "mode": stage.mode(),
            "complete": group_complete,
            "groups": group_docs,
        },
        "knockout": knockout_doc,
    });
    sqlx::query("UPDATE tournaments SET standings = $2, updated_at = now() WHERE id = $1")
        .bind(id.0)
        .bind(doc)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn store_bracket(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
    bracket: &[Vec<rules::KnockoutMatch>],
) -> Result<(), TournamentError> {
    let decided = |d: Option<rules::Decided>| {
        d.and_then(|d| serde_json::to_value(d).ok())
            .and_then(|v| v.as_str().map(str::to_string))
    };
    let id64 = |e: Option<EntryId>| e.map(|e| e.0 as i64);
    let matches: Vec<&rules::KnockoutMatch> = bracket.iter().flatten().collect();
    let col = |f: &dyn Fn(&rules::KnockoutMatch) -> Option<i64>| -> Vec<Option<i64>> {
        matches.iter().map(|m| f(m)).collect()
    };
    let rounds: Vec<i32> = matches.iter().map(|m| m.round as i32).collect();
    let slots: Vec<i32> = matches.iter().map(|m| m.slot as i32).collect();
    let decided_by: Vec<Option<String>> = matches.iter().map(|m| decided(m.decided_by)).collect();
    sqlx::query(
        "INSERT INTO tournament_knockout_matches (tournament_id, round, slot, home_entry, \
         away_entry, winner, decided_by) SELECT $1, u.r, u.s, u.h, u.a, u.w, u.d \
         FROM UNNEST($2::int[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[]) \
         AS u(r, s, h, a, w, d)",
    )
    .bind(id.0)
    .bind(&rounds)
    .bind(&slots)
    .bind(col(&|m| id64(m.home)))
    .bind(col(&|m| id64(m.away)))
    .bind(col(&|m| id64(m.winner)))
    .bind(&decided_by)
    .execute(&mut **tx)
    .await?;
    let legs: Vec<(&rules::KnockoutMatch, usize, &rules::KnockoutLeg)> = matches
        .iter()
        .flat_map(|m| m.legs.iter().enumerate().map(move |(i, l)| (*m, i, l)))
        .collect();
    let score = |f: &dyn Fn(&rules::KnockoutLeg) -> Option<i32>| -> Vec<Option<i32>> {
        legs.iter().map(|(_, _, l)| f(l)).collect()
    };
    sqlx::query(
        "INSERT INTO tournament_knockout_legs (tournament_id, round, slot, leg, event_id, \
         home_net, away_net, home_goals, away_goals, home_conceded, away_conceded, winner, \
         decided_by) SELECT $1, u.r, u.s, u.l, u.ev, u.hn, u.an, u.hg, u.ag, u.hc, u.ac, u.w, u.d \
         FROM UNNEST($2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], \
         $8::int[], $9::int[], $10::int[], $11::int[], $12::bigint[], $13::text[]) \
         AS u(r, s, l, ev, hn, an, hg, ag, hc, ac, w, d)",
    )
    .bind(id.0)
    .bind(
        legs.iter()
            .map(|(m, _, _)| m.round as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(m, _, _)| m.slot as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(_, i, _)| *i as i32 + 1)
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(_, _, l)| i32::from(l.event))
            .collect::<Vec<_>>(),
    )
    .bind(score(&|l| l.home.map(|s| s.net_points)))
    .bind(score(&|l| l.away.map(|s| s.net_points)))
    .bind(score(&|l| l.home.map(|s| s.goals_scored)))
    .bind(score(&|l| l.away.map(|s| s.goals_scored)))
    .bind(score(&|l| l.home.map(|s| s.goals_conceded)))
    .bind(score(&|l| l.away.map(|s| s.goals_conceded)))
    .bind(
        legs.iter()
            .map(|(_, _, l)| id64(l.winner))
            .collect::<Vec<_>>(),
    )
    .bind(
        legs.iter()
            .map(|(_, _, l)| decided(l.decided_by))
            .collect::<Vec<_>>(),
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A tournament dataset as JSON, from PostgreSQL: what the cache serves and reloads.
pub async fn load(
    db: &PgPool,
    id: u64,
    dataset: TournamentDataset,
) -> Result<Option<Bytes>, StoreError> {
    let Ok(id) = i64::try_from(id) else {
        return Ok(None);
    };
    let sql = match dataset {
        TournamentDataset::Standings => "SELECT standings::text FROM tournaments WHERE id = $1",
        TournamentDataset::Entries => {
            "SELECT json_agg(json_build_object('entry', entry_id, 'name', name, 'player_name', \
             player_name, 'league_rank', league_rank, 'overall_rank', overall_rank, 'seed', seed, \
             'group', group_no) ORDER BY seed NULLS LAST, entry_id)::text \
             FROM tournament_entries WHERE tournament_id = $1"
        }
        // The latest processed gameweek's statistics of every entry, with its cup match.
        TournamentDataset::Results => {
            "SELECT json_agg(json_build_object('entry', s.entry_id, 'event', s.event_id, \
             'points', s.points, 'transfers_cost', s.transfers_cost, 'net_points', s.net_points, \
             'captain_points', s.captain_points, 'bench_points', s.bench_points, \
             'autosub_points', s.autosub_points, 'goals_scored', s.goals_scored, \
             'goals_conceded', s.goals_conceded, 'active_chip', s.active_chip, \
             'cup', (SELECT json_build_object('opponent', c.opponent, 'score', c.score, \
                     'opponent_score', c.opponent_score, 'won', c.won) \
                     FROM tournament_cup_results c WHERE c.tournament_id = s.tournament_id \
                     AND c.entry_id = s.entry_id AND c.event_id = s.event_id)) \
             ORDER BY s.entry_id)::text FROM tournament_entry_stats s \
             WHERE s.tournament_id = $1 AND s.event_id = (SELECT max(event_id) \
             FROM tournament_entry_stats WHERE tournament_id = $1)"
        }
        TournamentDataset::Stats => return Ok(None),
    };
    let text: Option<Option<String>> = sqlx::query_scalar(sql).bind(id).fetch_optional(db).await?;
    Ok(text.flatten().map(Bytes::from))
}

/// Publishes a tournament's standings, entries and latest results as one revision; a cache that
/// cannot take them is logged, never fatal (PostgreSQL has them and the loader reads them back).
pub async fn publish(db: &PgPool, cache: &Cache, id: TournamentId) {
    let mut entries = Vec::new();
    for dataset in [
        TournamentDataset::Standings,
        TournamentDataset::Entries,
        TournamentDataset::Results,
    ] {
        match load(db, id.0 as u64, dataset).await {
            Ok(Some(bytes)) => entries.push((
                CacheKey::Tournament {
                    id: id.0 as u64,
                    dataset,
                },
                bytes,
            )),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, tournament = id.0, "tournament dataset not read"),
        }
    }
    if entries.is_empty() {
        return;
    }
    if let Err(e) = cache.put(entries).await {
        tracing::warn!(error = %e, tournament = id.0, "tournament standings not written through to the cache");
    }
}

/// Lets the cache read `tournament:{id}:*` keys through from PostgreSQL.
pub fn register_loader(loaders: &Loaders, db: PgPool) {
    loaders.register(Family::Tournament, move |key| {
        let db = db.clone();
        async move {
            let CacheKey::Tournament { id, dataset } = key else {
                return Err(anyhow::anyhow!("{key} is not a tournament key"));
            };
            Ok(load(&db, id, dataset).await?)
        }
    });
}
