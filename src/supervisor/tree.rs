//! The supervisor actor: starts its children in declared order, watches their exits, restarts
//! them by their restart type and its strategy after a jittered exponential backoff, escalates a
//! child that exceeds the restart intensity, and stops its children in reverse order.

use std::rc::Rc;
use std::time::Duration;

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Recipient,
    ResponseActFuture, WrapFuture,
};
use tokio::time::Instant;

use super::events::{EventKind, Recorder, SupervisionEvent};
use super::guard::ExitGuard;
use super::messages::{
    ChildEscalated, ChildExited, ChildLink, RestartChild, SetLeading, StopChild,
};
use super::policy::{Backoff, ExitReason, Intensity, RestartType, RestartWindow, Strategy};
use super::registry::{ActorRegistry, ActorRole, ActorState};

/// Starts one incarnation of a child and returns how to stop it.
pub type StartFn = Rc<dyn Fn(ChildLink) -> Recipient<StopChild>>;

/// A child as its supervisor declares it.
#[derive(Clone)]
pub struct ChildSpec {
    pub name: String,
    pub role: ActorRole,
    pub restart: RestartType,
    pub start: StartFn,
}

/// How a supervisor treats its children.
#[derive(Clone)]
pub struct SupervisorSpec {
    pub name: String,
    pub strategy: Strategy,
    pub intensity: Intensity,
    pub backoff: Backoff,
    /// How long a child may take to stop before its supervisor moves on.
    pub stop_timeout: Duration,
    pub mailbox_capacity: usize,
    pub children: Vec<ChildSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Waiting out its backoff.
    Restarting,
    /// Asked to stop; `restart` says whether to start it again once it has exited.
    Stopping {
        restart: bool,
    },
    /// Stopped by rest_for_one, waiting for the sibling it depends on to be back.
    Held,
    /// Escalated: not restarted until an operator asks.
    Failed,
    Stopped,
}

struct Child {
    spec: ChildSpec,
    generation: u64,
    handle: Option<Recipient<StopChild>>,
    phase: Phase,
    window: RestartWindow,
}

pub struct Supervisor {
    spec: SupervisorSpec,
    parent: Option<(String, Recipient<ChildEscalated>)>,
    children: Vec<Child>,
    recorder: Recorder,
    registry: ActorRegistry,
    /// Present when this supervisor is itself supervised.
    guard: Option<ExitGuard>,
    shutting_down: bool,
    /// Children that run only while this instance leads, and whether it leads now.
    leader_only: Vec<String>,
    leading: bool,
}

impl Supervisor {
    /// A root supervisor (no parent).
    pub fn root(spec: SupervisorSpec, recorder: Recorder, registry: ActorRegistry) -> Self {
        registry.declare(&spec.name, None, ActorRole::Supervisor, None);
        Self::build(spec, recorder, registry, None, None)
    }

    fn build(
        spec: SupervisorSpec,
        recorder: Recorder,
        registry: ActorRegistry,
        parent: Option<(String, Recipient<ChildEscalated>)>,
        guard: Option<ExitGuard>,
    ) -> Self {
        let children = spec
            .children
            .iter()
            .map(|c| Child {
                spec: c.clone(),
                generation: 0,
                handle: None,
                phase: Phase::Stopped,
                window: RestartWindow::default(),
            })
            .collect();
        Supervisor {
            spec,
            parent,
            children,
            recorder,
            registry,
            guard,
            shutting_down: false,
            leader_only: Vec::new(),
            leading: true,
        }
    }

    /// Declares `names` as children that run only while this instance leads; `leading` says
    /// whether it leads as the supervisor starts. The others start at once as usual.
    pub fn with_leader_only(mut self, names: &[&str], leading: bool) -> Self {
        self.leader_only = names.iter().map(|n| n.to_string()).collect();
        self.leading = leading;
        self
    }

    fn is_standby(&self, idx: usize) -> bool {
        !self.leading && self.leader_only.contains(&self.children[idx].spec.name)
    }

