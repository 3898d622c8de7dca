/* ovn_sync.c: the scope syncs: bring OVN's Northbound database to what PostgreSQL says for
 * one scope, in one OVSDB transaction, under the scope's advisory lock, then move the
 * scope's rows on in the same PostgreSQL transaction (network_int.h's top comment).
 *
 * The NB mapping lives here and only here (network/README.md, "OVN mapping"). Each row we
 * write carries external_ids sov:cp (this deployment), sov:kind, sov:id (the resource it is
 * for), sov:tenant, sov:scope (the scope that owns it: "network:<id>", "sg:<id>",
 * "router:<id>", "pool:<id>", "cp") and sov:key (its identity inside the scope). A sync
 * selects the rows of its scopes, matches them by sov:key to what it wants, and writes only
 * the difference: inserts (named-uuid), updates of the columns that differ, deletes; nothing
 * at all when OVN already matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovsdb.h"
#include "sov/fault.h"
#include "sov/log.h"
#include "network_int.h"

#define NB_DB "OVN_Northbound"
#define ACL_PRIORITY_ALLOW 1002
#define ACL_PRIORITY_DROP 1001
#define DHCP_LEASE_TIME "3600"
#define GENEVE_MTU "1442"

/* ---- the plan: wanted rows, what NB holds, the operations ---- */

typedef enum ref_mode {
    REF_NONE,           /* a root row */
    REF_OWNED,          /* the parent's column holds exactly the children the plan wants */
    REF_MEMBER,         /* the parent's column is shared: the child is added if missing */
} ref_mode;

typedef struct want {
    const char *table;
    char scope[64];
    char key[160];
    json_t *row;        /* wanted columns; ["want", i] stands for a reference to want i */
    int parent;         /* index of the parent want, -1 none */
    const char *parent_col;
    ref_mode mode;
    const char *skip_col;   /* a shared column of this row, not compared ("ports") */
    char uuid[37];      /* the NB row matched, "" to insert */
    json_t *cur;        /* that row as selected (borrowed from the read's results) */
} want;

typedef struct plan {
    char cp[SOV_UUID_LEN + 1];
    want *w;
    size_t n, cap;
    const char *scopes[4];
    size_t nscopes;
    json_t *read;       /* the results of the read (owned) */
    json_t *ops;        /* the write (owned) */
    char what[512];     /* a summary of the changes, for logs and drift audits */
} plan;

static void
plan_release(plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        json_decref(p->w[i].row);
    free(p->w);
    json_decref(p->read);
    json_decref(p->ops);
    memset(p, 0, sizeof(*p));
}

#define plan_auto SOV_CLEANUP(plan_release) plan

static const char *const tables[] = {
    "Logical_Switch", "Logical_Switch_Port", "DHCP_Options", "Port_Group", "ACL",
    "Logical_Router", "Logical_Router_Port", "Gateway_Chassis", "NAT",
    "Logical_Router_Static_Route",
};

/* Where a non-root row of each table is referenced from. */
static const struct { const char *table, *parent, *col; } parents[] = {
    { "Logical_Switch_Port", "Logical_Switch", "ports" },
    { "ACL", "Port_Group", "acls" },
    { "Logical_Router_Port", "Logical_Router", "ports" },
    { "NAT", "Logical_Router", "nat" },
    { "Logical_Router_Static_Route", "Logical_Router", "static_routes" },
    { "Gateway_Chassis", "Logical_Router_Port", "gateway_chassis" },
};

static json_t *
ext_ids(const plan *p, const char *scope, const char *kind, const char *id,
        const char *tenant, const char *key)
{
    const char *kv[] = { "sov:cp", p->cp, "sov:scope", scope, "sov:kind", kind,
                         "sov:id", id, "sov:tenant", tenant ? tenant : "", "sov:key", key,
                         NULL };

    return sov_ovsdb_map_strings(kv);
}

/* Add a wanted row (row taken); returns its index. */
static int
want_add(plan *p, const char *table, const char *scope, const char *kind, const char *id,
         const char *tenant, const char *key, json_t *row)
{
    want *w;

    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->w = realloc(p->w, p->cap * sizeof(*p->w));
        if (!p->w)
            abort();
    }
    w = &p->w[p->n];
    memset(w, 0, sizeof(*w));
    w->table = table;
    snprintf(w->scope, sizeof(w->scope), "%s", scope);
    snprintf(w->key, sizeof(w->key), "%s", key);
    json_object_set_new(row, "external_ids", ext_ids(p, scope, kind, id, tenant, key));
    w->row = row;
    w->parent = -1;
    return (int) p->n++;
}

static void
want_child(plan *p, int child, int parent, const char *col, ref_mode mode)
{
    p->w[child].parent = parent;
    p->w[child].parent_col = col;
    p->w[child].mode = mode;
}

static json_t *
ref(int i)
{
    return json_pack("[s, i]", "want", i);
}

static json_t *
strset(const char *const *items, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return sov_ovsdb_set(a);
}

static json_t *
str1(const char *s)
{
    return strset(&s, 1);
}

static json_t *
map_kv(const char *const *kv)
{
    return sov_ovsdb_map_strings(kv);
}

