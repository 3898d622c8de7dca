/* seca_network.c: the network provider (seca.network), part one: SKUs (bandwidth classes),
 * networks, subnets, route tables, internet gateways.
 *
 * Networks and subnets are our /v1 networks and subnets (the same services: quota, residency
 * policy, audit and residency records apply); SKUs are network/'s bandwidth classes
 * (network_skus); route tables and internet gateways are SECA objects (sov/seca.h), made real
 * by network/seca_routes.c: a default route to an internet gateway used by a subnet gives the
 * network our router (SNAT). Departures from SECA: IPv4 only (cidr.ipv6 and additionalCidrs
 * are refused), names follow our limit (63), routes only to internet gateways, a subnet's
 * cidr, zone and route table cannot change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca.h"
#include "sov/network.h"

#define PAGE 100
#define ROUTES_MAX 1000

static const sov_seca_type T_SKU = { "seca.network", "network-sku", "skus", SOV_SECA_TENANT,
                                     true };
static const sov_seca_type T_NET = { "seca.network", "network", "networks",
                                     SOV_SECA_WORKSPACE, true };
static const sov_seca_type T_SUB = { "seca.network", "subnet", "subnets", SOV_SECA_NETWORK,
                                     true };
static const sov_seca_type T_RT = { "seca.network", "routing-table", "route-tables",
                                    SOV_SECA_NETWORK, true };
static const sov_seca_type T_IGW = { "seca.network", "internet-gateway", "internet-gateways",
                                     SOV_SECA_WORKSPACE, true };

/* Object kinds in seca_objects. */
#define OBJ_RT "route-table"
#define OBJ_IGW "internet-gateway"

/* The SECA state a /v1 network, subnet or router state reads as (the meta follows the
 * operations; this is what a change made elsewhere shows). */
static sov_seca_state
state_now(const char *state)
{
    if (strcmp(state, "error") == 0)
        return SOV_SECA_ERROR;
    if (strcmp(state, "deleting") == 0 || strcmp(state, "deleted") == 0)
        return SOV_SECA_DELETING;
    return SOV_SECA_ACTIVE;
}

/* A service's field as the JSON pointer of the SECA request. */
static void
map_field(sov_error *err, const char *from, const char *to)
{
    if (strcmp(err->field, from) == 0)
        snprintf(err->field, sizeof(err->field), "%s", to);
}

/* Members of spec other than the allowed ones: SOV_E_INVALID naming "/spec/<member>". */
static int
spec_members(const json_t *spec, const char *const *allowed, sov_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *) spec, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return sov_error_invalid(err, "/spec", "spec has no member '%.64s'", key);
    }
    return 0;
}

/* spec.cidr: {ipv4} only; ipv6 (or an empty ipv4) cannot be served. */
static int
cidr_read(const json_t *spec, const char **ret, sov_error *err)
{
    json_t *cidr = json_object_get(spec, "cidr"), *v4;
    const char *key;
    json_t *v;

    if (!json_is_object(cidr))
        return sov_error_invalid(err, "/spec/cidr", "spec.cidr is required: {\"ipv4\": "
                                 "\"10.0.0.0/16\"}");
    json_object_foreach(cidr, key, v) {
        if (strcmp(key, "ipv6") == 0)
            return sov_error_invalid(err, "/spec/cidr/ipv6", "IPv6 is not served here: "
                                     "give spec.cidr.ipv4 only");
        if (strcmp(key, "ipv4") != 0)
            return sov_error_invalid(err, "/spec/cidr", "spec.cidr has no member '%.64s'",
                                     key);
    }
    v4 = json_object_get(cidr, "ipv4");
    if (!json_is_string(v4) || json_string_length(v4) == 0)
        return sov_error_invalid(err, "/spec/cidr/ipv4", "spec.cidr.ipv4 is required (an "
                                 "IPv4 network such as 10.0.0.0/16)");
    *ret = json_string_value(v4);
    return 0;
}

static json_t *
cidr_json(const char *cidr)
{
    return json_pack("{s:s}", "ipv4", cidr);
}

/* A skuRef naming an existing network SKU into sku (its name). */
static int
sku_ref_read(sov_request *req, const json_t *ref, const char *pointer, char *sku,
             sov_error *err)
{
    sov_seca_ref r;
    sov_network_sku k;

    if (sov_seca_ref_read(req, ref, "skus", pointer, &r, err) < 0)
        return -1;
    if (sov_network_sku_get(&req->ctx, r.name, &k, err) < 0) {
        snprintf(err->field, sizeof(err->field), "%s", pointer);
        return -1;
    }
    snprintf(sku, SOV_NAME_MAX + 1, "%s", k.name);
    return 0;
}

static enum MHD_Result
reply_meta_error(sov_request *req, sov_error *err)
{
    return sov_seca_reply_error(req, err, false);
}

/* ---- SKUs ---- */

static json_t *
sku_json(sov_request *req, const sov_network_sku *k, const char *region)
{
    json_t *item = sov_seca_resource(req, &T_SKU, NULL, NULL, k->name, region, NULL,
                                     json_pack("{s:I, s:I}", "bandwidth",
                                               (json_int_t) k->bandwidth_mbps, "packets",
                                               (json_int_t) k->packets_per_second),
                                     NULL, NULL);

    if (item)
        json_object_set_new(item, "labels", json_pack("{s:s, s:s}", "provider", "seca",
                                                      "tier", k->tier));
    return item;
}

enum MHD_Result
sov_seca_network_skus_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    sov_network_sku *skus = NULL;
    size_t n = 0;
    char region[SOV_NAME_MAX + 1];
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_seca_default_region(req, region, sizeof(region), &err) < 0 ||
        sov_network_sku_list(&req->ctx, &skus, &n, &err) < 0) {
        sov_seca_list_free(l);
        return sov_seca_reply_error(req, &err, false);
    }
    for (size_t i = 0; i < n; i++)
        sov_seca_list_add(l, sku_json(req, &skus[i], region));
    free(skus);
    rc = sov_seca_list_reply(req, &T_SKU, l);
    sov_seca_list_free(l);
    return rc;
}

