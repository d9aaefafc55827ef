//! The Telegram bot as a second control surface: `/status` (actor tree and gameweek state),
//! `/jobs` (recent runs), `/trigger <kind> [params]` (the same path as `POST
//! /jobs/{kind}/trigger`), `/ack <alert key>` (silence an alert until it resolves), `/mute
//! <duration>` (silence everything; `/mute 0` lifts it). Only chats in `telegram.chat_ids` are
//! answered; updates from any other chat are ignored and counted.
//!
//! The bot actor long-polls `getUpdates` in a task of its own; a failed poll is logged and
//! retried after a pause, so Telegram being away never stops it. It sits beside the HTTP
//! control endpoint, above the job runtime it steers; alerting only lends it the Telegram
//! client's helpers.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix::{Actor, Context, Handler};
use serde_json::Value;
use teloxide::prelude::*;
use teloxide::types::{ParseMode, UpdateKind};

use prometheus::IntCounterVec;

use crate::alerts::AlertSink;
use crate::alerts::telegram::{MAX_MESSAGE_CHARS, escape};
use crate::config::Settings;
use crate::jobs::{Delivery, JobCatalog, JobDirectory};
use crate::metrics::{Family, Metrics};
use crate::run::Trigger;
use crate::store::runs::RunOrigin;
use crate::supervisor::{ActorRegistry, ChildLink, ExitGuard, ExitReason, StopChild};

/// Describes the gameweek for `/status`. Empty until the gameweek lifecycle provides a
/// description with [`GameweekStatus::provide`]; cheap to clone, clones share the provider.
#[derive(Clone, Default)]
pub struct GameweekStatus {
    provider: Arc<RwLock<Option<GameweekProvider>>>,
}

type GameweekProvider = Arc<dyn Fn() -> String + Send + Sync>;

impl GameweekStatus {
    /// Installs `describe` (e.g. "gameweek 38: live, last snapshot 12 s ago, 72 managers").
    pub fn provide(&self, describe: impl Fn() -> String + Send + Sync + 'static) {
        *self.provider.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(describe));
    }

    pub fn describe(&self) -> Option<String> {
        let provider = self
            .provider
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        provider.map(|p| p())
    }
}

/// The commands, as the `command` label of `fplsync_bot_commands_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Status,
    Jobs,
    Trigger,
    Ack,
    Mute,
    Help,
    Unknown,
}

impl Command {
    pub const ALL: [Command; 7] = [
        Command::Status,
        Command::Jobs,
        Command::Trigger,
        Command::Ack,
        Command::Mute,
        Command::Help,
        Command::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Command::Status => "status",
            Command::Jobs => "jobs",
            Command::Trigger => "trigger",
            Command::Ack => "ack",
            Command::Mute => "mute",
            Command::Help => "help",
            Command::Unknown => "unknown",
        }
    }

    /// `/name@bot args` → the command and its argument text.
    pub fn parse(text: &str) -> Option<(Command, &str)> {
        let text = text.trim();
        let rest = text.strip_prefix('/')?;
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let name = word.split('@').next().unwrap_or("");
        let cmd = match name {
            "status" => Command::Status,
            "jobs" => Command::Jobs,
            "trigger" => Command::Trigger,
            "ack" => Command::Ack,
            "mute" => Command::Mute,
            "help" | "start" => Command::Help,
            _ => Command::Unknown,
        };
        Some((cmd, args.trim()))
    }
}

/// Results of a command: the `result` label.
pub const RESULTS: [&str; 4] = ["ok", "invalid", "failed", "unauthorized"];

/// The bot's family: commands by command and result.
#[derive(Clone)]
pub struct BotMetrics {
    pub commands: IntCounterVec,
}

impl Family for BotMetrics {
    fn register(m: &Metrics) -> Self {
        let commands = m.counter_vec(
            "fplsync_bot_commands_total",
            "Telegram bot commands by command and result (ok, invalid, failed, unauthorized: \
             from a chat not in telegram.chat_ids, ignored).",
            &["command", "result"],
        );
        for command in Command::ALL {
            for result in RESULTS {
                commands.with_label_values(&[command.as_str(), result]);
            }
        }
        BotMetrics { commands }
    }
}

/// `30s`, `15m`, `2h`, `1d` (or a bare number of minutes); at most a week.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30m, 2h or 1d"))?;
    let secs = match unit {
        "s" => n,
        "" | "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("`{s}` is not a duration like 30m, 2h or 1d")),
    };
    if secs > 7 * 86_400 {
        return Err("at most a week (7d)".into());
    }
    Ok(Duration::from_secs(secs))
}

/// What the bot needs; cloned into each incarnation.
#[derive(Clone)]
pub struct BotDeps {
    pub settings: Arc<Settings>,
    pub db: sqlx::PgPool,
    pub registry: ActorRegistry,
    pub directory: JobDirectory,
    pub catalog: JobCatalog,
    pub metrics: Metrics,
    pub alerts: AlertSink,
    pub gameweek: GameweekStatus,
}

