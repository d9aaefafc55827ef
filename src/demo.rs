//! `fplsync demo`: the simulator and the service in one process, so a newcomer can watch a real
//! gameweek (38 of 2025-26) flow through the whole path with no settings: a tournament created
//! from the simulator's classic league (its roster read by the `tournament-roster` job, so the
//! 72 real managers and the synthetic ones are tracked), picks synced after the deadline, live
//! scores changing during the matches, the final snapshot, finalization against FPL's official
//! points, and the tournament's standings. A narrator logs what the simulator does and what the
//! service has stored; the control endpoint, the dashboard and `/metrics` show the rest.
//!
//! The service runs at the simulator's pace: the lifecycle's poll intervals are divided by the
//! speed (a floor of a quarter second), and the FPL rate is raised with it (up to
//! [`DEMO_MAX_RATE`]), so nothing waits minutes of real time while a simulated gameweek passes
//! in about two. The simulator's clock is held at the gameweek's start until the tournament
//! is active (or its roster failed, or [`CLOCK_HOLD`] passed): how long the service takes to
//! start on a given machine never costs the story its deadline.
//!
//! The demo keeps its data apart from `fplsync serve`: schema `demo` (unless `database.schema`
//! is set to something other than `public`) and Redis prefix `fplsync-demo:` (likewise).

use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::app::{Application, Options};
use crate::config::Settings;
use crate::sim::leagues::CLASSIC_LEAGUE;
use crate::sim::{Phase, RunningSim, Scenario, SimConfig, Simulator};

/// The longest the simulator's clock is held for the service to be ready (its first bootstrap,
/// the tournament's roster): after that the gameweek starts whatever the service has done.
pub const CLOCK_HOLD: Duration = Duration::from_secs(120);

/// Simulated seconds per real second by default: a gameweek in a little over two minutes.
pub const DEFAULT_SPEED: f64 = 600.0;

/// The FPL rate the demo raises `fpl.rate_per_sec` to at most (4 × speed otherwise): what the
/// simulator and the service serve comfortably together on a small machine.
pub const DEMO_MAX_RATE: u32 = 100;

/// The shortest lifecycle poll of the demo, whatever the speed.
const MIN_POLL_SECS: f64 = 0.25;

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Synthetic managers besides the 72 real ones.
    pub entries: u32,
    /// Stop once the gameweek is final, finalized and the tournament's results are stored (for
    /// scripts and tests).
    pub exit_when_final: bool,
}

/// The admin key of the demo when no keys are configured.
pub const DEMO_KEY: &str = "fplsync-demo-key";

/// The settings the demo runs with: the operator's, pointed at the simulator, paced to its
/// speed. `narrator` is the SHA-256 of the narrator's own admin key.
pub fn demo_settings(
    mut s: Settings,
    sim_base_url: String,
    speed: f64,
    narrator: String,
) -> Settings {
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
    s.auth.keys.push(crate::auth::ApiKeySettings {
        name: "demo-narrator".into(),
        role: crate::auth::Role::Admin,
        kinds: Vec::new(),
        sha256: narrator,
    });
    // FPL at the simulator's pace: 4 req/s of real time is 4 × speed of simulated time.
    let rate = (4.0 * speed.max(1.0)).min(f64::from(DEMO_MAX_RATE)) as u32;
    s.fpl.rate_per_sec = s.fpl.rate_per_sec.max(rate);
    // The lifecycle polls on real time; the gameweek passes on the simulator's.
    s.live
        .interval_secs
        .map(|secs| (secs / speed.max(1.0)).max(MIN_POLL_SECS));
    s.live.start_delay_ms = s.live.start_delay_ms.min(250);
    // The lifecycle drives every job of the gameweek; cron ticks on the real clock would only
    // add requests the story does not need.
    s.scheduler.timezone = "UTC".into();
    s.scheduler.jobs.clear();
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

/// The tournament the demo follows, its definition: a points race over the replayed gameweek.
fn tournament(event: u16) -> Value {
    json!({
        "name": format!("Demo GW{event} race"),
        "source": {"classic_league": CLASSIC_LEAGUE},
        "group_stage": {"mode": "points_race", "groups": 1, "qualifiers_per_group": 0,
                        "first_event": event, "last_event": event},
        "knockout": {"mode": "none"},
    })
}

/// The narrator's view of the service, through its control endpoint with its own key.
struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    async fn get(&self, path: &str) -> Option<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()?;
        r.status().is_success().then_some(())?;
        r.json().await.ok()
    }

    async fn post(&self, path: &str, body: Option<Value>) -> Option<(u16, Value)> {
        let mut req = self.http.post(format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.ok()?;
        Some((r.status().as_u16(), r.json().await.unwrap_or(Value::Null)))
    }
}

