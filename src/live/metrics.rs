//! Metrics of live snapshots and of the points they compute.

use prometheus::{Histogram, IntCounter};

use crate::metrics::{Family, Metrics};

#[derive(Clone)]
pub struct LiveMetrics {
    pub tick_duration: Histogram,
    pub points_mismatches: IntCounter,
}

impl Family for LiveMetrics {
    fn register(m: &Metrics) -> Self {
        LiveMetrics {
            tick_duration: m.histogram(
                "fplsync_live_tick_duration_seconds",
                "Time of one live snapshot: fetch, bonus, store, every manager's score, cache \
                 publish.",
                vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
            ),
            points_mismatches: m.counter(
                "fplsync_points_mismatches_total",
                "Managers whose computed gameweek points differed from FPL's official ones.",
            ),
        }
    }
}
