/* seca_subnets.c: the network provider (seca.network), part one: subnets, our /v1 subnets
 * (the same service), each with the route table (a SECA object, network/seca_routes.c) and
 * SKU it names. A subnet made through /v1 has no route table and may span every zone of its
 * region: SECA's subnet has one zone and a route table, and nothing true can stand for them,
 * so such a subnet is not served here (left out of lists, 404 by name; its name stays taken).
 * Departures from SECA: IPv4 only, names follow our limit (63), a subnet's cidr and zone
 * cannot change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_net.h"

#define PAGE 100

/* A subnet of a network, as the renderer takes it. */
typedef struct subnet_view {
    const sov_network *n;
    const sov_subnet *s;
    const char *rt, *sku;       /* its route table and SKU ("" none) */
} subnet_view;

/* What subnet s names through SECA (rt "": made through /v1, not served here). */
static int
subnet_seca(sov_request *req, const sov_subnet *s, char rt[SOV_SECA_NAME_MAX + 1],
            char sku[SOV_NAME_MAX + 1], sov_error *err)
{
    return sov_subnet_seca(&req->ctx, sov_seca_tenant_id(req), s->id, rt,
                           SOV_SECA_NAME_MAX + 1, sku, SOV_NAME_MAX + 1, err);
}

/* The subnet named name of network n, served through SECA (a deleted one, or one made
 * through /v1, does not exist here). */
static int
subnet_find(sov_request *req, const sov_network *n, const char *name, sov_subnet *ret,
            sov_error *err)
{
    char id[SOV_UUID_LEN + 1], rt[SOV_SECA_NAME_MAX + 1], sku[SOV_NAME_MAX + 1];

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
    if (subnet_seca(req, ret, rt, sku, err) < 0)
        return -1;
    if (!rt[0])
        return sov_error_set(err, SOV_E_NOT_FOUND, "subnet '%s' of network '%s' was made "
                             "through /v1 (no route table): it is not served through SECA",
                             name, n->name);
    return 0;
}

static json_t *
subnet_json(sov_request *req, const void *res, const sov_seca_meta *m)
{
    const subnet_view *v = res;
    const sov_network *n = v->n;
    json_t *spec = json_pack("{s:o, s:s}", "cidr", sov_seca_net_cidr_json(v->s->cidr), "zone",
                             v->s->zone);
    json_t *status = json_pack("{s:o}", "cidr", sov_seca_net_cidr_json(v->s->cidr));

    json_object_set_new(spec, "routeTableRef",
                        sov_seca_ref_json(req, &sov_seca_net_route_table_type, n->workspace,
                                          n->name, v->rt));
    json_object_set_new(status, "routeTableRef",
                        sov_seca_ref_json(req, &sov_seca_net_route_table_type, n->workspace,
                                          n->name, v->rt));
    if (v->sku[0])
        json_object_set_new(spec, "skuRef", sov_seca_ref_json(req, &sov_seca_net_sku_type,
                                                              NULL, NULL, v->sku));
    return sov_seca_resource(req, &sov_seca_net_subnet_type, n->workspace, n->name,
                             v->s->name, n->region, m, spec, status,
                             sov_api_location_json(&n->residency, n->residency_since));
}

/* Subnet s rendered with its meta; *ret NULL (and 0) when it is not served here. */
static int
subnet_render(sov_request *req, const sov_network *n, const sov_subnet *s, json_t **ret,
              sov_error *err)
{
    char rt[SOV_SECA_NAME_MAX + 1], sku[SOV_NAME_MAX + 1];
    subnet_view v = { .n = n, .s = s, .rt = rt, .sku = sku };

    *ret = NULL;
    if (subnet_seca(req, s, rt, sku, err) < 0)
        return -1;
    if (!rt[0])
        return 0;
    return sov_seca_net_render(req, s->id, sov_seca_net_subnet_type.kind,
                               sov_seca_state_of(s->state), s->created_at, subnet_json, &v,
                               ret, err);
}

