//! `/lifecycle` (the gameweek lifecycle's state, last snapshot and next poll),
//! `/data/live/{event}/entries…` (tracked managers' live scores, read through the cache) and
//! `/data/live/{event}/leagues/{league}` (a tracked classic league's live table).

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::conditional::respond_json;
use super::error::ErrorBody;
use super::{ApiError, ApiState, ok};
use crate::cache::{CacheKey, DataClass, LiveDataset};
use crate::fpl::model::{EntryId, EventId, LeagueId};
use crate::managers::EntryScore;
use crate::tournament::league_table::{self, TableRow};

/// Most entries one bulk request names or returns.
const MAX_BULK: usize = 1000;

/// The gameweek lifecycle's status, with what the current gameweek has cost in FPL requests.
#[utoipa::path(get, path = "/lifecycle", tag = "live", responses(
    (status = 200, description = "`state`, `season_id`, `event`, `fpl_time`, `fpl_updating`, \
        `updating_since`, `last_tick_at`, `last_snapshot_at`, `next_poll_at`, \
        `tracked_managers`, `actions`, `paused`, `disabled`, `transitions`, and `budget`: the \
        gameweek's FPL requests by endpoint and priority, their `total`, the `managers` and \
        lifecycle `ticks`, the `target` 2E + 3 × ticks + 50 and `within_target`", body = Object)))]
pub async fn lifecycle(state: web::Data<ApiState>) -> HttpResponse {
    let mut status = state.lifecycle.get();
    // Afresh: a picks sync spends between ticks. The tick's figure stands if this read fails.
    if let (Some(season), Some(event)) = (status.season_id, status.event)
        && let Ok(budget) =
            crate::store::budget::gameweek(&state.db, season, event, status.tracked_managers as u64)
                .await
    {
        status.budget = Some(budget);
    }
    ok(&status)
}

fn event_of(raw: u32) -> Result<u16, ApiError> {
    u16::try_from(raw)
        .ok()
        .filter(|e| (1..=60).contains(e))
        .ok_or_else(|| {
            ApiError::bad_request("invalid_event", format!("event {raw} is not a gameweek"))
        })
}

/// The shards' scores, keyed by entry id.
pub(super) async fn shards(
    state: &ApiState,
    event: u16,
    shards: &[u8],
) -> Result<HashMap<u64, EntryScore>, ApiError> {
    let keys: Vec<CacheKey> = shards
        .iter()
        .map(|&s| CacheKey::Live {
            event: u32::from(event),
            dataset: LiveDataset::Entries(s),
        })
        .collect();
    let values = state.cache.get_many(&keys).await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cache_unavailable",
            format!("live scores of GW{event}: {e}"),
        )
        .retry_after(2)
    })?;
    let mut all = HashMap::new();
    for bytes in values.into_iter().flatten() {
        all.extend(decode(&bytes)?);
    }
    Ok(all)
}

fn decode(bytes: &Bytes) -> Result<HashMap<u64, EntryScore>, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_data",
            format!("cached live scores do not decode: {e}"),
        )
    })
}

/// `GET /data/live/{event}/entries/{id}`: one manager's live score.
#[utoipa::path(get, path = "/data/live/{event}/entries/{id}", tag = "live",
    params(("event" = u32, Path, minimum = 1, maximum = 60, description = "Gameweek (1..=60)"),
        ("id" = u64, Path, minimum = 1, description = "Entry (manager) id")),
    responses(
        (status = 200, description = "`points`, `transfers_cost`, `net_points`, `bench_points`, \
            `captain_points`, `subs`, `active_chip`, `final`, `official_points`", body = Object),
        (status = 400, description = "`invalid_path`, `invalid_event`", body = ErrorBody),
        (status = 404, description = "`no_live_score`: not tracked, or no picks yet", body = ErrorBody),
        (status = 500, description = "`corrupt_data`: a stored score does not decode", body = ErrorBody),
        (status = 503, description = "`cache_unavailable`", body = ErrorBody)))]
