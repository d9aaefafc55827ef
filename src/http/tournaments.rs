//! `/tournaments`: create (an explicit list is the roster at once; a league's is read by the
//! `tournament-roster` job, asked for here and answered with its run id at once), list, show,
//! standings (through the cache), and state changes (`activate`, `archive`, `sync-roster`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;

use std::collections::HashMap;

use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::cache::{CacheKey, TournamentDataset};
use crate::jobs::RequestError;
use crate::run::{RunId, Trigger};
use crate::tournament::model::{NewTournament, Source};
use crate::tournament::store::{self, TournamentError};
use crate::tournament::{RosterParams, TOURNAMENT_ROSTER, TournamentId};

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

#[utoipa::path(post, path = "/tournaments", operation_id = "create_tournament", tag = "tournaments",
    request_body(content = Object, description = "`{\"name\", \"source\": {\"classic_league\": ID} | \
        {\"h2h_league\": ID} | {\"entries\": [ID, …]}, \"group_stage\": {\"mode\": \"none\" | \
        \"points_race\" | \"battle_race\", \"groups\", \"qualifiers_per_group\", \"first_event\", \
        \"last_event\"}, \"knockout\": {\"mode\": \"none\" | \"single\" | \"two_legs\", \
        \"first_event\"}, \"cup\": bool}`"),
    responses(
        (status = 201, description = "The draft tournament, its roster the given list", body = Object),
        (status = 202, description = "The draft tournament; its league's roster is read by the \
            `tournament-roster` run `run_id` (`roster.state`: pending → reading → ready or failed)", body = Object),
        (status = 400, description = "`invalid_json`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a body not sent as \
            `application/json`", body = ErrorBody),
        (status = 422, description = "`invalid_tournament`", body = ErrorBody),
        (status = 429, description = "`mailbox_full`: the roster job's queue is full (the tournament \
            is created; `sync-roster` asks again)", body = ErrorBody),
        (status = 503, description = "`database_unavailable`, `not_leader`, `actor_unavailable`", body = ErrorBody)))]
pub async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    super::require_json(&req, &body)?;
    let def: NewTournament = super::json_body(&body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("tournament: {e}")))?;
    def.validate().map_err(TournamentError::from)?;
    let league = !matches!(def.source, Source::Entries(_));
    if league {
        // Only the leader runs the roster job.
        super::require_leader(&state)?;
    }
    let row = store::create(&state.db, &def).await?;
    let run = if league {
        Some(read_roster(&state, row.id()).await?)
    } else {
        None
    };
    let (row, n) = store::get(&state.db, row.id())
        .await?
        .ok_or(TournamentError::NotFound(row.id()))?;
    let mut view = row.view(n);
    view["run_id"] = json!(run);
    Ok(match run {
        Some(_) => HttpResponse::Accepted().json(view),
        None => HttpResponse::Created().json(view),
    })
}

/// Asks for a `tournament-roster` run of `id` and records it on the tournament.
async fn read_roster(state: &ApiState, id: TournamentId) -> Result<RunId, ApiError> {
    let wait = std::time::Duration::from_millis(state.settings.http.enqueue_timeout_ms);
    let params = RosterParams { tournament: id };
    match state
        .directory
        .request(TOURNAMENT_ROSTER, &params, Trigger::Manual, wait)
        .await
    {
        Ok(e) => {
            store::set_read_run(&state.db, id, e.run_id.0).await?;
            Ok(e.run_id)
        }
        Err(e @ RequestError::MailboxFull { .. }) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "mailbox_full",
            format!("tournament {id} is created but its roster read was not queued: {e}"),
        )
        .retry_after(state.settings.http.retry_after_secs)),
        Err(e) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "actor_unavailable",
            format!("tournament {id} is created but its roster read was not queued: {e}"),
        )
        .retry_after(2)),
    }
}

/// A tournament's state, as the `state` filter names it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // the document's enum; the handler checks the text (`invalid_state`)
enum StateName {
    Draft,
    Active,
    Archived,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only tournaments in this state.
    #[param(value_type = Option<StateName>, inline)]
    state: Option<String>,
}

