//! PostgreSQL, the store of record: connecting (creating the database when it is missing),
//! migrations, and the queries of the runtime (job runs and their logs, the audit log). The
//! supervision log is the supervisor's own (`supervisor::log`); the data of each job kind is in
//! the kind's module.
//!
//! Queries are plain `sqlx::query` calls with runtime binding, so a fresh clone builds without a
//! database or offline query data.

pub mod audit;
pub mod budget;
pub mod runs;

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::DatabaseSettings;

/// Migrations embedded from `migrations/` at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// What can go wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database.url is not usable: {0}")]
    Url(#[source] sqlx::Error),
    #[error("cannot create database `{name}`: {source}")]
    Create {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// Connection options from the settings: every connection works in `database.schema`, and
/// statement logging is turned down (job queries are frequent and would drown the log).
pub fn connect_options(settings: &DatabaseSettings) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(settings.url.expose_secret())
        .map(|o| {
            o.log_statements(tracing::log::LevelFilter::Trace)
                .options([("search_path", settings.schema.as_str())])
        })
        .map_err(StoreError::Url)
}

/// Creates the configured database if it does not exist (two processes racing are fine).
pub async fn ensure_database(settings: &DatabaseSettings) -> Result<(), StoreError> {
    let options = connect_options(settings)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .map_err(StoreError::Connect)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut admin)
            .await
        {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it first: 42P04 duplicate_database, or 23505 when both
            // inserted into pg_database at the same moment.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(source) => return Err(StoreError::Create { name, source }),
        }
    }
    admin.close().await.ok();
    Ok(())
}

/// A pool on the configured database, which must exist.
pub async fn pool(settings: &DatabaseSettings) -> Result<PgPool, StoreError> {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        // A connection keeps buffers as large as the largest statement it sent or row it read
        // (a bootstrap's bulk upsert, a batch of managers' picks: megabytes each), for
        // as long as it lives; returned to the pool, it gives them back. Cheap when they are
        // small already: only capacity beyond 8 KiB is released.
        .after_release(|conn, _| {
            Box::pin(async move {
                conn.shrink_buffers();
                Ok(true)
            })
        })
        .connect_with(connect_options(settings)?)
        .await
        .map_err(StoreError::Connect)
}

/// Creates the database and schema if needed, connects, and applies pending migrations.
pub async fn connect_and_migrate(settings: &DatabaseSettings) -> Result<PgPool, StoreError> {
    ensure_database(settings).await?;
    let pool = pool(settings).await?;
    // The schema name is validated as a plain identifier at load, so it is safe to splice.
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {}", settings.schema))
        .execute(&pool)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}
