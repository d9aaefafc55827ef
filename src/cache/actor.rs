//! The cache actor: the single writer of the local tier, the owner of the Redis link's health,
//! the invalidation subscription, warming and rewarming.
//!
//! Handlers stay short: a read that missed the local tier, a write, a warm-up each run as a
//! future (`ResponseActFuture`) off the actor's turn, so a slow Redis or PostgreSQL never holds
//! up other messages; only their results are applied on the actor (local-tier writes, health
//! changes, metrics). Local-tier writes are applied one at a time (`ctx.wait`), and each bumps
//! the scope's *generation*: a result computed from reads begun before a later write of its
//! scope is returned to its caller but not stored, so it cannot overwrite newer data.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Display;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Message,
    ResponseActFuture, SpawnHandle, WrapFuture,
};
use bytes::Bytes;
use futures_util::future::join_all;
use tokio::task::JoinHandle;

use super::handle::{Cache, CacheError, Fetched, Tier};
use super::key::{CacheKey, Scope};
use super::loader::LoadError;
use super::local::LocalWrite;
use super::metrics::{Lookup, WriteResult};
use super::pubsub;
use super::remote::{Rev, Revision, SwapMode};
use crate::alerts::Alert;
use crate::kv::KvError;
use crate::supervisor::{ActorRegistry, ChildLink, ExitGuard, ExitReason, MailboxGauge, StopChild};

/// Read `keys`, all of one scope, through Redis and PostgreSQL (the caller has already missed
/// the local tier). The values come from one revision.
#[derive(Debug, Message)]
#[rtype(result = "Result<Fetched, CacheError>")]
pub struct Get {
    pub keys: Vec<CacheKey>,
}

/// Write new values (after a job commits): one revision per scope, to both tiers, announced to
/// the other instances. Succeeds while Redis is away (local tier only, rewarmed later).
#[derive(Debug, Message)]
#[rtype(result = "Result<Written, CacheError>")]
pub struct Put {
    pub entries: Vec<(CacheKey, Bytes)>,
}

/// How a `Put` was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// False while Redis is away: the keys are in the local tier and marked for rewarm.
    pub redis: bool,
}

/// Where an invalidation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Code in this instance: drop the keys here and in Redis, and tell the others.
    Local,
    /// Another instance, through the invalidation channel: drop the local copies only.
    Remote,
}

/// Drop `keys`.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Invalidate {
    pub keys: Vec<CacheKey>,
    pub origin: Origin,
}

/// Load `keys` into both tiers (from Redis if it has them, else from PostgreSQL).
#[derive(Debug, Message)]
#[rtype(result = "Result<WarmReport, CacheError>")]
pub struct Warm {
    pub keys: Vec<CacheKey>,
}

/// What a warm-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WarmReport {
    /// Keys now cached.
    pub cached: usize,
    /// Keys PostgreSQL has no data for.
    pub absent: usize,
    /// Keys whose loader failed.
    pub failed: usize,
    /// Keys skipped because their family has no loader.
    pub no_loader: usize,
}

/// From the subscription task: whether the invalidation channel is being listened to.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Subscription {
    pub up: bool,
}

/// A scope's local-tier generation together with the era of the whole tier.
type Stamp = (u64, u64);

pub struct CacheActor {
    guard: ExitGuard,
    cache: Cache,
    registry: ActorRegistry,
    /// Requests being served (misses, writes, warm-ups): the actor's `mailbox_depth`.
    in_flight: Arc<MailboxGauge>,
    health: super::health::Health,
    /// Bumped by every local write of a scope.
    generations: HashMap<Scope, u64>,
    /// Bumped whenever the whole local tier is dropped.
    era: u64,
    /// Keys written to the local tier only (Redis away), with the sequence of their last write:
    /// Redis may hold older values of them until they are rewarmed.
    dirty: BTreeMap<CacheKey, u64>,
    dirty_seq: u64,
    /// The invalidation channel is being listened to.
    subscribed: bool,
    /// Held by a `Put` from the start of its Redis write to its swap: `Put`s reach Redis one
    /// after the other, in the order they came.
    redis_writes: Arc<tokio::sync::Mutex<()>>,
    /// Whether the channel has ever been up (or known down): the first answer starts the warm-up.
    warm_started: bool,
    subscription: Option<JoinHandle<()>>,
    probe: Option<SpawnHandle>,
    /// A probe or rewarm is under way.
    probing: bool,
}

