//! The job actor: one per kind, a thin shell around the kind's async function. It holds the
//! kind's [`RunQueue`], runs one run at a time, carries out the [`policy`](super::policy)'s step
//! after each attempt, and records every step in `job_runs`; the decisions themselves are the
//! queue's and the policy's.
//!
//! An attempt runs in its own tokio task, raced against the watch of its heartbeat and of the
//! run's time limit: a panic there is caught as a `JoinError` (the run fails with the panic
//! message, and the actor stops as failed for its supervisor to restart it with its queue
//! rebuilt from PostgreSQL), and because the work is a task and not a handler, the actor keeps
//! answering control messages while a run executes.

use std::sync::Arc;
use std::time::Duration;

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, ResponseActFuture,
    WrapFuture,
};
use futures_util::future::{AbortHandle, Abortable};
use tokio::time::Instant;

use super::messages::{
    Cancel, CurrentStatus, Enqueue, EnqueueError, Enqueued, GetStatus, JobHandle, JobStatus,
};
use super::policy::{self, AttemptEnd, RunPolicy, RunState, Step, Watch};
use super::queue::{Admission, Queued, Request, RunQueue};
use super::{Deps, JobContext, JobError, JobMetrics, JobOutcome, JobSpec};
use crate::alerts::Alert;
use crate::heartbeat::Heartbeat;
use crate::run::{JobKind, LogLevel, RunId, RunStatus};
use crate::store;
use crate::supervisor::{
    ActorRegistry, ChildLink, Control, ExitGuard, ExitReason, MailboxGauge, StopChild,
};

struct Current {
    run: Queued,
    attempt: u32,
    stalls: u32,
    started: Instant,
    heart: Heartbeat,
    abort: Option<AbortHandle>,
    /// A long-run warning was raised for it (resolved when it ends).
    long_alerted: bool,
}

/// How one attempt ended.
enum Ended {
    Done(Result<JobOutcome, JobError>),
    Watched(Watch),
    Aborted,
    Panicked(String),
}

pub struct JobActor {
    guard: ExitGuard,
    spec: Arc<JobSpec>,
    policy: RunPolicy,
    deps: Deps,
    registry: ActorRegistry,
    metrics: JobMetrics,
    mailbox: Arc<MailboxGauge>,
    queue: RunQueue,
    current: Option<Current>,
    /// Paused by an operator (stored, so it outlives the process) or draining for a shutdown.
    paused: bool,
    /// True until queued runs left by an earlier incarnation (and the stored pause) are loaded.
    loading: bool,
}

