//! The job actor: one per kind, a thin shell around the kind's async function.
//!
//! It queues requested runs (at most its mailbox capacity; identical requests coalesce), runs
//! them one at a time in arrival order — except that manual runs (an operator is waiting) go
//! ahead of scheduled, dependency and recovery ones — retries failed attempts with exponential backoff,
//! cancels attempts that exceed the kind's timeout (a stall), and records every step in
//! `job_runs`. The work itself runs in its own tokio task, so a panic there is caught as a
//! `JoinError`: the run fails with the panic message and the actor stops as failed, for its
//! supervisor to restart it with its queue rebuilt from PostgreSQL. Because the work is a task
//! and not a handler, the actor keeps answering control messages while a run executes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message,
    ResponseActFuture, WrapFuture,
};
use futures_util::future::{AbortHandle, Abortable};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Deps, Enqueued, JobContext, JobError, JobOutcome, JobSpec};
use crate::run::{JobKind, LogLevel, RunId, RunStatus, Trigger};
use crate::alerts::Alert;
use crate::config::RunPolicy;
use crate::store;
use crate::store::runs::RunOrigin;
use crate::supervisor::{
    ActorRegistry, ChildLink, Control, ExitGuard, ExitReason, MailboxGauge, StopChild,
};

/// The current address of a kind's actor and its mailbox capacity.
type Listing = (Addr<JobActor>, usize);

/// Where to find the actor of each kind; entries follow restarts.
#[derive(Clone, Default)]
pub struct JobDirectory {
    inner: Arc<RwLock<HashMap<JobKind, Listing>>>,
}

impl JobDirectory {
    /// The address of `kind`'s actor and its capacity, if it is up.
    pub fn get(&self, kind: JobKind) -> Option<(Addr<JobActor>, usize)> {
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        map.get(&kind).filter(|(addr, _)| addr.connected()).cloned()
    }

    fn set(&self, kind: JobKind, addr: Addr<JobActor>, capacity: usize) {
        let mut map = self.inner.write().unwrap_or_else(|e| e.into_inner());
        map.insert(kind, (addr, capacity));
    }
}

/// Why a request could not be queued.
#[derive(Debug)]
pub enum EnqueueError {
    QueueFull,
    Store(String),
    /// The kind is exclusive and this run is queued or running: a manual request is refused
    /// rather than queued behind it.
    Busy(RunId),
}

/// Queue a run with validated `params`; the answer comes on `reply`, so that a caller can use
/// `try_send` and still learn the run id.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enqueue {
    pub params: Value,
    pub trigger: Trigger,
    /// The cron tick or the re-run this request stands for (see [`RunOrigin`]).
    pub origin: RunOrigin,
    pub reply: oneshot::Sender<Result<Enqueued, EnqueueError>>,
}

/// Cancel a queued or running run of this kind.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Cancel {
    pub run: RunId,
}

/// Ask the actor what it holds right now.
#[derive(Message)]
#[rtype(result = "JobStatus")]
pub struct GetStatus;

/// The live state of a job actor, straight from the actor.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct JobStatus {
    pub paused: bool,
    pub queued: Vec<RunId>,
    pub current: Option<CurrentStatus>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CurrentStatus {
    pub run_id: RunId,
    pub attempt: u32,
    pub stalls: u32,
    pub running_ms: u64,
}

struct Queued {
    id: RunId,
    trigger: Trigger,
    /// Normal-form parameters as text: the coalescing key.
    key: String,
    params: Value,
}

struct Current {
    id: RunId,
    key: String,
    params: Value,
    attempt: u32,
    stalls: u32,
    started: Instant,
    abort: Option<AbortHandle>,
    /// A long-run warning was raised for it (resolved when it ends).
    long_alerted: bool,
}

/// How one attempt ended.
enum Attempt {
    Succeeded(JobOutcome),
    Failed(JobError),
    TimedOut,
    Aborted,
    Panicked(String),
}

