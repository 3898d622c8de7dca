-- 0007_compute.sql: virtual machines. Flavors are sizes operators offer; images are a
-- tenant's disk templates in a region's image store (copied to a host's pool on first use);
-- instances are the machines, each a row that outlives its domain and says what the domain
-- should be. Operations are the queue of long work: the API commits intent and an operation
-- together, workers carry it out, and a lease tells a dead worker from a slow one.

CREATE TABLE flavors (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    vcpus integer NOT NULL CHECK (vcpus > 0),
    memory_mib bigint NOT NULL CHECK (memory_mib > 0),
    disk_gib bigint NOT NULL CHECK (disk_gib > 0),
    gpus integer NOT NULL DEFAULT 0 CHECK (gpus >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT flavors_name_key UNIQUE (name)
);

CREATE TABLE images (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    workspace text NOT NULL,
    name text NOT NULL,
    region text NOT NULL REFERENCES regions (code),
    source_url text NOT NULL DEFAULT '',
    format text NOT NULL CHECK (format IN ('qcow2', 'raw')),
    sha256 text NOT NULL DEFAULT '',
    min_disk_gib bigint NOT NULL DEFAULT 0 CHECK (min_disk_gib >= 0),
    size_bytes bigint NOT NULL DEFAULT 0,
    virtual_size_bytes bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'downloading', 'active', 'error', 'deleting', 'deleted')),
    state_reason text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
);
CREATE UNIQUE INDEX images_name_key ON images (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE INDEX images_tenant ON images (tenant_id, id);

-- Which hosts hold a copy of which image (as a volume in their pool).
CREATE TABLE image_copies (
    image_id uuid NOT NULL REFERENCES images (id),
    host_id uuid NOT NULL REFERENCES hosts (id),
    volume text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, host_id)
);

CREATE TABLE instances (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    workspace text NOT NULL,
    name text NOT NULL,
    flavor_id uuid NOT NULL REFERENCES flavors (id),
    image_id uuid NOT NULL REFERENCES images (id),
    vcpus integer NOT NULL,
    memory_mib bigint NOT NULL,
    disk_gib bigint NOT NULL,
    gpus integer NOT NULL,
    region text NOT NULL,
    zone text NOT NULL,
    host_id uuid REFERENCES hosts (id),
    allocation_id uuid,
    placement_id uuid,
    anti_affinity_group text,
    user_data text NOT NULL DEFAULT '',
    ssh_keys text[] NOT NULL DEFAULT '{}',
    mac text NOT NULL,
    addresses text NOT NULL DEFAULT '',
    state text NOT NULL CHECK (state IN ('scheduling', 'building', 'running', 'stopped',
                                         'deleting', 'deleted', 'error')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
);
CREATE UNIQUE INDEX instances_name_key ON instances (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE INDEX instances_tenant ON instances (tenant_id, id);
CREATE INDEX instances_host ON instances (host_id) WHERE state <> 'deleted';

CREATE TABLE operations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    kind text NOT NULL,
    resource_type text NOT NULL DEFAULT '',
    resource_id text NOT NULL DEFAULT '',
    arg text NOT NULL DEFAULT '',
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    step text NOT NULL DEFAULT '',
    error text NOT NULL DEFAULT '',
    error_code text NOT NULL DEFAULT '',
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 5,
    run_after timestamptz NOT NULL DEFAULT now(),
    locked_by text,
    locked_until timestamptz,
    request_id text NOT NULL DEFAULT '',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- What workers look for: queued work that is due, and running work whose lease ran out.
CREATE INDEX operations_ready ON operations (run_after) WHERE state IN ('queued', 'running');
CREATE INDEX operations_tenant ON operations (tenant_id, id);
CREATE INDEX operations_resource ON operations (resource_id);
