/* handlers.h: every handler, for the route table (private to api/). One file per resource. */
#ifndef SOV_API_HANDLERS_H
#define SOV_API_HANDLERS_H

#include "sov/api.h"
#include "sov/network.h"

/* system.c */
enum MHD_Result sov_handle_healthz(sov_request *req);
enum MHD_Result sov_handle_readyz(sov_request *req);
enum MHD_Result sov_handle_metrics(sov_request *req);
enum MHD_Result sov_handle_openapi(sov_request *req);

/* tenants.c */
enum MHD_Result sov_handle_tenant_create(sov_request *req);
enum MHD_Result sov_handle_tenant_list(sov_request *req);
enum MHD_Result sov_handle_tenant_get(sov_request *req);
enum MHD_Result sov_handle_tenant_update(sov_request *req);
enum MHD_Result sov_handle_tenant_delete(sov_request *req);
enum MHD_Result sov_handle_tenant_kek_delete(sov_request *req);

/* workspaces.c */
enum MHD_Result sov_handle_workspace_create(sov_request *req);
enum MHD_Result sov_handle_workspace_list(sov_request *req);
enum MHD_Result sov_handle_workspace_get(sov_request *req);
enum MHD_Result sov_handle_workspace_update(sov_request *req);
enum MHD_Result sov_handle_workspace_delete(sov_request *req);

/* users.c */
enum MHD_Result sov_handle_user_create(sov_request *req);
enum MHD_Result sov_handle_user_list(sov_request *req);
enum MHD_Result sov_handle_user_get(sov_request *req);
enum MHD_Result sov_handle_user_update(sov_request *req);
enum MHD_Result sov_handle_user_delete(sov_request *req);

/* tokens.c */
enum MHD_Result sov_handle_me(sov_request *req);
enum MHD_Result sov_handle_token_create(sov_request *req);
enum MHD_Result sov_handle_token_list(sov_request *req);
enum MHD_Result sov_handle_token_delete(sov_request *req);

/* quotas.c */
enum MHD_Result sov_handle_quota_get(sov_request *req);
enum MHD_Result sov_handle_quota_set(sov_request *req);

/* audit.c */
enum MHD_Result sov_handle_audit_list(sov_request *req);
enum MHD_Result sov_handle_audit_verify(sov_request *req);

/* regions.c */
enum MHD_Result sov_handle_region_create(sov_request *req);
enum MHD_Result sov_handle_region_list(sov_request *req);
enum MHD_Result sov_handle_region_get(sov_request *req);
enum MHD_Result sov_handle_region_update(sov_request *req);
enum MHD_Result sov_handle_region_delete(sov_request *req);

/* hosts.c */
enum MHD_Result sov_handle_host_create(sov_request *req);
enum MHD_Result sov_handle_host_list(sov_request *req);
enum MHD_Result sov_handle_host_get(sov_request *req);
enum MHD_Result sov_handle_host_update(sov_request *req);
enum MHD_Result sov_handle_host_delete(sov_request *req);
enum MHD_Result sov_handle_host_confirm_machine(sov_request *req);
enum MHD_Result sov_handle_host_evacuate(sov_request *req);

/* policy.c */
struct sov_policy;
json_t *sov_api_policy_json(const struct sov_policy *p);
enum MHD_Result sov_handle_policy_get(sov_request *req);
enum MHD_Result sov_handle_policy_set(sov_request *req);

/* placement.c */
enum MHD_Result sov_handle_placement_dry_run(sov_request *req);

/* flavors.c */
enum MHD_Result sov_handle_flavor_create(sov_request *req);
enum MHD_Result sov_handle_flavor_list(sov_request *req);
enum MHD_Result sov_handle_flavor_get(sov_request *req);
enum MHD_Result sov_handle_flavor_delete(sov_request *req);

/* images.c */
enum MHD_Result sov_handle_image_create(sov_request *req);
enum MHD_Result sov_handle_image_list(sov_request *req);
enum MHD_Result sov_handle_image_get(sov_request *req);
enum MHD_Result sov_handle_image_delete(sov_request *req);
enum MHD_Result sov_handle_image_upload(sov_request *req);

/* instances.c */
enum MHD_Result sov_handle_instance_create(sov_request *req);
enum MHD_Result sov_handle_instance_list(sov_request *req);
enum MHD_Result sov_handle_instance_get(sov_request *req);
enum MHD_Result sov_handle_instance_action(sov_request *req);
enum MHD_Result sov_handle_instance_delete(sov_request *req);
enum MHD_Result sov_handle_instance_console(sov_request *req);
enum MHD_Result sov_handle_instance_console_stream(sov_request *req);
enum MHD_Result sov_handle_instance_migrations(sov_request *req);

/* networks.c */
enum MHD_Result sov_handle_network_create(sov_request *req);
enum MHD_Result sov_handle_network_list(sov_request *req);
enum MHD_Result sov_handle_network_get(sov_request *req);
enum MHD_Result sov_handle_network_delete(sov_request *req);
enum MHD_Result sov_handle_subnet_create(sov_request *req);
enum MHD_Result sov_handle_subnet_list(sov_request *req);
enum MHD_Result sov_handle_subnet_get(sov_request *req);
enum MHD_Result sov_handle_subnet_delete(sov_request *req);
enum MHD_Result sov_handle_port_create(sov_request *req);
enum MHD_Result sov_handle_port_list(sov_request *req);
enum MHD_Result sov_handle_port_get(sov_request *req);
enum MHD_Result sov_handle_port_delete(sov_request *req);
enum MHD_Result sov_handle_port_security_groups(sov_request *req);
enum MHD_Result sov_handle_port_action(sov_request *req);

