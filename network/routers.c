/* routers.c: internet gateways (part "sec"). One router per network; it takes an address
 * of a public IP pool of the network's region (a public_ips row of kind 'router', not
 * counted in the tenant's quota) for its gateway port and its SNAT. The request records the
 * router (creating) and queues "router.create"; the router's scope sync writes the logical
 * router, its ports and NAT into OVN. A delete moves the router and its address to deleting
 * ("router.delete"): the worker removes them from OVN and moves both to deleted. */
#include <stdio.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/crypto.h"
#include "network_int.h"

static int
not_found(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "router '%s' does not exist", id);
}

static bool
visible(const sov_ctx *ctx, const char *tenant_id, const sov_router *r)
{
    return r->tenant_id[0] && sov_ctx_sees_tenant(ctx, r->tenant_id) &&
           (!tenant_id || strcmp(tenant_id, r->tenant_id) == 0) &&
           strcmp(r->state, "deleted") != 0;
}

/* ---- create ---- */

typedef struct create_args {
    sov_ctx *ctx;
    const sov_router_create_args *a;
    sov_router *r;
    sov_op *op;
} create_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *ca = arg;
    sov_router *r = ca->r;
    sov_sec_network n;
    sov_public_ip ip;
    bool found;

    if (sov_workspace_check(c, r->tenant_id, r->workspace, err) < 0 ||
        sov_repo_sec_network(c, r->tenant_id, r->workspace, ca->a->network, "network", true,
                             &n, err) < 0)
        return -1;
    if (n.router_id[0])
        return sov_net_error_field(err, SOV_E_CONFLICT, "network", "network '%s' already has "
                                   "a router: one internet gateway per network", n.name);
    snprintf(r->network_id, sizeof(r->network_id), "%s", n.id);
    snprintf(r->network_name, sizeof(r->network_name), "%s", n.name);
    snprintf(r->region, sizeof(r->region), "%s", n.region);

    memset(&ip, 0, sizeof(ip));
    if (sov_repo_public_ip_take(c, n.region, ip.pool_id, ip.address, &found, err) < 0)
        return -1;
    if (!found) {
        bool any;
        if (sov_repo_pool_any(c, n.region, &any, err) < 0)
            return -1;
        return sov_net_error_field(err, SOV_E_CONFLICT, "region", any
                                   ? "no public address is free in region '%s' for the "
                                     "router's gateway: ask the operator for a larger pool"
                                   : "region '%s' has no public IP pool: an internet gateway "
                                     "needs one (ask the operator)", n.region);
    }
    if (sov_op_enqueue(c, ca->ctx, r->tenant_id, "router.create", "router", r->id, "", ca->op,
                       err) < 0)
        return -1;
    snprintf(r->operation_id, sizeof(r->operation_id), "%s", ca->op->id);
    if (sov_repo_router_insert(c, r, err) < 0)
        return -1;
    if (sov_uuid_v4(ip.id, err) < 0)
        return -1;
    snprintf(ip.tenant_id, sizeof(ip.tenant_id), "%s", r->tenant_id);
    snprintf(ip.workspace, sizeof(ip.workspace), "%s", r->workspace);
    /* Its own address is named after the router's id: never a tenant's IP's name. */
    snprintf(ip.name, sizeof(ip.name), "gw-%s", r->id);
    snprintf(ip.region, sizeof(ip.region), "%s", n.region);
    snprintf(ip.state, sizeof(ip.state), "creating");
    snprintf(ip.operation_id, sizeof(ip.operation_id), "%s", ca->op->id);
    if (sov_repo_public_ip_insert(c, &ip, "router", r->id, err) < 0 ||
        sov_audit_append(c, ca->ctx, r->tenant_id, "router", r->id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_router_get(c, r->tenant_id, r->id, false, r, err);
}

int
sov_router_create(sov_ctx *ctx, const char *tenant_id, const sov_router_create_args *a,
                  sov_router *ret, sov_op *op, sov_error *err)
{
    create_args ca = { ctx, a, ret, op };

    memset(ret, 0, sizeof(*ret));
    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a router",
                             ret->tenant_id, ret->workspace, err) < 0)
        return -1;
    if (!a->network || !*a->network)
        return sov_error_invalid(err, "network", "network is required: the network's name or "
                                 "id");
    snprintf(ret->name, sizeof(ret->name), "%s", a->name);
    ret->snat = a->snat;
    if (sov_uuid_v4(ret->id, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, create_tx, &ca, err);
}

/* ---- reads ---- */

int
sov_router_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_router *ret,
               sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_router_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    if (!visible(ctx, tenant_id, ret))
        return not_found(id, err);
    return 0;
}

/* sov_ctx_resolve's lookup of a router by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    sov_router r;

    if (sov_repo_router_find(c, tenant_id, workspace, name, &r, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", r.id);
    return 0;
}

int
sov_router_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                   const char *id_or_name, char *ret, sov_error *err)
{
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

int
sov_router_list(sov_ctx *ctx, const char *tenant_id, const char *workspace, const char *after,
                unsigned limit, sov_router_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;

    if (sov_net_list_tenant(ctx, tenant_id, after, &tenant, err) < 0)
        return -1;
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_router_list(c, tenant, workspace, after, limit ? limit : 100, ret, err);
}

/* ---- delete ---- */

typedef struct del_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];
} del_args;

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    del_args *a = arg;
    sov_router r;
    char what[256];

    if (sov_repo_router_get(c, NULL, a->id, true, &r, err) < 0)
        return -1;
    if (!visible(a->ctx, a->tenant_id, &r))
        return not_found(a->id, err);
    if (strcmp(r.state, "deleting") == 0 && r.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", r.operation_id);
        return 0;
    }
    /* Attached public IPs of its network's ports need it for their NAT. */
    snprintf(what, sizeof(what), "router '%s'", r.name);
    if (sov_repo_router_blockers(c, &r, what, err) < 0)
        return -1;
    if (sov_op_enqueue(c, a->ctx, r.tenant_id, "router.delete", "router", r.id, "", a->op,
                       err) < 0 ||
        sov_repo_router_set_state(c, r.id, "deleting", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, r.tenant_id, "router", r.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_router_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                  sov_error *err)
{
    del_args a = { ctx, tenant_id, id, op, "" };

    return sov_net_delete(ctx, "router", id, delete_tx, &a, a.pending, op, err);
}
