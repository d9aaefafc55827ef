//! The `tournament-results` job: once a gameweek's official entry results are stored (a request
//! from finalization, with trigger `dependency`; or on demand), it derives every tournament
//! entry's statistics of that gameweek, reads FPL cup matches where a tournament follows the
//! cup, and recomputes group tables, qualification and the bracket from the full history; then
//! publishes the standings to the cache. Each tournament is a shared unit
//! ([`crate::jobs::work`]): any instance of the deployment may process it, reading the cup
//! through its own FPL budget, and completes it in the transaction that stores its results.

use std::collections::HashMap;
use std::num::NonZeroU16;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::model::TournamentId;
use super::rules;
use super::store::{self, CupRow, Processed, TournamentError};
use crate::fpl::model::{EntryId, EventId};
use crate::fpl::{FplClient, FplError, Priority};
use crate::jobs::work::{self, Claimed, Outcome};
use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec, Kind};
use crate::meta::sync::current_season;
use crate::run::LogLevel;

pub const TOURNAMENT_RESULTS: Kind<ResultsParams> = Kind::new("tournament-results");

/// Parameters of `tournament-results`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResultsParams {
    /// One tournament; every active one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tournament: Option<i64>,
    /// The gameweek whose results are present.
    pub event: NonZeroU16,
}

pub fn spec() -> JobSpec {
    JobSpec::new(TOURNAMENT_RESULTS, run)
}

impl From<TournamentError> for JobError {
    fn from(e: TournamentError) -> Self {
        match e {
            TournamentError::Store(e) => JobError::from(e),
            TournamentError::Fpl(e) => JobError::from(e),
            e => JobError::Permanent(e.into()),
        }
    }
}

/// The handler name of the results' shared units: one a tournament.
pub const RESULTS_UNITS: &str = "tournament-results";

/// What a tournament's results unit needs besides the tournament.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct ResultsWork {
    /// The current season when the run began: a tournament without one plays in it.
    season: i32,
    event: u16,
}

/// Opens one unit a tournament as shared work (every instance may process some, reading the
/// FPL cup matches through its own budget) and reports each tournament's line when all are
/// done. A tournament whose knockout waits for its group stage fails its unit: the run is
/// retried (with the kind's backoff) and its retry adopts the work, so only those are done
/// again.
pub async fn run(ctx: JobContext, params: ResultsParams) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let event = params.event.get();
    let season = current_season(db).await?.ok_or_else(|| {
        JobError::Transient(anyhow::anyhow!("no season is known yet (run bootstrap)"))
    })?;
    let ids = match params.tournament {
        Some(id) => {
            let id = TournamentId(id);
            let (row, _) = store::get(db, id)
                .await?
                .ok_or(TournamentError::NotFound(id))?;
            if row.state != "active" {
                return Err(JobError::Permanent(anyhow::anyhow!(
                    "tournament {id} is {}, not active",
                    row.state
                )));
            }
            vec![id]
        }
        None => store::active_ids(db).await?,
    };
    if ids.is_empty() {
        return Ok(JobOutcome::new(format!("GW{event}: no active tournament")));
    }
    let key = match params.tournament {
        Some(id) => format!("tournament-results:{}:{event}:{id}", season.0.0),
        None => format!("tournament-results:{}:{event}", season.0.0),
    };
    let work = serde_json::to_value(ResultsWork {
        season: season.0.0,
        event,
    })
    .expect("work parameters serialise");
    let units: Vec<u64> = ids.iter().map(|id| id.0 as u64).collect();
    work::open(&ctx, RESULTS_UNITS, &key, &work, &units).await?;
    let tally = work::wait_finished(&ctx, &key, units.len() as u64, 0).await?;
    let ended = work::ended(db, &key).await?;
    let mut lines = Vec::new();
    for unit in &ended {
        let id = TournamentId(unit.unit);
        let line = match (&unit.note, &unit.last_error) {
            (Some(note), _) => format!("tournament {id}: {note}"),
            (None, Some(error)) => format!("tournament {id}: {error}"),
            (None, None) => format!("tournament {id}: GW{event} processed"),
        };
        ctx.log(
            if unit.state == "failed" {
                LogLevel::Warn
            } else {
                LogLevel::Info
            },
            &line,
        )
        .await?;
        lines.push(line);
    }
    // The instance that processed a tournament published it and, after the season's last
    // gameweek, archived it; one that died in between left it active: archived here. (A
    // publish it lost is read through from PostgreSQL when the cached standings expire.)
    for id in processed(db, &ids, event).await? {
        let played_in = store::season_of(db, id).await?.unwrap_or(season.0.0);
        let active = store::get(db, id)
            .await?
            .is_some_and(|(t, _)| t.state == "active");
        if active && is_last_gameweek(db, played_in, event).await? {
            season_over(db, id).await?;
        }
    }
    if tally.failed > 0 {
        let failed = ended.iter().find(|u| u.state == "failed");
        return Err(JobError::Transient(anyhow::anyhow!(
            "{} of {} tournaments not processed, e.g. tournament {}: {}",
            tally.failed,
            ids.len(),
            failed.map_or(0, |u| u.unit),
            failed
                .and_then(|u| u.last_error.clone())
                .unwrap_or_default()
        )));
    }
    work::close(&ctx, &key).await?;
    Ok(JobOutcome::new(match lines.len() {
        1 => lines.remove(0),
        n => format!("GW{event}: {n} tournaments processed"),
    }))
}

