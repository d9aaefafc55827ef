//! The FPL client's families: requests (attempts) by endpoint, their time, admission waits,
//! retries and the circuit breaker's state.

use prometheus::{HistogramVec, IntCounterVec, IntGauge};

use crate::metrics::{Family, Metrics};

#[derive(Clone)]
pub struct FplMetrics {
    /// FPL API requests (attempts) by endpoint and status class (2xx … 5xx, error).
    pub requests: IntCounterVec,
    pub request_duration: HistogramVec,
    pub admission_wait: HistogramVec,
    /// 0 closed, 1 half-open, 2 open.
    pub breaker_state: IntGauge,
    pub retries: IntCounterVec,
    /// Answers rejected as another gameweek's, by endpoint.
    pub wrong_gameweek: IntCounterVec,
}

impl Family for FplMetrics {
    fn register(m: &Metrics) -> Self {
        FplMetrics {
            requests: m.counter_vec(
                "fplsync_fpl_requests_total",
                "Requests sent to the FPL API (each attempt), by endpoint, priority class and \
                 status class (2xx, 3xx, 4xx, 5xx, or error for timeouts and network errors).",
                &["endpoint", "priority", "class"],
            ),
            request_duration: m.histogram_vec(
                "fplsync_fpl_request_duration_seconds",
                "Time of each FPL API request attempt, from sending to the whole body read.",
                &["endpoint"],
                vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
            ),
            admission_wait: m.histogram_vec(
                "fplsync_fpl_admission_wait_seconds",
                "Time FPL API requests waited for admission (rate limit, in-flight cap), by \
                 priority class.",
                &["priority"],
                vec![
                    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                ],
            ),
            breaker_state: m.gauge(
                "fplsync_fpl_breaker_state",
                "State of the FPL API circuit breaker: 0 closed, 1 half-open, 2 open.",
            ),
            retries: m.counter_vec(
                "fplsync_fpl_retries_total",
                "FPL API attempts retried, by endpoint and reason (rate_limited, server_error, \
                 updating, unavailable, timeout, network, truncated).",
                &["endpoint", "reason"],
            ),
            wrong_gameweek: m.counter_vec(
                "fplsync_fpl_wrong_gameweek_total",
                "FPL answers rejected because they were another gameweek's than the one asked \
                 for (event-live, entry-picks), by endpoint.",
                &["endpoint"],
            ),
        }
    }
}
