//! Tracked managers and their live scores: who is tracked (the configured list and the entries
//! of active tournaments), their picks for a gameweek as stored in PostgreSQL, and the score of
//! every one of them from one live snapshot — published to the cache in shards
//! (`live:{event}:entries.{shard}`) so a reader of one manager reads one shard.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize, Serializer};
use sqlx::PgPool;

use crate::cache::{CacheKey, LiveDataset};
use crate::fpl::model::{
    Chip, ElementId, ElementType, ElementTypeId, EntryId, Pick, PicksResponse,
};
use crate::meta::SeasonId;
use crate::scoring::{Formation, PlayerTable, score};
use crate::store::StoreError;

/// The picks [`score`] looks at: the first 15.
const SQUAD: usize = 15;

/// One manager's picks for a gameweek, as fetched after the deadline. The picks of every
/// tracked manager are held between live ticks ([`PicksCache`]), so they are kept inline and
/// packed: 160 bytes, where the decoded `Vec<Pick>` and its owner took ~280 in two places.
#[derive(Debug, Clone)]
pub struct ManagerPicks {
    pub entry: EntryId,
    pub chip: Option<Chip>,
    pub transfers_cost: i32,
    /// How many of `picks` are filled.
    len: u8,
    picks: [PackedPick; SQUAD],
}

impl ManagerPicks {
    /// Keeps the first 15 of `picks`, in their order: all that scoring looks at.
    pub fn new(entry: EntryId, picks: &[Pick], chip: Option<Chip>, transfers_cost: i32) -> Self {
        let mut packed = [PackedPick::default(); SQUAD];
        for (slot, pick) in packed.iter_mut().zip(picks) {
            *slot = PackedPick::from(pick);
        }
        ManagerPicks {
            entry,
            chip,
            transfers_cost,
            len: picks.len().min(SQUAD) as u8,
            picks: packed,
        }
    }

    /// The picks kept, in their order.
    pub fn picks(&self) -> impl ExactSizeIterator<Item = Pick> + '_ {
        self.picks[..usize::from(self.len)].iter().map(Pick::from)
    }

    /// The picks kept, on the stack: what [`score`] takes, without allocating.
    fn squad(&self) -> ([Pick; SQUAD], usize) {
        (
            std::array::from_fn(|i| Pick::from(&self.picks[i])),
            usize::from(self.len),
        )
    }
}

/// A [`Pick`] in 8 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PackedPick {
    element: u32,
    position: u8,
    multiplier: u8,
    /// [`PackedPick::CAPTAIN`], [`PackedPick::VICE_CAPTAIN`], [`PackedPick::TYPED`].
    flags: u8,
    /// The element type id, when `TYPED`.
    element_type: u8,
}

impl PackedPick {
    const CAPTAIN: u8 = 1;
    const VICE_CAPTAIN: u8 = 2;
    /// The payload named the player's element type.
    const TYPED: u8 = 4;
}

impl From<&Pick> for PackedPick {
    fn from(p: &Pick) -> Self {
        let flag = |set: bool, bit: u8| if set { bit } else { 0 };
        PackedPick {
            element: p.element.0,
            position: p.position,
            multiplier: p.multiplier,
            flags: flag(p.is_captain, Self::CAPTAIN)
                | flag(p.is_vice_captain, Self::VICE_CAPTAIN)
                | flag(p.element_type.is_some(), Self::TYPED),
            element_type: p.element_type.map_or(0, |t| t.0),
        }
    }
}

impl From<&PackedPick> for Pick {
    fn from(p: &PackedPick) -> Self {
        Pick {
            element: ElementId(p.element),
            position: p.position,
            multiplier: p.multiplier,
            is_captain: p.flags & PackedPick::CAPTAIN != 0,
            is_vice_captain: p.flags & PackedPick::VICE_CAPTAIN != 0,
            element_type: (p.flags & PackedPick::TYPED != 0)
                .then_some(ElementTypeId(p.element_type)),
        }
    }
}

/// A manager's live score as fplsync computes it, and the official one once known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EntryScore {
    pub entry: u64,
    pub event: u16,
    /// Points before transfer costs.
    pub points: i32,
    pub transfers_cost: i32,
    pub net_points: i32,
    pub bench_points: i32,
    pub captain_points: i32,
    /// Automatic substitutions applied so far: `[off, on]` element ids.
    #[schema(value_type = Vec<Vec<u32>>)]
    pub subs: Vec<[u32; 2]>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub active_chip: Option<String>,
    /// The gameweek is `data_checked` and these are final.
    #[serde(rename = "final")]
    pub r#final: bool,
    /// FPL's own points for the gameweek, once finalized.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub official_points: Option<i32>,
}

