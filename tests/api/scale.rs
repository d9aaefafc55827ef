//! Scale-out: several `fplsync serve` processes of one deployment share a bulk run's units
//! through PostgreSQL, each at its own FPL rate, against the simulator: an `entries` picks run
//! (every unit fetched once, every instance a share; a follower killed with SIGKILL leaves
//! leases the others claim again; a killed leader's run is adopted by the next leader), a
//! tournament roster's standings pages and a gameweek's results per tournament.

use std::time::Duration;

use fplsync::sim::Phase;
use fplsync::sim::managers::SYNTHETIC_BASE;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{eventually, start_sim, unique_id};
use crate::instance::{Instance, store};

/// Each instance's FPL rate.
const RATE: u32 = 20;

fn requests(sim: &fplsync::sim::RunningSim, endpoint: &str) -> u64 {
    sim.state().stats.snapshot()["endpoints"][endpoint]["total"]
        .as_u64()
        .unwrap_or(0)
}

fn picks_requests(sim: &fplsync::sim::RunningSim) -> u64 {
    requests(sim, "entry-picks")
}

/// How long a run took, from PostgreSQL.
async fn run_secs(db: &PgPool, run: i64) -> f64 {
    sqlx::query_scalar(
        "SELECT extract(epoch FROM finished_at - started_at)::float8 FROM job_runs WHERE id = $1",
    )
    .bind(run)
    .fetch_one(db)
    .await
    .unwrap()
}

/// Starts a leader and two followers of one deployment, bootstrapped.
async fn three(sim: &fplsync::sim::RunningSim) -> (Instance, [Instance; 2], PgPool) {
    let id = unique_id();
    let env = env("30");
    let leader = start(&id, sim, &env).await;
    assert_eq!(leader.role().await, "leader");
    let followers = [start(&id, sim, &env).await, start(&id, sim, &env).await];
    let db = store(&id).await;
    bootstrapped(&leader, &db).await;
    (leader, followers, db)
}

/// Asserts that every instance completed some of `run`'s units, and answers their shares.
async fn every_instance_did_a_share(
    leader: &Instance,
    followers: &[Instance],
    run: i64,
) -> Vec<i64> {
    let (_, detail) = leader.get(&format!("/jobs/{run}")).await;
    assert_eq!(detail["units"]["state"], "closed", "{detail}");
    let mut shares = Vec::new();
    for i in std::iter::once(leader).chain(followers) {
        let share = done_by(&detail, &instance_id(i).await);
        assert!(share > 0, "an instance did nothing: {detail}");
        shares.push(share);
    }
    shares
}

/// Settings of every instance: its own rate (strict pacing, the default burst), and a short
/// lease where a test kills one.
fn env(lease_secs: &str) -> Vec<(&'static str, String)> {
    vec![
        ("FPLSYNC__FPL__RATE_PER_SEC", RATE.to_string()),
        ("FPLSYNC__UNITS__LEASE_SECS", lease_secs.to_string()),
    ]
}

async fn start(id: &str, sim: &fplsync::sim::RunningSim, env: &[(&str, String)]) -> Instance {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Instance::start(id, &sim.base_url(), &env).await
}

/// Tracks `managers` synthetic managers (as the roster of a tournament would).
async fn track(db: &PgPool, managers: u64) {
    let ids: Vec<i64> = (1..=managers as i64)
        .map(|i| SYNTHETIC_BASE as i64 + i)
        .collect();
    sqlx::query(
        "INSERT INTO tracked_entries (entry_id, source) SELECT u, 'config' FROM UNNEST($1::bigint[]) u",
    )
    .bind(ids)
    .execute(db)
    .await
    .unwrap();
}

async fn stored_picks(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM entry_picks")
        .fetch_one(db)
        .await
        .unwrap()
}

/// Waits until `run` is final, read from PostgreSQL, and returns its status.
async fn final_status(db: &PgPool, run: i64, deadline: Duration) -> String {
    eventually(&format!("run {run} ends"), deadline, || async {
        let status: String = sqlx::query_scalar("SELECT status FROM job_runs WHERE id = $1")
            .bind(run)
            .fetch_one(db)
            .await
            .unwrap();
        (!["queued", "running"].contains(&status.as_str())).then_some(status)
    })
    .await
}

/// Runs bootstrap on the leader first, so the picks run measures picks only.
async fn bootstrapped(leader: &Instance, db: &PgPool) {
    let run = leader.trigger_bootstrap().await;
    assert_eq!(
        final_status(db, run, Duration::from_secs(30)).await,
        "succeeded"
    );
}

