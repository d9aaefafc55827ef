//! The application: builds every part from [`Settings`] — PostgreSQL (created and migrated),
//! Redis, metrics, the supervised actor tree and the HTTP server — and runs it until stopped.
//!
//! The tree (see actors.md):
//! ```text
//! root (rest_for_one)
//! ├── alerts
//! ├── cache
//! ├── jobs (one_for_one)
//! │   └── job:<kind> …   one per kind in the catalog
//! └── scheduler
//! ```

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer};

use crate::alerts::{AlertActor, AlertSink};
use crate::cache::{Cache, CacheActor, Loaders};
use crate::config::{ConfigError, Settings, redact_url};
use crate::fpl::FplClient;
use crate::http::{self, ApiState};
use crate::jobs::{Deps, JobActor, JobCatalog, JobDirectory};
use crate::kv::{Kv, KvError};
use crate::metrics::Metrics;
use crate::scheduler::{ScheduleEntry, Scheduler, SchedulerDeps};
use crate::store::{self, StoreError};
use crate::supervisor::{
    ActorRegistry, ActorRole, Backoff, ChildLink, ChildSpec, Intensity, Recorder, RestartType,
    StopChild, Strategy, Supervisor, SupervisorSpec,
};

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
}

/// Options that differ between the binary and tests.
#[derive(Clone)]
pub struct Options {
    /// The job kinds to run (tests add their own kinds beside the built-in ones).
    pub catalog: JobCatalog,
    /// Stop on SIGINT/SIGTERM (the binary); tests stop through [`Application::server_handle`].
    pub handle_signals: bool,
    /// How the cache loads each key family from PostgreSQL (more can be registered later
    /// through [`Cache::loaders`]).
    pub loaders: Loaders,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            catalog: JobCatalog::builtin(),
            handle_signals: true,
            loaders: Loaders::new(),
        }
    }
}

/// Checks the settings that name job kinds against the catalog.
fn check_kinds(settings: &Settings, catalog: &JobCatalog) -> Result<(), ConfigError> {
    let problems: Vec<String> = settings
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
        let registry = ActorRegistry::default();
        let directory = JobDirectory::default();
        let alerts = AlertSink::new(metrics.clone(), settings.mailbox.alerts);
        let recorder = Recorder::spawn(db.clone(), metrics.clone(), alerts.clone());
        let fpl = FplClient::new(&settings.fpl, metrics.clone())?;
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
            crate::live::snapshot::register_loader(cache.loaders(), db.clone());
        }
        let deps = Deps {
            db: db.clone(),
            settings: settings.clone(),
            metrics: metrics.clone(),
            alerts: alerts.clone(),
            fpl,
            jobs: directory.clone(),
            cache: cache.clone(),
        };

        let tree = tree_spec(
            &settings,
            &options.catalog,
            &deps,
            &recorder,
            &registry,
            &directory,
        );
        let root = Supervisor::root(tree, recorder, registry.clone()).start();

        let state = ApiState {
            db,
            kv,
            settings: settings.clone(),
            metrics,
            registry,
            directory,
            catalog: options.catalog,
            cache,
            access: http::AccessState::new(&settings),
        };
        let app_state = state.clone();
        let mut server =
            HttpServer::new(move || App::new().configure(http::configure(app_state.clone())))
                .workers(settings.http.workers)
                .shutdown_timeout(settings.supervisor.stop_timeout_ms.div_ceil(1000));
        if !options.handle_signals {
            server = server.disable_signals();
        }
        let server = server
            .bind(settings.bind_addr())
            .map_err(|source| StartError::Bind {
                addr: settings.http.bind.clone(),
                source,
            })?;
        let port = server.addrs()[0].port();
        let server = server.run();
        tracing::info!(port, "control endpoint listening");
        Ok(Application {
            port,
            server,
            root,
            state,
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

    /// Serves until the server stops (a signal, or its handle), then stops the actor tree in
    /// reverse start order.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        tracing::info!("HTTP server stopped; stopping actors");
        let grace = Duration::from_millis(self.state.settings.supervisor.stop_timeout_ms) * 2;
        let _ = self.root.send(StopChild).timeout(grace).await;
        // Every actor has stopped, so no query is left in flight: close the connections now,
        // inside the runtime, rather than when it is torn down.
        self.state.db.close().await;
        served
    }
}

/// The supervision tree's declaration.
fn tree_spec(
    settings: &Settings,
    catalog: &JobCatalog,
    deps: &Deps,
    recorder: &Recorder,
    registry: &ActorRegistry,
    directory: &JobDirectory,
) -> SupervisorSpec {
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
        let (sink, registry) = (deps.alerts.clone(), registry.clone());
        ChildSpec {
            name: "alerts".into(),
            role: ActorRole::Worker,
            restart: RestartType::Permanent,
            start: Rc::new(move |link: ChildLink| {
                AlertActor::new(link, sink.clone(), registry.clone())
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
            let (job, deps, registry, directory) = (
                job.clone(),
                deps.clone(),
                registry.clone(),
                directory.clone(),
            );
            ChildSpec {
                name: job.kind.actor_name(),
                role: ActorRole::Worker,
                restart: RestartType::Permanent,
                start: Rc::new(move |link: ChildLink| {
                    JobActor::new(
                        link,
                        job.clone(),
                        deps.clone(),
                        registry.clone(),
                        directory.clone(),
                    )
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
                Some(ScheduleEntry {
                    kind: catalog.get(kind)?.kind,
                    schedule: expr.parse().ok()?,
                })
            })
            .collect();
        let sched = SchedulerDeps {
            entries,
            timezone: settings.timezone(),
            directory: directory.clone(),
            metrics: deps.metrics.clone(),
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

    // rest_for_one: the scheduler feeds the job actors, so if `jobs` is restarted the scheduler
    // is restarted after it rather than ticking into a tree that is coming back; likewise the
    // jobs write through the cache, so they restart after it.
    spec(
        "root",
        Strategy::RestForOne,
        vec![alerts, cache, jobs, scheduler],
    )
}
