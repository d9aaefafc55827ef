//! Writing metadata to PostgreSQL with change detection: each row's API object is stored whole
//! (`data`) with a 64-bit hash; a sync loads the stored hashes, writes only rows whose hash
//! differs (one `INSERT … SELECT FROM UNNEST … ON CONFLICT DO UPDATE` per table), and reports
//! inserted / updated / unchanged counts. Identical data writes nothing at all.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::fpl::model::{BootstrapStatic, Element, Fixture};
use crate::store::StoreError;

/// A season's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SeasonId(pub i32);

/// What a sync did to one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    pub inserted: u32,
    pub updated: u32,
    pub unchanged: u32,
}

/// A player whose price moved since the last sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceChange {
    pub player_id: i32,
    pub web_name: String,
    pub old_cost: i32,
    pub new_cost: i32,
}

/// The outcome of one metadata sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub season: String,
    pub season_id: SeasonId,
    pub new_season: bool,
    pub tables: Vec<(&'static str, TableCounts)>,
    pub price_changes: Vec<PriceChange>,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.tables
            .iter()
            .any(|(_, c)| c.inserted > 0 || c.updated > 0)
    }

    pub fn counts(&self, table: &str) -> TableCounts {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }
}

/// The season a bootstrap describes, named from its first deadline: "2025-26".
pub fn season_name(b: &BootstrapStatic) -> Option<String> {
    let year = b.events.first()?.deadline_time.year();
    Some(format!("{year}-{:02}", (year + 1) % 100))
}

/// One table: its name, its typed columns as expressions over the JSON object `d`, and what
/// else to read back with each stored hash.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

const PHASES: Table = Table {
    name: "phases",
    columns: &[
        ("name", "d->>'name'"),
        ("start_event", "(d->>'start_event')::int"),
        ("stop_event", "(d->>'stop_event')::int"),
    ],
};

const TEAMS: Table = Table {
    name: "teams",
    columns: &[
        ("code", "(d->>'code')::int"),
        ("name", "d->>'name'"),
        ("short_name", "d->>'short_name'"),
    ],
};

const ELEMENT_TYPES: Table = Table {
    name: "element_types",
    columns: &[
        ("short_name", "d->>'singular_name_short'"),
        ("squad_min_play", "(d->>'squad_min_play')::int"),
        ("squad_max_play", "(d->>'squad_max_play')::int"),
    ],
};

const PLAYERS: Table = Table {
    name: "players",
    columns: &[
        ("code", "(d->>'code')::int"),
        ("web_name", "d->>'web_name'"),
        ("team_id", "(d->>'team')::int"),
        ("element_type", "(d->>'element_type')::int"),
        ("now_cost", "(d->>'now_cost')::int"),
        ("status", "d->>'status'"),
        ("total_points", "(d->>'total_points')::int"),
    ],
};

const EVENTS: Table = Table {
    name: "events",
    columns: &[
        ("name", "d->>'name'"),
        ("deadline_time", "(d->>'deadline_time')::timestamptz"),
        ("finished", "(d->>'finished')::boolean"),
        ("data_checked", "(d->>'data_checked')::boolean"),
        ("is_current", "(d->>'is_current')::boolean"),
        ("is_next", "(d->>'is_next')::boolean"),
    ],
};

const FIXTURES: Table = Table {
    name: "fixtures",
    columns: &[
        ("event_id", "(d->>'event')::int"),
        ("team_h", "(d->>'team_h')::int"),
        ("team_a", "(d->>'team_a')::int"),
        ("kickoff_time", "(d->>'kickoff_time')::timestamptz"),
        ("started", "(d->>'started')::boolean"),
        ("finished", "(d->>'finished')::boolean"),
        (
            "finished_provisional",
            "(d->>'finished_provisional')::boolean",
        ),
        ("minutes", "(d->>'minutes')::int"),
        ("team_h_score", "(d->>'team_h_score')::int"),
        ("team_a_score", "(d->>'team_a_score')::int"),
    ],
};

impl Table {
    fn upsert_sql(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        let exprs: Vec<&str> = self.columns.iter().map(|(_, e)| *e).collect();
        let updates: Vec<String> = names
            .iter()
            .map(|n| format!("{n} = EXCLUDED.{n}"))
            .collect();
        format!(
            "INSERT INTO {t} (season_id, id, {cols}, data, hash) \
             SELECT $1, (d->>'id')::int, {exprs}, d, h \
             FROM UNNEST($2::text[], $3::bigint[]) AS u(txt, h), LATERAL (SELECT txt::jsonb AS d OFFSET 0) j \
             ON CONFLICT (season_id, id) DO UPDATE SET {updates}, data = EXCLUDED.data, \
             hash = EXCLUDED.hash, updated_at = now()",
            t = self.name,
            cols = names.join(", "),
            exprs = exprs.join(", "),
            updates = updates.join(", "),
        )
    }
}

