//! [`Cache`]: the cheap, clonable handle HTTP handlers and jobs use.
//!
//! **The local-hit fast path.** A read first looks in the local tier itself, from the caller's
//! task, without a message to the actor: moka is thread-safe and a scope's snapshot is immutable,
//! so the lookup is a hash probe and an `Arc` clone, and it cannot see half of a write (the
//! actor swaps whole snapshots). Only a miss becomes a [`Get`] to the actor, sent with
//! `send(..).timeout(cache.read_timeout_ms)`; writes are [`Put`]s sent the same way with
//! `cache.write_timeout_ms`. Nothing is sent with `do_send`. If the actor is not running (it is
//! being restarted), a read is served from PostgreSQL directly, uncached.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use actix::{Addr, MailboxError};
use bytes::Bytes;
use futures_util::future::join_all;

use super::actor::{CacheActor, Get, Invalidate, Origin, Put, Warm, WarmReport, Written};
use super::key::{CacheKey, ClassTtls, Scope};
use super::loader::{LoadError, Loaders};
use super::local::LocalTier;
use super::metrics::{Lookup, Meter};
use super::remote::Remote;
use crate::alerts::AlertSink;
use crate::config::Settings;
use crate::kv::Kv;
use crate::metrics::Metrics;

/// The tier that answered a read (for several keys: the slowest one used).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    #[default]
    Local,
    Redis,
    Postgres,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Local, Tier::Redis, Tier::Postgres];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Local => "local",
            Tier::Redis => "redis",
            Tier::Postgres => "postgres",
        }
    }
}

/// Values read, in the order asked, and the tier that answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    pub values: Vec<Option<Bytes>>,
    pub tier: Tier,
}

/// Why the cache could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    #[error("the cache actor is not running")]
    Unavailable,
    #[error("the cache did not answer within {0:?}")]
    Timeout(Duration),
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Whether the cache uses Redis right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStatus {
    /// Redis is away: reads come from the local tier and PostgreSQL.
    pub degraded: bool,
    /// Other instances' invalidations are being heard.
    pub subscribed: bool,
}

/// What the handle and every incarnation of the actor share.
pub(super) struct Shared {
    pub local: LocalTier,
    pub remote: Remote,
    pub loaders: Loaders,
    pub meter: Meter,
    pub alerts: AlertSink,
    /// Names this process in invalidation messages.
    pub instance: String,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub probe_interval: Duration,
    warm: Vec<CacheKey>,
    /// Every key this process published (a job's write), with when: what Redis holds of it
    /// until its TTL, and so what must come back there after an outage.
    published: Mutex<HashMap<CacheKey, tokio::time::Instant>>,
    ttls: ClassTtls,
    pub capacity: usize,
    addr: RwLock<Option<Addr<CacheActor>>>,
    pub degraded: AtomicBool,
    pub subscribed: AtomicBool,
}

impl Shared {
    /// The configured warm keys whose family has a loader.
    pub fn warm_keys(&self) -> Vec<CacheKey> {
        self.warm
            .iter()
            .copied()
            .filter(|k| self.loaders.has(k.family()))
            .collect()
    }

    /// Notes that `keys` were published now.
    pub fn published(&self, keys: impl IntoIterator<Item = CacheKey>) {
        let now = tokio::time::Instant::now();
        let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        published.extend(keys.into_iter().map(|k| (k, now)));
        // Forget what Redis would have let expire by now anyway.
        published.retain(|k, at| now.duration_since(*at) < self.ttls.of(k.class()));
    }

