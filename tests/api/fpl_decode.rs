//! FPL decoding tests: every captured FPL response decodes, and the checks the samples allow hold.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use fplsync::fpl::model::*;
use fplsync::fpl::samples;
use serde::de::DeserializeOwned;

const BOOT_2023_24: &str = "bootstrap-static/fplbot__fplbot__bootstrap-static.json";
const BOOT_2024_25: &str =
    "bootstrap-static/tonglam__letletme_data__bootstrap-static.bbb9999d.json";
const BOOT_2025_26: &str = "bootstrap-static/ayspunk__FPL__bootstrap.11ca943.json";
const BOOT_2026_27: &str =
    "bootstrap-static/Unholy-smoke__fpl-mirror__bootstrap-static.61d9904.json";
const BOOTSTRAPS: [&str; 4] = [BOOT_2023_24, BOOT_2024_25, BOOT_2025_26, BOOT_2026_27];

const LIVE_FINAL: &str = "event-live/ayspunk__FPL__live.11ca943.json";
const LIVE_IN_PLAY: &str = "event-live/ayspunk__FPL__live.8349cd6.json";
const LIVE_PROVISIONAL: &str = "event-live/ayspunk__FPL__live.5b1d97c.json";
const LIVE_FUTURE: &str =
    "event-live/lovegroa__fpl-live-backend__live-gameweek-10-future-empty.json";
const FIXTURES_FINAL: &str = "fixtures/ayspunk__FPL__fixtures.11ca943.json";
const FIXTURES_IN_PLAY: &str = "fixtures/ayspunk__FPL__fixtures.8349cd6.json";
const FIXTURES_PROVISIONAL: &str = "fixtures/ayspunk__FPL__fixtures.5b1d97c.json";
const LEAGUE_PICKS: &str = "entry-picks/ayspunk__FPL__league-picks.11ca943.json";

/// Decodes one embedded sample.
fn sample<T: DeserializeOwned>(name: &str) -> T {
    samples::decode(name).unwrap_or_else(|e| panic!("{e}"))
}

fn parse<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn boot_2025_26() -> BootstrapStatic {
    sample(BOOT_2025_26)
}

// ---------------------------------------------------------------------------------------------
// Every sample decodes
// ---------------------------------------------------------------------------------------------

#[test]
fn every_sample_file_decodes_into_its_endpoint_type() {
    for (name, _) in samples::SAMPLES {
        let endpoint = name.split('/').next().unwrap();
        match endpoint {
            "bootstrap-static" => drop(sample::<BootstrapStatic>(name)),
            "fixtures" => drop(sample::<Fixtures>(name)),
            "event-live" => drop(sample::<EventLive>(name)),
            "event-status" => drop(sample::<EventStatus>(name)),
            "entry" => drop(sample::<Entry>(name)),
            "entry-history" => drop(sample::<EntryHistory>(name)),
            "entry-picks" if name.contains("league-picks") => {
                drop(sample::<BTreeMap<EntryId, PicksResponse>>(name))
            }
            "entry-picks" => drop(sample::<PicksResponse>(name)),
            "leagues-classic-standings" => drop(sample::<ClassicStandings>(name)),
            "element-summary" => drop(sample::<ElementSummary>(name)),
            other => panic!("no type for endpoint {other}"),
        }
    }
    assert_eq!(samples::SAMPLES.len(), 22);
}

/// The embedded copies are the shared samples, byte for byte (checked where `../shared` is laid
/// beside the checkout, as on developers' machines and in CI).
#[test]
fn every_shared_sample_is_embedded_unchanged() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fpl-samples");
    if !shared.is_dir() {
        eprintln!(
            "{} not present; embedded copies not compared",
            shared.display()
        );
        return;
    }
    let mut compared = 0;
    for dir in std::fs::read_dir(&shared).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let name = format!(
                "{}/{}",
                dir.file_name().unwrap().to_string_lossy(),
                path.file_name().unwrap().to_string_lossy()
            );
            let original = std::fs::read_to_string(&path).unwrap();
            let embedded = samples::json(&name).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                original == embedded,
                "{name} differs from its embedded copy"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, samples::SAMPLES.len());
}

