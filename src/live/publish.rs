//! The live data in the cache: a snapshot published as one revision of `live:{event}`
//! (`elements`, `fixtures`, `entries.{0..63}`), and the loader that reads an expired key
//! through from PostgreSQL.

use bytes::Bytes;
use sqlx::PgPool;

use super::scores::manager_scores;
use super::store::stored_rows;
use crate::cache::{CacheKey, LiveDataset};
use crate::fpl::model::Fixture;
use crate::jobs::JobContext;
use crate::managers;
use crate::meta::sync::current_season;
use crate::scoring::LiveRow;

/// Publishes the snapshot's players and fixtures to the cache as one revision; a cache that
/// cannot take it is logged, never fatal.
pub async fn publish(
    ctx: &JobContext,
    event: u16,
    rows: &[LiveRow],
    fixtures: &[Fixture],
    scores: &managers::Scoreboard,
) {
    let key = |dataset| CacheKey::Live {
        event: u32::from(event),
        dataset,
    };
    let mut entries = vec![
        (
            key(LiveDataset::Elements),
            Bytes::from(serde_json::to_vec(rows).expect("rows serialise")),
        ),
        (
            key(LiveDataset::Fixtures),
            Bytes::from(serde_json::to_vec(&by_id(fixtures)).expect("fixtures serialise")),
        ),
    ];
    entries.extend(scores.shards());
    if let Err(e) = ctx.deps.cache.put(entries).await {
        tracing::warn!(error = %e, event, "live snapshot not written through to the cache");
    }
}

/// The fixtures in id order, as the loader reads them back from PostgreSQL: the same dataset,
/// whichever wrote it (FPL answers in kick-off order).
fn by_id(fixtures: &[Fixture]) -> Vec<&Fixture> {
    let mut sorted: Vec<&Fixture> = fixtures.iter().collect();
    sorted.sort_by_key(|f| f.id);
    sorted
}

/// Lets the cache read `live:{event}:*` keys through from PostgreSQL once they expire: players
/// and fixtures as stored, managers' scores recomputed from the stored points and picks.
pub fn register_loader(loaders: &crate::cache::Loaders, db: PgPool, configured: Vec<u64>) {
    loaders.register(crate::cache::Family::Live, move |key| {
        let db = db.clone();
        let configured = configured.clone();
        async move {
            let CacheKey::Live { event, dataset } = key else {
                return Err(anyhow::anyhow!("{key} is not a live key"));
            };
            let event = u16::try_from(event)?;
            let Some((season, _)) = current_season(&db).await? else {
                return Ok(None);
            };
            match dataset {
                LiveDataset::Entries(shard) => {
                    let rows = stored_rows(&db, season, event).await?;
                    if rows.is_empty() {
                        return Ok(None);
                    }
                    let n = u64::from(LiveDataset::ENTRY_SHARDS);
                    let tracked: Vec<u64> = managers::tracked(&db, &configured)
                        .await?
                        .into_iter()
                        .filter(|e| e % n == u64::from(shard))
                        .collect();
                    let scores = manager_scores(&db, season, event, &tracked, &rows, None).await?;
                    Ok(Some(scores.shard(shard)))
                }
                LiveDataset::Elements => {
                    let text: Option<String> = sqlx::query_scalar(
                        "SELECT json_agg(json_build_object('id', l.player_id, 'points', l.points, \
                         'minutes', l.minutes, 'bonus', l.bonus, \
                         'bonus_provisional', l.bonus_provisional, \
                         'element_type', p.element_type, 'done', l.done) \
                         ORDER BY l.player_id)::text FROM live_player_points l \
                         JOIN players p ON p.season_id = l.season_id AND p.id = l.player_id \
                         WHERE l.season_id = $1 AND l.event_id = $2",
                    )
                    .bind(season.0)
                    .bind(i32::from(event))
                    .fetch_one(&db)
                    .await?;
                    Ok(text.map(Bytes::from))
                }
                LiveDataset::Fixtures => {
                    let text: Option<String> = sqlx::query_scalar(
                        "SELECT '[' || string_agg(data, ',' ORDER BY id) || ']' FROM fixtures \
                         WHERE season_id = $1 AND event_id = $2",
                    )
                    .bind(season.0)
                    .bind(i32::from(event))
                    .fetch_one(&db)
                    .await?;
                    Ok(text.map(Bytes::from))
                }
            }
        }
    });
}
