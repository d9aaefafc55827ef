//! How an attempt failed, and so what the runtime does next: [`JobError`], and what the errors of
//! the layers below (the FPL client, PostgreSQL) mean for a run.

use std::time::Duration;

use crate::fpl::FplError;
use crate::fpl::client::human_duration;
use crate::store::StoreError;

/// How a run attempt failed, and so what happens next (see `policy::next_step`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying after the kind's backoff (network, database connection, "FPL updating").
    #[error("{0:#}")]
    Transient(anyhow::Error),
    /// Worth retrying, but not before `after` (rate limited, circuit open).
    #[error("{source:#} (retry after {})", human_duration(*after))]
    RetryAfter {
        after: Duration,
        source: anyhow::Error,
    },
    /// Retrying cannot help (bad data, bad parameters, a constraint violated): the run fails now.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl JobError {
    pub fn transient(message: impl std::fmt::Display) -> Self {
        JobError::Transient(anyhow::anyhow!("{message}"))
    }

    pub fn permanent(message: impl std::fmt::Display) -> Self {
        JobError::Permanent(anyhow::anyhow!("{message}"))
    }
}

/// How a job treats an FPL failure:
/// - `Updating`, `Unavailable` (a page that is not JSON), `Timeout`, `Network`, `Truncated` (a
///   body cut short), `WrongGameweek` (FPL still on the last gameweek), `Deadline` and 5xx are
///   passing conditions: `Transient`, retried with the kind's backoff (a job reports "FPL
///   updating" from the message).
/// - `RateLimited`, `CircuitOpen` and `Blocked` (the bot protection's challenge) say when to
///   come back: `RetryAfter` that long (a 429 without `Retry-After` falls back to `Transient`).
/// - `NotFound` reaching a job means the job did not expect "none" there; other 4xx mean our
///   request is wrong; `Decode` means the schema drifted (the same bytes will not decode on
///   retry); `TooManyPages` means a list we cannot read whole. All `Permanent`.
/// - `Forbidden` (a 403 without the challenge) is `Permanent` too: that resource is refused.
impl From<FplError> for JobError {
    fn from(e: FplError) -> Self {
        match e {
            FplError::RateLimited {
                retry_after: Some(after),
            } => JobError::RetryAfter {
                after,
                source: e.into(),
            },
            FplError::CircuitOpen { retry_in } | FplError::Blocked { retry_in } => {
                JobError::RetryAfter {
                    after: retry_in,
                    source: e.into(),
                }
            }
            FplError::Updating
            | FplError::Unavailable { .. }
            | FplError::RateLimited { retry_after: None }
            | FplError::Timeout
            | FplError::Network(_)
            | FplError::Truncated { .. }
            | FplError::WrongGameweek { .. }
            | FplError::Deadline => JobError::Transient(e.into()),
            FplError::Status { status, .. } if status >= 500 => JobError::Transient(e.into()),
            FplError::NotFound { .. }
            | FplError::Forbidden { .. }
            | FplError::Status { .. }
            | FplError::Decode { .. }
            | FplError::TooManyPages { .. } => JobError::Permanent(e.into()),
        }
    }
}

/// How a job treats a PostgreSQL failure: trouble reaching or keeping a connection, and the
/// conditions PostgreSQL itself says a retry may cure (serialization failures, deadlocks, an
/// administrator's shutdown, resources running out) are `Transient`; corrupt stored data, a
/// violated constraint, a value PostgreSQL refuses and a statement it cannot run are
/// `Permanent` — the same statement on the same data fails the same way.
impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        if is_transient(&e) {
            JobError::Transient(e.into())
        } else {
            JobError::Permanent(e.into())
        }
    }
}

fn is_transient(e: &StoreError) -> bool {
    match e {
        StoreError::Connect(_) | StoreError::Create { .. } => true,
        StoreError::Url(_) | StoreError::Migrate(_) | StoreError::Corrupt(_) => false,
        StoreError::Query(q) => match q {
            sqlx::Error::Database(db) => {
                let code = db.code();
                let class = code.as_deref().map(|c| &c[..c.len().min(2)]);
                // 08 connection exception, 40 transaction rollback (serialization, deadlock),
                // 53 insufficient resources, 55 object not in prerequisite state (lock not
                // available), 57 operator intervention (admin shutdown, query cancelled),
                // 58 system error. Anything else (22 data exception, 23 integrity constraint,
                // 42 syntax or access rule, …) will fail again.
                matches!(class, Some("08" | "40" | "53" | "55" | "57" | "58") | None)
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(e: JobError) -> &'static str {
        match e {
            JobError::Transient(_) => "transient",
            JobError::RetryAfter { .. } => "retry-after",
            JobError::Permanent(_) => "permanent",
        }
    }

    #[test]
    fn each_fpl_failure_tells_a_job_what_to_do_next() {
        let after = Duration::from_secs(7);
        let cases = [
            (FplError::Updating, "transient"),
            (FplError::Timeout, "transient"),
            (FplError::Deadline, "transient"),
            (FplError::Network("reset".into()), "transient"),
            (
                FplError::Status {
                    status: 502,
                    path: "x".into(),
                },
                "transient",
            ),
            (
                FplError::RateLimited {
                    retry_after: Some(after),
                },
                "retry-after",
            ),
            (FplError::CircuitOpen { retry_in: after }, "retry-after"),
            (FplError::Blocked { retry_in: after }, "retry-after"),
            (FplError::Forbidden { path: "x".into() }, "permanent"),
            (
                FplError::Unavailable {
                    status: 200,
                    path: "x".into(),
                },
                "transient",
            ),
            (FplError::NotFound { path: "x".into() }, "permanent"),
            (
                FplError::Status {
                    status: 400,
                    path: "x".into(),
                },
                "permanent",
            ),
            (
                FplError::Decode {
                    path: "x".into(),
                    message: "m".into(),
                },
                "permanent",
            ),
        ];
        for (error, expected) in cases {
            if let FplError::RateLimited { .. }
            | FplError::CircuitOpen { .. }
            | FplError::Blocked { .. } = error
            {
                let JobError::RetryAfter { after: a, .. } = JobError::from(error.clone()) else {
                    panic!("{error:?} must say when to come back");
                };
                assert_eq!(a, after);
            }
            assert_eq!(class(JobError::from(error.clone())), expected, "{error:?}");
        }
    }

    #[test]
    fn corrupt_data_is_permanent_and_connection_trouble_transient() {
        let cases = [
            (StoreError::Corrupt("bad status".into()), "permanent"),
            (StoreError::Query(sqlx::Error::RowNotFound), "permanent"),
            (
                StoreError::Query(sqlx::Error::ColumnNotFound("x".into())),
                "permanent",
            ),
            (StoreError::Query(sqlx::Error::PoolTimedOut), "transient"),
            (StoreError::Query(sqlx::Error::PoolClosed), "transient"),
            (
                StoreError::Query(sqlx::Error::Io(std::io::Error::from(
                    std::io::ErrorKind::ConnectionReset,
                ))),
                "transient",
            ),
            (
                StoreError::Connect(sqlx::Error::Io(std::io::Error::from(
                    std::io::ErrorKind::ConnectionRefused,
                ))),
                "transient",
            ),
        ];
        for (error, expected) in cases {
            let text = error.to_string();
            assert_eq!(class(error.into()), expected, "{text}");
        }
    }
}