pub struct JobActor {
    guard: ExitGuard,
    spec: Arc<JobSpec>,
    policy: RunPolicy,
    deps: Deps,
    registry: ActorRegistry,
    directory: JobDirectory,
    mailbox: Arc<MailboxGauge>,
    queue: VecDeque<Queued>,
    current: Option<Current>,
    paused: bool,
    /// True until queued runs left by an earlier incarnation are loaded.
    loading: bool,
    /// `jobs.exclusive` names this kind: a manual request while a run is queued or running is
    /// refused with that run's id.
    exclusive: bool,
}

impl JobActor {
    pub fn new(
        link: ChildLink,
        spec: Arc<JobSpec>,
        deps: Deps,
        registry: ActorRegistry,
        directory: JobDirectory,
    ) -> Self {
        let kind = spec.kind.as_str();
        let policy = deps.settings.run_policy(kind);
        let mailbox = MailboxGauge::new(deps.settings.job_mailbox(kind));
        let exclusive = deps.settings.jobs.exclusive.iter().any(|k| k == kind);
        JobActor {
            guard: ExitGuard::new(link),
            spec,
            policy,
            deps,
            registry,
            directory,
            mailbox,
            queue: VecDeque::new(),
            current: None,
            paused: false,
            loading: true,
            exclusive,
        }
    }

    fn name(&self) -> &str {
        self.guard.name()
    }

    fn kind(&self) -> JobKind {
        self.spec.kind
    }

    fn update_depth(&self) {
        self.mailbox.set(self.queue.len());
    }

    /// The id of a queued or running run with the same parameters.
    fn coalesce(&self, key: &str) -> Option<RunId> {
        self.current
            .iter()
            .map(|c| (c.id, c.key.as_str()))
            .chain(self.queue.iter().map(|q| (q.id, q.key.as_str())))
            .find(|(_, k)| *k == key)
            .map(|(id, _)| id)
    }

    /// Queues a run: a manual one after the manual runs already waiting but before every other,
    /// so an operator is served before scheduled work; others at the back.
    fn push(&mut self, run: Queued) {
        let at = if run.trigger == Trigger::Manual {
            self.queue
                .iter()
                .position(|q| q.trigger != Trigger::Manual)
                .unwrap_or(self.queue.len())
        } else {
            self.queue.len()
        };
        self.queue.insert(at, run);
    }

    /// The run an exclusive kind is busy with: the running one, else the next queued.
    fn busy_with(&self) -> Option<RunId> {
        self.current
            .as_ref()
            .map(|c| c.id)
            .or_else(|| self.queue.front().map(|q| q.id))
    }

    fn start_next(&mut self, ctx: &mut Context<Self>) {
        if self.current.is_some() || self.paused || self.loading {
            return;
        }
        let Some(next) = self.queue.pop_front() else {
            return;
        };
        self.update_depth();
        self.current = Some(Current {
            id: next.id,
            key: next.key,
            params: next.params,
            attempt: 1,
            stalls: 0,
            started: Instant::now(),
            abort: None,
            long_alerted: false,
        });
        self.watch_long_run(next.id, ctx);
        self.registry.set_current_run(self.name(), Some(next.id));
        self.deps
            .metrics
            .job_runs_in_progress
            .with_label_values(&[self.kind().as_str()])
            .inc();
        self.run_attempt(ctx);
    }