    /// Declares `spec` as a child supervisor, restarted with fresh children when it fails.
    pub fn child(
        spec: SupervisorSpec,
        restart: RestartType,
        recorder: Recorder,
        registry: ActorRegistry,
    ) -> ChildSpec {
        let name = spec.name.clone();
        ChildSpec {
            name,
            role: ActorRole::Supervisor,
            restart,
            start: Rc::new(move |link: ChildLink| {
                let parent = (link.parent_name.clone(), link.parent.clone().recipient());
                let sup = Supervisor::build(
                    spec.clone(),
                    recorder.clone(),
                    registry.clone(),
                    Some(parent),
                    Some(ExitGuard::new(link)),
                );
                sup.start().recipient()
            }),
        }
    }

    fn event(&self, idx: usize, kind: EventKind) -> SupervisionEvent {
        SupervisionEvent::new(&self.children[idx].spec.name, &self.spec.name, kind)
    }

    fn start_child(&mut self, idx: usize, ctx: &mut Context<Self>) {
        let link = {
            let child = &mut self.children[idx];
            child.generation += 1;
            ChildLink {
                name: child.spec.name.clone(),
                generation: child.generation,
                parent: ctx.address(),
                parent_name: self.spec.name.clone(),
            }
        };
        let handle = (self.children[idx].spec.start)(link);
        let child = &mut self.children[idx];
        child.handle = Some(handle);
        child.phase = Phase::Running;
        self.registry
            .set_state(&child.spec.name, ActorState::Running);
        self.recorder.record(self.event(idx, EventKind::Started));
    }

    /// Starts the children after `idx` that rest_for_one held back while `idx` restarted.
    fn start_held_after(&mut self, idx: usize, ctx: &mut Context<Self>) {
        for j in idx + 1..self.children.len() {
            if self.children[j].phase == Phase::Held && !self.is_standby(j) {
                self.start_child(j, ctx);
            }
        }
    }

    fn stop_child(&mut self, idx: usize, restart: bool, ctx: &mut Context<Self>) {
        let child = &mut self.children[idx];
        child.phase = Phase::Stopping { restart };
        if let Some(handle) = child.handle.clone() {
            let timeout = self.spec.stop_timeout;
            ctx.spawn(
                async move {
                    let _ = handle.send(StopChild).timeout(timeout).await;
                }
                .into_actor(self),
            );
        }
    }

    fn escalate(&mut self, idx: usize, restarts: u32, reason: String) {
        let name = self.children[idx].spec.name.clone();
        self.children[idx].phase = Phase::Failed;
        self.registry.set_state(&name, ActorState::Failed);
        let mut event = self.event(idx, EventKind::Escalated);
        event.detail = Some(reason.clone());
        event.restarts = restarts;
        self.recorder.record(event);
        if let Some((_, parent)) = &self.parent {
            let _ = parent.try_send(ChildEscalated {
                supervisor: self.spec.name.clone(),
                child: name,
                reason,
            });
        }
    }

