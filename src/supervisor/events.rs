//! Supervision events and their recorder. Every event becomes a structured tracing event, a
//! metric, a row in `supervision_events` (written in order by one background writer, so a slow
//! database never stalls a supervisor), and a call to the recorder's [`Listener`] — through
//! which the composition root raises alerts when an operator must act.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::SupervisionMetrics;
use crate::metrics::Metrics;

/// What happened to an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Started,
    Stopped,
    Failed,
    Restarting,
    Escalated,
    /// Recorded by a parent when a child supervisor reports an escalation below it.
    ChildEscalated,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Started => "started",
            EventKind::Stopped => "stopped",
            EventKind::Failed => "failed",
            EventKind::Restarting => "restarting",
            EventKind::Escalated => "escalated",
            EventKind::ChildEscalated => "child_escalated",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SupervisionEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub parent: Option<String>,
    pub kind: EventKind,
    pub detail: Option<String>,
    pub backoff: Option<Duration>,
    /// Restarts of the actor within the intensity period when the event happened.
    pub restarts: u32,
}

impl SupervisionEvent {
    pub fn new(actor: &str, parent: &str, kind: EventKind) -> Self {
        SupervisionEvent {
            at: Utc::now(),
            actor: actor.to_string(),
            parent: Some(parent.to_string()),
            kind,
            detail: None,
            backoff: None,
            restarts: 0,
        }
    }
}

/// Pending rows the writer may hold before new events are dropped (and counted).
const WRITER_QUEUE: usize = 1024;

/// Told of every event as it is recorded; must not block (it runs in the supervisor's turn).
pub type Listener = Arc<dyn Fn(&SupervisionEvent) + Send + Sync>;

/// Records supervision events; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    rows: mpsc::Sender<SupervisionEvent>,
    /// Rows handed to the writer and not yet written (for [`Recorder::flush`]).
    unwritten: Arc<AtomicUsize>,
    metrics: Metrics,
    families: SupervisionMetrics,
    listener: Option<Listener>,
}

impl Recorder {
    /// Starts the background writer on the current runtime; `listener` hears every event.
    pub fn spawn(db: PgPool, metrics: Metrics, listener: Option<Listener>) -> Self {
        let (rows, mut pending) = mpsc::channel::<SupervisionEvent>(WRITER_QUEUE);
        let unwritten = Arc::new(AtomicUsize::new(0));
        let written = unwritten.clone();
        tokio::spawn(async move {
            while let Some(event) = pending.recv().await {
                if let Err(e) = super::log::insert(&db, &event).await {
                    tracing::warn!(error = %e, actor = %event.actor, "supervision event not stored");
                }
                written.fetch_sub(1, Ordering::AcqRel);
            }
        });
        Recorder {
            rows,
            unwritten,
            families: metrics.get(),
            metrics,
            listener,
        }
    }

    /// Waits (up to `timeout`) until every event recorded so far is written: at shutdown,
    /// before the pool closes, so the supervision log keeps the tree's last `stopped` events.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.unwritten.load(Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    pub fn record(&self, event: SupervisionEvent) {
        let detail = event.detail.as_deref().unwrap_or("");
        let backoff_ms = event.backoff.map(|d| d.as_millis() as u64);
        let parent = event.parent.as_deref().unwrap_or("");
        match event.kind {
            EventKind::Failed | EventKind::Escalated | EventKind::ChildEscalated => {
                tracing::error!(actor = %event.actor, parent, event = event.kind.as_str(), detail, restarts = event.restarts, "supervision")
            }
            EventKind::Restarting => {
                tracing::warn!(actor = %event.actor, parent, event = event.kind.as_str(), backoff_ms, restarts = event.restarts, "supervision")
            }
            EventKind::Started | EventKind::Stopped => {
                tracing::info!(actor = %event.actor, parent, event = event.kind.as_str(), "supervision")
            }
        }
        self.families
            .events
            .with_label_values(&[&event.actor, event.kind.as_str()])
            .inc();
        if let Some(listener) = &self.listener {
            listener(&event);
        }
        self.unwritten.fetch_add(1, Ordering::AcqRel);
        if let Err(e) = self.rows.try_send(event) {
            self.unwritten.fetch_sub(1, Ordering::AcqRel);
            let event = match e {
                mpsc::error::TrySendError::Full(ev) | mpsc::error::TrySendError::Closed(ev) => ev,
            };
            self.families
                .events_dropped
                .with_label_values(&[&event.actor])
                .inc();
        }
    }
}

impl Recorder {
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn families(&self) -> &SupervisionMetrics {
        &self.families
    }
}
