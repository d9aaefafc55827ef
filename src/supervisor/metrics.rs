//! The supervision families: events, restarts, each actor's state and mailbox.

use prometheus::{IntCounterVec, IntGaugeVec};

use crate::metrics::{Family, Metrics};

#[derive(Clone)]
pub struct SupervisionMetrics {
    pub events: IntCounterVec,
    pub events_dropped: IntCounterVec,
    pub restarts: IntCounterVec,
    pub actor_state: IntGaugeVec,
    pub mailbox_depth: IntGaugeVec,
    pub mailbox_capacity: IntGaugeVec,
}

impl Family for SupervisionMetrics {
    fn register(m: &Metrics) -> Self {
        SupervisionMetrics {
            events: m.counter_vec(
                "fplsync_supervision_events_total",
                "Supervision events (started, stopped, failed, restarting, escalated) per actor.",
                &["actor", "event"],
            ),
            events_dropped: m.counter_vec(
                "fplsync_supervision_events_dropped_total",
                "Supervision events not written to PostgreSQL because the writer queue was full.",
                &["actor"],
            ),
            restarts: m.counter_vec(
                "fplsync_actor_restarts_total",
                "Restarts of each actor by its supervisor.",
                &["actor"],
            ),
            actor_state: m.gauge_vec(
                "fplsync_actor_state",
                "1 for the state each actor is in (running, restarting, failed, paused, stopped).",
                &["actor", "state"],
            ),
            mailbox_depth: m.gauge_vec(
                "fplsync_actor_mailbox_depth",
                "Messages or queued runs waiting in each actor's mailbox.",
                &["actor"],
            ),
            mailbox_capacity: m.gauge_vec(
                "fplsync_actor_mailbox_capacity",
                "Configured mailbox capacity of each actor.",
                &["actor"],
            ),
        }
    }
}
