-- Metadata objects (`data`) become the exact JSON text fplsync serialised from the decoded,
-- validated model, stored out of line without compression. A bootstrap writes ~2 MB of player
-- objects: building `jsonb` from them and pglz-compressing each row cost PostgreSQL ~50 ms per
-- cold sync, validating them as `json` still ~10 ms, storing the text ~2 ms; and readers get the
-- stored texts joined as they are instead of re-serialised (~15 ms per players dataset). Every
-- filter or join uses the typed columns beside `data`; to look inside, cast: `data::json->>'form'`.
ALTER TABLE phases ALTER COLUMN data TYPE text USING data::text;
ALTER TABLE teams ALTER COLUMN data TYPE text USING data::text;
ALTER TABLE element_types ALTER COLUMN data TYPE text USING data::text;
ALTER TABLE players ALTER COLUMN data TYPE text USING data::text;
ALTER TABLE events ALTER COLUMN data TYPE text USING data::text;
ALTER TABLE fixtures ALTER COLUMN data TYPE text USING data::text;
ALTER TABLE phases ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE teams ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE element_types ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE players ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE events ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE fixtures ALTER COLUMN data SET STORAGE EXTERNAL;

-- A player's team and position are checked by the sync before anything is written (a payload
-- whose players name an unknown team or element type writes nothing: src/meta/validate.rs),
-- in the same transaction that writes the teams and element types. As constraints they cost
-- a lookup per player row each, ~4 ms apiece for a cold sync of ~840 players.
-- Likewise the season: the sync finds or creates it in the same transaction, and seasons are
-- never deleted. (The tables of a few dozen rows keep all their constraints.)
ALTER TABLE players DROP CONSTRAINT players_season_id_team_id_fkey;
ALTER TABLE players DROP CONSTRAINT players_season_id_element_type_fkey;
ALTER TABLE players DROP CONSTRAINT players_season_id_fkey;
ALTER TABLE player_values DROP CONSTRAINT player_values_season_id_fkey;
