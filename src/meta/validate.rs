//! Validation of metadata payloads before anything is written: relationships hold, ids are
//! unique, events are contiguous. A payload that fails writes nothing, and the message names
//! what is wrong.

use std::collections::HashSet;
use std::fmt;

use crate::fpl::model::{BootstrapStatic, Fixture};

/// Everything wrong with a payload (the first [`MAX_LISTED`] problems are listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub what: &'static str,
    pub problems: Vec<String>,
    pub more: usize,
}

const MAX_LISTED: usize = 10;

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is invalid: {}", self.what, self.problems.join("; "))?;
        if self.more > 0 {
            write!(f, "; and {} more", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

struct Problems {
    what: &'static str,
    listed: Vec<String>,
    more: usize,
}

impl Problems {
    fn new(what: &'static str) -> Self {
        Problems {
            what,
            listed: Vec::new(),
            more: 0,
        }
    }

    fn check(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if ok {
            return;
        }
        if self.listed.len() < MAX_LISTED {
            self.listed.push(problem());
        } else {
            self.more += 1;
        }
    }

    fn finish(self) -> Result<(), ValidationError> {
        if self.listed.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                what: self.what,
                problems: self.listed,
                more: self.more,
            })
        }
    }
}

/// Ids in `ids` that occur more than once.
fn duplicates<T: std::hash::Hash + Eq + Copy>(ids: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| !seen.insert(*id)).collect()
}

/// Checks a bootstrap-static payload.
pub fn bootstrap(b: &BootstrapStatic) -> Result<(), ValidationError> {
    let mut p = Problems::new("bootstrap-static");
    p.check(!b.events.is_empty(), || "it has no events".into());
    p.check(!b.teams.is_empty(), || "it has no teams".into());
    p.check(!b.element_types.is_empty(), || {
        "it has no element types".into()
    });

    for id in duplicates(b.events.iter().map(|e| e.id)) {
        p.check(false, || format!("event {id} appears twice"));
    }
    for id in duplicates(b.teams.iter().map(|t| t.id)) {
        p.check(false, || format!("team {id} appears twice"));
    }
    for id in duplicates(b.element_types.iter().map(|t| t.id)) {
        p.check(false, || format!("element type {id} appears twice"));
    }
    for id in duplicates(b.elements.iter().map(|e| e.id)) {
        p.check(false, || format!("player {id} appears twice"));
    }

    // Events are gameweeks 1..=n in order, each deadline after the previous one.
    for (i, e) in b.events.iter().enumerate() {
        let expected = i + 1;
        p.check(usize::from(e.id.0) == expected, || {
            format!(
                "events are not contiguous: position {expected} holds event {}",
                e.id
            )
        });
    }
    for pair in b.events.windows(2) {
        p.check(pair[0].deadline_time < pair[1].deadline_time, || {
            format!(
                "event {} has a deadline ({}) not after event {}'s ({})",
                pair[1].id, pair[1].deadline_time, pair[0].id, pair[0].deadline_time
            )
        });
    }
    p.check(
        b.events.iter().filter(|e| e.is_current).count() <= 1,
        || "more than one event is current".into(),
    );
    p.check(b.events.iter().filter(|e| e.is_next).count() <= 1, || {
        "more than one event is next".into()
    });

    let events: HashSet<_> = b.events.iter().map(|e| e.id).collect();
    // Phases are not needed (fplsync only stores them): a span is checked where it is given.
    for phase in &b.phases {
        let (Some(start), Some(stop)) = (phase.start_event, phase.stop_event) else {
            continue;
        };
        p.check(events.contains(&start) && events.contains(&stop), || {
            format!(
                "phase {} ({}) spans events {start}..{stop}, which are not all known",
                phase.id, phase.name
            )
        });
        p.check(start <= stop, || {
            format!("phase {} ends before it starts", phase.id)
        });
    }

    let teams: HashSet<_> = b.teams.iter().map(|t| t.id).collect();
    let types: HashSet<_> = b.element_types.iter().map(|t| t.id).collect();
    for e in &b.elements {
        p.check(teams.contains(&e.team), || {
            format!(
                "player {} ({}) references team {}, which is not in the payload",
                e.id, e.web_name, e.team
            )
        });
        p.check(types.contains(&e.element_type), || {
            format!(
                "player {} ({}) references element type {}, which is not in the payload",
                e.id, e.web_name, e.element_type
            )
        });
    }
    p.finish()
}

