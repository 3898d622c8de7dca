-- 0008_residency_reports.sql: what compliance teams take away. A report is built by a worker
-- from the residency records of a period, stored as chunks any replica can serve, and signed
-- with the control plane's Ed25519 key; the public half of every key ever used stays here
-- (by key id), the private half only in the state folder of the sovd that made it.
--
-- And the database's own guard on history: sovd's sessions run as the role sovereign_app,
-- which may read and append residency records and audit entries but never change or remove
-- them. The triggers refuse it to every role; the missing privileges refuse it twice.

CREATE TABLE signing_keys (
    key_id text PRIMARY KEY,
    algorithm text NOT NULL DEFAULT 'ed25519',
    public_pem text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);

CREATE TABLE residency_reports (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,            -- whose request it was (the scope may be wider)
    requested_by uuid,
    period_from timestamptz NOT NULL,
    period_to timestamptz NOT NULL,
    scope_tenants uuid[],               -- NULL: every tenant (operators)
    format text NOT NULL CHECK (format IN ('csv', 'json')),
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    key_id text REFERENCES signing_keys (key_id),
    rows bigint NOT NULL DEFAULT 0,
    violations bigint NOT NULL DEFAULT 0,
    rows_sha256 text NOT NULL DEFAULT '',
    document_sha256 text NOT NULL DEFAULT '',
    size_bytes bigint NOT NULL DEFAULT 0,
    signature bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CHECK (period_from < period_to)
);
CREATE INDEX residency_reports_tenant ON residency_reports (tenant_id, id);

CREATE TABLE residency_report_chunks (
    report_id uuid NOT NULL REFERENCES residency_reports (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (report_id, seq)
);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sovereign_app') THEN
        CREATE ROLE sovereign_app NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO sovereign_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sovereign_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sovereign_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sovereign_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sovereign_app;
REVOKE UPDATE, DELETE, TRUNCATE ON residency_records FROM sovereign_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM sovereign_app;
