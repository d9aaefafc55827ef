//! The alerting families: alerts raised, dropped, sent, suppressed and undelivered.

use prometheus::IntCounterVec;

use crate::metrics::{Family, Metrics};

#[derive(Clone)]
pub struct AlertMetrics {
    pub emitted: IntCounterVec,
    pub dropped: IntCounterVec,
    pub sent: IntCounterVec,
    pub suppressed: IntCounterVec,
    pub undelivered: IntCounterVec,
}

impl Family for AlertMetrics {
    fn register(m: &Metrics) -> Self {
        let a = AlertMetrics {
            emitted: m.counter_vec(
                "fplsync_alerts_emitted_total",
                "Alerts handed to the alerting actor, by severity.",
                &["severity"],
            ),
            dropped: m.counter_vec(
                "fplsync_alerts_dropped_total",
                "Alerts dropped because the alerting actor's mailbox was full, by severity.",
                &["severity"],
            ),
            sent: m.counter_vec(
                "fplsync_alerts_sent_total",
                "Alert messages delivered (to every Telegram chat, or to the log without a bot \
                 token), by severity; count updates of a sent message are not counted.",
                &["severity"],
            ),
            suppressed: m.counter_vec(
                "fplsync_alerts_suppressed_total",
                "Alerts or messages not sent, by severity and reason (deduplicated: counted on \
                 an existing message; silenced: acknowledged or muted; flapping: cleared within \
                 the group wait).",
                &["severity", "reason"],
            ),
            undelivered: m.counter_vec(
                "fplsync_alerts_undelivered_total",
                "Alert messages given up on after retries (or dropped by a full delivery \
                 queue), by severity.",
                &["severity"],
            ),
        };
        // The families exist from the start (at zero), so dashboards and alert rules see them
        // before the first alert. Their labels are small fixed enums.
        for severity in ["info", "warning", "critical"] {
            for family in [&a.emitted, &a.dropped, &a.sent, &a.undelivered] {
                family.with_label_values(&[severity]);
            }
            for reason in ["deduplicated", "silenced", "flapping"] {
                a.suppressed.with_label_values(&[severity, reason]);
            }
        }
        a
    }
}
