-- 0011_deletable.sql: what was deleted no longer keeps anything from being deleted. Instances
-- and images stay as rows in state 'deleted' (history: their ids are in residency records,
-- audit entries and operations), and their foreign keys used to pin the tenant, workspace,
-- flavor, region and hosts they once used for ever. Services now refuse a deletion only for
-- live rows (and name them); these keys let the soft-deleted rows go along: the reference
-- becomes NULL (the row keeps its own copies: sizes, region and zone of an instance; the
-- tenant id stays in the residency records and the audit log, which are never touched), and
-- what only caches a host's state (image copies in its pool, allocations) goes with the host.
ALTER TABLE instances
    ALTER COLUMN tenant_id DROP NOT NULL,
    ALTER COLUMN workspace DROP NOT NULL,
    ALTER COLUMN flavor_id DROP NOT NULL,
    DROP CONSTRAINT instances_tenant_id_fkey,
    DROP CONSTRAINT instances_tenant_id_workspace_fkey,
    DROP CONSTRAINT instances_flavor_id_fkey,
    DROP CONSTRAINT instances_host_id_fkey,
    ADD CONSTRAINT instances_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE SET NULL,
    ADD CONSTRAINT instances_tenant_id_workspace_fkey FOREIGN KEY (tenant_id, workspace)
        REFERENCES workspaces (tenant_id, name) ON DELETE SET NULL (workspace),
    ADD CONSTRAINT instances_flavor_id_fkey FOREIGN KEY (flavor_id)
        REFERENCES flavors (id) ON DELETE SET NULL,
    ADD CONSTRAINT instances_host_id_fkey FOREIGN KEY (host_id)
        REFERENCES hosts (id) ON DELETE SET NULL;

ALTER TABLE images
    ALTER COLUMN tenant_id DROP NOT NULL,
    ALTER COLUMN workspace DROP NOT NULL,
    ALTER COLUMN region DROP NOT NULL,
    DROP CONSTRAINT images_tenant_id_fkey,
    DROP CONSTRAINT images_tenant_id_workspace_fkey,
    DROP CONSTRAINT images_region_fkey,
    ADD CONSTRAINT images_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE SET NULL,
    ADD CONSTRAINT images_tenant_id_workspace_fkey FOREIGN KEY (tenant_id, workspace)
        REFERENCES workspaces (tenant_id, name) ON DELETE SET NULL (workspace),
    ADD CONSTRAINT images_region_fkey FOREIGN KEY (region)
        REFERENCES regions (code) ON DELETE SET NULL;

ALTER TABLE image_copies
    DROP CONSTRAINT image_copies_host_id_fkey,
    ADD CONSTRAINT image_copies_host_id_fkey FOREIGN KEY (host_id)
        REFERENCES hosts (id) ON DELETE CASCADE;

ALTER TABLE host_allocations
    DROP CONSTRAINT host_allocations_host_id_fkey,
    ADD CONSTRAINT host_allocations_host_id_fkey FOREIGN KEY (host_id)
        REFERENCES hosts (id) ON DELETE CASCADE;
