//! The `picks` job: after a deadline, the picks of every tracked manager who has none stored for
//! the gameweek, fetched once through the shared client at bulk priority (the admission
//! controller, not this code, sets the pace) and kept. A manager FPL does not know (404) is
//! skipped; the run fails only when nothing at all could be fetched.

use std::num::NonZeroU16;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::managers;
use crate::fpl::Priority;
use crate::fpl::client::FplError;
use crate::fpl::model::{EntryId, EventId, PicksResponse};
use crate::jobs::{JobContext, JobError, JobKind, JobOutcome, JobSpec, LogLevel};
use crate::live::snapshot::season_or_bootstrap;

pub const PICKS: JobKind = JobKind::new("picks");

/// Requests in flight from this job; the client's admission caps the real rate.
const CONCURRENCY: usize = 16;
/// Picks written per statement.
const BATCH: usize = 500;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PicksParams {
    pub event: NonZeroU16,
}

pub fn spec() -> JobSpec {
    JobSpec::new(PICKS, run)
}

pub async fn run(ctx: JobContext, params: PicksParams) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let event = params.event.get();
    let season = season_or_bootstrap(&ctx).await?;
    let tracked = managers::tracked(db, &ctx.deps.settings.live.tracked_entries).await?;
    let missing = managers::missing_picks(db, season, event, &tracked).await?;
    if missing.is_empty() {
        return Ok(JobOutcome::new(format!(
            "GW{event}: the picks of all {} tracked managers are stored",
            tracked.len()
        )));
    }
    let total = missing.len();
    let fpl = ctx.deps.fpl.clone();
    let mut fetches = futures_util::stream::iter(missing)
        .map(|entry| {
            let fpl = fpl.clone();
            async move {
                let got = fpl
                    .entry_picks(EntryId(entry), EventId(event), Priority::Bulk)
                    .await;
                (EntryId(entry), got)
            }
        })
        .buffer_unordered(CONCURRENCY);
    let (mut stored, mut unknown, mut failed) = (0u64, 0usize, 0usize);
    let mut last_error: Option<FplError> = None;
    let mut batch: Vec<(EntryId, PicksResponse)> = Vec::with_capacity(BATCH);
    let mut done = 0usize;
    while let Some((entry, got)) = fetches.next().await {
        done += 1;
        match got {
            Ok(picks) => batch.push((entry, picks)),
            Err(FplError::NotFound { .. }) => unknown += 1,
            Err(e) => {
                failed += 1;
                last_error = Some(e);
            }
        }
        if batch.len() == BATCH || done == total {
            stored += managers::store_picks(db, season, event, &batch).await?;
            batch.clear();
            ctx.progress((done * 100 / total).min(100) as u8).await?;
        }
    }
    if failed > 0 {
        let line = format!("GW{event}: {failed} of {total} managers' picks not fetched");
        ctx.log(LogLevel::Warn, &line).await?;
        if stored == 0 {
            return Err(last_error
                .map(JobError::from)
                .unwrap_or_else(|| JobError::Transient(anyhow::anyhow!("{line}"))));
        }
    }
    Ok(JobOutcome::new(format!(
        "GW{event}: picks of {stored} managers stored, {unknown} unknown to FPL, {failed} failed"
    )))
}
