//! Whether the cache uses Redis: the degradation state machine, kept free of I/O so its rules
//! are tested on their own.
//!
//! - The first failed Redis command (a timeout, a refused connection, a lost subscription)
//!   degrades the cache: that transition, and only it, raises the `cache_degraded` warning.
//! - While degraded no command is sent to Redis except the health probe; reads are served from
//!   the local tier and PostgreSQL, writes go to the local tier and mark their keys for rewarm.
//! - A failure within [`FLAP_WINDOW`] of a recovery continues the same outage: the cache
//!   degrades again (gauge and log) but raises no new warning, and its recovery no new info
//!   alert, so a Redis that is slow rather than down cannot flood the alert channel.
//! - Each state change starts a new *epoch*. A command reports its failure with the epoch in
//!   which it began, so commands already under way when Redis went away (or that began before it
//!   came back) cannot raise a second alert or degrade a recovered cache.

use std::time::Duration;

use tokio::time::Instant;

/// How long after a recovery a new failure still counts as the same outage.
pub const FLAP_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Up,
    Degraded {
        since: Instant,
        /// Whether this outage raised the warning (so its end is announced too).
        alerted: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Health {
    link: Link,
    epoch: u64,
    /// When the last outage ended.
    recovered_at: Option<Instant>,
}

/// The cache degraded; `alert` says whether to raise the warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Degraded {
    pub alert: bool,
}

/// The cache recovered after `outage`; `announce` says whether to raise the info alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    pub outage: Duration,
    pub announce: bool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            link: Link::Up,
            epoch: 0,
            recovered_at: None,
        }
    }
}

impl Health {
    /// The current epoch, to be handed back with a failure.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn is_up(&self) -> bool {
        self.link == Link::Up
    }

    /// A Redis command that began in `epoch` failed. Some exactly when this failure degrades
    /// the cache.
    pub fn failed(&mut self, epoch: u64) -> Option<Degraded> {
        if self.link != Link::Up || epoch != self.epoch {
            return None;
        }
        let now = Instant::now();
        let alert = self
            .recovered_at
            .is_none_or(|at| now.duration_since(at) >= FLAP_WINDOW);
        self.link = Link::Degraded {
            since: now,
            alerted: alert,
        };
        self.epoch += 1;
        Some(Degraded { alert })
    }

    /// Redis is back (answered, resubscribed, rewarmed). None if the cache was not degraded.
    pub fn recovered(&mut self) -> Option<Recovered> {
        let Link::Degraded { since, alerted } = self.link else {
            return None;
        };
        self.link = Link::Up;
        self.epoch += 1;
        self.recovered_at = Some(Instant::now());
        Some(Recovered {
            outage: since.elapsed(),
            announce: alerted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERT: Option<Degraded> = Some(Degraded { alert: true });

    #[test]
    fn only_the_first_failure_of_an_outage_degrades_the_cache() {
        let mut h = Health::default();
        let began = h.epoch();
        assert_eq!(h.failed(began), ALERT);
        assert!(!h.is_up());
        // Other commands begun before the outage fail too: no second alert.
        assert_eq!(h.failed(began), None);
        assert_eq!(h.failed(h.epoch()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn recovery_reports_how_long_redis_was_away() {
        let mut h = Health::default();
        assert_eq!(h.recovered(), None);
        assert_eq!(h.failed(h.epoch()), ALERT);
        tokio::time::advance(Duration::from_secs(42)).await;
        let back = h.recovered().unwrap();
        assert_eq!(back.outage, Duration::from_secs(42));
        assert!(back.announce);
        assert!(h.is_up());
        assert_eq!(h.recovered(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_of_a_command_begun_before_recovery_does_not_degrade_again() {
        let mut h = Health::default();
        assert_eq!(h.failed(h.epoch()), ALERT);
        let during_outage = h.epoch();
        h.recovered();
        assert_eq!(h.failed(during_outage), None);
        assert!(h.is_up());
    }

    #[tokio::test(start_paused = true)]
    async fn a_redis_that_flaps_raises_one_warning_until_it_has_been_steady_for_the_window() {
        let mut h = Health::default();
        assert_eq!(h.failed(h.epoch()), ALERT);
        for _ in 0..5 {
            tokio::time::advance(Duration::from_secs(2)).await;
            h.recovered();
            tokio::time::advance(Duration::from_secs(10)).await;
            // Degraded again (the gauge shows it), but silently: the same outage.
            assert_eq!(h.failed(h.epoch()), Some(Degraded { alert: false }));
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!h.recovered().unwrap().announce);
        tokio::time::advance(FLAP_WINDOW).await;
        assert_eq!(
            h.failed(h.epoch()),
            ALERT,
            "a new outage after a steady minute"
        );
    }
}