/// A row ready to write: its id, its JSON text and the hash of that text.
struct Row {
    id: i32,
    json: String,
    hash: i64,
}

fn rows<T: Serialize>(items: &[T], id: impl Fn(&T) -> i32) -> Vec<Row> {
    items
        .iter()
        .map(|item| {
            let json = serde_json::to_string(item).expect("models serialise");
            let hash = xxhash_rust::xxh3::xxh3_64(json.as_bytes()) as i64;
            Row {
                id: id(item),
                json,
                hash,
            }
        })
        .collect()
}

/// Writes the rows of `table` whose hash differs from the stored one.
async fn sync_table(
    tx: &mut PgConnection,
    table: &Table,
    season: SeasonId,
    rows: Vec<Row>,
) -> Result<TableCounts, StoreError> {
    let stored: HashMap<i32, i64> = sqlx::query_as::<_, (i32, i64)>(&format!(
        "SELECT id, hash FROM {} WHERE season_id = $1",
        table.name
    ))
    .bind(season.0)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let mut counts = TableCounts::default();
    let (mut texts, mut hashes) = (Vec::new(), Vec::new());
    for row in rows {
        match stored.get(&row.id) {
            Some(h) if *h == row.hash => counts.unchanged += 1,
            Some(_) => {
                counts.updated += 1;
                texts.push(row.json);
                hashes.push(row.hash);
            }
            None => {
                counts.inserted += 1;
                texts.push(row.json);
                hashes.push(row.hash);
            }
        }
    }
    if !texts.is_empty() {
        sqlx::query(&table.upsert_sql())
            .bind(season.0)
            .bind(texts)
            .bind(hashes)
            .execute(&mut *tx)
            .await?;
    }
    Ok(counts)
}

/// Finds or creates the season `name`; true when it was created.
async fn season(
    tx: &mut Transaction<'_, Postgres>,
    name: &str,
    b: &BootstrapStatic,
) -> Result<(SeasonId, bool), StoreError> {
    if let Some(id) = sqlx::query_scalar::<_, i32>("SELECT id FROM seasons WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok((SeasonId(id), false));
    }
    let first_deadline = b.events.first().map(|e| e.deadline_time);
    let id = sqlx::query_scalar::<_, i32>(
        "INSERT INTO seasons (name, first_deadline) VALUES ($1, $2) RETURNING id",
    )
    .bind(name)
    .bind(first_deadline)
    .fetch_one(&mut **tx)
    .await?;
    Ok((SeasonId(id), true))
}

/// Applies a validated bootstrap payload in one transaction: season, phases, teams, element
/// types, players, events, then today's price snapshot. Returns what changed.
pub async fn apply_bootstrap(
    db: &PgPool,
    b: &BootstrapStatic,
    today: NaiveDate,
) -> Result<SyncReport, StoreError> {
    let name = season_name(b).ok_or_else(|| StoreError::Corrupt("no events".into()))?;
    let mut tx = db.begin().await?;
    let (season_id, new_season) = season(&mut tx, &name, b).await?;

    // Prices before this sync, to report risers and fallers.
    let old_costs: HashMap<i32, i32> =
        sqlx::query_as::<_, (i32, i32)>("SELECT id, now_cost FROM players WHERE season_id = $1")
            .bind(season_id.0)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();

    let mut tables = Vec::new();
    for (table, rows) in [
        (&PHASES, rows(&b.phases, |p| i32::from(p.id))),
        (&TEAMS, rows(&b.teams, |t| i32::from(t.id.0))),
        (
            &ELEMENT_TYPES,
            rows(&b.element_types, |t| i32::from(t.id.0)),
        ),
        (&PLAYERS, rows(&b.elements, |e| e.id.0 as i32)),
        (&EVENTS, rows(&b.events, |e| i32::from(e.id.0))),
    ] {
        let counts = sync_table(&mut tx, table, season_id, rows).await?;
        tables.push((table.name, counts));
    }
    let snapshot = snapshot_values(&mut tx, season_id, &b.elements, today).await?;
    tables.push(("player_values", snapshot));
    tx.commit().await?;

    let mut price_changes: Vec<PriceChange> = b
        .elements
        .iter()
        .filter_map(|e| {
            let old = *old_costs.get(&(e.id.0 as i32))?;
            let new = e.now_cost as i32;
            (old != new).then(|| PriceChange {
                player_id: e.id.0 as i32,
                web_name: e.web_name.clone(),
                old_cost: old,
                new_cost: new,
            })
        })
        .collect();
    price_changes.sort_by_key(|c| (c.old_cost - c.new_cost, c.player_id));
    Ok(SyncReport {
        season: name,
        season_id,
        new_season,
        tables,
        price_changes,
    })
}