impl CacheActor {
    pub fn new(link: ChildLink, cache: Cache, registry: ActorRegistry) -> Self {
        let capacity = cache.shared().capacity;
        CacheActor {
            guard: ExitGuard::new(link),
            cache,
            registry,
            in_flight: MailboxGauge::new(capacity),
            health: Default::default(),
            generations: HashMap::new(),
            era: 0,
            dirty: BTreeMap::new(),
            dirty_seq: 0,
            subscribed: false,
            redis_writes: Arc::default(),
            warm_started: false,
            subscription: None,
            probe: None,
            probing: false,
        }
    }

    fn stamp(&self, scope: Scope) -> Stamp {
        (self.era, self.generations.get(&scope).copied().unwrap_or(0))
    }

    fn begin(&self) {
        self.in_flight.set(self.in_flight.depth() + 1);
    }

    fn end(&self) {
        self.in_flight.set(self.in_flight.depth().saturating_sub(1));
    }

    /// Whether values read from Redis or PostgreSQL may be kept locally: only while we hear
    /// about other instances' writes (or while Redis is away, when there is nothing to hear).
    fn may_fill_locally(&self) -> bool {
        self.subscribed || !self.health.is_up()
    }

    /// Applies `write` to the local tier, after any write already queued and before the next
    /// message is handled.
    fn write_local(&mut self, scope: Scope, write: LocalWrite, ctx: &mut Context<Self>) {
        *self.generations.entry(scope).or_default() += 1;
        let local = self.cache.shared().local.clone();
        ctx.wait(async move { local.write(scope, &write).await }.into_actor(self));
    }

    /// Writes every revision of `revisions` to the local tier.
    fn write_revisions_locally(&mut self, revisions: &[Revision], ctx: &mut Context<Self>) {
        for r in revisions {
            let values = r
                .values
                .iter()
                .map(|(k, b)| (*k, r.rev, b.clone()))
                .collect();
            self.write_local(r.scope, LocalWrite::Put(values), ctx);
        }
    }

    /// Drops the whole local tier: invalidations may have been missed.
    fn drop_local(&mut self) {
        self.era += 1;
        self.generations.clear();
        self.cache.shared().local.clear();
    }

    fn mark_dirty(&mut self, keys: impl IntoIterator<Item = CacheKey>) {
        for key in keys {
            self.dirty_seq += 1;
            self.dirty.insert(key, self.dirty_seq);
        }
    }

    /// A Redis command begun in `epoch` failed: the first failure of an outage degrades the
    /// cache, raises the one warning and starts the probe.
    fn redis_failed(&mut self, epoch: u64, error: &dyn Display, ctx: &mut Context<Self>) {
        let Some(degraded) = self.health.failed(epoch) else {
            return;
        };
        let shared = self.cache.shared();
        shared.degraded.store(true, Ordering::Relaxed);
        shared.meter.set_degraded(true);
        let summary = "Redis is unreachable: the cache serves from its local tier and PostgreSQL";
        tracing::warn!(error = %error, "{summary}");
        if degraded.alert {
            shared
                .alerts
                .emit(Alert::cache_degraded(&error.to_string()));
        }
        if self.probe.is_none() {
            let every = shared.probe_interval;
            self.probe = Some(ctx.run_interval(every, |act, ctx| act.probe(ctx)));
        }
    }

