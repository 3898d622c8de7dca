/* seca_routes.c: SECA's route tables and internet gateways made real (issue 20). They are
 * SECA objects (sov/seca.h: kind "route-table" under a network, kind "internet-gateway" in a
 * workspace); what OVN can do with them today is our router: a network whose live subnets
 * use a route table with a default route (0.0.0.0/0) to an existing internet gateway gets a
 * router with SNAT (sov_router_create, as POST /v1/routers), and loses it when no table
 * wants it any more. The decision lives here, not in the handler: the SECA handlers call
 * sov_network_apply_route_tables after each change of a table, a gateway or a subnet.
 * Routes to anything else (instances, NICs, addresses) are stored, not enforced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/seca.h"
#include "network_int.h"

#define PAGE 100

/* Whether a route table object routes 0.0.0.0/0 to an internet gateway that exists (*ret);
 * *inbound set when such a gateway is not egress-only (inbound may be NULL). */
static int
table_gateways(sov_ctx *ctx, const char *tenant_id, const char *workspace,
               const sov_seca_object *t, bool *ret, bool *inbound, sov_error *err)
{
    json_t *targets = json_object_get(t->spec, "targets"), *v;
    size_t i;

    *ret = false;
    if (json_is_true(json_object_get(t->spec, "deleting")))
        return 0;
    json_array_foreach(targets, i, v) {
        const char *cidr = json_string_value(json_object_get(v, "cidr"));
        const char *kind = json_string_value(json_object_get(v, "kind"));
        const char *name = json_string_value(json_object_get(v, "name"));
        sov_seca_object gw;

        if (!cidr || !kind || !name || strcmp(cidr, "0.0.0.0/0") != 0 ||
            strcmp(kind, "internet-gateways") != 0)
            continue;
        memset(&gw, 0, sizeof(gw));
        if (sov_seca_object_get(ctx, tenant_id, workspace, "internet-gateway", "", name, &gw,
                                err) < 0) {
            if (err->code == SOV_E_NOT_FOUND)
                continue;
            return -1;
        }
        if (inbound && !json_is_true(json_object_get(gw.spec, "egressOnly")))
            *inbound = true;
        sov_seca_object_clear(&gw);
        *ret = true;
    }
    return 0;
}

static int
table_wants_router(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                   const sov_seca_object *t, bool *ret, sov_error *err)
{
    return table_gateways(ctx, tenant_id, workspace, t, ret, NULL, err);
}

/* Whether any live subnet of the network uses a table that wants the router (*ret); with
 * inbound, every subnet is looked at and *inbound tells whether a gateway so used is not
 * egress-only. */