/// Today's price snapshot: one row per player and day, rewritten only where values moved.
async fn snapshot_values(
    tx: &mut PgConnection,
    season: SeasonId,
    players: &[Element],
    today: NaiveDate,
) -> Result<TableCounts, StoreError> {
    let stored: HashMap<i32, (i32, f32, i64, i64)> = sqlx::query_as::<_, (i32, i32, f32, i64, i64)>(
        "SELECT player_id, now_cost, selected_by_percent, transfers_in_event, transfers_out_event \
         FROM player_values WHERE season_id = $1 AND day = $2",
    )
    .bind(season.0)
    .bind(today)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(id, cost, sel, tin, tout)| (id, (cost, sel, tin, tout)))
    .collect();
    let mut counts = TableCounts::default();
    let (mut ids, mut costs, mut selected, mut ins, mut outs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in players {
        let row = (
            p.now_cost as i32,
            p.selected_by_percent as f32,
            p.transfers_in_event as i64,
            p.transfers_out_event as i64,
        );
        match stored.get(&(p.id.0 as i32)) {
            Some(old) if *old == row => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.updated += 1,
            None => counts.inserted += 1,
        }
        ids.push(p.id.0 as i32);
        costs.push(row.0);
        selected.push(row.1);
        ins.push(row.2);
        outs.push(row.3);
    }
    if !ids.is_empty() {
        sqlx::query(
            "INSERT INTO player_values (season_id, day, player_id, now_cost, selected_by_percent, \
             transfers_in_event, transfers_out_event) \
             SELECT $1, $2, * FROM UNNEST($3::int[], $4::int[], $5::real[], $6::bigint[], $7::bigint[]) \
             ON CONFLICT (season_id, player_id, day) DO UPDATE SET now_cost = EXCLUDED.now_cost, \
             selected_by_percent = EXCLUDED.selected_by_percent, \
             transfers_in_event = EXCLUDED.transfers_in_event, \
             transfers_out_event = EXCLUDED.transfers_out_event",
        )
        .bind(season.0)
        .bind(today)
        .bind(ids)
        .bind(costs)
        .bind(selected)
        .bind(ins)
        .bind(outs)
        .execute(&mut *tx)
        .await?;
    }
    Ok(counts)
}

/// The most recent season, if any bootstrap has run.
pub async fn current_season(db: &PgPool) -> Result<Option<(SeasonId, String)>, StoreError> {
    Ok(sqlx::query_as::<_, (i32, String)>(
        "SELECT id, name FROM seasons ORDER BY first_deadline DESC LIMIT 1",
    )
    .fetch_optional(db)
    .await?
    .map(|(id, name)| (SeasonId(id), name)))
}

/// The team and event ids of `season`, for validating fixtures.
pub async fn known_ids(
    db: &PgPool,
    season: SeasonId,
) -> Result<
    (
        std::collections::HashSet<i32>,
        std::collections::HashSet<i32>,
    ),
    StoreError,
> {
    let teams = sqlx::query_scalar("SELECT id FROM teams WHERE season_id = $1")
        .bind(season.0)
        .fetch_all(db)
        .await?;
    let events = sqlx::query_scalar("SELECT id FROM events WHERE season_id = $1")
        .bind(season.0)
        .fetch_all(db)
        .await?;
    Ok((teams.into_iter().collect(), events.into_iter().collect()))
}

/// Applies validated fixtures of `season` in one transaction.
pub async fn apply_fixtures(
    db: &PgPool,
    season: SeasonId,
    fixtures: &[Fixture],
) -> Result<TableCounts, StoreError> {
    let mut tx = db.begin().await?;
    let counts = sync_table(
        &mut tx,
        &FIXTURES,
        season,
        rows(fixtures, |f| f.id.0 as i32),
    )
    .await?;
    tx.commit().await?;
    Ok(counts)
}
