/* volume_repo.c: the SQL of volume types, volumes and their attachments. A volume's
 * residency is the last residency record about it (resource_type 'volume'); its attachment
 * is at most one row of volume_attachments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/buf.h"
#include "storage_int.h"

#define TS SOV_SQL_TS
#define UUID_RE "'^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'"

/* ---- volume types ---- */

#define TYPE_COLS                                                                        \
    "id, name, backend, encrypted, coalesce(max_iops, 0) AS max_iops,"                   \
    " coalesce(max_bytes_per_s, 0) AS max_bytes_per_s, " TS("created_at") " AS created_at"

static const char SQL_TYPE_INSERT[] =
    "INSERT INTO volume_types (id, name, backend, encrypted, max_iops, max_bytes_per_s)"
    " VALUES (gen_random_uuid(), $1, $2, $3::boolean, NULLIF($4, '0')::bigint,"
    " NULLIF($5, '0')::bigint) RETURNING " TYPE_COLS;
static const char SQL_TYPE_GET[] =
    "SELECT " TYPE_COLS " FROM volume_types WHERE (CASE WHEN $1 ~ " UUID_RE
    " THEN id = $1::uuid ELSE false END) OR name = $1";
static const char SQL_TYPE_LIST[] =
    "SELECT " TYPE_COLS " FROM volume_types WHERE name > $1 ORDER BY name LIMIT $2";
static const char SQL_TYPE_LOCK[] = "SELECT name FROM volume_types WHERE id = $1 FOR UPDATE";
static const char SQL_TYPE_BLOCKERS[] =
    "SELECT 'volume' AS kind, id::text AS id, name FROM volumes"
    " WHERE type_id = $1 AND state <> 'deleted' ORDER BY created_at, id LIMIT 9";
static const char SQL_TYPE_DELETE[] = "DELETE FROM volume_types WHERE id = $1 RETURNING id";

enum { T_ID, T_NAME, T_BACKEND, T_ENCRYPTED, T_IOPS, T_BPS, T_CREATED, T__N };
static const char *const type_cols[T__N] = {
    [T_ID] = "id", [T_NAME] = "name", [T_BACKEND] = "backend", [T_ENCRYPTED] = "encrypted",
    [T_IOPS] = "max_iops", [T_BPS] = "max_bytes_per_s", [T_CREATED] = "created_at",
};

static void
fill_type(const PGresult *r, int i, const int *col, void *out)
{
    sov_volume_type *t = out;

    memset(t, 0, sizeof(*t));
    sov_db_copy(t->id, sizeof(t->id), r, i, col[T_ID]);
    sov_db_copy(t->name, sizeof(t->name), r, i, col[T_NAME]);
    sov_db_copy(t->backend, sizeof(t->backend), r, i, col[T_BACKEND]);
    t->encrypted = sov_db_flag(r, i, col[T_ENCRYPTED]);
    t->max_iops = sov_db_num(r, i, col[T_IOPS]);
    t->max_bytes_per_s = sov_db_num(r, i, col[T_BPS]);
    sov_db_copy(t->created_at, sizeof(t->created_at), r, i, col[T_CREATED]);
}

static const sov_db_rowmap row_type = { type_cols, T__N, fill_type };

