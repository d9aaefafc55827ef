-- Real pace (issue 14): a tournament's roster is read by the `tournament-roster` job, page by
-- page with a checkpoint, and what FPL requests each gameweek cost is recorded.

-- The roster's read: `pending` (asked for), `reading`, `ready`, `failed`. A tournament with an
-- explicit entry list is `ready` at once. `roster_generation` tells one read from the next; the
-- pages of a read are gathered in tournament_roster_pages and become the roster only once the
-- last page is in.
ALTER TABLE tournaments
    ADD COLUMN roster_state      TEXT    NOT NULL DEFAULT 'ready'
                                 CHECK (roster_state IN ('pending', 'reading', 'ready', 'failed')),
    ADD COLUMN roster_generation INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN roster_pages_read INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN roster_run_id     BIGINT,
    ADD COLUMN roster_error      TEXT;

CREATE TABLE tournament_roster_pages (
    tournament_id BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    generation    INTEGER NOT NULL,
    entry_id      BIGINT  NOT NULL,
    page          INTEGER NOT NULL,
    name          TEXT,
    player_name   TEXT,
    league_rank   INTEGER,
    PRIMARY KEY (tournament_id, generation, entry_id)
);

-- FPL requests sent (each attempt) per gameweek, by endpoint and priority, and the lifecycle's
-- ticks of it: what `GET /lifecycle` holds against the target 2E + 3 x ticks + 50.
CREATE TABLE fpl_requests_by_gameweek (
    season_id INTEGER NOT NULL,
    event_id  INTEGER NOT NULL,
    endpoint  TEXT    NOT NULL,
    priority  TEXT    NOT NULL,
    requests  BIGINT  NOT NULL CHECK (requests >= 0),
    PRIMARY KEY (season_id, event_id, endpoint, priority)
);

CREATE TABLE lifecycle_ticks (
    season_id INTEGER NOT NULL,
    event_id  INTEGER NOT NULL,
    ticks     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (season_id, event_id)
);
