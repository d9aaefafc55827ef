//! Jobs: a job kind is a plain async function over its dependencies ([`JobContext`]) and typed
//! parameters, declared once in the [`JobCatalog`] and run by a thin [`JobActor`] per kind.
//!
//! - [`JobActor`] (in `worker`): the actor that queues, runs, retries and records one kind.
//! - [`request_run`]: the one path by which HTTP, the scheduler and other jobs ask for a run.
//! - [`prune`]: the built-in retention job.

pub mod prune;
mod request;
mod worker;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgPool;

pub use request::{Delivery, Enqueued, RequestError, request_run, request_run_from};
pub use worker::{Cancel, CurrentStatus, Enqueue, GetStatus, JobActor, JobDirectory, JobStatus};

use crate::alerts::AlertSink;
use crate::run::{JobKind, LogLevel, RunId};
use crate::cache::Cache;
use crate::config::Settings;
use crate::fpl::FplClient;
use crate::metrics::Metrics;
use crate::store::{self, StoreError};

/// What every job may use. Cheap to clone.
#[derive(Clone)]
pub struct Deps {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    pub metrics: Metrics,
    pub alerts: AlertSink,
    /// The one FPL client every job fetches through.
    pub fpl: FplClient,
    /// The job actors, for jobs that request other kinds as dependencies.
    pub jobs: JobDirectory,
    /// Where a job writes what it committed, for readers (`cache.put`).
    pub cache: Cache,
    /// Decoded picks kept between live ticks (see [`crate::live::managers::PicksCache`]).
    pub picks_cache: crate::live::managers::PicksCache,
}

/// The dependencies and identity of one attempt of one run.
#[derive(Clone)]
pub struct JobContext {
    pub run: RunId,
    pub kind: JobKind,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub deps: Deps,
}

impl JobContext {
    /// Reports progress (0–100) on the run.
    pub async fn progress(&self, percent: u8) -> Result<(), JobError> {
        store::runs::set_progress(&self.deps.db, self.run, percent).await?;
        Ok(())
    }

    /// Appends a line to the run's log (and to the process log).
    pub async fn log(&self, level: LogLevel, message: impl AsRef<str>) -> Result<(), JobError> {
        let message = message.as_ref();
        self.trace(level, message);
        store::runs::append_log(&self.deps.db, self.run, level, message).await?;
        Ok(())
    }

    /// Appends several lines to the run's log at once, in order.
    pub async fn log_lines(&self, level: LogLevel, lines: Vec<String>) -> Result<(), JobError> {
        for line in &lines {
            self.trace(level, line);
        }
        store::runs::append_logs(&self.deps.db, self.run, level, &lines).await?;
        Ok(())
    }

    /// Run logs live in job_run_logs (GET /jobs/{id}); the process log gets them at debug, or
    /// at their own level when they are warnings or errors.
    fn trace(&self, level: LogLevel, message: &str) {
        match level {
            LogLevel::Info => tracing::debug!(run = %self.run, kind = %self.kind, "{message}"),
            LogLevel::Warn => tracing::warn!(run = %self.run, kind = %self.kind, "{message}"),
            LogLevel::Error => tracing::error!(run = %self.run, kind = %self.kind, "{message}"),
        }
    }
}

/// How a run ended well.
#[derive(Debug, Clone, Default)]
pub struct JobOutcome {
    /// One line for the run's log, e.g. "deleted 12 runs".
    pub summary: String,
}

impl JobOutcome {
    pub fn new(summary: impl Into<String>) -> Self {
        JobOutcome {
            summary: summary.into(),
        }
    }
}

/// How a run attempt failed, and so what happens next.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying after the kind's backoff (network, database, "FPL updating").
    #[error("{0:#}")]
    Transient(anyhow::Error),
    /// Worth retrying, but not before `after` (rate limited).
    #[error("{source:#} (retry after {after:?})")]
    RetryAfter {
        after: Duration,
        source: anyhow::Error,
    },
    /// Retrying cannot help (bad data, bad parameters): the run fails now.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Transient(e.into())
    }
}

type RunFn = Arc<
    dyn Fn(JobContext, Value) -> BoxFuture<'static, Result<JobOutcome, JobError>> + Send + Sync,
>;
type ParseFn = Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// One job kind: how to validate its parameters and how to run it.
pub struct JobSpec {
    pub kind: JobKind,
    parse: ParseFn,
    run: RunFn,
}

impl JobSpec {
    /// Declares `kind`, run by `f` with parameters of type `P`. Parameters arriving as JSON are
    /// decoded into `P` when the run is requested (so bad ones are refused before anything is
    /// queued) and stored in the normal form `P` serialises to, which is also what identical
    /// requests are coalesced on.
    pub fn new<P, F, Fut>(kind: JobKind, f: F) -> Self
    where
        P: DeserializeOwned + Serialize + Send + 'static,
        F: Fn(JobContext, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JobOutcome, JobError>> + Send + 'static,
    {
        let parse: ParseFn = Arc::new(|raw: Value| {
            let params: P = serde_json::from_value(raw).map_err(|e| e.to_string())?;
            serde_json::to_value(&params).map_err(|e| e.to_string())
        });
        let run: RunFn = Arc::new(
            move |ctx: JobContext, raw: Value| match serde_json::from_value::<P>(raw) {
                Ok(params) => Box::pin(f(ctx, params)),
                Err(e) => Box::pin(async move {
                    Err(JobError::Permanent(anyhow::anyhow!(
                        "stored parameters: {e}"
                    )))
                }),
            },
        );
        JobSpec { kind, parse, run }
    }

    /// Validates raw parameters and returns their normal form.
    pub fn parse_params(&self, raw: Value) -> Result<Value, String> {
        (self.parse)(raw)
    }
}

/// Parameters of a kind that takes none: `{}` only.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Every job kind the service runs.
#[derive(Clone, Default)]
pub struct JobCatalog {
    specs: BTreeMap<&'static str, Arc<JobSpec>>,
}

impl JobCatalog {
    /// The kinds fplsync ships with.
    pub fn builtin() -> Self {
        let [bootstrap, fixtures] = crate::meta::jobs::specs();
        JobCatalog::default()
            .with(prune::spec())
            .with(bootstrap)
            .with(fixtures)
            .with(crate::live::snapshot::spec())
            .with(crate::entries::spec())
            .with(crate::tournament::job::spec())
            .with(crate::live::finalize::spec())
    }

    /// Adds (or replaces) a kind.
    pub fn with(mut self, spec: JobSpec) -> Self {
        self.specs.insert(spec.kind.as_str(), Arc::new(spec));
        self
    }

    /// Looks up a kind by the name operators use.
    pub fn get(&self, name: &str) -> Option<Arc<JobSpec>> {
        self.specs.get(name).cloned()
    }

    pub fn kinds(&self) -> impl Iterator<Item = JobKind> + '_ {
        self.specs.values().map(|s| s.kind)
    }

    pub fn specs(&self) -> impl Iterator<Item = &Arc<JobSpec>> {
        self.specs.values()
    }
}
