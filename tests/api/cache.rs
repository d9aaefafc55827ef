//! The two-tier cache against real Redis and PostgreSQL-backed applications. A small in-test map
//! stands in for the rows a loader would read from PostgreSQL (a loader is a plain function);
//! every test has its own Redis prefix, and the outage test its own private redis-server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fplsync::cache::{
    Cache, CacheKey, Family, LiveDataset, Loaders, MetaDataset, Tier, TournamentDataset,
};
use redis::AsyncCommands;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, spawn_app_using};
use crate::instance::PrivateRedis;

const TEAMS: CacheKey = CacheKey::Meta(MetaDataset::Teams);
const PLAYERS: CacheKey = CacheKey::Meta(MetaDataset::Players);
const EVENTS: CacheKey = CacheKey::Meta(MetaDataset::Events);
const ELEMENTS: CacheKey = CacheKey::Live {
    event: 1,
    dataset: LiveDataset::Elements,
};
const FIXTURES: CacheKey = CacheKey::Live {
    event: 1,
    dataset: LiveDataset::Fixtures,
};

/// Rows "in PostgreSQL" for the test loader, and how often each key was loaded.
#[derive(Clone, Default)]
struct Rows {
    rows: Arc<Mutex<HashMap<CacheKey, Bytes>>>,
    loads: Arc<Mutex<HashMap<CacheKey, usize>>>,
}

impl Rows {
    fn set(&self, key: CacheKey, value: Value) -> Bytes {
        let bytes = Bytes::from(value.to_string());
        self.rows.lock().unwrap().insert(key, bytes.clone());
        bytes
    }

    fn loads(&self, key: CacheKey) -> usize {
        self.loads.lock().unwrap().get(&key).copied().unwrap_or(0)
    }

    /// A loader per family, reading the map.
    fn loaders(&self) -> Loaders {
        let loaders = Loaders::new();
        for family in [Family::Meta, Family::Live, Family::Tournament] {
            let rows = self.clone();
            loaders.register(family, move |key| {
                let rows = rows.clone();
                async move {
                    *rows.loads.lock().unwrap().entry(key).or_default() += 1;
                    Ok(rows.rows.lock().unwrap().get(&key).cloned())
                }
            });
        }
        loaders
    }
}

fn json_of(bytes: &Option<Bytes>) -> Value {
    serde_json::from_slice(bytes.as_ref().expect("a value")).unwrap()
}

/// An application whose cache loads from `rows`; `share_with` gives it another app's Redis
/// prefix, as a second instance of the same deployment would have.
async fn app_with(rows: &Rows, share_with: Option<&TestApp>, warm: &[CacheKey]) -> TestApp {
    let prefix = share_with.map(|a| a.state.settings.redis.prefix.clone());
    let warm: Vec<String> = warm.iter().map(|k| k.to_string()).collect();
    let app = spawn_app_using(
        |s| {
            if let Some(prefix) = prefix {
                s.redis.prefix = prefix;
            }
            s.cache.warm = warm;
        },
        rows.loaders(),
    )
    .await;
    subscribed(&app.state.cache).await;
    app
}

/// Waits until the cache hears other instances (only then does it keep what it reads).
async fn subscribed(cache: &Cache) {
    eventually(
        "the cache is subscribed",
        Duration::from_secs(10),
        || async { cache.status().subscribed.then_some(()) },
    )
    .await;
}

async fn redis(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers")
}

/// The value Redis holds for `key` now, following its scope's revision pointer.
async fn redis_value(
    conn: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    key: CacheKey,
) -> Option<Value> {
    let pointer = format!("{prefix}{}:rev", key.scope());
    let rev: Option<String> = conn.hget(&pointer, key.member()).await.ok()?;
    let bytes: Option<Vec<u8>> = conn
        .get(format!("{}@{}", key.render(prefix), rev?))
        .await
        .ok()?;
    serde_json::from_slice(&bytes?).ok()
}

/// Warning alerts the application has raised.
fn warning_alerts(app: &TestApp) -> u64 {
    app.state
        .metrics
        .get::<fplsync::alerts::AlertMetrics>()
        .emitted
        .with_label_values(&["warning"])
        .get()
}

fn requests(app: &TestApp, class: &str, tier: &str, result: &str) -> u64 {
    app.state
        .metrics
        .get::<fplsync::cache::CacheMetrics>()
        .requests
        .with_label_values(&[class, tier, result])
        .get()
}

