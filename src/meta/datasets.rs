//! The metadata datasets readers get: each a JSON array of the current season's API objects in
//! id order, built by PostgreSQL (`json_agg`) straight from the stored `data` columns. These
//! back the cache's `meta:*` keys and the `/data/*` routes.

use bytes::Bytes;
use sqlx::PgPool;

use crate::store::StoreError;

/// A metadata dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaDataset {
    Phases,
    Teams,
    ElementTypes,
    Players,
    Events,
    Fixtures,
}

impl MetaDataset {
    pub const ALL: [MetaDataset; 6] = [
        MetaDataset::Phases,
        MetaDataset::Teams,
        MetaDataset::ElementTypes,
        MetaDataset::Players,
        MetaDataset::Events,
        MetaDataset::Fixtures,
    ];

    /// The dataset's name in cache keys (`meta:{name}`) and its table.
    pub fn name(self) -> &'static str {
        match self {
            MetaDataset::Phases => "phases",
            MetaDataset::Teams => "teams",
            MetaDataset::ElementTypes => "element_types",
            MetaDataset::Players => "players",
            MetaDataset::Events => "events",
            MetaDataset::Fixtures => "fixtures",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// The dataset of the most recent season as JSON bytes; `None` before the first bootstrap.
pub async fn load(db: &PgPool, dataset: MetaDataset) -> Result<Option<Bytes>, StoreError> {
    // The table name comes from the enum above, never from input.
    let sql = format!(
        "SELECT COALESCE(json_agg(t.data ORDER BY t.id), '[]'::json)::text FROM {} t \
         WHERE t.season_id = (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1) \
         HAVING EXISTS (SELECT 1 FROM seasons)",
        dataset.name()
    );
    let text: Option<String> = sqlx::query_scalar(&sql).fetch_optional(db).await?;
    Ok(text.map(Bytes::from))
}
