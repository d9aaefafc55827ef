//! The job runtime: how a job kind is declared, what its work may use, and the thin actor that
//! queues, runs, retries and records its runs. The kinds themselves live in their own modules
//! (`meta`, `live`, `entries`, `finalize`, `tournament`, `prune`) and the catalog of the
//! built-in ones is assembled in `app.rs`: this module knows none of them.
//!
//! - [`Kind`], [`JobSpec`], [`JobCatalog`]: a kind is a name tied to its parameter type, and a
//!   plain async function over a [`JobContext`] and those parameters.
//! - [`JobContext`]: one attempt's identity, its [`Heartbeat`] and its dependencies ([`Deps`]).
//! - [`JobError`] (in `error`): how an attempt failed, and what the FPL client's and
//!   PostgreSQL's errors mean for a run.
//! - `queue`: the pure queue of a kind (order, coalescing, capacity, exclusivity).
//! - `policy`: the pure policy (how an attempt ended → the next step; stall and time watch).
//! - [`JobActor`] (in `actor`): the actor around them, one per kind.
//! - [`JobDirectory`] (in `directory`): finding a kind's actor (its [`JobHandle`]), asking it
//!   for a run (the one path of HTTP, the scheduler, the lifecycle and the kinds' own
//!   dependencies) and waiting for a run's outcome.
//! - `messages`: what a job actor is sent, and the handle that reaches it.
//! - [`JobMetrics`]: the runtime's Prometheus families.
//! - `work`: shared bulk work — a run's units in PostgreSQL, claimed under a lease by every
//!   instance (the leader's run opens the work and waits for it).

mod actor;
mod directory;
mod error;
mod messages;
mod metrics;
pub mod policy;
pub mod queue;
pub mod work;

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgPool;

pub use actor::JobActor;
pub use directory::{Delivery, JobDirectory, RequestError};
pub use error::JobError;
pub use messages::{
    Cancel, CurrentStatus, Enqueue, EnqueueError, Enqueued, GetStatus, JobHandle, JobStatus,
};
pub use metrics::JobMetrics;
pub use policy::RunPolicy;

use crate::alerts::AlertSink;
use crate::cache::Cache;
use crate::config::Settings;
use crate::fpl::FplClient;
use crate::heartbeat::Heartbeat;
use crate::metrics::Metrics;
use crate::run::{JobKind, LogLevel, RunId, RunStatus, Trigger};
use crate::store;

/// A job kind tied to the type of its parameters, so a request from inside the service cannot
/// send a kind parameters it does not take. Declared once, as a constant, by the kind's module.
pub struct Kind<P> {
    kind: JobKind,
    params: PhantomData<fn(P)>,
}

impl<P> Kind<P> {
    pub const fn new(name: &'static str) -> Self {
        Kind {
            kind: JobKind::new(name),
            params: PhantomData,
        }
    }

    pub const fn kind(&self) -> JobKind {
        self.kind
    }

    pub fn as_str(&self) -> &'static str {
        self.kind.as_str()
    }
}

impl<P> Clone for Kind<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Kind<P> {}

impl<P> std::fmt::Display for Kind<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind.fmt(f)
    }
}

impl<P> std::fmt::Debug for Kind<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind.fmt(f)
    }
}

/// Services the job kinds share among themselves that the runtime knows nothing of (the
/// decoded picks kept between live ticks, say), found by their type. Cheap to clone.
#[derive(Clone, Default)]
pub struct Shared {
    services: Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Shared {
    /// Adds `service` (replacing one of the same type).
    pub fn with<T: Any + Send + Sync>(mut self, service: T) -> Self {
        Arc::make_mut(&mut self.services).insert(TypeId::of::<T>(), Arc::new(service));
        self
    }

    /// The service of type `T`, if the composition root provided one.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.services.get(&TypeId::of::<T>())?.downcast_ref()
    }
}

/// What every job may use. Cheap to clone.
#[derive(Clone)]
pub struct Deps {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    pub metrics: Metrics,
    pub alerts: AlertSink,
    /// The one FPL client every job fetches through. In a [`JobContext`] it renews the
    /// attempt's heartbeat with every request admitted or answered.
    pub fpl: FplClient,
    /// The job actors, for jobs that request other kinds as dependencies.
    pub jobs: JobDirectory,
    /// Where a job writes what it committed, for readers (`cache.put`).
    pub cache: Cache,
    pub shared: Shared,
}

/// The dependencies and identity of one attempt of one run.
#[derive(Clone)]
pub struct JobContext {
    pub run: RunId,
    pub kind: JobKind,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The attempt's sign of life (see [`crate::heartbeat`]).
    pub heart: Heartbeat,
    pub deps: Deps,
}

