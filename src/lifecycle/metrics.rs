//! Metrics of the gameweek lifecycle.

use prometheus::{Gauge, IntGauge, IntGaugeVec};

use super::State;
use crate::metrics::{Family, Metrics};

#[derive(Clone)]
pub struct LifecycleMetrics {
    /// 1 for the lifecycle state the service is in.
    pub state: IntGaugeVec,
    pub snapshot_age: Gauge,
    pub next_poll: Gauge,
    pub tracked_managers: IntGauge,
    pub fpl_updating: IntGauge,
    /// FPL requests of the current gameweek so far, by priority.
    pub gameweek_requests: IntGaugeVec,
    /// The current gameweek's request target: 2E + 3 × ticks + 50.
    pub gameweek_target: IntGauge,
}

impl Family for LifecycleMetrics {
    fn register(m: &Metrics) -> Self {
        let metrics = LifecycleMetrics {
            state: m.gauge_vec(
                "fplsync_lifecycle_state",
                "1 for the gameweek lifecycle state the service is in (PRE_DEADLINE … FINALIZED).",
                &["state"],
            ),
            snapshot_age: m.float_gauge(
                "fplsync_live_snapshot_age_seconds",
                "Seconds since the last successful live snapshot (identical ones included).",
            ),
            next_poll: m.float_gauge(
                "fplsync_lifecycle_next_poll_timestamp_seconds",
                "Unix time of the lifecycle's next planned look at FPL.",
            ),
            tracked_managers: m.gauge(
                "fplsync_tracked_managers",
                "Managers whose live scores are computed (configured and tournament entries).",
            ),
            fpl_updating: m.gauge(
                "fplsync_fpl_updating",
                "1 while FPL answers \"the game is being updated\".",
            ),
            gameweek_requests: m.gauge_vec(
                "fplsync_fpl_gameweek_requests",
                "FPL requests (attempts) spent on the current gameweek so far, by priority \
                 class, as of the lifecycle's last tick.",
                &["priority"],
            ),
            gameweek_target: m.gauge(
                "fplsync_fpl_gameweek_request_target",
                "The current gameweek's FPL request target: 2 per tracked manager, 3 per \
                 lifecycle tick, and 50.",
            ),
        };
        // Every state from the start (0 until the lifecycle is in it), so the family is there
        // before the first tick.
        for s in State::ALL {
            metrics.state.with_label_values(&[s.as_str()]).set(0);
        }
        metrics
    }
}