#[utoipa::path(get, path = "/tournaments", operation_id = "list_tournaments", tag = "tournaments",
    params(ListQuery),
    responses(
        (status = 200, description = "Tournaments, newest first", body = Object),
        (status = 400, description = "`invalid_query`, `invalid_state`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn list(
    state: web::Data<ApiState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    super::error::one_of(
        q.state.as_deref(),
        "state",
        &["draft", "active", "archived"],
        "invalid_state",
    )?;
    let rows = store::list(&state.db, q.state.as_deref()).await?;
    let tournaments: Vec<_> = rows.iter().map(|(r, n)| r.view(*n)).collect();
    Ok(ok(&json!({ "tournaments": tournaments })))
}

/// The JSON schema of `POST /tournaments`' body, for the OpenAPI document: the shape serde
/// accepts (anything else is 400 `invalid_json`) and the bounds `NewTournament::validate`
/// checks field by field (422 `invalid_tournament`). Rules across fields — gameweeks in order,
/// a knockout after the groups — are the 422's alone.
pub(super) fn create_schema() -> serde_json::Value {
    use crate::tournament::model::{LAST_EVENT, MAX_LISTED_ENTRIES};
    let id = json!({"type": "integer", "minimum": 1, "maximum": i64::MAX});
    let event = json!({"type": "integer", "minimum": 1, "maximum": LAST_EVENT});
    let one = |key: &str, schema: serde_json::Value| {
        json!({"type": "object", "additionalProperties": false, "required": [key],
            "properties": {key: schema}})
    };
    let none = json!({"type": "object", "additionalProperties": false, "required": ["mode"],
        "properties": {"mode": {"type": "string", "enum": ["none"]}}});
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "source"],
        "properties": {
            "name": {
                "type": "string", "minLength": 1, "maxLength": 200,
                "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*\\S[^\\u0000-\\u001f\\u007f-\\u009f]*$",
                "description": "1 to 200 characters, not all blank, no control characters"
            },
            "source": {"oneOf": [
                one("classic_league", id.clone()),
                one("h2h_league", id.clone()),
                one("entries", json!({"type": "array", "items": id, "minItems": 2,
                    "maxItems": MAX_LISTED_ENTRIES, "uniqueItems": true})),
            ]},
            "group_stage": {"oneOf": [none.clone(), {
                "type": "object", "additionalProperties": false,
                "required": ["mode", "groups", "first_event", "last_event"],
                "properties": {
                    "mode": {"type": "string", "enum": ["points_race", "battle_race"]},
                    "groups": {"type": "integer", "minimum": 1, "maximum": u32::MAX},
                    "qualifiers_per_group": {"type": "integer", "minimum": 0, "maximum": u32::MAX},
                    "first_event": event.clone(),
                    "last_event": event.clone(),
                },
            }]},
            "knockout": {"oneOf": [none, {
                "type": "object", "additionalProperties": false,
                "required": ["mode", "first_event"],
                "properties": {
                    "mode": {"type": "string", "enum": ["single", "two_legs"]},
                    "first_event": event,
                },
            }]},
            "cup": {"type": "boolean"},
        },
    })
}

fn id_of(raw: i64) -> Result<TournamentId, ApiError> {
    super::path_id(raw, "a tournament id").map(TournamentId)
}

#[utoipa::path(get, path = "/tournaments/{id}", operation_id = "get_tournament", tag = "tournaments",
    params(("id" = i64, Path, minimum = 1, description = "Tournament id")),
    responses(
        (status = 200, description = "The tournament with its stages and rounds", body = Object),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 404, description = "`tournament_not_found`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
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

#[utoipa::path(get, path = "/tournaments/{id}/standings", operation_id = "tournament_standings", tag = "tournaments",
    params(("id" = i64, Path, minimum = 1, description = "Tournament id")),
    responses(
        (status = 200, description = "Groups, knockout rounds, winners, champion", body = Object),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 404, description = "`tournament_not_found`, `no_data` (not activated)", body = ErrorBody),
        (status = 503, description = "`cache_unavailable`, `database_unavailable`", body = ErrorBody)))]
pub async fn standings(
    state: web::Data<ApiState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(path.into_inner())?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(published(&state, id).await?.1))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    /// The gameweek (default: the lifecycle's current one).
    #[param(minimum = 1, maximum = 60)]
    event: Option<u16>,
}

