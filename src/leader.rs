//! Leadership: which of several `fplsync serve` processes sharing one PostgreSQL schema (and
//! Redis prefix) runs the scheduler and the job actors.
//!
//! The leader is the instance holding a session-level PostgreSQL advisory lock, keyed by the
//! schema, on a connection of its own. PostgreSQL releases the lock the moment that session
//! ends — a clean exit, a `kill -9` (the kernel closes the socket), a lost network — so no lease
//! has to expire. Followers try the lock every `leader.retry_ms`; the leader checks its session
//! every `leader.check_interval_ms` and steps down (stopping its leader-only actors) when the
//! session is gone, since the lock went with it.
//!
//! An instance becoming leader first runs start-up recovery ([`crate::store::runs::recover_at_startup`]):
//! whatever the previous leader left `running` is `interrupted` and re-run once. Only then do
//! its job actors start. The leader's identity and HTTP address are written to
//! `service_leader`, so followers can say who leads (`/actors`, `/ready`, refused triggers).

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use actix::Addr;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::watch;

use crate::alerts::{Alert, AlertSink, Severity};
use crate::config::{DatabaseSettings, LeaderSettings};
use crate::metrics::{Family, Metrics};
use crate::store::{self, StoreError};
use crate::supervisor::{SetLeading, Supervisor};

/// The leadership family: whether this instance leads (set when `/metrics` is scraped).
#[derive(Clone)]
pub struct LeaderMetrics {
    pub leader: prometheus::IntGauge,
}

impl Family for LeaderMetrics {
    fn register(m: &Metrics) -> Self {
        LeaderMetrics {
            leader: m.gauge(
                "fplsync_leader",
                "1 while this instance leads (runs the scheduler and the job actors), 0 as a \
                 follower.",
            ),
        }
    }
}

/// First key of the advisory lock: "fpls" in ASCII. The second is the schema's hash.
const LOCK_CLASS: i32 = 0x6670_6c73;

/// What an instance knows about the leadership, as `/actors` and `/ready` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeaderStatus {
    /// This instance.
    pub instance: String,
    pub role: Role,
    /// The leading instance and its control endpoint, as recorded in `service_leader` (on a
    /// follower: as of its last attempt at the lock; absent if no instance leads).
    pub leader: Option<LeaderInfo>,
}

/// Whether an instance runs the scheduler and the job actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = LeaderRole)]
pub enum Role {
    Leader,
    Follower,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LeaderInfo {
    pub instance: String,
    pub http_addr: String,
    pub since: DateTime<Utc>,
}

/// Shared view of the leadership; cheap to clone.
#[derive(Clone)]
pub struct Leadership {
    inner: Arc<RwLock<LeaderStatus>>,
    /// Where this instance's control endpoint answers, once it is bound.
    http_addr: Arc<OnceLock<String>>,
}

impl Leadership {
    pub fn new(instance: &str) -> Self {
        Leadership {
            inner: Arc::new(RwLock::new(LeaderStatus {
                instance: instance.to_string(),
                role: Role::Follower,
                leader: None,
            })),
            http_addr: Arc::default(),
        }
    }

    /// Records where this instance's control endpoint answers (before it first leads).
    pub fn set_http_addr(&self, addr: String) {
        let _ = self.http_addr.set(addr);
    }