    /// Raises a warning, with the run's progress, if run `id` is still current after
    /// `alerts.long_run_secs`.
    fn watch_long_run(&self, id: RunId, ctx: &mut Context<Self>) {
        let after = Duration::from_secs(self.deps.settings.alerts.long_run_secs);
        ctx.run_later(after, move |act, _| {
            let Some(cur) = act.current.as_mut().filter(|c| c.id == id) else {
                return;
            };
            cur.long_alerted = true;
            let running = cur.started.elapsed();
            let (db, alerts, kind) = (act.deps.db.clone(), act.deps.alerts.clone(), act.kind());
            tokio::spawn(async move {
                let progress = store::runs::get(&db, id)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| u8::try_from(r.progress).ok());
                alerts.emit(Alert::long_run(kind.as_str(), id, running, progress));
            });
        });
    }

    /// Starts an attempt of the current run in its own task.
    fn run_attempt(&mut self, ctx: &mut Context<Self>) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let (abort, registration) = AbortHandle::new_pair();
        cur.abort = Some(abort);
        let (id, attempt, stalls) = (cur.id, cur.attempt, cur.stalls);
        let job = JobContext {
            run: id,
            kind: self.spec.kind,
            attempt,
            deps: self.deps.clone(),
        };
        let work = (self.spec.run)(job, cur.params.clone());
        let timeout = self.policy.timeout;
        let db = self.deps.db.clone();
        let fut = async move {
            // Recorded before the work starts, so a fast run cannot finish before it "starts".
            if let Err(e) = store::runs::start_attempt(&db, id, attempt, stalls).await {
                return Attempt::Failed(e.into());
            }
            let task = tokio::spawn(Abortable::new(
                tokio::time::timeout(timeout, work),
                registration,
            ));
            match task.await {
                Ok(Ok(Ok(Ok(outcome)))) => Attempt::Succeeded(outcome),
                Ok(Ok(Ok(Err(e)))) => Attempt::Failed(e),
                Ok(Ok(Err(_elapsed))) => Attempt::TimedOut,
                Ok(Err(_aborted)) => Attempt::Aborted,
                Err(join) if join.is_panic() => Attempt::Panicked(panic_message(join.into_panic())),
                Err(_) => Attempt::Aborted,
            }
        };
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
            if act.current.as_ref().is_some_and(|c| c.id == id) {
                act.attempt_done(result, ctx);
            }
        }));
    }

    fn attempt_done(&mut self, result: Attempt, ctx: &mut Context<Self>) {
        let kind = self.kind().as_str();
        let metrics = self.deps.metrics.clone();
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        cur.abort = None;
        match result {
            Attempt::Succeeded(outcome) => {
                self.finish(RunStatus::Succeeded, None, Some(outcome.summary), ctx)
            }
            Attempt::Failed(err) => {
                let delay = match &err {
                    JobError::Transient(_) => Some(
                        self.policy
                            .backoff_base
                            .saturating_mul(1 << (cur.attempt - 1).min(16)),
                    ),
                    JobError::RetryAfter { after, .. } => Some(*after),
                    JobError::Permanent(_) => None,
                };
                let message = format!(
                    "attempt {} of {} failed: {err}",
                    cur.attempt, self.policy.max_attempts
                );
                match delay {
                    Some(delay) if cur.attempt < self.policy.max_attempts => {
                        metrics.job_retries.with_label_values(&[kind]).inc();
                        let delay = jitter(delay);
                        let line = format!("{message}; retrying in {} ms", delay.as_millis());
                        self.retry_after(delay, line, true, ctx);
                    }
                    _ => self.finish(RunStatus::Failed, Some(err.to_string()), Some(message), ctx),
                }
            }
            Attempt::TimedOut => {
                metrics.job_stalls.with_label_values(&[kind]).inc();
                cur.stalls += 1;
                let message = format!(
                    "attempt {} stalled: no result within {} s (stall {} of {})",
                    cur.attempt,
                    self.policy.timeout.as_secs(),
                    cur.stalls,
                    self.policy.max_stalls
                );
                if cur.stalls >= self.policy.max_stalls {
                    self.finish(RunStatus::Failed, Some(message.clone()), Some(message), ctx);
                } else {
                    // A stall is the work's fault, not the data's: try again at once, without
                    // using up an attempt (as BullMQ does with stalled jobs).
                    self.retry_after(Duration::ZERO, message, false, ctx);
                }
            }
            Attempt::Panicked(panic) => {
                let message = format!("panicked: {panic}");
                self.guard
                    .set(ExitReason::Failed(format!("run {} {message}", cur.id)));
                self.finish(RunStatus::Failed, Some(message.clone()), Some(message), ctx);
            }
            // Whoever aborted it (stop, cancel) records the run's fate.
            Attempt::Aborted => {}
        }
    }

    /// Logs a failed attempt and starts the next one after `delay`, keeping the run's place:
    /// later runs of this kind wait, so runs of a kind stay in arrival order.
    /// `next_attempt` is false for a stall, which does not use up an attempt.
    fn retry_after(
        &mut self,
        delay: Duration,
        line: String,
        next_attempt: bool,
        ctx: &mut Context<Self>,
    ) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let (id, stalls, db) = (cur.id, cur.stalls, self.deps.db.clone());
        tracing::warn!(run = %id, kind = %self.kind(), "{line}");
        ctx.spawn(
            async move {
                let _ = store::runs::note_retry(&db, id, stalls, &line).await;
                let _ = store::runs::append_log(&db, id, LogLevel::Warn, &line).await;
            }
            .into_actor(self),
        );
        ctx.run_later(delay, move |act, ctx| {
            if let Some(cur) = act.current.as_mut().filter(|c| c.id == id) {
                if next_attempt {
                    cur.attempt += 1;
                }
                act.run_attempt(ctx);
            }
        });
    }

    /// Records the current run's final status, then moves on to the next run — or, if the
    /// actor has been marked failed (a panic), stops so the supervisor restarts it.
    fn finish(
        &mut self,
        status: RunStatus,
        error: Option<String>,
        line: Option<String>,
        ctx: &mut Context<Self>,
    ) {
        let Some(cur) = self.close_current(status, error.as_deref()) else {
            return;
        };
        if status == RunStatus::Succeeded && self.deps.settings.alerts.job_success_summaries {
            let summary = line.as_deref().unwrap_or("");
            self.deps
                .alerts
                .emit(Alert::job_succeeded(self.kind().as_str(), cur.id, summary));
        }
        let write = record_end(
            self.deps.db.clone(),
            cur.id,
            status,
            cur.stalls,
            error,
            line,
        );
        ctx.wait(write.into_actor(self).map(|_, act, ctx| {
            if act.guard.is_failed() {
                ctx.stop();
            } else {
                act.start_next(ctx);
            }
        }));
    }

    /// Takes the current run out of the actor's hands (aborting its attempt if one is under
    /// way) and accounts for its end: metrics, registry and, for a failure, an alert.
    fn close_current(&mut self, status: RunStatus, error: Option<&str>) -> Option<Current> {
        let mut cur = self.current.take()?;
        if let Some(abort) = cur.abort.take() {
            abort.abort();
        }
        let kind = self.kind();
        self.registry.set_current_run(self.name(), None);
        let m = &self.deps.metrics;
        m.job_runs_in_progress
            .with_label_values(&[kind.as_str()])
            .dec();
        m.job_runs
            .with_label_values(&[kind.as_str(), status.as_str()])
            .inc();
        m.job_run_duration
            .with_label_values(&[kind.as_str()])
            .observe(cur.started.elapsed().as_secs_f64());
        let alerts = &self.deps.alerts;
        if cur.long_alerted {
            alerts.emit(Alert::long_run_over(kind.as_str(), cur.id));
        }
        match status {
            RunStatus::Failed => alerts.emit(Alert::job_failed(kind.as_str(), cur.id, error)),
            // A success clears the kind's failure alert (nothing happens if none is open).
            RunStatus::Succeeded => alerts.emit(Alert::job_recovered(kind.as_str(), cur.id)),
            _ => {}
        }
        Some(cur)
    }
}

