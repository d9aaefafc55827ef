//! The alerting actor: feeds every [`Alert`] and supervision notice through the [`Rules`], and
//! hands what they decide to the delivery task (Telegram or the log) and the history writer.
//! It also watches the FPL client (circuit open, "game updating") on its tick, and turns
//! supervision events into escalation and restart-storm alerts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, AsyncContext, Context, Handler};
use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::rules::{Effect, HistoryOp, RuleConfig, Rules};
use super::telegram::{Deliverer, Outgoing};
use super::{Ack, Alert, AlertSink, Held, Mute, SupervisionNotice};
use crate::config::Settings;
use crate::fpl::{BreakerState, FplClient};
use crate::supervisor::{ActorRegistry, ChildLink, EventKind, ExitGuard, ExitReason, StopChild};

/// Notices waiting for the delivery task at most; more are counted undelivered.
const DELIVERY_QUEUE: usize = 256;

/// What the alerting actor needs; cloned into each incarnation.
#[derive(Clone)]
pub struct AlertActorDeps {
    pub sink: AlertSink,
    pub registry: ActorRegistry,
    pub settings: Arc<Settings>,
    pub db: sqlx::PgPool,
    /// Watched for a long-open circuit or a long update (none in some tests).
    pub fpl: Option<FplClient>,
}

pub struct AlertActor {
    guard: ExitGuard,
    deps: AlertActorDeps,
    rules: Rules,
    delivery: Option<mpsc::Sender<Outgoing>>,
    history: Option<mpsc::Sender<HistoryOp>>,
    /// Actors in a restart storm, with their last restart.
    storms: HashMap<String, Instant>,
    /// When the FPL circuit was first seen open in this episode, and whether it was raised.
    circuit_open: Option<(Instant, bool)>,
    unavailable_raised: bool,
    challenge_raised: bool,
}

impl AlertActor {
    pub fn new(link: ChildLink, deps: AlertActorDeps) -> Self {
        let a = &deps.settings.alerts;
        let rules = Rules::new(RuleConfig {
            group_wait: Duration::from_millis(a.group_wait_ms),
            dedup_window: Duration::from_secs(a.dedup_window_secs),
            repeat_interval: Duration::from_secs(a.repeat_interval_secs),
        });
        AlertActor {
            guard: ExitGuard::new(link),
            deps,
            rules,
            delivery: None,
            history: None,
            storms: HashMap::new(),
            circuit_open: None,
            unavailable_raised: false,
            challenge_raised: false,
        }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        let m = &self.deps.sink.metrics;
        for effect in effects {
            match effect {
                Effect::Send(notice) => {
                    let severity = notice.severity;
                    let queued = self
                        .delivery
                        .as_ref()
                        .is_some_and(|d| d.try_send(Outgoing { notice }).is_ok());
                    if !queued {
                        m.undelivered.with_label_values(&[severity.as_str()]).inc();
                        tracing::warn!("alert delivery queue full: message dropped");
                    }
                }
                Effect::Suppressed(severity, reason) => m
                    .suppressed
                    .with_label_values(&[severity.as_str(), reason.as_str()])
                    .inc(),
                Effect::History(op) => {
                    if let Some(h) = &self.history
                        && h.try_send(op).is_err()
                    {
                        tracing::warn!("alert history queue full: a history write was dropped");
                    }
                }
            }
        }
    }

    fn raise(&mut self, alert: Alert) {
        let fx = self.rules.handle(alert, Instant::now(), Utc::now());
        self.apply(fx);
    }

    fn tick(&mut self) {
        let now = Instant::now();
        self.watch_fpl(now);
        let period = Duration::from_secs(self.deps.settings.supervisor.period_secs);
        let calm: Vec<String> = self
            .storms
            .iter()
            .filter(|(_, last)| now >= **last + period)
            .map(|(actor, _)| actor.clone())
            .collect();
        for actor in calm {
            self.storms.remove(&actor);
            self.raise(Alert::restart_storm_over(&actor));
        }
        let fx = self.rules.tick(now, Utc::now());
        self.apply(fx);
    }

