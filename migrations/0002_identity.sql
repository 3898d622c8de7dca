-- 0002_identity.sql: who may do what, for whom. Tenants (customer organisations: the unit of
-- residency policy, quota and billing) hold workspaces, where resources live, and users, whose
-- tokens are stored only as SHA-256. Quotas are counted in the same transaction as the
-- resource they count. The audit log is a hash chain that cannot be quietly rewritten.

CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    is_operator boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_name_key UNIQUE (name)
);
-- One operator tenant: the cloud's own organisation.
CREATE UNIQUE INDEX tenants_one_operator ON tenants (is_operator) WHERE is_operator;

CREATE TABLE workspaces (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text NOT NULL,
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('operator', 'admin', 'member', 'reader', 'auditor')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_tenant_email_key ON users (tenant_id, lower(email));
CREATE INDEX users_tenant ON users (tenant_id, id);

CREATE TABLE tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    secret_sha256 text NOT NULL,        -- hex SHA-256 of the whole secret; the secret is never stored
    hint text NOT NULL,                 -- the first characters, to tell tokens apart in lists
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT tokens_secret_key UNIQUE (secret_sha256)
);
CREATE INDEX tokens_user ON tokens (user_id, id);
CREATE INDEX tokens_tenant ON tokens (tenant_id, id);

-- Limits and usage per tenant and resource kind. Usage moves only inside the transaction that
-- creates or deletes what it counts, with the row locked: concurrent creates cannot overshoot.
CREATE TABLE quotas (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    resource text NOT NULL CHECK (resource IN ('instances', 'vcpus', 'memory_mib', 'gpus',
                                               'volumes', 'storage_gib', 'workspaces')),
    max bigint NOT NULL CHECK (max >= 0),
    used bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (tenant_id, resource)
);

-- The audit log. Each entry's hash covers its canonical content and the previous entry's
-- hash; audit_head, one row locked by every append, keeps the chain from forking.
CREATE TABLE audit_log (
    seq bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    request_id text NOT NULL DEFAULT '',
    tenant_id uuid,
    user_id uuid,
    token_id uuid,
    role text NOT NULL DEFAULT '',
    action text NOT NULL,
    resource_type text NOT NULL DEFAULT '',
    resource_id text NOT NULL DEFAULT '',
    outcome integer NOT NULL,
    source text NOT NULL DEFAULT '',
    prev_hash text NOT NULL,
    hash text NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);

CREATE TABLE audit_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));
