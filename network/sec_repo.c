/* sec_repo.c: the SQL of security groups and their rules, routers, public IP pools and
 * public IPs (part "sec"). Columns are read by name; every query on a tenant's table filters
 * on tenant_id when the caller gives one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "network_int.h"

#define TS SOV_SQL_TS
#define UUID_RE "'^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'"

int
sov_net_error_field(sov_error *err, sov_errcode code, const char *field, const char *fmt, ...)
{
    va_list ap;

    sov_error_set(err, code, "%s", "");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    return -1;
}

/* ---- security groups ---- */

/* Rules are listed in the order they were given: each row takes the clock's time, not the
 * transaction's. */

#define SG_COLS                                                                          \
    "g.id, coalesce(g.tenant_id::text, '') AS tenant_id,"                                \
    " coalesce(g.workspace, '') AS workspace, g.name, g.is_default, g.state,"            \
    " g.state_reason, coalesce(g.operation_id::text, '') AS operation_id,"               \
    " " TS("g.created_at") " AS created_at, " TS("g.updated_at") " AS updated_at"

enum { G_ID, G_TENANT, G_WORKSPACE, G_NAME, G_DEFAULT, G_STATE, G_REASON, G_OPERATION,
       G_CREATED, G_UPDATED, G__N };
static const char *const sg_cols[G__N] = {
    [G_ID] = "id", [G_TENANT] = "tenant_id", [G_WORKSPACE] = "workspace", [G_NAME] = "name",
    [G_DEFAULT] = "is_default", [G_STATE] = "state", [G_REASON] = "state_reason",
    [G_OPERATION] = "operation_id", [G_CREATED] = "created_at", [G_UPDATED] = "updated_at",
};

static void
fill_sg(const PGresult *r, int i, const int *col, void *out)
{
    sov_security_group *g = out;

    memset(g, 0, sizeof(*g));
    sov_db_copy(g->id, sizeof(g->id), r, i, col[G_ID]);
    sov_db_copy(g->tenant_id, sizeof(g->tenant_id), r, i, col[G_TENANT]);
    sov_db_copy(g->workspace, sizeof(g->workspace), r, i, col[G_WORKSPACE]);
    sov_db_copy(g->name, sizeof(g->name), r, i, col[G_NAME]);
    g->is_default = sov_db_flag(r, i, col[G_DEFAULT]);
    sov_db_copy(g->state, sizeof(g->state), r, i, col[G_STATE]);
    sov_db_copy(g->state_reason, sizeof(g->state_reason), r, i, col[G_REASON]);
    sov_db_copy(g->operation_id, sizeof(g->operation_id), r, i, col[G_OPERATION]);
    sov_db_copy(g->created_at, sizeof(g->created_at), r, i, col[G_CREATED]);
    sov_db_copy(g->updated_at, sizeof(g->updated_at), r, i, col[G_UPDATED]);
}

static const sov_db_rowmap row_sg = { sg_cols, G__N, fill_sg };

#define RULE_COLS                                                                        \
    "r.id, r.direction, r.protocol, coalesce(r.port_min, 0) AS port_min,"                \
    " coalesce(r.port_max, 0) AS port_max, coalesce(r.remote_cidr::text, '') AS remote_cidr,"\
    " coalesce(r.remote_group_id::text, '') AS remote_group_id,"                         \
    " coalesce(rg.name, '') AS remote_group_name, r.description,"                        \
    " " TS("r.created_at") " AS created_at"

enum { R_ID, R_DIRECTION, R_PROTOCOL, R_MIN, R_MAX, R_CIDR, R_GROUP, R_GROUP_NAME, R_DESC,
       R_CREATED, R__N };
static const char *const rule_cols[R__N] = {
    [R_ID] = "id", [R_DIRECTION] = "direction", [R_PROTOCOL] = "protocol",
    [R_MIN] = "port_min", [R_MAX] = "port_max", [R_CIDR] = "remote_cidr",
    [R_GROUP] = "remote_group_id", [R_GROUP_NAME] = "remote_group_name",
    [R_DESC] = "description", [R_CREATED] = "created_at",
};

static void
fill_rule(const PGresult *r, int i, const int *col, void *out)
{
    sov_sg_rule *x = out;

    memset(x, 0, sizeof(*x));
    sov_db_copy(x->id, sizeof(x->id), r, i, col[R_ID]);
    sov_db_copy(x->direction, sizeof(x->direction), r, i, col[R_DIRECTION]);
    sov_db_copy(x->protocol, sizeof(x->protocol), r, i, col[R_PROTOCOL]);
    x->port_min = (int) sov_db_num(r, i, col[R_MIN]);
    x->port_max = (int) sov_db_num(r, i, col[R_MAX]);
    sov_db_copy(x->remote_cidr, sizeof(x->remote_cidr), r, i, col[R_CIDR]);
    sov_db_copy(x->remote_group_id, sizeof(x->remote_group_id), r, i, col[R_GROUP]);
    sov_db_copy(x->remote_group_name, sizeof(x->remote_group_name), r, i, col[R_GROUP_NAME]);
    sov_db_copy(x->description, sizeof(x->description), r, i, col[R_DESC]);
    sov_db_copy(x->created_at, sizeof(x->created_at), r, i, col[R_CREATED]);
}

static const sov_db_rowmap row_rule = { rule_cols, R__N, fill_rule };

static const char SQL_SG_INSERT[] =
    "INSERT INTO security_groups (id, tenant_id, workspace, name, is_default, state,"
    " operation_id) VALUES ($1, $2, $3, $4, $5::boolean, $6, NULLIF($7, '')::uuid)";
