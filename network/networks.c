/* networks.c: the rules of networks. A network is a tenant's IPv4 address space in one
 * region (its residency record says which); its subnets and ports live inside it. As for
 * volumes, the API never waits on OVN: a create or a delete commits the intent (the row in
 * creating or deleting), the quota, the residency record, the audit entry and an operation
 * in one transaction, and the operation's worker (part "ovn") brings OVN to it.
 *
 * States: creating -> available; available or error -> deleting -> deleted. A network with
 * live subnets, ports or a router cannot be deleted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/crypto.h"
#include "sov/quota.h"
#include "network_int.h"

static int
not_found(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "network '%s' does not exist", id);
}

static bool
visible(const sov_ctx *ctx, const char *tenant_id, const sov_network *n)
{
    return n->tenant_id[0] && sov_ctx_sees_tenant(ctx, n->tenant_id) &&
           (!tenant_id || strcmp(tenant_id, n->tenant_id) == 0);
}

/* A network's CIDR: IPv4, /16 to /28, written as its network address. */
static int
check_cidr(const char *cidr, char *ret, sov_error *err)
{
    sov_ipv4_net net;
    char meant[SOV_CIDR_MAX];

    if (!cidr || !*cidr)
        return sov_error_invalid(err, "cidr", "cidr is required (an IPv4 network such as "
                                 "10.0.0.0/16)");
    if (sov_cidr_parse(cidr, false, &net) < 0)
        return sov_error_invalid(err, "cidr", "cidr '%.40s' is not an IPv4 network such as "
                                 "10.0.0.0/16", cidr);
    if (net.prefix < 16 || net.prefix > 28)
        return sov_error_invalid(err, "cidr", "a network's cidr is a /16 to a /28, not a /%u",
                                 net.prefix);
    sov_cidr_format(&net, meant);
    if (sov_cidr_parse(cidr, true, &net) < 0)
        return sov_error_invalid(err, "cidr", "cidr '%.40s' has host bits set: the network "
                                 "address is %s", cidr, meant);
    snprintf(ret, SOV_CIDR_MAX, "%s", meant);
    return 0;
}

int
sov_net_network_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                          const sov_network_create_args *a, bool is_default, sov_network *ret,
                          sov_op *op, sov_error *err)
{
    sov_network n;
    sov_location to;
    sov_autoptr(sov_policy) policy = sov_policy_new();
    char reason[160];

    if (!policy)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    memset(&n, 0, sizeof(n));
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a network", n.tenant_id,
                             n.workspace, err) < 0 ||
        check_cidr(a->cidr, n.cidr, err) < 0)
        return -1;
    if (a->region && sov_check_slug("region", a->region, err) < 0)
        return -1;
    snprintf(n.name, sizeof(n.name), "%s", a->name);
    n.is_default = is_default;
    if (sov_workspace_check(c, n.tenant_id, n.workspace, err) < 0 ||
        sov_net_region(c, n.tenant_id, a->region, "region", n.region, sizeof(n.region),
                       err) < 0 ||
        sov_quota_charge(c, n.tenant_id, SOV_QUOTA_NETWORKS, 1, err) < 0 ||
        sov_uuid_v4(n.id, err) < 0)
        return -1;
    if (sov_net_create_op(c, ctx, n.tenant_id, "network", n.id, op, n.operation_id, err) < 0)
        return -1;
    if (sov_repo_network_insert(c, &n, err) < 0 ||
        sov_net_region_place(c, n.tenant_id, n.region, &to, policy, err) < 0)
        return -1;
    /* SECA's skuRef: the class must exist; recorded with the network. */
    if (a->sku) {
        sov_network_sku k;
        if (sov_repo_sku_get(c, a->sku, "sku", &k, err) < 0 ||
            sov_repo_network_set_sku(c, n.id, k.name, err) < 0)
            return -1;
    }
    snprintf(reason, sizeof(reason), "network %s in region %s", n.cidr, n.region);
    if (sov_residency_record(c, n.tenant_id, "network", n.id, "placed", NULL, &to, policy,
                             reason, op ? op->id : NULL, err) < 0 ||
        sov_audit_append(c, ctx, n.tenant_id, "network", n.id,
                         op ? SOV_OUTCOME_ACCEPTED : SOV_OUTCOME_CREATED, err) < 0)
        return -1;
    return sov_repo_network_get(c, NULL, n.id, false, ret, err);
}

