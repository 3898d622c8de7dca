/* seca.h: what the SECA surface's handlers share (api/seca*.c), private to api/.
 *
 * The surface serves SECA v1.7 (../shared/seca) beside /v1: each handler parses a SECA
 * envelope, calls the same service as the /v1 handler of that resource, records the SECA
 * meta (sov/seca.h) and renders the SECA resource. Errors take SECA's form (application/json,
 * type http://secapi.cloud/errors/<kind>, title, status, detail, instance, sources); every
 * rejection of a request is 412, except 401, 403 (role), 404 (the path names nothing, or
 * another tenant's) and 5xx. */
#ifndef SOV_API_SECA_H
#define SOV_API_SECA_H

#include "handlers.h"
#include "sov/seca.h"

extern const sov_route sov_seca_routes[];
extern const size_t sov_seca_routes_count;

/* A SECA resource type: its provider, kind, plural (the path segment) and where its names
 * live. */
typedef enum sov_seca_scope {
    SOV_SECA_GLOBAL,        /* regions */
    SOV_SECA_TENANT,        /* skus, images, roles, role assignments */
    SOV_SECA_WORKSPACE,     /* instances, block storages, networks, ... (and workspaces: the
                               name is the workspace's own) */
    SOV_SECA_NETWORK,       /* subnets, route tables: under networks/{network} */
} sov_seca_scope;
typedef struct sov_seca_type {
    const char *provider;   /* "seca.compute" (metadata.provider adds "/v1") */
    const char *kind;       /* "instance" */
    const char *plural;     /* "instances" */
    sov_seca_scope scope;
    bool regional;          /* metadata.region is set */
} sov_seca_type;

/* The path: {tenant} as given (the tenant's name) and its id (resolved by the authorization
 * step); {workspace}, {network}, {name}; NULL where the route has none. */
const char *sov_seca_tenant(sov_request *req);
const char *sov_seca_tenant_id(sov_request *req);
const char *sov_seca_workspace(sov_request *req);
const char *sov_seca_network(sov_request *req);
const char *sov_seca_name(sov_request *req);

/* The region a resource with no placement of its own is recorded in: the first region (by
 * code, with at least one zone) the tenant's residency policy allows. SOV_E_RESIDENCY when
 * none is. */
int sov_seca_default_region(sov_request *req, char *ret, size_t size, sov_error *err);

/* A request's envelope: {labels, annotations, extensions, metadata, spec, status}; metadata
 * and status are read-only and ignored; any other member, a label value over 63 characters,
 * an annotation over 1024, a non-string extension, a bad {name} (pattern, over 128) is
 * SOV_E_INVALID with field a JSON pointer ("/labels/env"). spec_fields checks spec's members
 * like sov_api_check_body (NULL, 0: spec is not checked here). if-unmodified-since is read
 * into if_version (0 when absent; not an integer: SOV_E_INVALID). Members are borrowed from
 * req->body; spec is {} when absent and not required. */
/* A spec field's type that takes any JSON value (a reference: an object or a URN string). */
#define SOV_SECA_ANY ((json_type) (JSON_NULL + 1))
typedef struct sov_seca_input {
    json_t *labels, *annotations, *extensions, *spec;
    long long if_version;
} sov_seca_input;
int sov_seca_input_read(sov_request *req, const sov_field *spec_fields, size_t n,
                        bool spec_required, sov_seca_input *in, sov_error *err);

/* A reference: a Reference object {resource, provider?, tenant?, workspace?, region?} or a
 * URN string ("seca.compute/v1/tenants/t/workspaces/w/instances/n", or the short forms
 * "instances/n", "workspaces/w/instances/n"), resolved against the request's tenant and
 * workspace. plural is the type wanted ("block-storages"); pointer names the member for
 * errors ("/spec/bootVolume/deviceRef"). Another type, another tenant or a malformed one is
 * SOV_E_INVALID naming pointer. Whether the thing exists is the caller's question. */