/* security_groups.c */
enum MHD_Result sov_handle_security_group_create(sov_request *req);
enum MHD_Result sov_handle_security_group_list(sov_request *req);
enum MHD_Result sov_handle_security_group_get(sov_request *req);
enum MHD_Result sov_handle_security_group_delete(sov_request *req);
enum MHD_Result sov_handle_security_group_rule_add(sov_request *req);
enum MHD_Result sov_handle_security_group_rule_delete(sov_request *req);

/* routers.c */
enum MHD_Result sov_handle_router_create(sov_request *req);
enum MHD_Result sov_handle_router_list(sov_request *req);
enum MHD_Result sov_handle_router_get(sov_request *req);
enum MHD_Result sov_handle_router_delete(sov_request *req);

/* public_ips.c */
enum MHD_Result sov_handle_public_ip_pool_create(sov_request *req);
enum MHD_Result sov_handle_public_ip_pool_list(sov_request *req);
enum MHD_Result sov_handle_public_ip_pool_get(sov_request *req);
enum MHD_Result sov_handle_public_ip_pool_delete(sov_request *req);
enum MHD_Result sov_handle_public_ip_create(sov_request *req);
enum MHD_Result sov_handle_public_ip_list(sov_request *req);
enum MHD_Result sov_handle_public_ip_get(sov_request *req);
enum MHD_Result sov_handle_public_ip_action(sov_request *req);
enum MHD_Result sov_handle_public_ip_delete(sov_request *req);
enum MHD_Result sov_handle_public_ip_residency(sov_request *req);

/* volume_types.c */
enum MHD_Result sov_handle_volume_type_create(sov_request *req);
enum MHD_Result sov_handle_volume_type_list(sov_request *req);
enum MHD_Result sov_handle_volume_type_get(sov_request *req);
enum MHD_Result sov_handle_volume_type_delete(sov_request *req);

/* volumes.c */
enum MHD_Result sov_handle_volume_create(sov_request *req);
enum MHD_Result sov_handle_volume_list(sov_request *req);
enum MHD_Result sov_handle_volume_get(sov_request *req);
enum MHD_Result sov_handle_volume_action(sov_request *req);
enum MHD_Result sov_handle_volume_delete(sov_request *req);

/* operations.c */
enum MHD_Result sov_handle_operation_get(sov_request *req);
enum MHD_Result sov_handle_operation_list(sov_request *req);

/* reports.c */
enum MHD_Result sov_handle_report_create(sov_request *req);
enum MHD_Result sov_handle_report_list(sov_request *req);
enum MHD_Result sov_handle_report_get(sov_request *req);
enum MHD_Result sov_handle_report_document(sov_request *req);
enum MHD_Result sov_handle_report_signature(sov_request *req);
enum MHD_Result sov_handle_signing_key_get(sov_request *req);
enum MHD_Result sov_handle_signing_key_rotate(sov_request *req);

/* history.c */
enum MHD_Result sov_handle_instance_residency(sov_request *req);
enum MHD_Result sov_handle_image_residency(sov_request *req);
enum MHD_Result sov_handle_snapshot_residency(sov_request *req);

/* snapshots.c */
enum MHD_Result sov_handle_snapshot_create(sov_request *req);
enum MHD_Result sov_handle_snapshot_list(sov_request *req);
enum MHD_Result sov_handle_snapshot_get(sov_request *req);
enum MHD_Result sov_handle_snapshot_delete(sov_request *req);
enum MHD_Result sov_handle_volume_residency(sov_request *req);
enum MHD_Result sov_handle_network_residency(sov_request *req);

/* Shared by resources that hold tenant data: the residency object of their JSON. */
struct sov_location;
json_t *sov_api_location_json(const struct sov_location *l, const char *since);
/* volumes.c: a volume's residency, its key's place included (/v1 and SECA). */
struct sov_volume;
json_t *sov_api_volume_residency_json(const struct sov_volume *v);
/* The operation JSON, and the 202 reply that hands one out (Location: its URL). */
struct sov_op;
json_t *sov_api_op_json(const struct sov_op *op);
enum MHD_Result sov_api_reply_accepted(sov_request *req, json_t *body, const struct sov_op *op);
/* The 202 of a resource's create, as an answer renderer gives it (sov_api_answer_in_tx):
 * {member: resource (taken), "operation": op}, Location: the operation. */
/* An instance create's body members (all but ssh_keys) into a, as the create and the
 * placement dry run both read them; strings are borrowed from req's body. */
struct sov_instance_create_args;
void sov_api_instance_args(sov_request *req, struct sov_instance_create_args *a);
/* An instance create's storage members (boot_volume, boot {image, size_gib, type}, volumes)
 * into s, as the create and the dry run both read them (vols: room for max volume names);
 * *given: any was. SOV_E_INVALID naming the member (unknown boot members too). */
#define SOV_API_INSTANCE_VOLUMES_MAX 16
struct sov_instance_storage_args;
int sov_api_instance_storage(sov_request *req, struct sov_instance_storage_args *s,
                             const char **vols, size_t max, bool *given, sov_error *err);
/* An instance create's nics ([{subnet | port, ip, security_groups}]) into a, borrowing
 * from req's body; buf holds the arrays. SOV_E_INVALID naming "nics[i].member". */
typedef struct sov_api_nics {
    sov_instance_nic_args nics[SOV_INSTANCE_NICS_MAX];
    const char *groups[SOV_INSTANCE_NICS_MAX][SOV_NET_SG_MAX];
} sov_api_nics;
int sov_api_instance_network(sov_request *req, sov_instance_network_args *a, sov_api_nics *buf,
                             sov_error *err);
json_t *sov_api_accepted_json(const char *member, json_t *resource, const struct sov_op *op,
                              unsigned *status, char *location, size_t location_size);

#endif
