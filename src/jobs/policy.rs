//! What happens to a run after each attempt, as pure functions of the kind's [`RunPolicy`], the
//! run's state so far and how the attempt ended — and the watch that ends an attempt for
//! silence or for time. The actor only carries out the [`Step`] it is given.
//!
//! - **Stalled**: an attempt that shows no sign of life (its [`Heartbeat`]) for `stall_secs` is
//!   aborted and tried again at once, without using up an attempt (as BullMQ treats a job whose
//!   lock was not renewed); `max_stalls` stalls fail the run. Work checkpointed before the stall
//!   is kept by the work's own stores: the next attempt resumes from it.
//! - **Out of time**: a run that has been going for `max_run_secs` (all its attempts and waits)
//!   fails, whatever its heartbeat says.
//! - **Failed**: a `Transient` error is retried after `backoff_base · 2^(attempt−1)` (±20 %
//!   jitter), a `RetryAfter` after at least its `after` (jitter only upwards), each while
//!   attempts remain and the retry would start within `max_run_secs`; a `Permanent` error fails
//!   the run at once.

use std::time::Duration;

use tokio::time::Instant;

use super::error::JobError;
use crate::config::Settings;
use crate::fpl::client::human_duration;
use crate::heartbeat::Heartbeat;

/// The retry, stall and time policy of one job kind, after per-kind overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPolicy {
    pub max_attempts: u32,
    pub backoff_base: Duration,
    /// Silence after which an attempt is stalled.
    pub stall: Duration,
    pub max_stalls: u32,
    /// Wall-clock cap on the whole run.
    pub max_run: Duration,
}

impl RunPolicy {
    /// The `[jobs]` defaults with `[jobs.kinds.<kind>]` applied.
    pub fn for_kind(settings: &Settings, kind: &str) -> Self {
        let jobs = &settings.jobs;
        let o = jobs.kinds.get(kind).cloned().unwrap_or_default();
        RunPolicy {
            max_attempts: o.max_attempts.unwrap_or(jobs.max_attempts),
            backoff_base: Duration::from_millis(o.backoff_base_ms.unwrap_or(jobs.backoff_base_ms)),
            stall: Duration::from_secs(o.stall_secs.unwrap_or(jobs.stall_secs)),
            max_stalls: o.max_stalls.unwrap_or(jobs.max_stalls),
            max_run: Duration::from_secs(o.max_run_secs.unwrap_or(jobs.max_run_secs)),
        }
    }
}

/// Where a run stands between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunState {
    /// The attempt that just ended (1 for the first).
    pub attempt: u32,
    pub stalls: u32,
    /// Since the run's first attempt started.
    pub elapsed: Duration,
}

/// How an attempt ended.
#[derive(Debug)]
pub enum AttemptEnd<'a> {
    Succeeded,
    Failed(&'a JobError),
    /// No sign of life for the stall window.
    Stalled,
    /// The run reached `max_run_secs`.
    OutOfTime,
    Panicked(&'a str),
}

/// What the actor does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Succeed,
    /// Start attempt `attempt` after `after` (the run keeps its place), with `stalls` counted.
    Retry {
        after: Duration,
        attempt: u32,
        stalls: u32,
        line: String,
    },
    Fail {
        stalls: u32,
        line: String,
    },
}

/// The step after an attempt ended with `end`. `jitter` is uniform in `[0, 1]` (the caller's
/// randomness, so this stays a function).
pub fn next_step(policy: &RunPolicy, state: RunState, end: AttemptEnd<'_>, jitter: f64) -> Step {
    let RunState {
        attempt, stalls, ..
    } = state;
    let jitter = jitter.clamp(0.0, 1.0);
    match end {
        AttemptEnd::Succeeded => Step::Succeed,
        AttemptEnd::Panicked(message) => Step::Fail {
            stalls,
            line: format!("panicked: {message}"),
        },
        AttemptEnd::OutOfTime => Step::Fail {
            stalls,
            line: format!(
                "attempt {attempt} stopped: the run reached its time limit of {} (max_run_secs)",
                human_duration(policy.max_run)
            ),
        },
        AttemptEnd::Stalled => {
            let stalls = stalls + 1;
            let line = format!(
                "attempt {attempt} stalled: no sign of life for {} (stall {stalls} of {})",
                human_duration(policy.stall),
                policy.max_stalls
            );
            if stalls >= policy.max_stalls {
                Step::Fail { stalls, line }
            } else {
                Step::Retry {
                    after: Duration::ZERO,
                    attempt,
                    stalls,
                    line,
                }
            }
        }
        AttemptEnd::Failed(err) => {
            let line = format!("attempt {attempt} of {} failed: {err}", policy.max_attempts);
            let delay = match err {
                // ±20 %: spreads retries of runs that failed together without changing the
                // schedule's shape.
                JobError::Transient(_) => policy
                    .backoff_base
                    .saturating_mul(1 << (attempt.saturating_sub(1)).min(16))
                    .mul_f64(0.8 + 0.4 * jitter),
                // Never before what the source asked for: up to 20 % later only.
                JobError::RetryAfter { after, .. } => after.mul_f64(1.0 + 0.2 * jitter),
                JobError::Permanent(_) => return Step::Fail { stalls, line },
            };
            if attempt >= policy.max_attempts {
                return Step::Fail { stalls, line };
            }
            if state.elapsed + delay >= policy.max_run {
                return Step::Fail {
                    stalls,
                    line: format!(
                        "{line}; not retried: the retry in {} would pass the run's time limit \
                         of {} (max_run_secs)",
                        human_duration(delay),
                        human_duration(policy.max_run)
                    ),
                };
            }
            Step::Retry {
                after: delay,
                attempt: attempt + 1,
                stalls,
                line: format!("{line}; retrying in {}", human_duration(delay)),
            }
        }
    }
}

