/* register.c: network/'s one registration (include/sov/network.h): the operation kinds of
 * networks, subnets, ports, security groups, routers and public IPs (each a sync of the
 * resource's scopes, net_ops.c) and the reconciler's pass over OVN. The services charge
 * quotas themselves (sov_quota_charge), so no quota uses are registered. The instances'
 * NICs: the instance hook "network" (a create's ports, the default network at a workspace's
 * first instance, ports up once the domain started, ports released at delete), the domain
 * contributor "network.nics" (each port an OVS NIC) and the port attach/detach workers
 * (hot plug), instance_nics.c and port_plug.c. */
#include "sov/registry.h"
#include "network_int.h"

/* A sync is a few PostgreSQL statements and two OVSDB calls, each bounded by
 * SOV_OVSDB_DEFAULT_TIMEOUT_MS; a port's operation syncs its tenant's groups too. */
#define SYNC_STEP_S 60

int
sov_network_register(sov_error *err)
{
    static const sov_op_kind kinds[] = {
        { "network.create", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "network.update", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "network.delete", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "subnet.create", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "subnet.update", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "subnet.delete", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "port.create", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "port.update", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "port.delete", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "security_group.create", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "security_group.update", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "security_group.delete", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "router.create", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "router.update", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "router.delete", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "public_ip.create", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "public_ip.update", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "public_ip.attach", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "public_ip.detach", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        { "public_ip.delete", sov_net_sync_op, SYNC_STEP_S, sov_net_op_failed },
        /* A hot plug waits up to ovn_port_up_timeout_s for the port, then runs again. */
        { "port.attach", sov_net_port_attach_op, 300, sov_net_op_failed },
        { "port.detach", sov_net_port_detach_op, 300, sov_net_op_failed },
        { NULL, NULL, 0, NULL },
    };

    if (sov_registry_add_op_kinds(kinds, err) < 0 ||
        sov_domain_contrib_add("network.nics", sov_net_nics_contrib, err) < 0 ||
        sov_instance_hook_add(&sov_net_instance_hook, err) < 0)
        return -1;
    return sov_registry_add_reconcile_pass("network", sov_ovn_reconcile, err);
}
