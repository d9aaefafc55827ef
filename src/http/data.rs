//! `/data/*`: the metadata readers want. The current season's is served through the cache
//! (in-process tier, then Redis, then PostgreSQL), so the cache is what these routes observe and
//! measure; an older season's (`?season=2025-26`) is read from PostgreSQL, where every season
//! stays after the rollover. `/data/seasons` lists them; `/data/gameweeks/{event}` says what a
//! gameweek is made of (fixtures, double and blank teams, the season's postponed fixtures).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::error::ErrorBody;
use super::{ApiError, ApiState};
use crate::cache::{CacheError, CacheKey, MetaDataset};
use crate::meta::SeasonId;
use crate::meta::datasets::load_season;
use crate::meta::seasons::{self, Gameweek, Season};
use crate::meta::sync::current_season;

async fn dataset(state: &ApiState, dataset: MetaDataset) -> Result<Bytes, ApiError> {
    state
        .cache
        .get(CacheKey::Meta(dataset))
        .await
        .map_err(|e: CacheError| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cache_unavailable",
                format!("{}: {e}", dataset.as_str()),
            )
            .retry_after(2)
        })?
        .ok_or_else(|| {
            ApiError::not_found(
                "no_data",
                format!(
                    "no {} yet: metadata arrives with the first bootstrap run",
                    dataset.as_str()
                ),
            )
        })
}

/// `?season=`: which season's data, by name; the current one when absent.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SeasonQuery {
    /// A stored season (`2025-26`, see `/data/seasons`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
}

/// The season a `?season=` names: `None` for the current one (served through the cache).
async fn older_season(state: &ApiState, name: Option<&str>) -> Result<Option<SeasonId>, ApiError> {
    let Some(name) = name else {
        return Ok(None);
    };
    let shaped = name.len() == 7
        && name.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(ApiError::bad_request(
            "invalid_query",
            "season is written as two consecutive years, e.g. 2025-26",
        ));
    }
    // Shaped like one but no season (`2025-27`): not stored, like any season never synced.
    let stored = if seasons::valid_name(name) {
        seasons::named(&state.db, name).await?
    } else {
        None
    };
    let season = stored.ok_or_else(|| {
        ApiError::not_found(
            "unknown_season",
            format!("no season {name} is stored (see /data/seasons)"),
        )
    })?;
    let current = current_season(&state.db).await?.map(|(id, _)| id);
    Ok((current != Some(season)).then_some(season))
}

/// The season `?season=` names, the current one when absent: 404 `no_data` before the first
/// bootstrap.
pub(super) async fn season_id(state: &ApiState, name: Option<&str>) -> Result<SeasonId, ApiError> {
    if let Some(id) = older_season(state, name).await? {
        return Ok(id);
    }
    Ok(current_season(&state.db)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "no_data",
                "no season yet: metadata arrives with the first bootstrap run",
            )
        })?
        .0)
}

/// `dataset` of the season `?season=` names: the current one's through the cache, an older
/// one's from PostgreSQL.
async fn season_dataset(
    state: &ApiState,
    season: Option<&str>,
    which: MetaDataset,
) -> Result<Bytes, ApiError> {
    match older_season(state, season).await? {
        None => dataset(state, which).await,
        Some(id) => load_season(&state.db, Some(id), which)
            .await?
            .ok_or_else(|| ApiError::not_found("no_data", format!("no {}", which.as_str()))),
    }
}

fn json(bytes: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(bytes)
}

