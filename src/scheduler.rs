//! The scheduler actor: triggers job kinds from cron expressions (`[scheduler.jobs]`, seconds
//! field first), evaluated in the configured time zone so daylight-saving changes move runs with
//! the local clock.
//!
//! A tick asks for its run through [`JobDirectory::request_raw`] with a bounded wait, with the
//! parameters the kind takes when given none (checked by its spec at start-up): if the kind's
//! mailbox is
//! still full when the wait ends, the tick is skipped and counted
//! (`fplsync_job_requests_total{trigger="schedule",result="mailbox_full"}`) rather than piling up.
//!
//! Only the leader runs a scheduler (see `crate::leader`); each request carries its tick's time,
//! unique per kind in `job_runs`, so even two schedulers could not run one tick twice.

use std::time::Duration;

use actix::{Actor, ActorContext, AsyncContext, Context, Handler, WrapFuture};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::jobs::{Delivery, JobDirectory};
use crate::run::{JobKind, Trigger};
use crate::store::runs::RunOrigin;
use crate::supervisor::{ActorRegistry, ChildLink, Control, ExitGuard, ExitReason, StopChild};

/// One scheduled kind.
#[derive(Clone)]
pub struct ScheduleEntry {
    pub kind: JobKind,
    pub schedule: cron::Schedule,
    /// The kind's parameters when given none, in normal form (from its spec).
    pub params: Value,
}

/// What the scheduler needs, cloned into each incarnation.
#[derive(Clone)]
pub struct SchedulerDeps {
    pub entries: Vec<ScheduleEntry>,
    pub timezone: Tz,
    pub directory: JobDirectory,
    pub registry: ActorRegistry,
    pub capacity: usize,
    /// How long a tick waits for room in a full mailbox before it is skipped.
    pub send_timeout: Duration,
}

pub struct Scheduler {
    guard: ExitGuard,
    deps: SchedulerDeps,
    paused: bool,
}

/// The first time after `after` that `schedule` fires, in UTC.
pub fn next_fire(schedule: &cron::Schedule, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule
        .after(&after.with_timezone(&tz))
        .next()
        .map(|t| t.with_timezone(&Utc))
}

impl Scheduler {
    pub fn new(link: ChildLink, deps: SchedulerDeps) -> Self {
        Scheduler {
            guard: ExitGuard::new(link),
            deps,
            paused: false,
        }
    }

    fn plan(&self, idx: usize, after: DateTime<Utc>, ctx: &mut Context<Self>) {
        let entry = &self.deps.entries[idx];
        let Some(at) = next_fire(&entry.schedule, self.deps.timezone, after) else {
            tracing::warn!(kind = %entry.kind, "schedule has no future time; not planned");
            return;
        };
        let delay = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        ctx.run_later(delay, move |act, ctx| act.fire(idx, at, ctx));
    }

    fn fire(&mut self, idx: usize, at: DateTime<Utc>, ctx: &mut Context<Self>) {
        // Plan from the time this tick was due, not from now: a late timer never fires twice.
        self.plan(idx, at, ctx);
        let (kind, params) = {
            let entry = &self.deps.entries[idx];
            (entry.kind, entry.params.clone())
        };
        if self.paused {
            tracing::info!(%kind, "scheduled tick skipped: scheduler paused");
            return;
        }
        let (directory, wait) = (self.deps.directory.clone(), self.deps.send_timeout);
        ctx.spawn(
            async move {
                let delivery = Delivery::WaitUpTo(wait);
                // The tick's time goes with the request: `job_runs` holds one run per kind and
                // tick, so no tick runs twice, whichever instance fires it.
                let origin = RunOrigin { scheduled_for: Some(at), rerun_of: None };
                let trigger = (Trigger::Schedule, origin);
                match directory
                    .request_raw(kind, params, trigger, delivery, wait)
                    .await
                {
                    Ok(e) => tracing::debug!(%kind, run = %e.run_id, coalesced = e.coalesced, "scheduled run requested"),
                    Err(e) => tracing::warn!(%kind, error = %e, "scheduled tick skipped"),
                }
            }
            .into_actor(self),
        );
    }
}

impl Actor for Scheduler {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.deps.capacity);
        let name = self.guard.name().to_string();
        self.paused = self.deps.registry.is_paused(&name);
        self.deps
            .registry
            .attach(&name, None, Some(ctx.address().recipient()));
        let now = Utc::now();
        for idx in 0..self.deps.entries.len() {
            self.plan(idx, now, ctx);
        }
    }
}

impl Handler<Control> for Scheduler {
    type Result = Result<(), String>;

    fn handle(&mut self, msg: Control, _: &mut Context<Self>) -> Self::Result {
        self.paused = msg != Control::Resume;
        self.deps
            .registry
            .set_paused(self.guard.name(), self.paused);
        Ok(())
    }
}

impl Handler<StopChild> for Scheduler {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.guard.set(ExitReason::Normal);
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cron_times_follow_the_local_clock_across_daylight_saving() {
        let daily: cron::Schedule = "0 30 4 * * *".parse().unwrap();
        let london: Tz = "Europe/London".parse().unwrap();
        // 04:30 London is 04:30 UTC in winter and 03:30 UTC in summer.
        let winter = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
        assert_eq!(
            next_fire(&daily, london, winter).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 11, 4, 30, 0).unwrap()
        );
        let summer = Utc.with_ymd_and_hms(2026, 7, 10, 12, 0, 0).unwrap();
        assert_eq!(
            next_fire(&daily, london, summer).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 11, 3, 30, 0).unwrap()
        );
    }

    #[test]
    fn the_next_fire_is_strictly_after_the_previous_one() {
        let every_second: cron::Schedule = "* * * * * *".parse().unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let next = next_fire(&every_second, chrono_tz::UTC, t).unwrap();
        assert_eq!(next, t + chrono::Duration::seconds(1));
    }
}
