-- Shared work (issue 17): a bulk run's units in PostgreSQL, claimed by every instance in small
-- batches under a lease (`FOR UPDATE SKIP LOCKED`), renewed while worked on and completed in
-- the transaction that stores the unit's data. The leader's run opens the work and waits for
-- it; an instance that dies leaves leases that expire and are claimed again by the others.

-- One bulk run's work, keyed by what it covers (e.g. `entries:picks:3:38`), not by run: the
-- run that re-runs an interrupted one (a new leader's start-up recovery) adopts it.
CREATE TABLE shared_work (
    key        TEXT        PRIMARY KEY,
    handler    TEXT        NOT NULL,   -- which unit handler does a unit (e.g. `entries-picks`)
    params     JSONB       NOT NULL,   -- what the handler needs (season, gameweek)
    run_id     BIGINT      NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    state      TEXT        NOT NULL CHECK (state IN ('open', 'closed')),
    opened_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX shared_work_run ON shared_work (run_id);

CREATE TABLE work_units (
    work_key     TEXT        NOT NULL REFERENCES shared_work (key) ON DELETE CASCADE,
    unit         BIGINT      NOT NULL,
    -- todo → leased → done (data stored) | unknown (FPL answered 404) | failed (backoff)
    state        TEXT        NOT NULL DEFAULT 'todo'
                 CHECK (state IN ('todo', 'leased', 'done', 'unknown', 'failed')),
    lease_owner  TEXT,        -- the instance holding the lease
    lease_role   TEXT,        -- its role when it claimed (leader / follower)
    lease_until  TIMESTAMPTZ,
    claims       INTEGER     NOT NULL DEFAULT 0,
    done_by      TEXT,        -- the instance that completed it
    done_role    TEXT,
    last_error   TEXT,
    PRIMARY KEY (work_key, unit)
);
-- What a claim looks for: units to do, or leased ones whose lease ran out.
CREATE INDEX work_units_claimable ON work_units (work_key, state, unit)
    WHERE state IN ('todo', 'leased');
