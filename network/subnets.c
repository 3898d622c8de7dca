/* subnets.c: the rules of subnets. A subnet is a range of its network's addresses, in one
 * zone of the network's region or in all of them, with a gateway (the first host address
 * unless given) that no port ever takes. Subnets of one network never overlap: the check
 * runs under the network's row lock, so two creates at once cannot both pass it.
 *
 * States: creating -> available; available or error -> deleting -> deleted. A subnet with
 * live ports cannot be deleted. Its operations sync the network's scope (part "ovn"). */
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
    return sov_error_set(err, SOV_E_NOT_FOUND, "subnet '%s' does not exist", id);
}

static bool
visible(const sov_ctx *ctx, const char *tenant_id, const sov_subnet *s)
{
    return s->tenant_id[0] && sov_ctx_sees_tenant(ctx, s->tenant_id) &&
           (!tenant_id || strcmp(tenant_id, s->tenant_id) == 0);
}

/* The request's own shape: cidr (a /16 to /29 network address), gateway, dns_servers. */
static int
check_args(const sov_subnet_create_args *a, sov_ipv4_net *net, sov_error *err)
{
    char meant[SOV_CIDR_MAX];
    uint32_t ip;

    if (!a->network || !*a->network)
        return sov_error_invalid(err, "network", "network is required (a network's name or "
                                 "id)");
    if (!a->cidr || !*a->cidr)
        return sov_error_invalid(err, "cidr", "cidr is required (an IPv4 network such as "
                                 "10.0.1.0/24)");
    if (sov_cidr_parse(a->cidr, false, net) < 0)
        return sov_error_invalid(err, "cidr", "cidr '%.40s' is not an IPv4 network such as "
                                 "10.0.1.0/24", a->cidr);
    if (net->prefix < 16 || net->prefix > 29)
        return sov_error_invalid(err, "cidr", "a subnet's cidr is a /16 to a /29, not a /%u",
                                 net->prefix);
    sov_cidr_format(net, meant);
    if (sov_cidr_parse(a->cidr, true, net) < 0)
        return sov_error_invalid(err, "cidr", "cidr '%.40s' has host bits set: the network "
                                 "address is %s", a->cidr, meant);
    if (a->gateway && (sov_ipv4_parse(a->gateway, &ip) < 0 || !sov_cidr_is_host(net, ip)))
        return sov_error_invalid(err, "gateway", "gateway '%.40s' is not a host address of "
                                 "%s", a->gateway, meant);
    if (a->ndns_servers > SOV_NET_DNS_MAX)
        return sov_error_invalid(err, "dns_servers", "at most %d dns_servers", SOV_NET_DNS_MAX);
    for (size_t i = 0; i < a->ndns_servers; i++)
        if (!a->dns_servers[i] || sov_ipv4_parse(a->dns_servers[i], &ip) < 0)
            return sov_error_invalid(err, "dns_servers", "dns_servers[%zu] '%.40s' is not an "
                                     "IPv4 address", i,
                                     a->dns_servers[i] ? a->dns_servers[i] : "");
    if (a->zone && sov_check_slug("zone", a->zone, err) < 0)
        return -1;
    return 0;
}