typedef struct sov_seca_ref {
    char tenant[SOV_SECA_NAME_MAX + 1];
    char workspace[SOV_SECA_NAME_MAX + 1];  /* "" for tenant-level types */
    char network[SOV_SECA_NAME_MAX + 1];    /* "" unless nested under a network */
    char name[SOV_SECA_NAME_MAX + 1];
} sov_seca_ref;
int sov_seca_ref_read(sov_request *req, const json_t *ref, const char *plural,
                      const char *pointer, sov_seca_ref *ret, sov_error *err);
/* The same against a tenant name, workspace and network given (NULL: none): what
 * sov_seca_ref_read does with the request's; pure, for the unit test. */
int sov_seca_ref_parse(const char *tenant, const char *workspace, const char *network,
                       const json_t *ref, const char *plural, const char *pointer,
                       sov_seca_ref *ret, sov_error *err);
/* Whether name matches SECA's name pattern
 * ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ in at most max characters. */
bool sov_seca_name_valid(const char *name, size_t max);
/* The meta key of a SECA resource with no row of its own (a workspace, a built-in role): a
 * UUID (version 8, RFC 9562) from the SHA-256 of "<provider>\n<tenant_id>\n<name>". Stored
 * meta rows are keyed by it: it must never change. */
void sov_seca_key(const char *provider, const char *tenant_id, const char *name,
                  char ret[SOV_UUID_LEN + 1]);
/* Characters (UTF-8 code points) in s, as a schema's maxLength counts them. */
size_t sov_seca_chars(const char *s);
/* A Reference object for a resource of type t named name (in the request's tenant, in
 * workspace/network where t has them): {"resource": "<plural>/<name>", "provider": ...,
 * "tenant": ..., "workspace": ...}. */
json_t *sov_seca_ref_json(sov_request *req, const sov_seca_type *t, const char *workspace,
                          const char *network, const char *name);

/* The resource as SECA shows it: labels, annotations, extensions from m (NULL: none, as for
 * SKUs and regions), metadata (name, provider, resource, verb = the request's method,
 * createdAt, lastModifiedAt, resourceVersion, deletedAt, apiVersion, kind, ref, tenant,
 * workspace, network, region as t's scope has them), spec, and status (NULL: none) with
 * state and conditions from m added. residency (our /v1 residency object, NULL: none) goes
 * into status.residency. Takes spec, status and residency. workspace NULL: the request's. */
json_t *sov_seca_resource(sov_request *req, const sov_seca_type *t, const char *workspace,
                          const char *network, const char *name, const char *region,
                          const sov_seca_meta *m, json_t *spec, json_t *status,
                          json_t *residency);

/* sov_seca_resource with the resource's stored meta: read here (sov_seca_meta_get: key id,
 * kind t->kind, the state now, created_at) unless meta is given (just written). NULL with err
 * set on failure; spec, status and residency are taken either way. */
typedef struct sov_seca_stored {
    const char *id;
    sov_seca_state now;
    const char *created_at;
    const sov_seca_meta *meta;
} sov_seca_stored;
json_t *sov_seca_resource_stored(sov_request *req, const sov_seca_type *t,
                                 const char *workspace, const char *network, const char *name,
                                 const char *region, const sov_seca_stored *st, json_t *spec,
                                 json_t *status, json_t *residency, sov_error *err);

/* Lists: limit (1..10000, default 1000), skipToken (an offset, at most 5 characters) and
 * labels; items are added in any order, filtered by labels (sov_seca_list_add with the
 * item's labels), sorted by metadata.name and cut to the page on reply:
 * {items, metadata: {provider, resource, verb, skipToken?}}. */
typedef struct sov_seca_list sov_seca_list;
int sov_seca_list_begin(sov_request *req, sov_seca_list **ret, sov_error *err);
/* Takes item; drops it when its labels do not match. */
void sov_seca_list_add(sov_seca_list *l, json_t *item);
enum MHD_Result sov_seca_list_reply(sov_request *req, const sov_seca_type *t,
                                    sov_seca_list *l);
