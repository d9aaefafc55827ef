//! The Redis tier: revisioned values, the revision pointer of each scope, and the invalidation
//! channel. Every command goes through [`Kv::run`], so it is bounded by
//! `redis.command_timeout_ms` and fails fast when Redis is away.
//!
//! # Layout (all under `redis.prefix`, written `P` here)
//! - `P{scope}:rev` — the scope's **revision pointer**: a hash from each member (dataset) to the
//!   revision holding its current value, e.g. `P live:38:rev = {elements: 5f.., fixtures: 5f..}`.
//!   It expires the longest class TTL after its last write.
//! - `P{key}@{rev}` — a value of one revision, e.g. `Plive:38:elements@5f3a..`, with its
//!   class's TTL.
//! - `Pcache:invalidate` — the pub/sub channel (see [`pubsub`](super::pubsub)).
//!
//! # Replacing a dataset atomically
//! A write of several keys of one scope is one revision: the new revision's values are first
//! `SET` under new names (no reader looks there yet; in pipelines of bounded size, so a large
//! revision is not copied whole into the client's buffers), then in one MULTI/EXEC transaction
//! the `SWAP` script moves the pointer's fields to the new revision in one step and gives the
//! replaced values `cache.old_revision_grace_secs` to live, and the invalidation is published. Readers
//! use the `READ` script, which reads the pointer and the values it names in one step, so a
//! reader sees the pointer before or after the swap, and every value of the revision it names:
//! the whole old or the whole new dataset. (Both scripts name value keys they compute from the
//! pointer, which a standalone Redis allows; a Redis Cluster would need hash tags per scope.)
//!
//! A *fill* (a reader storing what it loaded from PostgreSQL after a miss) is conditional: it
//! lands only if the pointer still shows, for every member it fills, the revision the reader saw
//! when it missed. A fill that started before a job's write can therefore never overwrite it.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use bytes::Bytes;
use redis::aio::ConnectionManager;

use super::key::{CacheKey, ClassTtls, Scope};
use crate::kv::{Kv, KvError};

/// About the most value bytes [`Remote::store_values`] sends in one pipeline (a larger value goes
/// alone).
const VALUE_BATCH_BYTES: usize = 1 << 20;

/// A revision id: random, so instances never need to agree on a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rev(pub u64);

impl Rev {
    pub fn fresh() -> Self {
        Rev(rand::random())
    }

    fn parse(s: &str) -> Option<Self> {
        u64::from_str_radix(s, 16).ok().map(Rev)
    }
}

impl fmt::Display for Rev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Reads a scope's pointer and the values it names for the members in ARGV[2..], atomically.
/// Returns `{pointer as field/value pairs, {value or nil per member}}`.
static READ: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local pointer = redis.call('HGETALL', KEYS[1])
local revs = {}
for i = 1, #pointer, 2 do revs[pointer[i]] = pointer[i + 1] end
local values = {}
for i = 2, #ARGV do
  local rev = revs[ARGV[i]]
  if rev then
    values[#values + 1] = redis.call('GET', ARGV[1] .. ARGV[i] .. '@' .. rev)
  else
    values[#values + 1] = false
  end
end
return {pointer, values}
",
    )
});

/// Moves members of a scope's pointer to a new revision in one step. ARGV: value-key prefix of
/// the scope, new revision, pointer TTL, grace for replaced values, mode (`put`: always; `fill`:
/// only if every member still points where the reader saw it, else the new values are deleted),
/// then member/expected pairs (expected "" = no pointer). Returns how many members moved.
const SWAP: &str = r"
local prefix, rev, mode = ARGV[1], ARGV[2], ARGV[5]
if mode == 'fill' then
  for i = 6, #ARGV, 2 do
    if (redis.call('HGET', KEYS[1], ARGV[i]) or '') ~= ARGV[i + 1] then
      for j = 6, #ARGV, 2 do redis.call('DEL', prefix .. ARGV[j] .. '@' .. rev) end
      return 0
    end
  end
