/* seca_rules.c: SECA's security group rules as ours (issue 20; include/sov/network.h's
 * "SECA security groups"). The SECA edge (api/seca_security_groups.c) reads the request and
 * calls these; what a SECA rule means here is decided in this file only: its checks, its
 * expansion into our rules (protocols x port ranges x sources, each checked as
 * sov_sg_rule_parse will), the groups that name a rule, and their rules replaced when it
 * changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/log.h"
#include "sov/seca.h"
#include "network_int.h"

#define EFFECTIVE_MAX 500       /* a group's translated rules (SECA's maxItems of rules) */
#define PORTS_MAX 100           /* SECA's ports.list maxItems */
#define SOURCES_MAX 32

/* One rule of ours, with the pointer of the SECA rule it comes from. */
struct sov_seca_xrule {
    char direction[8], protocol[8], ports[12], cidr[64], group[SOV_SECA_NAME_MAX + 1];
    char description[160];
    char pointer[64];
};

/* A SECA rule as read: what it expands into. */
typedef struct seca_rule {
    const char *direction;
    const char *protos[2];
    size_t nprotos, nranges, nsources;
    int ranges[PORTS_MAX + 1][2];
    char cidrs[SOURCES_MAX][64], groups[SOURCES_MAX][SOV_SECA_NAME_MAX + 1];
} seca_rule;

void
sov_seca_sg_rules_release(sov_seca_sg_rules *r)
{
    free(r->x);
    free(r->args);
    memset(r, 0, sizeof(*r));
}

static int
bad(sov_error *err, const char *pointer, const char *what)
{
    return sov_error_invalid(err, pointer, "%s: %s", pointer, what);
}

static sov_seca_xrule *
rules_add(sov_seca_sg_rules *x, sov_error *err, const char *pointer)
{
    if (x->n == EFFECTIVE_MAX) {
        sov_error_invalid(err, pointer, "%s: a security group has at most %d rules once "
                          "protocols, ports and sources are expanded", pointer, EFFECTIVE_MAX);
        return NULL;
    }
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        sov_seca_xrule *r = realloc(x->x, cap * sizeof(*r));
        if (!r) {
            sov_error_set(err, SOV_E_INTERNAL, "out of memory");
            return NULL;
        }
        x->x = r;
        x->cap = cap;
    }
    memset(&x->x[x->n], 0, sizeof(x->x[0]));
    return &x->x[x->n++];
}

/* The rules' arguments, borrowing the rules' strings. */
static int
rules_args(sov_seca_sg_rules *x, sov_error *err)
{
    free(x->args);
    x->args = calloc(x->n ? x->n : 1, sizeof(*x->args));
    if (!x->args)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < x->n; i++) {
        const sov_seca_xrule *o = &x->x[i];
        x->args[i].direction = o->direction;
        x->args[i].protocol = o->protocol;
        x->args[i].ports = o->ports[0] ? o->ports : NULL;
        x->args[i].remote_cidr = o->cidr[0] ? o->cidr : NULL;
        x->args[i].remote_group = o->group[0] ? o->group : NULL;
        x->args[i].description = o->description;
    }
    return 0;
}

void
sov_seca_sg_rules_repoint(const sov_seca_sg_rules *r, sov_error *err)
{
    unsigned long k;
    char *end;

    if (strncmp(err->field, "rules[", 6) != 0)
        return;
    k = strtoul(err->field + 6, &end, 10);
    if (*end == ']' && k < r->n)
        snprintf(err->field, sizeof(err->field), "%.63s", r->x[k].pointer);
}

/* A port number member: an integer from 1 to 65535. */
static int
port_member(const json_t *v, const char *pointer, int *ret, sov_error *err)
{
    json_int_t n;

    if (!json_is_integer(v))
        return bad(err, pointer, "must be a port number from 1 to 65535");
    n = json_integer_value(v);
    if (n < 1 || n > 65535)
        return bad(err, pointer, "must be a port number from 1 to 65535");
    *ret = (int) n;
    return 0;
}

