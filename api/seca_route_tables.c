/* seca_route_tables.c: the network provider (seca.network), part one: internet gateways and
 * route tables. Both are SECA objects (sov/seca.h), made real by network/seca_routes.c: a
 * default route to an internet gateway used by a subnet gives the network our router (SNAT);
 * network/ decides, these handlers read, call and render. Departures from SECA: routes only
 * to internet gateways (others are 412), names follow our limit (63). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_net.h"

#define ROUTES_MAX 1000

/* Fill o's key for a put of the path's {name}: kind under parent in workspace, region. */
static void
object_key(sov_request *req, sov_seca_object *o, const char *workspace, const char *kind,
           const char *parent, const char *region)
{
    memset(o, 0, sizeof(*o));
    snprintf(o->tenant_id, sizeof(o->tenant_id), "%s", sov_seca_tenant_id(req));
    snprintf(o->workspace, sizeof(o->workspace), "%s", workspace);
    snprintf(o->kind, sizeof(o->kind), "%s", kind);
    snprintf(o->parent, sizeof(o->parent), "%s", parent);
    snprintf(o->name, sizeof(o->name), "%s", sov_seca_name(req));
    snprintf(o->region, sizeof(o->region), "%s", region);
}

/* An object's GET: found by find, rendered at state now. */
static enum MHD_Result
object_reply(sov_request *req, const sov_seca_type *t, int found, sov_seca_object *o,
             sov_seca_state now, sov_seca_net_render_fn render, sov_error *err)
{
    json_t *body = NULL;

    if (found < 0 || sov_seca_net_render(req, o->id, t->kind, now, o->created_at, render, o,
                                         &body, err) < 0) {
        sov_seca_object_clear(o);
        return sov_seca_reply_error(req, err, false);
    }
    sov_seca_object_clear(o);
    return sov_seca_net_reply(req, MHD_HTTP_OK, body);
}

/* The existing object of a put (*exists), its version checked against if-unmodified-since;
 * old to clear when it exists. */
static int
object_prior(sov_request *req, int found, sov_seca_object *old, const sov_seca_input *in,
             bool *exists, sov_error *err)
{
    *exists = found == 0;
    if (!*exists && err->code != SOV_E_NOT_FOUND)
        return -1;
    if (!*exists) {
        *err = (sov_error) SOV_ERROR_INIT;
        return 0;
    }
    if (sov_seca_meta_check_version(&req->ctx, old->id, in->if_version, err) < 0) {
        sov_seca_object_clear(old);
        return -1;
    }
    return 0;
}

/* ---- internet gateways ---- */

static json_t *
igw_json(sov_request *req, const void *res, const sov_seca_meta *m)
{
    const sov_seca_object *o = res;

    return sov_seca_resource(req, &sov_seca_net_gateway_type, o->workspace, NULL, o->name,
                             o->region, m,
                             json_pack("{s:b}", "egressOnly",
                                       json_is_true(json_object_get(o->spec, "egressOnly"))),
                             json_object(), NULL);
}

static int
igw_get(sov_request *req, const char *name, sov_seca_object *o, sov_error *err)
{
    memset(o, 0, sizeof(*o));
    if (!name || strlen(name) > SOV_SECA_NAME_MAX)
        return sov_error_set(err, SOV_E_NOT_FOUND, "internet gateway does not exist");
    return sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                               SOV_SECA_OBJ_GATEWAY, "", name, o, err);
}

enum MHD_Result
sov_seca_network_internet_gateways_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    int found = igw_get(req, sov_seca_name(req), &o, &err);

    return object_reply(req, &sov_seca_net_gateway_type, found, &o, SOV_SECA_ACTIVE, igw_json,
                        &err);
}

static int
igw_item(sov_request *req, const void *arg, const sov_seca_object *o, json_t **ret,
         sov_error *err)
{
    (void) arg;
    return sov_seca_net_render(req, o->id, sov_seca_net_gateway_type.kind, SOV_SECA_ACTIVE,
                               o->created_at, igw_json, o, ret, err);
}

