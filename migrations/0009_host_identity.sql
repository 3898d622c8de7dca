-- 0009_host_identity.sql: a host is a machine, not a URI. One machine registered twice (under
-- two URIs, in two regions) counted its capacity twice and let placement record two countries
-- for data on one machine. Discovery now records what libvirt says the machine is, and a
-- second registration of the same machine is refused by the unique index below, whatever
-- URI reaches it, even when two registrations race. Registration is an operation: the row
-- exists from the 202 on, 'discovering' until a worker has asked libvirt, and 'error' when
-- discovery failed (placement only ever uses 'up').

ALTER TABLE hosts DROP CONSTRAINT hosts_state_check;
ALTER TABLE hosts ADD CONSTRAINT hosts_state_check
    CHECK (state IN ('discovering', 'up', 'down', 'disabled', 'draining', 'error'));
-- A host still discovering has no hypervisor yet.
ALTER TABLE hosts DROP CONSTRAINT hosts_hypervisor_check;
ALTER TABLE hosts ADD CONSTRAINT hosts_hypervisor_check
    CHECK (hypervisor IN ('', 'kvm', 'qemu', 'test'));

-- machine_id: what makes two URIs the same machine ('uuid:' and libvirt's host UUID, or
-- 'test:' and the digest of a test driver's host file); NULL until discovery found it (and
-- for hosts registered before this file, until the reconciler's next check records it).
-- seen_*: a different machine the reconciler found behind the URI, kept until an operator
-- confirms it (POST /v1/hosts/{id}/confirm-machine) or the registered machine answers again.
ALTER TABLE hosts
    ADD COLUMN machine_id text,
    ADD COLUMN host_uuid text NOT NULL DEFAULT '',
    ADD COLUMN smbios_uuid text NOT NULL DEFAULT '',
    ADD COLUMN seen_machine_id text,
    ADD COLUMN seen_host_uuid text NOT NULL DEFAULT '',
    ADD COLUMN seen_smbios_uuid text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX hosts_machine_key ON hosts (machine_id);
