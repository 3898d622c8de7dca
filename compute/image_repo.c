/* image_repo.c: the SQL of images and image copies. Values go in as $n parameters only; lists
 * are keyset-paginated on the image id. Every image row is read joined with its region, whose
 * place is the image's residency (the region's image store, no host). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_repo.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS

#define IMAGE_COLS                                                                         \
    "i.id, i.tenant_id, i.workspace, i.name, i.region, i.source_url, i.format, i.sha256,"  \
    " i.min_disk_gib, i.size_bytes, i.virtual_size_bytes, i.state, i.state_reason,"         \
    " r.country, r.jurisdiction, r.datacenter, " TS("i.created_at") " AS created_at, "    \
    TS("i.updated_at") " AS updated_at"

static const char SQL_OWNER_EXISTS[] =
    "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1::uuid) AS tenant,"
    " EXISTS (SELECT 1 FROM workspaces WHERE tenant_id = $1::uuid AND name = $2) AS workspace";
static const char SQL_IMAGE_INSERT[] =
    "WITH i AS (INSERT INTO images (tenant_id, workspace, name, region, source_url, format,"
    " sha256, min_disk_gib) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *)"
    " SELECT " IMAGE_COLS " FROM i JOIN regions r ON r.code = i.region";
static const char SQL_IMAGE_GET[] =
    "SELECT " IMAGE_COLS " FROM images i JOIN regions r ON r.code = i.region"
    " WHERE i.tenant_id = coalesce($1::uuid, i.tenant_id) AND i.id = $2::uuid";
static const char SQL_IMAGE_GET_LOCK[] =
    "SELECT " IMAGE_COLS " FROM images i JOIN regions r ON r.code = i.region"
    " WHERE i.tenant_id = coalesce($1::uuid, i.tenant_id) AND i.id = $2::uuid"
    " FOR UPDATE OF i";
static const char SQL_IMAGE_BY_NAME[] =
    "SELECT " IMAGE_COLS " FROM images i JOIN regions r ON r.code = i.region"
    " WHERE i.tenant_id = $1::uuid AND i.workspace = $2 AND i.name = $3"
    " AND i.state <> 'deleted'";
static const char SQL_IMAGE_LIST[] =
    "SELECT " IMAGE_COLS " FROM images i JOIN regions r ON r.code = i.region"
    " WHERE ($1::uuid IS NULL OR i.tenant_id = $1::uuid) AND i.state <> 'deleted'"
    " AND ($2::text IS NULL OR i.workspace = $2) AND ($3::text IS NULL OR i.region = $3)"
    " AND ($4::uuid IS NULL OR i.id > $4::uuid) ORDER BY i.id LIMIT $5";
static const char SQL_IMAGE_TRANSITION[] =
    "UPDATE images i SET state = $4, state_reason = $5, updated_at = now() FROM regions r"
    " WHERE r.code = i.region AND i.tenant_id = coalesce($1::uuid, i.tenant_id)"
    " AND i.id = $2::uuid AND i.state = ANY (string_to_array($3, ','))"
    " RETURNING " IMAGE_COLS;
static const char SQL_IMAGE_UPLOAD_CLAIM[] =
    "UPDATE images i SET state = 'downloading', state_reason = '', updated_at = now()"
    " FROM regions r WHERE r.code = i.region AND i.tenant_id = coalesce($1::uuid, i.tenant_id)"
    " AND i.id = $2::uuid AND i.state = 'queued' AND i.source_url = ''"
    " RETURNING " IMAGE_COLS;
static const char SQL_IMAGE_UPLOAD_TOUCH[] =
    "UPDATE images SET updated_at = now() WHERE id = $1 AND state = 'downloading'"
    " AND source_url = ''";
static const char SQL_IMAGE_UPLOADS_RESET[] =
    "UPDATE images SET state = 'queued', state_reason = $2, updated_at = now()"
    " WHERE state = 'downloading' AND source_url = ''"
    " AND updated_at < now() - make_interval(secs => $1::int) RETURNING id, tenant_id, region";
static const char SQL_IMAGE_ACTIVATE[] =
    "UPDATE images i SET state = 'active', state_reason = '', size_bytes = $2,"
    " virtual_size_bytes = $3, sha256 = $4, updated_at = now() FROM regions r"
    " WHERE r.code = i.region AND i.id = $1::uuid AND i.state = 'downloading'"
    " RETURNING " IMAGE_COLS;
static const char SQL_IMAGE_BLOCKERS[] =
    "SELECT 'instance' AS kind, id::text AS id, name FROM instances"
    " WHERE image_id = $1::uuid AND state <> 'deleted' ORDER BY created_at, id LIMIT 9";
static const char SQL_IMAGE_COPIES[] =
    "SELECT c.host_id, h.name AS host_name, h.libvirt_uri, c.volume FROM image_copies c"
    " JOIN hosts h ON h.id = c.host_id WHERE c.image_id = $1::uuid ORDER BY h.name";
static const char SQL_IMAGE_COPY_DELETE[] =
    "DELETE FROM image_copies WHERE image_id = $1::uuid AND host_id = $2::uuid";

static long long
to_ll(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

enum {
    M_ID, M_TENANT_ID, M_WORKSPACE, M_NAME, M_REGION, M_SOURCE_URL, M_FORMAT, M_SHA256,
    M_MIN_DISK_GIB, M_SIZE_BYTES, M_VIRTUAL_SIZE_BYTES, M_STATE, M_STATE_REASON, M_COUNTRY,
    M_JURISDICTION, M_DATACENTER, M_CREATED_AT, M_UPDATED_AT, M__N,
};
static const char *const image_cols[M__N] = {
    [M_ID] = "id", [M_TENANT_ID] = "tenant_id", [M_WORKSPACE] = "workspace", [M_NAME] = "name",
    [M_REGION] = "region", [M_SOURCE_URL] = "source_url", [M_FORMAT] = "format",
    [M_SHA256] = "sha256", [M_MIN_DISK_GIB] = "min_disk_gib", [M_SIZE_BYTES] = "size_bytes",
    [M_VIRTUAL_SIZE_BYTES] = "virtual_size_bytes", [M_STATE] = "state",
    [M_STATE_REASON] = "state_reason", [M_COUNTRY] = "country",
    [M_JURISDICTION] = "jurisdiction", [M_DATACENTER] = "datacenter",
    [M_CREATED_AT] = "created_at", [M_UPDATED_AT] = "updated_at",
};

static void
fill_image(const PGresult *r, int i, const int *col, void *out)
{
    sov_image *m = out;

    memset(m, 0, sizeof(*m));
    sov_db_copy(m->id, sizeof(m->id), r, i, col[M_ID]);
    sov_db_copy(m->tenant_id, sizeof(m->tenant_id), r, i, col[M_TENANT_ID]);
    sov_db_copy(m->workspace, sizeof(m->workspace), r, i, col[M_WORKSPACE]);
    sov_db_copy(m->name, sizeof(m->name), r, i, col[M_NAME]);
    sov_db_copy(m->region, sizeof(m->region), r, i, col[M_REGION]);
    sov_db_copy(m->source_url, sizeof(m->source_url), r, i, col[M_SOURCE_URL]);
    sov_db_copy(m->format, sizeof(m->format), r, i, col[M_FORMAT]);
    sov_db_copy(m->sha256, sizeof(m->sha256), r, i, col[M_SHA256]);
    m->min_disk_gib = to_ll(r, i, col[M_MIN_DISK_GIB]);
    m->size_bytes = to_ll(r, i, col[M_SIZE_BYTES]);
    m->virtual_size_bytes = to_ll(r, i, col[M_VIRTUAL_SIZE_BYTES]);
    sov_db_copy(m->state, sizeof(m->state), r, i, col[M_STATE]);
    sov_db_copy(m->state_reason, sizeof(m->state_reason), r, i, col[M_STATE_REASON]);
    /* A deleted image's bytes live nowhere. */
    if (strcmp(m->state, "deleted") != 0) {
        sov_db_copy(m->residency.region, sizeof(m->residency.region), r, i, col[M_REGION]);
        sov_db_copy(m->residency.country, sizeof(m->residency.country), r, i, col[M_COUNTRY]);
        sov_db_copy(m->residency.jurisdiction, sizeof(m->residency.jurisdiction), r, i,
                    col[M_JURISDICTION]);
        sov_db_copy(m->residency.datacenter, sizeof(m->residency.datacenter), r, i,
                    col[M_DATACENTER]);
    }
    sov_db_copy(m->created_at, sizeof(m->created_at), r, i, col[M_CREATED_AT]);
    sov_db_copy(m->updated_at, sizeof(m->updated_at), r, i, col[M_UPDATED_AT]);
}