/// The tournaments of `ids` with `event` processed.
async fn processed(
    db: &sqlx::PgPool,
    ids: &[TournamentId],
    event: u16,
) -> Result<Vec<TournamentId>, crate::store::StoreError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let done: Vec<i64> = sqlx::query_scalar(
        "SELECT tournament_id FROM tournament_events \
         WHERE event_id = $1 AND tournament_id = ANY($2) ORDER BY tournament_id",
    )
    .bind(i32::from(event))
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(done.into_iter().map(TournamentId).collect())
}

/// Does one claimed batch of tournaments, on whichever instance claimed it: reads their FPL
/// cup matches (tournaments that follow the cup), then processes each under its row lock and
/// completes the units, in one transaction.
pub async fn results_units(claimed: Claimed) -> Result<(), JobError> {
    let work: ResultsWork = serde_json::from_value(claimed.params.clone())
        .map_err(|e| JobError::permanent(format!("results work parameters: {e}")))?;
    let deps = claimed.deps().clone();
    let db = &deps.db;
    let event = work.event;
    let mut cup_entries = HashMap::new();
    for &unit in &claimed.units {
        cup_entries.insert(unit, cup_entries_of(db, TournamentId(unit as i64)).await?);
    }
    let fpl = &deps.fpl;
    let cup_entries = &cup_entries;
    let cups = claimed
        .fetch(|unit| async move {
            let entries = cup_entries.get(&unit).map_or(&[][..], Vec::as_slice);
            cup_matches(fpl, entries, event).await
        })
        .await;
    // Read before the transaction: a connection held while waiting for another is how a small
    // pool runs dry. A tournament's results are its own season's, whatever season is current.
    let mut seasons = HashMap::new();
    for &unit in &claimed.units {
        let season = store::season_of(db, TournamentId(unit as i64))
            .await?
            .unwrap_or(work.season);
        let last = is_last_gameweek(db, season, event).await?;
        seasons.insert(unit, (season, last));
    }
    let Some(mut tx) = claimed.begin().await? else {
        return Ok(()); // the run ended meanwhile: its units were given back
    };
    let mut outcome = Outcome::default();
    let mut recomputed = Vec::new();
    for (unit, cup) in cups {
        let id = TournamentId(unit as i64);
        let cup = match cup {
            Ok(cup) => cup,
            Err(e) => {
                outcome.failed.push((unit, format!("FPL cup matches: {e}")));
                continue;
            }
        };
        let (season, last) = seasons[&unit];
        match store::process_event(&mut tx, id, season, event, &cup).await {
            Ok(Processed::WaitingForGroups(missing)) => outcome.failed.push((
                unit,
                format!(
                    "GW{event} is a knockout gameweek; waiting for the group stage (GW {missing:?} not processed)"
                ),
            )),
            Ok(processed) => {
                let mut line = match processed {
                    Processed::Done { entries } => {
                        format!("GW{event} results of {entries} entries, standings recomputed")
                    }
                    Processed::NotConcerned => format!("GW{event} is not one of its gameweeks"),
                    _ => format!("no entry has a GW{event} result yet"),
                };
                if matches!(processed, Processed::Done { .. }) {
                    recomputed.push((id, last));
                    if last {
                        line.push_str("; the season's last gameweek: archived");
                    }
                }
                outcome.notes.insert(unit, line);
                outcome.stored.push(unit);
            }
            Err(TournamentError::Store(e)) => return Err(e.into()),
            Err(e) => outcome.failed.push((unit, e.to_string())),
        }
    }
    claimed.finish(tx, outcome).await?;
    // Published once stored, and only then archived: whoever sees the tournament archived reads
    // its final standings. The season is over: so is the tournament; its results stay readable.
    for (id, last) in recomputed {
        store::publish(db, &deps.cache, id).await;
        if last {
            season_over(db, id).await?;
        }
    }
    Ok(())
}

