//! The metadata datasets readers get, behind the cache's `meta:*` keys and the `/data/*` routes:
//! each a JSON array of the current season's API objects in id order, built by PostgreSQL
//! (`json_agg`) straight from the stored `data` columns, and the loader that lets the cache read
//! them through on a miss.

use bytes::Bytes;
use sqlx::PgPool;

use super::sync::SyncReport;
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

const CURRENT_SEASON: &str = "(SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1)";

/// The dataset of the most recent season as JSON bytes; `None` before the first bootstrap (or
/// for a dataset no job stores yet).
pub async fn load(db: &PgPool, dataset: MetaDataset) -> Result<Option<Bytes>, StoreError> {
    // Table names come from the enum above, never from input.
    let sql = match (dataset, table(dataset)) {
        // The stored texts joined as they are (no re-serialising), as a sync publishes them.
        (_, Some(table)) => format!(
            "SELECT '[' || COALESCE(string_agg(t.data, ',' ORDER BY t.id), '') || ']' \
             FROM {table} t WHERE t.season_id = {CURRENT_SEASON} \
             HAVING EXISTS (SELECT 1 FROM seasons)"
        ),
        // The latest day's price snapshot.
        (MetaDataset::PlayerValues, None) => format!(
            "SELECT COALESCE(json_agg(json_build_object('element', v.player_id, 'day', v.day, \
             'now_cost', v.now_cost, 'selected_by_percent', v.selected_by_percent, \
             'transfers_in_event', v.transfers_in_event, \
             'transfers_out_event', v.transfers_out_event) ORDER BY v.player_id), '[]'::json)::text \
             FROM player_values v WHERE v.season_id = {CURRENT_SEASON} AND v.day = \
             (SELECT max(day) FROM player_values WHERE season_id = {CURRENT_SEASON}) \
             HAVING EXISTS (SELECT 1 FROM seasons)"
        ),
        _ => return Ok(None),
    };
    let text: Option<String> = sqlx::query_scalar(&sql).fetch_optional(db).await?;
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

/// Publishes what a bootstrap sync wrote: the five object datasets as the sync built them (no
/// read back), and the price snapshot from PostgreSQL. Only a sync of the current season is
/// published; an older season's payload changes nothing readers see.
pub async fn publish_sync(db: &PgPool, cache: &crate::cache::Cache, report: &SyncReport) {
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
    match load(db, MetaDataset::PlayerValues).await {
        Ok(Some(bytes)) => entries.push((CacheKey::Meta(MetaDataset::PlayerValues), bytes)),
        Ok(None) => {}
        Err(e) => tracing::warn!(dataset = "player_values", error = %e, "not published"),
    }
    if let Err(e) = cache.put(entries).await {
        tracing::warn!(error = %e, "metadata not written through to the cache");
    }
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

/// Reads `datasets` as just committed and writes them through to both cache tiers as one
/// revision. A cache that cannot take them is logged, never fatal: PostgreSQL has the data and
/// readers fall back to it.
pub async fn publish(db: &PgPool, cache: &crate::cache::Cache, datasets: &[MetaDataset]) {
    let mut entries = Vec::new();
    for &dataset in datasets {
        match load(db, dataset).await {
            Ok(Some(bytes)) => entries.push((CacheKey::Meta(dataset), bytes)),
            Ok(None) => {}
            Err(e) => tracing::warn!(dataset = dataset.as_str(), error = %e, "not published"),
        }
    }
    if entries.is_empty() {
        return;
    }
    if let Err(e) = cache.put(entries).await {
        tracing::warn!(error = %e, "metadata not written through to the cache");
    }
}