impl JobActor {
    pub fn new(link: ChildLink, spec: Arc<JobSpec>, deps: Deps, registry: ActorRegistry) -> Self {
        let kind = spec.kind.as_str();
        let settings = &deps.settings;
        let mailbox = MailboxGauge::new(settings.job_mailbox(kind));
        let exclusive = settings.jobs.exclusive.iter().any(|k| k == kind);
        JobActor {
            guard: ExitGuard::new(link),
            policy: RunPolicy::for_kind(settings, kind),
            queue: RunQueue::new(mailbox.capacity, exclusive),
            metrics: deps.metrics.get(),
            spec,
            deps,
            registry,
            mailbox,
            current: None,
            paused: false,
            loading: true,
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

    fn start_next(&mut self, ctx: &mut Context<Self>) {
        if self.current.is_some() || self.paused || self.loading {
            return;
        }
        let Some(next) = self.queue.pop() else {
            return;
        };
        self.update_depth();
        let id = next.id;
        self.current = Some(Current {
            run: next,
            attempt: 1,
            stalls: 0,
            started: Instant::now(),
            heart: Heartbeat::new(),
            abort: None,
            long_alerted: false,
        });
        self.watch_long_run(id, ctx);
        self.registry.set_current_run(self.name(), Some(id));
        self.metrics
            .in_progress
            .with_label_values(&[self.kind().as_str()])
            .inc();
        self.run_attempt(ctx);
    }

    /// Raises a warning, with the run's progress, if run `id` is still current after
    /// `alerts.long_run_secs`.
    fn watch_long_run(&self, id: RunId, ctx: &mut Context<Self>) {
        let after = Duration::from_secs(self.deps.settings.alerts.long_run_secs);
        ctx.run_later(after, move |act, _| {
            let Some(cur) = act.current.as_mut().filter(|c| c.run.id == id) else {
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

    /// Starts an attempt of the current run in its own task, watched for silence and time.
    fn run_attempt(&mut self, ctx: &mut Context<Self>) {
        let kind = self.kind();
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let (abort, registration) = AbortHandle::new_pair();
        cur.abort = Some(abort);
        // A fresh heartbeat per attempt: the watch of an attempt starts from its own start.
        cur.heart = Heartbeat::new();
        let (id, attempt, stalls) = (cur.run.id, cur.attempt, cur.stalls);
        let heart = cur.heart.clone();
        let job = JobContext::new(id, kind, attempt, heart.clone(), &self.deps);
        let work = (self.spec.run)(job, cur.run.params.clone());
        let (stall, deadline) = (self.policy.stall, cur.started + self.policy.max_run);
        let db = self.deps.db.clone();
        let fut = async move {
            // Recorded before the work starts, so a fast run cannot finish before it "starts".
            if let Err(e) = store::runs::start_attempt(&db, id, attempt, stalls).await {
                return Ended::Done(Err(e.into()));
            }
            let watched = async move {
                tokio::select! {
                    result = work => Ended::Done(result),
                    why = policy::watch(&heart, stall, deadline) => Ended::Watched(why),
                }
            };
            match tokio::spawn(Abortable::new(watched, registration)).await {
                Ok(Ok(ended)) => ended,
                Ok(Err(_aborted)) => Ended::Aborted,
                Err(join) if join.is_panic() => Ended::Panicked(panic_message(join.into_panic())),
                Err(_) => Ended::Aborted,
            }
        };
        ctx.spawn(fut.into_actor(self).map(move |ended, act, ctx| {
            if act.current.as_ref().is_some_and(|c| c.run.id == id) {
                act.attempt_done(ended, ctx);
            }
        }));
    }

    fn attempt_done(&mut self, ended: Ended, ctx: &mut Context<Self>) {
        let kind = self.kind().as_str();
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        cur.abort = None;
        let state = RunState {
            attempt: cur.attempt,
            stalls: cur.stalls,
            elapsed: cur.started.elapsed(),
        };
        let (end, error) = match &ended {
            Ended::Done(Ok(_)) => (AttemptEnd::Succeeded, None),
            Ended::Done(Err(e)) => (AttemptEnd::Failed(e), Some(e.to_string())),
            Ended::Watched(Watch::Stalled) => {
                self.metrics.stalls.with_label_values(&[kind]).inc();
                (AttemptEnd::Stalled, None)
            }
            Ended::Watched(Watch::OutOfTime) => (AttemptEnd::OutOfTime, None),
            Ended::Panicked(message) => (AttemptEnd::Panicked(message), None),
            // Whoever aborted it (stop, cancel) records the run's fate.
            Ended::Aborted => return,
        };
        let step = policy::next_step(&self.policy, state, end, rand::random());
        match step {
            Step::Succeed => {
                let summary = match ended {
                    Ended::Done(Ok(outcome)) => outcome.summary,
                    _ => String::new(),
                };
                self.finish(RunStatus::Succeeded, None, Some(summary), ctx);
            }
            Step::Retry {
                after,
                attempt,
                stalls,
                line,
            } => {
                if matches!(ended, Ended::Done(Err(_))) {
                    self.metrics.retries.with_label_values(&[kind]).inc();
                }
                self.retry_after(after, attempt, stalls, line, ctx);
            }
            Step::Fail { stalls, line } => {
                if let Ended::Panicked(_) = ended {
                    self.guard
                        .set(ExitReason::Failed(format!("run {} {line}", cur.run.id)));
                }
                cur.stalls = stalls;
                let error = error.unwrap_or_else(|| line.clone());
                self.finish(RunStatus::Failed, Some(error), Some(line), ctx);
            }
        }
    }

    /// Logs a failed or stalled attempt and starts attempt `attempt` after `delay`, keeping
    /// the run's place: later runs of this kind wait, so runs of a kind stay in arrival order.
    fn retry_after(
        &mut self,
        delay: Duration,
        attempt: u32,
        stalls: u32,
        line: String,
        ctx: &mut Context<Self>,
    ) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        cur.stalls = stalls;
        let (id, db) = (cur.run.id, self.deps.db.clone());
        tracing::warn!(run = %id, kind = %self.kind(), "{line}");
        ctx.spawn(
            async move {
                let _ = store::runs::note_retry(&db, id, stalls, &line).await;
                let _ = store::runs::append_log(&db, id, LogLevel::Warn, &line).await;
            }
            .into_actor(self),
        );
        ctx.run_later(delay, move |act, ctx| {
            if let Some(cur) = act.current.as_mut().filter(|c| c.run.id == id) {
                cur.attempt = attempt;
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
            self.deps.alerts.emit(Alert::job_succeeded(
                self.kind().as_str(),
                cur.run.id,
                summary,
            ));
        }
        let write = self.record_end(cur.run.id, status, cur.stalls, error, line);
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
        let kind = self.kind().as_str();
        self.registry.set_current_run(self.name(), None);
        let m = &self.metrics;
        m.in_progress.with_label_values(&[kind]).dec();
        m.runs.with_label_values(&[kind, status.as_str()]).inc();
        m.run_duration
            .with_label_values(&[kind])
            .observe(cur.started.elapsed().as_secs_f64());
        let alerts = &self.deps.alerts;
        if cur.long_alerted {
            alerts.emit(Alert::long_run_over(kind, cur.run.id));
        }
        match status {
            RunStatus::Failed => alerts.emit(Alert::job_failed(kind, cur.run.id, error)),
            // A success clears the kind's failure alert (nothing happens if none is open).
            RunStatus::Succeeded => alerts.emit(Alert::job_recovered(kind, cur.run.id)),
            _ => {}
        }
        Some(cur)
    }

    /// Writes a run's final status and last log line, then announces its outcome to whoever
    /// waits for it.
    fn record_end(
        &self,
        id: RunId,
        status: RunStatus,
        stalls: u32,
        error: Option<String>,
        line: Option<String>,
    ) -> impl Future<Output = ()> + use<> {
        let (db, directory) = (self.deps.db.clone(), self.deps.jobs.clone());
        async move {
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
            directory.ended(id, status);
        }
    }

    /// Records an operator's pause or resume, so it outlives this process.
    fn store_pause(&self, paused: bool, ctx: &mut Context<Self>) {
        let (db, kind) = (self.deps.db.clone(), self.kind());
        ctx.spawn(
            async move {
                if let Err(e) = store::runs::set_paused(&db, kind, paused).await {
                    tracing::error!(%kind, error = %e, "could not store the pause of a job kind");
                }
            }
            .into_actor(self),
        );
    }
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
        self.registry.attach(
            &name,
            Some(self.mailbox.clone()),
            Some(ctx.address().recipient()),
        );
        let addr = ctx.address();
        self.deps.jobs.set(
            self.kind(),
            JobHandle {
                enqueue: addr.clone().recipient(),
                cancel: addr.clone().recipient(),
                status: addr.recipient(),
                capacity: self.mailbox.capacity,
            },
        );
        // Rebuild the queue and the pause from the store of record: runs queued before a
        // restart are not lost, and a pause outlives the process. Until this is done, new
        // requests wait in the mailbox (ctx.wait).
        let (db, kind) = (self.deps.db.clone(), self.kind());
        ctx.wait(
            async move {
                store::runs::interrupt_orphans(&db, kind).await?;
                let paused = store::runs::is_paused(&db, kind).await?;
                Ok::<_, store::StoreError>((store::runs::queued(&db, kind).await?, paused))
            }
            .into_actor(self)
            .map(move |loaded, act, ctx| {
                match loaded {
                    Ok((runs, paused)) => {
                        for r in runs {
                            act.queue.push(Queued::new(r.id, r.trigger, r.params));
                        }
                        act.paused = paused || act.registry.is_paused(&name);
                    }
                    Err(e) => {
                        tracing::error!(kind = %act.kind(), error = %e, "cannot load queued runs");
                        act.paused = act.registry.is_paused(&name);
                    }
                }
                act.registry.set_paused(&name, act.paused);
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
        let running = self
            .current
            .as_ref()
            .map(|c| (c.run.id, c.run.key.as_str()));
        let request = Request {
            key: &key,
            trigger: msg.trigger,
            rerun: msg.origin.rerun_of.is_some(),
        };
        match self.queue.admit(request, running) {
            Admission::Accept => {}
            Admission::Coalesce(run_id) => {
                let _ = msg.reply.send(Ok(Enqueued {
                    run_id,
                    coalesced: true,
                }));
                return;
            }
            Admission::Busy(run_id) => {
                let _ = msg.reply.send(Err(EnqueueError::Busy(run_id)));
                return;
            }
            Admission::Full => {
                let _ = msg.reply.send(Err(EnqueueError::QueueFull));
                return;
            }
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
                    act.queue.push(Queued {
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
                self.store_pause(true, ctx);
            }
            // A shutdown's drain: the same, but not remembered past this process.
            Control::Drain => {
                self.paused = true;
                self.registry.set_paused(&name, true);
            }
            Control::Resume => {
                self.paused = false;
                self.registry.set_paused(&name, false);
                self.store_pause(false, ctx);
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
            self.record_end(
                cur.run.id,
                RunStatus::Interrupted,
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
            queued: self.queue.ids(),
            current: self.current.as_ref().map(|c| CurrentStatus {
                run_id: c.run.id,
                attempt: c.attempt,
                stalls: c.stalls,
                running_ms: c.started.elapsed().as_millis() as u64,
                silent_ms: c.heart.silent_for().as_millis() as u64,
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
        let stalls = if self.queue.remove(msg.run) {
            self.update_depth();
            self.metrics
                .runs
                .with_label_values(&[self.kind().as_str(), RunStatus::Cancelled.as_str()])
                .inc();
            Some(0)
        } else if self.current.as_ref().is_some_and(|c| c.run.id == msg.run) {
            self.close_current(RunStatus::Cancelled, None)
                .map(|cur| cur.stalls)
        } else {
            None
        };
        let Some(stalls) = stalls else {
            let err = format!("run {} is not queued or running", msg.run);
            return Box::pin(actix::fut::ready(Err(err)));
        };
        let write = self.record_end(
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