/* A stable locally administered unicast MAC from an id: first octet `first`. */
static void
id_mac(unsigned first, const char *id, char out[18])
{
    char hex[12];
    size_t n = 0;

    for (const char *s = id; *s && n < 10; s++)
        if (*s != '-')
            hex[n++] = *s;
    while (n < 10)
        hex[n++] = '0';
    snprintf(out, 18, "%02x:%c%c:%c%c:%c%c:%c%c:%c%c", first, hex[0], hex[1], hex[2], hex[3],
             hex[4], hex[5], hex[6], hex[7], hex[8], hex[9]);
}

/* Port group names are identifiers: "sov_sg_<id with - as _>". */
static void
pg_name(const char *sg_id, char out[64])
{
    snprintf(out, 64, "sov_sg_%s", sg_id);
    for (char *s = out; *s; s++)
        if (*s == '-')
            *s = '_';
}

static void
cp_pg_name(const plan *p, const char *what, char out[64])
{
    snprintf(out, 64, "sov_cp_%.8s_%s", p->cp, what);
}

/* ---- normalising OVSDB values for comparison ---- */

static int
cmp_dump(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* A value as a canonical string: sets of one as the atom, sets and maps sorted. */
static char *
canon(const json_t *v)
{
    const char *tag = json_is_array(v) && json_array_size(v) == 2 ?
                      json_string_value(json_array_get(v, 0)) : NULL;

    if (tag && (strcmp(tag, "set") == 0 || strcmp(tag, "map") == 0)) {
        const json_t *items = json_array_get(v, 1);
        size_t n = json_array_size(items), len = 16, pos;
        char **parts, *out;
        bool set = strcmp(tag, "set") == 0;

        if (set && n == 1)
            return canon(json_array_get(items, 0));
        parts = calloc(n + 1, sizeof(*parts));
        for (size_t i = 0; i < n; i++) {
            parts[i] = json_dumps(json_array_get(items, i), JSON_COMPACT | JSON_ENCODE_ANY);
            len += strlen(parts[i]) + 1;
        }
        qsort(parts, n, sizeof(*parts), cmp_dump);
        out = calloc(1, len);
        pos = (size_t) snprintf(out, len, "%s", set ? "S[" : "M[");
        for (size_t i = 0; i < n; i++) {
            pos += (size_t) snprintf(out + pos, len - pos, "%s,", parts[i]);
            free(parts[i]);
        }
        snprintf(out + pos, len - pos, "]");
        free(parts);
        return out;
    }
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static bool
same(const json_t *a, const json_t *b)
{
    char *x = canon(a), *y = b ? canon(b) : strdup("");
    bool eq = strcmp(x, y) == 0;

    free(x);
    free(y);
    return eq;
}

/* ---- resolving references ---- */

static json_t *
resolve(const plan *p, const json_t *v)
{
    if (json_is_array(v)) {
        const char *tag = json_string_value(json_array_get(v, 0));
        json_t *out;
        size_t i;
        json_t *x;

        if (tag && strcmp(tag, "want") == 0 && json_array_size(v) == 2) {
            size_t k = (size_t) json_integer_value(json_array_get(v, 1));
            char name[32];

            if (p->w[k].uuid[0])
                return sov_ovsdb_uuid(p->w[k].uuid);
            snprintf(name, sizeof(name), "w%zu", k);
            return sov_ovsdb_named_uuid(name);
        }
        out = json_array();
        json_array_foreach(v, i, x)
            json_array_append_new(out, resolve(p, x));
        return out;
    }
    if (json_is_object(v)) {
        json_t *out = json_object(), *x;
        const char *k;

        json_object_foreach((json_t *) v, k, x)
            json_object_set_new(out, k, resolve(p, x));
        return out;
    }
    return json_deep_copy(v);
}

/* The owned children's references into each parent's row. */
static void
fill_owned(plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        want *c = &p->w[i];
        json_t *col, *set;

        if (c->mode != REF_OWNED || c->parent < 0)
            continue;
        col = json_object_get(p->w[c->parent].row, c->parent_col);
        if (!col) {
            set = sov_ovsdb_set(json_array());
            json_object_set_new(p->w[c->parent].row, c->parent_col, set);
            col = set;
        }
        json_array_append_new(json_array_get(col, 1), ref((int) i));
    }
}

/* ---- reading NB ---- */

static json_t *
where_scope(const plan *p, const char *scope)
{
    const char *kv[] = { "sov:cp", p->cp, "sov:scope", scope, NULL };

    return json_pack("[o]", sov_ovsdb_cond("external_ids", "includes", map_kv(kv)));
}

static void
summary(plan *p, const char *fmt, const char *table, const char *key)
{
    size_t len = strlen(p->what);

    if (len + 2 < sizeof(p->what))
        snprintf(p->what + len, sizeof(p->what) - len, "%s" "%s %s %s", len ? "; " : "",
                 fmt, table, key);
}

static int
plan_read(plan *p, sov_ovsdb *nb, sov_error *err)
{
    json_t *ops = json_array();
    size_t k = 0;

    for (size_t s = 0; s < p->nscopes; s++)
        for (size_t t = 0; t < SOV_N_ELEMENTS(tables); t++)
            json_array_append_new(ops, sov_ovsdb_op_select(tables[t],
                                                           where_scope(p, p->scopes[s]),
                                                           NULL));
    if (sov_ovsdb_transact(nb, NB_DB, ops, &p->read, err) < 0)
        return -1;
    for (size_t s = 0; s < p->nscopes; s++)
        for (size_t t = 0; t < SOV_N_ELEMENTS(tables); t++, k++) {
            json_t *rows = sov_ovsdb_result_rows(p->read, k), *row;
            size_t i;

            json_array_foreach(rows, i, row) {
                json_t *ids = json_object_get(row, "external_ids");
                const char *uuid = json_string_value(json_array_get(json_object_get(row,
                                                                                    "_uuid"),
                                                                    1));
                const char *key = NULL;
                bool matched = false;
                size_t j;
                json_t *pair;

                json_array_foreach(json_array_get(ids, 1), j, pair)
                    if (strcmp(json_string_value(json_array_get(pair, 0)), "sov:key") == 0)
                        key = json_string_value(json_array_get(pair, 1));
                for (size_t w = 0; key && uuid && w < p->n && !matched; w++)
                    if (!p->w[w].uuid[0] && strcmp(p->w[w].table, tables[t]) == 0 &&
                        strcmp(p->w[w].key, key) == 0) {
                        snprintf(p->w[w].uuid, sizeof(p->w[w].uuid), "%s", uuid);
                        p->w[w].cur = row;
                        matched = true;
                    }
                if (matched || !uuid)
                    continue;
                /* Not wanted (or a second row with one key): it goes. */
                for (size_t q = 0; q < SOV_N_ELEMENTS(parents); q++)
                    if (strcmp(parents[q].table, tables[t]) == 0)
                        json_array_append_new(p->ops, sov_ovsdb_op_mutate(
                            parents[q].parent,
                            json_pack("[o]", sov_ovsdb_cond(parents[q].col, "includes",
                                                            sov_ovsdb_uuid(uuid))),
                            json_pack("[o]", sov_ovsdb_cond(parents[q].col, "delete",
                                                            sov_ovsdb_uuid(uuid)))));
                json_array_append_new(p->ops, sov_ovsdb_op_delete(
                    tables[t], json_pack("[o]", sov_ovsdb_cond("_uuid", "==",
                                                               sov_ovsdb_uuid(uuid)))));
                summary(p, "delete", tables[t], key ? key : uuid);
            }
        }
    return 0;
}

/* Whether a set column of a selected row holds uuid. */
static bool
col_has(const json_t *row, const char *col, const char *uuid)
{
    const json_t *v = json_object_get(row, col);
    const char *tag = json_string_value(json_array_get(v, 0));
    size_t i;
    json_t *x;

    if (tag && strcmp(tag, "uuid") == 0)
        return strcmp(json_string_value(json_array_get(v, 1)), uuid) == 0;
    json_array_foreach(json_array_get(v, 1), i, x)
        if (strcmp(json_string_value(json_array_get(x, 1)), uuid) == 0)
            return true;
    return false;
}

static json_t *
where_uuid(const char *uuid)
{
    return json_pack("[o]", sov_ovsdb_cond("_uuid", "==", sov_ovsdb_uuid(uuid)));
}

/* A membership in a shared column: added when missing (add) or taken out (!add). */
static void
member(plan *p, int parent, const char *col, int child, bool add)
{
    want *pw = &p->w[parent], *cw = &p->w[child];
    json_t *value;

    if (!pw->uuid[0]) {
        /* The parent is inserted now: its row carries its first members. */
        json_t *set = json_object_get(pw->row, col);

        if (!add)
            return;
        if (!set) {
            set = sov_ovsdb_set(json_array());
            json_object_set_new(pw->row, col, set);
        }
        json_array_append_new(json_array_get(set, 1), ref(child));
        return;
    }
    if (cw->uuid[0] && col_has(pw->cur, col, cw->uuid) == add)
        return;
    if (!cw->uuid[0] && !add)
        return;
    {
        json_t *r = ref(child);

        value = resolve(p, r);
        json_decref(r);
    }
    json_array_append_new(p->ops, sov_ovsdb_op_mutate(
        pw->table, where_uuid(pw->uuid),
        json_pack("[o]", sov_ovsdb_cond(col, add ? "insert" : "delete", value))));
    summary(p, add ? "add member" : "remove member", pw->key, cw->key);
}

/* The inserts and updates (after the deletes plan_read queued). */
static void
plan_write(plan *p)
{
    json_t *head = json_array();

    fill_owned(p);
    for (size_t i = p->n; i-- > 0;) {
        want *w = &p->w[i];
        char name[32];

        if (w->uuid[0])
            continue;
        snprintf(name, sizeof(name), "w%zu", i);
        json_array_append_new(head, sov_ovsdb_op_insert(w->table, resolve(p, w->row), name));
        summary(p, "insert", w->table, w->key);
    }
    for (size_t i = 0; i < p->n; i++) {
        want *w = &p->w[i];
        json_t *upd, *v;
        const char *col;

        if (!w->uuid[0])
            continue;
        upd = json_object();
        json_object_foreach(w->row, col, v) {
            json_t *r;

            if (w->skip_col && strcmp(col, w->skip_col) == 0)
                continue;
            r = resolve(p, v);
            if (!same(r, json_object_get(w->cur, col)))
                json_object_set_new(upd, col, r);
            else
                json_decref(r);
        }
        if (json_object_size(upd) == 0) {
            json_decref(upd);
            continue;
        }
        json_array_append_new(head, sov_ovsdb_op_update(w->table, where_uuid(w->uuid), upd));
        summary(p, "update", w->table, w->key);
    }
    /* Inserts and updates first, then the memberships and deletes gathered so far. */
    json_array_extend(head, p->ops);
    json_decref(p->ops);
    p->ops = head;
}

/* Connect, read, plan and (when anything differs) write. fill builds the wanted rows once
 * the read is in (for memberships); it may add operations of its own. */
typedef int (*plan_fill)(plan *p, void *arg, sov_ovsdb *nb, sov_error *err);

static int
nb_connect(sov_ctx *ctx, sov_ovsdb **ret, sov_error *err)
{
    if (!ctx->cfg->ovn_nb || !ctx->cfg->ovn_nb[0])
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "tenant networks need OVN: ovn_nb is not configured");
    if (sov_ovsdb_connect(ctx->cfg->ovn_nb, SOV_OVSDB_DEFAULT_TIMEOUT_MS, ret, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        return -1;
    }
    return 0;
}

static int
plan_run(plan *p, sov_ovsdb *nb, bool *ret_changed, sov_error *err)
{
    plan_write(p);
    if (json_array_size(p->ops) == 0) {
        *ret_changed = false;
        return 0;
    }
    /* A crash here leaves the database's intent committed and OVN behind: the operation
     * runs again, or the reconciler syncs the scope. */
    sov_fault_point(SOV_OVN_FAULT_BEFORE_TRANSACT);
    if (sov_ovsdb_transact(nb, NB_DB, SOV_TAKE_PTR(p->ops), NULL, err) < 0) {
        if (!sov_ovsdb_alive(nb))
            err->code = SOV_E_UNAVAILABLE;
        return -1;
    }
    *ret_changed = true;
    return 0;
}

/* ---- the deployment's own port groups: every port dropped unless a group allows ---- */

/* "sov_cp_<cp8>_drop": every port of ours; to-lport and from-lport 1001 drop, DHCP
 * (udp 68 -> 67) allowed at 1002. "sov_cp_<cp8>_nogroup": ports in no security group, egress
 * allowed (from-lport 1002 allow-related): nothing comes in, everything may go out. */
static void
want_cp(plan *p, int *drop, int *nogroup)
{
    char name[64];
    static const struct {
        const char *key, *dir, *port, *rest, *action;
        int prio;
        bool drop;
    } acls[] = {
        { "drop-in", "to-lport", "outport", "ip", "drop", ACL_PRIORITY_DROP, true },
        { "drop-out", "from-lport", "inport", "ip", "drop", ACL_PRIORITY_DROP, true },
        { "dhcp", "from-lport", "inport", "udp && udp.src == 68 && udp.dst == 67", "allow",
          ACL_PRIORITY_ALLOW, true },
        { "egress", "from-lport", "inport", "ip4", "allow-related", ACL_PRIORITY_ALLOW,
          false },
    };

    for (int g = 0; g < 2; g++) {
        int pg;

        cp_pg_name(p, g == 0 ? "drop" : "nogroup", name);
        pg = want_add(p, "Port_Group", "cp", "cp", p->cp, NULL, name,
                      json_pack("{s:s}", "name", name));
        p->w[pg].skip_col = "ports";
        for (size_t i = 0; i < SOV_N_ELEMENTS(acls); i++) {
            char match[256], key[128];
            int a;

            if (acls[i].drop != (g == 0))
                continue;
            snprintf(match, sizeof(match), "%s == @%s && %s", acls[i].port, name,
                     acls[i].rest);
            snprintf(key, sizeof(key), "%s-%s", name, acls[i].key);
            a = want_add(p, "ACL", "cp", "cp", p->cp, NULL, key,
                         json_pack("{s:s, s:i, s:s, s:s}", "direction", acls[i].dir,
                                   "priority", acls[i].prio, "match", match, "action",
                                   acls[i].action));
            want_child(p, a, pg, "acls", REF_OWNED);
        }
        *(g == 0 ? drop : nogroup) = pg;
    }
}

/* ---- network scope ---- */

typedef struct net_args {
    sov_ctx *ctx;
    const char *id;
    bool changed;
} net_args;

static int
fill_network(plan *p, const char *id, const sov_ovn_net *n)
{
    char scope[64], name[64];
    int ls, *dhcp;
    snprintf(scope, sizeof(scope), "network:%s", id);
    if (!n->live)
        return 0;
    snprintf(name, sizeof(name), "sov-net-%s", id);
    ls = want_add(p, "Logical_Switch", scope, "network", id, n->tenant_id, name,
                  json_pack("{s:s, s:o, s:o}", "name", name, "other_config",
                            sov_ovsdb_map_strings(NULL), "ports",
                            sov_ovsdb_set(json_array())));
    dhcp = calloc(n->nsubnets + 1, sizeof(*dhcp));
    for (size_t i = 0; i < n->nsubnets; i++) {
        const sov_ovn_subnet *s = &n->subnets[i];
        char mac[18], dns[SOV_NET_DNS_MAX * (SOV_IP_MAX + 2) + 4] = "";
        const char *kv[16];
        size_t k = 0;

        id_mac(0x0a, s->id, mac);
        kv[k++] = "router";
        kv[k++] = s->gateway;
        kv[k++] = "server_id";
        kv[k++] = s->gateway;
        kv[k++] = "server_mac";
        kv[k++] = mac;
        kv[k++] = "lease_time";
        kv[k++] = DHCP_LEASE_TIME;
        kv[k++] = "mtu";
        kv[k++] = GENEVE_MTU;
        if (s->ndns > 0) {
            size_t pos = (size_t) snprintf(dns, sizeof(dns), "{");

            for (size_t d = 0; d < s->ndns && pos < sizeof(dns); d++)
                pos += (size_t) snprintf(dns + pos, sizeof(dns) - pos, "%s%s", d ? ", " : "",
                                         s->dns[d]);
            if (pos < sizeof(dns))
                snprintf(dns + pos, sizeof(dns) - pos, "}");
            kv[k++] = "dns_server";
            kv[k++] = dns;
        }
        kv[k] = NULL;
        dhcp[i] = want_add(p, "DHCP_Options", scope, "subnet", s->id, n->tenant_id, s->id,
                           json_pack("{s:s, s:o}", "cidr", s->cidr, "options", map_kv(kv)));
        if (n->router_id[0]) {
            /* The router's leg on this subnet: its LRP is the router scope's. */
            char lsp[64], lrp[64];
            const char *opts[] = { "router-port", lrp, NULL };
            int r;

            snprintf(lsp, sizeof(lsp), "sov-rtr-%s-%.8s", n->router_id, s->id);
            snprintf(lrp, sizeof(lrp), "sov-lrp-%s", s->id);
            r = want_add(p, "Logical_Switch_Port", scope, "router", n->router_id,
                         n->tenant_id, lsp,
                         json_pack("{s:s, s:s, s:o, s:o}", "name", lsp, "type", "router",
                                   "options", map_kv(opts), "addresses", str1("router")));
            want_child(p, r, ls, "ports", REF_OWNED);
        }
    }
    for (size_t i = 0; i < n->nports; i++) {
        const sov_ovn_port *pt = &n->ports[i];
        char addr[48];
        /* Two chassis (a live migration: "source,target"): the target's binding activates
         * when the guest announces itself there (RARP) after the switch. */
        const char *kv[9];
        size_t k = 0;
        char burst[24];
        json_t *dopt = sov_ovsdb_set(json_array());
        int lsp;

        if (pt->chassis[0]) {
            kv[k++] = "requested-chassis";
            kv[k++] = pt->chassis;
        }
        if (strchr(pt->chassis, ',')) {
            kv[k++] = "activation-strategy";
            kv[k++] = "rarp";
        }
        /* Its network SKU's bandwidth (SECA), a tenth of a second's worth of burst. */
        if (pt->qos_rate[0]) {
            snprintf(burst, sizeof(burst), "%lld", strtoll(pt->qos_rate, NULL, 10) / 10);
            kv[k++] = "qos_max_rate";
            kv[k++] = pt->qos_rate;
            kv[k++] = "qos_burst";
            kv[k++] = burst;
        }
        kv[k] = NULL;

        snprintf(addr, sizeof(addr), "%s %s", pt->mac, pt->ip);
        for (size_t s = 0; s < n->nsubnets; s++)
            if (strcmp(n->subnets[s].id, pt->subnet_id) == 0)
                json_array_append_new(json_array_get(dopt, 1), ref(dhcp[s]));
        lsp = want_add(p, "Logical_Switch_Port", scope, "port", pt->id, n->tenant_id, pt->id,
                       json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", pt->id, "type", "",
                                 "addresses", str1(addr), "port_security", str1(addr),
                                 "dhcpv4_options", dopt, "options",
                                 map_kv(kv)));
        want_child(p, lsp, ls, "ports", REF_OWNED);
    }
    free(dhcp);
    return 0;
}

