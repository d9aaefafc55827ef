//! Prometheus: the one registry of an application, and the helpers its subsystems declare their
//! families with. Each subsystem owns its families (a [`Family`]: `FplMetrics` in `fpl`,
//! `JobMetrics` in `jobs`, …) and registers them here the first time it asks for them, so this
//! module knows none of them and imports nothing of the crate.
//!
//! Labels take values from enums and configuration only (actor names, job kinds, outcomes),
//! never ids of runs, players or entries, so cardinality stays fixed.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus::core::Collector;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// A subsystem's metric families, registered together on first use.
pub trait Family: Clone + Send + Sync + 'static {
    fn register(metrics: &Metrics) -> Self;
}

/// The application's registry and the families registered on it. Cheap to clone (clones share
/// both).
#[derive(Clone, Default)]
pub struct Metrics {
    registry: Registry,
    families: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// The subsystem's families `F`, registered on the first call and shared by every later one.
    pub fn get<F: Family>(&self) -> F {
        if let Some(f) = self.lookup::<F>() {
            return f;
        }
        // Registered outside the lock: `F::register` may ask for other families.
        let fresh = F::register(self);
        let mut families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        families
            .entry(TypeId::of::<F>())
            .or_insert_with(|| Box::new(fresh))
            .downcast_ref::<F>()
            .expect("families are keyed by their type")
            .clone()
    }

    fn lookup<F: Family>(&self) -> Option<F> {
        let families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        families
            .get(&TypeId::of::<F>())
            .and_then(|f| f.downcast_ref::<F>())
            .cloned()
    }

    fn register<C: Collector + Clone + 'static>(&self, collector: C) -> C {
        self.registry
            .register(Box::new(collector.clone()))
            .expect("each family is registered once");
        collector
    }

    pub fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        self.register(IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"))
    }

    pub fn counter(&self, name: &str, help: &str) -> IntCounter {
        self.register(IntCounter::new(name, help).expect("valid metric"))
    }

    pub fn gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        self.register(IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric"))
    }

    pub fn gauge(&self, name: &str, help: &str) -> IntGauge {
        self.register(IntGauge::new(name, help).expect("valid metric"))
    }

    pub fn float_gauge(&self, name: &str, help: &str) -> Gauge {
        self.register(Gauge::new(name, help).expect("valid metric"))
    }

    pub fn histogram_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: Vec<f64>,
    ) -> HistogramVec {
        self.register(
            HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
                .expect("valid metric"),
        )
    }

    pub fn histogram(&self, name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
        self.register(
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric"),
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Probe(IntCounter);

    impl Family for Probe {
        fn register(m: &Metrics) -> Self {
            Probe(m.counter("test_probe_total", "A test family."))
        }
    }

    #[test]
    fn a_family_is_registered_once_and_shared_by_every_clone() {
        let m = Metrics::new();
        m.get::<Probe>().0.inc();
        m.clone().get::<Probe>().0.inc();
        assert!(m.render().contains("test_probe_total 2"), "{}", m.render());
    }
}
