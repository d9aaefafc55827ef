//! Whether the cache uses Redis: the degradation state machine, kept free of I/O so its rules
//! are tested on their own.
//!
//! - The first failed Redis command (a timeout, a refused connection, a lost subscription)
//!   degrades the cache: that transition, and only it, raises the `cache_degraded` warning.
//! - While degraded no command is sent to Redis except the health probe; reads are served from
//!   the local tier and PostgreSQL, writes go to the local tier and mark their keys for rewarm.
//! - Each state change starts a new *epoch*. A command reports its failure with the epoch in
//!   which it began, so commands already under way when Redis went away (or that began before it
//!   came back) cannot raise a second alert or degrade a recovered cache.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Up,
    Degraded { since: Instant },
}

#[derive(Debug, Clone)]
pub struct Health {
    link: Link,
    epoch: u64,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            link: Link::Up,
            epoch: 0,
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

    /// A Redis command that began in `epoch` failed. True exactly when this failure degrades
    /// the cache (the one that raises the alert).
    pub fn failed(&mut self, epoch: u64) -> bool {
        if self.link != Link::Up || epoch != self.epoch {
            return false;
        }
        self.link = Link::Degraded {
            since: Instant::now(),
        };
        self.epoch += 1;
        true
    }

    /// Redis is back (answered, resubscribed, rewarmed). Returns how long it was away, or None
    /// if the cache was not degraded.
    pub fn recovered(&mut self) -> Option<Duration> {
        let Link::Degraded { since } = self.link else {
            return None;
        };
        self.link = Link::Up;
        self.epoch += 1;
        Some(since.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_failure_of_an_outage_degrades_the_cache() {
        let mut h = Health::default();
        let began = h.epoch();
        assert!(h.failed(began));
        assert!(!h.is_up());
        // Other commands begun before the outage fail too: no second alert.
        assert!(!h.failed(began));
        assert!(!h.failed(h.epoch()));
    }

    #[tokio::test(start_paused = true)]
    async fn recovery_reports_how_long_redis_was_away() {
        let mut h = Health::default();
        assert_eq!(h.recovered(), None);
        assert!(h.failed(h.epoch()));
        tokio::time::advance(Duration::from_secs(42)).await;
        assert_eq!(h.recovered(), Some(Duration::from_secs(42)));
        assert!(h.is_up());
        assert_eq!(h.recovered(), None);
    }

    #[test]
    fn a_failure_of_a_command_begun_before_recovery_does_not_degrade_again() {
        let mut h = Health::default();
        assert!(h.failed(h.epoch()));
        let during_outage = h.epoch();
        h.recovered();
        assert!(!h.failed(during_outage));
        assert!(h.is_up());
        // A new outage is a new alert.
        assert!(h.failed(h.epoch()));
    }
}