/// Runs the demo until interrupted (or, with `exit_when_final`, until the story is told).
pub async fn run(settings: Settings, options: DemoOptions) -> anyhow::Result<()> {
    // Held (speed 0) until the service is ready for the gameweek: see the module doc.
    let sim = Simulator::start(SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: options.entries,
        scenario: Scenario::Gw38,
        workers: 1,
        handle_signals: false,
        ..SimConfig::default()
    })
    .await
    .context("starting the simulator")?;
    let narrator_key = format!("{:032x}", rand::random::<u128>());
    let settings = demo_settings(
        settings,
        sim.base_url(),
        options.speed,
        crate::auth::hash_key(&narrator_key),
    );
    let app = Application::build_with(settings, Options::default()).await?;
    tracing::info!(
        target: "fplsync::demo",
        "demo running: simulator at {}, dashboard at http://127.0.0.1:{}/#key={DEMO_KEY}, \
         control endpoint with `Authorization: Bearer {DEMO_KEY}` (try /actors, /jobs, \
         /lifecycle, /tournaments, /openapi.json); Ctrl-C stops",
        sim.base_url(),
        app.port()
    );
    let control = Control {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .default_headers(
                [(
                    reqwest::header::AUTHORIZATION,
                    format!("Bearer {narrator_key}")
                        .parse()
                        .expect("a header value"),
                )]
                .into_iter()
                .collect(),
            )
            .build()
            .context("the narrator's HTTP client")?,
        base: format!("http://127.0.0.1:{}", app.port()),
    };
    let db = app.state().db.clone();
    let server = app.server_handle();
    let narrator = actix_rt::spawn(narrate(
        sim,
        db,
        control,
        server,
        options.speed,
        options.exit_when_final,
    ));
    let served = app.run_until_stopped().await;
    narrator.abort();
    served.map_err(anyhow::Error::from)
}

/// What the narrator has told so far, so it says each thing once (or when it changes).
#[derive(Default)]
struct Told {
    phase: Option<(u16, Phase)>,
    stored: Option<Stored>,
    tournament: Option<i64>,
    roster: Option<String>,
    activated: bool,
    picks: Option<(i64, i64)>,
    live_top: Option<String>,
    /// When the live race was last read: once a second is enough to tell it, and each read of
    /// a live table costs the service the 64 shards of scores.
    live_read: Option<tokio::time::Instant>,
    finalized: bool,
    standings: Option<String>,
    /// The whole story is told.
    done: bool,
    /// The simulator's clock was let go.
    clock_running: bool,
}

/// Logs every change of the simulator's phase and of what the service did.
async fn narrate(
    sim: RunningSim,
    db: PgPool,
    control: Control,
    server: actix_web::dev::ServerHandle,
    speed: f64,
    exit_when_final: bool,
) {
    let say = |line: String| tracing::info!(target: "fplsync::demo", "{line}");
    let mut told = Told::default();
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    let held_since = tokio::time::Instant::now();
    say("simulator: clock held at the gameweek's start until the tournament is active".into());
    loop {
        ticker.tick().await;
        if !told.clock_running {
            let roster_failed = told.roster.as_deref() == Some("failed");
            let waited = held_since.elapsed() >= CLOCK_HOLD;
            if told.activated || roster_failed || waited {
                sim.state().set_speed(speed);
                told.clock_running = true;
                say(format!(
                    "simulator: clock running at {speed}× after {:.1} s{}",
                    held_since.elapsed().as_secs_f64(),
                    if told.activated {
                        ""
                    } else {
                        " (the tournament is not active: the gameweek starts anyway)"
                    }
                ));
            }
        }
        let state = sim.state();
        let step = state.world.timeline.get(state.step_index());
        let event = step.event;
        if told.phase != Some((event, step.phase)) {
            say(format!(
                "simulator: GW{event} {} (simulated time {})",
                step.phase.name(),
                state.now().format("%a %d %b %H:%M UTC")
            ));
            told.phase = Some((event, step.phase));
        }
        let stored = Stored::read(&db, event).await;
        if told.stored.as_ref() != Some(&stored) {
            say(format!("service has stored: {}", stored.describe()));
            told.stored = Some(stored.clone());
        }
        follow_tournament(&control, &db, event, &mut told, &say).await;
        let results_in = told.standings.is_some();
        if !told.done
            && stored.is_final()
            && step.phase == Phase::Final
            && told.finalized
            && results_in
        {
            say(format!(
                "gameweek {event} is final and stored, finalized, and the tournament's results \
                 are in; the service keeps syncing"
            ));
            told.done = true;
            if exit_when_final {
                server.stop(true).await;
                sim.stop().await;
                return;
            }
        }
    }
}