    /// FPL circuit open, or FPL serving no data, for longer than `alerts.fpl_blocked_secs`; the bot
    /// protection's challenge at once.
    fn watch_fpl(&mut self, now: Instant) {
        let Some(fpl) = self.deps.fpl.clone() else {
            return;
        };
        let threshold = Duration::from_secs(self.deps.settings.alerts.fpl_blocked_secs);
        match (fpl.breaker_state(), self.circuit_open) {
            (BreakerState::Closed, Some((_, raised))) => {
                self.circuit_open = None;
                if raised {
                    self.raise(Alert::fpl_circuit_closed());
                }
            }
            (BreakerState::Closed, None) => {}
            (_, None) => self.circuit_open = Some((now, false)),
            (_, Some((since, false))) if now >= since + threshold => {
                self.circuit_open = Some((since, true));
                self.raise(Alert::fpl_circuit_open(now - since));
            }
            (_, Some(_)) => {}
        }
        match fpl.unavailable_for() {
            Some((d, last)) if d >= threshold && !self.unavailable_raised => {
                self.unavailable_raised = true;
                self.raise(Alert::fpl_unavailable(d, last));
            }
            None if self.unavailable_raised => {
                self.unavailable_raised = false;
                self.raise(Alert::fpl_available());
            }
            _ => {}
        }
        // A challenge is news at once: it stops every request for minutes.
        match fpl.blocked_since() {
            Some(_) if !self.challenge_raised => {
                self.challenge_raised = true;
                self.raise(Alert::fpl_challenged(fpl.blocked_backoff()));
            }
            None if self.challenge_raised => {
                self.challenge_raised = false;
                self.raise(Alert::fpl_challenge_over());
            }
            _ => {}
        }
    }
}

impl Actor for AlertActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let sink = &self.deps.sink;
        ctx.set_mailbox_capacity(sink.mailbox.capacity);
        // Whatever a previous incarnation left in its mailbox went with it.
        sink.mailbox.set(0);
        self.deps
            .registry
            .attach(self.guard.name(), Some(sink.mailbox.clone()), None);
        let history = super::history::spawn_writer(
            self.deps.db.clone(),
            self.deps.settings.alerts.history_queue,
        );
        let deliverer = Deliverer::new(
            &self.deps.settings.telegram,
            sink.metrics.clone(),
            history.clone(),
        );
        self.delivery = Some(deliverer.spawn(DELIVERY_QUEUE));
        self.history = Some(history);
        let every = Duration::from_millis(self.deps.settings.alerts.tick_ms);
        ctx.run_interval(every, |act, _| act.tick());
        // What was raised while no alerting actor was up comes first (before this actor's
        // mailbox, which holds only what was raised since).
        for held in sink.connect(Some(ctx.address())) {
            match held {
                Held::Alert(alert) => self.raise(alert),
                Held::Notice(event) => self.notice(event),
            }
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.deps.sink.connect(None);
    }
}

impl Handler<Alert> for AlertActor {
    type Result = ();

    fn handle(&mut self, a: Alert, _: &mut Context<Self>) {
        self.deps.sink.mailbox.pop();
        self.raise(a);
    }
}

impl Handler<SupervisionNotice> for AlertActor {
    type Result = ();

    fn handle(&mut self, SupervisionNotice(e): SupervisionNotice, _: &mut Context<Self>) {
        self.deps.sink.mailbox.pop();
        self.notice(e);
    }
}

impl AlertActor {
    /// Escalations and restart storms from the supervision log.
    fn notice(&mut self, e: crate::supervisor::SupervisionEvent) {
        match e.kind {
            EventKind::Escalated => {
                self.storms.remove(&e.actor);
                self.raise(Alert::actor_escalated(&e.actor, e.restarts, e.detail));
            }
            EventKind::Restarting => {
                let threshold = self.deps.settings.alerts.restart_storm_restarts;
                let storming = self.storms.contains_key(&e.actor);
                if storming || e.restarts >= threshold {
                    self.storms.insert(e.actor.clone(), Instant::now());
                    let period = Duration::from_secs(self.deps.settings.supervisor.period_secs);
                    self.raise(Alert::restart_storm(&e.actor, e.restarts, period));
                }
            }
            // An escalated actor starts again only when an operator restarts it.
            EventKind::Started => self.raise(Alert::actor_recovered(&e.actor)),
            _ => {}
        }
    }
}

impl Handler<Ack> for AlertActor {
    type Result = bool;

    fn handle(&mut self, Ack(key): Ack, _: &mut Context<Self>) -> bool {
        match self.rules.ack(&key) {
            Some(group) => {
                self.apply(vec![Effect::History(HistoryOp::Acked { group })]);
                true
            }
            None => false,
        }
    }
}

impl Handler<Mute> for AlertActor {
    type Result = ();

    fn handle(&mut self, Mute(d): Mute, _: &mut Context<Self>) {
        self.rules.mute(Instant::now(), d);
    }
}

impl Handler<StopChild> for AlertActor {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.guard.set(ExitReason::Normal);
        actix::ActorContext::stop(ctx);
    }
}
