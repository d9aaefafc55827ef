-- Game metadata, per season: the source of truth every other job joins against.
--
-- Each table keeps the columns other queries filter and join on, the whole API object as `data`
-- (every field, so nothing the API sends is lost), and `hash`, a 64-bit hash of `data` that lets
-- a sync write only the rows that changed.

CREATE TABLE seasons (
    id              SERIAL PRIMARY KEY,
    name            TEXT        NOT NULL UNIQUE,  -- e.g. '2025-26'
    first_deadline  TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE phases (
    season_id    INTEGER     NOT NULL REFERENCES seasons (id),
    id           INTEGER     NOT NULL,
    name         TEXT        NOT NULL,
    start_event  INTEGER     NOT NULL,
    stop_event   INTEGER     NOT NULL,
    data         JSONB       NOT NULL,
    hash         BIGINT      NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, id)
);

CREATE TABLE teams (
    season_id   INTEGER     NOT NULL REFERENCES seasons (id),
    id          INTEGER     NOT NULL,
    code        INTEGER     NOT NULL,
    name        TEXT        NOT NULL,
    short_name  TEXT        NOT NULL,
    data        JSONB       NOT NULL,
    hash        BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, id)
);

CREATE TABLE element_types (
    season_id       INTEGER     NOT NULL REFERENCES seasons (id),
    id              INTEGER     NOT NULL,
    short_name      TEXT        NOT NULL,
    squad_min_play  INTEGER     NOT NULL,
    squad_max_play  INTEGER     NOT NULL,
    data            JSONB       NOT NULL,
    hash            BIGINT      NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, id)
);

CREATE TABLE players (
    season_id     INTEGER     NOT NULL REFERENCES seasons (id),
    id            INTEGER     NOT NULL,
    code          INTEGER     NOT NULL,
    web_name      TEXT        NOT NULL,
    team_id       INTEGER     NOT NULL,
    element_type  INTEGER     NOT NULL,
    now_cost      INTEGER     NOT NULL,
    status        TEXT        NOT NULL,
    total_points  INTEGER     NOT NULL,
    data          JSONB       NOT NULL,
    hash          BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, id),
    FOREIGN KEY (season_id, team_id) REFERENCES teams (season_id, id),
    FOREIGN KEY (season_id, element_type) REFERENCES element_types (season_id, id)
);
CREATE INDEX players_team ON players (season_id, team_id);

CREATE TABLE events (
    season_id      INTEGER     NOT NULL REFERENCES seasons (id),
    id             INTEGER     NOT NULL,
    name           TEXT        NOT NULL,
    deadline_time  TIMESTAMPTZ NOT NULL,
    finished       BOOLEAN     NOT NULL,
    data_checked   BOOLEAN     NOT NULL,
    is_current     BOOLEAN     NOT NULL,
    is_next        BOOLEAN     NOT NULL,
    data           JSONB       NOT NULL,
    hash           BIGINT      NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, id)
);

-- One row per player per day: the price history behind rise/fall summaries.
CREATE TABLE player_values (
    season_id            INTEGER NOT NULL REFERENCES seasons (id),
    player_id            INTEGER NOT NULL,
    day                  DATE    NOT NULL,
    now_cost             INTEGER NOT NULL,
    selected_by_percent  REAL    NOT NULL,
    transfers_in_event   BIGINT  NOT NULL,
    transfers_out_event  BIGINT  NOT NULL,
    PRIMARY KEY (season_id, player_id, day)
);

CREATE TABLE fixtures (
    season_id             INTEGER     NOT NULL REFERENCES seasons (id),
    id                    INTEGER     NOT NULL,
    event_id              INTEGER,               -- NULL while unscheduled
    team_h                INTEGER     NOT NULL,
    team_a                INTEGER     NOT NULL,
    kickoff_time          TIMESTAMPTZ,
    started               BOOLEAN,
    finished              BOOLEAN     NOT NULL,
    finished_provisional  BOOLEAN     NOT NULL,
    minutes               INTEGER     NOT NULL,
    team_h_score          INTEGER,
    team_a_score          INTEGER,
    data                  JSONB       NOT NULL,  -- includes the per-fixture stats
    hash                  BIGINT      NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, id),
    FOREIGN KEY (season_id, team_h) REFERENCES teams (season_id, id),
    FOREIGN KEY (season_id, team_a) REFERENCES teams (season_id, id)
);
CREATE INDEX fixtures_event ON fixtures (season_id, event_id);
