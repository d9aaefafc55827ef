//! Prometheus metrics: one registry per application, families declared here and nowhere else.
//!
//! Labels take values from enums and configuration only (actor names, job kinds, outcomes),
//! never ids of runs, players or entries, so cardinality stays fixed.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric family of the service. Cheap to clone (the families are reference counted).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub supervision_events: IntCounterVec,
    pub supervision_events_dropped: IntCounterVec,
    pub actor_restarts: IntCounterVec,
    pub actor_state: IntGaugeVec,
    pub mailbox_depth: IntGaugeVec,
    pub mailbox_capacity: IntGaugeVec,
    pub job_requests: IntCounterVec,
    pub job_runs: IntCounterVec,
    pub job_run_duration: HistogramVec,
    pub job_runs_in_progress: IntGaugeVec,
    pub job_retries: IntCounterVec,
    pub job_stalls: IntCounterVec,
    pub alerts_emitted: IntCounterVec,
    pub alerts_dropped: IntCounterVec,
    /// FPL API requests (attempts) by endpoint and status class (2xx … 5xx, error).
    pub fpl_requests: IntCounterVec,
    pub fpl_request_duration: HistogramVec,
    pub fpl_admission_wait: HistogramVec,
    /// 0 closed, 1 half-open, 2 open.
    pub fpl_breaker_state: IntGauge,
    pub fpl_retries: IntCounterVec,
    pub cache_requests: IntCounterVec,
    pub cache_writes: IntCounterVec,
    pub cache_degraded: IntGauge,
    /// The gameweek lifecycle and live scores.
    pub live: crate::live::LiveMetrics,
    /// 1 while this instance leads (runs the scheduler and the job actors), 0 as a follower.
    pub leader: IntGauge,
}

pub(crate) fn counter(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(c.clone()))
        .expect("unique metric");
    c
}

pub(crate) fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(g.clone()))
        .expect("unique metric");
    g
}

pub(crate) fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .expect("valid metric");
    registry
        .register(Box::new(h.clone()))
        .expect("unique metric");
    h
}

impl Metrics {
    pub fn new() -> Self {
        let r = Registry::new();
        let job_run_duration = HistogramVec::new(
            HistogramOpts::new(
                "fplsync_job_run_duration_seconds",
                "Wall time of finished job runs, from first attempt to final status.",
            )
            .buckets(vec![
                0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0,
            ]),
            &["kind"],
        )
        .expect("valid metric");
        r.register(Box::new(job_run_duration.clone()))
            .expect("unique metric");
        let cache_degraded = IntGauge::with_opts(Opts::new(
            "fplsync_cache_degraded",
            "1 while Redis is away and the cache serves from its in-process tier and PostgreSQL.",
        ))
        .expect("valid metric");
        r.register(Box::new(cache_degraded.clone()))
            .expect("unique metric");
        let leader = IntGauge::with_opts(Opts::new(
            "fplsync_leader",
            "1 while this instance leads (runs the scheduler and the job actors), 0 as a follower.",
        ))
        .expect("valid metric");
        r.register(Box::new(leader.clone())).expect("unique metric");
        Metrics {
            supervision_events: counter(
                &r,
                "fplsync_supervision_events_total",
                "Supervision events (started, stopped, failed, restarting, escalated) per actor.",
                &["actor", "event"],
            ),
            supervision_events_dropped: counter(
                &r,
                "fplsync_supervision_events_dropped_total",
                "Supervision events not written to PostgreSQL because the writer queue was full.",
                &["actor"],
            ),
            actor_restarts: counter(
                &r,
                "fplsync_actor_restarts_total",
                "Restarts of each actor by its supervisor.",
                &["actor"],
            ),
            actor_state: gauge(
                &r,
                "fplsync_actor_state",
                "1 for the state each actor is in (running, restarting, failed, paused, stopped).",
                &["actor", "state"],
            ),
            mailbox_depth: gauge(
                &r,
                "fplsync_actor_mailbox_depth",
                "Messages or queued runs waiting in each actor's mailbox.",
                &["actor"],
            ),
            mailbox_capacity: gauge(
                &r,
                "fplsync_actor_mailbox_capacity",
                "Configured mailbox capacity of each actor.",
                &["actor"],
            ),
            job_requests: counter(
                &r,
                "fplsync_job_requests_total",
                "Requests to run a job by kind, trigger and result (accepted, coalesced, \
                 mailbox_full, unavailable).",
                &["kind", "trigger", "result"],
            ),
            job_runs: counter(
                &r,
                "fplsync_job_runs_total",
                "Finished job runs by kind and outcome.",
                &["kind", "outcome"],
            ),
            job_run_duration,
            job_runs_in_progress: gauge(
                &r,
                "fplsync_job_runs_in_progress",
                "Job runs executing now, by kind.",
                &["kind"],
            ),
            job_retries: counter(
                &r,
                "fplsync_job_retries_total",
                "Failed attempts that were retried, by kind.",
                &["kind"],
            ),
            job_stalls: counter(
                &r,
                "fplsync_job_stalls_total",
                "Attempts cancelled for exceeding their kind's timeout, by kind.",
                &["kind"],
            ),
            alerts_emitted: counter(
                &r,
                "fplsync_alerts_emitted_total",
                "Alerts handed to the alerting actor, by severity.",
                &["severity"],
            ),
            alerts_dropped: counter(
                &r,
                "fplsync_alerts_dropped_total",
                "Alerts dropped because the alerting actor's mailbox was full, by severity.",
                &["severity"],
            ),
            fpl_requests: counter(
                &r,
                "fplsync_fpl_requests_total",
                "Requests sent to the FPL API (each attempt), by endpoint and status class \
                 (2xx, 3xx, 4xx, 5xx, or error for timeouts and network errors).",
                &["endpoint", "class"],
            ),
            fpl_request_duration: histogram(
                &r,
                "fplsync_fpl_request_duration_seconds",
                "Time of each FPL API request attempt, from sending to the whole body read.",
                &["endpoint"],
                vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
            ),
            fpl_admission_wait: histogram(
                &r,
                "fplsync_fpl_admission_wait_seconds",
                "Time FPL API requests waited for admission (rate limit, in-flight cap), by \
                 priority class.",
                &["priority"],
                vec![
                    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                ],
            ),
            fpl_breaker_state: {
                let g = IntGauge::new(
                    "fplsync_fpl_breaker_state",
                    "State of the FPL API circuit breaker: 0 closed, 1 half-open, 2 open.",
                )
                .expect("valid metric");
                r.register(Box::new(g.clone())).expect("unique metric");
                g
            },
            fpl_retries: counter(
                &r,
                "fplsync_fpl_retries_total",
                "FPL API attempts retried, by endpoint and reason (rate_limited, server_error, \
                 updating, timeout, network).",
                &["endpoint", "reason"],
            ),
            cache_requests: counter(
                &r,
                "fplsync_cache_requests_total",
                "Cache lookups by data class, tier (local, redis, postgres) and result (hit, miss, \
                 error).",
                &["class", "tier", "result"],
            ),
            cache_writes: counter(
                &r,
                "fplsync_cache_writes_total",
                "Keys written to the cache by data class and result (ok: both tiers; local_only: \
                 Redis away, so the in-process tier now and Redis when it returns).",
                &["class", "result"],
            ),
            cache_degraded,
            live: crate::live::LiveMetrics::register(&r),
            leader,
            registry: r,
        }
    }

    /// The Prometheus text exposition of every family.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding cannot fail");
        String::from_utf8(buf).expect("exposition is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
