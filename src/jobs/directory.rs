//! Where each kind's actor is, and the one path by which anything asks for a run — the HTTP
//! trigger, the scheduler, the lifecycle, recovery, the bot and jobs that depend on other kinds.
//! It never queues outside the job actor's bounded mailbox. The directory also carries the
//! outcome of every run the actors end, to whoever waits for one (a job waiting for its
//! dependency), so nothing polls `job_runs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use actix::dev::SendError;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::oneshot;

use super::messages::{Enqueue, EnqueueError, Enqueued, JobHandle};
use super::{JobMetrics, Kind};
use crate::metrics::Metrics;
use crate::run::{JobKind, RunId, RunStatus, Trigger};
use crate::store::runs::RunOrigin;
use crate::store::{self, StoreError};

/// Where to find the actor of each kind; entries follow restarts. Cheap to clone.
#[derive(Clone)]
pub struct JobDirectory {
    actors: Arc<RwLock<HashMap<JobKind, JobHandle>>>,
    /// Waiters for the outcome of a run, by run.
    waiters: Arc<Mutex<HashMap<RunId, Vec<oneshot::Sender<RunStatus>>>>>,
    metrics: JobMetrics,
}

/// How a request is delivered when the mailbox is full.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    /// Refuse at once (`try_send`): for requests from outside, which get 429.
    Immediate,
    /// Wait up to this long for room (`send` with a timeout): for internal producers.
    WaitUpTo(Duration),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RequestError {
    #[error("the {kind} actor's mailbox is full ({capacity} runs queued)")]
    MailboxFull { kind: JobKind, capacity: usize },
    #[error("the {kind} actor is not available: {reason}")]
    Unavailable { kind: JobKind, reason: String },
    /// An exclusive kind refused a manual request: run `run_id` is queued or running.
    #[error("{kind} is exclusive and run {run_id} is already queued or running")]
    Busy { kind: JobKind, run_id: RunId },
}

/// A waiter that missed the announcement (a run ended by another instance or by start-up
/// recovery, not by an actor of this one) still learns the outcome from PostgreSQL this often.
const OUTCOME_RECHECK: Duration = Duration::from_secs(30);

impl JobDirectory {
    pub fn new(metrics: &Metrics) -> Self {
        JobDirectory {
            actors: Arc::default(),
            waiters: Arc::default(),
            metrics: metrics.get(),
        }
    }

    /// How to reach `kind`'s actor, if it is up.
    pub fn get(&self, kind: JobKind) -> Option<JobHandle> {
        let map = self.actors.read().unwrap_or_else(|e| e.into_inner());
        map.get(&kind).filter(|h| h.connected()).cloned()
    }

    /// Records where `kind`'s actor now is (each incarnation, when it starts).
    pub(super) fn set(&self, kind: JobKind, handle: JobHandle) {
        let mut map = self.actors.write().unwrap_or_else(|e| e.into_inner());
        map.insert(kind, handle);
    }

    /// Asks for a run of `kind` with typed `params`, from inside the service: waits up to
    /// `wait` for room in the mailbox and for the run to be recorded.
    pub async fn request<P: Serialize>(
        &self,
        kind: Kind<P>,
        params: &P,
        trigger: Trigger,
        wait: Duration,
    ) -> Result<Enqueued, RequestError> {
        // Our own parameter types always serialise; were one not to, no run is asked for.
        let params = serde_json::to_value(params).map_err(|e| RequestError::Unavailable {
            kind: kind.kind(),
            reason: format!("its parameters do not serialise: {e}"),
        })?;
        self.request_raw(
            kind.kind(),
            params,
            (trigger, RunOrigin::default()),
            Delivery::WaitUpTo(wait),
            wait,
        )
        .await
    }

