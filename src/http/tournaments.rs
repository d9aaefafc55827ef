//! `/tournaments`: create (roster read from FPL, or an explicit list), list, show, standings
//! (through the cache), and state changes (`activate`, `archive`, `sync-roster`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, ApiState, ok};
use crate::cache::{CacheKey, TournamentDataset};
use crate::tournament::TournamentId;
use crate::tournament::model::NewTournament;
use crate::tournament::store::{self, TournamentError};

impl From<TournamentError> for ApiError {
    fn from(e: TournamentError) -> Self {
        match e {
            TournamentError::NotFound(id) => {
                ApiError::not_found("tournament_not_found", format!("no tournament {id}"))
            }
            TournamentError::State { code, message } => ApiError::conflict(code, message),
            TournamentError::Invalid(e) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_tournament", e.0)
            }
            TournamentError::UnknownLeague { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_league",
                e.to_string(),
            ),
            TournamentError::Fpl(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "fpl_unavailable", e.to_string())
                    .retry_after(30)
            }
            TournamentError::Store(e) => e.into(),
        }
    }
}

pub async fn create(state: web::Data<ApiState>, body: Bytes) -> Result<HttpResponse, ApiError> {
    let def: NewTournament = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("tournament: {e}")))?;
    def.validate().map_err(TournamentError::from)?;
    let row = store::create(&state.db, &state.fpl, &def).await?;
    let (row, n) = store::get(&state.db, row.id())
        .await?
        .ok_or(TournamentError::NotFound(row.id()))?;
    Ok(HttpResponse::Created().json(row.view(n)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
}

pub async fn list(
    state: web::Data<ApiState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(s) = q
        .state
        .as_deref()
        .filter(|s| !["draft", "active", "archived"].contains(s))
    {
        return Err(ApiError::bad_request(
            "invalid_state",
            format!("state `{s}`: one of draft, active, archived"),
        ));
    }
    let rows = store::list(&state.db, q.state.as_deref()).await?;
    let tournaments: Vec<_> = rows.iter().map(|(r, n)| r.view(*n)).collect();
    Ok(ok(&json!({ "tournaments": tournaments })))
}

fn id_of(raw: i64) -> Result<TournamentId, ApiError> {
    if raw < 1 {
        return Err(ApiError::bad_request(
            "invalid_path",
            "a tournament id is positive",
        ));
    }
    Ok(TournamentId(raw))
}

pub async fn get(
    state: web::Data<ApiState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(path.into_inner())?;
    let (row, n) = store::get(&state.db, id)
        .await?
        .ok_or(TournamentError::NotFound(id))?;
    Ok(ok(&row.view(n)))
}

pub async fn standings(
    state: web::Data<ApiState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(path.into_inner())?;
    store::get(&state.db, id)
        .await?
        .ok_or(TournamentError::NotFound(id))?;
    let key = CacheKey::Tournament {
        id: id.0 as u64,
        dataset: TournamentDataset::Standings,
    };
    let bytes = state
        .cache
        .get(key)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cache_unavailable",
                format!("{key}: {e}"),
            )
            .retry_after(2)
        })?
        .ok_or_else(|| {
            ApiError::not_found(
                "no_data",
                format!("tournament {id} has no standings yet: activate it first"),
            )
        })?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(bytes))
}

pub async fn change(
    state: web::Data<ApiState>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (raw, action) = path.into_inner();
    let id = id_of(raw)?;
    let row = match action.as_str() {
        "activate" => store::activate(&state.db, &state.cache, id).await?,
        "archive" => store::archive(&state.db, id).await?,
        "sync-roster" => store::sync_roster(&state.db, &state.fpl, id).await?,
        other => {
            return Err(ApiError::not_found(
                "unknown_action",
                format!("no tournament action `{other}` (activate, archive, sync-roster)"),
            ));
        }
    };
    let (row, n) = store::get(&state.db, id)
        .await?
        .ok_or(TournamentError::NotFound(row.id()))?;
    Ok(ok(&row.view(n)))
}
