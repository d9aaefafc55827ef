//! The scenario clock: phases of a gameweek, the timeline of a scenario, and simulated time.
//!
//! Simulated time is `base_sim + (real now − base_real) × speed`; jumping, advancing or changing
//! the speed re-bases it, so the clock never runs backwards unless told to. The current phase is
//! a pure function of simulated time: the last step of the [`Timeline`] that has started.
//!
//! Every gameweek goes through the same nine phases, each starting at a fixed offset from the
//! gameweek's deadline `D` (see [`Phase::offset`]). At the demo speed of 1800 (one real second is
//! thirty simulated minutes) a gameweek's phases take 44 s from `D − 3h` to `FINAL`, and the
//! season scenario starts the next gameweek 60 s after the previous one.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The phases of one gameweek, in order; and the pre-season of a new season before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Phase {
    /// A new season is published and gameweek 1 is next; no gameweek is current (the rollover
    /// scenario's 2026-27, from eight days before gameweek 1's deadline). Not one of a
    /// gameweek's own phases ([`Phase::ALL`]).
    PreSeason,
    /// Before the deadline: this gameweek `is_next`, the previous one current and final.
    PreDeadline,
    /// Around the deadline: every endpoint answers the 503 "game is being updated" page.
    UpdatingDeadline,
    /// Deadline passed: the gameweek is current, picks visible, no match started, live all zero.
    DeadlinePassed,
    /// Matches in play (GW38: the `8349cd6` snapshot, all ten games at 45 minutes).
    InPlay,
    /// All matches finished provisionally, provisional bonus (GW38: `5b1d97c`).
    Provisional,
    /// Fixtures `finished`, the event `finished`, not yet `data_checked`.
    Finished,
    /// One fixture's `finished` turns false again (and the event's with it), as real FPL does.
    FlagFlip,
    /// The 503 update page again, before the final data.
    UpdatingFinal,
    /// Final: event `finished` and `data_checked` (GW38: `11ca943`).
    Final,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::PreDeadline,
        Phase::UpdatingDeadline,
        Phase::DeadlinePassed,
        Phase::InPlay,
        Phase::Provisional,
        Phase::Finished,
        Phase::FlagFlip,
        Phase::UpdatingFinal,
        Phase::Final,
    ];

    /// When the phase starts, relative to the gameweek's deadline.
    ///
    /// | phase | offset | at speed 1800 |
    /// |---|---|---|
    /// | PRE_DEADLINE | −3 h | 6 s |
    /// | UPDATING_DEADLINE | 0 | 1 s |
    /// | DEADLINE_PASSED | +30 min | 2 s |
    /// | IN_PLAY | +1 h 30 (kick-off) | 4 s |
    /// | PROVISIONAL | +3 h 30 | 7 s |
    /// | FINISHED | +7 h | 16 s |
    /// | FLAG_FLIP | +15 h | 6 s |
    /// | UPDATING_FINAL | +18 h | 2 s |
    /// | FINAL | +19 h | until the next gameweek (+27 h) or for ever |
    pub fn offset(self) -> Duration {
        let minutes = match self {
            Phase::PreSeason => -8 * 24 * 60,
            Phase::PreDeadline => -180,
            Phase::UpdatingDeadline => 0,
            Phase::DeadlinePassed => 30,
            Phase::InPlay => 90,
            Phase::Provisional => 210,
            Phase::Finished => 420,
            Phase::FlagFlip => 900,
            Phase::UpdatingFinal => 1080,
            Phase::Final => 1140,
        };
        Duration::minutes(minutes)
    }

    /// The name used by the control API (`"IN_PLAY"`).
    pub fn name(self) -> &'static str {
        match self {
            Phase::PreSeason => "PRE_SEASON",
            Phase::PreDeadline => "PRE_DEADLINE",
            Phase::UpdatingDeadline => "UPDATING_DEADLINE",
            Phase::DeadlinePassed => "DEADLINE_PASSED",
            Phase::InPlay => "IN_PLAY",
            Phase::Provisional => "PROVISIONAL",
            Phase::Finished => "FINISHED",
            Phase::FlagFlip => "FLAG_FLIP",
            Phase::UpdatingFinal => "UPDATING_FINAL",
            Phase::Final => "FINAL",
        }
    }

    /// Parses a control-API name, case-insensitively; `UPDATING` means the deadline update.
    pub fn parse(name: &str) -> Option<Phase> {
        let upper = name.trim().to_ascii_uppercase().replace('-', "_");
        if upper == "UPDATING" {
            return Some(Phase::UpdatingDeadline);
        }
        std::iter::once(Phase::PreSeason)
            .chain(Phase::ALL)
            .find(|p| p.name() == upper)
    }

    /// Every FPL endpoint answers the 503 update page.
    pub fn is_updating(self) -> bool {
        matches!(self, Phase::UpdatingDeadline | Phase::UpdatingFinal)
    }

    /// The deadline has passed: the gameweek is the current one and its picks are public.
    pub fn deadline_passed(self) -> bool {
        self >= Phase::DeadlinePassed
    }

    /// Automatic substitutions and the captain→vice switch are applied (the event finished).
    pub fn subs_applied(self) -> bool {
        self >= Phase::Finished
    }
}

