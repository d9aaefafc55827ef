//! The tournament documents in the cache (`tournament:{id}:standings`, `:entries`, `:results`)
//! and the loader that reads an expired one through from PostgreSQL.

use sqlx::PgPool;

use super::standings::load;
use crate::cache::{Cache, CacheKey, Family, Loaders, TournamentDataset};
use crate::tournament::model::TournamentId;

/// Publishes a tournament's standings, entries and latest results as one revision; a cache that
/// cannot take them is logged, never fatal (PostgreSQL has them and the loader reads them back).
pub async fn publish(db: &PgPool, cache: &Cache, id: TournamentId) {
    let mut entries = Vec::new();
    for dataset in [
        TournamentDataset::Standings,
        TournamentDataset::Entries,
        TournamentDataset::Results,
    ] {
        match load(db, id.0 as u64, dataset).await {
            Ok(Some(bytes)) => entries.push((
                CacheKey::Tournament {
                    id: id.0 as u64,
                    dataset,
                },
                bytes,
            )),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, tournament = id.0, "tournament dataset not read"),
        }
    }
    if entries.is_empty() {
        return;
    }
    if let Err(e) = cache.put(entries).await {
        tracing::warn!(error = %e, tournament = id.0, "tournament standings not written through to the cache");
    }
}

/// Lets the cache read `tournament:{id}:*` keys through from PostgreSQL.
pub fn register_loader(loaders: &Loaders, db: PgPool) {
    loaders.register(Family::Tournament, move |key| {
        let db = db.clone();
        async move {
            let CacheKey::Tournament { id, dataset } = key else {
                return Err(anyhow::anyhow!("{key} is not a tournament key"));
            };
            Ok(load(&db, id, dataset).await?)
        }
    });
}