/// The standings with the tracked managers' live net points of a gameweek laid over them.
#[utoipa::path(get, path = "/tournaments/{id}/standings/live", operation_id = "tournament_standings_live", tag = "tournaments",
    params(("id" = i64, Path, minimum = 1, description = "Tournament id"), LiveQuery),
    responses(
        (status = 200, description = "The standings with `live` (`event`, `applied`); points \
            race rows gain `live_net_points`, `live_points`, `live_rank`; battle race rows \
            `live_net_points`; knockout matches of the gameweek `live` net points per side", body = Object),
        (status = 400, description = "`invalid_path`, `invalid_query`, `invalid_event`", body = ErrorBody),
        (status = 404, description = "`tournament_not_found`, `no_data` (not activated, or no \
            gameweek is current and none was given)", body = ErrorBody),
        (status = 500, description = "`corrupt_data`", body = ErrorBody),
        (status = 503, description = "`cache_unavailable`, `database_unavailable`", body = ErrorBody)))]
pub async fn standings_live(
    state: web::Data<ApiState>,
    path: web::Path<i64>,
    q: web::Query<LiveQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(path.into_inner())?;
    let event = q.event.or(state.lifecycle.get().event).ok_or_else(|| {
        ApiError::not_found("no_data", "no gameweek is current: give ?event=N (1..=60)")
    })?;
    if !(1..=60).contains(&event) {
        return Err(ApiError::bad_request(
            "invalid_event",
            format!("event {event} is not a gameweek (1..=60)"),
        ));
    }
    let (row, bytes) = published(&state, id).await?;
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_data",
            format!("cached standings do not decode: {e}"),
        )
    })?;
    let live: HashMap<u64, i32> = super::live::shards(&state, event, &all_shards())
        .await?
        .into_iter()
        .map(|(entry, s)| (entry, s.net_points))
        .collect();
    crate::tournament::live::overlay(&mut doc, &row, event, &live);
    Ok(ok(&doc))
}

fn all_shards() -> Vec<u8> {
    (0..crate::cache::LiveDataset::ENTRY_SHARDS).collect()
}

/// The tournament and its published standings document.
async fn published(
    state: &ApiState,
    id: TournamentId,
) -> Result<(crate::tournament::model::TournamentRow, Bytes), ApiError> {
    let (row, _) = store::get(&state.db, id)
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
    Ok((row, bytes))
}

#[utoipa::path(post, path = "/tournaments/{id}/{action}", operation_id = "change_tournament", tag = "tournaments",
    params(("id" = i64, Path, minimum = 1, description = "Tournament id"),
        ("action" = String, Path, description = "`activate`, `archive` or `sync-roster`",
            pattern = "^(activate|archive|sync-roster)$")),
    responses(
        (status = 200, description = "The tournament after the change", body = Object),
        (status = 202, description = "`sync-roster`: the tournament, its roster being read by the \
            `tournament-roster` run `run_id`", body = Object),
        (status = 400, description = "`invalid_path`", body = ErrorBody),
        (status = 404, description = "`tournament_not_found`, `unknown_action`", body = ErrorBody),
        (status = 409, description = "`invalid_state`, `not_a_league`, `roster_not_ready`", body = ErrorBody),
        (status = 422, description = "`invalid_tournament`: the roster does not fit", body = ErrorBody),
        (status = 429, description = "`mailbox_full`", body = ErrorBody),
        (status = 503, description = "`cache_unavailable`, `database_unavailable`, `not_leader`, \
            `actor_unavailable`", body = ErrorBody)))]
pub async fn change(
    state: web::Data<ApiState>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (raw, action) = path.into_inner();
    let id = id_of(raw)?;
    let row = match action.as_str() {
        "activate" => store::activate(&state.db, &state.cache, id).await?,
        "archive" => store::archive(&state.db, id).await?,
        "sync-roster" => {
            super::require_leader(&state)?;
            let row = store::request_read(&state.db, id).await?;
            let run = read_roster(&state, id).await?;
            let (row, n) = store::get(&state.db, row.id())
                .await?
                .ok_or(TournamentError::NotFound(id))?;
            let mut view = row.view(n);
            view["run_id"] = json!(run);
            return Ok(HttpResponse::Accepted().json(view));
        }
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
