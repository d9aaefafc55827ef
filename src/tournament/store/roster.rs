//! Who plays in a tournament. A roster given as a list is the roster at once; a league's is read
//! by the `tournament-roster` job's standings pages, fetched by any instance in any order: each
//! page's rows are gathered under the read's generation (`tournament_roster_pages`) and the
//! page's record (`tournament_roster_read_pages`, the checkpoint) stored with them, so a read
//! that stops resumes with the pages it lacks, and they become the roster in one transaction
//! once every page up to the table's end is in. A new read (a roster sync) starts a new
//! generation.
//!
//! `roster_state`: `pending` (a read is asked for), `reading`, `ready`, `failed` (with
//! `roster_error`). Only a draft's roster changes, and only a `ready` one can be activated.

use sqlx::{PgPool, Postgres, Transaction};

use super::{TournamentError, fetch_locked, state_error};
use crate::fpl::model::{EntryId, LeagueId};
use crate::tournament::model::{
    COLUMNS, Invalid, NewTournament, Source, TournamentId, TournamentRow,
};

/// One roster entry as a source gives it.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub entry: EntryId,
    pub name: Option<String>,
    pub player_name: Option<String>,
    pub league_rank: Option<i32>,
}

/// A tournament's league, for a roster read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum League {
    Classic(LeagueId),
    H2h(LeagueId),
}

/// What a roster read reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterRead {
    pub league: League,
    pub generation: i32,
}

/// How finishing a read left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStored {
    /// The roster is replaced, with this many entries.
    Done { entries: usize },
    /// A newer read superseded this one (a sync asked again): it stops.
    Superseded,
}

fn league_of(row: &TournamentRow) -> Option<League> {
    match (row.source_kind.as_str(), row.source_league) {
        ("classic", Some(l)) => Some(League::Classic(LeagueId(l as u64))),
        ("h2h", Some(l)) => Some(League::H2h(LeagueId(l as u64))),
        _ => None,
    }
}

