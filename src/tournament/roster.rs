//! The `tournament-roster` job: reads a draft league tournament's roster from FPL's standings
//! pages at tournament priority (a classic league's page brings the same page of its new
//! joiners, so a league read before its first update — pre-season — has its members). The pages
//! are shared units ([`crate::jobs::work`]): every instance of the deployment fetches some
//! through its own FPL budget and stores each with its record (the checkpoint), so a stopped
//! read resumes with the pages it lacks and a league of 10,000 managers (200 pages, 50 s at
//! 4 req/s for one instance) never holds an HTTP request open. FPL does not say how many pages
//! a league has: the read looks [`lookahead`] pages past the last one known to exist, and each
//! page stored that says the table goes on adds the pages after it, so the instances always
//! have pages to fetch and at most that many are read past the table's end. `POST /tournaments`
//! and `sync-roster` ask for the job and answer at once with its run id.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::model::TournamentId;
use super::store::{
    self, League, PageStored, ReadStatus, RosterEntry, RosterPage, RosterRead, TournamentError,
};
use crate::fpl::model::LeagueId;
use crate::fpl::{FplClient, FplError, Priority};
use crate::jobs::work::{self, Claimed, LANES, Outcome};
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

/// Pages read past the last one known to exist: as many as the instances working on shared
/// work fetch at once (one per lane), so none waits for a page to be known, and no more are
/// read past the table's end.
pub fn lookahead(instances: u64) -> u32 {
    (LANES * instances.max(1)).min(u64::from(u16::MAX)) as u32
}

/// The pages to add after a batch stored `pages`: `ahead` past each that says the table goes
/// on, none past `end` (when known) or `max_pages`.
fn pages_after(pages: &[RosterPage], ahead: u32, end: Option<u32>, max_pages: u32) -> Vec<u64> {
    let last = end.unwrap_or(u32::MAX).min(max_pages);
    pages
        .iter()
        .filter(|p| p.has_next)
        .flat_map(|p| (p.page + 1)..=p.page.saturating_add(ahead).min(last))
        .map(u64::from)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The handler name of the roster pages' shared units.
pub const ROSTER_UNITS: &str = "tournament-roster-pages";

/// A league, as the work's parameters name it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum LeagueRef {
    Classic(u64),
    H2h(u64),
}

impl From<League> for LeagueRef {
    fn from(l: League) -> Self {
        match l {
            League::Classic(l) => LeagueRef::Classic(l.0),
            League::H2h(l) => LeagueRef::H2h(l.0),
        }
    }
}

impl From<LeagueRef> for League {
    fn from(l: LeagueRef) -> Self {
        match l {
            LeagueRef::Classic(l) => League::Classic(LeagueId(l)),
            LeagueRef::H2h(l) => League::H2h(LeagueId(l)),
        }
    }
}

/// What a roster page unit needs besides its page number.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct RosterWork {
    tournament: TournamentId,
    generation: i32,
    league: LeagueRef,
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
    // read resumes with the pages it lacks).
    if let Err(JobError::Permanent(cause)) = &result {
        store::fail_read(db, id, read.generation, &format!("{cause:#}")).await?;
    }
    result
}

