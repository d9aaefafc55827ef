//! The FPL client against the simulator with injected faults: Retry-After honoured, the update
//! page classified, timeouts retried then failed cleanly, the breaker opening and recovering,
//! every page of a league read.

use std::time::{Duration, Instant};

use fplsync::Settings;
use fplsync::fpl::model::{EventId, LeagueId};
use fplsync::fpl::{BreakerState, FplClient, FplError, Priority};
use fplsync::metrics::Metrics;
use fplsync::sim::RunningSim;

use crate::helpers::eventually;

use crate::helpers::start_sim as sim;

/// A client of `sim` with quick retries; `configure` adjusts the FPL settings.
fn client(
    sim: &RunningSim,
    configure: impl FnOnce(&mut fplsync::config::FplSettings),
) -> FplClient {
    let mut settings = Settings::load(None).unwrap().fpl;
    settings.base_url = sim.base_url();
    settings.rate_per_sec = 100;
    settings.backoff_base_ms = 20;
    settings.backoff_cap_ms = 100;
    configure(&mut settings);
    FplClient::new(&settings, &Metrics::new()).unwrap()
}

#[actix_rt::test]
async fn a_429_from_the_simulator_is_waited_out_for_its_retry_after() {
    let sim = sim(0, &["event-status:429=every:2,retry-after=1"]).await;
    let fpl = client(&sim, |_| {});
    fpl.event_status(Priority::Meta).await.unwrap(); // the first of each pair passes
    let started = Instant::now();
    fpl.event_status(Priority::Meta).await.unwrap(); // 429, then the retry passes
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[actix_rt::test]
async fn the_update_page_is_classified_as_fpl_updating() {
    let sim = sim(0, &["bootstrap-static:update=1"]).await;
    let fpl = client(&sim, |s| s.max_retries = 1);
    let err = fpl.bootstrap_static(Priority::Meta).await.unwrap_err();
    assert!(matches!(err, FplError::Updating), "{err:?}");
}

#[actix_rt::test]
async fn a_slow_endpoint_is_retried_then_fails_cleanly_as_a_timeout() {
    let sim = sim(0, &["fixtures:latency=1500"]).await;
    let fpl = client(&sim, |s| {
        s.attempt_timeout_ms = 200;
        s.max_retries = 2;
    });
    let started = Instant::now();
    let err = fpl.fixtures(Priority::Meta).await.unwrap_err();
    assert!(matches!(err, FplError::Timeout), "{err:?}");
    // Three attempts of 200 ms each (the simulator never answers them: they are abandoned).
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[actix_rt::test]
async fn the_breaker_opens_on_failures_and_recovers_when_the_api_does() {
    let sim = sim(0, &["event-live:error=1,status=502"]).await;
    let fpl = client(&sim, |s| {
        s.max_retries = 0;
        s.breaker_min_calls = 4;
        s.breaker_window = 4;
        s.breaker_open_secs = 1;
    });
    for _ in 0..4 {
        let err = fpl
            .event_live(EventId(38), Priority::Live)
            .await
            .unwrap_err();
        // The simulator's 502 is an HTML page, as FPL's edge serves one.
        assert!(
            matches!(err, FplError::Unavailable { status: 502, .. }),
            "{err:?}"
        );
    }
    assert_eq!(fpl.breaker_state(), BreakerState::Open);
    let err = fpl
        .event_live(EventId(38), Priority::Live)
        .await
        .unwrap_err();
    assert!(matches!(err, FplError::CircuitOpen { .. }), "{err:?}");

    sim.state().faults.clear(None);
    eventually(
        "the breaker closes after a good probe",
        Duration::from_secs(5),
        || async {
            let ok = fpl.event_live(EventId(38), Priority::Live).await.is_ok();
            (ok && fpl.breaker_state() == BreakerState::Closed).then_some(())
        },
    )
    .await;
}

#[actix_rt::test]
async fn every_page_of_a_classic_league_is_read() {
    let sim = sim(500, &[]).await;
    let fpl = client(&sim, |_| {});
    let table = fpl
        .classic_standings(LeagueId(1), Priority::Tournament)
        .await
        .unwrap();
    // 72 real managers + 500 synthetic, 50 a page.
    assert_eq!(table.rows.len(), 572);
    assert_eq!(table.pages, 12);
    let mut entries: Vec<_> = table.rows.iter().map(|r| r.entry).collect();
    entries.sort();
    entries.dedup();
    assert_eq!(entries.len(), 572);
}

/// Opens `fpl`'s breaker on event-live 502s from `sim`, lets the API recover, and waits (for
/// the breaker's one-second open period) until a probe may go out.
async fn open_then_half_open(sim: &RunningSim, fpl: &FplClient) {
    for _ in 0..4 {
        let err = fpl
            .event_live(EventId(38), Priority::Live)
            .await
            .unwrap_err();
        // The simulator's 502 is an HTML page, as FPL's edge serves one.
        assert!(
            matches!(err, FplError::Unavailable { status: 502, .. }),
            "{err:?}"
        );
    }
    assert_eq!(fpl.breaker_state(), BreakerState::Open);
    sim.state().faults.clear(None);
    eventually(
        "the breaker is half-open",
        Duration::from_secs(5),
        || async { (fpl.breaker_state() == BreakerState::HalfOpen).then_some(()) },
    )
    .await;
}

fn breaker_client(sim: &RunningSim) -> FplClient {
    client(sim, |s| {
        s.max_retries = 0;
        s.breaker_min_calls = 4;
        s.breaker_window = 4;
        s.breaker_open_secs = 1;
    })
}

#[actix_rt::test]
async fn two_joined_calls_after_an_outage_share_the_probe_and_both_succeed() {
    // The `live` job fetches event-live and fixtures together with `try_join!`: one takes the
    // half-open probe, the other must wait for it rather than fail and drop the probe unsent.
    let sim = sim(0, &["event-live:error=1,status=502"]).await;
    let fpl = breaker_client(&sim);
    open_then_half_open(&sim, &fpl).await;
    // FPL answers, slowly enough that the fixtures call is admitted while the probe is out.
    sim.state()
        .faults
        .set("event-live:latency=200".parse().unwrap());
    for _ in 0..3 {
        let (_live, fixtures) = tokio::try_join!(
            fpl.event_live(EventId(38), Priority::Live),
            fpl.event_fixtures(EventId(38), Priority::Live),
        )
        .expect("both calls succeed once FPL is back");
        assert!(!fixtures.is_empty());
        assert_eq!(fpl.breaker_state(), BreakerState::Closed);
    }
}

#[actix_rt::test]
async fn a_probe_whose_caller_gives_up_is_still_sent_and_closes_the_breaker() {
    let sim = sim(0, &["event-live:error=1,status=502"]).await;
    let fpl = breaker_client(&sim);
    open_then_half_open(&sim, &fpl).await;
    sim.state()
        .faults
        .set("event-live:latency=300".parse().unwrap());
    // The caller is dropped while its probe waits for the (slow) answer.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        fpl.event_live(EventId(38), Priority::Live),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up first");
    // Nobody calls again: the probe alone must close the breaker.
    eventually(
        "the abandoned probe closes the breaker",
        Duration::from_secs(5),
        || async { (fpl.breaker_state() == BreakerState::Closed).then_some(()) },
    )
    .await;
}