/* Meta written after a change of subnet s (w), answered with it rendered. */
static enum MHD_Result
subnet_written(sov_request *req, const sov_network *n, const sov_subnet *s,
               const sov_seca_write *w)
{
    sov_error err = SOV_ERROR_INIT;
    char rt[SOV_SECA_NAME_MAX + 1] = "", sku[SOV_NAME_MAX + 1] = "";
    subnet_view v = { .n = n, .s = s, .rt = rt, .sku = sku };

    if (w->change != SOV_SECA_DELETED && subnet_seca(req, s, rt, sku, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return sov_seca_net_written(req, w, subnet_json, &v);
}

enum MHD_Result
sov_seca_network_subnets_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    sov_subnet s;
    json_t *body = NULL;

    if (sov_seca_net_network_find(req, sov_seca_network(req), &n, &err) < 0 ||
        subnet_find(req, &n, sov_seca_name(req), &s, &err) < 0 ||
        subnet_render(req, &n, &s, &body, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_net_reply(req, MHD_HTTP_OK, body);
}

static int
subnets_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
             size_t size, void *arg, sov_error *err)
{
    const sov_network *n = arg;
    sov_subnet_page page = { 0 };
    int rc = 0;

    if (sov_subnet_list(&req->ctx, sov_seca_tenant_id(req), n->workspace, n->id, NULL, after,
                        PAGE, &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page.n && rc == 0; i++) {
        json_t *item = NULL;
        if (strcmp(page.items[i].state, "deleted") == 0)
            continue;
        rc = subnet_render(req, n, &page.items[i], &item, err);
        if (rc == 0 && item)
            sov_seca_list_add(l, item);
    }
    snprintf(next, size, "%s", page.next_after);
    free(page.items);
    return rc;
}

enum MHD_Result
sov_seca_network_subnets_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;

    if (sov_seca_net_network_find(req, sov_seca_network(req), &n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_list_walk(req, &sov_seca_net_subnet_type, subnets_page, &n);
}

/* A subnet's spec: cidr, zone, routeTableRef (an existing route table of the network, not
 * being deleted), skuRef (optional). */
typedef struct subnet_spec {
    const char *cidr, *zone;
    char rt[SOV_SECA_NAME_MAX + 1];
    char sku[SOV_NAME_MAX + 1];
} subnet_spec;

/* spec.routeTableRef: a route table of network n, not being deleted, into rt. */
static int
route_table_ref_read(sov_request *req, const sov_network *n, const json_t *ref, char *rt,
                     sov_error *err)
{
    sov_seca_ref r;
    sov_seca_object o;
    bool deleting;

    if (!ref)
        return sov_error_invalid(err, "/spec/routeTableRef", "spec.routeTableRef is required: "
                                 "a route table of network '%s'", n->name);
    if (sov_seca_ref_read(req, ref, "route-tables", "/spec/routeTableRef", &r, err) < 0)
        return -1;
    if (r.network[0] && strcmp(r.network, n->name) != 0)
        return sov_error_invalid(err, "/spec/routeTableRef", "the route table must be one of "
                                 "network '%s'", n->name);
    if (sov_network_route_table_get(&req->ctx, sov_seca_tenant_id(req), n->workspace, n->name,
                                    r.name, &o, &deleting, err) < 0) {
        snprintf(err->field, sizeof(err->field), "/spec/routeTableRef");
        return -1;
    }
    sov_seca_object_clear(&o);
    if (deleting)
        return sov_error_invalid(err, "/spec/routeTableRef", "route table '%s' is being "
                                 "deleted", r.name);
    snprintf(rt, SOV_SECA_NAME_MAX + 1, "%s", r.name);
    return 0;
}

static int
subnet_spec_read(sov_request *req, const sov_network *n, const json_t *spec, subnet_spec *s,
                 sov_error *err)
{
    static const char *const members[] = { "cidr", "zone", "routeTableRef", "skuRef", NULL };
    json_t *zone = json_object_get(spec, "zone");

    memset(s, 0, sizeof(*s));
    if (sov_seca_members_check(spec, "/spec", members, err) < 0 ||
        sov_seca_net_cidr_read(spec, &s->cidr, err) < 0)
        return -1;
    if (!json_is_string(zone) || json_string_length(zone) == 0 ||
        json_string_length(zone) > 32)
        return sov_error_invalid(err, "/spec/zone", "spec.zone is required: a zone of region "
                                 "'%s'", n->region);
    s->zone = json_string_value(zone);
    if (route_table_ref_read(req, n, json_object_get(spec, "routeTableRef"), s->rt, err) < 0)
        return -1;
    if (json_object_get(spec, "skuRef") &&
        sov_seca_net_sku_ref_read(req, json_object_get(spec, "skuRef"), "/spec/skuRef",
                                  s->sku, err) < 0)
        return -1;
    return 0;
}

/* A subnet PUT: its network, its spec, and the subnet when it exists. */
typedef struct subnet_put {
    sov_network n;
    subnet_spec sp;
    sov_subnet s;
} subnet_put;

static int
subnet_put_find(sov_request *req, void *arg, char id[SOV_UUID_LEN + 1], sov_error *err)
{
    subnet_put *p = arg;

    if (subnet_find(req, &p->n, sov_seca_name(req), &p->s, err) < 0)
        return -1;
    snprintf(id, SOV_UUID_LEN + 1, "%s", p->s.id);
    return 0;
}

/* An update (its version checked by sov_seca_put): labels, annotations, extensions and the
 * route table; cidr and zone as they are. Another route table is checked as a create's; the
 * network's router follows. */
static enum MHD_Result
subnet_update(sov_request *req, const sov_seca_input *in, void *arg)
{
    const subnet_put *p = arg;
    const sov_network *n = &p->n;
    const sov_subnet *s = &p->s;
    const subnet_spec *sp = &p->sp;
    sov_error err = SOV_ERROR_INIT;
    char want[SOV_CIDR_MAX] = "";

    sov_cidr_normalize(sp->cidr, false, want);
    if (strcmp(s->state, "deleting") == 0)
        sov_error_set(&err, SOV_E_CONFLICT, "subnet '%s' is being deleted", s->name);
    else if (strcmp(want, s->cidr) != 0)
        sov_error_invalid(&err, "/spec/cidr/ipv4", "subnet '%s' has cidr %s: it cannot "
                          "change", s->name, s->cidr);
    else if (strcmp(sp->zone, s->zone) != 0)
        sov_error_invalid(&err, "/spec/zone", "subnet '%s' is in zone '%s': it cannot change",
                          s->name, s->zone);
    else if (sov_subnet_route_table_change(&req->ctx, s->tenant_id, n->id, s->id, sp->rt,
                                           &err) < 0)
        sov_seca_field_rename(&err, "region", "/spec/routeTableRef");
    if (err.code != SOV_OK)
        return sov_seca_reply_error(req, &err, true);
    sov_seca_write w = { .resource_id = s->id, .tenant_id = s->tenant_id,
                         .kind = sov_seca_net_subnet_type.kind, .change = SOV_SECA_UPDATED,
                         .labels = in->labels, .annotations = in->annotations,
                         .extensions = in->extensions, .if_version = in->if_version };
    return subnet_written(req, n, s, &w);
}

/* A create, through the service as POST /v1/subnets. A route table that would give the
 * network a router it cannot have (no public IP pool in the region) is refused before
 * anything is written; when the router still cannot follow, the subnet goes again. */
static enum MHD_Result
subnet_create(sov_request *req, const sov_seca_input *in, void *arg)
{
    const subnet_put *p = arg;
    const sov_network *n = &p->n;
    const subnet_spec *sp = &p->sp;
    sov_error err = SOV_ERROR_INIT, e2 = SOV_ERROR_INIT;
    sov_subnet_create_args a = { .workspace = n->workspace, .name = sov_seca_name(req),
                                 .network = n->id, .cidr = sp->cidr, .zone = sp->zone,
                                 .route_table = sp->rt, .sku = sp->sku[0] ? sp->sku : NULL };
    sov_subnet s;
    sov_op op, op2;

    if (sov_network_route_table_check(&req->ctx, sov_seca_tenant_id(req), n->workspace, n->id,
                                      sp->rt, &err) < 0) {
        sov_seca_field_rename(&err, "region", "/spec/routeTableRef");
        return sov_seca_reply_error(req, &err, true);
    }
    if (sov_subnet_create(&req->ctx, sov_seca_tenant_id(req), &a, &s, &op, &err) < 0) {
        sov_seca_field_rename(&err, "cidr", "/spec/cidr/ipv4");
        sov_seca_field_rename(&err, "zone", "/spec/zone");
        sov_seca_field_rename(&err, "sku", "/spec/skuRef");
        sov_seca_field_rename(&err, "name", "/metadata/name");
        return sov_seca_reply_error(req, &err, true);
    }
    if (sov_network_apply_route_tables(&req->ctx, s.tenant_id, n->workspace, n->id,
                                       &err) < 0) {
        sov_subnet_delete(&req->ctx, s.tenant_id, s.id, &op2, &e2);
        sov_seca_field_rename(&err, "region", "/spec/routeTableRef");
        return sov_seca_reply_error(req, &err, true);
    }
    sov_seca_write w = { .resource_id = s.id, .tenant_id = s.tenant_id,
                         .kind = sov_seca_net_subnet_type.kind, .change = SOV_SECA_CREATED,
                         .labels = in->labels, .annotations = in->annotations,
                         .extensions = in->extensions, .op_id = op.id };
    return subnet_written(req, n, &s, &w);
}

enum MHD_Result
sov_seca_network_subnets_put(sov_request *req)
{
    static const sov_seca_put_ops ops = { subnet_put_find, subnet_create, subnet_update };
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    subnet_put p;

    memset(&p, 0, sizeof(p));
    if (sov_seca_net_network_find(req, sov_seca_network(req), &p.n, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        subnet_spec_read(req, &p.n, in.spec, &p.sp, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return sov_seca_put(req, &in, &ops, &p);
}

enum MHD_Result
sov_seca_network_subnets_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    sov_subnet s;
    sov_op op;

    if (sov_seca_net_network_find(req, sov_seca_network(req), &n, &err) < 0 ||
        subnet_find(req, &n, sov_seca_name(req), &s, &err) < 0 ||
        sov_subnet_delete(&req->ctx, s.tenant_id, s.id, &op, &err) < 0 ||
        sov_network_apply_route_tables(&req->ctx, s.tenant_id, n.workspace, n.id, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    sov_seca_write w = { .resource_id = s.id, .tenant_id = s.tenant_id,
                         .kind = sov_seca_net_subnet_type.kind, .change = SOV_SECA_DELETED,
                         .op_id = op.id };
    return subnet_written(req, &n, &s, &w);
}
