//! The `prune` job: deletes finished runs (with their logs) and supervision events older than
//! the retention period, so the tables behind `/jobs` and `/supervision` stay small over a season.

use std::num::NonZeroU32;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{JobContext, JobError, JobKind, JobOutcome, JobSpec, LogLevel};
use crate::store;

pub const KIND: JobKind = JobKind::new("prune");

/// Parameters of `prune`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PruneParams {
    /// Overrides `jobs.retention_days` for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older_than_days: Option<NonZeroU32>,
}

pub fn spec() -> JobSpec {
    JobSpec::new(KIND, run)
}

pub async fn run(ctx: JobContext, params: PruneParams) -> Result<JobOutcome, JobError> {
    let days = params
        .older_than_days
        .map_or(ctx.deps.settings.jobs.retention_days, NonZeroU32::get)
        .max(1);
    let before = Utc::now() - chrono::Duration::days(i64::from(days));
    let runs = store::runs::prune(&ctx.deps.db, before).await?;
    ctx.progress(50).await?;
    let events = store::supervision::prune(&ctx.deps.db, before).await?;
    let summary =
        format!("deleted {runs} runs and {events} supervision events older than {days} days");
    ctx.log(LogLevel::Info, &summary).await?;
    Ok(JobOutcome::new(summary))
}
