/* seca_netsec.c: the network provider (seca.network), part two: NICs (our ports), public IPs
 * (ours), security groups (ours) and security group rules (SECA objects, sov/seca.h).
 *
 * Each write calls the same service as /v1 (network.h), so quotas, residency policy, audit
 * and residency records apply unchanged; the SECA meta (labels, resourceVersion, conditions)
 * is recorded after the service. What SECA says that our rows cannot hold is kept as a SECA
 * object beside the resource, holding the resource's id so that a /v1 resource made later
 * under the same name never shows a stale one:
 * - "security-group": the group's spec as given ({id, spec}): its inline rules and ruleRefs.
 *   A group's effective rules are its inline rules and the rules its ruleRefs name,
 *   translated into ours (tcp+udp is two rules, each port of a list one rule, each sourceRef
 *   one rule); a change of a referenced rule replaces the rule set of every group naming it,
 *   and a rule that groups name cannot be deleted (412 naming them).
 * - "nic": a NIC's addresses and skuRef as given ({id, addresses, skuRef}).
 * - "security-group-rule": the named rules themselves (their spec).
 *
 * Departures (the surface's note lists them): IPv4 only (a rule of version IPv6, an IPv6
 * source, an IPv6 NIC address or public IP is refused); an ICMP rule allows every ICMPv4
 * type and code; a NIC has one IPv4 address ("::" entries are accepted and left unassigned),
 * at most 8 security groups and one public IP; names follow our slugs (at most 63). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seca.h"
#include "sov/network.h"

static const sov_seca_type T_SG = { "seca.network", "security-group", "security-groups",
                                    SOV_SECA_WORKSPACE, true };
static const sov_seca_type T_RULE = { "seca.network", "security-group-rule",
                                      "security-group-rules", SOV_SECA_WORKSPACE, true };
static const sov_seca_type T_NIC = { "seca.network", "nic", "nics", SOV_SECA_WORKSPACE, true };
static const sov_seca_type T_PIP = { "seca.network", "public-ip", "public-ips",
                                     SOV_SECA_WORKSPACE, true };
static const sov_seca_type T_SUBNET = { "seca.network", "subnet", "subnets", SOV_SECA_NETWORK,
                                        true };

#define OBJ_SG "security-group"
#define OBJ_NIC "nic"
#define EFFECTIVE_MAX 500       /* a group's translated rules (SECA's maxItems of rules) */
#define LIST_PAGE 100

/* ---- small helpers ---- */

/* The SECA state a live resource reads as from its /v1 state: the meta's followed operation
 * gives the rest of the history. */
static sov_seca_state
state_now(const char *state)
{
    if (strcmp(state, "error") == 0)
        return SOV_SECA_ERROR;
    if (strcmp(state, "deleting") == 0)
        return SOV_SECA_DELETING;
    return SOV_SECA_ACTIVE;
}

/* A service's field (its /v1 member) as the SECA pointer the client wrote. */
typedef struct repoint {
    const char *field, *pointer;
} repoint;

static void
repoint_err(sov_error *err, const repoint *map, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(err->field, map[i].field) == 0) {
            snprintf(err->field, sizeof(err->field), "%.63s", map[i].pointer);
            return;
        }
}

/* if-unmodified-since on a DELETE (no envelope): 0 when absent. */
static int
header_version(sov_request *req, long long *ret, sov_error *err)
{
    const char *h = sov_request_header(req, "if-unmodified-since");
    char *end = NULL;
    long long v;

    *ret = 0;
    if (!h)
        return 0;
    errno = 0;
    v = strtoll(h, &end, 10);
    if (errno != 0 || end == h || *end || v < 1)
        return sov_error_invalid(err, "if-unmodified-since", "if-unmodified-since must be "
                                 "a resourceVersion (an integer from 1)");
    *ret = v;
    return 0;
}

/* Members of obj other than the names given: SOV_E_INVALID naming the first. */
static int
only_members(const json_t *obj, const char *at, const char *const *names, sov_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *) obj, key, v) {
        size_t k = 0;
        (void) v;
        while (names[k] && strcmp(names[k], key) != 0)
            k++;
        if (!names[k])
            return sov_error_invalid(err, at, "%s/%.40s: unknown member '%.40s'", at, key,
                                     key);
    }
    return 0;
}

static int
bad(sov_error *err, const char *pointer, const char *what)
{
    return sov_error_invalid(err, pointer, "%s: %s", pointer, what);
}

static int
gone(sov_error *err, const char *noun, const char *name)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "%s '%s' does not exist", noun, name);
}

/* A reference that must name something of the request's workspace. */
static int
ref_here(sov_request *req, const json_t *ref, const char *plural, const char *pointer,
         sov_seca_ref *r, sov_error *err)
{
    if (sov_seca_ref_read(req, ref, plural, pointer, r, err) < 0)
        return -1;
    if (r->workspace[0] && strcmp(r->workspace, sov_seca_workspace(req)) != 0)
        return bad(err, pointer, "must name a resource of this workspace");
    return 0;
}

static void
meta_cleanup(sov_seca_meta *m)
{
    sov_seca_meta_clear(m);
}

/* The write of a SECA change after the service made it. */
static int
meta_write(sov_request *req, const char *id, const char *kind, sov_seca_change change,
           const sov_seca_input *in, const char *op_id, sov_seca_meta *m, sov_error *err)
{
    sov_seca_write w = {
        .resource_id = id, .tenant_id = sov_seca_tenant_id(req), .kind = kind,
        .change = change, .op_id = op_id && op_id[0] ? op_id : NULL,
    };

    if (in) {
        w.labels = in->labels;
        w.annotations = in->annotations;
        w.extensions = in->extensions;
    }
    return sov_seca_meta_write(&req->ctx, &w, m, err);
}

/* The object kept beside resource id (kind OBJ_*), its "id" checked: NULL when none. */
static json_t *
side_spec(sov_request *req, const char *kind, const char *name, const char *id)
{
    sov_seca_object o;
    sov_error err = SOV_ERROR_INIT;
    json_t *ret = NULL;

    memset(&o, 0, sizeof(o));
    if (sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), kind,
                            "", name, &o, &err) < 0)
        return NULL;
    if (json_is_object(o.spec) &&
        json_is_string(json_object_get(o.spec, "id")) &&
        strcmp(json_string_value(json_object_get(o.spec, "id")), id) == 0)
        ret = json_incref(o.spec);
    sov_seca_object_clear(&o);
    return ret;
}

static int
side_put(sov_request *req, const char *kind, const char *name, const char *region,
         json_t *spec, sov_error *err)
{
    sov_seca_object o;
    bool created;
    int rc;

    memset(&o, 0, sizeof(o));
    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", sov_seca_tenant_id(req));
    snprintf(o.workspace, sizeof(o.workspace), "%s", sov_seca_workspace(req));
    snprintf(o.kind, sizeof(o.kind), "%s", kind);
    snprintf(o.name, sizeof(o.name), "%s", name);
    snprintf(o.region, sizeof(o.region), "%s", region);
    o.spec = spec;
    rc = sov_seca_object_put(&req->ctx, &o, &created, err);
    o.spec = NULL;
    sov_seca_object_clear(&o);
    return rc;
}

static void
side_forget(sov_request *req, const char *kind, const char *name)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_seca_object_delete(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                               kind, "", name, &err) < 0 && err.code != SOV_E_NOT_FOUND)
        sov_log_warn("could not forget the SECA %s spec of '%s': %s", kind, name, err.msg);
}

/* ---- rules: SECA's shape into ours ---- */

/* One rule of ours, with the pointer of the SECA rule it comes from. */
typedef struct xrule {
    char direction[8], protocol[8], ports[12], cidr[64], group[SOV_SECA_NAME_MAX + 1];
    char description[128];
    char pointer[64];
} xrule;

typedef struct xlate {
    xrule *r;
    size_t n, cap;
} xlate;

static void
xlate_free(xlate *x)
{
    free(x->r);
    x->r = NULL;
    x->n = x->cap = 0;
}