void sov_seca_list_free(sov_seca_list *l);
/* A whole list in one call: begin, then page(req, l, after, next, arg, err) until it leaves
 * next empty (after is NULL on the first call; page adds its items with sov_seca_list_add and
 * writes the cursor of the next page into next, of next_size bytes), then the reply. Any
 * failure answers in SECA's form (a read: 404 stays 404). */
typedef int (*sov_seca_page_fn)(sov_request *req, sov_seca_list *l, const char *after,
                                char *next, size_t next_size, void *arg, sov_error *err);
enum MHD_Result sov_seca_list_walk(sov_request *req, const sov_seca_type *t,
                                   sov_seca_page_fn page, void *arg);

/* The flow every provider repeats around its service calls.
 * sov_seca_record: the SECA meta of a write the service did (sov_seca_meta_write): a
 * resource of kind t->kind in tenant_id (NULL: the request's), its labels, annotations and
 * extensions from in (NULL: keep them, as for a delete), following op_id (NULL or "": done
 * already); the meta written goes into ret (NULL: not wanted).
 * sov_seca_check_version: if-unmodified-since before an update's service call (in->if_version
 * 0: none asked).
 * sov_seca_answer: body (taken) with status, or err in SECA's form when body is NULL; write
 * as for sov_seca_reply_error.
 * sov_seca_reply_deleted: a DELETE the service accepted: its meta (deleting, following
 * op_id), then 202. */
int sov_seca_record(sov_request *req, const sov_seca_type *t, const char *resource_id,
                    const char *tenant_id, sov_seca_change change, const sov_seca_input *in,
                    const char *op_id, sov_seca_meta *ret, sov_error *err);
int sov_seca_check_version(sov_request *req, const char *resource_id, const sov_seca_input *in,
                           sov_error *err);
enum MHD_Result sov_seca_answer(sov_request *req, unsigned status, json_t *body,
                                const sov_error *err, bool write);
/* A PUT's create-or-update, after its input is read: find looks the resource up (0: there,
 * its id written into id; SOV_E_NOT_FOUND: not there); there: if-unmodified-since is checked
 * against id, then update answers; not there: create answers; any other failure answers as a
 * write's. arg is the handler's own (its spec, the resource found). */
typedef struct sov_seca_put_ops {
    int (*find)(sov_request *req, void *arg, char id[SOV_UUID_LEN + 1], sov_error *err);
    enum MHD_Result (*create)(sov_request *req, const sov_seca_input *in, void *arg);
    enum MHD_Result (*update)(sov_request *req, const sov_seca_input *in, void *arg);
} sov_seca_put_ops;
enum MHD_Result sov_seca_put(sov_request *req, const sov_seca_input *in,
                             const sov_seca_put_ops *ops, void *arg);
enum MHD_Result sov_seca_reply_deleted(sov_request *req, const sov_seca_type *t,
                                       const char *resource_id, const char *tenant_id,
                                       const char *op_id);

/* Replies. sov_seca_reply: JSON with Content-Type application/json (status 200, 201, 202).
 * sov_seca_reply_error: err in SECA's form. For a write (PUT, POST action) a reference to
 * nothing (SOV_E_NOT_FOUND) is a rejection like any other (412); for a read or a delete it is
 * 404. */
enum MHD_Result sov_seca_reply(sov_request *req, unsigned status, json_t *body);
enum MHD_Result sov_seca_reply_error(sov_request *req, const sov_error *err, bool write);
/* Until a handler is built: 501 in SECA's form. */
enum MHD_Result sov_seca_reply_unbuilt(sov_request *req);
/* The edge's own refusals on SECA paths (malformed JSON, 413, 415, no route, 405), from
 * problem.c and server.c: status is what /v1 would answer. */
