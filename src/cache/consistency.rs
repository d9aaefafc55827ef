//! The consistency check (`POST /recovery/consistency`): every dataset cached in Redis compared
//! with what its family's loader produces from PostgreSQL, the store of record; optionally
//! repaired.
//!
//! The cached keys are found from the revision pointers (`P{scope}:rev`, see
//! [`remote`](super::remote)); each member's current value is read as readers see it and
//! compared as JSON (so formatting cannot count as a difference). A repair writes PostgreSQL's
//! value as a new revision through the normal [`Cache::put`] path (so every instance drops its
//! local copy), or invalidates a key PostgreSQL no longer has.

use bytes::Bytes;
use serde::Serialize;

use super::handle::{Cache, CacheError};
use super::key::CacheKey;
use crate::kv::KvError;

/// What was found wrong with one cached key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The cached value is not what PostgreSQL gives.
    Differs,
    /// PostgreSQL has nothing for the key any more.
    MissingInPostgres,
    /// The cached value is not JSON.
    Corrupt,
}

#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub key: String,
    pub problem: Problem,
    /// Sizes in bytes of the two versions, to judge the difference at a glance.
    pub cached_bytes: usize,
    pub postgres_bytes: Option<usize>,
    /// Whether the repair was made (only when asked).
    pub repaired: bool,
}

/// The report: JSON as it stands.
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyReport {
    /// Keys compared.
    pub checked: usize,
    pub consistent: usize,
    pub differences: Vec<Difference>,
    /// Keys that could not be compared (a loader failed, no loader for the family), with why.
    pub skipped: Vec<Skipped>,
    pub repair: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsistencyError {
    #[error("Redis: {0}")]
    Redis(#[from] KvError),
    #[error("cache: {0}")]
    Cache(#[from] CacheError),
}

/// Compares every cached key with PostgreSQL; repairs the differences when `repair`.
pub async fn check(cache: &Cache, repair: bool) -> Result<ConsistencyReport, ConsistencyError> {
    let shared = cache.shared();
    let keys = cached_keys(cache).await?;
    let mut report = ConsistencyReport {
        checked: 0,
        consistent: 0,
        differences: Vec::new(),
        skipped: Vec::new(),
        repair,
    };
    for key in keys {
        let read = shared.remote.read(key.scope(), &[key]).await?;
        let Some((_, cached)) = read.values.into_iter().next().flatten() else {
            continue; // expired or replaced between the scan and now: nothing cached to compare
        };
        let loaded = match shared.loaders.load(key, shared.read_timeout).await {
            Ok(v) => v,
            Err(e) => {
                report.skipped.push(Skipped {
                    key: key.to_string(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        report.checked += 1;
        let problem = match (
            &loaded,
            serde_json::from_slice::<serde_json::Value>(&cached),
        ) {
            (_, Err(_)) => Some(Problem::Corrupt),
            (None, Ok(_)) => Some(Problem::MissingInPostgres),
            (Some(pg), Ok(c)) => match serde_json::from_slice::<serde_json::Value>(pg) {
                Ok(p) if p == c => None,
                _ => Some(Problem::Differs),
            },
        };
        let Some(problem) = problem else {
            report.consistent += 1;
            continue;
        };
        let repaired = repair && fix(cache, key, loaded.clone()).await?;
        report.differences.push(Difference {
            key: key.to_string(),
            problem,
            cached_bytes: cached.len(),
            postgres_bytes: loaded.as_ref().map(Bytes::len),
            repaired,
        });
    }
    Ok(report)
}

async fn fix(cache: &Cache, key: CacheKey, loaded: Option<Bytes>) -> Result<bool, CacheError> {
    match loaded {
        Some(value) => cache.put(vec![(key, value)]).await.map(|_| true),
        None => cache.invalidate(vec![key]).await.map(|_| true),
    }
}

/// Every key with a current value in Redis, from the scopes' revision pointers, sorted.
async fn cached_keys(cache: &Cache) -> Result<Vec<CacheKey>, KvError> {
    let kv = cache.shared().remote.kv();
    let prefix = kv.prefix().to_string();
    let pattern = format!("{}*:rev", glob_escape(&prefix));
    let mut pointers = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = kv
            .query(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(500),
            )
            .await?;
        pointers.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut keys = Vec::new();
    for pointer in pointers {
        let Some(scope) = pointer
            .strip_prefix(&prefix)
            .and_then(|s| s.strip_suffix(":rev"))
        else {
            continue;
        };
        let members: Vec<String> = kv.query(redis::cmd("HKEYS").arg(&pointer)).await?;
        keys.extend(
            members
                .iter()
                .filter_map(|m| format!("{scope}:{m}").parse::<CacheKey>().ok()),
        );
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

fn glob_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '*' | '?' | '[' | ']' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}