typedef struct create_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const sov_network_create_args *a;
    sov_network *ret;
    sov_op *op;
} create_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *ca = arg;

    return sov_net_network_create_tx(c, ca->ctx, ca->tenant_id, ca->a, false, ca->ret, ca->op,
                                     err);
}

int
sov_network_create(sov_ctx *ctx, const char *tenant_id, const sov_network_create_args *a,
                   sov_network *ret, sov_op *op, sov_error *err)
{
    create_args ca = { ctx, tenant_id, a, ret, op };
    char t[SOV_UUID_LEN + 1], ws[SOV_NAME_MAX + 1];
    char cidr[SOV_CIDR_MAX];

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    /* The request's own mistakes first, before any database work. */
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a network", t, ws,
                             err) < 0 ||
        check_cidr(a->cidr, cidr, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    return sov_ctx_tx(ctx, create_tx, &ca, err);
}

/* ---- reads ---- */

int
sov_network_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_network *ret,
                sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_network_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    if (!visible(ctx, tenant_id, ret))
        return not_found(id, err);
    return 0;
}

/* sov_ctx_resolve's lookup of a network by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    sov_network n;

    if (sov_repo_network_find(c, tenant_id, workspace, name, NULL, &n, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", n.id);
    return 0;
}

int
sov_network_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                    const char *id_or_name, char *ret, sov_error *err)
{
    if (!sov_uuid_valid(id_or_name) && sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

/* A state filter of a list: one of states, or SOV_E_INVALID naming "state". */
int
sov_net_check_state(const char *state, const char *const *states, const char *text,
                    sov_error *err)
{
    for (size_t i = 0; state && states[i]; i++)
        if (strcmp(state, states[i]) == 0)
            return 0;
    if (!state)
        return 0;
    return sov_error_invalid(err, "state", "state must be %s", text);
}

int
sov_network_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                 const char *region, const char *state, const char *after, unsigned limit,
                 sov_network_page *ret, sov_error *err)
{
    static const char *const states[] = { "creating", "available", "updating", "deleting",
                                          "deleted", "error", NULL };
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (sov_net_list_tenant(ctx, tenant_id, after, &tenant, err) < 0)
        return -1;
    if (sov_net_check_state(state, states, "creating, available, updating, deleting, deleted "
                            "or error", err) < 0)
        return -1;
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (region && sov_check_slug("region", region, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_network_list(c, tenant, workspace, region, state, after,
                                 limit ? limit : 100, ret, err);
}

/* ---- delete ---- */

typedef struct delete_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];     /* a delete already under way: its operation */
} delete_args;

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    delete_args *a = arg;
    sov_network n;
    char what[128];

    if (sov_repo_network_get(c, NULL, a->id, true, &n, err) < 0)
        return -1;
    if (!visible(a->ctx, a->tenant_id, &n) || strcmp(n.state, "deleted") == 0)
        return not_found(a->id, err);
    /* Deleting twice: what is going answers the same 202. */
    if (strcmp(n.state, "deleting") == 0 && n.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", n.operation_id);
        return 0;
    }
    snprintf(what, sizeof(what), "network '%s'", n.name);
    if (sov_repo_network_blockers(c, n.id, what, err) < 0)
        return -1;
    if (strcmp(n.state, "available") != 0 && strcmp(n.state, "error") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot delete network '%s': it is %s; try "
                             "again when it is done", n.name, n.state);
    if (sov_op_enqueue(c, a->ctx, n.tenant_id, "network.delete", "network", n.id, "", a->op,
                       err) < 0 ||
        sov_repo_network_set_state(c, n.id, NULL, "deleting", "", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, n.tenant_id, "network", n.id, SOV_OUTCOME_ACCEPTED,
                            err);
}

int
sov_network_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                   sov_error *err)
{
    delete_args a = { ctx, tenant_id, id, op, "" };

    return sov_net_delete(ctx, "network", id, delete_tx, &a, a.pending, op, err);
}
