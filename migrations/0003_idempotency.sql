-- 0003_idempotency.sql: POST with an Idempotency-Key answers, for the same key and request
-- within 24 hours, the first result instead of creating twice. A row is claimed (status NULL)
-- before the handler runs, so a retry racing the first request waits its turn.
CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL,
    key text NOT NULL,
    request_sha256 text NOT NULL,
    status integer,
    location text NOT NULL DEFAULT '',
    body text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
