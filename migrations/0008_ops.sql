-- Operations: re-runs (start-up recovery and POST /recovery/failed-jobs), idempotent scheduled
-- ticks across instances, and which instance leads.

-- The run this one re-runs. Unique: a run is re-run at most once, however often recovery is
-- asked for (the constraint, not a read-then-write, makes it idempotent under concurrency).
ALTER TABLE job_runs ADD COLUMN rerun_of BIGINT REFERENCES job_runs (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX job_runs_rerun_of ON job_runs (rerun_of) WHERE rerun_of IS NOT NULL;

-- The cron tick a scheduled run was requested for. Unique per kind: even two instances that
-- both believe they lead cannot start the same scheduled run twice.
ALTER TABLE job_runs ADD COLUMN scheduled_for TIMESTAMPTZ;
CREATE UNIQUE INDEX job_runs_schedule_tick ON job_runs (kind, scheduled_for)
    WHERE scheduled_for IS NOT NULL;

-- An interrupted run that start-up recovery must re-run: set for runs a crash left `running`
-- (unless they are re-runs themselves) and for runs a graceful shutdown interrupted (an
-- operator's restart does not set it).
ALTER TABLE job_runs ADD COLUMN recover BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX job_runs_to_recover ON job_runs (id) WHERE recover;

-- The instance holding the leadership (the advisory lock), for followers and operators to see.
CREATE TABLE service_leader (
    singleton  BOOLEAN     PRIMARY KEY DEFAULT true CHECK (singleton),
    instance   TEXT        NOT NULL,
    http_addr  TEXT        NOT NULL,
    since      TIMESTAMPTZ NOT NULL DEFAULT now()
);