    pub fn status(&self) -> LeaderStatus {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn is_leader(&self) -> bool {
        self.status().role == Role::Leader
    }

    fn set(&self, leading: bool, leader: Option<LeaderInfo>) {
        let mut s = self.inner.write().unwrap_or_else(|e| e.into_inner());
        s.role = if leading {
            Role::Leader
        } else {
            Role::Follower
        };
        s.leader = leader;
    }

    /// Tries once to become the leader: takes the lock, runs start-up recovery and records
    /// itself in `service_leader`. Returns the session holding the lock when it leads.
    pub async fn try_acquire(
        &self,
        settings: &DatabaseSettings,
        db: &PgPool,
        alerts: &AlertSink,
    ) -> Result<Option<PgConnection>, StoreError> {
        let mut conn = store::connect_options(settings)?
            .connect()
            .await
            .map_err(StoreError::Connect)?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(format!("fplsync leader {}", settings.schema))
            .fetch_one(&mut conn)
            .await?;
        if !locked {
            conn.close().await.ok();
            let leader = current_leader(db).await.ok().flatten();
            self.set(false, leader);
            return Ok(None);
        }
        // From here on this instance leads; nothing of this schema runs anywhere else.
        let recovery = store::runs::recover_at_startup(db).await?;
        if !recovery.interrupted.is_empty() || !recovery.reruns.is_empty() {
            tracing::warn!(
                interrupted = ?recovery.interrupted,
                reruns = ?recovery.reruns,
                not_rerun = ?recovery.not_rerun,
                "start-up recovery: runs left running were interrupted; interrupted runs re-run once"
            );
            alerts.emit(Alert::startup_recovery(&recovery));
        }
        let info: LeaderInfo = sqlx::query_as(
            "INSERT INTO service_leader (instance, http_addr) VALUES ($1, $2) \
             ON CONFLICT (singleton) DO UPDATE SET instance = $1, http_addr = $2, since = now() \
             RETURNING instance, http_addr, since",
        )
        .bind(&self.status().instance)
        .bind(
            self.http_addr
                .get()
                .map(String::as_str)
                .unwrap_or("unknown"),
        )
        .fetch_one(db)
        .await?;
        tracing::info!(instance = %info.instance, "this instance is the leader");
        self.set(true, Some(info));
        Ok(Some(conn))
    }

    /// Keeps the leadership current until `stop` turns true: a follower tries the lock, the
    /// leader watches its session. Returns the session still holding the lock (if it leads),
    /// for the caller to release once its actors have stopped.
    pub async fn run(
        self,
        mut conn: Option<PgConnection>,
        deps: LoopDeps,
        mut stop: watch::Receiver<bool>,
    ) -> Option<PgConnection> {
        let LoopDeps {
            database: settings,
            timing,
            db,
            alerts,
            root,
        } = deps;
        let retry = Duration::from_millis(timing.retry_ms);
        let check = Duration::from_millis(timing.check_interval_ms);
        loop {
            let wait = if conn.is_some() { check } else { retry };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return conn,
            }
            if *stop.borrow() {
                return conn;
            }
            match conn.as_mut() {
                Some(session) => {
                    let alive =
                        tokio::time::timeout(check, sqlx::query("SELECT 1").execute(session))
                            .await
                            .is_ok_and(|r| r.is_ok());
                    if !alive {
                        conn = None;
                        tracing::error!("lost the leader lock's PostgreSQL session; stepping down");
                        alerts.emit(Alert::operations(
                            Severity::Critical,
                            "leadership_lost",
                            "this instance lost its PostgreSQL session and stopped leading".into(),
                            None,
                        ));
                        let _ = root.send(SetLeading { leading: false }).await;
                        self.set(false, None);
                    }
                }
                None => match self.try_acquire(&settings, &db, &alerts).await {
                    Ok(Some(session)) => {
                        conn = Some(session);
                        alerts.emit(Alert::operations(
                            Severity::Warning,
                            "leadership_taken",
                            format!("instance {} took over as leader", self.status().instance),
                            None,
                        ));
                        let _ = root.send(SetLeading { leading: true }).await;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not try the leader lock"),
                },
            }
        }
    }
}

/// What the leadership loop works with.
pub struct LoopDeps {
    pub database: DatabaseSettings,
    pub timing: LeaderSettings,
    pub db: PgPool,
    pub alerts: AlertSink,
    /// Told of every change, to start or stop the leader-only actors.
    pub root: Addr<Supervisor>,
}

/// The leader recorded in `service_leader`, if any.
pub async fn current_leader(db: &PgPool) -> Result<Option<LeaderInfo>, StoreError> {
    Ok(
        sqlx::query_as("SELECT instance, http_addr, since FROM service_leader")
            .fetch_optional(db)
            .await?,
    )
}
