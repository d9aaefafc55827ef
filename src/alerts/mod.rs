//! Alerting: the typed [`Alert`] every component raises (one constructor per alert source), the
//! [`AlertSink`] they raise it through, and the alerting actor that groups, deduplicates,
//! repeats, resolves and silences alerts ([`rules`]), delivers them to Telegram or the log
//! ([`telegram`]) and keeps their history in PostgreSQL ([`history`]). The Telegram bot that
//! takes operators' commands is a control surface beside HTTP (`crate::bot`), not part of
//! alerting.
//!
//! Raising an alert never blocks or slows the caller: the sink uses `try_send`, and an alert that
//! finds the mailbox full (or the actor restarting) is dropped and counted.

mod actor;
pub mod history;
mod metrics;
pub mod rules;
pub mod telegram;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Addr, Message};
use serde::Serialize;

pub use actor::{AlertActor, AlertActorDeps};
pub use metrics::AlertMetrics;

use crate::metrics::Metrics;
use crate::run::RunId;
use crate::supervisor::{EventKind, MailboxGauge, SupervisionEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// Where an alert comes from: one variant per source the operators asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    JobFailed,
    ActorEscalated,
    RestartStorm,
    LongRun,
    FplBlocked,
    CacheDegraded,
    LiveStale,
    PointsMismatch,
    PriceChanges,
    /// A field of an FPL payload appeared or disappeared.
    SchemaDrift,
    JobSucceeded,
    /// Operations news: leadership changes, start-up recovery.
    Operations,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::JobFailed => "job_failed",
            Source::ActorEscalated => "actor_escalated",
            Source::RestartStorm => "restart_storm",
            Source::LongRun => "long_run",
            Source::FplBlocked => "fpl_blocked",
            Source::CacheDegraded => "cache_degraded",
            Source::LiveStale => "live_stale",
            Source::PointsMismatch => "points_mismatch",
            Source::PriceChanges => "price_changes",
            Source::SchemaDrift => "schema_drift",
            Source::JobSucceeded => "job_succeeded",
            Source::Operations => "operations",
        }
    }

    /// Whether the source is a condition that clears (and then gets one "resolved" message).
    /// Summaries are not: their group simply closes after the deduplication window.
    pub fn resolvable(self) -> bool {
        !matches!(
            self,
            Source::PriceChanges | Source::SchemaDrift | Source::JobSucceeded | Source::Operations
        )
    }
}

/// Whether an alert says a condition holds or that it cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

/// Something an operator should hear about. Build one with the constructors below.
#[derive(Debug, Clone, Message, Serialize)]
#[rtype(result = "()")]
pub struct Alert {
    pub severity: Severity,
    pub source: Source,
    /// Groups repeats of the same condition, e.g. `actor_escalated:job:prune`. Only kinds,
    /// actor names, gameweeks: never a run, player or entry id (a key is one group).
    pub key: String,
    pub summary: String,
    pub detail: Option<String>,
    pub state: AlertState,
}

fn firing(severity: Severity, source: Source, key: String, summary: String) -> Alert {
    Alert {
        severity,
        source,
        key,
        summary,
        detail: None,
        state: AlertState::Firing,
    }
}

/// A condition cleared. Its severity is `info` (it is good news); the "resolved" message is
/// shown with the severity of the group it closes.
fn resolved(source: Source, key: String, summary: String) -> Alert {
    Alert {
        state: AlertState::Resolved,
        ..firing(Severity::Info, source, key, summary)
    }
}

impl Alert {
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// A run failed after its last attempt (critical). Key: `job_failed:{kind}`.
    pub fn job_failed(kind: &str, run: RunId, error: Option<&str>) -> Alert {
        let a = firing(
            Severity::Critical,
            Source::JobFailed,
            format!("job_failed:{kind}"),
            format!("job {kind} failed after its last attempt (run {run})"),
        );
        match error {
            Some(e) => a.with_detail(e),
            None => a,
        }
    }

    /// A run of `kind` succeeded: resolves [`Alert::job_failed`] of the kind.
    pub fn job_recovered(kind: &str, run: RunId) -> Alert {
        resolved(
            Source::JobFailed,
            format!("job_failed:{kind}"),
            format!("job {kind} succeeded again (run {run})"),
        )
    }

    /// The optional success summary of a run (info; `alerts.job_success_summaries`).
    pub fn job_succeeded(kind: &str, run: RunId, summary: &str) -> Alert {
        firing(
            Severity::Info,
            Source::JobSucceeded,
            format!("job_succeeded:{kind}"),
            format!("job {kind} succeeded (run {run})"),
        )
        .with_detail(summary)
    }