static const sov_db_rowmap row_image = { image_cols, M__N, fill_image };

/* Run a query expected to return at most one image; none is SOV_E_NOT_FOUND. */
static int
one(sov_dbconn *c, const char *sql, int n, const char *const *params, const char *key,
    sov_image *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, sql, n, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%s' does not exist", key);
    return sov_db_fill(res, 0, &row_image, ret, err);
}

/* An UPDATE ... RETURNING that may match nothing: *moved says whether it did. */
static int
maybe_one(sov_dbconn *c, const char *sql, int n, const char *const *params, sov_image *ret,
          bool *moved, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, sql, n, params, &res, err) < 0)
        return -1;
    *moved = PQntuples(res) > 0;
    if (*moved && ret)
        return sov_db_fill(res, 0, &row_image, ret, err);
    return 0;
}

int
sov_repo_image_owner_exists(sov_dbconn *c, const char *tenant_id, const char *workspace,
                            bool *ret_tenant, bool *ret_workspace, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, workspace };

    static const char *const names[] = { "tenant", "workspace" };
    int col[2];

    if (sov_db_query(c, SQL_OWNER_EXISTS, 2, params, &res, err) < 0)
        return -1;
    if (sov_db_cols(res, names, col, 2, err) < 0)
        return -1;
    *ret_tenant = PQgetvalue(res, 0, col[0])[0] == 't';
    *ret_workspace = PQgetvalue(res, 0, col[1])[0] == 't';
    return 0;
}

