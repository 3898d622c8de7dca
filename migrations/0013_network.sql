-- 0013_network.sql: tenant networks on OVN. PostgreSQL holds the intent (networks, subnets,
-- ports with their addresses, security groups, routers, public IPs); network/ writes it into
-- OVN's Northbound database, one OVSDB transaction per change, and the reconciler compares
-- the two. Every row below is a tenant's workspace resource, named uniquely in its workspace
-- among those not deleted, except the public IP pools, which operators define per region.
--
-- States, for every table with one: creating (recorded, not yet in OVN), available (in OVN),
-- updating (a change recorded, not yet in OVN), deleting, deleted, error. ovn_synced_at says
-- when OVN last matched the row.

CREATE TABLE networks (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    cidr cidr NOT NULL CHECK (family(cidr) = 4 AND masklen(cidr) BETWEEN 16 AND 28),
    -- networks are regional: every port of it is on a host of this region
    region text NOT NULL,
    -- made by the first instance of a workspace that had no network
    is_default boolean NOT NULL DEFAULT false,
    state text NOT NULL CHECK (state IN ('creating', 'available', 'updating', 'deleting',
                                         'deleted', 'error')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    ovn_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace)
);
CREATE UNIQUE INDEX networks_name_key ON networks (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE INDEX networks_tenant ON networks (tenant_id, id);

-- Internet gateways: egress of a network's subnets to the outside, SNAT through the region's
-- external network (an OVN logical router with a gateway port). One per network at most.
CREATE TABLE routers (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    network_id uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    region text NOT NULL,
    -- SNAT on by default; false: only the public IPs of ports reach out
    snat boolean NOT NULL DEFAULT true,
    state text NOT NULL CHECK (state IN ('creating', 'available', 'updating', 'deleting',
                                         'deleted', 'error')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    ovn_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace)
);
CREATE UNIQUE INDEX routers_name_key ON routers (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE UNIQUE INDEX routers_network_key ON routers (network_id) WHERE state <> 'deleted';
CREATE INDEX routers_tenant ON routers (tenant_id, id);

CREATE TABLE subnets (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    network_id uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    cidr cidr NOT NULL CHECK (family(cidr) = 4 AND masklen(cidr) BETWEEN 16 AND 29),
    -- a failure domain of the network's region; NULL: every zone
    zone text,
    -- the first host address unless given; never handed to a port
    gateway inet NOT NULL,
    dns_servers inet[] NOT NULL DEFAULT '{}',
    state text NOT NULL CHECK (state IN ('creating', 'available', 'updating', 'deleting',
                                         'deleted', 'error')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    ovn_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace),
    CHECK (gateway << cidr)
);
CREATE UNIQUE INDEX subnets_name_key ON subnets (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE INDEX subnets_network ON subnets (network_id) WHERE state <> 'deleted';
CREATE INDEX subnets_tenant ON subnets (tenant_id, id);

CREATE TABLE security_groups (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    -- made with the default network: what a plain instance create puts its port in
    is_default boolean NOT NULL DEFAULT false,
    state text NOT NULL CHECK (state IN ('creating', 'available', 'updating', 'deleting',
                                         'deleted', 'error')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    ovn_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace)
);
CREATE UNIQUE INDEX security_groups_name_key ON security_groups (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE INDEX security_groups_tenant ON security_groups (tenant_id, id);

-- Rules are stateful (OVN allow-related): a reply to an allowed flow is allowed. A rule
-- allows traffic from (ingress) or to (egress) remote_cidr, or the ports of remote_group;
-- neither: anywhere. Deleted rows are gone (the group's operation carries the change).
CREATE TABLE security_group_rules (
    id uuid PRIMARY KEY,
    security_group_id uuid NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
    direction text NOT NULL CHECK (direction IN ('ingress', 'egress')),
    protocol text NOT NULL CHECK (protocol IN ('tcp', 'udp', 'icmp', 'any')),
    port_min integer CHECK (port_min BETWEEN 1 AND 65535),
    port_max integer CHECK (port_max BETWEEN 1 AND 65535),
    remote_cidr cidr CHECK (remote_cidr IS NULL OR family(remote_cidr) = 4),
    remote_group_id uuid REFERENCES security_groups (id) ON DELETE CASCADE,
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((port_min IS NULL) = (port_max IS NULL)),
    CHECK (port_min IS NULL OR (port_min <= port_max AND protocol IN ('tcp', 'udp'))),
    CHECK (remote_cidr IS NULL OR remote_group_id IS NULL)
);
CREATE INDEX security_group_rules_group ON security_group_rules (security_group_id, created_at, id);
CREATE INDEX security_group_rules_remote ON security_group_rules (remote_group_id)
    WHERE remote_group_id IS NOT NULL;

-- Ports (NICs). The address is taken in the port's transaction: the subnet's row is locked,
-- the lowest free host address chosen, and the unique index below makes two ports with one
-- address impossible whatever the code does. The network address, the gateway and the
-- broadcast address are never handed out (ipam). A deleted port frees its address.
CREATE TABLE ports (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    network_id uuid NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    subnet_id uuid NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
    ip inet NOT NULL CHECK (family(ip) = 4 AND masklen(ip) = 32),
    mac macaddr NOT NULL,
    -- the instance it is plugged into, and where (its host, whose chassis binds it)
    instance_id uuid REFERENCES instances (id) ON DELETE SET NULL,
    device_index integer CHECK (device_index >= 0),
    -- made by an instance create (nics: [{subnet}] or the default): deleted with it
    created_by_instance uuid,
    -- OVN's Southbound binding: ovn-controller has bound the port on its chassis
    up boolean NOT NULL DEFAULT false,
    chassis text NOT NULL DEFAULT '',
    state text NOT NULL CHECK (state IN ('creating', 'available', 'attaching', 'in-use',
                                         'detaching', 'updating', 'deleting', 'deleted',
                                         'error')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    ovn_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace)
);
CREATE UNIQUE INDEX ports_name_key ON ports (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE UNIQUE INDEX ports_ip_key ON ports (subnet_id, ip) WHERE state <> 'deleted';
CREATE UNIQUE INDEX ports_mac_key ON ports (network_id, mac) WHERE state <> 'deleted';
CREATE UNIQUE INDEX ports_device_key ON ports (instance_id, device_index)
    WHERE state <> 'deleted' AND instance_id IS NOT NULL;
CREATE INDEX ports_tenant ON ports (tenant_id, id);
CREATE INDEX ports_network ON ports (network_id) WHERE state <> 'deleted';

CREATE TABLE port_security_groups (
    port_id uuid NOT NULL REFERENCES ports (id) ON DELETE CASCADE,
    security_group_id uuid NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (port_id, security_group_id)
);
CREATE INDEX port_security_groups_group ON port_security_groups (security_group_id);

-- An operator's pool of public addresses per region: the region's external network. first
-- and last bound what is handed out (the gateway never is). physical_network is the name a
-- gateway chassis maps to its external bridge (ovn-bridge-mappings=public:br-ex).
CREATE TABLE public_ip_pools (
    id uuid PRIMARY KEY,
    region text NOT NULL REFERENCES regions (code) ON DELETE RESTRICT,
    name text NOT NULL,
    cidr cidr NOT NULL CHECK (family(cidr) = 4 AND masklen(cidr) BETWEEN 8 AND 30),
    gateway inet NOT NULL,
    first_ip inet NOT NULL,
    last_ip inet NOT NULL,
    physical_network text NOT NULL DEFAULT 'public',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region, name),
    CHECK (gateway << cidr AND first_ip << cidr AND last_ip << cidr AND first_ip <= last_ip)
);

-- A public address of a tenant (kind 'ip'), attachable to a port (OVN dnat_and_snat), or a
-- router's own address on the external network (kind 'router', its SNAT address; not
-- counted in the tenant's quota, made and freed with the router).
CREATE TABLE public_ips (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
    workspace text,
    name text NOT NULL,
    kind text NOT NULL DEFAULT 'ip' CHECK (kind IN ('ip', 'router')),
    region text NOT NULL,
    pool_id uuid NOT NULL REFERENCES public_ip_pools (id) ON DELETE RESTRICT,
    address inet NOT NULL CHECK (family(address) = 4 AND masklen(address) = 32),
    port_id uuid REFERENCES ports (id) ON DELETE SET NULL,
    router_id uuid REFERENCES routers (id) ON DELETE CASCADE,
    state text NOT NULL CHECK (state IN ('creating', 'available', 'attaching', 'in-use',
                                         'detaching', 'updating', 'deleting', 'deleted',
                                         'error')),
    state_reason text NOT NULL DEFAULT '',
    operation_id uuid,
    ovn_synced_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    FOREIGN KEY (tenant_id, workspace) REFERENCES workspaces (tenant_id, name)
        ON DELETE SET NULL (workspace),
    CHECK ((kind = 'router') = (router_id IS NOT NULL) OR state = 'deleted')
);
CREATE UNIQUE INDEX public_ips_address_key ON public_ips (pool_id, address)
    WHERE state <> 'deleted';
CREATE UNIQUE INDEX public_ips_name_key ON public_ips (tenant_id, workspace, name)
    WHERE state <> 'deleted';
CREATE UNIQUE INDEX public_ips_port_key ON public_ips (port_id)
    WHERE state <> 'deleted' AND port_id IS NOT NULL;
CREATE INDEX public_ips_tenant ON public_ips (tenant_id, id);

-- Instances made before tenant networks keep their NIC on the host's libvirt NAT network
-- until deleted; every instance made from now on has its NICs from network/ (ports).
ALTER TABLE instances ADD COLUMN nat_nic boolean NOT NULL DEFAULT false;
UPDATE instances SET nat_nic = true WHERE state <> 'deleted';

-- Networks and what is in them count against quotas of their own.
ALTER TABLE quotas DROP CONSTRAINT quotas_resource_check;
ALTER TABLE quotas ADD CONSTRAINT quotas_resource_check
    CHECK (resource IN ('instances', 'vcpus', 'memory_mib', 'gpus', 'volumes', 'storage_gib',
                        'workspaces', 'snapshots', 'networks', 'subnets', 'ports',
                        'security_groups', 'security_group_rules', 'public_ips'));
INSERT INTO quotas (tenant_id, resource, max)
    SELECT t.id, r.resource, r.max FROM tenants t,
        (VALUES ('networks', 10), ('subnets', 40), ('ports', 200), ('security_groups', 20),
                ('security_group_rules', 400), ('public_ips', 10)) AS r (resource, max)
    ON CONFLICT DO NOTHING;