end
local moved = 0
for i = 6, #ARGV, 2 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  redis.call('HSET', KEYS[1], ARGV[i], rev)
  if old and old ~= rev then
    redis.call('EXPIRE', prefix .. ARGV[i] .. '@' .. old, ARGV[4])
  end
  moved = moved + 1
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return moved
";

/// What a read found: the scope's pointer (member → revision) and, per requested key, its value
/// and revision if Redis had it.
#[derive(Debug, Clone, Default)]
pub struct RemoteRead {
    pub pointer: HashMap<String, Rev>,
    pub values: Vec<Option<(Rev, Bytes)>>,
}

impl RemoteRead {
    /// Every requested value, if Redis had all of them.
    pub fn complete(&self) -> Option<Vec<(Rev, Bytes)>> {
        self.values.iter().cloned().collect()
    }
}

/// How a revision is swapped in.
#[derive(Debug, Clone)]
pub enum SwapMode {
    /// A write of new data: always.
    Put,
    /// A fill after a miss: only if the pointer still is `seen` for every member written.
    Fill { seen: HashMap<String, Rev> },
}

/// New values of some keys of one scope, written as one revision.
#[derive(Debug, Clone)]
pub struct Revision {
    pub scope: Scope,
    pub rev: Rev,
    pub values: Vec<(CacheKey, Bytes)>,
    pub mode: SwapMode,
}

/// The Redis tier of one instance.
#[derive(Clone)]
pub struct Remote {
    kv: Kv,
    ttls: ClassTtls,
    grace_secs: u64,
    channel: String,
}

impl Remote {
    pub fn new(kv: Kv, ttls: ClassTtls, grace_secs: u64) -> Self {
        let channel = kv.key("cache:invalidate");
        Remote {
            kv,
            ttls,
            grace_secs,
            channel,
        }
    }

    pub fn kv(&self) -> &Kv {
        &self.kv
    }

    /// The pub/sub channel invalidations are broadcast on.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// `P{scope}:rev`.
    pub fn pointer_key(&self, scope: Scope) -> String {
        self.kv.key(&format!("{scope}:rev"))
    }

    /// `P{key}@{rev}`.
    pub fn value_key(&self, key: CacheKey, rev: Rev) -> String {
        format!("{}@{rev}", key.render(self.kv.prefix()))
    }

    fn value_prefix(&self, scope: Scope) -> String {
        self.kv.key(&format!("{scope}:"))
    }

    pub async fn ping(&self) -> Result<(), KvError> {
        self.kv
            .run(|mut c: ConnectionManager| async move {
                redis::cmd("PING").query_async::<String>(&mut c).await
            })
            .await
            .map(|_| ())
    }

    /// Reads `keys` (all of `scope`) as of one revision pointer.
    pub async fn read(&self, scope: Scope, keys: &[CacheKey]) -> Result<RemoteRead, KvError> {
        let pointer_key = self.pointer_key(scope);
        let prefix = self.value_prefix(scope);
        let members: Vec<std::borrow::Cow<'static, str>> =
            keys.iter().map(|k| k.member()).collect();
        let (flat, values): (Vec<String>, Vec<Option<Vec<u8>>>) = self
            .kv
            .run(|mut c: ConnectionManager| async move {
                let mut call = READ.key(pointer_key);
                call.arg(prefix);
                for m in &members {
                    call.arg(m.as_ref());
                }
                call.invoke_async(&mut c).await
            })
            .await?;
        let pointer: HashMap<String, Rev> = flat
            .chunks_exact(2)
            .filter_map(|pair| Some((pair[0].clone(), Rev::parse(&pair[1])?)))
            .collect();
        let values = keys
            .iter()
            .zip(values)
            .map(|(key, value)| {
                let rev = *pointer.get(key.member().as_ref())?;
                Some((rev, Bytes::from(value?)))
            })
            .collect();
        Ok(RemoteRead { pointer, values })
    }

