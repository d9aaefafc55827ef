//! The alerting rules, as a plain state machine over time (no I/O, so they are tested with
//! made-up instants): alerts of one key form a *group*; the group waits `group_wait` before its
//! first message (a burst is one message, a condition that clears within the wait never pages);
//! later occurrences are counted and, within `dedup_window` of the last message, shown by
//! updating that message's count rather than sending another; a resolvable group still firing is
//! announced again every `repeat_interval`; when it clears, exactly one "resolved" message is
//! sent (only if the group had been announced) and the group closes; resolving a key with no
//! open group does nothing, so "resolved" is never repeated. Silencing: `ack` silences one group
//! until it resolves, `mute` silences everything for a while; silenced messages are counted.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{Alert, AlertState, Severity, Source};

#[derive(Debug, Clone, Copy)]
pub struct RuleConfig {
    pub group_wait: Duration,
    pub dedup_window: Duration,
    pub repeat_interval: Duration,
}

/// Identifies a group for the history writer and the delivery task (unique per incarnation).
pub type GroupId = u64;

/// Why an alert or message was not sent: the `reason` label of
/// `fplsync_alerts_suppressed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// An occurrence folded into a group's existing message (as its count).
    Deduplicated,
    /// Acknowledged or muted.
    Silenced,
    /// Cleared within the group wait: never announced.
    Flapping,
}

impl Suppression {
    pub fn as_str(self) -> &'static str {
        match self {
            Suppression::Deduplicated => "deduplicated",
            Suppression::Silenced => "silenced",
            Suppression::Flapping => "flapping",
        }
    }
}

/// What a message says about its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// The group's first message.
    Firing,
    /// Still firing after `repeat_interval`.
    Repeat,
    /// The condition cleared.
    Resolved,
}

/// One message to deliver (or, for `update`, the new text of the group's last message).
#[derive(Debug, Clone)]
pub struct Notice {
    pub group: GroupId,
    pub kind: NoticeKind,
    /// Replace the text of the group's last message instead of sending a new one.
    pub update: bool,
    pub severity: Severity,
    pub key: String,
    pub summary: String,
    pub detail: Option<String>,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
}

/// A change of the alert history.
#[derive(Debug, Clone)]
pub enum HistoryOp {
    Open {
        group: GroupId,
        key: String,
        source: Source,
        severity: Severity,
        summary: String,
        detail: Option<String>,
        at: DateTime<Utc>,
    },
    Seen {
        group: GroupId,
        summary: String,
        detail: Option<String>,
        count: u64,
        at: DateTime<Utc>,
    },
    Acked {
        group: GroupId,
    },
    /// Resolved (`resolved` true) or closed without resolution.
    Closed {
        group: GroupId,
        resolved: bool,
        at: DateTime<Utc>,
    },
    /// A message of the group reached every channel, or was given up on.
    Delivery {
        group: GroupId,
        delivered: bool,
    },
}

/// What the actor must do after the rules looked at something.
#[derive(Debug, Clone)]
pub enum Effect {
    Send(Notice),
    Suppressed(Severity, Suppression),
    History(HistoryOp),
}

#[derive(Debug)]
struct Group {
    id: GroupId,
    severity: Severity,
    source: Source,
    summary: String,
    detail: Option<String>,
    first_seen: Instant,
    first_seen_at: DateTime<Utc>,
    last_seen: Instant,
    count: u64,
    /// When the last new message went out and the count it showed.
    announced: Option<Instant>,
    shown_count: u64,
    acked: bool,
    /// Its first message is held back by a mute (counted once).
    held: bool,
}

pub struct Rules {
    config: RuleConfig,
    groups: HashMap<String, Group>,
    next_id: GroupId,
    muted_until: Option<Instant>,
}

impl Rules {
    pub fn new(config: RuleConfig) -> Self {
        Rules {
            config,
            groups: HashMap::new(),
            next_id: 1,
            muted_until: None,
        }
    }

    fn muted(&self, now: Instant) -> bool {
        self.muted_until.is_some_and(|until| now < until)
    }

    /// Looks at one alert (firing or resolved).
    pub fn handle(&mut self, alert: Alert, now: Instant, wall: DateTime<Utc>) -> Vec<Effect> {
        match alert.state {
            AlertState::Firing => self.fire(alert, now, wall),
            AlertState::Resolved => self.resolve(alert, wall),
        }
    }

