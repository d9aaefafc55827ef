//! Price reads from the daily snapshots in `player_values` (one row per player per day, written
//! by every bootstrap): a day's price changes — players whose price differs from their previous
//! stored day — and one player's price history. Both page by a key (the player id, the day) so a
//! page never shifts when rows arrive.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;

use super::SeasonId;
use crate::fpl::model::ElementId;
use crate::store::StoreError;

/// A player whose price on a day differs from his previous stored day's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DayPriceChange {
    /// The player (element) id.
    pub element: i32,
    pub web_name: Option<String>,
    pub team: Option<i32>,
    pub element_type: Option<i32>,
    /// The price on the previous stored day, in tenths of a million.
    pub old_cost: i32,
    /// The price on the day, in tenths of a million.
    pub new_cost: i32,
}

/// One day's price of a player.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PricePoint {
    pub day: NaiveDate,
    /// In tenths of a million.
    pub now_cost: i32,
    pub selected_by_percent: f32,
    pub transfers_in_event: i64,
    pub transfers_out_event: i64,
}

/// The latest day with a price snapshot in `season`.
pub async fn latest_day(db: &PgPool, season: SeasonId) -> Result<Option<NaiveDate>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT max(day) FROM player_values WHERE season_id = $1")
            .bind(season.0)
            .fetch_one(db)
            .await?,
    )
}

/// The price changes of `day`, by player id after `after`, at most `limit` of them.
pub async fn changes(
    db: &PgPool,
    season: SeasonId,
    day: NaiveDate,
    after: ElementId,
    limit: u32,
) -> Result<Vec<DayPriceChange>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT v.player_id AS element, p.web_name, p.team_id AS team, p.element_type, \
         prev.now_cost AS old_cost, v.now_cost AS new_cost \
         FROM player_values v \
         JOIN LATERAL (SELECT w.now_cost FROM player_values w WHERE w.season_id = v.season_id \
              AND w.player_id = v.player_id AND w.day < v.day ORDER BY w.day DESC LIMIT 1) prev \
              ON prev.now_cost <> v.now_cost \
         LEFT JOIN players p ON p.season_id = v.season_id AND p.id = v.player_id \
         WHERE v.season_id = $1 AND v.day = $2 AND v.player_id > $3 \
         ORDER BY v.player_id LIMIT $4",
    )
    .bind(season.0)
    .bind(day)
    .bind(i64::from(after.0))
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?)
}

/// Whether `player` is one of `season`'s players.
pub async fn player_exists(
    db: &PgPool,
    season: SeasonId,
    player: ElementId,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM players WHERE season_id = $1 AND id = $2)",
        )
        .bind(season.0)
        .bind(i64::from(player.0))
        .fetch_one(db)
        .await?,
    )
}

/// `player`'s daily prices after `after` (all when `None`), oldest first, at most `limit`.
pub async fn history(
    db: &PgPool,
    season: SeasonId,
    player: ElementId,
    after: Option<NaiveDate>,
    limit: u32,
) -> Result<Vec<PricePoint>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT day, now_cost, selected_by_percent, transfers_in_event, transfers_out_event \
         FROM player_values WHERE season_id = $1 AND player_id = $2 \
         AND ($3::date IS NULL OR day > $3) ORDER BY day LIMIT $4",
    )
    .bind(season.0)
    .bind(i64::from(player.0))
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?)
}