    /// Writes `revisions` ([`Remote::store_values`], then [`Remote::swap`]). Returns, per
    /// revision, whether it was swapped in (a fill may be refused).
    pub async fn write(
        &self,
        revisions: &[Revision],
        announce: Option<String>,
    ) -> Result<Vec<bool>, KvError> {
        self.store_values(revisions).await?;
        self.swap(revisions, announce).await
    }

    /// Stores the values of `revisions` under their revisions' names, which no reader looks at
    /// until [`Remote::swap`] points there; values of a write that fails before its swap expire
    /// by their TTL.
    ///
    /// They go in pipelines of about [`VALUE_BATCH_BYTES`], not in one: the client copies a
    /// pipeline whole three times (into its command, the packed request and the connection's
    /// write buffer, which keeps that capacity), so the 64 score shards of 100,000 managers
    /// sent at once would cost several times their 15 MB.
    pub async fn store_values(&self, revisions: &[Revision]) -> Result<(), KvError> {
        let mut values = redis::pipe();
        let mut pending = 0;
        for r in revisions {
            for (key, bytes) in &r.values {
                if pending > 0 && pending + bytes.len() > VALUE_BATCH_BYTES {
                    self.send(std::mem::replace(&mut values, redis::pipe()))
                        .await?;
                    pending = 0;
                }
                values
                    .cmd("SET")
                    .arg(self.value_key(*key, r.rev))
                    .arg(bytes.as_ref())
                    .arg("EX")
                    .arg(self.ttls.of(key.class()).as_secs())
                    .ignore();
                pending += bytes.len();
            }
        }
        if !values.is_empty() {
            self.send(values).await?;
        }
        Ok(())
    }

    /// Swaps every revision of `revisions` in (their values stored first) and publishes
    /// `announce` (if any) on the invalidation channel, in one MULTI/EXEC transaction. Returns,
    /// per revision, whether it was swapped in (a fill may be refused).
    pub async fn swap(
        &self,
        revisions: &[Revision],
        announce: Option<String>,
    ) -> Result<Vec<bool>, KvError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        let pointer_ttl = self.ttls.longest().as_secs();
        for r in revisions {
            let (mode, seen) = match &r.mode {
                SwapMode::Put => ("put", None),
                SwapMode::Fill { seen } => ("fill", Some(seen)),
            };
            let mut swap = redis::cmd("EVAL");
            swap.arg(SWAP)
                .arg(1)
                .arg(self.pointer_key(r.scope))
                .arg(self.value_prefix(r.scope))
                .arg(r.rev.to_string())
                .arg(pointer_ttl)
                .arg(self.grace_secs)
                .arg(mode);
            for (key, _) in &r.values {
                let expected = seen
                    .and_then(|s| s.get(key.member().as_ref()))
                    .map(Rev::to_string)
                    .unwrap_or_default();
                swap.arg(key.member().as_ref()).arg(expected);
            }
            pipe.add_command(swap);
        }
        if let Some(payload) = announce {
            pipe.cmd("PUBLISH").arg(&self.channel).arg(payload).ignore();
        }
        let moved: Vec<i64> = self
            .kv
            .run(|mut c: ConnectionManager| async move { pipe.query_async(&mut c).await })
            .await?;
        Ok(moved.into_iter().map(|n| n > 0).collect())
    }

    /// Sends `pipe`, whose commands all answer nothing wanted.
    async fn send(&self, pipe: redis::Pipeline) -> Result<(), KvError> {
        self.kv
            .run(|mut c: ConnectionManager| async move { pipe.query_async::<()>(&mut c).await })
            .await
    }

    /// Removes `keys` from their scopes' pointers (readers then miss and load from PostgreSQL)
    /// and publishes `announce`, in one transaction.
    pub async fn remove(&self, keys: &[CacheKey], announce: String) -> Result<(), KvError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            pipe.cmd("HDEL")
                .arg(self.pointer_key(key.scope()))
                .arg(key.member().as_ref())
                .ignore();
        }
        pipe.cmd("PUBLISH")
            .arg(&self.channel)
            .arg(announce)
            .ignore();
        self.kv
            .run(|mut c: ConnectionManager| async move { pipe.query_async::<()>(&mut c).await })
            .await
    }
}