/// The objects of `bytes` (a JSON array) whose `field` equals `value`.
fn filtered(bytes: &Bytes, filters: &[(&str, Option<u32>)]) -> Result<HttpResponse, ApiError> {
    let all: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_data",
            format!("cached dataset does not decode: {e}"),
        )
    })?;
    let kept: Vec<&Value> = all
        .iter()
        .filter(|item| {
            filters.iter().all(|(field, wanted)| {
                wanted.is_none_or(|w| item[*field].as_u64() == Some(u64::from(w)))
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(kept))
}

/// A season's gameweeks (FPL's event objects).
#[utoipa::path(get, path = "/data/events", tag = "data", params(SeasonQuery), responses(
    (status = 200, description = "FPL's event objects", body = Vec<Object>),
    (status = 400, description = "`invalid_query`", body = ErrorBody),
    (status = 404, description = "`no_data` (before the first bootstrap), `unknown_season`", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`, `database_unavailable`", body = ErrorBody)))]
pub async fn events(
    state: web::Data<ApiState>,
    q: web::Query<SeasonQuery>,
) -> Result<HttpResponse, ApiError> {
    let season = q.season.as_deref();
    Ok(json(
        season_dataset(&state, season, MetaDataset::Events).await?,
    ))
}

/// A season's teams (FPL's team objects).
#[utoipa::path(get, path = "/data/teams", tag = "data", params(SeasonQuery), responses(
    (status = 200, description = "FPL's team objects", body = Vec<Object>),
    (status = 400, description = "`invalid_query`", body = ErrorBody),
    (status = 404, description = "`no_data` (before the first bootstrap), `unknown_season`", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`, `database_unavailable`", body = ErrorBody)))]
pub async fn teams(
    state: web::Data<ApiState>,
    q: web::Query<SeasonQuery>,
) -> Result<HttpResponse, ApiError> {
    let season = q.season.as_deref();
    Ok(json(
        season_dataset(&state, season, MetaDataset::Teams).await?,
    ))
}

/// The seasons stored, the most recent (current) first.
#[utoipa::path(get, path = "/data/seasons", tag = "data", responses(
    (status = 200, description = "The seasons stored", body = Vec<Season>),
    (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn seasons(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(seasons::list(&state.db).await?))
}

/// What a gameweek is made of: its fixtures, the teams playing twice (double) or not at all
/// (blank) in it, and the season's fixtures without a gameweek (postponed).
#[utoipa::path(get, path = "/data/gameweeks/{event}", tag = "data",
    params(("event" = i64, Path, minimum = 1, maximum = 60, description = "Gameweek"), SeasonQuery),
    responses(
        (status = 200, description = "The gameweek", body = Gameweek),
        (status = 400, description = "`invalid_path`, `invalid_query`", body = ErrorBody),
        (status = 404, description = "`no_data` (no such gameweek), `unknown_season`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn gameweek(
    state: web::Data<ApiState>,
    path: web::Path<i64>,
    q: web::Query<SeasonQuery>,
) -> Result<HttpResponse, ApiError> {
    let raw = path.into_inner();
    let event = u16::try_from(super::path_id(raw, "a gameweek")?)
        .ok()
        .filter(|e| *e <= 60)
        .ok_or_else(|| {
            ApiError::bad_request("invalid_path", format!("a gameweek is 1..=60, got {raw}"))
        })?;
    let season = match older_season(&state, q.season.as_deref()).await? {
        Some(id) => id,
        None => {
            current_season(&state.db)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(
                        "no_data",
                        "no season yet: metadata arrives with the first bootstrap run",
                    )
                })?
                .0
        }
    };
    let gw = seasons::gameweek(&state.db, season, event)
        .await?
        .ok_or_else(|| ApiError::not_found("no_data", format!("the season has no GW{event}")))?;
    Ok(HttpResponse::Ok().json(gw))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlayersQuery {
    /// Team id.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295_i64)]
    team: Option<u32>,
    /// Element type id (1 goalkeepers, 2 defenders, 3 midfielders, 4 forwards).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295_i64)]
    position: Option<u32>,
    /// The player's `code`, which FPL keeps across seasons while ids change: with `season`,
    /// the same player in another season.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295_i64)]
    code: Option<u32>,
    /// A stored season (`2025-26`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
}

/// A season's players (FPL's element objects), optionally of one team, position and/or `code`.
#[utoipa::path(get, path = "/data/players", tag = "data", params(PlayersQuery), responses(
    (status = 200, description = "FPL's element objects", body = Vec<Object>),
    (status = 400, description = "`invalid_query`", body = ErrorBody),
    (status = 404, description = "`no_data` (before the first bootstrap), `unknown_season`", body = ErrorBody),
    (status = 500, description = "`corrupt_data`: the stored dataset does not decode", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`, `database_unavailable`", body = ErrorBody)))]
pub async fn players(
    state: web::Data<ApiState>,
    q: web::Query<PlayersQuery>,
) -> Result<HttpResponse, ApiError> {
    if q.team == Some(0) || q.position == Some(0) || q.code == Some(0) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "team, position and code are from 1",
        ));
    }
    let bytes = season_dataset(&state, q.season.as_deref(), MetaDataset::Players).await?;
    if q.team.is_none() && q.position.is_none() && q.code.is_none() {
        return Ok(json(bytes));
    }
    filtered(
        &bytes,
        &[
            ("team", q.team),
            ("element_type", q.position),
            ("code", q.code),
        ],
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FixturesQuery {
    /// Gameweek.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295_i64)]
    event: Option<u32>,
    /// A stored season (`2025-26`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
}

/// A season's fixtures with their stats, optionally of one gameweek. Postponed fixtures (no
/// gameweek yet: `event` and `kickoff_time` null) are in the whole list, not in a gameweek's.
#[utoipa::path(get, path = "/data/fixtures", tag = "data", params(FixturesQuery), responses(
    (status = 200, description = "FPL's fixture objects", body = Vec<Object>),
    (status = 400, description = "`invalid_query`", body = ErrorBody),
    (status = 404, description = "`no_data` (before the first bootstrap), `unknown_season`", body = ErrorBody),
    (status = 500, description = "`corrupt_data`: the stored dataset does not decode", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`, `database_unavailable`", body = ErrorBody)))]
pub async fn fixtures(
    state: web::Data<ApiState>,
    q: web::Query<FixturesQuery>,
) -> Result<HttpResponse, ApiError> {
    if q.event == Some(0) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "event is a gameweek from 1",
        ));
    }
    let bytes = season_dataset(&state, q.season.as_deref(), MetaDataset::Fixtures).await?;
    match q.event {
        None => Ok(json(bytes)),
        Some(_) => filtered(&bytes, &[("event", q.event)]),
    }
}
