-- Shared work, continued (issue 17): each instance's share of a work — the units it finished,
-- by how they ended — kept by the statement that finishes them (and recounted when a run
-- opens the work), so a run's detail and its tally read a few rows rather than counting every
-- unit. `GET /jobs/{id}` counted a 100,000-unit work twice at each call, and a client polling a
-- run slowed the run it watched.
CREATE TABLE work_shares (
    work_key TEXT   NOT NULL REFERENCES shared_work (key) ON DELETE CASCADE,
    instance TEXT   NOT NULL,
    role     TEXT   NOT NULL,   -- its role when it last finished units (leader / follower)
    done     BIGINT NOT NULL DEFAULT 0 CHECK (done >= 0),
    unknown  BIGINT NOT NULL DEFAULT 0 CHECK (unknown >= 0),
    failed   BIGINT NOT NULL DEFAULT 0 CHECK (failed >= 0),
    PRIMARY KEY (work_key, instance)
);

INSERT INTO work_shares (work_key, instance, role, done, unknown, failed)
SELECT work_key, done_by, COALESCE(max(done_role), ''),
       count(*) FILTER (WHERE state = 'done'),
       count(*) FILTER (WHERE state = 'unknown'),
       count(*) FILTER (WHERE state = 'failed')
FROM work_units WHERE done_by IS NOT NULL
GROUP BY work_key, done_by;

-- The units a work has finished are its shares' sum: the counter kept beside them is dropped.
ALTER TABLE shared_work DROP COLUMN finished;