static int
network_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    net_args *a = arg;
    sov_autoptr(sov_ovsdb) nb = NULL;
    plan_auto p = { 0 };
    sov_ovn_net n;
    char scope[64];
    int drop = -1, nogroup = -1, rc = -1;

    a->changed = false;
    snprintf(scope, sizeof(scope), "network:%s", a->id);
    if (sov_ovn_repo_lock(c, scope, err) < 0 || sov_ovn_repo_lock(c, "cp", err) < 0 ||
        sov_ovn_repo_cp(c, p.cp, err) < 0)
        return -1;
    if (sov_ovn_repo_net(c, a->id, &n, err) < 0)
        goto out;
    if (nb_connect(a->ctx, &nb, err) < 0)
        goto out;
    p.ops = json_array();
    p.scopes[p.nscopes++] = scope;
    p.scopes[p.nscopes++] = "cp";
    want_cp(&p, &drop, &nogroup);
    fill_network(&p, a->id, &n);
    if (plan_read(&p, nb, err) < 0)
        goto out;
    /* Memberships of the shared groups: every port in drop; those in no group in nogroup. */
    for (size_t i = 0; i < p.n; i++) {
        if (strcmp(p.w[i].table, "Logical_Switch_Port") != 0 ||
            strncmp(p.w[i].key, "sov-rtr-", 8) == 0)
            continue;
        member(&p, drop, "ports", (int) i, true);
        for (size_t k = 0; k < n.nports; k++)
            if (strcmp(n.ports[k].id, p.w[i].key) == 0)
                member(&p, nogroup, "ports", (int) i, n.ports[k].ngroups == 0);
    }
    if (plan_run(&p, nb, &a->changed, err) < 0)
        goto out;
    if (a->changed)
        sov_log_info("ovn: network %s: %s", a->id, p.what);
    rc = sov_ovn_repo_net_settle(c, a->ctx, a->id, err);
