//! CPU micro-benchmarks (criterion): decoding the real gameweek-38 payloads (and the bootstrap's
//! schema-drift walk), provisional bonus,
//! live scoring of N managers (their scores, and the cache shards built from them) and
//! tournament standings. `cargo bench --bench micro`.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fplsync::fpl::model::{BootstrapStatic, EntryId, EventLive, Fixture, PicksResponse};
use fplsync::fpl::samples::{self, gw38};

use fplsync::managers::{ManagerPicks, Scoreboard};
use fplsync::meta::drift::Shape;
use fplsync::scoring::{Formation, bonus, live_rows, player_table, players_of};
use fplsync::tournament::rules::{
    self, LegScore, PickRow, PlayerGameweek, Qualifier, Seed, battle_table, points_race,
};

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
    // The schema-drift walk a bootstrap run makes of its payload besides decoding it.
    let text = samples::json(gw38::BOOTSTRAP).expect("sample");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("bootstrap-static shape", |b| {
        b.iter(|| Shape::of(black_box(text.as_bytes())).expect("walks"))
    });
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

/// A deterministic stand-in for randomness: splitmix64's finaliser.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Synthetic managers 1..=n seeded by an FPL overall rank (every 50th unranked).
fn seeds(n: u64) -> Vec<Seed> {
    (1..=n)
        .map(|i| Seed {
            entry: EntryId(i),
            overall_rank: (i % 50 != 0).then(|| 1 + mix(i) % 10_000_000),
        })
        .collect()
}

/// The pure core of a tournament's standings (`tournament::rules`, which `store::recompute` runs
/// on every stored gameweek): points race and battle race tables, and the knockout bracket with
/// its tie-breaks. Every manager's gameweek is one of the 72 real GW38 results (net points from
/// the picks response, goals scored and conceded of the counted players from `pick_stats` over
/// the final live data), picked by a hash of (manager, gameweek); the scores sit in a map keyed by
/// (entry, gameweek), as recompute reads them from `tournament_entry_stats`.
fn tournament_standings(c: &mut Criterion) {
    let live: EventLive = samples::decode(gw38::LIVE_FINAL).unwrap();
    let league: HashMap<String, PicksResponse> = samples::decode(gw38::LEAGUE_PICKS).unwrap();
    let players: HashMap<u32, PlayerGameweek> = live
        .elements
        .iter()
        .map(|e| {
            let p = PlayerGameweek {
                points: e.stats.total_points,
                goals_scored: e.stats.stats.goals_scored as i32,
                goals_conceded: e.stats.stats.goals_conceded as i32,
            };
            (e.id.0, p)
        })
        .collect();
    // In entry id order, so the inputs do not depend on the map's iteration order.
    let mut real: Vec<(u64, &PicksResponse)> = league
        .iter()
        .map(|(k, v)| (k.parse().expect("entry id"), v))
        .collect();
    real.sort_by_key(|r| r.0);
    let picks: Vec<(Vec<PickRow>, Option<String>)> = real
        .iter()
        .map(|(_, p)| {
            let rows = p
                .picks
                .iter()
                .map(|k| PickRow {
                    element: k.element.0,
                    position: k.position,
                    multiplier: k.multiplier,
                })
                .collect();
            (rows, p.active_chip.as_ref().map(|c| c.as_str().to_owned()))
        })
        .collect();
    let results: Vec<LegScore> = real
        .iter()
        .zip(&picks)
        .map(|((_, p), (rows, chip))| {
            let s = rules::pick_stats(rows, chip.as_deref(), &players);
            LegScore {
                net_points: p.entry_history.points - p.entry_history.event_transfers_cost,
                goals_scored: s.goals_scored,
                goals_conceded: s.goals_conceded,
            }
        })
        .collect();
    let result_of = |entry: u64, event: u16| {
        results[(mix(entry << 8 | u64::from(event)) % results.len() as u64) as usize]
    };

    const MANAGERS: u64 = 10_000;
    let season: Vec<u16> = (1..=38).collect();
    let stats: HashMap<(u64, u16), LegScore> = (1..=MANAGERS)
        .flat_map(|e| season.iter().map(move |ev| (e, *ev)))
        .map(|(e, ev)| ((e, ev), result_of(e, ev)))
        .collect();
    let net = |e: EntryId, ev: u16| stats.get(&(e.0, ev)).map(|s| s.net_points);
    let leg = |e: EntryId, ev: u16| stats.get(&(e.0, ev)).copied();
    let seeded = rules::seed_order(seeds(MANAGERS));

    let mut g = c.benchmark_group("tournament_standings");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(MANAGERS));

    g.bench_function("points_race (10,000 managers x 38 GWs)", |b| {
        b.iter(|| points_race(black_box(&seeded), &season, net))
    });

    // 16 groups of 625, dealt serpentine; their round-robin fixtures are fixed at activation
    // (stored), so they are built outside the measurement.
    let groups: Vec<(Vec<Seed>, Vec<rules::GroupFixture>)> = rules::serpentine(&seeded, 16)
        .into_iter()
        .map(|members| {
            let ids: Vec<EntryId> = members.iter().map(|m| m.entry).collect();
            let fixtures = rules::round_robin(&ids, &season);
            (members, fixtures)
        })
        .collect();
    g.bench_function("battle_race (16 groups x 625 x 38 GWs)", |b| {
        b.iter(|| {
            groups
                .iter()
                .map(|(members, fixtures)| battle_table(black_box(members), fixtures, net))
                .collect::<Vec<_>>()
        })
    });

    // The knockout after that group stage: the top 4 of each group, two legs a round from GW27
    // (the group tables are computed outside the measurement).
    let qualifiers: Vec<Qualifier> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, (members, fixtures))| {
            let table = battle_table(members, fixtures, net);
            table.into_iter().take(4).map(move |r| Qualifier {
                entry: r.entry,
                group: i as u32 + 1,
                group_rank: r.rank,
                overall_rank: r.overall_rank,
            })
        })
        .collect();
    g.throughput(Throughput::Elements(qualifiers.len() as u64));
    g.bench_function("knockout (64 qualifiers, 2 legs)", |b| {
        b.iter(|| {
            let entrants: Vec<EntryId> = rules::qualification_order(black_box(&qualifiers).clone())
                .into_iter()
                .map(|q| q.entry)
                .collect();
            let events = rules::round_events(27, rules::knockout_rounds(entrants.len()), 2);
            rules::resolve_bracket(&rules::first_round(&entrants), &events, leg)
        })
    });

    // A knockout of all 10,000 (no group stage): a bracket of 16,384 with byes, one leg a round.
    let entrants: Vec<EntryId> = seeded.iter().map(|s| s.entry).collect();
    let events = rules::round_events(1, rules::knockout_rounds(entrants.len()), 1);
    g.throughput(Throughput::Elements(MANAGERS));
    g.bench_function("knockout (10,000 entrants, 1 leg)", |b| {
        b.iter(|| rules::resolve_bracket(&rules::first_round(black_box(&entrants)), &events, leg))
    });

    // What the results job derives per entry before the standings: captain, autosub and goal
    // statistics from the final picks and the real GW38 live data.
    let many: Vec<&(Vec<PickRow>, Option<String>)> = (0..MANAGERS as usize)
        .map(|i| &picks[i % picks.len()])
        .collect();
    g.bench_function("pick_stats (10,000 managers, one GW)", |b| {
        b.iter(|| {
            many.iter()
                .map(|(rows, chip)| rules::pick_stats(black_box(rows), chip.as_deref(), &players))
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    decode,
    provisional_bonus,
    live_scoring,
    tournament_standings
);
criterion_main!(benches);
