//! The gameweek lifecycle as a pure function: from what is known of the game (the gameweek whose
//! deadline has passed, its fixtures' flags, picks and finalization), on FPL's clock, to the
//! [`State`] the service is in, what to do about it ([`Actions`]) and how soon to look again.
//!
//! The state is recomputed from observations on every tick rather than stepped from the previous
//! one, so flags that go backwards (a fixture's `finished` turning false again, as real FPL
//! does) move the state back by themselves. Only the event's `data_checked` finalizes.
//!
//! | state | when | does |
//! |---|---|---|
//! | `PRE_SEASON` | a season whose first deadline is still far (no gameweek current) | re-check tracked managers once after a rollover |
//! | `PRE_DEADLINE` | the last gameweek is final (or none began) and the next deadline is near | nothing |
//! | `PICKS_WAIT` | deadline passed, FPL still hiding picks (`live.picks_wait_mins`) | nothing |
//! | `PICKS_SYNC` | tracked managers' picks are missing, no match in its window | fetch picks |
//! | `LIVE_ACTIVE` | a fixture is in its match window | snapshot |
//! | `BETWEEN_FIXTURES` | no match in its window, more to come | snapshot |
//! | `DAY_SETTLING` | matches over but not all `finished` | snapshot |
//! | `GW_REVIEW` | every fixture `finished`, waiting for `data_checked` | snapshot, metadata |
//! | `FINALIZED` | `data_checked` and finalized; the next deadline is far | nothing |

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::LiveSettings;

/// Where the current gameweek is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    PreSeason,
    PreDeadline,
    PicksWait,
    PicksSync,
    LiveActive,
    BetweenFixtures,
    DaySettling,
    GwReview,
    Finalized,
}

impl State {
    pub const ALL: [State; 9] = [
        State::PreSeason,
        State::PreDeadline,
        State::PicksWait,
        State::PicksSync,
        State::LiveActive,
        State::BetweenFixtures,
        State::DaySettling,
        State::GwReview,
        State::Finalized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::PreSeason => "PRE_SEASON",
            State::PreDeadline => "PRE_DEADLINE",
            State::PicksWait => "PICKS_WAIT",
            State::PicksSync => "PICKS_SYNC",
            State::LiveActive => "LIVE_ACTIVE",
            State::BetweenFixtures => "BETWEEN_FIXTURES",
            State::DaySettling => "DAY_SETTLING",
            State::GwReview => "GW_REVIEW",
            State::Finalized => "FINALIZED",
        }
    }

    /// Live data is expected to move: its staleness matters.
    pub fn is_live(self) -> bool {
        matches!(self, State::LiveActive | State::DaySettling)
    }
}

/// The gameweek whose deadline has passed most recently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventObs {
    pub id: u16,
    pub deadline: DateTime<Utc>,
    pub data_checked: bool,
}

/// One fixture of that gameweek, as last stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixtureObs {
    pub kickoff: Option<DateTime<Utc>>,
    pub started: bool,
    pub finished: bool,
    pub finished_provisional: bool,
}

impl FixtureObs {
    fn over(&self) -> bool {
        self.finished || self.finished_provisional
    }
}

/// Everything the lifecycle decides from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Now on FPL's clock.
    pub now: DateTime<Utc>,
    /// `None` before the season's first deadline.
    pub current: Option<EventObs>,
    pub next_deadline: Option<DateTime<Utc>>,
    pub fixtures: Vec<FixtureObs>,
    /// Some tracked managers have no picks for the current gameweek yet.
    pub picks_missing: bool,
    /// The service followed the current gameweek (picks or a snapshot of it are stored): only
    /// such a gameweek is finalized, not one that ended before the service started.
    pub followed: bool,
    /// The current gameweek has been finalized.
    pub finalized: bool,
    /// Identical snapshots in a row.
    pub unchanged_snapshots: u32,
    /// A season before this one is stored and some tracked managers have no entry info of this
    /// one yet: they are to be re-checked (an old id may now be someone else's, or gone).
    pub recheck_pending: bool,
}

