//! Settings: the layered configuration (built-in `config/default.toml`, an optional file,
//! `FPLSYNC__SECTION__KEY` environment variables) and its validation.
//!
//! Loading never half-succeeds: any unknown key, wrong type or invalid value stops start-up with
//! a message naming the key. Secrets are [`SecretString`]s, so `Debug` and logs show
//! `[REDACTED]`; URLs are logged through [`redact_url`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::auth::{ApiKeySettings, Role};

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Why the configuration was refused. Each message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub fpl: FplSettings,
    pub telegram: TelegramSettings,
    pub alerts: AlertSettings,
    pub live: LiveSettings,
    pub entries: EntriesSettings,
    pub supervisor: SupervisorSettings,
    pub mailbox: MailboxSettings,
    pub jobs: JobSettings,
    pub scheduler: SchedulerSettings,
    pub cache: CacheSettings,
    pub leader: LeaderSettings,
    pub units: UnitsSettings,
    pub shutdown: ShutdownSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub bind: String,
    pub workers: usize,
    pub retry_after_secs: u64,
    pub enqueue_timeout_ms: u64,
}

/// Access control of the control endpoint (see [`crate::auth`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    #[serde(default)]
    pub keys: Vec<ApiKeySettings>,
    /// Which of `health`, `ready` and `metrics` answer without a key.
    pub open: Vec<String>,
    /// Manual triggers allowed per job kind and key within `trigger_period_secs`; once used
    /// up, one more is allowed every `trigger_period_secs / trigger_limit` (the cooldown).
    pub trigger_limit: u32,
    pub trigger_period_secs: u64,
    /// Days of audit entries kept by the `prune` job.
    pub audit_retention_days: u32,
}

/// Routes that `auth.open` may open.
pub const OPENABLE_ROUTES: [&str; 3] = ["health", "ready", "metrics"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// May carry a password, hence secret.
    pub url: SecretString,
    pub schema: String,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// May carry a password, hence secret.
    pub url: SecretString,
    pub prefix: String,
    pub command_timeout_ms: u64,
    pub connect_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FplSettings {
    pub base_url: String,
    /// Sent with every request; FPL, like any API owner, should see who is calling. `{version}`
    /// is replaced by fplsync's version.
    pub user_agent: String,
    /// Time one attempt (send and read the whole body) may take.
    pub attempt_timeout_ms: u64,
    /// Time one call may take in all: admission waits, attempts and backoffs.
    pub deadline_ms: u64,
    /// Retries after the first attempt (429, 5xx, "being updated", timeouts, network errors).
    pub max_retries: u32,
    /// Full-jitter exponential backoff: retry n waits up to min(cap, base × 2^(n-1)).
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    /// `Retry-After` is honoured up to this.
    pub retry_after_cap_secs: u64,
    /// Token bucket rate shared by all callers.
    pub rate_per_sec: u32,
    /// Requests the bucket lets out at once after a quiet period (1..=`rate_per_sec`). 1 paces
    /// strictly, one request every 1/`rate_per_sec` s, so no one-second window ever holds more
    /// than `rate_per_sec` requests; a burst of b lets up to `rate_per_sec` + b − 1 into one.
    pub burst: u32,
    /// Requests in flight at most, all priorities together.
    pub max_in_flight: usize,
    /// Bulk requests in flight at most (below `max_in_flight`, so live requests find a slot).
    pub bulk_max_in_flight: usize,
    /// Quiet time after which a bulk limit lowered by 429/5xx climbs back by one.
    pub bulk_recovery_secs: u64,
    /// Circuit breaker: judged over this many recent requests...
    pub breaker_window: usize,
    /// ...once at least this many are recorded...
    pub breaker_min_calls: usize,
    /// ...and opens when this share of them failed...
    pub breaker_failure_ratio: f64,
    /// ...for this long, then lets one probe through.
    pub breaker_open_secs: u64,
    /// Pages read at most from one paged list (a safety net against a lying `has_next`).
    pub max_pages: u32,
    /// After a 403 with the bot protection's challenge, no request goes out for this long.
    pub blocked_backoff_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    pub token: SecretString,
    pub chat_ids: Vec<i64>,
    /// Bot API base URL (Telegram's own by default; tests point it at a fake server).
    pub api_url: String,
    /// Attempts per message before it is recorded undelivered (a 429 waits `retry_after` and
    /// does not use an attempt).
    pub send_attempts: u32,
    pub send_backoff_base_ms: u64,
    /// Longest `retry_after` honoured; a longer one counts as a failed attempt.
    pub retry_after_cap_secs: u64,
    /// Long-polling timeout of `getUpdates` for bot commands.
    pub poll_timeout_secs: u32,
    /// Whether the bot answers commands (alerts are sent either way when a token is set).
    pub commands: bool,
}

impl TelegramSettings {
    /// Whether a bot token is configured (otherwise alerts go to the log and history only).
    pub fn enabled(&self) -> bool {
        !self.token.expose_secret().trim().is_empty()
    }
}

/// The alerting rules (see `src/alerts/rules.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// Wait after a group's first alert before its first message, so a burst is one message.
    pub group_wait_ms: u64,
    /// Repeats within this window after the last occurrence update the count of one message.
    pub dedup_window_secs: u64,
    /// A condition still firing is announced again after this long.
    pub repeat_interval_secs: u64,
    /// How often the alerting actor flushes groups (group waits and repeats resolve on ticks).
    pub tick_ms: u64,
    /// Restarts of one actor within `supervisor.period_secs` that raise a restart-storm warning
    /// (escalation, above `supervisor.max_restarts`, is critical on its own).
    pub restart_storm_restarts: u32,
    /// A run still going after this long raises a warning with its progress.
    pub long_run_secs: u64,
    /// FPL's circuit open, or the game updating, for this long raises a warning.
    pub fpl_blocked_secs: u64,
    /// Info message for every successful run (off: only failures and summaries).
    pub job_success_summaries: bool,
    /// Rows in the alert history kept by the history writer queue before new writes are dropped.
    pub history_queue: usize,
}

