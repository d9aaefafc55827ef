//! Supervision on top of actix, in the manner of Erlang/OTP (actix itself restarts nothing that
//! panics, has no backoff, no restart limits and no strategies).
//!
//! - [`policy`]: restart types, strategies, intensity and backoff (pure logic).
//! - [`Supervisor`]: the supervisor actor; [`ChildSpec`]s declare its children.
//! - [`ExitGuard`]: owned by every supervised actor, reports its exit even after a panic.
//! - [`Recorder`]: turns supervision events into logs, metrics, rows of the supervision log
//!   ([`log`]) and calls to its listener (the composition root turns them into alerts).
//! - [`ActorRegistry`]: the shared view of the tree that the control endpoint reads.
//! - [`SupervisionMetrics`]: the supervision families.
//!
//! Every actor of the service is built on these, so this module sits just above the stores and
//! below everything that runs as an actor (alerts, the cache, the job runtime…): it names none
//! of them.

mod events;
mod guard;
pub mod log;
mod messages;
mod metrics;
pub mod policy;
mod registry;
mod tree;

pub use events::{EventKind, Listener, Recorder, SupervisionEvent};
pub use guard::ExitGuard;
pub use messages::{
    ChildEscalated, ChildExited, ChildLink, Control, RestartChild, SetLeading, StopChild,
};
pub use metrics::SupervisionMetrics;
pub use policy::{Backoff, ExitReason, Intensity, RestartType, Strategy};
pub use registry::{ActorRegistry, ActorRole, ActorState, ActorView, Failure, MailboxGauge};
pub use tree::{ChildSpec, StartFn, Supervisor, SupervisorSpec};
