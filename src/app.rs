//! The application, and the composition root: builds every part from [`Settings`] —
//! PostgreSQL (created and migrated), Redis, metrics, the catalog of job kinds, the supervised
//! actor tree and the HTTP server — wires the parts that must not know each other (supervision
//! events into alerting, the lifecycle's board into the bot, the kinds into the job runtime),
//! and runs it until stopped.
//!
//! The tree (see actors.md):
//! ```text
//! root (rest_for_one)
//! ├── alerts
//! ├── cache
//! ├── jobs (one_for_one)
//! │   └── job:<kind> …   one per kind in the catalog
//! ├── lifecycle
//! ├── scheduler
//! └── bot              only with a Telegram token (commands)
//! ```
//!
//! `jobs`, `lifecycle` and `scheduler` run only while this instance leads (see [`crate::leader`]); on a
//! follower they stand by. Shutdown drains: see [`Application::run_until_stopped`].

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer};
use chrono::Utc;
use tokio::sync::watch;

use crate::alerts::{AlertActor, AlertActorDeps, AlertMetrics, AlertSink};
use crate::bot::{BotActor, BotDeps, BotMetrics, GameweekStatus};
use crate::cache::{Cache, CacheActor, CacheKey, CacheMetrics, Loaders};
use crate::config::{ConfigError, Settings, redact_url};
use crate::fpl::{FplClient, FplMetrics};
use crate::http::{self, ApiState};
use crate::jobs::work::{Handlers, UnitMetrics, Worker};
use crate::jobs::{Deps, JobActor, JobCatalog, JobDirectory, JobMetrics, JobSpec, Shared};
use crate::kv::{Kv, KvError};
use crate::leader::{LeaderMetrics, Leadership};
use crate::lifecycle::{Lifecycle, LifecycleBoard, LifecycleDeps, LifecycleMetrics};
use crate::live::LiveMetrics;
use crate::managers::PicksCache;
use crate::metrics::Metrics;
use crate::scheduler::{ScheduleEntry, Scheduler, SchedulerDeps};
use crate::store::{self, StoreError};
use crate::supervisor::{
    ActorRegistry, ActorRole, Backoff, ChildLink, ChildSpec, Control, Intensity, Recorder,
    RestartType, StopChild, Strategy, SupervisionMetrics, Supervisor, SupervisorSpec,
};

/// The job kinds fplsync ships with. The job runtime knows none of them: they are put together
/// here, the one place that sees every layer.
pub fn builtin_catalog() -> JobCatalog {
    let [bootstrap, fixtures] = crate::meta::jobs::specs();
    JobCatalog::default()
        .with(crate::prune::spec())
        .with(bootstrap)
        .with(fixtures)
        .with(crate::live::snapshot::spec())
        .with(crate::entries::spec())
        .with(crate::tournament::job::spec())
        .with(crate::tournament::roster::spec())
        .with(crate::finalize::spec())
}

/// Every metric family, registered at start-up so `/metrics` shows each from the first scrape
/// (at zero), before the subsystem that owns it first counts anything.
fn register_families(metrics: &Metrics) {
    metrics.get::<SupervisionMetrics>();
    metrics.get::<JobMetrics>();
    metrics.get::<AlertMetrics>();
    metrics.get::<BotMetrics>();
    metrics.get::<FplMetrics>();
    metrics.get::<CacheMetrics>();
    metrics.get::<LifecycleMetrics>();
    metrics.get::<LiveMetrics>();
    metrics.get::<LeaderMetrics>();
    metrics.get::<UnitMetrics>();
}

