//! Who plays in a tournament: the roster read from a league's standings or given as a list,
//! a tournament's creation with it, and roster syncs before activation.

use sqlx::{PgPool, Postgres, Transaction};

use super::{TournamentError, fetch_locked, get, state_error};
use crate::fpl::model::{EntryId, LeagueId};
use crate::fpl::{FplClient, FplError, Priority};
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