pub async fn entry(
    state: web::Data<ApiState>,
    path: web::Path<(u32, u64)>,
) -> Result<HttpResponse, ApiError> {
    let (event, entry) = path.into_inner();
    let event = event_of(event)?;
    if entry == 0 || entry > i64::MAX as u64 {
        return Err(ApiError::bad_request(
            "invalid_path",
            format!("an entry id is an integer from 1 to 2^63 - 1, got {entry}"),
        ));
    }
    let LiveDataset::Entries(shard) = LiveDataset::entries_of(entry) else {
        unreachable!("entries_of gives an entries shard");
    };
    let mut scores = shards(&state, event, &[shard]).await?;
    let score = scores.remove(&entry).ok_or_else(|| {
        ApiError::not_found(
            "no_live_score",
            format!(
                "no live score of entry {entry} in GW{event}: not tracked, or no picks of it yet"
            ),
        )
    })?;
    Ok(ok(&score))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BulkQuery {
    /// Comma-separated entry ids (1 to 1000 of them, each from 1); all tracked managers when
    /// absent.
    #[param(pattern = "^ *[1-9][0-9]{0,18} *(, *[1-9][0-9]{0,18} *){0,999}$")]
    ids: Option<String>,
    /// With no `ids`: only entries after this id (paging).
    #[param(minimum = 0, maximum = 9223372036854775807_i64)]
    after: Option<u64>,
    /// With no `ids`: at most this many (default and maximum 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// `GET /data/live/{event}/entries`: many managers' live scores, ordered by entry id.
#[utoipa::path(get, path = "/data/live/{event}/entries", tag = "live",
    params(("event" = u32, Path, minimum = 1, maximum = 60, description = "Gameweek (1..=60)"), BulkQuery),
    responses(
        (status = 200, description = "`{\"event\", \"entries\", \"missing\"}`, and \
            `next_after` when paging", body = Object),
        (status = 400, description = "`invalid_path`, `invalid_event`, `invalid_query`", body = ErrorBody),
        (status = 500, description = "`corrupt_data`: a stored score does not decode", body = ErrorBody),
        (status = 503, description = "`cache_unavailable`", body = ErrorBody)))]
