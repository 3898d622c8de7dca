/* secgroups.c: security groups and their rules (part "sec"). A request records the intent
 * (the group creating or updating, its rules as rows) and queues an operation whose worker
 * syncs the group's scope into OVN (a port group and its ACLs, network_int.h).
 *
 * Quotas: a group counts 1 against security_groups, each of its rules (the default ones
 * too) 1 against security_group_rules. A removed rule's row goes at once and gives its quota
 * back in the same transaction; a group's delete worker gives back the group and the rules
 * it still has. */
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
    return sov_error_set(err, SOV_E_NOT_FOUND, "security group '%s' does not exist", id);
}

void
sov_security_group_release(sov_security_group *g)
{
    if (!g)
        return;
    free(g->rules);
    g->rules = NULL;
    g->nrules = 0;
}

void
sov_security_group_page_release(sov_security_group_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        sov_security_group_release(&p->items[i]);
    free(p->items);
    p->items = NULL;
    p->n = 0;
}

/* ---- rule shape ---- */

/* A port number: digits only, 1 to 65535. */
static int
port_number(const char *s, size_t len, int *ret)
{
    long v = 0;

    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *ret = (int) v;
    return 0;
}

static int
parse_ports(const char *s, const char *field, int *lo, int *hi, sov_error *err)
{
    const char *dash = strchr(s, '-');
    size_t n = strlen(s);

    if (!dash) {
        if (port_number(s, n, lo) < 0)
            goto bad;
        *hi = *lo;
        return 0;
    }
    if (port_number(s, (size_t) (dash - s), lo) < 0 ||
        port_number(dash + 1, strlen(dash + 1), hi) < 0)
        goto bad;
    if (*lo > *hi)
        return sov_error_invalid(err, field, "ports '%s': the low port comes first (%d-%d)",
                                 s, *hi, *lo);
    return 0;
bad:
    return sov_error_invalid(err, field, "ports '%s' must be a port or a range such as "
                             "'22' or '1000-2000', each from 1 to 65535", s);
}

int
sov_sg_rule_parse(const sov_sg_rule_args *a, const char *prefix, sov_sg_rule *out,
                  sov_error *err)
{
    char field[64];
    const char *p = prefix ? prefix : "";
    sov_ipv4_net net;

    memset(out, 0, sizeof(*out));
#define FIELD(name) (snprintf(field, sizeof(field), "%s%s", p, name), field)
    if (!a->direction || (strcmp(a->direction, "ingress") != 0 &&
                          strcmp(a->direction, "egress") != 0))
        return sov_error_invalid(err, FIELD("direction"), "direction must be ingress or egress");
    snprintf(out->direction, sizeof(out->direction), "%s", a->direction);
    if (!a->protocol)
        snprintf(out->protocol, sizeof(out->protocol), "any");
    else if (strcmp(a->protocol, "tcp") == 0 || strcmp(a->protocol, "udp") == 0 ||
             strcmp(a->protocol, "icmp") == 0 || strcmp(a->protocol, "any") == 0)
        snprintf(out->protocol, sizeof(out->protocol), "%s", a->protocol);
    else
        return sov_error_invalid(err, FIELD("protocol"), "protocol must be tcp, udp, icmp or "
                                 "any");
    if (a->ports) {
        if (strcmp(out->protocol, "tcp") != 0 && strcmp(out->protocol, "udp") != 0)
            return sov_error_invalid(err, FIELD("ports"), "ports are for tcp and udp only "
                                     "(protocol is %s)", out->protocol);
        if (parse_ports(a->ports, FIELD("ports"), &out->port_min, &out->port_max, err) < 0)
            return -1;
    }
    if (a->remote_cidr && a->remote_group)
        return sov_error_invalid(err, FIELD("remote_group"), "a rule has remote_cidr or "
                                 "remote_group, not both");
    if (a->remote_cidr) {
        /* Strict: "10.0.0.1/8" is refused rather than read as 10.0.0.0/8, which a person
         * may not have meant. */
        if (sov_cidr_parse(a->remote_cidr, true, &net) < 0)
            return sov_error_invalid(err, FIELD("remote_cidr"), "remote_cidr '%s' must be an "
                                     "IPv4 network such as '192.0.2.0/24' (host bits zero)",
                                     a->remote_cidr);
        sov_cidr_format(&net, out->remote_cidr);
    }
    if (a->remote_group) {
        if (!*a->remote_group || strlen(a->remote_group) > SOV_NAME_MAX)
            return sov_error_invalid(err, FIELD("remote_group"), "remote_group is a security "
                                     "group's name or id");
        /* Resolved later, with the database: the name is kept until then. */
        snprintf(out->remote_group_name, sizeof(out->remote_group_name), "%s",
                 a->remote_group);
    }
    if (a->description) {
        if (strlen(a->description) >= sizeof(out->description))
            return sov_error_invalid(err, FIELD("description"), "description is at most %zu "
                                     "characters", sizeof(out->description) - 1);
        for (const char *s = a->description; *s; s++)
            if ((unsigned char) *s < 0x20 || *s == 0x7f)
                return sov_error_invalid(err, FIELD("description"), "description has a "
                                         "control character");
        snprintf(out->description, sizeof(out->description), "%s", a->description);
    }
#undef FIELD
    return 0;
}

