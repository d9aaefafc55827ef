-- The supervised runtime: job runs with their log lines, and the supervision log.

CREATE TABLE job_runs (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT        NOT NULL,
    params        JSONB       NOT NULL DEFAULT '{}',
    trigger       TEXT        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'recovery', 'dependency')),
    status        TEXT        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'interrupted', 'cancelled')),
    attempt       INTEGER     NOT NULL DEFAULT 0,
    max_attempts  INTEGER     NOT NULL CHECK (max_attempts >= 1),
    stalls        INTEGER     NOT NULL DEFAULT 0,
    progress      SMALLINT    NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error         TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ
);
CREATE INDEX job_runs_kind_id ON job_runs (kind, id DESC);
CREATE INDEX job_runs_status_id ON job_runs (status, id DESC);

CREATE TABLE job_run_logs (
    id       BIGSERIAL PRIMARY KEY,
    run_id   BIGINT      NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    level    TEXT        NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message  TEXT        NOT NULL
);
CREATE INDEX job_run_logs_run ON job_run_logs (run_id, id);

CREATE TABLE supervision_events (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor       TEXT        NOT NULL,
    parent      TEXT,
    event       TEXT        NOT NULL CHECK (event IN ('started', 'stopped', 'failed', 'restarting', 'escalated', 'child_escalated')),
    detail      TEXT,
    backoff_ms  BIGINT,
    restarts    INTEGER     NOT NULL DEFAULT 0
);
CREATE INDEX supervision_events_actor ON supervision_events (actor, id DESC);
CREATE INDEX supervision_events_at ON supervision_events (at DESC);