    /// An actor was escalated: no longer restarted (critical). Key: `actor_escalated:{actor}`.
    pub fn actor_escalated(actor: &str, restarts: u32, detail: Option<String>) -> Alert {
        let a = firing(
            Severity::Critical,
            Source::ActorEscalated,
            format!("actor_escalated:{actor}"),
            format!("actor {actor} escalated after {restarts} restarts: no longer restarted"),
        );
        Alert { detail, ..a }
    }

    /// The escalated actor runs again (an operator restarted it).
    pub fn actor_recovered(actor: &str) -> Alert {
        resolved(
            Source::ActorEscalated,
            format!("actor_escalated:{actor}"),
            format!("actor {actor} is running again"),
        )
    }

    /// An actor restarted often, below escalation (warning). Key: `restart_storm:{actor}`.
    pub fn restart_storm(actor: &str, restarts: u32, period: Duration) -> Alert {
        firing(
            Severity::Warning,
            Source::RestartStorm,
            format!("restart_storm:{actor}"),
            format!(
                "actor {actor} restarted {restarts} times within {} s",
                period.as_secs()
            ),
        )
    }

    /// The actor has not restarted for a whole period.
    pub fn restart_storm_over(actor: &str) -> Alert {
        resolved(
            Source::RestartStorm,
            format!("restart_storm:{actor}"),
            format!("actor {actor} is stable again"),
        )
    }

    /// A run is taking longer than `alerts.long_run_secs` (warning). Key: `long_run:{kind}`.
    pub fn long_run(kind: &str, run: RunId, running: Duration, progress: Option<u8>) -> Alert {
        let progress = progress.map_or_else(|| "unknown".to_string(), |p| format!("{p} %"));
        firing(
            Severity::Warning,
            Source::LongRun,
            format!("long_run:{kind}"),
            format!(
                "job {kind} run {run} has been running for {} s (progress {progress})",
                running.as_secs()
            ),
        )
    }

    /// The long run ended (whatever its outcome).
    pub fn long_run_over(kind: &str, run: RunId) -> Alert {
        resolved(
            Source::LongRun,
            format!("long_run:{kind}"),
            format!("job {kind} run {run} ended"),
        )
    }

    /// FPL's circuit breaker has been open this long (warning). Key: `fpl_blocked:circuit_open`.
    pub fn fpl_circuit_open(open_for: Duration) -> Alert {
        firing(
            Severity::Warning,
            Source::FplBlocked,
            "fpl_blocked:circuit_open".into(),
            format!(
                "FPL API circuit open for {} s: requests are refused",
                open_for.as_secs()
            ),
        )
    }

    pub fn fpl_circuit_closed() -> Alert {
        resolved(
            Source::FplBlocked,
            "fpl_blocked:circuit_open".into(),
            "FPL API circuit closed: requests flow again".into(),
        )
    }

    /// FPL has served no data this long — the "game is being updated" page, or another page
    /// that is not JSON (an error page during an incident) — (warning). Key:
    /// `fpl_blocked:unavailable`.
    pub fn fpl_unavailable(
        unavailable_for: Duration,
        last: crate::fpl::client::Unavailability,
    ) -> Alert {
        firing(
            Severity::Warning,
            Source::FplBlocked,
            "fpl_blocked:unavailable".into(),
            format!(
                "FPL has served no data for {} s: its last answer was {last}",
                unavailable_for.as_secs()
            ),
        )
    }

    pub fn fpl_available() -> Alert {
        resolved(
            Source::FplBlocked,
            "fpl_blocked:unavailable".into(),
            "FPL serves data again: the update or outage is over".into(),
        )
    }

    /// FPL's bot protection (Cloudflare) challenged this address with a 403 (warning, at once):
    /// no request goes out for `backoff`, then one probe. Persisting, it means the address is
    /// blocked and the operator should change it. Key: `fpl_blocked:challenge`.
    pub fn fpl_challenged(backoff: Duration) -> Alert {
        firing(
            Severity::Warning,
            Source::FplBlocked,
            "fpl_blocked:challenge".into(),
            format!(
                "FPL's bot protection challenged us (403, cf-mitigated: challenge): no request \
                 for {}, then one probe",
                crate::fpl::client::human_duration(backoff)
            ),
        )
        .with_detail(
            "Usually transient. If it keeps coming back, this address is blocked: lower \
             fpl.rate_per_sec or run from another egress address.",
        )
    }

    pub fn fpl_challenge_over() -> Alert {
        resolved(
            Source::FplBlocked,
            "fpl_blocked:challenge".into(),
            "FPL answers again: the bot protection let us through".into(),
        )
    }