/// Time between consecutive gameweek deadlines in the season scenario.
pub const GAMEWEEK_CYCLE: Duration = Duration::hours(30);

/// The season every scenario starts in.
pub const SEASON: &str = "2025-26";
/// The season the rollover scenario rolls over into.
pub const NEXT_SEASON: &str = "2026-27";

/// One phase of one gameweek and when it starts (simulated time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    /// [`SEASON`], or [`NEXT_SEASON`] after a rollover.
    pub season: &'static str,
    pub event: u16,
    pub phase: Phase,
    pub at: DateTime<Utc>,
}

impl Step {
    /// The step belongs to the season after the rollover.
    pub fn next_season(&self) -> bool {
        self.season == NEXT_SEASON
    }
}

/// All steps of a scenario, in time order.
#[derive(Debug, Clone)]
pub struct Timeline {
    steps: Vec<Step>,
}

impl Timeline {
    /// The steps of gameweeks with the given deadlines (ascending, at least one).
    pub fn new(deadlines: &[(u16, DateTime<Utc>)]) -> Self {
        assert!(!deadlines.is_empty(), "a timeline needs a gameweek");
        let steps = deadlines
            .iter()
            .flat_map(|&(event, deadline)| {
                Phase::ALL.into_iter().map(move |phase| Step {
                    season: SEASON,
                    event,
                    phase,
                    at: deadline + phase.offset(),
                })
            })
            .collect();
        Timeline { steps }
    }

    /// The rollover after the last step: [`NEXT_SEASON`]'s PRE_SEASON, then gameweek 1's
    /// PRE_DEADLINE, UPDATING_DEADLINE and DEADLINE_PASSED (which lasts for ever), around its
    /// deadline `first_deadline`.
    pub fn with_next_season(mut self, first_deadline: DateTime<Utc>) -> Self {
        for phase in [
            Phase::PreSeason,
            Phase::PreDeadline,
            Phase::UpdatingDeadline,
            Phase::DeadlinePassed,
        ] {
            self.steps.push(Step {
                season: NEXT_SEASON,
                event: 1,
                phase,
                at: first_deadline + phase.offset(),
            });
        }
        self
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// When the scenario starts: the first gameweek's PRE_DEADLINE.
    pub fn start(&self) -> DateTime<Utc> {
        self.steps[0].at
    }

    /// The index of the step in force at `t` (the first one before the start).
    pub fn index_at(&self, t: DateTime<Utc>) -> usize {
        self.steps.partition_point(|s| s.at <= t).saturating_sub(1)
    }

    pub fn get(&self, index: usize) -> Step {
        self.steps[index]
    }

    /// The step of `phase` in gameweek `event` (the latest season's when both have it; the
    /// pre-season whatever the gameweek).
    pub fn find(&self, event: u16, phase: Phase) -> Option<usize> {
        self.steps
            .iter()
            .rposition(|s| (s.event == event || phase == Phase::PreSeason) && s.phase == phase)
    }

    /// Gameweeks of the timeline's first season, ascending.
    pub fn events(&self) -> impl Iterator<Item = u16> + '_ {
        self.steps
            .iter()
            .filter(|s| s.phase == Phase::PreDeadline && !s.next_season())
            .map(|s| s.event)
    }
}

/// Simulated time: a base point that moves at `speed` simulated seconds per real second.
#[derive(Debug, Clone)]
pub struct Clock {
    base_sim: DateTime<Utc>,
    base_real: Instant,
    speed: f64,
}