/// Checks fixtures against the season's known teams and events.
pub fn fixtures(
    fixtures: &[Fixture],
    teams: &HashSet<i32>,
    events: &HashSet<i32>,
) -> Result<(), ValidationError> {
    let mut p = Problems::new("fixtures");
    for id in duplicates(fixtures.iter().map(|f| f.id)) {
        p.check(false, || format!("fixture {id} appears twice"));
    }
    for f in fixtures {
        for (side, team) in [("home", f.team_h), ("away", f.team_a)] {
            p.check(teams.contains(&i32::from(team.0)), || {
                format!("fixture {} has unknown {side} team {team}", f.id)
            });
        }
        p.check(f.team_h != f.team_a, || {
            format!("fixture {} has team {} playing itself", f.id, f.team_h)
        });
        if let Some(event) = f.event {
            p.check(events.contains(&i32::from(event.0)), || {
                format!("fixture {} references unknown event {event}", f.id)
            });
        }
    }
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpl::model::{ElementTypeId, EventId, TeamId};
    use crate::fpl::samples;

    fn boot() -> BootstrapStatic {
        samples::decode(samples::gw38::BOOTSTRAP).unwrap()
    }

    #[test]
    fn every_real_bootstrap_sample_is_valid() {
        for (name, _) in samples::SAMPLES
            .iter()
            .filter(|(n, _)| n.starts_with("bootstrap-static/"))
        {
            let b: BootstrapStatic = samples::decode(name).unwrap();
            bootstrap(&b).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn a_player_of_an_unknown_team_is_named() {
        let mut b = boot();
        b.elements[0].team = TeamId(99);
        b.elements[1].element_type = ElementTypeId(9);
        let err = bootstrap(&b).unwrap_err().to_string();
        let name = &b.elements[0].web_name;
        assert!(
            err.contains(&format!("({name}) references team 99")),
            "{err}"
        );
        assert!(err.contains("references element type 9"), "{err}");
    }

    #[test]
    fn a_gap_in_the_events_is_refused() {
        let mut b = boot();
        b.events.remove(10);
        let err = bootstrap(&b).unwrap_err().to_string();
        assert!(
            err.contains("events are not contiguous: position 11 holds event 12"),
            "{err}"
        );
    }

    #[test]
    fn long_lists_of_problems_are_cut_with_a_count() {
        let mut b = boot();
        for e in &mut b.elements {
            e.team = TeamId(99);
        }
        let err = bootstrap(&b).unwrap_err();
        assert_eq!(err.problems.len(), MAX_LISTED);
        assert_eq!(err.more, b.elements.len() - MAX_LISTED);
    }

    #[test]
    fn real_fixtures_are_valid_and_an_unknown_team_or_event_is_named() {
        let b = boot();
        let mut fx: Vec<Fixture> = samples::decode(samples::gw38::FIXTURES_FINAL).unwrap();
        let teams = b.teams.iter().map(|t| i32::from(t.id.0)).collect();
        let events = b.events.iter().map(|e| i32::from(e.id.0)).collect();
        fixtures(&fx, &teams, &events).unwrap();
        fx[3].team_a = TeamId(42);
        fx[4].event = Some(EventId(77));
        let err = fixtures(&fx, &teams, &events).unwrap_err().to_string();
        assert!(
            err.contains(&format!("fixture {} has unknown away team 42", fx[3].id)),
            "{err}"
        );
        assert!(
            err.contains(&format!("fixture {} references unknown event 77", fx[4].id)),
            "{err}"
        );
    }
}
