//! Loaders: how the cache reads a key from PostgreSQL, the store of record, when neither tier has
//! it (read-through), when warming, and when rewarming Redis after it returns.
//!
//! One loader per key [`Family`], registered by the module that owns that data (meta, live,
//! tournaments); the cache itself knows nothing of tables. A loader answers `Ok(None)` when the
//! key has no data (nothing is cached then) and `Err` when it could not tell.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::key::{CacheKey, Family};

/// What a loader returns: the key's JSON, or `None` if PostgreSQL has nothing for it.
pub type LoadResult = Result<Option<Bytes>, anyhow::Error>;

/// A registered loader.
pub type Loader = Arc<dyn Fn(CacheKey) -> BoxFuture<'static, LoadResult> + Send + Sync>;

/// Why a key could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("no loader is registered for the {0} key family")]
    NoLoader(Family),
    #[error("loading {key} timed out after {after:?}")]
    Timeout { key: CacheKey, after: Duration },
    #[error("loading {key} failed: {message}")]
    Failed { key: CacheKey, message: String },
}

/// The loaders of every family. Cheap to clone; clones share registrations, so a loader
/// registered after start-up is used from then on.
#[derive(Clone, Default)]
pub struct Loaders {
    inner: Arc<RwLock<HashMap<Family, Loader>>>,
}

impl Loaders {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) the loader of `family`.
    pub fn register<F, Fut>(&self, family: Family, loader: F) -> &Self
    where
        F: Fn(CacheKey) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = LoadResult> + Send + 'static,
    {
        let loader: Loader = Arc::new(move |key| loader(key).boxed());
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(family, loader);
        self
    }

    pub fn has(&self, family: Family) -> bool {
        self.get(family).is_some()
    }

    fn get(&self, family: Family) -> Option<Loader> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&family)
            .cloned()
    }

    /// Loads `key` through its family's loader, giving up after `timeout`.
    pub async fn load(&self, key: CacheKey, timeout: Duration) -> Result<Option<Bytes>, LoadError> {
        let loader = self
            .get(key.family())
            .ok_or(LoadError::NoLoader(key.family()))?;
        match tokio::time::timeout(timeout, loader(key)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(LoadError::Failed {
                key,
                message: format!("{e:#}"),
            }),
            Err(_) => Err(LoadError::Timeout {
                key,
                after: timeout,
            }),
        }
    }
}
