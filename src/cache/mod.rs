//! The two-tier cache: an in-process tier (moka) in front of Redis, with PostgreSQL, the store of
//! record, behind both. Readers get JSON bytes they can serve as they are.
//!
//! - [`key`]: typed keys ([`CacheKey`]) in three families, data classes ([`DataClass`]) and TTLs.
//! - [`local`]: the in-process tier, one immutable snapshot per scope.
//! - [`remote`]: the Redis tier: revisioned values, revision pointers, the Lua that swaps and
//!   reads them.
//! - [`loader`]: how a key is read from PostgreSQL ([`Loaders`], one per key family).
//! - [`pubsub`]: the invalidation broadcast between instances.
//! - [`contract`]: the data contract — every published dataset, its key, schema, class and
//!   writer, and how to read one revision consistently (the document for front-ends).
//! - [`consistency`]: the check of every cached dataset against PostgreSQL, and its repair.
//! - [`health`]: when Redis counts as away, and when as back.
//! - [`CacheActor`] (in `actor`): the single writer of the local tier; [`Cache`] (in `handle`):
//!   the handle everyone else uses.
//!
//! # Reading
//! Local → Redis → PostgreSQL. A local hit is served by the handle without a message to the
//! actor; a miss goes to the actor, which reads Redis and, if Redis lacks any key asked for (or
//! fails), loads *all* of them through the family's loader and fills Redis and the local tier.
//!
//! # Writing
//! A job that changed data calls [`Cache::put`] after it commits: one new revision per scope,
//! written to the local tier at once and to Redis: its values first (in pipelines of bounded
//! size), then one MULTI/EXEC transaction that swaps them in and publishes the invalidation.
//!
//! # Atomic replacement of a dataset
//! A *scope* (`meta`, `live:{event}`, `tournament:{id}`) is the unit of replacement: the keys of
//! one scope written by one `Put` form a revision, and a read of several keys of one scope
//! returns one revision of each of them as they stood at one moment — never half of a write.
//! - Redis: the revision's values are written under new names (`{key}@{rev}`), then one script
//!   moves the scope's revision pointer (`{scope}:rev`, a hash member → revision) to them in a
//!   single step, and gives the values it replaced `cache.old_revision_grace_secs` to live so
//!   readers already under way finish on the old revision. Reads go through a script that reads
//!   the pointer and the values it names in one step. See [`remote`].
//! - Local: a scope is one immutable snapshot swapped whole; a reader holds one snapshot. A
//!   snapshot refreshed from Redis drops every member whose revision is not the one Redis's
//!   pointer names, so old and new values never sit side by side. See [`local`].
//! - Fills after a miss are conditional, and results older than a local write are not stored,
//!   so a slow reader never puts back data that a write has replaced.
//!
//! # Invalidation
//! Every `Put` and [`Cache::invalidate`] publishes the keys on `{prefix}cache:invalidate`; every
//! other instance drops its local copies of them (its own messages it ignores). Local entries
//! also expire by their class's TTL, which bounds staleness if a message is lost. See [`pubsub`].
//!
//! # Redis away
//! Every Redis command is bounded by `redis.command_timeout_ms`. The first failure degrades the
//! cache: one warning alert (`cache_degraded`), `fplsync_cache_degraded` = 1, and from then on
//! reads use the local tier and PostgreSQL and writes the local tier only (they succeed, and
//! their keys are marked for rewarm). A probe pings Redis every `cache.probe_interval_ms`; once
//! it answers and the invalidation channel is subscribed again, the keys written meanwhile are
//! reloaded from PostgreSQL into Redis, the warm keys are warmed, and the cache is back (an info
//! alert `cache_recovered`). The local tier is dropped on resubscription: invalidations sent
//! while nobody listened are lost. A Redis that fails again within a minute of recovering
//! (slow rather than down) degrades the cache again without a new alert (see [`health`]).

mod actor;
pub mod consistency;
pub mod contract;
mod handle;
pub mod health;
pub mod key;
pub mod loader;
pub mod local;
mod metrics;
pub mod pubsub;
pub mod remote;

pub use actor::{CacheActor, Get, Invalidate, Origin, Put, Warm, WarmReport, Written};
pub use handle::{Cache, CacheError, CacheStatus, Fetched, Tier};
pub use key::{
    BadKey, CacheKey, ClassTtls, DataClass, Family, LiveDataset, MetaDataset, Scope,
    TournamentDataset,
};
pub use loader::{LoadError, LoadResult, Loader, Loaders};
pub use metrics::CacheMetrics;