/* Whether s looks like an address or a network (a digit first, or an IPv6 colon). */
static bool
cidr_like(const char *s)
{
    return (s[0] >= '0' && s[0] <= '9') || strchr(s, ':');
}

/* One sourceRef: a security group of this workspace (its name into group) or a CIDR or
 * address (IPv4; an address is its /32) into cidr. check: the group must exist now. */
static int
source_read(const sov_seca_sg_env *env, const json_t *ref, const char *pointer, bool check,
            char *cidr, char *group, sov_error *err)
{
    const char *s = json_is_string(ref) ? json_string_value(ref)
                                        : json_string_value(json_object_get(ref, "resource"));

    cidr[0] = group[0] = '\0';
    if (s && cidr_like(s)) {
        if (strchr(s, ':'))
            return bad(err, pointer, "IPv6 sources are not served (our security groups "
                       "filter IPv4)");
        if (strlen(s) > 18)
            return bad(err, pointer, "must be an IPv4 network such as 192.0.2.0/24");
        snprintf(cidr, 64, strchr(s, '/') ? "%s" : "%s/32", s);
        return 0;
    }
    if (env->ref_name(env->data, ref, "security-groups", pointer, group, err) < 0)
        return -1;
    if (check) {
        char id[SOV_UUID_LEN + 1];
        if (sov_security_group_resolve(env->ctx, env->tenant_id, env->workspace, group, id,
                                       err) < 0) {
            if (err->code == SOV_E_NOT_FOUND)
                snprintf(err->field, sizeof(err->field), "%.63s", pointer);
            return -1;
        }
    }
    return 0;
}

/* direction, version, protocol (into r->protos) and annotations. */
static int
rule_head(const json_t *spec, const char *pointer, seca_rule *r, const char **protocol,
          sov_error *err)
{
    static const char *const members[] = { "annotations", "direction", "version", "protocol",
                                           "ports", "icmp", "sourceRef", NULL };
    char at[128];
    json_t *v;

    if (!json_is_object(spec))
        return bad(err, pointer, "must be a security group rule {direction, protocol?, "
                   "ports?, icmp?, sourceRef?, version?}");
    if (sov_seca_members_check(spec, pointer, members, err) < 0)
        return -1;
    snprintf(at, sizeof(at), "%s/direction", pointer);
    r->direction = json_string_value(json_object_get(spec, "direction"));
    if (!r->direction || (strcmp(r->direction, "ingress") != 0 &&
                          strcmp(r->direction, "egress") != 0))
        return bad(err, at, "is required: ingress or egress");
    snprintf(at, sizeof(at), "%s/version", pointer);
    v = json_object_get(spec, "version");
    if (v && !json_is_null(v)) {
        const char *ver = json_string_value(v);
        if (!ver || (strcmp(ver, "IPv4") != 0 && strcmp(ver, "IPv6") != 0))
            return bad(err, at, "must be IPv4 or IPv6");
        if (strcmp(ver, "IPv6") == 0)
            return bad(err, at, "IPv6 rules are not served: our security groups filter IPv4");
    }
    snprintf(at, sizeof(at), "%s/protocol", pointer);
    v = json_object_get(spec, "protocol");
    *protocol = NULL;
    if (v && !json_is_null(v)) {
        *protocol = json_string_value(v);
        if (!*protocol || (strcmp(*protocol, "tcp") != 0 && strcmp(*protocol, "udp") != 0 &&
                           strcmp(*protocol, "tcp+udp") != 0 &&
                           strcmp(*protocol, "icmp") != 0))
            return bad(err, at, "must be tcp, udp, tcp+udp or icmp");
    }
    if (!*protocol)
        r->protos[r->nprotos++] = "any";
    else if (strcmp(*protocol, "tcp+udp") == 0) {
        r->protos[r->nprotos++] = "tcp";
        r->protos[r->nprotos++] = "udp";
    } else
        r->protos[r->nprotos++] = *protocol;
    v = json_object_get(spec, "annotations");
    snprintf(at, sizeof(at), "%s/annotations", pointer);
    if (v && !json_is_null(v)) {
        const char *key;
        json_t *a;
        if (!json_is_object(v))
            return bad(err, at, "must be an object of strings");
        json_object_foreach(v, key, a)
            if (!json_is_string(a) || strlen(json_string_value(a)) > 1024)
                return bad(err, at, "must be an object of strings of at most 1024 "
                           "characters");
    }
    return 0;
}

