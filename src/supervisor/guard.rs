//! The exit guard every supervised actor owns: when the actor goes away — stopped, or dropped by
//! tokio after a panic in a handler — the guard's `Drop` tells the supervisor, with the reason
//! the actor set or "terminated unexpectedly".
//!
//! Set the reason on the deliberate stop paths only (a `StopChild` handler, a failure), never
//! in `Actor::stopped`: after a panic, dropping the actor's context still runs `stopped`, so a
//! reason set there would report the panic as a normal exit.

use super::messages::{ChildExited, ChildLink};
use super::policy::ExitReason;

pub struct ExitGuard {
    link: ChildLink,
    reason: Option<ExitReason>,
}

impl ExitGuard {
    pub fn new(link: ChildLink) -> Self {
        ExitGuard { link, reason: None }
    }

    pub fn name(&self) -> &str {
        &self.link.name
    }

    /// Whether a failure has been set: the actor is on its way out.
    pub fn is_failed(&self) -> bool {
        matches!(self.reason, Some(ExitReason::Failed(_)))
    }

    /// Sets why the actor is stopping; the first reason set wins.
    pub fn set(&mut self, reason: ExitReason) {
        self.reason.get_or_insert(reason);
    }
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let reason = self.reason.take().unwrap_or_else(|| {
            ExitReason::Failed("terminated unexpectedly (panic in a message handler)".into())
        });
        // One message per actor lifetime, so do_send cannot pile up; and a Drop cannot await.
        self.link.parent.do_send(ChildExited {
            name: std::mem::take(&mut self.link.name),
            generation: self.link.generation,
            reason,
        });
    }
}