#[test]
fn every_bootstrap_sample_decodes_with_38_events_and_20_teams() {
    for path in BOOTSTRAPS {
        let boot: BootstrapStatic = sample(path);
        assert_eq!(boot.events.len(), 38, "{path}");
        assert_eq!(boot.teams.len(), 20, "{path}");
        assert_eq!(boot.phases[0].name, "Overall", "{path}");
        assert!(boot.elements.len() > 500, "{path}");
        assert!(boot.total_players > 4_000_000, "{path}");
        assert!(boot.game_settings.is_some(), "{path}");
    }
}

// ---------------------------------------------------------------------------------------------
// Schema drift between seasons
// ---------------------------------------------------------------------------------------------

#[test]
fn only_the_2024_25_bootstrap_has_a_fifth_element_type_mng() {
    for path in BOOTSTRAPS {
        let boot: BootstrapStatic = sample(path);
        let expected = if path == BOOT_2024_25 { 5 } else { 4 };
        assert_eq!(boot.element_types.len(), expected, "{path}");
    }
    let boot: BootstrapStatic = sample(BOOT_2024_25);
    let mng = &boot.element_types[4];
    assert_eq!(
        (mng.id, mng.singular_name_short.as_str()),
        (ElementTypeId(5), "MNG")
    );
    let managers = boot
        .elements
        .iter()
        .filter(|e| e.element_type == ElementTypeId(5));
    assert!(managers.clone().count() == 20 && managers.clone().all(|e| e.mng_win.is_some()));
    let chips = boot.chips.unwrap();
    assert!(chips.iter().any(|c| c.name == Chip::AssistantManager));
}

#[test]
fn the_2023_24_bootstrap_has_no_chips_and_later_seasons_do() {
    let old: BootstrapStatic = sample(BOOT_2023_24);
    assert_eq!(old.chips, None);
    // Fields introduced later decode as None instead of failing.
    assert!(old.events.iter().all(|e| e.released.is_none()));
    assert!(old.elements.iter().all(|e| e.opta_code.is_none()));
    assert!(old.phases.iter().all(|p| p.highest_score.is_none()));
    assert_eq!(old.game_settings.unwrap().max_extra_free_transfers, None);
    for path in [BOOT_2024_25, BOOT_2025_26, BOOT_2026_27] {
        let boot: BootstrapStatic = sample(path);
        let chips = boot.chips.expect(path);
        assert!(chips.iter().any(|c| c.name == Chip::BenchBoost), "{path}");
    }
}

#[test]
fn defensive_stats_exist_from_2025_26_on_only() {
    let old: BootstrapStatic = sample(BOOT_2024_25);
    assert!(old.elements.iter().all(|e| e.tackles.is_none()));
    let new = boot_2025_26();
    assert!(
        new.elements
            .iter()
            .all(|e| e.defensive_contribution.is_some())
    );
}

