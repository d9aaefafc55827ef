//! The `tournament-results` job: once a gameweek's official entry results are stored (a request
//! from finalization, with trigger `dependency`; or on demand), it derives
//! every tournament entry's statistics of that gameweek, reads FPL cup matches where a
//! tournament follows the cup, and recomputes group tables, qualification and the bracket from
//! the full history; then publishes the standings to the cache.

use std::num::NonZeroU16;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::model::TournamentId;
use super::rules;
use super::store::{self, CupRow, Processed, TournamentError};
use crate::fpl::model::{EntryId, EventId};
use crate::fpl::{FplError, Priority};
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
    let mut lines = Vec::new();
    let mut waiting = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let cup = cup_matches(&ctx, *id, event).await?;
        // A tournament's results are its own season's, whatever season is current now.
        let played_in = store::season_of(db, *id).await?.unwrap_or(season.0.0);
        let outcome = store::process_event(db, *id, played_in, event, &cup).await?;
        let line = match &outcome {
            Processed::Done { entries } => {
                store::publish(db, &ctx.deps.cache, *id).await;
                let mut line = format!(
                    "tournament {id}: GW{event} results of {entries} entries, standings recomputed"
                );
                if is_last_gameweek(db, played_in, event).await? {
                    // The season is over: so is the tournament. Its results stay readable.
                    store::archive(db, *id).await?;
                    line.push_str("; the season's last gameweek: archived");
                }
                line
            }
            Processed::NotConcerned => {
                format!("tournament {id}: GW{event} is not one of its gameweeks")
            }
            Processed::NoResults => format!("tournament {id}: no entry has a GW{event} result yet"),
            Processed::WaitingForGroups(missing) => {
                waiting.push((*id, missing.clone()));
                format!(
                    "tournament {id}: GW{event} is a knockout gameweek; the group stage still lacks GW {missing:?}"
                )
            }
        };
        ctx.log(LogLevel::Info, &line).await?;
        lines.push(line);
        ctx.progress(((i + 1) * 100 / ids.len()) as u8).await?;
    }
    // Knockout processing waits for its group stage: retried (with the kind's backoff) until
    // the group gameweeks have been processed.
    if let Some((id, missing)) = waiting.first() {
        return Err(JobError::Transient(anyhow::anyhow!(
            "tournament {id}: waiting for the group stage (GW {missing:?} not processed)"
        )));
    }
    Ok(JobOutcome::new(match lines.len() {
        0 => format!("GW{event}: no active tournament"),
        1 => lines.remove(0),
        n => format!("GW{event}: {n} tournaments processed"),
    }))
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

/// The FPL cup match of `event` of every entry of a tournament that follows the cup (none
/// otherwise), read at tournament priority before any lock is taken.
async fn cup_matches(
    ctx: &JobContext,
    id: TournamentId,
    event: u16,
) -> Result<Vec<CupRow>, JobError> {
    let Some((row, _)) = store::get(&ctx.deps.db, id).await? else {
        return Ok(Vec::new());
    };
    if !row.cup || row.state != "active" {
        return Ok(Vec::new());
    }
    let entries: Vec<i64> =
        sqlx::query_scalar("SELECT entry_id FROM tournament_entries WHERE tournament_id = $1")
            .bind(id.0)
            .fetch_all(&ctx.deps.db)
            .await
            .map_err(|e| JobError::from(crate::store::StoreError::from(e)))?;
    let fpl = &ctx.deps.fpl;
    let fetched: Vec<Result<Option<CupRow>, FplError>> = futures_util::stream::iter(entries)
        .map(|entry| async move {
            let entry = EntryId(entry as u64);
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