static const char SQL_RULE_INSERT[] =
    "INSERT INTO security_group_rules (id, security_group_id, tenant_id, direction, protocol,"
    " port_min, port_max, remote_cidr, remote_group_id, description, created_at) VALUES"
    " (gen_random_uuid(), $1, $2, $3, $4, NULLIF($5, '0')::integer,"
    " NULLIF($6, '0')::integer, NULLIF($7, '')::cidr, NULLIF($8, '')::uuid, $9,"
    " clock_timestamp())"
    " RETURNING id, " TS("created_at") " AS created_at";
static const char SQL_SG_GET[] =
    "SELECT " SG_COLS " FROM security_groups g"
    " WHERE g.id = $2::uuid AND ($1::uuid IS NULL OR g.tenant_id = $1::uuid)";
static const char SQL_SG_LOCK[] =
    "SELECT " SG_COLS " FROM security_groups g"
    " WHERE g.id = $2::uuid AND ($1::uuid IS NULL OR g.tenant_id = $1::uuid) FOR UPDATE";
static const char SQL_SG_FIND[] =
    "SELECT g.id FROM security_groups g WHERE g.tenant_id = $1::uuid AND g.state <> 'deleted'"
    " AND (CASE WHEN $3 ~ " UUID_RE " THEN g.id = $3::uuid"
    " ELSE g.workspace = $2 AND g.name = $3 END)";
static const char SQL_SG_DEFAULT[] =
    "SELECT g.id FROM security_groups g WHERE g.tenant_id = $1::uuid AND g.workspace = $2"
    " AND g.is_default AND g.state NOT IN ('deleting', 'deleted')"
    " ORDER BY g.created_at LIMIT 1";
static const char SQL_SG_LIST[] =
    "SELECT " SG_COLS " FROM security_groups g"
    " WHERE ($1::uuid IS NULL OR g.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR g.workspace = $2) AND g.state <> 'deleted'"
    " AND ($3::uuid IS NULL OR g.id > $3::uuid) ORDER BY g.id LIMIT $4";
static const char SQL_SG_RULES[] =
    "SELECT " RULE_COLS " FROM security_group_rules r"
    " LEFT JOIN security_groups rg ON rg.id = r.remote_group_id"
    " WHERE r.security_group_id = $1 ORDER BY r.created_at, r.id";
static const char SQL_SG_STATE[] =
    "UPDATE security_groups SET state = $2,"
    " operation_id = coalesce(NULLIF($3, '')::uuid, operation_id), updated_at = now()"
    " WHERE id = $1";
static const char SQL_SG_BLOCKERS[] =
    "SELECT kind, id, name FROM ("
    " SELECT 'port' AS kind, p.id::text AS id, p.name, p.created_at FROM ports p"
    "  JOIN port_security_groups ps ON ps.port_id = p.id"
    "  WHERE ps.security_group_id = $1 AND p.state <> 'deleted'"
    " UNION ALL"
    " SELECT DISTINCT 'security_group', g.id::text, g.name, g.created_at"
    "  FROM security_group_rules r JOIN security_groups g ON g.id = r.security_group_id"
    "  WHERE r.remote_group_id = $1 AND g.id <> $1 AND g.state <> 'deleted') b"
    " ORDER BY created_at, id LIMIT 9";
static const char SQL_RULE_DELETE[] =
    "DELETE FROM security_group_rules WHERE security_group_id = $1 AND id = $2::uuid"
    " RETURNING id";
static const char SQL_PORT_GROUPS_CLEAR[] =
    "DELETE FROM port_security_groups WHERE port_id = $1";
static const char SQL_PORT_GROUPS_SET[] =
    "INSERT INTO port_security_groups (port_id, security_group_id)"
    " SELECT $1, g FROM unnest($2::uuid[]) AS g ON CONFLICT DO NOTHING";

int
sov_repo_sg_insert(sov_dbconn *c, const sov_security_group *g, sov_error *err)
{
    const char *params[] = { g->id, g->tenant_id, g->workspace, g->name,
                             g->is_default ? "true" : "false", g->state, g->operation_id };

    if (sov_db_query(c, SQL_SG_INSERT, 7, params, NULL, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_net_error_field(err, SOV_E_CONFLICT, "name", "a security group named "
                                       "'%s' already exists in workspace '%s'", g->name,
                                       g->workspace);
        return -1;
    }
    return 0;
}

int
sov_repo_sg_rule_insert(sov_dbconn *c, const char *group_id, const char *tenant_id,
                        sov_sg_rule *r, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char lo[12], hi[12];
    const char *params[] = { group_id, tenant_id, r->direction, r->protocol, lo, hi,
                             r->remote_cidr, r->remote_group_id, r->description };

    snprintf(lo, sizeof(lo), "%d", r->port_min);
    snprintf(hi, sizeof(hi), "%d", r->port_max);
    if (sov_db_query(c, SQL_RULE_INSERT, 9, params, &res, err) < 0)
        return -1;
    sov_db_copy(r->id, sizeof(r->id), res, 0, PQfnumber(res, "id"));
    sov_db_copy(r->created_at, sizeof(r->created_at), res, 0, PQfnumber(res, "created_at"));
    return 0;
}

int
sov_repo_sg_rules(sov_dbconn *c, const char *group_id, sov_sg_rule **ret, size_t *n,
                  sov_error *err)
{
    const char *params[] = { group_id };

    return sov_db_all(c, SQL_SG_RULES, 1, params, sizeof(**ret), &row_rule, (void **) ret, n,
                      err);
}

int
sov_repo_sg_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                sov_security_group *ret, sov_error *err)
{
    const char *params[] = { tenant_id, id };
    sov_security_group g;

    if (sov_db_one(c, lock ? SQL_SG_LOCK : SQL_SG_GET, 2, params, &row_sg, &g,
                   "security group", id, err) < 0)
        return -1;
    if (sov_repo_sg_rules(c, g.id, &g.rules, &g.nrules, err) < 0)
        return -1;
    *ret = g;
    return 0;
}