    /// Redis is away; the cache serves from its local tier and PostgreSQL (warning).
    pub fn cache_degraded(error: &str) -> Alert {
        firing(
            Severity::Warning,
            Source::CacheDegraded,
            "cache_degraded".into(),
            "Redis is unreachable: the cache serves from its local tier and PostgreSQL".into(),
        )
        .with_detail(error)
    }

    pub fn cache_recovered(outage: Duration) -> Alert {
        resolved(
            Source::CacheDegraded,
            "cache_degraded".into(),
            format!(
                "Redis is back after {} s: the cache reconnected, resubscribed and rewarmed it",
                outage.as_secs()
            ),
        )
    }

    /// No live snapshot for `since_last` while gameweek `event` is live (critical).
    /// Key: `live_stale:{event}`. Raised by the gameweek lifecycle.
    pub fn live_stale(event: u16, since_last: Duration) -> Alert {
        firing(
            Severity::Critical,
            Source::LiveStale,
            format!("live_stale:{event}"),
            format!(
                "live data of gameweek {event} is stale: last snapshot {} s ago",
                since_last.as_secs()
            ),
        )
    }

    /// Live snapshots of gameweek `event` arrive again (or the gameweek is no longer live).
    pub fn live_fresh(event: u16) -> Alert {
        resolved(
            Source::LiveStale,
            format!("live_stale:{event}"),
            format!("live data of gameweek {event} is fresh again"),
        )
    }

    /// Our computed points of `disagreeing` managers differ from FPL's official ones in
    /// gameweek `event` (warning). `examples` names a few (entry, ours, theirs) for the
    /// operator; it goes in the detail, not the key. Key: `points_mismatch:{event}`.
    pub fn points_mismatch(event: u16, disagreeing: usize, examples: &str) -> Alert {
        firing(
            Severity::Warning,
            Source::PointsMismatch,
            format!("points_mismatch:{event}"),
            format!(
                "computed points of {disagreeing} managers disagree with FPL's official ones \
                 in gameweek {event}"
            ),
        )
        .with_detail(examples)
    }

    /// A later comparison of gameweek `event` agrees.
    pub fn points_agree(event: u16) -> Alert {
        resolved(
            Source::PointsMismatch,
            format!("points_mismatch:{event}"),
            format!("computed points of gameweek {event} agree with FPL's"),
        )
    }

    /// Operations news (leadership taken or lost, start-up recovery): `key` names the event
    /// (e.g. `leadership_lost`), never an id. Like a summary it has no resolution: its group
    /// closes after the deduplication window.
    pub fn operations(
        severity: Severity,
        key: &str,
        summary: String,
        detail: Option<String>,
    ) -> Alert {
        Alert {
            detail,
            ..firing(severity, Source::Operations, key.to_string(), summary)
        }
    }

    /// What start-up recovery did (warning): the runs a crash left running, the re-runs queued
    /// for them, and the ones not re-run, each named. Key: `startup_recovery`.
    pub fn startup_recovery(r: &crate::store::runs::Recovery) -> Alert {
        let runs = |ids: &mut dyn Iterator<Item = String>| ids.collect::<Vec<_>>().join(", ");
        let mut detail = Vec::new();
        if !r.interrupted.is_empty() {
            let ids = runs(&mut r.interrupted.iter().map(|id| format!("run {id}")));
            detail.push(format!("interrupted: {ids}"));
        }
        if !r.reruns.is_empty() {
            let ids = runs(
                &mut r
                    .reruns
                    .iter()
                    .map(|(of, by)| format!("run {of} as run {by}")),
            );
            detail.push(format!("re-run: {ids}"));
        }
        if !r.not_rerun.is_empty() {
            let ids = runs(&mut r.not_rerun.iter().map(|id| format!("run {id}")));
            detail.push(format!(
                "not re-run (re-runs themselves; re-run them by hand if wanted): {ids}"
            ));
        }
        Alert::operations(
            Severity::Warning,
            "startup_recovery",
            format!(
                "start-up recovery: {} run(s) interrupted, {} re-run",
                r.interrupted.len(),
                r.reruns.len()
            ),
            Some(detail.join("\n")),
        )
    }

    /// A field of FPL's `endpoint` appeared (or disappeared) in `season` (warning), raised once
    /// per field and season; the data still syncs. Like a summary it has no resolution.
    /// Key: `schema_drift:{season}:{endpoint}:{field}`.
    pub fn schema_drift(season: &str, endpoint: &str, field: &str, appeared: bool) -> Alert {
        let (what, detail) = if appeared {
            (
                "gained",
                "a field fplsync has not seen before: it is kept in the stored objects and \
                 ignored by the sync",
            )
        } else {
            (
                "lost",
                "a field fplsync saw before: the sync goes on without it (a field fplsync \
                 needs would fail the run instead, naming it)",
            )
        };
        firing(
            Severity::Warning,
            Source::SchemaDrift,
            format!("schema_drift:{season}:{endpoint}:{field}"),
            format!("FPL's {endpoint} {what} the field `{field}` (season {season})"),
        )
        .with_detail(detail)
    }