/// Writes a run's final status and last log line.
async fn record_end(
    db: sqlx::PgPool,
    id: RunId,
    status: RunStatus,
    stalls: u32,
    error: Option<String>,
    line: Option<String>,
) {
    let level = match status {
        RunStatus::Succeeded => LogLevel::Info,
        RunStatus::Failed => LogLevel::Error,
        _ => LogLevel::Warn,
    };
    if let Some(line) = line.filter(|l| !l.is_empty()) {
        let _ = store::runs::append_log(&db, id, level, &line).await;
    }
    if let Err(e) = store::runs::finish(&db, id, status, stalls, error.as_deref()).await {
        tracing::error!(run = %id, error = %e, "could not record the end of a run");
    }
}

fn jitter(d: Duration) -> Duration {
    use rand::Rng;
    // ±20 %: spreads retries of runs that failed together without changing the schedule's shape.
    d.mul_f64(rand::rng().random_range(0.8..=1.2))
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

impl Actor for JobActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.mailbox.capacity);
        let name = self.name().to_string();
        self.paused = self.registry.is_paused(&name);
        self.registry.attach(
            &name,
            Some(self.mailbox.clone()),
            Some(ctx.address().recipient()),
        );
        self.directory
            .set(self.kind(), ctx.address(), self.mailbox.capacity);
        // Rebuild the queue from the store of record: runs queued before a restart are not lost.
        // Until this is done, new requests wait in the mailbox (ctx.wait).
        let (db, kind) = (self.deps.db.clone(), self.kind());
        ctx.wait(
            async move {
                store::runs::interrupt_orphans(&db, kind).await?;
                store::runs::queued(&db, kind).await
            }
            .into_actor(self)
            .map(|loaded, act, ctx| {
                match loaded {
                    Ok(runs) => {
                        for r in runs {
                            act.push(Queued {
                                id: r.id,
                                trigger: r.trigger,
                                key: r.params.to_string(),
                                params: r.params,
                            });
                        }
                    }
                    Err(e) => {
                        tracing::error!(kind = %act.kind(), error = %e, "cannot load queued runs");
                    }
                }
                act.loading = false;
                act.update_depth();
                act.start_next(ctx);
            }),
        );
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.mailbox.set(0);
    }
}

