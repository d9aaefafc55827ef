-- The audit log: every control action (HTTP or Telegram), allowed or refused, with who asked,
-- what, with which parameters, the result and when. Behind `GET /audit`.

CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    channel  TEXT        NOT NULL CHECK (channel IN ('http', 'telegram')),
    -- The API key's configured name, `anonymous` (no or an unknown key), or `chat:<id>`.
    actor    TEXT        NOT NULL,
    role     TEXT        CHECK (role IN ('admin', 'operator', 'viewer')),
    -- The operation, e.g. `trigger`, `cancel`, `pause`, `resume`, `restart`.
    action   TEXT        NOT NULL,
    -- What it acted on, e.g. the request path `/jobs/prune/trigger`.
    target   TEXT        NOT NULL,
    params   JSONB       NOT NULL DEFAULT '{}',
    -- `ok`, or the stable error code the caller got (`forbidden`, `rate_limited`, ...).
    result   TEXT        NOT NULL,
    status   SMALLINT,
    -- What the caller was answered (e.g. the run id), when it was JSON.
    outcome  JSONB
);
CREATE INDEX audit_log_at ON audit_log (id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, id DESC);
