/* ports.c: the rules of ports (NICs). A port is an address of a subnet (IPAM: the one
 * asked for, or the lowest free host address, under the subnet's row lock; never the network
 * address, the gateway nor the broadcast address), a MAC address unique in its network, and
 * the security groups that say what may reach it. It is plugged into at most one instance.
 *
 * States: creating -> available (free) or in-use (plugged); available -> attaching -> in-use
 * -> detaching -> available; available or in-use -> updating (its groups) -> as before;
 * available or error -> deleting -> deleted (its address free again). The workers are part
 * "ovn"'s (sync) and part "plug"'s (attach, detach). */
#include <ctype.h>
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
    return sov_error_set(err, SOV_E_NOT_FOUND, "port '%s' does not exist", id);
}

static bool
visible(const sov_ctx *ctx, const char *tenant_id, const sov_port *p)
{
    return p->tenant_id[0] && sov_ctx_sees_tenant(ctx, p->tenant_id) &&
           (!tenant_id || strcmp(tenant_id, p->tenant_id) == 0);
}

/* "fa:16:3e:01:02:03" (either case; '-' not taken): a unicast MAC, normalised to lower case. */
static int
parse_mac(const char *s, char out[18])
{
    unsigned char b[6];

    if (!s || strlen(s) != 17)
        return -1;
    for (int i = 0; i < 6; i++) {
        const char *p = s + i * 3;
        if (!isxdigit((unsigned char) p[0]) || !isxdigit((unsigned char) p[1]) ||
            (i < 5 && p[2] != ':'))
            return -1;
        b[i] = (unsigned char) strtoul((char[]) { p[0], p[1], '\0' }, NULL, 16);
    }
    if (b[0] & 1)
        return -1;      /* multicast or broadcast */
    if ((b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0)
        return -1;
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return 0;
}

/* A random locally administered unicast MAC. */
static int
random_mac(char out[18], sov_error *err)
{
    unsigned char b[6];

    if (sov_random_bytes(b, sizeof(b), err) < 0)
        return -1;
    b[0] = (unsigned char) ((b[0] & 0xfc) | 0x02);
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return 0;
}

/* The request's own shape (no database). */
static int
check_args(const sov_port_create_args *a, sov_error *err)
{
    uint32_t ip;
    char mac[18];

    if (!a->subnet || !*a->subnet)
        return sov_error_invalid(err, "subnet", "subnet is required (a subnet's name or id)");
    if (a->ip && sov_ipv4_parse(a->ip, &ip) < 0)
        return sov_error_invalid(err, "ip", "ip '%.40s' is not an IPv4 address", a->ip);
    if (a->mac && parse_mac(a->mac, mac) < 0)
        return sov_error_invalid(err, "mac", "mac '%.40s' is not a unicast MAC address such as "
                                 "fa:16:3e:12:34:56", a->mac);
    if (a->nsecurity_groups > SOV_NET_SG_MAX)
        return sov_error_invalid(err, "security_groups", "a port is in at most %d security "
                                 "groups", SOV_NET_SG_MAX);
    for (size_t i = 0; i < a->nsecurity_groups; i++)
        if (!a->security_groups[i] || !*a->security_groups[i])
            return sov_error_invalid(err, "security_groups", "security_groups[%zu] is empty",
                                     i);
    return 0;
}

/* The groups (ids or names) as ids, each once, into ids; SOV_E_NOT_FOUND naming
 * "security_groups" when one is not the tenant's. */
static int
resolve_groups(sov_dbconn *c, const char *tenant_id, const char *workspace,
               const char *const *groups, size_t n, char ids[][SOV_UUID_LEN + 1],
               size_t *ret_n, sov_error *err)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        char id[SOV_UUID_LEN + 1];
        bool dup = false;
        if (sov_repo_sg_find(c, tenant_id, workspace, groups[i], "security_groups", id,
                             err) < 0)
            return -1;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(ids[j], id) == 0;
        if (!dup)
            snprintf(ids[k++], SOV_UUID_LEN + 1, "%s", id);
    }
    *ret_n = k;
    return 0;
}