impl Handler<Enqueue> for JobActor {
    type Result = ();

    fn handle(&mut self, msg: Enqueue, ctx: &mut Context<Self>) {
        let key = msg.params.to_string();
        if self.exclusive
            && msg.trigger == Trigger::Manual
            && let Some(run_id) = self.busy_with()
        {
            let _ = msg.reply.send(Err(EnqueueError::Busy(run_id)));
            return;
        }
        // A re-run repeats one particular run, so it is not folded into another request; its
        // uniqueness is the store's (one re-run per run).
        let coalesced = match msg.origin.rerun_of {
            None => self.coalesce(&key),
            Some(_) => None,
        };
        if let Some(run_id) = coalesced {
            let _ = msg.reply.send(Ok(Enqueued {
                run_id,
                coalesced: true,
            }));
            return;
        }
        if self.queue.len() >= self.mailbox.capacity {
            let _ = msg.reply.send(Err(EnqueueError::QueueFull));
            return;
        }
        let (db, kind, attempts) = (self.deps.db.clone(), self.kind(), self.policy.max_attempts);
        let (params, trigger, origin) = (msg.params.clone(), msg.trigger, msg.origin);
        // ctx.wait: the next request is handled only once this one is recorded and queued, so
        // arrival order is kept and an identical request right behind it coalesces.
        ctx.wait(
            async move {
                match store::runs::insert_queued_from(&db, kind, &params, trigger, attempts, origin)
                    .await?
                {
                    Some(id) => Ok((id, true)),
                    // The tick or the re-run already exists (another instance, an earlier
                    // request): answer with that run, queue nothing.
                    None => store::runs::find_by_origin(&db, kind, origin)
                        .await?
                        .map(|r| (r.id, false))
                        .ok_or_else(|| {
                            store::StoreError::Corrupt("a conflicting run vanished".into())
                        }),
                }
            }
            .into_actor(self)
            .map(move |inserted, act, ctx| match inserted {
                Ok((id, true)) => {
                    act.push(Queued {
                        id,
                        trigger,
                        key,
                        params: msg.params,
                    });
                    act.update_depth();
                    let _ = msg.reply.send(Ok(Enqueued {
                        run_id: id,
                        coalesced: false,
                    }));
                    act.start_next(ctx);
                }
                Ok((id, false)) => {
                    let _ = msg.reply.send(Ok(Enqueued {
                        run_id: id,
                        coalesced: true,
                    }));
                }
                Err(e) => {
                    let _ = msg.reply.send(Err(EnqueueError::Store(e.to_string())));
                }
            }),
        );
    }
}

