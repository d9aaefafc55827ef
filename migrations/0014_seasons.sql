-- Every season's data stays after the rollover (issue 16). Game metadata, live points, picks
-- and results were keyed by season already; what was not:
--
-- `entries`: a manager's summary and history are one season's (his entry id is too: FPL gives
-- a returning manager a new id each summer, and an old id may then belong to someone else).
-- Rows stored so far are the latest season's.
ALTER TABLE entries ADD COLUMN season_id INTEGER REFERENCES seasons (id);
UPDATE entries SET season_id = (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1);
-- None in practice: entry info is fetched after a bootstrap has stored a season.
DELETE FROM entries WHERE season_id IS NULL;
ALTER TABLE entries ALTER COLUMN season_id SET NOT NULL;
ALTER TABLE entries DROP CONSTRAINT entries_pkey;
ALTER TABLE entries ADD PRIMARY KEY (season_id, id);

-- Tracked managers re-checked in a new season: an id that FPL no longer knows (`gone`), or
-- that now belongs to someone else (`new_owner`: another manager's name than the season
-- before). Reported, never merged: the new season's row is the new owner's.
CREATE TABLE entry_rechecks (
    season_id       INTEGER     NOT NULL REFERENCES seasons (id),
    entry_id        BIGINT      NOT NULL,
    verdict         TEXT        NOT NULL CHECK (verdict IN ('gone', 'new_owner')),
    previous_player TEXT,       -- the manager's name in the season before
    player          TEXT,       -- the name now (null when gone)
    checked_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, entry_id)
);

-- A tournament is played in one season: the one current when it was created. Tournaments of
-- a season that is over are archived (after its last gameweek, or at the latest when the next
-- season's first bootstrap arrives).
ALTER TABLE tournaments ADD COLUMN season_id INTEGER REFERENCES seasons (id);
UPDATE tournaments SET season_id = (SELECT id FROM seasons ORDER BY first_deadline DESC LIMIT 1);
CREATE INDEX tournaments_season ON tournaments (season_id) WHERE state <> 'archived';

-- Players are linked across seasons by `code` (their ids are renumbered every summer).
CREATE INDEX players_code ON players (code, season_id);
