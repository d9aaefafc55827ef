//! Redis: one auto-reconnecting connection for the process, every key under `redis.prefix`, and
//! every command bounded by `redis.command_timeout_ms` so an absent Redis fails fast instead of
//! hanging its caller. The service starts and runs without Redis; readiness reports it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use crate::config::RedisSettings;

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("redis.url is not usable: {0}")]
    Url(#[source] redis::RedisError),
    #[error("Redis is unreachable: {0}")]
    Unreachable(String),
    #[error("Redis command timed out after {0:?}")]
    Timeout(Duration),
    #[error("Redis command failed: {0}")]
    Command(#[from] redis::RedisError),
}

/// Shared handle; clones use the same connection.
#[derive(Clone)]
pub struct Kv {
    client: redis::Client,
    prefix: Arc<str>,
    connect_timeout: Duration,
    command_timeout: Duration,
    conn: Arc<Mutex<Option<ConnectionManager>>>,
}

impl Kv {
    pub fn new(settings: &RedisSettings) -> Result<Self, KvError> {
        let client = redis::Client::open(settings.url.expose_secret()).map_err(KvError::Url)?;
        Ok(Kv {
            client,
            prefix: settings.prefix.as_str().into(),
            connect_timeout: Duration::from_millis(settings.connect_timeout_ms),
            command_timeout: Duration::from_millis(settings.command_timeout_ms),
            conn: Arc::default(),
        })
    }

    /// `prefix` + `suffix`: the only way keys are built.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The connection, established on first use; afterwards it reconnects by itself.
    async fn connection(&self) -> Result<ConnectionManager, KvError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.connect_timeout)
            .set_response_timeout(self.command_timeout)
            .set_number_of_retries(1)
            .set_max_delay(1000);
        let conn = tokio::time::timeout(
            self.connect_timeout * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| KvError::Timeout(self.connect_timeout * 2))?
        .map_err(|e| KvError::Unreachable(e.to_string()))?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Runs `cmd` with the command timeout.
    pub async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, KvError> {
        let mut conn = self.connection().await?;
        tokio::time::timeout(self.command_timeout, cmd.query_async(&mut conn))
            .await
            .map_err(|_| KvError::Timeout(self.command_timeout))?
            .map_err(KvError::Command)
    }

    /// How long one command may take before it fails.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// Runs `work` on the shared connection, the whole of it (getting the connection included)
    /// bounded by the command timeout: for pipelines and scripts, which [`Kv::query`] does not
    /// cover.
    pub async fn run<T, F, Fut>(&self, work: F) -> Result<T, KvError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        tokio::time::timeout(self.command_timeout, async {
            let conn = self.connection().await?;
            work(conn).await.map_err(KvError::Command)
        })
        .await
        .map_err(|_| KvError::Timeout(self.command_timeout))?
    }

    /// A new dedicated publish/subscribe connection (a subscribed connection can do nothing
    /// else, so it is never the shared one), bounded by the connect timeout.
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, KvError> {
        tokio::time::timeout(self.connect_timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| KvError::Timeout(self.connect_timeout))?
            .map_err(|e| KvError::Unreachable(e.to_string()))
    }

    pub async fn ping(&self) -> Result<(), KvError> {
        let _: String = self.query(&redis::cmd("PING")).await?;
        Ok(())
    }
}