#[actix_rt::test]
async fn a_read_misses_local_and_redis_then_loads_and_is_served_by_each_tier_in_turn() {
    let rows = Rows::default();
    let teams = rows.set(TEAMS, json!([{"id": 1, "name": "Arsenal"}]));
    let app = app_with(&rows, None, &[]).await;
    let cache = &app.state.cache;

    let first = cache.fetch(&[TEAMS]).await.unwrap();
    assert_eq!(
        (first.tier, &first.values[0]),
        (Tier::Postgres, &Some(teams.clone()))
    );
    assert_eq!(rows.loads(TEAMS), 1);
    assert_eq!(requests(&app, "historical", "local", "miss"), 1);
    assert_eq!(requests(&app, "historical", "redis", "miss"), 1);
    assert_eq!(requests(&app, "historical", "postgres", "hit"), 1);

    let second = cache.fetch(&[TEAMS]).await.unwrap();
    assert_eq!(
        (second.tier, &second.values[0]),
        (Tier::Local, &Some(teams.clone()))
    );
    assert_eq!(requests(&app, "historical", "local", "hit"), 1);

    cache.clear_local();
    let third = cache.fetch(&[TEAMS]).await.unwrap();
    assert_eq!(
        (third.tier, &third.values[0]),
        (Tier::Redis, &Some(teams.clone()))
    );
    assert_eq!(requests(&app, "historical", "redis", "hit"), 1);
    assert_eq!(cache.fetch(&[TEAMS]).await.unwrap().tier, Tier::Local);

    // A second instance has its own, empty local tier: Redis answers it.
    let other = app_with(&rows, Some(&app), &[]).await;
    let fourth = other.state.cache.fetch(&[TEAMS]).await.unwrap();
    assert_eq!(
        (fourth.tier, &fourth.values[0]),
        (Tier::Redis, &Some(teams))
    );
    assert_eq!(rows.loads(TEAMS), 1, "PostgreSQL was read once in all");

    // A key PostgreSQL has nothing for is None, and nothing is cached for it.
    assert_eq!(cache.get(EVENTS).await.unwrap(), None);
    assert_eq!(cache.fetch(&[EVENTS]).await.unwrap().tier, Tier::Postgres);
}

#[actix_rt::test]
async fn the_configured_keys_are_warmed_into_both_tiers_at_start_up() {
    let rows = Rows::default();
    rows.set(TEAMS, json!(["warm teams"]));
    rows.set(PLAYERS, json!(["warm players"]));
    let app = app_with(&rows, None, &[TEAMS, PLAYERS]).await;
    let prefix = app.state.settings.redis.prefix.clone();
    let mut conn = redis(app.state.settings.redis.url.expose_secret()).await;
    eventually(
        "warm keys are in Redis",
        Duration::from_secs(10),
        || async {
            let mut conn = conn.clone();
            let teams = redis_value(&mut conn, &prefix, TEAMS).await?;
            let players = redis_value(&mut conn, &prefix, PLAYERS).await?;
            Some((teams, players))
        },
    )
    .await;
    let read = app.state.cache.fetch(&[TEAMS, PLAYERS]).await.unwrap();
    assert_eq!(read.tier, Tier::Local);
    assert_eq!(json_of(&read.values[1]), json!(["warm players"]));
    assert_eq!((rows.loads(TEAMS), rows.loads(PLAYERS)), (1, 1));
    // Warming on demand reports what it did.
    rows.set(EVENTS, json!(["events"]));
    let report = app.state.cache.warm(vec![EVENTS, FIXTURES]).await.unwrap();
    assert_eq!((report.cached, report.absent, report.failed), (1, 1, 0));
    assert_eq!(
        app.state.cache.fetch(&[EVENTS]).await.unwrap().tier,
        Tier::Local
    );
    let _: () = conn.del(format!("{prefix}meta:rev")).await.unwrap();
}

