//! `/data/managers…`: what the `entries` job stores about tracked managers — their summaries
//! (paged by entry id), one manager's FPL entry object and season history, and his gameweeks
//! (picks with the chip and automatic substitutions, official beside computed points, paged by
//! gameweek). Read from PostgreSQL, of the current season or `?season=`; conditional (see
//! [`super::conditional`]) with the `entries` class's TTL.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::conditional::respond_json;
use super::data::season_id;
use super::error::ErrorBody;
use super::{ApiError, ApiState};
use crate::cache::DataClass;
use crate::entries::read::{self, Manager, ManagerGameweek, ManagerSummary};
use crate::fpl::model::{EntryId, EventId};

/// Most managers one page holds.
const MAX_MANAGERS: u32 = 1000;
/// Gameweeks in a season at most (double gameweeks included, FPL never had more than 38).
const MAX_EVENT: u16 = 60;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ManagersQuery {
    /// A stored season (`2025-26`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
    /// Only managers after this entry id (paging: the last page's `next_after`).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A page of stored managers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ManagersPage {
    managers: Vec<ManagerSummary>,
    /// The `after` of the next page; null on the last.
    next_after: Option<i64>,
}

fn limit(raw: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = raw.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1..={max}"),
        ));
    }
    Ok(limit)
}

fn entry_of(raw: i64) -> Result<EntryId, ApiError> {
    Ok(EntryId(super::path_id(raw, "an entry id")? as u64))
}

fn not_stored(entry: EntryId) -> ApiError {
    ApiError::not_found(
        "manager_not_found",
        format!("no manager {entry} is stored in the season: not tracked, or not fetched yet"),
    )
}