int
sov_repo_sg_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                 const char *id_or_name, const char *field, char *ret, sov_error *err)
{
    char id[SOV_UUID_LEN + 1];

    if (sov_net_repo_find(c, SQL_SG_FIND, tenant_id, workspace, id_or_name, field,
                          &sov_db_row_id, id, "security group", err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", id);
    return 0;
}

int
sov_repo_sg_default(sov_dbconn *c, const char *tenant_id, const char *workspace, char *ret,
                    bool *found, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, workspace ? workspace : "default" };

    if (sov_db_query(c, SQL_SG_DEFAULT, 2, params, &res, err) < 0)
        return -1;
    *found = PQntuples(res) > 0;
    if (*found)
        sov_db_copy(ret, SOV_UUID_LEN + 1, res, 0, PQfnumber(res, "id"));
    return 0;
}

int
sov_repo_sg_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                 const char *after, unsigned limit, sov_security_group_page *ret,
                 sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    if (sov_db_page(c, SQL_SG_LIST, 4, params, sizeof(*ret->items), &row_sg, limit, "id",
                    (void **) &ret->items, &ret->n, ret->next_after, sizeof(ret->next_after),
                    err) < 0)
        return -1;
    for (size_t i = 0; i < ret->n; i++)
        if (sov_repo_sg_rules(c, ret->items[i].id, &ret->items[i].rules,
                              &ret->items[i].nrules, err) < 0)
            return -1;
    return 0;
}

int
sov_repo_sg_set_state(sov_dbconn *c, const char *id, const char *state,
                      const char *operation_id, sov_error *err)
{
    const char *params[] = { id, state, operation_id ? operation_id : "" };

    return sov_db_query(c, SQL_SG_STATE, 3, params, NULL, err);
}

int
sov_repo_sg_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_SG_BLOCKERS, 1, params, what, err);
}