impl JobContext {
    /// The context of an attempt: its dependencies, with the FPL client renewing `heart`.
    pub fn new(run: RunId, kind: JobKind, attempt: u32, heart: Heartbeat, deps: &Deps) -> Self {
        let mut deps = deps.clone();
        deps.fpl = deps.fpl.with_heartbeat(heart.clone());
        JobContext {
            run,
            kind,
            attempt,
            heart,
            deps,
        }
    }

    /// The work made progress (a unit done, a statement committed).
    pub fn beat(&self) {
        self.heart.beat();
    }

    /// Runs CPU-bound work (reading a megabyte's shape, say) on the blocking pool, beating
    /// while it works: the work is alive even though no request or statement is, and the
    /// runtime's other tasks keep their thread.
    pub async fn compute<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JobError> {
        let mut done = tokio::task::spawn_blocking(work);
        let mut beat = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            tokio::select! {
                result = &mut done => {
                    self.beat();
                    return result.map_err(|e| JobError::Transient(anyhow::anyhow!(e)));
                }
                _ = beat.tick() => self.beat(),
            }
        }
    }

    /// Reports progress (0–100) on the run; counts as a sign of life.
    pub async fn progress(&self, percent: u8) -> Result<(), JobError> {
        self.beat();
        store::runs::set_progress(&self.deps.db, self.run, percent).await?;
        Ok(())
    }

    /// Reports progress as units done out of a total (the percentage follows), and how long
    /// the rest should take at the pace kept so far; counts as a sign of life.
    pub async fn progress_units(
        &self,
        done: u64,
        total: u64,
        remaining: Option<std::time::Duration>,
    ) -> Result<(), JobError> {
        self.beat();
        store::runs::set_progress_units(&self.deps.db, self.run, done, total, remaining).await?;
        Ok(())
    }

    /// Appends a line to the run's log (and to the process log).
    pub async fn log(&self, level: LogLevel, message: impl AsRef<str>) -> Result<(), JobError> {
        let message = message.as_ref();
        self.trace(level, message);
        self.beat();
        store::runs::append_log(&self.deps.db, self.run, level, message).await?;
        Ok(())
    }

    /// Appends several lines to the run's log at once, in order.
    pub async fn log_lines(&self, level: LogLevel, lines: Vec<String>) -> Result<(), JobError> {
        for line in &lines {
            self.trace(level, line);
        }
        self.beat();
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

    /// Runs `kind` first, as a dependency of this run: requests it (identical requests coalesce
    /// into one run) and waits for its outcome, which the runtime announces when the run ends —
    /// nothing polls. The wait is a deliberate one (the dependency has a heartbeat of its own),
    /// so it is no silence of this run; this run's time limit still bounds it.
    pub async fn run_first<P: Serialize>(&self, kind: Kind<P>, params: &P) -> Result<(), JobError> {
        let _waiting = self.heart.waiting();
        let requested = self
            .deps
            .jobs
            .request(kind, params, Trigger::Dependency, DEPENDENCY_REQUEST_WAIT)
            .await
            .map_err(|e| JobError::transient(format!("could not request {kind}: {e}")))?;
        let run = requested.run_id;
        self.log(LogLevel::Info, format!("waiting for {kind} run {run}"))
            .await?;
        match self.deps.jobs.outcome(&self.deps.db, run).await? {
            RunStatus::Succeeded => Ok(()),
            status => Err(JobError::transient(format!(
                "{kind} run {run} ended {status}"
            ))),
        }
    }
}

/// How long a dependency request waits for room in the other kind's mailbox.
const DEPENDENCY_REQUEST_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

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
    /// Declares `kind`, run by `f`. Parameters arriving as JSON are decoded into `P` when the
    /// run is requested (so bad ones are refused before anything is queued) and stored in the
    /// normal form `P` serialises to, which is also what identical requests are coalesced on.
    pub fn new<P, F, Fut>(kind: Kind<P>, f: F) -> Self
    where
        P: DeserializeOwned + Serialize + Send + 'static,
        F: Fn(JobContext, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<JobOutcome, JobError>> + Send + 'static,
    {
        let parse: ParseFn = Arc::new(|raw: Value| {
            let params: P = serde_json::from_value(raw).map_err(|e| e.to_string())?;
            serde_json::to_value(&params).map_err(|e| e.to_string())
        });
        let run: RunFn =
            Arc::new(
                move |ctx: JobContext, raw: Value| match serde_json::from_value::<P>(raw) {
                    Ok(params) => Box::pin(f(ctx, params)),
                    Err(e) => Box::pin(async move {
                        Err(JobError::permanent(format!("stored parameters: {e}")))
                    }),
                },
            );
        JobSpec {
            kind: kind.kind(),
            parse,
            run,
        }
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

/// The job kinds an application runs. The built-in catalog is assembled in `app.rs`; tests add
/// kinds of their own.
#[derive(Clone, Default)]
pub struct JobCatalog {
    specs: BTreeMap<&'static str, Arc<JobSpec>>,
}

impl JobCatalog {
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