/* ports: {from?, to?, list?} into r->ranges. */
static int
rule_ports(const json_t *ports, const char *at, const char *protocol, seca_rule *r,
           sov_error *err)
{
    static const char *const port_members[] = { "from", "to", "list", NULL };
    json_t *from, *to, *list, *p;
    char sub[200];
    int lo = 0, hi = 0;
    size_t i;

    if (!json_is_object(ports))
        return bad(err, at, "must be an object {from?, to?, list?}");
    if (sov_seca_members_check(ports, at, port_members, err) < 0)
        return -1;
    if (!protocol || strcmp(protocol, "icmp") == 0)
        return bad(err, at, "ports are for protocol tcp, udp or tcp+udp");
    from = json_object_get(ports, "from");
    to = json_object_get(ports, "to");
    list = json_object_get(ports, "list");
    snprintf(sub, sizeof(sub), "%s/from", at);
    if (from && port_member(from, sub, &lo, err) < 0)
        return -1;
    snprintf(sub, sizeof(sub), "%s/to", at);
    if (to && port_member(to, sub, &hi, err) < 0)
        return -1;
    if (from && to && lo > hi)
        return bad(err, sub, "the range runs from 'from' up to 'to': to must not be below "
                   "from");
    if (from || to) {
        r->ranges[r->nranges][0] = from ? lo : hi;
        r->ranges[r->nranges][1] = to ? hi : lo;
        r->nranges++;
    }
    if (!list)
        return 0;
    snprintf(sub, sizeof(sub), "%s/list", at);
    if (!json_is_array(list) || json_array_size(list) > PORTS_MAX)
        return bad(err, sub, "must be a list of at most 100 ports");
    json_array_foreach(list, i, p) {
        char item[240];
        int n = 0;
        snprintf(item, sizeof(item), "%s/%zu", sub, i);
        if (port_member(p, item, &n, err) < 0)
            return -1;
        r->ranges[r->nranges][0] = r->ranges[r->nranges][1] = n;
        r->nranges++;
    }
    return 0;
}

/* icmp: {type, code}, checked (our rules allow every ICMPv4 type and code). */
static int
rule_icmp(const json_t *icmp, const char *at, const char *protocol, sov_error *err)
{
    static const char *const icmp_members[] = { "type", "code", NULL };
    json_t *t, *c;
    char sub[160];

    if (!json_is_object(icmp))
        return bad(err, at, "must be an object {type, code}");
    if (sov_seca_members_check(icmp, at, icmp_members, err) < 0)
        return -1;
    if (!protocol || strcmp(protocol, "icmp") != 0)
        return bad(err, at, "icmp is for protocol icmp");
    t = json_object_get(icmp, "type");
    c = json_object_get(icmp, "code");
    snprintf(sub, sizeof(sub), "%s/type", at);
    if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 8)
        return bad(err, sub, "is required: an integer from 0 to 8");
    snprintf(sub, sizeof(sub), "%s/code", at);
    if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 5)
        return bad(err, sub, "is required: an integer from 0 to 5");
    return 0;
}

/* protocols x port ranges x sources, each one rule of ours, checked as the service will
 * check it so that a named rule is refused at its own PUT. */