static int
network_gateways(sov_ctx *ctx, const char *tenant_id, const sov_network *n, bool *ret,
                 bool *inbound, sov_error *err)
{
    sov_seca_object *tables = NULL;
    size_t ntables = 0;
    char after[1024] = "";
    int rc = 0;

    *ret = false;
    if (sov_seca_object_list(ctx, tenant_id, n->workspace, "route-table", n->name, &tables,
                             &ntables, err) < 0)
        return -1;
    do {
        sov_subnet_page page = { 0 };

        if (sov_subnet_list(ctx, tenant_id, n->workspace, n->id, NULL, after[0] ? after : NULL,
                            PAGE, &page, err) < 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < page.n && (inbound || !*ret) && rc == 0; i++) {
            const sov_subnet *s = &page.items[i];
            char rt[SOV_SECA_NAME_MAX + 1];

            if (strcmp(s->state, "deleting") == 0 || strcmp(s->state, "deleted") == 0)
                continue;
            if (sov_subnet_seca(ctx, tenant_id, s->id, rt, sizeof(rt), NULL, 0, err) < 0) {
                rc = -1;
                break;
            }
            for (size_t j = 0; rt[0] && j < ntables && rc == 0; j++) {
                bool wants = false;
                if (strcmp(tables[j].name, rt) != 0)
                    continue;
                if (table_gateways(ctx, tenant_id, n->workspace, &tables[j], &wants, inbound,
                                   err) < 0)
                    rc = -1;
                *ret = *ret || wants;
            }
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (rc == 0 && (inbound || !*ret) && after[0]);
    sov_seca_objects_free(tables, ntables);
    return rc;
}

int
sov_cidr_normalize(const char *cidr, bool strict, char *ret)
{
    sov_ipv4_net net;

    if (!cidr || sov_cidr_parse(cidr, strict, &net) < 0)
        return -1;
    sov_cidr_format(&net, ret);
    return 0;
}

int
sov_network_seca_router(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                        sov_router *r, bool *ret, sov_error *err)
{
    sov_network n;

    *ret = false;
    if (sov_network_get(ctx, tenant_id, network_id, &n, err) < 0)
        return -1;
    if (!n.router_id[0])
        return 0;
    /* A router on its way out may be gone between the two reads: none. */
    if (sov_router_get(ctx, tenant_id, n.router_id, r, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? 0 : -1;
    *ret = strncmp(r->name, SOV_SECA_ROUTER_PREFIX, strlen(SOV_SECA_ROUTER_PREFIX)) == 0;
    return 0;
}

/* Whether the region has a public IP pool (what sov_router_create takes an address of; a
 * full pool is still its refusal). */
static int
region_has_pool(sov_ctx *ctx, const char *region, bool *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_pool_any(c, region, ret, err);
}

int
sov_network_route_table_check(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                              const char *network, const char *route_table, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];
    sov_network n;
    sov_seca_object t;
    bool want = false, free_ip;

    if (sov_network_resolve(ctx, tenant_id, workspace, network, id, err) < 0 ||
        sov_network_get(ctx, tenant_id, id, &n, err) < 0)
        return -1;
    if (n.router_id[0])
        return 0;
    memset(&t, 0, sizeof(t));
    if (sov_seca_object_get(ctx, tenant_id, n.workspace, "route-table", n.name, route_table,
                            &t, err) < 0)
        return -1;
    if (table_wants_router(ctx, tenant_id, n.workspace, &t, &want, err) < 0) {
        sov_seca_object_clear(&t);
        return -1;
    }
    sov_seca_object_clear(&t);
    if (!want)
        return 0;
    if (region_has_pool(ctx, n.region, &free_ip, err) < 0)
        return -1;
    if (!free_ip)
        return sov_error_invalid(err, "region", "route table '%s' sends 0.0.0.0/0 to an "
                                 "internet gateway, which needs a router with an address of "
                                 "a public IP pool of region '%s': it has no public IP pool "
                                 "(ask the operator)", route_table,
                                 n.region);
    return 0;
}

int
sov_network_apply_route_tables(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                               const char *network, sov_error *err)
{
    char id[SOV_UUID_LEN + 1], name[SOV_NAME_MAX + 1];
    sov_network n;
    sov_router r;
    sov_op op;
    bool want, ours;

    if (sov_network_resolve(ctx, tenant_id, workspace, network, id, err) < 0 ||
        sov_network_get(ctx, tenant_id, id, &n, err) < 0)
        return -1;
    if (strcmp(n.state, "deleting") == 0 || strcmp(n.state, "deleted") == 0)
        return 0;
    if (network_gateways(ctx, tenant_id, &n, &want, NULL, err) < 0 ||
        sov_network_seca_router(ctx, tenant_id, n.id, &r, &ours, err) < 0)
        return -1;
    /* One router per network: the one going must be gone before another comes. */
    if (want && ours && strcmp(r.state, "deleting") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "network '%s' is still removing its router: "
                             "try again in a moment", n.name);
    if (want && !n.router_id[0]) {
        sov_router_create_args a = { .workspace = n.workspace, .name = name,
                                     .network = n.id, .snat = true };

        snprintf(name, sizeof(name), SOV_SECA_ROUTER_PREFIX "%s", n.id);
        return sov_router_create(ctx, n.tenant_id, &a, &r, &op, err);
    }
    if (!want && ours && strcmp(r.state, "deleting") != 0)
        return sov_router_delete(ctx, n.tenant_id, r.id, &op, err);
    return 0;
}

int
sov_network_inbound_allowed(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                            bool *ret, sov_error *err)
{
    sov_network n;
    bool any = false, inbound = false;

    if (sov_network_get(ctx, tenant_id, network_id, &n, err) < 0 ||
        network_gateways(ctx, tenant_id, &n, &any, &inbound, err) < 0)
        return -1;
    *ret = !any || inbound;
    return 0;
}
