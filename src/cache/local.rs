//! The in-process tier: a moka cache of one immutable [`Snapshot`] per [`Scope`].
//!
//! Holding a whole scope in one entry is what makes local reads consistent: a reader takes one
//! `Arc<Snapshot>` in a single lookup and reads every key it wants from it, so it sees one state
//! of the scope, never half of an update. Writers build a new snapshot from the old one (copies
//! of `Bytes` handles, not of the data) and swap it in, inside the scope's entry (see [`Slot`]):
//! the snapshot replaced is let go as soon as no reader holds it.
//!
//! - **Who writes.** Only the cache actor, one write at a time (see [`CacheActor`]); anyone
//!   reads (moka is thread-safe), which is how a local hit skips the actor's mailbox.
//! - **TTL per class.** Each member carries the deadline of its class's TTL and is ignored once
//!   past it; moka's [`Expiry`] drops the whole entry when its last member expires.
//! - **Bounds.** The entry's weight is its members' bytes, each counted at least
//!   `local_max_bytes / local_max_entries`, so the moka capacity (`local_max_bytes`) bounds both
//!   the bytes and the number of keys held.
//!
//! [`CacheActor`]: super::CacheActor

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use moka::Expiry;
use tokio::time::Instant;

use super::key::{CacheKey, ClassTtls, Scope};
use super::remote::Rev;

/// One key's value in the local tier.
#[derive(Debug, Clone)]
pub struct Member {
    /// The revision it belongs to (a Redis revision, or one made locally while Redis is away).
    pub rev: Rev,
    pub bytes: Bytes,
    /// When its class's TTL runs out.
    pub deadline: Instant,
}

/// Everything the local tier holds of one scope, at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    members: BTreeMap<CacheKey, Member>,
}

impl Snapshot {
    /// The values of `keys` if every one is here and fresh at `now`.
    pub fn read(&self, keys: &[CacheKey], now: Instant) -> Option<Vec<Bytes>> {
        keys.iter()
            .map(|k| {
                self.members
                    .get(k)
                    .filter(|m| m.deadline > now)
                    .map(|m| m.bytes.clone())
            })
            .collect()
    }

    pub fn member(&self, key: &CacheKey) -> Option<&Member> {
        self.members.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The latest deadline of any member: when the whole snapshot is stale.
    fn last_deadline(&self) -> Option<Instant> {
        self.members.values().map(|m| m.deadline).max()
    }
}

/// A change to one scope's snapshot.
#[derive(Debug, Clone)]
pub enum LocalWrite {
    /// New values (a `Put`, a fill from PostgreSQL while Redis is away).
    Put(Vec<(CacheKey, Rev, Bytes)>),
    /// Values read from Redis together with the scope's revision pointer as Redis had it: every
    /// member whose revision differs from the pointer's is dropped (it is stale), then the
    /// values are stored.
    Sync {
        pointer: HashMap<String, Rev>,
        values: Vec<(CacheKey, Rev, Bytes)>,
    },
    /// Drop these keys.
    Remove(Vec<CacheKey>),
}

impl Snapshot {
    /// The snapshot after `write`, with new members expiring after their class's TTL.
    fn apply(&self, write: &LocalWrite, ttls: &ClassTtls, now: Instant) -> Snapshot {
        let mut next = self.clone();
        let insert = |values: &[(CacheKey, Rev, Bytes)], members: &mut BTreeMap<_, _>| {
            for (key, rev, bytes) in values {
                members.insert(
                    *key,
                    Member {
                        rev: *rev,
                        bytes: bytes.clone(),
                        deadline: now + ttls.of(key.class()),
                    },
                );
            }
        };
        match write {
            LocalWrite::Put(values) => insert(values, &mut next.members),
            LocalWrite::Sync { pointer, values } => {
                next.members
                    .retain(|key, m| pointer.get(key.member().as_ref()) == Some(&m.rev));
                insert(values, &mut next.members);
            }
            LocalWrite::Remove(keys) => {
                for key in keys {
                    next.members.remove(key);
                }
            }
        }
        next.members.retain(|_, m| m.deadline > now);
        next
    }
}

/// A scope's entry in moka: the scope's current snapshot, swapped inside it.
///
/// moka keeps an entry it replaced (and one it removed) until its housekeeping has run and the
/// memory reclamation of its hash table allows, which with the live scope written once a tick
/// held several old revisions of 100,000 managers' scores (15 MB each). A write therefore
/// swaps the snapshot inside the scope's slot and re-inserts the same slot (so moka re-weighs
/// it and resets its expiry): whatever moka still holds of the entry it replaced is this slot,
/// and the replaced snapshot is let go as soon as no reader holds it.
#[derive(Debug, Default)]
struct Slot(RwLock<Arc<Snapshot>>);

impl Slot {
    fn load(&self) -> Arc<Snapshot> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store(&self, snapshot: Arc<Snapshot>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = snapshot;
    }
}

/// moka's per-entry expiry: a snapshot lives until its last member's deadline.
struct UntilLastMember;

impl UntilLastMember {
    fn remaining(slot: &Slot) -> Option<Duration> {
        let last = slot.load().last_deadline()?;
        Some(last.saturating_duration_since(Instant::now()))
    }
}

impl Expiry<Scope, Arc<Slot>> for UntilLastMember {
    fn expire_after_create(
        &self,
        _: &Scope,
        slot: &Arc<Slot>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Self::remaining(slot)
    }