/// What a tick does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Actions {
    /// Fetch the picks of tracked managers that have none for the gameweek.
    pub sync_picks: bool,
    /// Take a live snapshot (players, fixtures, manager scores).
    pub snapshot: bool,
    /// Refresh the metadata, to see `data_checked`.
    pub refresh_meta: bool,
    /// Fetch the gameweek's fixtures: none is stored, so no kick-off (and no match window) is
    /// known yet. One request, once.
    pub sync_fixtures: bool,
    /// Record the official results and compare them with ours, once.
    pub finalize: bool,
    /// Fetch the tracked managers' entry info of the new season (re-checking last season's).
    pub recheck_entries: bool,
}

/// The lifecycle's verdict on one observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub state: State,
    pub event: Option<u16>,
    pub actions: Actions,
    #[serde(skip)]
    pub next_poll: Duration,
}

/// The timings of `[live]`, as durations.
#[derive(Debug, Clone)]
pub struct Timing {
    pub picks_wait: chrono::Duration,
    pub pre_deadline: chrono::Duration,
    pub window_before: chrono::Duration,
    pub window_after: chrono::Duration,
    pub window_max: chrono::Duration,
    pub stable_after: u32,
    intervals: [Duration; 9],
}

impl Timing {
    pub fn from_settings(l: &LiveSettings) -> Self {
        let i = &l.interval_secs;
        let secs = |s: f64| Duration::from_secs_f64(s);
        Timing {
            picks_wait: chrono::Duration::minutes(i64::from(l.picks_wait_mins)),
            pre_deadline: chrono::Duration::hours(i64::from(l.pre_deadline_hours)),
            window_before: chrono::Duration::minutes(i64::from(l.window_before_mins)),
            window_after: chrono::Duration::minutes(i64::from(l.window_after_mins)),
            window_max: chrono::Duration::hours(i64::from(l.window_max_hours)),
            stable_after: l.stable_after,
            intervals: [
                secs(i.pre_deadline),
                secs(i.picks_wait),
                secs(i.picks_sync),
                secs(i.live_active),
                secs(i.between_fixtures),
                secs(i.day_settling),
                secs(i.gw_review),
                secs(i.finalized),
                secs(i.day_settling_stable),
            ],
        }
    }

    fn interval(&self, state: State, unchanged: u32) -> Duration {
        let i = match state {
            State::DaySettling if unchanged >= self.stable_after => 8,
            State::PreDeadline => 0,
            State::PicksWait => 1,
            State::PicksSync => 2,
            State::LiveActive => 3,
            State::BetweenFixtures => 4,
            State::DaySettling => 5,
            State::GwReview => 6,
            // Weeks from the first deadline, nothing moves: as rarely as after a final
            // gameweek.
            State::Finalized | State::PreSeason => 7,
        };
        self.intervals[i]
    }

    /// A fixture is in its match window: from just before kick-off until it is over, or two
    /// hours after kick-off; a started match not yet over holds it open up to `window_max`.
    fn in_window(&self, f: &FixtureObs, now: DateTime<Utc>) -> bool {
        let Some(kickoff) = f.kickoff else {
            return false;
        };
        if f.over() {
            return false;
        }
        let scheduled = kickoff - self.window_before <= now && now <= kickoff + self.window_after;
        let overdue = f.started && now <= kickoff + self.window_max;
        scheduled || overdue
    }
}

/// Decides the state and the tick's actions.
pub fn decide(obs: &Observation, timing: &Timing) -> Decision {
    let mut d = decide_state(obs, timing);
    // After a rollover, whatever the state: once, the tracked managers of last season are
    // looked up in the new one.
    d.actions.recheck_entries = obs.recheck_pending;
    // The match windows come from the stored fixtures: a gameweek under way whose fixtures are
    // unknown (the fixtures job has not run since they were published) gets them fetched, or a
    // long picks sync would run past kick-off without a live tick.
    if obs.fixtures.is_empty()
        && !matches!(
            d.state,
            State::PreSeason | State::PreDeadline | State::Finalized
        )
    {
        d.actions.sync_fixtures = true;
    }
    d
}