/// The tournament's side of the story: created from the classic league, its roster read,
/// activated; the tracked managers' picks, the top of the live race, finalization, standings.
async fn follow_tournament(
    control: &Control,
    db: &PgPool,
    event: u16,
    told: &mut Told,
    say: &impl Fn(String),
) {
    let Some(id) = told.tournament else {
        // Once the season is known (the tournament's gameweeks are checked against it).
        if told.stored.as_ref().is_some_and(|s| s.event.is_some())
            && let Some((status, body)) =
                control.post("/tournaments", Some(tournament(event))).await
        {
            if status == 202 {
                say(format!(
                    "tournament {} created from the simulator's classic league {CLASSIC_LEAGUE}; \
                     its roster is read by run {}",
                    body["id"], body["run_id"]
                ));
                told.tournament = body["id"].as_i64();
            } else {
                say(format!("tournament not created yet ({status}): {body}"));
            }
        }
        return;
    };
    let Some(t) = control.get(&format!("/tournaments/{id}")).await else {
        return;
    };
    let roster = t["roster"]["state"].as_str().unwrap_or("?").to_string();
    if told.roster.as_deref() != Some(roster.as_str()) {
        say(format!(
            "tournament {id} roster {roster}: {} managers from {} pages{}",
            t["entries"],
            t["roster"]["pages_read"],
            t["roster"]["error"]
                .as_str()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ));
        told.roster = Some(roster.clone());
    }
    if roster == "ready" && !told.activated {
        if let Some((200, _)) = control
            .post(&format!("/tournaments/{id}/activate"), None)
            .await
        {
            say(format!(
                "tournament {id} activated: {} tracked managers race over GW{event}",
                t["entries"]
            ));
            told.activated = true;
        }
        return;
    }
    if !told.activated {
        return;
    }
    // Picks stored for the gameweek, of the tracked managers.
    let picks: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(DISTINCT p.entry_id) FROM entry_picks p WHERE p.event_id = $1), \
         (SELECT count(DISTINCT entry_id) FROM tracked_entries)",
    )
    .bind(i32::from(event))
    .fetch_one(db)
    .await
    .unwrap_or_default();
    // Once the season's last gameweek is processed its tournament is archived and nobody is
    // tracked any more: the picks are still stored, but there is nothing new to tell.
    if picks.0 > 0 && picks.1 > 0 && told.picks != Some(picks) {
        say(format!(
            "picks stored: {} of {} managers for GW{event}",
            picks.0, picks.1
        ));
        told.picks = Some(picks);
    }
    // The live race, while the matches run: the top three by live points, once a second.
    let due = told
        .live_read
        .is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
    let playing = told
        .stored
        .as_ref()
        .is_some_and(|s| s.started > 0 && s.finished < s.fixtures);
    if due && playing && told.picks.is_some() {
        told.live_read = Some(tokio::time::Instant::now());
        if let Some(live) = control
            .get(&format!("/tournaments/{id}/standings/live?event={event}"))
            .await
            && live["live"]["applied"] == true
        {
            let rows = live["group_stage"]["groups"][0]["rows"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let top: Vec<String> = rows
                .iter()
                .filter(|r| !r["live_net_points"].is_null())
                .take(3)
                .map(|r| format!("{} {}", name(r), r["live_points"]))
                .collect();
            let top = top.join(", ");
            if !top.is_empty() && told.live_top.as_deref() != Some(top.as_str()) {
                say(format!("live GW{event}: top managers {top}"));
                told.live_top = Some(top);
            }
        }
    }
    if !told.finalized {
        let done: Option<(i32, i32)> = sqlx::query_as(
            "SELECT entries, mismatches FROM event_finalizations WHERE event_id = $1",
        )
        .bind(i32::from(event))
        .fetch_optional(db)
        .await
        .ok()
        .flatten();
        if let Some((entries, mismatches)) = done {
            say(format!(
                "GW{event} finalized: official results of {entries} managers, {mismatches} \
                 mismatches with the points fplsync computed"
            ));
            told.finalized = true;
        }
    }
    if told.finalized
        && told.standings.is_none()
        && let Some(doc) = control.get(&format!("/tournaments/{id}/standings")).await
        && doc["processed_events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e.as_u64() == Some(u64::from(event))))
    {
        let leader = &doc["group_stage"]["groups"][0]["rows"][0];
        let line = format!(
            "tournament {id} standings after GW{event}: leader {} with {} points",
            name(leader),
            leader["points"]
        );
        say(line.clone());
        told.standings = Some(line);
    }
}

fn name(row: &Value) -> String {
    match (row["name"].as_str(), row["player_name"].as_str()) {
        (Some(team), Some(player)) => format!("{team} ({player})"),
        (Some(team), None) => team.to_string(),
        _ => format!("entry {}", row["entry"]),
    }
}

#[cfg(test)]
mod tests {
    use super::{Stored, demo_settings};

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

    #[test]
    fn the_demo_paces_the_lifecycle_and_fpl_to_the_simulated_clock() {
        let s = crate::Settings::defaults();
        let d = demo_settings(s, "http://127.0.0.1:1/api/".into(), 600.0, "00".repeat(32));
        // 30 s of live polling is 30 simulated seconds: 50 ms at 600, held at the floor.
        assert_eq!(d.live.interval_secs.live_active, 0.25);
        // 10 minutes of review polling is one real second.
        assert_eq!(d.live.interval_secs.gw_review, 1.0);
        assert_eq!(d.fpl.rate_per_sec, super::DEMO_MAX_RATE);
        // The simulated clock, not the wall clock, times the gameweek: nothing on cron.
        assert!(d.scheduler.jobs.is_empty());
        assert_eq!(d.auth.keys.len(), 2, "the demo's key and the narrator's");
    }
}
