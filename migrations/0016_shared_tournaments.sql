-- Shared work, continued (issue 17): a tournament roster's standings pages and a gameweek's
-- results per tournament are units too.

-- What a finished unit did, in the run's words (e.g. a tournament's results line), for the run
-- that waits for the work to report.
ALTER TABLE work_units ADD COLUMN note TEXT;

-- The instances working on shared work, seen at each lease renewal period: how many share the
-- work now (a roster read looks as many pages ahead as they can fetch at once).
CREATE TABLE work_instances (
    instance TEXT        PRIMARY KEY,
    role     TEXT        NOT NULL,
    seen_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The standings pages a roster read has stored, whoever fetched them: the read's checkpoint
-- now that pages are fetched out of order by several instances. `has_next` is false on the
-- last page (or an empty one): the table ends at the first such page.
CREATE TABLE tournament_roster_read_pages (
    tournament_id BIGINT  NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
    generation    INTEGER NOT NULL,
    page          INTEGER NOT NULL CHECK (page >= 1),
    has_next      BOOLEAN NOT NULL,
    entries       INTEGER NOT NULL,
    PRIMARY KEY (tournament_id, generation, page)
);

-- A work's units and how many are finished, kept by the statements that add and finish them, so
-- the run watching a work of 100,000 units reads two numbers rather than counting its rows at
-- every unit finished.
ALTER TABLE shared_work
    ADD COLUMN total    BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN finished BIGINT NOT NULL DEFAULT 0;