int
sov_repo_volume_type_insert(sov_dbconn *c, const sov_volume_type *in, sov_volume_type *ret,
                            sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char iops[24], bps[24];
    const char *params[] = { in->name, in->backend, in->encrypted ? "true" : "false", iops,
                             bps };

    snprintf(iops, sizeof(iops), "%lld", in->max_iops);
    snprintf(bps, sizeof(bps), "%lld", in->max_bytes_per_s);
    if (sov_db_query(c, SQL_TYPE_INSERT, 5, params, &res, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_error_set(err, SOV_E_CONFLICT, "volume type '%s' already exists",
                                 in->name);
        return -1;
    }
    return sov_db_fill(res, 0, &row_type, ret, err);
}

int
sov_repo_volume_type_get(sov_dbconn *c, const char *id_or_name, sov_volume_type *ret,
                         sov_error *err)
{
    const char *params[] = { id_or_name };

    return sov_db_one(c, SQL_TYPE_GET, 1, params, &row_type, ret, "volume type", id_or_name,
                      err);
}

int
sov_repo_volume_type_list(sov_dbconn *c, const char *after, unsigned limit,
                          sov_volume_type_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { after ? after : "", lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_TYPE_LIST, 2, params, sizeof(*ret->items), &row_type, limit,
                       "name", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_volume_type_delete(sov_dbconn *c, const char *id, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };
    char what[128];

    /* The row lock keeps a create from taking the type while we look. */
    if (sov_db_query(c, SQL_TYPE_LOCK, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "volume type '%s' does not exist", id);
    snprintf(what, sizeof(what), "volume type '%s'",
             PQgetvalue(res, 0, PQfnumber(res, "name")));
    PQclear(SOV_TAKE_PTR(res));
    if (sov_db_blockers(c, SQL_TYPE_BLOCKERS, 1, params, what, err) < 0)
        return -1;
    if (sov_db_query(c, SQL_TYPE_DELETE, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "volume type '%s' does not exist", id);
    return 0;
}

/* ---- volumes ---- */

#define VOLUME_COLS                                                                      \
    "v.id, coalesce(v.tenant_id::text, '') AS tenant_id,"                                \
    " coalesce(v.workspace, '') AS workspace, v.name,"                                   \
    " coalesce(v.type_id::text, '') AS type_id, coalesce(t.name, '') AS type_name,"      \
    " v.size_gib, v.encrypted, v.state, v.state_reason, v.region, v.zone,"               \
    " coalesce(v.host_id::text, '') AS host_id, coalesce(h.name, '') AS host_name,"      \
    " v.pool, v.volume, coalesce(v.allocation_id::text, '') AS allocation_id,"           \
    " coalesce(v.source_type, '') AS source_type,"                                       \
    " coalesce(v.source_id::text, '') AS source_id,"                                     \
    " coalesce(v.created_by_instance::text, '') AS created_by_instance,"                 \
    " coalesce(a.instance_id::text, '') AS att_instance,"                                \
    " coalesce(ai.name, '') AS att_instance_name, coalesce(a.device, '') AS att_device,"  \
    " coalesce(a.boot, false) AS att_boot,"                                              \
    " coalesce(" TS("a.created_at") ", '') AS att_at,"                                   \
    " coalesce(v.key_region, '') AS key_region, coalesce(v.key_country, '') AS key_country,"\
    " coalesce(v.operation_id::text, '') AS operation_id,"                               \
    " coalesce(r.to_host, '') AS res_host, coalesce(r.to_region, '') AS res_region,"     \
    " coalesce(r.to_country, '') AS res_country,"                                        \
    " coalesce(r.to_jurisdiction, '') AS res_jurisdiction,"                              \
    " coalesce(r.to_datacenter, '') AS res_datacenter,"                                  \
    " coalesce(" TS("r.at") ", '') AS residency_since,"                                  \
    " " TS("v.created_at") " AS created_at, " TS("v.updated_at") " AS updated_at"

#define VOLUME_FROM                                                                      \
    " FROM volumes v LEFT JOIN volume_types t ON t.id = v.type_id"                       \
    " LEFT JOIN hosts h ON h.id = v.host_id"                                             \
    " LEFT JOIN volume_attachments a ON a.volume_id = v.id"                              \
    " LEFT JOIN instances ai ON ai.id = a.instance_id"                                   \
    " LEFT JOIN LATERAL (SELECT * FROM residency_records rr"                             \
    " WHERE rr.resource_type = 'volume' AND rr.resource_id = v.id::text"                 \
    " ORDER BY rr.seq DESC LIMIT 1) r ON true"

enum {
    V_ID, V_TENANT, V_WORKSPACE, V_NAME, V_TYPE_ID, V_TYPE_NAME, V_SIZE, V_ENCRYPTED, V_STATE,
    V_REASON, V_REGION, V_ZONE, V_HOST_ID, V_HOST_NAME, V_POOL, V_VOLUME, V_ALLOCATION,
    V_SOURCE_TYPE,
    V_SOURCE_ID, V_CREATED_BY, V_ATT_INSTANCE, V_ATT_NAME, V_ATT_DEVICE, V_ATT_BOOT, V_ATT_AT,
    V_KEY_REGION, V_KEY_COUNTRY, V_OPERATION, V_RES_HOST, V_RES_REGION, V_RES_COUNTRY,
    V_RES_JURISDICTION, V_RES_DATACENTER, V_RES_SINCE, V_CREATED, V_UPDATED, V__N,
};
static const char *const volume_cols[V__N] = {
    [V_ID] = "id", [V_TENANT] = "tenant_id", [V_WORKSPACE] = "workspace", [V_NAME] = "name",
    [V_TYPE_ID] = "type_id", [V_TYPE_NAME] = "type_name", [V_SIZE] = "size_gib",
    [V_ENCRYPTED] = "encrypted", [V_STATE] = "state", [V_REASON] = "state_reason",
    [V_REGION] = "region", [V_ZONE] = "zone", [V_HOST_ID] = "host_id",
    [V_HOST_NAME] = "host_name", [V_POOL] = "pool", [V_VOLUME] = "volume",
    [V_ALLOCATION] = "allocation_id",
    [V_SOURCE_TYPE] = "source_type", [V_SOURCE_ID] = "source_id",
    [V_CREATED_BY] = "created_by_instance", [V_ATT_INSTANCE] = "att_instance",
    [V_ATT_NAME] = "att_instance_name", [V_ATT_DEVICE] = "att_device",
    [V_ATT_BOOT] = "att_boot", [V_ATT_AT] = "att_at", [V_KEY_REGION] = "key_region",
    [V_KEY_COUNTRY] = "key_country", [V_OPERATION] = "operation_id",
    [V_RES_HOST] = "res_host", [V_RES_REGION] = "res_region",
    [V_RES_COUNTRY] = "res_country", [V_RES_JURISDICTION] = "res_jurisdiction",
    [V_RES_DATACENTER] = "res_datacenter", [V_RES_SINCE] = "residency_since",
    [V_CREATED] = "created_at", [V_UPDATED] = "updated_at",
};

#define COPY(field, k) sov_db_copy(v->field, sizeof(v->field), r, i, col[k])

static void
fill_volume(const PGresult *r, int i, const int *col, void *out)
{
    sov_volume *v = out;

    memset(v, 0, sizeof(*v));
    COPY(id, V_ID);
    COPY(tenant_id, V_TENANT);
    COPY(workspace, V_WORKSPACE);
    COPY(name, V_NAME);
    COPY(type_id, V_TYPE_ID);
    COPY(type_name, V_TYPE_NAME);
    v->size_gib = sov_db_num(r, i, col[V_SIZE]);
    v->encrypted = sov_db_flag(r, i, col[V_ENCRYPTED]);
    COPY(state, V_STATE);
    COPY(state_reason, V_REASON);
    COPY(region, V_REGION);
    COPY(zone, V_ZONE);
    COPY(host_id, V_HOST_ID);
    COPY(host_name, V_HOST_NAME);
    COPY(pool, V_POOL);
    COPY(volume, V_VOLUME);
    COPY(allocation_id, V_ALLOCATION);
    COPY(source_type, V_SOURCE_TYPE);
    COPY(source_id, V_SOURCE_ID);
    COPY(created_by_instance, V_CREATED_BY);
    COPY(attachment.instance_id, V_ATT_INSTANCE);
    COPY(attachment.instance_name, V_ATT_NAME);
    COPY(attachment.device, V_ATT_DEVICE);
    v->attachment.boot = sov_db_flag(r, i, col[V_ATT_BOOT]);
    COPY(attachment.attached_at, V_ATT_AT);
    COPY(key_region, V_KEY_REGION);
    COPY(key_country, V_KEY_COUNTRY);
    COPY(operation_id, V_OPERATION);
    COPY(residency.host, V_RES_HOST);
    COPY(residency.region, V_RES_REGION);
    COPY(residency.country, V_RES_COUNTRY);
    COPY(residency.jurisdiction, V_RES_JURISDICTION);
    COPY(residency.datacenter, V_RES_DATACENTER);
    COPY(residency_since, V_RES_SINCE);
    COPY(created_at, V_CREATED);
    COPY(updated_at, V_UPDATED);
}

#undef COPY

static const sov_db_rowmap row_volume = { volume_cols, V__N, fill_volume };

static const char SQL_VOLUME_INSERT[] =
    "INSERT INTO volumes (id, tenant_id, workspace, name, type_id, size_gib, state, region,"
    " zone, host_id, allocation_id, pool, volume, encrypted, wrapped_key, key_region,"
    " key_country, source_type, source_id, created_by_instance, operation_id) VALUES ($1, $2,"
    " $3, $4, $5, $6, 'creating', $7, $8, $9, NULLIF($10, '')::uuid, $11, $12, $13::boolean,"
    " decode(NULLIF($14, ''), 'hex'), NULLIF($15, ''), NULLIF($16, ''), NULLIF($17, ''),"
    " NULLIF($18, '')::uuid, NULLIF($19, '')::uuid, NULLIF($20, '')::uuid)";
static const char SQL_VOLUME_GET[] =
    "SELECT " VOLUME_COLS VOLUME_FROM
    " WHERE v.id = $2::uuid AND ($1::uuid IS NULL OR v.tenant_id = $1::uuid)";
static const char SQL_VOLUME_LOCK[] =
    "SELECT id FROM volumes WHERE id = $2::uuid AND ($1::uuid IS NULL OR tenant_id = $1::uuid)"
    " FOR UPDATE";
static const char SQL_VOLUME_FIND[] =
    "SELECT " VOLUME_COLS VOLUME_FROM
    " WHERE v.tenant_id = $1::uuid AND (CASE WHEN $3 ~ " UUID_RE " THEN v.id = $3::uuid"
    " ELSE v.workspace = $2 AND v.name = $3 AND v.state <> 'deleted' END)";
static const char SQL_VOLUME_LIST[] =
    "SELECT " VOLUME_COLS VOLUME_FROM
    " WHERE ($1::uuid IS NULL OR v.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR v.workspace = $2)"
    " AND (CASE WHEN $3::text IS NULL THEN v.state <> 'deleted' ELSE v.state = $3 END)"
    " AND ($4::uuid IS NULL OR a.instance_id = $4::uuid)"
    " AND ($5::uuid IS NULL OR v.id > $5::uuid) ORDER BY v.id LIMIT $6";
static const char SQL_VOLUME_STATE[] =
    "UPDATE volumes SET state = $2, state_reason = coalesce($3, state_reason),"
    " operation_id = coalesce(NULLIF($4, '')::uuid, operation_id), updated_at = now()"
    " WHERE id = $1 AND ($5::text[] IS NULL OR state = ANY($5::text[])) RETURNING id";
static const char SQL_VOLUME_SIZE[] =
    "UPDATE volumes SET size_gib = $2, updated_at = now() WHERE id = $1";
static const char SQL_VOLUME_LOCK_ALLOCATION[] =
    "SELECT coalesce(allocation_id::text, '') AS allocation_id FROM volumes WHERE id = $1"
    " AND state <> 'deleted' FOR UPDATE";
static const char SQL_VOLUME_DELETED[] =
    "WITH d AS (DELETE FROM volume_attachments WHERE volume_id = $1)"
    " UPDATE volumes SET state = 'deleted', state_reason = '', allocation_id = NULL,"
    " wrapped_key = NULL, deleted_at = now(), updated_at = now() WHERE id = $1";
/* What keeps a volume: its snapshots, and volumes still being copied from it. */
static const char SQL_VOLUME_SNAPSHOTS[] =
    "SELECT kind, id, name FROM ("
    " SELECT 'snapshot' AS kind, id::text AS id, name, created_at FROM snapshots"
    "  WHERE volume_id = $1 AND state <> 'deleted'"
    " UNION ALL"
    " SELECT 'volume being copied from it', id::text, name, created_at FROM volumes"
    "  WHERE source_type = 'volume' AND source_id = $1 AND state = 'creating') b"
    " ORDER BY created_at, id LIMIT 9";
static const char SQL_VOLUME_OF_INSTANCE[] =
    "SELECT " VOLUME_COLS VOLUME_FROM
    " WHERE a.instance_id = $1::uuid AND v.state <> 'deleted'"
    " ORDER BY length(a.device), a.device";
static const char SQL_VOLUME_ON_HOST[] =
    "SELECT " VOLUME_COLS VOLUME_FROM " WHERE v.host_id = $1::uuid AND v.state <> 'deleted'"
    " ORDER BY v.id";
static const char SQL_VOLUME_HOST[] = "SELECT libvirt_uri, name FROM hosts WHERE id = $1";
/* A file is known on host $2 when a live row of its name is on that host, or moves from or
 * to it (its volume's instance migrates: both hosts hold a copy until the move ends). */
#define MOVING_ON_HOST(volume_id)                                                              \
    "EXISTS (SELECT 1 FROM volume_attachments a JOIN instance_migrations m"                  \
    " ON m.instance_id = a.instance_id WHERE a.volume_id = " volume_id                        \
    " AND m.state NOT IN ('succeeded', 'failed')"                                             \
    " AND $2::uuid IN (m.source_host_id, m.target_host_id))"
static const char SQL_KNOWN[] =
    "SELECT n.name FROM unnest($1::text[]) AS n(name) WHERE EXISTS (SELECT 1 FROM volumes v"
    " WHERE v.volume = n.name AND v.state <> 'deleted' AND (v.host_id = $2::uuid OR "
    MOVING_ON_HOST("v.id") ")) OR EXISTS (SELECT 1 FROM snapshots s"
    " WHERE s.volume = n.name AND s.state <> 'deleted' AND (s.host_id = $2::uuid OR "
    MOVING_ON_HOST("s.volume_id") "))";
static const char SQL_INSTANCE[] =
    "SELECT i.id, i.tenant_id, i.name, i.state, coalesce(i.host_id::text, '') AS host_id,"
    " coalesce(h.name, '') AS host_name FROM instances i LEFT JOIN hosts h ON h.id = i.host_id"
    " WHERE ($1::uuid IS NULL OR i.tenant_id = $1::uuid) AND (CASE WHEN $3 ~ " UUID_RE
    " THEN i.id = $3::uuid ELSE i.workspace = $2 AND i.name = $3 AND i.state <> 'deleted'"
    " AND $1::uuid IS NOT NULL END)";
static const char SQL_INSTANCE_LOCK[] = "SELECT id FROM instances WHERE id = $1 FOR UPDATE";
static const char SQL_DEVICES[] =
    "SELECT device FROM volume_attachments WHERE instance_id = $1";
static const char SQL_ATTACH_INSERT[] =
    "INSERT INTO volume_attachments (volume_id, instance_id, device, boot)"
    " VALUES ($1, $2, $3, $4::boolean)";
static const char SQL_ATTACH_DELETE[] = "DELETE FROM volume_attachments WHERE volume_id = $1";

/* The key as hex for decode(): bytea through a text parameter. */
static void
key_hex(const sov_wrapped_key *k, char *out, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; k && i < k->len && n + 2 < size; i++) {
        out[n++] = digits[k->bytes[i] >> 4];
        out[n++] = digits[k->bytes[i] & 15];
    }
    out[n] = '\0';
}

int
sov_repo_volume_insert(sov_dbconn *c, const sov_volume *v, const char *allocation_id,
                       const sov_wrapped_key *key, sov_error *err)
{
    char size[24], hex[SOV_WRAPPED_KEY_MAX * 2 + 1];
    const char *params[] = { v->id, v->tenant_id, v->workspace, v->name, v->type_id, size,
                             v->region, v->zone, v->host_id, allocation_id, v->pool,
                             v->volume, v->encrypted ? "true" : "false", hex,
                             key ? key->region : "", key ? key->country : "",
                             v->source_type, v->source_id, v->created_by_instance,
                             v->operation_id };
    int rc;

    snprintf(size, sizeof(size), "%lld", v->size_gib);
    key_hex(key, hex, sizeof(hex));
    rc = sov_db_query(c, SQL_VOLUME_INSERT, 20, params, NULL, err);
    explicit_bzero(hex, sizeof(hex));
    if (rc < 0 && err->code == SOV_E_CONFLICT)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "a volume named '%s' already exists in workspace '%s'", v->name,
                             v->workspace);
    return rc;
}

int
sov_repo_volume_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                    sov_volume *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, id };

    /* FOR UPDATE cannot sit beside the outer joins: lock the row itself first. */
    if (lock) {
        if (sov_db_query(c, SQL_VOLUME_LOCK, 2, params, &res, err) < 0)
            return -1;
        if (PQntuples(res) == 0)
            return sov_error_set(err, SOV_E_NOT_FOUND, "volume '%s' does not exist", id);
        PQclear(SOV_TAKE_PTR(res));
    }
    return sov_db_one(c, SQL_VOLUME_GET, 2, params, &row_volume, ret, "volume", id, err);
}

