//! A tournament's structure: activation (seeding, groups, the group fixtures, under the row
//! lock) and archiving.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::cache::Cache;
use crate::fpl::model::EntryId;
use crate::tournament::model::{GroupStage, Invalid, TournamentId, TournamentRow};
use crate::tournament::rules::{self, Seed};

use super::cache::publish;
use super::standings::recompute;
use super::{TournamentError, fetch_locked, state_error};

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
    if row.roster_state != "ready" {
        return Err(state_error(
            "roster_not_ready",
            format!(
                "tournament {id}'s roster is {}{}: activate it once it is ready",
                row.roster_state,
                row.roster_error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
        ));
    }
    // A draft created before the first bootstrap is played in the season current now.
    sqlx::query(
        "UPDATE tournaments SET season_id = \
         (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1) \
         WHERE id = $1 AND season_id IS NULL",
    )
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    // The overall rank fplsync knows best: the entry's, else its latest official result's.
    let seeds: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT te.entry_id, COALESCE(e.overall_rank, \
           (SELECT r.overall_rank FROM entry_event_results r WHERE r.entry_id = te.entry_id \
            AND r.season_id = t.season_id AND r.overall_rank IS NOT NULL \
            ORDER BY r.event_id DESC LIMIT 1)) \
         FROM tournament_entries te JOIN tournaments t ON t.id = te.tournament_id \
         LEFT JOIN entries e ON e.id = te.entry_id AND e.season_id = t.season_id \
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
        && *last > crate::tournament::model::LAST_EVENT
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

/// Archives every tournament (draft or active) of a season before the current one: a season
/// over is over, whether or not its last gameweek's results reached the tournament. Their
/// entries are no longer tracked for them. Returns the ids archived.
pub async fn archive_past_seasons(db: &PgPool) -> Result<Vec<TournamentId>, TournamentError> {
    let mut tx = db.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE tournaments SET state = 'archived', updated_at = now() \
         WHERE state <> 'archived' AND season_id <> \
           (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1) \
         RETURNING id",
    )
    .fetch_all(&mut *tx)
    .await?;
    if !ids.is_empty() {
        let sources: Vec<String> = ids
            .iter()
            .map(|&id| TournamentId(id).tracking_source())
            .collect();
        sqlx::query("DELETE FROM tracked_entries WHERE source = ANY($1)")
            .bind(sources)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(ids.into_iter().map(TournamentId).collect())
}