enum MHD_Result
sov_seca_network_skus_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network_sku k;
    char region[SOV_NAME_MAX + 1];

    if (sov_network_sku_get(&req->ctx, sov_seca_name(req), &k, &err) < 0 ||
        sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    sov_autoptr(json_t) body = sku_json(req, &k, region);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

/* ---- networks ---- */

/* The network named name in the request's workspace; a deleted one does not exist. */
static int
network_find(sov_request *req, const char *name, sov_network *ret, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    if (!name || strlen(name) > SOV_NAME_MAX)
        return sov_error_set(err, SOV_E_NOT_FOUND, "network '%.128s' does not exist",
                             name ? name : "");
    if (sov_network_resolve(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), name,
                            id, err) < 0 ||
        sov_network_get(&req->ctx, sov_seca_tenant_id(req), id, ret, err) < 0)
        return -1;
    if (strcmp(ret->state, "deleted") == 0 || strcmp(ret->workspace,
                                                     sov_seca_workspace(req)) != 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "network '%s' does not exist", name);
    return 0;
}

static json_t *
network_json(sov_request *req, const sov_network *n, const sov_seca_meta *m)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network_sku k;
    json_t *spec = json_pack("{s:o}", "cidr", cidr_json(n->cidr));

    if (sov_network_sku_of(&req->ctx, sov_seca_tenant_id(req), n->id, &k, &err) == 0)
        json_object_set_new(spec, "skuRef", sov_seca_ref_json(req, &T_SKU, NULL, NULL,
                                                              k.name));
    return sov_seca_resource(req, &T_NET, n->workspace, NULL, n->name, n->region, m, spec,
                             json_pack("{s:o}", "cidr", cidr_json(n->cidr)),
                             sov_api_location_json(&n->residency, n->residency_since));
}

/* Render a network with its meta brought up to date. */
static int
network_render(sov_request *req, const sov_network *n, json_t **ret, sov_error *err)
{
    sov_seca_meta m;

    memset(&m, 0, sizeof(m));
    if (sov_seca_meta_get(&req->ctx, n->id, T_NET.kind, state_now(n->state), n->created_at,
                          &m, err) < 0)
        return -1;
    *ret = network_json(req, n, &m);
    sov_seca_meta_clear(&m);
    return 0;
}

