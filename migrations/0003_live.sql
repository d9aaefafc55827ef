-- Live gameweek data: every player's points as fplsync computes them from one consistent
-- snapshot (the event's live data and its fixtures), and the fingerprint of the last snapshot
-- processed, so an identical snapshot is a no-op.

CREATE TABLE live_player_points (
    season_id          INTEGER     NOT NULL REFERENCES seasons (id),
    event_id           INTEGER     NOT NULL,
    player_id          INTEGER     NOT NULL,
    points             INTEGER     NOT NULL,  -- bonus included: official, else provisional
    minutes            INTEGER     NOT NULL,
    bonus              INTEGER     NOT NULL,
    bonus_provisional  BOOLEAN     NOT NULL,
    done               BOOLEAN     NOT NULL,  -- his team's fixtures of the event are over
    stats              JSONB       NOT NULL,  -- FPL's live stats as sent
    hash               BIGINT      NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, event_id, player_id)
);

CREATE TABLE live_snapshots (
    season_id    INTEGER     NOT NULL REFERENCES seasons (id),
    event_id     INTEGER     NOT NULL,
    fingerprint  BIGINT      NOT NULL,
    taken_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, event_id)
);