#[actix_rt::test]
async fn readers_of_a_dataset_replaced_under_them_see_the_whole_old_or_the_whole_new_revision() {
    let rows = Rows::default();
    let writer = app_with(&rows, None, &[]).await;
    let other = app_with(&rows, Some(&writer), &[]).await;
    let revision = |i: u64| {
        vec![
            (
                ELEMENTS,
                rows.set(ELEMENTS, json!({"rev": i, "part": "elements"})),
            ),
            (
                FIXTURES,
                rows.set(FIXTURES, json!({"rev": i, "part": "fixtures"})),
            ),
        ]
    };
    writer.state.cache.put(revision(0)).await.unwrap();

    const REVISIONS: u64 = 150;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = |cache: Cache, drop_local_every: u64| {
        let done = done.clone();
        actix_rt::spawn(async move {
            let mut reads = 0u64;
            let mut last = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if drop_local_every > 0 && reads.is_multiple_of(drop_local_every) {
                    cache.clear_local();
                }
                let values = cache.get_many(&[ELEMENTS, FIXTURES]).await.unwrap();
                let (e, f) = (json_of(&values[0]), json_of(&values[1]));
                assert_eq!(e["rev"], f["rev"], "half of an update: {e} with {f}");
                assert_eq!(
                    (e["part"].as_str(), f["part"].as_str()),
                    (Some("elements"), Some("fixtures"))
                );
                let rev = e["rev"].as_u64().unwrap();
                assert!(rev >= last, "went back from revision {last} to {rev}");
                last = rev;
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };
    let readers = vec![
        reader(writer.state.cache.clone(), 0),
        reader(writer.state.cache.clone(), 7),
        reader(other.state.cache.clone(), 0),
        reader(other.state.cache.clone(), 5),
    ];
    for i in 1..=REVISIONS {
        writer.state.cache.put(revision(i)).await.unwrap();
        tokio::task::yield_now().await;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.await.expect("reader finished") > 0);
    }
    eventually(
        "the other instance sees the last revision",
        Duration::from_secs(5),
        || async {
            let values = other
                .state
                .cache
                .get_many(&[ELEMENTS, FIXTURES])
                .await
                .unwrap();
            (json_of(&values[0])["rev"] == REVISIONS && json_of(&values[1])["rev"] == REVISIONS)
                .then_some(())
        },
    )
    .await;
}

/// A revision of several megabytes (the 64 score shards of many managers) reaches Redis in
/// more than one pipeline; readers still find all of it, of one revision.
#[actix_rt::test]
async fn a_revision_of_many_megabytes_is_read_back_whole_by_another_instance() {
    let rows = Rows::default();
    let writer = app_with(&rows, None, &[]).await;
    let other = app_with(&rows, Some(&writer), &[]).await;
    let shards: Vec<CacheKey> = (0..LiveDataset::ENTRY_SHARDS)
        .map(|s| CacheKey::Live {
            event: 1,
            dataset: LiveDataset::Entries(s),
        })
        .collect();
    let revision = |rev: u64| {
        shards
            .iter()
            .map(|&key| {
                let filler = "x".repeat(100_000);
                (
                    key,
                    rows.set(
                        key,
                        json!({"rev": rev, "key": key.to_string(), "filler": filler}),
                    ),
                )
            })
            .collect::<Vec<_>>()
    };
    for rev in [1, 2] {
        writer.state.cache.put(revision(rev)).await.unwrap();
        other.state.cache.clear_local();
        let read = other.state.cache.fetch(&shards).await.unwrap();
        assert_eq!(read.tier, Tier::Redis);
        for (key, value) in shards.iter().zip(&read.values) {
            let value = json_of(value);
            assert_eq!(
                (value["rev"].as_u64(), value["key"].as_str()),
                (Some(rev), Some(&*key.to_string()))
            );
        }
    }
    assert!(
        shards.iter().all(|&k| rows.loads(k) == 0),
        "nothing was read from PostgreSQL"
    );
}

#[actix_rt::test]
async fn a_put_through_one_instance_drops_the_other_instances_local_copy() {
    let rows = Rows::default();
    let one = app_with(&rows, None, &[]).await;
    let two = app_with(&rows, Some(&one), &[]).await;
    let old = rows.set(TEAMS, json!(["old"]));
    two.state.cache.get(TEAMS).await.unwrap();
    let cached = two.state.cache.fetch(&[TEAMS]).await.unwrap();
    assert_eq!((cached.tier, &cached.values[0]), (Tier::Local, &Some(old)));

    let new = rows.set(TEAMS, json!(["new"]));
    let written = one
        .state
        .cache
        .put(vec![(TEAMS, new.clone())])
        .await
        .unwrap();
    assert!(written.redis);
    let mine = one.state.cache.fetch(&[TEAMS]).await.unwrap();
    assert_eq!(
        (mine.tier, &mine.values[0]),
        (Tier::Local, &Some(new.clone()))
    );

    let seen = eventually(
        "the other instance reads the new teams",
        Duration::from_secs(5),
        || async {
            let read = two.state.cache.fetch(&[TEAMS]).await.unwrap();
            (read.values[0].as_ref() == Some(&new)).then_some(read)
        },
    )
    .await;
    // It came from Redis (the local copy was dropped, not expired), and PostgreSQL was not read.
    assert_eq!(seen.tier, Tier::Redis);
    assert_eq!(rows.loads(TEAMS), 1);

    // An explicit invalidation empties Redis and the other's local copy too.
    one.state.cache.invalidate(vec![TEAMS]).await.unwrap();
    eventually(
        "the other instance reloads",
        Duration::from_secs(5),
        || async {
            let read = two.state.cache.fetch(&[TEAMS]).await.unwrap();
            (read.tier == Tier::Postgres).then_some(())
        },
    )
    .await;
}

#[actix_rt::test]
async fn reads_keep_answering_while_the_cache_actor_is_restarted() {
    let rows = Rows::default();
    let teams = rows.set(TEAMS, json!(["teams"]));
    let players = rows.set(PLAYERS, json!(["players"]));
    let app = app_with(&rows, None, &[]).await;
    let cache = app.state.cache.clone();
    assert_eq!(cache.get(TEAMS).await.unwrap(), Some(teams.clone()));

    let restart = app.post("/actors/cache/restart", None).await;
    assert_eq!(
        restart.status,
        reqwest::StatusCode::ACCEPTED,
        "{}",
        restart.body
    );
    for _ in 0..50 {
        let values = cache.get_many(&[TEAMS, PLAYERS]).await.unwrap();
        assert_eq!(values, [Some(teams.clone()), Some(players.clone())]);
        tokio::task::yield_now().await;
    }
    subscribed(&cache).await;
    app.eventually("the new incarnation answers", || async {
        (cache
            .put(vec![(EVENTS, Bytes::from("[1]"))])
            .await
            .ok()?
            .redis)
            .then_some(())
    })
    .await;
    assert_eq!(cache.fetch(&[EVENTS]).await.unwrap().tier, Tier::Local);
    assert_eq!(app.actor("cache").await["state"], "running");
}

#[actix_rt::test]
async fn each_class_gets_its_ttl_in_redis_and_every_key_written_starts_with_the_prefix() {
    let rows = Rows::default();
    let app = spawn_app_using(
        |s| {
            s.cache.warm.clear();
            let t = &mut s.cache.ttl_secs;
            (t.live, t.player_values, t.event_status, t.standings) = (111, 222, 333, 444);
            (t.tournament_stats, t.entries, t.historical) = (555, 666, 777);
        },
        rows.loaders(),
    )
    .await;
    let tournament = |dataset| CacheKey::Tournament { id: 9, dataset };
    let expected = [
        (ELEMENTS, 111),
        (PLAYERS, 222),
        (EVENTS, 333),
        (tournament(TournamentDataset::Standings), 444),
        (tournament(TournamentDataset::Results), 555),
        (tournament(TournamentDataset::Entries), 666),
        (TEAMS, 777),
    ];
    let entries = expected
        .iter()
        .map(|(k, _)| (*k, Bytes::from(json!({"key": k.to_string()}).to_string())))
        .collect();
    assert!(app.state.cache.put(entries).await.unwrap().redis);

    let prefix = app.state.settings.redis.prefix.clone();
    let mut conn = redis(app.state.settings.redis.url.expose_secret()).await;
    for (key, ttl) in expected {
        let pointer = format!("{prefix}{}:rev", key.scope());
        let rev: String = conn.hget(&pointer, key.member()).await.unwrap();
        let pttl: i64 = conn
            .pttl(format!("{}@{rev}", key.render(&prefix)))
            .await
            .unwrap();
        assert!(
            (ttl - 5) * 1000 < pttl && pttl <= ttl * 1000,
            "{key}: PTTL {pttl} ms, want about {ttl} s"
        );
        // A revision pointer outlives its longest-lived value.
        let pointer_ttl: i64 = conn.ttl(&pointer).await.unwrap();
        assert!(pointer_ttl > 770, "{pointer}: TTL {pointer_ttl}");
    }

    let mut written: Vec<String> = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("*{}*", app.id))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        written.extend(keys);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert!(written.len() >= expected.len() + 3, "{written:?}");
    assert!(
        written.iter().all(|k| k.starts_with(&prefix)),
        "{written:?}"
    );
    let channels: Vec<String> = redis::cmd("PUBSUB")
        .arg("CHANNELS")
        .arg(format!("*{}*", app.id))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(channels, [format!("{prefix}cache:invalidate")]);
    for key in written {
        let _: () = conn.del(key).await.unwrap();
    }
}