static xrule *
xlate_add(xlate *x, sov_error *err, const char *pointer)
{
    if (x->n == EFFECTIVE_MAX) {
        sov_error_invalid(err, pointer, "%s: a security group has at most %d rules once "
                          "protocols, ports and sources are expanded", pointer, EFFECTIVE_MAX);
        return NULL;
    }
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        xrule *r = realloc(x->r, cap * sizeof(*r));
        if (!r) {
            sov_error_set(err, SOV_E_INTERNAL, "out of memory");
            return NULL;
        }
        x->r = r;
        x->cap = cap;
    }
    memset(&x->r[x->n], 0, sizeof(x->r[0]));
    return &x->r[x->n++];
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
source_read(sov_request *req, const json_t *ref, const char *pointer, bool check, char *cidr,
            char *group, sov_error *err)
{
    const char *s = json_is_string(ref) ? json_string_value(ref)
                                        : json_string_value(json_object_get(ref, "resource"));
    sov_seca_ref r;

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
    if (ref_here(req, ref, "security-groups", pointer, &r, err) < 0)
        return -1;
    if (check) {
        char id[SOV_UUID_LEN + 1];
        if (sov_security_group_resolve(&req->ctx, sov_seca_tenant_id(req),
                                       sov_seca_workspace(req), r.name, id, err) < 0) {
            if (err->code == SOV_E_NOT_FOUND)
                snprintf(err->field, sizeof(err->field), "%.63s", pointer);
            return -1;
        }
    }
    snprintf(group, SOV_SECA_NAME_MAX + 1, "%s", r.name);
    return 0;
}

/* A SecurityGroupRuleSpec at pointer checked and expanded into x (description: where it
 * comes from, shown by /v1). check: source groups must exist now (a named rule; a group's
 * inline rule may name the group itself, which the service resolves). */
static int
rule_expand(sov_request *req, const json_t *spec, const char *pointer, const char *description,
            bool check, xlate *x, sov_error *err)
{
    static const char *const members[] = { "annotations", "direction", "version", "protocol",
                                           "ports", "icmp", "sourceRef", NULL };
    static const char *const port_members[] = { "from", "to", "list", NULL };
    static const char *const icmp_members[] = { "type", "code", NULL };
    char at[128], src_at[160];
    const char *direction, *protocol = NULL;
    const char *protos[2];
    size_t nprotos = 0, nranges = 0, nsources = 0;
    int ranges[101][2];
    char cidrs[32][64], groups[32][SOV_SECA_NAME_MAX + 1];
    json_t *v, *ports, *icmp, *src;
    size_t i;

    if (!json_is_object(spec))
        return bad(err, pointer, "must be a security group rule {direction, protocol?, "
                   "ports?, icmp?, sourceRef?, version?}");
    if (only_members(spec, pointer, members, err) < 0)
        return -1;
    snprintf(at, sizeof(at), "%s/direction", pointer);
    v = json_object_get(spec, "direction");
    direction = json_string_value(v);
    if (!direction || (strcmp(direction, "ingress") != 0 && strcmp(direction, "egress") != 0))
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
    if (v && !json_is_null(v)) {
        protocol = json_string_value(v);
        if (!protocol || (strcmp(protocol, "tcp") != 0 && strcmp(protocol, "udp") != 0 &&
                          strcmp(protocol, "tcp+udp") != 0 && strcmp(protocol, "icmp") != 0))
            return bad(err, at, "must be tcp, udp, tcp+udp or icmp");
    }
    if (!protocol)
        protos[nprotos++] = "any";
    else if (strcmp(protocol, "tcp+udp") == 0) {
        protos[nprotos++] = "tcp";
        protos[nprotos++] = "udp";
    } else
        protos[nprotos++] = protocol;
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

    ports = json_object_get(spec, "ports");
    snprintf(at, sizeof(at), "%s/ports", pointer);
    if (ports && !json_is_null(ports)) {
        json_t *from = NULL, *to = NULL, *list = NULL;
        int lo = 0, hi = 0;

        if (!json_is_object(ports))
            return bad(err, at, "must be an object {from?, to?, list?}");
        if (only_members(ports, at, port_members, err) < 0)
            return -1;
        if (!protocol || strcmp(protocol, "icmp") == 0)
            return bad(err, at, "ports are for protocol tcp, udp or tcp+udp");
        from = json_object_get(ports, "from");
        to = json_object_get(ports, "to");
        list = json_object_get(ports, "list");
        snprintf(src_at, sizeof(src_at), "%s/from", at);
        if (from && port_member(from, src_at, &lo, err) < 0)
            return -1;
        snprintf(src_at, sizeof(src_at), "%s/to", at);
        if (to && port_member(to, src_at, &hi, err) < 0)
            return -1;
        if (from && to && lo > hi)
            return bad(err, src_at, "the range runs from 'from' up to 'to': to must not be "
                       "below from");
        if (from || to) {
            ranges[nranges][0] = from ? lo : hi;
            ranges[nranges][1] = to ? hi : lo;
            nranges++;
        }
        if (list) {
            json_t *p;
            snprintf(src_at, sizeof(src_at), "%s/list", at);
            if (!json_is_array(list) || json_array_size(list) > 100)
                return bad(err, src_at, "must be a list of at most 100 ports");
            json_array_foreach(list, i, p) {
                char item[200];
                int n;
                snprintf(item, sizeof(item), "%s/%zu", src_at, i);
                if (port_member(p, item, &n, err) < 0)
                    return -1;
                ranges[nranges][0] = ranges[nranges][1] = n;
                nranges++;
            }
        }
    }

    icmp = json_object_get(spec, "icmp");
    snprintf(at, sizeof(at), "%s/icmp", pointer);
    if (icmp && !json_is_null(icmp)) {
        json_t *t, *c;
        if (!json_is_object(icmp))
            return bad(err, at, "must be an object {type, code}");
        if (only_members(icmp, at, icmp_members, err) < 0)
            return -1;
        if (!protocol || strcmp(protocol, "icmp") != 0)
            return bad(err, at, "icmp is for protocol icmp");
        t = json_object_get(icmp, "type");
        c = json_object_get(icmp, "code");
        snprintf(src_at, sizeof(src_at), "%s/type", at);
        if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 8)
            return bad(err, src_at, "is required: an integer from 0 to 8");
        snprintf(src_at, sizeof(src_at), "%s/code", at);
        if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 5)
            return bad(err, src_at, "is required: an integer from 0 to 5");
    }

    src = json_object_get(spec, "sourceRef");
    snprintf(at, sizeof(at), "%s/sourceRef", pointer);
    if (src && !json_is_null(src)) {
        json_t *ref;
        if (!json_is_array(src) || json_array_size(src) > 32)
            return bad(err, at, "must be a list of at most 32 references");
        json_array_foreach(src, i, ref) {
            snprintf(src_at, sizeof(src_at), "%s/%zu", at, i);
            if (source_read(req, ref, src_at, check, cidrs[nsources], groups[nsources],
                            err) < 0)
                return -1;
            nsources++;
        }
    }

    /* protocols x port ranges x sources, each one rule of ours, checked as the service will
     * check it so that a named rule is refused at its own PUT. */
    for (size_t p = 0; p < nprotos; p++)
        for (size_t r = 0; r < (nranges ? nranges : 1); r++)
            for (size_t s = 0; s < (nsources ? nsources : 1); s++) {
                xrule *o = xlate_add(x, err, pointer);
                sov_sg_rule_args a = { 0 };
                sov_sg_rule parsed;

                if (!o)
                    return -1;
                snprintf(o->direction, sizeof(o->direction), "%s", direction);
                snprintf(o->protocol, sizeof(o->protocol), "%s", protos[p]);
                if (nranges && ranges[r][0] == ranges[r][1])
                    snprintf(o->ports, sizeof(o->ports), "%d", ranges[r][0]);
                else if (nranges)
                    snprintf(o->ports, sizeof(o->ports), "%d-%d", ranges[r][0], ranges[r][1]);
                if (nsources && cidrs[s][0])
                    snprintf(o->cidr, sizeof(o->cidr), "%.63s", cidrs[s]);
                if (nsources && groups[s][0])
                    snprintf(o->group, sizeof(o->group), "%.128s", groups[s]);
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
                             strcmp(err->field, "remote_cidr") == 0 ? at : pointer);
                    return -1;
                }
            }
    return 0;
}