int
sov_repo_volume_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *id_or_name, sov_volume *ret, sov_error *err)
{
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };

    return sov_db_one(c, SQL_VOLUME_FIND, 3, params, &row_volume, ret, "volume", id_or_name,
                      err);
}

int
sov_repo_volume_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                     const char *state, const char *instance_id, const char *after,
                     unsigned limit, sov_volume_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, state, instance_id, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_VOLUME_LIST, 6, params, sizeof(*ret->items), &row_volume, limit,
                       "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_volume_set_state(sov_dbconn *c, const char *id, const char *const *from,
                          const char *state, const char *reason, const char *operation_id,
                          sov_error *err)
{
    return sov_db_set_state(c, SQL_VOLUME_STATE, "volume", id, from, state, reason,
                            operation_id, err);
}

int
sov_repo_volume_set_size(sov_dbconn *c, const char *id, long long size_gib, sov_error *err)
{
    char size[24];
    const char *params[] = { id, size };

    snprintf(size, sizeof(size), "%lld", size_gib);
    return sov_db_query(c, SQL_VOLUME_SIZE, 2, params, NULL, err);
}

int
sov_repo_volume_lock_allocation(sov_dbconn *c, const char *id, bool *live, char *alloc,
                                size_t size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };

    if (sov_db_query(c, SQL_VOLUME_LOCK_ALLOCATION, 1, params, &res, err) < 0)
        return -1;
    *live = PQntuples(res) > 0;
    alloc[0] = '\0';
    if (*live)
        sov_db_copy(alloc, size, res, 0, PQfnumber(res, "allocation_id"));
    return 0;
}