/// Opens the read's pages as shared work and follows it until every page up to the table's
/// end is stored, then makes them the roster.
async fn read_pages(
    ctx: &JobContext,
    id: TournamentId,
    read: RosterRead,
) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let max_pages = ctx.deps.settings.fpl.max_pages;
    let key = format!("tournament-roster:{id}:{}", read.generation);
    let params = serde_json::to_value(RosterWork {
        tournament: id,
        generation: read.generation,
        league: read.league.into(),
    })
    .expect("work parameters serialise");
    let ahead = || async { Ok::<_, JobError>(lookahead(work::instances(&ctx.deps).await?)) };
    let status = store::read_status(db, id, read.generation).await?;
    let first = status.to_read(ahead().await?, max_pages);
    work::open(ctx, ROSTER_UNITS, &key, &params, &units(&first)).await?;
    let mut watch = work::Watch::new(ctx, &key);
    loop {
        watch.changed().await?;
        // A roster's pages are few (200 for 10,000 managers): counted at each change.
        let t = watch.tally().await?;
        let s = store::read_status(db, id, read.generation).await?;
        if !s.current {
            watch.close().await?;
            return Ok(JobOutcome::new(format!(
                "tournament {id}: a newer roster read took over after {} pages",
                s.stored.len()
            )));
        }
        if t.unknown > 0 {
            watch.close().await?;
            let league = match read.league {
                League::Classic(l) | League::H2h(l) => l.0,
            };
            return Err(TournamentError::UnknownLeague { league }.into());
        }
        if s.end.is_none() && s.goes_on_after.is_some_and(|p| p >= max_pages) {
            watch.close().await?;
            return Err(JobError::permanent(format!(
                "the league still has pages after {max_pages} (fpl.max_pages)"
            )));
        }
        report(ctx, &s).await?;
        if s.complete() {
            watch.close().await?;
            let end = s.end.expect("a complete read has an end");
            return Ok(JobOutcome::new(
                match store::finish_read(db, id, read.generation, end).await? {
                    PageStored::Done { entries } => {
                        format!(
                            "tournament {id}: roster of {entries} entries read from {end} pages"
                        )
                    }
                    PageStored::Superseded => {
                        format!("tournament {id}: a newer roster read took over after {end} pages")
                    }
                },
            ));
        }
        if t.left() > 0 {
            continue;
        }
        // Nothing left to do and the roster still incomplete: pages failed (tried again by the
        // run's retry), or the pages still to read were not added yet.
        if t.failed > 0 {
            let f = watch.close().await?;
            let (page, error) = f.example_failure.unwrap_or_default();
            return Err(JobError::Transient(anyhow::anyhow!(
                "{} standings pages failed, e.g. page {page}: {error}",
                t.failed
            )));
        }
        let missing = s.to_read(ahead().await?, max_pages);
        if work::extend(ctx, &key, &units(&missing)).await? == 0 {
            return Err(JobError::Transient(anyhow::anyhow!(
                "the roster lacks pages {missing:?}, which are neither stored nor to read"
            )));
        }
    }
}

fn units(pages: &[u32]) -> Vec<u64> {
    pages.iter().map(|&p| u64::from(p)).collect()
}

/// Progress: pages stored of the table's pages (one more than known while its end is not).
async fn report(ctx: &JobContext, s: &ReadStatus) -> Result<(), JobError> {
    let stored = s.stored.len() as u64;
    let total = match s.end {
        Some(end) => u64::from(end),
        None => u64::from(s.goes_on_after.unwrap_or(0)) + 1,
    };
    ctx.progress_units(stored.min(total), total, None).await?;
    Ok(())
}

/// Does one claimed batch of standings pages, on whichever instance claimed it: fetches them
/// (not those past the table's end, once known), stores them with their records and the
/// units' completion in one transaction, and adds the pages after those that say the table
/// goes on.
pub async fn roster_units(claimed: Claimed) -> Result<(), JobError> {
    let work: RosterWork = serde_json::from_value(claimed.params.clone())
        .map_err(|e| JobError::permanent(format!("roster work parameters: {e}")))?;
    let deps = claimed.deps().clone();
    let max_pages = deps.settings.fpl.max_pages;
    let known = store::read_status(&deps.db, work.tournament, work.generation).await?;
    let league = League::from(work.league);
    let fpl = &deps.fpl;
    let fetched = claimed
        .fetch(|unit| async move {
            let page = u32::try_from(unit).unwrap_or(u32::MAX);
            if known.end.is_some_and(|end| page > end) {
                return Ok(None);
            }
            fetch_page(fpl, league, page).await.map(|p| Some((page, p)))
        })
        .await;
    let mut outcome = Outcome::default();
    let mut pages = Vec::new();
    for (unit, got) in fetched {
        match got {
            Ok(Some((page, (rows, has_next)))) => {
                // An empty page ends the table whatever `has_next` says.
                let has_next = has_next && !rows.is_empty();
                pages.push(RosterPage {
                    page,
                    rows,
                    has_next,
                });
                outcome.stored.push(unit);
            }
            Ok(None) => {
                outcome.stored.push(unit);
                outcome
                    .notes
                    .insert(unit, "past the table's end: not read".into());
            }
            Err(FplError::NotFound { .. }) => outcome.unknown.push(unit),
            Err(e) => outcome.failed.push((unit, e.to_string())),
        }
    }
    let end = pages
        .iter()
        .filter(|p| !p.has_next)
        .map(|p| p.page)
        .chain(known.end)
        .min();
    // Asked before the transaction: a connection held while waiting for another is how a
    // small pool runs dry.
    let next = pages_after(
        &pages,
        lookahead(work::instances(&deps).await?),
        end,
        max_pages,
    );
    let Some(mut tx) = claimed.begin().await? else {
        return Ok(()); // the run ended meanwhile: its units were given back
    };
    if store::store_pages(&mut tx, work.tournament, work.generation, &pages).await? {
        claimed.add_units(&mut tx, &next).await?;
    }
    claimed.finish(tx, outcome).await?;
    Ok(())
}