static int
store_groups(sov_dbconn *c, const char *port_id, char ids[][SOV_UUID_LEN + 1], size_t n,
             sov_error *err)
{
    const char *list[SOV_NET_SG_MAX];

    for (size_t i = 0; i < n && i < SOV_NET_SG_MAX; i++)
        list[i] = ids[i];
    return sov_repo_port_set_groups(c, port_id, list, n, err);
}

/* The port's address: the one asked for, or the lowest free one (the subnet locked). */
static int
take_address(sov_dbconn *c, const sov_subnet *s, const char *want, sov_port *p,
             sov_error *err)
{
    sov_ipv4_net net;
    uint32_t ip, gw;
    char first[SOV_IP_MAX], last[SOV_IP_MAX], holder[SOV_NAME_MAX + 1];
    bool found = false;

    if (sov_cidr_parse(s->cidr, true, &net) < 0 || sov_ipv4_parse(s->gateway, &gw) < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "subnet '%s' has a bad cidr", s->name);
    if (want) {
        if (sov_ipv4_parse(want, &ip) < 0)
            return sov_error_invalid(err, "ip", "ip '%.40s' is not an IPv4 address", want);
        if (!sov_cidr_is_host(&net, ip))
            return sov_error_invalid(err, "ip", "ip %s is not a host address of subnet '%s' "
                                     "(%s)", want, s->name, s->cidr);
        if (ip == gw)
            return sov_error_invalid(err, "ip", "ip %s is the gateway of subnet '%s'", want,
                                     s->name);
        sov_ipv4_format(ip, p->ip);
        if (sov_repo_port_ip_taken(c, s->id, p->ip, holder, sizeof(holder), err) < 0)
            return -1;
        if (holder[0]) {
            sov_error_set(err, SOV_E_CONFLICT, "ip %s of subnet '%s' is taken by port '%s'",
                          p->ip, s->name, holder);
            snprintf(err->field, sizeof(err->field), "ip");
            return -1;
        }
        return 0;
    }
    sov_ipv4_format(net.addr + 1, first);
    sov_ipv4_format(sov_cidr_broadcast(&net) - 1, last);
    if (sov_repo_port_free_ip(c, s->id, first, last, s->gateway, p->ip, sizeof(p->ip), &found,
                              err) < 0)
        return -1;
    if (!found) {
        sov_error_set(err, SOV_E_CONFLICT, "subnet '%s' (%s) is full: all its %lld addresses "
                      "are taken", s->name, s->cidr, s->addresses_total);
        snprintf(err->field, sizeof(err->field), "subnet");
        return -1;
    }
    return 0;
}

static int
take_mac(sov_dbconn *c, const char *want, sov_port *p, sov_error *err)
{
    char holder[SOV_NAME_MAX + 1];

    if (!want)
        return random_mac(p->mac, err);
    if (parse_mac(want, p->mac) < 0)
        return sov_error_invalid(err, "mac", "mac '%.40s' is not a unicast MAC address", want);
    if (sov_repo_port_mac_taken(c, p->network_id, p->mac, holder, sizeof(holder), err) < 0)
        return -1;
    if (holder[0]) {
        sov_error_set(err, SOV_E_CONFLICT, "mac %s is taken by port '%s' in network '%s'",
                      p->mac, holder, p->network_name);
        snprintf(err->field, sizeof(err->field), "mac");
        return -1;
    }
    return 0;
}

