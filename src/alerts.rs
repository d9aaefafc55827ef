//! Alerting: the typed [`Alert`] message every component raises, the [`AlertSink`] they raise it
//! through, and the alerting actor that delivers alerts. Delivery is to the log for now (the
//! Telegram channel, grouping and history are added on top of this interface).
//!
//! Raising an alert never blocks or slows the caller: the sink uses `try_send`, and an alert that
//! finds the mailbox full (or the actor restarting) is dropped and counted.

use std::sync::{Arc, RwLock};

use actix::{Actor, Addr, Context, Handler, Message};
use serde::Serialize;

use crate::metrics::Metrics;
use crate::supervisor::{
    ActorRegistry, ChildLink, EventKind, ExitGuard, ExitReason, MailboxGauge, StopChild,
    SupervisionEvent,
};

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

/// A supervision event, for the alerting actor to judge (escalations are critical; failures
/// and restarts feed the restart-storm rule).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct SupervisionNotice(pub SupervisionEvent);

/// Where components raise alerts. Cheap to clone; follows the alerting actor across restarts.
#[derive(Clone)]
pub struct AlertSink {
    target: Arc<RwLock<Option<Addr<AlertActor>>>>,
    metrics: Metrics,
    /// The alerting actor's mailbox fill: counted here on send and by the actor on receipt.
    mailbox: Arc<MailboxGauge>,
}

impl AlertSink {
    pub fn new(metrics: Metrics, capacity: usize) -> Self {
        AlertSink {
            target: Arc::default(),
            metrics,
            mailbox: MailboxGauge::new(capacity),
        }
    }

    fn connect(&self, addr: Option<Addr<AlertActor>>) {
        *self.target.write().unwrap_or_else(|e| e.into_inner()) = addr;
    }

    fn target(&self) -> Option<Addr<AlertActor>> {
        self.target
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Hands a supervision event to the alerting actor without waiting; dropped if it is busy
    /// (the event itself is already in the supervision log).
    pub fn notify(&self, event: SupervisionEvent) {
        let kind = event.kind;
        let notice = SupervisionNotice(event);
        let sent = self.target().map(|a| a.try_send(notice));
        if matches!(sent, Some(Ok(()))) {
            self.mailbox.push();
        } else {
            let severity = if kind == EventKind::Escalated {
                Severity::Critical
            } else {
                Severity::Info
            };
            self.metrics
                .alerts_dropped
                .with_label_values(&[severity.as_str()])
                .inc();
        }
    }

    /// Hands `alert` to the alerting actor without waiting.
    pub fn emit(&self, alert: Alert) {
        let severity = alert.severity.as_str();
        let delivered = match self.target() {
            Some(a) => a.try_send(alert).map_err(|e| e.into_inner()),
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
    registry: ActorRegistry,
}

impl AlertActor {
    pub fn new(link: ChildLink, sink: AlertSink, registry: ActorRegistry) -> Self {
        AlertActor {
            guard: ExitGuard::new(link),
            sink,
            registry,
        }
    }
}

impl Actor for AlertActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.sink.mailbox.capacity);
        // Whatever a previous incarnation left in its mailbox went with it.
        self.sink.mailbox.set(0);
        self.registry
            .attach(self.guard.name(), Some(self.sink.mailbox.clone()), None);
        self.sink.connect(Some(actix::AsyncContext::address(ctx)));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.sink.connect(None);
    }
}

impl Handler<Alert> for AlertActor {
    type Result = ();

    fn handle(&mut self, a: Alert, _: &mut Context<Self>) {
        self.sink.mailbox.pop();
        deliver(&a);
    }
}

impl Handler<SupervisionNotice> for AlertActor {
    type Result = ();

    fn handle(&mut self, SupervisionNotice(e): SupervisionNotice, _: &mut Context<Self>) {
        self.sink.mailbox.pop();
        if e.kind == EventKind::Escalated {
            deliver(&Alert {
                severity: Severity::Critical,
                key: format!("actor_escalated:{}", e.actor),
                summary: format!(
                    "actor {} escalated after {} restarts: no longer restarted",
                    e.actor, e.restarts
                ),
                detail: e.detail,
            });
        }
    }
}

/// Delivers one alert to the log, at the level of its severity.
fn deliver(a: &Alert) {
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

impl Handler<StopChild> for AlertActor {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.guard.set(ExitReason::Normal);
        actix::ActorContext::stop(ctx);
    }
}