/// The gameweek lifecycle (`[live]`): tracked managers, timings and poll intervals.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveSettings {
    /// Whether the lifecycle ticks at all.
    pub enabled: bool,
    /// Entry ids always tracked, besides tournament entries.
    pub tracked_entries: Vec<u64>,
    pub start_delay_ms: u64,
    pub picks_wait_mins: u32,
    pub pre_deadline_hours: u32,
    pub window_before_mins: u32,
    pub window_after_mins: u32,
    pub window_max_hours: u32,
    pub stable_after: u32,
    pub stale_after_secs: u64,
    pub interval_secs: LifecycleIntervals,
}

/// The hybrid `entries` job (`[entries]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesSettings {
    pub min_success_ratio: f64,
    pub meta_max_age_hours: u32,
}

/// Poll interval of each lifecycle state, in seconds (fractions allowed, for tests).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleIntervals {
    pub pre_deadline: f64,
    pub picks_wait: f64,
    pub picks_sync: f64,
    pub live_active: f64,
    pub between_fixtures: f64,
    pub day_settling: f64,
    pub day_settling_stable: f64,
    pub gw_review: f64,
    pub finalized: f64,
}

impl LifecycleIntervals {
    fn all(&self) -> [(&'static str, f64); 9] {
        [
            ("pre_deadline", self.pre_deadline),
            ("picks_wait", self.picks_wait),
            ("picks_sync", self.picks_sync),
            ("live_active", self.live_active),
            ("between_fixtures", self.between_fixtures),
            ("day_settling", self.day_settling),
            ("day_settling_stable", self.day_settling_stable),
            ("gw_review", self.gw_review),
            ("finalized", self.finalized),
        ]
    }

    /// Sets every state's interval to `f` of what it was: a clock sped up (the demo, tests)
    /// polls every state faster alike.
    pub fn map(&mut self, f: impl Fn(f64) -> f64) {
        for interval in [
            &mut self.pre_deadline,
            &mut self.picks_wait,
            &mut self.picks_sync,
            &mut self.live_active,
            &mut self.between_fixtures,
            &mut self.day_settling,
            &mut self.day_settling_stable,
            &mut self.gw_review,
            &mut self.finalized,
        ] {
            *interval = f(*interval);
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisorSettings {
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    pub max_restarts: u32,
    pub period_secs: u64,
    pub stop_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSettings {
    pub default_capacity: usize,
    pub alerts: usize,
    pub scheduler: usize,
    pub lifecycle: usize,
    pub supervisor: usize,
    pub cache: usize,
    #[serde(default)]
    pub jobs: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    /// An attempt that shows no sign of life for this long is stalled.
    pub stall_secs: u64,
    pub max_stalls: u32,
    /// A run still going after this long (all attempts and waits) fails.
    pub max_run_secs: u64,
    /// Replaced by `stall_secs` and `max_run_secs`: refused with a message saying so.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    pub retention_days: u32,
    /// Kinds of which one run at most is queued or running: a manual trigger meanwhile is
    /// refused (409) with that run's id.
    #[serde(default)]
    pub exclusive: Vec<String>,
    #[serde(default)]
    pub kinds: BTreeMap<String, JobKindSettings>,
}

/// Per-kind overrides of [`JobSettings`]; absent fields inherit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobKindSettings {
    pub max_attempts: Option<u32>,
    pub backoff_base_ms: Option<u64>,
    pub stall_secs: Option<u64>,
    pub max_stalls: Option<u32>,
    pub max_run_secs: Option<u64>,
    /// Replaced by `stall_secs` and `max_run_secs`: refused with a message saying so.
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSettings {
    pub timezone: String,
    #[serde(default)]
    pub jobs: BTreeMap<String, String>,
}

/// The two-tier cache (`[cache]`): TTL per data class, the in-process tier's bounds, timeouts
/// and the keys warmed at start-up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Time to live of each data class, in seconds (`[cache.ttl_secs]`).
    pub ttl_secs: CacheTtlSettings,
    /// Most keys the in-process tier holds.
    pub local_max_entries: u64,
    /// Most value bytes the in-process tier holds.
    pub local_max_bytes: u64,
    /// How long a reader waits for the cache actor (a miss: Redis, then PostgreSQL).
    pub read_timeout_ms: u64,
    /// How long a writer waits for the cache actor to take a `Put`.
    pub write_timeout_ms: u64,
    /// How often Redis is probed while the cache is degraded.
    pub probe_interval_ms: u64,
    /// How long the values of a replaced revision stay readable in Redis.
    pub old_revision_grace_secs: u64,
    /// Keys loaded from PostgreSQL into both tiers at start-up and after Redis returns.
    #[serde(default)]
    pub warm: Vec<String>,
}

/// TTL per data class, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheTtlSettings {
    pub live: u64,
    pub player_values: u64,
    pub event_status: u64,
    pub standings: u64,
    pub tournament_stats: u64,
    pub entries: u64,
    pub historical: u64,
}

/// Leadership among instances sharing a schema (`[leader]`, see `crate::leader`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaderSettings {
    /// How often a follower tries to take the leader lock.
    pub retry_ms: u64,
    /// How often the leader checks that the session holding its lock is alive.
    pub check_interval_ms: u64,
}

/// Shared bulk work (`[units]`, see `crate::jobs::work`): how every instance claims units.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitsSettings {
    /// How long a claimed unit stays this instance's without a renewal; the units of an
    /// instance that died are claimed by the others after this long.
    pub lease_secs: u64,
    /// A claim takes about this many seconds of the instance's FPL budget
    /// (`fpl.rate_per_sec` × `batch_secs` units, 1..=100): what a killed instance costs the
    /// others to fetch again.
    pub batch_secs: u64,
    /// How often a run checks on its units. An idle instance is told of units to claim
    /// (LISTEN/NOTIFY) and looks anyway every third of `lease_secs` (never more often than
    /// this).
    pub poll_ms: u64,
}

/// Graceful shutdown (`[shutdown]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownSettings {
    /// How long running jobs may take to finish after SIGTERM/SIGINT before they are
    /// interrupted (and re-run by the next leader's start-up recovery).
    pub drain_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Settings {
    /// The built-in defaults alone: no file, no environment (for tests and tools that must not
    /// depend on the process's environment).
    pub fn defaults() -> Self {
        Figment::from(Toml::string(DEFAULT_TOML))
            .extract()
            .expect("the built-in defaults load")
    }

    /// Loads defaults, then `file`, then the environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Load(format!(
                    "--config {}: no such file",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        let settings: Settings = figment
            .merge(Env::prefixed("FPLSYNC__").split("__"))
            .extract()
            .map_err(|e| ConfigError::Load(describe_figment_error(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what types alone cannot: addresses, URLs, ranges, cron expressions, time zones.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, problem: String| {
            if !ok {
                problems.push(format!("{key}: {problem}"));
            }
        };
        check(
            self.http.bind.parse::<SocketAddr>().is_ok(),
            "http.bind",
            format!(
                "`{}` is not a socket address like 127.0.0.1:8080",
                self.http.bind
            ),
        );
        check(
            (1..=64).contains(&self.http.workers),
            "http.workers",
            format!("must be 1..=64, got {}", self.http.workers),
        );
        check(
            self.http.enqueue_timeout_ms > 0,
            "http.enqueue_timeout_ms",
            "must be positive".into(),
        );
        self.validate_auth(&mut check);
        let db_url = self.database.url.expose_secret();
        check(
            db_url.starts_with("postgres://") || db_url.starts_with("postgresql://"),
            "database.url",
            format!("`{}` is not a postgres:// URL", redact_url(db_url)),
        );
        check(
            is_identifier(&self.database.schema),
            "database.schema",
            format!(
                "`{}` is not a plain identifier (lower-case letters, digits, _)",
                self.database.schema
            ),
        );
        check(
            self.database.max_connections >= 2,
            "database.max_connections",
            "must be at least 2".into(),
        );
        let redis_url = self.redis.url.expose_secret();
        check(
            redis::Client::open(redis_url).is_ok(),
            "redis.url",
            format!("`{}` is not a redis:// URL", redact_url(redis_url)),
        );
        check(
            !self.redis.prefix.is_empty() && !self.redis.prefix.contains(char::is_whitespace),
            "redis.prefix",
            "must be non-empty and contain no white space".into(),
        );
        check(
            self.redis.command_timeout_ms > 0 && self.redis.connect_timeout_ms > 0,
            "redis.command_timeout_ms",
            "timeouts must be positive".into(),
        );
        check(
            self.fpl.base_url.starts_with("http://") || self.fpl.base_url.starts_with("https://"),
            "fpl.base_url",
            format!("`{}` is not an http(s) URL", self.fpl.base_url),
        );
        self.validate_fpl(&mut check);
        self.validate_live(&mut check);
        check(
            self.supervisor.backoff_base_ms > 0
                && self.supervisor.backoff_base_ms <= self.supervisor.backoff_cap_ms,
            "supervisor.backoff_base_ms",
            "must be positive and not above supervisor.backoff_cap_ms".into(),
        );
        check(
            self.supervisor.period_secs > 0,
            "supervisor.period_secs",
            "must be positive".into(),
        );
        for (key, cap) in [
            ("mailbox.default_capacity", self.mailbox.default_capacity),
            ("mailbox.alerts", self.mailbox.alerts),
            ("mailbox.scheduler", self.mailbox.scheduler),
            ("mailbox.supervisor", self.mailbox.supervisor),
            ("mailbox.cache", self.mailbox.cache),
        ]
        .into_iter()
        .chain(self.mailbox.jobs.iter().map(|(k, v)| (k.as_str(), *v)))
        {
            // actix treats capacity 0 as unbounded: never allow it.
            check(
                (1..=100_000).contains(&cap),
                key,
                format!("mailbox capacity must be 1..=100000, got {cap}"),
            );
        }
        check(
            self.jobs.max_attempts >= 1,
            "jobs.max_attempts",
            "must be at least 1".into(),
        );
        check(
            self.jobs.max_stalls >= 1,
            "jobs.max_stalls",
            "must be at least 1".into(),
        );
        let replaced = "was replaced by stall_secs (a run with no sign of life for this long is \
                        stalled) and max_run_secs (a run's wall-clock limit)";
        check(
            self.jobs.timeout_secs.is_none(),
            "jobs.timeout_secs",
            replaced.into(),
        );
        let jobs = &self.jobs;
        let kinds = std::iter::once(("jobs".to_string(), JobKindSettings::default())).chain(
            jobs.kinds
                .iter()
                .map(|(k, o)| (format!("jobs.kinds.{k}"), o.clone())),
        );
        for (key, o) in kinds {
            check(
                o.max_attempts.unwrap_or(jobs.max_attempts) >= 1,
                &format!("{key}.max_attempts"),
                "must be at least 1".into(),
            );
            check(
                o.max_stalls.unwrap_or(jobs.max_stalls) >= 1,
                &format!("{key}.max_stalls"),
                "must be at least 1".into(),
            );
            check(
                o.timeout_secs.is_none(),
                &format!("{key}.timeout_secs"),
                replaced.into(),
            );
            let stall = o.stall_secs.unwrap_or(jobs.stall_secs);
            let max_run = o.max_run_secs.unwrap_or(jobs.max_run_secs);
            // One FPL attempt is the only wait of a job that renews no heartbeat (admission
            // and retry waits are deliberate, see crate::heartbeat): it must fit in the window.
            check(
                stall * 1000 > self.fpl.attempt_timeout_ms,
                &format!("{key}.stall_secs"),
                format!(
                    "must exceed fpl.attempt_timeout_ms ({} ms), or one FPL request could stall \
                     a healthy run; got {stall} s",
                    self.fpl.attempt_timeout_ms
                ),
            );
            check(
                max_run >= stall && max_run <= 7 * 24 * 3600,
                &format!("{key}.max_run_secs"),
                format!("must be stall_secs ({stall})..=604800 (a week), got {max_run}"),
            );
        }
        check(
            self.scheduler.timezone.parse::<chrono_tz::Tz>().is_ok(),
            "scheduler.timezone",
            format!("`{}` is not an IANA time zone", self.scheduler.timezone),
        );
        for (kind, expr) in &self.scheduler.jobs {
            if let Err(e) = expr.parse::<cron::Schedule>() {
                check(
                    false,
                    &format!("scheduler.jobs.{kind}"),
                    format!("`{expr}` is not a cron expression (sec min hour dom month dow): {e}"),
                );
            }
        }
        self.cache.check(self.redis.command_timeout_ms, &mut check);
        self.validate_alerting(&mut check);
        check(
            (100..=60_000).contains(&self.leader.retry_ms),
            "leader.retry_ms",
            format!(
                "must be 100..=60000 (a follower must take over within seconds), got {}",
                self.leader.retry_ms
            ),
        );
        check(
            (100..=60_000).contains(&self.leader.check_interval_ms),
            "leader.check_interval_ms",
            format!("must be 100..=60000, got {}", self.leader.check_interval_ms),
        );
        check(
            (2..=3600).contains(&self.units.lease_secs),
            "units.lease_secs",
            format!("must be 2..=3600, got {}", self.units.lease_secs),
        );
        check(
            (1..=60).contains(&self.units.batch_secs)
                && self.units.batch_secs < self.units.lease_secs,
            "units.batch_secs",
            format!(
                "must be 1..=60 and below units.lease_secs (a batch is renewed, but should \
                 not outlast its lease), got {}",
                self.units.batch_secs
            ),
        );
        check(
            (10..=60_000).contains(&self.units.poll_ms),
            "units.poll_ms",
            format!("must be 10..=60000, got {}", self.units.poll_ms),
        );
        check(
            self.shutdown.drain_timeout_secs <= 3600,
            "shutdown.drain_timeout_secs",
            format!("must be 0..=3600, got {}", self.shutdown.drain_timeout_secs),
        );
        check(
            tracing_subscriber::EnvFilter::try_new(&self.log.filter).is_ok(),
            "log.filter",
            format!("`{}` is not a tracing filter", self.log.filter),
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The `[telegram]` and `[alerts]` settings.
    fn validate_alerting(&self, check: &mut impl FnMut(bool, &str, String)) {
        let t = &self.telegram;
        check(
            reqwest::Url::parse(&t.api_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()),
            "telegram.api_url",
            format!("`{}` is not an http(s) URL", t.api_url),
        );
        check(
            !t.enabled() || !t.chat_ids.is_empty(),
            "telegram.chat_ids",
            "must name at least one chat when telegram.token is set".into(),
        );
        check(
            (1..=20).contains(&t.send_attempts),
            "telegram.send_attempts",
            format!("must be 1..=20, got {}", t.send_attempts),
        );
        check(
            (1..=600_000).contains(&t.send_backoff_base_ms),
            "telegram.send_backoff_base_ms",
            format!("must be 1..=600000, got {}", t.send_backoff_base_ms),
        );
        check(
            t.retry_after_cap_secs <= 3600,
            "telegram.retry_after_cap_secs",
            format!("must be 0..=3600, got {}", t.retry_after_cap_secs),
        );
        check(
            t.poll_timeout_secs <= 50,
            "telegram.poll_timeout_secs",
            format!("must be 0..=50, got {}", t.poll_timeout_secs),
        );
        let a = &self.alerts;
        check(
            a.group_wait_ms <= 600_000,
            "alerts.group_wait_ms",
            format!("must be 0..=600000, got {}", a.group_wait_ms),
        );
        check(
            (1..=86_400).contains(&a.dedup_window_secs),
            "alerts.dedup_window_secs",
            format!("must be 1..=86400, got {}", a.dedup_window_secs),
        );
        check(
            a.repeat_interval_secs >= a.dedup_window_secs && a.repeat_interval_secs <= 7 * 86_400,
            "alerts.repeat_interval_secs",
            format!(
                "must be at least alerts.dedup_window_secs and at most a week, got {}",
                a.repeat_interval_secs
            ),
        );
        check(
            (10..=60_000).contains(&a.tick_ms),
            "alerts.tick_ms",
            format!("must be 10..=60000, got {}", a.tick_ms),
        );
        check(
            a.restart_storm_restarts >= 2,
            "alerts.restart_storm_restarts",
            "must be at least 2".into(),
        );
        check(
            a.long_run_secs >= 1,
            "alerts.long_run_secs",
            "must be positive".into(),
        );
        check(
            a.fpl_blocked_secs >= 1,
            "alerts.fpl_blocked_secs",
            "must be positive".into(),
        );
        check(
            (1..=1_000_000).contains(&a.history_queue),
            "alerts.history_queue",
            format!("must be 1..=1000000, got {}", a.history_queue),
        );
    }

    /// The `[auth]` keys and limits.
    fn validate_auth(&self, check: &mut impl FnMut(bool, &str, String)) {
        let a = &self.auth;
        let mut names = std::collections::BTreeSet::new();
        for (i, k) in a.keys.iter().enumerate() {
            let key = format!("auth.keys[{i}]");
            check(
                !k.name.trim().is_empty() && names.insert(k.name.as_str()),
                &format!("{key}.name"),
                format!("must be non-empty and unique, got `{}`", k.name),
            );
            check(
                k.sha256.trim().len() == 64 && hex::decode(k.sha256.trim()).is_ok(),
                &format!("{key}.sha256"),
                "must be 64 hex digits: the SHA-256 of the key (`fplsync hash-key`)".into(),
            );
            check(
                k.kinds.is_empty() || k.role == Role::Operator,
                &format!("{key}.kinds"),
                "only an operator is given kinds (an admin steers every kind)".into(),
            );
        }
        for route in &a.open {
            check(
                OPENABLE_ROUTES.contains(&route.as_str()),
                "auth.open",
                format!("`{route}` is not one of {}", OPENABLE_ROUTES.join(", ")),
            );
        }
        check(
            a.trigger_limit >= 1,
            "auth.trigger_limit",
            "must be at least 1".into(),
        );
        check(
            a.trigger_period_secs >= 1,
            "auth.trigger_period_secs",
            "must be at least 1".into(),
        );
        check(
            a.audit_retention_days >= 1,
            "auth.audit_retention_days",
            "must be at least 1".into(),
        );
    }

    /// The `[entries]` and `[live]` settings.
    fn validate_live(&self, check: &mut impl FnMut(bool, &str, String)) {
        let e = &self.entries;
        check(
            (0.0..=1.0).contains(&e.min_success_ratio),
            "entries.min_success_ratio",
            format!("must be 0..=1, got {}", e.min_success_ratio),
        );
        check(
            (1..=24 * 30).contains(&e.meta_max_age_hours),
            "entries.meta_max_age_hours",
            format!("must be 1..=720, got {}", e.meta_max_age_hours),
        );
        let l = &self.live;
        for (name, secs) in l.interval_secs.all() {
            check(
                secs.is_finite() && (0.01..=86_400.0).contains(&secs),
                &format!("live.interval_secs.{name}"),
                format!("must be 0.01..=86400 seconds, got {secs}"),
            );
        }
        check(
            l.tracked_entries.iter().all(|&e| e > 0),
            "live.tracked_entries",
            "entry ids are positive".into(),
        );
        check(
            l.tracked_entries.len() <= 1_000_000,
            "live.tracked_entries",
            "at most 1000000 entries".into(),
        );
        check(
            l.picks_wait_mins <= 24 * 60,
            "live.picks_wait_mins",
            format!("must be 0..=1440, got {}", l.picks_wait_mins),
        );
        check(
            (1..=24 * 14).contains(&l.pre_deadline_hours),
            "live.pre_deadline_hours",
            format!("must be 1..=336, got {}", l.pre_deadline_hours),
        );
        check(
            l.window_after_mins > 0 && l.window_after_mins <= l.window_max_hours * 60,
            "live.window_after_mins",
            "must be positive and within live.window_max_hours".into(),
        );
        check(
            (1..=100).contains(&l.stable_after),
            "live.stable_after",
            format!("must be 1..=100, got {}", l.stable_after),
        );
        check(
            l.stale_after_secs > 0,
            "live.stale_after_secs",
            "must be positive".into(),
        );
    }

    fn validate_fpl(&self, check: &mut impl FnMut(bool, &str, String)) {
        let f = &self.fpl;
        check(
            !f.user_agent.trim().is_empty()
                && reqwest::header::HeaderValue::from_str(&f.user_agent).is_ok(),
            "fpl.user_agent",
            "must be a non-empty, printable header value".into(),
        );
        check(
            (1..=300_000).contains(&f.attempt_timeout_ms),
            "fpl.attempt_timeout_ms",
            format!("must be 1..=300000, got {}", f.attempt_timeout_ms),
        );
        check(
            f.deadline_ms >= f.attempt_timeout_ms && f.deadline_ms <= 3_600_000,
            "fpl.deadline_ms",
            format!(
                "must be at least fpl.attempt_timeout_ms and at most 3600000, got {}",
                f.deadline_ms
            ),
        );
        check(
            f.max_retries <= 20,
            "fpl.max_retries",
            format!("must be 0..=20, got {}", f.max_retries),
        );
        check(
            f.backoff_base_ms > 0 && f.backoff_base_ms <= f.backoff_cap_ms,
            "fpl.backoff_base_ms",
            "must be positive and not above fpl.backoff_cap_ms".into(),
        );
        check(
            f.retry_after_cap_secs <= 3600,
            "fpl.retry_after_cap_secs",
            format!("must be 0..=3600, got {}", f.retry_after_cap_secs),
        );
        check(
            (1..=86_400).contains(&f.blocked_backoff_secs),
            "fpl.blocked_backoff_secs",
            format!(
                "must be 1..=86400 (a challenge lifts after minutes), got {}",
                f.blocked_backoff_secs
            ),
        );
        check(
            (1..=100_000).contains(&f.rate_per_sec),
            "fpl.rate_per_sec",
            format!("must be 1..=100000, got {}", f.rate_per_sec),
        );
        check(
            f.burst >= 1 && f.burst <= f.rate_per_sec.max(1),
            "fpl.burst",
            format!(
                "must be 1..=fpl.rate_per_sec (a larger burst would put more than the rate into \
                 one second); got {} with fpl.rate_per_sec = {}",
                f.burst, f.rate_per_sec
            ),
        );
        check(
            (1..=1000).contains(&f.max_in_flight),
            "fpl.max_in_flight",
            format!("must be 1..=1000, got {}", f.max_in_flight),
        );
        check(
            f.bulk_max_in_flight >= 1
                && (f.bulk_max_in_flight < f.max_in_flight || f.max_in_flight == 1),
            "fpl.bulk_max_in_flight",
            format!(
                "must be 1..fpl.max_in_flight (a slot stays free for live requests), or 1 when \
                 fpl.max_in_flight is 1; got {} with fpl.max_in_flight = {}",
                f.bulk_max_in_flight, f.max_in_flight
            ),
        );
        check(
            f.bulk_recovery_secs > 0,
            "fpl.bulk_recovery_secs",
            "must be positive".into(),
        );
        check(
            (1..=10_000).contains(&f.breaker_window),
            "fpl.breaker_window",
            format!("must be 1..=10000, got {}", f.breaker_window),
        );
        check(
            (1..=f.breaker_window).contains(&f.breaker_min_calls),
            "fpl.breaker_min_calls",
            format!(
                "must be 1..=fpl.breaker_window ({}), got {}",
                f.breaker_window, f.breaker_min_calls
            ),
        );
        check(
            f.breaker_failure_ratio > 0.0 && f.breaker_failure_ratio <= 1.0,
            "fpl.breaker_failure_ratio",
            format!("must be in (0, 1], got {}", f.breaker_failure_ratio),
        );
        check(
            f.breaker_open_secs > 0,
            "fpl.breaker_open_secs",
            "must be positive".into(),
        );
        check(
            (1..=1_000_000).contains(&f.max_pages),
            "fpl.max_pages",
            format!("must be 1..=1000000, got {}", f.max_pages),
        );
    }

    /// The parsed bind address (validated at load).
    pub fn bind_addr(&self) -> SocketAddr {
        self.http.bind.parse().expect("validated at load")
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.scheduler.timezone.parse().expect("validated at load")
    }

    /// Mailbox capacity of the job actor of `kind`.
    pub fn job_mailbox(&self, kind: &str) -> usize {
        self.mailbox
            .jobs
            .get(kind)
            .copied()
            .unwrap_or(self.mailbox.default_capacity)
    }
}

/// A PostgreSQL identifier that needs no quoting.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
}

impl CacheSettings {
    /// Longest TTL accepted for a data class: a week.
    const MAX_TTL_SECS: u64 = 7 * 24 * 3600;

    fn check(&self, command_timeout_ms: u64, check: &mut impl FnMut(bool, &str, String)) {
        let t = &self.ttl_secs;
        for (class, secs) in [
            ("live", t.live),
            ("player_values", t.player_values),
            ("event_status", t.event_status),
            ("standings", t.standings),
            ("tournament_stats", t.tournament_stats),
            ("entries", t.entries),
            ("historical", t.historical),
        ] {
            check(
                (1..=Self::MAX_TTL_SECS).contains(&secs),
                &format!("cache.ttl_secs.{class}"),
                format!("must be 1..={}, got {secs}", Self::MAX_TTL_SECS),
            );
        }
        check(
            self.local_max_entries >= 1,
            "cache.local_max_entries",
            "must be at least 1".into(),
        );
        check(
            self.local_max_bytes >= 1024,
            "cache.local_max_bytes",
            format!("must be at least 1024, got {}", self.local_max_bytes),
        );
        check(
            self.read_timeout_ms > command_timeout_ms,
            "cache.read_timeout_ms",
            format!(
                "must exceed redis.command_timeout_ms ({command_timeout_ms}), so a read can still \
                 fall back to PostgreSQL after Redis fails; got {}",
                self.read_timeout_ms
            ),
        );
        check(
            self.write_timeout_ms > 0,
            "cache.write_timeout_ms",
            "must be positive".into(),
        );
        check(
            (100..=60_000).contains(&self.probe_interval_ms),
            "cache.probe_interval_ms",
            format!("must be 100..=60000, got {}", self.probe_interval_ms),
        );
        check(
            self.old_revision_grace_secs >= 1,
            "cache.old_revision_grace_secs",
            "must be at least 1".into(),
        );
    }
}

/// Figment's messages say "for key default.http.bind"; operators know the key as `http.bind`.
fn describe_figment_error(e: figment::Error) -> String {
    e.into_iter()
        .map(|err| {
            let key = err.path.join(".");
            let source = err
                .metadata
                .as_ref()
                .map(|m| m.name.to_string())
                .unwrap_or_else(|| "configuration".into());
            let kind = err.kind.to_string();
            if key.is_empty() {
                format!("{kind} (in {source})")
            } else {
                format!("{key}: {kind} (in {source})")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A URL safe to log: any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads with `vars` set; figment's Jail serialises tests that touch the environment.
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn load_with(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut result = None;
        figment::Jail::expect_with(|jail| {
            for (k, v) in vars {
                jail.set_env(k, v);
            }
            result = Some(Settings::load(None));
            Ok(())
        });
        result.expect("jail ran")
    }

    #[test]
    fn the_built_in_defaults_are_valid() {
        assert!(Settings::defaults().validate().is_ok());
        let s = load_with(&[]).expect("defaults load");
        assert_eq!(s.http.bind, "127.0.0.1:8080");
        assert_eq!(s.redis.prefix, "fplsync:");
        assert_eq!(s.jobs.max_attempts, 3);
        assert_eq!((s.jobs.stall_secs, s.jobs.max_run_secs), (30, 3600));
        assert_eq!(s.jobs.kinds["entries"].max_run_secs, Some(43200));
    }

    #[test]
    fn environment_variables_override_the_defaults() {
        let s = load_with(&[
            ("FPLSYNC__HTTP__BIND", "0.0.0.0:9000"),
            ("FPLSYNC__REDIS__PREFIX", "other:"),
            ("FPLSYNC__TELEGRAM__CHAT_IDS", "[1, -2]"),
            ("FPLSYNC__JOBS__KINDS__PRUNE__STALL_SECS", "120"),
        ])
        .unwrap();
        assert_eq!(s.http.bind, "0.0.0.0:9000");
        assert_eq!(s.redis.prefix, "other:");
        assert_eq!(s.telegram.chat_ids, vec![1, -2]);
        assert_eq!(s.jobs.kinds["prune"].stall_secs, Some(120));
        assert_eq!(
            s.jobs.kinds["prune"].max_run_secs,
            Some(1800),
            "the file's value stays"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_key() {
        let err = load_with(&[("FPLSYNC__HTTP__WORKERS", "many")]).unwrap_err();
        assert!(err.to_string().contains("http.workers"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let err = load_with(&[("FPLSYNC__HTTP__BINDD", "x")]).unwrap_err();
        assert!(err.to_string().contains("bindd"), "{err}");
    }

    #[test]
    fn invalid_values_are_all_reported_with_their_keys() {
        let err = load_with(&[
            ("FPLSYNC__HTTP__BIND", "localhost"),
            ("FPLSYNC__SCHEDULER__TIMEZONE", "Mars/Olympus"),
            ("FPLSYNC__SCHEDULER__JOBS__PRUNE", "every day"),
            ("FPLSYNC__MAILBOX__DEFAULT_CAPACITY", "0"),
            ("FPLSYNC__DATABASE__SCHEMA", "Robert'); DROP TABLE"),
        ])
        .unwrap_err()
        .to_string();
        for key in [
            "http.bind",
            "scheduler.timezone",
            "scheduler.jobs.prune",
            "mailbox.default_capacity",
            "database.schema",
        ] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
    }

    #[test]
    fn bad_fpl_client_limits_are_refused_naming_their_keys() {
        let err = load_with(&[
            ("FPLSYNC__FPL__RATE_PER_SEC", "0"),
            ("FPLSYNC__FPL__BULK_MAX_IN_FLIGHT", "5"),
            ("FPLSYNC__FPL__BREAKER_FAILURE_RATIO", "1.5"),
            ("FPLSYNC__FPL__DEADLINE_MS", "10"),
        ])
        .unwrap_err()
        .to_string();
        for key in [
            "fpl.rate_per_sec",
            "fpl.bulk_max_in_flight",
            "fpl.breaker_failure_ratio",
            "fpl.deadline_ms",
        ] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
        assert!(!err.contains("fpl.max_in_flight:"), "{err}");
        assert!(!err.contains("fpl.burst"), "{err}");

        // A burst above the rate would let more than the rate into one second.
        for (burst, rate) in [("0", "4"), ("5", "4")] {
            let err = load_with(&[
                ("FPLSYNC__FPL__BURST", burst),
                ("FPLSYNC__FPL__RATE_PER_SEC", rate),
            ])
            .unwrap_err()
            .to_string();
            assert!(err.contains("fpl.burst"), "burst {burst}: {err}");
        }
        let f = load_with(&[
            ("FPLSYNC__FPL__BURST", "20"),
            ("FPLSYNC__FPL__RATE_PER_SEC", "20"),
        ])
        .expect("a burst equal to the rate loads")
        .fpl;
        assert_eq!((f.burst, f.rate_per_sec), (20, 20));

        // The challenge backoff: never zero (every request would meet the challenge again),
        // at most a day.
        for bad in ["0", "86401", "-1", "ten"] {
            let err = load_with(&[("FPLSYNC__FPL__BLOCKED_BACKOFF_SECS", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.contains("fpl.blocked_backoff_secs"), "{bad}: {err}");
        }
    }

    #[test]
    fn bad_lifecycle_and_entries_settings_are_refused_naming_their_keys() {
        let err = load_with(&[
            ("FPLSYNC__LIVE__INTERVAL_SECS__LIVE_ACTIVE", "0"),
            ("FPLSYNC__LIVE__STABLE_AFTER", "0"),
            ("FPLSYNC__LIVE__WINDOW_AFTER_MINS", "600"),
            ("FPLSYNC__LIVE__STALE_AFTER_SECS", "0"),
            ("FPLSYNC__ENTRIES__MIN_SUCCESS_RATIO", "1.5"),
            ("FPLSYNC__ENTRIES__META_MAX_AGE_HOURS", "0"),
        ])
        .unwrap_err()
        .to_string();
        for key in [
            "live.interval_secs.live_active",
            "live.stable_after",
            "live.window_after_mins",
            "live.stale_after_secs",
            "entries.min_success_ratio",
            "entries.meta_max_age_hours",
        ] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
        let err = load_with(&[("FPLSYNC__LIVE__TRACKED_ENTRIES", "[0]")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("live.tracked_entries"), "{err}");
    }

    #[test]
    fn the_fpl_client_defaults_are_the_peers_proven_limits() {
        let f = load_with(&[]).expect("defaults load").fpl;
        assert_eq!((f.rate_per_sec, f.max_in_flight), (4, 5));
        assert_eq!(
            f.burst, 1,
            "strict pacing: never more than the rate in one second"
        );
        assert_eq!(f.bulk_max_in_flight, 4);
        assert_eq!((f.attempt_timeout_ms, f.max_retries), (10_000, 3));
        assert_eq!((f.backoff_base_ms, f.backoff_cap_ms), (500, 5000));
        assert!(f.user_agent.starts_with("fplsync/"), "{}", f.user_agent);
    }

    #[test]
    fn the_cache_defaults_follow_the_design_and_its_bad_values_are_named_by_key() {
        let s = load_with(&[]).unwrap();
        let t = &s.cache.ttl_secs;
        assert_eq!(
            [t.live, t.player_values, t.event_status, t.standings],
            [60, 300, 120, 900]
        );
        assert_eq!(
            [t.tournament_stats, t.entries, t.historical],
            [1800, 600, 3600]
        );
        assert_eq!(s.mailbox.cache, 1024);
        assert!(s.cache.warm.contains(&"meta:players".to_string()));

        let err = load_with(&[
            ("FPLSYNC__CACHE__TTL_SECS__LIVE", "0"),
            ("FPLSYNC__CACHE__READ_TIMEOUT_MS", "100"),
            ("FPLSYNC__CACHE__LOCAL_MAX_ENTRIES", "0"),
            ("FPLSYNC__MAILBOX__CACHE", "0"),
        ])
        .unwrap_err()
        .to_string();
        for key in [
            "cache.ttl_secs.live",
            "cache.read_timeout_ms",
            "cache.local_max_entries",
            "mailbox.cache",
        ] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
    }

    #[test]
    fn the_alerting_defaults_are_sensible_and_bad_values_are_named_by_key() {
        let s = load_with(&[]).unwrap();
        assert!(!s.telegram.enabled());
        assert_eq!(s.telegram.api_url, "https://api.telegram.org");
        assert_eq!(
            (s.alerts.group_wait_ms, s.alerts.dedup_window_secs),
            (30_000, 300)
        );
        assert!(!s.alerts.job_success_summaries);

        let err = load_with(&[
            ("FPLSYNC__TELEGRAM__TOKEN", "123:abc"),
            ("FPLSYNC__TELEGRAM__API_URL", "not a url"),
            ("FPLSYNC__TELEGRAM__SEND_ATTEMPTS", "0"),
            ("FPLSYNC__ALERTS__REPEAT_INTERVAL_SECS", "10"),
            ("FPLSYNC__ALERTS__TICK_MS", "0"),
        ])
        .unwrap_err()
        .to_string();
        for key in [
            "telegram.chat_ids",
            "telegram.api_url",
            "telegram.send_attempts",
            "alerts.repeat_interval_secs",
            "alerts.tick_ms",
        ] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
    }

    #[test]
    fn leadership_and_shutdown_timings_default_to_a_quick_takeover_and_bad_ones_are_named() {
        let s = load_with(&[]).unwrap();
        assert_eq!(
            (s.leader.retry_ms, s.leader.check_interval_ms),
            (2000, 2000)
        );
        assert_eq!(s.shutdown.drain_timeout_secs, 20);
        let err = load_with(&[
            ("FPLSYNC__LEADER__RETRY_MS", "60001"),
            ("FPLSYNC__LEADER__CHECK_INTERVAL_MS", "0"),
            ("FPLSYNC__SHUTDOWN__DRAIN_TIMEOUT_SECS", "3601"),
        ])
        .unwrap_err()
        .to_string();
        for key in [
            "leader.retry_ms",
            "leader.check_interval_ms",
            "shutdown.drain_timeout_secs",
        ] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
    }

    #[test]
    fn shared_units_default_to_a_short_lease_and_bad_settings_are_named() {
        let s = load_with(&[]).unwrap();
        assert_eq!(
            (s.units.lease_secs, s.units.batch_secs, s.units.poll_ms),
            (30, 2, 250)
        );
        let err = load_with(&[
            ("FPLSYNC__UNITS__LEASE_SECS", "1"),
            ("FPLSYNC__UNITS__BATCH_SECS", "0"),
            ("FPLSYNC__UNITS__POLL_MS", "5"),
        ])
        .unwrap_err()
        .to_string();
        for key in ["units.lease_secs", "units.batch_secs", "units.poll_ms"] {
            assert!(err.contains(key), "{key} missing from: {err}");
        }
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = Settings::load(Some(Path::new("/nonexistent/fplsync.toml"))).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let s = load_with(&[
            ("FPLSYNC__DATABASE__URL", "postgres://u:hunter2@db/x"),
            ("FPLSYNC__TELEGRAM__TOKEN", "123:SECRETTOKEN"),
            // A token needs chats to alert.
            ("FPLSYNC__TELEGRAM__CHAT_IDS", "[1]"),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("SECRETTOKEN"), "{debug}");
    }

    #[test]
    fn redacted_urls_hide_the_password_only() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("redis://127.0.0.1/0"), "redis://127.0.0.1/0");
    }
}