#[test]
fn the_preseason_2026_27_bootstrap_has_nulls_where_nothing_was_played() {
    let boot: BootstrapStatic = sample(BOOT_2026_27);
    assert!(boot.events.iter().all(|e| e.highest_score.is_none()));
    assert!(boot.events.iter().all(|e| e.top_element_info.is_none()));
    assert!(boot.events.iter().all(|e| !e.is_current));
    assert_eq!(
        boot.events.iter().find(|e| e.is_next).unwrap().id,
        EventId(1)
    );
    assert!(boot.teams.iter().all(|t| t.strength.is_none()));
    assert!(boot.elements.iter().all(|e| e.ep_this.is_none()));
    assert!(boot.elements.iter().all(|e| e.ep_next.is_some()));
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

#[test]
fn decimal_strings_decode_as_numbers() {
    // Watkins (id 64) in the final 2025-26 bootstrap: form "9.5", ep_next "6.3",
    // points_per_game "4.5", selected_by_percent "13.0", expected_goals "15.40".
    let boot = boot_2025_26();
    let watkins = boot
        .elements
        .iter()
        .find(|e| e.id == ElementId(64))
        .unwrap();
    assert_eq!(watkins.web_name, "Watkins");
    assert_eq!(watkins.form, 9.5);
    assert_eq!(watkins.ep_next, Some(6.3));
    assert_eq!(watkins.points_per_game, 4.5);
    assert_eq!(watkins.selected_by_percent, 13.0);
    assert_eq!(watkins.expected_goals, 15.4);
    assert_eq!((watkins.now_cost, watkins.total_points), (87, 167));
    // The one player with a null ep_next after the last gameweek.
    let nulls: Vec<_> = boot
        .elements
        .iter()
        .filter(|e| e.ep_next.is_none())
        .collect();
    assert_eq!(nulls.len(), 1);
    assert_eq!(nulls[0].id, ElementId(841));
}

#[test]
fn timestamps_decode_as_utc_datetimes() {
    let boot = boot_2025_26();
    let gw1 = &boot.events[0];
    assert_eq!(gw1.deadline_time.to_rfc3339(), "2025-08-15T17:30:00+00:00");
    assert_eq!(gw1.deadline_time.timestamp(), gw1.deadline_time_epoch);
    let fixtures: Fixtures = sample(FIXTURES_FINAL);
    assert!(fixtures.iter().all(|f| f.kickoff_time.is_some()));
}

#[test]
fn the_2025_26_final_files_have_38_events_20_teams_and_380_fixtures() {
    let boot = boot_2025_26();
    assert_eq!((boot.events.len(), boot.teams.len()), (38, 20));
    let last = boot.events.last().unwrap();
    assert!(last.is_current && last.finished && last.data_checked);
    let fixtures: Fixtures = sample(FIXTURES_FINAL);
    assert_eq!(fixtures.len(), 380);
    assert!(
        fixtures
            .iter()
            .all(|f| f.finished && f.started == Some(true))
    );
    assert!(fixtures.iter().all(|f| f.team_h_score.is_some()));
    // Every team plays 19 home and 19 away games, but rescheduled matches make real blank and
    // double gameweeks: GW26 has 11 fixtures, GW31 8, GW33 13, GW34 7, GW36 11.
    for team in boot.teams.iter().map(|t| t.id) {
        let home = fixtures.iter().filter(|f| f.team_h == team).count();
        let away = fixtures.iter().filter(|f| f.team_a == team).count();
        assert_eq!((home, away), (19, 19), "team {team}");
    }
    let in_gw = |gw| {
        fixtures
            .iter()
            .filter(|f| f.event == Some(EventId(gw)))
            .count()
    };
    assert_eq!([in_gw(26), in_gw(31), in_gw(33), in_gw(34)], [11, 8, 13, 7]);
}

#[test]
fn league_picks_times_final_live_points_equal_official_points_for_all_72_managers() {
    let live: EventLive = sample(LIVE_FINAL);
    let points: HashMap<ElementId, i32> = live
        .elements
        .iter()
        .map(|e| (e.id, e.stats.total_points))
        .collect();
    let league: BTreeMap<EntryId, PicksResponse> = sample(LEAGUE_PICKS);
    assert_eq!(league.len(), 72);
    for (entry, picks) in &league {
        assert_eq!(picks.picks.len(), 15, "{entry}");
        assert_eq!(picks.entry_history.event, EventId(38), "{entry}");
        let computed: i32 = picks
            .picks
            .iter()
            .map(|p| points[&p.element] * i32::from(p.multiplier))
            .sum();
        assert_eq!(computed, picks.entry_history.points, "entry {entry}");
    }
    let count = |chip: Option<Chip>| league.values().filter(|p| p.active_chip == chip).count();
    assert_eq!(count(None), 48);
    assert_eq!(count(Some(Chip::BenchBoost)), 17);
    assert_eq!(count(Some(Chip::TripleCaptain)), 5);
    assert_eq!(count(Some(Chip::Wildcard)), 2);
}

/// FPL's 3/2/1 bonus from BPS: tied players share the higher award and push the next down.
fn bonus_from_bps(mut bps: Vec<(ElementId, i32)>) -> Vec<(ElementId, i32)> {
    bps.sort_by_key(|&(_, v)| std::cmp::Reverse(v));
    let mut awards = Vec::new();
    for (i, &(element, value)) in bps.iter().enumerate() {
        let first_with_value = bps.iter().position(|&(_, v)| v == value).unwrap_or(i);
        let award = [3, 2, 1].get(first_with_value).copied().unwrap_or(0);
        if award > 0 {
            awards.push((element, award));
        }
    }
    awards
}

#[test]
fn bonus_recomputed_from_fixture_bps_equals_official_bonus_in_the_final_snapshot() {
    let fixtures: Fixtures = sample(FIXTURES_FINAL);
    let mut bonus: HashMap<ElementId, i32> = HashMap::new();
    for fixture in fixtures.iter().filter(|f| f.event == Some(EventId(38))) {
        assert!(fixture.bps().count() > 20, "fixture {}", fixture.id);
        for (element, award) in bonus_from_bps(fixture.bps().collect()) {
            *bonus.entry(element).or_default() += award;
        }
    }
    let live: EventLive = sample(LIVE_FINAL);
    for element in &live.elements {
        let expected = bonus.get(&element.id).copied().unwrap_or(0);
        assert_eq!(
            element.stats.stats.bonus, expected,
            "element {}",
            element.id
        );
    }
    assert_eq!(bonus.values().sum::<i32>(), 64);
}

#[test]
fn the_in_play_snapshot_has_no_official_bonus_and_unfinished_fixtures() {
    let live: EventLive = sample(LIVE_IN_PLAY);
    assert!(live.elements.iter().all(|e| e.stats.stats.bonus == 0));
    assert!(live.elements.iter().all(|e| e.stats.played.is_none()));
    let fixtures: Fixtures = sample(FIXTURES_IN_PLAY);
    let gw38: Vec<_> = fixtures
        .iter()
        .filter(|f| f.event == Some(EventId(38)))
        .collect();
    assert_eq!(gw38.len(), 10);
    assert!(
        gw38.iter()
            .all(|f| f.started == Some(true) && !f.finished && f.minutes == 45)
    );
}

#[test]
fn the_provisional_snapshot_is_finished_provisional_but_not_finished() {
    let fixtures: Fixtures = sample(FIXTURES_PROVISIONAL);
    let gw38 = fixtures.iter().filter(|f| f.event == Some(EventId(38)));
    assert!(gw38.clone().count() == 10);
    assert!(gw38.clone().all(|f| f.finished_provisional && !f.finished));
    let live: EventLive = sample(LIVE_PROVISIONAL);
    assert!(live.elements.iter().any(|e| e.stats.stats.bonus > 0));
}

#[test]
fn the_final_live_snapshot_has_played_flags_and_explain_rows() {
    let live: EventLive = sample(LIVE_FINAL);
    assert!(live.elements.iter().all(|e| e.stats.played.is_some()));
    let scorer = live
        .elements
        .iter()
        .find(|e| e.stats.stats.goals_scored > 0)
        .unwrap();
    let explained: i32 = scorer
        .explain
        .iter()
        .flat_map(|x| &x.stats)
        .map(|s| s.points)
        .sum();
    assert_eq!(explained, scorer.stats.total_points);
}

#[test]
fn the_future_gameweek_live_file_has_zero_elements() {
    let live: EventLive = sample(LIVE_FUTURE);
    assert!(live.elements.is_empty());
}

#[test]
fn ranks_are_none_in_the_in_progress_2026_27_picks() {
    let picks: PicksResponse = sample("entry-picks/cesignon__fpl-data__picks-gw6.json");
    let h = &picks.entry_history;
    assert_eq!(picks.active_chip, Some(Chip::Wildcard));
    assert_eq!((h.rank, h.rank_sort, h.percentile_rank), (None, None, None));
    assert_eq!(h.overall_rank_percentage, None);
    assert_eq!(h.overall_rank, Some(2_852_626));
    assert!(picks.automatic_subs.is_empty());
    assert!(picks.picks.iter().all(|p| p.element_type.is_some()));
}

#[test]
fn the_bench_boost_picks_sample_has_two_automatic_subs() {
    let picks: PicksResponse = sample("entry-picks/ayspunk__FPL__picks.11ca943.json");
    assert_eq!(picks.active_chip, Some(Chip::BenchBoost));
    assert_eq!(picks.automatic_subs.len(), 2);
    assert!(picks.picks.iter().all(|p| p.multiplier >= 1));
    assert_eq!(picks.entry_history.rank, Some(1_883_435));
    let autopilot: PicksResponse = sample("entry-picks/shariski__fpl-autopilot__picks.json");
    assert_eq!(autopilot.active_chip, None);
}

#[test]
fn preseason_event_status_is_empty_and_a_match_day_decodes() {
    let pre: EventStatus =
        sample("event-status/Unholy-smoke__fpl-mirror__event-status.d071d28-preseason.json");
    assert!(pre.status.is_empty());
    assert_eq!(pre.leagues, "");
    let day1: EventStatus = sample("event-status/Unholy-smoke__fpl-mirror__event-status.json");
    assert_eq!(day1.status.len(), 4);
    assert_eq!(day1.status[0].points, "p");
    assert_eq!(day1.status[0].date.to_string(), "2026-08-21");
    assert!(
        day1.status
            .iter()
            .all(|d| d.event == EventId(1) && !d.bonus_added)
    );
}

#[test]
fn classic_standings_2026_27_rows_have_no_id_or_has_played() {
    let table: ClassicStandings =
        sample("leagues-classic-standings/Unholy-smoke__fpl-mirror__league-standings.json");
    assert_eq!(table.league.id, LeagueId(24124));
    assert_eq!(table.standings.results.len(), 9);
    assert!(!table.standings.has_next);
    assert!(
        table
            .standings
            .results
            .iter()
            .all(|r| r.id.is_none() && r.has_played.is_none())
    );
    let first = &table.standings.results[0];
    assert_eq!(
        (first.entry, first.rank, first.total),
        (EntryId(1539533), 1, 26)
    );
    // Rows 8 and 9 tie on rank 8 but rank_sort separates them.
    let last = &table.standings.results[8];
    assert_eq!((last.rank, last.rank_sort), (8, 9));
    assert!(table.new_entries.unwrap().results.is_empty());
}

#[test]
fn entry_samples_decode_with_leagues_and_cup_matches() {
    let entry: Entry = sample("entry/ayspunk__FPL__manager.11ca943.json");
    assert_eq!(entry.id, EntryId(2414649));
    assert_eq!(entry.favourite_team, None);
    assert_eq!(entry.current_event, Some(EventId(38)));
    assert_eq!(entry.entered_events.len(), 38);
    assert_eq!(entry.leagues.classic.len(), 10);
    let first_cup = &entry.leagues.cup_matches[0];
    assert_eq!(first_cup.winner, Some(EntryId(2830440)));
    assert_eq!(first_cup.entry_1_points, Some(53));
    let other: Entry = sample("entry/shariski__fpl-autopilot__entry.json");
    assert!(other.favourite_team.is_some());
}

#[test]
fn entry_history_2026_27_has_percentage_strings_and_live_nulls() {
    let history: EntryHistory = sample("entry-history/cesignon__fpl-data__history.json");
    assert_eq!(history.current.len(), 6);
    assert_eq!(history.current[0].overall_rank_percentage, Some(30.0));
    let gw6 = &history.current[5];
    assert_eq!((gw6.rank, gw6.overall_rank_percentage), (None, None));
    assert_eq!(history.past[0].rank_percentage, Some(71.0));
    assert_eq!(history.chips[0].name, Chip::Wildcard);
    assert_eq!(history.chips[0].event, EventId(6));
}

#[test]
fn element_summary_decodes_history_and_upcoming_fixtures() {
    let summary: ElementSummary = sample("element-summary/cesignon__fpl-data__1.json");
    assert_eq!(summary.fixtures.len(), 32);
    assert!(summary.fixtures.iter().all(|f| f.team_h_score.is_none()));
    assert_eq!(summary.history.len(), 6);
    assert!(summary.history.iter().all(|h| h.element == ElementId(1)));
    assert_eq!(summary.history[0].stats.influence, 11.8);
    assert_eq!(summary.history_past.len(), 5);
    assert_eq!(summary.history_past[0].stats.influence, 593.4);
}

#[test]
fn a_decoded_bootstrap_survives_a_serialize_round_trip() {
    for path in BOOTSTRAPS {
        let boot: BootstrapStatic = sample(path);
        let json = serde_json::to_string(&boot).unwrap();
        let again: BootstrapStatic = serde_json::from_str(&json).unwrap();
        assert_eq!(again, boot, "{path}");
    }
    let live: EventLive = sample(LIVE_FINAL);
    let json = serde_json::to_value(&live).unwrap();
    // Decimals go back out as strings, like the API sends them.
    assert!(json["elements"][0]["stats"]["influence"].is_string());
    assert_eq!(serde_json::from_value::<EventLive>(json).unwrap(), live);
}

// ---------------------------------------------------------------------------------------------
// Edge cases on constructed JSON
// ---------------------------------------------------------------------------------------------

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct Decimals {
    #[serde(with = "decimal")]
    required: f64,
    #[serde(default, with = "opt_decimal")]
    optional: Option<f64>,
}

#[test]
fn a_decimal_decodes_from_a_string_or_a_number() {
    let d: Decimals = parse(r#"{"required": "5.0", "optional": "0.25"}"#);
    assert_eq!((d.required, d.optional), (5.0, Some(0.25)));
    let d: Decimals = parse(r#"{"required": 7, "optional": -1.5}"#);
    assert_eq!((d.required, d.optional), (7.0, Some(-1.5)));
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        r#"{"required":"7.0","optional":"-1.5"}"#
    );
}

#[test]
fn an_optional_decimal_is_none_when_null_empty_or_missing() {
    let d: Decimals = parse(r#"{"required": "1.0", "optional": null}"#);
    assert_eq!(d.optional, None);
    let d: Decimals = parse(r#"{"required": "1.0", "optional": ""}"#);
    assert_eq!(d.optional, None);
    let d: Decimals = parse(r#"{"required": "1.0"}"#);
    assert_eq!(d.optional, None);
}

#[test]
fn a_required_decimal_rejects_null_and_non_numeric_strings() {
    let err = serde_json::from_str::<Decimals>(r#"{"required": null}"#).unwrap_err();
    assert!(err.to_string().contains("decimal"), "{err}");
    let err = serde_json::from_str::<Decimals>(r#"{"required": "n/a"}"#).unwrap_err();
    assert!(err.to_string().contains("n/a"), "{err}");
}

#[test]
fn an_unknown_chip_string_decodes_as_other_and_serializes_back() {
    let chip: Chip = parse(r#""4xc""#);
    assert_eq!(chip, Chip::Other("4xc".into()));
    assert_eq!(serde_json::to_string(&chip).unwrap(), r#""4xc""#);
    let picks: Option<Chip> = parse("null");
    assert_eq!(picks, None);
}

#[test]
fn known_chips_round_trip_to_their_api_names() {
    for (name, chip) in [
        ("bboost", Chip::BenchBoost),
        ("3xc", Chip::TripleCaptain),
        ("wildcard", Chip::Wildcard),
        ("freehit", Chip::FreeHit),
        ("manager", Chip::AssistantManager),
    ] {
        let json = format!("\"{name}\"");
        assert_eq!(parse::<Chip>(&json), chip);
        assert_eq!(serde_json::to_string(&chip).unwrap(), json);
        assert_eq!(chip.to_string(), name);
    }
}

#[test]
fn unknown_extra_fields_are_ignored() {
    let pick: Pick = parse(
        r#"{"element": 5, "position": 1, "multiplier": 2, "is_captain": true,
            "is_vice_captain": false, "brand_new_field": {"x": [1, 2]}, "another": null}"#,
    );
    assert_eq!(pick.element, ElementId(5));
    assert_eq!(pick.element_type, None);
    let status: EventStatus = parse(r#"{"status": [], "leagues": "Updated", "extra": 1}"#);
    assert_eq!(status.leagues, "Updated");
}

#[test]
fn a_missing_required_field_gives_an_error_that_names_the_field() {
    let err = serde_json::from_str::<Pick>(
        r#"{"element": 5, "position": 1, "is_captain": true, "is_vice_captain": false}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("missing field `multiplier`"),
        "{err}"
    );
    let err = serde_json::from_str::<EventLive>("{}").unwrap_err();
    assert!(err.to_string().contains("`elements`"), "{err}");
}

#[test]
fn typed_ids_display_their_number_and_key_json_maps() {
    assert_eq!(EntryId(37654).to_string(), "37654");
    assert_eq!(ElementTypeId(5).to_string(), "5");
    let map: BTreeMap<EntryId, u8> = parse(r#"{"37654": 1, "218629": 2}"#);
    assert_eq!(
        map.keys().copied().collect::<Vec<_>>(),
        [EntryId(37654), EntryId(218629)]
    );
    assert_eq!(serde_json::to_string(&ElementId(64)).unwrap(), "64");
}

#[test]
fn a_postponed_fixture_with_null_event_kickoff_and_started_decodes() {
    let fixture: Fixture = parse(
        r#"{"code": 1, "event": null, "finished": false, "finished_provisional": false,
            "id": 9, "kickoff_time": null, "minutes": 0, "provisional_start_time": true,
            "started": null, "team_a": 2, "team_a_score": null, "team_h": 3,
            "team_h_score": null, "stats": [], "team_h_difficulty": 3, "team_a_difficulty": 2}"#,
    );
    assert_eq!(
        (fixture.event, fixture.kickoff_time, fixture.started),
        (None, None, None)
    );
    assert_eq!(fixture.bps().count(), 0);
}

#[test]
fn fixture_bps_lists_home_then_away_players() {
    let fixture: Fixture = parse(
        r#"{"code": 1, "event": 1, "finished": true, "finished_provisional": true, "id": 1,
            "kickoff_time": "2025-08-15T19:00:00Z", "minutes": 90,
            "provisional_start_time": false, "started": true, "team_a": 2, "team_a_score": 0,
            "team_h": 1, "team_h_score": 1, "team_h_difficulty": 3, "team_a_difficulty": 4,
            "stats": [
              {"identifier": "bonus", "a": [], "h": [{"value": 3, "element": 10}]},
              {"identifier": "bps", "a": [{"value": -3, "element": 20}],
               "h": [{"value": 31, "element": 10}, {"value": 12, "element": 11}]}]}"#,
    );
    let bps: Vec<_> = fixture.bps().collect();
    assert_eq!(
        bps,
        [
            (ElementId(10), 31),
            (ElementId(11), 12),
            (ElementId(20), -3)
        ]
    );
}

#[test]
fn h2h_standings_and_matches_decode_defensively() {
    let standings: H2hStandings = parse(
        r#"{"league": {"id": 77, "name": "H2H", "created": "2025-07-20T10:00:00.123456Z",
              "closed": true, "max_entries": 20, "league_type": "x", "scoring": "h",
              "admin_entry": 1, "start_event": 1, "ko_rounds": 2},
            "new_entries": {"has_next": false, "page": 1, "results": []},
            "standings": {"has_next": true, "page": 1, "results": [
              {"id": 5, "division": 9, "entry": 1, "player_name": "A", "rank": 1,
               "last_rank": 2, "rank_sort": 1, "total": 9, "entry_name": "Team A",
               "matches_played": 3, "matches_won": 3, "matches_drawn": 0,
               "matches_lost": 0, "points_for": 190},
              {"entry": 2}]}}"#,
    );
    assert_eq!(standings.league.ko_rounds, Some(2));
    assert!(standings.standings.has_next);
    assert_eq!(standings.standings.results[0].matches_won, Some(3));
    assert_eq!(standings.standings.results[1].total, None);

    let matches: H2hMatches = parse(
        r#"{"has_next": false, "page": 2, "results": [
            {"id": 1, "entry_1_entry": 1, "entry_1_points": 60, "entry_1_total": 3,
             "entry_2_entry": null, "entry_2_name": "AVERAGE", "entry_2_points": 51,
             "event": 4, "is_knockout": false, "winner": null, "league": 77,
             "seed_value": null, "tiebreak": null, "is_bye": false}]}"#,
    );
    let m = &matches.results[0];
    assert_eq!((m.entry_1_entry, m.entry_2_entry), (Some(EntryId(1)), None));
    assert_eq!((m.event, m.winner), (Some(EventId(4)), None));
}

#[test]
fn transfers_and_cup_responses_decode() {
    let transfers: Transfers = parse(
        r#"[{"element_in": 64, "element_in_cost": 87, "element_out": 1,
             "element_out_cost": 45, "entry": 7, "event": 3,
             "time": "2025-08-29T17:12:03.123456Z"}]"#,
    );
    assert_eq!(transfers[0].element_in, ElementId(64));
    assert_eq!(
        transfers[0].time.to_rfc3339(),
        "2025-08-29T17:12:03.123456+00:00"
    );
    let cup: EntryCup = parse(
        r#"{"cup_matches": [], "cup_status": {"qualification_event": 16,
             "qualification_numbers": 4194304, "qualification_rank": 1,
             "qualification_state": "QUALIFIED"}}"#,
    );
    assert_eq!(
        cup.cup_status.unwrap().qualification_state.as_deref(),
        Some("QUALIFIED")
    );
    let empty: EntryCup = parse("{}");
    assert!(empty.cup_matches.is_empty() && empty.cup_status.is_none());
}

