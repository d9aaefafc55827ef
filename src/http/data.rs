//! `/data/*`: the metadata readers want, served through the cache (in-process tier, then Redis,
//! then PostgreSQL), so the cache is what these routes observe and measure.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::error::ErrorBody;
use super::{ApiError, ApiState};
use crate::cache::{CacheError, CacheKey, MetaDataset};

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

/// The current season's gameweeks (FPL's event objects).
#[utoipa::path(get, path = "/data/events", tag = "data", responses(
    (status = 200, description = "FPL's event objects", body = Vec<Object>),
    (status = 404, description = "`no_data` (before the first bootstrap)", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`", body = ErrorBody)))]
pub async fn events(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    Ok(json(dataset(&state, MetaDataset::Events).await?))
}

/// The current season's teams (FPL's team objects).
#[utoipa::path(get, path = "/data/teams", tag = "data", responses(
    (status = 200, description = "FPL's team objects", body = Vec<Object>),
    (status = 404, description = "`no_data` (before the first bootstrap)", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`", body = ErrorBody)))]
pub async fn teams(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    Ok(json(dataset(&state, MetaDataset::Teams).await?))
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
}

/// Players (FPL's element objects), optionally of one team and/or position.
#[utoipa::path(get, path = "/data/players", tag = "data", params(PlayersQuery), responses(
    (status = 200, description = "FPL's element objects", body = Vec<Object>),
    (status = 400, description = "`invalid_query`", body = ErrorBody),
    (status = 404, description = "`no_data` (before the first bootstrap)", body = ErrorBody),
    (status = 500, description = "`corrupt_data`: the stored dataset does not decode", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`", body = ErrorBody)))]
pub async fn players(
    state: web::Data<ApiState>,
    q: web::Query<PlayersQuery>,
) -> Result<HttpResponse, ApiError> {
    if q.team == Some(0) || q.position == Some(0) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "team and position are ids from 1",
        ));
    }
    let bytes = dataset(&state, MetaDataset::Players).await?;
    if q.team.is_none() && q.position.is_none() {
        return Ok(json(bytes));
    }
    filtered(&bytes, &[("team", q.team), ("element_type", q.position)])
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FixturesQuery {
    /// Gameweek.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295_i64)]
    event: Option<u32>,
}

/// Fixtures with their stats, optionally of one gameweek.
#[utoipa::path(get, path = "/data/fixtures", tag = "data", params(FixturesQuery), responses(
    (status = 200, description = "FPL's fixture objects", body = Vec<Object>),
    (status = 400, description = "`invalid_query`", body = ErrorBody),
    (status = 404, description = "`no_data` (before the first bootstrap)", body = ErrorBody),
    (status = 500, description = "`corrupt_data`: the stored dataset does not decode", body = ErrorBody),
    (status = 503, description = "`cache_unavailable`", body = ErrorBody)))]
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
    let bytes = dataset(&state, MetaDataset::Fixtures).await?;
    match q.event {
        None => Ok(json(bytes)),
        Some(_) => filtered(&bytes, &[("event", q.event)]),
    }
}
