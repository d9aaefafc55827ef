-- The job runtime in layers (issue 13): an operator's pause of a job kind outlives the process,
-- and progress is reported as units done of a total (the percentage follows from them).

CREATE TABLE job_kinds (
    kind       TEXT        PRIMARY KEY,
    paused     BOOLEAN     NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE job_runs
    ADD COLUMN progress_done  BIGINT CHECK (progress_done >= 0),
    ADD COLUMN progress_total BIGINT CHECK (progress_total >= 0);

-- When a run that counts units expects to be done, at the pace it has kept so far.
ALTER TABLE job_runs ADD COLUMN progress_eta TIMESTAMPTZ;
