-- 0004_placement.sql: where things may run. Regions are places (a country, hence a
-- jurisdiction, and a datacenter) split into zones; hosts are libvirt hypervisors in a zone,
-- with the capacity discovery found and the share already claimed. A tenant's residency
-- policy says which regions its data may live in; placement claims capacity in the same
-- transaction as its decision, and residency records keep, append-only, where each
-- resource's data has lived and every change of policy.

CREATE TABLE regions (
    code text PRIMARY KEY,
    name text NOT NULL,
    country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    jurisdiction text NOT NULL CHECK (jurisdiction IN ('EU', 'EEA', 'OTHER')),
    datacenter text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE zones (
    region text NOT NULL REFERENCES regions (code) ON DELETE CASCADE,
    name text NOT NULL,
    PRIMARY KEY (region, name)
);

CREATE TABLE hosts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    region text NOT NULL,
    zone text NOT NULL,
    libvirt_uri text NOT NULL,
    state text NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'down', 'disabled', 'draining')),
    state_reason text NOT NULL DEFAULT '',
    hypervisor text NOT NULL CHECK (hypervisor IN ('kvm', 'qemu', 'test')),
    cpu_model text NOT NULL DEFAULT '',
    cpus integer NOT NULL CHECK (cpus >= 0),
    memory_mib bigint NOT NULL CHECK (memory_mib >= 0),
    numa_cells integer NOT NULL DEFAULT 1,
    storage_pool text NOT NULL DEFAULT '',
    storage_gib bigint NOT NULL DEFAULT 0 CHECK (storage_gib >= 0),
    gpus integer NOT NULL DEFAULT 0 CHECK (gpus >= 0),
    gpu_models text[] NOT NULL DEFAULT '{}',
    cpu_allocation_ratio numeric(6, 2) NOT NULL DEFAULT 4.0 CHECK (cpu_allocation_ratio > 0),
    ram_allocation_ratio numeric(6, 2) NOT NULL DEFAULT 1.0 CHECK (ram_allocation_ratio > 0),
    vcpus_used integer NOT NULL DEFAULT 0 CHECK (vcpus_used >= 0),
    memory_mib_used bigint NOT NULL DEFAULT 0 CHECK (memory_mib_used >= 0),
    disk_gib_used bigint NOT NULL DEFAULT 0 CHECK (disk_gib_used >= 0),
    gpus_used integer NOT NULL DEFAULT 0 CHECK (gpus_used >= 0),
    checked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT hosts_name_key UNIQUE (name),
    CONSTRAINT hosts_zone_fkey FOREIGN KEY (region, zone) REFERENCES zones (region, name)
);
CREATE INDEX hosts_region_state ON hosts (region, state);

-- What each host gives away: one row per claim, so capacity can be recomputed from the rows
-- and anti-affinity can see who sits where.
CREATE TABLE host_allocations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    host_id uuid NOT NULL REFERENCES hosts (id),
    tenant_id uuid NOT NULL,
    resource_type text NOT NULL,
    resource_id text NOT NULL DEFAULT '',
    vcpus integer NOT NULL,
    memory_mib bigint NOT NULL,
    disk_gib bigint NOT NULL,
    gpus integer NOT NULL,
    anti_affinity_group text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX host_allocations_host ON host_allocations (host_id);
CREATE INDEX host_allocations_group ON host_allocations (tenant_id, anti_affinity_group)
    WHERE anti_affinity_group IS NOT NULL;

-- No row: the default policy, the EU. An empty list constrains nothing; the allowed set is
-- the intersection of the lists given, and at least one is given.
CREATE TABLE residency_policies (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    jurisdictions text[] NOT NULL DEFAULT '{}',
    countries text[] NOT NULL DEFAULT '{}',
    regions text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Append-only: where each resource's data has lived, and every policy change. No foreign
-- keys: records outlive what they describe.
CREATE TABLE residency_records (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    tenant_id uuid NOT NULL,
    resource_type text NOT NULL,
    resource_id text NOT NULL,
    event text NOT NULL CHECK (event IN ('placed', 'moved', 'copied', 'deleted',
                                         'policy-changed')),
    from_host text NOT NULL DEFAULT '',
    from_region text NOT NULL DEFAULT '',
    from_country text NOT NULL DEFAULT '',
    from_jurisdiction text NOT NULL DEFAULT '',
    from_datacenter text NOT NULL DEFAULT '',
    to_host text NOT NULL DEFAULT '',
    to_region text NOT NULL DEFAULT '',
    to_country text NOT NULL DEFAULT '',
    to_jurisdiction text NOT NULL DEFAULT '',
    to_datacenter text NOT NULL DEFAULT '',
    policy jsonb NOT NULL,
    reason text NOT NULL,
    operation_id uuid
);
CREATE INDEX residency_records_resource ON residency_records (resource_type, resource_id, seq);
CREATE INDEX residency_records_tenant ON residency_records (tenant_id, at);

CREATE FUNCTION residency_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'residency records are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER residency_records_no_update BEFORE UPDATE OR DELETE ON residency_records
    FOR EACH ROW EXECUTE FUNCTION residency_records_append_only();
CREATE TRIGGER residency_records_no_truncate BEFORE TRUNCATE ON residency_records
    FOR EACH STATEMENT EXECUTE FUNCTION residency_records_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON residency_records FROM PUBLIC;

-- The decision behind each placement, shown on the resource.
CREATE TABLE placements (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    resource_type text NOT NULL,
    resource_id text NOT NULL DEFAULT '',
    allocation_id uuid,
    host_id uuid,
    host_name text NOT NULL DEFAULT '',
    region text NOT NULL DEFAULT '',
    zone text NOT NULL DEFAULT '',
    considered integer NOT NULL,
    rejected jsonb NOT NULL,
    strategy text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