pub async fn entries(
    state: web::Data<ApiState>,
    path: web::Path<u32>,
    query: web::Query<BulkQuery>,
) -> Result<HttpResponse, ApiError> {
    let event = event_of(path.into_inner())?;
    let q = query.into_inner();
    if q.after.is_some_and(|a| a > i64::MAX as u64) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "after is an entry id, at most 2^63 - 1",
        ));
    }
    let limit = q.limit.unwrap_or(MAX_BULK);
    if limit == 0 || limit > MAX_BULK {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be 1..={MAX_BULK}"),
        ));
    }
    let wanted: Option<Vec<u64>> = match &q.ids {
        None => None,
        Some(raw) => {
            let ids: Result<Vec<u64>, _> = raw
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|id| *id >= 1)
                        .ok_or_else(|| s.to_string())
                })
                .collect();
            let ids = ids.map_err(|bad| {
                ApiError::bad_request("invalid_query", format!("`{bad}` is not an entry id"))
            })?;
            if ids.is_empty() || ids.len() > MAX_BULK {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("ids names 1..={MAX_BULK} entries"),
                ));
            }
            Some(ids)
        }
    };
    let all_shards: Vec<u8> = match &wanted {
        Some(ids) => {
            let mut s: Vec<u8> = ids
                .iter()
                .map(|&id| match LiveDataset::entries_of(id) {
                    LiveDataset::Entries(s) => s,
                    _ => unreachable!("entries_of gives an entries shard"),
                })
                .collect();
            s.sort_unstable();
            s.dedup();
            s
        }
        None => (0..LiveDataset::ENTRY_SHARDS).collect(),
    };
    let scores = shards(&state, event, &all_shards).await?;
    let body = match wanted {
        Some(ids) => {
            let mut found = BTreeMap::new();
            let mut missing = Vec::new();
            for id in ids {
                match scores.get(&id) {
                    Some(s) => {
                        found.insert(id, s);
                    }
                    None => missing.push(id),
                }
            }
            serde_json::json!({
                "event": event,
                "entries": found.into_values().collect::<Vec<_>>(),
                "missing": missing,
            })
        }
        None => {
            let sorted: BTreeMap<u64, &EntryScore> = scores
                .iter()
                .filter(|(id, _)| q.after.is_none_or(|a| **id > a))
                .map(|(id, s)| (*id, s))
                .collect();
            let page: Vec<&EntryScore> = sorted.values().take(limit).copied().collect();
            let next = (sorted.len() > limit)
                .then(|| page.last().map(|s| s.entry))
                .flatten();
            serde_json::json!({ "event": event, "entries": page, "next_after": next })
        }
    };
    Ok(ok(&body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TableQuery {
    /// Rows to skip from the top (paging).
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
    /// At most this many rows (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// A page of a tracked classic league's live table.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LiveTable {
    event: u16,
    league: u64,
    /// Members in the whole table.
    members: usize,
    /// Members with a live score (the others have no picks of the gameweek yet).
    scored: usize,
    rows: Vec<TableRow>,
}

/// `GET /data/live/{event}/leagues/{league}`: a tracked classic league's managers ranked by
/// live total during a gameweek.
#[utoipa::path(get, path = "/data/live/{event}/leagues/{league}", operation_id = "live_league_table", tag = "live",
    params(("event" = u32, Path, minimum = 1, maximum = 60, description = "Gameweek (1..=60)"),
        ("league" = i64, Path, minimum = 1, description = "Classic league id"),
        TableQuery,
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer")),
    responses(
        (status = 200, description = "The table, best live total first", body = LiveTable, headers(
            ("ETag" = String, description = "The answer's tag"),
            ("Cache-Control" = String, description = "`private, max-age=` the live TTL"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        (status = 400, description = "`invalid_path`, `invalid_event`, `invalid_query`", body = ErrorBody),
        (status = 404, description = "`league_not_tracked`: no tournament of the season reads the \
            league; `no_data` before the first bootstrap", body = ErrorBody),
        (status = 500, description = "`corrupt_data`: a stored score does not decode", body = ErrorBody),
        (status = 503, description = "`cache_unavailable`, `database_unavailable`", body = ErrorBody)))]
pub async fn league_table(
    req: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<(u32, i64)>,
    q: web::Query<TableQuery>,
) -> Result<HttpResponse, ApiError> {
    let (event, league) = path.into_inner();
    let event = event_of(event)?;
    let league = LeagueId(super::path_id(league, "a league id")? as u64);
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(50);
    if offset > 1_000_000 || limit == 0 || limit > 1000 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "offset is 0..=1000000 and limit 1..=1000",
        ));
    }
    let season = super::data::season_id(&state, None).await?;
    let members = league_table::members(&state.db, season, league, EventId(event))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "league_not_tracked",
                format!(
                    "no tournament of the season reads classic league {league}: create one \
                     from it to track its managers"
                ),
            )
        })?;
    let mut wanted: Vec<u8> = members
        .iter()
        .map(|m| match LiveDataset::entries_of(m.entry as u64) {
            LiveDataset::Entries(s) => s,
            _ => unreachable!("entries_of gives an entries shard"),
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let scores = shards(&state, event, &wanted).await?;
    let live_net: HashMap<EntryId, i32> = members
        .iter()
        .filter_map(|m| {
            let s = scores.get(&(m.entry as u64))?;
            Some((EntryId(s.entry), s.net_points))
        })
        .collect();
    let rows = league_table::rank(members, &live_net);
    let table = LiveTable {
        event,
        league: league.0,
        members: rows.len(),
        scored: live_net.len(),
        rows: rows
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect(),
    };
    Ok(respond_json(&req, &state, DataClass::Live, &table))
}
