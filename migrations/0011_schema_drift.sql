-- Schema drift (issue 16): fplsync decodes only the fields it needs (src/fpl/model.rs).
--
-- Phases are not needed by fplsync (it only stores them): a phase without its span still syncs.
ALTER TABLE phases ALTER COLUMN start_event DROP NOT NULL;
ALTER TABLE phases ALTER COLUMN stop_event DROP NOT NULL;