/// Creates a draft tournament. An explicit list is its roster at once (`ready`); a league's
/// roster is `pending` until the `tournament-roster` job has read it.
pub async fn create(db: &PgPool, def: &NewTournament) -> Result<TournamentRow, TournamentError> {
    def.validate()?;
    let (kind, league) = match &def.source {
        Source::ClassicLeague(id) => ("classic", Some(*id as i64)),
        Source::H2hLeague(id) => ("h2h", Some(*id as i64)),
        Source::Entries(_) => ("entries", None),
    };
    let roster_state = if league.is_some() { "pending" } else { "ready" };
    let g = def.group_stage.spec();
    let mut tx = db.begin().await?;
    let row: TournamentRow = sqlx::query_as(&format!(
        "INSERT INTO tournaments (name, source_kind, source_league, group_mode, group_count, \
         qualifiers_per_group, group_first_event, group_last_event, knockout_mode, \
         knockout_first_event, cup, roster_state, roster_generation, season_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, \
         (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1)) RETURNING {COLUMNS}"
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
    .bind(roster_state)
    .fetch_one(&mut *tx)
    .await?;
    if let Source::Entries(ids) = &def.source {
        let roster: Vec<RosterEntry> = ids
            .iter()
            .map(|id| RosterEntry {
                entry: EntryId(*id),
                name: None,
                player_name: None,
                league_rank: None,
            })
            .collect();
        if roster.len() < 2 {
            return Err(Invalid(format!(
                "the list has {} entries; a tournament needs at least 2",
                roster.len()
            ))
            .into());
        }
        replace_roster(&mut tx, row.id(), &roster).await?;
    }
    let row = fetch_locked(&mut tx, row.id()).await?;
    tx.commit().await?;
    Ok(row)
}

/// Asks for a new read of a draft league tournament's roster (a roster sync): a `ready` or
/// `failed` roster starts a new generation; a read already `pending` or `reading` is left to
/// go on (asking again resumes it).
pub async fn request_read(db: &PgPool, id: TournamentId) -> Result<TournamentRow, TournamentError> {
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    if league_of(&row).is_none() {
        return Err(state_error(
            "not_a_league",
            format!("tournament {id} has an explicit entry list, not a league"),
        ));
    }
    if row.state != "draft" {
        return Err(state_error(
            "invalid_state",
            format!(
                "tournament {id} is {}: only a draft's roster can change",
                row.state
            ),
        ));
    }
    if matches!(row.roster_state.as_str(), "ready" | "failed") {
        sqlx::query(
            "UPDATE tournaments SET roster_state = 'pending', roster_generation = \
             roster_generation + 1, roster_pages_read = 0, roster_error = NULL, \
             updated_at = now() WHERE id = $1",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        forget_pages(&mut tx, id).await?;
    }
    let row = fetch_locked(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Forgets the pages a read gathered (its rows and records).
async fn forget_pages(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
) -> Result<(), TournamentError> {
    for table in ["tournament_roster_pages", "tournament_roster_read_pages"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE tournament_id = $1"))
            .bind(id.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Records the run that reads the roster (shown with the tournament).
pub async fn set_read_run(db: &PgPool, id: TournamentId, run: i64) -> Result<(), TournamentError> {
    sqlx::query("UPDATE tournaments SET roster_run_id = $2 WHERE id = $1")
        .bind(id.0)
        .bind(run)
        .execute(db)
        .await?;
    Ok(())
}

/// Starts (or resumes) the pending read of `id` for `run`. `None` when there is nothing to read:
/// the roster is already `ready` (a duplicate request).
pub async fn begin_read(
    db: &PgPool,
    id: TournamentId,
    run: i64,
) -> Result<Option<RosterRead>, TournamentError> {
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    let Some(league) = league_of(&row) else {
        return Err(state_error(
            "not_a_league",
            format!("tournament {id} has an explicit entry list, not a league"),
        ));
    };
    if row.state != "draft" {
        return Err(state_error(
            "invalid_state",
            format!(
                "tournament {id} is {}: only a draft's roster is read",
                row.state
            ),
        ));
    }
    if row.roster_state == "ready" {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE tournaments SET roster_state = 'reading', roster_run_id = $2, \
         roster_error = NULL WHERE id = $1",
    )
    .bind(id.0)
    .bind(run)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(RosterRead {
        league,
        generation: row.roster_generation,
    }))
}

/// One standings page as read: its number, its rows and whether the table goes on after it.
#[derive(Debug, Clone)]
pub struct RosterPage {
    pub page: u32,
    pub rows: Vec<RosterEntry>,
    /// False on the last page; an empty page ends the table whatever FPL's `has_next` says.
    pub has_next: bool,
}

/// Stores `pages` of read `generation` in `tx` (each page's record is the read's checkpoint),
/// under the row lock. `false` when a newer read superseded this one (a sync asked again) or
/// the tournament is no longer a draft: nothing is stored.
pub async fn store_pages(
    tx: &mut Transaction<'static, Postgres>,
    id: TournamentId,
    generation: i32,
    pages: &[RosterPage],
) -> Result<bool, TournamentError> {
    let row = fetch_locked(tx, id).await?;
    if row.roster_generation != generation || row.state != "draft" {
        return Ok(false);
    }
    let rows = pages
        .iter()
        .flat_map(|p| p.rows.iter().map(move |r| (p.page, r)));
    let (mut ids, mut on_page, mut names, mut players, mut ranks) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (page, r) in rows {
        ids.push(r.entry.0 as i64);
        on_page.push(page as i32);
        names.push(r.name.clone());
        players.push(r.player_name.clone());
        ranks.push(r.league_rank);
    }
    // A row seen on two pages (the table moved while it was read) keeps the earlier page's
    // place, whichever page was stored first.
    sqlx::query(
        "INSERT INTO tournament_roster_pages (tournament_id, generation, entry_id, page, name, \
         player_name, league_rank) \
         SELECT DISTINCT ON (u.id) $1, $2, u.id, u.page, u.name, u.player, u.rank \
         FROM UNNEST($3::bigint[], $4::int[], $5::text[], $6::text[], $7::int[]) \
           AS u(id, page, name, player, rank) ORDER BY u.id, u.page \
         ON CONFLICT (tournament_id, generation, entry_id) DO UPDATE SET page = EXCLUDED.page, \
         name = EXCLUDED.name, player_name = EXCLUDED.player_name, \
         league_rank = EXCLUDED.league_rank WHERE EXCLUDED.page < tournament_roster_pages.page",
    )
    .bind(id.0)
    .bind(generation)
    .bind(&ids)
    .bind(&on_page)
    .bind(&names)
    .bind(&players)
    .bind(&ranks)
    .execute(&mut **tx)
    .await?;
    let numbers: Vec<i32> = pages.iter().map(|p| p.page as i32).collect();
    let has_next: Vec<bool> = pages.iter().map(|p| p.has_next).collect();
    let entries: Vec<i32> = pages.iter().map(|p| p.rows.len() as i32).collect();
    sqlx::query(
        "INSERT INTO tournament_roster_read_pages (tournament_id, generation, page, has_next, \
         entries) SELECT $1, $2, u.page, u.has_next, u.entries \
         FROM UNNEST($3::int[], $4::bool[], $5::int[]) AS u(page, has_next, entries) \
         ON CONFLICT (tournament_id, generation, page) DO UPDATE SET \
         has_next = EXCLUDED.has_next, entries = EXCLUDED.entries",
    )
    .bind(id.0)
    .bind(generation)
    .bind(&numbers)
    .bind(&has_next)
    .bind(&entries)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE tournaments SET roster_pages_read = (SELECT count(*) FROM \
         tournament_roster_read_pages WHERE tournament_id = $1 AND generation = $2) WHERE id = $1",
    )
    .bind(id.0)
    .bind(generation)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Where a roster read stands: the pages stored and where the table ends, if known yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStatus {
    /// The read is the tournament's current one (no newer generation, still a draft).
    pub current: bool,
    /// Pages stored, ascending.
    pub stored: Vec<u32>,
    /// The first page with no next one: the table's last.
    pub end: Option<u32>,
    /// The highest page stored that says the table goes on.
    pub goes_on_after: Option<u32>,
}

impl ReadStatus {
    /// Every page up to the table's end is stored: the roster can be made.
    pub fn complete(&self) -> bool {
        self.end.is_some_and(|end| {
            self.stored.iter().take_while(|&&p| p <= end).count() == end as usize
        })
    }

    /// Pages to read next: up to the end when it is known, else up to `ahead` pages past the
    /// last one known to exist (at most `max_pages`), without those stored.
    pub fn to_read(&self, ahead: u32, max_pages: u32) -> Vec<u32> {
        let last = match self.end {
            Some(end) => end,
            None => (self.goes_on_after.unwrap_or(0) + ahead).min(max_pages),
        };
        (1..=last)
            .filter(|p| self.stored.binary_search(p).is_err())
            .collect()
    }
}

/// The status of read `generation` of `id`.
pub async fn read_status(
    db: &PgPool,
    id: TournamentId,
    generation: i32,
) -> Result<ReadStatus, TournamentError> {
    let current: Option<bool> = sqlx::query_scalar(
        "SELECT roster_generation = $2 AND state = 'draft' FROM tournaments WHERE id = $1",
    )
    .bind(id.0)
    .bind(generation)
    .fetch_optional(db)
    .await?;
    let pages: Vec<(i32, bool)> = sqlx::query_as(
        "SELECT page, has_next FROM tournament_roster_read_pages \
         WHERE tournament_id = $1 AND generation = $2 ORDER BY page",
    )
    .bind(id.0)
    .bind(generation)
    .fetch_all(db)
    .await?;
    Ok(ReadStatus {
        current: current.unwrap_or(false),
        stored: pages.iter().map(|&(p, _)| p as u32).collect(),
        end: pages.iter().find(|(_, next)| !next).map(|&(p, _)| p as u32),
        goes_on_after: pages
            .iter()
            .filter(|(_, next)| *next)
            .map(|&(p, _)| p as u32)
            .max(),
    })
}

/// Makes the rows gathered by read `generation` the roster, in one transaction under the row
/// lock, once every page up to the table's end is stored.
pub async fn finish_read(
    db: &PgPool,
    id: TournamentId,
    generation: i32,
    end: u32,
) -> Result<PageStored, TournamentError> {
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    if row.roster_generation != generation || row.state != "draft" {
        return Ok(PageStored::Superseded);
    }
    let gathered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tournament_roster_pages WHERE tournament_id = $1 AND generation = $2",
    )
    .bind(id.0)
    .bind(generation)
    .fetch_one(&mut *tx)
    .await?;
    if gathered < 2 {
        let error = format!("the league has {gathered} entries; a tournament needs at least 2");
        mark_failed(&mut tx, id, &error).await?;
        tx.commit().await?;
        return Err(Invalid(error).into());
    }
    replace_roster_from_pages(&mut tx, id, generation).await?;
    sqlx::query(
        "UPDATE tournaments SET roster_state = 'ready', roster_error = NULL, \
         roster_pages_read = $2 WHERE id = $1",
    )
    .bind(id.0)
    .bind(end as i32)
    .execute(&mut *tx)
    .await?;
    forget_pages(&mut tx, id).await?;
    tx.commit().await?;
    Ok(PageStored::Done {
        entries: gathered as usize,
    })
}

/// Replaces the roster (and the tracked entries of this tournament) with the rows gathered by
/// read `generation`, in PostgreSQL: a league of 10,000 is not sent back and forth.
async fn replace_roster_from_pages(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
    generation: i32,
) -> Result<(), TournamentError> {
    const GATHERED: &str = "SELECT entry_id, name, player_name, league_rank \
         FROM tournament_roster_pages WHERE tournament_id = $1 AND generation = $2";
    sqlx::query(&format!(
        "DELETE FROM tournament_entries e WHERE e.tournament_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM ({GATHERED}) g WHERE g.entry_id = e.entry_id)"
    ))
    .bind(id.0)
    .bind(generation)
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO tournament_entries (tournament_id, entry_id, name, player_name, league_rank) \
         SELECT $1, g.entry_id, g.name, g.player_name, g.league_rank FROM ({GATHERED}) g \
         ON CONFLICT (tournament_id, entry_id) DO UPDATE SET name = EXCLUDED.name, \
         player_name = EXCLUDED.player_name, league_rank = EXCLUDED.league_rank"
    ))
    .bind(id.0)
    .bind(generation)
    .execute(&mut **tx)
    .await?;
    let source = id.tracking_source();
    sqlx::query(&format!(
        "DELETE FROM tracked_entries t WHERE t.source = $3 AND NOT EXISTS \
         (SELECT 1 FROM ({GATHERED}) g WHERE g.entry_id = t.entry_id)"
    ))
    .bind(id.0)
    .bind(generation)
    .bind(&source)
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO tracked_entries (entry_id, source) SELECT g.entry_id, $3 FROM ({GATHERED}) g \
         ON CONFLICT DO NOTHING"
    ))
    .bind(id.0)
    .bind(generation)
    .bind(&source)
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

/// Records that read `generation` failed for good (the league does not exist, too few entries).
pub async fn fail_read(
    db: &PgPool,
    id: TournamentId,
    generation: i32,
    error: &str,
) -> Result<(), TournamentError> {
    let mut tx = db.begin().await?;
    let row = fetch_locked(&mut tx, id).await?;
    if row.roster_generation == generation {
        mark_failed(&mut tx, id, error).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn mark_failed(
    tx: &mut Transaction<'_, Postgres>,
    id: TournamentId,
    error: &str,
) -> Result<(), TournamentError> {
    sqlx::query(
        "UPDATE tournaments SET roster_state = 'failed', roster_error = $2, updated_at = now() \
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(error)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the roster (and the tracked entries of this tournament) with `roster`.
pub(super) async fn replace_roster(
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
