//! The `tournament-roster` job: reads a draft league tournament's roster from FPL, one standings
//! page at a time at tournament priority (a classic league's page brings the same page of its
//! new joiners, so a league read before its first update — pre-season — has its members), storing each page as it comes (the checkpoint), so a
//! stopped read resumes at the next page and a league of 10,000 managers (200 pages, 50 s at
//! 4 req/s) never holds an HTTP request open. `POST /tournaments` and `sync-roster` ask for it
//! and answer at once with its run id.

use serde::{Deserialize, Serialize};

use super::model::TournamentId;
use super::store::{self, League, PageStored, RosterEntry, RosterRead, TournamentError};
use crate::fpl::{FplError, Priority};
use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec, Kind};

pub const TOURNAMENT_ROSTER: Kind<RosterParams> = Kind::new("tournament-roster");

/// Parameters of `tournament-roster`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RosterParams {
    pub tournament: TournamentId,
}

pub fn spec() -> JobSpec {
    JobSpec::new(TOURNAMENT_ROSTER, run)
}

pub async fn run(ctx: JobContext, params: RosterParams) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let id = params.tournament;
    let Some(read) = store::begin_read(db, id, ctx.run.0).await? else {
        return Ok(JobOutcome::new(format!(
            "tournament {id}: the roster is already read"
        )));
    };
    let result = read_pages(&ctx, id, read).await;
    // A read that cannot succeed says why on the tournament; a passing trouble is retried (the
    // read resumes at its next page).
    if let Err(JobError::Permanent(cause)) = &result {
        store::fail_read(db, id, read.generation, &format!("{cause:#}")).await?;
    }
    result
}

async fn read_pages(
    ctx: &JobContext,
    id: TournamentId,
    read: RosterRead,
) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let mut page = read.pages_read + 1;
    let mut fetched = fetch_page(ctx, read.league, page).await?;
    loop {
        let (rows, has_next) = fetched;
        // An empty page ends the table whatever `has_next` says (as the client's own walk).
        let has_next = has_next && !rows.is_empty();
        if has_next && page >= ctx.deps.settings.fpl.max_pages {
            return Err(JobError::permanent(format!(
                "the league still has pages after {page} (fpl.max_pages)"
            )));
        }
        // The next page is fetched while this one is stored, so storing costs the read no
        // time: the pace is the rate's. Pages are still stored in order, each its checkpoint.
        let store = store::store_page(db, id, read.generation, page, &rows, has_next);
        let (stored, next) = if has_next {
            let (stored, next) = tokio::join!(store, fetch_page(ctx, read.league, page + 1));
            (stored?, Some(next))
        } else {
            (store.await?, None)
        };
        match stored {
            PageStored::More => {
                // The number of pages is known only at the last: one more is always ahead.
                ctx.progress_units(u64::from(page), u64::from(page) + 1, None)
                    .await?;
                page += 1;
                fetched = next.expect("fetched when there is a next page")?;
            }
            PageStored::Done { entries } => {
                return Ok(JobOutcome::new(format!(
                    "tournament {id}: roster of {entries} entries read from {page} pages"
                )));
            }
            PageStored::Superseded => {
                return Ok(JobOutcome::new(format!(
                    "tournament {id}: a newer roster read took over after page {page}"
                )));
            }
        }
    }
}

async fn fetch_page(
    ctx: &JobContext,
    league: League,
    page: u32,
) -> Result<(Vec<RosterEntry>, bool), TournamentError> {
    let fpl = &ctx.deps.fpl;
    let unknown = |league: u64| {
        move |e: FplError| match e {
            FplError::NotFound { .. } => TournamentError::UnknownLeague { league },
            e => TournamentError::Fpl(e),
        }
    };
    Ok(match league {
        League::Classic(l) => {
            let p = fpl
                .classic_standings_page(l, page, Priority::Tournament)
                .await
                .map_err(unknown(l.0))?;
            let joiners = p.new_entries.unwrap_or_default();
            let mut rows: Vec<RosterEntry> = p
                .standings
                .results
                .into_iter()
                .map(|r| RosterEntry {
                    entry: r.entry,
                    name: Some(r.entry_name),
                    player_name: Some(r.player_name),
                    league_rank: i32::try_from(r.rank_sort).ok(),
                })
                .collect();
            // New joiners are members without a rank yet (every member, before the season's
            // first league update).
            rows.extend(joiners.results.into_iter().map(|r| RosterEntry {
                entry: r.entry,
                name: r.entry_name,
                player_name: match (r.player_first_name, r.player_last_name) {
                    (Some(f), Some(l)) => Some(format!("{f} {l}")),
                    (f, l) => f.or(l),
                },
                league_rank: None,
            }));
            (rows, p.standings.has_next || joiners.has_next)
        }
        League::H2h(l) => {
            let p = fpl
                .h2h_standings_page(l, page, Priority::Tournament)
                .await
                .map_err(unknown(l.0))?;
            let rows = p
                .standings
                .results
                .into_iter()
                .map(|r| RosterEntry {
                    entry: r.entry,
                    name: r.entry_name,
                    player_name: r.player_name,
                    league_rank: r.rank_sort.or(r.rank).and_then(|r| i32::try_from(r).ok()),
                })
                .collect();
            (rows, p.standings.has_next)
        }
    })
}