out:
    sov_ovn_net_release(&n);
    return rc;
}

int
sov_ovn_sync_network(sov_ctx *ctx, const char *network_id, bool *ret_changed,
                     sov_error *err)
{
    net_args a = { ctx, network_id, false };

    if (sov_db_tx(ctx->db, network_tx, &a, err) < 0)
        return -1;
    if (ret_changed)
        *ret_changed = a.changed;
    return 0;
}

/* ---- security group scope ---- */

/* The match of one rule (network/README.md). */
static void
rule_match(const sov_ovn_rule *r, const char *pg, char *out, size_t size)
{
    bool in = strcmp(r->direction, "ingress") == 0;
    const char *remote = in ? "ip4.src" : "ip4.dst";
    size_t len;

    snprintf(out, size, "%s == @%s && ip4", in ? "outport" : "inport", pg);
    len = strlen(out);
    if (r->remote_cidr[0]) {
        snprintf(out + len, size - len, " && %s == %s", remote, r->remote_cidr);
    } else if (r->remote_group_id[0]) {
        char rpg[64];

        pg_name(r->remote_group_id, rpg);
        snprintf(out + len, size - len, " && %s == $%s_ip4", remote, rpg);
    }
    len = strlen(out);
    if (strcmp(r->protocol, "icmp") == 0) {
        snprintf(out + len, size - len, " && icmp4");
    } else if (strcmp(r->protocol, "tcp") == 0 || strcmp(r->protocol, "udp") == 0) {
        const char *pr = r->protocol;

        if (r->port_min > 0 && r->port_min == r->port_max)
            snprintf(out + len, size - len, " && %s && %s.dst == %d", pr, pr, r->port_min);
        else if (r->port_min > 0)
            snprintf(out + len, size - len, " && %s && %s.dst >= %d && %s.dst <= %d", pr, pr,
                     r->port_min, pr, r->port_max);
        else
            snprintf(out + len, size - len, " && %s", pr);
    }
}

