//! The metadata datasets readers get, behind the cache's `meta:*` keys and the `/data/*` routes:
//! each a JSON array of the current season's API objects in id order, built by PostgreSQL
//! (`json_agg`) straight from the stored `data` columns, and the loader that lets the cache read
//! them through on a miss.
//!
//! A dataset is published whenever what PostgreSQL has differs from what this process last
//! published of it ([`Published`]), not only when a sync changed rows: a publish lost after its
//! commit (a PostgreSQL connection gone between the two, a crash) is made by the next sync,
//! and after a restart the first sync publishes everything once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sqlx::PgPool;

use super::sync::{SeasonId, SyncReport};
use crate::cache::{CacheKey, Family, Loaders, MetaDataset};
use crate::store::StoreError;

/// The table behind a dataset, where it is one.
fn table(dataset: MetaDataset) -> Option<&'static str> {
    match dataset {
        MetaDataset::Teams => Some("teams"),
        MetaDataset::ElementTypes => Some("element_types"),
        MetaDataset::Phases => Some("phases"),
        MetaDataset::Events => Some("events"),
        MetaDataset::Players => Some("players"),
        MetaDataset::Fixtures => Some("fixtures"),
        MetaDataset::PlayerValues | MetaDataset::EventStatus => None,
    }
}

/// The season `$1` names, or the most recent one when `$1` is null.
const SEASON: &str =
    "COALESCE($1::int, (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1))";

/// The dataset of the most recent season as JSON bytes; `None` before the first bootstrap (or
/// for a dataset no job stores yet).
pub async fn load(db: &PgPool, dataset: MetaDataset) -> Result<Option<Bytes>, StoreError> {
    load_season(db, None, dataset).await
}

/// The dataset of `season` (the most recent when `None`) as JSON bytes: what `/data/*?season=`
/// serves of a season the cache no longer holds. `None` when no such season is stored.
pub async fn load_season(
    db: &PgPool,
    season: Option<SeasonId>,
    dataset: MetaDataset,
) -> Result<Option<Bytes>, StoreError> {
    // Table names come from the enum above, never from input.
    let sql = match (dataset, table(dataset)) {
        // The stored texts joined as they are (no re-serialising), as a sync publishes them.
        (_, Some(table)) => format!(
            "SELECT '[' || COALESCE(string_agg(t.data, ',' ORDER BY t.id), '') || ']' \
             FROM {table} t WHERE t.season_id = {SEASON} \
             HAVING EXISTS (SELECT 1 FROM seasons WHERE id = {SEASON})"
        ),
        // The latest day's price snapshot.
        (MetaDataset::PlayerValues, None) => format!(
            "SELECT COALESCE(json_agg(json_build_object('element', v.player_id, 'day', v.day, \
             'now_cost', v.now_cost, 'selected_by_percent', v.selected_by_percent, \
             'transfers_in_event', v.transfers_in_event, \
             'transfers_out_event', v.transfers_out_event) ORDER BY v.player_id), '[]'::json)::text \
             FROM player_values v WHERE v.season_id = {SEASON} AND v.day = \
             (SELECT max(day) FROM player_values WHERE season_id = {SEASON}) \
             HAVING EXISTS (SELECT 1 FROM seasons WHERE id = {SEASON})"
        ),
        _ => return Ok(None),
    };
    let text: Option<String> = sqlx::query_scalar(&sql)
        .bind(season.map(|s| s.0))
        .fetch_optional(db)
        .await?;
    Ok(text.map(Bytes::from))
}

/// The datasets a bootstrap run writes.
pub const BOOTSTRAP_DATASETS: [MetaDataset; 6] = [
    MetaDataset::Phases,
    MetaDataset::Teams,
    MetaDataset::ElementTypes,
    MetaDataset::Players,
    MetaDataset::Events,
    MetaDataset::PlayerValues,
];

/// What this process last published of each dataset, as a digest of its bytes. Shared by the
/// job kinds that publish metadata (`bootstrap`, `fixtures`, `live`). Cheap to clone.
#[derive(Clone, Default)]
pub struct Published(Arc<Mutex<HashMap<CacheKey, u64>>>);

impl Published {
    fn digest(bytes: &Bytes) -> u64 {
        xxhash_rust::xxh3::xxh3_64(bytes)
    }

    /// Whether `key` was published by this process (so its digest is known).
    fn known(&self, key: CacheKey) -> bool {
        self.lock().contains_key(&key)
    }

