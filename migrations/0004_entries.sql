-- Managers (FPL entries) fplsync follows, their picks for a gameweek and their official results.
--
-- A manager is tracked while some source wants them: a configured list (`live.tracked_entries`)
-- or an active tournament (one row per source, so removing one source keeps the others).

CREATE TABLE entries (
    id             BIGINT      PRIMARY KEY,
    name           TEXT,
    player_name    TEXT,
    overall_rank   BIGINT,      -- null pre-season and while FPL has not ranked them
    summary_points INTEGER,
    data           JSONB,       -- entry/{id}/ as FPL sent it, when fetched
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE tracked_entries (
    entry_id   BIGINT      NOT NULL,
    source     TEXT        NOT NULL,   -- 'config' or 'tournament:{id}'
    added_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (entry_id, source)
);

-- One manager's picks for one gameweek, fetched once after the deadline and kept.
CREATE TABLE entry_picks (
    season_id      INTEGER     NOT NULL REFERENCES seasons (id),
    event_id       INTEGER     NOT NULL,
    entry_id       BIGINT      NOT NULL,
    active_chip    TEXT,
    transfers_cost INTEGER     NOT NULL,
    picks          JSONB       NOT NULL,  -- the 15 picks as FPL sent them
    fetched_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, event_id, entry_id)
);

-- The official result of one manager's gameweek (from the picks endpoint once the event is
-- data_checked), beside the points fplsync computed for it.
CREATE TABLE entry_event_results (
    season_id       INTEGER     NOT NULL REFERENCES seasons (id),
    event_id        INTEGER     NOT NULL,
    entry_id        BIGINT      NOT NULL,
    points          INTEGER     NOT NULL,  -- official entry_history.points (before costs)
    transfers_cost  INTEGER     NOT NULL,
    net_points      INTEGER     NOT NULL,
    bench_points    INTEGER     NOT NULL,
    total_points    INTEGER,
    event_rank      BIGINT,
    overall_rank    BIGINT,
    computed_points INTEGER,               -- fplsync's own, from the final live data
    active_chip     TEXT,
    picks           JSONB       NOT NULL,  -- final picks: substitutions and captaincy applied
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, event_id, entry_id)
);
CREATE INDEX entry_event_results_entry ON entry_event_results (entry_id, event_id);

-- The lifecycle's record of a gameweek: finalized exactly once.
CREATE TABLE event_finalizations (
    season_id     INTEGER     NOT NULL REFERENCES seasons (id),
    event_id      INTEGER     NOT NULL,
    entries       INTEGER     NOT NULL,
    mismatches    INTEGER     NOT NULL,
    finalized_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, event_id)
);

-- The lifecycle reads when the live data was last confirmed, even by an identical snapshot,
-- and how many identical snapshots came in a row (DAY_SETTLING slows down once stable).
ALTER TABLE live_snapshots
    ADD COLUMN checked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN unchanged  INTEGER     NOT NULL DEFAULT 0;

-- Runs asked for by the gameweek lifecycle.
ALTER TABLE job_runs DROP CONSTRAINT job_runs_trigger_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_trigger_check
    CHECK (trigger IN ('schedule', 'manual', 'recovery', 'dependency', 'lifecycle'));
