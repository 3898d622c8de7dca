/* seca_routes.c: the routes of the SECA-compatible surface (SECA v1.7), served beside /v1
 * under /providers/seca.<provider>/v1/... and /.wellknown/secapi. A table of its own: the /v1
 * contract, role and isolation tests read sov_api_routes[]; the SECA tier (tests/seca) checks
 * these against SECA's own OpenAPI documents. sovd serves both tables (api/main.c).
 *
 * SOV_ROUTE_SECA: {tenant} is a tenant's name; the authorization step resolves it and answers
 * another tenant's (or an unknown) name 404 for a caller who is not an operator, and every
 * refusal takes SECA's error form (api/seca.c). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "seca.h"

#define PUB SOV_ROUTE_PUBLIC
#define SECA SOV_ROUTE_SECA
#define OP SOV_ROLE_OPERATOR
#define ADM SOV_ROLE_ADMIN
#define MEM SOV_ROLE_MEMBER
#define ANY SOV_ROLES_ALL

const sov_route sov_seca_routes[] = {
    { "GET", "/.wellknown/secapi", sov_seca_wellknown_get, PUB | SECA, 0, "seca.wellknown.get",
      NULL },
    { "GET", "/providers/seca.authorization/v1/tenants/{tenant}/roles",
      sov_seca_authorization_roles_list, SECA, ANY, "seca.authorization.roles.list",
      "labels limit skipToken" },
    { "GET", "/providers/seca.authorization/v1/tenants/{tenant}/roles/{name}",
      sov_seca_authorization_roles_get, SECA, ANY, "seca.authorization.roles.get", NULL },
    { "PUT", "/providers/seca.authorization/v1/tenants/{tenant}/roles/{name}",
      sov_seca_authorization_roles_put, SECA, OP | ADM, "seca.authorization.roles.put", NULL },
    { "DELETE", "/providers/seca.authorization/v1/tenants/{tenant}/roles/{name}",
      sov_seca_authorization_roles_delete, SECA, OP | ADM, "seca.authorization.roles.delete",
      NULL },
    { "GET", "/providers/seca.authorization/v1/tenants/{tenant}/role-assignments",
      sov_seca_authorization_role_assignments_list, SECA, ANY,
      "seca.authorization.role-assignments.list", "labels limit skipToken" },
    { "GET", "/providers/seca.authorization/v1/tenants/{tenant}/role-assignments/{name}",
      sov_seca_authorization_role_assignments_get, SECA, ANY,
      "seca.authorization.role-assignments.get", NULL },
    { "PUT", "/providers/seca.authorization/v1/tenants/{tenant}/role-assignments/{name}",
      sov_seca_authorization_role_assignments_put, SECA, OP | ADM,
      "seca.authorization.role-assignments.put", NULL },
    { "DELETE", "/providers/seca.authorization/v1/tenants/{tenant}/role-assignments/{name}",
      sov_seca_authorization_role_assignments_delete, SECA, OP | ADM,
      "seca.authorization.role-assignments.delete", NULL },

    { "GET", "/providers/seca.region/v1/regions", sov_seca_region_regions_list, SECA, ANY,
      "seca.region.regions.list", "labels limit skipToken" },
    { "GET", "/providers/seca.region/v1/regions/{name}", sov_seca_region_regions_get, SECA, ANY,
      "seca.region.regions.get", NULL },

    { "GET", "/providers/seca.workspace/v1/tenants/{tenant}/workspaces",
      sov_seca_workspace_workspaces_list, SECA, ANY, "seca.workspace.workspaces.list",
      "labels limit skipToken" },
    { "GET", "/providers/seca.workspace/v1/tenants/{tenant}/workspaces/{name}",
      sov_seca_workspace_workspaces_get, SECA, ANY, "seca.workspace.workspaces.get", NULL },
    { "PUT", "/providers/seca.workspace/v1/tenants/{tenant}/workspaces/{name}",
      sov_seca_workspace_workspaces_put, SECA, OP | ADM, "seca.workspace.workspaces.put", NULL },
    { "DELETE", "/providers/seca.workspace/v1/tenants/{tenant}/workspaces/{name}",
      sov_seca_workspace_workspaces_delete, SECA, OP | ADM, "seca.workspace.workspaces.delete",
      NULL },

    { "GET", "/providers/seca.compute/v1/tenants/{tenant}/skus", sov_seca_compute_skus_list, SECA,
      ANY, "seca.compute.skus.list", "labels limit skipToken" },
    { "GET", "/providers/seca.compute/v1/tenants/{tenant}/skus/{name}", sov_seca_compute_skus_get,
      SECA, ANY, "seca.compute.skus.get", NULL },
    { "GET", "/providers/seca.compute/v1/tenants/{tenant}/workspaces/{workspace}/instances",
      sov_seca_compute_instances_list, SECA, ANY, "seca.compute.instances.list",
      "labels limit skipToken" },
    { "GET", "/providers/seca.compute/v1/tenants/{tenant}/workspaces/{workspace}/instances/{name}",
      sov_seca_compute_instances_get, SECA, ANY, "seca.compute.instances.get", NULL },
    { "PUT", "/providers/seca.compute/v1/tenants/{tenant}/workspaces/{workspace}/instances/{name}",
      sov_seca_compute_instances_put, SECA, OP | ADM | MEM, "seca.compute.instances.put", NULL },
    { "DELETE",
      "/providers/seca.compute/v1/tenants/{tenant}/workspaces/{workspace}/instances/{name}",
      sov_seca_compute_instances_delete, SECA, OP | ADM | MEM, "seca.compute.instances.delete",
      NULL },
    { "POST",
      "/providers/seca.compute/v1/tenants/{tenant}/workspaces/{workspace}/instances/{name}/start",
      sov_seca_compute_instances_start, SECA, OP | ADM | MEM, "seca.compute.instances.start",
      NULL },
    { "POST",
      "/providers/seca.compute/v1/tenants/{tenant}/workspaces/{workspace}/instances/{name}/stop",
      sov_seca_compute_instances_stop, SECA, OP | ADM | MEM, "seca.compute.instances.stop", NULL },
    { "POST",
      "/providers/seca.compute/v1/tenants/{tenant}/workspaces/{workspace}/instances/{name}/restart",
      sov_seca_compute_instances_restart, SECA, OP | ADM | MEM, "seca.compute.instances.restart",
      NULL },

    { "GET", "/providers/seca.storage/v1/tenants/{tenant}/skus", sov_seca_storage_skus_list, SECA,
      ANY, "seca.storage.skus.list", "labels limit skipToken" },
    { "GET", "/providers/seca.storage/v1/tenants/{tenant}/skus/{name}", sov_seca_storage_skus_get,
      SECA, ANY, "seca.storage.skus.get", NULL },
    { "GET", "/providers/seca.storage/v1/tenants/{tenant}/images", sov_seca_storage_images_list,
      SECA, ANY, "seca.storage.images.list", "labels limit skipToken" },
    { "GET", "/providers/seca.storage/v1/tenants/{tenant}/images/{name}",
      sov_seca_storage_images_get, SECA, ANY, "seca.storage.images.get", NULL },
    { "PUT", "/providers/seca.storage/v1/tenants/{tenant}/images/{name}",
      sov_seca_storage_images_put, SECA, OP | ADM | MEM, "seca.storage.images.put", NULL },
    { "DELETE", "/providers/seca.storage/v1/tenants/{tenant}/images/{name}",
      sov_seca_storage_images_delete, SECA, OP | ADM | MEM, "seca.storage.images.delete", NULL },
    { "GET", "/providers/seca.storage/v1/tenants/{tenant}/workspaces/{workspace}/block-storages",
      sov_seca_storage_block_storages_list, SECA, ANY, "seca.storage.block-storages.list",
      "labels limit skipToken" },
    { "GET",
      "/providers/seca.storage/v1/tenants/{tenant}/workspaces/{workspace}/block-storages/{name}",
      sov_seca_storage_block_storages_get, SECA, ANY, "seca.storage.block-storages.get", NULL },
    { "PUT",
      "/providers/seca.storage/v1/tenants/{tenant}/workspaces/{workspace}/block-storages/{name}",
      sov_seca_storage_block_storages_put, SECA, OP | ADM | MEM, "seca.storage.block-storages.put",
      NULL },
    { "DELETE",
      "/providers/seca.storage/v1/tenants/{tenant}/workspaces/{workspace}/block-storages/{name}",
      sov_seca_storage_block_storages_delete, SECA, OP | ADM | MEM,
      "seca.storage.block-storages.delete", NULL },

    { "GET", "/providers/seca.network/v1/tenants/{tenant}/skus", sov_seca_network_skus_list, SECA,
      ANY, "seca.network.skus.list", "labels limit skipToken" },
    { "GET", "/providers/seca.network/v1/tenants/{tenant}/skus/{name}", sov_seca_network_skus_get,
      SECA, ANY, "seca.network.skus.get", NULL },

    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-groups",
      sov_seca_network_security_groups_list, SECA, ANY, "seca.network.security-groups.list",
      "labels limit skipToken" },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-groups/{name}",
      sov_seca_network_security_groups_get, SECA, ANY, "seca.network.security-groups.get", NULL },
    { "PUT",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-groups/{name}",
      sov_seca_network_security_groups_put, SECA, OP | ADM | MEM,
      "seca.network.security-groups.put", NULL },
    { "DELETE",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-groups/{name}",
      sov_seca_network_security_groups_delete, SECA, OP | ADM | MEM,
      "seca.network.security-groups.delete", NULL },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-group-rules",
      sov_seca_network_security_group_rules_list, SECA, ANY,
      "seca.network.security-group-rules.list", "labels limit skipToken" },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-group-rules"
      "/{name}", sov_seca_network_security_group_rules_get, SECA, ANY,
      "seca.network.security-group-rules.get", NULL },
    { "PUT",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-group-rules"
      "/{name}", sov_seca_network_security_group_rules_put, SECA, OP | ADM | MEM,
      "seca.network.security-group-rules.put", NULL },
    { "DELETE",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/security-group-rules"
      "/{name}", sov_seca_network_security_group_rules_delete, SECA, OP | ADM | MEM,
      "seca.network.security-group-rules.delete", NULL },
    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/nics",
      sov_seca_network_nics_list, SECA, ANY, "seca.network.nics.list", "labels limit skipToken" },
    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/nics/{name}",
      sov_seca_network_nics_get, SECA, ANY, "seca.network.nics.get", NULL },
    { "PUT", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/nics/{name}",
      sov_seca_network_nics_put, SECA, OP | ADM | MEM, "seca.network.nics.put", NULL },
    { "DELETE", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/nics/{name}",
      sov_seca_network_nics_delete, SECA, OP | ADM | MEM, "seca.network.nics.delete", NULL },
    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/public-ips",
      sov_seca_network_public_ips_list, SECA, ANY, "seca.network.public-ips.list",
      "labels limit skipToken" },
    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/public-ips/{name}",
      sov_seca_network_public_ips_get, SECA, ANY, "seca.network.public-ips.get", NULL },
    { "PUT", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/public-ips/{name}",
      sov_seca_network_public_ips_put, SECA, OP | ADM | MEM, "seca.network.public-ips.put", NULL },
    { "DELETE",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/public-ips/{name}",
      sov_seca_network_public_ips_delete, SECA, OP | ADM | MEM, "seca.network.public-ips.delete",
      NULL },

    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks",
      sov_seca_network_networks_list, SECA, ANY, "seca.network.networks.list",
      "labels limit skipToken" },
    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{name}",
      sov_seca_network_networks_get, SECA, ANY, "seca.network.networks.get", NULL },
    { "PUT", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{name}",
      sov_seca_network_networks_put, SECA, OP | ADM | MEM, "seca.network.networks.put", NULL },
    { "DELETE",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{name}",
      sov_seca_network_networks_delete, SECA, OP | ADM | MEM, "seca.network.networks.delete",
      NULL },
    { "GET", "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/internet-gateways",
      sov_seca_network_internet_gateways_list, SECA, ANY, "seca.network.internet-gateways.list",
      "labels limit skipToken" },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/internet-gateways/{name}",
      sov_seca_network_internet_gateways_get, SECA, ANY, "seca.network.internet-gateways.get",
      NULL },
    { "PUT",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/internet-gateways/{name}",
      sov_seca_network_internet_gateways_put, SECA, OP | ADM | MEM,
      "seca.network.internet-gateways.put", NULL },
    { "DELETE",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/internet-gateways/{name}",
      sov_seca_network_internet_gateways_delete, SECA, OP | ADM | MEM,
      "seca.network.internet-gateways.delete", NULL },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/subnets", sov_seca_network_subnets_list, SECA, ANY, "seca.network.subnets.list",
      "labels limit skipToken" },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/subnets/{name}", sov_seca_network_subnets_get, SECA, ANY, "seca.network.subnets.get",
      NULL },
    { "PUT",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/subnets/{name}", sov_seca_network_subnets_put, SECA, OP | ADM | MEM,
      "seca.network.subnets.put", NULL },
    { "DELETE",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/subnets/{name}", sov_seca_network_subnets_delete, SECA, OP | ADM | MEM,
      "seca.network.subnets.delete", NULL },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/route-tables", sov_seca_network_route_tables_list, SECA, ANY,
      "seca.network.route-tables.list", "labels limit skipToken" },
    { "GET",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/route-tables/{name}", sov_seca_network_route_tables_get, SECA, ANY,
      "seca.network.route-tables.get", NULL },
    { "PUT",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/route-tables/{name}", sov_seca_network_route_tables_put, SECA, OP | ADM | MEM,
      "seca.network.route-tables.put", NULL },
    { "DELETE",
      "/providers/seca.network/v1/tenants/{tenant}/workspaces/{workspace}/networks/{network}"
      "/route-tables/{name}", sov_seca_network_route_tables_delete, SECA, OP | ADM | MEM,
      "seca.network.route-tables.delete", NULL },
};
const size_t sov_seca_routes_count = sizeof(sov_seca_routes) / sizeof(sov_seca_routes[0]);

static sov_route *served;
static size_t nserved;

static void
serve_both(void)
{
    served = calloc(sov_api_routes_count + sov_seca_routes_count, sizeof(*served));
    if (!served)
        return;
    memcpy(served, sov_api_routes, sov_api_routes_count * sizeof(*served));
    memcpy(served + sov_api_routes_count, sov_seca_routes,
           sov_seca_routes_count * sizeof(*served));
    nserved = sov_api_routes_count + sov_seca_routes_count;
}

const sov_route *
sov_served_routes(size_t *n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, serve_both);
    *n = nserved;
    return served;
}