/// The unit handlers of the kinds whose bulk work every instance shares (see
/// [`crate::jobs::work`]).
pub fn builtin_unit_handlers() -> Handlers {
    Handlers::default()
        .with(crate::entries::PICKS_UNITS, crate::entries::picks_units)
        .with(crate::entries::RESULTS_UNITS, crate::entries::results_units)
        .with(
            crate::tournament::roster::ROSTER_UNITS,
            crate::tournament::roster::roster_units,
        )
        .with(
            crate::tournament::job::RESULTS_UNITS,
            crate::tournament::job::results_units,
        )
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Kv(#[from] KvError),
    #[error("cannot build the FPL client: {0}")]
    Fpl(#[from] crate::fpl::BuildError),
    #[error("cannot listen on http.bind {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    root: Addr<Supervisor>,
    state: ApiState,
    /// Tells the leadership loop to stop; it hands back the lock's session.
    leadership_stop: watch::Sender<bool>,
    leadership_task: tokio::task::JoinHandle<Option<sqlx::PgConnection>>,
    /// Flushed at shutdown, before the pool closes.
    recorder: Recorder,
    /// Records the FPL requests spent per gameweek; told to stop (after a last record) at
    /// shutdown.
    spend_stop: watch::Sender<bool>,
    spend_task: tokio::task::JoinHandle<()>,
    /// This instance's worker of shared units (leader or follower alike).
    units_stop: watch::Sender<bool>,
    units_task: tokio::task::JoinHandle<()>,
}

/// Options that differ between the binary and tests.
#[derive(Clone)]
pub struct Options {
    /// The job kinds to run (tests add their own kinds beside the built-in ones).
    pub catalog: JobCatalog,
    /// Stop gracefully on SIGINT/SIGTERM (the binary); tests stop through
    /// [`Application::server_handle`].
    pub handle_signals: bool,
    /// How the cache loads each key family from PostgreSQL (more can be registered later
    /// through [`Cache::loaders`]).
    pub loaders: Loaders,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            catalog: builtin_catalog(),
            handle_signals: true,
            loaders: Loaders::new(),
        }
    }
}