int
sov_repo_sg_rule_delete(sov_dbconn *c, const char *group_id, const char *rule_id,
                        sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { group_id, rule_id };

    if (sov_db_query(c, SQL_RULE_DELETE, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "rule '%s' does not exist", rule_id);
    return 0;
}

int
sov_repo_port_set_groups(sov_dbconn *c, const char *port_id, const char *const *ids,
                         size_t n, sov_error *err)
{
    sov_buf list = SOV_BUF_INIT;
    const char *params[] = { port_id, NULL };
    int rc;

    if (sov_db_query(c, SQL_PORT_GROUPS_CLEAR, 1, params, NULL, err) < 0)
        return -1;
    if (n == 0)
        return 0;
    sov_buf_pg_array(&list, ids, n);
    if (list.oom) {
        sov_buf_release(&list);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    params[1] = list.data;
    rc = sov_db_query(c, SQL_PORT_GROUPS_SET, 2, params, NULL, err);
    sov_buf_release(&list);
    return rc;
}

/* ---- networks and ports, as routers and public IPs see them ---- */

static const char SQL_NET_FIND[] =
    "SELECT n.id, n.tenant_id::text AS tenant_id, coalesce(n.workspace, '') AS workspace,"
    " n.name, n.region, n.state, coalesce(r.id::text, '') AS router_id,"
    " coalesce(r.state, '') AS router_state FROM networks n"
    " LEFT JOIN routers r ON r.network_id = n.id AND r.state NOT IN ('deleting', 'deleted')"
    " WHERE n.tenant_id = $1::uuid AND n.state NOT IN ('deleting', 'deleted')"
    " AND (CASE WHEN $3 ~ " UUID_RE " THEN n.id = $3::uuid"
    " ELSE n.workspace = $2 AND n.name = $3 END)";
static const char SQL_NET_LOCK[] = "SELECT id FROM networks WHERE id = $1 FOR UPDATE";

enum { N_ID, N_TENANT, N_WORKSPACE, N_NAME, N_REGION, N_STATE, N_ROUTER, N_ROUTER_STATE,
       N__N };
static const char *const net_cols[N__N] = {
    [N_ID] = "id", [N_TENANT] = "tenant_id", [N_WORKSPACE] = "workspace", [N_NAME] = "name",
    [N_REGION] = "region", [N_STATE] = "state", [N_ROUTER] = "router_id",
    [N_ROUTER_STATE] = "router_state",
};

static void
fill_net(const PGresult *r, int i, const int *col, void *out)
{
    sov_sec_network *n = out;

    memset(n, 0, sizeof(*n));
    sov_db_copy(n->id, sizeof(n->id), r, i, col[N_ID]);
    sov_db_copy(n->tenant_id, sizeof(n->tenant_id), r, i, col[N_TENANT]);
    sov_db_copy(n->workspace, sizeof(n->workspace), r, i, col[N_WORKSPACE]);
    sov_db_copy(n->name, sizeof(n->name), r, i, col[N_NAME]);
    sov_db_copy(n->region, sizeof(n->region), r, i, col[N_REGION]);
    sov_db_copy(n->state, sizeof(n->state), r, i, col[N_STATE]);
    sov_db_copy(n->router_id, sizeof(n->router_id), r, i, col[N_ROUTER]);
    sov_db_copy(n->router_state, sizeof(n->router_state), r, i, col[N_ROUTER_STATE]);
}

static const sov_db_rowmap row_net = { net_cols, N__N, fill_net };

int
sov_repo_sec_network(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *id_or_name, const char *field, bool lock,
                     sov_sec_network *ret, sov_error *err)
{
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };
    sov_sec_network n;

    if (sov_db_one(c, SQL_NET_FIND, 3, params, &row_net, &n, "network", id_or_name,
                   err) < 0) {
        if (err->code == SOV_E_NOT_FOUND && field)
            snprintf(err->field, sizeof(err->field), "%s", field);
        return -1;
    }
    if (lock) {
        const char *id[] = { n.id };
        /* The row lock, then a second look: a router made meanwhile is seen. */
        if (sov_db_query(c, SQL_NET_LOCK, 1, id, NULL, err) < 0 ||
            sov_db_one(c, SQL_NET_FIND, 3, params, &row_net, &n, "network", id_or_name,
                       err) < 0)
            return -1;
    }
    *ret = n;
    return 0;
}

static const char SQL_PORT_FIND[] =
    "SELECT p.id, p.name, p.state, host(p.ip) AS ip, p.network_id,"
    " coalesce(i.id::text, '') AS public_ip_id, coalesce(i.name, '') AS public_ip_name"
    " FROM ports p LEFT JOIN public_ips i ON i.port_id = p.id AND i.state <> 'deleted'"
    " WHERE p.tenant_id = $1::uuid AND p.state NOT IN ('deleting', 'deleted')"
    " AND (CASE WHEN $3 ~ " UUID_RE " THEN p.id = $3::uuid"
    " ELSE p.workspace = $2 AND p.name = $3 END)";

int
sov_repo_sec_port(sov_dbconn *c, const char *tenant_id, const char *workspace,
                  const char *id_or_name, const char *field, sov_sec_port *ret,
                  sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };
    char net[SOV_UUID_LEN + 1];

    if (sov_db_query(c, SQL_PORT_FIND, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_net_error_field(err, SOV_E_NOT_FOUND, field, "port '%s' does not exist",
                                   id_or_name);
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->id, sizeof(ret->id), res, 0, PQfnumber(res, "id"));
    sov_db_copy(ret->name, sizeof(ret->name), res, 0, PQfnumber(res, "name"));
    sov_db_copy(ret->state, sizeof(ret->state), res, 0, PQfnumber(res, "state"));
    sov_db_copy(ret->ip, sizeof(ret->ip), res, 0, PQfnumber(res, "ip"));
    sov_db_copy(net, sizeof(net), res, 0, PQfnumber(res, "network_id"));
    sov_db_copy(ret->public_ip_id, sizeof(ret->public_ip_id), res, 0,
                PQfnumber(res, "public_ip_id"));
    sov_db_copy(ret->public_ip_name, sizeof(ret->public_ip_name), res, 0,
                PQfnumber(res, "public_ip_name"));
    if (sov_repo_sec_network(c, tenant_id, workspace, net, field, false, &ret->network,
                             err) < 0)
        return -1;
    return 0;
}

/* ---- routers ---- */

#define ROUTER_COLS                                                                      \
    "r.id, coalesce(r.tenant_id::text, '') AS tenant_id,"                                \
    " coalesce(r.workspace, '') AS workspace, r.name, r.network_id::text AS network_id,"  \
    " n.name AS network_name, r.region, r.snat,"                                         \
    " coalesce((SELECT host(i.address) FROM public_ips i WHERE i.router_id = r.id"        \
    " AND i.kind = 'router' AND i.state <> 'deleted' ORDER BY i.created_at DESC LIMIT 1),"\
    " '') AS external_ip, r.state, r.state_reason,"                                      \
    " coalesce(r.operation_id::text, '') AS operation_id,"                               \
    " " TS("r.created_at") " AS created_at, " TS("r.updated_at") " AS updated_at"

enum { T_ID, T_TENANT, T_WORKSPACE, T_NAME, T_NET, T_NET_NAME, T_REGION, T_SNAT, T_EXT,
       T_STATE, T_REASON, T_OPERATION, T_CREATED, T_UPDATED, T__N };
static const char *const router_cols[T__N] = {
    [T_ID] = "id", [T_TENANT] = "tenant_id", [T_WORKSPACE] = "workspace", [T_NAME] = "name",
    [T_NET] = "network_id", [T_NET_NAME] = "network_name", [T_REGION] = "region",
    [T_SNAT] = "snat", [T_EXT] = "external_ip", [T_STATE] = "state",
    [T_REASON] = "state_reason", [T_OPERATION] = "operation_id", [T_CREATED] = "created_at",
    [T_UPDATED] = "updated_at",
};

#define COPY(field, k) sov_db_copy(x->field, sizeof(x->field), r, i, col[k])

static void
fill_router(const PGresult *r, int i, const int *col, void *out)
{
    sov_router *x = out;

    memset(x, 0, sizeof(*x));
    COPY(id, T_ID);
    COPY(tenant_id, T_TENANT);
    COPY(workspace, T_WORKSPACE);
    COPY(name, T_NAME);
    COPY(network_id, T_NET);
    COPY(network_name, T_NET_NAME);
    COPY(region, T_REGION);
    x->snat = sov_db_flag(r, i, col[T_SNAT]);
    COPY(external_ip, T_EXT);
    COPY(state, T_STATE);
    COPY(state_reason, T_REASON);
    COPY(operation_id, T_OPERATION);
    COPY(created_at, T_CREATED);
    COPY(updated_at, T_UPDATED);
}

static const sov_db_rowmap row_router = { router_cols, T__N, fill_router };

static const char SQL_ROUTER_INSERT[] =
    "INSERT INTO routers (id, tenant_id, workspace, name, network_id, region, snat, state,"
    " operation_id) VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, 'creating',"
    " NULLIF($8, '')::uuid)";
static const char SQL_ROUTER_GET[] =
    "SELECT " ROUTER_COLS " FROM routers r JOIN networks n ON n.id = r.network_id"
    " WHERE r.id = $2::uuid AND ($1::uuid IS NULL OR r.tenant_id = $1::uuid)";
static const char SQL_ROUTER_LOCK[] =
    "SELECT id FROM routers WHERE id = $2::uuid AND ($1::uuid IS NULL OR tenant_id = $1::uuid)"
    " FOR UPDATE";
static const char SQL_ROUTER_FIND[] =
    "SELECT " ROUTER_COLS " FROM routers r JOIN networks n ON n.id = r.network_id"
    " WHERE r.tenant_id = $1::uuid AND r.state <> 'deleted'"
    " AND (CASE WHEN $3 ~ " UUID_RE " THEN r.id = $3::uuid"
    " ELSE r.workspace = $2 AND r.name = $3 END)";
static const char SQL_ROUTER_LIST[] =
    "SELECT " ROUTER_COLS " FROM routers r JOIN networks n ON n.id = r.network_id"
    " WHERE ($1::uuid IS NULL OR r.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR r.workspace = $2) AND r.state <> 'deleted'"
    " AND ($3::uuid IS NULL OR r.id > $3::uuid) ORDER BY r.id LIMIT $4";
static const char SQL_ROUTER_BLOCKERS[] =
    "SELECT 'public_ip' AS kind, i.id::text AS id, i.name FROM public_ips i"
    " JOIN ports p ON p.id = i.port_id"
    " WHERE p.network_id = $1 AND i.kind = 'ip' AND i.state <> 'deleted'"
    " ORDER BY i.created_at, i.id LIMIT 9";
static const char SQL_ROUTER_STATE[] =
    "WITH ip AS (UPDATE public_ips SET state = $2, updated_at = now(),"
    " operation_id = coalesce(NULLIF($3, '')::uuid, operation_id)"
    " WHERE router_id = $1 AND kind = 'router' AND state <> 'deleted')"
    " UPDATE routers SET state = $2, updated_at = now(),"
    " operation_id = coalesce(NULLIF($3, '')::uuid, operation_id) WHERE id = $1";

int
sov_repo_router_insert(sov_dbconn *c, const sov_router *r, sov_error *err)
{
    const char *params[] = { r->id, r->tenant_id, r->workspace, r->name, r->network_id,
                             r->region, r->snat ? "true" : "false", r->operation_id };

    if (sov_db_query(c, SQL_ROUTER_INSERT, 8, params, NULL, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_error_set(err, SOV_E_CONFLICT, "a router named '%s' already exists in "
                                 "workspace '%s', or network '%s' has one", r->name,
                                 r->workspace, r->network_name);
        return -1;
    }
    return 0;
}

int
sov_repo_router_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                    sov_router *ret, sov_error *err)
{
    return sov_net_repo_get(c, SQL_ROUTER_GET, SQL_ROUTER_LOCK, tenant_id, id, lock, &row_router,
                            ret, "router", err);
}

int
sov_repo_router_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *id_or_name, sov_router *ret, sov_error *err)
{
    return sov_net_repo_find(c, SQL_ROUTER_FIND, tenant_id, workspace, id_or_name, NULL,
                             &row_router, ret, "router", err);
}