bool sov_seca_path(const char *path);
enum MHD_Result sov_seca_reply_status(sov_request *req, unsigned status, const char *detail,
                                      const char *pointer);

/* seca_handlers.c: what the resource handlers repeat. sov_seca_state_of: the SECA state a
 * /v1 state reads as ("error", "deleting" or "deleted", else active: the meta's followed
 * operation gives the rest of the history). sov_seca_bad: SOV_E_INVALID naming pointer,
 * "<pointer>: <what>". sov_seca_header_version: if-unmodified-since of a request without an
 * envelope (a DELETE, an action) into *ret, 0 when absent. */
sov_seca_state sov_seca_state_of(const char *state);
int sov_seca_bad(sov_error *err, const char *pointer, const char *what);
int sov_seca_header_version(sov_request *req, long long *ret, sov_error *err);
/* A service's field (its /v1 member, "address") as the SECA pointer the client wrote
 * ("/spec/address"), when err names it. */
void sov_seca_field_rename(sov_error *err, const char *from, const char *to);

/* Each of n items (size bytes apart) rendered into l (render: NULL on failure, err set). */
typedef json_t *(*sov_seca_item_fn)(sov_request *req, const void *item, sov_error *err);
int sov_seca_list_add_each(sov_request *req, sov_seca_list *l, const void *items, size_t n,
                           size_t size, sov_seca_item_fn render, sov_error *err);

/* SECA objects (sov/seca.h) of one kind as resources of type t: render makes one from the
 * object and its meta. sov_seca_object_render reads the meta (state now when it has none);
 * sov_seca_objects_reply answers the list of those of the request's workspace under parent
 * (a network's name; NULL: none), all read as active. */
typedef json_t *(*sov_seca_object_fn)(sov_request *req, const sov_seca_object *o,
                                      const sov_seca_meta *m);
int sov_seca_object_render(sov_request *req, const sov_seca_type *t, const sov_seca_object *o,
                           sov_seca_state now, sov_seca_object_fn render, json_t **ret,
                           sov_error *err);
enum MHD_Result sov_seca_objects_reply(sov_request *req, const sov_seca_type *t,
                                       const char *kind, const char *parent,
                                       sov_seca_object_fn render);

/* seca_region.c */
enum MHD_Result sov_seca_wellknown_get(sov_request *req);
enum MHD_Result sov_seca_region_regions_list(sov_request *req);
enum MHD_Result sov_seca_region_regions_get(sov_request *req);

/* seca_workspace.c */
enum MHD_Result sov_seca_workspace_workspaces_list(sov_request *req);
enum MHD_Result sov_seca_workspace_workspaces_get(sov_request *req);
enum MHD_Result sov_seca_workspace_workspaces_put(sov_request *req);
enum MHD_Result sov_seca_workspace_workspaces_delete(sov_request *req);

/* seca_authorization.c */
enum MHD_Result sov_seca_authorization_roles_list(sov_request *req);
enum MHD_Result sov_seca_authorization_roles_get(sov_request *req);
enum MHD_Result sov_seca_authorization_roles_put(sov_request *req);
enum MHD_Result sov_seca_authorization_roles_delete(sov_request *req);
enum MHD_Result sov_seca_authorization_role_assignments_list(sov_request *req);
enum MHD_Result sov_seca_authorization_role_assignments_get(sov_request *req);
enum MHD_Result sov_seca_authorization_role_assignments_put(sov_request *req);
enum MHD_Result sov_seca_authorization_role_assignments_delete(sov_request *req);

/* seca_compute.c */
enum MHD_Result sov_seca_compute_skus_list(sov_request *req);
enum MHD_Result sov_seca_compute_skus_get(sov_request *req);
enum MHD_Result sov_seca_compute_instances_list(sov_request *req);
enum MHD_Result sov_seca_compute_instances_get(sov_request *req);
enum MHD_Result sov_seca_compute_instances_put(sov_request *req);
enum MHD_Result sov_seca_compute_instances_delete(sov_request *req);
enum MHD_Result sov_seca_compute_instances_start(sov_request *req);
enum MHD_Result sov_seca_compute_instances_stop(sov_request *req);
enum MHD_Result sov_seca_compute_instances_restart(sov_request *req);

