//! The circuit breaker in front of the FPL API: it owns the record of how recent requests ended
//! and the decision whether the next request may be sent at all.
//!
//! When the API is down, hammering it with retries helps nobody: the bot protection notices, our
//! jobs burn their attempts, and the logs fill up. So once the failure rate over the last
//! `window` requests reaches `failure_ratio` (with at least `min_calls` of them recorded) the
//! breaker *opens* and every request fails fast with [`FplError::CircuitOpen`] for `open_for`.
//! Then it is *half-open*: exactly one probe request goes through; its success closes the
//! breaker (with a fresh window), its failure opens it again for another `open_for`.
//!
//! What counts is decided by the caller through [`Outcome`]; the client's choice is documented
//! on [`Outcome`]. The breaker uses tokio's clock so tests drive it with paused time.
//!
//! A probe, once admitted, must be sent and its outcome recorded whatever becomes of the caller
//! that took it: callers that ran together (`try_join!` of two calls) would otherwise drop it
//! whenever the other was refused, and the breaker would stay half-open forever without a
//! single request. So the client runs a probe as a task of its own, and a caller that finds the
//! probe out waits for it to settle ([`Breaker::settled`]) rather than failing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::client::FplError;
use crate::config::FplSettings;

/// How one request to the API ended, as far as the breaker cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The API answered as an API should: 2xx, and also 404 (the API's "none") and other 4xx
    /// (our request was wrong, the API is fine) and bodies that do not decode (schema drift is
    /// not unavailability).
    Success,
    /// The API is unwell or wants us gone: 5xx, pages that are not JSON, 429, 403 with the bot
    /// protection's challenge, timeouts and network errors.
    Failure,
    /// Neither: the "game is being updated" page. FPL announces this state on purpose for
    /// minutes around deadlines and match-day ends; it is expected, the client already waits for
    /// it, and opening the breaker over it would only hide the real state from the jobs. It is
    /// not recorded in the window, and a half-open probe that meets it leaves the breaker
    /// half-open so the next request probes again.
    Neutral,
}

/// The breaker's state, as exported in the `fplsync_fpl_breaker_state` gauge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    HalfOpen,
    Open,
}

impl BreakerState {
    /// The gauge value: 0 closed, 1 half-open, 2 open.
    pub fn gauge_value(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        }
    }
}

/// The breaker's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// How many of the most recent requests are judged.
    pub window: usize,
    /// No verdict on fewer recorded requests than this (one early failure is not a trend).
    pub min_calls: usize,
    /// Opens when failures / recorded ≥ this.
    pub failure_ratio: f64,
    /// How long it stays open before letting a probe through.
    pub open_for: Duration,
}

impl BreakerConfig {
    pub fn from_settings(s: &FplSettings) -> Self {
        BreakerConfig {
            window: s.breaker_window,
            min_calls: s.breaker_min_calls,
            failure_ratio: s.breaker_failure_ratio,
            open_for: Duration::from_secs(s.breaker_open_secs),
        }
    }
}

#[derive(Debug)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// `probing`: the one probe is out and its outcome not yet recorded.
    HalfOpen {
        probing: bool,
    },
}

#[derive(Debug)]
struct Inner {
    state: State,
    /// `true` for a failure; newest at the back, at most `window` long.
    recent: VecDeque<bool>,
}

/// The circuit breaker. Cheap to clone; clones share the state.
#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    // A std mutex: the critical sections are a few comparisons and never await.
    inner: Arc<Mutex<Inner>>,
    /// Counts settled probes (recorded or dropped): callers waiting for the probe watch it.
    settled: Arc<tokio::sync::watch::Sender<u64>>,
}

/// Why [`Breaker::try_admit`] refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Open: no request may go out for this long.
    Open { retry_in: Duration },
    /// Half-open with the probe out: its outcome decides soon (bounded by the attempt timeout);
    /// wait for [`Breaker::settled`] and ask again.
    ProbeOut,
}

impl From<Refusal> for FplError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Open { retry_in } => FplError::CircuitOpen { retry_in },
            // Come back after about one probe.
            Refusal::ProbeOut => FplError::CircuitOpen {
                retry_in: Duration::from_secs(1),
            },
        }
    }
}

/// Leave to send one request, from [`Breaker::admit`]. Report how it ended with
/// [`Ticket::record`]; a ticket dropped unrecorded (the caller was cancelled) records nothing but
/// frees the half-open probe slot, so a cancelled probe cannot wedge the breaker half-open.
#[derive(Debug)]
#[must_use = "record the outcome of the request"]
pub struct Ticket {
    breaker: Breaker,
    probe: bool,
    recorded: bool,
}