#[actix_rt::test]
async fn with_redis_stopped_reads_answer_puts_succeed_one_alert_is_raised_and_redis_is_rewarmed_on_return()
 {
    let mut server = PrivateRedis::start();
    let mut conn = server.wait_up().await;
    let rows = Rows::default();
    rows.set(TEAMS, json!(["teams"]));
    rows.set(PLAYERS, json!(["players v1"]));
    rows.set(EVENTS, json!(["events"]));
    rows.set(ELEMENTS, json!(["live elements"]));
    let url = server.url();
    let app = spawn_app_using(
        |s| {
            s.redis.url = url.into();
            s.redis.command_timeout_ms = 200;
            s.cache.probe_interval_ms = 200;
            s.cache.warm = vec!["meta:teams".into(), "meta:players".into()];
        },
        rows.loaders(),
    )
    .await;
    let cache = app.state.cache.clone();
    let prefix = app.state.settings.redis.prefix.clone();
    let warnings = || warning_alerts(&app);
    eventually(
        "the warm keys are in Redis",
        Duration::from_secs(10),
        || async {
            let mut conn = conn.clone();
            redis_value(&mut conn, &prefix, PLAYERS).await?;
            redis_value(&mut conn, &prefix, TEAMS).await
        },
    )
    .await;
    assert_eq!(
        json_of(&cache.get(EVENTS).await.unwrap()),
        json!(["events"])
    );
    assert_eq!(warnings(), 0);

    server.stop();
    // Reads: local hits, and a key never read before comes from PostgreSQL.
    for _ in 0..5 {
        let started = tokio::time::Instant::now();
        let values = cache.get_many(&[TEAMS, EVENTS]).await.unwrap();
        assert_eq!(json_of(&values[0]), json!(["teams"]));
        assert_eq!(
            json_of(&cache.get(ELEMENTS).await.unwrap()),
            json!(["live elements"])
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a read hung: {:?}",
            started.elapsed()
        );
    }
    // A job's write succeeds, and is read back.
    let v2 = rows.set(PLAYERS, json!(["players v2"]));
    let written = cache.put(vec![(PLAYERS, v2.clone())]).await.unwrap();
    assert!(!written.redis);
    assert_eq!(cache.get(PLAYERS).await.unwrap(), Some(v2.clone()));
    eventually("the cache is degraded", Duration::from_secs(5), || async {
        cache.status().degraded.then_some(())
    })
    .await;
    assert_eq!(
        app.state
            .metrics
            .get::<fplsync::cache::CacheMetrics>()
            .degraded
            .get(),
        1
    );
    // More failures while degraded: still one alert.
    for i in 0..5 {
        cache
            .put(vec![(ELEMENTS, rows.set(ELEMENTS, json!([i])))])
            .await
            .unwrap();
        cache.get(FIXTURES).await.unwrap();
    }
    assert_eq!(warnings(), 1, "exactly one warning for the outage");

    server.restart();
    server.wait_up().await;
    conn = server.wait_up().await;
    // Nothing is in the new server until the cache rewarms it by itself.
    let rewarmed = eventually("Redis is rewarmed", Duration::from_secs(20), || async {
        let mut conn = conn.clone();
        let players = redis_value(&mut conn, &prefix, PLAYERS).await?;
        let teams = redis_value(&mut conn, &prefix, TEAMS).await?;
        let elements = redis_value(&mut conn, &prefix, ELEMENTS).await?;
        (!cache.status().degraded).then_some((players, teams, elements))
    })
    .await;
    assert_eq!(
        rewarmed,
        (json!(["players v2"]), json!(["teams"]), json!([4]))
    );
    assert_eq!(
        app.state
            .metrics
            .get::<fplsync::cache::CacheMetrics>()
            .degraded
            .get(),
        0
    );
    assert_eq!(warnings(), 1);
    assert!(
        app.state
            .metrics
            .get::<fplsync::alerts::AlertMetrics>()
            .emitted
            .with_label_values(&["info"])
            .get()
            >= 1
    );
    // Reads and writes use Redis again.
    assert!(
        cache
            .put(vec![(TEAMS, rows.set(TEAMS, json!(["teams v2"])))])
            .await
            .unwrap()
            .redis
    );
    cache.clear_local();
    assert_eq!(cache.fetch(&[TEAMS]).await.unwrap().tier, Tier::Redis);
}

