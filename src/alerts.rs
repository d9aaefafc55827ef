//! Alerting: the typed [`Alert`] message every component raises, the [`AlertSink`] they raise it
//! through, and the alerting actor that delivers alerts. Delivery is to the log for now (the
//! Telegram channel, grouping and history are added on top of this interface).
//!
//! Raising an alert never blocks or slows the caller: the sink uses `try_send`, and an alert that
//! finds the mailbox full (or the actor restarting) is dropped and counted.

use std::sync::{Arc, RwLock};

use actix::{Actor, Context, Handler, Message, Recipient};
use serde::Serialize;

use crate::metrics::Metrics;
use crate::supervisor::{ChildLink, ExitGuard, ExitReason, StopChild};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Something an operator should hear about.
#[derive(Debug, Clone, Message, Serialize)]
#[rtype(result = "()")]
pub struct Alert {
    pub severity: Severity,
    /// Groups repeats of the same condition, e.g. `actor_escalated:job:prune`.
    pub key: String,
    pub summary: String,
    pub detail: Option<String>,
}

/// Where components raise alerts. Cheap to clone; follows the alerting actor across restarts.
#[derive(Clone)]
pub struct AlertSink {
    target: Arc<RwLock<Option<Recipient<Alert>>>>,
    metrics: Metrics,
}

impl AlertSink {
    pub fn new(metrics: Metrics) -> Self {
        AlertSink {
            target: Arc::default(),
            metrics,
        }
    }

    fn connect(&self, recipient: Option<Recipient<Alert>>) {
        *self.target.write().unwrap_or_else(|e| e.into_inner()) = recipient;
    }

    /// Hands `alert` to the alerting actor without waiting.
    pub fn emit(&self, alert: Alert) {
        let severity = alert.severity.as_str();
        let target = self
            .target
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let delivered = match target {
            Some(r) => r.try_send(alert).map_err(|e| e.into_inner()),
            None => Err(alert),
        };
        match delivered {
            Ok(()) => self
                .metrics
                .alerts_emitted
                .with_label_values(&[severity])
                .inc(),
            Err(alert) => {
                self.metrics
                    .alerts_dropped
                    .with_label_values(&[severity])
                    .inc();
                tracing::warn!(key = %alert.key, summary = %alert.summary, "alert dropped: alerting mailbox full or restarting");
            }
        }
    }
}

/// The alerting actor: delivers each alert to the log at a level matching its severity.
pub struct AlertActor {
    guard: ExitGuard,
    sink: AlertSink,
    capacity: usize,
}

impl AlertActor {
    pub fn new(link: ChildLink, sink: AlertSink, capacity: usize) -> Self {
        AlertActor {
            guard: ExitGuard::new(link),
            sink,
            capacity,
        }
    }
}

impl Actor for AlertActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.capacity);
        self.sink
            .connect(Some(actix::AsyncContext::address(ctx).recipient()));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.sink.connect(None);
    }
}

impl Handler<Alert> for AlertActor {
    type Result = ();

    fn handle(&mut self, a: Alert, _: &mut Context<Self>) {
        let detail = a.detail.as_deref().unwrap_or("");
        match a.severity {
            Severity::Critical => {
                tracing::error!(target: "fplsync::alert", key = %a.key, detail, "{}", a.summary)
            }
            Severity::Warning => {
                tracing::warn!(target: "fplsync::alert", key = %a.key, detail, "{}", a.summary)
            }
            Severity::Info => {
                tracing::info!(target: "fplsync::alert", key = %a.key, detail, "{}", a.summary)
            }
        }
    }
}

impl Handler<StopChild> for AlertActor {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.guard.set(ExitReason::Normal);
        actix::ActorContext::stop(ctx);
    }
}