int
sov_repo_image_insert(sov_dbconn *c, const char *tenant_id, const sov_image_create_args *a,
                      sov_image *ret, sov_error *err)
{
    char min_disk[32];
    const char *params[] = { tenant_id, a->workspace, a->name, a->region,
                             a->source_url ? a->source_url : "", a->format,
                             a->sha256 ? a->sha256 : "", min_disk };

    snprintf(min_disk, sizeof(min_disk), "%lld", a->min_disk_gib);
    if (one(c, SQL_IMAGE_INSERT, 8, params, a->name, ret, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "image name '%s' is taken in workspace '%s'", a->name,
                             a->workspace);
    return -1;
}

int
sov_repo_image_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                   sov_image *ret, sov_error *err)
{
    const char *params[] = { tenant_id, id };

    return one(c, lock ? SQL_IMAGE_GET_LOCK : SQL_IMAGE_GET, 2, params, id, ret, err);
}

int
sov_repo_image_get_by_name(sov_dbconn *c, const char *tenant_id, const char *workspace,
                           const char *name, sov_image *ret, sov_error *err)
{
    const char *params[] = { tenant_id, workspace, name };

    return one(c, SQL_IMAGE_BY_NAME, 3, params, name, ret, err);
}

int
sov_repo_image_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                    const char *region, const char *after, unsigned limit, sov_image_page *ret,
                    sov_error *err)
{
    char lim[16];
    const char *params[] = { tenant_id, workspace, region, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_IMAGE_LIST, 5, params, sizeof(*ret->items), &row_image, limit, "id",
                       (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_image_transition(sov_dbconn *c, const char *tenant_id, const char *id, const char *from,
                          const char *to, const char *reason, sov_image *ret, bool *ret_moved,
                          sov_error *err)
{
    const char *params[] = { tenant_id, id, from, to, reason ? reason : "" };

    return maybe_one(c, SQL_IMAGE_TRANSITION, 5, params, ret, ret_moved, err);
}

int
sov_repo_image_upload_claim(sov_dbconn *c, const char *tenant_id, const char *id, sov_image *ret,
                            bool *ret_claimed, sov_error *err)
{
    const char *params[] = { tenant_id, id };

    return maybe_one(c, SQL_IMAGE_UPLOAD_CLAIM, 2, params, ret, ret_claimed, err);
}

int
sov_repo_image_upload_touch(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_query(c, SQL_IMAGE_UPLOAD_TOUCH, 1, params, NULL, err);
}

int
sov_repo_image_uploads_reset(sov_dbconn *c, unsigned stale_s, const char *reason,
                             repo_image_ref **ret, size_t *ret_n, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char secs[16];
    const char *params[] = { secs, reason };
    static const char *const names[] = { "id", "tenant_id", "region" };
    int n, col[3];

    snprintf(secs, sizeof(secs), "%u", stale_s);
    if (sov_db_query(c, SQL_IMAGE_UPLOADS_RESET, 2, params, &res, err) < 0)
        return -1;
    if (sov_db_cols(res, names, col, 3, err) < 0)
        return -1;
    n = PQntuples(res);
    *ret = calloc(n > 0 ? (size_t) n : 1, sizeof(**ret));
    if (!*ret)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (int i = 0; i < n; i++) {
        sov_db_copy((*ret)[i].id, sizeof((*ret)[i].id), res, i, col[0]);
        sov_db_copy((*ret)[i].tenant_id, sizeof((*ret)[i].tenant_id), res, i, col[1]);
        sov_db_copy((*ret)[i].region, sizeof((*ret)[i].region), res, i, col[2]);
    }
    *ret_n = (size_t) n;
    return 0;
}

int
sov_repo_image_activate(sov_dbconn *c, const char *id, long long size_bytes,
                        long long virtual_size_bytes, const char *sha256, sov_image *ret,
                        bool *ret_moved, sov_error *err)
{
    char size[32], vsize[32];
    const char *params[] = { id, size, vsize, sha256 };

    snprintf(size, sizeof(size), "%lld", size_bytes);
    snprintf(vsize, sizeof(vsize), "%lld", virtual_size_bytes);
    return maybe_one(c, SQL_IMAGE_ACTIVATE, 4, params, ret, ret_moved, err);
}

int
sov_repo_image_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_blockers(c, SQL_IMAGE_BLOCKERS, 1, params, what, err);
}

int
sov_repo_image_copies(sov_dbconn *c, const char *id, repo_image_copy **ret, size_t *ret_n,
                      sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };
    repo_image_copy *arr;
    static const char *const names[] = { "host_id", "host_name", "libvirt_uri", "volume" };
    int n, col[4];

    if (sov_db_query(c, SQL_IMAGE_COPIES, 1, params, &res, err) < 0)
        return -1;
    if (sov_db_cols(res, names, col, 4, err) < 0)
        return -1;
    n = PQntuples(res);
    arr = calloc((size_t) n + 1, sizeof(*arr));
    if (!arr)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (int i = 0; i < n; i++) {
        sov_db_copy(arr[i].host_id, sizeof(arr[i].host_id), res, i, col[0]);
        sov_db_copy(arr[i].host_name, sizeof(arr[i].host_name), res, i, col[1]);
        sov_db_copy(arr[i].libvirt_uri, sizeof(arr[i].libvirt_uri), res, i, col[2]);
        sov_db_copy(arr[i].volume, sizeof(arr[i].volume), res, i, col[3]);
    }
    *ret = arr;
    *ret_n = (size_t) n;
    return 0;
}

int
sov_repo_image_copy_delete(sov_dbconn *c, const char *id, const char *host_id, sov_error *err)
{
    const char *params[] = { id, host_id };

    return sov_db_query(c, SQL_IMAGE_COPY_DELETE, 2, params, NULL, err);
}
