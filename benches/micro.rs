//! CPU micro-benchmarks (criterion): decoding the real gameweek-38 payloads, provisional bonus,
//! and live scoring of N managers (their scores, and the cache shards built from them).
//! `cargo bench --bench micro`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fplsync::fpl::model::{BootstrapStatic, EntryId, EventLive, Fixture, PicksResponse};
use fplsync::fpl::samples::{self, gw38};
use std::sync::Arc;

use fplsync::live::managers::{ManagerPicks, Scoreboard};
use fplsync::scoring::{Formation, bonus, live_rows, player_table, players_of};

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    fn one<T: serde::de::DeserializeOwned>(
        g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        label: &str,
        name: &str,
    ) {
        let text = samples::json(name).expect("sample");
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(label, |b| {
            b.iter(|| serde_json::from_str::<T>(black_box(&text)).expect("decodes"))
        });
    }
    one::<BootstrapStatic>(&mut g, "bootstrap-static", gw38::BOOTSTRAP);
    one::<EventLive>(&mut g, "event-live", gw38::LIVE_IN_PLAY);
    one::<Vec<Fixture>>(&mut g, "fixtures", gw38::FIXTURES_IN_PLAY);
    one::<HashMap<String, PicksResponse>>(&mut g, "entry-picks x72", gw38::LEAGUE_PICKS);
    g.finish();
}

fn provisional_bonus(c: &mut Criterion) {
    let fixtures: Vec<Fixture> = samples::decode(gw38::FIXTURES_IN_PLAY).unwrap();
    c.bench_function("bonus/per_player (10 fixtures in play)", |b| {
        b.iter(|| bonus::per_player(black_box(&fixtures)))
    });
}

fn live_scoring(c: &mut Criterion) {
    let boot: BootstrapStatic = samples::decode(gw38::BOOTSTRAP).unwrap();
    let live: EventLive = samples::decode(gw38::LIVE_IN_PLAY).unwrap();
    let fixtures: Vec<Fixture> = samples::decode(gw38::FIXTURES_IN_PLAY).unwrap();
    let league: HashMap<String, PicksResponse> = samples::decode(gw38::LEAGUE_PICKS).unwrap();
    let players = players_of(&boot.elements);
    let formation = Formation::from_element_types(&boot.element_types);
    let real: Vec<&PicksResponse> = league.values().collect();

    c.bench_function("live_rows + player_table (one snapshot)", |b| {
        b.iter(|| {
            let (rows, _) = live_rows(black_box(&live), &fixtures, &players);
            player_table(&rows)
        })
    });

    let (rows, _) = live_rows(&live, &fixtures, &players);
    let mut g = c.benchmark_group("score_all");
    for n in [1_000usize, 100_000] {
        // The 72 real managers' picks, repeated to n managers.
        let managers: Vec<ManagerPicks> = (0..n)
            .map(|i| {
                let p = real[i % real.len()];
                ManagerPicks::new(
                    EntryId(i as u64 + 1),
                    &p.picks,
                    p.active_chip.clone(),
                    p.entry_history.event_transfers_cost,
                )
            })
            .collect();
        let board = Scoreboard::new(
            38,
            Arc::new(managers),
            (0..n as u32).collect(),
            player_table(&rows),
            formation.clone(),
            false,
            HashMap::new(),
        );
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        g.bench_with_input(BenchmarkId::new("scores", n), &board, |b, board| {
            b.iter(|| black_box(board).scores().for_each(|s| drop(black_box(s))))
        });
        // What a live tick does with them: the cache's 64 shards.
        g.bench_with_input(BenchmarkId::new("shards", n), &board, |b, board| {
            b.iter(|| black_box(board).shards())
        });
    }
    g.finish();
}

criterion_group!(benches, decode, provisional_bonus, live_scoring);
criterion_main!(benches);
