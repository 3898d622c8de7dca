/* snapshot_repo.c: the SQL of snapshots. Values go in as $n parameters only; lists are
 * keyset-paginated on the snapshot id. A row is read joined with its volume (the name), its
 * host (the name) and its region (the place of its residency); a wrapped key goes in as hex
 * and is never read back here (sov_repo_wrapped_key does, for the keystore). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_int.h"

#define TS SOV_SQL_TS

#define SNAP_COLS                                                                            \
    "s.id, s.tenant_id, s.workspace, s.name, s.volume_id, coalesce(v.name, '') AS volume_name," \
    " s.size_gib, s.encrypted, s.state, s.state_reason, s.region, s.zone, s.host_id,"         \
    " coalesce(h.name, '') AS host_name, s.pool, s.volume,"                                   \
    " coalesce(s.key_region, '') AS key_region, coalesce(s.key_country, '') AS key_country,"  \
    " s.operation_id, r.country, r.jurisdiction, r.datacenter, "                              \
    TS("s.created_at") " AS created_at, " TS("s.updated_at") " AS updated_at"
#define SNAP_FROM                                                                            \
    " FROM snapshots s LEFT JOIN volumes v ON v.id = s.volume_id"                           \
    " LEFT JOIN hosts h ON h.id = s.host_id LEFT JOIN regions r ON r.code = s.region"

static const char SQL_SNAP_INSERT[] =
    "INSERT INTO snapshots (id, tenant_id, workspace, name, volume_id, size_gib, state, region,"
    " zone, host_id, pool, volume, encrypted, wrapped_key, key_region, key_country,"
    " operation_id) VALUES ($1, $2, $3, $4, $5, $6, 'creating', $7, $8, $9, $10, $11, $12,"
    " decode($13, 'hex'), $14, $15, $16)";
static const char SQL_SNAP_GET[] =
    "SELECT " SNAP_COLS SNAP_FROM
    " WHERE s.tenant_id = coalesce($1::uuid, s.tenant_id) AND s.id = $2::uuid";
static const char SQL_SNAP_GET_LOCK[] =
    "SELECT " SNAP_COLS SNAP_FROM
    " WHERE s.tenant_id = coalesce($1::uuid, s.tenant_id) AND s.id = $2::uuid FOR UPDATE OF s";
static const char SQL_SNAP_BY_NAME[] =
    "SELECT " SNAP_COLS SNAP_FROM
    " WHERE s.tenant_id = $1::uuid AND s.workspace = $2 AND s.name = $3"
    " AND s.state <> 'deleted'";
static const char SQL_SNAP_LIST[] =
    "SELECT " SNAP_COLS SNAP_FROM
    " WHERE ($1::uuid IS NULL OR s.tenant_id = $1::uuid) AND s.state <> 'deleted'"
    " AND ($2::text IS NULL OR s.workspace = $2) AND ($3::uuid IS NULL OR s.volume_id = $3)"
    " AND ($4::uuid IS NULL OR s.id > $4::uuid) ORDER BY s.id LIMIT $5";
static const char SQL_SNAP_SET_STATE[] =
    "UPDATE snapshots SET state = $3, state_reason = $4, updated_at = now(),"
    " deleted_at = CASE WHEN $3 = 'deleted' THEN now() ELSE deleted_at END,"
    " wrapped_key = CASE WHEN $3 = 'deleted' THEN NULL ELSE wrapped_key END"
    " WHERE id = $1::uuid AND state = ANY (string_to_array($2, ',')) RETURNING id";
static const char SQL_SNAP_BLOCKERS[] =
    "SELECT 'volume' AS kind, id::text AS id, name FROM volumes"
    " WHERE source_type = 'snapshot' AND source_id = $1::uuid AND state = 'creating'"
    " ORDER BY created_at, id LIMIT 9";
static const char SQL_SNAP_ALLOCATION[] =
    "SELECT id FROM host_allocations WHERE resource_type = 'snapshot' AND resource_id = $1"
    " ORDER BY created_at LIMIT 1";

static long long
to_ll(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

enum {
    M_ID, M_TENANT_ID, M_WORKSPACE, M_NAME, M_VOLUME_ID, M_VOLUME_NAME, M_SIZE_GIB, M_ENCRYPTED,
    M_STATE, M_STATE_REASON, M_REGION, M_ZONE, M_HOST_ID, M_HOST_NAME, M_POOL, M_VOLUME,
    M_KEY_REGION, M_KEY_COUNTRY, M_OPERATION_ID, M_COUNTRY, M_JURISDICTION, M_DATACENTER,
    M_CREATED_AT, M_UPDATED_AT, M__N,
};
static const char *const snap_cols[M__N] = {
    [M_ID] = "id", [M_TENANT_ID] = "tenant_id", [M_WORKSPACE] = "workspace", [M_NAME] = "name",
    [M_VOLUME_ID] = "volume_id", [M_VOLUME_NAME] = "volume_name", [M_SIZE_GIB] = "size_gib",
    [M_ENCRYPTED] = "encrypted", [M_STATE] = "state", [M_STATE_REASON] = "state_reason",
    [M_REGION] = "region", [M_ZONE] = "zone", [M_HOST_ID] = "host_id",
    [M_HOST_NAME] = "host_name", [M_POOL] = "pool", [M_VOLUME] = "volume",
    [M_KEY_REGION] = "key_region", [M_KEY_COUNTRY] = "key_country",
    [M_OPERATION_ID] = "operation_id", [M_COUNTRY] = "country",
    [M_JURISDICTION] = "jurisdiction", [M_DATACENTER] = "datacenter",
    [M_CREATED_AT] = "created_at", [M_UPDATED_AT] = "updated_at",
};

static void
fill_snapshot(const PGresult *r, int i, const int *col, void *out)
{
    sov_snapshot *s = out;

#define COPY(field, m) sov_db_copy(s->field, sizeof(s->field), r, i, col[m])
    memset(s, 0, sizeof(*s));
    COPY(id, M_ID);
    COPY(tenant_id, M_TENANT_ID);
    COPY(workspace, M_WORKSPACE);
    COPY(name, M_NAME);
    COPY(volume_id, M_VOLUME_ID);
    COPY(volume_name, M_VOLUME_NAME);
    s->size_gib = to_ll(r, i, col[M_SIZE_GIB]);
    s->encrypted = PQgetvalue(r, i, col[M_ENCRYPTED])[0] == 't';
    COPY(state, M_STATE);
    COPY(state_reason, M_STATE_REASON);
    COPY(region, M_REGION);
    COPY(zone, M_ZONE);
    COPY(host_id, M_HOST_ID);
    COPY(host_name, M_HOST_NAME);
    COPY(pool, M_POOL);
    COPY(volume, M_VOLUME);
    COPY(key_region, M_KEY_REGION);
    COPY(key_country, M_KEY_COUNTRY);
    COPY(operation_id, M_OPERATION_ID);
    /* A deleted snapshot's bytes live nowhere; it never moves, so it has been where it is
     * since it was made. */
    if (strcmp(s->state, "deleted") != 0) {
        snprintf(s->residency.host, sizeof(s->residency.host), "%s", s->host_name);
        COPY(residency.region, M_REGION);
        COPY(residency.country, M_COUNTRY);
        COPY(residency.jurisdiction, M_JURISDICTION);
        COPY(residency.datacenter, M_DATACENTER);
        COPY(residency_since, M_CREATED_AT);
    }
    COPY(created_at, M_CREATED_AT);
    COPY(updated_at, M_UPDATED_AT);