    /// Tracked managers re-checked in a new season (warning): ids FPL no longer knows, and ids
    /// that now belong to someone else. Neither is merged with last season's manager; the
    /// operator decides (a returning manager has a new id). Key:
    /// `tracked_entries_rechecked:{season}`.
    pub fn tracked_entries_rechecked(season: &str, gone: &[u64], new_owner: &[u64]) -> Alert {
        // Bounded: a message names at most this many of each.
        const NAMED: usize = 50;
        let list = |ids: &[u64]| {
            let mut text = ids
                .iter()
                .take(NAMED)
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            if ids.len() > NAMED {
                text.push_str(&format!(" and {} more", ids.len() - NAMED));
            }
            text
        };
        let mut detail = Vec::new();
        if !gone.is_empty() {
            detail.push(format!("unknown to FPL now: {}", list(gone)));
        }
        if !new_owner.is_empty() {
            detail.push(format!("now someone else's team: {}", list(new_owner)));
        }
        detail.push(
            "A returning manager registers again each season under a new id: track that one \
             (live.tracked_entries, or the tournament's league)."
                .into(),
        );
        Alert::operations(
            Severity::Warning,
            &format!("tracked_entries_rechecked:{season}"),
            format!(
                "season {season}: {} tracked entries are not last season's managers ({} gone, {} \
                 someone else's)",
                gone.len() + new_owner.len(),
                gone.len(),
                new_owner.len()
            ),
            Some(detail.join("\n")),
        )
    }

    /// The day's price changes (info). Key: `price_changes:{season}`.
    pub fn price_changes(season: &str, summary: String, detail: String) -> Alert {
        firing(
            Severity::Info,
            Source::PriceChanges,
            format!("price_changes:{season}"),
            summary,
        )
        .with_detail(detail)
    }
}

/// A supervision event, for the alerting actor to judge (escalations are critical; restarts
/// feed the restart-storm rule; a start after an escalation resolves it).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct SupervisionNotice(pub SupervisionEvent);

/// Silences the open group of `key` until it resolves. Answers whether such a group was open.
#[derive(Debug, Clone, Message)]
#[rtype(result = "bool")]
pub struct Ack(pub String);

/// Silences every message for `duration` (zero lifts a mute).
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Mute(pub Duration);

/// Where components raise alerts. Cheap to clone; follows the alerting actor across restarts.
#[derive(Clone)]
pub struct AlertSink {
    state: Arc<Mutex<SinkState>>,
    metrics: AlertMetrics,
    /// The alerting actor's mailbox fill: counted here on send and by the actor on receipt.
    mailbox: Arc<MailboxGauge>,
}

/// The actor alerts go to, and what waits for it while there is none (before it first starts,
/// while it restarts). One lock for both, so an alert is either sent or held, never lost between.
#[derive(Default)]
struct SinkState {
    target: Option<Addr<AlertActor>>,
    held: VecDeque<Held>,
}

/// What was raised while no alerting actor was up.
pub(crate) enum Held {
    Alert(Alert),
    Notice(SupervisionEvent),
}