impl Ticket {
    /// Records how the request ended; returns the breaker's state afterwards.
    pub fn record(mut self, outcome: Outcome) -> BreakerState {
        self.recorded = true;
        let state = self.breaker.record(outcome, self.probe);
        if self.probe {
            self.breaker.settle();
        }
        state
    }

    /// Whether this is the half-open probe (whose outcome closes or reopens the breaker).
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.recorded && self.probe {
            {
                let mut inner = self.breaker.lock();
                if let State::HalfOpen { probing } = &mut inner.state {
                    *probing = false;
                }
            }
            self.breaker.settle();
        }
    }
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            inner: Arc::new(Mutex::new(Inner {
                state: State::Closed,
                recent: VecDeque::with_capacity(config.window),
            })),
            settled: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// Tells whoever waits for the probe that it has settled.
    fn settle(&self) {
        self.settled.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A watch that changes each time a probe settles. Take it *before* [`Breaker::try_admit`]
    /// so a probe settling in between is not missed.
    pub fn settled(&self) -> tokio::sync::watch::Receiver<u64> {
        self.settled.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; recover from poisoning anyway.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current state (an open breaker whose period is over reads as half-open).
    pub fn state(&self) -> BreakerState {
        match self.lock().state {
            State::Closed => BreakerState::Closed,
            State::Open { until } if Instant::now() < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// While open: how long until a probe may be tried. Lets a caller fail fast before it
    /// queues for admission.
    pub fn open_remaining(&self) -> Option<Duration> {
        match self.lock().state {
            State::Open { until } => until
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero()),
            _ => None,
        }
    }

    /// Asks to send one request: a [`Ticket`], or [`FplError::CircuitOpen`] saying how long until
    /// a probe may be tried.
    pub fn admit(&self) -> Result<Ticket, FplError> {
        self.try_admit().map_err(FplError::from)
    }

    /// Asks to send one request: a [`Ticket`], or why not.
    pub fn try_admit(&self) -> Result<Ticket, Refusal> {
        let now = Instant::now();
        let mut inner = self.lock();
        let probe = match inner.state {
            State::Closed => false,
            State::Open { until } if now < until => {
                return Err(Refusal::Open {
                    retry_in: until - now,
                });
            }
            State::Open { .. } | State::HalfOpen { probing: false } => {
                inner.state = State::HalfOpen { probing: true };
                true
            }
            State::HalfOpen { probing: true } => return Err(Refusal::ProbeOut),
        };
        Ok(Ticket {
            breaker: self.clone(),
            probe,
            recorded: false,
        })
    }

    /// Opens the breaker for at least `for_` from now, whatever its state: the API told us
    /// itself to stay away that long (the bot protection's challenge). Then one probe, as after
    /// any opening.
    pub fn trip(&self, for_: Duration) {
        let until = Instant::now() + for_;
        let mut inner = self.lock();
        let until = match inner.state {
            State::Open { until: already } => already.max(until),
            _ => until,
        };
        inner.state = State::Open { until };
        inner.recent.clear();
    }

    fn record(&self, outcome: Outcome, probe: bool) -> BreakerState {
        let now = Instant::now();
        let mut inner = self.lock();
        if probe {
            match outcome {
                Outcome::Success => {
                    inner.state = State::Closed;
                    inner.recent.clear();
                    tracing::info!("FPL circuit breaker closed: the probe succeeded");
                }
                Outcome::Failure => {
                    inner.state = State::Open {
                        until: now + self.config.open_for,
                    };
                    tracing::warn!(
                        open_for = ?self.config.open_for,
                        "FPL circuit breaker reopened: the probe failed"
                    );
                }
                Outcome::Neutral => inner.state = State::HalfOpen { probing: false },
            }
        } else if matches!(inner.state, State::Closed) && outcome != Outcome::Neutral {
            // Outcomes of requests sent before the breaker opened are late news: only a closed
            // breaker keeps a window.
            if inner.recent.len() == self.config.window {
                inner.recent.pop_front();
            }
            inner.recent.push_back(outcome == Outcome::Failure);
            let calls = inner.recent.len();
            let failures = inner.recent.iter().filter(|f| **f).count();
            if calls >= self.config.min_calls
                && failures as f64 >= self.config.failure_ratio * calls as f64
            {
                inner.state = State::Open {
                    until: now + self.config.open_for,
                };
                inner.recent.clear();
                tracing::warn!(
                    failures,
                    calls,
                    open_for = ?self.config.open_for,
                    "FPL circuit breaker opened"
                );
            }
        }
        match inner.state {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            window: 20,
            min_calls: 10,
            failure_ratio: 0.5,
            open_for: Duration::from_secs(30),
        })
    }

    fn call(b: &Breaker, outcome: Outcome) -> BreakerState {
        b.admit().expect("admitted").record(outcome)
    }

    fn open_it(b: &Breaker) {
        for _ in 0..10 {
            call(b, Outcome::Failure);
        }
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_opens_when_the_failure_ratio_is_reached() {
        let b = breaker();
        // Below min_calls there is no verdict, however bad.
        for _ in 0..9 {
            assert_eq!(call(&b, Outcome::Failure), BreakerState::Closed);
        }
        let b = breaker();
        for _ in 0..10 {
            call(&b, Outcome::Success);
        }
        // 9 of 19 failed: under 50 %.
        for _ in 0..9 {
            assert_eq!(call(&b, Outcome::Failure), BreakerState::Closed);
        }
        // 10 of 20: open.
        assert_eq!(call(&b, Outcome::Failure), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn old_outcomes_leave_the_sliding_window() {
        let b = breaker();
        for _ in 0..11 {
            call(&b, Outcome::Success);
        }
        for _ in 0..9 {
            call(&b, Outcome::Failure);
        }
        // 21 recorded, 10 failed: under 50 % overall, but the oldest success has left the
        // window of 20, which now holds 10 failures.
        assert_eq!(call(&b, Outcome::Failure), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn updating_pages_and_not_found_do_not_open_the_breaker() {
        let b = breaker();
        for _ in 0..50 {
            call(&b, Outcome::Neutral);
            call(&b, Outcome::Success);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_fails_fast_until_its_period_is_over() {
        let b = breaker();
        open_it(&b);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(b.open_remaining(), Some(Duration::from_secs(20)));
        match b.admit() {
            Err(FplError::CircuitOpen { retry_in }) => {
                assert_eq!(retry_in, Duration::from_secs(20))
            }
            other => panic!("expected CircuitOpen, got {other:?}"),
        }
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.open_remaining(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_successful_half_open_probe_closes_the_breaker() {
        let b = breaker();
        open_it(&b);
        tokio::time::advance(Duration::from_secs(30)).await;
        let probe = b.admit().expect("the probe goes through");
        // Only one probe at a time.
        assert!(matches!(b.admit(), Err(FplError::CircuitOpen { .. })));
        assert_eq!(probe.record(Outcome::Success), BreakerState::Closed);
        // The window starts afresh: nine failures are not enough again.
        for _ in 0..9 {
            assert_eq!(call(&b, Outcome::Failure), BreakerState::Closed);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_half_open_probe_reopens_the_breaker() {
        let b = breaker();
        open_it(&b);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(call(&b, Outcome::Failure), BreakerState::Open);
        assert!(
            matches!(b.admit(), Err(FplError::CircuitOpen { retry_in }) if retry_in == Duration::from_secs(30))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn callers_waiting_for_the_probe_hear_when_it_settles() {
        let b = breaker();
        open_it(&b);
        tokio::time::advance(Duration::from_secs(30)).await;
        let mut settled = b.settled();
        let probe = b.try_admit().expect("the probe goes through");
        assert!(probe.is_probe());
        assert_eq!(b.try_admit().unwrap_err(), Refusal::ProbeOut);
        assert!(!settled.has_changed().unwrap());
        probe.record(Outcome::Success);
        settled.changed().await.expect("the probe settled");
        assert!(!b.try_admit().expect("closed").is_probe());
        // A dropped probe settles too.
        open_it(&b);
        tokio::time::advance(Duration::from_secs(30)).await;
        let mut settled = b.settled();
        drop(b.try_admit().expect("probe"));
        assert!(settled.has_changed().unwrap());
        settled.mark_unchanged();
        assert!(b.try_admit().expect("the next request probes").is_probe());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_or_neutral_probe_lets_the_next_request_probe() {
        let b = breaker();
        open_it(&b);
        tokio::time::advance(Duration::from_secs(30)).await;
        drop(b.admit().expect("probe"));
        assert_eq!(call(&b, Outcome::Neutral), BreakerState::HalfOpen);
        assert_eq!(call(&b, Outcome::Success), BreakerState::Closed);
    }
}