int
sov_net_subnet_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                         const sov_subnet_create_args *a, sov_subnet *ret, sov_op *op,
                         sov_error *err)
{
    sov_subnet s;
    sov_network n;
    sov_ipv4_net net, outer;
    char other[SOV_NAME_MAX + 1], other_cidr[SOV_CIDR_MAX];
    bool overlap = false;

    memset(&s, 0, sizeof(s));
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a subnet", s.tenant_id,
                             s.workspace, err) < 0 ||
        check_args(a, &net, err) < 0)
        return -1;
    snprintf(s.name, sizeof(s.name), "%s", a->name);
    sov_cidr_format(&net, s.cidr);
    if (sov_repo_network_find(c, s.tenant_id, s.workspace, a->network, "network", &n, err) < 0)
        return -1;
    /* The network's row lock: the overlap check below and every other subnet create of
     * this network take turns. */
    if (sov_repo_network_get(c, s.tenant_id, n.id, true, &n, err) < 0)
        return -1;
    /* No workspace named: the network's. */
    if (!a->workspace)
        snprintf(s.workspace, sizeof(s.workspace), "%s", n.workspace);
    if (strcmp(s.workspace, n.workspace) != 0)
        return sov_error_invalid(err, "network", "network '%s' is in workspace '%s', not '%s'",
                                 n.name, n.workspace, s.workspace);
    if (strcmp(n.state, "deleting") == 0 || strcmp(n.state, "deleted") == 0 ||
        strcmp(n.state, "error") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot add a subnet to network '%s': it is "
                             "%s", n.name, n.state);
    snprintf(s.network_id, sizeof(s.network_id), "%s", n.id);
    snprintf(s.network_name, sizeof(s.network_name), "%s", n.name);
    if (sov_cidr_parse(n.cidr, true, &outer) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "network '%s' has a bad cidr", n.name);
    if (!sov_cidr_within(&outer, &net))
        return sov_error_invalid(err, "cidr", "cidr %s is not inside network '%s' (%s)",
                                 s.cidr, n.name, n.cidr);
    if (sov_repo_subnet_overlap(c, n.id, s.cidr, other, sizeof(other), other_cidr,
                                sizeof(other_cidr), &overlap, err) < 0)
        return -1;
    if (overlap)
        return sov_error_invalid(err, "cidr", "cidr %s overlaps subnet '%s' (%s) of network "
                                 "'%s'", s.cidr, other, other_cidr, n.name);
    if (a->zone) {
        if (sov_net_check_zone(c, n.region, a->zone, err) < 0)
            return -1;
        snprintf(s.zone, sizeof(s.zone), "%s", a->zone);
    }
    if (a->gateway)
        snprintf(s.gateway, sizeof(s.gateway), "%s", a->gateway);
    else
        sov_ipv4_format(net.addr + 1, s.gateway);
    for (size_t i = 0; i < a->ndns_servers; i++)
        snprintf(s.dns_servers[i], sizeof(s.dns_servers[i]), "%s", a->dns_servers[i]);
    s.ndns_servers = a->ndns_servers;
    if (sov_workspace_check(c, s.tenant_id, s.workspace, err) < 0 ||
        sov_quota_charge(c, s.tenant_id, SOV_QUOTA_SUBNETS, 1, err) < 0 ||
        sov_uuid_v4(s.id, err) < 0)
        return -1;
    if (sov_net_create_op(c, ctx, s.tenant_id, "subnet", s.id, op, s.operation_id, err) < 0)
        return -1;
    if (sov_repo_subnet_insert(c, &s, err) < 0)
        return -1;
    /* SECA's routeTableRef and skuRef, recorded with the subnet (the SKU must exist). */
    if (a->route_table || a->sku) {
        sov_network_sku k;
        if (a->sku && sov_repo_sku_get(c, a->sku, "sku", &k, err) < 0)
            return -1;
        if (sov_repo_subnet_set_seca(c, s.id, a->route_table, a->sku ? k.name : NULL,
                                     err) < 0)
            return -1;
    }
    if (sov_audit_append(c, ctx, s.tenant_id, "subnet", s.id,
                         op ? SOV_OUTCOME_ACCEPTED : SOV_OUTCOME_CREATED, err) < 0)
        return -1;
    return sov_repo_subnet_get(c, NULL, s.id, false, ret, err);
}

typedef struct create_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const sov_subnet_create_args *a;
    sov_subnet *ret;
    sov_op *op;
} create_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *ca = arg;

    return sov_net_subnet_create_tx(c, ca->ctx, ca->tenant_id, ca->a, ca->ret, ca->op, err);
}

