//! One gameweek through a bad day: PostgreSQL connections killed during a bootstrap and during
//! the picks sync, Redis stopped mid-gameweek for longer than a live tick and back empty, and
//! the process killed with SIGKILL while it finalizes. At the end every manager's points equal
//! FPL's official ones, every run accepted has ended (and what was interrupted was re-run),
//! every published dataset is back in Redis, and the consistency check finds no difference.
//!
//! The real binary (so SIGKILL is real), its own database (so killing its PostgreSQL
//! connections touches no other test) and its own redis-server.

use std::collections::BTreeMap;
use std::time::Duration;

use fplsync::fpl::model::{EntryId, PicksResponse};
use fplsync::fpl::samples::{self, gw38};
use fplsync::sim::Phase;
use fplsync::sim::managers::SYNTHETIC_BASE;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{eventually, start_sim, unique_id};
use crate::instance::{Instance, PrivateRedis};

const SYNTHETIC: u64 = 100;
const WAIT: Duration = Duration::from_secs(90);

/// Ends every PostgreSQL session of `database` but the caller's and the leader lock's (losing
/// the lock is a scenario of its own): what a failover or an administrator does to a pool.
async fn kill_connections(admin: &PgPool, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a \
         WHERE a.datname = $1 AND a.pid <> pg_backend_pid() AND NOT EXISTS \
           (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' \
            AND l.granted)) t",
    )
    .bind(database)
    .fetch_one(admin)
    .await
    .unwrap()
}

async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

async fn running(instance: &Instance, kind: &str) -> Option<i64> {
    let (_, runs) = instance
        .get(&format!("/jobs?kind={kind}&status=running&limit=1"))
        .await;
    runs["runs"][0]["id"].as_i64()
}