/// One standings page of `league`: its rows and whether FPL says more follow.
async fn fetch_page(
    fpl: &FplClient,
    league: League,
    page: u32,
) -> Result<(Vec<RosterEntry>, bool), FplError> {
    Ok(match league {
        League::Classic(l) => {
            let p = fpl
                .classic_standings_page(l, page, Priority::Tournament)
                .await?;
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
                .await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn page(page: u32, has_next: bool) -> RosterPage {
        RosterPage {
            page,
            rows: Vec::new(),
            has_next,
        }
    }

    #[test]
    fn a_read_looks_one_page_ahead_per_lane_of_every_working_instance() {
        assert_eq!(
            lookahead(0),
            LANES as u32,
            "this instance, before it is seen"
        );
        assert_eq!(lookahead(1), LANES as u32);
        assert_eq!(lookahead(3), 3 * LANES as u32);
    }

    #[test]
    fn a_page_that_says_the_table_goes_on_adds_the_pages_after_it_up_to_the_end_or_max_pages() {
        assert_eq!(pages_after(&[page(4, true)], 2, None, 200), vec![5, 6]);
        assert_eq!(
            pages_after(&[page(4, true), page(5, true)], 2, None, 200),
            vec![5, 6, 7]
        );
        assert_eq!(pages_after(&[page(4, true)], 4, Some(6), 200), vec![5, 6]);
        assert_eq!(pages_after(&[page(4, true)], 4, None, 5), vec![5]);
        assert!(pages_after(&[page(4, false)], 4, None, 200).is_empty());
    }

    #[test]
    fn a_read_is_complete_when_every_page_up_to_the_first_last_page_is_stored() {
        let status = |stored: &[u32], end: Option<u32>| ReadStatus {
            current: true,
            stored: stored.to_vec(),
            end,
            goes_on_after: None,
        };
        assert!(status(&[1, 2, 3], Some(3)).complete());
        assert!(
            status(&[1, 2, 3, 5], Some(3)).complete(),
            "a page past the end"
        );
        assert!(!status(&[1, 3], Some(3)).complete(), "page 2 missing");
        assert!(!status(&[1, 2, 3], None).complete(), "the end not seen yet");
    }

    #[test]
    fn pages_to_read_are_those_missing_up_to_the_end_or_lookahead_past_the_last_known() {
        let s = ReadStatus {
            current: true,
            stored: vec![1, 2, 4],
            end: None,
            goes_on_after: Some(4),
        };
        assert_eq!(s.to_read(2, 200), vec![3, 5, 6]);
        assert_eq!(s.to_read(2, 5), vec![3, 5]);
        let ended = ReadStatus {
            stored: vec![1, 2, 4, 5],
            end: Some(5),
            ..s.clone()
        };
        assert_eq!(ended.to_read(9, 200), vec![3]);
        assert_eq!(ReadStatus::default().to_read(2, 200), vec![1, 2]);
    }
}