/// Checks the settings that name job kinds or cache keys against the catalog and the cache's
/// key families (which configuration, below them all, cannot know).
fn check_kinds(settings: &Settings, catalog: &JobCatalog) -> Result<(), ConfigError> {
    let mut problems: Vec<String> = settings
        .scheduler
        .jobs
        .keys()
        .map(|k| ("scheduler.jobs", k))
        .chain(settings.jobs.kinds.keys().map(|k| ("jobs.kinds", k)))
        .chain(settings.mailbox.jobs.keys().map(|k| ("mailbox.jobs", k)))
        .chain(
            settings
                .jobs
                .exclusive
                .iter()
                .map(|k| ("jobs.exclusive", k)),
        )
        .chain(
            settings
                .auth
                .keys
                .iter()
                .flat_map(|key| key.kinds.iter().map(|k| ("auth.keys.kinds", k))),
        )
        .filter(|(_, k)| catalog.get(k).is_none())
        .map(|(section, k)| {
            let known: Vec<_> = catalog.kinds().map(|k| k.as_str()).collect();
            format!(
                "{section}.{k}: no job kind is named `{k}` (known: {})",
                known.join(", ")
            )
        })
        .collect();
    // A scheduled tick asks for its kind's defaults: the kind must take `{}`.
    for (kind, spec) in settings
        .scheduler
        .jobs
        .keys()
        .filter_map(|k| Some((k, catalog.get(k)?)))
    {
        if let Err(e) = spec.parse_params(serde_json::json!({})) {
            problems.push(format!(
                "scheduler.jobs.{kind}: `{kind}` cannot run without parameters: {e}"
            ));
        }
    }
    for (i, key) in settings.cache.warm.iter().enumerate() {
        if let Err(e) = key.parse::<CacheKey>() {
            problems.push(format!("cache.warm[{i}]: {e}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(problems))
    }
}

impl Application {
    /// Builds with the built-in job kinds. Must run inside an actix `System`.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        Self::build_with(settings, Options::default()).await
    }

    pub async fn build_with(settings: Settings, options: Options) -> Result<Self, StartError> {
        check_kinds(&settings, &options.catalog)?;
        let settings = Arc::new(settings);
        tracing::info!(
            database = %redact_url(secrecy::ExposeSecret::expose_secret(&settings.database.url)),
            "connecting to PostgreSQL"
        );
        let db = store::connect_and_migrate(&settings.database).await?;
        let kv = Kv::new(&settings.redis)?;
        if let Err(e) = kv.ping().await {
            // Not fatal: the service works without Redis, and /ready says so.
            tracing::warn!(error = %e, "Redis is not reachable at start-up");
        }
        let metrics = Metrics::new();
        register_families(&metrics);
        let registry = ActorRegistry::default();
        let directory = JobDirectory::new(&metrics);
        let alerts = AlertSink::new(&metrics, settings.mailbox.alerts);
        // Supervision events reach alerting through this listener: the supervisor knows
        // nothing of alerts.
        let listener = {
            let alerts = alerts.clone();
            Arc::new(move |event: &crate::supervisor::SupervisionEvent| {
                alerts.notify(event.clone())
            })
        };
        let recorder = Recorder::spawn(db.clone(), metrics.clone(), Some(listener));
        let fpl = FplClient::new(&settings.fpl, &metrics)?;
        // Filled by the gameweek lifecycle; `/status` of the bot shows it.
        let gameweek = GameweekStatus::default();
        let cache = Cache::new(
            &settings,
            kv.clone(),
            &metrics,
            alerts.clone(),
            options.loaders.clone(),
        );
        // The built-in loaders read from PostgreSQL; a caller (a test) may bring its own.
        if !cache.loaders().has(crate::cache::Family::Meta) {
            crate::meta::datasets::register_loader(cache.loaders(), db.clone());
        }
        if !cache.loaders().has(crate::cache::Family::Live) {
            crate::live::register_loader(
                cache.loaders(),
                db.clone(),
                settings.live.tracked_entries.clone(),
            );
        }
        if !cache.loaders().has(crate::cache::Family::Tournament) {
            crate::tournament::store::register_loader(cache.loaders(), db.clone());
        }
        let deps = Deps {
            db: db.clone(),
            settings: settings.clone(),
            metrics: metrics.clone(),
            alerts: alerts.clone(),
            fpl: fpl.clone(),
            jobs: directory.clone(),
            cache: cache.clone(),
            // Decoded picks kept between live ticks, shared by `live`, `entries` and `finalize`.
            // What metadata this process last published, so a lost publish is made again.
            // Which gameweeks' live payloads were compared for schema drift.
            shared: Shared::default()
                .with(PicksCache::default())
                .with(crate::meta::datasets::Published::default())
                .with(crate::meta::jobs::DriftChecked::default())
                // What this instance's listener hears of shared work.
                .with(crate::jobs::work::Heard::default()),
        };

        let lifecycle = LifecycleBoard::default();
        // The bot's /status describes the gameweek from the lifecycle's board.
        {
            let board = lifecycle.clone();
            gameweek.provide(move || describe_gameweek(&board.get()));
        }
        let tree = tree_spec(
            &settings,
            &options.catalog,
            &deps,
            &recorder,
            &registry,
            &lifecycle,
            &gameweek,
        );
        let leadership = Leadership::new(cache.instance());
        let state = ApiState {
            db: db.clone(),
            kv,
            settings: settings.clone(),
            metrics,
            registry: registry.clone(),
            directory,
            catalog: options.catalog,
            cache,
            lifecycle,
            audit: crate::store::audit::AuditWriter::spawn(db.clone()),
            leadership: leadership.clone(),
            access: http::AccessState::new(&settings),
            alerts: alerts.clone(),
        };
        let app_state = state.clone();
        let mut server =
            HttpServer::new(move || App::new().configure(http::configure(app_state.clone())))
                .workers(settings.http.workers)
                .shutdown_timeout(settings.supervisor.stop_timeout_ms.div_ceil(1000));
        // actix stops gracefully on SIGTERM only (SIGINT drops requests in flight); the
        // application handles both itself, alike (see `stop_on_signals`).
        server = server.disable_signals();
        let server = server
            .bind(settings.bind_addr())
            .map_err(|source| StartError::Bind {
                addr: settings.http.bind.clone(),
                source,
            })?;
        let addr = server.addrs()[0];
        let port = addr.port();
        // Bound before leadership is tried, so the leader can record where it answers.
        leadership.set_http_addr(addr.to_string());

        // Leadership is settled before the tree starts: a leader starts its job actors only
        // after start-up recovery; a follower starts them in standby.
        let session = leadership
            .try_acquire(&settings.database, &db, &alerts)
            .await?;
        if session.is_none() {
            let leader = leadership.status().leader;
            tracing::info!(leader = ?leader.map(|l| l.instance), "another instance leads; this one follows");
        }
        let root = Supervisor::root(tree, recorder.clone(), registry)
            // The bot too: Telegram allows one getUpdates poller per token.
            .with_leader_only(
                &["jobs", "lifecycle", "scheduler", "bot"],
                session.is_some(),
            )
            .start();
        let (leadership_stop, stop_rx) = watch::channel(false);
        let leadership_task = tokio::spawn(leadership.run(
            session,
            crate::leader::LoopDeps {
                database: settings.database.clone(),
                timing: settings.leader.clone(),
                db,
                alerts,
                root: root.clone(),
            },
            stop_rx,
        ));

        // Every instance works on shared units, whatever its role; the role only labels what
        // it did.
        let (units_stop, units_rx) = watch::channel(false);
        let units_task = {
            let leadership = state.leadership.clone();
            let worker = Worker {
                instance: leadership.status().instance,
                role: Arc::new(move || {
                    if leadership.is_leader() {
                        "leader"
                    } else {
                        "follower"
                    }
                }),
            };
            tokio::spawn(crate::jobs::work::work(
                deps.clone(),
                builtin_unit_handlers(),
                worker,
                settings.units.clone(),
                units_rx,
            ))
        };

        let (spend_stop, spend_rx) = watch::channel(false);
        let spend_task = tokio::spawn(record_fpl_spend(fpl.clone(), state.db.clone(), spend_rx));

        let server = server.run();
        if options.handle_signals {
            actix_rt::spawn(stop_on_signals(server.handle()));
        }
        tracing::info!(port, "control endpoint listening");
        Ok(Application {
            port,
            server,
            root,
            state,
            leadership_stop,
            leadership_task,
            recorder,
            spend_stop,
            spend_task,
            units_stop,
            units_task,
        })
    }

    /// The port the control endpoint listens on (useful with `http.bind = "127.0.0.1:0"`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shared state, for tests and embedding.
    pub fn state(&self) -> &ApiState {
        &self.state
    }

    /// Stops the HTTP server, which makes [`Application::run_until_stopped`] return.
    pub fn server_handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server stops (a signal, or its handle; the server stops taking
    /// requests and finishes those in flight), then shuts down gracefully:
    ///
    /// 1. leadership is no longer sought or watched;
    /// 2. the scheduler, the lifecycle and every job actor are paused: each finishes its current run and
    ///    starts no other; this waits up to `shutdown.drain_timeout_secs` for the runs to end;
    /// 3. the tree stops in reverse order: runs still going are recorded `interrupted` (and
    ///    marked for re-running by the next leader), queued runs stay queued, and the alerts
    ///    actor, stopping last, has delivered every alert raised before;
    /// 4. the leader lock is released (a follower takes over at once), the supervision log's
    ///    writer is flushed and the pool closed.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let state = &self.state;
        tracing::info!("HTTP server stopped; shutting down");
        let shutdown_started = Utc::now();
        let _ = self.leadership_stop.send(true);
        let session = self.leadership_task.await.ok().flatten();

        let drain = Duration::from_secs(state.settings.shutdown.drain_timeout_secs);
        drain_runs(&state.registry, drain).await;
        // After the drain (a leader's own run may wait for units), and before the tree stops:
        // what this instance still holds is given back for the others to claim at once.
        let _ = self.units_stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.units_task).await;

        let grace = Duration::from_millis(state.settings.supervisor.stop_timeout_ms) * 2;
        let _ = self.root.send(StopChild).timeout(grace).await;
        if let Some(session) = session {
            // Only the leader ran jobs, so only it can have interrupted any.
            match crate::store::runs::mark_for_recovery(&state.db, shutdown_started).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(runs = n, "runs interrupted by the shutdown will be re-run")
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not mark interrupted runs for re-running")
                }
            }
            // Closing the session frees the advisory lock; a follower takes over.
            let _ = sqlx::Connection::close(session).await;
        }
        let _ = self.spend_stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.spend_task).await;
        if !self.recorder.flush(Duration::from_secs(5)).await {
            tracing::warn!("shutdown: some supervision events were not written in time");
        }
        if tokio::time::timeout(Duration::from_secs(5), state.audit.flush())
            .await
            .is_err()
        {
            tracing::warn!("shutdown: some audit rows were not written in time");
        }
        // Every actor has stopped, so no query is left in flight: close the connections now,
        // inside the runtime, rather than when it is torn down.
        state.db.close().await;
        tracing::info!("stopped");
        served
    }
}

