//! `fplsync demo`: the simulator and the service in one process, so a newcomer can watch a real
//! gameweek (38 of 2025-26) flow through: metadata synced, matches starting, scores changing,
//! results final. A narrator logs each change it sees in the simulator and in what the service
//! has stored; the control endpoint and `/metrics` show the rest.
//!
//! The demo keeps its data apart from `fplsync serve`: schema `demo` (unless `database.schema`
//! is set to something other than `public`) and Redis prefix `fplsync-demo:` (likewise).

use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;

use crate::app::{Application, Options};
use crate::config::Settings;
use crate::sim::{Phase, RunningSim, Scenario, SimConfig, Simulator};

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Simulated seconds per real second (1800: a gameweek in under a minute).
    pub speed: f64,
    /// Synthetic managers besides the 72 real ones.
    pub entries: u32,
    /// Stop once the service has stored the final, checked gameweek (for scripts and tests).
    pub exit_when_final: bool,
}

/// The admin key of the demo when no keys are configured.
pub const DEMO_KEY: &str = "fplsync-demo-key";

/// The settings the demo runs with: the operator's, pointed at the simulator, with quick
/// schedules so changes show within a second or two.
pub fn demo_settings(mut s: Settings, sim_base_url: String) -> Settings {
    if s.database.schema == "public" {
        s.database.schema = "demo".into();
    }
    if s.redis.prefix == "fplsync:" {
        s.redis.prefix = "fplsync-demo:".into();
    }
    s.fpl.base_url = sim_base_url;
    // The demo listens on localhost only; with no keys configured it brings a well-known admin
    // key, so the dashboard and curl work at once. A real deployment configures its own.
    if s.auth.keys.is_empty() {
        s.auth.keys.push(crate::auth::ApiKeySettings {
            name: "demo".into(),
            role: crate::auth::Role::Admin,
            kinds: Vec::new(),
            sha256: crate::auth::hash_key(DEMO_KEY),
        });
    }
    s.scheduler.timezone = "UTC".into();
    s.scheduler.jobs.clear();
    s.scheduler
        .jobs
        .insert("bootstrap".into(), "*/5 * * * * *".into());
    s.scheduler
        .jobs
        .insert("fixtures".into(), "* * * * * *".into());
    s
}

/// What the service has stored about the gameweek, as the narrator reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Stored {
    event: Option<(i32, bool, bool, bool)>,
    fixtures: i64,
    started: i64,
    finished: i64,
    goals: i64,
}

impl Stored {
    async fn read(db: &PgPool, event: u16) -> Stored {
        let event_row: Option<(i32, bool, bool, bool)> = sqlx::query_as(
            "SELECT e.id, e.is_current, e.finished, e.data_checked FROM events e \
             JOIN seasons s ON s.id = e.season_id WHERE e.id = $1 \
             ORDER BY s.first_deadline DESC LIMIT 1",
        )
        .bind(i32::from(event))
        .fetch_optional(db)
        .await
        .ok()
        .flatten();
        let counts: (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE started), count(*) FILTER (WHERE finished), \
             COALESCE(sum(COALESCE(team_h_score, 0) + COALESCE(team_a_score, 0)), 0)::bigint \
             FROM fixtures WHERE event_id = $1",
        )
        .bind(i32::from(event))
        .fetch_one(db)
        .await
        .unwrap_or_default();
        Stored {
            event: event_row,
            fixtures: counts.0,
            started: counts.1,
            finished: counts.2,
            goals: counts.3,
        }
    }

    /// Final means every stored part agrees: the event is finished and checked *and* every
    /// fixture is finished. The event flags and the fixtures are written by different jobs, so
    /// the flags alone can be final while fixtures still hold an earlier phase's state.
    fn is_final(&self) -> bool {
        self.event
            .is_some_and(|(_, _, finished, checked)| finished && checked)
            && self.fixtures > 0
            && self.finished == self.fixtures
    }

    fn describe(&self) -> String {
        let event = match self.event {
            None => "no metadata yet".to_string(),
            Some((id, current, finished, checked)) => format!(
                "GW{id} {}{}{}",
                if current { "current" } else { "upcoming" },
                if finished { ", finished" } else { "" },
                if checked { ", data checked" } else { "" },
            ),
        };
        format!(
            "{event}; fixtures {} started, {} finished, {} goals",
            self.started, self.finished, self.goals
        )
    }
}

/// Runs the demo until interrupted (or, with `exit_when_final`, until the gameweek is final).
pub async fn run(settings: Settings, options: DemoOptions) -> anyhow::Result<()> {
    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: options.speed,
        entries: options.entries,
        scenario: Scenario::Gw38,
        workers: 1,
        handle_signals: false,
        ..SimConfig::default()
    })
    .await
    .context("starting the simulator")?;
    let settings = demo_settings(settings, sim.base_url());
    let app = Application::build_with(settings, Options::default()).await?;
    tracing::info!(
        target: "fplsync::demo",
        "demo running: simulator at {}, dashboard at http://127.0.0.1:{}/#key={DEMO_KEY}, \
         control endpoint with `Authorization: Bearer {DEMO_KEY}` (try /actors, /jobs, \
         /openapi.json); Ctrl-C stops",
        sim.base_url(),
        app.port()
    );
    let db = app.state().db.clone();
    let server = app.server_handle();
    let narrator = actix_rt::spawn(narrate(sim, db, server, options.exit_when_final));
    let served = app.run_until_stopped().await;
    narrator.abort();
    served.map_err(anyhow::Error::from)
}

/// Logs every change of the simulator's phase and of what the service stored.
async fn narrate(
    sim: RunningSim,
    db: PgPool,
    server: actix_web::dev::ServerHandle,
    exit_when_final: bool,
) {
    let mut last_phase = None;
    let mut last_stored = None;
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        ticker.tick().await;
        let state = sim.state();
        let step = state.world.timeline.get(state.step_index());
        if last_phase != Some((step.event, step.phase)) {
            tracing::info!(
                target: "fplsync::demo",
                "simulator: GW{} {} (simulated time {})",
                step.event,
                step.phase.name(),
                state.now().format("%a %d %b %H:%M UTC")
            );
            last_phase = Some((step.event, step.phase));
        }
        let stored = Stored::read(&db, step.event).await;
        if last_stored.as_ref() != Some(&stored) {
            tracing::info!(target: "fplsync::demo", "service has stored: {}", stored.describe());
            last_stored = Some(stored.clone());
        }
        if stored.is_final() && step.phase == Phase::Final {
            tracing::info!(
                target: "fplsync::demo",
                "gameweek {} is final and stored; the service keeps syncing",
                step.event
            );
            if exit_when_final {
                server.stop(true).await;
                sim.stop().await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stored;

    fn stored(checked: bool, finished_fixtures: i64) -> Stored {
        Stored {
            event: Some((38, true, true, checked)),
            fixtures: 10,
            started: 10,
            finished: finished_fixtures,
            goals: 24,
        }
    }

    #[test]
    fn a_checked_gameweek_is_final_only_once_every_fixture_is_stored_finished() {
        assert!(stored(true, 10).is_final());
        assert!(!stored(true, 9).is_final(), "a fixture still un-finished");
        assert!(!stored(false, 10).is_final(), "data not checked");
        assert!(!Stored::default().is_final(), "nothing stored");
    }
}
