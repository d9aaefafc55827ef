//! The actor registry: a shared, always-current view of every supervised actor (its place in the
//! tree, state, restarts, last failure, mailbox fill, current run) and the addresses operators
//! reach it by. Supervisors and actors write it; `GET /actors`, `/ready` and `/metrics` read it
//! without sending any actor a message, so observing the service never queues behind its work.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use actix::Recipient;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::messages::{Control, RestartChild};
use crate::run::RunId;

/// The state an actor is in, as operators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActorState {
    Running,
    Restarting,
    Failed,
    Paused,
    Stopped,
    /// Not started on this instance because another instance leads (see the README, *Running several instances*).
    Standby,
}

impl ActorState {
    pub const ALL: [ActorState; 6] = [
        ActorState::Running,
        ActorState::Restarting,
        ActorState::Failed,
        ActorState::Paused,
        ActorState::Stopped,
        ActorState::Standby,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorState::Running => "running",
            ActorState::Restarting => "restarting",
            ActorState::Failed => "failed",
            ActorState::Paused => "paused",
            ActorState::Stopped => "stopped",
            ActorState::Standby => "standby",
        }
    }
}

/// Whether an actor supervises others or does work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActorRole {
    Supervisor,
    Worker,
}

/// Mailbox fill of one actor, shared between the actor (which counts) and readers.
#[derive(Debug)]
pub struct MailboxGauge {
    depth: AtomicUsize,
    pub capacity: usize,
}

impl MailboxGauge {
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(MailboxGauge {
            depth: AtomicUsize::new(0),
            capacity,
        })
    }

    pub fn set(&self, depth: usize) {
        self.depth.store(depth, Ordering::Relaxed);
    }

    /// Counts a message put in the mailbox.
    pub fn push(&self) {
        self.depth.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a message taken out (never below zero).
    pub fn pop(&self) {
        let _ = self
            .depth
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| d.checked_sub(1));
    }

    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }
}

/// The last failure of an actor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Failure {
    pub at: DateTime<Utc>,
    pub message: String,
}

struct Entry {
    seq: usize,
    parent: Option<String>,
    role: ActorRole,
    state: ActorState,
    paused: bool,
    restarts: u64,
    last_failure: Option<Failure>,
    mailbox: Option<Arc<MailboxGauge>>,
    current_run: Option<RunId>,
    control: Option<Recipient<Control>>,
    supervisor: Option<Recipient<RestartChild>>,
}

/// What `GET /actors` shows of one actor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActorView {
    pub name: String,
    pub parent: Option<String>,
    pub role: ActorRole,
    pub state: ActorState,
    pub restarts: u64,
    pub last_failure: Option<Failure>,
    pub mailbox_depth: Option<usize>,
    pub mailbox_capacity: Option<usize>,
    pub current_run: Option<RunId>,
}

/// Shared handle to the registry; clones see the same data.
#[derive(Clone, Default)]
pub struct ActorRegistry {
    inner: Arc<RwLock<BTreeMap<String, Entry>>>,
}

impl ActorRegistry {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Entry>> {
        // A panic while holding the lock cannot leave an entry half-written (every write is a
        // single field assignment), so a poisoned lock is still consistent.
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Declares an actor under `parent`, owned by `supervisor`. Declaring again (a new
    /// incarnation of its supervisor) keeps the counters but follows the new supervisor: an
    /// operator's restart must reach the incarnation that owns the actor now.
    pub fn declare(
        &self,
        name: &str,
        parent: Option<&str>,
        role: ActorRole,
        supervisor: Option<Recipient<RestartChild>>,
    ) {
        let mut map = self.write();
        let seq = map.len();
        let entry = map.entry(name.to_string()).or_insert_with(|| Entry {
            seq,
            parent: parent.map(str::to_string),
            role,
            state: ActorState::Stopped,
            paused: false,
            restarts: 0,
            last_failure: None,
            mailbox: None,
            current_run: None,
            control: None,
            supervisor: None,
        });
        entry.supervisor = supervisor;
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut Entry)) {
        if let Some(e) = self.write().get_mut(name) {
            f(e);
        }
    }

    pub fn set_state(&self, name: &str, state: ActorState) {
        self.update(name, |e| e.state = state);
    }

    pub fn record_failure(&self, name: &str, message: &str) {
        self.update(name, |e| {
            e.last_failure = Some(Failure {
                at: Utc::now(),
                message: message.to_string(),
            })
        });
    }

    pub fn count_restart(&self, name: &str) {
        self.update(name, |e| e.restarts += 1);
    }

    /// Called by an actor as it starts: how operators reach it and how full it is.
    pub fn attach(
        &self,
        name: &str,
        mailbox: Option<Arc<MailboxGauge>>,
        control: Option<Recipient<Control>>,
    ) {
        self.update(name, |e| {
            e.mailbox = mailbox;
            e.control = control;
            e.current_run = None;
        });
    }

    pub fn set_current_run(&self, name: &str, run: Option<RunId>) {
        self.update(name, |e| e.current_run = run);
    }

    pub fn set_paused(&self, name: &str, paused: bool) {
        self.update(name, |e| e.paused = paused);
    }

    /// Whether an operator paused the actor; survives restarts.
    pub fn is_paused(&self, name: &str) -> bool {
        self.read().get(name).is_some_and(|e| e.paused)
    }

    pub fn control(&self, name: &str) -> Option<Recipient<Control>> {
        self.read().get(name).and_then(|e| e.control.clone())
    }

    pub fn supervisor_of(&self, name: &str) -> Option<Recipient<RestartChild>> {
        self.read().get(name).and_then(|e| e.supervisor.clone())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.read().contains_key(name)
    }

    /// Every actor in declaration order (the tree's start order).
    pub fn snapshot(&self) -> Vec<ActorView> {
        let map = self.read();
        let mut views: Vec<(usize, ActorView)> = map
            .iter()
            .map(|(name, e)| {
                let state = if e.state == ActorState::Running && e.paused {
                    ActorState::Paused
                } else {
                    e.state
                };
                (
                    e.seq,
                    ActorView {
                        name: name.clone(),
                        parent: e.parent.clone(),
                        role: e.role,
                        state,
                        restarts: e.restarts,
                        last_failure: e.last_failure.clone(),
                        mailbox_depth: e.mailbox.as_ref().map(|m| m.depth()),
                        mailbox_capacity: e.mailbox.as_ref().map(|m| m.capacity),
                        current_run: e.current_run,
                    },
                )
            })
            .collect();
        views.sort_by_key(|(seq, _)| *seq);
        views.into_iter().map(|(_, v)| v).collect()
    }

    /// One actor's view.
    pub fn view(&self, name: &str) -> Option<ActorView> {
        self.snapshot().into_iter().find(|v| v.name == name)
    }

    /// Names of escalated actors: the service is degraded while any exist.
    pub fn failed(&self) -> Vec<String> {
        self.read()
            .iter()
            .filter(|(_, e)| e.state == ActorState::Failed)
            .map(|(n, _)| n.clone())
            .collect()
    }
}
