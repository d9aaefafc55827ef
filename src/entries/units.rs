//! Work split into units (one manager each), fetched through the shared FPL client at bulk
//! priority — the admission controller, not this code, sets the pace — and stored in batches,
//! by the run itself: the `info` stage's. (The `picks` and `results` stages share their units
//! with every instance through [`crate::jobs::work`]; the failure bookkeeping below — failures
//! and their backoff — serves them too.)
//!
//! A unit that is done is never fetched again: what "done" means is the stage's own (its data is
//! stored), so a run that crashed, stalled or was cancelled resumes where it stopped. A unit
//! that fails is recorded in `entry_unit_failures` and not tried again before its backoff has
//! passed.
//!
//! The run shows its life through the FPL client (every request admitted or answered renews
//! the attempt's heartbeat) and through every batch it stores; its progress is units handled
//! of the stage's total.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use sqlx::PgPool;
use tokio::time::Instant;

use super::Stage;
use crate::fpl::client::FplError;
use crate::jobs::{JobContext, JobError};
use crate::store::StoreError;

/// Requests in flight from one run.
const CONCURRENCY: usize = 16;
/// Units stored per statement, and so the most a crash can lose (to be fetched again).
pub const BATCH: usize = 100;
/// Backoff of a failed unit: base · 2^(failures − 1), capped.
const BACKOFF_BASE: Duration = Duration::from_secs(60);
const BACKOFF_CAP: Duration = Duration::from_secs(6 * 3600);

/// What one pass over the units did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitReport {
    /// Every unit of the stage.
    pub total: usize,
    /// Done before this pass (checkpointed).
    pub already_done: usize,
    /// Failed earlier and still in their backoff: not tried.
    pub deferred: usize,
    pub stored: usize,
    /// FPL answered 404: nothing to store.
    pub unknown: usize,
    pub failed: usize,
}

impl UnitReport {
    /// Units attempted in this pass.
    pub fn attempted(&self) -> usize {
        self.stored + self.unknown + self.failed
    }

    /// Share of all the stage's units that are handled: done before, stored now or unknown to
    /// FPL (1 when there are none). Units failed or waiting out a backoff are not.
    pub fn success_ratio(&self) -> f64 {
        match self.total {
            0 => 1.0,
            n => (self.already_done + self.stored + self.unknown) as f64 / n as f64,
        }
    }
}

/// Fetches `todo` (the units not done yet, out of `total`) with `fetch` and stores each batch
/// with `store`.
pub async fn process<T, F, FFut, S, SFut>(
    ctx: &JobContext,
    stage: Stage,
    event: u16,
    total: usize,
    todo: Vec<u64>,
    fetch: F,
    store: S,
) -> Result<UnitReport, JobError>
where
    F: Fn(u64) -> FFut,
    FFut: Future<Output = Result<T, FplError>>,
    S: Fn(Vec<(u64, T)>) -> SFut,
    SFut: Future<Output = Result<(), StoreError>>,
{
    let db = &ctx.deps.db;
    let mut report = UnitReport {
        total,
        already_done: total - todo.len(),
        ..UnitReport::default()
    };
    let due = not_deferred(db, stage, event, &todo).await?;
    report.deferred = todo.len() - due.len();
    let fetch = &fetch;
    let started = Instant::now();
    // Fetching and storing go on side by side in this task: the fetches are polled while a
    // batch is stored or progress written, so no admission grant waits for them (a grant is
    // handed out when a waiting request is polled) and storing costs the run no FPL time.
    let (fetched, results) = tokio::sync::mpsc::channel(CONCURRENCY);
    let produce = async move {
        let mut fetches = futures_util::stream::iter(due)
            .map(
                |entry| async move { (entry, fetch_through_open_circuit(ctx, fetch, entry).await) },
            )
            .buffer_unordered(CONCURRENCY);
        while let Some(result) = fetches.next().await {
            if fetched.send(result).await.is_err() {
                return; // the consumer stopped (a store failed): fetch no more
            }
        }
    };
    let consume = async {
        // Owned here, so a consumer that stops early closes the channel and the fetching ends.
        let mut results = results;
        let mut batch: Vec<(u64, T)> = Vec::with_capacity(BATCH);
        let mut failures: Vec<(u64, String)> = Vec::new();
        // The first failure of the pass, for the run's log: why units fail is what the
        // operator needs, and one example usually says it.
        let mut example: Option<(u64, String)> = None;
        let mut last_percent = 0;
        loop {
            let next = results.recv().await;
            let end = next.is_none();
            if let Some((entry, got)) = next {
                match got {
                    Ok(value) => batch.push((entry, value)),
                    Err(FplError::NotFound { .. }) => report.unknown += 1,
                    Err(e) => failures.push((entry, e.to_string())),
                }
            }
            if batch.len() >= BATCH || (end && !batch.is_empty()) {
                let ids: Vec<u64> = batch.iter().map(|(e, _)| *e).collect();
                report.stored += batch.len();
                store(std::mem::take(&mut batch)).await?;
                clear_failures(db, stage, event, &ids).await?;
                ctx.beat();
            }
            if failures.len() >= BATCH || (end && !failures.is_empty()) {
                report.failed += failures.len();
                example.get_or_insert_with(|| failures[0].clone());
                record_failures(db, stage, event, &std::mem::take(&mut failures)).await?;
            }
            // Written when the percentage moves (at most ~100 statements a run), not per unit.
            let done = report.already_done + report.deferred + report.attempted();
            let percent = (done * 100).checked_div(total).unwrap_or(100).min(100);
            if percent != last_percent || end {
                // At the pace of this pass: what FPL and the admission control let through.
                let attempted = report.attempted() as u32;
                let remaining = (attempted > 0 && !end)
                    .then(|| started.elapsed() / attempted * (total - done) as u32);
                ctx.progress_units(done as u64, total as u64, remaining)
                    .await?;
                last_percent = percent;
            }
            if end {
                if let Some((entry, error)) = example {
                    ctx.log(
                        crate::run::LogLevel::Warn,
                        format!(
                            "{} units failed, e.g. entry {entry}: {error}",
                            report.failed
                        ),
                    )
                    .await?;
                }
                return Ok::<_, JobError>(report);
            }
        }
    };
    let ((), report) = tokio::join!(produce, consume);
    report
}

