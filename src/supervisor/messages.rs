//! Messages between supervisors, their children and operators.

use actix::{Addr, Message};

use super::policy::ExitReason;
use super::tree::Supervisor;

/// A child tells its supervisor it has exited (sent once, from the child's [`ExitGuard`]).
///
/// [`ExitGuard`]: super::ExitGuard
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ChildExited {
    pub name: String,
    /// Which incarnation exited: a late message from an older one is ignored.
    pub generation: u64,
    pub reason: ExitReason,
}

/// A supervisor asks a child to stop: it finishes or hands back its current work, then stops.
/// The reply comes once the child has cleaned up, so stopping in reverse order is sequential.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopChild;

/// An operator asks a supervisor to (re)start one of its children, failed or not.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), String>")]
pub struct RestartChild {
    pub name: String,
}

/// A supervisor tells its parent that one of its children exceeded its restart intensity.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ChildEscalated {
    pub supervisor: String,
    pub child: String,
    pub reason: String,
}

/// Operator control of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Message)]
#[rtype(result = "Result<(), String>")]
pub enum Control {
    /// Finish the current work, then take no more until resumed (an operator's pause; a job
    /// actor remembers it across restarts of the process).
    Pause,
    Resume,
    /// Pause for a shutdown's drain: like `Pause`, but not remembered.
    Drain,
}

/// What a supervised actor is given at start: its name, its incarnation and its supervisor.
#[derive(Clone)]
pub struct ChildLink {
    pub name: String,
    pub generation: u64,
    pub parent: Addr<Supervisor>,
    pub parent_name: String,
}

/// Leadership changed (from the leadership loop): a supervisor with leader-only children starts them
/// (`leading`) or stops them in reverse order and holds them in standby. Answered once done.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct SetLeading {
    pub leading: bool,
}
