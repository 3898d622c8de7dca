/* seca_networks.c: the network provider (seca.network), part one: SKUs (network/'s bandwidth
 * classes, network_skus) and networks (our /v1 networks: the same service, so quota,
 * residency policy, audit and residency records apply). Departures from SECA: IPv4 only
 * (cidr.ipv6 and additionalCidrs are refused), no automatic cidr (0.0.0.0/16 is refused as
 * outside RFC 1918), names follow our limit (63), a network's cidr and SKU cannot change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_net.h"

#define PAGE 100

/* ---- SKUs ---- */

static json_t *
sku_json(sov_request *req, const sov_network_sku *k, const char *region)
{
    json_t *item = sov_seca_resource(req, &sov_seca_net_sku_type, NULL, NULL, k->name, region,
                                     NULL, json_pack("{s:I, s:I}", "bandwidth",
                                                     (json_int_t) k->bandwidth_mbps,
                                                     "packets",
                                                     (json_int_t) k->packets_per_second),
                                     NULL, NULL);

    if (item)
        json_object_set_new(item, "labels", json_pack("{s:s, s:s}", "provider", "seca",
                                                      "tier", k->tier));
    return item;
}

static int
skus_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
          size_t size, void *arg, sov_error *err)
{
    sov_network_sku *skus = NULL;
    size_t n = 0;
    char region[SOV_NAME_MAX + 1];

    (void) arg, (void) after, (void) next, (void) size;
    if (sov_seca_default_region(req, region, sizeof(region), err) < 0 ||
        sov_network_sku_list(&req->ctx, &skus, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        sov_seca_list_add(l, sku_json(req, &skus[i], region));
    free(skus);
    return 0;
}

enum MHD_Result
sov_seca_network_skus_list(sov_request *req)
{
    return sov_seca_list_walk(req, &sov_seca_net_sku_type, skus_page, NULL);
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
    return sov_seca_net_reply(req, MHD_HTTP_OK, sku_json(req, &k, region));
}

/* ---- networks ---- */

static json_t *
network_json(sov_request *req, const void *res, const sov_seca_meta *m)
{
    const sov_network *n = res;
    sov_error err = SOV_ERROR_INIT;
    sov_network_sku k;
    json_t *spec = json_pack("{s:o}", "cidr", sov_seca_net_cidr_json(n->cidr));

    /* One made through /v1 has the default class (sov_network_sku_of). */
    if (sov_network_sku_of(&req->ctx, sov_seca_tenant_id(req), n->id, &k, &err) == 0)
        json_object_set_new(spec, "skuRef", sov_seca_ref_json(req, &sov_seca_net_sku_type,
                                                              NULL, NULL, k.name));
    return sov_seca_resource(req, &sov_seca_net_network_type, n->workspace, NULL, n->name,
                             n->region, m, spec,
                             json_pack("{s:o}", "cidr", sov_seca_net_cidr_json(n->cidr)),
                             sov_api_location_json(&n->residency, n->residency_since));
}

/* A network with its meta brought up to date. */
static int
network_render(sov_request *req, const sov_network *n, json_t **ret, sov_error *err)
{
    return sov_seca_net_render(req, n->id, sov_seca_net_network_type.kind,
                               sov_seca_state_of(n->state), n->created_at, network_json, n,
                               ret, err);
}

enum MHD_Result
sov_seca_network_networks_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    json_t *body = NULL;

    if (sov_seca_net_network_find(req, sov_seca_name(req), &n, &err) < 0 ||
        network_render(req, &n, &body, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_net_reply(req, MHD_HTTP_OK, body);
}

static int
networks_page(sov_request *req, sov_seca_list *l, const char *after, char *next,
              size_t size, void *arg, sov_error *err)
{
    sov_network_page page = { 0 };
    int rc = 0;

    (void) arg;
    if (sov_network_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), NULL,
                         NULL, after, PAGE, &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page.n && rc == 0; i++) {
        json_t *item = NULL;
        if (strcmp(page.items[i].state, "deleted") == 0)
            continue;
        rc = network_render(req, &page.items[i], &item, err);
        if (rc == 0)
            sov_seca_list_add(l, item);
    }
    snprintf(next, size, "%s", page.next_after);
    free(page.items);
    return rc;
}

enum MHD_Result
sov_seca_network_networks_list(sov_request *req)
{
    return sov_seca_list_walk(req, &sov_seca_net_network_type, networks_page, NULL);
}

/* A network's spec: cidr {ipv4}, inside RFC 1918 as SECA's NetworkSpec says; no
 * additionalCidrs; skuRef (required) an existing class, into sku. */
static int
network_spec_read(sov_request *req, const json_t *spec, const char **cidr, char *sku,
                  sov_error *err)
{
    static const char *const members[] = { "cidr", "additionalCidrs", "skuRef", NULL };
    json_t *extra = json_object_get(spec, "additionalCidrs");

    if (sov_seca_members_check(spec, "/spec", members, err) < 0 ||
        sov_seca_net_cidr_read(spec, cidr, err) < 0)
        return -1;
    if (extra && !(json_is_array(extra) && json_array_size(extra) == 0))
        return sov_error_invalid(err, "/spec/additionalCidrs", "additionalCidrs are not "
                                 "served here: a network has one IPv4 cidr");
    if (!json_object_get(spec, "skuRef"))
        return sov_error_invalid(err, "/spec/skuRef", "spec.skuRef is required (a network "
                                 "SKU, e.g. skus/" SOV_NETWORK_SKU_DEFAULT ")");
    return sov_seca_net_sku_ref_read(req, json_object_get(spec, "skuRef"), "/spec/skuRef",
                                     sku, err);
}

/* A network PUT: its spec, and the network when it exists. */
typedef struct network_put {
    const char *cidr;
    char sku[SOV_NAME_MAX + 1];
    sov_network n;
} network_put;

static int
network_put_find(sov_request *req, void *arg, char id[SOV_UUID_LEN + 1], sov_error *err)
{
    network_put *p = arg;

    if (sov_seca_net_network_find(req, sov_seca_name(req), &p->n, err) < 0)
        return -1;
    snprintf(id, SOV_UUID_LEN + 1, "%s", p->n.id);
    return 0;
}

/* A create: through the service as POST /v1/networks, in RFC 1918's space only. */
static enum MHD_Result
network_create(sov_request *req, const sov_seca_input *in, void *arg)
{
    const network_put *p = arg;
    const char *cidr = p->cidr;
    sov_error err = SOV_ERROR_INIT;
    sov_network_create_args a = { .workspace = sov_seca_workspace(req),
                                  .name = sov_seca_name(req), .cidr = cidr, .sku = p->sku };
    sov_network n;
    sov_op op;

    if (!sov_cidr_private(cidr)) {
        sov_error_invalid(&err, "/spec/cidr/ipv4", "cidr '%.43s' is not a private network: "
                          "SECA's networks lie in RFC 1918's space (10.0.0.0/8, "
                          "172.16.0.0/12, 192.168.0.0/16)", cidr);
        return sov_seca_reply_error(req, &err, true);
    }
    if (sov_network_create(&req->ctx, sov_seca_tenant_id(req), &a, &n, &op, &err) < 0) {
        sov_seca_field_rename(&err, "cidr", "/spec/cidr/ipv4");
        sov_seca_field_rename(&err, "sku", "/spec/skuRef");
        sov_seca_field_rename(&err, "name", "/metadata/name");
        return sov_seca_reply_error(req, &err, true);
    }
    sov_seca_write w = { .resource_id = n.id, .tenant_id = n.tenant_id,
                         .kind = sov_seca_net_network_type.kind, .change = SOV_SECA_CREATED,
                         .labels = in->labels, .annotations = in->annotations,
                         .extensions = in->extensions, .op_id = op.id };
    return sov_seca_net_written(req, &w, network_json, &n);
}

/* An update (its version checked by sov_seca_put): labels, annotations, extensions; the
 * cidr and the SKU as they are. */
static enum MHD_Result
network_update(sov_request *req, const sov_seca_input *in, void *arg)
{
    const network_put *p = arg;
    const sov_network *n = &p->n;
    sov_error err = SOV_ERROR_INIT;
    sov_network_sku k;

    if (strcmp(n->state, "deleting") == 0)
        sov_error_set(&err, SOV_E_CONFLICT, "network '%s' is being deleted", n->name);
    else if (strcmp(p->cidr, n->cidr) != 0)
        sov_error_invalid(&err, "/spec/cidr/ipv4", "network '%s' has cidr %s: the cidr of an "
                          "existing network cannot change", n->name, n->cidr);
    else if (sov_network_sku_of(&req->ctx, n->tenant_id, n->id, &k, &err) < 0)
        ;
    else if (strcmp(k.name, p->sku) != 0)
        sov_error_invalid(&err, "/spec/skuRef", "network '%s' has SKU %s: the SKU of an "
                          "existing network cannot change", n->name, k.name);
    if (err.code != SOV_OK)
        return sov_seca_reply_error(req, &err, true);
    sov_seca_write w = { .resource_id = n->id, .tenant_id = n->tenant_id,
                         .kind = sov_seca_net_network_type.kind, .change = SOV_SECA_UPDATED,
                         .labels = in->labels, .annotations = in->annotations,
                         .extensions = in->extensions, .if_version = in->if_version };
    return sov_seca_net_written(req, &w, network_json, n);
}

enum MHD_Result
sov_seca_network_networks_put(sov_request *req)
{
    static const sov_seca_put_ops ops = { network_put_find, network_create, network_update };
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    network_put p = { .cidr = NULL };

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        network_spec_read(req, in.spec, &p.cidr, p.sku, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return sov_seca_put(req, &in, &ops, &p);
}

enum MHD_Result
sov_seca_network_networks_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;
    sov_op op;

    if (sov_seca_net_network_find(req, sov_seca_name(req), &n, &err) < 0 ||
        sov_network_delete(&req->ctx, n.tenant_id, n.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    sov_seca_write w = { .resource_id = n.id, .tenant_id = n.tenant_id,
                         .kind = sov_seca_net_network_type.kind, .change = SOV_SECA_DELETED,
                         .op_id = op.id };
    return sov_seca_net_written(req, &w, network_json, &n);
}
