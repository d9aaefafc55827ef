//! Delivery of alert messages: rendering a [`Notice`] as Telegram HTML (everything escaped,
//! never over Telegram's 4096 characters, cut only between escaped characters so no tag or
//! entity is broken), and the delivery task that sends them with teloxide, honouring 429
//! `retry_after`, retrying other failures with backoff and then giving up (counted as
//! undelivered). Without a bot token messages go to the log only.
//!
//! The task runs beside the alerting actor, so a slow Telegram never holds the actor up; its
//! queue is bounded and a notice that finds it full is counted undelivered.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::ExposeSecret;
use teloxide::prelude::*;
use teloxide::types::{LinkPreviewOptions, MessageId, ParseMode};
use teloxide::{ApiError, RequestError};
use tokio::sync::mpsc;

use super::AlertMetrics;
use super::Severity;
use super::rules::{GroupId, HistoryOp, Notice, NoticeKind};
use crate::config::TelegramSettings;

/// Telegram's limit on a message's text.
pub const MAX_MESSAGE_CHARS: usize = 4096;
/// Longest summary shown (the detail gets the rest).
const MAX_SUMMARY_CHARS: usize = 512;
/// 429s waited out for one message at most before it counts as a failed attempt.
const MAX_RETRY_AFTERS: u32 = 5;

/// Length as Telegram counts it (UTF-16 code units), which is never less than chars.
fn tg_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Escapes the three characters Telegram's HTML parse mode requires escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` escaped, keeping at most `budget` units of the escaped text; cut between characters
/// (never inside an entity) and marked with `…` when cut.
fn escape_within(s: &str, budget: usize) -> String {
    let full = escape(s);
    if tg_len(&full) <= budget {
        return full;
    }
    let mut out = String::new();
    let mut used = 0;
    let limit = budget.saturating_sub(1);
    for c in s.chars() {
        let piece = escape(c.encode_utf8(&mut [0; 4]));
        let n = tg_len(&piece);
        if used + n > limit {
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    out.push('…');
    out
}

fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🔴",
        Severity::Warning => "🟠",
        Severity::Info => "🔵",
    }
}

/// The HTML text of a notice: at most [`MAX_MESSAGE_CHARS`], every tag closed.
pub fn render(n: &Notice) -> String {
    let (mark, state) = match n.kind {
        NoticeKind::Firing => (icon(n.severity), ""),
        NoticeKind::Repeat => (icon(n.severity), " (still firing)"),
        NoticeKind::Resolved => ("✅", " RESOLVED"),
    };
    let severity = n.severity.as_str().to_uppercase();
    let count = if n.count > 1 {
        format!(" ×{}", n.count)
    } else {
        String::new()
    };
    let head = format!(
        "{mark} <b>{severity}{state}</b>{count}\n{}\n<i>{} · since {}</i>",
        escape_within(&n.summary, MAX_SUMMARY_CHARS),
        escape(&n.key),
        n.first_seen.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    let Some(detail) = n.detail.as_deref().filter(|d| !d.trim().is_empty()) else {
        return head;
    };
    let (open, close) = ("\n<pre>", "</pre>");
    let budget = MAX_MESSAGE_CHARS.saturating_sub(tg_len(&head) + tg_len(open) + tg_len(close));
    if budget < 16 {
        return head;
    }
    format!("{head}{open}{}{close}", escape_within(detail, budget))
}

/// One notice for the delivery task.
pub struct Outgoing {
    pub notice: Notice,
}

/// Sends rendered notices, in order, to every configured chat.
pub struct Deliverer {
    bot: Option<Bot>,
    chats: Vec<ChatId>,
    settings: TelegramSettings,
    metrics: AlertMetrics,
    history: mpsc::Sender<HistoryOp>,
    /// The last message of each group per chat, for count updates.
    messages: HashMap<GroupId, Vec<(ChatId, MessageId)>>,
}

/// The bot for `settings`, talking to `telegram.api_url`, with a client whose timeout outlasts
/// the long poll.
pub fn bot(settings: &TelegramSettings) -> Option<Bot> {
    if !settings.enabled() {
        return None;
    }
    let url = reqwest::Url::parse(&settings.api_url).expect("validated at load");
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(
            u64::from(settings.poll_timeout_secs) + 15,
        ))
        .build()
        .ok()?;
    Some(Bot::with_client(settings.token.expose_secret(), client).set_api_url(url))
}

impl Deliverer {
    pub fn new(
        settings: &TelegramSettings,
        metrics: AlertMetrics,
        history: mpsc::Sender<HistoryOp>,
    ) -> Self {
        Deliverer {
            bot: bot(settings),
            chats: settings.chat_ids.iter().map(|&c| ChatId(c)).collect(),
            settings: settings.clone(),
            metrics,
            history,
            messages: HashMap::new(),
        }
    }

    /// Spawns the delivery task; it ends when every sender is dropped.
    pub fn spawn(self, capacity: usize) -> mpsc::Sender<Outgoing> {
        let (tx, mut rx) = mpsc::channel::<Outgoing>(capacity);
        let mut this = self;
        tokio::spawn(async move {
            while let Some(out) = rx.recv().await {
                this.deliver(out.notice).await;
            }
        });
        tx
    }

