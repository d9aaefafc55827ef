//! The cache's families, and its counters resolved once per label set so that counting a local
//! hit is one atomic add, not a label lookup.

use prometheus::{IntCounter, IntCounterVec, IntGauge};

use super::handle::Tier;
use super::key::{CacheKey, DataClass};
use crate::metrics::{Family, Metrics};

#[derive(Clone)]
pub struct CacheMetrics {
    pub requests: IntCounterVec,
    pub writes: IntCounterVec,
    pub degraded: IntGauge,
}

impl Family for CacheMetrics {
    fn register(m: &Metrics) -> Self {
        CacheMetrics {
            requests: m.counter_vec(
                "fplsync_cache_requests_total",
                "Cache lookups by data class, tier (local, redis, postgres) and result (hit, miss, \
                 error).",
                &["class", "tier", "result"],
            ),
            writes: m.counter_vec(
                "fplsync_cache_writes_total",
                "Keys written to the cache by data class and result (ok: both tiers; local_only: \
                 Redis away, so the in-process tier now and Redis when it returns).",
                &["class", "result"],
            ),
            degraded: m.gauge(
                "fplsync_cache_degraded",
                "1 while Redis is away and the cache serves from its in-process tier and \
                 PostgreSQL.",
            ),
        }
    }
}

/// What a lookup in one tier found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Hit,
    Miss,
    Error,
}

impl Lookup {
    const ALL: [Lookup; 3] = [Lookup::Hit, Lookup::Miss, Lookup::Error];

    fn as_str(self) -> &'static str {
        match self {
            Lookup::Hit => "hit",
            Lookup::Miss => "miss",
            Lookup::Error => "error",
        }
    }
}

/// How a write of one key ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteResult {
    /// Both tiers.
    Ok,
    /// Redis away: the local tier only; the key is rewarmed when Redis returns.
    LocalOnly,
}

impl WriteResult {
    const ALL: [WriteResult; 2] = [WriteResult::Ok, WriteResult::LocalOnly];

    fn as_str(self) -> &'static str {
        match self {
            WriteResult::Ok => "ok",
            WriteResult::LocalOnly => "local_only",
        }
    }
}

pub struct Meter {
    /// Indexed by class, tier, lookup.
    requests: Vec<IntCounter>,
    /// Indexed by class, write result.
    writes: Vec<IntCounter>,
    degraded: IntGauge,
}

impl Meter {
    pub fn new(metrics: &Metrics) -> Self {
        let families = metrics.get::<CacheMetrics>();
        let mut requests = Vec::new();
        let mut writes = Vec::new();
        for class in DataClass::ALL {
            for tier in Tier::ALL {
                for lookup in Lookup::ALL {
                    requests.push(families.requests.with_label_values(&[
                        class.as_str(),
                        tier.as_str(),
                        lookup.as_str(),
                    ]));
                }
            }
            for result in WriteResult::ALL {
                writes.push(
                    families
                        .writes
                        .with_label_values(&[class.as_str(), result.as_str()]),
                );
            }
        }
        Meter {
            requests,
            writes,
            degraded: families.degraded,
        }
    }

    pub fn looked_up(&self, key: CacheKey, tier: Tier, lookup: Lookup) {
        let i = (key.class().index() * Tier::ALL.len() + tier as usize) * Lookup::ALL.len()
            + lookup as usize;
        self.requests[i].inc();
    }

    pub fn wrote(&self, keys: &[CacheKey], result: WriteResult) {
        for key in keys {
            self.writes[key.class().index() * WriteResult::ALL.len() + result as usize].inc();
        }
    }

    pub fn set_degraded(&self, degraded: bool) {
        self.degraded.set(i64::from(degraded));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::key::{LiveDataset, MetaDataset};

    #[test]
    fn each_lookup_is_counted_under_its_own_class_tier_and_result() {
        let metrics = Metrics::new();
        let meter = Meter::new(&metrics);
        let live = CacheKey::Live {
            event: 1,
            dataset: LiveDataset::Elements,
        };
        meter.looked_up(live, Tier::Redis, Lookup::Miss);
        meter.looked_up(
            CacheKey::Meta(MetaDataset::Teams),
            Tier::Postgres,
            Lookup::Error,
        );
        meter.wrote(&[live], WriteResult::LocalOnly);
        let families = metrics.get::<CacheMetrics>();
        let count = |labels: &[&str]| families.requests.with_label_values(labels).get();
        assert_eq!(count(&["live", "redis", "miss"]), 1);
        assert_eq!(count(&["historical", "postgres", "error"]), 1);
        assert_eq!(count(&["live", "redis", "hit"]), 0);
        let writes = |labels: &[&str]| families.writes.with_label_values(labels).get();
        assert_eq!(writes(&["live", "local_only"]), 1);
        assert_eq!(writes(&["live", "ok"]), 0);
    }
}
