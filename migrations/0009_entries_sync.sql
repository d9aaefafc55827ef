-- The hybrid `entries` job: managers' season history beside their summary, and the units
-- (one manager in one stage of one gameweek) that failed, so they are tried again only after
-- their backoff. Units that succeeded need no record: their data is the checkpoint.

ALTER TABLE entries ADD COLUMN history JSONB;  -- entry/{id}/history/ as FPL sent it

CREATE TABLE entry_unit_failures (
    stage            TEXT        NOT NULL CHECK (stage IN ('info', 'picks', 'results')),
    event_id         INTEGER     NOT NULL,  -- 0 for `info`
    entry_id         BIGINT      NOT NULL,
    attempts         INTEGER     NOT NULL,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT        NOT NULL,
    PRIMARY KEY (stage, event_id, entry_id)
);
