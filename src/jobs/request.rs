//! Asking for a run: the single path used by the HTTP trigger, the scheduler and jobs that
//! depend on others. It never queues outside the job actor's bounded mailbox.

use std::time::Duration;

use actix::dev::SendError;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;

use super::worker::{Enqueue, EnqueueError, JobDirectory};
use crate::run::{JobKind, RunId, Trigger};
use crate::metrics::Metrics;
use crate::store::runs::RunOrigin;

/// How the request is delivered when the mailbox is full.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    /// Refuse at once (`try_send`): for requests from outside, which get 429.
    Immediate,
    /// Wait up to this long for room (`send` with a timeout): for internal producers.
    WaitUpTo(Duration),
}

/// A run was accepted: a new one, or one already queued or running with the same parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Enqueued {
    pub run_id: RunId,
    pub coalesced: bool,
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

/// Asks the actor of `kind` to run it with `params` (already validated by the kind's spec).
pub async fn request_run(
    directory: &JobDirectory,
    metrics: &Metrics,
    kind: JobKind,
    params: Value,
    trigger: Trigger,
    delivery: Delivery,
    reply_timeout: Duration,
) -> Result<Enqueued, RequestError> {
    let origin = RunOrigin::default();
    request_run_from(
        directory,
        metrics,
        kind,
        params,
        (trigger, origin),
        delivery,
        reply_timeout,
    )
    .await
}

/// [`request_run`] for a request with an origin: a cron tick (the scheduler) or a re-run
/// (recovery). A second request of the same origin answers with the first run, coalesced.
pub async fn request_run_from(
    directory: &JobDirectory,
    metrics: &Metrics,
    kind: JobKind,
    params: Value,
    (trigger, origin): (Trigger, RunOrigin),
    delivery: Delivery,
    reply_timeout: Duration,
) -> Result<Enqueued, RequestError> {
    let result = deliver(
        directory,
        kind,
        params,
        (trigger, origin),
        delivery,
        reply_timeout,
    )
    .await;
    let label = match &result {
        Ok(e) if e.coalesced => "coalesced",
        Ok(_) => "accepted",
        Err(RequestError::MailboxFull { .. }) => "mailbox_full",
        Err(RequestError::Unavailable { .. }) => "unavailable",
        Err(RequestError::Busy { .. }) => "busy",
    };
    metrics
        .job_requests
        .with_label_values(&[kind.as_str(), trigger.as_str(), label])
        .inc();
    result
}

async fn deliver(
    directory: &JobDirectory,
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
    let (addr, capacity) = directory
        .get(kind)
        .ok_or_else(|| unavailable("its actor is not running (failed or restarting)"))?;
    let (reply, answer) = oneshot::channel();
    let msg = Enqueue {
        params,
        trigger,
        origin,
        reply,
    };
    match delivery {
        Delivery::Immediate => match addr.try_send(msg) {
            Ok(()) => {}
            Err(SendError::Full(_)) => return Err(RequestError::MailboxFull { kind, capacity }),
            Err(SendError::Closed(_)) => return Err(unavailable("its actor has stopped")),
        },
        Delivery::WaitUpTo(wait) => {
            if let Err(e) = addr.send(msg).timeout(wait).await {
                return Err(match e {
                    actix::MailboxError::Timeout => RequestError::MailboxFull { kind, capacity },
                    actix::MailboxError::Closed => unavailable("its actor has stopped"),
                });
            }
        }
    }
    match tokio::time::timeout(reply_timeout, answer).await {
        Ok(Ok(Ok(enqueued))) => Ok(enqueued),
        Ok(Ok(Err(EnqueueError::QueueFull))) => Err(RequestError::MailboxFull { kind, capacity }),
        Ok(Ok(Err(EnqueueError::Store(reason)))) => Err(unavailable(&reason)),
        Ok(Ok(Err(EnqueueError::Busy(run_id)))) => Err(RequestError::Busy { kind, run_id }),
        Ok(Err(_)) => Err(unavailable("its actor restarted before recording the run")),
        Err(_) => Err(unavailable("it did not record the run in time")),
    }
}