/// How often the FPL requests spent are added to their gameweek's count.
const SPEND_RECORD_EVERY: Duration = Duration::from_secs(5);

/// Adds the FPL client's requests to the count of the gameweek current on FPL's clock, every
/// few seconds and once more when told to stop. On every instance: each spends its own FPL
/// budget. A count that cannot be written is kept for the next time.
async fn record_fpl_spend(fpl: FplClient, db: sqlx::PgPool, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(SPEND_RECORD_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = every.tick() => false,
            _ = stop.changed() => true,
        };
        let taken = fpl.take_spend();
        if !taken.is_empty() {
            let rows: Vec<_> = taken
                .iter()
                .map(|(e, p, n)| (e.as_str(), p.as_str(), *n))
                .collect();
            match store::budget::record_spend(&db, fpl.server_now(), &rows).await {
                // Before a season's first deadline the requests belong to no gameweek.
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "FPL requests not yet added to their gameweek");
                    fpl.unspend(&taken);
                }
            }
        }
        if stopping {
            return;
        }
    }
}

/// Waits for SIGTERM or SIGINT, then stops the HTTP server gracefully (no new connections,
/// requests in flight finish), which lets [`Application::run_until_stopped`] go on to drain.
async fn stop_on_signals(server: ServerHandle) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; stop the service through its handle");
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "shutting down gracefully");
    server.stop(true).await;
}

