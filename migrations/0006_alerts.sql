-- Alert history: one row per alert group (a key from its first occurrence until it resolves,
-- or until its deduplication window passes for alerts that have no resolution).

CREATE TABLE alerts (
    id           BIGSERIAL   PRIMARY KEY,
    key          TEXT        NOT NULL,
    source       TEXT        NOT NULL,
    severity     TEXT        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    summary      TEXT        NOT NULL,   -- of the latest occurrence
    detail       TEXT,
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL,
    count        BIGINT      NOT NULL DEFAULT 1 CHECK (count >= 1),
    resolved_at  TIMESTAMPTZ,            -- null while firing (or closed without resolution)
    closed       BOOLEAN     NOT NULL DEFAULT false,
    acked        BOOLEAN     NOT NULL DEFAULT false,
    delivered    BOOLEAN     NOT NULL DEFAULT false,  -- a message of it reached every channel
    undelivered  INTEGER     NOT NULL DEFAULT 0       -- messages given up on after retries
);

CREATE INDEX alerts_last_seen ON alerts (last_seen DESC);
CREATE INDEX alerts_open ON alerts (key) WHERE NOT closed;
