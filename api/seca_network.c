/* seca_network.c: what the network provider's part one shares (api/seca_net.h): the flows
 * seca_networks.c, seca_subnets.c and seca_route_tables.c repeat, written once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_net.h"


const sov_seca_type sov_seca_net_sku_type = { "seca.network", "network-sku", "skus",
                                              SOV_SECA_TENANT, true };
const sov_seca_type sov_seca_net_network_type = { "seca.network", "network", "networks",
                                                  SOV_SECA_WORKSPACE, true };
const sov_seca_type sov_seca_net_subnet_type = { "seca.network", "subnet", "subnets",
                                                 SOV_SECA_NETWORK, true };
const sov_seca_type sov_seca_net_route_table_type = { "seca.network", "routing-table",
                                                      "route-tables", SOV_SECA_NETWORK, true };
const sov_seca_type sov_seca_net_gateway_type = { "seca.network", "internet-gateway",
                                                  "internet-gateways", SOV_SECA_WORKSPACE,
                                                  true };

int
sov_seca_net_cidr_read(const json_t *spec, const char **ret, sov_error *err)
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

json_t *
sov_seca_net_cidr_json(const char *cidr)
{
    return json_pack("{s:s}", "ipv4", cidr);
}

int
sov_seca_net_sku_ref_read(sov_request *req, const json_t *ref, const char *pointer, char *sku,
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

int
sov_seca_net_name_check(sov_request *req, sov_error *err)
{
    if (strlen(sov_seca_name(req)) > SOV_NAME_MAX)
        return sov_error_invalid(err, "/metadata/name", "a name has at most %d characters "
                                 "here", SOV_NAME_MAX);
    return 0;
}

int
sov_seca_net_network_find(sov_request *req, const char *name, sov_network *ret,
                          sov_error *err)
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

int
sov_seca_net_render(sov_request *req, const char *id, const char *kind, sov_seca_state now,
                    const char *created_at, sov_seca_net_render_fn render, const void *res,
                    json_t **ret, sov_error *err)
{
    sov_seca_meta m;

    memset(&m, 0, sizeof(m));
    if (sov_seca_meta_get(&req->ctx, id, kind, now, created_at, &m, err) < 0)
        return -1;
    *ret = render(req, res, &m);
    sov_seca_meta_clear(&m);
    return 0;
}

enum MHD_Result
sov_seca_net_reply(sov_request *req, unsigned status, json_t *body)
{
    enum MHD_Result rc = sov_seca_reply(req, status, body);

    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_net_written(sov_request *req, const sov_seca_write *w, sov_seca_net_render_fn render,
                     const void *res)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_meta m;
    json_t *body = NULL;

    memset(&m, 0, sizeof(m));
    if (sov_seca_meta_write(&req->ctx, w, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, w->change != SOV_SECA_DELETED);
    if (w->change != SOV_SECA_DELETED)
        body = render(req, res, &m);
    sov_seca_meta_clear(&m);
    return sov_seca_net_reply(req, w->change == SOV_SECA_CREATED ? MHD_HTTP_CREATED
                                   : w->change == SOV_SECA_DELETED ? MHD_HTTP_ACCEPTED
                                   : MHD_HTTP_OK, body);
}

enum MHD_Result
sov_seca_net_object_written(sov_request *req, const sov_seca_type *t, const sov_seca_object *o,
                            const sov_seca_input *in, bool created,
                            sov_seca_net_render_fn render)
{
    sov_seca_write w = { .resource_id = o->id, .tenant_id = o->tenant_id, .kind = t->kind,
                         .change = created ? SOV_SECA_CREATED : SOV_SECA_UPDATED,
                         .labels = in->labels, .annotations = in->annotations,
                         .extensions = in->extensions,
                         .if_version = created ? 0 : in->if_version };

    return sov_seca_net_written(req, &w, render, o);
}

/* What sov_seca_net_objects_reply walks. */
typedef struct objects_walk {
    const char *kind, *parent;
    sov_seca_net_item_fn item;
    const void *arg;
} objects_walk;

/* The objects, all in one page. */
static int
objects_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
             size_t next_size, void *arg, sov_error *err)
{
    const objects_walk *w = arg;
    sov_seca_object *objs = NULL;
    size_t n = 0;
    int rc = 0;

    (void) after, (void) next, (void) next_size;
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                             w->kind, w->parent, &objs, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *v = NULL;
        int got = w->item(req, w->arg, &objs[i], &v, err);
        if (got == 0)
            sov_seca_list_add(l, v);
        rc = got < 0 ? -1 : 0;
    }
    sov_seca_objects_free(objs, n);
    return rc;
}

enum MHD_Result
sov_seca_net_objects_reply(sov_request *req, const sov_seca_type *t, const char *kind,
                           const char *parent, sov_seca_net_item_fn item, const void *arg)
{
    objects_walk w = { .kind = kind, .parent = parent, .item = item, .arg = arg };

    return sov_seca_list_walk(req, t, objects_page, &w);
}