    fn schedule_restart(&mut self, idx: usize, restarts: u32, ctx: &mut Context<Self>) {
        let delay = self.spec.backoff.delay(restarts.saturating_sub(1));
        let name = self.children[idx].spec.name.clone();
        self.children[idx].phase = Phase::Restarting;
        self.registry.set_state(&name, ActorState::Restarting);
        self.registry.count_restart(&name);
        self.recorder
            .families()
            .restarts
            .with_label_values(&[&name])
            .inc();
        let mut event = self.event(idx, EventKind::Restarting);
        event.backoff = Some(delay);
        event.restarts = restarts;
        self.recorder.record(event);

        if self.spec.strategy == Strategy::RestForOne {
            for j in (idx + 1..self.children.len()).rev() {
                match self.children[j].phase {
                    Phase::Running => {
                        self.registry
                            .set_state(&self.children[j].spec.name, ActorState::Restarting);
                        self.stop_child(j, true, ctx);
                    }
                    Phase::Restarting => self.children[j].phase = Phase::Held,
                    _ => {}
                }
            }
        }

        let generation = self.children[idx].generation;
        ctx.run_later(delay, move |act, ctx| {
            let child = &act.children[idx];
            if child.phase == Phase::Restarting
                && child.generation == generation
                && !act.shutting_down
                && !act.is_standby(idx)
            {
                act.start_child(idx, ctx);
                act.start_held_after(idx, ctx);
            }
        });
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.spec.mailbox_capacity);
        let me: Recipient<RestartChild> = ctx.address().recipient();
        self.registry
            .set_state(&self.spec.name, ActorState::Running);
        for child in &self.children {
            self.registry.declare(
                &child.spec.name,
                Some(&self.spec.name),
                child.spec.role,
                Some(me.clone()),
            );
        }
        for idx in 0..self.children.len() {
            if self.is_standby(idx) {
                self.registry
                    .set_state(&self.children[idx].spec.name, ActorState::Standby);
            } else {
                self.start_child(idx, ctx);
            }
        }
    }
}

impl Handler<ChildExited> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: ChildExited, ctx: &mut Context<Self>) {
        let Some(idx) = self.children.iter().position(|c| c.spec.name == msg.name) else {
            return;
        };
        if self.children[idx].generation != msg.generation {
            return; // a late exit of an incarnation already replaced
        }
        self.children[idx].handle = None;
        let name = msg.name;

        match self.children[idx].phase {
            Phase::Stopping { restart } => {
                let mut event = self.event(idx, EventKind::Stopped);
                if let ExitReason::Failed(m) = &msg.reason {
                    event.detail = Some(m.clone());
                }
                self.recorder.record(event);
                if restart && !self.shutting_down && !self.is_standby(idx) {
                    let earlier_up = self.children[..idx].iter().all(|c| {
                        matches!(c.phase, Phase::Running | Phase::Failed | Phase::Stopped)
                    });
                    if earlier_up {
                        self.start_child(idx, ctx);
                    } else {
                        self.children[idx].phase = Phase::Held;
                    }
                } else {
                    self.children[idx].phase = Phase::Stopped;
                    let state = if self.is_standby(idx) {
                        ActorState::Standby
                    } else {
                        ActorState::Stopped
                    };
                    self.registry.set_state(&name, state);
                }
                return;
            }
            Phase::Running => {}
            // Not running, so nothing of ours can exit; keep the phase as it is.
            _ => return,
        }

        let (kind, detail) = match &msg.reason {
            ExitReason::Normal => (EventKind::Stopped, None),
            ExitReason::Failed(m) => {
                self.registry.record_failure(&name, m);
                (EventKind::Failed, Some(m.clone()))
            }
        };
        let mut event = self.event(idx, kind);
        event.detail = detail.clone();
        self.recorder.record(event);

        if self.shutting_down || !self.children[idx].spec.restart.restarts_after(&msg.reason) {
            self.children[idx].phase = Phase::Stopped;
            self.registry.set_state(&name, ActorState::Stopped);
            return;
        }
        let restarts = self.children[idx]
            .window
            .record(Instant::now(), self.spec.intensity);
        if restarts > self.spec.intensity.max_restarts {
            let reason = detail.unwrap_or_else(|| "stopped".into());
            self.escalate(idx, restarts - 1, reason);
        } else {
            self.schedule_restart(idx, restarts, ctx);
        }
    }
}

impl Handler<RestartChild> for Supervisor {
    type Result = Result<(), String>;