    fn expire_after_update(
        &self,
        _: &Scope,
        slot: &Arc<Slot>,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Self::remaining(slot)
    }
}

/// The in-process tier. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct LocalTier {
    cache: moka::future::Cache<Scope, Arc<Slot>>,
    ttls: ClassTtls,
}

/// What one member counts for against `local_max_bytes`: its bytes (plus its key), but at least
/// `floor`, so that the byte bound also bounds the number of keys.
fn weight(snapshot: &Snapshot, floor: u64) -> u32 {
    let total: u64 = snapshot
        .members
        .values()
        .map(|m| (m.bytes.len() as u64 + 64).max(floor))
        .sum();
    total.min(u64::from(u32::MAX)) as u32
}

impl LocalTier {
    pub fn new(ttls: ClassTtls, max_entries: u64, max_bytes: u64) -> Self {
        let floor = max_bytes.div_ceil(max_entries.max(1));
        let cache = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(move |_: &Scope, slot: &Arc<Slot>| weight(&slot.load(), floor))
            .expire_after(UntilLastMember)
            .build();
        LocalTier { cache, ttls }
    }

    /// The values of `keys` (all of one scope), if every one is here and fresh.
    pub async fn read(&self, scope: Scope, keys: &[CacheKey]) -> Option<Vec<Bytes>> {
        let slot = self.cache.get(&scope).await?;
        slot.load().read(keys, Instant::now())
    }

    /// The scope's current snapshot, if any.
    pub async fn snapshot(&self, scope: Scope) -> Option<Arc<Snapshot>> {
        Some(self.cache.get(&scope).await?.load())
    }