    fn fire(&mut self, a: Alert, now: Instant, wall: DateTime<Utc>) -> Vec<Effect> {
        if let Some(g) = self.groups.get_mut(&a.key) {
            g.count += 1;
            g.last_seen = now;
            g.summary = a.summary;
            g.detail = a.detail;
            // The occurrence shows up as the count of the group's message (or as the count of
            // its first message, if the group still waits).
            return vec![
                Effect::Suppressed(g.severity, Suppression::Deduplicated),
                Effect::History(HistoryOp::Seen {
                    group: g.id,
                    summary: g.summary.clone(),
                    detail: g.detail.clone(),
                    count: g.count,
                    at: wall,
                }),
            ];
        }
        let id = self.next_id;
        self.next_id += 1;
        let open = HistoryOp::Open {
            group: id,
            key: a.key.clone(),
            source: a.source,
            severity: a.severity,
            summary: a.summary.clone(),
            detail: a.detail.clone(),
            at: wall,
        };
        self.groups.insert(
            a.key,
            Group {
                id,
                severity: a.severity,
                source: a.source,
                summary: a.summary,
                detail: a.detail,
                first_seen: now,
                first_seen_at: wall,
                last_seen: now,
                count: 1,
                announced: None,
                shown_count: 0,
                acked: false,
                held: false,
            },
        );
        vec![Effect::History(open)]
    }

    fn resolve(&mut self, a: Alert, wall: DateTime<Utc>) -> Vec<Effect> {
        let Some(g) = self.groups.remove(&a.key) else {
            return Vec::new();
        };
        let mut effects = vec![Effect::History(HistoryOp::Closed {
            group: g.id,
            resolved: true,
            at: wall,
        })];
        if g.announced.is_some() {
            // Sent even when acked or muted: the operator silenced the firing, not the news
            // that it is over, and it is one message.
            effects.push(Effect::Send(Notice {
                group: g.id,
                kind: NoticeKind::Resolved,
                update: false,
                severity: g.severity,
                key: a.key,
                summary: a.summary,
                detail: a.detail,
                count: g.count,
                first_seen: g.first_seen_at,
            }));
        } else {
            effects.push(Effect::Suppressed(g.severity, Suppression::Flapping));
        }
        effects
    }

    /// Flushes what is due at `now`: first messages after the group wait, count updates,
    /// repeats, and the closing of summary groups whose window passed.
    pub fn tick(&mut self, now: Instant, wall: DateTime<Utc>) -> Vec<Effect> {
        let muted = self.muted(now);
        let c = self.config;
        let mut effects = Vec::new();
        let mut closed = Vec::new();
        for (key, g) in self.groups.iter_mut() {
            let notice = |kind, update| Notice {
                group: g.id,
                kind,
                update,
                severity: g.severity,
                key: key.clone(),
                summary: g.summary.clone(),
                detail: g.detail.clone(),
                count: g.count,
                first_seen: g.first_seen_at,
            };
            let due = match g.announced {
                None if now >= g.first_seen + c.group_wait => {
                    Some(notice(NoticeKind::Firing, false))
                }
                Some(at) if g.source.resolvable() && now >= at + c.repeat_interval => {
                    Some(notice(NoticeKind::Repeat, false))
                }
                Some(at) if g.count > g.shown_count && now < at + c.dedup_window => {
                    Some(notice(NoticeKind::Firing, true))
                }
                _ => None,
            };
            if let Some(n) = due {
                if muted || g.acked {
                    // Counted once per message not sent; a silenced group is not re-announced
                    // every tick, and a group muted before its first message is announced once
                    // the mute is over (it has not been heard of).
                    if !n.update && g.announced.is_some() {
                        g.announced = Some(now);
                        g.shown_count = g.count;
                        effects.push(Effect::Suppressed(g.severity, Suppression::Silenced));
                    } else if g.announced.is_none() && !g.held {
                        g.held = true;
                        effects.push(Effect::Suppressed(g.severity, Suppression::Silenced));
                    }
                } else {
                    if !n.update {
                        g.announced = Some(now);
                    }
                    g.shown_count = g.count;
                    effects.push(Effect::Send(n));
                }
            }
            if !g.source.resolvable()
                && g.announced.is_some()
                && now >= g.last_seen + c.dedup_window
                && g.count == g.shown_count
            {
                closed.push(key.clone());
            }
        }
        for key in closed {
            let g = self.groups.remove(&key).expect("listed above");
            effects.push(Effect::History(HistoryOp::Closed {
                group: g.id,
                resolved: false,
                at: wall,
            }));
        }
        effects
    }

    /// Silences the open group `key` until it resolves; false if there is none.
    pub fn ack(&mut self, key: &str) -> Option<GroupId> {
        let g = self.groups.get_mut(key)?;
        g.acked = true;
        Some(g.id)
    }

    pub fn mute(&mut self, now: Instant, duration: Duration) {
        self.muted_until = (!duration.is_zero()).then(|| now + duration);
    }

