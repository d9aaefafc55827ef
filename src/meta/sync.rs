//! Writing metadata to PostgreSQL with change detection: each row's API object is stored whole
//! (`data`) with a 64-bit hash; a sync loads the stored hashes, writes only rows whose hash
//! differs (one `INSERT … SELECT FROM UNNEST … ON CONFLICT DO UPDATE` per table), and reports
//! inserted / updated / unchanged counts. Identical data writes nothing at all.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::fpl::model::{
    BootstrapStatic, Element, ElementType, Event, Fixture, Phase, Team, Verbatim,
};
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
    /// Per table, every object of the payload as the dataset readers get (a JSON array in id
    /// order), so a publish needs no read back from PostgreSQL.
    #[serde(skip)]
    pub arrays: Vec<(&'static str, Bytes)>,
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

/// One table: its name and its typed columns (name and SQL type), besides `season_id`, `id`,
/// `data` and `hash`. The values come from the model ([`Stored::columns`], in this order), not
/// from SQL over the JSON: PostgreSQL then only stores the `data` text instead of parsing
/// every object to pick a few fields out of it (see migration 0010).
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

/// An API object stored in a metadata [`Table`].
trait Stored: Serialize {
    const TABLE: Table;
    fn id(&self) -> i32;
    /// The text FPL sent for the object, stored as its `data` when known.
    fn verbatim(&self) -> &Verbatim;
    /// The typed columns' values as text (cast by PostgreSQL), in [`Table::columns`] order.
    fn columns(&self) -> Vec<Option<String>>;
}

fn text(v: impl ToString) -> Option<String> {
    Some(v.to_string())
}

impl Stored for Phase {
    fn verbatim(&self) -> &Verbatim {
        &self.verbatim
    }
    const TABLE: Table = Table {
        name: "phases",
        columns: &[
            ("name", "text"),
            ("start_event", "int"),
            ("stop_event", "int"),
        ],
    };
    fn id(&self) -> i32 {
        i32::from(self.id)
    }
    fn columns(&self) -> Vec<Option<String>> {
        vec![
            text(&self.name),
            self.start_event.and_then(text),
            self.stop_event.and_then(text),
        ]
    }
}

impl Stored for Team {
    fn verbatim(&self) -> &Verbatim {
        &self.verbatim
    }
    const TABLE: Table = Table {
        name: "teams",
        columns: &[("code", "int"), ("name", "text"), ("short_name", "text")],
    };
    fn id(&self) -> i32 {
        i32::from(self.id.0)
    }
    fn columns(&self) -> Vec<Option<String>> {
        vec![text(self.code), text(&self.name), text(&self.short_name)]
    }
}

impl Stored for ElementType {
    fn verbatim(&self) -> &Verbatim {
        &self.verbatim
    }
    const TABLE: Table = Table {
        name: "element_types",
        columns: &[
            ("short_name", "text"),
            ("squad_min_play", "int"),
            ("squad_max_play", "int"),
        ],
    };
    fn id(&self) -> i32 {
        i32::from(self.id.0)
    }
    fn columns(&self) -> Vec<Option<String>> {
        vec![
            text(&self.singular_name_short),
            text(self.squad_min_play),
            text(self.squad_max_play),
        ]
    }
}

impl Stored for Element {
    fn verbatim(&self) -> &Verbatim {
        &self.verbatim
    }
    const TABLE: Table = Table {
        name: "players",
        columns: &[
            ("code", "int"),
            ("web_name", "text"),
            ("team_id", "int"),
            ("element_type", "int"),
            ("now_cost", "int"),
            ("status", "text"),
            ("total_points", "int"),
        ],
    };
    fn id(&self) -> i32 {
        self.id.0 as i32
    }
    fn columns(&self) -> Vec<Option<String>> {
        vec![
            text(self.code),
            text(&self.web_name),
            text(self.team),
            text(self.element_type),
            text(self.now_cost),
            text(&self.status),
            text(self.total_points),
        ]
    }
}

impl Stored for Event {
    fn verbatim(&self) -> &Verbatim {
        &self.verbatim
    }
    const TABLE: Table = Table {
        name: "events",
        columns: &[
            ("name", "text"),
            ("deadline_time", "timestamptz"),
            ("finished", "boolean"),
            ("data_checked", "boolean"),
            ("is_current", "boolean"),
            ("is_next", "boolean"),
        ],
    };
    fn id(&self) -> i32 {
        i32::from(self.id.0)
    }
    fn columns(&self) -> Vec<Option<String>> {
        vec![
            text(&self.name),
            text(self.deadline_time.to_rfc3339()),
            text(self.finished),
            text(self.data_checked),
            text(self.is_current),
            text(self.is_next),
        ]
    }
}

impl Stored for Fixture {
    fn verbatim(&self) -> &Verbatim {
        &self.verbatim
    }
    const TABLE: Table = Table {
        name: "fixtures",
        columns: &[
            ("event_id", "int"),
            ("team_h", "int"),
            ("team_a", "int"),
            ("kickoff_time", "timestamptz"),
            ("started", "boolean"),
            ("finished", "boolean"),
            ("finished_provisional", "boolean"),
            ("minutes", "int"),
            ("team_h_score", "int"),
            ("team_a_score", "int"),
        ],
    };
    fn id(&self) -> i32 {
        self.id.0 as i32
    }
    fn columns(&self) -> Vec<Option<String>> {
        vec![
            self.event.and_then(text),
            text(self.team_h),
            text(self.team_a),
            self.kickoff_time.map(|t| t.to_rfc3339()),
            self.started.and_then(text),
            text(self.finished),
            text(self.finished_provisional),
            text(self.minutes),
            self.team_h_score.and_then(text),
            self.team_a_score.and_then(text),
        ]
    }
}

impl Table {
    fn upsert_sql(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        let arrays: String = (0..names.len())
            .map(|i| format!(", ${}::text[]", i + 5))
            .collect();
        let aliases: String = (0..names.len()).map(|i| format!(", c{i}")).collect();
        let values: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, ty))| format!("u.c{i}::{ty}"))
            .collect();
        let updates: Vec<String> = names
            .iter()
            .map(|n| format!("{n} = EXCLUDED.{n}"))
            .collect();
        format!(
            "INSERT INTO {t} (season_id, id, {cols}, data, hash) \
             SELECT $1, u.id, {values}, u.data, u.hash \
             FROM UNNEST($2::int[], $3::text[], $4::bigint[]{arrays}) AS u(id, data, hash{aliases}) \
             ON CONFLICT (season_id, id) DO UPDATE SET {updates}, data = EXCLUDED.data, \
             hash = EXCLUDED.hash, updated_at = now()",
            t = self.name,
            cols = names.join(", "),
            values = values.join(", "),
            updates = updates.join(", "),
        )
    }
}