#[test]
fn a_stored_object_keeps_the_text_fpl_sent_compacted_with_its_strings_untouched() {
    let pretty = "{\n  \"id\": 3,\n  \"code\": 91,\n  \"name\": \"Bournemouth \\\"AFC\\\"  \",\n  \"short_name\": \"BOU\",\n  \"shirt\": {\"colour\": \"red and black\"}\n}";
    let team: Team = parse(pretty);
    assert_eq!(team.id, TeamId(3));
    assert_eq!(team.name, "Bournemouth \"AFC\"  ");
    assert_eq!(
        team.verbatim.text(),
        Some(
            r#"{"id":3,"code":91,"name":"Bournemouth \"AFC\"  ","short_name":"BOU","shirt":{"colour":"red and black"}}"#
        )
    );
    // Fields it lacks take their documented defaults; a value built in code has no text.
    assert_eq!((team.strength_overall_home, team.unavailable), (0, false));
    let built: Team = serde_json::from_value(serde_json::to_value(&team).unwrap()).unwrap();
    assert_eq!(built, team, "the text never takes part in equality");
    assert!(
        Team {
            verbatim: Verbatim::default(),
            ..team
        }
        .verbatim
        .text()
        .is_none()
    );
}

#[test]
fn a_real_live_answer_is_its_gameweeks_and_another_gameweeks_is_told_apart() {
    let all: Fixtures = sample(FIXTURES_FINAL);
    let of = |gw: u16| -> Fixtures {
        all.iter()
            .filter(|f| f.event == Some(EventId(gw)))
            .cloned()
            .collect()
    };
    for live in [LIVE_IN_PLAY, LIVE_PROVISIONAL, LIVE_FINAL] {
        let live: EventLive = sample(live);
        assert_eq!(live.check_gameweek(EventId(38), &of(38)), Ok(()));
        // Asked for GW37 (its fixtures answered right), FPL's live data is still GW38's.
        let wrong = live.check_gameweek(EventId(37), &of(37)).unwrap_err();
        assert_eq!(wrong.asked, EventId(37));
        assert!(wrong.evidence.contains("not one of GW37's"), "{wrong}");
        // A fixtures answer of another gameweek is caught on its own.
        let wrong = live.check_gameweek(EventId(37), &of(38)).unwrap_err();
        assert!(wrong.evidence.contains("of GW38"), "{wrong}");
    }
    // Before kick-off nothing is explained: nothing to contradict.
    let future: EventLive = sample(LIVE_FUTURE);
    assert_eq!(future.check_gameweek(EventId(10), &of(10)), Ok(()));
}

#[test]
fn real_picks_are_their_gameweeks_and_another_gameweeks_are_told_apart() {
    let league: HashMap<String, PicksResponse> = sample(LEAGUE_PICKS);
    for picks in league.values() {
        assert_eq!(picks.check_gameweek(EventId(38)), Ok(()));
        let wrong = picks.check_gameweek(EventId(1)).unwrap_err();
        assert_eq!(wrong.evidence, "picks of GW38");
    }
}