typedef struct sg_args {
    sov_ctx *ctx;
    const char *id;
    bool changed;
} sg_args;

/* The members' LSPs (rows of their networks' scopes) by name: their uuids, as a set. */
static int
member_uuids(sov_ovsdb *nb, const sov_ovn_sg *g, json_t **ret, sov_error *err)
{
    json_t *ops = json_array(), *res = NULL, *set = json_array();

    if (g->nmembers == 0) {
        json_decref(ops);
        *ret = sov_ovsdb_set(set);
        return 0;
    }
    for (size_t i = 0; i < g->nmembers; i++)
        json_array_append_new(ops, sov_ovsdb_op_select(
            "Logical_Switch_Port",
            json_pack("[o]", sov_ovsdb_cond("name", "==", json_string(g->members[i]))),
            json_pack("[s]", "_uuid")));
    if (sov_ovsdb_transact(nb, NB_DB, ops, &res, err) < 0) {
        json_decref(set);
        return -1;
    }
    for (size_t i = 0; i < g->nmembers; i++) {
        json_t *rows = sov_ovsdb_result_rows(res, i);

        /* A port whose LSP is not there yet joins when its network syncs. */
        if (json_array_size(rows) > 0)
            json_array_append(set, json_object_get(json_array_get(rows, 0), "_uuid"));
    }
    json_decref(res);
    *ret = sov_ovsdb_set(set);
    return 0;
}