int
sov_net_port_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                       const sov_port_create_args *a, const sov_net_port_owner *owner,
                       sov_port *ret, sov_op *op, sov_error *err)
{
    sov_port p;
    sov_subnet s;
    char groups[SOV_NET_SG_MAX][SOV_UUID_LEN + 1], name[SOV_NAME_MAX + 1];
    size_t ngroups = 0;

    memset(&p, 0, sizeof(p));
    if (sov_uuid_v4(p.id, err) < 0)
        return -1;
    snprintf(name, sizeof(name), "port-%.8s", p.id);
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name ? a->name : name, "a port",
                             p.tenant_id, p.workspace, err) < 0 ||
        check_args(a, err) < 0)
        return -1;
    snprintf(p.name, sizeof(p.name), "%s", a->name ? a->name : name);
    /* Another tenant's subnet does not exist: 404 naming "subnet". */
    if (sov_repo_subnet_find(c, p.tenant_id, p.workspace, a->subnet, "subnet", &s, err) < 0)
        return -1;
    if (!a->workspace)
        snprintf(p.workspace, sizeof(p.workspace), "%s", s.workspace);
    if (strcmp(p.workspace, s.workspace) != 0)
        return sov_error_invalid(err, "subnet", "subnet '%s' is in workspace '%s', not '%s'",
                                 s.name, s.workspace, p.workspace);
    /* The subnet's row lock: address choices of one subnet take turns. */
    if (sov_repo_subnet_get(c, p.tenant_id, s.id, true, &s, err) < 0)
        return -1;
    if (strcmp(s.state, "deleting") == 0 || strcmp(s.state, "deleted") == 0 ||
        strcmp(s.state, "error") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot add a port to subnet '%s': it is %s",
                             s.name, s.state);
    snprintf(p.subnet_id, sizeof(p.subnet_id), "%s", s.id);
    snprintf(p.subnet_name, sizeof(p.subnet_name), "%s", s.name);
    snprintf(p.network_id, sizeof(p.network_id), "%s", s.network_id);
    snprintf(p.network_name, sizeof(p.network_name), "%s", s.network_name);
    if (sov_workspace_check(c, p.tenant_id, p.workspace, err) < 0 ||
        resolve_groups(c, p.tenant_id, p.workspace, a->security_groups, a->nsecurity_groups,
                       groups, &ngroups, err) < 0 ||
        take_address(c, &s, a->ip, &p, err) < 0 || take_mac(c, a->mac, &p, err) < 0 ||
        sov_quota_charge(c, p.tenant_id, SOV_QUOTA_PORTS, 1, err) < 0)
        return -1;
    p.device_index = -1;
    if (owner && owner->instance_id) {
        snprintf(p.instance_id, sizeof(p.instance_id), "%s", owner->instance_id);
        p.device_index = owner->device_index;
        if (owner->created_by_instance)
            snprintf(p.created_by_instance, sizeof(p.created_by_instance), "%s",
                     owner->instance_id);
    }
    if (sov_net_create_op(c, ctx, p.tenant_id, "port", p.id, op, p.operation_id, err) < 0)
        return -1;
    if (sov_repo_port_insert(c, &p, err) < 0 || store_groups(c, p.id, groups, ngroups, err) < 0)
        return -1;
    /* SECA's skuRef of a NIC: the class must exist (SOV_E_NOT_FOUND naming "sku"). */
    if (a->sku) {
        sov_network_sku k;
        if (sov_repo_sku_get(c, a->sku, "sku", &k, err) < 0 ||
            sov_repo_port_set_sku(c, p.id, k.name, err) < 0)
            return -1;
    }
    if (sov_audit_append(c, ctx, p.tenant_id, "port", p.id,
                         op ? SOV_OUTCOME_ACCEPTED : SOV_OUTCOME_CREATED, err) < 0)
        return -1;
    return sov_repo_port_get(c, NULL, p.id, false, ret, err);
}

typedef struct create_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const sov_port_create_args *a;
    sov_port *ret;
    sov_op *op;
} create_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *ca = arg;

    return sov_net_port_create_tx(c, ca->ctx, ca->tenant_id, ca->a, NULL, ca->ret, ca->op,
                                  err);
}

int
sov_port_create(sov_ctx *ctx, const char *tenant_id, const sov_port_create_args *a,
                sov_port *ret, sov_op *op, sov_error *err)
{
    create_args ca = { ctx, tenant_id, a, ret, op };
    char t[SOV_UUID_LEN + 1], ws[SOV_NAME_MAX + 1];

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name ? a->name : "port", "a port",
                             t, ws, err) < 0 ||
        check_args(a, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    return sov_ctx_tx(ctx, create_tx, &ca, err);
}

/* ---- reads ---- */

int
sov_port_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_port *ret,
             sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_port_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    if (!visible(ctx, tenant_id, ret))
        return not_found(id, err);
    return 0;
}