impl AlertSink {
    pub fn new(metrics: &Metrics, capacity: usize) -> Self {
        AlertSink {
            state: Arc::default(),
            metrics: metrics.get(),
            mailbox: MailboxGauge::new(capacity),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The actor now taking alerts (or none, as it stops); answers what was held meanwhile, for
    /// the actor to take first.
    fn connect(&self, addr: Option<Addr<AlertActor>>) -> Vec<Held> {
        let mut state = self.lock();
        state.target = addr;
        if state.target.is_some() {
            state.held.drain(..).collect()
        } else {
            Vec::new()
        }
    }

    fn target(&self) -> Option<Addr<AlertActor>> {
        self.lock().target.clone()
    }

    /// The actor to send to, or `None` when `held` was kept for the next one (`Err` when no
    /// actor is up and the hold is full: `held` is given back).
    fn route(&self, held: Held) -> Result<Option<(Addr<AlertActor>, Held)>, Held> {
        let mut state = self.lock();
        match state.target.clone() {
            Some(addr) => Ok(Some((addr, held))),
            None if state.held.len() < self.mailbox.capacity => {
                state.held.push_back(held);
                Ok(None)
            }
            None => Err(held),
        }
    }

    /// Hands a supervision event to the alerting actor without waiting; held while no actor
    /// is up, dropped if it is busy (the event itself is already in the supervision log).
    pub fn notify(&self, event: SupervisionEvent) {
        let severity = if event.kind == EventKind::Escalated {
            Severity::Critical
        } else {
            Severity::Info
        };
        let sent = match self.route(Held::Notice(event)) {
            Ok(None) => true,
            Ok(Some((addr, Held::Notice(event)))) => {
                let sent = addr.try_send(SupervisionNotice(event)).is_ok();
                if sent {
                    self.mailbox.push();
                }
                sent
            }
            Ok(Some(_)) | Err(_) => false,
        };
        if !sent {
            self.metrics
                .dropped
                .with_label_values(&[severity.as_str()])
                .inc();
        }
    }

    /// Hands `alert` to the alerting actor without waiting. Raised while no actor is up (at
    /// start-up, before the tree starts it; while it restarts) it is held, up to the mailbox's
    /// capacity, and delivered first when one starts.
    pub fn emit(&self, alert: Alert) {
        let severity = alert.severity.as_str();
        let delivered = match self.route(Held::Alert(alert)) {
            Ok(None) => Ok(()),
            Ok(Some((addr, Held::Alert(alert)))) => match addr.try_send(alert) {
                Ok(()) => {
                    self.mailbox.push();
                    Ok(())
                }
                Err(e) => Err(e.into_inner()),
            },
            Ok(Some((_, _))) => unreachable!("an alert is routed as itself"),
            Err(Held::Alert(alert)) => Err(alert),
            Err(Held::Notice(_)) => unreachable!("an alert is held as itself"),
        };
        match delivered {
            Ok(()) => self.metrics.emitted.with_label_values(&[severity]).inc(),
            Err(alert) => {
                self.metrics.dropped.with_label_values(&[severity]).inc();
                tracing::warn!(key = %alert.key, summary = %alert.summary, "alert dropped: alerting mailbox full, or the hold while it restarts");
            }
        }
    }

    /// Silences the open alert `key` until it resolves; `None` when the actor is unavailable.
    pub async fn ack(&self, key: &str) -> Option<bool> {
        let actor = self.target()?;
        actor
            .send(Ack(key.to_string()))
            .timeout(Duration::from_secs(2))
            .await
            .ok()
    }

    /// Silences every message for `duration`; false when the actor is unavailable.
    pub async fn mute(&self, duration: Duration) -> bool {
        match self.target() {
            Some(a) => a
                .send(Mute(duration))
                .timeout(Duration::from_secs(2))
                .await
                .is_ok(),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_raised_before_the_actor_starts_are_held_up_to_its_capacity_and_the_rest_counted() {
        let metrics = Metrics::new();
        let sink = AlertSink::new(&metrics, 4);
        let families = metrics.get::<AlertMetrics>();
        let started = std::time::Instant::now();
        for run in 0..1000 {
            sink.emit(Alert::job_failed("x", RunId(run), None));
        }
        assert!(started.elapsed() < Duration::from_secs(1), "never waits");
        let count =
            |family: &prometheus::IntCounterVec| family.with_label_values(&["critical"]).get();
        assert_eq!(
            (count(&families.emitted), count(&families.dropped)),
            (4, 996)
        );
        // The first four wait for the actor, oldest first.
        let held: Vec<String> = sink
            .lock()
            .held
            .iter()
            .map(|h| match h {
                Held::Alert(a) => a.summary.clone(),
                Held::Notice(_) => String::new(),
            })
            .collect();
        assert_eq!(held.len(), 4);
        assert!(held[0].contains("run 0"), "{held:?}");
    }

    #[test]
    fn keys_name_kinds_actors_and_gameweeks_never_runs() {
        let a = Alert::job_failed("bootstrap", RunId(123_456), Some("boom"));
        assert_eq!(a.key, "job_failed:bootstrap");
        assert_eq!(Alert::job_recovered("bootstrap", RunId(9)).key, a.key);
        assert_eq!(
            Alert::live_stale(38, Duration::from_secs(90)).key,
            "live_stale:38"
        );
        assert_eq!(Alert::live_fresh(38).state, AlertState::Resolved);
        let m = Alert::points_mismatch(38, 2, "entry 1: 50 vs 52");
        assert_eq!(
            (m.key.as_str(), m.severity),
            ("points_mismatch:38", Severity::Warning)
        );
        assert_eq!(m.detail.as_deref(), Some("entry 1: 50 vs 52"));
    }
}
