//! The queue of one job kind, as pure data: order (manual runs go first), coalescing of
//! identical requests, the capacity bound and exclusivity. The actor owns one and asks it what to
//! do with each request; nothing here does I/O.

use std::collections::VecDeque;

use serde_json::Value;

use crate::run::{RunId, Trigger};

/// A run waiting its turn.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: RunId,
    pub trigger: Trigger,
    /// Normal-form parameters as text: the coalescing key.
    pub key: String,
    pub params: Value,
}

impl Queued {
    pub fn new(id: RunId, trigger: Trigger, params: Value) -> Self {
        Queued {
            id,
            trigger,
            key: params.to_string(),
            params,
        }
    }
}

/// What to do with a request, before anything is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Record it and queue it.
    Accept,
    /// A queued or running run has the same parameters: answer with it.
    Coalesce(RunId),
    /// The kind is exclusive and this run is queued or running: refuse a manual request.
    Busy(RunId),
    /// The queue holds `capacity` runs already.
    Full,
}

/// A request as the queue judges it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub key: &'a str,
    pub trigger: Trigger,
    /// A re-run repeats one particular run: it is never folded into another request (its
    /// uniqueness is the store's: one re-run per run).
    pub rerun: bool,
}

#[derive(Debug)]
pub struct RunQueue {
    waiting: VecDeque<Queued>,
    capacity: usize,
    exclusive: bool,
}

impl RunQueue {
    pub fn new(capacity: usize, exclusive: bool) -> Self {
        RunQueue {
            waiting: VecDeque::new(),
            capacity,
            exclusive,
        }
    }

    /// Judges `request` given the run under way (its id and key), if any.
    pub fn admit(&self, request: Request<'_>, running: Option<(RunId, &str)>) -> Admission {
        if self.exclusive
            && request.trigger == Trigger::Manual
            && let Some(busy) = running
                .map(|(id, _)| id)
                .or_else(|| self.waiting.front().map(|q| q.id))
        {
            return Admission::Busy(busy);
        }
        if !request.rerun
            && let Some(id) = running
                .into_iter()
                .chain(self.waiting.iter().map(|q| (q.id, q.key.as_str())))
                .find(|(_, key)| *key == request.key)
                .map(|(id, _)| id)
        {
            return Admission::Coalesce(id);
        }
        if self.waiting.len() >= self.capacity {
            return Admission::Full;
        }
        Admission::Accept
    }

    /// Queues a run: a manual one after the manual runs already waiting but before every other,
    /// so an operator is served before scheduled work; others at the back.
    pub fn push(&mut self, run: Queued) {
        let at = if run.trigger == Trigger::Manual {
            self.waiting
                .iter()
                .position(|q| q.trigger != Trigger::Manual)
                .unwrap_or(self.waiting.len())
        } else {
            self.waiting.len()
        };
        self.waiting.insert(at, run);
    }

    /// The next run to start.
    pub fn pop(&mut self) -> Option<Queued> {
        self.waiting.pop_front()
    }

    /// Takes a queued run out (cancelled); false if it is not queued.
    pub fn remove(&mut self, id: RunId) -> bool {
        match self.waiting.iter().position(|q| q.id == id) {
            Some(at) => {
                self.waiting.remove(at);
                true
            }
            None => false,
        }
    }

    pub fn ids(&self) -> Vec<RunId> {
        self.waiting.iter().map(|q| q.id).collect()
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn queued(id: i64, trigger: Trigger, params: Value) -> Queued {
        Queued::new(RunId(id), trigger, params)
    }

    fn request(key: &str, trigger: Trigger) -> Request<'_> {
        Request {
            key,
            trigger,
            rerun: false,
        }
    }

    #[test]
    fn manual_runs_go_ahead_of_other_triggers_but_keep_their_own_order() {
        let mut q = RunQueue::new(8, false);
        q.push(queued(1, Trigger::Schedule, json!({"a": 1})));
        q.push(queued(2, Trigger::Manual, json!({"a": 2})));
        q.push(queued(3, Trigger::Dependency, json!({"a": 3})));
        q.push(queued(4, Trigger::Manual, json!({"a": 4})));
        assert_eq!(q.ids(), [RunId(2), RunId(4), RunId(1), RunId(3)]);
        assert_eq!(q.pop().map(|r| r.id), Some(RunId(2)));
    }

    #[test]
    fn identical_parameters_coalesce_with_the_running_or_a_queued_run() {
        let mut q = RunQueue::new(8, false);
        q.push(queued(5, Trigger::Schedule, json!({"event": 3})));
        let running = Some((RunId(4), r#"{"event":2}"#));
        assert_eq!(
            q.admit(request(r#"{"event":2}"#, Trigger::Manual), running),
            Admission::Coalesce(RunId(4))
        );
        assert_eq!(
            q.admit(request(r#"{"event":3}"#, Trigger::Lifecycle), running),
            Admission::Coalesce(RunId(5))
        );
        assert_eq!(
            q.admit(request(r#"{"event":4}"#, Trigger::Manual), running),
            Admission::Accept
        );
        let rerun = Request {
            rerun: true,
            ..request(r#"{"event":3}"#, Trigger::Recovery)
        };
        assert_eq!(q.admit(rerun, running), Admission::Accept);
    }

    #[test]
    fn a_full_queue_refuses_new_work_but_still_coalesces() {
        let mut q = RunQueue::new(2, false);
        q.push(queued(1, Trigger::Manual, json!({"a": 1})));
        q.push(queued(2, Trigger::Manual, json!({"a": 2})));
        assert_eq!(
            q.admit(request(r#"{"a":3}"#, Trigger::Manual), None),
            Admission::Full
        );
        assert_eq!(
            q.admit(request(r#"{"a":2}"#, Trigger::Manual), None),
            Admission::Coalesce(RunId(2))
        );
        assert!(q.remove(RunId(1)));
        assert!(!q.remove(RunId(1)));
        assert_eq!(
            q.admit(request(r#"{"a":3}"#, Trigger::Manual), None),
            Admission::Accept
        );
    }

    #[test]
    fn an_exclusive_kind_refuses_manual_requests_while_busy_but_lets_others_coalesce() {
        let mut q = RunQueue::new(8, true);
        assert_eq!(
            q.admit(request("{}", Trigger::Manual), None),
            Admission::Accept
        );
        q.push(queued(7, Trigger::Schedule, json!({})));
        assert_eq!(
            q.admit(request("{}", Trigger::Manual), None),
            Admission::Busy(RunId(7))
        );
        let running = Some((RunId(6), "{}"));
        assert_eq!(
            q.admit(request("{}", Trigger::Manual), running),
            Admission::Busy(RunId(6))
        );
        assert_eq!(
            q.admit(request("{}", Trigger::Dependency), running),
            Admission::Coalesce(RunId(6))
        );
    }
}
