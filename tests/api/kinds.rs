//! Job kinds for testing the runtime: plain async functions, registered beside the built-in
//! kinds. They exercise real actors, real PostgreSQL and real HTTP; only the work is synthetic.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use fplsync::jobs::{JobCatalog, JobContext, JobError, JobOutcome, JobSpec, Kind};
use fplsync::run::LogLevel;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

pub const PANIC: Kind<Tagged> = Kind::new("test-panic");
pub const SLEEP: Kind<SleepParams> = Kind::new("test-sleep");
pub const FLAKY: Kind<FlakyParams> = Kind::new("test-flaky");
pub const GATE: Kind<GateParams> = Kind::new("test-gate");
pub const FAIL: Kind<FailParams> = Kind::new("test-fail");
pub const CHECKPOINT: Kind<CheckpointParams> = Kind::new("test-checkpoint");
pub const SWITCH: Kind<SwitchParams> = Kind::new("test-switch");

pub fn register(catalog: JobCatalog) -> JobCatalog {
    catalog
        .with(JobSpec::new(PANIC, panic))
        .with(JobSpec::new(SLEEP, sleep))
        .with(JobSpec::new(FLAKY, flaky))
        .with(JobSpec::new(GATE, gate))
        .with(JobSpec::new(FAIL, fail))
        .with(JobSpec::new(CHECKPOINT, checkpoint))
        .with(JobSpec::new(SWITCH, switch))
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tagged {
    #[serde(default)]
    pub tag: u32,
}

async fn panic(_: JobContext, p: Tagged) -> Result<JobOutcome, JobError> {
    if p.tag < u32::MAX {
        panic!("deliberate test panic {}", p.tag);
    }
    Ok(JobOutcome::default())
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SleepParams {
    #[serde(default)]
    pub ms: u64,
    #[serde(default)]
    pub tag: u32,
}

async fn sleep(ctx: JobContext, p: SleepParams) -> Result<JobOutcome, JobError> {
    ctx.progress(10).await?;
    tokio::time::sleep(Duration::from_millis(p.ms)).await;
    ctx.progress(90).await?;
    Ok(JobOutcome::new(format!("slept {} ms", p.ms)))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FlakyParams {
    pub fail_times: u32,
    #[serde(default)]
    pub tag: u32,
}

async fn flaky(ctx: JobContext, p: FlakyParams) -> Result<JobOutcome, JobError> {
    ctx.log(LogLevel::Info, format!("attempt {} begins", ctx.attempt))
        .await?;
    if ctx.attempt <= p.fail_times {
        return Err(JobError::Transient(anyhow::anyhow!(
            "flaky failure on attempt {}",
            ctx.attempt
        )));
    }
    Ok(JobOutcome::new(format!(
        "succeeded on attempt {}",
        ctx.attempt
    )))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GateParams {
    pub gate: String,
    #[serde(default)]
    pub tag: u32,
}

static GATES: LazyLock<Mutex<HashMap<String, Arc<Semaphore>>>> = LazyLock::new(Default::default);

fn gate_semaphore(name: &str) -> Arc<Semaphore> {
    GATES
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_insert_with(|| Arc::new(Semaphore::new(0)))
        .clone()
}

/// Lets every run waiting on `name` (now or later) finish.
pub fn open_gate(name: &str) {
    gate_semaphore(name).add_permits(Semaphore::MAX_PERMITS / 2);
}

/// Blocks until the test opens its gate.
async fn gate(_: JobContext, p: GateParams) -> Result<JobOutcome, JobError> {
    let _permit = gate_semaphore(&p.gate).acquire_owned().await;
    Ok(JobOutcome::new(format!("gate {} opened", p.gate)))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FailParams {
    /// The error, repeated `repeat` times (default once).
    pub error: String,
    #[serde(default)]
    pub repeat: usize,
    /// Succeed instead (the failure clears).
    #[serde(default)]
    pub succeed: bool,
    #[serde(default)]
    pub tag: u32,
}

/// Fails for good (no retry) with the given error, unless told to succeed.
async fn fail(_: JobContext, p: FailParams) -> Result<JobOutcome, JobError> {
    if p.succeed {
        return Ok(JobOutcome::new("succeeded as asked"));
    }
    Err(JobError::Permanent(anyhow::anyhow!(
        "{}",
        p.error.repeat(p.repeat.max(1))
    )))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchParams {
    pub switch: String,
}

static BROKEN: LazyLock<Mutex<std::collections::HashSet<String>>> = LazyLock::new(Default::default);

/// Makes runs of `test-switch` on `name` fail (for good) until [`mend`].
pub fn break_switch(name: &str) {
    BROKEN.lock().unwrap().insert(name.to_string());
}

/// Lets runs of `test-switch` on `name` succeed: the cause of a failure fixed.
pub fn mend(name: &str) {
    BROKEN.lock().unwrap().remove(name);
}

/// Fails while its switch is broken: a run worth re-running once the cause is fixed.
async fn switch(_: JobContext, p: SwitchParams) -> Result<JobOutcome, JobError> {
    if BROKEN.lock().unwrap().contains(&p.switch) {
        return Err(JobError::Permanent(anyhow::anyhow!(
            "switch {} is broken",
            p.switch
        )));
    }
    Ok(JobOutcome::new(format!("switch {} works", p.switch)))
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointParams {
    pub units: u32,
    /// The unit that never finishes, and shows no sign of life meanwhile.
    pub hang_at: u32,
}

/// Works through `units` units, storing each in `test_checkpoints` as it is done (a checkpoint
/// in PostgreSQL, and a sign of life); unit `hang_at` hangs. A unit stored before is skipped;
/// storing one twice would violate the table's primary key, so an attempt that redid stored work
/// would fail for that, not for a stall.
async fn checkpoint(ctx: JobContext, p: CheckpointParams) -> Result<JobOutcome, JobError> {
    let db = &ctx.deps.db;
    let store = |e: sqlx::Error| JobError::from(fplsync::store::StoreError::from(e));
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS test_checkpoints (unit INT PRIMARY KEY, attempt INT NOT NULL)",
    )
    .execute(db)
    .await
    .map_err(store)?;
    for unit in 0..p.units as i32 {
        let done: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM test_checkpoints WHERE unit = $1)")
                .bind(unit)
                .fetch_one(db)
                .await
                .map_err(store)?;
        if done {
            continue;
        }
        if unit == p.hang_at as i32 {
            std::future::pending::<()>().await;
        }
        sqlx::query("INSERT INTO test_checkpoints (unit, attempt) VALUES ($1, $2)")
            .bind(unit)
            .bind(ctx.attempt as i32)
            .execute(db)
            .await
            .map_err(store)?;
        ctx.beat();
    }
    Ok(JobOutcome::new(format!("{} units", p.units)))
}
