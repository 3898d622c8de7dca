/* routes.c: every route sovd serves, with its role policy and audit name. The router, the
 * authorization step, the OpenAPI test and the route x role matrix test all read this
 * table; a route exists nowhere else.
 *
 * query: the query parameters it takes (NULL: none), as api/openapi.json documents them.
 * roles: who may call it at all. Scope comes on top: with SOV_ROUTE_TENANT, a caller who is
 * not an operator reaches only its own tenant's {id}; services apply the same rule to ids
 * in bodies and deeper paths. */
#include "handlers.h"

#define PUB SOV_ROUTE_PUBLIC
#define TEN SOV_ROUTE_TENANT
#define OP SOV_ROLE_OPERATOR
#define ADM SOV_ROLE_ADMIN
#define MEM SOV_ROLE_MEMBER
#define RD SOV_ROLE_READER
#define AUD SOV_ROLE_AUDITOR
#define ANY SOV_ROLES_ALL

const sov_route sov_api_routes[] = {
    { "GET", "/healthz", sov_handle_healthz, PUB, 0, "health.get", NULL },
    { "GET", "/readyz", sov_handle_readyz, PUB, 0, "ready.get", NULL },
    { "GET", "/metrics", sov_handle_metrics, PUB, 0, "metrics.get", NULL },
    { "GET", "/v1/openapi.json", sov_handle_openapi, PUB, 0, "openapi.get", NULL },

    { "GET", "/v1/me", sov_handle_me, 0, ANY, "me.get", NULL },
    { "POST", "/v1/tokens", sov_handle_token_create, 0, ANY, "tokens.create", NULL },
    { "GET", "/v1/tokens", sov_handle_token_list, 0, ANY, "tokens.list",
      "limit after user_id" },
    { "DELETE", "/v1/tokens/{id}", sov_handle_token_delete, 0, ANY, "tokens.delete", NULL },

    { "POST", "/v1/tenants", sov_handle_tenant_create, 0, OP, "tenants.create", NULL },
    { "GET", "/v1/tenants", sov_handle_tenant_list, 0, OP, "tenants.list", "limit after" },
    { "GET", "/v1/tenants/{id}", sov_handle_tenant_get, TEN, ANY, "tenants.get", NULL },
    { "PATCH", "/v1/tenants/{id}", sov_handle_tenant_update, TEN, OP | ADM, "tenants.update",
      NULL },
    { "DELETE", "/v1/tenants/{id}", sov_handle_tenant_delete, TEN, OP, "tenants.delete", NULL },
    { "DELETE", "/v1/tenants/{id}/kek", sov_handle_tenant_kek_delete, TEN, OP,
      "tenants.kek-destroy", NULL },

    { "POST", "/v1/tenants/{id}/workspaces", sov_handle_workspace_create, TEN, OP | ADM,
      "workspaces.create", NULL },
    { "GET", "/v1/tenants/{id}/workspaces", sov_handle_workspace_list, TEN, ANY,
      "workspaces.list", "limit after" },
    { "GET", "/v1/tenants/{id}/workspaces/{name}", sov_handle_workspace_get, TEN, ANY,
      "workspaces.get", NULL },
    { "PATCH", "/v1/tenants/{id}/workspaces/{name}", sov_handle_workspace_update, TEN,
      OP | ADM, "workspaces.update", NULL },
    { "DELETE", "/v1/tenants/{id}/workspaces/{name}", sov_handle_workspace_delete, TEN,
      OP | ADM, "workspaces.delete", NULL },

    { "POST", "/v1/tenants/{id}/users", sov_handle_user_create, TEN, OP | ADM,
      "users.create", NULL },
    { "GET", "/v1/tenants/{id}/users", sov_handle_user_list, TEN, OP | ADM, "users.list",
      "limit after" },
    { "GET", "/v1/tenants/{id}/users/{uid}", sov_handle_user_get, TEN, OP | ADM,
      "users.get", NULL },
    { "PATCH", "/v1/tenants/{id}/users/{uid}", sov_handle_user_update, TEN, OP | ADM,
      "users.update", NULL },
    { "DELETE", "/v1/tenants/{id}/users/{uid}", sov_handle_user_delete, TEN, OP | ADM,
      "users.delete", NULL },

    { "GET", "/v1/tenants/{id}/quotas", sov_handle_quota_get, TEN, ANY, "quotas.get", NULL },
    { "PUT", "/v1/tenants/{id}/quotas", sov_handle_quota_set, TEN, OP, "quotas.set", NULL },

    { "POST", "/v1/hosts", sov_handle_host_create, 0, OP, "hosts.create", NULL },
    { "GET", "/v1/hosts", sov_handle_host_list, 0, OP, "hosts.list",
      "limit after region state" },
    { "GET", "/v1/hosts/{id}", sov_handle_host_get, 0, OP, "hosts.get", NULL },
    { "PATCH", "/v1/hosts/{id}", sov_handle_host_update, 0, OP, "hosts.update", NULL },
    { "DELETE", "/v1/hosts/{id}", sov_handle_host_delete, 0, OP, "hosts.delete", NULL },
    { "POST", "/v1/hosts/{id}/confirm-machine", sov_handle_host_confirm_machine, 0, OP,
      "hosts.confirm_machine", NULL },

    { "GET", "/v1/tenants/{id}/residency-policy", sov_handle_policy_get, TEN, ANY,
      "residency-policy.get", NULL },
    { "PUT", "/v1/tenants/{id}/residency-policy", sov_handle_policy_set, TEN, OP | ADM,
      "residency-policy.set", NULL },

    { "POST", "/v1/regions", sov_handle_region_create, 0, OP, "regions.create", NULL },
    { "GET", "/v1/regions", sov_handle_region_list, 0, ANY, "regions.list", "limit after" },
    { "GET", "/v1/regions/{code}", sov_handle_region_get, 0, ANY, "regions.get", NULL },
    { "PATCH", "/v1/regions/{code}", sov_handle_region_update, 0, OP, "regions.update", NULL },
    { "DELETE", "/v1/regions/{code}", sov_handle_region_delete, 0, OP, "regions.delete", NULL },

    { "POST", "/v1/placement/dry-run", sov_handle_placement_dry_run, 0, OP | ADM | MEM,
      "placement.dry-run", NULL },

    { "POST", "/v1/images", sov_handle_image_create, 0, OP | ADM | MEM, "images.create", NULL },
    { "GET", "/v1/images", sov_handle_image_list, 0, ANY, "images.list",
      "limit after workspace region tenant_id" },
    { "GET", "/v1/images/{id}", sov_handle_image_get, 0, ANY, "images.get",
      "workspace tenant_id" },
    { "DELETE", "/v1/images/{id}", sov_handle_image_delete, 0, OP | ADM | MEM, "images.delete",
      NULL },
    { "PUT", "/v1/images/{id}/file", sov_handle_image_upload, SOV_ROUTE_STREAM,
      OP | ADM | MEM, "images.upload", NULL },

    { "POST", "/v1/flavors", sov_handle_flavor_create, 0, OP, "flavors.create", NULL },
    { "GET", "/v1/flavors", sov_handle_flavor_list, 0, ANY, "flavors.list", "limit after" },
    { "GET", "/v1/flavors/{id}", sov_handle_flavor_get, 0, ANY, "flavors.get", NULL },
    { "DELETE", "/v1/flavors/{id}", sov_handle_flavor_delete, 0, OP, "flavors.delete", NULL },

    { "POST", "/v1/instances", sov_handle_instance_create, 0, OP | ADM | MEM,
      "instances.create", NULL },
    { "GET", "/v1/instances", sov_handle_instance_list, 0, ANY, "instances.list",
      "limit after workspace region state name tenant_id" },
    { "GET", "/v1/instances/{id}", sov_handle_instance_get, 0, ANY, "instances.get",
      "tenant_id" },
    { "POST", "/v1/instances/{id}/actions", sov_handle_instance_action, 0, OP | ADM | MEM,
      "instances.action", "tenant_id" },
    { "DELETE", "/v1/instances/{id}", sov_handle_instance_delete, 0, OP | ADM | MEM,
      "instances.delete", "tenant_id" },
    { "GET", "/v1/instances/{id}/console", sov_handle_instance_console, 0,
      OP | ADM | MEM | RD, "instances.console", "tail_bytes" },

    { "POST", "/v1/snapshots", sov_handle_snapshot_create, 0, OP | ADM | MEM,
      "snapshots.create", NULL },
    { "GET", "/v1/snapshots", sov_handle_snapshot_list, 0, ANY, "snapshots.list",
      "limit after workspace volume tenant_id" },
    { "GET", "/v1/snapshots/{id}", sov_handle_snapshot_get, 0, ANY, "snapshots.get",
      "workspace tenant_id" },
    { "DELETE", "/v1/snapshots/{id}", sov_handle_snapshot_delete, 0, OP | ADM | MEM,
      "snapshots.delete", "workspace tenant_id" },
    { "GET", "/v1/snapshots/{id}/residency", sov_handle_snapshot_residency, 0, ANY,
      "snapshots.residency", "limit after workspace tenant_id" },
    { "POST", "/v1/volume-types", sov_handle_volume_type_create, 0, OP, "volume-types.create",
      NULL },
    { "GET", "/v1/volume-types", sov_handle_volume_type_list, 0, ANY, "volume-types.list",
      "limit after" },
    { "GET", "/v1/volume-types/{id}", sov_handle_volume_type_get, 0, ANY, "volume-types.get",
      NULL },
    { "DELETE", "/v1/volume-types/{id}", sov_handle_volume_type_delete, 0, OP,
      "volume-types.delete", NULL },

    { "POST", "/v1/volumes", sov_handle_volume_create, 0, OP | ADM | MEM, "volumes.create",
      NULL },
    { "GET", "/v1/volumes", sov_handle_volume_list, 0, ANY, "volumes.list",
      "limit after workspace state instance tenant_id" },
    { "GET", "/v1/volumes/{id}", sov_handle_volume_get, 0, ANY, "volumes.get", "tenant_id" },
    { "POST", "/v1/volumes/{id}/actions", sov_handle_volume_action, 0, OP | ADM | MEM,
      "volumes.action", "tenant_id" },
    { "DELETE", "/v1/volumes/{id}", sov_handle_volume_delete, 0, OP | ADM | MEM,
      "volumes.delete", "tenant_id" },
    { "GET", "/v1/volumes/{id}/residency", sov_handle_volume_residency, 0, ANY,
      "volumes.residency", "limit after" },

    { "POST", "/v1/networks", sov_handle_network_create, 0, OP | ADM | MEM,
      "networks.create", NULL },
    { "GET", "/v1/networks", sov_handle_network_list, 0, ANY, "networks.list",
      "limit after workspace region state tenant_id" },
    { "GET", "/v1/networks/{id}", sov_handle_network_get, 0, ANY, "networks.get",
      "workspace tenant_id" },
    { "DELETE", "/v1/networks/{id}", sov_handle_network_delete, 0, OP | ADM | MEM,
      "networks.delete", "workspace tenant_id" },
    { "GET", "/v1/networks/{id}/residency", sov_handle_network_residency, 0, ANY,
      "networks.residency", "limit after workspace tenant_id" },
    { "POST", "/v1/subnets", sov_handle_subnet_create, 0, OP | ADM | MEM, "subnets.create",
      NULL },
    { "GET", "/v1/subnets", sov_handle_subnet_list, 0, ANY, "subnets.list",
      "limit after workspace network state tenant_id" },
    { "GET", "/v1/subnets/{id}", sov_handle_subnet_get, 0, ANY, "subnets.get",
      "workspace tenant_id" },
    { "DELETE", "/v1/subnets/{id}", sov_handle_subnet_delete, 0, OP | ADM | MEM,
      "subnets.delete", "workspace tenant_id" },
    { "POST", "/v1/ports", sov_handle_port_create, 0, OP | ADM | MEM, "ports.create", NULL },
    { "GET", "/v1/ports", sov_handle_port_list, 0, ANY, "ports.list",
      "limit after workspace network subnet instance state tenant_id" },
    { "GET", "/v1/ports/{id}", sov_handle_port_get, 0, ANY, "ports.get",
      "workspace tenant_id" },
    { "DELETE", "/v1/ports/{id}", sov_handle_port_delete, 0, OP | ADM | MEM, "ports.delete",
      "workspace tenant_id" },
    { "PUT", "/v1/ports/{id}/security-groups", sov_handle_port_security_groups, 0,
      OP | ADM | MEM, "ports.security-groups", "workspace tenant_id" },
    { "POST", "/v1/ports/{id}/actions", sov_handle_port_action, 0, OP | ADM | MEM,
      "ports.action", "workspace tenant_id" },

    { "GET", "/v1/operations", sov_handle_operation_list, 0, ANY, "operations.list",
      "limit after resource_id state" },
    { "GET", "/v1/operations/{id}", sov_handle_operation_get, 0, ANY, "operations.get", NULL },

    { "GET", "/v1/instances/{id}/residency", sov_handle_instance_residency, 0, ANY,
      "instances.residency", "limit after" },
    { "GET", "/v1/images/{id}/residency", sov_handle_image_residency, 0, ANY,
      "images.residency", "limit after" },
    { "POST", "/v1/residency/reports", sov_handle_report_create, 0, OP | ADM | AUD,
      "residency-reports.create", NULL },
    { "GET", "/v1/residency/reports", sov_handle_report_list, 0, OP | ADM | AUD,
      "residency-reports.list", "limit after" },
    { "GET", "/v1/residency/reports/{id}", sov_handle_report_get, 0, OP | ADM | AUD,
      "residency-reports.get", NULL },
    { "GET", "/v1/residency/reports/{id}/document", sov_handle_report_document, 0,
      OP | ADM | AUD, "residency-reports.document", NULL },
    { "GET", "/v1/residency/reports/{id}/signature", sov_handle_report_signature, 0,
      OP | ADM | AUD, "residency-reports.signature", NULL },
    { "GET", "/v1/residency/signing-key", sov_handle_signing_key_get, 0, ANY,
      "signing-key.get", "key_id" },
    { "POST", "/v1/residency/signing-key/rotate", sov_handle_signing_key_rotate, 0, OP,
      "signing-key.rotate", NULL },

    { "GET", "/v1/audit", sov_handle_audit_list, 0, OP | ADM | AUD, "audit.list",
      "limit after since until user_id tenant_id action resource_type resource_id" },
    { "GET", "/v1/audit/verify", sov_handle_audit_verify, 0, OP | ADM | AUD, "audit.verify",
      NULL },
};

const size_t sov_api_routes_count = SOV_N_ELEMENTS(sov_api_routes);