/// A unit's fetch. An open circuit breaker (or the bot protection's backoff, which holds it
/// open) is waited out rather than counted against the unit:
/// FPL gave no answer to judge it by, and the breaker's probe, not a flood of failed units,
/// decides when FPL is tried again. The wait is a deliberate one (the run stays alive); the
/// run's time limit bounds it.
async fn fetch_through_open_circuit<T, F, Fut>(
    ctx: &JobContext,
    fetch: &F,
    entry: u64,
) -> Result<T, FplError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<T, FplError>>,
{
    loop {
        match fetch(entry).await {
            Err(FplError::CircuitOpen { retry_in } | FplError::Blocked { retry_in }) => {
                let _waiting = ctx.heart.waiting();
                tokio::time::sleep(retry_in.max(Duration::from_millis(100))).await;
            }
            other => return other,
        }
    }
}

/// The units of `todo` not waiting out a backoff.
pub(super) async fn not_deferred(
    db: &PgPool,
    stage: Stage,
    event: u16,
    todo: &[u64],
) -> Result<Vec<u64>, StoreError> {
    let ids: Vec<i64> = todo.iter().map(|&e| e as i64).collect();
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT t.id FROM unnest($3::bigint[]) AS t(id) WHERE NOT EXISTS \
         (SELECT 1 FROM entry_unit_failures f WHERE f.stage = $1 AND f.event_id = $2 \
          AND f.entry_id = t.id AND f.next_attempt_at > now())",
    )
    .bind(stage.as_str())
    .bind(i32::from(event))
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(due.into_iter().map(|e| e as u64).collect())
}

pub(super) async fn clear_failures(
    db: impl sqlx::PgExecutor<'_>,
    stage: Stage,
    event: u16,
    ids: &[u64],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = ids.iter().map(|&e| e as i64).collect();
    sqlx::query(
        "DELETE FROM entry_unit_failures WHERE stage = $1 AND event_id = $2 AND entry_id = ANY($3)",
    )
    .bind(stage.as_str())
    .bind(i32::from(event))
    .bind(ids)
    .execute(db)
    .await?;
    Ok(())
}

/// Records failures: one more attempt each, the next not before its backoff.
pub(super) async fn record_failures(
    db: impl sqlx::PgExecutor<'_>,
    stage: Stage,
    event: u16,
    failures: &[(u64, String)],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = failures.iter().map(|(e, _)| *e as i64).collect();
    let errors: Vec<String> = failures.iter().map(|(_, m)| m.clone()).collect();
    sqlx::query(
        "INSERT INTO entry_unit_failures AS f (stage, event_id, entry_id, attempts, \
         next_attempt_at, last_error) \
         SELECT $1, $2, u.id, 1, now() + make_interval(secs => $4), u.err \
         FROM UNNEST($3::bigint[], $6::text[]) AS u(id, err) \
         ON CONFLICT (stage, event_id, entry_id) DO UPDATE SET attempts = f.attempts + 1, \
         next_attempt_at = now() + make_interval(secs => \
           LEAST($5, $4 * power(2, f.attempts))), last_error = EXCLUDED.last_error",
    )
    .bind(stage.as_str())
    .bind(i32::from(event))
    .bind(ids)
    .bind(BACKOFF_BASE.as_secs_f64())
    .bind(BACKOFF_CAP.as_secs_f64())
    .bind(errors)
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_success_ratio_counts_done_and_unknown_units_as_handled_but_not_deferred_ones() {
        let r = UnitReport {
            total: 10,
            already_done: 2,
            stored: 5,
            unknown: 1,
            failed: 1,
            deferred: 1,
        };
        assert_eq!(r.attempted(), 7);
        assert!((r.success_ratio() - 0.8).abs() < 1e-9);
        assert_eq!(UnitReport::default().success_ratio(), 1.0);
    }
}
