//! The vocabulary of job runs: kinds, run ids, triggers, statuses and log levels. A leaf: it
//! imports nothing of the crate, so every layer (the stores, the job runtime, the actors, HTTP)
//! can speak of runs without depending on the runtime that executes them. Strings exist only at
//! the edges (HTTP, PostgreSQL); everything inside uses these types.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A job kind, such as `prune`. Kinds are declared once in the job catalog (assembled in
/// `app.rs`); a name from outside becomes a `JobKind` only by being looked up there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct JobKind(&'static str);

impl JobKind {
    /// Names are lower-case words joined by `-`, so they are safe in URLs, metric labels and
    /// actor names.
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The name of the actor that runs this kind.
    pub fn actor_name(self) -> String {
        format!("job:{}", self.0)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Identifies one run in `job_runs`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a run exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Schedule,
    Manual,
    Recovery,
    Dependency,
    /// The gameweek lifecycle (snapshots, picks, finalization).
    Lifecycle,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Interrupted,
    Cancelled,
}

/// Maps an enum to and from the lower-case words stored in PostgreSQL and used in URLs.
macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!(
                        "`{other}` is not one of {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(Trigger {
    Schedule => "schedule",
    Manual => "manual",
    Recovery => "recovery",
    Dependency => "dependency",
    Lifecycle => "lifecycle",
});

text_enum!(RunStatus {
    Queued => "queued",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Interrupted => "interrupted",
    Cancelled => "cancelled",
});

impl RunStatus {
    /// True once the run will not change any more.
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// Severity of a line in a run's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

text_enum!(LogLevel {
    Info => "info",
    Warn => "warn",
    Error => "error",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_text() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>().unwrap(), *s);
        }
        let err = "done".parse::<RunStatus>().unwrap_err();
        assert!(err.contains("queued"), "{err}");
    }

    #[test]
    fn only_queued_and_running_are_not_final() {
        let open: Vec<_> = RunStatus::ALL.iter().filter(|s| !s.is_final()).collect();
        assert_eq!(open, [&RunStatus::Queued, &RunStatus::Running]);
    }
}
