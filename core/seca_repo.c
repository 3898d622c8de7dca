/* seca_repo.c: SQL for the SECA surface's meta and objects (migrations/0016_seca.sql).
 * Values go in as $n parameters only. Timestamps come out as RFC 3339 UTC with
 * milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_repo.h"
#include "sov/identity.h"
#include "sov/repo/db_pq.h"

#define TSMS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* ---- meta ---- */

/* The lock's first key names this table's locks among other advisory locks. */
static const char SQL_META_LOCK[] =
    "SELECT " TSMS("date_trunc('milliseconds', clock_timestamp())") " AS now"
    " FROM (SELECT pg_advisory_xact_lock(1397048129, hashtext($1))) l";

#define META_COLS                                                                          \
    "resource_id, coalesce(tenant_id::text, '') AS tenant_id, kind, labels::text AS labels,"\
    " annotations::text AS annotations, extensions::text AS extensions, version,"           \
    " conditions::text AS conditions, coalesce(follow_op::text, '') AS follow_op,"          \
    " coalesce(follow_phase, '') AS follow_phase, " TSMS("created_at") " AS created_at, "   \
    TSMS("modified_at") " AS modified_at, coalesce(" TSMS("deleted_at") ", '') AS deleted_at"

static const char SQL_META_GET[] =
    "SELECT " META_COLS " FROM resource_meta WHERE resource_id = $1";

static const char SQL_META_PUT[] =
    "INSERT INTO resource_meta AS m (resource_id, tenant_id, kind, labels, annotations,"
    " extensions, version, conditions, follow_op, follow_phase, created_at, modified_at,"
    " deleted_at) VALUES ($1, NULLIF($2, '')::uuid, $3, $4::jsonb, $5::jsonb, $6::jsonb,"
    " $7::bigint, $8::jsonb, NULLIF($9, '')::uuid, NULLIF($10, ''), $11::timestamptz,"
    " $12::timestamptz, NULLIF($13, '')::timestamptz)"
    " ON CONFLICT (resource_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id,"
    " kind = EXCLUDED.kind, labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,"
    " extensions = EXCLUDED.extensions, version = EXCLUDED.version,"
    " conditions = EXCLUDED.conditions, follow_op = EXCLUDED.follow_op,"
    " follow_phase = EXCLUDED.follow_phase, created_at = EXCLUDED.created_at,"
    " modified_at = CASE WHEN $14::boolean THEN greatest(EXCLUDED.modified_at,"
    "  date_trunc('milliseconds', m.modified_at) + interval '1 millisecond')"
    "  ELSE m.modified_at END,"
    " deleted_at = EXCLUDED.deleted_at"
    " RETURNING " TSMS("m.created_at") " AS created_at, " TSMS("m.modified_at")
    " AS modified_at, coalesce(" TSMS("m.deleted_at") ", '') AS deleted_at";

static const char SQL_META_DELETE[] = "DELETE FROM resource_meta WHERE resource_id = $1";

/* A bounded batch, skipping rows another transaction holds: purging never waits, and two
 * writers purging at once cannot deadlock. */
static const char SQL_META_PURGE[] =
    "DELETE FROM resource_meta WHERE resource_id IN (SELECT resource_id FROM resource_meta"
    " WHERE deleted_at < now() - interval '1 day' LIMIT 100 FOR UPDATE SKIP LOCKED)";

int
sov_repo_seca_meta_lock(sov_dbconn *c, const char *resource_id, char *now, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { resource_id };

    if (sov_db_query(c, SQL_META_LOCK, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) != 1)
        return sov_error_set(err, SOV_E_INTERNAL, "no clock reading");
    sov_db_copy(now, 40, res, 0, 0);
    return 0;
}

/* A stored JSON document, or `fallback` (a new reference) when it does not parse. */
static json_t *
json_col(const PGresult *res, int row, int col, json_t *fallback)
{
    json_t *j = json_loads(PQgetvalue(res, row, col), 0, NULL);

    if (!j)
        return fallback;
    json_decref(fallback);
    return j;
}