    /// Keys of the open groups (for `/status`).
    pub fn open_keys(&self) -> Vec<String> {
        let mut keys: Vec<_> = self.groups.keys().cloned().collect();
        keys.sort();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::RunId;

    const SEC: Duration = Duration::from_secs(1);

    fn rules() -> Rules {
        Rules::new(RuleConfig {
            group_wait: 30 * SEC,
            dedup_window: 300 * SEC,
            repeat_interval: 3600 * SEC,
        })
    }

    fn sends(effects: &[Effect]) -> Vec<&Notice> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_burst_within_the_group_wait_is_one_message_with_its_count() {
        let (mut r, t0, w) = (rules(), Instant::now(), Utc::now());
        for i in 0..10 {
            let fx = r.handle(Alert::job_failed("x", RunId(i), Some("boom")), t0, w);
            assert!(sends(&fx).is_empty());
        }
        assert!(sends(&r.tick(t0 + 29 * SEC, w)).is_empty());
        let fx = r.tick(t0 + 30 * SEC, w);
        let sent = sends(&fx);
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0].count, sent[0].kind), (10, NoticeKind::Firing));
        assert!(sends(&r.tick(t0 + 31 * SEC, w)).is_empty());
    }

    #[test]
    fn later_repeats_update_the_message_then_repeat_after_the_interval() {
        let (mut r, t0, w) = (rules(), Instant::now(), Utc::now());
        r.handle(Alert::cache_degraded("down"), t0, w);
        assert_eq!(sends(&r.tick(t0 + 30 * SEC, w)).len(), 1);
        r.handle(Alert::cache_degraded("down"), t0 + 60 * SEC, w);
        let fx = r.tick(t0 + 61 * SEC, w);
        let sent = sends(&fx);
        assert!(sent[0].update && sent[0].count == 2, "{sent:?}");
        assert!(sends(&r.tick(t0 + 62 * SEC, w)).is_empty());
        let fx = r.tick(t0 + 30 * SEC + 3600 * SEC, w);
        let sent = sends(&fx);
        assert_eq!((sent[0].kind, sent[0].update), (NoticeKind::Repeat, false));
    }

    #[test]
    fn resolving_sends_one_message_only_for_an_announced_group() {
        let (mut r, t0, w) = (rules(), Instant::now(), Utc::now());
        r.handle(Alert::cache_degraded("down"), t0, w);
        // Cleared within the wait: flapping, never announced.
        let fx = r.handle(Alert::cache_recovered(SEC), t0 + SEC, w);
        assert!(sends(&fx).is_empty());
        assert!(sends(&r.tick(t0 + 60 * SEC, w)).is_empty());

        r.handle(Alert::cache_degraded("down"), t0 + 100 * SEC, w);
        r.tick(t0 + 130 * SEC, w);
        let fx = r.handle(Alert::cache_recovered(SEC), t0 + 140 * SEC, w);
        assert_eq!(sends(&fx)[0].kind, NoticeKind::Resolved);
        let again = r.handle(Alert::cache_recovered(SEC), t0 + 141 * SEC, w);
        assert!(again.is_empty(), "resolved is never repeated");
    }

    #[test]
    fn acked_and_muted_groups_send_nothing_until_they_resolve() {
        let (mut r, t0, w) = (rules(), Instant::now(), Utc::now());
        r.handle(Alert::live_stale(38, 90 * SEC), t0, w);
        r.tick(t0 + 30 * SEC, w);
        assert!(r.ack("live_stale:38").is_some());
        r.handle(Alert::live_stale(38, 120 * SEC), t0 + 40 * SEC, w);
        assert!(sends(&r.tick(t0 + 41 * SEC, w)).is_empty());
        assert!(sends(&r.tick(t0 + 4000 * SEC, w)).is_empty());

        r.mute(t0, 600 * SEC);
        r.handle(Alert::cache_degraded("x"), t0, w);
        assert!(sends(&r.tick(t0 + 60 * SEC, w)).is_empty());
        // Announced once the mute is over.
        assert_eq!(sends(&r.tick(t0 + 601 * SEC, w)).len(), 1);
    }

    #[test]
    fn summaries_close_after_the_window_and_a_later_one_is_a_new_message() {
        let (mut r, t0, w) = (rules(), Instant::now(), Utc::now());
        r.handle(Alert::price_changes("2025", "s".into(), "d".into()), t0, w);
        assert_eq!(sends(&r.tick(t0 + 30 * SEC, w)).len(), 1);
        r.tick(t0 + 301 * SEC, w);
        assert!(r.open_keys().is_empty());
        r.handle(
            Alert::price_changes("2025", "s".into(), "d".into()),
            t0 + 400 * SEC,
            w,
        );
        assert_eq!(sends(&r.tick(t0 + 430 * SEC, w)).len(), 1);
    }
}