int
sov_subnet_create(sov_ctx *ctx, const char *tenant_id, const sov_subnet_create_args *a,
                  sov_subnet *ret, sov_op *op, sov_error *err)
{
    create_args ca = { ctx, tenant_id, a, ret, op };
    char t[SOV_UUID_LEN + 1], ws[SOV_NAME_MAX + 1];
    sov_ipv4_net net;

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a subnet", t, ws,
                             err) < 0 ||
        check_args(a, &net, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    return sov_ctx_tx(ctx, create_tx, &ca, err);
}

/* ---- reads ---- */

int
sov_subnet_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_subnet *ret,
               sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_subnet_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    if (!visible(ctx, tenant_id, ret))
        return not_found(id, err);
    return 0;
}

/* sov_ctx_resolve's lookup of a subnet by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    sov_subnet s;

    if (sov_repo_subnet_find(c, tenant_id, workspace, name, NULL, &s, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", s.id);
    return 0;
}

int
sov_subnet_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                   const char *id_or_name, char *ret, sov_error *err)
{
    if (!sov_uuid_valid(id_or_name) && sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

int
sov_subnet_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                const char *network_id, const char *state, const char *after, unsigned limit,
                sov_subnet_page *ret, sov_error *err)
{
    static const char *const states[] = { "creating", "available", "updating", "deleting",
                                          "deleted", "error", NULL };
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;
    char net_id[SOV_UUID_LEN + 1];

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (sov_net_list_tenant(ctx, tenant_id, after, &tenant, err) < 0)
        return -1;
    if (sov_net_check_state(state, states, "creating, available, updating, deleting, deleted "
                            "or error", err) < 0)
        return -1;
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (network_id) {
        sov_network n;
        const char *look = tenant;
        /* A name: in the tenant listed (an operator listing every tenant's: its own). */
        if (!look && !sov_uuid_valid(network_id) && sov_ctx_tenant(ctx, NULL, &look, err) < 0)
            return -1;
        if ((look ? sov_repo_network_find(c, look, workspace, network_id, "network", &n, err)
                  : sov_repo_network_get(c, NULL, network_id, false, &n, err)) < 0 ||
            !sov_ctx_sees_tenant(ctx, n.tenant_id)) {
            if (err->code != SOV_E_NOT_FOUND && err->code != SOV_OK)
                return -1;
            return sov_error_invalid(err, "network", "network '%s' does not exist",
                                     network_id);
        }
        snprintf(net_id, sizeof(net_id), "%s", n.id);
        network_id = net_id;
    }
    return sov_repo_subnet_list(c, tenant, workspace, network_id, state, after,
                                limit ? limit : 100, ret, err);
}

/* ---- delete ---- */

typedef struct delete_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];
} delete_args;

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    delete_args *a = arg;
    sov_subnet s;
    char what[128];

    if (sov_repo_subnet_get(c, NULL, a->id, true, &s, err) < 0)
        return -1;
    if (!visible(a->ctx, a->tenant_id, &s) || strcmp(s.state, "deleted") == 0)
        return not_found(a->id, err);
    if (strcmp(s.state, "deleting") == 0 && s.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", s.operation_id);
        return 0;
    }
    snprintf(what, sizeof(what), "subnet '%s'", s.name);
    if (sov_repo_subnet_blockers(c, s.id, what, err) < 0)
        return -1;
    if (strcmp(s.state, "available") != 0 && strcmp(s.state, "error") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot delete subnet '%s': it is %s; try "
                             "again when it is done", s.name, s.state);
    if (sov_op_enqueue(c, a->ctx, s.tenant_id, "subnet.delete", "subnet", s.id, "", a->op,
                       err) < 0 ||
        sov_repo_subnet_set_state(c, s.id, NULL, "deleting", "", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, s.tenant_id, "subnet", s.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_subnet_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                  sov_error *err)
{
    delete_args a = { ctx, tenant_id, id, op, "" };

    return sov_net_delete(ctx, "subnet", id, delete_tx, &a, a.pending, op, err);
}