/* The remote group a parsed rule names (its name in remote_group_name): the group itself
 * (self_name, self_id), or another group of the tenant's workspace. */
static int
resolve_remote(sov_dbconn *c, const char *tenant_id, const char *workspace,
               const char *self_id, const char *self_name, const char *prefix,
               sov_sg_rule *r, sov_error *err)
{
    char field[64];
    const char *name = r->remote_group_name;

    if (!name[0])
        return 0;
    snprintf(field, sizeof(field), "%sremote_group", prefix ? prefix : "");
    if (strcmp(name, self_id) == 0 || (self_name && strcmp(name, self_name) == 0))
        snprintf(r->remote_group_id, sizeof(r->remote_group_id), "%s", self_id);
    else if (sov_repo_sg_find(c, tenant_id, workspace, name, field, r->remote_group_id,
                              err) < 0)
        return -1;
    return 0;
}

/* ---- create ---- */

int
sov_net_sg_create_tx(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                     const sov_security_group_create_args *a, bool is_default,
                     sov_security_group *ret, sov_op *op, sov_error *err)
{
    sov_security_group g;
    sov_autofree sov_sg_rule *rules = NULL;
    size_t n = a->nrules;

    memset(&g, 0, sizeof(g));
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a security group",
                             g.tenant_id, g.workspace, err) < 0)
        return -1;
    snprintf(g.name, sizeof(g.name), "%s", a->name);
    if (sov_uuid_v4(g.id, err) < 0)
        return -1;
    g.is_default = is_default;
    snprintf(g.state, sizeof(g.state), "creating");
    if (sov_workspace_check(c, g.tenant_id, g.workspace, err) < 0)
        return -1;
    if (n == 0 && !a->no_default_rules)
        n = 2;
    rules = calloc(n ? n : 1, sizeof(*rules));
    if (!rules)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (a->nrules > 0) {
        for (size_t i = 0; i < a->nrules; i++) {
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "rules[%zu].", i);
            if (sov_sg_rule_parse(&a->rules[i], prefix, &rules[i], err) < 0 ||
                resolve_remote(c, g.tenant_id, g.workspace, g.id, g.name, prefix, &rules[i],
                               err) < 0)
                return -1;
        }
    } else if (n == 2) {
        /* The defaults: out anywhere; in only from the group's own members. */
        snprintf(rules[0].direction, sizeof(rules[0].direction), "egress");
        snprintf(rules[0].protocol, sizeof(rules[0].protocol), "any");
        snprintf(rules[1].direction, sizeof(rules[1].direction), "ingress");
        snprintf(rules[1].protocol, sizeof(rules[1].protocol), "any");
        snprintf(rules[1].remote_group_id, sizeof(rules[1].remote_group_id), "%s", g.id);
    }
    if (sov_quota_charge(c, g.tenant_id, SOV_QUOTA_SECURITY_GROUPS, 1, err) < 0 ||
        (n > 0 && sov_quota_charge(c, g.tenant_id, SOV_QUOTA_SECURITY_GROUP_RULES,
                                   (long long) n, err) < 0))
        return -1;
    if (sov_net_create_op(c, ctx, g.tenant_id, "security_group", g.id, op, g.operation_id,
                          err) < 0)
        return -1;
    if (sov_repo_sg_insert(c, &g, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (sov_repo_sg_rule_insert(c, g.id, g.tenant_id, &rules[i], err) < 0)
            return -1;
    if (sov_audit_append(c, ctx, g.tenant_id, "security_group", g.id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_sg_get(c, g.tenant_id, g.id, false, ret, err);
}

typedef struct create_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const sov_security_group_create_args *a;
    sov_security_group *ret;
    sov_op *op;
} create_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *ca = arg;

    sov_security_group_release(ca->ret);
    return sov_net_sg_create_tx(c, ca->ctx, ca->tenant_id, ca->a, false, ca->ret, ca->op, err);
}

int
sov_security_group_create(sov_ctx *ctx, const char *tenant_id,
                          const sov_security_group_create_args *a, sov_security_group *ret,
                          sov_op *op, sov_error *err)
{
    create_args ca = { ctx, tenant_id, a, ret, op };

    memset(ret, 0, sizeof(*ret));
    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (a->nrules > 0 && a->no_default_rules)
        return sov_error_invalid(err, "rules", "rules cannot be both given and empty");
    return sov_ctx_tx(ctx, create_tx, &ca, err);
}

/* ---- reads ---- */

int
sov_security_group_get(sov_ctx *ctx, const char *tenant_id, const char *id,
                       sov_security_group *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_security_group g;

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_sg_get(c, NULL, id, false, &g, err) < 0)
        return -1;
    if (!g.tenant_id[0] || !sov_ctx_sees_tenant(ctx, g.tenant_id) ||
        (tenant_id && strcmp(tenant_id, g.tenant_id) != 0) || strcmp(g.state, "deleted") == 0) {
        sov_security_group_release(&g);
        return not_found(id, err);
    }
    *ret = g;
    return 0;
}

