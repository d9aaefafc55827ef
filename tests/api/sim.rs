//! The FPL simulator (`fplsync sim`), in-process on a random port: every endpoint decodes into
//! its model in every phase, the real snapshots are served as captured, scores are consistent
//! with the live data, squads are valid, pagination is complete, faults behave as configured.
//! The clock is frozen (speed 0) and moved with the control API: no test sleeps.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use fplsync::fpl::model::*;
use fplsync::fpl::samples::{self, gw38};
use fplsync::sim::{Phase, RunningSim, Scenario, SimConfig, Simulator};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

struct TestSim {
    sim: RunningSim,
    client: reqwest::Client,
}

/// A simulator with 200 synthetic managers, its clock stopped at the start of the scenario.
async fn spawn_sim(configure: impl FnOnce(&mut SimConfig)) -> TestSim {
    let mut config = SimConfig {
        bind: "127.0.0.1:0".into(),
        speed: 0.0,
        entries: 200,
        workers: 1,
        ..SimConfig::default()
    };
    configure(&mut config);
    let sim = Simulator::start(config)
        .await
        .expect("the simulator starts");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    TestSim { sim, client }
}

struct Answer {
    status: StatusCode,
    content_type: String,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

impl TestSim {
    /// GETs an FPL path (below `/api/`).
    async fn get(&self, path: &str) -> Answer {
        let resp = self
            .client
            .get(format!("{}{path}", self.sim.base_url()))
            .send()
            .await
            .expect("GET sent");
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        Answer {
            status: resp.status(),
            content_type: header("content-type").unwrap_or_default(),
            retry_after: header("retry-after"),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    }

    /// GETs an FPL path that must answer 200 and decode as `T`.
    async fn fetch<T: DeserializeOwned>(&self, path: &str) -> T {
        let a = self.get(path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        a.json()
            .unwrap_or_else(|e| panic!("{path} does not decode: {e}"))
    }

    /// Calls a control route and returns (status, JSON body).
    async fn control(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.sim.address());
        let req = match method {
            "GET" => self.client.get(url),
            "POST" => self.client.post(url),
            "DELETE" => self.client.delete(url),
            other => panic!("method {other}"),
        };
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let resp = req.send().await.expect("control request sent");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn phase(&self, phase: Phase, event: Option<u16>) {
        let (status, state) = self
            .control(
                "POST",
                "/sim/phase",
                Some(json!({"phase": phase.name(), "event": event})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{state}");
        assert_eq!(state["phase"], phase.name());
    }
}

fn sample<T: DeserializeOwned>(name: &str) -> T {
    samples::decode(name).unwrap_or_else(|e| panic!("{e}"))
}

fn real_ids() -> Vec<u64> {
    let picks: BTreeMap<EntryId, PicksResponse> = sample(gw38::LEAGUE_PICKS);
    picks.keys().map(|k| k.0).collect()
}

const SYNTHETIC: u64 = 20_000_000;

fn event(b: &BootstrapStatic, id: u16) -> &fplsync::fpl::model::Event {
    b.events.iter().find(|e| e.id == EventId(id)).unwrap()
}

/// Σ total_points × multiplier of `picks` against `live`.
fn picks_points(picks: &PicksResponse, live: &EventLive) -> i32 {
    let points: HashMap<ElementId, i32> = live
        .elements
        .iter()
        .map(|e| (e.id, e.stats.total_points))
        .collect();
    picks
        .picks
        .iter()
        .map(|p| points.get(&p.element).copied().unwrap_or(0) * i32::from(p.multiplier))
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Phases and payloads
// ---------------------------------------------------------------------------------------------

#[actix_rt::test]
async fn every_endpoint_decodes_into_its_model_in_every_phase_of_gameweek_38() {
    let sim = spawn_sim(|_| {}).await;
    let real = real_ids()[0];
    let synthetic = SYNTHETIC + 7;
    for phase in Phase::ALL {
        sim.phase(phase, Some(38)).await;
        if phase.is_updating() {
            continue;
        }
        let b: BootstrapStatic = sim.fetch("bootstrap-static/").await;
        let (gw37, gw38) = (event(&b, 37), event(&b, 38));
        if phase == Phase::PreDeadline {
            assert!(gw38.is_next && !gw38.is_current && !gw38.finished);
            assert!(gw37.is_current && gw37.finished && gw37.data_checked);
            assert!(gw38.deadline_time > sim_time(&sim).await);
            assert_eq!((gw38.average_entry_score, gw38.highest_score), (0, None));
        } else {
            assert!(gw38.is_current && gw37.is_previous);
            assert_eq!(
                gw38.finished,
                matches!(phase, Phase::Finished | Phase::Final),
                "{phase:?}"
            );
            assert_eq!(gw38.data_checked, phase == Phase::Final);
        }
        let _: Fixtures = sim.fetch("fixtures/").await;
        let of_38: Fixtures = sim.fetch("fixtures/?event=38").await;
        assert_eq!(of_38.len(), 10);
        assert_eq!(
            of_38.iter().filter(|f| !f.finished).count(),
            match phase {
                Phase::Finished | Phase::Final => 0,
                Phase::FlagFlip => 1,
                _ => 10,
            },
            "{phase:?}"
        );
        let live: EventLive = sim.fetch("event/38/live/").await;
        assert_eq!(live.elements.is_empty(), phase == Phase::PreDeadline);
        let status: EventStatus = sim.fetch("event-status/").await;
        assert!(!status.status.is_empty());
        for id in [real, synthetic] {
            let entry: Entry = sim.fetch(&format!("entry/{id}/")).await;
            assert_eq!(entry.id, EntryId(id));
            let history: EntryHistory = sim.fetch(&format!("entry/{id}/history/")).await;
            let last = history.current.last().unwrap();
            assert_eq!(Some(last.total_points), entry.summary_overall_points);
            let _: Transfers = sim.fetch(&format!("entry/{id}/transfers/")).await;
            let _: EntryCup = sim.fetch(&format!("entry/{id}/cup/")).await;
            let picks = sim.get(&format!("entry/{id}/event/38/picks/")).await;
            if phase.deadline_passed() {
                let picks: PicksResponse = picks.json().unwrap();
                assert_eq!(picks.picks.len(), 15);
            } else {
                assert_eq!(picks.status, StatusCode::NOT_FOUND);
            }
        }
        let _: ClassicStandings = sim
            .fetch("leagues-classic/1/standings/?page_standings=2")
            .await;
        let _: H2hStandings = sim.fetch("leagues-h2h/2/standings/?page_standings=1").await;
        let _: H2hMatches = sim.fetch("leagues-h2h-matches/league/2/?page=1").await;
        let summary: ElementSummary = sim.fetch("element-summary/430/").await;
        assert_eq!(
            summary.history.len(),
            usize::from(phase >= Phase::InPlay),
            "{phase:?}"
        );
    }
    sim.sim.stop().await;
}

async fn sim_time(sim: &TestSim) -> chrono::DateTime<chrono::Utc> {
    let (_, state) = sim.control("GET", "/sim/state", None).await;
    state["sim_time"].as_str().unwrap().parse().unwrap()
}

#[actix_rt::test]
async fn in_play_provisional_and_final_payloads_equal_the_real_snapshots() {
    let sim = spawn_sim(|_| {}).await;
    for (phase, live, fixtures) in [
        (Phase::InPlay, gw38::LIVE_IN_PLAY, gw38::FIXTURES_IN_PLAY),
        (
            Phase::Provisional,
            gw38::LIVE_PROVISIONAL,
            gw38::FIXTURES_PROVISIONAL,
        ),
        (Phase::Final, gw38::LIVE_FINAL, gw38::FIXTURES_FINAL),
    ] {
        sim.phase(phase, None).await;
        let served: EventLive = sim.fetch("event/38/live/").await;
        assert_eq!(served, sample::<EventLive>(live), "{phase:?}");
        let served: Fixtures = sim.fetch("fixtures/").await;
        assert_eq!(served, sample::<Fixtures>(fixtures), "{phase:?}");
    }
    let served: BootstrapStatic = sim.fetch("bootstrap-static/").await;
    assert_eq!(served, sample::<BootstrapStatic>(gw38::BOOTSTRAP));
    let all: BTreeMap<EntryId, PicksResponse> = sample(gw38::LEAGUE_PICKS);
    let (id, real) = all.iter().next().unwrap();
    let served: PicksResponse = sim.fetch(&format!("entry/{id}/event/38/picks/")).await;
    assert_eq!(&served, real);
    sim.sim.stop().await;
}

#[actix_rt::test]
async fn picks_are_404_before_the_deadline_and_updating_phases_answer_the_503_html_page() {
    let sim = spawn_sim(|_| {}).await;
    let real = real_ids()[3];
    for id in [real, SYNTHETIC + 1] {
        let a = sim.get(&format!("entry/{id}/event/38/picks/")).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!(a.json::<Value>().unwrap(), json!({"detail": "Not found."}));
    }
    for phase in [Phase::UpdatingDeadline, Phase::UpdatingFinal] {
        sim.phase(phase, None).await;
        for path in [
            "bootstrap-static/",
            "event/38/live/",
            "entry/1/",
            "fixtures/",
        ] {
            let a = sim.get(path).await;
            assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(
                a.content_type.starts_with("text/html"),
                "{}",
                a.content_type
            );
            let html = String::from_utf8(a.body).unwrap();
            assert!(html.contains("The game is being updated."));
        }
    }
    // Unknown ids and paths answer FPL's 404.
    sim.phase(Phase::Final, None).await;
    for path in [
        "entry/12345/",
        "entry/99999999/history/",
        "event/39/live/",
        "element-summary/99999/",
        "leagues-classic/7/standings/",
        "no-such-endpoint/",
    ] {
        let a = sim.get(path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.json::<Value>().unwrap(), json!({"detail": "Not found."}));
    }
    sim.sim.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Managers
// ---------------------------------------------------------------------------------------------

#[actix_rt::test]
async fn every_real_manager_scores_the_final_live_points_times_multipliers() {
    let sim = spawn_sim(|c| c.entries = 10).await;
    let real: BTreeMap<EntryId, PicksResponse> = sample(gw38::LEAGUE_PICKS);
    for phase in [Phase::InPlay, Phase::Finished, Phase::Final] {
        sim.phase(phase, None).await;
        let live: EventLive = sim.fetch("event/38/live/").await;
        for (id, original) in &real {
            let picks: PicksResponse = sim.fetch(&format!("entry/{id}/event/38/picks/")).await;
            assert_eq!(
                picks_points(&picks, &live),
                picks.entry_history.points,
                "entry {id} in {phase:?}"
            );
            if phase >= Phase::Finished {
                assert_eq!(picks.entry_history.points, original.entry_history.points);
            }
            if phase == Phase::Final {
                let history: EntryHistory = sim.fetch(&format!("entry/{id}/history/")).await;
                assert_eq!(history.current.last(), Some(&original.entry_history));
            }
        }
    }
    sim.sim.stop().await;
}

#[actix_rt::test]
async fn synthetic_managers_points_match_the_live_data_in_every_phase() {
    let sim = spawn_sim(|c| c.entries = 60).await;
    for phase in [
        Phase::DeadlinePassed,
        Phase::InPlay,
        Phase::Provisional,
        Phase::FlagFlip,
        Phase::Final,
    ] {
        sim.phase(phase, None).await;
        let live: EventLive = sim.fetch("event/38/live/").await;
        for id in SYNTHETIC + 1..=SYNTHETIC + 60 {
            let picks: PicksResponse = sim.fetch(&format!("entry/{id}/event/38/picks/")).await;
            assert_eq!(
                picks_points(&picks, &live),
                picks.entry_history.points,
                "entry {id} in {phase:?}"
            );
            assert!(
                picks.automatic_subs.is_empty() || phase >= Phase::Finished,
                "substitutions only once the gameweek is over"
            );
        }
    }
    sim.sim.stop().await;
}

/// Checks one synthetic squad against the rules; returns its element ids by position.
fn check_squad(picks: &PicksResponse, players: &HashMap<ElementId, (u8, TeamId)>) -> Vec<u32> {
    let mut by_type = [0; 5];
    let mut by_club: HashMap<TeamId, u32> = HashMap::new();
    let mut xi = [0; 5];
    let mut sorted = picks.picks.clone();
    sorted.sort_by_key(|p| p.position);
    assert_eq!(
        sorted.iter().map(|p| p.position).collect::<Vec<_>>(),
        (1..=15).collect::<Vec<u8>>()
    );
    for p in &sorted {
        let (et, team) = players[&p.element];
        by_type[usize::from(et)] += 1;
        *by_club.entry(team).or_default() += 1;
        if p.position <= 11 {
            xi[usize::from(et)] += 1;
        }
    }
    assert_eq!(&by_type[1..], &[2, 5, 5, 3], "composition");
    assert!(by_club.values().all(|&n| n <= 3), "at most 3 a club");
    assert_eq!(xi[1], 1, "one goalkeeper");
    assert!((3..=5).contains(&xi[2]) && (2..=5).contains(&xi[3]) && (1..=3).contains(&xi[4]));
    assert_eq!(players[&sorted[11].element].0, 1, "sub goalkeeper at 12");
    assert_eq!(sorted.iter().filter(|p| p.is_captain).count(), 1);
    assert_eq!(sorted.iter().filter(|p| p.is_vice_captain).count(), 1);
    let captain = sorted.iter().find(|p| p.is_captain).unwrap();
    assert!(captain.position <= 11 && !captain.is_vice_captain);
    assert!([0, 4, 8].contains(&picks.entry_history.event_transfers_cost));
    sorted.iter().map(|p| p.element.0).collect()
}

#[actix_rt::test]
async fn synthetic_squads_are_valid_deterministic_per_seed_and_different_across_seeds() {
    let a = spawn_sim(|c| c.entries = 80).await;
    let b = spawn_sim(|c| c.entries = 80).await;
    let c = spawn_sim(|c| {
        c.entries = 80;
        c.seed = 2;
    })
    .await;
    let boot: BootstrapStatic = a.fetch("bootstrap-static/").await;
    let players: HashMap<ElementId, (u8, TeamId)> = boot
        .elements
        .iter()
        .map(|e| (e.id, (e.element_type.0, e.team)))
        .collect();
    let mut chips = HashSet::new();
    let mut different = 0;
    for sim in [&a, &b, &c] {
        sim.phase(Phase::DeadlinePassed, None).await;
    }
    for id in SYNTHETIC + 1..=SYNTHETIC + 80 {
        let path = format!("entry/{id}/event/38/picks/");
        let pa: PicksResponse = a.fetch(&path).await;
        let pb: PicksResponse = b.fetch(&path).await;
        let pc: PicksResponse = c.fetch(&path).await;
        let squad = check_squad(&pa, &players);
        check_squad(&pc, &players);
        assert_eq!(pa, pb, "same seed, same picks");
        different += usize::from(check_squad(&pc, &players) != squad);
        chips.extend(pa.active_chip.clone());
    }
    assert!(
        different >= 78,
        "another seed gives other squads ({different} of 80)"
    );
    assert!(!chips.is_empty(), "some managers play a chip");
    for sim in [a, b, c] {
        sim.sim.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Leagues
// ---------------------------------------------------------------------------------------------

#[actix_rt::test]
async fn classic_and_h2h_pages_return_every_manager_exactly_once() {
    let sim = spawn_sim(|c| c.entries = 500).await;
    sim.phase(Phase::Final, None).await;
    let mut seen = HashSet::new();
    let mut last_total = i32::MAX;
    let mut page = 1;
    loop {
        let s: ClassicStandings = sim
            .fetch(&format!(
                "leagues-classic/1/standings/?page_standings={page}"
            ))
            .await;
        assert_eq!(s.standings.page, page);
        assert!(s.standings.results.len() <= 50);
        let new_entries = s.new_entries.expect("a new_entries section");
        assert!(new_entries.results.is_empty() && !new_entries.has_next);
        for row in &s.standings.results {
            assert!(seen.insert(row.entry), "{:?} twice", row.entry);
            assert!(row.total <= last_total, "ranked by total");
            last_total = row.total;
        }
        if !s.standings.has_next {
            assert!(!s.standings.results.is_empty());
            break;
        }
        assert_eq!(s.standings.results.len(), 50);
        page += 1;
    }
    assert_eq!(seen.len(), 572);
    assert_eq!(page, 12);
    // The leader's total is his entry's.
    let first: ClassicStandings = sim.fetch("leagues-classic/1/standings/").await;
    let leader = &first.standings.results[0];
    assert_eq!(leader.rank, 1);
    let entry: Entry = sim.fetch(&format!("entry/{}/", leader.entry)).await;
    assert_eq!(entry.summary_overall_points, Some(leader.total));
    // H2H: the table lists everyone once; gameweek 38's matches pair everyone once.
    let mut h2h = HashSet::new();
    for page in 1.. {
        let s: H2hStandings = sim
            .fetch(&format!("leagues-h2h/2/standings/?page_standings={page}"))
            .await;
        for row in &s.standings.results {
            assert!(h2h.insert(row.entry));
            assert_eq!(row.matches_played, Some(1));
        }
        if !s.standings.has_next {
            break;
        }
    }
    assert_eq!(h2h.len(), 572);
    let mut paired = HashSet::new();
    for page in 1.. {
        let m: H2hMatches = sim
            .fetch(&format!(
                "leagues-h2h-matches/league/2/?page={page}&event=38"
            ))
            .await;
        for x in &m.results {
            for e in [x.entry_1_entry, x.entry_2_entry].into_iter().flatten() {
                assert!(paired.insert(e), "{e:?} plays twice");
            }
        }
        if !m.has_next {
            break;
        }
    }
    assert_eq!(paired.len(), 572);
    sim.sim.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Faults and statistics
// ---------------------------------------------------------------------------------------------

async fn add_fault(sim: &TestSim, fault: Value) {
    let (status, body) = sim.control("POST", "/sim/faults", Some(fault)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[actix_rt::test]
async fn added_latency_is_measurable() {
    let sim = spawn_sim(|_| {}).await;
    let start = Instant::now();
    sim.get("event-status/").await;
    let plain = start.elapsed();
    add_fault(&sim, json!({"endpoint": "event-status", "latency_ms": 400})).await;
    let start = Instant::now();
    let a = sim.get("event-status/").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert!(plain < Duration::from_millis(400), "{plain:?}");
    sim.sim.stop().await;
}

#[actix_rt::test]
async fn every_nth_request_gets_429_with_retry_after() {
    let sim =
        spawn_sim(|c| c.faults = vec!["fixtures:429=every:3,retry-after=7".parse().unwrap()]).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let a = sim.get("fixtures/?event=38").await;
        if a.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(a.retry_after.as_deref(), Some("7"));
        }
        statuses.push(a.status.as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 429, 200, 200, 429]);
    // Other endpoints are untouched.
    assert_eq!(sim.get("event-status/").await.status, StatusCode::OK);
    sim.sim.stop().await;
}

#[actix_rt::test]
async fn truncated_json_fails_to_decode_and_a_removed_field_is_absent() {
    let sim = spawn_sim(|_| {}).await;
    sim.phase(Phase::Final, None).await;
    add_fault(&sim, json!({"spec": "fixtures:truncate"})).await;
    let a = sim.get("fixtures/?event=38").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json::<Fixtures>().is_err());
    add_fault(
        &sim,
        json!({"endpoint": "event-live", "drop_field": "total_points"}),
    )
    .await;
    let a = sim.get("event/38/live/").await;
    let v: Value = a.json().unwrap();
    let rows = v["elements"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["stats"].get("total_points").is_none())
    );
    assert!(a.json::<EventLive>().is_err());
    add_fault(
        &sim,
        json!({"endpoint": "entry-picks", "drop_field": "entry_history"}),
    )
    .await;
    let v: Value = sim
        .get(&format!("entry/{}/event/38/picks/", SYNTHETIC + 3))
        .await
        .json()
        .unwrap();
    assert!(v.get("entry_history").is_none() && v.get("picks").is_some());
    // Clearing the faults restores the answers.
    let (status, body) = sim.control("DELETE", "/sim/faults", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"faults": []})));
    let _: Fixtures = sim.fetch("fixtures/?event=38").await;
    sim.sim.stop().await;
}

#[actix_rt::test]
async fn error_and_update_page_faults_answer_as_configured_and_stats_count_them() {
    let sim = spawn_sim(|_| {}).await;
    add_fault(&sim, json!({"spec": "bootstrap-static:error=1,status=502"})).await;
    add_fault(&sim, json!({"spec": "*:update=1"})).await;
    let a = sim.get("bootstrap-static/").await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    for _ in 0..2 {
        let a = sim.get("event-status/").await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(a.content_type.starts_with("text/html"));
    }
    let (_, stats) = sim.control("GET", "/sim/stats", None).await;
    assert_eq!(stats["endpoints"]["bootstrap-static"]["502"], 1);
    assert_eq!(stats["endpoints"]["event-status"]["503"], 2);
    assert_eq!(stats["total"], 3);
    let (status, _) = sim.control("DELETE", "/sim/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, stats) = sim.control("GET", "/sim/stats", None).await;
    assert_eq!(stats["total"], 0);
    // Bad faults are refused with a stable code.
    for bad in [
        json!({"spec": "nowhere:latency=1"}),
        json!({"endpoint": "fixtures", "error_rate": 3}),
    ] {
        let (status, body) = sim.control("POST", "/sim/faults", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_fault");
    }
    sim.sim.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Clock and control API
// ---------------------------------------------------------------------------------------------

#[actix_rt::test]
async fn the_clock_moves_through_the_phases_with_advance_and_speed() {
    let sim = spawn_sim(|_| {}).await;
    let (_, state) = sim.control("GET", "/sim/state", None).await;
    assert_eq!(
        (state["phase"].as_str(), state["event"].as_u64()),
        (Some("PRE_DEADLINE"), Some(38))
    );
    let mut phases = vec![state["phase"].as_str().unwrap().to_string()];
    for _ in 0..8 {
        let (_, state) = sim.control("GET", "/sim/state", None).await;
        let next: chrono::DateTime<chrono::Utc> =
            state["next"]["at"].as_str().unwrap().parse().unwrap();
        let now: chrono::DateTime<chrono::Utc> =
            state["sim_time"].as_str().unwrap().parse().unwrap();
        let seconds = (next - now).num_seconds();
        let (_, state) = sim
            .control("POST", "/sim/advance", Some(json!({"seconds": seconds})))
            .await;
        phases.push(state["phase"].as_str().unwrap().to_string());
    }
    let expected: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(phases, expected);
    // A speed makes simulated time run (1 real ms is 3 simulated minutes here).
    let (_, before) = sim
        .control("POST", "/sim/speed", Some(json!({"speed": 180_000})))
        .await;
    assert_eq!(before["speed"], 180_000.0);
    let t0 = sim_time(&sim).await;
    let (_, state) = sim
        .control("POST", "/sim/speed", Some(json!({"speed": 0})))
        .await;
    assert!(sim_time(&sim).await > t0);
    assert_eq!(state["phase"], "FINAL");
    // Bad input gets a stable code.
    let (status, body) = sim
        .control("POST", "/sim/phase", Some(json!({"phase": "HALF_TIME"})))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_phase"))
    );
    let (status, body) = sim
        .control(
            "POST",
            "/sim/phase",
            Some(json!({"phase": "FINAL", "event": 30})),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_such_step"))
    );
    let (status, body) = sim
        .control("POST", "/sim/speed", Some(json!({"speed": -1})))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_speed"))
    );
    let (status, body) = sim
        .control("POST", "/sim/advance", Some(json!({"secs": 1})))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    sim.sim.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Season scenario
// ---------------------------------------------------------------------------------------------

#[actix_rt::test]
async fn the_season_scenario_serves_gameweeks_30_to_38_with_consistent_history_totals() {
    let sim = spawn_sim(|c| {
        c.scenario = Scenario::Season;
        c.entries = 40;
    })
    .await;
    let (_, state) = sim.control("GET", "/sim/state", None).await;
    assert_eq!(
        (state["scenario"].as_str(), state["event"].as_u64()),
        (Some("season"), Some(30))
    );
    let real = real_ids()[5];
    let ids = [real, SYNTHETIC + 1, SYNTHETIC + 2, SYNTHETIC + 40];
    let mut chips = 0;
    let mut costs = 0;
    for gw in 30..=38u16 {
        sim.phase(Phase::InPlay, Some(gw)).await;
        let live: EventLive = sim.fetch(&format!("event/{gw}/live/")).await;
        assert!(
            live.elements.iter().any(|e| e.stats.stats.minutes > 0),
            "gw {gw} in play"
        );
        let fixtures: Fixtures = sim.fetch(&format!("fixtures/?event={gw}")).await;
        assert!(
            fixtures
                .iter()
                .all(|f| f.started == Some(true) && !f.finished)
        );
        sim.phase(Phase::Final, Some(gw)).await;
        let b: BootstrapStatic = sim.fetch("bootstrap-static/").await;
        let this = event(&b, gw);
        assert!(
            this.is_current && this.finished && this.data_checked,
            "gw {gw}"
        );
        if gw < 38 {
            assert!(event(&b, gw + 1).is_next && !event(&b, gw + 1).finished);
        }
        let live: EventLive = sim.fetch(&format!("event/{gw}/live/")).await;
        let fixtures: Fixtures = sim.fetch(&format!("fixtures/?event={gw}")).await;
        assert!(fixtures.iter().all(|f| f.finished));
        // Bonus 3/2/1 (ties aside) per fixture, consistent with the live data.
        for f in &fixtures {
            let bonus: i32 = f.stat("bonus").map_or(0, |s| s.values().map(|v| v.1).sum());
            assert!(bonus >= 6, "fixture {} bonus {bonus}", f.id);
        }
        for &id in &ids {
            let history: EntryHistory = sim.fetch(&format!("entry/{id}/history/")).await;
            let events: Vec<u16> = history.current.iter().map(|h| h.event.0).collect();
            assert_eq!(events, (1..=gw).collect::<Vec<_>>(), "entry {id}");
            let mut total = 0;
            for h in &history.current {
                total += h.points - h.event_transfers_cost;
                assert_eq!(h.total_points, total, "entry {id} gw {}", h.event);
            }
            let picks: PicksResponse = sim.fetch(&format!("entry/{id}/event/{gw}/picks/")).await;
            assert_eq!(picks_points(&picks, &live), picks.entry_history.points);
            assert_eq!(&picks.entry_history, history.current.last().unwrap());
            chips += usize::from(picks.active_chip.is_some());
            costs += picks.entry_history.event_transfers_cost;
            let entry: Entry = sim.fetch(&format!("entry/{id}/")).await;
            assert_eq!(entry.summary_overall_points, Some(total));
        }
    }
    // Earlier gameweeks stay served; the real managers end on their real season total.
    let _: EventLive = sim.fetch("event/33/live/").await;
    let all: BTreeMap<EntryId, PicksResponse> = sample(gw38::LEAGUE_PICKS);
    let history: EntryHistory = sim.fetch(&format!("entry/{real}/history/")).await;
    assert_eq!(
        history.current.last().unwrap().total_points,
        all[&EntryId(real)].entry_history.total_points
    );
    let transfers: Transfers = sim
        .fetch(&format!("entry/{}/transfers/", SYNTHETIC + 1))
        .await;
    assert!(transfers.iter().all(|t| (30..=38).contains(&t.event.0)));
    assert!(
        costs > 0 || chips > 0,
        "transfers and chips happen over the season"
    );
    sim.sim.stop().await;
}

#[actix_rt::test]
async fn a_postponed_fixture_leaves_its_gameweek_unscheduled_and_returns_in_a_double_gameweek() {
    let sim = spawn_sim(|c| {
        c.scenario = Scenario::Season;
        c.entries = 0;
    })
    .await;
    let fixture = |all: &Fixtures| all.iter().find(|f| f.id.0 == 307).cloned().unwrap();
    let teams = |f: &Fixtures| -> HashMap<u16, usize> {
        let mut n = HashMap::new();
        for x in f {
            *n.entry(x.team_h.0).or_default() += 1;
            *n.entry(x.team_a.0).or_default() += 1;
        }
        n
    };
    // Scheduled in gameweek 31 at first.
    sim.phase(Phase::Final, Some(30)).await;
    let all: Fixtures = sim.fetch("fixtures/").await;
    let f = fixture(&all);
    assert_eq!(f.event, Some(EventId(31)));
    assert!(f.kickoff_time.is_some() && f.started == Some(false));
    let gw31: Fixtures = sim.fetch("fixtures/?event=31").await;
    assert_eq!(gw31.len(), 9);
    // Postponed: no gameweek, no kick-off; gameweek 31 is a blank for its two teams.
    for gw in [31, 33, 34] {
        sim.phase(Phase::InPlay, Some(gw)).await;
        let f = fixture(&sim.fetch("fixtures/").await);
        assert_eq!(
            (f.event, f.kickoff_time, f.started),
            (None, None, None),
            "GW{gw}"
        );
        assert!(!f.finished && f.stats.is_empty());
    }
    sim.phase(Phase::InPlay, Some(31)).await;
    let gw31: Fixtures = sim.fetch("fixtures/?event=31").await;
    assert_eq!(teams(&gw31).len(), 16, "four teams without a match");
    let live: EventLive = sim.fetch("event/31/live/").await;
    let (h, a) = (f.team_h, f.team_a);
    let bootstrap: BootstrapStatic = sim.fetch("bootstrap-static/").await;
    let team_of: HashMap<ElementId, TeamId> =
        bootstrap.elements.iter().map(|e| (e.id, e.team)).collect();
    for e in &live.elements {
        if [h, a].contains(&team_of[&e.id]) {
            assert!(
                e.explain.is_empty() && e.stats.stats.minutes == 0,
                "{}",
                e.id
            );
        }
    }
    // Rescheduled into gameweek 36: its teams play twice there.
    sim.phase(Phase::PreDeadline, Some(35)).await;
    let f = fixture(&sim.fetch("fixtures/").await);
    assert_eq!(f.event, Some(EventId(36)));
    assert!(f.kickoff_time.is_some());
    sim.phase(Phase::Final, Some(36)).await;
    let gw36: Fixtures = sim.fetch("fixtures/?event=36").await;
    let n = teams(&gw36);
    assert_eq!((n[&h.0], n[&a.0]), (2, 2));
    let live: EventLive = sim.fetch("event/36/live/").await;
    let mut doubles = 0;
    for e in &live.elements {
        if [h, a].contains(&team_of[&e.id]) {
            assert_eq!(e.explain.len(), 2, "{}", e.id);
            let minutes: i32 = e
                .explain
                .iter()
                .flat_map(|x| &x.stats)
                .filter(|s| s.identifier == "minutes")
                .map(|s| s.value)
                .sum();
            assert_eq!(
                minutes as u32, e.stats.stats.minutes,
                "stats summed: {}",
                e.id
            );
            let points: i32 = e
                .explain
                .iter()
                .flat_map(|x| &x.stats)
                .map(|s| s.points)
                .sum();
            assert_eq!(points, e.stats.total_points);
            doubles += usize::from(e.explain.iter().all(|x| !x.stats.is_empty()));
        }
    }
    assert!(doubles > 0);
    sim.sim.stop().await;
}

#[actix_rt::test]
async fn the_rollover_scenario_serves_gw38_final_then_the_next_seasons_pre_season_then_its_gw1_deadline()
 {
    let sim = spawn_sim(|c| {
        c.scenario = Scenario::Rollover;
        c.entries = 60;
    })
    .await;
    let (_, state) = sim.control("GET", "/sim/state", None).await;
    assert_eq!(
        (state["scenario"].as_str(), state["season"].as_str()),
        (Some("rollover"), Some("2025-26"))
    );
    let (_, timeline) = sim.control("GET", "/sim/timeline", None).await;
    let steps = timeline["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 9 + 4);
    assert_eq!(steps[9]["phase"], "PRE_SEASON");
    assert_eq!(steps[9]["season"], "2026-27");

    // GW38 final: the 2025-26 season, its managers and leagues.
    sim.phase(Phase::Final, Some(38)).await;
    let old: BootstrapStatic = sim.fetch("bootstrap-static/").await;
    assert!(event(&old, 38).is_current && event(&old, 38).data_checked);
    let real = real_ids();
    // A synthetic manager who comes back, and his season total.
    let world = &sim.sim.state().world;
    let next = world.next.as_ref().unwrap();
    let (idx, new_id) = (72..72 + 60)
        .find_map(|idx| next.new_id(idx).map(|id| (idx, id)))
        .unwrap();
    let old_id = world.managers.id(idx);
    let old_entry: Entry = sim.fetch(&format!("entry/{old_id}/")).await;
    let old_total = old_entry.summary_overall_points.unwrap();
    let _: ClassicStandings = sim.fetch("leagues-classic/1/standings/").await;

    // Pre-season: the real 2026-27 payloads, new ids everywhere, nothing played.
    sim.phase(Phase::PreSeason, None).await;
    let (_, state) = sim.control("GET", "/sim/state", None).await;
    assert_eq!(state["season"], "2026-27");
    assert_eq!(state["current_event"], 0);
    let raw = sim.get("bootstrap-static/").await;
    let new: BootstrapStatic = raw.json().unwrap();
    let shared: BootstrapStatic = sample(fplsync::sim::rollover::BOOTSTRAP);
    assert_eq!(new, shared, "the real pre-season bootstrap as captured");
    assert_eq!(
        new.events[0].deadline_time,
        "2026-08-21T17:30:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert!(new.events.iter().all(|e| !e.is_current && !e.finished));
    assert!(new.events[0].is_next);
    assert_eq!(new.elements.len(), 581);
    // Player ids restart; a player keeps his code.
    let old_codes: HashMap<u32, ElementId> = old.elements.iter().map(|e| (e.code, e.id)).collect();
    let kept = new
        .elements
        .iter()
        .filter(|e| old_codes.get(&e.code).is_some_and(|id| *id != e.id))
        .count();
    assert!(kept > 300, "{kept} players known by code under a new id");
    let status: EventStatus = sim.fetch("event-status/").await;
    assert!(status.status.is_empty());
    let fixtures: Fixtures = sim.fetch("fixtures/").await;
    assert_eq!(fixtures.len(), 380);
    assert!(
        fixtures
            .iter()
            .all(|f| f.started == Some(false) && !f.finished && f.event.is_some())
    );
    assert_eq!(fixtures.iter().map(|f| f.id.0).max(), Some(380));
    let live: EventLive = sim.fetch("event/1/live/").await;
    assert!(live.elements.is_empty());
    // Last season's leagues are gone; the new league has no table, only new entries.
    assert_eq!(
        sim.get("leagues-classic/1/standings/").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.get("leagues-h2h/2/standings/").await.status,
        StatusCode::NOT_FOUND
    );
    let mut members: Vec<u64> = Vec::new();
    for page in 1.. {
        let league: ClassicStandings = sim
            .fetch(&format!(
                "leagues-classic/24124/standings/?page_new_entries={page}"
            ))
            .await;
        assert!(league.standings.results.is_empty());
        let new_entries = league.new_entries.unwrap();
        members.extend(new_entries.results.iter().map(|r| r.entry.0));
        if !new_entries.has_next {
            break;
        }
    }
    let raw: Value = sim
        .get("leagues-classic/24124/standings/")
        .await
        .json()
        .unwrap();
    let shape: Value = sample(fplsync::sim::rollover::LEAGUE);
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&raw["league"]), keys(&shape["league"]));
    let total = 72 + 60;
    assert!(
        members.len() > total / 2 && members.len() < total,
        "{} of {total} came back",
        members.len()
    );
    // A returning manager: a new id, nothing played, last season among the past ones.
    let id = new_id;
    assert!(members.contains(&id));
    let entry: Entry = sim.fetch(&format!("entry/{id}/")).await;
    assert_eq!(entry.name, old_entry.name, "the same manager");
    assert_eq!(entry.current_event, None);
    assert_eq!(
        (entry.summary_overall_points, entry.summary_overall_rank),
        (None, None)
    );
    assert_eq!(entry.leagues.classic[0].id, LeagueId(24124));
    let history: EntryHistory = sim.fetch(&format!("entry/{id}/history/")).await;
    assert!(history.current.is_empty());
    let last = history.past.iter().find(|p| p.season_name == "2025/26");
    assert_eq!(last.map(|p| p.total_points), Some(old_total));
    assert_eq!(
        sim.get(&format!("entry/{id}/event/1/picks/")).await.status,
        StatusCode::NOT_FOUND
    );
    // Last season's ids: 404 above the new season's registrations, else someone new.
    assert_eq!(
        sim.get(&format!("entry/{}/", SYNTHETIC + 1)).await.status,
        StatusCode::NOT_FOUND
    );
    let low = *real.iter().min().unwrap();
    let someone: Entry = sim.fetch(&format!("entry/{low}/")).await;
    assert_eq!(someone.id, EntryId(low));
    assert_eq!(someone.current_event, None);

    // Gameweek 1's deadline: the update page, then gameweek 1 current with picks.
    sim.phase(Phase::UpdatingDeadline, Some(1)).await;
    assert_eq!(
        sim.get("bootstrap-static/").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    sim.phase(Phase::DeadlinePassed, Some(1)).await;
    let b: BootstrapStatic = sim.fetch("bootstrap-static/").await;
    assert!(b.events[0].is_current && b.events[1].is_next && !b.events[0].finished);
    let picks: PicksResponse = sim.fetch(&format!("entry/{id}/event/1/picks/")).await;
    assert_eq!(picks.picks.len(), 15);
    let players: HashMap<ElementId, (u8, TeamId)> = b
        .elements
        .iter()
        .map(|e| (e.id, (e.element_type.0, e.team)))
        .collect();
    assert!(picks.picks.iter().all(|p| players.contains_key(&p.element)));
    check_squad(&picks, &players);
    assert_eq!(picks.entry_history.points, 0);
    let entry: Entry = sim.fetch(&format!("entry/{id}/")).await;
    assert_eq!(entry.current_event, Some(EventId(1)));
    let live: EventLive = sim.fetch("event/1/live/").await;
    assert_eq!(live.elements.len(), 581);
    assert!(
        live.elements
            .iter()
            .all(|e| e.stats.total_points == 0 && e.explain.len() == 1)
    );
    let status: EventStatus = sim.fetch("event-status/").await;
    assert!(!status.status.is_empty() && status.status.iter().all(|d| d.event == EventId(1)));
    sim.sim.stop().await;
}
