-- 0012_storage.sql: block storage. Businesses keep their data on volumes that outlive
-- instances: a volume is a qcow2 file in a host's libvirt storage pool (host-local, the first
-- backend), optionally LUKS-encrypted by QEMU with a data key of its own, which is stored only
-- wrapped by its tenant's key-encryption key (KEK). KEKs are kept here wrapped by the control
-- plane's master key (a file of the state dir): several sovd share one PostgreSQL, so the
-- keystore is a table, not a folder of one machine. Destroying a tenant's KEK (crypto-
-- shredding) leaves its encrypted volumes' bytes unreadable.

-- Operators define what kinds of volume exist.
CREATE TABLE volume_types (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    backend text NOT NULL CHECK (backend IN ('libvirt-dir')),
    encrypted boolean NOT NULL DEFAULT false,
    max_iops bigint CHECK (max_iops > 0),
    max_bytes_per_s bigint CHECK (max_bytes_per_s > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One KEK per tenant. wrapped: the 32-byte KEK sealed by the master key (AES-256-GCM:
-- nonce || ciphertext || tag); NULL once destroyed (destroyed_at set): the row stays so that
-- a destroyed KEK is never silently replaced by a new one for the same volumes.
CREATE TABLE tenant_keks (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    wrapped bytea,
    master_key_id text NOT NULL,
    region text NOT NULL,
    country text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE TABLE volumes (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    type_id uuid REFERENCES volume_types (id) ON DELETE SET NULL,
    size_gib bigint NOT NULL CHECK (size_gib > 0),
    state text NOT NULL CHECK (state IN ('creating', 'available', 'attaching', 'in-use',
                                         'detaching', 'extending', 'deleting', 'deleted',
                                         'error')),
    state_reason text NOT NULL DEFAULT '',
    region text NOT NULL,
    zone text NOT NULL,
    host_id uuid REFERENCES hosts (id) ON DELETE SET NULL,
    allocation_id uuid,
    pool text NOT NULL,
    -- the file's name in the pool: 'sov-vol-<id>'
    volume text NOT NULL,
    encrypted boolean NOT NULL DEFAULT false,
    -- the data key wrapped by the tenant's KEK (AES-256 key wrap, RFC 5649); NULL when plain
    wrapped_key bytea,
    -- where that key lives (the keystore's region and country)
    key_region text,
    key_country text,
    source_type text CHECK (source_type IN ('image', 'snapshot', 'volume')),
    source_id uuid,
    -- a boot volume made by an instance create ('boot': {...}): deleted with it
    created_by_instance uuid,
    operation_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace),
    CHECK (encrypted = (wrapped_key IS NOT NULL) OR state = 'deleted')
);
CREATE UNIQUE INDEX volumes_name_key ON volumes (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE INDEX volumes_tenant ON volumes (tenant_id, id);
CREATE INDEX volumes_host ON volumes (host_id) WHERE state <> 'deleted';

-- A volume is attached to at most one instance; an instance has each device once.
CREATE TABLE volume_attachments (
    volume_id uuid PRIMARY KEY REFERENCES volumes (id) ON DELETE CASCADE,
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    device text NOT NULL CHECK (device ~ '^vd[a-z]{1,2}$'),
    boot boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (instance_id, device)
);

CREATE TABLE snapshots (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    volume_id uuid REFERENCES volumes (id) ON DELETE SET NULL,
    size_gib bigint NOT NULL CHECK (size_gib > 0),
    state text NOT NULL CHECK (state IN ('creating', 'available', 'deleting', 'deleted',
                                         'error')),
    state_reason text NOT NULL DEFAULT '',
    region text NOT NULL,
    zone text NOT NULL,
    host_id uuid REFERENCES hosts (id) ON DELETE SET NULL,
    pool text NOT NULL,
    -- the file's name in the pool: 'sov-snap-<id>'
    volume text NOT NULL,
    encrypted boolean NOT NULL DEFAULT false,
    -- the snapshot's own data key, wrapped as a volume's is
    wrapped_key bytea,
    key_region text,
    key_country text,
    operation_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace)
);
CREATE UNIQUE INDEX snapshots_name_key ON snapshots (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE INDEX snapshots_tenant ON snapshots (tenant_id, id);
CREATE INDEX snapshots_volume ON snapshots (volume_id) WHERE state <> 'deleted';

-- An instance may boot from a volume: it then has no image overlay of its own.
ALTER TABLE instances
    ALTER COLUMN image_id DROP NOT NULL,
    ADD COLUMN boot_volume_id uuid REFERENCES volumes (id) ON DELETE SET NULL;

-- Snapshots count against a quota of their own.
ALTER TABLE quotas DROP CONSTRAINT quotas_resource_check;
ALTER TABLE quotas ADD CONSTRAINT quotas_resource_check
    CHECK (resource IN ('instances', 'vcpus', 'memory_mib', 'gpus', 'volumes', 'storage_gib',
                        'workspaces', 'snapshots'));
INSERT INTO quotas (tenant_id, resource, max)
    SELECT id, 'snapshots', 100 FROM tenants
    ON CONFLICT DO NOTHING;