/* sov_ctx_resolve's lookup of a group by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    return sov_repo_sg_find(c, tenant_id, workspace, name, NULL, ret, err);
}

int
sov_security_group_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                           const char *id_or_name, char *ret, sov_error *err)
{
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

int
sov_security_group_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                        const char *after, unsigned limit, sov_security_group_page *ret,
                        sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;

    if (sov_net_list_tenant(ctx, tenant_id, after, &tenant, err) < 0)
        return -1;
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (sov_repo_sg_list(c, tenant, workspace, after, limit ? limit : 100, ret, err) < 0) {
        sov_security_group_page_release(ret);
        return -1;
    }
    return 0;
}

/* ---- delete, rules ---- */

typedef struct act_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    const sov_sg_rule_args *rule;
    size_t nrules;                  /* rules_replace: how many rule points at */
    const char *rule_id;
    sov_sg_rule *ret_rule;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];
} act_args;

/* Lock the group and make sure the caller sees it (rules not kept). */
static int
lock_visible(sov_dbconn *c, act_args *a, sov_security_group *g, sov_error *err)
{
    if (sov_repo_sg_get(c, NULL, a->id, true, g, err) < 0)
        return -1;
    sov_security_group_release(g);
    if (!g->tenant_id[0] || !sov_ctx_sees_tenant(a->ctx, g->tenant_id) ||
        (a->tenant_id && strcmp(a->tenant_id, g->tenant_id) != 0) ||
        strcmp(g->state, "deleted") == 0)
        return not_found(a->id, err);
    return 0;
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_security_group g;
    char what[128];

    if (lock_visible(c, a, &g, err) < 0)
        return -1;
    if (strcmp(g.state, "deleting") == 0 && g.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", g.operation_id);
        return 0;
    }
    snprintf(what, sizeof(what), "security group '%s'", g.name);
    if (sov_repo_sg_blockers(c, g.id, what, err) < 0)
        return -1;
    if (sov_op_enqueue(c, a->ctx, g.tenant_id, "security_group.delete", "security_group",
                       g.id, "", a->op, err) < 0 ||
        sov_repo_sg_set_state(c, g.id, "deleting", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, g.tenant_id, "security_group", g.id,
                            SOV_OUTCOME_ACCEPTED, err);
}

int
sov_security_group_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                          sov_error *err)
{
    act_args a = { ctx, tenant_id, id, NULL, 0, NULL, NULL, op, "" };

    return sov_net_delete(ctx, "security group", id, delete_tx, &a, a.pending, op, err);
}

/* A change of rules: the group goes to updating and its scope is synced again. */
static int
group_changed(sov_dbconn *c, act_args *a, const sov_security_group *g, sov_error *err)
{
    if (strcmp(g->state, "deleting") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "security group '%s' is being deleted",
                             g->name);
    if (sov_op_enqueue(c, a->ctx, g->tenant_id, "security_group.update", "security_group",
                       g->id, "", a->op, err) < 0 ||
        sov_repo_sg_set_state(c, g->id, strcmp(g->state, "creating") == 0 ? "creating" :
                              "updating", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, g->tenant_id, "security_group", g->id,
                            SOV_OUTCOME_ACCEPTED, err);
}

static int
rule_add_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_security_group g;
    sov_sg_rule r;

    if (lock_visible(c, a, &g, err) < 0)
        return -1;
    if (sov_sg_rule_parse(a->rule, NULL, &r, err) < 0 ||
        resolve_remote(c, g.tenant_id, g.workspace, g.id, g.name, NULL, &r, err) < 0)
        return -1;
    if (sov_quota_charge(c, g.tenant_id, SOV_QUOTA_SECURITY_GROUP_RULES, 1, err) < 0 ||
        sov_repo_sg_rule_insert(c, g.id, g.tenant_id, &r, err) < 0 ||
        group_changed(c, a, &g, err) < 0)
        return -1;
    if (r.remote_group_id[0] && strcmp(r.remote_group_id, g.id) == 0)
        snprintf(r.remote_group_name, sizeof(r.remote_group_name), "%s", g.name);
    else if (r.remote_group_id[0]) {
        sov_security_group rg;
        if (sov_repo_sg_get(c, g.tenant_id, r.remote_group_id, false, &rg, err) < 0)
            return -1;
        snprintf(r.remote_group_name, sizeof(r.remote_group_name), "%s", rg.name);
        sov_security_group_release(&rg);
    }
    *a->ret_rule = r;
    return 0;
}