/* seca_storage.c */
enum MHD_Result sov_seca_storage_skus_list(sov_request *req);
enum MHD_Result sov_seca_storage_skus_get(sov_request *req);
enum MHD_Result sov_seca_storage_images_list(sov_request *req);
enum MHD_Result sov_seca_storage_images_get(sov_request *req);
enum MHD_Result sov_seca_storage_images_put(sov_request *req);
enum MHD_Result sov_seca_storage_images_delete(sov_request *req);
enum MHD_Result sov_seca_storage_block_storages_list(sov_request *req);
enum MHD_Result sov_seca_storage_block_storages_get(sov_request *req);
enum MHD_Result sov_seca_storage_block_storages_put(sov_request *req);
enum MHD_Result sov_seca_storage_block_storages_delete(sov_request *req);

/* seca_networks.c (skus, networks), seca_route_tables.c (internet gateways, route tables),
 * seca_subnets.c; what they share: seca_net.h */
enum MHD_Result sov_seca_network_skus_list(sov_request *req);
enum MHD_Result sov_seca_network_skus_get(sov_request *req);
enum MHD_Result sov_seca_network_networks_list(sov_request *req);
enum MHD_Result sov_seca_network_networks_get(sov_request *req);
enum MHD_Result sov_seca_network_networks_put(sov_request *req);
enum MHD_Result sov_seca_network_networks_delete(sov_request *req);
enum MHD_Result sov_seca_network_internet_gateways_list(sov_request *req);
enum MHD_Result sov_seca_network_internet_gateways_get(sov_request *req);
enum MHD_Result sov_seca_network_internet_gateways_put(sov_request *req);
enum MHD_Result sov_seca_network_internet_gateways_delete(sov_request *req);
enum MHD_Result sov_seca_network_subnets_list(sov_request *req);
enum MHD_Result sov_seca_network_subnets_get(sov_request *req);
enum MHD_Result sov_seca_network_subnets_put(sov_request *req);
enum MHD_Result sov_seca_network_subnets_delete(sov_request *req);
enum MHD_Result sov_seca_network_route_tables_list(sov_request *req);
enum MHD_Result sov_seca_network_route_tables_get(sov_request *req);
enum MHD_Result sov_seca_network_route_tables_put(sov_request *req);
enum MHD_Result sov_seca_network_route_tables_delete(sov_request *req);

/* seca_security_groups.c */
enum MHD_Result sov_seca_network_security_groups_list(sov_request *req);
enum MHD_Result sov_seca_network_security_groups_get(sov_request *req);
enum MHD_Result sov_seca_network_security_groups_put(sov_request *req);
enum MHD_Result sov_seca_network_security_groups_delete(sov_request *req);
enum MHD_Result sov_seca_network_security_group_rules_list(sov_request *req);
enum MHD_Result sov_seca_network_security_group_rules_get(sov_request *req);
enum MHD_Result sov_seca_network_security_group_rules_put(sov_request *req);
enum MHD_Result sov_seca_network_security_group_rules_delete(sov_request *req);
/* seca_nics.c */
enum MHD_Result sov_seca_network_nics_list(sov_request *req);
enum MHD_Result sov_seca_network_nics_get(sov_request *req);
enum MHD_Result sov_seca_network_nics_put(sov_request *req);
enum MHD_Result sov_seca_network_nics_delete(sov_request *req);
/* seca_public_ips.c */
enum MHD_Result sov_seca_network_public_ips_list(sov_request *req);
enum MHD_Result sov_seca_network_public_ips_get(sov_request *req);
enum MHD_Result sov_seca_network_public_ips_put(sov_request *req);
enum MHD_Result sov_seca_network_public_ips_delete(sov_request *req);

#endif