#[actix_rt::test]
async fn a_gameweek_through_outages_and_a_kill_9_ends_with_official_points_and_every_dataset_back()
{
    let sim = start_sim(SYNTHETIC as u32, &[]).await;
    assert!(sim.state().jump(Phase::PreDeadline, Some(38)));
    let mut redis = PrivateRedis::start();
    redis.wait_up().await;
    let id = unique_id();
    let database = format!("fplsync_chaos_{id}");
    let real: BTreeMap<EntryId, PicksResponse> = samples::decode(gw38::LEAGUE_PICKS).unwrap();
    let tracked: Vec<u64> = real
        .keys()
        .map(|e| e.0)
        .chain((1..=SYNTHETIC).map(|i| SYNTHETIC_BASE + i))
        .collect();
    let managers = tracked.len() as i64;
    let tracked = serde_json::to_string(&tracked).unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    let redis_url = redis.url();
    let env: Vec<(&str, &str)> = vec![
        ("FPLSYNC__DATABASE__URL", url.as_str()),
        ("FPLSYNC__REDIS__URL", redis_url.as_str()),
        ("FPLSYNC__REDIS__COMMAND_TIMEOUT_MS", "200"),
        ("FPLSYNC__CACHE__PROBE_INTERVAL_MS", "200"),
        ("FPLSYNC__LIVE__ENABLED", "true"),
        ("FPLSYNC__LIVE__START_DELAY_MS", "100"),
        ("FPLSYNC__LIVE__STALE_AFTER_SECS", "3600"),
        ("FPLSYNC__LIVE__TRACKED_ENTRIES", tracked.as_str()),
        ("FPLSYNC__LIVE__INTERVAL_SECS__PRE_DEADLINE", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__PICKS_WAIT", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__PICKS_SYNC", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__LIVE_ACTIVE", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__BETWEEN_FIXTURES", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__DAY_SETTLING", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__DAY_SETTLING_STABLE", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__GW_REVIEW", "0.3"),
        ("FPLSYNC__LIVE__INTERVAL_SECS__FINALIZED", "0.3"),
    ];
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    let first = Instance::start(&id, &sim.base_url(), &env).await;
    let db = fplsync::store::pool(&fplsync::config::DatabaseSettings {
        url: url.clone().into(),
        ..crate::helpers::test_settings(&id).database
    })
    .await
    .unwrap();

    // PostgreSQL connections killed while a bootstrap runs (slowed so that it is running).
    sim.state()
        .faults
        .set("bootstrap-static:latency=1500".parse().unwrap());
    let (_, body) = first.post("/jobs/bootstrap/trigger", json!({})).await;
    let bootstrap = body["run_id"]
        .as_i64()
        .expect("a bootstrap run (new or running)");
    first.wait_running(bootstrap).await;
    assert!(kill_connections(&admin, &database).await > 0);
    sim.state().faults.clear(None);
    let run = eventually("the bootstrap ends", WAIT, || async {
        let (_, r) = first.get(&format!("/jobs/{bootstrap}")).await;
        (!["queued", "running"].contains(&r["status"].as_str().unwrap_or("queued"))).then_some(r)
    })
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");

    // The deadline: picks synced, and PostgreSQL connections killed while that runs.
    sim.state()
        .faults
        .set("entry-picks:latency=20".parse().unwrap());
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    sim.state().advance(35.0 * 60.0);
    let picks_run = eventually("the picks sync runs", WAIT, || async {
        running(&first, "entries").await
    })
    .await;
    eventually("some picks stored", WAIT, || async {
        (count(&db, "SELECT count(*) FROM entry_picks").await >= 20).then_some(())
    })
    .await;
    kill_connections(&admin, &database).await;
    sim.state().faults.clear(None);
    eventually("every manager's picks stored", WAIT, || async {
        (count(&db, "SELECT count(*) FROM entry_picks").await == managers).then_some(())
    })
    .await;
    let run = eventually("the picks run ends", WAIT, || async {
        let (_, r) = first.get(&format!("/jobs/{picks_run}")).await;
        (!["queued", "running"].contains(&r["status"].as_str().unwrap_or("queued"))).then_some(r)
    })
    .await;
    assert_ne!(run["status"], "failed", "{run}");

    // In play: Redis stops for longer than a live tick, then comes back empty.
    assert!(sim.state().jump(Phase::InPlay, Some(38)));
    let snapshot_at = |l: &Value| l["last_snapshot_at"].as_str().unwrap_or("").to_string();
    let before = eventually("a live snapshot in play", WAIT, || async {
        let (_, l) = first.get("/lifecycle").await;
        (l["state"] == "LIVE_ACTIVE" && !snapshot_at(&l).is_empty()).then(|| snapshot_at(&l))
    })
    .await;
    redis.stop();
    eventually("live ticks go on without Redis", WAIT, || async {
        let (_, l) = first.get("/lifecycle").await;
        (snapshot_at(&l) > before).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await; // longer than a tick (0.3 s): an outage
    redis.restart();
    redis.wait_up().await;
    eventually("the cache is back on Redis", WAIT, || async {
        first
            .metrics()
            .await
            .contains("\nfplsync_cache_degraded 0\n")
            .then_some(())
    })
    .await;

    // Final: SIGKILL while finalizing; the next instance's recovery re-runs it.
    sim.state()
        .faults
        .set("entry-picks:latency=20".parse().unwrap());
    assert!(sim.state().jump(Phase::Final, Some(38)));
    let finalize = eventually("finalization runs", WAIT, || async {
        running(&first, "finalize").await
    })
    .await;
    let mut first = first;
    first.kill9();
    sim.state().faults.clear(None);
    let second = Instance::start(&id, &sim.base_url(), &env).await;
    let finalized: (i32, i32) = eventually("GW38 finalized", WAIT, || async {
        sqlx::query_as("SELECT entries, mismatches FROM event_finalizations WHERE event_id = 38")
            .fetch_optional(&db)
            .await
            .unwrap()
    })
    .await;

    // Every manager's final points are FPL's.
    assert_eq!(finalized, (managers as i32, 0));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM entry_event_results WHERE event_id = 38 \
             AND computed_points = points"
        )
        .await,
        managers
    );
    // Nothing accepted is lost: every run has ended, the one killed was re-run, and no run was
    // interrupted without a re-run.
    eventually("every run has ended", WAIT, || async {
        let open = count(
            &db,
            "SELECT count(*) FROM job_runs WHERE status IN ('queued', 'running')",
        )
        .await;
        (open == 0).then_some(())
    })
    .await;
    let rerun: Option<String> =
        sqlx::query_scalar("SELECT status FROM job_runs WHERE rerun_of = $1")
            .bind(finalize)
            .fetch_optional(&db)
            .await
            .unwrap();
    assert_eq!(
        rerun.as_deref(),
        Some("succeeded"),
        "finalize run {finalize} re-run"
    );
    let lost = count(
        &db,
        "SELECT count(*) FROM job_runs r WHERE r.status = 'interrupted' AND NOT EXISTS \
         (SELECT 1 FROM job_runs x WHERE x.rerun_of = r.id AND x.status = 'succeeded')",
    )
    .await;
    assert_eq!(lost, 0, "an interrupted run without a re-run");
    // Every dataset is back in Redis, as PostgreSQL has it.
    let (status, report) = second.post("/recovery/consistency", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["differences"], json!([]), "{report}");
    let checked = report["checked"].as_u64().unwrap();
    // Seven metadata datasets; the gameweek's players, fixtures and 64 shards of scores.
    assert!(checked >= 7 + 2 + 64, "{report}");
    let keys: Vec<String> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect();
    assert!(keys.is_empty(), "{report}");
    drop(second);
    drop(redis);
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