/// Pauses the scheduler and the job actors, then waits until no run is current or `timeout`
/// has passed.
async fn drain_runs(registry: &ActorRegistry, timeout: Duration) {
    let actors = registry.snapshot();
    for actor in &actors {
        let drains = actor.name == "scheduler"
            || actor.name == "lifecycle"
            || actor.name.starts_with("job:");
        if let Some(control) = registry.control(&actor.name).filter(|_| drains) {
            let _ = control
                .send(Control::Drain)
                .timeout(Duration::from_secs(1))
                .await;
        }
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut reported = Vec::new();
    loop {
        let running: Vec<_> = registry
            .snapshot()
            .into_iter()
            .filter_map(|a| a.current_run.map(|r| (a.name, r)))
            .collect();
        if running.is_empty() {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                ?running,
                "shutdown: runs still going after the drain timeout are interrupted"
            );
            return;
        }
        // Said once per set of runs, not on every poll.
        if running != reported {
            tracing::info!(?running, "shutdown: waiting for running jobs to finish");
            reported = running;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The supervision tree's declaration.
fn tree_spec(
    settings: &Settings,
    catalog: &JobCatalog,
    deps: &Deps,
    recorder: &Recorder,
    registry: &ActorRegistry,
    board: &LifecycleBoard,
    gameweek: &GameweekStatus,
) -> SupervisorSpec {
    let directory = &deps.jobs;
    let sup = &settings.supervisor;
    let spec = |name: &str, strategy, children| SupervisorSpec {
        name: name.to_string(),
        strategy,
        intensity: Intensity {
            max_restarts: sup.max_restarts,
            period: Duration::from_secs(sup.period_secs),
        },
        backoff: Backoff {
            base: Duration::from_millis(sup.backoff_base_ms),
            cap: Duration::from_millis(sup.backoff_cap_ms),
        },
        stop_timeout: Duration::from_millis(sup.stop_timeout_ms),
        mailbox_capacity: settings.mailbox.supervisor,
        children,
    };

    let alerts = {
        let alert_deps = AlertActorDeps {
            sink: deps.alerts.clone(),
            registry: registry.clone(),
            settings: deps.settings.clone(),
            db: deps.db.clone(),
            fpl: Some(deps.fpl.clone()),
        };
        ChildSpec {
            name: "alerts".into(),
            role: ActorRole::Worker,
            restart: RestartType::Permanent,
            start: Rc::new(move |link: ChildLink| {
                AlertActor::new(link, alert_deps.clone())
                    .start()
                    .recipient()
            }),
        }
    };

    // Before the jobs, which write to it; after alerts, which it raises.
    let cache = {
        let (cache, registry) = (deps.cache.clone(), registry.clone());
        ChildSpec {
            name: "cache".into(),
            role: ActorRole::Worker,
            restart: RestartType::Permanent,
            start: Rc::new(move |link: ChildLink| {
                CacheActor::new(link, cache.clone(), registry.clone())
                    .start()
                    .recipient()
            }),
        }
    };

    let job_children = catalog
        .specs()
        .map(|job| {
            let (job, deps, registry) = (job.clone(), deps.clone(), registry.clone());
            ChildSpec {
                name: job.kind.actor_name(),
                role: ActorRole::Worker,
                restart: RestartType::Permanent,
                start: Rc::new(move |link: ChildLink| {
                    JobActor::new(link, job.clone(), deps.clone(), registry.clone())
                        .start()
                        .recipient()
                }),
            }
        })
        .collect();
    let jobs = Supervisor::child(
        spec("jobs", Strategy::OneForOne, job_children),
        RestartType::Permanent,
        recorder.clone(),
        registry.clone(),
    );

    let scheduler = {
        let entries = settings
            .scheduler
            .jobs
            .iter()
            .filter_map(|(kind, expr)| {
                let spec: std::sync::Arc<JobSpec> = catalog.get(kind)?;
                Some(ScheduleEntry {
                    kind: spec.kind,
                    schedule: expr.parse().ok()?,
                    // Checked at start-up (check_kinds).
                    params: spec.parse_params(serde_json::json!({})).ok()?,
                })
            })
            .collect();
        let sched = SchedulerDeps {
            entries,
            timezone: settings.timezone(),
            directory: directory.clone(),
            registry: registry.clone(),
            capacity: settings.mailbox.scheduler,
            send_timeout: Duration::from_secs(1),
        };
        ChildSpec {
            name: "scheduler".into(),
            role: ActorRole::Worker,
            restart: RestartType::Permanent,
            start: Rc::new(move |link: ChildLink| {
                Scheduler::new(link, sched.clone()).start().recipient()
            }),
        }
    };

    // After the jobs, which it asks for runs.
    let lifecycle = {
        let deps = LifecycleDeps {
            db: deps.db.clone(),
            fpl: deps.fpl.clone(),
            settings: settings.live.clone(),
            directory: directory.clone(),
            metrics: deps.metrics.clone(),
            alerts: deps.alerts.clone(),
            registry: registry.clone(),
            board: board.clone(),
            capacity: settings.mailbox.lifecycle,
        };
        ChildSpec {
            name: "lifecycle".into(),
            role: ActorRole::Worker,
            restart: RestartType::Permanent,
            start: Rc::new(move |link: ChildLink| {
                Lifecycle::new(link, deps.clone()).start().recipient()
            }),
        }
    };

    // rest_for_one: the scheduler feeds the job actors, so if `jobs` is restarted the scheduler
    // is restarted after it rather than ticking into a tree that is coming back; likewise the
    // jobs write through the cache, so they restart after it.
    let mut children = vec![alerts, cache, jobs, lifecycle, scheduler];
    // The bot answers commands only with a token; last, as it drives everything above.
    if settings.telegram.enabled() && settings.telegram.commands {
        let bot_deps = BotDeps {
            settings: deps.settings.clone(),
            db: deps.db.clone(),
            registry: registry.clone(),
            directory: directory.clone(),
            catalog: catalog.clone(),
            metrics: deps.metrics.clone(),
            alerts: deps.alerts.clone(),
            gameweek: gameweek.clone(),
        };
        children.push(ChildSpec {
            name: "bot".into(),
            role: ActorRole::Worker,
            restart: RestartType::Permanent,
            start: Rc::new(move |link: ChildLink| {
                BotActor::new(link, bot_deps.clone()).start().recipient()
            }),
        });
    }
    spec("root", Strategy::RestForOne, children)
}

/// One line for the bot's `/status`: the lifecycle's state, gameweek, snapshot age, managers.
fn describe_gameweek(s: &crate::lifecycle::LifecycleStatus) -> String {
    let Some(state) = s.state else {
        return if s.disabled {
            "lifecycle disabled (live.enabled = false)".into()
        } else {
            "lifecycle has not ticked yet (or this instance follows)".into()
        };
    };
    let event = s
        .event
        .map_or_else(|| "no gameweek".into(), |e| format!("GW{e}"));
    let snapshot = s.last_snapshot_at.map_or_else(
        || "no live snapshot yet".into(),
        |at| format!("last snapshot {} s ago", (Utc::now() - at).num_seconds()),
    );
    let updating = if s.fpl_updating { ", FPL updating" } else { "" };
    format!(
        "{event}: {}, {snapshot}, {} managers tracked{updating}",
        state.as_str(),
        s.tracked_managers
    )
}