static int
sg_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    sg_args *a = arg;
    sov_autoptr(sov_ovsdb) nb = NULL;
    plan_auto p = { 0 };
    sov_ovn_sg g;
    char scope[64], name[64];
    json_t *ports = NULL;
    int pg, rc = -1;

    a->changed = false;
    snprintf(scope, sizeof(scope), "sg:%s", a->id);
    if (sov_ovn_repo_lock(c, scope, err) < 0 ||
        sov_ovn_repo_cp(c, p.cp, err) < 0)
        return -1;
    if (sov_ovn_repo_sg(c, a->id, &g, err) < 0)
        goto out;
    if (nb_connect(a->ctx, &nb, err) < 0)
        goto out;
    p.ops = json_array();
    p.scopes[p.nscopes++] = scope;
    if (g.live) {
        if (member_uuids(nb, &g, &ports, err) < 0)
            goto out;
        pg_name(a->id, name);
        pg = want_add(&p, "Port_Group", scope, "security_group", a->id, g.tenant_id, name,
                      json_pack("{s:s, s:o, s:o}", "name", name, "ports", ports, "acls",
                                sov_ovsdb_set(json_array())));
        for (size_t i = 0; i < g.nrules; i++) {
            char match[512];
            int acl;

            rule_match(&g.rules[i], name, match, sizeof(match));
            acl = want_add(&p, "ACL", scope, "security_group_rule", g.rules[i].id,
                           g.tenant_id, g.rules[i].id,
                           json_pack("{s:s, s:i, s:s, s:s}", "direction",
                                     strcmp(g.rules[i].direction, "ingress") == 0 ?
                                     "to-lport" : "from-lport", "priority",
                                     ACL_PRIORITY_ALLOW, "match", match, "action",
                                     "allow-related"));
            want_child(&p, acl, pg, "acls", REF_OWNED);
        }
    }
    if (plan_read(&p, nb, err) < 0 || plan_run(&p, nb, &a->changed, err) < 0)
        goto out;
    if (a->changed)
        sov_log_info("ovn: security group %s: %s", a->id, p.what);
    rc = sov_ovn_repo_sg_settle(c, a->ctx, a->id, err);
