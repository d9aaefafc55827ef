//! `fplsync sim`: an HTTP server that speaks the FPL API, replaying gameweek 38 of 2025-26 from
//! real snapshots (and, in the season scenario, gameweeks 30–37 synthesized before it; in the
//! rollover scenario, the next season's pre-season and gameweek-1 deadline after it), driven
//! by a scenario clock, with synthetic managers at any scale and fault injection per endpoint.
//!
//! # Layout
//! - [`clock`]: phases of a gameweek, the scenario timeline, simulated time.
//! - [`dataset`]: the embedded real samples, decoded once per process and shared.
//! - [`season`]: gameweeks 30–37 synthesized from the real players and fixtures.
//! - [`rollover`]: the next season (2026-27) of the rollover scenario, from the real captures.
//! - [`squad`]: squad rules — generation, transfers, chips, line-ups, scoring, auto-subs.
//! - [`managers`]: the 72 real managers plus N synthetic ones, addressed by index.
//! - [`world`]: what every endpoint serves at a given step, and the per-step caches.
//! - [`entries`]: a manager's endpoints (entry, history, picks, transfers, cup).
//! - [`leagues`]: classic and H2H standings and H2H matches.
//! - [`faults`]: fault injection and request statistics.
//! - [`server`]: the actix-web app — the FPL paths under a prefix and the `/sim/` control API.
//! - [`rng`]: deterministic hashing.
//!
//! Start one in-process with [`Simulator::start`]; the returned [`RunningSim`] tells the port
//! and base URL and stops it. The binary's `fplsync sim` does the same from flags.

pub mod clock;
pub mod dataset;
pub mod entries;
pub mod faults;
pub mod leagues;
pub mod managers;
pub mod rng;
pub mod rollover;
pub mod season;
pub mod server;
pub mod squad;
pub mod world;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use serde::Serialize;

pub use clock::Phase;
pub use faults::{Fault, FaultParseError};
pub use world::{SimState, World};

use crate::fpl::samples::SampleError;

/// Which story the simulator tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Gameweek 38 of 2025-26 only, replayed from the real snapshots.
    Gw38,
    /// Gameweeks 30–37 synthesized, then the gameweek-38 replay.
    Season,
    /// The gameweek-38 replay, then the next season (2026-27) from the real pre-season
    /// captures: its PRE_SEASON (new ids, no current gameweek), then gameweek 1's deadline.
    Rollover,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Gw38 => "gw38",
            Scenario::Season => "season",
            Scenario::Rollover => "rollover",
        }
    }
}

/// How to run a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free one.
    pub bind: String,
    /// Path prefix of the FPL API, with leading and trailing slash.
    pub prefix: String,
    /// Simulated seconds per real second (0 stops the clock; 1800 is the demo speed).
    pub speed: f64,
    /// Synthetic managers besides the 72 real ones.
    pub entries: u32,
    /// Seed of everything synthetic.
    pub seed: u64,
    pub scenario: Scenario,
    /// Faults active from the start.
    pub faults: Vec<Fault>,
    /// actix-web worker threads.
    pub workers: usize,
    /// Stop on SIGINT/SIGTERM (the binary); in-process users stop it through [`RunningSim`].
    pub handle_signals: bool,
}

/// The demo speed: one real second is thirty simulated minutes, a gameweek about a minute.
pub const DEMO_SPEED: f64 = 1800.0;

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: "127.0.0.1:8090".into(),
            prefix: "/api/".into(),
            speed: DEMO_SPEED,
            entries: 1_000,
            seed: 1,
            scenario: Scenario::Gw38,
            faults: Vec::new(),
            workers: 2,
            handle_signals: false,
        }
    }
}

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the path prefix must start and end with '/', got `{0}`")]
    Prefix(String),
    #[error(transparent)]
    Sample(#[from] SampleError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Starts simulators.
pub struct Simulator;

impl Simulator {
    /// Decodes the samples (once per process), builds the scenario, binds and starts serving.
    /// Must run inside an actix `System` (or a tokio `LocalSet`): the server is spawned onto it.
    pub async fn start(config: SimConfig) -> Result<RunningSim, SimError> {
        if !config.prefix.starts_with('/') || !config.prefix.ends_with('/') {
            return Err(SimError::Prefix(config.prefix));
        }
        let listener = TcpListener::bind(&config.bind).map_err(|source| SimError::Bind {
            bind: config.bind.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| SimError::Unexpected(e.into()))?
            .port();
        let host = match listener.local_addr() {
            Ok(a) if !a.ip().is_unspecified() => a.ip().to_string(),
            _ => "127.0.0.1".into(),
        };
        let cfg = config.clone();
        let state = tokio::task::spawn_blocking(move || SimState::new(&cfg))
            .await
            .map_err(|e| SimError::Unexpected(anyhow::anyhow!("building the scenario: {e}")))??;
        let state = Arc::new(state);
        let server = server::build(state.clone(), listener, &config)
            .map_err(|e| SimError::Unexpected(e.into()))?;
        let handle = server.handle();
        let task = actix_rt::spawn(server);
        tracing::info!(
            port,
            scenario = config.scenario.name(),
            entries = config.entries,
            speed = config.speed,
            "FPL simulator listening"
        );
        Ok(RunningSim {
            port,
            address: format!("http://{host}:{port}"),
            prefix: config.prefix,
            handle,
            task,
            state,
        })
    }
}

/// A simulator that is serving.
pub struct RunningSim {
    port: u16,
    address: String,
    prefix: String,
    handle: ServerHandle,
    task: actix_rt::task::JoinHandle<std::io::Result<()>>,
    state: Arc<SimState>,
}

impl RunningSim {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (the control API is under `/sim/`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The FPL API base URL, e.g. `http://127.0.0.1:PORT/api/` (for `fpl.base_url`).
    pub fn base_url(&self) -> String {
        format!("{}{}", self.address, self.prefix)
    }

    /// The simulator's state: clock, faults and statistics, for in-process control.
    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    /// Stops accepting requests and waits for the server to finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }

    /// Serves until the server stops (on a signal when `handle_signals` is set).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.task
            .await
            .map_err(|e| std::io::Error::other(format!("simulator task: {e}")))?
    }
}