static int
rule_product(const seca_rule *r, const char *pointer, const char *src_at,
             const char *description, sov_seca_sg_rules *x, sov_error *err)
{
    for (size_t p = 0; p < r->nprotos; p++)
        for (size_t k = 0; k < (r->nranges ? r->nranges : 1); k++)
            for (size_t s = 0; s < (r->nsources ? r->nsources : 1); s++) {
                sov_seca_xrule *o = rules_add(x, err, pointer);
                sov_sg_rule_args a = { 0 };
                sov_sg_rule parsed;

                if (!o)
                    return -1;
                snprintf(o->direction, sizeof(o->direction), "%s", r->direction);
                snprintf(o->protocol, sizeof(o->protocol), "%s", r->protos[p]);
                if (r->nranges && r->ranges[k][0] == r->ranges[k][1])
                    snprintf(o->ports, sizeof(o->ports), "%d", r->ranges[k][0]);
                else if (r->nranges)
                    snprintf(o->ports, sizeof(o->ports), "%d-%d", r->ranges[k][0],
                             r->ranges[k][1]);
                if (r->nsources && r->cidrs[s][0])
                    snprintf(o->cidr, sizeof(o->cidr), "%.63s", r->cidrs[s]);
                if (r->nsources && r->groups[s][0])
                    snprintf(o->group, sizeof(o->group), "%.128s", r->groups[s]);
                snprintf(o->description, sizeof(o->description), "%s", description);
                snprintf(o->pointer, sizeof(o->pointer), "%.60s", pointer);
                a.direction = o->direction;
                a.protocol = o->protocol;
                a.ports = o->ports[0] ? o->ports : NULL;
                a.remote_cidr = o->cidr[0] ? o->cidr : NULL;
                a.remote_group = o->group[0] ? o->group : NULL;
                a.description = o->description;
                if (sov_sg_rule_parse(&a, NULL, &parsed, err) < 0) {
                    snprintf(err->field, sizeof(err->field), "%.60s",
                             strcmp(err->field, "remote_cidr") == 0 ? src_at : pointer);
                    return -1;
                }
            }
    return 0;
}

/* A SecurityGroupRuleSpec at pointer checked and expanded into x (description: where it
 * comes from, shown by /v1). check: source groups must exist now (a named rule; a group's
 * inline rule may name the group itself, which the service resolves). */
static int
rule_expand(const sov_seca_sg_env *env, const json_t *spec, const char *pointer,
            const char *description, bool check, sov_seca_sg_rules *x, sov_error *err)
{
    sov_autofree seca_rule *r = calloc(1, sizeof(*r));
    const char *protocol = NULL;
    char at[128];
    json_t *v;
    size_t i;

    if (!r)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (rule_head(spec, pointer, r, &protocol, err) < 0)
        return -1;
    v = json_object_get(spec, "ports");
    snprintf(at, sizeof(at), "%s/ports", pointer);
    if (v && !json_is_null(v) && rule_ports(v, at, protocol, r, err) < 0)
        return -1;
    v = json_object_get(spec, "icmp");
    snprintf(at, sizeof(at), "%s/icmp", pointer);
    if (v && !json_is_null(v) && rule_icmp(v, at, protocol, err) < 0)
        return -1;
    v = json_object_get(spec, "sourceRef");
    snprintf(at, sizeof(at), "%s/sourceRef", pointer);
    if (v && !json_is_null(v)) {
        json_t *ref;
        if (!json_is_array(v) || json_array_size(v) > SOURCES_MAX)
            return bad(err, at, "must be a list of at most 32 references");
        json_array_foreach(v, i, ref) {
            char src_at[160];
            snprintf(src_at, sizeof(src_at), "%s/%zu", at, i);
            if (source_read(env, ref, src_at, check, r->cidrs[r->nsources],
                            r->groups[r->nsources], err) < 0)
                return -1;
            r->nsources++;
        }
    }
    return rule_product(r, pointer, at, description, x, err);
}

int
sov_seca_sg_rule_check(const sov_seca_sg_env *env, const json_t *spec, sov_error *err)
{
    sov_seca_sg_rules x = { 0 };
    int rc = rule_expand(env, spec, "/spec", "", true, &x, err);

    sov_seca_sg_rules_release(&x);
    return rc;
}

