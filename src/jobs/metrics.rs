//! The job runtime's families: requests, runs, their duration, retries and stalls.

use prometheus::{HistogramVec, IntCounterVec, IntGaugeVec};

use crate::metrics::{Family, Metrics};

#[derive(Clone)]
pub struct JobMetrics {
    pub requests: IntCounterVec,
    pub runs: IntCounterVec,
    pub run_duration: HistogramVec,
    pub in_progress: IntGaugeVec,
    pub retries: IntCounterVec,
    pub stalls: IntCounterVec,
}

impl Family for JobMetrics {
    fn register(m: &Metrics) -> Self {
        JobMetrics {
            requests: m.counter_vec(
                "fplsync_job_requests_total",
                "Requests to run a job by kind, trigger and result (accepted, coalesced, \
                 mailbox_full, unavailable, busy).",
                &["kind", "trigger", "result"],
            ),
            runs: m.counter_vec(
                "fplsync_job_runs_total",
                "Finished job runs by kind and outcome.",
                &["kind", "outcome"],
            ),
            run_duration: m.histogram_vec(
                "fplsync_job_run_duration_seconds",
                "Wall time of finished job runs, from first attempt to final status.",
                &["kind"],
                vec![
                    0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 1800.0,
                    7200.0,
                ],
            ),
            in_progress: m.gauge_vec(
                "fplsync_job_runs_in_progress",
                "Job runs executing now, by kind.",
                &["kind"],
            ),
            retries: m.counter_vec(
                "fplsync_job_retries_total",
                "Failed attempts that were retried, by kind.",
                &["kind"],
            ),
            stalls: m.counter_vec(
                "fplsync_job_stalls_total",
                "Attempts aborted because they showed no sign of life for the kind's stall \
                 window, by kind.",
                &["kind"],
            ),
        }
    }
}