/// The stored managers of a season, by entry id.
#[utoipa::path(get, path = "/data/managers", operation_id = "list_managers", tag = "managers",
    params(ManagersQuery,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer")),
    responses(
        (status = 200, description = "A page of managers", body = ManagersPage, headers(
            ("ETag" = String, description = "The answer's tag"),
            ("Cache-Control" = String, description = "`private, max-age=` the entries TTL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`invalid_query`", body = ErrorBody),
        (status = 404, description = "`no_data` (before the first bootstrap), `unknown_season`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<ApiState>,
    q: web::Query<ManagersQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = limit(q.limit, 100, MAX_MANAGERS)?;
    let after = q.after.unwrap_or(0);
    if after > i64::MAX as u64 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "after is an entry id, at most 2^63 - 1",
        ));
    }
    let season = season_id(&state, q.season.as_deref()).await?;
    let mut managers = read::managers(&state.db, season, EntryId(after), limit + 1).await?;
    let next_after = (managers.len() > limit as usize).then(|| {
        managers.truncate(limit as usize);
        managers.last().map(|m| m.entry)
    });
    let page = ManagersPage {
        managers,
        next_after: next_after.flatten(),
    };
    Ok(respond_json(&req, &state, DataClass::Entries, &page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SeasonOnly {
    /// A stored season (`2025-26`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
}

/// One stored manager: his summary and FPL's entry object as fetched.
#[utoipa::path(get, path = "/data/managers/{id}", operation_id = "get_manager", tag = "managers",
    params(("id" = i64, Path, minimum = 1, description = "Entry (manager) id"), SeasonOnly,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer")),
    responses(
        (status = 200, description = "The manager", body = Manager, headers(
            ("ETag" = String, description = "The answer's tag"),
            ("Cache-Control" = String, description = "`private, max-age=` the entries TTL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`invalid_path`, `invalid_query`", body = ErrorBody),
        (status = 404, description = "`manager_not_found`, `no_data`, `unknown_season`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn get(
    req: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<i64>,
    q: web::Query<SeasonOnly>,
) -> Result<HttpResponse, ApiError> {
    let entry = entry_of(path.into_inner())?;
    let season = season_id(&state, q.season.as_deref()).await?;
    let manager: Manager = read::manager(&state.db, season, entry)
        .await?
        .ok_or_else(|| not_stored(entry))?;
    Ok(respond_json(&req, &state, DataClass::Entries, &manager))
}

/// A stored manager's season history as FPL sent it (`current`: his gameweeks, `past`: earlier
/// seasons, `chips`): at most 38 gameweeks, so one page.
#[utoipa::path(get, path = "/data/managers/{id}/history", operation_id = "manager_history", tag = "managers",
    params(("id" = i64, Path, minimum = 1, description = "Entry (manager) id"), SeasonOnly,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer")),
    responses(
        (status = 200, description = "FPL's `entry/{id}/history/` object", body = Object, headers(
            ("ETag" = String, description = "The answer's tag"),
            ("Cache-Control" = String, description = "`private, max-age=` the entries TTL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`invalid_path`, `invalid_query`", body = ErrorBody),
        (status = 404, description = "`manager_not_found`, `no_data` (history not fetched yet), \
            `unknown_season`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn history(
    req: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<i64>,
    q: web::Query<SeasonOnly>,
) -> Result<HttpResponse, ApiError> {
    let entry = entry_of(path.into_inner())?;
    let season = season_id(&state, q.season.as_deref()).await?;
    let history = read::history(&state.db, season, entry)
        .await?
        .ok_or_else(|| not_stored(entry))?
        .ok_or_else(|| {
            ApiError::not_found(
                "no_data",
                format!("the history of manager {entry} is not fetched yet"),
            )
        })?;
    Ok(respond_json(&req, &state, DataClass::Entries, &history))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GameweeksQuery {
    /// A stored season (`2025-26`); the current one when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$", example = "2025-26")]
    season: Option<String>,
    /// Only gameweeks after this one (paging: the last page's `next_after`).
    #[param(minimum = 0, maximum = 60)]
    after: Option<u16>,
    /// At most this many gameweeks (default and maximum 60).
    #[param(minimum = 1, maximum = 60)]
    limit: Option<u32>,
}

/// A page of a manager's gameweeks.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GameweeksPage {
    entry: u64,
    gameweeks: Vec<ManagerGameweek>,
    /// The `after` of the next page; null on the last.
    next_after: Option<u16>,
}

/// A stored manager's gameweeks, oldest first: his picks (final ones once the official result
/// is stored) with the chip played and the automatic substitutions, FPL's official points and
/// the points fplsync computed.
#[utoipa::path(get, path = "/data/managers/{id}/gameweeks", operation_id = "manager_gameweeks", tag = "managers",
    params(("id" = i64, Path, minimum = 1, description = "Entry (manager) id"), GameweeksQuery,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer")),
    responses(
        (status = 200, description = "A page of gameweeks", body = GameweeksPage, headers(
            ("ETag" = String, description = "The answer's tag"),
            ("Cache-Control" = String, description = "`private, max-age=` the entries TTL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`invalid_path`, `invalid_query`", body = ErrorBody),
        (status = 404, description = "`manager_not_found`, `no_data`, `unknown_season`", body = ErrorBody),
        (status = 503, description = "`database_unavailable`", body = ErrorBody)))]
pub async fn gameweeks(
    req: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<i64>,
    q: web::Query<GameweeksQuery>,
) -> Result<HttpResponse, ApiError> {
    let entry = entry_of(path.into_inner())?;
    let limit = limit(q.limit, u32::from(MAX_EVENT), u32::from(MAX_EVENT))?;
    let after = q.after.unwrap_or(0);
    if after > MAX_EVENT {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("after is a gameweek, 0..={MAX_EVENT}"),
        ));
    }
    let season = season_id(&state, q.season.as_deref()).await?;
    let mut gameweeks =
        read::gameweeks(&state.db, season, entry, EventId(after), limit + 1).await?;
    // Picks are fetched for every tracked manager, his info maybe not yet: either makes him
    // stored.
    if gameweeks.is_empty() && !read::known(&state.db, season, entry).await? {
        return Err(not_stored(entry));
    }
    let next_after = (gameweeks.len() > limit as usize).then(|| {
        gameweeks.truncate(limit as usize);
        gameweeks.last().map(|g| g.event)
    });
    let page = GameweeksPage {
        entry: entry.0,
        gameweeks,
        next_after: next_after.flatten(),
    };
    Ok(respond_json(&req, &state, DataClass::Entries, &page))
}