static int
named_rule(const sov_seca_sg_env *env, const char *name, sov_seca_object *o, sov_error *err)
{
    memset(o, 0, sizeof(*o));
    if (sov_seca_object_get(env->ctx, env->tenant_id, env->workspace, SOV_SECA_SG_RULE_OBJECT,
                            "", name, o, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            sov_error_set(err, SOV_E_NOT_FOUND, "security group rule '%s' does not exist",
                          name);
        return -1;
    }
    return 0;
}

/* A SecurityGroupSpec checked and expanded into x. changed_rule/changed_spec: a named rule's
 * spec to use instead of its stored one (a rule being changed). */
static int
group_expand(const sov_seca_sg_env *env, const json_t *spec, const char *changed_rule,
             const json_t *changed_spec, sov_seca_sg_rules *x, sov_error *err)
{
    static const char *const members[] = { "rules", "ruleRefs", NULL };
    json_t *rules, *refs, *v;
    size_t i;

    if (!json_is_object(spec))
        return bad(err, "/spec", "must be an object {rules?, ruleRefs?}");
    if (sov_seca_members_check(spec, "/spec", members, err) < 0)
        return -1;
    rules = json_object_get(spec, "rules");
    if (rules && !json_is_null(rules)) {
        if (!json_is_array(rules) || json_array_size(rules) > EFFECTIVE_MAX)
            return bad(err, "/spec/rules", "must be a list of at most 500 rules");
        json_array_foreach(rules, i, v) {
            char at[48], description[48];
            snprintf(at, sizeof(at), "/spec/rules/%zu", i);
            snprintf(description, sizeof(description), "seca rules[%zu]", i);
            if (rule_expand(env, v, at, description, false, x, err) < 0)
                return -1;
        }
    }
    refs = json_object_get(spec, "ruleRefs");
    if (!refs || json_is_null(refs))
        return 0;
    if (!json_is_array(refs) || json_array_size(refs) > EFFECTIVE_MAX)
        return bad(err, "/spec/ruleRefs", "must be a list of at most 500 references");
    json_array_foreach(refs, i, v) {
        char at[48], description[160], name[SOV_SECA_NAME_MAX + 1];
        sov_seca_object o;
        int rc;

        snprintf(at, sizeof(at), "/spec/ruleRefs/%zu", i);
        if (env->ref_name(env->data, v, "security-group-rules", at, name, err) < 0)
            return -1;
        snprintf(description, sizeof(description), "seca security-group-rules/%s", name);
        if (changed_rule && strcmp(name, changed_rule) == 0) {
            if (rule_expand(env, changed_spec, at, description, false, x, err) < 0)
                return -1;
            continue;
        }
        if (named_rule(env, name, &o, err) < 0) {
            snprintf(err->field, sizeof(err->field), "%.63s", at);
            return -1;
        }
        rc = rule_expand(env, o.spec, at, description, false, x, err);
        sov_seca_object_clear(&o);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int
sov_seca_sg_expand(const sov_seca_sg_env *env, const json_t *spec, sov_seca_sg_rules *ret,
                   sov_error *err)
{
    if (group_expand(env, spec, NULL, NULL, ret, err) < 0)
        return -1;
    return rules_args(ret, err);
}

void
sov_seca_sg_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Whether a group's SECA spec names rule in its ruleRefs. */
static bool
names_rule(const sov_seca_sg_env *env, const json_t *spec, const char *rule)
{
    json_t *ref;
    size_t j;

    json_array_foreach(json_object_get(spec, "ruleRefs"), j, ref) {
        char name[SOV_SECA_NAME_MAX + 1];
        sov_error ignore = SOV_ERROR_INIT;
        if (env->ref_name(env->data, ref, "security-group-rules", "/spec/ruleRefs", name,
                          &ignore) == 0 && strcmp(name, rule) == 0)
            return true;
    }
    return false;
}

int
sov_seca_sg_rule_users(const sov_seca_sg_env *env, const char *rule, char ***ret, size_t *n,
                       sov_error *err)
{
    sov_seca_object *objs = NULL;
    size_t nobjs = 0, k = 0;
    char **names;

    *ret = NULL;
    *n = 0;
    if (sov_seca_object_list(env->ctx, env->tenant_id, env->workspace, SOV_SECA_SG_OBJECT, "",
                             &objs, &nobjs, err) < 0)
        return -1;
    names = calloc(nobjs ? nobjs : 1, sizeof(*names));
    if (!names) {
        sov_seca_objects_free(objs, nobjs);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < nobjs; i++)
        if (names_rule(env, json_object_get(objs[i].spec, "spec"), rule))
            names[k++] = strdup(objs[i].name);
    sov_seca_objects_free(objs, nobjs);
    *ret = names;
    *n = k;
    return 0;
}

/* Group name's id and kept SECA spec (*side NULL: it has none, a group made through /v1, or
 * it is gone). */
static int
group_side(const sov_seca_sg_env *env, const char *name, char *id, json_t **side,
           sov_error *err)
{
    *side = NULL;
    if (sov_security_group_resolve(env->ctx, env->tenant_id, env->workspace, name, id,
                                   err) < 0)
        return err->code == SOV_E_NOT_FOUND ? 0 : -1;
    *side = sov_seca_object_beside(env->ctx, env->tenant_id, env->workspace,
                                   SOV_SECA_SG_OBJECT, name, id);
    return 0;
}

int
sov_seca_sg_rule_changing(const sov_seca_sg_env *env, const char *rule, const json_t *spec,
                          char *const *groups, size_t n, sov_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char id[SOV_UUID_LEN + 1], msg[sizeof(err->msg)];
        json_t *side = NULL;
        sov_seca_sg_rules x = { 0 };
        int rc;

        if (group_side(env, groups[i], id, &side, err) < 0)
            return -1;
        if (!side)
            continue;
        rc = group_expand(env, json_object_get(side, "spec"), rule, spec, &x, err);
        sov_seca_sg_rules_release(&x);
        json_decref(side);
        if (rc == 0)
            continue;
        snprintf(msg, sizeof(msg), "%s", err->msg);
        return sov_error_invalid(err, "/spec", "security group '%s' names this rule and "
                                 "could not take it: %s", groups[i], msg);
    }
    return 0;
}

/* Group `name`'s rules replaced by its SECA spec's effective ones, rule reading spec; its
 * meta records the update following the operation. */
static int
group_apply(const sov_seca_sg_env *env, const char *name, const char *rule,
            const json_t *spec, sov_error *err)
{
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    json_t *side = NULL;
    sov_seca_sg_rules x = { 0 };
    char id[SOV_UUID_LEN + 1];
    sov_seca_meta m;
    sov_op op;
    int rc;

    if (group_side(env, name, id, &side, err) < 0)
        return -1;
    if (!side)
        return 0;
    rc = group_expand(env, json_object_get(side, "spec"), rule, spec, &x, err);
    if (rc == 0)
        rc = rules_args(&x, err);
    if (rc == 0) {
        rc = sov_sg_rules_replace(env->ctx, env->tenant_id, id, x.args, x.n, &g, &op, err);
        if (rc < 0)
            sov_seca_sg_rules_repoint(&x, err);
    }
    sov_seca_sg_rules_release(&x);
    json_decref(side);
    if (rc < 0)
        return -1;
    sov_seca_write w = { .resource_id = g.id, .tenant_id = env->tenant_id,
                         .kind = SOV_SECA_SG_OBJECT, .change = SOV_SECA_UPDATED,
                         .op_id = op.id[0] ? op.id : NULL };
    memset(&m, 0, sizeof(m));
    rc = sov_seca_meta_write(env->ctx, &w, &m, err);
    sov_seca_meta_clear(&m);
    return rc;
}

int
sov_seca_sg_rule_changed(const sov_seca_sg_env *env, const char *rule, const json_t *spec,
                         char *const *groups, size_t n, sov_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (group_apply(env, groups[i], rule, spec, err) < 0) {
            sov_log_warn("SECA rule '%s' changed, group '%s' kept its rules: %s", rule,
                         groups[i], err->msg);
            return -1;
        }
    return 0;
}