/// Entry ids of every tracked manager: the configured ones and those of active tournaments,
/// ascending and without duplicates.
pub async fn tracked(db: &PgPool, configured: &[u64]) -> Result<Vec<u64>, StoreError> {
    // Merged here rather than by a UNION in SQL: with 100,000 tracked managers the index scan
    // in order is a third of the UNION's cost.
    let stored: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT entry_id FROM tracked_entries ORDER BY 1")
            .fetch_all(db)
            .await?;
    let mut ids: Vec<u64> = stored.into_iter().map(|e| e as u64).collect();
    if !configured.is_empty() {
        ids.extend_from_slice(configured);
        ids.sort_unstable();
        ids.dedup();
    }
    Ok(ids)
}

/// The tracked managers who have no picks stored for `event`.
pub async fn missing_picks(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    tracked: &[u64],
) -> Result<Vec<u64>, StoreError> {
    missing_in(db, PerEntry::Picks, season, event, tracked).await
}

/// The tracked managers who have no official result stored for `event`.
pub async fn missing_results(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    tracked: &[u64],
) -> Result<Vec<u64>, StoreError> {
    missing_in(db, PerEntry::Results, season, event, tracked).await
}

/// The tables holding one row per manager and gameweek.
#[derive(Clone, Copy)]
enum PerEntry {
    Picks,
    Results,
}

async fn missing_in(
    db: &PgPool,
    table: PerEntry,
    season: SeasonId,
    event: u16,
    tracked: &[u64],
) -> Result<Vec<u64>, StoreError> {
    let table = match table {
        PerEntry::Picks => "entry_picks",
        PerEntry::Results => "entry_event_results",
    };
    let ids: Vec<i64> = tracked.iter().map(|&e| e as i64).collect();
    let missing: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT t.id FROM unnest($3::bigint[]) AS t(id) WHERE NOT EXISTS \
         (SELECT 1 FROM {table} p WHERE p.season_id = $1 AND p.event_id = $2 \
          AND p.entry_id = t.id) ORDER BY 1"
    ))
    .bind(season.0)
    .bind(i32::from(event))
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(missing.into_iter().map(|e| e as u64).collect())
}