/* sov_ctx_resolve's lookup of a port by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    sov_port p;

    if (sov_repo_port_find(c, tenant_id, workspace, name, NULL, &p, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", p.id);
    return 0;
}

int
sov_port_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                 const char *id_or_name, char *ret, sov_error *err)
{
    if (!sov_uuid_valid(id_or_name) && sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

/* A list filter naming a network, subnet or instance (an id, or a name in the tenant listed;
 * an operator listing every tenant's: in its own) as its id; one the caller does not see is
 * SOV_E_INVALID naming the filter. */
static int
filter_id(sov_dbconn *c, const sov_ctx *ctx, const char *tenant, const char *workspace,
          const char *field, const char *value, char *ret, sov_error *err)
{
    char owner[SOV_UUID_LEN + 1] = "";
    int rc;

    if (!tenant && !sov_uuid_valid(value) && sov_ctx_tenant(ctx, NULL, &tenant, err) < 0)
        return -1;
    if (strcmp(field, "network") == 0) {
        sov_network n = { .id = "" };
        rc = tenant ? sov_repo_network_find(c, tenant, workspace, value, field, &n, err)
                    : sov_repo_network_get(c, NULL, value, false, &n, err);
        snprintf(ret, SOV_UUID_LEN + 1, "%s", n.id);
        snprintf(owner, sizeof(owner), "%s", rc == 0 ? n.tenant_id : "");
    } else if (strcmp(field, "subnet") == 0) {
        sov_subnet s = { .id = "" };
        rc = tenant ? sov_repo_subnet_find(c, tenant, workspace, value, field, &s, err)
                    : sov_repo_subnet_get(c, NULL, value, false, &s, err);
        snprintf(ret, SOV_UUID_LEN + 1, "%s", s.id);
        snprintf(owner, sizeof(owner), "%s", rc == 0 ? s.tenant_id : "");
    } else {
        /* An instance: by id, any tenant's (the tenant filter keeps others' ports out). */
        sov_net_instance x = { .id = "" };
        rc = tenant ? sov_repo_net_instance(c, tenant, workspace, value, false, &x, err) : 0;
        snprintf(ret, SOV_UUID_LEN + 1, "%s", tenant ? x.id : value);
        snprintf(owner, sizeof(owner), "%s", tenant ? x.tenant_id : "");
        if (!tenant)
            return 0;
    }
    if (rc < 0 && err->code != SOV_E_NOT_FOUND)
        return -1;
    if (rc < 0 || !sov_ctx_sees_tenant(ctx, owner))
        return sov_error_invalid(err, field, "%s '%s' does not exist", field, value);
    return 0;
}

int
sov_port_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
              const char *network_id, const char *subnet_id, const char *instance_id,
              const char *state, const char *after, unsigned limit, sov_port_page *ret,
              sov_error *err)
{
    static const char *const states[] = { "creating", "available", "attaching", "in-use",
                                          "detaching", "updating", "deleting", "deleted",
                                          "error", NULL };
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;
    char net[SOV_UUID_LEN + 1], sub[SOV_UUID_LEN + 1], inst[SOV_UUID_LEN + 1];

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (sov_net_list_tenant(ctx, tenant_id, after, &tenant, err) < 0)
        return -1;
    if (sov_net_check_state(state, states, "creating, available, attaching, in-use, "
                            "detaching, updating, deleting, deleted or error", err) < 0)
        return -1;
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (network_id &&
        filter_id(c, ctx, tenant, workspace, "network", network_id, net, err) < 0)
        return -1;
    if (subnet_id && filter_id(c, ctx, tenant, workspace, "subnet", subnet_id, sub, err) < 0)
        return -1;
    if (instance_id &&
        filter_id(c, ctx, tenant, workspace, "instance", instance_id, inst, err) < 0)
        return -1;
    return sov_repo_port_list(c, tenant, workspace, network_id ? net : NULL,
                              subnet_id ? sub : NULL, instance_id ? inst : NULL, state, after,
                              limit ? limit : 100, ret, err);
}