/// A row ready to write: its object, id, JSON text and the hash of that text. The typed
/// columns are taken from the object only for rows that are written.
struct Row<'a, T> {
    item: &'a T,
    id: i32,
    json: std::borrow::Cow<'a, str>,
    hash: i64,
}

/// The rows of `items`: each object's text as FPL sent it (every field kept, the ones the model
/// ignores included), or the model serialised for an object built in code.
fn rows<T: Stored>(items: &[T]) -> Vec<Row<'_, T>> {
    items
        .iter()
        .map(|item| {
            let json = match item.verbatim().text() {
                Some(text) => std::borrow::Cow::Borrowed(text),
                None => {
                    std::borrow::Cow::Owned(serde_json::to_string(item).expect("models serialise"))
                }
            };
            let hash = xxhash_rust::xxh3::xxh3_64(json.as_bytes()) as i64;
            Row {
                item,
                id: item.id(),
                json,
                hash,
            }
        })
        .collect()
}

/// Syncs `items` into their table: the table's name, what changed, and the objects as the
/// dataset readers get them.
async fn sync_objects<T: Stored>(
    tx: &mut PgConnection,
    season: SeasonId,
    items: &[T],
) -> Result<(&'static str, TableCounts, Bytes), StoreError> {
    let rows = rows(items);
    let counts = sync_table(tx, season, &rows).await?;
    Ok((T::TABLE.name, counts, json_array(&rows)))
}

/// The JSON array of `rows`' objects in id order, byte for byte what the dataset loader
/// builds from the stored `data` texts (see [`super::datasets::load`]).
fn json_array<T>(rows: &[Row<'_, T>]) -> Bytes {
    let mut order: Vec<&Row<'_, T>> = rows.iter().collect();
    order.sort_unstable_by_key(|r| r.id);
    let len = rows.iter().map(|r| r.json.len() + 1).sum::<usize>() + 2;
    let mut out = Vec::with_capacity(len);
    out.push(b'[');
    for (i, row) in order.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(row.json.as_bytes());
    }
    out.push(b']');
    Bytes::from(out)
}