/* x as the service's rule arguments (borrowing x's strings): *ret to free(). */
static int
xlate_args(const xlate *x, sov_sg_rule_args **ret, sov_error *err)
{
    sov_sg_rule_args *a = calloc(x->n ? x->n : 1, sizeof(*a));

    if (!a)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < x->n; i++) {
        const xrule *o = &x->r[i];
        a[i].direction = o->direction;
        a[i].protocol = o->protocol;
        a[i].ports = o->ports[0] ? o->ports : NULL;
        a[i].remote_cidr = o->cidr[0] ? o->cidr : NULL;
        a[i].remote_group = o->group[0] ? o->group : NULL;
        a[i].description = o->description;
    }
    *ret = a;
    return 0;
}

/* A service error about our rule k ("rules[k].remote_group") as the pointer of the SECA rule
 * it comes from. */
static void
xlate_repoint(const xlate *x, sov_error *err)
{
    unsigned long k;
    char *end;

    if (strncmp(err->field, "rules[", 6) != 0)
        return;
    k = strtoul(err->field + 6, &end, 10);
    if (*end == ']' && k < x->n)
        snprintf(err->field, sizeof(err->field), "%.63s", x->r[k].pointer);
}

/* ---- security group rules (SECA objects) ---- */

static int
rule_object(sov_request *req, const char *name, sov_seca_object *o, sov_error *err)
{
    memset(o, 0, sizeof(*o));
    if (sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                            T_RULE.kind, "", name, o, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            gone(err, "security group rule", name);
        return -1;
    }
    return 0;
}

static json_t *
rule_render(sov_request *req, const sov_seca_object *o, const sov_seca_meta *m)
{
    return sov_seca_resource(req, &T_RULE, o->workspace, NULL, o->name, o->region, m,
                             json_deep_copy(o->spec), json_object(), NULL);
}

static json_t *
rule_load_render(sov_request *req, const sov_seca_object *o, sov_error *err)
{
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };

    if (sov_seca_meta_get(&req->ctx, o->id, T_RULE.kind, SOV_SECA_ACTIVE, o->created_at, &m,
                          err) < 0)
        return NULL;
    return rule_render(req, o, &m);
}

enum MHD_Result
sov_seca_network_security_group_rules_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    json_t *body;
    enum MHD_Result rc;

    if (rule_object(req, sov_seca_name(req), &o, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    body = rule_load_render(req, &o, &err);
    sov_seca_object_clear(&o);
    if (!body)
        return sov_seca_reply_error(req, &err, false);
    rc = sov_seca_reply(req, MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_security_group_rules_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    sov_seca_object *objs = NULL;
    size_t n = 0;
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                             T_RULE.kind, "", &objs, &n, &err) < 0) {
        sov_seca_list_free(l);
        return sov_seca_reply_error(req, &err, false);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = rule_load_render(req, &objs[i], &err);
        if (!item) {
            sov_seca_objects_free(objs, n);
            sov_seca_list_free(l);
            return sov_seca_reply_error(req, &err, false);
        }
        sov_seca_list_add(l, item);
    }
    sov_seca_objects_free(objs, n);
    rc = sov_seca_list_reply(req, &T_RULE, l);
    sov_seca_list_free(l);
    return rc;
}

/* The groups of the workspace whose SECA spec names rule `name` in its ruleRefs: their names
 * into *ret (free each and the array), their count into *n. */
static int
rule_users(sov_request *req, const char *name, char ***ret, size_t *n, sov_error *err)
{
    sov_seca_object *objs = NULL;
    size_t nobjs = 0, k = 0;
    char **names;

    *ret = NULL;
    *n = 0;
    if (sov_seca_object_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                             OBJ_SG, "", &objs, &nobjs, err) < 0)
        return -1;
    names = calloc(nobjs ? nobjs : 1, sizeof(*names));
    if (!names) {
        sov_seca_objects_free(objs, nobjs);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < nobjs; i++) {
        json_t *refs = json_object_get(json_object_get(objs[i].spec, "spec"), "ruleRefs");
        json_t *ref;
        size_t j;
        bool uses = false;

        json_array_foreach(refs, j, ref) {
            sov_seca_ref r;
            sov_error ignore = SOV_ERROR_INIT;
            if (sov_seca_ref_read(req, ref, T_RULE.plural, "/spec/ruleRefs", &r, &ignore) == 0
                && strcmp(r.name, name) == 0)
                uses = true;
        }
        if (uses)
            names[k++] = strdup(objs[i].name);
    }
    sov_seca_objects_free(objs, nobjs);
    *ret = names;
    *n = k;
    return 0;
}

static void
names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int group_apply(sov_request *req, const char *name, const char *changed_rule,
                       const json_t *changed_spec, sov_error *err);
static int group_check(sov_request *req, const char *name, const char *changed_rule,
                       const json_t *changed_spec, sov_error *err);

enum MHD_Result
sov_seca_network_security_group_rules_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    sov_seca_object o, old;
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    xlate x = { 0 };
    char region[65];
    char **users = NULL;
    size_t nusers = 0;
    bool exists, created = false;
    json_t *body;
    enum MHD_Result rc;

    memset(&o, 0, sizeof(o));
    memset(&old, 0, sizeof(old));
    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        rule_expand(req, in.spec, "/spec", "", true, &x, &err) < 0)
        goto fail;
    xlate_free(&x);
    exists = rule_object(req, sov_seca_name(req), &old, &err) == 0;
    if (!exists && err.code != SOV_E_NOT_FOUND)
        goto fail;
    sov_error_clear(&err);
    if (exists) {
        if (sov_seca_meta_check_version(&req->ctx, old.id, in.if_version, &err) < 0)
            goto fail;
        snprintf(region, sizeof(region), "%s", old.region);
    } else if (sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        goto fail;
    /* The groups naming it take the new rule: each checked before anything is written. */
    if (exists && rule_users(req, sov_seca_name(req), &users, &nusers, &err) < 0)
        goto fail;
    for (size_t i = 0; i < nusers; i++)
        if (group_check(req, users[i], sov_seca_name(req), in.spec, &err) < 0)
            goto fail;
    if (side_put(req, T_RULE.kind, sov_seca_name(req), region, in.spec, &err) < 0 ||
        rule_object(req, sov_seca_name(req), &o, &err) < 0)
        goto fail;
    created = !exists;
    if (meta_write(req, o.id, T_RULE.kind, created ? SOV_SECA_CREATED : SOV_SECA_UPDATED, &in,
                   NULL, &m, &err) < 0)
        goto fail;
    for (size_t i = 0; i < nusers; i++)
        if (group_apply(req, users[i], sov_seca_name(req), in.spec, &err) < 0) {
            sov_log_warn("SECA rule '%s' changed, group '%s' kept its rules: %s",
                         sov_seca_name(req), users[i], err.msg);
            goto fail;
        }
    names_free(users, nusers);
    body = rule_render(req, &o, &m);
    sov_seca_object_clear(&o);
    sov_seca_object_clear(&old);
    rc = sov_seca_reply(req, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
fail:
    xlate_free(&x);
    names_free(users, nusers);
    sov_seca_object_clear(&o);
    sov_seca_object_clear(&old);
    return sov_seca_reply_error(req, &err, true);
}

enum MHD_Result
sov_seca_network_security_group_rules_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_object o;
    char **users = NULL;
    size_t nusers = 0;
    long long version;

    if (rule_object(req, sov_seca_name(req), &o, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, o.id, version, &err) < 0 ||
        rule_users(req, o.name, &users, &nusers, &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, true);
    }
    if (nusers > 0) {
        sov_error_set(&err, SOV_E_CONFLICT, "security group rule '%s' is named by the "
                      "ruleRefs of security group '%s'%s: remove it there first", o.name,
                      users[0], nusers > 1 ? " and others" : "");
        names_free(users, nusers);
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, true);
    }
    names_free(users, nusers);
    if (sov_seca_object_delete(&req->ctx, o.tenant_id, o.workspace, T_RULE.kind, "", o.name,
                               &err) < 0) {
        sov_seca_object_clear(&o);
        return sov_seca_reply_error(req, &err, false);
    }
    /* Gone at once: nothing is left for the meta to describe. */
    if (sov_seca_meta_forget(&req->ctx, o.id, &err) < 0)
        sov_log_warn("could not forget the SECA meta of rule '%s': %s", o.name, err.msg);
    sov_seca_object_clear(&o);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