    /// Applies `write` to `scope`. Callers serialise writes (the cache actor does).
    pub async fn write(&self, scope: Scope, write: &LocalWrite) {
        let slot = self.cache.get(&scope).await;
        let next = match &slot {
            Some(slot) => slot.load().apply(write, &self.ttls, Instant::now()),
            None => Snapshot::default().apply(write, &self.ttls, Instant::now()),
        };
        if next.is_empty() {
            if let Some(slot) = slot {
                slot.store(Arc::default());
            }
            self.cache.invalidate(&scope).await;
        } else {
            let slot = slot.unwrap_or_default();
            slot.store(Arc::new(next));
            self.cache.insert(scope, slot).await;
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        for (_, slot) in &self.cache {
            slot.store(Arc::default());
        }
        self.cache.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::key::{LiveDataset, MetaDataset};
    use crate::config::CacheTtlSettings;

    fn ttls() -> ClassTtls {
        ClassTtls::new(&CacheTtlSettings {
            live: 60,
            player_values: 300,
            event_status: 120,
            standings: 900,
            tournament_stats: 1800,
            entries: 600,
            historical: 3600,
        })
    }

    const TEAMS: CacheKey = CacheKey::Meta(MetaDataset::Teams);
    const PLAYERS: CacheKey = CacheKey::Meta(MetaDataset::Players);
    const LIVE: CacheKey = CacheKey::Live {
        event: 1,
        dataset: LiveDataset::Elements,
    };

    fn put(values: &[(CacheKey, u64, &'static str)]) -> LocalWrite {
        LocalWrite::Put(
            values
                .iter()
                .map(|(k, r, v)| (*k, Rev(*r), Bytes::from_static(v.as_bytes())))
                .collect(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn local_values_expire_after_the_ttl_of_their_class() {
        let tier = LocalTier::new(ttls(), 100, 1 << 20);
        tier.write(Scope::Meta, &put(&[(TEAMS, 1, "t"), (PLAYERS, 1, "p")]))
            .await;
        assert!(tier.read(Scope::Meta, &[TEAMS, PLAYERS]).await.is_some());
        // Players are player values (300 s); teams are historical (3600 s).
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(tier.read(Scope::Meta, &[PLAYERS]).await, None);
        assert_eq!(tier.read(Scope::Meta, &[TEAMS, PLAYERS]).await, None);
        assert_eq!(
            tier.read(Scope::Meta, &[TEAMS]).await,
            Some(vec![Bytes::from_static(b"t")])
        );
        tokio::time::advance(Duration::from_secs(3300)).await;
        assert_eq!(tier.read(Scope::Meta, &[TEAMS]).await, None);
    }

    #[tokio::test]
    async fn a_read_of_several_keys_needs_every_one_of_them() {
        let tier = LocalTier::new(ttls(), 100, 1 << 20);
        tier.write(Scope::Meta, &put(&[(TEAMS, 1, "t")])).await;
        assert_eq!(tier.read(Scope::Meta, &[TEAMS, PLAYERS]).await, None);
        assert_eq!(tier.read(Scope::Live(1), &[LIVE]).await, None);
    }

    #[tokio::test]
    async fn a_sync_from_redis_drops_members_of_other_revisions() {
        let tier = LocalTier::new(ttls(), 100, 1 << 20);
        tier.write(Scope::Meta, &put(&[(TEAMS, 1, "t1"), (PLAYERS, 1, "p1")]))
            .await;
        // Redis has moved both to revision 2, but this reader fetched only players.
        let pointer = HashMap::from([("teams".to_string(), Rev(2)), ("players".into(), Rev(2))]);
        let sync = LocalWrite::Sync {
            pointer,
            values: vec![(PLAYERS, Rev(2), Bytes::from_static(b"p2"))],
        };
        tier.write(Scope::Meta, &sync).await;
        // The stale teams of revision 1 are gone, so no reader can pair them with players 2.
        assert_eq!(tier.read(Scope::Meta, &[TEAMS, PLAYERS]).await, None);
        assert_eq!(
            tier.read(Scope::Meta, &[PLAYERS]).await,
            Some(vec![Bytes::from_static(b"p2")])
        );
    }

    #[tokio::test]
    async fn removing_keys_leaves_the_rest_of_the_scope() {
        let tier = LocalTier::new(ttls(), 100, 1 << 20);
        tier.write(Scope::Meta, &put(&[(TEAMS, 1, "t"), (PLAYERS, 1, "p")]))
            .await;
        tier.write(Scope::Meta, &LocalWrite::Remove(vec![PLAYERS]))
            .await;
        assert_eq!(tier.read(Scope::Meta, &[PLAYERS]).await, None);
        assert!(tier.read(Scope::Meta, &[TEAMS]).await.is_some());
    }

    #[tokio::test]
    async fn a_replaced_snapshot_is_let_go_at_once() {
        let tier = LocalTier::new(ttls(), 100, 1 << 20);
        let mut written = Vec::new();
        for rev in 0..4u8 {
            let bytes = Bytes::from(vec![rev; 1000]);
            written.push(bytes.clone());
            let put = LocalWrite::Put(vec![(LIVE, Rev(rev.into()), bytes)]);
            tier.write(Scope::Live(1), &put).await;
            let held: Vec<bool> = written.iter().map(|b| !b.is_unique()).collect();
            let mut expected = vec![false; written.len()];
            expected[usize::from(rev)] = true;
            assert_eq!(held, expected, "after revision {rev}, only it is held");
        }
    }

    #[test]
    fn every_key_weighs_at_least_its_share_of_the_byte_bound() {
        let now = Instant::now();
        let member = |n: usize| Member {
            rev: Rev(1),
            bytes: Bytes::from(vec![0u8; n]),
            deadline: now,
        };
        let snapshot = Snapshot {
            members: BTreeMap::from([(TEAMS, member(10)), (PLAYERS, member(10_000))]),
        };
        // 1 MiB over 1024 keys: each key counts at least 1 KiB.
        assert_eq!(weight(&snapshot, 1024), 1024 + 10_064);
    }

    #[tokio::test]
    async fn the_tier_holds_no_more_keys_than_its_bound() {
        let tier = LocalTier::new(ttls(), 4, 4096);
        for event in 1..=20 {
            let key = CacheKey::Live {
                event,
                dataset: LiveDataset::Elements,
            };
            tier.write(Scope::Live(event), &put(&[(key, 1, "x")])).await;
        }
        tier.cache.run_pending_tasks().await;
        assert!(
            tier.cache.entry_count() <= 4,
            "{}",
            tier.cache.entry_count()
        );
    }
}