int
sov_repo_volume_deleted(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_query(c, SQL_VOLUME_DELETED, 1, params, NULL, err);
}

int
sov_repo_volume_snapshot_blockers(sov_dbconn *c, const char *id, const char *what,
                                  sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_VOLUME_SNAPSHOTS, 1, params, what, err);
}

int
sov_repo_volume_of_instance(sov_dbconn *c, const char *instance_id, sov_volume **ret,
                            size_t *n, sov_error *err)
{
    const char *params[] = { instance_id };

    return sov_db_all(c, SQL_VOLUME_OF_INSTANCE, 1, params, sizeof(**ret), &row_volume,
                      (void **) ret, n, err);
}

int
sov_repo_volume_on_host(sov_dbconn *c, const char *host_id, sov_volume **ret, size_t *n,
                        sov_error *err)
{
    const char *params[] = { host_id };

    return sov_db_all(c, SQL_VOLUME_ON_HOST, 1, params, sizeof(**ret), &row_volume,
                      (void **) ret, n, err);
}

int
sov_repo_volume_host(sov_dbconn *c, const char *host_id, char *uri, size_t uri_size,
                     char *name, size_t name_size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { host_id };
    static const char *const names[] = { "libvirt_uri", "name" };
    int col[2];

    if (sov_db_query(c, SQL_VOLUME_HOST, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", host_id);
    if (sov_db_cols(res, names, col, 2, err) < 0)
        return -1;
    sov_db_copy(uri, uri_size, res, 0, col[0]);
    sov_db_copy(name, name_size, res, 0, col[1]);
    return 0;
}

int
sov_repo_storage_known(sov_dbconn *c, const char *host_id, char *const *names, size_t n,
                       bool *known, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    sov_buf list = SOV_BUF_INIT;
    int rc;

    for (size_t i = 0; i < n; i++)
        known[i] = false;
    if (n == 0)
        return 0;
    sov_buf_pg_array(&list, (const char *const *) names, n);
    if (list.oom)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    {
        const char *params[] = { list.data, host_id };
        rc = sov_db_query(c, SQL_KNOWN, 2, params, &res, err);
    }
    sov_buf_release(&list);
    if (rc < 0)
        return -1;
    for (int r = 0; r < PQntuples(res); r++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(PQgetvalue(res, r, 0), names[i]) == 0)
                known[i] = true;
    return 0;
}

int
sov_repo_volume_instance(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *id_or_name, bool lock, sov_volume_instance *ret,
                         sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };
    static const char *const names[] = { "id", "tenant_id", "name", "state", "host_id",
                                         "host_name" };
    int col[6];

    if (sov_db_query(c, SQL_INSTANCE, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist",
                             id_or_name);
    if (lock) {
        const char *lparams[] = { PQgetvalue(res, 0, PQfnumber(res, "id")) };
        sov_autoptr(PGresult) lres = NULL;
        if (sov_db_query(c, SQL_INSTANCE_LOCK, 1, lparams, &lres, err) < 0)
            return -1;
    }
    if (sov_db_cols(res, names, col, 6, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->id, sizeof(ret->id), res, 0, col[0]);
    sov_db_copy(ret->tenant_id, sizeof(ret->tenant_id), res, 0, col[1]);
    sov_db_copy(ret->name, sizeof(ret->name), res, 0, col[2]);
    sov_db_copy(ret->state, sizeof(ret->state), res, 0, col[3]);
    sov_db_copy(ret->host_id, sizeof(ret->host_id), res, 0, col[4]);
    sov_db_copy(ret->host_name, sizeof(ret->host_name), res, 0, col[5]);
    return 0;
}

/* vdc, vdd, ... vdz, then vdaa ...: the first a guest has free. */
static void
device_name(unsigned k, char *out, size_t size)
{
    if (k < 26)
        snprintf(out, size, "vd%c", 'a' + k);
    else
        snprintf(out, size, "vd%c%c", 'a' + (int) (k / 26 - 1), 'a' + (int) (k % 26));
}

int
sov_repo_attachment_insert(sov_dbconn *c, const char *volume_id, const char *instance_id,
                           bool boot, char *ret_device, size_t size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { instance_id };
    char dev[8];
    unsigned k;

    if (sov_db_query(c, SQL_INSTANCE_LOCK, 1, params, &res, err) < 0)
        return -1;
    PQclear(SOV_TAKE_PTR(res));
    if (sov_db_query(c, SQL_DEVICES, 1, params, &res, err) < 0)
        return -1;
    /* vda is the image's boot disk and vdb the seed; a boot volume takes vda itself. */
    for (k = boot ? 0 : 2; k < 26 * 27; k++) {
        bool taken = false;
        device_name(k, dev, sizeof(dev));
        for (int r = 0; r < PQntuples(res) && !taken; r++)
            taken = strcmp(PQgetvalue(res, r, 0), dev) == 0;
        if (!taken)
            break;
    }
    if (k >= 26 * 27)
        return sov_error_set(err, SOV_E_CONFLICT, "instance '%s' has no free disk slot",
                             instance_id);
    {
        const char *iparams[] = { volume_id, instance_id, dev, boot ? "true" : "false" };
        if (sov_db_query(c, SQL_ATTACH_INSERT, 4, iparams, NULL, err) < 0)
            return -1;
    }
    snprintf(ret_device, size, "%s", dev);
    return 0;
}

int
sov_repo_attachment_delete(sov_dbconn *c, const char *volume_id, sov_error *err)
{
    const char *params[] = { volume_id };

    return sov_db_query(c, SQL_ATTACH_DELETE, 1, params, NULL, err);
}

/* ---- the reconciler's ---- */

static const char SQL_HOSTS_UP[] =
    "SELECT id, name, libvirt_uri FROM hosts WHERE state = 'up' ORDER BY name";
static const char SQL_OPS_PENDING[] =
    "SELECT EXISTS (SELECT 1 FROM operations WHERE state IN ('queued', 'running')"
    " AND (kind LIKE 'volume.%' OR kind LIKE 'snapshot.%' OR kind = 'instance.migrate'))"
    " AS pending";

enum { H_ID, H_NAME, H_URI, H__N };
static const char *const host_cols[H__N] = { [H_ID] = "id", [H_NAME] = "name",
                                              [H_URI] = "libvirt_uri" };

static void
fill_host(const PGresult *r, int i, const int *col, void *out)
{
    sov_storage_host *h = out;

    memset(h, 0, sizeof(*h));
    sov_db_copy(h->id, sizeof(h->id), r, i, col[H_ID]);
    sov_db_copy(h->name, sizeof(h->name), r, i, col[H_NAME]);
    sov_db_copy(h->uri, sizeof(h->uri), r, i, col[H_URI]);
}

static const sov_db_rowmap row_host = { host_cols, H__N, fill_host };

int
sov_repo_storage_hosts_up(sov_dbconn *c, sov_storage_host **ret, size_t *n, sov_error *err)
{
    return sov_db_all(c, SQL_HOSTS_UP, 0, NULL, sizeof(**ret), &row_host, (void **) ret, n,
                      err);
}

int
sov_repo_storage_ops_pending(sov_dbconn *c, bool *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_OPS_PENDING, 0, NULL, &res, err) < 0)
        return -1;
    *ret = PQgetvalue(res, 0, 0)[0] == 't';
    return 0;
}

/* An image being made from the volume (image.from-volume, queued or running). */
static const char SQL_IMAGING[] =
    "SELECT count(*) AS n FROM operations WHERE kind = 'image.from-volume' AND arg = $1"
    " AND state IN ('queued', 'running')";

int
sov_repo_volume_imaging(sov_dbconn *c, const char *volume_id, const char *what,
                        sov_error *err)
{
    const char *params[] = { volume_id };
    sov_autoptr(PGresult) res = NULL;
    int col;

    if (sov_db_query(c, SQL_IMAGING, 1, params, &res, err) < 0 ||
        sov_db_cols(res, (const char *const[]) { "n" }, &col, 1, err) < 0)
        return -1;
    if (strcmp(PQgetvalue(res, 0, col), "0") == 0)
        return 0;
    return sov_error_set(err, SOV_E_CONFLICT, "%s is being copied into an image: try again "
                         "when the copy is done", what);
}