#[actix_rt::test]
async fn every_dataset_published_before_an_outage_is_back_in_redis_after_it_not_only_the_warm_ones()
{
    let mut server = PrivateRedis::start();
    let conn = server.wait_up().await;
    let rows = Rows::default();
    let values = CacheKey::Meta(MetaDataset::PlayerValues);
    let standings = CacheKey::Tournament {
        id: 7,
        dataset: TournamentDataset::Standings,
    };
    rows.set(TEAMS, json!(["teams"]));
    let url = server.url();
    let app = spawn_app_using(
        |s| {
            s.redis.url = url.into();
            s.redis.command_timeout_ms = 200;
            s.cache.probe_interval_ms = 200;
            // Neither published dataset is a warm key.
            s.cache.warm = vec!["meta:teams".into()];
        },
        rows.loaders(),
    )
    .await;
    let cache = app.state.cache.clone();
    let prefix = app.state.settings.redis.prefix.clone();
    let published = vec![
        (values, rows.set(values, json!(["prices"]))),
        (standings, rows.set(standings, json!({"leader": 1}))),
    ];
    assert!(cache.put(published).await.unwrap().redis);

    // Redis goes away and comes back empty (it keeps nothing on disk).
    server.stop();
    eventually("the cache is degraded", Duration::from_secs(5), || async {
        cache.status().degraded.then_some(())
    })
    .await;
    server.restart();
    let conn2 = server.wait_up().await;
    drop(conn);
    let back = eventually(
        "the published datasets are back",
        Duration::from_secs(20),
        || async {
            let mut conn = conn2.clone();
            let values = redis_value(&mut conn, &prefix, values).await?;
            let standings = redis_value(&mut conn, &prefix, standings).await?;
            let teams = redis_value(&mut conn, &prefix, TEAMS).await?;
            (!cache.status().degraded).then_some((values, standings, teams))
        },
    )
    .await;
    assert_eq!(
        back,
        (json!(["prices"]), json!({"leader": 1}), json!(["teams"]))
    );
}