enum MHD_Result
sov_seca_network_internet_gateways_list(sov_request *req)
{
    return sov_seca_net_objects_reply(req, &sov_seca_net_gateway_type, SOV_SECA_OBJ_GATEWAY,
                                      "", igw_item, NULL);
}

enum MHD_Result
sov_seca_network_internet_gateways_put(sov_request *req)
{
    static const char *const members[] = { "egressOnly", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    sov_seca_object o, old;
    json_t *egress;
    char region[SOV_NAME_MAX + 1];
    bool created = false, exists;
    enum MHD_Result rc;

    if (sov_seca_input_read(req, NULL, 0, false, &in, &err) < 0 ||
        sov_seca_members_check(in.spec, "/spec", members, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    egress = json_object_get(in.spec, "egressOnly");
    if (egress && !json_is_boolean(egress))
        sov_error_invalid(&err, "/spec/egressOnly", "spec.egressOnly must be true or false");
    if (err.code != SOV_OK || sov_seca_net_name_check(req, &err) < 0 ||
        object_prior(req, igw_get(req, sov_seca_name(req), &old, &err), &old, &in, &exists,
                     &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (exists)
        sov_seca_object_clear(&old);
    if (sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    object_key(req, &o, sov_seca_workspace(req), SOV_SECA_OBJ_GATEWAY, "", region);
    o.spec = json_pack("{s:b}", "egressOnly", json_is_true(egress));
    if (sov_seca_object_put(&req->ctx, &o, &created, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, true);
    }
    rc = sov_seca_net_object_written(req, &sov_seca_net_gateway_type, &o, &in, created,
                                     igw_json);
    sov_seca_object_clear(&o);
    return rc;
}

enum MHD_Result
sov_seca_network_internet_gateways_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    char used_by[2 * SOV_SECA_NAME_MAX + 40];
    sov_seca_meta m;

    if (igw_get(req, sov_seca_name(req), &o, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_network_gateway_user(&req->ctx, o.tenant_id, o.workspace, o.name, used_by,
                                 sizeof(used_by), &err) == 0 && used_by[0])
        sov_error_set(&err, SOV_E_CONFLICT, "internet gateway '%s' is used by %s: change or "
                      "delete that route table first", o.name, used_by);
    memset(&m, 0, sizeof(m));
    sov_seca_write w = { .resource_id = o.id, .tenant_id = o.tenant_id,
                         .kind = sov_seca_net_gateway_type.kind, .change = SOV_SECA_DELETED };
    if (err.code != SOV_OK ||
        sov_seca_object_delete(&req->ctx, o.tenant_id, o.workspace, SOV_SECA_OBJ_GATEWAY, "",
                               o.name, &err) < 0 ||
        sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0 ||
        sov_seca_meta_forget(&req->ctx, o.id, &err) < 0) {
        sov_seca_object_clear(&o);
        sov_seca_meta_clear(&m);
        return sov_seca_reply_error(req, &err, false);
    }
    sov_seca_object_clear(&o);
    sov_seca_meta_clear(&m);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

/* ---- route tables ---- */

static json_t *
rt_json(sov_request *req, const void *res, const sov_seca_meta *m)
{
    const sov_seca_object *o = res;
    json_t *spec = json_deep_copy(json_object_get(o->spec, "spec"));
    json_t *routes = json_array(), *v;
    const char *state = json_is_true(json_object_get(o->spec, "deleting")) ? "deleting"
                                                                            : "active";
    size_t i;

    json_array_foreach(json_object_get(spec, "routes"), i, v)
        json_array_append_new(routes, json_pack("{s:s, s:[]}", "state", state, "conditions"));
    return sov_seca_resource(req, &sov_seca_net_route_table_type, o->workspace, o->parent,
                             o->name, o->region, m, spec ? spec : json_object(),
                             json_pack("{s:o}", "routes", routes), NULL);
}

static int
rt_get(sov_request *req, const char *network, const char *name, sov_seca_object *o,
       bool *deleting, sov_error *err)
{
    return sov_network_route_table_get(&req->ctx, sov_seca_tenant_id(req),
                                       sov_seca_workspace(req), network, name, o, deleting,
                                       err);
}

enum MHD_Result
sov_seca_network_route_tables_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    bool deleting = false;
    int found = rt_get(req, sov_seca_network(req), sov_seca_name(req), &o, &deleting, &err);

    return object_reply(req, &sov_seca_net_route_table_type, found, &o,
                        deleting ? SOV_SECA_DELETING : SOV_SECA_ACTIVE, rt_json, &err);
}

/* A table of the list, read again (a deleted one whose router is gone drops out). */
static int
rt_item(sov_request *req, const void *arg, const sov_seca_object *listed, json_t **ret,
        sov_error *err)
{
    const sov_network *n = arg;
    sov_seca_object o;
    bool deleting;
    int rc;

    if (rt_get(req, n->name, listed->name, &o, &deleting, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        *err = (sov_error) SOV_ERROR_INIT;
        return 1;
    }
    rc = sov_seca_net_render(req, o.id, sov_seca_net_route_table_type.kind,
                             deleting ? SOV_SECA_DELETING : SOV_SECA_ACTIVE, o.created_at,
                             rt_json, &o, ret, err);
    sov_seca_object_clear(&o);
    return rc;
}

enum MHD_Result
sov_seca_network_route_tables_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;

    if (sov_seca_net_network_find(req, sov_seca_network(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_net_objects_reply(req, &sov_seca_net_route_table_type,
                                      SOV_SECA_OBJ_ROUTE_TABLE, n.name, rt_item, &n);
}

/* One route: {destinationCidrBlock (an IPv4 CIDR block, or IPv6, stored), targetRef (an
 * existing internet gateway of the workspace)} resolved into {cidr, kind, name}. */
static int
route_read(sov_request *req, const json_t *r, size_t i, json_t *targets, sov_error *err)
{
    char ptr[40], tptr[72], norm[SOV_CIDR_MAX];
    const char *dest, *key;
    json_t *v;
    sov_seca_ref ref;
    sov_seca_object gw;

    snprintf(ptr, sizeof(ptr), "/spec/routes/%zu", i);
    if (!json_is_object(r))
        return sov_error_invalid(err, ptr, "a route is {destinationCidrBlock, targetRef}");
    json_object_foreach((json_t *) r, key, v)
        if (strcmp(key, "destinationCidrBlock") != 0 && strcmp(key, "targetRef") != 0)
            return sov_error_invalid(err, ptr, "a route has no member '%.64s'", key);
    dest = json_string_value(json_object_get(r, "destinationCidrBlock"));
    snprintf(tptr, sizeof(tptr), "%s/destinationCidrBlock", ptr);
    if (!dest || !*dest || strlen(dest) > 43)
        return sov_error_invalid(err, tptr, "destinationCidrBlock is required: a CIDR block "
                                 "such as 0.0.0.0/0");
    if (!strchr(dest, ':') && sov_cidr_normalize(dest, true, norm) < 0)
        return sov_error_invalid(err, tptr, "destinationCidrBlock '%.43s' is not a CIDR block "
                                 "(its network address, such as 0.0.0.0/0)", dest);
    snprintf(tptr, sizeof(tptr), "%s/targetRef", ptr);
    if (!json_object_get(r, "targetRef"))
        return sov_error_invalid(err, tptr, "targetRef is required");
    if (sov_seca_ref_read(req, json_object_get(r, "targetRef"), "internet-gateways", tptr,
                          &ref, err) < 0)
        return sov_error_invalid(err, tptr, "a route's target here is an internet gateway "
                                 "(internet-gateways/<name>): routes to instances, NICs or "
                                 "addresses are not served");
    if (ref.workspace[0] && strcmp(ref.workspace, sov_seca_workspace(req)) != 0)
        return sov_error_invalid(err, tptr, "the internet gateway must be in workspace '%s'",
                                 sov_seca_workspace(req));
    if (igw_get(req, ref.name, &gw, err) < 0) {
        snprintf(err->field, sizeof(err->field), "%.60s", tptr);
        return -1;
    }
    sov_seca_object_clear(&gw);
    json_array_append_new(targets, json_pack("{s:s, s:s, s:s}", "cidr", dest, "kind",
                                             "internet-gateways", "name", ref.name));
    return 0;
}

/* spec.routes (1 to ROUTES_MAX), each read by route_read into targets. */
static int
routes_read(sov_request *req, const json_t *spec, json_t *targets, sov_error *err)
{
    json_t *routes = json_object_get(spec, "routes"), *r;
    size_t i;

    if (!json_is_array(routes) || json_array_size(routes) == 0 ||
        json_array_size(routes) > ROUTES_MAX)
        return sov_error_invalid(err, "/spec/routes", "spec.routes is required: 1 to %d "
                                 "routes", ROUTES_MAX);
    json_array_foreach(routes, i, r)
        if (route_read(req, r, i, targets, err) < 0)
            return -1;
    return 0;
}

/* The spec read and the table as it is (*exists; old to clear then): a table being deleted
 * cannot be changed. */
static int
rt_put_read(sov_request *req, const sov_network *n, sov_seca_input *in, json_t *targets,
            sov_seca_object *old, bool *exists, sov_error *err)
{
    static const char *const members[] = { "routes", NULL };
    bool deleting = false;

    if (sov_seca_input_read(req, NULL, 0, true, in, err) < 0 ||
        sov_seca_members_check(in->spec, "/spec", members, err) < 0 ||
        sov_seca_net_name_check(req, err) < 0 || routes_read(req, in->spec, targets, err) < 0)
        return -1;
    if (rt_get(req, n->name, sov_seca_name(req), old, &deleting, err) == 0 && deleting) {
        sov_seca_object_clear(old);
        return sov_error_set(err, SOV_E_CONFLICT, "route table '%s' is being deleted",
                             sov_seca_name(req));
    }
    return object_prior(req, err->code == SOV_OK ? 0 : -1, old, in, exists, err);
}

enum MHD_Result
sov_seca_network_route_tables_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    sov_seca_object o, old;
    sov_network n;
    json_t *targets;
    bool created = false, exists = false;
    enum MHD_Result rc;

    if (sov_seca_net_network_find(req, sov_seca_network(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    targets = json_array();
    if (rt_put_read(req, &n, &in, targets, &old, &exists, &err) < 0) {
        json_decref(targets);
        return sov_seca_reply_error(req, &err, true);
    }
    object_key(req, &o, n.workspace, SOV_SECA_OBJ_ROUTE_TABLE, n.name, n.region);
    o.spec = json_pack("{s:O, s:o, s:b}", "spec", in.spec, "targets", targets, "deleting",
                       false);
    if (sov_network_route_table_put(&req->ctx, n.tenant_id, n.id, &o, exists ? &old : NULL,
                                    &created, &err) < 0) {
        sov_seca_field_rename(&err, "region", "/spec/routes");
        rc = sov_seca_reply_error(req, &err, true);
    } else {
        rc = sov_seca_net_object_written(req, &sov_seca_net_route_table_type, &o, &in, created,
                                         rt_json);
    }
    if (exists)
        sov_seca_object_clear(&old);
    sov_seca_object_clear(&o);
    return rc;
}

enum MHD_Result
sov_seca_network_route_tables_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    sov_network n;
    bool deleting;
    enum MHD_Result rc;

    if (sov_seca_net_network_find(req, sov_seca_network(req), &n, &err) < 0 ||
        rt_get(req, n.name, sov_seca_name(req), &o, &deleting, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (deleting) {
        sov_seca_object_clear(&o);
        return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
    }
    if (sov_network_route_table_delete(&req->ctx, n.tenant_id, n.id, &o, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    sov_seca_write w = { .resource_id = o.id, .tenant_id = o.tenant_id,
                         .kind = sov_seca_net_route_table_type.kind,
                         .change = SOV_SECA_DELETED };
    rc = sov_seca_net_written(req, &w, rt_json, &o);
    sov_seca_object_clear(&o);
    return rc;
}