int
sov_instance_ports(sov_ctx *ctx, const char *tenant_id, const char *instance_id,
                   sov_port **ret, size_t *n, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autofree sov_port *all = NULL;
    size_t count = 0, kept = 0;

    if (!sov_uuid_valid(instance_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist",
                             instance_id);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_ports_of_instance(c, instance_id, &all, &count, err) < 0)
        return -1;
    /* A plugged port is its instance's tenant's; the check keeps a caller from ever seeing
     * another tenant's port through an instance. */
    for (size_t i = 0; i < count; i++)
        if (visible(ctx, tenant_id, &all[i])) {
            if (kept != i)
                all[kept] = all[i];
            kept++;
        }
    *n = kept;
    *ret = SOV_TAKE_PTR(all);
    return 0;
}

/* ---- changes: delete, security groups, attach, detach ---- */

typedef struct act_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    const sov_port_action_args *a;     /* actions */
    const char *const *groups;          /* security groups */
    size_t ngroups;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];     /* a delete already under way: its operation */
} act_args;

/* Lock the port and make sure the caller sees it (a deleted one is gone). */
static int
lock_visible(sov_dbconn *c, act_args *a, sov_port *p, sov_error *err)
{
    if (sov_repo_port_get(c, NULL, a->id, true, p, err) < 0)
        return -1;
    if (!visible(a->ctx, a->tenant_id, p) || strcmp(p->state, "deleted") == 0)
        return not_found(a->id, err);
    return 0;
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_port p;
    char what[128];

    if (lock_visible(c, a, &p, err) < 0)
        return -1;
    if (strcmp(p.state, "deleting") == 0 && p.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", p.operation_id);
        return 0;
    }
    if (p.instance_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "port '%s' is plugged into instance '%s': "
                             "detach it first", p.name, p.instance_name);
    snprintf(what, sizeof(what), "port '%s'", p.name);
    if (sov_repo_port_blockers(c, p.id, what, err) < 0)
        return -1;
    if (strcmp(p.state, "available") != 0 && strcmp(p.state, "error") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot delete port '%s': it is %s; try "
                             "again when it is done", p.name, p.state);
    if (sov_op_enqueue(c, a->ctx, p.tenant_id, "port.delete", "port", p.id, "", a->op,
                       err) < 0 ||
        sov_repo_port_set_state(c, p.id, NULL, "deleting", "", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, p.tenant_id, "port", p.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_port_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                sov_error *err)
{
    act_args a = { ctx, tenant_id, id, NULL, NULL, 0, op, "" };

    return sov_net_delete(ctx, "port", id, delete_tx, &a, a.pending, op, err);
}

static int
groups_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    static const char *const from[] = { "available", "in-use", NULL };
    act_args *a = arg;
    sov_port p;
    char ids[SOV_NET_SG_MAX][SOV_UUID_LEN + 1];
    size_t n = 0;

    if (lock_visible(c, a, &p, err) < 0)
        return -1;
    if (strcmp(p.state, "available") != 0 && strcmp(p.state, "in-use") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot change the security groups of port "
                             "'%s': it is %s", p.name, p.state);
    if (resolve_groups(c, p.tenant_id, p.workspace, a->groups, a->ngroups, ids, &n, err) < 0 ||
        store_groups(c, p.id, ids, n, err) < 0 ||
        sov_op_enqueue(c, a->ctx, p.tenant_id, "port.update", "port", p.id, "", a->op,
                       err) < 0 ||
        sov_repo_port_set_state(c, p.id, from, "updating", "", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, p.tenant_id, "port", p.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_port_set_security_groups(sov_ctx *ctx, const char *tenant_id, const char *id,
                             const char *const *groups, size_t n, sov_port *ret, sov_op *op,
                             sov_error *err)
{
    act_args a = { ctx, tenant_id, id, NULL, groups, n, op, "" };

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (n > SOV_NET_SG_MAX)
        return sov_error_invalid(err, "security_groups", "a port is in at most %d security "
                                 "groups", SOV_NET_SG_MAX);
    for (size_t i = 0; i < n; i++)
        if (!groups[i] || !*groups[i])
            return sov_error_invalid(err, "security_groups", "security_groups[%zu] is empty",
                                     i);
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_ctx_tx(ctx, groups_tx, &a, err) < 0)
        return -1;
    return sov_port_get(ctx, tenant_id, id, ret, err);
}

static int
attach_tx(sov_dbconn *c, act_args *a, sov_port *p, sov_error *err)
{
    static const char *const from[] = { "available", NULL };
    sov_net_instance x;
    sov_network n;

    /* The instance is looked for in the port's tenant and workspace: another tenant's does
     * not exist. Its row lock: device indexes of one instance are chosen in turn. */
    if (sov_repo_net_instance(c, p->tenant_id, p->workspace, a->a->instance, true, &x,
                              err) < 0)
        return -1;
    if (strcmp(x.workspace, p->workspace) != 0)
        return sov_error_invalid(err, "instance", "instance '%s' is in workspace '%s', the "
                                 "port in '%s'", x.name, x.workspace, p->workspace);
    if (p->instance_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "port '%s' is %s: plugged into instance "
                             "'%s'", p->name, p->state, p->instance_name);
    if (strcmp(p->state, "available") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot attach port '%s': it is %s", p->name,
                             p->state);
    if (strcmp(x.state, "deleting") == 0 || strcmp(x.state, "deleted") == 0 ||
        strcmp(x.state, "error") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot attach port '%s' to instance '%s': "
                             "the instance is %s", p->name, x.name, x.state);
    if (sov_repo_network_get(c, NULL, p->network_id, false, &n, err) < 0)
        return -1;
    if (strcmp(x.region, n.region) != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "port '%s' is of network '%s' in region "
                             "'%s' and instance '%s' is in region '%s': a port attaches only "
                             "in its network's region", p->name, n.name, n.region, x.name,
                             x.region);
    if (sov_repo_port_plug(c, p->id, x.id, -1, err) < 0 ||
        sov_op_enqueue(c, a->ctx, p->tenant_id, "port.attach", "port", p->id, "", a->op,
                       err) < 0)
        return -1;
    return sov_repo_port_set_state(c, p->id, from, "attaching", "", a->op->id, err);
}

static int
detach_tx(sov_dbconn *c, act_args *a, sov_port *p, sov_error *err)
{
    static const char *const from[] = { "in-use", NULL };

    if (!p->instance_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "port '%s' is not plugged into an instance",
                             p->name);
    if (a->a->instance) {
        sov_net_instance x;
        if (sov_repo_net_instance(c, p->tenant_id, p->workspace, a->a->instance, false, &x,
                                  err) < 0)
            return -1;
        if (strcmp(x.id, p->instance_id) != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "port '%s' is not plugged into instance "
                                 "'%s' (it is in '%s')", p->name, x.name, p->instance_name);
    }
    if (strcmp(p->state, "in-use") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot detach port '%s': it is %s", p->name,
                             p->state);
    if (sov_op_enqueue(c, a->ctx, p->tenant_id, "port.detach", "port", p->id, "", a->op,
                       err) < 0)
        return -1;
    return sov_repo_port_set_state(c, p->id, from, "detaching", "", a->op->id, err);
}

static int
action_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_port p;
    int rc;

    if (lock_visible(c, a, &p, err) < 0)
        return -1;
    if (strcmp(a->a->action, "attach") == 0)
        rc = attach_tx(c, a, &p, err);
    else
        rc = detach_tx(c, a, &p, err);
    if (rc < 0)
        return -1;
    return sov_audit_append(c, a->ctx, p.tenant_id, "port", p.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_port_action(sov_ctx *ctx, const char *tenant_id, const char *id,
                const sov_port_action_args *a, sov_port *ret, sov_op *op, sov_error *err)
{
    act_args aa = { ctx, tenant_id, id, a, NULL, 0, op, "" };
    const char *what = a->action;

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!what || (strcmp(what, "attach") != 0 && strcmp(what, "detach") != 0))
        return sov_error_invalid(err, "action", "action must be attach or detach");
    if (strcmp(what, "attach") == 0 && (!a->instance || !*a->instance))
        return sov_error_invalid(err, "instance", "attach needs the instance's name or id");
    if (a->instance && !*a->instance)
        return sov_error_invalid(err, "instance", "instance is an instance's name or id");
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_ctx_tx(ctx, action_tx, &aa, err) < 0)
        return -1;
    return sov_port_get(ctx, tenant_id, id, ret, err);
}
