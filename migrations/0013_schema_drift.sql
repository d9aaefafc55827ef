-- Schema drift (issue 16): what fplsync has seen of each FPL endpoint per season, so that a
-- field that appears or disappears raises one `schema_drift` warning per field and season, and
-- a restart does not raise it again (src/meta/drift.rs).
--
-- `field` is an object-type path (`elements[].form`, `[].stats[].identifier`). `present` says
-- whether the last payload whose objects of that type could be judged had it; `reported_gone`
-- that its disappearance was reported this season.
CREATE TABLE schema_fields (
    season_id      INTEGER     NOT NULL REFERENCES seasons (id),
    endpoint       TEXT        NOT NULL,
    field          TEXT        NOT NULL,
    present        BOOLEAN     NOT NULL,
    reported_gone  BOOLEAN     NOT NULL DEFAULT false,
    first_seen     TIMESTAMPTZ NOT NULL DEFAULT now(),
    changed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (season_id, endpoint, field)
);

-- Phases are not needed by fplsync (it only stores them): a phase without its span still syncs.
ALTER TABLE phases ALTER COLUMN start_event DROP NOT NULL;
ALTER TABLE phases ALTER COLUMN stop_event DROP NOT NULL;
