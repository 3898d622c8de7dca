-- 0016_seca.sql: what the SECA-compatible surface keeps beside the resources it maps onto
-- (include/sov/seca.h). resource_meta: per resource (an instance, a volume, a workspace...)
-- its SECA labels, annotations, extensions, resourceVersion and condition history; keyed by
-- the resource's own id, without a foreign key (the resources live in many tables), and
-- dropped by the SECA handlers when the resource goes. seca_objects: SECA resources with no
-- /v1 row of their own (custom roles, role assignments, route tables, internet gateways,
-- security group rules), as named specs.

CREATE TABLE resource_meta (
    resource_id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,   -- NULL: a global resource
    kind text NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    annotations jsonb NOT NULL DEFAULT '{}',
    extensions jsonb NOT NULL DEFAULT '{}',
    version bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    conditions jsonb NOT NULL DEFAULT '[]',     -- newest first, at most 32
    follow_op uuid,                             -- the operation whose progress adds conditions
    follow_phase text CHECK (follow_phase IN ('creating', 'updating', 'deleting')),
    created_at timestamptz NOT NULL DEFAULT now(),
    modified_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX resource_meta_tenant ON resource_meta (tenant_id, kind);
-- Rows of resources deleted more than a day ago are purged on writes (core/seca.c).
CREATE INDEX resource_meta_deleted ON resource_meta (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE seca_objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workspace text NOT NULL DEFAULT '',
    kind text NOT NULL,
    parent text NOT NULL DEFAULT '',
    name text NOT NULL,
    region text NOT NULL DEFAULT '',
    spec jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seca_objects_key UNIQUE (tenant_id, workspace, kind, parent, name)
);