    /// The entries whose bytes differ from what was last published, with their digests.
    fn changed(&self, entries: Vec<(CacheKey, Bytes)>) -> Vec<(CacheKey, Bytes, u64)> {
        let published = self.lock();
        entries
            .into_iter()
            .map(|(k, b)| {
                let d = Self::digest(&b);
                (k, b, d)
            })
            .filter(|(k, _, d)| published.get(k) != Some(d))
            .collect()
    }

    fn record(&self, written: &[(CacheKey, u64)]) {
        self.lock().extend(written.iter().copied());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, u64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Writes the entries that differ from what was last published through to the cache, and
/// records them once the cache took them (a write while Redis is away counts: the cache
/// rewarms Redis itself). Without a [`Published`] record, everything is written.
async fn put_changed(
    cache: &crate::cache::Cache,
    published: Option<&Published>,
    entries: Vec<(CacheKey, Bytes)>,
) {
    let changed = match published {
        Some(p) => p.changed(entries),
        None => entries.into_iter().map(|(k, b)| (k, b, 0)).collect(),
    };
    if changed.is_empty() {
        return;
    }
    let digests: Vec<(CacheKey, u64)> = changed.iter().map(|(k, _, d)| (*k, *d)).collect();
    let entries = changed.into_iter().map(|(k, b, _)| (k, b)).collect();
    match cache.put(entries).await {
        Ok(_) => {
            if let Some(p) = published {
                p.record(&digests);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metadata not written through to the cache"),
    }
}

/// Publishes what a bootstrap sync leaves: the five object datasets as the sync built them (no
/// read back), and the price snapshot from PostgreSQL, each that differs from what was last
/// published — whether this sync changed it or an earlier publish was lost. Only a sync of the
/// current season is published; an older season's payload changes nothing readers see.
pub async fn publish_sync(
    db: &PgPool,
    cache: &crate::cache::Cache,
    published: Option<&Published>,
    report: &SyncReport,
) {
    match super::sync::current_season(db).await {
        Ok(Some((current, _))) if current == report.season_id => {}
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "not published: the current season is unknown");
            return;
        }
    }
    let mut entries: Vec<(CacheKey, Bytes)> = report
        .arrays
        .iter()
        .filter_map(|(name, array)| {
            let dataset = BOOTSTRAP_DATASETS
                .into_iter()
                .find(|d| table(*d) == Some(*name))?;
            Some((CacheKey::Meta(dataset), array.clone()))
        })
        .collect();
    // The price snapshot is read back only when it moved or was never published here.
    let values = CacheKey::Meta(MetaDataset::PlayerValues);
    let moved = report.counts("player_values");
    if moved.inserted + moved.updated > 0 || !published.is_some_and(|p| p.known(values)) {
        match load(db, MetaDataset::PlayerValues).await {
            Ok(Some(bytes)) => entries.push((values, bytes)),
            Ok(None) => {}
            Err(e) => tracing::warn!(dataset = "player_values", error = %e, "not published"),
        }
    }
    put_changed(cache, published, entries).await;
}

/// Lets the cache read `meta:*` keys through from PostgreSQL.
pub fn register_loader(loaders: &Loaders, db: PgPool) {
    loaders.register(Family::Meta, move |key| {
        let db = db.clone();
        async move {
            match key {
                CacheKey::Meta(dataset) => Ok(load(&db, dataset).await?),
                other => Err(anyhow::anyhow!("{other} is not a metadata key")),
            }
        }
    });
}

/// Reads `datasets` as committed and writes those that differ from what was last published
/// through to both cache tiers as one revision. `changed` says a write of the caller changed
/// them; without it, only datasets never published by this process are read. A cache that
/// cannot take them is logged, never fatal: PostgreSQL has the data and readers fall back to it.
pub async fn publish(
    db: &PgPool,
    cache: &crate::cache::Cache,
    published: Option<&Published>,
    datasets: &[MetaDataset],
    changed: bool,
) {
    let mut entries = Vec::new();
    for &dataset in datasets {
        let key = CacheKey::Meta(dataset);
        if !changed && published.is_some_and(|p| p.known(key)) {
            continue;
        }
        match load(db, dataset).await {
            Ok(Some(bytes)) => entries.push((key, bytes)),
            Ok(None) => {}
            Err(e) => tracing::warn!(dataset = dataset.as_str(), error = %e, "not published"),
        }
    }
    put_changed(cache, published, entries).await;
}