    /// Asks the actor of `kind` to run it with `params` (already validated by the kind's spec),
    /// for a request with an origin: a cron tick (the scheduler) or a re-run (recovery). A
    /// second request of the same origin answers with the first run, coalesced.
    pub async fn request_raw(
        &self,
        kind: JobKind,
        params: Value,
        (trigger, origin): (Trigger, RunOrigin),
        delivery: Delivery,
        reply_timeout: Duration,
    ) -> Result<Enqueued, RequestError> {
        let result = self
            .deliver(kind, params, (trigger, origin), delivery, reply_timeout)
            .await;
        let label = match &result {
            Ok(e) if e.coalesced => "coalesced",
            Ok(_) => "accepted",
            Err(RequestError::MailboxFull { .. }) => "mailbox_full",
            Err(RequestError::Unavailable { .. }) => "unavailable",
            Err(RequestError::Busy { .. }) => "busy",
        };
        self.metrics
            .requests
            .with_label_values(&[kind.as_str(), trigger.as_str(), label])
            .inc();
        result
    }

    async fn deliver(
        &self,
        kind: JobKind,
        params: Value,
        (trigger, origin): (Trigger, RunOrigin),
        delivery: Delivery,
        reply_timeout: Duration,
    ) -> Result<Enqueued, RequestError> {
        let unavailable = |reason: &str| RequestError::Unavailable {
            kind,
            reason: reason.to_string(),
        };
        let handle = self
            .get(kind)
            .ok_or_else(|| unavailable("its actor is not running (failed or restarting)"))?;
        let capacity = handle.capacity;
        let (reply, answer) = oneshot::channel();
        let msg = Enqueue {
            params,
            trigger,
            origin,
            reply,
        };
        match delivery {
            Delivery::Immediate => match handle.enqueue.try_send(msg) {
                Ok(()) => {}
                Err(SendError::Full(_)) => {
                    return Err(RequestError::MailboxFull { kind, capacity });
                }
                Err(SendError::Closed(_)) => return Err(unavailable("its actor has stopped")),
            },
            Delivery::WaitUpTo(wait) => {
                if let Err(e) = handle.enqueue.send(msg).timeout(wait).await {
                    return Err(match e {
                        actix::MailboxError::Timeout => {
                            RequestError::MailboxFull { kind, capacity }
                        }
                        actix::MailboxError::Closed => unavailable("its actor has stopped"),
                    });
                }
            }
        }
        match tokio::time::timeout(reply_timeout, answer).await {
            Ok(Ok(Ok(enqueued))) => Ok(enqueued),
            Ok(Ok(Err(EnqueueError::QueueFull))) => {
                Err(RequestError::MailboxFull { kind, capacity })
            }
            Ok(Ok(Err(EnqueueError::Store(reason)))) => Err(unavailable(&reason)),
            Ok(Ok(Err(EnqueueError::Busy(run_id)))) => Err(RequestError::Busy { kind, run_id }),
            Ok(Err(_)) => Err(unavailable("its actor restarted before recording the run")),
            Err(_) => Err(unavailable("it did not record the run in time")),
        }
    }

    /// Waits until run `run` has ended and returns its final status. The actor that ends a run
    /// announces it here after recording it, so the wait is a message, not a poll; a run that
    /// has already ended answers at once from PostgreSQL.
    pub async fn outcome(&self, db: &PgPool, run: RunId) -> Result<RunStatus, StoreError> {
        loop {
            // Subscribed before looking, so an end recorded meanwhile is not missed.
            let (tx, rx) = oneshot::channel();
            self.waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(run)
                .or_default()
                .push(tx);
            let record = store::runs::get(db, run)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("run {run} does not exist")))?;
            if record.status.is_final() {
                return Ok(record.status);
            }
            if let Ok(Ok(status)) = tokio::time::timeout(OUTCOME_RECHECK, rx).await {
                return Ok(status);
            }
        }
    }

    /// Announces that `run` ended with `status` (recorded already).
    pub(super) fn ended(&self, run: RunId, status: RunStatus) {
        let waiters = self
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&run);
        for waiter in waiters.into_iter().flatten() {
            let _ = waiter.send(status);
        }
    }
}