/// Writes the rows whose hash differs from the stored one.
async fn sync_table<T: Stored>(
    tx: &mut PgConnection,
    season: SeasonId,
    rows: &[Row<'_, T>],
) -> Result<TableCounts, StoreError> {
    let table = &T::TABLE;
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
    let changed: Vec<&Row<'_, T>> = rows
        .iter()
        .filter(|row| match stored.get(&row.id) {
            Some(h) if *h == row.hash => {
                counts.unchanged += 1;
                false
            }
            Some(_) => {
                counts.updated += 1;
                true
            }
            None => {
                counts.inserted += 1;
                true
            }
        })
        .collect();
    if changed.is_empty() {
        return Ok(counts);
    }
    let columns: Vec<Vec<Option<String>>> = changed.iter().map(|r| r.item.columns()).collect();
    let sql = table.upsert_sql();
    let mut query = sqlx::query(&sql)
        .bind(season.0)
        .bind(changed.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(changed.iter().map(|r| r.json.as_ref()).collect::<Vec<_>>())
        .bind(changed.iter().map(|r| r.hash).collect::<Vec<_>>());
    for column in 0..table.columns.len() {
        query = query.bind(
            columns
                .iter()
                .map(|c| c[column].as_deref())
                .collect::<Vec<_>>(),
        );
    }
    query.execute(&mut *tx).await?;
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
    // The commit need not wait for its WAL flush: the job records its run as succeeded right
    // after with an ordinary commit, whose flush covers this one, and a crash before that
    // leaves a run that is not succeeded and is re-run (the sync is idempotent).
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
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
    let mut arrays = Vec::new();
    for (name, counts, array) in [
        sync_objects(&mut tx, season_id, &b.phases).await?,
        sync_objects(&mut tx, season_id, &b.teams).await?,
        sync_objects(&mut tx, season_id, &b.element_types).await?,
        sync_objects(&mut tx, season_id, &b.elements).await?,
        sync_objects(&mut tx, season_id, &b.events).await?,
    ] {
        tables.push((name, counts));
        arrays.push((name, array));
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
        arrays,
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
    let counts = sync_table(&mut tx, season, &rows(fixtures)).await?;
    tx.commit().await?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::samples::{self, gw38};

    fn check<T: Stored>(items: &[T]) {
        assert!(!items.is_empty(), "{} has objects", T::TABLE.name);
        for row in rows(items) {
            assert_eq!(
                row.item.columns().len(),
                T::TABLE.columns.len(),
                "{}: one value per column",
                T::TABLE.name
            );
            let object: serde_json::Value = serde_json::from_str(&row.json).unwrap();
            assert_eq!(object["id"].as_i64(), Some(i64::from(row.id)));
        }
    }

    #[test]
    fn every_real_object_gives_one_value_per_typed_column_of_its_table() {
        let b: BootstrapStatic = samples::decode(gw38::BOOTSTRAP).unwrap();
        check(&b.phases);
        check(&b.teams);
        check(&b.element_types);
        check(&b.elements);
        check(&b.events);
        let fixtures: Vec<Fixture> = samples::decode(gw38::FIXTURES_FINAL).unwrap();
        check(&fixtures);
        let first = fixtures[0].columns();
        assert_eq!(first[0], fixtures[0].event.map(|e| e.to_string()));
        assert_eq!(first[1], Some(fixtures[0].team_h.to_string()));
    }

    #[test]
    fn a_tables_json_array_holds_every_object_in_id_order() {
        let b: BootstrapStatic = samples::decode(gw38::BOOTSTRAP).unwrap();
        let mut reversed = b.elements.clone();
        reversed.reverse();
        let array: Vec<serde_json::Value> =
            serde_json::from_slice(&json_array(&rows(&reversed))).unwrap();
        assert_eq!(array.len(), b.elements.len());
        let ids: Vec<i64> = array.iter().map(|o| o["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending ids");
        // Each object as FPL sent it: a field the model does not know (`scout_risks`) and the
        // API's own decimal strings (`"0.00"`, not the model's `"0.0"`) included.
        let first = b.elements.iter().min_by_key(|e| e.id).unwrap();
        let sent: serde_json::Value = serde_json::from_str(first.verbatim.text().unwrap()).unwrap();
        assert_eq!(array[0], sent);
        assert!(array[0].get("scout_risks").is_some());
        assert_eq!(array[0]["expected_goals"], "0.00");
        assert_eq!(&json_array::<Element>(&[])[..], b"[]");
    }
}