pub struct BotActor {
    guard: ExitGuard,
    deps: BotDeps,
    poller: Option<tokio::task::JoinHandle<()>>,
}

impl BotActor {
    pub fn new(link: ChildLink, deps: BotDeps) -> Self {
        BotActor {
            guard: ExitGuard::new(link),
            deps,
            poller: None,
        }
    }
}

impl Actor for BotActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        self.deps.registry.attach(self.guard.name(), None, None);
        if let Some(bot) = crate::alerts::telegram::bot(&self.deps.settings.telegram) {
            self.poller = Some(tokio::spawn(poll(bot, self.deps.clone())));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(p) = self.poller.take() {
            p.abort();
        }
    }
}

impl Handler<StopChild> for BotActor {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.guard.set(ExitReason::Normal);
        actix::ActorContext::stop(ctx);
    }
}

/// Long-polls for updates and answers commands, one at a time.
async fn poll(bot: Bot, deps: BotDeps) {
    let timeout = deps.settings.telegram.poll_timeout_secs;
    let mut offset: i32 = 0;
    loop {
        let updates = match bot
            .get_updates()
            .offset(offset)
            .timeout(timeout)
            .send()
            .await
        {
            Ok(u) => u,
            Err(teloxide::RequestError::RetryAfter(s)) => {
                tokio::time::sleep(s.duration()).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %crate::alerts::telegram::redact(&deps.settings.telegram, &e), "Telegram getUpdates failed; polling again shortly");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        for update in updates {
            offset = offset.max(
                i32::try_from(update.id.0)
                    .unwrap_or(i32::MAX)
                    .saturating_add(1),
            );
            let UpdateKind::Message(msg) = update.kind else {
                continue;
            };
            let Some((cmd, args)) = msg.text().and_then(Command::parse) else {
                continue;
            };
            let count = |result: &str| {
                deps.metrics
                    .get::<BotMetrics>()
                    .commands
                    .with_label_values(&[cmd.as_str(), result])
                    .inc()
            };
            if !deps.settings.telegram.chat_ids.contains(&msg.chat.id.0) {
                count("unauthorized");
                tracing::warn!(
                    chat = msg.chat.id.0,
                    command = cmd.as_str(),
                    "bot command from a chat not in telegram.chat_ids ignored"
                );
                continue;
            }
            let (result, reply) = answer(&deps, cmd, args).await;
            count(result);
            if matches!(cmd, Command::Trigger | Command::Ack | Command::Mute) {
                audit(&deps, msg.chat.id.0, cmd, args, result, &reply).await;
            }
            let reply = clip(reply);
            if let Err(e) = bot
                .send_message(msg.chat.id, reply)
                .parse_mode(ParseMode::Html)
                .send()
                .await
            {
                tracing::warn!(error = %crate::alerts::telegram::redact(&deps.settings.telegram, &e), "could not answer a bot command");
            }
        }
    }
}

/// Records a control command in the audit log, as the HTTP control actions are.
async fn audit(deps: &BotDeps, chat: i64, cmd: Command, args: &str, result: &str, reply: &str) {
    let entry = crate::store::audit::AuditEntry {
        channel: "telegram",
        actor: format!("chat:{chat}"),
        role: None,
        action: cmd.as_str().to_string(),
        target: format!("/{} {args}", cmd.as_str()).trim_end().to_string(),
        params: serde_json::json!({ "args": args }),
        result: result.to_string(),
        status: None,
        outcome: Some(serde_json::Value::String(reply.to_string())),
    };
    if let Err(e) = crate::store::audit::insert(&deps.db, &entry).await {
        tracing::error!(error = %e, command = cmd.as_str(), "could not write the audit log");
    }
}

/// Keeps a reply within Telegram's limit (replies are built from escaped lines inside one
/// `<pre>` at most, so cutting at a line end and closing the block keeps it valid).
fn clip(reply: String) -> String {
    if reply.encode_utf16().count() <= MAX_MESSAGE_CHARS {
        return reply;
    }
    let budget = MAX_MESSAGE_CHARS - 16;
    let mut out = String::new();
    for line in reply.lines() {
        if (out.encode_utf16().count() + line.encode_utf16().count() + 1) > budget {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    if out.contains("<pre>") && !out.contains("</pre>") {
        out.push_str("…</pre>");
    } else {
        out.push('…');
    }
    out
}

/// Runs one command from an allowed chat: its result label and the HTML reply.
async fn answer(deps: &BotDeps, cmd: Command, args: &str) -> (&'static str, String) {
    match cmd {
        Command::Status => ("ok", status(deps)),
        Command::Jobs => match crate::store::runs::list(&deps.db, None, None, 10).await {
            Ok(runs) => {
                let lines: Vec<String> = runs
                    .iter()
                    .map(|r| {
                        format!(
                            "{:>6} {:<10} {:<11} {}",
                            r.id.0,
                            r.kind,
                            r.status.as_str(),
                            r.created_at.format("%m-%d %H:%M:%S")
                        )
                    })
                    .collect();
                let body = if lines.is_empty() {
                    "no runs yet".to_string()
                } else {
                    lines.join("\n")
                };
                (
                    "ok",
                    format!("<b>recent runs</b>\n<pre>{}</pre>", escape(&body)),
                )
            }
            Err(e) => (
                "failed",
                format!("could not read the runs: {}", escape(&e.to_string())),
            ),
        },
        Command::Trigger => trigger(deps, args).await,
        Command::Ack => {
            if args.is_empty() {
                return ("invalid", "usage: /ack &lt;alert key&gt;".into());
            }
            match deps.alerts.ack(args).await {
                Some(true) => (
                    "ok",
                    format!(
                        "alert <code>{}</code> silenced until it resolves",
                        escape(args)
                    ),
                ),
                Some(false) => (
                    "invalid",
                    format!("no open alert <code>{}</code>", escape(args)),
                ),
                None => ("failed", "the alerting actor is not available".into()),
            }
        }
        Command::Mute => match parse_duration(args) {
            Ok(d) => {
                if deps.alerts.mute(d).await {
                    let text = if d.is_zero() {
                        "alerts unmuted".to_string()
                    } else {
                        format!("alerts muted for {} min", d.as_secs().div_ceil(60))
                    };
                    ("ok", text)
                } else {
                    ("failed", "the alerting actor is not available".into())
                }
            }
            Err(e) => ("invalid", format!("usage: /mute 30m — {}", escape(&e))),
        },
        Command::Help => ("ok", HELP.into()),
        Command::Unknown => ("invalid", format!("unknown command\n{HELP}")),
    }
}

const HELP: &str = "/status — actor tree and gameweek\n/jobs — recent runs\n/trigger &lt;kind&gt; \
                    [json params]\n/ack &lt;alert key&gt;\n/mute &lt;30m|2h|1d|0&gt;";

fn status(deps: &BotDeps) -> String {
    let actors = deps.registry.snapshot();
    let depth = |name: &str| {
        let parent = |n: &str| actors.iter().find(|a| a.name == n)?.parent.clone();
        std::iter::successors(parent(name), |p| parent(p)).count()
    };
    let lines: Vec<String> = actors
        .iter()
        .map(|a| {
            let run = a
                .current_run
                .map(|r| format!(" run {}", r.0))
                .unwrap_or_default();
            format!(
                "{}{} {} restarts={}{run}",
                "  ".repeat(depth(&a.name)),
                a.name,
                a.state.as_str(),
                a.restarts
            )
        })
        .collect();
    let gameweek = deps
        .gameweek
        .describe()
        .unwrap_or_else(|| "not tracked yet".into());
    format!(
        "<b>actors</b>\n<pre>{}</pre>\n<b>gameweek</b>: {}",
        escape(&lines.join("\n")),
        escape(&gameweek)
    )
}

async fn trigger(deps: &BotDeps, args: &str) -> (&'static str, String) {
    let (kind, params) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let Some(spec) = deps.catalog.get(kind) else {
        let known: Vec<_> = deps.catalog.kinds().map(|k| k.as_str()).collect();
        return (
            "invalid",
            format!(
                "usage: /trigger &lt;kind&gt; [json params]; kinds: {}",
                escape(&known.join(", "))
            ),
        );
    };
    let raw: Value = if params.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        match serde_json::from_str(params) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return ("invalid", "parameters must be a JSON object".into()),
            Err(e) => return ("invalid", format!("parameters: {}", escape(&e.to_string()))),
        }
    };
    let params = match spec.parse_params(raw) {
        Ok(p) => p,
        Err(e) => return ("invalid", format!("{kind}: {}", escape(&e))),
    };
    let result = deps
        .directory
        .request_raw(
            spec.kind,
            params,
            (Trigger::Manual, RunOrigin::default()),
            Delivery::Immediate,
            Duration::from_millis(deps.settings.http.enqueue_timeout_ms),
        )
        .await;
    match result {
        Ok(e) => (
            "ok",
            format!(
                "{} run {} {}",
                escape(kind),
                e.run_id.0,
                if e.coalesced {
                    "already queued"
                } else {
                    "queued"
                }
            ),
        ),
        Err(e) => ("failed", escape(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_or_without_the_bot_name() {
        assert_eq!(
            Command::parse("/trigger@fplsync_bot prune {\"older_than_days\": 7}"),
            Some((Command::Trigger, "prune {\"older_than_days\": 7}"))
        );
        assert_eq!(Command::parse("/status"), Some((Command::Status, "")));
        assert_eq!(Command::parse("/nope x"), Some((Command::Unknown, "x")));
        assert_eq!(Command::parse("hello"), None);
    }

    #[test]
    fn mute_durations_have_units_and_a_limit() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("8d").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
