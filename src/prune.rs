//! The `prune` job: deletes finished runs (with their logs), supervision events and closed alert
//! groups older than `jobs.retention_days`, and audit entries older than
//! `auth.audit_retention_days`, so the tables behind `/jobs`, `/supervision`, `/alerts` and
//! `/audit` stay small over seasons. The audit retention is its own and no parameter shortens
//! it: whoever may trigger `prune` cannot erase the record of what they did.

use std::num::NonZeroU32;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::jobs::{JobContext, JobError, JobOutcome, JobSpec, Kind};
use crate::run::LogLevel;
use crate::store;

pub const PRUNE: Kind<PruneParams> = Kind::new("prune");

/// Parameters of `prune`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PruneParams {
    /// Overrides `jobs.retention_days` for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older_than_days: Option<NonZeroU32>,
}

pub fn spec() -> JobSpec {
    JobSpec::new(PRUNE, run)
}

pub async fn run(ctx: JobContext, params: PruneParams) -> Result<JobOutcome, JobError> {
    let days = params
        .older_than_days
        .map_or(ctx.deps.settings.jobs.retention_days, NonZeroU32::get)
        .max(1);
    let before = Utc::now() - chrono::Duration::days(i64::from(days));
    let runs = store::runs::prune(&ctx.deps.db, before).await?;
    ctx.progress(50).await?;
    let events = crate::supervisor::log::prune(&ctx.deps.db, before).await?;
    let alerts = crate::alerts::history::prune(&ctx.deps.db, before).await?;
    let audit_days = ctx.deps.settings.auth.audit_retention_days.max(1);
    let audit_before = Utc::now() - chrono::Duration::days(i64::from(audit_days));
    let audit = store::audit::prune(&ctx.deps.db, audit_before).await?;
    let summary = format!(
        "deleted {runs} runs, {events} supervision events and {alerts} closed alerts older than \
         {days} days, and {audit} audit entries older than {audit_days} days"
    );
    ctx.log(LogLevel::Info, &summary).await?;
    Ok(JobOutcome::new(summary))
}
