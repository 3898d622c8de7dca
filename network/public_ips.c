/* public_ips.c: public IP pools (an operator's addresses per region: the region's external
 * network) and tenants' public IPs (part "sec").
 *
 * An address is taken in the public IP's own transaction: the region's pools locked (oldest
 * first), the lowest address no live row holds, and the unique index public_ips_address_key
 * as the backstop, so two tenants never get one address. A public IP is regional: its region
 * is checked against the tenant's residency policy (SOV_E_RESIDENCY naming "region") and
 * written as a residency record ("public_ip"). Attaching one to a port (OVN dnat_and_snat on
 * the port's network's router) needs that router: the router's scope carries the NAT.
 *
 * States: creating -> available (or, made with a port, the worker's in-use) <-> attaching ->
 * in-use -> detaching -> available; available, in-use or error -> deleting -> deleted (the
 * worker gives back the quota and frees the address). */
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
    return sov_error_set(err, SOV_E_NOT_FOUND, "public IP '%s' does not exist", id);
}

/* ---- pools ---- */

/* An address given for field, inside net and a host address of it. */
static int
pool_address(const char *s, const char *field, const sov_ipv4_net *net, uint32_t *ret,
             sov_error *err)
{
    char cidr[SOV_CIDR_MAX];

    if (sov_ipv4_parse(s, ret) < 0)
        return sov_error_invalid(err, field, "%s '%s' must be an IPv4 address", field, s);
    if (!sov_cidr_is_host(net, *ret)) {
        sov_cidr_format(net, cidr);
        return sov_error_invalid(err, field, "%s '%s' must be a host address of %s (neither "
                                 "its network nor its broadcast address)", field, s, cidr);
    }
    return 0;
}

/* Check a's members and fill p (no database). */
static int
pool_parse(const char *region, const sov_public_ip_pool_args *a, sov_public_ip_pool *p,
           sov_error *err)
{
    sov_ipv4_net net;
    uint32_t gw, first, last, bcast;

    memset(p, 0, sizeof(*p));
    if (!region || sov_check_slug("region", region, err) < 0)
        return -1;
    if (!a->name || sov_check_slug("name", a->name, err) < 0)
        return -1;
    if (sov_uuid_valid(a->name))
        return sov_error_invalid(err, "name", "a pool's name cannot be a UUID");
    if (!a->cidr)
        return sov_error_invalid(err, "cidr", "cidr is required, such as '203.0.113.0/24'");
    if (sov_cidr_parse(a->cidr, true, &net) < 0)
        return sov_error_invalid(err, "cidr", "cidr '%s' must be an IPv4 network such as "
                                 "'203.0.113.0/24' (host bits zero)", a->cidr);
    if (net.prefix < 8 || net.prefix > 30)
        return sov_error_invalid(err, "cidr", "cidr '%s' must be from /8 to /30", a->cidr);
    bcast = sov_cidr_broadcast(&net);
    gw = net.addr + 1;
    if (a->gateway && pool_address(a->gateway, "gateway", &net, &gw, err) < 0)
        return -1;
    first = gw == net.addr + 1 ? net.addr + 2 : net.addr + 1;
    last = gw == bcast - 1 ? bcast - 2 : bcast - 1;
    if (a->first_ip && pool_address(a->first_ip, "first_ip", &net, &first, err) < 0)
        return -1;
    if (a->last_ip && pool_address(a->last_ip, "last_ip", &net, &last, err) < 0)
        return -1;
    if (first > last)
        return sov_error_invalid(err, a->first_ip ? "first_ip" : "last_ip", "first_ip must "
                                 "not come after last_ip");
    if (gw >= first && gw <= last)
        return sov_error_invalid(err, "gateway", "the gateway lies between first_ip and "
                                 "last_ip: it is never handed out, give a range without it");
    if (a->physical_network && sov_check_slug("physical_network", a->physical_network,
                                              err) < 0)
        return -1;
    snprintf(p->region, sizeof(p->region), "%s", region);
    snprintf(p->name, sizeof(p->name), "%s", a->name);
    sov_cidr_format(&net, p->cidr);
    sov_ipv4_format(gw, p->gateway);
    sov_ipv4_format(first, p->first_ip);
    sov_ipv4_format(last, p->last_ip);
    snprintf(p->physical_network, sizeof(p->physical_network), "%s",
             a->physical_network ? a->physical_network : "public");
    return 0;
}