    /// While degraded: pings Redis and, once it answers and the channel is listened to again,
    /// rewarms it.
    fn probe(&mut self, ctx: &mut Context<Self>) {
        if self.probing || self.health.is_up() {
            return;
        }
        self.probing = true;
        let remote = self.cache.shared().remote.clone();
        ctx.spawn(
            async move { remote.ping().await }.into_actor(self).map(
                |pinged, act, ctx| match pinged {
                    Ok(()) if act.subscribed => act.rewarm(ctx),
                    Ok(()) => {
                        tracing::debug!("Redis answers; waiting for the invalidation channel");
                        act.probing = false;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "Redis still away");
                        act.probing = false;
                    }
                },
            ),
        );
    }

    /// Brings Redis up to date: keys written while it was away are reloaded from PostgreSQL and
    /// written over whatever Redis holds; the warm keys are warmed. Done when no key is left
    /// dirty; otherwise the next probe tries again.
    fn rewarm(&mut self, ctx: &mut Context<Self>) {
        let shared = self.cache.shared().clone();
        let dirty: Vec<(CacheKey, u64)> = self.dirty.iter().map(|(k, s)| (*k, *s)).collect();
        let warm = shared.rewarm_keys();
        let instance = shared.instance.clone();
        let work = async move {
            let keys: Vec<CacheKey> = dirty.iter().map(|(k, _)| *k).collect();
            let loaded = join_all(
                keys.iter()
                    .map(|k| shared.loaders.load(*k, shared.read_timeout)),
            )
            .await;
            let mut found = Vec::new();
            let mut gone = Vec::new();
            for (key, result) in keys.iter().zip(loaded) {
                match result {
                    Ok(Some(bytes)) => found.push((*key, bytes)),
                    // Nothing to reload: remove it from Redis so no stale copy is served.
                    Ok(None) | Err(LoadError::NoLoader(_)) => gone.push(*key),
                    Err(e) => return Err(e.to_string()),
                }
            }
            let revisions = revisions(found, |_| SwapMode::Put);
            if !revisions.is_empty() {
                let announce = pubsub::announce(&instance, revisions.iter().flat_map(keys_of));
                shared
                    .remote
                    .write(&revisions, Some(announce))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if !gone.is_empty() {
                let announce = pubsub::announce(&instance, gone.iter().copied());
                shared
                    .remote
                    .remove(&gone, announce)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let warmed = warm_all(&shared, warm, true).await;
            if let Some(e) = warmed.iter().find_map(|(_, _, o)| o.redis_error.as_ref()) {
                return Err(e.to_string());
            }
            Ok((dirty, warmed))
        };
        let stamps = self.stamps_of_all();
        ctx.spawn(work.into_actor(self).map(move |result, act, ctx| {
            act.probing = false;
            match result {
                Ok((rewarmed, warmed)) => {
                    for (key, seq) in rewarmed {
                        if act.dirty.get(&key) == Some(&seq) {
                            act.dirty.remove(&key);
                        }
                    }
                    act.apply_warm(warmed, &stamps, ctx);
                    if act.dirty.is_empty() {
                        act.recovered(ctx);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cache rewarm failed; retrying"),
            }
        }));
    }

    fn recovered(&mut self, ctx: &mut Context<Self>) {
        let Some(back) = self.health.recovered() else {
            return;
        };
        if let Some(probe) = self.probe.take() {
            ctx.cancel_future(probe);
        }
        let shared = self.cache.shared();
        shared.degraded.store(false, Ordering::Relaxed);
        shared.meter.set_degraded(false);
        let summary = format!(
            "Redis is back after {} s: the cache reconnected, resubscribed and rewarmed it",
            back.outage.as_secs()
        );
        tracing::info!("{summary}");
        if back.announce {
            shared.alerts.emit(Alert::cache_recovered(back.outage));
        }
    }

    /// The stamps of every scope now, for results that may touch any scope.
    fn stamps_of_all(&self) -> (u64, HashMap<Scope, u64>) {
        (self.era, self.generations.clone())
    }

    /// Stores the local part of warm-up results whose scopes have not been written since.
    fn apply_warm(
        &mut self,
        warmed: Vec<(Scope, Vec<CacheKey>, Fetch)>,
        stamps: &(u64, HashMap<Scope, u64>),
        ctx: &mut Context<Self>,
    ) -> WarmReport {
        let mut report = WarmReport::default();
        for (scope, _, fetch) in warmed {
            for value in &fetch.values {
                match value {
                    Some(_) => report.cached += 1,
                    None if fetch.load_error.is_some() => report.failed += 1,
                    None => report.absent += 1,
                }
            }
            let then = (stamps.0, stamps.1.get(&scope).copied().unwrap_or(0));
            if let Some(write) = fetch.local
                && self.stamp(scope) == then
                && self.may_fill_locally()
            {
                self.write_local(scope, write, ctx);
            }
        }
        report
    }

    /// Warms `keys` (those whose family has a loader) into both tiers.
    fn warm(
        &mut self,
        keys: Vec<CacheKey>,
    ) -> ResponseActFuture<Self, Result<WarmReport, CacheError>> {
        let shared = self.cache.shared().clone();
        let asked: BTreeSet<CacheKey> = keys.iter().copied().collect();
        let no_loader = asked
            .iter()
            .filter(|k| !shared.loaders.has(k.family()))
            .count();
        let use_redis = self.health.is_up();
        let epoch = self.health.epoch();
        let stamps = self.stamps_of_all();
        self.begin();
        Box::pin(
            async move { warm_all(&shared, keys, use_redis).await }
                .into_actor(self)
                .map(move |warmed, act, ctx| {
                    act.end();
                    if let Some(e) = warmed.iter().find_map(|(_, _, o)| o.redis_error.as_ref()) {
                        act.redis_failed(epoch, e, ctx);
                    }
                    let report = act.apply_warm(warmed, &stamps, ctx);
                    Ok(WarmReport {
                        no_loader,
                        ..report
                    })
                }),
        )
    }
}

impl Actor for CacheActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let shared = self.cache.shared().clone();
        ctx.set_mailbox_capacity(shared.capacity);
        // A new incarnation cannot know what it missed while it was down.
        shared.local.clear();
        shared.degraded.store(false, Ordering::Relaxed);
        shared.subscribed.store(false, Ordering::Relaxed);
        shared.meter.set_degraded(false);
        self.cache.connect(Some(ctx.address()));
        self.registry
            .attach(self.guard.name(), Some(self.in_flight.clone()), None);
        self.subscription = Some(tokio::spawn(pubsub::run(
            shared.remote.kv().clone(),
            shared.remote.channel().to_string(),
            shared.instance.clone(),
            ctx.address(),
            shared.probe_interval,
        )));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Not an exit reason (see ExitGuard): only releasing what this incarnation holds.
        if let Some(task) = self.subscription.take() {
            task.abort();
        }
        self.cache.connect(None);
        self.in_flight.set(0);
    }
}

impl Handler<Get> for CacheActor {
    type Result = ResponseActFuture<Self, Result<Fetched, CacheError>>;

    fn handle(&mut self, msg: Get, _: &mut Context<Self>) -> Self::Result {
        let Some(scope) = msg.keys.first().map(|k| k.scope()) else {
            return Box::pin(actix::fut::ready(Ok(Fetched::default())));
        };
        debug_assert!(msg.keys.iter().all(|k| k.scope() == scope));
        let shared = self.cache.shared().clone();
        let (stamp, epoch, use_redis) =
            (self.stamp(scope), self.health.epoch(), self.health.is_up());
        self.begin();
        Box::pin(
            async move { fetch_through(&shared, scope, &msg.keys, use_redis).await }
                .into_actor(self)
                .map(move |fetch, act, ctx| {
                    act.end();
                    if let Some(e) = &fetch.redis_error {
                        act.redis_failed(epoch, e, ctx);
                    }
                    if let Some(e) = fetch.load_error {
                        return Err(CacheError::Load(e));
                    }
                    if let Some(write) = fetch.local
                        && act.stamp(scope) == stamp
                        && act.may_fill_locally()
                    {
                        act.write_local(scope, write, ctx);
                    }
                    Ok(Fetched {
                        values: fetch.values,
                        tier: fetch.tier,
                    })
                }),
        )
    }
}

impl Handler<Put> for CacheActor {
    type Result = ResponseActFuture<Self, Result<Written, CacheError>>;

    fn handle(&mut self, msg: Put, ctx: &mut Context<Self>) -> Self::Result {
        if msg.entries.is_empty() {
            let redis = self.health.is_up();
            return Box::pin(actix::fut::ready(Ok(Written { redis })));
        }
        let shared = self.cache.shared().clone();
        let revisions = revisions(msg.entries, |_| SwapMode::Put);
        let keys: Vec<CacheKey> = revisions.iter().flat_map(keys_of).collect();
        shared.published(keys.iter().copied());
        if !self.health.is_up() {
            self.write_revisions_locally(&revisions, ctx);
            self.mark_dirty(keys.iter().copied());
            shared.meter.wrote(&keys, WriteResult::LocalOnly);
            return Box::pin(actix::fut::ready(Ok(Written { redis: false })));
        }
        let epoch = self.health.epoch();
        let writes = self.redis_writes.clone();
        self.begin();
        // The values go to Redis first, under names no reader looks at (a large revision takes
        // several round trips); then, in one turn of this actor, the local tier takes the
        // revision and the swap is sent, as a `Put` always did, so a reader here that read the
        // new revision locally can never read the old one from Redis afterwards. Puts take
        // turns (`redis_writes`), so a later `Put` of a key is never swapped in before an
        // earlier one. Whatever Redis does, the local tier takes the write.
        let stored = async move {
            let turn = writes.lock_owned().await;
            let stored = shared.remote.store_values(&revisions).await;
            (turn, stored, revisions)
        };
        Box::pin(
            stored
                .into_actor(self)
                .then(move |(turn, stored, revisions), act, ctx| {
                    act.write_revisions_locally(&revisions, ctx);
                    let shared = act.cache.shared().clone();
                    let swapped = async move {
                        let announce = pubsub::announce(&shared.instance, keys_of_all(&revisions));
                        let swapped = match stored {
                            Ok(()) => shared.remote.swap(&revisions, Some(announce)).await,
                            Err(e) => Err(e),
                        };
                        drop(turn);
                        (swapped, revisions)
                    };
                    swapped
                        .into_actor(act)
                        .map(move |(swapped, revisions), act, ctx| {
                            act.end();
                            let keys: Vec<CacheKey> = keys_of_all(&revisions).collect();
                            let meter = &act.cache.shared().meter;
                            match swapped {
                                Ok(_) => {
                                    meter.wrote(&keys, WriteResult::Ok);
                                    Ok(Written { redis: true })
                                }
                                Err(e) => {
                                    meter.wrote(&keys, WriteResult::LocalOnly);
                                    act.redis_failed(epoch, &e, ctx);
                                    act.mark_dirty(keys);
                                    Ok(Written { redis: false })
                                }
                            }
                        })
                }),
        )
    }
}

impl Handler<Invalidate> for CacheActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: Invalidate, ctx: &mut Context<Self>) -> Self::Result {
        let mut by_scope: BTreeMap<Scope, Vec<CacheKey>> = BTreeMap::new();
        for key in &msg.keys {
            by_scope.entry(key.scope()).or_default().push(*key);
        }
        for (scope, keys) in by_scope {
            self.write_local(scope, LocalWrite::Remove(keys), ctx);
        }
        if msg.origin == Origin::Remote || msg.keys.is_empty() {
            return Box::pin(actix::fut::ready(()));
        }
        if !self.health.is_up() {
            self.mark_dirty(msg.keys);
            return Box::pin(actix::fut::ready(()));
        }
        let shared = self.cache.shared().clone();
        let epoch = self.health.epoch();
        let announce = pubsub::announce(&shared.instance, msg.keys.iter().copied());
        Box::pin(
            async move {
                shared
                    .remote
                    .remove(&msg.keys, announce)
                    .await
                    .map_err(|e| (e, msg.keys))
            }
            .into_actor(self)
            .map(move |removed, act, ctx| {
                if let Err((e, keys)) = removed {
                    act.redis_failed(epoch, &e, ctx);
                    act.mark_dirty(keys);
                }
            }),
        )
    }
}