fn decide_state(obs: &Observation, timing: &Timing) -> Decision {
    let decision = |state, actions| Decision {
        state,
        event: obs.current.map(|e| e.id),
        actions,
        next_poll: timing.interval(state, obs.unchanged_snapshots),
    };
    let deadline_near = obs
        .next_deadline
        .is_some_and(|d| d - obs.now <= timing.pre_deadline);
    let Some(event) = obs.current else {
        // Before the season's first deadline: nothing of a gameweek can be fetched yet (no
        // picks, no live data, leagues without results), so nothing is asked for.
        let state = if deadline_near {
            State::PreDeadline
        } else {
            State::PreSeason
        };
        return decision(state, Actions::default());
    };
    if event.data_checked && (obs.finalized || !obs.followed) {
        let state = if deadline_near {
            State::PreDeadline
        } else {
            State::Finalized
        };
        return decision(state, Actions::default());
    }
    if event.data_checked {
        // Final data: one last snapshot is part of finalizing.
        let actions = Actions {
            finalize: true,
            ..Actions::default()
        };
        return decision(State::GwReview, actions);
    }
    if obs.now < event.deadline + timing.picks_wait {
        return decision(State::PicksWait, Actions::default());
    }
    let sync_picks = obs.picks_missing;
    let snapshot = Actions {
        sync_picks,
        snapshot: true,
        ..Actions::default()
    };
    if obs.fixtures.iter().any(|f| timing.in_window(f, obs.now)) {
        return decision(State::LiveActive, snapshot);
    }
    if !obs.fixtures.is_empty() && obs.fixtures.iter().all(|f| f.finished) {
        // Waiting for `data_checked`, possibly overnight: the metadata refresh (which shows it)
        // every tick, a snapshot only until the data has been identical `stable_after` times —
        // bonus revisions are caught then, and the final snapshot of finalization catches any
        // later. Once stable, a tick costs FPL two requests (the probe and the metadata).
        let actions = Actions {
            refresh_meta: true,
            snapshot: obs.unchanged_snapshots < timing.stable_after,
            sync_picks,
            ..Actions::default()
        };
        return decision(State::GwReview, actions);
    }
    if obs.fixtures.iter().any(|f| f.started && !f.finished) {
        return decision(State::DaySettling, snapshot);
    }
    if sync_picks {
        let actions = Actions {
            sync_picks: true,
            ..Actions::default()
        };
        return decision(State::PicksSync, actions);
    }
    decision(State::BetweenFixtures, snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn timing() -> Timing {
        let settings = crate::config::Settings::defaults();
        Timing::from_settings(&settings.live)
    }

    fn deadline() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 24, 13, 30, 0).unwrap()
    }

    fn kickoff() -> DateTime<Utc> {
        deadline() + chrono::Duration::minutes(90)
    }

    fn fixture(started: bool, provisional: bool, finished: bool) -> FixtureObs {
        FixtureObs {
            kickoff: Some(kickoff()),
            started,
            finished,
            finished_provisional: provisional,
        }
    }

    fn at(minutes_after_deadline: i64, fixtures: Vec<FixtureObs>) -> Observation {
        Observation {
            now: deadline() + chrono::Duration::minutes(minutes_after_deadline),
            current: Some(EventObs {
                id: 38,
                deadline: deadline(),
                data_checked: false,
            }),
            next_deadline: None,
            fixtures,
            picks_missing: false,
            followed: true,
            finalized: false,
            unchanged_snapshots: 0,
            recheck_pending: false,
        }
    }

    #[test]
    fn within_the_picks_wait_after_the_deadline_nothing_is_fetched() {
        let d = decide(&at(30, vec![fixture(false, false, false)]), &timing());
        assert_eq!(d.state, State::PicksWait);
        assert_eq!(d.actions, Actions::default());
        assert_eq!(d.next_poll, Duration::from_secs(120));
    }

    #[test]
    fn a_gameweek_under_way_without_stored_fixtures_gets_them_fetched() {
        let mut obs = at(61, Vec::new());
        obs.picks_missing = true;
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::PicksSync);
        assert!(d.actions.sync_picks && d.actions.sync_fixtures);
        // Once stored, the kick-offs are known: no more fetching.
        obs.fixtures = vec![fixture(false, false, false)];
        assert!(!decide(&obs, &timing()).actions.sync_fixtures);
    }

    #[test]
    fn missing_picks_are_synced_once_the_wait_is_over() {
        let mut obs = at(61, vec![fixture(false, false, false)]);
        obs.picks_missing = true;
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::PicksSync);
        assert!(d.actions.sync_picks && !d.actions.snapshot);
        obs.picks_missing = false;
        assert_eq!(decide(&obs, &timing()).state, State::BetweenFixtures);
    }

    #[test]
    fn a_match_in_its_window_makes_the_gameweek_live_and_polls_every_30_seconds() {
        let d = decide(&at(86, vec![fixture(false, false, false)]), &timing());
        assert_eq!(d.state, State::LiveActive);
        assert!(d.actions.snapshot);
        assert_eq!(d.next_poll, Duration::from_secs(30));
        // Still live after the window's two hours while the match is not over.
        let late = decide(&at(90 + 150, vec![fixture(true, false, false)]), &timing());
        assert_eq!(late.state, State::LiveActive);
    }

    #[test]
    fn missing_picks_are_still_fetched_while_matches_are_live() {
        let mut obs = at(100, vec![fixture(true, false, false)]);
        obs.picks_missing = true;
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::LiveActive);
        assert!(d.actions.sync_picks && d.actions.snapshot);
    }

    #[test]
    fn matches_over_but_not_finished_settle_then_slow_down_once_stable() {
        let mut obs = at(210, vec![fixture(true, true, false)]);
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::DaySettling);
        assert_eq!(d.next_poll, Duration::from_secs(60));
        obs.unchanged_snapshots = 3;
        assert_eq!(decide(&obs, &timing()).next_poll, Duration::from_secs(300));
    }

    #[test]
    fn every_fixture_finished_means_review_with_a_metadata_refresh() {
        let mut obs = at(420, vec![fixture(true, true, true); 2]);
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::GwReview);
        assert!(d.actions.refresh_meta && d.actions.snapshot && !d.actions.finalize);
        // Once the snapshots are stable, only the metadata: three requests a tick at most.
        obs.unchanged_snapshots = 3;
        let d = decide(&obs, &timing());
        assert!(d.actions.refresh_meta && !d.actions.snapshot);
    }

    #[test]
    fn a_finished_flag_going_back_moves_the_state_back() {
        let done = vec![fixture(true, true, true); 2];
        assert_eq!(decide(&at(800, done), &timing()).state, State::GwReview);
        let flipped = vec![fixture(true, true, true), fixture(true, true, false)];
        assert_eq!(
            decide(&at(900, flipped), &timing()).state,
            State::DaySettling
        );
    }

    #[test]
    fn only_data_checked_finalizes_and_only_once() {
        let mut obs = at(1140, vec![fixture(true, true, true)]);
        obs.current.as_mut().unwrap().data_checked = true;
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::GwReview);
        assert!(d.actions.finalize);
        obs.finalized = true;
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::Finalized);
        assert_eq!(d.actions, Actions::default());
    }

    #[test]
    fn a_gameweek_that_ended_before_the_service_followed_it_is_not_finalized() {
        let mut obs = at(3000, vec![fixture(true, true, true)]);
        obs.current.as_mut().unwrap().data_checked = true;
        obs.followed = false;
        obs.next_deadline = Some(obs.now + chrono::Duration::hours(3));
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::PreDeadline);
        assert!(!d.actions.finalize);
    }

    #[test]
    fn before_the_first_deadline_the_season_waits_asking_for_nothing_then_nears_its_deadline() {
        let mut obs = at(0, Vec::new());
        obs.current = None;
        obs.next_deadline = Some(obs.now + chrono::Duration::days(20));
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::PreSeason);
        assert_eq!(d.actions, Actions::default());
        assert_eq!(d.event, None);
        assert_eq!(d.next_poll, Duration::from_secs(300));
        obs.next_deadline = Some(obs.now + chrono::Duration::hours(3));
        assert_eq!(decide(&obs, &timing()).state, State::PreDeadline);
        // A season with no deadline at all yet (FPL publishes the fixtures later).
        obs.next_deadline = None;
        assert_eq!(decide(&obs, &timing()).state, State::PreSeason);
    }

    #[test]
    fn after_a_rollover_the_tracked_managers_are_rechecked_once_whatever_the_state() {
        let mut obs = at(0, Vec::new());
        obs.current = None;
        obs.recheck_pending = true;
        let d = decide(&obs, &timing());
        assert_eq!(d.state, State::PreSeason);
        assert_eq!(
            d.actions,
            Actions {
                recheck_entries: true,
                ..Actions::default()
            }
        );
        let mut live = at(86, vec![fixture(false, false, false)]);
        live.recheck_pending = true;
        let d = decide(&live, &timing());
        assert!(d.actions.snapshot && d.actions.recheck_entries);
    }
}