/* ---- security groups ---- */

static const char *const SG_MEMBERS[] = { "rules", "ruleRefs", NULL };

/* A SecurityGroupSpec checked and expanded into x. changed_rule/changed_spec: a named rule's
 * spec to use instead of its stored one (a rule being changed). */
static int
group_expand(sov_request *req, const json_t *spec, const char *changed_rule,
             const json_t *changed_spec, xlate *x, sov_error *err)
{
    json_t *rules, *refs, *v;
    size_t i;

    if (!json_is_object(spec))
        return bad(err, "/spec", "must be an object {rules?, ruleRefs?}");
    if (only_members(spec, "/spec", SG_MEMBERS, err) < 0)
        return -1;
    rules = json_object_get(spec, "rules");
    if (rules && !json_is_null(rules)) {
        if (!json_is_array(rules) || json_array_size(rules) > 500)
            return bad(err, "/spec/rules", "must be a list of at most 500 rules");
        json_array_foreach(rules, i, v) {
            char at[48], description[48];
            snprintf(at, sizeof(at), "/spec/rules/%zu", i);
            snprintf(description, sizeof(description), "seca rules[%zu]", i);
            if (rule_expand(req, v, at, description, false, x, err) < 0)
                return -1;
        }
    }
    refs = json_object_get(spec, "ruleRefs");
    if (refs && !json_is_null(refs)) {
        if (!json_is_array(refs) || json_array_size(refs) > 500)
            return bad(err, "/spec/ruleRefs", "must be a list of at most 500 references");
        json_array_foreach(refs, i, v) {
            char at[48], description[160];
            sov_seca_ref r;
            sov_seca_object o;
            int rc;

            snprintf(at, sizeof(at), "/spec/ruleRefs/%zu", i);
            if (ref_here(req, v, T_RULE.plural, at, &r, err) < 0)
                return -1;
            snprintf(description, sizeof(description), "seca security-group-rules/%s",
                     r.name);
            if (changed_rule && strcmp(r.name, changed_rule) == 0) {
                if (rule_expand(req, changed_spec, at, description, false, x, err) < 0)
                    return -1;
                continue;
            }
            if (rule_object(req, r.name, &o, err) < 0) {
                snprintf(err->field, sizeof(err->field), "%.63s", at);
                return -1;
            }
            rc = rule_expand(req, o.spec, at, description, false, x, err);
            sov_seca_object_clear(&o);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

/* Group `name` of the request's workspace: its id, then the group (released by caller). */
static int
group_load(sov_request *req, const char *name, sov_security_group *g, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    memset(g, 0, sizeof(*g));
    if (sov_security_group_resolve(&req->ctx, sov_seca_tenant_id(req),
                                   sov_seca_workspace(req), name, id, err) < 0 ||
        sov_security_group_get(&req->ctx, sov_seca_tenant_id(req), id, g, err) < 0)
        return -1;
    if (strcmp(g->workspace, sov_seca_workspace(req)) != 0 || strcmp(g->name, name) != 0) {
        sov_security_group_release(g);
        return gone(err, "security group", name);
    }
    return 0;
}

/* Group name's rules replaced by its SECA spec's effective ones (a named rule changed:
 * changed_rule with its new spec); its meta records the update following the operation. */
static int
group_apply(sov_request *req, const char *name, const char *changed_rule,
            const json_t *changed_spec, sov_error *err)
{
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = NULL;
    sov_autofree sov_sg_rule_args *args = NULL;
    xlate x = { 0 };
    sov_op op;
    int rc;

    if (group_load(req, name, &g, err) < 0)
        return -1;
    side = side_spec(req, OBJ_SG, name, g.id);
    if (!side)
        return 0;
    sov_security_group_release(&g);
    if (group_expand(req, json_object_get(side, "spec"), changed_rule, changed_spec, &x,
                     err) < 0 ||
        xlate_args(&x, &args, err) < 0) {
        xlate_free(&x);
        return -1;
    }
    rc = sov_sg_rules_replace(&req->ctx, sov_seca_tenant_id(req), json_string_value(
                                  json_object_get(side, "id")), args, x.n, &g, &op, err);
    if (rc < 0)
        xlate_repoint(&x, err);
    xlate_free(&x);
    if (rc < 0)
        return -1;
    return meta_write(req, g.id, T_SG.kind, SOV_SECA_UPDATED, NULL, op.id, &m, err);
}

/* Whether group name's SECA spec still expands once changed_rule reads changed_spec (the
 * rules it would take are within what one group holds); a group made through /v1 has none. */
static int
group_check(sov_request *req, const char *name, const char *changed_rule,
            const json_t *changed_spec, sov_error *err)
{
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    sov_autoptr(json_t) side = NULL;
    xlate x = { 0 };
    int rc;

    if (group_load(req, name, &g, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? 0 : -1;
    side = side_spec(req, OBJ_SG, name, g.id);
    if (!side)
        return 0;
    rc = group_expand(req, json_object_get(side, "spec"), changed_rule, changed_spec, &x, err);
    xlate_free(&x);
    if (rc < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        return sov_error_invalid(err, "/spec", "security group '%s' names this rule and "
                                 "could not take it: %s", name, msg);
    }
    return 0;
}

/* Our rule as SECA's (a group made through /v1 shows its rules this way). */
static json_t *
rule_to_seca(sov_request *req, const sov_sg_rule *r)
{
    json_t *j = json_pack("{s:s}", "direction", r->direction);

    if (strcmp(r->protocol, "any") != 0)
        json_object_set_new(j, "protocol", json_string(r->protocol));
    if (r->port_min > 0)
        json_object_set_new(j, "ports", json_pack("{s:i, s:i}", "from", r->port_min, "to",
                                                  r->port_max));
    if (r->remote_cidr[0])
        json_object_set_new(j, "sourceRef", json_pack("[{s:s}]", "resource", r->remote_cidr));
    else if (r->remote_group_id[0])
        json_object_set_new(j, "sourceRef", json_pack("[o]", sov_seca_ref_json(
                                                      req, &T_SG, NULL, NULL,
                                                      r->remote_group_name)));
    return j;
}

static json_t *
group_render(sov_request *req, const sov_security_group *g, const char *region,
             sov_error *err)
{
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = side_spec(req, OBJ_SG, g->name, g->id);
    json_t *spec, *rules = json_array(), *status;
    size_t nrules;

    if (sov_seca_meta_get(&req->ctx, g->id, T_SG.kind, state_now(g->state), g->created_at,
                          &m, err) < 0) {
        json_decref(rules);
        return NULL;
    }
    if (side) {
        spec = json_deep_copy(json_object_get(side, "spec"));
        nrules = json_array_size(json_object_get(spec, "rules")) +
                 json_array_size(json_object_get(spec, "ruleRefs"));
    } else {
        json_t *list = json_array();
        for (size_t i = 0; i < g->nrules; i++)
            json_array_append_new(list, rule_to_seca(req, &g->rules[i]));
        spec = json_pack("{s:o}", "rules", list);
        nrules = g->nrules;
    }
    /* Each SECA rule is as applied as its group: the group's sync writes them together. */
    for (size_t i = 0; i < nrules; i++)
        json_array_append_new(rules, json_pack("{s:s, s:[{s:s, s:s}]}", "state",
                                               sov_seca_state_name(sov_seca_meta_state(&m)),
                                               "conditions", "state",
                                               sov_seca_state_name(sov_seca_meta_state(&m)),
                                               "lastTransitionAt", m.modified_at[0]
                                                   ? m.modified_at : g->updated_at));
    status = json_pack("{s:o}", "rules", rules);
    return sov_seca_resource(req, &T_SG, g->workspace, NULL, g->name, region, &m, spec, status,
                             NULL);
}

static enum MHD_Result
group_reply(sov_request *req, unsigned status, const sov_security_group *g, const char *region)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *body = group_render(req, g, region, &err);
    enum MHD_Result rc;

    if (!body)
        return sov_seca_reply_error(req, &err, false);
    rc = sov_seca_reply(req, status, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_security_groups_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    char region[65];

    if (group_load(req, sov_seca_name(req), &g, &err) < 0 ||
        sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return group_reply(req, MHD_HTTP_OK, &g, region);
}

enum MHD_Result
sov_seca_network_security_groups_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    char region[65], after[SOV_TEXT_MAX * 4 + 1] = "";
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        goto fail;
    do {
        sov_security_group_page page = { 0 };
        if (sov_security_group_list(&req->ctx, sov_seca_tenant_id(req),
                                    sov_seca_workspace(req), after[0] ? after : NULL,
                                    LIST_PAGE, &page, &err) < 0)
            goto fail;
        for (size_t i = 0; i < page.n; i++) {
            json_t *item = group_render(req, &page.items[i], region, &err);
            if (!item) {
                sov_security_group_page_release(&page);
                goto fail;
            }
            sov_seca_list_add(l, item);
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        sov_security_group_page_release(&page);
    } while (after[0]);
    rc = sov_seca_list_reply(req, &T_SG, l);
    sov_seca_list_free(l);
    return rc;
fail:
    sov_seca_list_free(l);
    return sov_seca_reply_error(req, &err, false);
}

enum MHD_Result
sov_seca_network_security_groups_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_autofree sov_sg_rule_args *args = NULL;
    sov_autoptr(json_t) side = NULL;
    sov_seca_input in;
    xlate x = { 0 };
    char region[65];
    bool exists;
    sov_op op;
    int rc;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        group_expand(req, in.spec, NULL, NULL, &x, &err) < 0 ||
        xlate_args(&x, &args, &err) < 0 ||
        sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        goto fail;
    exists = group_load(req, sov_seca_name(req), &g, &err) == 0;
    if (!exists && err.code != SOV_E_NOT_FOUND)
        goto fail;
    sov_error_clear(&err);
    if (exists) {
        char id[SOV_UUID_LEN + 1];
        snprintf(id, sizeof(id), "%s", g.id);
        sov_security_group_release(&g);
        if (sov_seca_meta_check_version(&req->ctx, id, in.if_version, &err) < 0)
            goto fail;
        rc = sov_sg_rules_replace(&req->ctx, sov_seca_tenant_id(req), id, args, x.n, &g, &op,
                                  &err);
    } else {
        sov_security_group_create_args a = {
            .workspace = sov_seca_workspace(req), .name = sov_seca_name(req), .rules = args,
            .nrules = x.n, .no_default_rules = x.n == 0,
        };
        rc = sov_security_group_create(&req->ctx, sov_seca_tenant_id(req), &a, &g, &op, &err);
    }
    if (rc < 0) {
        xlate_repoint(&x, &err);
        goto fail;
    }
    xlate_free(&x);
    side = json_pack("{s:s, s:O}", "id", g.id, "spec", in.spec);
    if (side_put(req, OBJ_SG, g.name, region, side, &err) < 0 ||
        meta_write(req, g.id, T_SG.kind, exists ? SOV_SECA_UPDATED : SOV_SECA_CREATED, &in,
                   op.id, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return group_reply(req, exists ? MHD_HTTP_OK : MHD_HTTP_CREATED, &g, region);
fail:
    xlate_free(&x);
    return sov_seca_reply_error(req, &err, true);
}

enum MHD_Result
sov_seca_network_security_groups_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    long long version;
    sov_op op;

    if (group_load(req, sov_seca_name(req), &g, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, g.id, version, &err) < 0 ||
        sov_security_group_delete(&req->ctx, sov_seca_tenant_id(req), g.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (meta_write(req, g.id, T_SG.kind, SOV_SECA_DELETED, NULL, op.id, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    side_forget(req, OBJ_SG, g.name);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

/* ---- public IPs ---- */

static int
pip_load(sov_request *req, const char *name, sov_public_ip *ip, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    if (sov_public_ip_resolve(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                              name, id, err) < 0 ||
        sov_public_ip_get(&req->ctx, sov_seca_tenant_id(req), id, ip, err) < 0)
        return -1;
    if (strcmp(ip->workspace, sov_seca_workspace(req)) != 0 || strcmp(ip->name, name) != 0)
        return gone(err, "public IP", name);
    return 0;
}

static json_t *
pip_render(sov_request *req, const sov_public_ip *ip, sov_error *err)
{
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    json_t *status;

    if (sov_seca_meta_get(&req->ctx, ip->id, T_PIP.kind, state_now(ip->state), ip->created_at,
                          &m, err) < 0)
        return NULL;
    status = json_pack("{s:s}", "ipAddress", ip->address);
    if (ip->port_id[0]) {
        sov_port p;
        sov_error ignore = SOV_ERROR_INIT;
        if (sov_port_get(&req->ctx, ip->tenant_id, ip->port_id, &p, &ignore) == 0)
            json_object_set_new(status, "attachedTo",
                                sov_seca_ref_json(req, &T_NIC, p.workspace, NULL, p.name));
    }
    return sov_seca_resource(req, &T_PIP, ip->workspace, NULL, ip->name, ip->region, &m,
                             json_pack("{s:s, s:s}", "version", "IPv4", "address",
                                       ip->address),
                             status, sov_api_location_json(&ip->residency,
                                                           ip->residency_since));
}

static enum MHD_Result
pip_reply(sov_request *req, unsigned status, const sov_public_ip *ip)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *body = pip_render(req, ip, &err);
    enum MHD_Result rc;

    if (!body)
        return sov_seca_reply_error(req, &err, false);
    rc = sov_seca_reply(req, status, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_public_ips_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip ip;

    if (pip_load(req, sov_seca_name(req), &ip, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return pip_reply(req, MHD_HTTP_OK, &ip);
}

enum MHD_Result
sov_seca_network_public_ips_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    char after[SOV_TEXT_MAX * 4 + 1] = "";
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    do {
        sov_public_ip_page page = { 0 };
        if (sov_public_ip_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                               after[0] ? after : NULL, LIST_PAGE, &page, &err) < 0)
            goto fail;
        for (size_t i = 0; i < page.n; i++) {
            json_t *item = pip_render(req, &page.items[i], &err);
            if (!item) {
                free(page.items);
                goto fail;
            }
            sov_seca_list_add(l, item);
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    rc = sov_seca_list_reply(req, &T_PIP, l);
    sov_seca_list_free(l);
    return rc;
fail:
    sov_seca_list_free(l);
    return sov_seca_reply_error(req, &err, false);
}

enum MHD_Result
sov_seca_network_public_ips_put(sov_request *req)
{
    static const char *const members[] = { "version", "address", NULL };
    static const repoint map[] = { { "address", "/spec/address" },
                                   { "region", "/metadata/region" } };
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_seca_input in;
    sov_public_ip ip;
    const char *version, *address;
    char region[65];
    sov_op op;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        only_members(in.spec, "/spec", members, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    version = json_string_value(json_object_get(in.spec, "version"));
    address = json_string_value(json_object_get(in.spec, "address"));
    if (!version || (strcmp(version, "IPv4") != 0 && strcmp(version, "IPv6") != 0)) {
        bad(&err, "/spec/version", "is required: IPv4 or IPv6");
        return sov_seca_reply_error(req, &err, true);
    }
    if (strcmp(version, "IPv6") == 0) {
        bad(&err, "/spec/version", "IPv6 public IPs are not served: the pools hold IPv4");
        return sov_seca_reply_error(req, &err, true);
    }
    if (json_object_get(in.spec, "address") && !json_is_null(json_object_get(in.spec,
                                                                              "address")) &&
        (!address || strlen(address) > 39)) {
        bad(&err, "/spec/address", "must be an IPv4 address");
        return sov_seca_reply_error(req, &err, true);
    }
    if (address && !*address)
        address = NULL;
    if (address && strchr(address, ':')) {
        bad(&err, "/spec/address", "IPv6 public IPs are not served: the pools hold IPv4");
        return sov_seca_reply_error(req, &err, true);
    }
    if (pip_load(req, sov_seca_name(req), &ip, &err) == 0) {
        if (sov_seca_meta_check_version(&req->ctx, ip.id, in.if_version, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        if (address && strcmp(address, ip.address) != 0) {
            bad(&err, "/spec/address", "cannot change: the public IP holds its address until "
                "it is deleted");
            return sov_seca_reply_error(req, &err, true);
        }
        if (meta_write(req, ip.id, T_PIP.kind, SOV_SECA_UPDATED, &in, NULL, &m, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        return pip_reply(req, MHD_HTTP_OK, &ip);
    }
    if (err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    sov_error_clear(&err);
    if (sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    sov_public_ip_create_args a = {
        .workspace = sov_seca_workspace(req), .name = sov_seca_name(req), .region = region,
        .address = address,
    };
    if (sov_public_ip_create(&req->ctx, sov_seca_tenant_id(req), &a, &ip, &op, &err) < 0) {
        repoint_err(&err, map, SOV_N_ELEMENTS(map));
        return sov_seca_reply_error(req, &err, true);
    }
    if (meta_write(req, ip.id, T_PIP.kind, SOV_SECA_CREATED, &in, op.id, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return pip_reply(req, MHD_HTTP_CREATED, &ip);
}

enum MHD_Result
sov_seca_network_public_ips_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_public_ip ip;
    long long version;
    sov_op op;

    if (pip_load(req, sov_seca_name(req), &ip, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, ip.id, version, &err) < 0 ||
        sov_public_ip_delete(&req->ctx, sov_seca_tenant_id(req), ip.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (meta_write(req, ip.id, T_PIP.kind, SOV_SECA_DELETED, NULL, op.id, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}

/* ---- NICs ---- */

static int
nic_load(sov_request *req, const char *name, sov_port *p, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    if (sov_port_resolve(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), name, id,
                         err) < 0 ||
        sov_port_get(&req->ctx, sov_seca_tenant_id(req), id, p, err) < 0)
        return -1;
    if (strcmp(p->workspace, sov_seca_workspace(req)) != 0 || strcmp(p->name, name) != 0)
        return gone(err, "NIC", name);
    return 0;
}

/* The public IP attached to port_id (its name into ret, "" none). */
static int
nic_public_ip(sov_request *req, const char *port_id, char *ret, sov_error *err)
{
    char after[SOV_TEXT_MAX * 4 + 1] = "";

    ret[0] = '\0';
    do {
        sov_public_ip_page page = { 0 };
        if (sov_public_ip_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                               after[0] ? after : NULL, LIST_PAGE, &page, err) < 0)
            return -1;
        for (size_t i = 0; i < page.n; i++)
            if (strcmp(page.items[i].port_id, port_id) == 0 &&
                strcmp(page.items[i].state, "detaching") != 0)
                snprintf(ret, SOV_NAME_MAX + 1, "%s", page.items[i].name);
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    return 0;
}

static json_t *
nic_render(sov_request *req, const sov_port *p, sov_error *err)
{
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = side_spec(req, OBJ_NIC, p->name, p->id);
    char pip[SOV_NAME_MAX + 1];
    json_t *spec, *status, *groups = json_array(), *pips = json_array();
    sov_network net;

    if (sov_network_get(&req->ctx, p->tenant_id, p->network_id, &net, err) < 0 ||
        nic_public_ip(req, p->id, pip, err) < 0 ||
        sov_seca_meta_get(&req->ctx, p->id, T_NIC.kind, state_now(p->state), p->created_at, &m,
                          err) < 0) {
        json_decref(groups);
        json_decref(pips);
        return NULL;
    }
    for (size_t i = 0; i < p->nsecurity_groups; i++) {
        SOV_CLEANUP(sov_security_group_release) sov_security_group g = { .rules = NULL };
        sov_error ignore = SOV_ERROR_INIT;
        if (sov_security_group_get(&req->ctx, p->tenant_id, p->security_groups[i], &g,
                                   &ignore) == 0)
            json_array_append_new(groups, sov_seca_ref_json(req, &T_SG, g.workspace, NULL,
                                                            g.name));
    }
    if (pip[0])
        json_array_append_new(pips, sov_seca_ref_json(req, &T_PIP, p->workspace, NULL, pip));
    spec = json_pack("{s:o, s:o, s:O, s:O}", "subnetRef",
                     sov_seca_ref_json(req, &T_SUBNET, p->workspace, p->network_name,
                                       p->subnet_name),
                     "addresses", side && json_object_get(side, "addresses")
                                      ? json_deep_copy(json_object_get(side, "addresses"))
                                      : json_pack("[s]", p->ip),
                     "securityGroupRefs", groups, "publicIpRefs", pips);
    if (side && json_object_get(side, "skuRef"))
        json_object_set(spec, "skuRef", json_object_get(side, "skuRef"));
    status = json_pack("{s:[s], s:s, s:o}", "addresses", p->ip, "macAddress", p->mac,
                       "publicIpRefs", pips);
    json_decref(groups);
    return sov_seca_resource(req, &T_NIC, p->workspace, NULL, p->name, net.region, &m, spec,
                             status, sov_api_location_json(&net.residency,
                                                           net.residency_since));
}

static enum MHD_Result
nic_reply(sov_request *req, unsigned status, const char *port_id)
{
    sov_error err = SOV_ERROR_INIT;
    sov_port p;
    json_t *body;
    enum MHD_Result rc;

    if (sov_port_get(&req->ctx, sov_seca_tenant_id(req), port_id, &p, &err) < 0 ||
        !(body = nic_render(req, &p, &err)))
        return sov_seca_reply_error(req, &err, false);
    rc = sov_seca_reply(req, status, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_nics_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_port p;
    json_t *body;
    enum MHD_Result rc;

    if (nic_load(req, sov_seca_name(req), &p, &err) < 0 || !(body = nic_render(req, &p, &err)))
        return sov_seca_reply_error(req, &err, false);
    rc = sov_seca_reply(req, MHD_HTTP_OK, body);
    json_decref(body);
    return rc;
}

enum MHD_Result
sov_seca_network_nics_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_list *l = NULL;
    char after[SOV_TEXT_MAX * 4 + 1] = "";
    enum MHD_Result rc;

    if (sov_seca_list_begin(req, &l, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    do {
        sov_port_page page = { 0 };
        if (sov_port_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), NULL,
                          NULL, NULL, NULL, after[0] ? after : NULL, LIST_PAGE, &page,
                          &err) < 0)
            goto fail;
        for (size_t i = 0; i < page.n; i++) {
            json_t *item = nic_render(req, &page.items[i], &err);
            if (!item) {
                free(page.items);
                goto fail;
            }
            sov_seca_list_add(l, item);
        }
        snprintf(after, sizeof(after), "%s", page.next_after);
        free(page.items);
    } while (after[0]);
    rc = sov_seca_list_reply(req, &T_NIC, l);
    sov_seca_list_free(l);
    return rc;
fail:
    sov_seca_list_free(l);
    return sov_seca_reply_error(req, &err, false);
}

/* A NIC's spec as checked: what the port takes. */
typedef struct nic_spec {
    char subnet_id[SOV_UUID_LEN + 1];
    char subnet_name[SOV_SECA_NAME_MAX + 1];
    char router_id[SOV_UUID_LEN + 1];           /* of the subnet's network; "" none */
    char ip[SOV_IP_MAX];                        /* "" any */
    const char *groups[SOV_NET_SG_MAX];
    char group_names[SOV_NET_SG_MAX][SOV_SECA_NAME_MAX + 1];
    size_t ngroups;
    bool has_groups;
    char pip_id[SOV_UUID_LEN + 1];              /* "" none */
    char pip_name[SOV_SECA_NAME_MAX + 1];
    json_t *sku;                                /* borrowed; NULL none */
} nic_spec;

/* One IPv4 address in dotted quad, strictly. */
static bool
ipv4_text(const char *s)
{
    unsigned parts = 0;

    while (*s) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (unsigned) (*s++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        parts++;
        if (*s == '.' && parts < 4)
            s++;
        else if (*s)
            return false;
    }
    return parts == 4;
}

static int
nic_spec_read(sov_request *req, const json_t *spec, nic_spec *ns, sov_error *err)
{
    static const char *const members[] = { "addresses", "subnetRef", "securityGroupRefs",
                                           "publicIpRefs", "skuRef", NULL };
    const char *tenant = sov_seca_tenant_id(req), *ws = sov_seca_workspace(req);
    json_t *addrs = json_object_get(spec, "addresses"), *v;
    json_t *groups = json_object_get(spec, "securityGroupRefs");
    json_t *pips = json_object_get(spec, "publicIpRefs");
    sov_seca_ref r;
    sov_subnet s;
    sov_network net;
    size_t i;

    memset(ns, 0, sizeof(*ns));
    if (only_members(spec, "/spec", members, err) < 0)
        return -1;
    if (!json_object_get(spec, "subnetRef") || json_is_null(json_object_get(spec, "subnetRef")))
        return bad(err, "/spec/subnetRef", "is required: the subnet the NIC is on");
    if (ref_here(req, json_object_get(spec, "subnetRef"), "subnets", "/spec/subnetRef", &r,
                 err) < 0)
        return -1;
    if (sov_subnet_resolve(&req->ctx, tenant, ws, r.name, ns->subnet_id, err) < 0 ||
        sov_subnet_get(&req->ctx, tenant, ns->subnet_id, &s, err) < 0 ||
        strcmp(s.workspace, ws) != 0 || strcmp(s.name, r.name) != 0 ||
        (r.network[0] && strcmp(s.network_name, r.network) != 0)) {
        if (err->code == SOV_OK || err->code == SOV_E_NOT_FOUND)
            sov_error_set(err, SOV_E_NOT_FOUND, "subnet 'networks/%s/subnets/%s' does not "
                          "exist", r.network, r.name);
        snprintf(err->field, sizeof(err->field), "/spec/subnetRef");
        return -1;
    }
    snprintf(ns->subnet_name, sizeof(ns->subnet_name), "%s", s.name);
    if (sov_network_get(&req->ctx, tenant, s.network_id, &net, err) < 0)
        return -1;
    snprintf(ns->router_id, sizeof(ns->router_id), "%s", net.router_id);

    if (!json_is_array(addrs) || json_array_size(addrs) < 1 || json_array_size(addrs) > 32)
        return bad(err, "/spec/addresses", "is required: a list of 1 to 32 addresses, the "
                   "first IPv4 (0.0.0.0: any free one)");
    json_array_foreach(addrs, i, v) {
        char at[32];
        const char *a = json_string_value(v);
        snprintf(at, sizeof(at), "/spec/addresses/%u", (unsigned) (i % 100));
        if (!a || !*a || strlen(a) > 39)
            return bad(err, at, "must be an IP address");
        if (i == 0) {
            if (strchr(a, ':'))
                return bad(err, at, "the first address must be IPv4: IPv6 addresses are not "
                           "served");
            if (!ipv4_text(a))
                return bad(err, at, "must be an IPv4 address");
            if (strcmp(a, "0.0.0.0") != 0)
                snprintf(ns->ip, sizeof(ns->ip), "%.15s", a);
        } else if (strcmp(a, "::") != 0)
            return bad(err, at, "a NIC has one IPv4 address here (\"::\" may follow it and "
                       "stays unassigned: no IPv6)");
    }

    if (groups && !json_is_null(groups)) {
        if (!json_is_array(groups) || json_array_size(groups) > SOV_NET_SG_MAX)
            return bad(err, "/spec/securityGroupRefs", "must be a list of at most 8 "
                       "references (our ports take 8 security groups)");
        ns->has_groups = true;
        json_array_foreach(groups, i, v) {
            char at[48], id[SOV_UUID_LEN + 1];
            snprintf(at, sizeof(at), "/spec/securityGroupRefs/%zu", i);
            if (ref_here(req, v, T_SG.plural, at, &r, err) < 0)
                return -1;
            if (sov_security_group_resolve(&req->ctx, tenant, ws, r.name, id, err) < 0) {
                snprintf(err->field, sizeof(err->field), "%.63s", at);
                return -1;
            }
            snprintf(ns->group_names[i], sizeof(ns->group_names[i]), "%s", r.name);
            ns->groups[i] = ns->group_names[i];
            ns->ngroups++;
        }
    }

    if (pips && !json_is_null(pips)) {
        sov_public_ip ip;
        if (!json_is_array(pips) || json_array_size(pips) > 1)
            return bad(err, "/spec/publicIpRefs", "must be a list of at most 1 reference "
                       "(our ports take one public IP)");
        v = json_array_get(pips, 0);
        if (v) {
            if (ref_here(req, v, T_PIP.plural, "/spec/publicIpRefs/0", &r, err) < 0)
                return -1;
            if (pip_load(req, r.name, &ip, err) < 0) {
                snprintf(err->field, sizeof(err->field), "/spec/publicIpRefs/0");
                return -1;
            }
            if (!ns->router_id[0])
                return bad(err, "/spec/publicIpRefs/0", "the subnet's network has no internet "
                           "gateway route: a public IP needs one");
            snprintf(ns->pip_id, sizeof(ns->pip_id), "%s", ip.id);
            snprintf(ns->pip_name, sizeof(ns->pip_name), "%s", ip.name);
        }
    }

    v = json_object_get(spec, "skuRef");
    if (v && !json_is_null(v)) {
        sov_network_sku sku;
        if (sov_seca_ref_read(req, v, "skus", "/spec/skuRef", &r, err) < 0)
            return -1;
        /* Part "net"'s bandwidth classes: the NIC names one that exists. */
        if (sov_network_sku_get(&req->ctx, r.name, &sku, err) < 0) {
            snprintf(err->field, sizeof(err->field), "/spec/skuRef");
            return -1;
        }
        ns->sku = v;
    }
    return 0;
}

/* Wait a little for a public IP just made (creating) to be available: a NIC PUT right after
 * the public IP's is the usual order. At most 10 s, reading our own rows. */
static int
pip_wait_available(sov_request *req, const char *id, sov_error *err)
{
    for (int i = 0; i < 100; i++) {
        sov_public_ip ip;
        struct timespec ts = { 0, 100 * 1000 * 1000 };

        if (sov_public_ip_get(&req->ctx, sov_seca_tenant_id(req), id, &ip, err) < 0)
            return -1;
        if (strcmp(ip.state, "creating") != 0)
            return 0;
        nanosleep(&ts, NULL);
    }
    return 0;
}

static int
pip_attach(sov_request *req, const nic_spec *ns, const char *port_id, sov_op *op,
           sov_error *err)
{
    sov_public_ip ip;

    if (pip_wait_available(req, ns->pip_id, err) < 0 ||
        sov_public_ip_action(&req->ctx, sov_seca_tenant_id(req), ns->pip_id, "attach", port_id,
                             &ip, op, err) < 0) {
        snprintf(err->field, sizeof(err->field), "/spec/publicIpRefs/0");
        return -1;
    }
    return 0;
}

static json_t *
nic_side(const char *port_id, const json_t *spec)
{
    json_t *side = json_pack("{s:s, s:O}", "id", port_id, "addresses",
                             json_object_get(spec, "addresses"));

    if (json_object_get(spec, "skuRef") && !json_is_null(json_object_get(spec, "skuRef")))
        json_object_set(side, "skuRef", json_object_get(spec, "skuRef"));
    return side;
}

static enum MHD_Result
nic_update(sov_request *req, const sov_seca_input *in, const nic_spec *ns, sov_port *p)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = side_spec(req, OBJ_NIC, p->name, p->id);
    char current[SOV_NAME_MAX + 1], op_id[SOV_UUID_LEN + 1] = "";
    bool same_groups = ns->ngroups == p->nsecurity_groups;
    sov_op op;

    if (sov_seca_meta_check_version(&req->ctx, p->id, in->if_version, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (strcmp(ns->subnet_id, p->subnet_id) != 0) {
        bad(&err, "/spec/subnetRef", "cannot change: delete the NIC and make it again");
        return sov_seca_reply_error(req, &err, true);
    }
    if (ns->ip[0] && strcmp(ns->ip, p->ip) != 0) {
        bad(&err, "/spec/addresses/0", "cannot change: the NIC keeps its address");
        return sov_seca_reply_error(req, &err, true);
    }
    if (!json_equal(ns->sku ? ns->sku : json_null(),
                    side && json_object_get(side, "skuRef") ? json_object_get(side, "skuRef")
                                                            : json_null())) {
        bad(&err, "/spec/skuRef", "cannot change: the SKU is immutable");
        return sov_seca_reply_error(req, &err, true);
    }
    if (nic_public_ip(req, p->id, current, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (current[0] && ns->pip_name[0] && strcmp(current, ns->pip_name) != 0) {
        bad(&err, "/spec/publicIpRefs/0", "the NIC has another public IP: put it without "
            "publicIpRefs first, then with the new one");
        return sov_seca_reply_error(req, &err, true);
    }
    /* Groups: the same set in any order is no change. */
    for (size_t i = 0; same_groups && i < ns->ngroups; i++) {
        char id[SOV_UUID_LEN + 1];
        bool found = false;
        if (sov_security_group_resolve(&req->ctx, sov_seca_tenant_id(req),
                                       sov_seca_workspace(req), ns->groups[i], id, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        for (size_t k = 0; k < p->nsecurity_groups; k++)
            found = found || strcmp(id, p->security_groups[k]) == 0;
        same_groups = found;
    }
    if (!same_groups) {
        if (sov_port_set_security_groups(&req->ctx, sov_seca_tenant_id(req), p->id,
                                         ns->groups, ns->ngroups, p, &op, &err) < 0) {
            if (strncmp(err.field, "security_groups", 15) == 0)
                snprintf(err.field, sizeof(err.field), "/spec/securityGroupRefs");
            return sov_seca_reply_error(req, &err, true);
        }
        snprintf(op_id, sizeof(op_id), "%s", op.id);
    }
    if (current[0] && !ns->pip_name[0]) {
        char id[SOV_UUID_LEN + 1];
        sov_public_ip ip;
        if (sov_public_ip_resolve(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req),
                                  current, id, &err) < 0 ||
            sov_public_ip_action(&req->ctx, sov_seca_tenant_id(req), id, "detach", NULL, &ip,
                                 &op, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        snprintf(op_id, sizeof(op_id), "%s", op.id);
    } else if (!current[0] && ns->pip_name[0]) {
        if (pip_attach(req, ns, p->id, &op, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        snprintf(op_id, sizeof(op_id), "%s", op.id);
    }
    if (meta_write(req, p->id, T_NIC.kind, SOV_SECA_UPDATED, in, op_id, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return nic_reply(req, MHD_HTTP_OK, p->id);
}

enum MHD_Result
sov_seca_network_nics_put(sov_request *req)
{
    static const repoint map[] = { { "ip", "/spec/addresses/0" },
                                   { "subnet", "/spec/subnetRef" },
                                   { "security_groups", "/spec/securityGroupRefs" } };
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_autoptr(json_t) side = NULL;
    sov_seca_input in;
    nic_spec ns;
    sov_port p;
    sov_op op, attach;

    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        nic_spec_read(req, in.spec, &ns, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (nic_load(req, sov_seca_name(req), &p, &err) == 0)
        return nic_update(req, &in, &ns, &p);
    if (err.code != SOV_E_NOT_FOUND)
        return sov_seca_reply_error(req, &err, true);
    sov_error_clear(&err);
    if (ns.pip_id[0]) {
        sov_public_ip ip;
        if (sov_public_ip_get(&req->ctx, sov_seca_tenant_id(req), ns.pip_id, &ip, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        if (ip.port_id[0]) {
            bad(&err, "/spec/publicIpRefs/0", "the public IP is attached to another NIC");
            return sov_seca_reply_error(req, &err, true);
        }
    }
    sov_port_create_args a = {
        .workspace = sov_seca_workspace(req), .name = sov_seca_name(req),
        .subnet = ns.subnet_id, .ip = ns.ip[0] ? ns.ip : NULL,
        .security_groups = ns.groups, .nsecurity_groups = ns.ngroups,
    };
    if (sov_port_create(&req->ctx, sov_seca_tenant_id(req), &a, &p, &op, &err) < 0) {
        repoint_err(&err, map, SOV_N_ELEMENTS(map));
        return sov_seca_reply_error(req, &err, true);
    }
    if (ns.pip_id[0] && pip_attach(req, &ns, p.id, &attach, &err) < 0) {
        /* Nothing half-made: the port goes again. */
        sov_error ignore = SOV_ERROR_INIT;
        sov_op del;
        if (sov_port_delete(&req->ctx, sov_seca_tenant_id(req), p.id, &del, &ignore) < 0)
            sov_log_warn("could not take back port '%s' after its public IP failed: %s",
                         p.name, ignore.msg);
        return sov_seca_reply_error(req, &err, true);
    }
    side = nic_side(p.id, in.spec);
    if (side_put(req, OBJ_NIC, p.name, "", side, &err) < 0 ||
        meta_write(req, p.id, T_NIC.kind, SOV_SECA_CREATED, &in, op.id, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return nic_reply(req, MHD_HTTP_CREATED, p.id);
}

static void
pause_100ms(void)
{
    struct timespec ts = { 0, 100 * 1000 * 1000 };

    nanosleep(&ts, NULL);
}

/* A NIC going away lets its public IP go first (SECA's NIC owns the association; our port
 * refuses deletion while one is attached): detached, and waited for (at most 10 s, reading
 * our own rows) until the worker has let go of the port. */
static int
nic_release(sov_request *req, const sov_port *p, sov_error *err)
{
    for (int i = 0; i < 100; i++) {
        char after[SOV_TEXT_MAX * 4 + 1] = "";
        bool held = false;

        do {
            sov_public_ip_page page = { 0 };
            if (sov_public_ip_list(&req->ctx, sov_seca_tenant_id(req), p->workspace,
                                   after[0] ? after : NULL, LIST_PAGE, &page, err) < 0)
                return -1;
            for (size_t k = 0; k < page.n; k++) {
                sov_public_ip *ip = &page.items[k];
                sov_public_ip done;
                sov_op op;

                if (strcmp(ip->port_id, p->id) != 0)
                    continue;
                held = true;
                if (strcmp(ip->state, "in-use") == 0 &&
                    sov_public_ip_action(&req->ctx, sov_seca_tenant_id(req), ip->id, "detach",
                                         NULL, &done, &op, err) < 0) {
                    free(page.items);
                    return -1;
                }
            }
            snprintf(after, sizeof(after), "%s", page.next_after);
            free(page.items);
        } while (after[0]);
        if (!held)
            return 0;
        pause_100ms();
    }
    return 0;       /* still held: the port's delete says why */
}

/* The port's delete, retried for at most 10 s while it is refused for a state that a worker
 * is moving on (an instance's delete unplugging it, a sync under way). */
static int
nic_port_delete(sov_request *req, const char *port_id, sov_op *op, sov_error *err)
{
    for (int i = 0;; i++) {
        if (sov_port_delete(&req->ctx, sov_seca_tenant_id(req), port_id, op, err) == 0)
            return 0;
        if (err->code != SOV_E_CONFLICT || i == 100)
            return -1;
        sov_error_clear(err);
        pause_100ms();
    }
}

enum MHD_Result
sov_seca_network_nics_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(meta_cleanup) sov_seca_meta m = { .labels = NULL };
    sov_port p;
    long long version;
    sov_op op;

    if (nic_load(req, sov_seca_name(req), &p, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (header_version(req, &version, &err) < 0 ||
        sov_seca_meta_check_version(&req->ctx, p.id, version, &err) < 0 ||
        nic_release(req, &p, &err) < 0 ||
        nic_port_delete(req, p.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (meta_write(req, p.id, T_NIC.kind, SOV_SECA_DELETED, NULL, op.id, &m, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    side_forget(req, OBJ_NIC, p.name);
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}