/// Why the watch ended an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    Stalled,
    OutOfTime,
}

/// Resolves when the attempt must end: silent for `stall`, or at `deadline` (the run's start
/// plus `max_run`). Raced against the work.
pub async fn watch(heart: &Heartbeat, stall: Duration, deadline: Instant) -> Watch {
    tokio::select! {
        _ = heart.silence(stall) => Watch::Stalled,
        _ = tokio::time::sleep_until(deadline) => Watch::OutOfTime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RunPolicy {
        RunPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_secs(1),
            stall: Duration::from_secs(30),
            max_stalls: 3,
            max_run: Duration::from_secs(3600),
        }
    }

    fn state(attempt: u32, stalls: u32) -> RunState {
        RunState {
            attempt,
            stalls,
            elapsed: Duration::from_secs(60),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_keeps_beating_for_ten_stall_windows_is_never_stalled() {
        let p = policy();
        let heart = Heartbeat::new();
        let deadline = Instant::now() + p.max_run;
        let beater = heart.clone();
        let work = async move {
            for _ in 0..100 {
                tokio::time::sleep(p.stall / 10).await;
                beater.beat();
            }
            Instant::now()
        };
        let started = Instant::now();
        tokio::select! {
            ended = work => assert_eq!(ended - started, p.stall * 10),
            w = watch(&heart, p.stall, deadline) => panic!("{w:?} while beating"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_goes_silent_is_stalled_one_window_after_its_last_beat() {
        let p = policy();
        let heart = Heartbeat::new();
        let started = Instant::now();
        let beater = heart.clone();
        let work = async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_secs(10)).await;
                beater.beat();
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = work => unreachable!(),
            w = watch(&heart, p.stall, started + p.max_run) => {
                assert_eq!(w, Watch::Stalled);
                assert_eq!(started.elapsed(), Duration::from_secs(50) + p.stall);
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_beats_forever_is_still_stopped_at_its_time_limit() {
        let p = policy();
        let heart = Heartbeat::new();
        let started = Instant::now();
        let beater = heart.clone();
        let work = async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                beater.beat();
            }
        };
        tokio::select! {
            _ = work => unreachable!(),
            w = watch(&heart, p.stall, started + p.max_run) => {
                assert_eq!(w, Watch::OutOfTime);
                assert_eq!(started.elapsed(), p.max_run);
            }
        }
    }

    #[test]
    fn retry_after_is_never_early_and_at_most_a_fifth_late() {
        let p = policy();
        let after = Duration::from_secs(7);
        let err = JobError::RetryAfter {
            after,
            source: anyhow::anyhow!("429"),
        };
        for i in 0..=100 {
            let jitter = f64::from(i) / 100.0;
            let Step::Retry { after: wait, .. } =
                next_step(&p, state(1, 0), AttemptEnd::Failed(&err), jitter)
            else {
                panic!("a rate-limited attempt is retried");
            };
            assert!(wait >= after && wait <= after.mul_f64(1.2), "{wait:?}");
        }
    }

    #[test]
    fn transient_failures_back_off_exponentially_until_the_attempts_run_out() {
        let p = policy();
        let err = JobError::transient("network");
        let wait = |attempt| match next_step(&p, state(attempt, 0), AttemptEnd::Failed(&err), 0.5) {
            Step::Retry { after, attempt, .. } => Some((after, attempt)),
            _ => None,
        };
        assert_eq!(wait(1), Some((Duration::from_secs(1), 2)));
        assert_eq!(wait(2), Some((Duration::from_secs(2), 3)));
        assert_eq!(wait(3), None, "the third attempt was the last");
        let Step::Fail { line, .. } = next_step(&p, state(3, 0), AttemptEnd::Failed(&err), 0.5)
        else {
            panic!()
        };
        assert_eq!(line, "attempt 3 of 3 failed: network");
    }

    #[test]
    fn a_permanent_failure_fails_at_once() {
        let err = JobError::permanent("bad parameters");
        assert!(matches!(
            next_step(&policy(), state(1, 0), AttemptEnd::Failed(&err), 0.0),
            Step::Fail { .. }
        ));
    }

    #[test]
    fn stalls_are_retried_at_once_without_using_an_attempt_until_the_last() {
        let p = policy();
        assert_eq!(
            next_step(&p, state(1, 1), AttemptEnd::Stalled, 0.0),
            Step::Retry {
                after: Duration::ZERO,
                attempt: 1,
                stalls: 2,
                line: "attempt 1 stalled: no sign of life for 30 s (stall 2 of 3)".into()
            }
        );
        assert_eq!(
            next_step(&p, state(1, 2), AttemptEnd::Stalled, 0.0),
            Step::Fail {
                stalls: 3,
                line: "attempt 1 stalled: no sign of life for 30 s (stall 3 of 3)".into()
            }
        );
    }

    #[test]
    fn a_retry_that_would_start_past_the_time_limit_is_not_made() {
        let p = policy();
        let err = JobError::RetryAfter {
            after: Duration::from_secs(120),
            source: anyhow::anyhow!("429"),
        };
        let late = RunState {
            attempt: 1,
            stalls: 0,
            elapsed: p.max_run - Duration::from_secs(60),
        };
        let Step::Fail { line, .. } = next_step(&p, late, AttemptEnd::Failed(&err), 0.0) else {
            panic!("retrying past max_run_secs");
        };
        assert!(line.contains("time limit of 1 h"), "{line}");
    }
}