int
sov_repo_router_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *after, unsigned limit, sov_router_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_ROUTER_LIST, 4, params, sizeof(*ret->items), &row_router, limit,
                       "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_router_blockers(sov_dbconn *c, const sov_router *r, const char *what,
                         sov_error *err)
{
    const char *params[] = { r->network_id };

    return sov_db_blockers(c, SQL_ROUTER_BLOCKERS, 1, params, what, err);
}

int
sov_repo_router_set_state(sov_dbconn *c, const char *id, const char *state,
                          const char *operation_id, sov_error *err)
{
    const char *params[] = { id, state, operation_id ? operation_id : "" };

    return sov_db_query(c, SQL_ROUTER_STATE, 3, params, NULL, err);
}

/* ---- public IP pools ---- */

#define POOL_COLS                                                                        \
    "p.id, p.region, p.name, p.cidr::text AS cidr, host(p.gateway) AS gateway,"          \
    " host(p.first_ip) AS first_ip, host(p.last_ip) AS last_ip, p.physical_network,"     \
    " (p.last_ip - p.first_ip) + 1 AS total,"                                            \
    " (SELECT count(*) FROM public_ips i WHERE i.pool_id = p.id AND i.state <> 'deleted')"\
    " AS used, " TS("p.created_at") " AS created_at"

enum { P_ID, P_REGION, P_NAME, P_CIDR, P_GATEWAY, P_FIRST, P_LAST, P_PHYS, P_TOTAL, P_USED,
       P_CREATED, P__N };