impl Handler<Warm> for CacheActor {
    type Result = ResponseActFuture<Self, Result<WarmReport, CacheError>>;

    fn handle(&mut self, msg: Warm, _: &mut Context<Self>) -> Self::Result {
        self.warm(msg.keys)
    }
}

impl Handler<Subscription> for CacheActor {
    type Result = ();

    fn handle(&mut self, msg: Subscription, ctx: &mut Context<Self>) {
        let shared = self.cache.shared().clone();
        let was = self.subscribed;
        self.subscribed = msg.up;
        shared.subscribed.store(msg.up, Ordering::Relaxed);
        if msg.up && !was && self.warm_started {
            tracing::info!("cache invalidation channel subscribed again; local tier dropped");
            self.drop_local();
        }
        if !msg.up && (was || self.health.is_up()) {
            let epoch = self.health.epoch();
            self.redis_failed(
                epoch,
                &"the invalidation channel cannot be listened to",
                ctx,
            );
        }
        if !self.warm_started {
            // The channel is listened to (or Redis is known away): warm up now, so nothing
            // warmed can have missed an invalidation.
            self.warm_started = true;
            let keys = shared.warm_keys();
            if !keys.is_empty() {
                ctx.spawn(self.warm(keys).map(|report, _, _| match report {
                    Ok(r) => tracing::info!(
                        cached = r.cached,
                        absent = r.absent,
                        failed = r.failed,
                        "cache warmed"
                    ),
                    Err(e) => tracing::warn!(error = %e, "cache warm-up failed"),
                }));
            }
        }
    }
}

