//! Metrics of the gameweek lifecycle and live scores (registered on the service's registry).

use prometheus::{Gauge, Histogram, HistogramOpts, IntCounter, IntGauge, IntGaugeVec, Registry};

use crate::metrics::gauge;

#[derive(Clone)]
pub struct LiveMetrics {
    /// 1 for the lifecycle state the service is in.
    pub state: IntGaugeVec,
    pub snapshot_age: Gauge,
    pub next_poll: Gauge,
    pub tick_duration: Histogram,
    pub tracked_managers: IntGauge,
    pub points_mismatches: IntCounter,
    pub fpl_updating: IntGauge,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(r: &Registry, c: T) -> T {
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

impl LiveMetrics {
    pub fn register(r: &Registry) -> Self {
        LiveMetrics {
            state: gauge(
                r,
                "fplsync_lifecycle_state",
                "1 for the gameweek lifecycle state the service is in (PRE_DEADLINE … FINALIZED).",
                &["state"],
            ),
            snapshot_age: register(
                r,
                Gauge::new(
                    "fplsync_live_snapshot_age_seconds",
                    "Seconds since the last successful live snapshot (identical ones included).",
                )
                .expect("valid metric"),
            ),
            next_poll: register(
                r,
                Gauge::new(
                    "fplsync_lifecycle_next_poll_timestamp_seconds",
                    "Unix time of the lifecycle's next planned look at FPL.",
                )
                .expect("valid metric"),
            ),
            tick_duration: register(
                r,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "fplsync_live_tick_duration_seconds",
                        "Time of one live snapshot: fetch, bonus, store, every manager's score, \
                         cache publish.",
                    )
                    .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
                )
                .expect("valid metric"),
            ),
            tracked_managers: register(
                r,
                IntGauge::new(
                    "fplsync_tracked_managers",
                    "Managers whose live scores are computed (configured and tournament entries).",
                )
                .expect("valid metric"),
            ),
            points_mismatches: register(
                r,
                IntCounter::new(
                    "fplsync_points_mismatches_total",
                    "Managers whose computed gameweek points differed from FPL's official ones.",
                )
                .expect("valid metric"),
            ),
            fpl_updating: register(
                r,
                IntGauge::new(
                    "fplsync_fpl_updating",
                    "1 while FPL answers \"the game is being updated\".",
                )
                .expect("valid metric"),
            ),
        }
    }
}