int
sov_repo_seca_meta_get(sov_dbconn *c, const char *resource_id, sov_seca_meta_row *ret,
                       bool *found, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { resource_id };
    static const char *const names[] = {
        "resource_id", "tenant_id", "kind", "labels", "annotations", "extensions", "version",
        "conditions", "follow_op", "follow_phase", "created_at", "modified_at", "deleted_at",
    };
    int col[13];

    *found = false;
    if (sov_db_query(c, SQL_META_GET, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    if (sov_db_cols(res, names, col, 13, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->m.resource_id, sizeof(ret->m.resource_id), res, 0, col[0]);
    sov_db_copy(ret->tenant_id, sizeof(ret->tenant_id), res, 0, col[1]);
    sov_db_copy(ret->m.kind, sizeof(ret->m.kind), res, 0, col[2]);
    ret->m.labels = json_col(res, 0, col[3], json_object());
    ret->m.annotations = json_col(res, 0, col[4], json_object());
    ret->m.extensions = json_col(res, 0, col[5], json_object());
    ret->m.version = sov_db_num(res, 0, col[6]);
    ret->m.conditions = json_col(res, 0, col[7], json_array());
    sov_db_copy(ret->follow_op, sizeof(ret->follow_op), res, 0, col[8]);
    sov_db_copy(ret->follow_phase, sizeof(ret->follow_phase), res, 0, col[9]);
    sov_db_copy(ret->m.created_at, sizeof(ret->m.created_at), res, 0, col[10]);
    sov_db_copy(ret->m.modified_at, sizeof(ret->m.modified_at), res, 0, col[11]);
    sov_db_copy(ret->m.deleted_at, sizeof(ret->m.deleted_at), res, 0, col[12]);
    ret->m.stored = true;
    *found = true;
    return 0;
}

int
sov_repo_seca_meta_put(sov_dbconn *c, sov_seca_meta_row *r, const char *now, bool touch,
                       sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char version[24];
    char *labels = json_dumps(r->m.labels, JSON_COMPACT);
    char *annotations = json_dumps(r->m.annotations, JSON_COMPACT);
    char *extensions = json_dumps(r->m.extensions, JSON_COMPACT);
    char *conditions = json_dumps(r->m.conditions, JSON_COMPACT);
    const char *params[] = {
        r->m.resource_id, r->tenant_id, r->m.kind, labels, annotations, extensions, version,
        conditions, r->follow_op, r->follow_phase, r->m.created_at, now, r->m.deleted_at,
        touch ? "true" : "false",
    };
    int rc = -1;

    snprintf(version, sizeof(version), "%lld", r->m.version);
    if (!labels || !annotations || !extensions || !conditions) {
        sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        goto out;
    }
    if (sov_db_query(c, SQL_META_PUT, 14, params, &res, err) < 0)
        goto out;
    if (PQntuples(res) != 1) {
        sov_error_set(err, SOV_E_INTERNAL, "meta of %s not written", r->m.resource_id);
        goto out;
    }
    sov_db_copy(r->m.created_at, sizeof(r->m.created_at), res, 0, 0);
    sov_db_copy(r->m.modified_at, sizeof(r->m.modified_at), res, 0, 1);
    sov_db_copy(r->m.deleted_at, sizeof(r->m.deleted_at), res, 0, 2);
    r->m.stored = true;
    rc = 0;
out:
    free(labels);
    free(annotations);
    free(extensions);
    free(conditions);
    return rc;
}

int
sov_repo_seca_meta_delete(sov_dbconn *c, const char *resource_id, sov_error *err)
{
    const char *params[] = { resource_id };

    return sov_db_query(c, SQL_META_DELETE, 1, params, NULL, err);
}

int
sov_repo_seca_meta_purge(sov_dbconn *c, sov_error *err)
{
    return sov_db_query(c, SQL_META_PURGE, 0, NULL, NULL, err);
}

/* ---- objects ---- */

#define OBJ_COLS                                                                           \
    "o.id, o.tenant_id, o.workspace, o.kind, o.parent, o.name, o.region, o.spec::text AS spec,"\
    " " TSMS("o.created_at") " AS created_at"

static const char SQL_OBJ_PUT[] =
    "INSERT INTO seca_objects AS o (tenant_id, workspace, kind, parent, name, region, spec)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
    " ON CONFLICT ON CONSTRAINT seca_objects_key DO UPDATE SET region = EXCLUDED.region,"
    " spec = EXCLUDED.spec, updated_at = greatest(clock_timestamp(), o.updated_at)"
    " RETURNING " OBJ_COLS ", (o.xmax = 0) AS created";
static const char SQL_OBJ_GET[] =
    "SELECT " OBJ_COLS " FROM seca_objects o WHERE o.tenant_id = $1 AND o.workspace = $2"
    " AND o.kind = $3 AND o.parent = $4 AND o.name = $5";
static const char SQL_OBJ_LIST[] =
    "SELECT " OBJ_COLS " FROM seca_objects o WHERE o.tenant_id = $1 AND o.workspace = $2"
    " AND o.kind = $3 AND o.parent = $4 ORDER BY o.name";
static const char SQL_OBJ_DELETE[] =
    "DELETE FROM seca_objects WHERE tenant_id = $1 AND workspace = $2 AND kind = $3"
    " AND parent = $4 AND name = $5 RETURNING id";

enum { O_ID, O_TENANT_ID, O_WORKSPACE, O_KIND, O_PARENT, O_NAME, O_REGION, O_SPEC,
       O_CREATED_AT, O__N };
static const char *const obj_cols[O__N] = {
    [O_ID] = "id", [O_TENANT_ID] = "tenant_id", [O_WORKSPACE] = "workspace",
    [O_KIND] = "kind", [O_PARENT] = "parent", [O_NAME] = "name", [O_REGION] = "region",
    [O_SPEC] = "spec", [O_CREATED_AT] = "created_at",
};

static void
fill_obj(const PGresult *r, int i, const int *col, void *out)
{
    sov_seca_object *o = out;

    memset(o, 0, sizeof(*o));
    sov_db_copy(o->id, sizeof(o->id), r, i, col[O_ID]);
    sov_db_copy(o->tenant_id, sizeof(o->tenant_id), r, i, col[O_TENANT_ID]);
    sov_db_copy(o->workspace, sizeof(o->workspace), r, i, col[O_WORKSPACE]);
    sov_db_copy(o->kind, sizeof(o->kind), r, i, col[O_KIND]);
    sov_db_copy(o->parent, sizeof(o->parent), r, i, col[O_PARENT]);
    sov_db_copy(o->name, sizeof(o->name), r, i, col[O_NAME]);
    sov_db_copy(o->region, sizeof(o->region), r, i, col[O_REGION]);
    o->spec = json_col(r, i, col[O_SPEC], json_object());
    sov_db_copy(o->created_at, sizeof(o->created_at), r, i, col[O_CREATED_AT]);
}

static const sov_db_rowmap row_obj = { obj_cols, O__N, fill_obj };

void
sov_seca_object_clear(sov_seca_object *o)
{
    json_decref(o->spec);
    memset(o, 0, sizeof(*o));
}

/* A scope's tenant must be an id: anything else names nothing. */
static int
scope_check(const char *tenant_id, const char *kind, const char *name, sov_error *err)
{
    if (!tenant_id || !sov_uuid_valid(tenant_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "no %s %s", kind ? kind : "object",
                             name ? name : "");
    return 0;
}

static const char *
nz(const char *s)
{
    return s ? s : "";
}

int
sov_seca_object_put(sov_ctx *ctx, sov_seca_object *o, bool *created, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    char *spec = NULL;
    sov_seca_object got;
    int col[O__N + 1];
    static const char *const names[O__N + 1] = {
        "id", "tenant_id", "workspace", "kind", "parent", "name", "region", "spec",
        "created_at", "created",
    };
    int rc = -1;

    if (!o->kind[0] || !o->name[0])
        return sov_error_invalid(err, "name", "an object needs a kind and a name");
    if (scope_check(o->tenant_id, o->kind, o->name, err) < 0)
        return -1;
    spec = o->spec ? json_dumps(o->spec, JSON_COMPACT) : strdup("{}");
    if (!spec)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    {
        const char *params[] = { o->tenant_id, o->workspace, o->kind, o->parent, o->name,
                                 o->region, spec };

        if (sov_db_acquire(ctx->db, &c, err) < 0)
            goto out;
        if (sov_db_query(c, SQL_OBJ_PUT, 7, params, &res, err) < 0)
            goto out;
    }
    if (PQntuples(res) != 1) {
        sov_error_set(err, SOV_E_INTERNAL, "%s %s not written", o->kind, o->name);
        goto out;
    }
    if (sov_db_cols(res, names, col, O__N + 1, err) < 0)
        goto out;
    fill_obj(res, 0, col, &got);
    snprintf(o->id, sizeof(o->id), "%s", got.id);
    snprintf(o->created_at, sizeof(o->created_at), "%s", got.created_at);
    if (created)
        *created = sov_db_flag(res, 0, col[O__N]);
    sov_seca_object_clear(&got);
    rc = 0;
out:
    free(spec);
    return rc;
}

int
sov_seca_object_get(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                    const char *kind, const char *parent, const char *name,
                    sov_seca_object *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, nz(workspace), kind, nz(parent), name };

    memset(ret, 0, sizeof(*ret));
    if (scope_check(tenant_id, kind, name, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (sov_db_query(c, SQL_OBJ_GET, 5, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "no %s %s", kind, name);
    return sov_db_fill(res, 0, &row_obj, ret, err);
}

int
sov_seca_object_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                     const char *kind, const char *parent, sov_seca_object **ret, size_t *n,
                     sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *params[] = { tenant_id, nz(workspace), kind, nz(parent) };

    *ret = NULL;
    *n = 0;
    if (!tenant_id || !sov_uuid_valid(tenant_id))
        return 0;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_db_all(c, SQL_OBJ_LIST, 4, params, sizeof(**ret), &row_obj, (void **) ret, n,
                      err);
}

void
sov_seca_objects_free(sov_seca_object *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sov_seca_object_clear(&o[i]);
    free(o);
}

int
sov_seca_object_delete(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                       const char *kind, const char *parent, const char *name, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, nz(workspace), kind, nz(parent), name };

    if (scope_check(tenant_id, kind, name, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (sov_db_query(c, SQL_OBJ_DELETE, 5, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "no %s %s", kind, name);
    return 0;
}