#[actix_rt::test]
async fn with_redis_stopped_a_bootstrap_job_succeeds_its_data_is_served_and_redis_is_rewarmed() {
    let mut server = PrivateRedis::start();
    server.wait_up().await;
    let sim = crate::helpers::start_sim(0, &[]).await;
    let (redis_url, fpl_url) = (server.url(), sim.base_url());
    let app = crate::helpers::spawn_app_with(|s| {
        s.redis.url = redis_url.into();
        s.redis.command_timeout_ms = 200;
        s.cache.probe_interval_ms = 200;
        crate::helpers::point_fpl_at(s, fpl_url);
    })
    .await;
    let prefix = app.state.settings.redis.prefix.clone();
    let warnings = || warning_alerts(&app);

    server.stop();
    let run = app.trigger("bootstrap", json!({})).await;
    let run = app.finished_run(run).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let teams = app.get("/data/teams").await;
    assert_eq!(
        teams.body.as_array().map(Vec::len),
        Some(20),
        "{}",
        teams.body
    );
    assert_eq!(app.get("/ready").await.body["redis"], false);
    eventually(
        "the cache reports itself degraded",
        Duration::from_secs(5),
        || async { (warnings() >= 1).then_some(()) },
    )
    .await;

    server.restart();
    let conn = server.wait_up().await;
    eventually(
        "Redis is rewarmed with the synced teams",
        Duration::from_secs(15),
        || async {
            let teams = redis_value(&mut conn.clone(), &prefix, TEAMS).await?;
            (teams.as_array()?.len() == 20).then_some(())
        },
    )
    .await;
    assert_eq!(warnings(), 1, "one warning for the whole outage");
}