    fn handle(&mut self, msg: RestartChild, ctx: &mut Context<Self>) -> Self::Result {
        if self.shutting_down {
            return Err("the service is shutting down".into());
        }
        let idx = self
            .children
            .iter()
            .position(|c| c.spec.name == msg.name)
            .ok_or_else(|| format!("{} does not supervise {}", self.spec.name, msg.name))?;
        if self.is_standby(idx) {
            return Err(format!(
                "{} runs only on the leader and this instance is a follower",
                msg.name
            ));
        }
        self.children[idx].window.clear();
        match self.children[idx].phase {
            Phase::Running => self.stop_child(idx, true, ctx),
            Phase::Failed | Phase::Stopped | Phase::Held | Phase::Restarting => {
                self.start_child(idx, ctx);
                self.start_held_after(idx, ctx);
            }
            Phase::Stopping { .. } => self.children[idx].phase = Phase::Stopping { restart: true },
        }
        Ok(())
    }
}

impl Handler<ChildEscalated> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: ChildEscalated, _: &mut Context<Self>) {
        let mut event =
            SupervisionEvent::new(&msg.supervisor, &self.spec.name, EventKind::ChildEscalated);
        event.detail = Some(format!("child {} escalated: {}", msg.child, msg.reason));
        self.recorder.record(event);
    }
}

impl Handler<StopChild> for Supervisor {
    type Result = ResponseActFuture<Self, ()>;

    /// Stops every child in reverse start order, each after the one started after it has
    /// finished stopping, then stops itself.
    fn handle(&mut self, _: StopChild, _: &mut Context<Self>) -> Self::Result {
        self.shutting_down = true;
        let timeout = self.spec.stop_timeout;
        let mut handles = Vec::new();
        for child in self.children.iter_mut().rev() {
            match child.phase {
                Phase::Running => {
                    child.phase = Phase::Stopping { restart: false };
                    handles.extend(child.handle.clone());
                }
                Phase::Restarting | Phase::Held => {
                    child.phase = Phase::Stopped;
                    self.registry
                        .set_state(&child.spec.name, ActorState::Stopped);
                }
                _ => {}
            }
        }
        Box::pin(
            async move {
                for handle in handles {
                    let _ = handle.send(StopChild).timeout(timeout).await;
                }
            }
            .into_actor(self)
            .map(|_, act, ctx| {
                act.registry.set_state(&act.spec.name, ActorState::Stopped);
                if let Some(guard) = &mut act.guard {
                    guard.set(ExitReason::Normal);
                }
                ctx.stop();
            }),
        )
    }
}

impl Handler<SetLeading> for Supervisor {
    type Result = ResponseActFuture<Self, ()>;

    /// Gaining the lead starts the leader-only children in declared order; losing it stops
    /// them in reverse order (each finishing its stop first, as at shutdown) and holds them in
    /// standby, so a follower runs none of them.
    fn handle(&mut self, msg: SetLeading, ctx: &mut Context<Self>) -> Self::Result {
        if self.shutting_down || msg.leading == self.leading {
            return Box::pin(actix::fut::ready(()));
        }
        self.leading = msg.leading;
        let ids: Vec<usize> = (0..self.children.len())
            .filter(|&i| self.leader_only.contains(&self.children[i].spec.name))
            .collect();
        if msg.leading {
            for idx in ids {
                self.children[idx].window.clear();
                if matches!(self.children[idx].phase, Phase::Stopped | Phase::Held) {
                    self.start_child(idx, ctx);
                }
            }
            return Box::pin(actix::fut::ready(()));
        }
        let timeout = self.spec.stop_timeout;
        let mut handles = Vec::new();
        for &idx in ids.iter().rev() {
            let child = &mut self.children[idx];
            match child.phase {
                Phase::Running => {
                    child.phase = Phase::Stopping { restart: false };
                    handles.extend(child.handle.clone());
                }
                Phase::Stopping { .. } => child.phase = Phase::Stopping { restart: false },
                _ => {
                    child.phase = Phase::Stopped;
                    self.registry
                        .set_state(&child.spec.name, ActorState::Standby);
                }
            }
        }
        Box::pin(
            async move {
                for handle in handles {
                    let _ = handle.send(StopChild).timeout(timeout).await;
                }
            }
            .into_actor(self),
        )
    }
}
