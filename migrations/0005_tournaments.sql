-- Tournaments built on FPL managers: their definition, roster, groups, fixtures, knockout bracket,
-- the per-entry gameweek statistics they are decided on, and the standings derived from them.
--
-- Structural changes (roster sync, activation, archiving) and result writes both lock the
-- tournament's row (SELECT … FOR UPDATE) first, so they never interleave.

CREATE TABLE tournaments (
    id                   BIGSERIAL   PRIMARY KEY,
    name                 TEXT        NOT NULL,
    state                TEXT        NOT NULL DEFAULT 'draft'
                         CHECK (state IN ('draft', 'active', 'archived')),
    source_kind          TEXT        NOT NULL CHECK (source_kind IN ('classic', 'h2h', 'entries')),
    source_league        BIGINT,                -- the FPL league for 'classic' and 'h2h'
    group_mode           TEXT        NOT NULL CHECK (group_mode IN ('none', 'points_race', 'battle_race')),
    group_count          INTEGER,
    qualifiers_per_group INTEGER,
    group_first_event    INTEGER,
    group_last_event     INTEGER,
    knockout_mode        TEXT        NOT NULL CHECK (knockout_mode IN ('none', 'single', 'two_legs')),
    knockout_first_event INTEGER,
    cup                  BOOLEAN     NOT NULL DEFAULT false,  -- follow the entries' FPL cup
    roster_synced_at     TIMESTAMPTZ,
    activated_at         TIMESTAMPTZ,
    standings            JSONB,                 -- the published standings document
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The roster. seed and group_no are set at activation; overall_rank is the FPL overall rank
-- seeding and tie-breaks use (null: unranked, worse than any rank).
CREATE TABLE tournament_entries (
    tournament_id BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    entry_id      BIGINT  NOT NULL,
    name          TEXT,
    player_name   TEXT,
    league_rank   INTEGER,
    overall_rank  BIGINT,
    seed          INTEGER,
    group_no      INTEGER,
    PRIMARY KEY (tournament_id, entry_id)
);

-- Battle race fixtures, fixed at activation.
CREATE TABLE tournament_group_fixtures (
    tournament_id BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    group_no      INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    home_entry    BIGINT  NOT NULL,
    away_entry    BIGINT  NOT NULL,
    home_points   INTEGER,           -- group points (3/1/0); null while unscored
    away_points   INTEGER,
    PRIMARY KEY (tournament_id, event_id, home_entry)
);

-- One entry's gameweek as the tournament sees it, derived from entry_event_results and the
-- live player stats. Written only for the gameweek being processed.
CREATE TABLE tournament_entry_stats (
    tournament_id   BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL,
    entry_id        BIGINT  NOT NULL,
    points          INTEGER NOT NULL,
    transfers_cost  INTEGER NOT NULL,
    net_points      INTEGER NOT NULL,
    captain_points  INTEGER NOT NULL,
    bench_points    INTEGER NOT NULL,
    autosub_points  INTEGER NOT NULL,
    goals_scored    INTEGER NOT NULL,
    goals_conceded  INTEGER NOT NULL,
    active_chip     TEXT,
    computed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tournament_id, event_id, entry_id)
);

-- Group tables, recomputed from every stored gameweek on each run.
CREATE TABLE tournament_group_standings (
    tournament_id  BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    group_no       INTEGER NOT NULL,
    entry_id       BIGINT  NOT NULL,
    rank           INTEGER NOT NULL,
    played         INTEGER NOT NULL,
    won            INTEGER NOT NULL,
    drawn          INTEGER NOT NULL,
    lost           INTEGER NOT NULL,
    points         BIGINT  NOT NULL,  -- group points: Σ net points (points race) or 3/1/0
    points_for     BIGINT  NOT NULL,
    points_against BIGINT  NOT NULL,
    PRIMARY KEY (tournament_id, group_no, entry_id)
);

-- The bracket, resolved from the qualifiers and every stored knockout gameweek.
CREATE TABLE tournament_knockout_matches (
    tournament_id BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    round         INTEGER NOT NULL,
    slot          INTEGER NOT NULL,
    home_entry    BIGINT,            -- null: a bye, or not known yet
    away_entry    BIGINT,
    winner        BIGINT,
    decided_by    TEXT,
    PRIMARY KEY (tournament_id, round, slot)
);

CREATE TABLE tournament_knockout_legs (
    tournament_id BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    round         INTEGER NOT NULL,
    slot          INTEGER NOT NULL,
    leg           INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    home_net      INTEGER,
    away_net      INTEGER,
    home_goals    INTEGER,
    away_goals    INTEGER,
    home_conceded INTEGER,
    away_conceded INTEGER,
    winner        BIGINT,
    decided_by    TEXT,
    PRIMARY KEY (tournament_id, round, slot, leg)
);

-- FPL cup matches of the entries (from entry/{id}/cup/), per gameweek.
CREATE TABLE tournament_cup_results (
    tournament_id  BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    entry_id       BIGINT  NOT NULL,
    event_id       INTEGER NOT NULL,
    opponent       BIGINT,
    score          INTEGER,
    opponent_score INTEGER,
    won            BOOLEAN NOT NULL,
    PRIMARY KEY (tournament_id, entry_id, event_id)
);

-- Gameweeks the tournament-results job has processed.
CREATE TABLE tournament_events (
    tournament_id BIGINT      NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    event_id      INTEGER     NOT NULL,
    entries       INTEGER     NOT NULL,  -- entries with a result
    processed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tournament_id, event_id)
);