#undef COPY
}

static const sov_db_rowmap row_snapshot = { snap_cols, M__N, fill_snapshot };

static void
hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int
sov_repo_snapshot_insert(sov_dbconn *c, const sov_snapshot *s, const sov_wrapped_key *key,
                         sov_error *err)
{
    char size[32], wrapped[2 * SOV_WRAPPED_KEY_MAX + 1];
    bool enc = key && key->len > 0;
    const char *params[] = {
        s->id, s->tenant_id, s->workspace, s->name, s->volume_id, size, s->region, s->zone,
        s->host_id[0] ? s->host_id : NULL, s->pool, s->volume, enc ? "true" : "false",
        enc ? wrapped : NULL, enc ? key->region : NULL, enc ? key->country : NULL,
        s->operation_id[0] ? s->operation_id : NULL,
    };

    snprintf(size, sizeof(size), "%lld", s->size_gib);
    if (enc)
        hex(key->bytes, key->len < SOV_WRAPPED_KEY_MAX ? key->len : SOV_WRAPPED_KEY_MAX,
            wrapped);
    if (sov_db_query(c, SQL_SNAP_INSERT, 16, params, NULL, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "snapshot name '%s' is taken in workspace '%s'", s->name,
                             s->workspace);
    return -1;
}

int
sov_repo_snapshot_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                      sov_snapshot *ret, sov_error *err)
{
    const char *params[] = { tenant_id, id };

    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "snapshot '%.64s' does not exist", id);
    return sov_db_one(c, lock ? SQL_SNAP_GET_LOCK : SQL_SNAP_GET, 2, params, &row_snapshot, ret,
                      "snapshot", id, err);
}

int
sov_repo_snapshot_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                       const char *id_or_name, sov_snapshot *ret, sov_error *err)
{
    const char *params[] = { tenant_id, workspace ? workspace : "default", id_or_name };

    if (sov_uuid_valid(id_or_name))
        return sov_repo_snapshot_get(c, tenant_id, id_or_name, false, ret, err);
    return sov_db_one(c, SQL_SNAP_BY_NAME, 3, params, &row_snapshot, ret, "snapshot",
                      id_or_name, err);
}

int
sov_repo_snapshot_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                       const char *volume_id, const char *after, unsigned limit,
                       sov_snapshot_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, volume_id, after, lim };
    void *items = NULL;
    size_t n = 0;

    snprintf(lim, sizeof(lim), "%u", limit);
    if (sov_db_page(c, SQL_SNAP_LIST, 5, params, sizeof(sov_snapshot), &row_snapshot, limit,
                    "id", &items, &n, ret->next_after, sizeof(ret->next_after), err) < 0)
        return -1;
    ret->items = items;
    ret->n = n;
    return 0;
}

int
sov_repo_snapshot_set_state(sov_dbconn *c, const char *id, const char *from, const char *to,
                            const char *reason, bool *ret_moved, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id, from, to, reason ? reason : "" };

    if (sov_db_query(c, SQL_SNAP_SET_STATE, 4, params, &res, err) < 0)
        return -1;
    if (ret_moved)
        *ret_moved = PQntuples(res) > 0;
    return 0;
}

int
sov_repo_snapshot_allocation(sov_dbconn *c, const char *id, char *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };
    static const char *const names[] = { "id" };
    int col;

    ret[0] = '\0';
    if (sov_db_query(c, SQL_SNAP_ALLOCATION, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    if (sov_db_cols(res, names, &col, 1, err) < 0)
        return -1;
    sov_db_copy(ret, SOV_UUID_LEN + 1, res, 0, col);
    return 0;
}

int
sov_repo_snapshot_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_SNAP_BLOCKERS, 1, params, what, err);
}