impl Handler<Control> for JobActor {
    type Result = Result<(), String>;

    fn handle(&mut self, msg: Control, ctx: &mut Context<Self>) -> Self::Result {
        let name = self.name().to_string();
        match msg {
            Control::Pause => {
                self.paused = true;
                self.registry.set_paused(&name, true);
            }
            Control::Resume => {
                self.paused = false;
                self.registry.set_paused(&name, false);
                self.start_next(ctx);
            }
        }
        Ok(())
    }
}

impl Handler<StopChild> for JobActor {
    type Result = ResponseActFuture<Self, ()>;

    /// Stops at once: the running attempt is aborted and its run recorded `interrupted`; queued
    /// runs stay `queued` in PostgreSQL for the next incarnation.
    fn handle(&mut self, _: StopChild, _: &mut Context<Self>) -> Self::Result {
        let line = "interrupted: the actor was stopped during the run";
        let write = self.close_current(RunStatus::Interrupted, None).map(|cur| {
            let (db, status) = (self.deps.db.clone(), RunStatus::Interrupted);
            record_end(
                db,
                cur.id,
                status,
                cur.stalls,
                Some(line.into()),
                Some(line.into()),
            )
        });
        Box::pin(
            async move {
                if let Some(write) = write {
                    write.await;
                }
            }
            .into_actor(self)
            .map(|_, act, ctx| {
                act.guard.set(ExitReason::Normal);
                ctx.stop();
            }),
        )
    }
}

impl Handler<GetStatus> for JobActor {
    type Result = actix::MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _: &mut Context<Self>) -> Self::Result {
        actix::MessageResult(JobStatus {
            paused: self.paused,
            queued: self.queue.iter().map(|q| q.id).collect(),
            current: self.current.as_ref().map(|c| CurrentStatus {
                run_id: c.id,
                attempt: c.attempt,
                stalls: c.stalls,
                running_ms: c.started.elapsed().as_millis() as u64,
            }),
        })
    }
}

impl Handler<Cancel> for JobActor {
    type Result = ResponseActFuture<Self, Result<(), String>>;

    /// A queued run leaves the queue; a running one has its attempt aborted. Either is recorded
    /// `cancelled` before the answer, and the next run starts.
    fn handle(&mut self, msg: Cancel, _: &mut Context<Self>) -> Self::Result {
        let reason = "cancelled by an operator";
        let stalls = if let Some(pos) = self.queue.iter().position(|q| q.id == msg.run) {
            self.queue.remove(pos);
            self.update_depth();
            self.deps
                .metrics
                .job_runs
                .with_label_values(&[self.kind().as_str(), RunStatus::Cancelled.as_str()])
                .inc();
            Some(0)
        } else if self.current.as_ref().is_some_and(|c| c.id == msg.run) {
            self.close_current(RunStatus::Cancelled, None)
                .map(|cur| cur.stalls)
        } else {
            None
        };
        let Some(stalls) = stalls else {
            let err = format!("run {} is not queued or running", msg.run);
            return Box::pin(actix::fut::ready(Err(err)));
        };
        let db = self.deps.db.clone();
        let write = record_end(
            db,
            msg.run,
            RunStatus::Cancelled,
            stalls,
            Some(reason.into()),
            Some(reason.into()),
        );
        Box::pin(write.into_actor(self).map(|_, act, ctx| {
            act.start_next(ctx);
            Ok(())
        }))
    }
}
