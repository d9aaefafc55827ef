//! `/data/prices/changes` (a day's price changes) and `/data/players/{id}/prices` (a player's
//! price history), from the daily price snapshots every bootstrap stores. Read from PostgreSQL,
//! of the current season or `?season=`; conditional (see [`super::conditional`]) with the
//! player-values class's TTL.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::conditional::respond_json;
use super::data::season_id;
use super::error::ErrorBody;
use super::{ApiError, ApiState};
use crate::cache::DataClass;
use crate::fpl::model::ElementId;
use crate::meta::prices::{self, DayPriceChange, PricePoint};

/// Most rows one page holds.
const MAX_PAGE: u32 = 1000;

fn limit(raw: Option<u32>) -> Result<u32, ApiError> {
    let limit = raw.unwrap_or(MAX_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1..={MAX_PAGE}"),
        ));
    }
    Ok(limit)
}

/// A day within the years PostgreSQL and FPL both know.
fn day(raw: Option<NaiveDate>, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    match raw {
        Some(d) if !(1..=9999).contains(&d.year()) => Err(ApiError::bad_request(
            "invalid_query",
            format!("{name} is a day of the years 1 to 9999"),
        )),
        other => Ok(other),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// A stored season (`2025-26`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
    /// The day (`YYYY-MM-DD`); the latest day with prices when absent.
    #[param(value_type = Option<String>, format = Date, example = "2026-01-17")]
    day: Option<NaiveDate>,
    /// Only players after this id (paging: the last page's `next_after`).
    #[param(minimum = 0, maximum = 4294967295_i64)]
    after: Option<u32>,
    /// At most this many (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A page of a day's price changes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ChangesPage {
    /// The day; null when the season has no price snapshot yet.
    #[schema(value_type = Option<String>, format = Date)]
    day: Option<NaiveDate>,
    changes: Vec<DayPriceChange>,
    /// The `after` of the next page; null on the last.
    next_after: Option<i32>,
}

/// A day's price changes: the players whose price differs from their previous stored day's, by
/// player id.
#[utoipa::path(get, path = "/data/prices/changes", operation_id = "price_changes", tag = "data",
    params(ChangesQuery,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer")),
    responses(
        (status = 200, description = "A page of the day's changes", body = ChangesPage, headers(
            ("ETag" = String, description = "The answer's tag"),
            ("Cache-Control" = String, description = "`private, max-age=` the player-values TTL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 404, description = "`no_data` (before the first bootstrap), `unknown_season`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn changes(
    req: HttpRequest,
    state: web::Data<ApiState>,
    q: web::Query<ChangesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = limit(q.limit)?;
    let wanted = day(q.day, "day")?;
    let season = season_id(&state, q.season.as_deref()).await?;
    let day = match wanted {
        Some(d) => Some(d),
        None => prices::latest_day(&state.db, season).await?,
    };
    let mut changes = match day {
        Some(day) => {
            let after = ElementId(q.after.unwrap_or(0));
            prices::changes(&state.db, season, day, after, limit + 1).await?
        }
        None => Vec::new(),
    };
    let next_after = (changes.len() > limit as usize).then(|| {
        changes.truncate(limit as usize);
        changes.last().map(|c| c.element)
    });
    let page = ChangesPage {
        day,
        changes,
        next_after: next_after.flatten(),
    };
    Ok(respond_json(&req, &state, DataClass::PlayerValues, &page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// A stored season (`2025-26`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
    /// Only days after this one (`YYYY-MM-DD`; paging: the last page's `next_after`).
    #[param(value_type = Option<String>, format = Date, example = "2026-01-17")]
    after: Option<NaiveDate>,
    /// At most this many days (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A page of a player's price history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PriceHistoryPage {
    element: u32,
    prices: Vec<PricePoint>,
    /// The `after` of the next page; null on the last.
    #[schema(value_type = Option<String>, format = Date)]
    next_after: Option<NaiveDate>,
}

/// A player's daily prices, oldest first.
#[utoipa::path(get, path = "/data/players/{id}/prices", operation_id = "player_prices", tag = "data",
    params(("id" = i64, Path, minimum = 1, maximum = 4294967295_i64, description = "Player (element) id"),
        HistoryQuery,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer")),
    responses(
        (status = 200, description = "A page of the player's prices", body = PriceHistoryPage, headers(
            ("ETag" = String, description = "The answer's tag"),
            ("Cache-Control" = String, description = "`private, max-age=` the player-values TTL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`invalid_path`, `invalid_query`", body = ErrorBody),
        (status = 404, description = "`player_not_found`, `no_data`, `unknown_season`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn history(
    req: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<i64>,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let player = u32::try_from(super::path_id(raw, "a player id")?)
        .map(ElementId)
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_path",
                format!("a player id is at most 2^32 - 1, got {raw}"),
            )
        })?;
    let limit = limit(q.limit)?;
    let after = day(q.after, "after")?;
    let season = season_id(&state, q.season.as_deref()).await?;
    if !prices::player_exists(&state.db, season, player).await? {
        return Err(ApiError::not_found(
            "player_not_found",
            format!("the season has no player {player}"),
        ));
    }
    let mut points = prices::history(&state.db, season, player, after, limit + 1).await?;
    let next_after = (points.len() > limit as usize).then(|| {
        points.truncate(limit as usize);
        points.last().map(|p| p.day)
    });
    let page = PriceHistoryPage {
        element: player.0,
        prices: points,
        next_after: next_after.flatten(),
    };
    Ok(respond_json(&req, &state, DataClass::PlayerValues, &page))
}
