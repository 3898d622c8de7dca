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

static long long
num(const PGresult *r, int i, int col)
{
    return strtoll(PQgetvalue(r, i, col), NULL, 10);
}

static bool
flag(const PGresult *r, int i, int col)
{
    return PQgetvalue(r, i, col)[0] == 't';
}

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
    g->is_default = flag(r, i, col[G_DEFAULT]);
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
    x->port_min = (int) num(r, i, col[R_MIN]);
    x->port_max = (int) num(r, i, col[R_MAX]);
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
    " port_min, port_max, remote_cidr, remote_group_id, description) VALUES"
    " (gen_random_uuid(), $1, $2, $3, $4, NULLIF($5, '0')::integer,"
    " NULLIF($6, '0')::integer, NULLIF($7, '')::cidr, NULLIF($8, '')::uuid, $9)"
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
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };
    char id[SOV_UUID_LEN + 1];

    if (sov_db_one(c, SQL_SG_FIND, 3, params, &sov_db_row_id, id, "security group",
                   id_or_name, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND && field)
            snprintf(err->field, sizeof(err->field), "%s", field);
        return -1;
    }
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
