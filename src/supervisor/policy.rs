//! Restart policy in the manner of Erlang/OTP: restart types, strategies, restart intensity, and
//! exponential backoff with jitter (Akka's `restartWithBackoff`). Pure logic, no actors.

use std::collections::VecDeque;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use tokio::time::Instant;

/// Why a child stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// It was asked to stop, or finished its work.
    Normal,
    /// It failed: a panic in its work or in a handler, or an error it could not recover from.
    Failed(String),
}

/// When a child is restarted (OTP's restart types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartType {
    /// Always restarted.
    Permanent,
    /// Restarted only after a failure.
    Transient,
    /// Never restarted.
    Temporary,
}

impl RestartType {
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            RestartType::Permanent => true,
            RestartType::Transient => matches!(reason, ExitReason::Failed(_)),
            RestartType::Temporary => false,
        }
    }
}

/// Which children a failure restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Only the failed child.
    OneForOne,
    /// The failed child and every child started after it (they depend on it).
    RestForOne,
}

/// Exponential backoff from `base` to `cap` with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The ceiling of the `n`th consecutive delay (n = 0 for the first): base·2ⁿ, at most cap.
    pub fn ceiling(&self, n: u32) -> Duration {
        self.base
            .checked_mul(1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// A delay drawn uniformly from [ceiling/2, ceiling]: jitter spreads restarts of actors that
    /// failed together, and the lower half keeps a restart from following a failure at once.
    pub fn delay(&self, n: u32) -> Duration {
        let ceiling = self.ceiling(n);
        let half = ceiling / 2;
        let jitter = rand::rng().random_range(0..=(ceiling - half).as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

/// OTP's restart intensity: more than `max_restarts` restarts within `period` escalates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intensity {
    pub max_restarts: u32,
    pub period: Duration,
}

/// The recent restarts of one child, for [`Intensity`].
#[derive(Debug, Default, Clone)]
pub struct RestartWindow {
    restarts: VecDeque<Instant>,
}

impl RestartWindow {
    /// Counts a restart at `now`; returns how many fall within the period, this one included.
    pub fn record(&mut self, now: Instant, intensity: Intensity) -> u32 {
        self.restarts.push_back(now);
        while let Some(&oldest) = self.restarts.front() {
            if now.duration_since(oldest) > intensity.period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.len() as u32
    }

    /// Forgets history, as after an operator's manual restart.
    pub fn clear(&mut self) {
        self.restarts.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
    };

    #[test]
    fn backoff_doubles_from_its_base_up_to_its_cap() {
        assert_eq!(BACKOFF.ceiling(0), Duration::from_millis(500));
        assert_eq!(BACKOFF.ceiling(1), Duration::from_secs(1));
        assert_eq!(BACKOFF.ceiling(5), Duration::from_secs(16));
        assert_eq!(BACKOFF.ceiling(6), Duration::from_secs(30));
        assert_eq!(BACKOFF.ceiling(200), Duration::from_secs(30));
    }

    #[test]
    fn backoff_delays_are_jittered_within_the_upper_half() {
        let delays: Vec<_> = (0..200).map(|_| BACKOFF.delay(2)).collect();
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_secs(1) && *d <= Duration::from_secs(2))
        );
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 10, "no jitter: {distinct:?}");
    }

    #[test]
    fn restart_types_follow_otp() {
        let failed = ExitReason::Failed("boom".into());
        assert!(RestartType::Permanent.restarts_after(&ExitReason::Normal));
        assert!(RestartType::Permanent.restarts_after(&failed));
        assert!(!RestartType::Transient.restarts_after(&ExitReason::Normal));
        assert!(RestartType::Transient.restarts_after(&failed));
        assert!(!RestartType::Temporary.restarts_after(&failed));
    }

    #[tokio::test(start_paused = true)]
    async fn the_restart_window_forgets_restarts_older_than_the_period() {
        let intensity = Intensity {
            max_restarts: 5,
            period: Duration::from_secs(60),
        };
        let mut window = RestartWindow::default();
        for expected in 1..=3 {
            assert_eq!(window.record(Instant::now(), intensity), expected);
            tokio::time::advance(Duration::from_secs(20)).await;
        }
        // Now 60 s after the first: it is exactly at the edge and still counts.
        assert_eq!(window.record(Instant::now(), intensity), 4);
        tokio::time::advance(Duration::from_secs(41)).await;
        // At 101 s the restarts at 0, 20 and 40 s are over 60 s old; 60 s and now remain.
        assert_eq!(window.record(Instant::now(), intensity), 2);
    }
}