impl Handler<StopChild> for CacheActor {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        if let Some(task) = self.subscription.take() {
            task.abort();
        }
        self.guard.set(ExitReason::Normal);
        ctx.stop();
    }
}

/// The outcome of reading some keys of one scope below the local tier.
#[derive(Debug, Default)]
pub(super) struct Fetch {
    pub values: Vec<Option<Bytes>>,
    pub tier: Tier,
    /// Redis failed along the way (the values then come from PostgreSQL).
    pub redis_error: Option<KvError>,
    pub load_error: Option<LoadError>,
    /// What to store in the local tier.
    pub local: Option<LocalWrite>,
}

/// Reads `keys` of `scope` from Redis (one revision) or, if Redis lacks any of them or fails,
/// all of them from PostgreSQL, then fills Redis with what was loaded (conditionally: see
/// [`SwapMode::Fill`]). Metrics are counted per key and tier.
pub(super) async fn fetch_through(
    shared: &super::handle::Shared,
    scope: Scope,
    keys: &[CacheKey],
    use_redis: bool,
) -> Fetch {
    let meter = &shared.meter;
    let mut fetch = Fetch::default();
    let mut seen = None;
    if use_redis {
        match shared.remote.read(scope, keys).await {
            Ok(read) => {
                for (key, value) in keys.iter().zip(&read.values) {
                    let result = if value.is_some() {
                        Lookup::Hit
                    } else {
                        Lookup::Miss
                    };
                    meter.looked_up(*key, Tier::Redis, result);
                }
                if let Some(values) = read.complete() {
                    fetch.tier = Tier::Redis;
                    fetch.values = values.iter().map(|(_, b)| Some(b.clone())).collect();
                    fetch.local = Some(LocalWrite::Sync {
                        values: keys
                            .iter()
                            .zip(values)
                            .map(|(k, (r, b))| (*k, r, b))
                            .collect(),
                        pointer: read.pointer,
                    });
                    return fetch;
                }
                seen = Some(read.pointer);
            }
            Err(e) => {
                for key in keys {
                    meter.looked_up(*key, Tier::Redis, Lookup::Error);
                }
                fetch.redis_error = Some(e);
            }
        }
    }

    // Every key of the request from PostgreSQL, so they come from one source.
    fetch.tier = Tier::Postgres;
    let loaded = join_all(
        keys.iter()
            .map(|k| shared.loaders.load(*k, shared.read_timeout)),
    )
    .await;
    let mut present = Vec::new();
    for (key, result) in keys.iter().zip(loaded) {
        match result {
            Ok(value) => {
                let result = if value.is_some() {
                    Lookup::Hit
                } else {
                    Lookup::Miss
                };
                meter.looked_up(*key, Tier::Postgres, result);
                if let Some(bytes) = &value {
                    present.push((*key, bytes.clone()));
                }
                fetch.values.push(value);
            }
            Err(e) => {
                meter.looked_up(*key, Tier::Postgres, Lookup::Error);
                fetch.load_error.get_or_insert(e);
                fetch.values.push(None);
            }
        }
    }
    if fetch.load_error.is_some() || present.is_empty() {
        return fetch;
    }
    let rev = Rev::fresh();
    let local_values = |present: &[(CacheKey, Bytes)]| {
        present
            .iter()
            .map(|(k, b)| (*k, rev, b.clone()))
            .collect::<Vec<_>>()
    };
    let Some(seen) = seen else {
        // Redis away: keep it here only.
        fetch.local = Some(LocalWrite::Put(local_values(&present)));
        return fetch;
    };
    let fill = Revision {
        scope,
        rev,
        values: present.clone(),
        mode: SwapMode::Fill { seen: seen.clone() },
    };
    match shared.remote.write(&[fill], None).await {
        Ok(landed) if landed.first() == Some(&true) => {
            let mut pointer = seen;
            for (key, _) in &present {
                pointer.insert(key.member().to_string(), rev);
            }
            fetch.local = Some(LocalWrite::Sync {
                pointer,
                values: local_values(&present),
            });
        }
        // Someone wrote the scope since we looked: theirs stands, ours is only returned.
        Ok(_) => {}
        Err(e) => {
            fetch.redis_error = Some(e);
            fetch.local = Some(LocalWrite::Put(local_values(&present)));
        }
    }
    fetch
}