/// Archives a tournament whose season's last gameweek is processed (already archived, by the
/// run or the instance that processed it, is as good).
async fn season_over(db: &sqlx::PgPool, id: TournamentId) -> Result<(), TournamentError> {
    match store::archive(db, id).await {
        Ok(_) | Err(TournamentError::State { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `event` is the last gameweek of `season`.
async fn is_last_gameweek(
    db: &sqlx::PgPool,
    season: i32,
    event: u16,
) -> Result<bool, crate::store::StoreError> {
    let last: Option<i32> = sqlx::query_scalar("SELECT max(id) FROM events WHERE season_id = $1")
        .bind(season)
        .fetch_one(db)
        .await?;
    Ok(last == Some(i32::from(event)))
}

/// The entries of a tournament that follows the FPL cup and is active (none otherwise).
async fn cup_entries_of(
    db: &sqlx::PgPool,
    id: TournamentId,
) -> Result<Vec<EntryId>, TournamentError> {
    let Some((row, _)) = store::get(db, id).await? else {
        return Ok(Vec::new());
    };
    if !row.cup || row.state != "active" {
        return Ok(Vec::new());
    }
    let entries: Vec<i64> =
        sqlx::query_scalar("SELECT entry_id FROM tournament_entries WHERE tournament_id = $1")
            .bind(id.0)
            .fetch_all(db)
            .await?;
    Ok(entries.into_iter().map(|e| EntryId(e as u64)).collect())
}

/// The FPL cup match of `event` of each of `entries`, read at tournament priority before any
/// lock is taken.
async fn cup_matches(
    fpl: &FplClient,
    entries: &[EntryId],
    event: u16,
) -> Result<Vec<CupRow>, FplError> {
    let fetched: Vec<Result<Option<CupRow>, FplError>> =
        futures_util::stream::iter(entries.iter().copied())
            .map(|entry| async move {
                match fpl.entry_cup(entry, Priority::Tournament).await {
                    // 404: not in the cup.
                    Err(FplError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                    Ok(cup) => Ok(cup
                        .cup_matches
                        .iter()
                        .find(|m| m.event == Some(EventId(event)))
                        .map(|m| cup_row(entry, m))),
                }
            })
            .buffer_unordered(4)
            .collect()
            .await;
    let mut rows = Vec::new();
    for r in fetched {
        rows.extend(r?);
    }
    Ok(rows)
}

fn cup_row(entry: EntryId, m: &crate::fpl::model::H2hMatch) -> CupRow {
    let first = m.entry_1_entry == Some(entry);
    let (score, opponent, opponent_score) = if first {
        (m.entry_1_points, m.entry_2_entry, m.entry_2_points)
    } else {
        (m.entry_2_points, m.entry_1_entry, m.entry_1_points)
    };
    let won = match (score, opponent_score) {
        (Some(s), Some(o)) => rules::cup_won(entry, m.winner, s, o),
        // A bye (no opponent) goes through; without scores only FPL's winner tells.
        (Some(_), None) if opponent.is_none() => true,
        _ => m.winner == Some(entry),
    };
    CupRow {
        entry,
        opponent,
        score,
        opponent_score,
        won,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::model::H2hMatch;

    fn cup_match(e1: Option<u64>, p1: Option<i32>, e2: Option<u64>, p2: Option<i32>) -> H2hMatch {
        serde_json::from_value(serde_json::json!({
            "id": 1, "event": 34,
            "entry_1_entry": e1, "entry_1_points": p1,
            "entry_2_entry": e2, "entry_2_points": p2,
        }))
        .unwrap()
    }

    #[test]
    fn a_cup_match_is_read_from_either_side_and_a_draw_without_a_winner_goes_to_both() {
        let m = cup_match(Some(1), Some(60), Some(2), Some(60));
        let (one, two) = (cup_row(EntryId(1), &m), cup_row(EntryId(2), &m));
        assert!(
            one.won && two.won,
            "no winner field: score ≥ opponent's wins"
        );
        assert_eq!(
            (two.score, two.opponent, two.opponent_score),
            (Some(60), Some(EntryId(1)), Some(60))
        );
        let m = cup_match(Some(1), Some(50), Some(2), Some(61));
        assert!(!cup_row(EntryId(1), &m).won);
        assert!(cup_row(EntryId(2), &m).won);
    }

    #[test]
    fn a_cup_bye_goes_through() {
        let m = cup_match(Some(1), Some(40), None, None);
        assert!(cup_row(EntryId(1), &m).won);
    }
}