static const char *const pool_cols[P__N] = {
    [P_ID] = "id", [P_REGION] = "region", [P_NAME] = "name", [P_CIDR] = "cidr",
    [P_GATEWAY] = "gateway", [P_FIRST] = "first_ip", [P_LAST] = "last_ip",
    [P_PHYS] = "physical_network", [P_TOTAL] = "total", [P_USED] = "used",
    [P_CREATED] = "created_at",
};

static void
fill_pool(const PGresult *r, int i, const int *col, void *out)
{
    sov_public_ip_pool *x = out;

    memset(x, 0, sizeof(*x));
    COPY(id, P_ID);
    COPY(region, P_REGION);
    COPY(name, P_NAME);
    COPY(cidr, P_CIDR);
    COPY(gateway, P_GATEWAY);
    COPY(first_ip, P_FIRST);
    COPY(last_ip, P_LAST);
    COPY(physical_network, P_PHYS);
    x->total = sov_db_num(r, i, col[P_TOTAL]);
    x->used = sov_db_num(r, i, col[P_USED]);
    COPY(created_at, P_CREATED);
}

static const sov_db_rowmap row_pool = { pool_cols, P__N, fill_pool };

static const char SQL_REGION_LOCK[] = "SELECT code FROM regions WHERE code = $1 FOR UPDATE";
static const char SQL_POOL_INSERT[] =
    "INSERT INTO public_ip_pools (id, region, name, cidr, gateway, first_ip, last_ip,"
    " physical_network) VALUES ($1, $2, $3, $4::cidr, $5::inet, $6::inet, $7::inet, $8)";
static const char SQL_POOL_OVERLAP[] =
    "SELECT name FROM public_ip_pools WHERE region = $1 AND cidr && $2::cidr AND id <> $3"
    " ORDER BY created_at LIMIT 1";
static const char SQL_POOL_GET[] =
    "SELECT " POOL_COLS " FROM public_ip_pools p WHERE p.region = $1"
    " AND (CASE WHEN $2 ~ " UUID_RE " THEN p.id = $2::uuid ELSE p.name = $2 END)";
static const char SQL_POOL_LOCK[] =
    "SELECT id FROM public_ip_pools p WHERE p.region = $1"
    " AND (CASE WHEN $2 ~ " UUID_RE " THEN p.id = $2::uuid ELSE p.name = $2 END) FOR UPDATE";
static const char SQL_POOL_LIST[] =
    "SELECT " POOL_COLS " FROM public_ip_pools p WHERE p.region = $1"
    " AND ($2::uuid IS NULL OR p.id > $2::uuid) ORDER BY p.id LIMIT $3";
static const char SQL_POOL_ANY[] = "SELECT 1 AS one FROM public_ip_pools WHERE region = $1 LIMIT 1";
static const char SQL_POOL_BLOCKERS[] =
    "SELECT CASE i.kind WHEN 'router' THEN 'router' ELSE 'public_ip' END AS kind,"
    " coalesce(i.router_id, i.id)::text AS id, coalesce(r.name, i.name) AS name"
    " FROM public_ips i LEFT JOIN routers r ON r.id = i.router_id"
    " WHERE i.pool_id = $1 AND i.state <> 'deleted' ORDER BY i.created_at, i.id LIMIT 9";
/* Deleted addresses keep no pool: their rows go with it (their residency records stay). */
static const char SQL_POOL_DELETE[] =
    "WITH d AS (DELETE FROM public_ips WHERE pool_id = $1 AND state = 'deleted')"
    " DELETE FROM public_ip_pools WHERE id = $1";