typedef struct pool_args {
    sov_ctx *ctx;
    sov_public_ip_pool *p;
    const char *region, *id_or_name;
} pool_args;

static int
pool_create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    pool_args *pa = arg;
    sov_public_ip_pool *p = pa->p;
    char other[SOV_NAME_MAX + 1];

    /* The region's row lock (taken by the insert) orders two creates in one region; the
     * overlap check runs after it. */
    if (sov_repo_pool_insert(c, p, err) < 0)
        return -1;
    if (sov_repo_pool_overlap(c, p, other, sizeof(other), err) < 0)
        return -1;
    if (other[0])
        return sov_net_error_field(err, SOV_E_CONFLICT, "cidr", "cidr %s overlaps public IP "
                                   "pool '%s' of region '%s'", p->cidr, other, p->region);
    if (sov_audit_append(c, pa->ctx, NULL, "public_ip_pool", p->id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_pool_get(c, p->region, p->id, false, p, err);
}

int
sov_public_ip_pool_create(sov_ctx *ctx, const char *region, const sov_public_ip_pool_args *a,
                          sov_public_ip_pool *ret, sov_error *err)
{
    pool_args pa = { ctx, ret, region, NULL };

    if (!sov_ctx_is_operator(ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN, "only an operator defines public IP pools");
    if (pool_parse(region, a, ret, err) < 0)
        return -1;
    if (sov_uuid_v4(ret->id, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, pool_create_tx, &pa, err);
}

int
sov_public_ip_pool_list(sov_ctx *ctx, const char *region, const char *after, unsigned limit,
                        sov_public_ip_pool_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_region g;

    if (!sov_ctx_is_operator(ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN, "only an operator sees public IP pools");
    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    /* A region that does not exist has no list of pools: 404, not an empty page. */
    if (sov_region_get(ctx, region, &g, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_pool_list(c, region, after, limit ? limit : 100, ret, err);
}

int
sov_public_ip_pool_get(sov_ctx *ctx, const char *region, const char *id_or_name,
                       sov_public_ip_pool *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_ctx_is_operator(ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN, "only an operator sees public IP pools");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_pool_get(c, region, id_or_name, false, ret, err);
}

static int
pool_delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    pool_args *pa = arg;
    sov_public_ip_pool p;

    if (sov_repo_pool_get(c, pa->region, pa->id_or_name, true, &p, err) < 0 ||
        sov_repo_pool_delete(c, &p, err) < 0)
        return -1;
    return sov_audit_append(c, pa->ctx, NULL, "public_ip_pool", p.id, SOV_OUTCOME_DELETED,
                            err);
}

int
sov_public_ip_pool_delete(sov_ctx *ctx, const char *region, const char *id_or_name,
                          sov_error *err)
{
    pool_args pa = { ctx, NULL, region, id_or_name };

    if (!sov_ctx_is_operator(ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN, "only an operator deletes public IP pools");
    return sov_ctx_tx(ctx, pool_delete_tx, &pa, err);
}

/* ---- public IPs ---- */

/* The region a public IP goes to: the one asked for, else the port's, else the first region
 * (by code) the tenant's policy allows that has a pool. Outside the policy: SOV_E_RESIDENCY
 * naming "region". Fills where (the residency record's "to") and policy. */
static int
ip_region(sov_dbconn *c, const char *tenant_id, const char *asked, const char *port_region,
          sov_location *where, sov_policy *policy, sov_error *err)
{
    sov_autofree sov_region *regions = NULL;
    size_t n = 0;
    const sov_region *pick = NULL;

    if (sov_policy_load(c, tenant_id, policy, err) < 0 ||
        sov_region_all(c, &regions, &n, err) < 0)
        return -1;
    if (asked && port_region && strcmp(asked, port_region) != 0)
        return sov_error_invalid(err, "region", "the port is in region '%s': a public IP for "
                                 "it is taken there, not in '%s'", port_region, asked);
    if (!asked)
        asked = port_region;
    for (size_t i = 0; asked && i < n; i++)
        if (strcmp(regions[i].code, asked) == 0)
            pick = &regions[i];
    if (asked && !pick)
        return sov_error_invalid(err, "region", "region '%s' does not exist", asked);
    if (pick && !sov_policy_allows(policy, pick->code, pick->country, pick->jurisdiction))
        return sov_net_error_field(err, SOV_E_RESIDENCY, "region", "region '%s' (%s) is "
                                   "outside the tenant's residency policy", pick->code,
                                   pick->country);
    for (size_t i = 0; !pick && i < n; i++) {
        bool any;
        if (!sov_policy_allows(policy, regions[i].code, regions[i].country,
                               regions[i].jurisdiction))
            continue;
        if (sov_repo_pool_any(c, regions[i].code, &any, err) < 0)
            return -1;
        if (any)
            pick = &regions[i];
    }
    if (!pick)
        return sov_net_error_field(err, SOV_E_CONFLICT, "region", "no region the tenant's "
                                   "residency policy allows has a public IP pool");
    memset(where, 0, sizeof(*where));
    snprintf(where->region, sizeof(where->region), "%s", pick->code);
    snprintf(where->country, sizeof(where->country), "%s", pick->country);
    snprintf(where->jurisdiction, sizeof(where->jurisdiction), "%s", pick->jurisdiction);
    snprintf(where->datacenter, sizeof(where->datacenter), "%s", pick->datacenter);
    return 0;
}

/* A port a public IP may go to: its network has a router, it has no public IP yet, and (when
 * region is given) it is in that region. */
static int
port_for_ip(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *port,
            const char *region, sov_sec_port *ret, sov_error *err)
{
    if (sov_repo_sec_port(c, tenant_id, workspace, port, "port", ret, err) < 0)
        return -1;
    if (region && strcmp(region, ret->network.region) != 0)
        return sov_net_error_field(err, SOV_E_CONFLICT, "port", "port '%s' is in region '%s' "
                                   "and the public IP in '%s': a public IP attaches to a port "
                                   "of its own region", ret->name, ret->network.region,
                                   region);
    if (!ret->network.router_id[0])
        return sov_net_error_field(err, SOV_E_CONFLICT, "port", "network '%s' of port '%s' has "
                                   "no internet gateway: create a router for it first "
                                   "(POST /v1/routers)", ret->network.name, ret->name);
    if (ret->public_ip_id[0])
        return sov_net_error_field(err, SOV_E_CONFLICT, "port", "port '%s' already has public "
                                   "IP '%s'", ret->name, ret->public_ip_name);
    return 0;
}

typedef struct ip_args {
    sov_ctx *ctx;
    const sov_public_ip_create_args *a;
    sov_public_ip *ip;
    sov_op *op;
} ip_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    ip_args *ia = arg;
    sov_public_ip *ip = ia->ip;
    sov_sec_port port;
    sov_location to;
    sov_policy policy;
    char reason[256];
    bool found;

    if (sov_workspace_check(c, ip->tenant_id, ip->workspace, err) < 0)
        return -1;
    memset(&port, 0, sizeof(port));
    if (ia->a->port && port_for_ip(c, ip->tenant_id, ip->workspace, ia->a->port, NULL, &port,
                                   err) < 0)
        return -1;
    if (ip_region(c, ip->tenant_id, ia->a->region, ia->a->port ? port.network.region : NULL,
                  &to, &policy, err) < 0)
        return -1;
    snprintf(ip->region, sizeof(ip->region), "%s", to.region);
    if (sov_quota_charge(c, ip->tenant_id, SOV_QUOTA_PUBLIC_IPS, 1, err) < 0)
        return -1;
    if (ia->a->address) {
        bool taken;
        if (sov_repo_public_ip_take_address(c, ip->region, ia->a->address, ip->pool_id,
                                            &taken, err) < 0)
            return -1;
        if (!ip->pool_id[0])
            return sov_net_error_field(err, SOV_E_CONFLICT, "address", "address %s is in no "
                                       "public IP pool of region '%s'", ia->a->address,
                                       ip->region);
        if (taken)
            return sov_net_error_field(err, SOV_E_CONFLICT, "address", "address %s is held "
                                       "by another public IP", ia->a->address);
        snprintf(ip->address, sizeof(ip->address), "%s", ia->a->address);
        found = true;
    } else if (sov_repo_public_ip_take(c, ip->region, ip->pool_id, ip->address, &found,
                                       err) < 0)
        return -1;
    if (!found) {
        bool any;
        if (sov_repo_pool_any(c, ip->region, &any, err) < 0)
            return -1;
        return sov_net_error_field(err, SOV_E_CONFLICT, "region", any
                                   ? "no public address is free in region '%s'"
                                   : "region '%s' has no public IP pool", ip->region);
    }
    snprintf(ip->port_id, sizeof(ip->port_id), "%s", port.id);
    snprintf(ip->state, sizeof(ip->state), "creating");
    if (sov_op_enqueue(c, ia->ctx, ip->tenant_id, "public_ip.create", "public_ip", ip->id, "",
                       ia->op, err) < 0)
        return -1;
    snprintf(ip->operation_id, sizeof(ip->operation_id), "%s", ia->op->id);
    if (sov_repo_public_ip_insert(c, ip, "ip", NULL, err) < 0)
        return -1;
    snprintf(reason, sizeof(reason), "public address %s of region '%s'", ip->address,
             ip->region);
    if (sov_residency_record(c, ip->tenant_id, "public_ip", ip->id, "placed", NULL, &to,
                             &policy, reason, ia->op->id, err) < 0 ||
        sov_audit_append(c, ia->ctx, ip->tenant_id, "public_ip", ip->id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_public_ip_get(c, ip->tenant_id, ip->id, false, ip, err);
}

int
sov_public_ip_create(sov_ctx *ctx, const char *tenant_id, const sov_public_ip_create_args *a,
                     sov_public_ip *ret, sov_op *op, sov_error *err)
{
    ip_args ia = { ctx, a, ret, op };

    memset(ret, 0, sizeof(*ret));
    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a public IP",
                             ret->tenant_id, ret->workspace, err) < 0)
        return -1;
    if (a->region && sov_check_slug("region", a->region, err) < 0)
        return -1;
    if (a->port && !*a->port)
        return sov_error_invalid(err, "port", "port is a port's name or id");
    if (a->address) {
        uint32_t v;
        if (sov_ipv4_parse(a->address, &v) < 0)
            return sov_error_invalid(err, "address", "address '%.64s' must be an IPv4 address",
                                     a->address);
    }
    snprintf(ret->name, sizeof(ret->name), "%s", a->name);
    if (sov_uuid_v4(ret->id, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, create_tx, &ia, err);
}

static bool
visible(const sov_ctx *ctx, const char *tenant_id, const sov_public_ip *ip)
{
    return ip->tenant_id[0] && sov_ctx_sees_tenant(ctx, ip->tenant_id) &&
           (!tenant_id || strcmp(tenant_id, ip->tenant_id) == 0) &&
           strcmp(ip->state, "deleted") != 0;
}

int
sov_public_ip_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_public_ip *ret,
                  sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_public_ip_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    if (!visible(ctx, tenant_id, ret))
        return not_found(id, err);
    return 0;
}

/* sov_ctx_resolve's lookup of a public IP by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    sov_public_ip ip;

    if (sov_repo_public_ip_find(c, tenant_id, workspace, name, &ip, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", ip.id);
    return 0;
}

int
sov_public_ip_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                      const char *id_or_name, char *ret, sov_error *err)
{
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

int
sov_public_ip_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                   const char *after, unsigned limit, sov_public_ip_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;

    if (sov_net_list_tenant(ctx, tenant_id, after, &tenant, err) < 0)
        return -1;
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_public_ip_list(c, tenant, workspace, after, limit ? limit : 100, ret, err);
}

/* ---- actions, delete ---- */

typedef struct act_args {
    sov_ctx *ctx;
    const char *tenant_id, *id, *action, *port;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];
} act_args;

static int
lock_visible(sov_dbconn *c, act_args *a, sov_public_ip *ip, sov_error *err)
{
    if (sov_repo_public_ip_get(c, NULL, a->id, true, ip, err) < 0)
        return -1;
    if (!visible(a->ctx, a->tenant_id, ip))
        return not_found(a->id, err);
    return 0;
}

static int
action_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_public_ip ip;
    sov_sec_port port;

    if (lock_visible(c, a, &ip, err) < 0)
        return -1;
    if (strcmp(a->action, "attach") == 0) {
        if (ip.port_id[0])
            return sov_error_set(err, SOV_E_CONFLICT, "public IP '%s' is attached already "
                                 "(it is %s): detach it first", ip.name, ip.state);
        if (strcmp(ip.state, "available") != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "cannot attach public IP '%s': it is "
                                 "%s; try again when it is available", ip.name, ip.state);
        if (port_for_ip(c, ip.tenant_id, ip.workspace, a->port, ip.region, &port, err) < 0)
            return -1;
        if (sov_op_enqueue(c, a->ctx, ip.tenant_id, "public_ip.attach", "public_ip", ip.id,
                           "", a->op, err) < 0 ||
            sov_repo_public_ip_set(c, ip.id, "attaching", port.id, a->op->id, err) < 0)
            return -1;
    } else {
        if (!ip.port_id[0])
            return sov_error_set(err, SOV_E_CONFLICT, "public IP '%s' is not attached",
                                 ip.name);
        if (a->port) {
            if (sov_repo_sec_port(c, ip.tenant_id, ip.workspace, a->port, "port", &port,
                                  err) < 0)
                return -1;
            if (strcmp(port.id, ip.port_id) != 0)
                return sov_net_error_field(err, SOV_E_CONFLICT, "port", "public IP '%s' is "
                                           "not attached to port '%s'", ip.name, port.name);
        }
        if (strcmp(ip.state, "in-use") != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "cannot detach public IP '%s': it is %s",
                                 ip.name, ip.state);
        if (sov_op_enqueue(c, a->ctx, ip.tenant_id, "public_ip.detach", "public_ip", ip.id,
                           "", a->op, err) < 0 ||
            sov_repo_public_ip_set(c, ip.id, "detaching", NULL, a->op->id, err) < 0)
            return -1;
    }
    return sov_audit_append(c, a->ctx, ip.tenant_id, "public_ip", ip.id, SOV_OUTCOME_ACCEPTED,
                            err);
}

int
sov_public_ip_action(sov_ctx *ctx, const char *tenant_id, const char *id, const char *action,
                     const char *port, sov_public_ip *ret, sov_op *op, sov_error *err)
{
    act_args a = { ctx, tenant_id, id, action, port, op, "" };

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!action || (strcmp(action, "attach") != 0 && strcmp(action, "detach") != 0))
        return sov_error_invalid(err, "action", "action must be attach or detach");
    if (strcmp(action, "attach") == 0 && (!port || !*port))
        return sov_error_invalid(err, "port", "attach needs the port's name or id");
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_ctx_tx(ctx, action_tx, &a, err) < 0)
        return -1;
    return sov_public_ip_get(ctx, tenant_id, id, ret, err);
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_public_ip ip;

    if (lock_visible(c, a, &ip, err) < 0)
        return -1;
    if (strcmp(ip.state, "deleting") == 0 && ip.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", ip.operation_id);
        return 0;
    }
    if (strcmp(ip.state, "available") != 0 && strcmp(ip.state, "in-use") != 0 &&
        strcmp(ip.state, "error") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot delete public IP '%s': it is %s; "
                             "try again when it is done", ip.name, ip.state);
    /* Attached: the worker removes its NAT first (the port stays recorded until then). */
    if (sov_op_enqueue(c, a->ctx, ip.tenant_id, "public_ip.delete", "public_ip", ip.id, "",
                       a->op, err) < 0 ||
        sov_repo_public_ip_set(c, ip.id, "deleting", NULL, a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, ip.tenant_id, "public_ip", ip.id, SOV_OUTCOME_ACCEPTED,
                            err);
}

int
sov_public_ip_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                     sov_error *err)
{
    act_args a = { ctx, tenant_id, id, NULL, NULL, op, "" };

    return sov_net_delete(ctx, "public IP", id, delete_tx, &a, a.pending, op, err);
}