async fn trigger_picks(leader: &Instance) -> i64 {
    let (status, body) = leader
        .post(
            "/jobs/entries/trigger",
            json!({"stage": "picks", "event": 38}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    body["run_id"].as_i64().unwrap()
}

async fn instance_id(i: &Instance) -> String {
    let (_, ready) = i.get("/ready").await;
    ready["leadership"]["instance"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Units `instance` completed in `run`'s shared work, as `GET /jobs/{id}` shows them.
fn done_by(run: &Value, instance: &str) -> i64 {
    run["units"]["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["instance"] == instance)
        .map(|s| s["done"].as_i64().unwrap_or(0))
        .sum()
}

fn counter(metrics: &str, name: &str, role: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(&format!("{name}{{role=\"{role}\"}}")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[actix_rt::test]
async fn three_instances_share_a_picks_run_each_fetching_a_part_once_at_its_own_rate() {
    const MANAGERS: u64 = 1_000;
    let sim = start_sim(MANAGERS as u32, &[]).await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    let id = unique_id();
    let env = env("30");
    let leader = start(&id, &sim, &env).await;
    assert_eq!(leader.role().await, "leader");
    let followers = [start(&id, &sim, &env).await, start(&id, &sim, &env).await];
    let db = store(&id).await;
    track(&db, MANAGERS).await;
    bootstrapped(&leader, &db).await;

    let run = trigger_picks(&leader).await;
    assert_eq!(
        final_status(&db, run, Duration::from_secs(120)).await,
        "succeeded"
    );
    assert_eq!(stored_picks(&db).await, MANAGERS as i64);
    // Every unit fetched once, across the instances. (The simulator counts a request once it
    // has answered it, so the last count may land just after the answer was stored.)
    let requests = eventually("every request counted", Duration::from_secs(5), || async {
        let n = picks_requests(&sim);
        (n >= MANAGERS).then_some(n)
    })
    .await;
    assert_eq!(requests, MANAGERS);

    let (_, detail) = leader.get(&format!("/jobs/{run}")).await;
    assert_eq!(detail["units"]["done"], MANAGERS, "{detail}");
    assert_eq!(detail["units"]["state"], "closed", "{detail}");
    let mut shares = Vec::new();
    for i in std::iter::once(&leader).chain(&followers) {
        let share = done_by(&detail, &instance_id(i).await);
        assert!(share > 0, "an instance did nothing: {detail}");
        shares.push(share);
    }
    assert_eq!(shares.iter().sum::<i64>(), MANAGERS as i64, "{detail}");

    // Three budgets at once: the run takes about a third of one instance's time.
    let secs: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM finished_at - started_at)::float8 FROM job_runs WHERE id = $1",
    )
    .bind(run)
    .fetch_one(&db)
    .await
    .unwrap();
    let ideal = MANAGERS as f64 / (3.0 * f64::from(RATE));
    println!(
        "{MANAGERS} managers by 3 instances in {secs:.2} s, ideal {ideal:.2} s: ratio {:.3}; \
         shares {shares:?}",
        secs / ideal
    );
    assert!(
        secs <= 1.2 * ideal,
        "{secs:.1} s for {MANAGERS} managers, ideal {ideal:.1} s; shares {shares:?}"
    );

    // Metrics by role, not by instance id.
    let metrics = followers[0].metrics().await;
    assert!(
        counter(&metrics, "fplsync_units_done_total", "follower") > 0.0,
        "{metrics}"
    );
    assert!(!metrics.contains(&instance_id(&followers[0]).await));
}

#[actix_rt::test]
async fn a_killed_followers_leased_units_are_claimed_again_after_the_lease_and_the_run_succeeds() {
    const MANAGERS: u64 = 600;
    let sim = start_sim(MANAGERS as u32, &[]).await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    let id = unique_id();
    let env = env("3");
    let leader = start(&id, &sim, &env).await;
    let mut follower = start(&id, &sim, &env).await;
    let other = start(&id, &sim, &env).await;
    let db = store(&id).await;
    track(&db, MANAGERS).await;
    bootstrapped(&leader, &db).await;
    let victim = instance_id(&follower).await;

    let run = trigger_picks(&leader).await;
    // Killed while it works: it has done a batch and holds a lease on the next.
    eventually(
        "the follower works on the run",
        Duration::from_secs(30),
        || async {
            let leased: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM work_units WHERE lease_owner = $1 AND state = 'leased'",
            )
            .bind(&victim)
            .fetch_one(&db)
            .await
            .unwrap();
            let (_, detail) = leader.get(&format!("/jobs/{run}")).await;
            (leased > 0 && done_by(&detail, &victim) > 0).then_some(())
        },
    )
    .await;
    follower.kill9();

    assert_eq!(
        final_status(&db, run, Duration::from_secs(90)).await,
        "succeeded"
    );
    assert_eq!(stored_picks(&db).await, MANAGERS as i64);
    // Nothing fetched twice beyond the batch the follower held when it died.
    // What one instance leases at once: a batch per lane.
    let batch =
        fplsync::jobs::work::claim_size(RATE, 2, MANAGERS, 1) as u64 * fplsync::jobs::work::LANES;
    let requests = picks_requests(&sim);
    assert!(
        (MANAGERS..=MANAGERS + batch).contains(&requests),
        "{requests} requests for {MANAGERS} managers (batch {batch})"
    );
    // Its units went to the others once its lease ran out.
    let expired = counter(
        &leader.metrics().await,
        "fplsync_units_expired_total",
        "leader",
    ) + counter(
        &other.metrics().await,
        "fplsync_units_expired_total",
        "follower",
    );
    assert!(expired > 0.0, "no expired lease was claimed again");
}

#[actix_rt::test]
async fn a_killed_leaders_picks_run_is_adopted_by_the_next_leader_and_completes() {
    const MANAGERS: u64 = 600;
    let sim = start_sim(MANAGERS as u32, &[]).await;
    assert!(sim.state().jump(Phase::DeadlinePassed, Some(38)));
    let id = unique_id();
    let env = env("3");
    let mut leader = start(&id, &sim, &env).await;
    let follower = start(&id, &sim, &env).await;
    let db = store(&id).await;
    track(&db, MANAGERS).await;
    bootstrapped(&leader, &db).await;

    let run = trigger_picks(&leader).await;
    eventually("a part is stored", Duration::from_secs(30), || async {
        (stored_picks(&db).await >= 100).then_some(())
    })
    .await;
    leader.kill9();

    // The follower takes over; its start-up recovery re-runs the interrupted run, which
    // adopts the work: the units done stay done.
    let rerun: i64 = eventually(
        "the new leader re-runs the run",
        Duration::from_secs(30),
        || async {
            sqlx::query_scalar::<_, i64>("SELECT id FROM job_runs WHERE rerun_of = $1")
                .bind(run)
                .fetch_optional(&db)
                .await
                .unwrap()
        },
    )
    .await;
    eventually("the follower leads", Duration::from_secs(10), || async {
        (follower.role().await == "leader").then_some(())
    })
    .await;
    assert_eq!(
        final_status(&db, rerun, Duration::from_secs(90)).await,
        "succeeded"
    );
    assert_eq!(stored_picks(&db).await, MANAGERS as i64);
    let (_, detail) = follower.get(&format!("/jobs/{rerun}")).await;
    assert_eq!(detail["units"]["state"], "closed", "{detail}");
    // What one instance leases at once: a batch per lane.
    let batch =
        fplsync::jobs::work::claim_size(RATE, 2, MANAGERS, 1) as u64 * fplsync::jobs::work::LANES;
    let requests = picks_requests(&sim);
    assert!(
        (MANAGERS..=MANAGERS + batch).contains(&requests),
        "{requests} requests for {MANAGERS} managers (batch {batch})"
    );
}

#[actix_rt::test]
async fn three_instances_share_a_roster_read_each_standings_page_fetched_once() {
    const MANAGERS: u32 = 10_000;
    let sim = start_sim(MANAGERS, &[]).await;
    let (leader, followers, db) = three(&sim).await;
    sim.state().stats.reset();

    let (status, body) = leader
        .post(
            "/tournaments",
            json!({"name": "Shared roster",
                   "source": {"classic_league": fplsync::sim::leagues::CLASSIC_LEAGUE},
                   "knockout": {"mode": "single", "first_event": 38}}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (tournament, run) = (
        body["id"].as_i64().unwrap(),
        body["run_id"].as_i64().unwrap(),
    );
    assert_eq!(
        final_status(&db, run, Duration::from_secs(60)).await,
        "succeeded"
    );
    let (_, t) = followers[1]
        .get(&format!("/tournaments/{tournament}"))
        .await;
    // The 72 real managers and the synthetic ones, 50 a page.
    let entries = u64::from(MANAGERS) + 72;
    assert_eq!(t["entries"], entries, "{t}");
    assert_eq!(t["roster"]["state"], "ready", "{t}");
    let pages = entries.div_ceil(50);
    assert_eq!(t["roster"]["pages_read"], pages, "{t}");
    // Every page once; past the end, at most the pages the instances looked ahead.
    let ahead = u64::from(fplsync::tournament::roster::lookahead(3));
    let read = eventually("every request counted", Duration::from_secs(5), || async {
        let n = requests(&sim, "leagues-classic");
        (n >= pages).then_some(n)
    })
    .await;
    assert!(
        (pages..=pages + ahead).contains(&read),
        "{read} standings requests for {pages} pages (lookahead {ahead})"
    );
    // Every page done by someone. Past the end, the units are the pages looked ahead: read
    // (or their batch came back after the read was complete, its units left undone), or
    // marked done unread once a stored page had shown where the table ends — so the units
    // done may be more or fewer than the requests, but never more than the lookahead allows.
    let shares = every_instance_did_a_share(&leader, &followers, run).await;
    let done = shares.iter().sum::<i64>() as u64;
    assert!(
        (pages..=pages + ahead).contains(&done),
        "{done} pages done for {pages} pages (lookahead {ahead}), {read} read: {shares:?}"
    );

    let secs = run_secs(&db, run).await;
    let ideal = pages as f64 / (3.0 * f64::from(RATE));
    println!(
        "{pages} pages by 3 instances in {secs:.2} s, ideal {ideal:.2} s: ratio {:.3}; shares \
         {shares:?}; {read} requests",
        secs / ideal
    );
    assert!(
        secs <= 1.3 * ideal,
        "{secs:.1} s for {pages} pages, ideal {ideal:.1} s; shares {shares:?}"
    );
}

#[actix_rt::test]
async fn three_instances_share_a_gameweeks_tournament_results_each_tournament_processed_once() {
    // Enough that every lane of the three instances claims some (a claim takes a quarter of
    // what is left), however the lanes woken together are ordered.
    const TOURNAMENTS: u64 = 12;
    const ENTRIES: u64 = 40;
    let sim = start_sim((TOURNAMENTS * ENTRIES) as u32, &[]).await;
    let (leader, followers, db) = three(&sim).await;
    let season: i32 =
        sqlx::query_scalar("SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    // Tournaments that follow the FPL cup: each reads its entries' cup matches, one request
    // an entry, so each unit is seconds of one instance's budget.
    let mut ids = Vec::new();
    for t in 0..TOURNAMENTS {
        let entries: Vec<u64> = (1..=ENTRIES)
            .map(|i| SYNTHETIC_BASE + t * ENTRIES + i)
            .collect();
        let (status, body) = leader
            .post(
                "/tournaments",
                json!({"name": format!("Cup {t}"), "source": {"entries": entries}, "cup": true,
                       "group_stage": {"mode": "points_race", "groups": 1,
                                       "first_event": 38, "last_event": 38}}),
            )
            .await;
        assert!(status.is_success(), "{body}");
        let id = body["id"].as_i64().unwrap();
        let (status, body) = leader
            .post(&format!("/tournaments/{id}/activate"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        for (k, entry) in entries.iter().enumerate() {
            sqlx::query(
                "INSERT INTO entry_event_results (season_id, event_id, entry_id, points, \
                 transfers_cost, net_points, bench_points, picks) \
                 VALUES ($1, 38, $2, $3, 0, $3, 0, '[]') ON CONFLICT DO NOTHING",
            )
            .bind(season)
            .bind(*entry as i64)
            .bind(40 + k as i32)
            .execute(&db)
            .await
            .unwrap();
        }
        ids.push(id);
    }
    sim.state().stats.reset();

    let (status, body) = leader
        .post("/jobs/tournament-results/trigger", json!({"event": 38}))
        .await;
    assert_eq!(status, 202, "{body}");
    let run = body["run_id"].as_i64().unwrap();
    assert_eq!(
        final_status(&db, run, Duration::from_secs(90)).await,
        "succeeded"
    );
    let processed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tournament_events WHERE event_id = 38 AND tournament_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(processed, TOURNAMENTS as i64);
    // Every entry's cup read once, whichever instance processed its tournament.
    let cups = eventually("every request counted", Duration::from_secs(5), || async {
        let n = requests(&sim, "entry-cup");
        (n >= TOURNAMENTS * ENTRIES).then_some(n)
    })
    .await;
    assert_eq!(cups, TOURNAMENTS * ENTRIES);
    let shares = every_instance_did_a_share(&leader, &followers, run).await;
    assert_eq!(shares.iter().sum::<i64>(), TOURNAMENTS as i64, "{shares:?}");
    // Published by the run, read from any instance; GW38 is the season's last: archived.
    for id in &ids {
        let (status, doc) = followers[0]
            .get(&format!("/tournaments/{id}/standings"))
            .await;
        assert_eq!(status, 200, "{doc}");
        let rows = doc["group_stage"]["groups"][0]["rows"].as_array().unwrap();
        assert_eq!(rows.len() as u64, ENTRIES, "{doc}");
        assert_eq!(rows[0]["points"], 40 + ENTRIES as i64 - 1, "{doc}");
        let (_, t) = followers[0].get(&format!("/tournaments/{id}")).await;
        assert_eq!(t["state"], "archived", "{t}");
    }
}
