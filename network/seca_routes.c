/* seca_routes.c: SECA's route tables and internet gateways made real (issue 20). They are
 * SECA objects (sov/seca.h: kind "route-table" under a network, kind "internet-gateway" in a
 * workspace); what OVN can do with them today is our router: a network whose live subnets
 * use a route table with a default route (0.0.0.0/0) to an existing internet gateway gets a
 * router with SNAT (sov_router_create, as POST /v1/routers), and loses it when no table
 * wants it any more. The decision lives here, not in the handler: the SECA handlers call
 * sov_network_apply_route_tables after each change of a table, a gateway or a subnet, and
 * a table's life (when one being deleted is gone, its put and delete with their undo, a
 * subnet's change of table, a gateway still in use) is decided here too. Routes to
 * anything else (instances, NICs, addresses) are stored, not enforced. SECA keeps a
 * network's cidr in RFC 1918's space (sov_cidr_private). */
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

bool
sov_cidr_private(const char *cidr)
{
    static const char *const blocks[] = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16" };
    sov_ipv4_net net, block;

    if (!cidr || sov_cidr_parse(cidr, false, &net) < 0)
        return false;
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
        if (sov_cidr_parse(blocks[i], true, &block) == 0 && sov_cidr_within(&block, &net))
            return true;
    return false;
}

int
sov_network_route_table_get(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                            const char *network, const char *name, sov_seca_object *ret,
                            bool *deleting, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];
    sov_network n;
    sov_router r;
    bool ours = false;
    sov_error e2 = SOV_ERROR_INIT;

    memset(ret, 0, sizeof(*ret));
    *deleting = false;
    if (!name || strlen(name) > SOV_SECA_NAME_MAX || !network ||
        strlen(network) > SOV_SECA_NAME_MAX)
        return sov_error_set(err, SOV_E_NOT_FOUND, "route table does not exist");
    if (sov_seca_object_get(ctx, tenant_id, workspace, "route-table", network, name, ret,
                            err) < 0)
        return -1;
    if (!json_is_true(json_object_get(ret->spec, "deleting")))
        return 0;
    /* Gone once the router it held (if any) is gone. */
    if (sov_network_resolve(ctx, tenant_id, workspace, network, id, &e2) == 0 &&
        sov_network_get(ctx, tenant_id, id, &n, &e2) == 0 &&
        strcmp(n.state, "deleted") != 0 &&
        sov_network_seca_router(ctx, tenant_id, n.id, &r, &ours, &e2) == 0 && ours &&
        strcmp(r.state, "deleting") == 0) {
        *deleting = true;
        return 0;
    }
    if (sov_seca_object_delete(ctx, ret->tenant_id, ret->workspace, "route-table", network,
                               name, err) < 0 ||
        sov_seca_meta_forget(ctx, ret->id, err) < 0) {
        sov_seca_object_clear(ret);
        return -1;
    }
    sov_seca_object_clear(ret);
    return sov_error_set(err, SOV_E_NOT_FOUND, "route table '%s' does not exist", name);
}

int
sov_network_route_table_put(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                            sov_seca_object *o, const sov_seca_object *old, bool *created,
                            sov_error *err)
{
    sov_error e2 = SOV_ERROR_INIT;
    bool c2;

    if (sov_seca_object_put(ctx, o, created, err) == 0 &&
        sov_network_apply_route_tables(ctx, tenant_id, o->workspace, network_id, err) == 0)
        return 0;
    /* Undo: the table as it was, or none. */
    if (old) {
        sov_seca_object prev = *old;
        sov_seca_object_put(ctx, &prev, &c2, &e2);
    } else if (o->id[0]) {
        sov_seca_object_delete(ctx, o->tenant_id, o->workspace, "route-table", o->parent,
                               o->name, &e2);
    }
    return -1;
}

int
sov_network_route_table_delete(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                               sov_seca_object *o, sov_error *err)
{
    sov_error e2 = SOV_ERROR_INIT;
    char user[SOV_NAME_MAX + 1];
    bool c;

    /* A table a subnet uses stays (as a gateway a table uses). */
    if (sov_network_route_table_user(ctx, tenant_id, network_id, o->name, user, sizeof(user),
                                     err) < 0)
        return -1;
    if (user[0])
        return sov_error_set(err, SOV_E_CONFLICT, "route table '%s' is used by subnet '%s': "
                             "delete the subnet or give it another route table first",
                             o->name, user);
    json_object_set_new(o->spec, "deleting", json_true());
    if (sov_seca_object_put(ctx, o, &c, err) == 0 &&
        sov_network_apply_route_tables(ctx, tenant_id, o->workspace, network_id, err) == 0)
        return 0;
    json_object_set_new(o->spec, "deleting", json_false());
    sov_seca_object_put(ctx, o, &c, &e2);
    return -1;
}

int
sov_subnet_route_table_change(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                              const char *subnet_id, const char *route_table, sov_error *err)
{
    sov_error e2 = SOV_ERROR_INIT;
    char was[SOV_SECA_NAME_MAX + 1] = "";
    sov_network n;

    if (sov_network_get(ctx, tenant_id, network_id, &n, err) < 0 ||
        sov_subnet_seca(ctx, tenant_id, subnet_id, was, sizeof(was), NULL, 0, err) < 0)
        return -1;
    if (strcmp(was, route_table) == 0)
        return 0;
    if (sov_network_route_table_check(ctx, tenant_id, n.workspace, n.id, route_table,
                                      err) < 0 ||
        sov_subnet_seca_route_table(ctx, tenant_id, subnet_id, route_table, err) < 0)
        return -1;
    if (sov_network_apply_route_tables(ctx, tenant_id, n.workspace, n.id, err) == 0)
        return 0;
    sov_subnet_seca_route_table(ctx, tenant_id, subnet_id, was, &e2);
    return -1;
}

/* The first table of tables (not being deleted) routing to gateway: its name, else NULL. */
static const char *
tables_using(const sov_seca_object *tables, size_t n, const char *gateway)
{
    for (size_t j = 0; j < n; j++) {
        json_t *v;
        size_t k;

        if (json_is_true(json_object_get(tables[j].spec, "deleting")))
            continue;
        json_array_foreach(json_object_get(tables[j].spec, "targets"), k, v) {
            const char *name = json_string_value(json_object_get(v, "name"));
            if (name && strcmp(name, gateway) == 0)
                return tables[j].name;
        }
    }
    return NULL;
}

int
sov_network_gateway_user(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                         const char *gateway, char *ret, size_t size, sov_error *err)
{
    char after[1024] = "";

    ret[0] = '\0';
    do {
        sov_network_page page = { 0 };
        if (sov_network_list(ctx, tenant_id, workspace, NULL, NULL, after[0] ? after : NULL,
                             PAGE, &page, err) < 0)
            return -1;
        for (size_t i = 0; i < page.n && !ret[0]; i++) {
            sov_seca_object *t = NULL;
            size_t nt = 0;
            const char *user;

            if (sov_seca_object_list(ctx, tenant_id, workspace, "route-table",
                                     page.items[i].name, &t, &nt, err) < 0) {
                free(page.items);
                return -1;
            }
            user = tables_using(t, nt, gateway);
            if (user)
                snprintf(ret, size, "networks/%s/route-tables/%s", page.items[i].name, user);
            sov_seca_objects_free(t, nt);
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0] && !ret[0]);
    return 0;
}