enum MHD_Result
sov_seca_network_networks_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    json_t *body = NULL;
    enum MHD_Result rc;

    if (network_find(req, sov_seca_name(req), &n, &err) < 0 ||
        network_render(req, &n, &body, &err) < 0)
        return reply_meta_error(req, &err);
    rc = sov_seca_reply(req, MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_networks_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    char after[1024] = "";
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    do {
        sov_network_page page = { 0 };
        if (sov_network_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                             NULL, NULL, after[0] ? after : NULL, PAGE, &page, &err) < 0) {
            sov_seca_list_free(l);
            return sov_seca_reply_error(req, &err, false);
        }
        for (size_t i = 0; i < page.n; i++) {
            json_t *item = NULL;
            if (strcmp(page.items[i].state, "deleted") == 0)
                continue;
            if (network_render(req, &page.items[i], &item, &err) < 0) {
                free(page.items);
                sov_seca_list_free(l);
                return sov_seca_reply_error(req, &err, false);
            }
            sov_seca_list_add(l, item);
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    rc = sov_seca_list_reply(req, &T_NET, l);
    sov_seca_list_free(l);
    return rc;
}

enum MHD_Result
sov_seca_network_networks_put(sov_request *req)
{
    static const char *const members[] = { "cidr", "additionalCidrs", "skuRef", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    const char *cidr = NULL, *name = sov_seca_name(req);
    char sku[SOV_NAME_MAX + 1];
    json_t *extra, *body = NULL;
    sov_network n;
    sov_op op;
    sov_seca_meta m;
    enum MHD_Result rc;
    bool exists;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        spec_members(in.spec, members, &err) < 0 || cidr_read(in.spec, &cidr, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    extra = json_object_get(in.spec, "additionalCidrs");
    if (extra && !(json_is_array(extra) && json_array_size(extra) == 0)) {
        sov_error_invalid(&err, "/spec/additionalCidrs", "additionalCidrs are not served "
                          "here: a network has one IPv4 cidr");
        return sov_seca_reply_error(req, &err, true);
    }
    if (!json_object_get(in.spec, "skuRef")) {
        sov_error_invalid(&err, "/spec/skuRef", "spec.skuRef is required (a network SKU, "
                          "e.g. skus/" SOV_NETWORK_SKU_DEFAULT ")");
        return sov_seca_reply_error(req, &err, true);
    }
    if (sku_ref_read(req, json_object_get(in.spec, "skuRef"), "/spec/skuRef", sku, &err) < 0)
        return sov_seca_reply_error(req, &err, true);

    exists = network_find(req, name, &n, &err) == 0;
    if (!exists && err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    memset(&m, 0, sizeof(m));
    if (!exists) {
        sov_network_create_args a = { .workspace = sov_seca_workspace(req), .name = name,
                                      .cidr = cidr, .sku = sku };
        err = (sov_error) SOV_ERROR_INIT;
        if (sov_network_create(&req->ctx, sov_seca_tenant_id(req), &a, &n, &op, &err) < 0) {
            map_field(&err, "cidr", "/spec/cidr/ipv4");
            map_field(&err, "sku", "/spec/skuRef");
            map_field(&err, "name", "/metadata/name");
            return sov_seca_reply_error(req, &err, true);
        }
        sov_seca_write w = { .resource_id = n.id, .tenant_id = n.tenant_id,
                             .kind = T_NET.kind, .change = SOV_SECA_CREATED,
                             .labels = in.labels, .annotations = in.annotations,
                             .extensions = in.extensions, .op_id = op.id };
        if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        body = network_json(req, &n, &m);
        sov_seca_meta_clear(&m);
        rc = sov_seca_reply(req, MHD_HTTP_CREATED, body);
        json_decref(body);
        return rc;
    }
    {
        sov_network_sku k;
        char have[SOV_CIDR_MAX];

        if (strcmp(n.state, "deleting") == 0) {
            sov_error_set(&err, SOV_E_CONFLICT, "network '%s' is being deleted", n.name);
            return sov_seca_reply_error(req, &err, true);
        }
        if (sov_seca_meta_check_version(&req->ctx, n.id, in.if_version, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        snprintf(have, sizeof(have), "%s", cidr);
        if (strcmp(have, n.cidr) != 0) {
            sov_error_invalid(&err, "/spec/cidr/ipv4", "network '%s' has cidr %s: the cidr "
                              "of an existing network cannot change", n.name, n.cidr);
            return sov_seca_reply_error(req, &err, true);
        }
        if (sov_network_sku_of(&req->ctx, n.tenant_id, n.id, &k, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        if (strcmp(k.name, sku) != 0) {
            sov_error_invalid(&err, "/spec/skuRef", "network '%s' has SKU %s: the SKU of an "
                              "existing network cannot change", n.name, k.name);
            return sov_seca_reply_error(req, &err, true);
        }
    }
    sov_seca_write w = { .resource_id = n.id, .tenant_id = n.tenant_id, .kind = T_NET.kind,
                         .change = SOV_SECA_UPDATED, .labels = in.labels,
                         .annotations = in.annotations, .extensions = in.extensions,
                         .if_version = in.if_version };
    if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    body = network_json(req, &n, &m);
    sov_seca_meta_clear(&m);
    rc = sov_seca_reply(req, MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_networks_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    sov_op op;
    sov_seca_meta m;

    if (network_find(req, sov_seca_name(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_network_delete(&req->ctx, n.tenant_id, n.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    memset(&m, 0, sizeof(m));
    sov_seca_write w = { .resource_id = n.id, .tenant_id = n.tenant_id, .kind = T_NET.kind,
                         .change = SOV_SECA_DELETED, .op_id = op.id };
    if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    sov_seca_meta_clear(&m);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

/* ---- internet gateways ---- */

static json_t *
igw_json(sov_request *req, const sov_seca_object *o, const sov_seca_meta *m)
{
    return sov_seca_resource(req, &T_IGW, o->workspace, NULL, o->name, o->region, m,
                             json_pack("{s:b}", "egressOnly",
                                       json_is_true(json_object_get(o->spec, "egressOnly"))),
                             json_object(), NULL);
}

static int
object_render(sov_request *req, const sov_seca_type *t, const sov_seca_object *o,
              sov_seca_state now, json_t *(*render)(sov_request *, const sov_seca_object *,
                                                    const sov_seca_meta *),
              json_t **ret, sov_error *err)
{
    sov_seca_meta m;

    memset(&m, 0, sizeof(m));
    if (sov_seca_meta_get(&req->ctx, o->id, t->kind, now, o->created_at, &m, err) < 0)
        return -1;
    *ret = render(req, o, &m);
    sov_seca_meta_clear(&m);
    return 0;
}

static int
igw_get(sov_request *req, const char *name, sov_seca_object *o, sov_error *err)
{
    memset(o, 0, sizeof(*o));
    if (!name || strlen(name) > SOV_SECA_NAME_MAX)
        return sov_error_set(err, SOV_E_NOT_FOUND, "internet gateway does not exist");
    return sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                               OBJ_IGW, "", name, o, err);
}

enum MHD_Result
sov_seca_network_internet_gateways_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    json_t *body = NULL;
    enum MHD_Result rc;

    if (igw_get(req, sov_seca_name(req), &o, &err) < 0 ||
        object_render(req, &T_IGW, &o, SOV_SECA_ACTIVE, igw_json, &body, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    sov_seca_object_clear(&o);
    rc = sov_seca_reply(req, MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_internet_gateways_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    sov_seca_object *objs = NULL;
    size_t n = 0;
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                             OBJ_IGW, "", &objs, &n, &err) < 0) {
        sov_seca_list_free(l);
        return sov_seca_reply_error(req, &err, false);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = NULL;
        if (object_render(req, &T_IGW, &objs[i], SOV_SECA_ACTIVE, igw_json, &item,
                          &err) < 0) {
            sov_seca_objects_free(objs, n);
            sov_seca_list_free(l);
            return sov_seca_reply_error(req, &err, false);
        }
        sov_seca_list_add(l, item);
    }
    sov_seca_objects_free(objs, n);
    rc = sov_seca_list_reply(req, &T_IGW, l);
    sov_seca_list_free(l);
    return rc;
}

/* Write an object's meta after a put and answer 201 or 200 with it rendered. */
static enum MHD_Result
object_written(sov_request *req, const sov_seca_type *t, const sov_seca_object *o,
               const sov_seca_input *in, bool created,
               json_t *(*render)(sov_request *, const sov_seca_object *,
                                 const sov_seca_meta *))
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_meta m;
    json_t *body;
    enum MHD_Result rc;
    sov_seca_write w = { .resource_id = o->id, .tenant_id = o->tenant_id, .kind = t->kind,
                         .change = created ? SOV_SECA_CREATED : SOV_SECA_UPDATED,
                         .labels = in->labels, .annotations = in->annotations,
                         .extensions = in->extensions,
                         .if_version = created ? 0 : in->if_version };

    memset(&m, 0, sizeof(m));
    if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    body = render(req, o, &m);
    sov_seca_meta_clear(&m);
    rc = sov_seca_reply(req, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_internet_gateways_put(sov_request *req)
{
    static const char *const members[] = { "egressOnly", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    sov_seca_object o, old;
    json_t *egress;
    bool created = false, exists;
    enum MHD_Result rc;

    if (sov_seca_input_read(req, NULL, 0, false, &in, &err) < 0 ||
        spec_members(in.spec, members, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    egress = json_object_get(in.spec, "egressOnly");
    if (egress && !json_is_boolean(egress)) {
        sov_error_invalid(&err, "/spec/egressOnly", "spec.egressOnly must be true or false");
        return sov_seca_reply_error(req, &err, true);
    }
    if (strlen(sov_seca_name(req)) > SOV_NAME_MAX) {
        sov_error_invalid(&err, "/metadata/name", "a name has at most %d characters here",
                          SOV_NAME_MAX);
        return sov_seca_reply_error(req, &err, true);
    }
    exists = igw_get(req, sov_seca_name(req), &old, &err) == 0;
    if (!exists && err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    if (exists && sov_seca_meta_check_version(&req->ctx, old.id, in.if_version, &err) < 0) {
        sov_seca_object_clear(&old);
        return sov_seca_reply_error(req, &err, true);
    }
    sov_seca_object_clear(&old);
    memset(&o, 0, sizeof(o));
    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", sov_seca_tenant_id(req));
    snprintf(o.workspace, sizeof(o.workspace), "%s", sov_seca_workspace(req));
    snprintf(o.kind, sizeof(o.kind), OBJ_IGW);
    snprintf(o.name, sizeof(o.name), "%s", sov_seca_name(req));
    if (sov_seca_default_region(req, o.region, sizeof(o.region), &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    o.spec = json_pack("{s:b}", "egressOnly", json_is_true(egress));
    if (sov_seca_object_put(&req->ctx, &o, &created, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, true);
    }
    rc = object_written(req, &T_IGW, &o, &in, created, igw_json);
    sov_seca_object_clear(&o);
    return rc;
}

/* Whether a route table of the workspace routes to the gateway: its name into used_by. */
static int
igw_users(sov_request *req, const char *gateway, char *used_by, size_t size, sov_error *err)
{
    char after[1024] = "";

    used_by[0] = '\0';
    do {
        sov_network_page page = { 0 };
        if (sov_network_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                             NULL, NULL, after[0] ? after : NULL, PAGE, &page, err) < 0)
            return -1;
        for (size_t i = 0; i < page.n && !used_by[0]; i++) {
            sov_seca_object *t = NULL;
            size_t nt = 0;
            if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req),
                                     sov_seca_workspace(req), OBJ_RT, page.items[i].name, &t,
                                     &nt, err) < 0) {
                free(page.items);
                return -1;
            }
            for (size_t j = 0; j < nt && !used_by[0]; j++) {
                json_t *v;
                size_t k;
                if (json_is_true(json_object_get(t[j].spec, "deleting")))
                    continue;
                json_array_foreach(json_object_get(t[j].spec, "targets"), k, v) {
                    const char *name = json_string_value(json_object_get(v, "name"));
                    if (name && strcmp(name, gateway) == 0) {
                        snprintf(used_by, size, "networks/%s/route-tables/%s",
                                 page.items[i].name, t[j].name);
                        break;
                    }
                }
            }
            sov_seca_objects_free(t, nt);
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0] && !used_by[0]);
    return 0;
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
    if (igw_users(req, o.name, used_by, sizeof(used_by), &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    if (used_by[0]) {
        sov_error_set(&err, SOV_E_CONFLICT, "internet gateway '%s' is used by %s: change or "
                      "delete that route table first", o.name, used_by);
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    memset(&m, 0, sizeof(m));
    sov_seca_write w = { .resource_id = o.id, .tenant_id = o.tenant_id, .kind = T_IGW.kind,
                         .change = SOV_SECA_DELETED };
    if (sov_seca_object_delete(&req->ctx, o.tenant_id, o.workspace, OBJ_IGW, "", o.name,
                               &err) < 0 ||
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
rt_json(sov_request *req, const sov_seca_object *o, const sov_seca_meta *m)
{
    json_t *spec = json_deep_copy(json_object_get(o->spec, "spec"));
    json_t *routes = json_array(), *v;
    size_t i;

    json_array_foreach(json_object_get(spec, "routes"), i, v)
        json_array_append_new(routes, json_pack("{s:s, s:[]}", "state",
                                                json_is_true(json_object_get(o->spec,
                                                                             "deleting"))
                                                    ? "deleting" : "active",
                                                "conditions"));
    return sov_seca_resource(req, &T_RT, o->workspace, o->parent, o->name, o->region, m,
                             spec ? spec : json_object(),
                             json_pack("{s:o}", "routes", routes), NULL);
}

/* A route table of the path's network; NOT_FOUND when there is none, or when it was being
 * deleted and its network's router (ours) is gone: then it is removed for good. *deleting:
 * still going. */
static int
rt_get(sov_request *req, const char *network, const char *name, sov_seca_object *o,
       bool *deleting, sov_error *err)
{
    memset(o, 0, sizeof(*o));
    *deleting = false;
    if (!name || strlen(name) > SOV_SECA_NAME_MAX || !network ||
        strlen(network) > SOV_SECA_NAME_MAX)
        return sov_error_set(err, SOV_E_NOT_FOUND, "route table does not exist");
    if (sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                            OBJ_RT, network, name, o, err) < 0)
        return -1;
    if (!json_is_true(json_object_get(o->spec, "deleting")))
        return 0;
    /* Gone once the router it held (if any) is gone. */
    {
        sov_network n;
        sov_router r;
        bool ours = false;
        sov_error e2 = SOV_ERROR_INIT;

        if (network_find(req, network, &n, &e2) == 0 &&
            sov_network_seca_router(&req->ctx, sov_seca_tenant_id(req), n.id, &r, &ours,
                                    &e2) == 0 &&
            ours && strcmp(r.state, "deleting") == 0) {
            *deleting = true;
            return 0;
        }
    }
    if (sov_seca_object_delete(&req->ctx, o->tenant_id, o->workspace, OBJ_RT, network, name,
                               err) < 0 ||
        sov_seca_meta_forget(&req->ctx, o->id, err) < 0) {
        sov_seca_object_clear(o);
        return -1;
    }
    sov_seca_object_clear(o);
    return sov_error_set(err, SOV_E_NOT_FOUND, "route table '%s' does not exist", name);
}

enum MHD_Result
sov_seca_network_route_tables_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    json_t *body = NULL;
    bool deleting;
    enum MHD_Result rc;

    if (rt_get(req, sov_seca_network(req), sov_seca_name(req), &o, &deleting, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (object_render(req, &T_RT, &o, deleting ? SOV_SECA_DELETING : SOV_SECA_ACTIVE,
                      rt_json, &body, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    sov_seca_object_clear(&o);
    rc = sov_seca_reply(req, MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_route_tables_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    sov_seca_object *objs = NULL;
    sov_network n;
    size_t count = 0;
    enum MHD_Result rc;

    if (network_find(req, sov_seca_network(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                             OBJ_RT, n.name, &objs, &count, &err) < 0) {
        sov_seca_list_free(l);
        return sov_seca_reply_error(req, &err, false);
    }
    for (size_t i = 0; i < count; i++) {
        sov_seca_object o;
        json_t *item = NULL;
        bool deleting;

        if (rt_get(req, n.name, objs[i].name, &o, &deleting, &err) < 0) {
            if (err.code == SOV_E_NOT_FOUND)
                continue;
            break;
        }
        if (object_render(req, &T_RT, &o, deleting ? SOV_SECA_DELETING : SOV_SECA_ACTIVE,
                          rt_json, &item, &err) < 0) {
            sov_seca_object_clear(&o);
            break;
        }
        sov_seca_object_clear(&o);
        sov_seca_list_add(l, item);
    }
    sov_seca_objects_free(objs, count);
    if (err.code != SOV_OK && err.code != SOV_E_NOT_FOUND) {
        sov_seca_list_free(l);
        return sov_seca_reply_error(req, &err, false);
    }
    rc = sov_seca_list_reply(req, &T_RT, l);
    sov_seca_list_free(l);
    return rc;
}

/* spec.routes checked and resolved into targets [{cidr, kind, name}]: each destination an
 * IPv4 CIDR (or IPv6, stored), each target an existing internet gateway of the workspace. */
static int
routes_read(sov_request *req, const json_t *spec, json_t *targets, sov_error *err)
{
    json_t *routes = json_object_get(spec, "routes"), *r;
    size_t i;

    if (!json_is_array(routes) || json_array_size(routes) == 0 ||
        json_array_size(routes) > ROUTES_MAX)
        return sov_error_invalid(err, "/spec/routes", "spec.routes is required: 1 to %d "
                                 "routes", ROUTES_MAX);
    json_array_foreach(routes, i, r) {
        char ptr[40], tptr[72];
        const char *dest, *key;
        json_t *v;
        char norm[SOV_CIDR_MAX];
        sov_seca_ref ref;
        sov_seca_object gw;

        snprintf(ptr, sizeof(ptr), "/spec/routes/%zu", i);
        if (!json_is_object(r))
            return sov_error_invalid(err, ptr, "a route is {destinationCidrBlock, targetRef}");
        json_object_foreach(r, key, v)
            if (strcmp(key, "destinationCidrBlock") != 0 && strcmp(key, "targetRef") != 0)
                return sov_error_invalid(err, ptr, "a route has no member '%.64s'", key);
        dest = json_string_value(json_object_get(r, "destinationCidrBlock"));
        snprintf(tptr, sizeof(tptr), "%s/destinationCidrBlock", ptr);
        if (!dest || !*dest || strlen(dest) > 43)
            return sov_error_invalid(err, tptr, "destinationCidrBlock is required: a CIDR "
                                     "block such as 0.0.0.0/0");
        if (!strchr(dest, ':') && sov_cidr_normalize(dest, true, norm) < 0)
            return sov_error_invalid(err, tptr, "destinationCidrBlock '%.43s' is not a CIDR "
                                     "block (its network address, such as 0.0.0.0/0)", dest);
        snprintf(tptr, sizeof(tptr), "%s/targetRef", ptr);
        if (!json_object_get(r, "targetRef"))
            return sov_error_invalid(err, tptr, "targetRef is required");
        if (sov_seca_ref_read(req, json_object_get(r, "targetRef"), "internet-gateways", tptr,
                              &ref, err) < 0) {
            sov_error_invalid(err, tptr, "a route's target here is an internet gateway "
                              "(internet-gateways/<name>): routes to instances, NICs or "
                              "addresses are not served");
            return -1;
        }
        if (ref.workspace[0] && strcmp(ref.workspace, sov_seca_workspace(req)) != 0)
            return sov_error_invalid(err, tptr, "the internet gateway must be in workspace "
                                     "'%s'", sov_seca_workspace(req));
        memset(&gw, 0, sizeof(gw));
        if (sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                                OBJ_IGW, "", ref.name, &gw, err) < 0) {
            snprintf(err->field, sizeof(err->field), "%.60s", tptr);
            return -1;
        }
        sov_seca_object_clear(&gw);
        json_array_append_new(targets, json_pack("{s:s, s:s, s:s}", "cidr", dest, "kind",
                                                 "internet-gateways", "name", ref.name));
    }
    return 0;
}

/* Apply the network's route tables after a change; on failure, undo with undo (object
 * restored or removed) so nothing stays half-written. */
static int
rt_apply(sov_request *req, const sov_network *n, sov_error *err)
{
    return sov_network_apply_route_tables(&req->ctx, sov_seca_tenant_id(req), n->workspace,
                                          n->id, err);
}

enum MHD_Result
sov_seca_network_route_tables_put(sov_request *req)
{
    static const char *const members[] = { "routes", NULL };
    sov_error err = SOV_ERROR_INIT, e2 = SOV_ERROR_INIT;
    sov_seca_input in;
    sov_seca_object o, old;
    sov_network n;
    json_t *targets;
    bool created = false, exists, deleting = false;
    enum MHD_Result rc;

    if (network_find(req, sov_seca_network(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        spec_members(in.spec, members, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (strlen(sov_seca_name(req)) > SOV_NAME_MAX) {
        sov_error_invalid(&err, "/metadata/name", "a name has at most %d characters here",
                          SOV_NAME_MAX);
        return sov_seca_reply_error(req, &err, true);
    }
    targets = json_array();
    if (routes_read(req, in.spec, targets, &err) < 0) {
        json_decref(targets);
        return sov_seca_reply_error(req, &err, true);
    }
    exists = rt_get(req, n.name, sov_seca_name(req), &old, &deleting, &err) == 0;
    if (!exists && err.code != SOV_E_NOT_FOUND) {
        json_decref(targets);
        return sov_seca_reply_error(req, &err, true);
    }
    if (exists && (deleting || sov_seca_meta_check_version(&req->ctx, old.id, in.if_version,
                                                           &err) < 0)) {
        if (deleting)
            sov_error_set(&err, SOV_E_CONFLICT, "route table '%s' is being deleted",
                          old.name);
        json_decref(targets);
        sov_seca_object_clear(&old);
        return sov_seca_reply_error(req, &err, true);
    }
    memset(&o, 0, sizeof(o));
    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", sov_seca_tenant_id(req));
    snprintf(o.workspace, sizeof(o.workspace), "%s", n.workspace);
    snprintf(o.kind, sizeof(o.kind), OBJ_RT);
    snprintf(o.parent, sizeof(o.parent), "%s", n.name);
    snprintf(o.name, sizeof(o.name), "%s", sov_seca_name(req));
    snprintf(o.region, sizeof(o.region), "%s", n.region);
    o.spec = json_pack("{s:O, s:o, s:b}", "spec", in.spec, "targets", targets, "deleting",
                       false);
    if (sov_seca_object_put(&req->ctx, &o, &created, &err) < 0 || rt_apply(req, &n, &err) < 0) {
        /* Undo: the table as it was, or none. */
        if (exists) {
            sov_seca_object prev = old;
            bool c2;
            prev.spec = old.spec;
            sov_seca_object_put(&req->ctx, &prev, &c2, &e2);
        } else if (o.id[0]) {
            sov_seca_object_delete(&req->ctx, o.tenant_id, o.workspace, OBJ_RT, o.parent,
                                   o.name, &e2);
        }
        if (exists)
            sov_seca_object_clear(&old);
        sov_seca_object_clear(&o);
        map_field(&err, "region", "/spec/routes");
        return sov_seca_reply_error(req, &err, true);
    }
    if (exists)
        sov_seca_object_clear(&old);
    rc = object_written(req, &T_RT, &o, &in, created, rt_json);
    sov_seca_object_clear(&o);
    return rc;
}

enum MHD_Result
sov_seca_network_route_tables_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT, e2 = SOV_ERROR_INIT;
    sov_seca_object o;
    sov_network n;
    sov_seca_meta m;
    bool deleting, c;

    if (network_find(req, sov_seca_network(req), &n, &err) < 0 ||
        rt_get(req, n.name, sov_seca_name(req), &o, &deleting, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (deleting) {
        sov_seca_object_clear(&o);
        return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
    }
    /* A table a subnet uses stays (as a gateway a table uses). */
    {
        char user[SOV_NAME_MAX + 1];
        if (sov_network_route_table_user(&req->ctx, o.tenant_id, n.id, o.name, user,
                                         sizeof(user), &err) < 0) {
            sov_seca_object_clear(&o);
            return sov_seca_reply_error(req, &err, false);
        }
        if (user[0]) {
            sov_error_set(&err, SOV_E_CONFLICT, "route table '%s' is used by subnet '%s': "
                          "delete the subnet or give it another route table first", o.name,
                          user);
            sov_seca_object_clear(&o);
            return sov_seca_reply_error(req, &err, false);
        }
    }
    json_object_set_new(o.spec, "deleting", json_true());
    if (sov_seca_object_put(&req->ctx, &o, &c, &err) < 0 || rt_apply(req, &n, &err) < 0) {
        json_object_set_new(o.spec, "deleting", json_false());
        sov_seca_object_put(&req->ctx, &o, &c, &e2);
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    memset(&m, 0, sizeof(m));
    sov_seca_write w = { .resource_id = o.id, .tenant_id = o.tenant_id, .kind = T_RT.kind,
                         .change = SOV_SECA_DELETED };
    if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    sov_seca_meta_clear(&m);
    sov_seca_object_clear(&o);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

/* ---- subnets ---- */

/* The subnet named name of the path's network (a deleted one does not exist). */
static int
subnet_find(sov_request *req, const sov_network *n, const char *name, sov_subnet *ret,
            sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    if (!name || strlen(name) > SOV_NAME_MAX)
        return sov_error_set(err, SOV_E_NOT_FOUND, "subnet '%.128s' does not exist",
                             name ? name : "");
    if (sov_subnet_resolve(&req->ctx, sov_seca_tenant_id(req), n->workspace, name, id,
                           err) < 0 ||
        sov_subnet_get(&req->ctx, sov_seca_tenant_id(req), id, ret, err) < 0)
        return -1;
    if (strcmp(ret->state, "deleted") == 0 || strcmp(ret->network_id, n->id) != 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "subnet '%s' does not exist in network "
                             "'%s'", name, n->name);
    return 0;
}

static json_t *
subnet_json(sov_request *req, const sov_network *n, const sov_subnet *s,
            const sov_seca_meta *m)
{
    sov_error err = SOV_ERROR_INIT;
    char rt[SOV_SECA_NAME_MAX + 1] = "", sku[SOV_NAME_MAX + 1] = "";
    json_t *spec, *status;

    sov_subnet_seca(&req->ctx, sov_seca_tenant_id(req), s->id, rt, sizeof(rt), sku,
                    sizeof(sku), &err);
    spec = json_pack("{s:o, s:s}", "cidr", cidr_json(s->cidr), "zone", s->zone);
    status = json_pack("{s:o}", "cidr", cidr_json(s->cidr));
    if (rt[0]) {
        json_object_set_new(spec, "routeTableRef",
                            sov_seca_ref_json(req, &T_RT, n->workspace, n->name, rt));
        json_object_set_new(status, "routeTableRef",
                            sov_seca_ref_json(req, &T_RT, n->workspace, n->name, rt));
    }
    if (sku[0])
        json_object_set_new(spec, "skuRef", sov_seca_ref_json(req, &T_SKU, NULL, NULL, sku));
    return sov_seca_resource(req, &T_SUB, n->workspace, n->name, s->name, n->region, m, spec,
                             status, sov_api_location_json(&n->residency,
                                                           n->residency_since));
}

static int
subnet_render(sov_request *req, const sov_network *n, const sov_subnet *s, json_t **ret,
              sov_error *err)
{
    sov_seca_meta m;

    memset(&m, 0, sizeof(m));
    if (sov_seca_meta_get(&req->ctx, s->id, T_SUB.kind, state_now(s->state), s->created_at,
                          &m, err) < 0)
        return -1;
    *ret = subnet_json(req, n, s, &m);
    sov_seca_meta_clear(&m);
    return 0;
}

enum MHD_Result
sov_seca_network_subnets_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    sov_subnet s;
    json_t *body = NULL;
    enum MHD_Result rc;

    if (network_find(req, sov_seca_network(req), &n, &err) < 0 ||
        subnet_find(req, &n, sov_seca_name(req), &s, &err) < 0 ||
        subnet_render(req, &n, &s, &body, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    rc = sov_seca_reply(req, MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_subnets_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    sov_network n;
    char after[1024] = "";
    enum MHD_Result rc;

    if (network_find(req, sov_seca_network(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    do {
        sov_subnet_page page = { 0 };
        if (sov_subnet_list(&req->ctx, sov_seca_tenant_id(req), n.workspace, n.id, NULL,
                            after[0] ? after : NULL, PAGE, &page, &err) < 0) {
            sov_seca_list_free(l);
            return sov_seca_reply_error(req, &err, false);
        }
        for (size_t i = 0; i < page.n; i++) {
            json_t *item = NULL;
            if (strcmp(page.items[i].state, "deleted") == 0)
                continue;
            if (subnet_render(req, &n, &page.items[i], &item, &err) < 0) {
                free(page.items);
                sov_seca_list_free(l);
                return sov_seca_reply_error(req, &err, false);
            }
            sov_seca_list_add(l, item);
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    rc = sov_seca_list_reply(req, &T_SUB, l);
    sov_seca_list_free(l);
    return rc;
}

/* A subnet's spec: cidr, zone, routeTableRef (an existing route table of the network, not
 * being deleted), skuRef (optional). */
typedef struct subnet_spec {
    const char *cidr, *zone;
    char rt[SOV_SECA_NAME_MAX + 1];
    char sku[SOV_NAME_MAX + 1];
} subnet_spec;

static int
subnet_spec_read(sov_request *req, const sov_network *n, const json_t *spec, subnet_spec *s,
                 sov_error *err)
{
    static const char *const members[] = { "cidr", "zone", "routeTableRef", "skuRef", NULL };
    json_t *zone = json_object_get(spec, "zone"), *rt = json_object_get(spec, "routeTableRef");
    sov_seca_ref ref;
    sov_seca_object o;
    bool deleting;

    memset(s, 0, sizeof(*s));
    if (spec_members(spec, members, err) < 0 || cidr_read(spec, &s->cidr, err) < 0)
        return -1;
    if (!json_is_string(zone) || json_string_length(zone) == 0 ||
        json_string_length(zone) > 32)
        return sov_error_invalid(err, "/spec/zone", "spec.zone is required: a zone of region "
                                 "'%s'", n->region);
    s->zone = json_string_value(zone);
    if (!rt)
        return sov_error_invalid(err, "/spec/routeTableRef", "spec.routeTableRef is required: "
                                 "a route table of network '%s'", n->name);
    if (sov_seca_ref_read(req, rt, "route-tables", "/spec/routeTableRef", &ref, err) < 0)
        return -1;
    if (ref.network[0] && strcmp(ref.network, n->name) != 0)
        return sov_error_invalid(err, "/spec/routeTableRef", "the route table must be one of "
                                 "network '%s'", n->name);
    if (rt_get(req, n->name, ref.name, &o, &deleting, err) < 0) {
        snprintf(err->field, sizeof(err->field), "/spec/routeTableRef");
        return -1;
    }
    sov_seca_object_clear(&o);
    if (deleting)
        return sov_error_invalid(err, "/spec/routeTableRef", "route table '%s' is being "
                                 "deleted", ref.name);
    snprintf(s->rt, sizeof(s->rt), "%s", ref.name);
    if (json_object_get(spec, "skuRef") &&
        sku_ref_read(req, json_object_get(spec, "skuRef"), "/spec/skuRef", s->sku, err) < 0)
        return -1;
    return 0;
}

enum MHD_Result
sov_seca_network_subnets_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT, e2 = SOV_ERROR_INIT;
    sov_seca_input in;
    sov_network n;
    sov_subnet s;
    subnet_spec sp;
    sov_op op, op2;
    sov_seca_meta m;
    json_t *body;
    bool exists;
    enum MHD_Result rc;

    if (network_find(req, sov_seca_network(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        subnet_spec_read(req, &n, in.spec, &sp, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    exists = subnet_find(req, &n, sov_seca_name(req), &s, &err) == 0;
    if (!exists && err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    memset(&m, 0, sizeof(m));
    if (exists) {
        char rt[SOV_SECA_NAME_MAX + 1] = "";
        char want[SOV_CIDR_MAX] = "";

        if (strcmp(s.state, "deleting") == 0) {
            sov_error_set(&err, SOV_E_CONFLICT, "subnet '%s' is being deleted", s.name);
            return sov_seca_reply_error(req, &err, true);
        }
        if (sov_seca_meta_check_version(&req->ctx, s.id, in.if_version, &err) < 0 ||
            sov_subnet_seca(&req->ctx, s.tenant_id, s.id, rt, sizeof(rt), NULL, 0, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        sov_cidr_normalize(sp.cidr, false, want);
        if (strcmp(want, s.cidr) != 0)
            sov_error_invalid(&err, "/spec/cidr/ipv4", "subnet '%s' has cidr %s: it cannot "
                              "change", s.name, s.cidr);
        else if (strcmp(sp.zone, s.zone) != 0)
            sov_error_invalid(&err, "/spec/zone", "subnet '%s' is in zone '%s': it cannot "
                              "change", s.name, s.zone);
        if (err.code != SOV_OK)
            return sov_seca_reply_error(req, &err, true);
        /* Another route table: checked as a create's, applied, undone when the network's
         * router cannot follow. */
        if (strcmp(sp.rt, rt) != 0) {
            if (sov_network_route_table_check(&req->ctx, s.tenant_id, n.workspace, n.id, sp.rt,
                                              &err) < 0 ||
                sov_subnet_seca_route_table(&req->ctx, s.tenant_id, s.id, sp.rt, &err) < 0) {
                map_field(&err, "region", "/spec/routeTableRef");
                return sov_seca_reply_error(req, &err, true);
            }
            if (rt_apply(req, &n, &err) < 0) {
                sov_subnet_seca_route_table(&req->ctx, s.tenant_id, s.id, rt, &e2);
                map_field(&err, "region", "/spec/routeTableRef");
                return sov_seca_reply_error(req, &err, true);
            }
        }
        sov_seca_write w = { .resource_id = s.id, .tenant_id = s.tenant_id,
                             .kind = T_SUB.kind, .change = SOV_SECA_UPDATED,
                             .labels = in.labels, .annotations = in.annotations,
                             .extensions = in.extensions, .if_version = in.if_version };
        if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        body = subnet_json(req, &n, &s, &m);
        sov_seca_meta_clear(&m);
        rc = sov_seca_reply(req, MHD_HTTP_OK, body);
        json_decref(body);
        return rc;
    }
    /* A route table that would give the network a router it cannot have (no public IP
     * pool in the region) is refused before anything is written. */
    err = (sov_error) SOV_ERROR_INIT;
    if (sov_network_route_table_check(&req->ctx, sov_seca_tenant_id(req), n.workspace, n.id,
                                      sp.rt, &err) < 0) {
        map_field(&err, "region", "/spec/routeTableRef");
        return sov_seca_reply_error(req, &err, true);
    }
    sov_subnet_create_args a = { .workspace = n.workspace, .name = sov_seca_name(req),
                                 .network = n.id, .cidr = sp.cidr, .zone = sp.zone,
                                 .route_table = sp.rt, .sku = sp.sku[0] ? sp.sku : NULL };
    err = (sov_error) SOV_ERROR_INIT;
    if (sov_subnet_create(&req->ctx, sov_seca_tenant_id(req), &a, &s, &op, &err) < 0) {
        map_field(&err, "cidr", "/spec/cidr/ipv4");
        map_field(&err, "zone", "/spec/zone");
        map_field(&err, "sku", "/spec/skuRef");
        map_field(&err, "name", "/metadata/name");
        return sov_seca_reply_error(req, &err, true);
    }
    /* Its route table may now give the network a router: when it cannot (no public IP pool
     * in the region), the subnet goes again and the request is refused. */
    if (rt_apply(req, &n, &err) < 0) {
        sov_subnet_delete(&req->ctx, s.tenant_id, s.id, &op2, &e2);
        map_field(&err, "region", "/spec/routeTableRef");
        return sov_seca_reply_error(req, &err, true);
    }
    sov_seca_write w = { .resource_id = s.id, .tenant_id = s.tenant_id, .kind = T_SUB.kind,
                         .change = SOV_SECA_CREATED, .labels = in.labels,
                         .annotations = in.annotations, .extensions = in.extensions,
                         .op_id = op.id };
    if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    body = subnet_json(req, &n, &s, &m);
    sov_seca_meta_clear(&m);
    rc = sov_seca_reply(req, MHD_HTTP_CREATED, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_subnets_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    sov_subnet s;
    sov_op op;
    sov_seca_meta m;

    if (network_find(req, sov_seca_network(req), &n, &err) < 0 ||
        subnet_find(req, &n, sov_seca_name(req), &s, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_subnet_delete(&req->ctx, s.tenant_id, s.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    memset(&m, 0, sizeof(m));
    sov_seca_write w = { .resource_id = s.id, .tenant_id = s.tenant_id, .kind = T_SUB.kind,
                         .change = SOV_SECA_DELETED, .op_id = op.id };
    if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0 || rt_apply(req, &n, &err) < 0) {
        sov_seca_meta_clear(&m);
        return sov_seca_reply_error(req, &err, false);
    }
    sov_seca_meta_clear(&m);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}