out:
    sov_ovn_sg_release(&g);
    return rc;
}

int
sov_ovn_sync_sg(sov_ctx *ctx, const char *sg_id, bool *ret_changed, sov_error *err)
{
    sg_args a = { ctx, sg_id, false };

    if (sov_db_tx(ctx->db, sg_tx, &a, err) < 0)
        return -1;
    if (ret_changed)
        *ret_changed = a.changed;
    return 0;
}

/* ---- router scope ---- */

typedef struct router_args {
    sov_ctx *ctx;
    const char *id;
    bool changed;
} router_args;

static void
fill_router(plan *p, const char *id, const sov_ovn_router *r, const char *scope,
            const char *pool_scope)
{
    char name[64], prefix[8] = "";
    const char *slash = strchr(r->pool_cidr, '/');
    int lr;

    if (!r->live)
        return;
    if (slash)
        snprintf(prefix, sizeof(prefix), "%s", slash + 1);
    snprintf(name, sizeof(name), "sov-rtr-%s", id);
    lr = want_add(p, "Logical_Router", scope, "router", id, r->tenant_id, name,
                  json_pack("{s:s, s:o, s:o, s:o}", "name", name, "ports",
                            sov_ovsdb_set(json_array()), "nat", sov_ovsdb_set(json_array()),
                            "static_routes", sov_ovsdb_set(json_array())));
    for (size_t i = 0; i < r->nsubnets; i++) {
        const sov_ovn_subnet *s = &r->subnets[i];
        char lrp[64], mac[18], net[40];
        const char *cslash = strchr(s->cidr, '/');
        int k;

        snprintf(lrp, sizeof(lrp), "sov-lrp-%s", s->id);
        id_mac(0x0e, s->id, mac);
        snprintf(net, sizeof(net), "%s/%s", s->gateway, cslash ? cslash + 1 : "32");
        k = want_add(p, "Logical_Router_Port", scope, "subnet", s->id, r->tenant_id, lrp,
                     json_pack("{s:s, s:s, s:o}", "name", lrp, "mac", mac, "networks",
                               str1(net)));
        want_child(p, k, lr, "ports", REF_OWNED);
        if (r->snat && r->external_ip[0]) {
            char key[80];

            snprintf(key, sizeof(key), "snat-%s", s->id);
            k = want_add(p, "NAT", scope, "subnet", s->id, r->tenant_id, key,
                         json_pack("{s:s, s:s, s:s}", "type", "snat", "external_ip",
                                   r->external_ip, "logical_ip", s->cidr));
            want_child(p, k, lr, "nat", REF_OWNED);
        }
    }
    if (!r->external_ip[0])
        return;
    {
        char gw[64], mac[18], net[40], ext[64], lsp[64], loc[80];
        const char *opts[] = { "router-port", gw, NULL };
        const char *lopts[] = { "network_name", r->physical_network, NULL };
        int k, g, els, l;

        snprintf(gw, sizeof(gw), "sov-rtr-%s-gw", id);
        id_mac(0x0e, id, mac);
        snprintf(net, sizeof(net), "%s/%s", r->external_ip, prefix);
        g = want_add(p, "Logical_Router_Port", scope, "router", id, r->tenant_id, gw,
                     json_pack("{s:s, s:s, s:o, s:o}", "name", gw, "mac", mac, "networks",
                               str1(net), "gateway_chassis", sov_ovsdb_set(json_array())));
        want_child(p, g, lr, "ports", REF_OWNED);
        for (size_t i = 0; i < r->nchassis; i++) {
            char gcn[128];

            snprintf(gcn, sizeof(gcn), "%s-%s", gw, r->chassis[i]);
            k = want_add(p, "Gateway_Chassis", scope, "router", id, r->tenant_id, gcn,
                         json_pack("{s:s, s:s, s:i}", "name", gcn, "chassis_name",
                                   r->chassis[i], "priority", (int) (r->nchassis - i)));
            want_child(p, k, g, "gateway_chassis", REF_OWNED);
        }
        k = want_add(p, "Logical_Router_Static_Route", scope, "router", id, r->tenant_id,
                     "default", json_pack("{s:s, s:s}", "ip_prefix", "0.0.0.0/0", "nexthop",
                                          r->pool_gateway));
        want_child(p, k, lr, "static_routes", REF_OWNED);
        for (size_t i = 0; i < r->nfips; i++) {
            char key[80];

            snprintf(key, sizeof(key), "fip-%s", r->fips[i].address);
            k = want_add(p, "NAT", scope, "public_ip", r->fips[i].address, r->tenant_id, key,
                         json_pack("{s:s, s:s, s:s}", "type", "dnat_and_snat", "external_ip",
                                   r->fips[i].address, "logical_ip", r->fips[i].ip));
            want_child(p, k, lr, "nat", REF_OWNED);
        }
        /* The region's external network: one switch per pool, shared by its routers. */
        snprintf(ext, sizeof(ext), "sov-ext-%s", r->pool_id);
        els = want_add(p, "Logical_Switch", pool_scope, "public_ip_pool", r->pool_id, NULL,
                       ext, json_pack("{s:s}", "name", ext));
        p->w[els].skip_col = "ports";
        snprintf(loc, sizeof(loc), "%s-localnet", ext);
        l = want_add(p, "Logical_Switch_Port", pool_scope, "public_ip_pool", r->pool_id, NULL,
                     loc, json_pack("{s:s, s:s, s:o, s:o}", "name", loc, "type", "localnet",
                                    "options", map_kv(lopts), "addresses", str1("unknown")));
        want_child(p, l, els, "ports", REF_MEMBER);
        snprintf(lsp, sizeof(lsp), "sov-rtr-%s-ext", id);
        k = want_add(p, "Logical_Switch_Port", scope, "router", id, r->tenant_id, lsp,
                     json_pack("{s:s, s:s, s:o, s:o}", "name", lsp, "type", "router",
                               "options", map_kv(opts), "addresses", str1("router")));
        want_child(p, k, els, "ports", REF_MEMBER);
    }
}