    /// What a rewarm after an outage brings back to Redis: the warm keys, and every key
    /// published within its TTL (Redis would still hold it, had it not gone away), for the
    /// families whose loader can read them from PostgreSQL.
    pub fn rewarm_keys(&self) -> Vec<CacheKey> {
        let now = tokio::time::Instant::now();
        let published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<CacheKey> = self
            .warm
            .iter()
            .copied()
            .chain(
                published
                    .iter()
                    .filter(|(k, at)| now.duration_since(**at) < self.ttls.of(k.class()))
                    .map(|(k, _)| *k),
            )
            .filter(|k| self.loaders.has(k.family()))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The two-tier cache, as its users see it. Cheap to clone; follows the actor across restarts.
#[derive(Clone)]
pub struct Cache {
    shared: Arc<Shared>,
}

impl Cache {
    /// The handle for `settings`; the actor ([`CacheActor`]) connects to it when it starts.
    pub fn new(
        settings: &Settings,
        kv: Kv,
        metrics: &Metrics,
        alerts: AlertSink,
        loaders: Loaders,
    ) -> Self {
        let c = &settings.cache;
        let ttls = ClassTtls::new(&c.ttl_secs);
        let warm = c
            .warm
            .iter()
            .map(|k| k.parse().expect("cache.warm is validated at load"))
            .collect();
        let shared = Shared {
            local: LocalTier::new(ttls, c.local_max_entries, c.local_max_bytes),
            remote: Remote::new(kv, ttls, c.old_revision_grace_secs),
            loaders,
            meter: Meter::new(metrics),
            alerts,
            instance: format!("{:016x}", rand::random::<u64>()),
            read_timeout: Duration::from_millis(c.read_timeout_ms),
            write_timeout: Duration::from_millis(c.write_timeout_ms),
            probe_interval: Duration::from_millis(c.probe_interval_ms),
            warm,
            published: Mutex::default(),
            ttls,
            capacity: settings.mailbox.cache,
            addr: RwLock::new(None),
            degraded: AtomicBool::new(false),
            subscribed: AtomicBool::new(false),
        };
        Cache {
            shared: Arc::new(shared),
        }
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(super) fn connect(&self, addr: Option<Addr<CacheActor>>) {
        *self.shared.addr.write().unwrap_or_else(|e| e.into_inner()) = addr;
    }

    /// The loaders, to register a family's loader after start-up.
    pub fn loaders(&self) -> &Loaders {
        &self.shared.loaders
    }

    /// This process's id in invalidation messages.
    pub fn instance(&self) -> &str {
        &self.shared.instance
    }

    pub fn status(&self) -> CacheStatus {
        CacheStatus {
            degraded: self.shared.degraded.load(Ordering::Relaxed),
            subscribed: self.shared.subscribed.load(Ordering::Relaxed),
        }
    }

    /// One key's JSON, or None if PostgreSQL has no data for it.
    pub async fn get(&self, key: CacheKey) -> Result<Option<Bytes>, CacheError> {
        Ok(self.fetch(&[key]).await?.values.pop().flatten())
    }

    /// Several keys' JSON, in the order asked. Keys of one scope come from one revision.
    pub async fn get_many(&self, keys: &[CacheKey]) -> Result<Vec<Option<Bytes>>, CacheError> {
        Ok(self.fetch(keys).await?.values)
    }

    /// Like [`Cache::get_many`], also saying which tier answered.
    pub async fn fetch(&self, keys: &[CacheKey]) -> Result<Fetched, CacheError> {
        let mut groups: BTreeMap<Scope, Vec<(usize, CacheKey)>> = BTreeMap::new();
        for (i, key) in keys.iter().enumerate() {
            groups.entry(key.scope()).or_default().push((i, *key));
        }
        let mut out = Fetched {
            values: vec![None; keys.len()],
            tier: Tier::Local,
        };
        for (scope, group) in groups {
            let (places, group): (Vec<usize>, Vec<CacheKey>) = group.into_iter().unzip();
            let fetched = self.fetch_scope(scope, group).await?;
            out.tier = out.tier.max(fetched.tier);
            for (place, value) in places.into_iter().zip(fetched.values) {
                out.values[place] = value;
            }
        }
        Ok(out)
    }

    async fn fetch_scope(&self, scope: Scope, keys: Vec<CacheKey>) -> Result<Fetched, CacheError> {
        let meter = &self.shared.meter;
        if let Some(values) = self.shared.local.read(scope, &keys).await {
            for key in &keys {
                meter.looked_up(*key, Tier::Local, Lookup::Hit);
            }
            return Ok(Fetched {
                values: values.into_iter().map(Some).collect(),
                tier: Tier::Local,
            });
        }
        for key in &keys {
            meter.looked_up(*key, Tier::Local, Lookup::Miss);
        }
        let timeout = self.shared.read_timeout;
        match self.ask(Get { keys: keys.clone() }, timeout).await {
            Err(CacheError::Unavailable) => self.load_directly(&keys).await,
            answer => answer?,
        }
    }

    /// Reads straight from PostgreSQL, caching nothing: the actor is being restarted.
    async fn load_directly(&self, keys: &[CacheKey]) -> Result<Fetched, CacheError> {
        let meter = &self.shared.meter;
        let loads = keys
            .iter()
            .map(|k| self.shared.loaders.load(*k, self.shared.read_timeout));
        let mut values = Vec::new();
        for (key, loaded) in keys.iter().zip(join_all(loads).await) {
            let lookup = match &loaded {
                Ok(Some(_)) => Lookup::Hit,
                Ok(None) => Lookup::Miss,
                Err(_) => Lookup::Error,
            };
            meter.looked_up(*key, Tier::Postgres, lookup);
            values.push(loaded?);
        }
        Ok(Fetched {
            values,
            tier: Tier::Postgres,
        })
    }

    /// Writes `entries` to both tiers (one revision per scope) and tells the other instances.
    /// Succeeds while Redis is away: then the local tier holds them and Redis is rewarmed from
    /// PostgreSQL when it returns.
    pub async fn put(&self, entries: Vec<(CacheKey, Bytes)>) -> Result<Written, CacheError> {
        self.ask(Put { entries }, self.shared.write_timeout).await?
    }

    /// Drops `keys` here, in Redis and in every other instance's local tier.
    pub async fn invalidate(&self, keys: Vec<CacheKey>) -> Result<(), CacheError> {
        let invalidate = Invalidate {
            keys,
            origin: Origin::Local,
        };
        self.ask(invalidate, self.shared.write_timeout).await
    }

    /// Loads `keys` into both tiers.
    pub async fn warm(&self, keys: Vec<CacheKey>) -> Result<WarmReport, CacheError> {
        self.ask(Warm { keys }, self.shared.write_timeout).await?
    }

    /// Drops this instance's local tier (Redis and other instances keep theirs).
    pub fn clear_local(&self) {
        self.shared.local.clear();
    }

    async fn ask<M>(&self, msg: M, timeout: Duration) -> Result<M::Result, CacheError>
    where
        M: actix::Message + Send + 'static,
        M::Result: Send,
        CacheActor: actix::Handler<M>,
    {
        let addr = self
            .shared
            .addr
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|a| a.connected())
            .ok_or(CacheError::Unavailable)?;
        addr.send(msg).timeout(timeout).await.map_err(|e| match e {
            MailboxError::Timeout => CacheError::Timeout(timeout),
            MailboxError::Closed => CacheError::Unavailable,
        })
    }
}