int
sov_repo_pool_insert(sov_dbconn *c, const sov_public_ip_pool *p, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *region[] = { p->region };
    const char *params[] = { p->id, p->region, p->name, p->cidr, p->gateway, p->first_ip,
                             p->last_ip, p->physical_network };

    if (sov_db_query(c, SQL_REGION_LOCK, 1, region, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "region '%s' does not exist", p->region);
    if (sov_db_query(c, SQL_POOL_INSERT, 8, params, NULL, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_net_error_field(err, SOV_E_CONFLICT, "name", "region '%s' already has a "
                                       "public IP pool named '%s'", p->region, p->name);
        return -1;
    }
    return 0;
}

int
sov_repo_pool_overlap(sov_dbconn *c, const sov_public_ip_pool *p, char *ret, size_t size,
                      sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { p->region, p->cidr, p->id };

    ret[0] = '\0';
    if (sov_db_query(c, SQL_POOL_OVERLAP, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) > 0)
        sov_db_copy(ret, size, res, 0, PQfnumber(res, "name"));
    return 0;
}

int
sov_repo_pool_get(sov_dbconn *c, const char *region, const char *id_or_name, bool lock,
                  sov_public_ip_pool *ret, sov_error *err)
{
    const char *params[] = { region, id_or_name };

    if (lock) {
        sov_autoptr(PGresult) res = NULL;
        if (sov_db_query(c, SQL_POOL_LOCK, 2, params, &res, err) < 0)
            return -1;
    }
    return sov_db_one(c, SQL_POOL_GET, 2, params, &row_pool, ret, "public IP pool",
                      id_or_name, err);
}

int
sov_repo_pool_list(sov_dbconn *c, const char *region, const char *after, unsigned limit,
                   sov_public_ip_pool_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { region, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_POOL_LIST, 3, params, sizeof(*ret->items), &row_pool, limit,
                       "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_pool_any(sov_dbconn *c, const char *region, bool *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { region };

    if (sov_db_query(c, SQL_POOL_ANY, 1, params, &res, err) < 0)
        return -1;
    *ret = PQntuples(res) > 0;
    return 0;
}

int
sov_repo_pool_delete(sov_dbconn *c, const sov_public_ip_pool *p, sov_error *err)
{
    const char *params[] = { p->id };
    char what[128];

    snprintf(what, sizeof(what), "public IP pool '%s'", p->name);
    if (sov_db_blockers(c, SQL_POOL_BLOCKERS, 1, params, what, err) < 0)
        return -1;
    return sov_db_query(c, SQL_POOL_DELETE, 1, params, NULL, err);
}

/* ---- public IPs ---- */

static const char SQL_POOLS_LOCK[] =
    "SELECT id FROM public_ip_pools WHERE region = $1 ORDER BY created_at, id FOR UPDATE";
/* The lowest address of the pool no live row holds (the unique index public_ips_address_key
 * is the backstop). */
static const char SQL_POOL_FREE[] =
    "SELECT host(p.first_ip + s.n) AS address FROM public_ip_pools p,"
    " generate_series(0::bigint, p.last_ip - p.first_ip) AS s(n)"
    " WHERE p.id = $1 AND NOT EXISTS (SELECT 1 FROM public_ips i WHERE i.pool_id = p.id"
    " AND i.state <> 'deleted' AND i.address = p.first_ip + s.n) ORDER BY s.n LIMIT 1";

int
sov_repo_public_ip_take(sov_dbconn *c, const char *region, char *pool_id, char *address,
                        bool *found, sov_error *err)
{
    sov_autoptr(PGresult) pools = NULL;
    const char *params[] = { region };

    *found = false;
    if (sov_db_query(c, SQL_POOLS_LOCK, 1, params, &pools, err) < 0)
        return -1;
    for (int i = 0; i < PQntuples(pools); i++) {
        sov_autoptr(PGresult) res = NULL;
        const char *id[] = { PQgetvalue(pools, i, PQfnumber(pools, "id")) };

        if (sov_db_query(c, SQL_POOL_FREE, 1, id, &res, err) < 0)
            return -1;
        if (PQntuples(res) > 0) {
            snprintf(pool_id, SOV_UUID_LEN + 1, "%s", id[0]);
            sov_db_copy(address, SOV_IP_MAX, res, 0, PQfnumber(res, "address"));
            *found = true;
            return 0;
        }
    }
    return 0;
}

static const char SQL_POOL_ADDRESS[] =
    "SELECT p.id::text AS id, EXISTS (SELECT 1 FROM public_ips i WHERE i.pool_id = p.id"
    " AND i.state <> 'deleted' AND i.address = $2::inet) AS taken FROM public_ip_pools p"
    " WHERE p.region = $1 AND $2::inet BETWEEN p.first_ip AND p.last_ip"
    " ORDER BY p.created_at, p.id LIMIT 1";

int
sov_repo_public_ip_take_address(sov_dbconn *c, const char *region, const char *address,
                                char *pool_id, bool *taken, sov_error *err)
{
    sov_autoptr(PGresult) pools = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *lock[] = { region };
    const char *params[] = { region, address };

    pool_id[0] = '\0';
    *taken = false;
    if (sov_db_query(c, SQL_POOLS_LOCK, 1, lock, &pools, err) < 0 ||
        sov_db_query(c, SQL_POOL_ADDRESS, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    sov_db_copy(pool_id, SOV_UUID_LEN + 1, res, 0, PQfnumber(res, "id"));
    *taken = strcmp(PQgetvalue(res, 0, PQfnumber(res, "taken")), "t") == 0;
    return 0;
}

#define IP_COLS                                                                          \
    "i.id, coalesce(i.tenant_id::text, '') AS tenant_id,"                                \
    " coalesce(i.workspace, '') AS workspace, i.name, i.region, i.pool_id::text AS pool_id,"\
    " host(i.address) AS address, coalesce(i.port_id::text, '') AS port_id,"             \
    " coalesce(host(p.ip), '') AS port_ip, i.state, i.state_reason,"                     \
    " coalesce(i.operation_id::text, '') AS operation_id,"                               \
    " coalesce(rr.to_region, '') AS res_region, coalesce(rr.to_country, '') AS res_country,"\
    " coalesce(rr.to_jurisdiction, '') AS res_jurisdiction,"                             \
    " coalesce(rr.to_datacenter, '') AS res_datacenter,"                                 \
    " coalesce(" TS("rr.at") ", '') AS residency_since,"                                 \
    " " TS("i.created_at") " AS created_at, " TS("i.updated_at") " AS updated_at"

#define IP_FROM                                                                          \
    " FROM public_ips i LEFT JOIN ports p ON p.id = i.port_id"                           \
    " LEFT JOIN LATERAL (SELECT * FROM residency_records x"                              \
    " WHERE x.resource_type = 'public_ip' AND x.resource_id = i.id::text"                \
    " ORDER BY x.seq DESC LIMIT 1) rr ON true"

enum { I_ID, I_TENANT, I_WORKSPACE, I_NAME, I_REGION, I_POOL, I_ADDRESS, I_PORT, I_PORT_IP,
       I_STATE, I_REASON, I_OPERATION, I_RES_REGION, I_RES_COUNTRY, I_RES_JURISDICTION,
       I_RES_DATACENTER, I_RES_SINCE, I_CREATED, I_UPDATED, I__N };
static const char *const ip_cols[I__N] = {
    [I_ID] = "id", [I_TENANT] = "tenant_id", [I_WORKSPACE] = "workspace", [I_NAME] = "name",
    [I_REGION] = "region", [I_POOL] = "pool_id", [I_ADDRESS] = "address",
    [I_PORT] = "port_id", [I_PORT_IP] = "port_ip", [I_STATE] = "state",
    [I_REASON] = "state_reason", [I_OPERATION] = "operation_id",
    [I_RES_REGION] = "res_region", [I_RES_COUNTRY] = "res_country",
    [I_RES_JURISDICTION] = "res_jurisdiction", [I_RES_DATACENTER] = "res_datacenter",
    [I_RES_SINCE] = "residency_since", [I_CREATED] = "created_at", [I_UPDATED] = "updated_at",
};

static void
fill_ip(const PGresult *r, int i, const int *col, void *out)
{
    sov_public_ip *x = out;

    memset(x, 0, sizeof(*x));
    COPY(id, I_ID);
    COPY(tenant_id, I_TENANT);
    COPY(workspace, I_WORKSPACE);
    COPY(name, I_NAME);
    COPY(region, I_REGION);
    COPY(pool_id, I_POOL);
    COPY(address, I_ADDRESS);
    COPY(port_id, I_PORT);
    COPY(port_ip, I_PORT_IP);
    COPY(state, I_STATE);
    COPY(state_reason, I_REASON);
    COPY(operation_id, I_OPERATION);
    COPY(residency.region, I_RES_REGION);
    COPY(residency.country, I_RES_COUNTRY);
    COPY(residency.jurisdiction, I_RES_JURISDICTION);
    COPY(residency.datacenter, I_RES_DATACENTER);
    COPY(residency_since, I_RES_SINCE);
    COPY(created_at, I_CREATED);
    COPY(updated_at, I_UPDATED);
}

#undef COPY

static const sov_db_rowmap row_ip = { ip_cols, I__N, fill_ip };

static const char SQL_IP_INSERT[] =
    "INSERT INTO public_ips (id, tenant_id, workspace, name, kind, region, pool_id, address,"
    " port_id, router_id, state, operation_id) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8::inet, NULLIF($9, '')::uuid, NULLIF($10, '')::uuid, $11, NULLIF($12, '')::uuid)";
static const char SQL_IP_GET[] =
    "SELECT " IP_COLS IP_FROM " WHERE i.id = $2::uuid AND i.kind = 'ip'"
    " AND ($1::uuid IS NULL OR i.tenant_id = $1::uuid)";
static const char SQL_IP_LOCK[] =
    "SELECT id FROM public_ips WHERE id = $2::uuid AND kind = 'ip'"
    " AND ($1::uuid IS NULL OR tenant_id = $1::uuid) FOR UPDATE";
static const char SQL_IP_FIND[] =
    "SELECT " IP_COLS IP_FROM " WHERE i.tenant_id = $1::uuid AND i.kind = 'ip'"
    " AND i.state <> 'deleted' AND (CASE WHEN $3 ~ " UUID_RE " THEN i.id = $3::uuid"
    " ELSE i.workspace = $2 AND i.name = $3 END)";
static const char SQL_IP_LIST[] =
    "SELECT " IP_COLS IP_FROM " WHERE ($1::uuid IS NULL OR i.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR i.workspace = $2) AND i.kind = 'ip' AND i.state <> 'deleted'"
    " AND ($3::uuid IS NULL OR i.id > $3::uuid) ORDER BY i.id LIMIT $4";
static const char SQL_IP_SET[] =
    "UPDATE public_ips SET state = $2,"
    " port_id = CASE WHEN $3::text IS NULL THEN port_id ELSE NULLIF($3, '')::uuid END,"
    " operation_id = coalesce(NULLIF($4, '')::uuid, operation_id), updated_at = now()"
    " WHERE id = $1";

int
sov_repo_public_ip_insert(sov_dbconn *c, const sov_public_ip *ip, const char *kind,
                          const char *router_id, sov_error *err)
{
    const char *params[] = { ip->id, ip->tenant_id, ip->workspace, ip->name, kind,
                             ip->region, ip->pool_id, ip->address, ip->port_id,
                             router_id ? router_id : "", ip->state, ip->operation_id };

    if (sov_db_query(c, SQL_IP_INSERT, 12, params, NULL, err) < 0) {
        if (err->code == SOV_E_CONFLICT && strcmp(sov_db_last_sqlstate(c), "23505") == 0)
            return sov_net_error_field(err, SOV_E_CONFLICT, "name", "a public IP named '%s' "
                                       "already exists in workspace '%s', or its address or "
                                       "port is taken", ip->name, ip->workspace);
        return -1;
    }
    return 0;
}

int
sov_repo_public_ip_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                       sov_public_ip *ret, sov_error *err)
{
    return sov_net_repo_get(c, SQL_IP_GET, SQL_IP_LOCK, tenant_id, id, lock, &row_ip, ret,
                            "public IP", err);
}

int
sov_repo_public_ip_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                        const char *id_or_name, sov_public_ip *ret, sov_error *err)
{
    return sov_net_repo_find(c, SQL_IP_FIND, tenant_id, workspace, id_or_name, NULL, &row_ip,
                             ret, "public IP", err);
}

int
sov_repo_public_ip_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                        const char *after, unsigned limit, sov_public_ip_page *ret,
                        sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_IP_LIST, 4, params, sizeof(*ret->items), &row_ip, limit, "id",
                       (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_public_ip_set(sov_dbconn *c, const char *id, const char *state, const char *port_id,
                       const char *operation_id, sov_error *err)
{
    const char *params[] = { id, state, port_id, operation_id ? operation_id : "" };

    return sov_db_query(c, SQL_IP_SET, 4, params, NULL, err);
}