static int
router_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    router_args *a = arg;
    sov_autoptr(sov_ovsdb) nb = NULL;
    plan_auto p = { 0 };
    sov_ovn_router r;
    char scope[64], pool_scope[64] = "";
    int rc = -1;

    a->changed = false;
    snprintf(scope, sizeof(scope), "router:%s", a->id);
    if (sov_ovn_repo_lock(c, scope, err) < 0 ||
        sov_ovn_repo_cp(c, p.cp, err) < 0)
        return -1;
    if (sov_ovn_repo_router(c, a->id, &r, err) < 0)
        goto out;
    if (r.live && r.pool_id[0]) {
        /* The pool's switch is made by the first router that needs it, under its lock. */
        snprintf(pool_scope, sizeof(pool_scope), "pool:%s", r.pool_id);
        if (sov_ovn_repo_lock(c, pool_scope, err) < 0)
            goto out;
    }
    if (nb_connect(a->ctx, &nb, err) < 0)
        goto out;
    p.ops = json_array();
    p.scopes[p.nscopes++] = scope;
    if (pool_scope[0])
        p.scopes[p.nscopes++] = pool_scope;
    fill_router(&p, a->id, &r, scope, pool_scope);
    if (plan_read(&p, nb, err) < 0)
        goto out;
    for (size_t i = 0; i < p.n; i++)
        if (p.w[i].mode == REF_MEMBER)
            member(&p, p.w[i].parent, p.w[i].parent_col, (int) i, true);
    if (plan_run(&p, nb, &a->changed, err) < 0)
        goto out;
    if (a->changed)
        sov_log_info("ovn: router %s: %s", a->id, p.what);
    rc = sov_ovn_repo_router_settle(c, a->ctx, a->id, err);
out:
    sov_ovn_router_release(&r);
    return rc;
}

int
sov_ovn_sync_router(sov_ctx *ctx, const char *router_id, bool *ret_changed,
                    sov_error *err)
{
    router_args a = { ctx, router_id, false };

    if (sov_db_tx(ctx->db, router_tx, &a, err) < 0)
        return -1;
    if (ret_changed)
        *ret_changed = a.changed;
    return 0;
}

/* ---- any scope by its tag; a pool's switch that no router wants ---- */

typedef struct drop_args {
    sov_ctx *ctx;
    const char *scope;
    bool changed;
} drop_args;

/* Remove every row of a scope no resource wants (a pool no live router uses, a tag of no
 * kind we know), under its lock. */
static int
drop_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    drop_args *a = arg;
    sov_autoptr(sov_ovsdb) nb = NULL;
    plan_auto p = { 0 };

    a->changed = false;
    if (sov_ovn_repo_lock(c, a->scope, err) < 0 ||
        sov_ovn_repo_cp(c, p.cp, err) < 0 || nb_connect(a->ctx, &nb, err) < 0)
        return -1;
    p.ops = json_array();
    p.scopes[p.nscopes++] = a->scope;
    if (plan_read(&p, nb, err) < 0 || plan_run(&p, nb, &a->changed, err) < 0)
        return -1;
    if (a->changed)
        sov_log_info("ovn: %s: %s", a->scope, p.what);
    return 0;
}

int
sov_ovn_sync_scope(sov_ctx *ctx, const char *scope, bool *ret_changed, sov_error *err)
{
    drop_args a = { ctx, scope, false };
    bool changed = false;
    int rc;

    if (strncmp(scope, "network:", 8) == 0)
        rc = sov_ovn_sync_network(ctx, scope + 8, &changed, err);
    else if (strncmp(scope, "sg:", 3) == 0)
        rc = sov_ovn_sync_sg(ctx, scope + 3, &changed, err);
    else if (strncmp(scope, "router:", 7) == 0)
        rc = sov_ovn_sync_router(ctx, scope + 7, &changed, err);
    else if (strcmp(scope, "cp") == 0)
        rc = 0;
    else {
        rc = sov_db_tx(ctx->db, drop_tx, &a, err);
        changed = a.changed;
    }
    if (rc == 0 && ret_changed)
        *ret_changed = changed;
    return rc;
}