impl Clock {
    pub fn new(start: DateTime<Utc>, speed: f64) -> Self {
        Clock {
            base_sim: start,
            base_real: Instant::now(),
            speed: sanitize(speed),
        }
    }

    /// Simulated time at real instant `real`.
    pub fn at(&self, real: Instant) -> DateTime<Utc> {
        let elapsed = real.saturating_duration_since(self.base_real).as_secs_f64();
        let ms = (elapsed * self.speed * 1000.0).min(1e15) as i64;
        self.base_sim + Duration::milliseconds(ms)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.at(Instant::now())
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Changes the speed from now on (0 stops the clock).
    pub fn set_speed(&mut self, speed: f64) {
        self.rebase(self.now());
        self.speed = sanitize(speed);
    }

    /// Sets simulated time to `t`.
    pub fn jump(&mut self, t: DateTime<Utc>) {
        self.rebase(t);
    }

    /// Moves simulated time by `by` (negative goes back).
    pub fn advance(&mut self, by: Duration) {
        let now = self.now();
        self.rebase(now + by);
    }

    fn rebase(&mut self, sim: DateTime<Utc>) {
        self.base_sim = sim;
        self.base_real = Instant::now();
    }
}

fn sanitize(speed: f64) -> f64 {
    if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline() -> DateTime<Utc> {
        "2026-05-24T13:30:00Z".parse().unwrap()
    }

    #[test]
    fn phases_are_ordered_and_named_for_the_control_api() {
        let offsets: Vec<Duration> = Phase::ALL.iter().map(|p| p.offset()).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]));
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.name()), Some(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::json!(p.name())
            );
        }
        assert_eq!(Phase::parse("updating"), Some(Phase::UpdatingDeadline));
        assert_eq!(Phase::parse("in-play"), Some(Phase::InPlay));
        assert_eq!(Phase::parse("half-time"), None);
    }

    #[test]
    fn a_gameweek_takes_about_a_minute_at_demo_speed() {
        let to_final = Phase::Final.offset() - Phase::PreDeadline.offset();
        assert_eq!(to_final.num_seconds() as f64 / 1800.0, 44.0);
        assert_eq!(GAMEWEEK_CYCLE.num_seconds() as f64 / 1800.0, 60.0);
        // GW38's real kick-off is 90 minutes after its deadline: IN_PLAY starts there.
        assert_eq!(
            deadline() + Phase::InPlay.offset(),
            "2026-05-24T15:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn the_phase_in_force_is_the_last_step_started() {
        let d37 = deadline() - GAMEWEEK_CYCLE;
        let t = Timeline::new(&[(37, d37), (38, deadline())]);
        assert_eq!(t.steps().len(), 18);
        assert_eq!(t.start(), d37 - Duration::hours(3));
        let at = |ts: DateTime<Utc>| {
            let s = t.get(t.index_at(ts));
            (s.event, s.phase)
        };
        assert_eq!(at(t.start() - Duration::days(1)), (37, Phase::PreDeadline));
        assert_eq!(
            at(deadline() - Duration::minutes(1)),
            (38, Phase::PreDeadline)
        );
        assert_eq!(at(deadline()), (38, Phase::UpdatingDeadline));
        assert_eq!(at(deadline() + Duration::hours(2)), (38, Phase::InPlay));
        assert_eq!(at(deadline() + Duration::hours(16)), (38, Phase::FlagFlip));
        assert_eq!(at(deadline() + Duration::days(30)), (38, Phase::Final));
        assert_eq!(at(d37 + Duration::hours(20)), (37, Phase::Final));
        assert_eq!(t.find(38, Phase::InPlay), Some(12));
        assert_eq!(t.events().collect::<Vec<_>>(), vec![37, 38]);
    }

    #[test]
    fn simulated_time_runs_at_the_set_speed_and_can_be_moved() {
        let start = deadline();
        let mut c = Clock::new(start, 1800.0);
        let real = c.base_real + std::time::Duration::from_secs(2);
        assert_eq!(c.at(real), start + Duration::hours(1));
        c.set_speed(0.0);
        let frozen = c.now();
        assert_eq!(
            c.at(Instant::now() + std::time::Duration::from_secs(60)),
            frozen
        );
        c.advance(Duration::minutes(90));
        assert_eq!(c.now(), frozen + Duration::minutes(90));
        c.jump(start);
        assert_eq!(c.now(), start);
        c.set_speed(f64::NAN);
        assert_eq!(c.speed(), 0.0);
    }
}
