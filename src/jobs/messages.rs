//! The messages of a job actor, and the handle by which the rest of the service reaches one
//! without knowing its type.

use actix::{Message, Recipient};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::run::{RunId, Trigger};
use crate::store::runs::RunOrigin;

/// A run was accepted: a new one, or one already queued or running with the same parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Enqueued {
    pub run_id: RunId,
    pub coalesced: bool,
}

/// Where a kind's actor is reached, and its queue's capacity; replaced when it restarts.
#[derive(Clone)]
pub struct JobHandle {
    pub enqueue: Recipient<Enqueue>,
    pub cancel: Recipient<Cancel>,
    pub status: Recipient<GetStatus>,
    pub capacity: usize,
}

impl JobHandle {
    /// Whether the incarnation behind it is still up.
    pub fn connected(&self) -> bool {
        self.enqueue.connected()
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
    /// How long the attempt has shown no sign of life (its stall window is the kind's
    /// `stall_secs`).
    pub silent_ms: u64,
}