    async fn deliver(&mut self, n: Notice) {
        let text = render(&n);
        let severity = n.severity.as_str();
        let Some(bot) = self.bot.clone() else {
            log(&n);
            if !n.update {
                self.metrics.sent.with_label_values(&[severity]).inc();
            }
            let _ = self.history.try_send(HistoryOp::Delivery {
                group: n.group,
                delivered: true,
            });
            return;
        };
        if n.update {
            // Best effort: a count that could not be updated is still in the history.
            for &(chat, id) in self.messages.get(&n.group).into_iter().flatten() {
                let edit = || {
                    bot.edit_message_text(chat, id, text.clone())
                        .parse_mode(ParseMode::Html)
                        .link_preview_options(no_preview())
                        .send()
                };
                if let Err(e) = self.retrying(edit).await {
                    tracing::warn!(key = %n.key, error = %redact(&self.settings, &e), "could not update an alert message");
                }
            }
            return;
        }
        let mut sent = Vec::new();
        let mut all = true;
        for &chat in &self.chats {
            let send = || {
                bot.send_message(chat, text.clone())
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(no_preview())
                    .send()
            };
            match self.retrying(send).await {
                Ok(m) => sent.push((chat, m.id)),
                Err(e) => {
                    all = false;
                    tracing::error!(key = %n.key, chat = chat.0, error = %redact(&self.settings, &e), "alert undelivered after retries");
                    log(&n);
                }
            }
        }
        if all {
            self.metrics.sent.with_label_values(&[severity]).inc();
        } else {
            self.metrics
                .undelivered
                .with_label_values(&[severity])
                .inc();
        }
        if n.kind == NoticeKind::Resolved {
            self.messages.remove(&n.group);
        } else {
            self.messages.insert(n.group, sent);
        }
        let _ = self.history.try_send(HistoryOp::Delivery {
            group: n.group,
            delivered: all,
        });
    }

    /// Runs `request` until it succeeds: a 429 waits its `retry_after` (up to the cap) without
    /// using an attempt; network and server trouble back off exponentially up to
    /// `telegram.send_attempts`; a refusal Telegram names (bad request, chat not found) is final.
    async fn retrying<T, F, Fut>(&self, request: F) -> Result<T, RequestError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, RequestError>>,
    {
        let cap = Duration::from_secs(self.settings.retry_after_cap_secs);
        let base = Duration::from_millis(self.settings.send_backoff_base_ms);
        let (mut attempts, mut waits) = (0, 0);
        loop {
            let e = match request().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let wait = match &e {
                RequestError::RetryAfter(s) if s.duration() <= cap && waits < MAX_RETRY_AFTERS => {
                    waits += 1;
                    tracing::warn!(retry_after = s.seconds(), "Telegram rate limit: waiting");
                    s.duration()
                }
                // Errors Telegram names (chat not found, bot blocked, bad request…) are final;
                // teloxide reports server trouble (500, 502…) as an unknown API error.
                RequestError::Api(api) if !matches!(api, ApiError::Unknown(_)) => return Err(e),
                RequestError::MigrateToChatId(_) => return Err(e),
                _ => {
                    attempts += 1;
                    if attempts >= self.settings.send_attempts {
                        return Err(e);
                    }
                    tracing::warn!(error = %redact(&self.settings, &e), attempt = attempts, "Telegram request failed: retrying");
                    base.saturating_mul(1 << (attempts - 1).min(16))
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// An error's text without the bot token (reqwest's errors name the URL, which contains it).
pub fn redact(settings: &TelegramSettings, e: &RequestError) -> String {
    let token = settings.token.expose_secret();
    let text = e.to_string();
    if token.is_empty() {
        text
    } else {
        text.replace(token, "***")
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Writes a notice to the log at the level of its severity (the channel without a token, and
/// the fallback of an undelivered message).
fn log(n: &Notice) {
    let detail = n.detail.as_deref().unwrap_or("");
    let kind = match n.kind {
        NoticeKind::Firing => "firing",
        NoticeKind::Repeat => "still firing",
        NoticeKind::Resolved => "resolved",
    };
    let (key, count) = (&n.key, n.count);
    match (n.kind, n.severity) {
        (NoticeKind::Resolved, _) | (_, Severity::Info) => {
            tracing::info!(target: "fplsync::alert", %key, count, detail, "{kind}: {}", n.summary)
        }
        (_, Severity::Warning) => {
            tracing::warn!(target: "fplsync::alert", %key, count, detail, "{kind}: {}", n.summary)
        }
        (_, Severity::Critical) => {
            tracing::error!(target: "fplsync::alert", %key, count, detail, "{kind}: {}", n.summary)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn notice(summary: &str, detail: Option<&str>) -> Notice {
        Notice {
            group: 1,
            kind: NoticeKind::Firing,
            update: false,
            severity: Severity::Critical,
            key: "job_failed:x".into(),
            summary: summary.into(),
            detail: detail.map(str::to_string),
            count: 3,
            first_seen: Utc::now(),
        }
    }

    #[test]
    fn everything_from_outside_is_escaped() {
        let text = render(&notice("a <b> & c", Some("<script>&amp;")));
        assert!(text.contains("a &lt;b&gt; &amp; c"), "{text}");
        assert!(
            text.contains("<pre>&lt;script&gt;&amp;amp;</pre>"),
            "{text}"
        );
        assert!(text.contains(" ×3"), "{text}");
    }

    #[test]
    fn huge_texts_are_cut_between_entities_and_stay_within_the_limit() {
        for unit in ["&", "<>", "é", "💥", "x"] {
            for n in [4000, 4093, 5000, 100_000] {
                let detail = unit.repeat(n);
                let text = render(&notice(&unit.repeat(n), Some(&detail)));
                assert!(tg_len(&text) <= MAX_MESSAGE_CHARS, "{unit} × {n}");
                assert!(text.ends_with("…</pre>"), "{unit} × {n}");
                let body = &text[text.find("<pre>").unwrap() + 5..text.len() - 6];
                // Only whole entities: stripping them leaves no '&', '<' or '>'.
                let stripped = body
                    .replace("&amp;", "")
                    .replace("&lt;", "")
                    .replace("&gt;", "");
                assert!(!stripped.contains(['&', '<', '>']), "{unit} × {n}");
            }
        }
    }
}
