-- 0014_fleet.sql: many hosts. Instances migrate between hosts (live or cold), hosts go into
-- maintenance and are evacuated, and a host down for longer than host_down_grace puts its
-- instances in error.

-- maintenance: no new placements (as disabled), and the state an evacuation leaves behind.
ALTER TABLE hosts DROP CONSTRAINT hosts_state_check;
ALTER TABLE hosts ADD CONSTRAINT hosts_state_check
    CHECK (state IN ('discovering', 'up', 'down', 'disabled', 'draining', 'maintenance',
                     'error'));
-- Since when the reconciler has found the host down (NULL while it answers).
ALTER TABLE hosts ADD COLUMN down_since timestamptz;

-- migrating: its migration's operation runs (no other action meanwhile).
ALTER TABLE instances DROP CONSTRAINT instances_state_check;
ALTER TABLE instances ADD CONSTRAINT instances_state_check
    CHECK (state IN ('scheduling', 'building', 'running', 'stopped', 'migrating', 'deleting',
                     'deleted', 'error'));

-- An operation made by another (an evacuation's migration of each instance): its parent.
ALTER TABLE operations ADD COLUMN parent_id uuid REFERENCES operations (id) ON DELETE CASCADE;
CREATE INDEX operations_parent ON operations (parent_id) WHERE parent_id IS NOT NULL;

-- Each migration of an instance, from the request to its end: what the API shows under
-- /v1/instances/{id}/migrations and the operation's progress. The target's capacity is held
-- by reservation_id (an allocation on the target, made at the request) until the move
-- commits (the instance's allocations then move to the target, the reservation goes) or
-- fails (the reservation goes).
CREATE TABLE instance_migrations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    tenant_id uuid,
    operation_id uuid NOT NULL,
    live boolean NOT NULL,
    source_host_id uuid REFERENCES hosts (id) ON DELETE SET NULL,
    target_host_id uuid REFERENCES hosts (id) ON DELETE SET NULL,
    -- the hosts' names, kept when a host row goes
    source_host text NOT NULL,
    target_host text NOT NULL,
    reservation_id uuid,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'preparing', 'copying', 'switching', 'committing',
                         'cleaning', 'succeeded', 'failed')),
    state_reason text NOT NULL DEFAULT '',
    -- libvirt's job statistics (virDomainGetJobStats), bytes; NULL until known
    data_total bigint,
    data_processed bigint,
    data_remaining bigint,
    disk_total bigint,
    disk_processed bigint,
    -- the guest's pause at the switch, as libvirt measured it (live), ms
    downtime_ms bigint,
    requested_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
-- One migration at a time per instance.
CREATE UNIQUE INDEX instance_migrations_running ON instance_migrations (instance_id)
    WHERE state NOT IN ('succeeded', 'failed');
CREATE INDEX instance_migrations_instance ON instance_migrations (instance_id, created_at);