/// Stores fetched picks (one statement for the batch); picks already stored are kept as they
/// were: the picks of a gameweek do not change after its deadline.
pub async fn store_picks(
    db: impl sqlx::PgExecutor<'_>,
    season: SeasonId,
    event: u16,
    batch: &[(EntryId, PicksResponse)],
) -> Result<u64, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = batch.iter().map(|(e, _)| e.0 as i64).collect();
    let chips: Vec<Option<String>> = batch
        .iter()
        .map(|(_, p)| p.active_chip.as_ref().map(|c| c.as_str().to_string()))
        .collect();
    let costs: Vec<i32> = batch
        .iter()
        .map(|(_, p)| p.entry_history.event_transfers_cost)
        .collect();
    let picks: Vec<String> = batch
        .iter()
        .map(|(_, p)| serde_json::to_string(&p.picks).expect("picks serialise"))
        .collect();
    let done = sqlx::query(
        "INSERT INTO entry_picks (season_id, event_id, entry_id, active_chip, transfers_cost, picks) \
         SELECT $1, $2, u.id, u.chip, u.cost, u.picks::jsonb \
         FROM UNNEST($3::bigint[], $4::text[], $5::int[], $6::text[]) AS u(id, chip, cost, picks) \
         ON CONFLICT (season_id, event_id, entry_id) DO NOTHING",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .bind(ids)
    .bind(chips)
    .bind(costs)
    .bind(picks)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A row of `entry_picks`.
type PicksRow = (i64, Option<String>, i32, sqlx::types::Json<Vec<Pick>>);

/// The stored picks of the tracked managers for `event`.
pub async fn load_picks(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    tracked: &[u64],
) -> Result<Vec<ManagerPicks>, StoreError> {
    let ids: Vec<i64> = tracked.iter().map(|&e| e as i64).collect();
    load_event_picks(db, season, event, Which::Of(ids), 0).await
}

/// Which of a gameweek's stored picks to load.
enum Which {
    All,
    Of(Vec<i64>),
    /// Stored at or after this time (rows are only ever added: what a cache lacks).
    Since(DateTime<Utc>),
}

/// The stored picks of `event` that `which` names, by entry id; room is made for `expected` of
/// them at once.
async fn load_event_picks(
    db: &PgPool,
    season: SeasonId,
    event: u16,
    which: Which,
    expected: usize,
) -> Result<Vec<ManagerPicks>, StoreError> {
    const COLUMNS: &str = "SELECT entry_id, active_chip, transfers_cost, picks FROM entry_picks \
         WHERE season_id = $1 AND event_id = $2";
    let sql = match which {
        Which::Of(_) => format!("{COLUMNS} AND entry_id = ANY($3) ORDER BY entry_id"),
        Which::Since(_) => format!("{COLUMNS} AND fetched_at >= $3 ORDER BY entry_id"),
        Which::All => format!("{COLUMNS} ORDER BY entry_id"),
    };
    let mut query = sqlx::query_as::<_, PicksRow>(&sql)
        .bind(season.0)
        .bind(i32::from(event));
    match which {
        Which::Of(ids) => query = query.bind(ids),
        Which::Since(at) => query = query.bind(at),
        Which::All => {}
    }
    // Streamed and decoded row by row: the JSON text of 100,000 managers' picks is ~150 MB,
    // several times their decoded size, and need never be held all at once.
    let mut rows = query.fetch(db);
    let mut picks = Vec::with_capacity(expected);
    while let Some((entry, chip, cost, json)) = rows.try_next().await? {
        picks.push(ManagerPicks::new(
            EntryId(entry as u64),
            &json.0,
            chip.map(|c| Chip::from(c.as_str())),
            cost,
        ));
    }
    picks.shrink_to_fit();
    Ok(picks)
}

/// The decoded picks of one gameweek, kept in process between live ticks: reloading (and
/// decoding) every tracked manager's picks from PostgreSQL on each tick dominated a tick with
/// 100,000 managers. A use first checks that the gameweek's rows of `entry_picks` are still
/// those it holds (their count and newest `fetched_at`; rows are only ever added, by the
/// `picks` job of this or another instance). While a picks sync adds rows between ticks, only
/// the rows stored since the newest held are loaded and merged in; when the count then still
/// disagrees (a batch that committed late with an earlier time), everything is reloaded.
#[derive(Clone, Default)]
pub struct PicksCache(Arc<Mutex<Option<CachedPicks>>>);

struct CachedPicks {
    season: SeasonId,
    event: u16,
    version: PicksVersion,
    picks: Arc<Vec<ManagerPicks>>,
}

type PicksVersion = (i64, Option<DateTime<Utc>>);

impl PicksCache {
    /// Every stored pick of `event`, by entry id.
    pub async fn event_picks(
        &self,
        db: &PgPool,
        season: SeasonId,
        event: u16,
    ) -> Result<Arc<Vec<ManagerPicks>>, StoreError> {
        let version: PicksVersion = sqlx::query_as(
            "SELECT count(*), max(fetched_at) FROM entry_picks \
             WHERE season_id = $1 AND event_id = $2",
        )
        .bind(season.0)
        .bind(i32::from(event))
        .fetch_one(db)
        .await?;
        let held = self
            .lock()
            .as_ref()
            .filter(|c| c.season == season && c.event == event)
            .map(|c| (c.version, c.picks.clone()));
        if let Some((held_version, held)) = held {
            if held_version == version {
                return Ok(held);
            }
            if let Some(since) = held_version.1
                && version.0 > held_version.0
            {
                let fresh = load_event_picks(db, season, event, Which::Since(since), 0).await?;
                let mut merged = Vec::with_capacity(held.len() + fresh.len());
                merged.extend(held.iter().cloned());
                merged.extend(
                    fresh
                        .into_iter()
                        .filter(|p| held.binary_search_by_key(&p.entry, |h| h.entry).is_err()),
                );
                merged.sort_unstable_by_key(|p| p.entry);
                if merged.len() as i64 == version.0 {
                    let picks = Arc::new(merged);
                    *self.lock() = Some(CachedPicks {
                        season,
                        event,
                        version,
                        picks: picks.clone(),
                    });
                    return Ok(picks);
                }
            }
        }
        let expected = usize::try_from(version.0).unwrap_or(0);
        let picks = Arc::new(load_event_picks(db, season, event, Which::All, expected).await?);
        *self.lock() = Some(CachedPicks {
            season,
            event,
            version,
            picks: picks.clone(),
        });
        Ok(picks)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedPicks>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Formation limits of the season, from its element types (the usual ones when none stored).
pub async fn formation(db: &PgPool, season: SeasonId) -> Result<Formation, StoreError> {
    let rows: Vec<(i32, sqlx::types::Json<ElementType>)> =
        sqlx::query_as("SELECT id, data::json FROM element_types WHERE season_id = $1")
            .bind(season.0)
            .fetch_all(db)
            .await?;
    if rows.is_empty() {
        return Ok(Formation::standard());
    }
    let types: Vec<ElementType> = rows
        .into_iter()
        .map(|(id, t)| ElementType {
            id: ElementTypeId(id as u8),
            ..t.0
        })
        .collect();
    Ok(Formation::from_element_types(&types))
}

/// Official points of `event` per entry, once finalized.
pub async fn official_points(
    db: &PgPool,
    season: SeasonId,
    event: u16,
) -> Result<HashMap<u64, i32>, StoreError> {
    let rows: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT entry_id, points FROM entry_event_results WHERE season_id = $1 AND event_id = $2",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(e, p)| (e as u64, p)).collect())
}

/// A little more than the JSON of one manager's score in a shard (`"id":{…}`, ~150 bytes), to
/// size a shard's buffer once; what is left over is given back when the shard is done.
const SCORE_JSON_BYTES: usize = 192;

/// The tracked managers with picks for a gameweek and one live snapshot to score them against.
/// Scores are computed as they are read and never all held at once: a shard of the cache is
/// built from its members' scores and only the shard is kept (100,000 managers' `EntryScore`s
/// would be ~9 MB besides the 15 MB of their shards).
pub struct Scoreboard {
    event: u16,
    picks: Arc<Vec<ManagerPicks>>,
    /// Indices into `picks` of the managers scored, in ascending entry order.
    chosen: Vec<u32>,
    table: PlayerTable,
    formation: Formation,
    is_final: bool,
    official: HashMap<u64, i32>,
}

impl Scoreboard {
    /// Scores `picks[i]` for every `i` in `chosen` against `table`; `is_final` and the
    /// `official` points (by entry) are reported as they are.
    pub fn new(
        event: u16,
        picks: Arc<Vec<ManagerPicks>>,
        chosen: Vec<u32>,
        table: PlayerTable,
        formation: Formation,
        is_final: bool,
        official: HashMap<u64, i32>,
    ) -> Self {
        Scoreboard {
            event,
            picks,
            chosen,
            table,
            formation,
            is_final,
            official,
        }
    }

    /// Nobody to score.
    pub fn empty(event: u16) -> Self {
        Self::new(
            event,
            Arc::default(),
            Vec::new(),
            PlayerTable::default(),
            Formation::standard(),
            false,
            HashMap::new(),
        )
    }

    /// How many managers are scored.
    pub fn len(&self) -> usize {
        self.chosen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    /// Every manager's score, in ascending entry order.
    pub fn scores(&self) -> impl Iterator<Item = EntryScore> + '_ {
        self.members(&self.chosen)
    }

    fn members<'a>(&'a self, chosen: &'a [u32]) -> impl Iterator<Item = EntryScore> + 'a {
        chosen.iter().map(|&i| self.score(&self.picks[i as usize]))
    }

    fn score(&self, m: &ManagerPicks) -> EntryScore {
        let (picks, n) = m.squad();
        let s = score(
            &picks[..n],
            m.chip.as_ref(),
            m.transfers_cost,
            &self.table,
            &self.formation,
        );
        EntryScore {
            entry: m.entry.0,
            event: self.event,
            points: s.points,
            transfers_cost: s.transfers_cost,
            net_points: s.net_points,
            bench_points: s.bench_points,
            captain_points: s.captain_points,
            subs: s.subs.iter().map(|(off, on)| [off.0, on.0]).collect(),
            active_chip: m.chip.as_ref().map(|c| c.as_str().to_string()),
            r#final: self.is_final,
            official_points: self.official.get(&m.entry.0).copied(),
        }
    }

    /// The cache entries of the scores: every shard of the event, empty ones included (so that
    /// a reader of an untracked manager finds an answer rather than a miss), each a JSON object
    /// from entry id to score.
    pub fn shards(&self) -> Vec<(CacheKey, Bytes)> {
        let n = u64::from(LiveDataset::ENTRY_SHARDS);
        let mut by_shard: Vec<Vec<u32>> = vec![Vec::new(); n as usize];
        for &i in &self.chosen {
            by_shard[(self.picks[i as usize].entry.0 % n) as usize].push(i);
        }
        by_shard
            .iter()
            .enumerate()
            .map(|(shard, members)| (self.shard_key(shard as u8), self.encode(members)))
            .collect()
    }

    /// Shard `shard` of [`Scoreboard::shards`].
    pub fn shard(&self, shard: u8) -> Bytes {
        let n = u64::from(LiveDataset::ENTRY_SHARDS);
        let members: Vec<u32> = self
            .chosen
            .iter()
            .copied()
            .filter(|&i| self.picks[i as usize].entry.0 % n == u64::from(shard))
            .collect();
        self.encode(&members)
    }

    fn shard_key(&self, shard: u8) -> CacheKey {
        CacheKey::Live {
            event: u32::from(self.event),
            dataset: LiveDataset::Entries(shard),
        }
    }

    /// The JSON object of `members`' scores, in a buffer of its own size (a shard is kept in
    /// the local cache tier until the next snapshot replaces it).
    fn encode(&self, members: &[u32]) -> Bytes {
        let mut json = Vec::with_capacity(2 + members.len() * SCORE_JSON_BYTES);
        let mut ser = serde_json::Serializer::new(&mut json);
        ser.collect_map(self.members(members).map(|s| (s.entry, s)))
            .expect("scores serialise");
        json.shrink_to_fit();
        Bytes::from(json)
    }
}

/// Stores official results (one statement), with fplsync's own points beside them.
pub async fn store_results(
    db: impl sqlx::PgExecutor<'_>,
    season: SeasonId,
    event: u16,
    batch: &[(u64, PicksResponse)],
    computed: &HashMap<u64, i32>,
) -> Result<usize, StoreError> {
    if batch.is_empty() {
        return Ok(0);
    }
    let h = |p: &PicksResponse| p.entry_history.clone();
    let ids: Vec<i64> = batch.iter().map(|(e, _)| *e as i64).collect();
    let points: Vec<i32> = batch.iter().map(|(_, p)| h(p).points).collect();
    let costs: Vec<i32> = batch
        .iter()
        .map(|(_, p)| h(p).event_transfers_cost)
        .collect();
    let bench: Vec<i32> = batch.iter().map(|(_, p)| h(p).points_on_bench).collect();
    let totals: Vec<i32> = batch.iter().map(|(_, p)| h(p).total_points).collect();
    let event_ranks: Vec<Option<i64>> = batch
        .iter()
        .map(|(_, p)| h(p).rank.map(i64::from))
        .collect();
    let overall: Vec<Option<i64>> = batch
        .iter()
        .map(|(_, p)| h(p).overall_rank.map(i64::from))
        .collect();
    let ours: Vec<Option<i32>> = batch
        .iter()
        .map(|(e, _)| computed.get(e).copied())
        .collect();
    let chips: Vec<Option<String>> = batch
        .iter()
        .map(|(_, p)| p.active_chip.as_ref().map(|c| c.as_str().to_string()))
        .collect();
    let picks: Vec<String> = batch
        .iter()
        .map(|(_, p)| serde_json::to_string(&p.picks).expect("picks serialise"))
        .collect();
    sqlx::query(
        "INSERT INTO entry_event_results (season_id, event_id, entry_id, points, transfers_cost, \
         net_points, bench_points, total_points, event_rank, overall_rank, computed_points, \
         active_chip, picks) \
         SELECT $1, $2, u.id, u.points, u.cost, u.points - u.cost, u.bench, u.total, u.erank, \
         u.orank, u.ours, u.chip, u.picks::jsonb \
         FROM UNNEST($3::bigint[], $4::int[], $5::int[], $6::int[], $7::int[], $8::bigint[], \
         $9::bigint[], $10::int[], $11::text[], $12::text[]) \
         AS u(id, points, cost, bench, total, erank, orank, ours, chip, picks) \
         ON CONFLICT (season_id, event_id, entry_id) DO UPDATE SET points = EXCLUDED.points, \
         transfers_cost = EXCLUDED.transfers_cost, net_points = EXCLUDED.net_points, \
         bench_points = EXCLUDED.bench_points, total_points = EXCLUDED.total_points, \
         event_rank = EXCLUDED.event_rank, overall_rank = EXCLUDED.overall_rank, \
         computed_points = EXCLUDED.computed_points, active_chip = EXCLUDED.active_chip, \
         picks = EXCLUDED.picks, recorded_at = now()",
    )
    .bind(season.0)
    .bind(i32::from(event))
    .bind(ids)
    .bind(points)
    .bind(costs)
    .bind(bench)
    .bind(totals)
    .bind(event_ranks)
    .bind(overall)
    .bind(ours)
    .bind(chips)
    .bind(picks)
    .execute(db)
    .await?;
    Ok(batch.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::PlayerLive;

    /// A 4-4-2 of players 1–11 and bench 12–15 (types by position), captain 11, vice 10.
    fn picks() -> Vec<Pick> {
        let types = [1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 1, 2, 3, 4];
        types
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let id = i as u32 + 1;
                Pick {
                    element: ElementId(id),
                    position: id as u8,
                    multiplier: u8::from(id <= 11) + u8::from(id == 11),
                    is_captain: id == 11,
                    is_vice_captain: id == 10,
                    // The older payloads name no type: the live data's is used then.
                    element_type: id.is_multiple_of(2).then_some(ElementTypeId(t)),
                }
            })
            .collect()
    }

    fn board(event: u16, managers: Vec<ManagerPicks>) -> Scoreboard {
        let mut table = PlayerTable::default();
        for id in 1..=15 {
            let live = PlayerLive {
                points: id as i32,
                minutes: if id == 3 { 0 } else { 90 },
                element_type: [1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 1, 2, 3, 4][id - 1],
                done: true,
            };
            table.insert(ElementId(id as u32), live);
        }
        let chosen = (0..managers.len() as u32).collect();
        let official = HashMap::from([(130, 77)]);
        Scoreboard::new(
            event,
            Arc::new(managers),
            chosen,
            table,
            Formation::standard(),
            true,
            official,
        )
    }

    #[test]
    fn kept_picks_are_the_first_fifteen_as_fetched_and_take_no_more_room_than_said() {
        let mut fetched = picks();
        fetched.push(Pick {
            element: ElementId(700),
            position: 16,
            multiplier: 1,
            is_captain: false,
            is_vice_captain: false,
            element_type: Some(ElementTypeId(5)),
        });
        let kept = ManagerPicks::new(EntryId(1), &fetched, None, 0);
        assert_eq!(kept.picks().collect::<Vec<_>>(), fetched[..15]);
        assert!(std::mem::size_of::<ManagerPicks>() <= 160);
    }

    #[test]
    fn a_manager_is_scored_from_his_kept_picks_as_from_the_fetched_ones() {
        let chip = Some(Chip::TripleCaptain);
        let board = board(
            38,
            vec![ManagerPicks::new(EntryId(130), &picks(), chip.clone(), 4)],
        );
        let direct = score(&picks(), chip.as_ref(), 4, &board.table, &board.formation);
        let scored: Vec<EntryScore> = board.scores().collect();
        assert_eq!(
            scored,
            vec![EntryScore {
                entry: 130,
                event: 38,
                points: direct.points,
                transfers_cost: 4,
                net_points: direct.net_points,
                bench_points: direct.bench_points,
                captain_points: direct.captain_points,
                subs: vec![[3, 13]],
                active_chip: Some("3xc".into()),
                r#final: true,
                official_points: Some(77),
            }]
        );
        assert_eq!(direct.subs, vec![(ElementId(3), ElementId(13))]);
    }

    #[test]
    fn every_shard_is_published_and_a_manager_is_found_in_his_own() {
        let managers = [130u64, 2, 66, 194]
            .iter()
            .map(|&e| ManagerPicks::new(EntryId(e), &picks(), None, 0))
            .collect();
        let board = board(38, managers);
        let shards = board.shards();
        assert_eq!(shards.len(), usize::from(LiveDataset::ENTRY_SHARDS));
        let (key, bytes) = shards
            .iter()
            .find(|(k, _)| {
                *k == CacheKey::Live {
                    event: 38,
                    dataset: LiveDataset::entries_of(130),
                }
            })
            .unwrap();
        assert_eq!(key.to_string(), "live:38:entries.2");
        let map: HashMap<u64, EntryScore> = serde_json::from_slice(bytes).unwrap();
        let mut ids: Vec<u64> = map.keys().copied().collect();
        ids.sort_unstable();
        assert_eq!(ids, vec![2, 66, 130, 194]);
        assert_eq!(map[&130], board.scores().find(|s| s.entry == 130).unwrap());
        assert_eq!(board.shard(2), *bytes);
        let empty = &shards[1].1;
        assert_eq!((&empty[..], &board.shard(1)[..]), (&b"{}"[..], &b"{}"[..]));
        assert_eq!(
            Scoreboard::empty(38).shards()[2].1,
            Bytes::from_static(b"{}")
        );
    }
}