int
sov_sg_rule_add(sov_ctx *ctx, const char *tenant_id, const char *group_id,
                const sov_sg_rule_args *r, sov_sg_rule *ret, sov_op *op, sov_error *err)
{
    act_args a = { ctx, tenant_id, group_id, r, 1, NULL, ret, op, "" };

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!sov_uuid_valid(group_id))
        return not_found(group_id, err);
    return sov_ctx_tx(ctx, rule_add_tx, &a, err);
}

static int
rule_delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_security_group g;

    if (lock_visible(c, a, &g, err) < 0)
        return -1;
    if (sov_repo_sg_rule_delete(c, g.id, a->rule_id, err) < 0 ||
        sov_quota_release(c, g.tenant_id, SOV_QUOTA_SECURITY_GROUP_RULES, 1, err) < 0)
        return -1;
    return group_changed(c, a, &g, err);
}

int
sov_sg_rule_delete(sov_ctx *ctx, const char *tenant_id, const char *group_id,
                   const char *rule_id, sov_op *op, sov_error *err)
{
    act_args a = { ctx, tenant_id, group_id, NULL, 0, rule_id, NULL, op, "" };

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!sov_uuid_valid(group_id))
        return not_found(group_id, err);
    if (!sov_uuid_valid(rule_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "rule '%s' does not exist", rule_id);
    return sov_ctx_tx(ctx, rule_delete_tx, &a, err);
}

/* The whole rule set replaced in one transaction: every new rule checked (and its remote
 * group resolved) before anything changes, the old rows removed and their quota given back,
 * the new ones charged and inserted, one "security_group.update". */
static int
rules_replace_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_security_group g, old;
    sov_autofree sov_sg_rule *rules = NULL;

    if (lock_visible(c, a, &g, err) < 0)
        return -1;
    rules = calloc(a->nrules ? a->nrules : 1, sizeof(*rules));
    if (!rules)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < a->nrules; i++) {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "rules[%zu].", i);
        if (sov_sg_rule_parse(&a->rule[i], prefix, &rules[i], err) < 0 ||
            resolve_remote(c, g.tenant_id, g.workspace, g.id, g.name, prefix, &rules[i],
                           err) < 0)
            return -1;
    }
    if (sov_repo_sg_get(c, g.tenant_id, g.id, false, &old, err) < 0)
        return -1;
    for (size_t i = 0; i < old.nrules; i++)
        if (sov_repo_sg_rule_delete(c, g.id, old.rules[i].id, err) < 0) {
            sov_security_group_release(&old);
            return -1;
        }
    if (old.nrules > 0 && sov_quota_release(c, g.tenant_id, SOV_QUOTA_SECURITY_GROUP_RULES,
                                            (long long) old.nrules, err) < 0) {
        sov_security_group_release(&old);
        return -1;
    }
    sov_security_group_release(&old);
    if (a->nrules > 0 && sov_quota_charge(c, g.tenant_id, SOV_QUOTA_SECURITY_GROUP_RULES,
                                          (long long) a->nrules, err) < 0)
        return -1;
    for (size_t i = 0; i < a->nrules; i++)
        if (sov_repo_sg_rule_insert(c, g.id, g.tenant_id, &rules[i], err) < 0)
            return -1;
    return group_changed(c, a, &g, err);
}

int
sov_sg_rules_replace(sov_ctx *ctx, const char *tenant_id, const char *group_id,
                     const sov_sg_rule_args *rules, size_t n, sov_security_group *ret,
                     sov_op *op, sov_error *err)
{
    act_args a = { ctx, tenant_id, group_id, rules, n, NULL, NULL, op, "" };

    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!sov_uuid_valid(group_id))
        return not_found(group_id, err);
    if (sov_ctx_tx(ctx, rules_replace_tx, &a, err) < 0)
        return -1;
    return sov_security_group_get(ctx, tenant_id, group_id, ret, err);
}
