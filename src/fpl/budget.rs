//! What the client spends of FPL's patience: every request sent (each attempt), counted by
//! endpoint and priority since the last time someone took the count. The service records the
//! counts per gameweek (see `store::budget`), so an operator sees what a gameweek cost against
//! what it should (`GET /lifecycle`).

use std::sync::atomic::{AtomicU64, Ordering};

use super::admission::Priority;
use super::client::Endpoint;

/// Requests sent, by endpoint and priority, not yet taken.
#[derive(Debug, Default)]
pub struct Spend {
    counts: [[AtomicU64; Priority::ALL.len()]; Endpoint::ALL.len()],
}

impl Spend {
    pub fn count(&self, endpoint: Endpoint, priority: Priority) {
        self.counts[endpoint as usize][priority as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The requests counted since the last take, and resets them.
    pub fn take(&self) -> Vec<(Endpoint, Priority, u64)> {
        let mut taken = Vec::new();
        for endpoint in Endpoint::ALL {
            for priority in Priority::ALL {
                let n = self.counts[endpoint as usize][priority as usize].swap(0, Ordering::AcqRel);
                if n > 0 {
                    taken.push((endpoint, priority, n));
                }
            }
        }
        taken
    }

    /// Gives back counts that could not be recorded (they are taken again next time).
    pub fn restore(&self, taken: &[(Endpoint, Priority, u64)]) {
        for &(endpoint, priority, n) in taken {
            self.counts[endpoint as usize][priority as usize].fetch_add(n, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_once_and_restored_when_not_recorded() {
        let spend = Spend::default();
        spend.count(Endpoint::EntryPicks, Priority::Bulk);
        spend.count(Endpoint::EntryPicks, Priority::Bulk);
        spend.count(Endpoint::EventLive, Priority::Live);
        let taken = spend.take();
        assert_eq!(
            taken,
            [
                (Endpoint::EventLive, Priority::Live, 1),
                (Endpoint::EntryPicks, Priority::Bulk, 2)
            ]
        );
        assert!(spend.take().is_empty());
        spend.restore(&taken);
        assert_eq!(spend.take(), taken);
    }
}