/// Warms `keys` scope by scope; keys whose family has no loader are skipped.
async fn warm_all(
    shared: &super::handle::Shared,
    keys: Vec<CacheKey>,
    use_redis: bool,
) -> Vec<(Scope, Vec<CacheKey>, Fetch)> {
    let mut by_scope: BTreeMap<Scope, BTreeSet<CacheKey>> = BTreeMap::new();
    for key in keys {
        if shared.loaders.has(key.family()) {
            by_scope.entry(key.scope()).or_default().insert(key);
        }
    }
    let mut out = Vec::new();
    let mut use_redis = use_redis;
    for (scope, keys) in by_scope {
        let keys: Vec<CacheKey> = keys.into_iter().collect();
        let fetch = fetch_through(shared, scope, &keys, use_redis).await;
        // After one failure, do not wait for Redis again for every other scope.
        use_redis &= fetch.redis_error.is_none();
        out.push((scope, keys, fetch));
    }
    out
}

/// Groups `entries` into one new revision per scope (a key given twice keeps its last value).
fn revisions(entries: Vec<(CacheKey, Bytes)>, mode: impl Fn(Scope) -> SwapMode) -> Vec<Revision> {
    let mut by_scope: BTreeMap<Scope, BTreeMap<CacheKey, Bytes>> = BTreeMap::new();
    for (key, bytes) in entries {
        by_scope.entry(key.scope()).or_default().insert(key, bytes);
    }
    by_scope
        .into_iter()
        .map(|(scope, values)| Revision {
            scope,
            rev: Rev::fresh(),
            values: values.into_iter().collect(),
            mode: mode(scope),
        })
        .collect()
}

fn keys_of(r: &Revision) -> impl Iterator<Item = CacheKey> + '_ {
    r.values.iter().map(|(k, _)| *k)
}

fn keys_of_all(revisions: &[Revision]) -> impl Iterator<Item = CacheKey> + '_ {
    revisions.iter().flat_map(keys_of)
}
