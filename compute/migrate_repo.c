/* migrate_repo.c: the SQL of migrations: instance_migrations (one row per migration, from the
 * request to its end), the hosts a migration leaves and reaches, and the instance row's move
 * when a migration commits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS

/* ---- hosts ---- */

static const char SQL_MHOST_GET[] =
    "SELECT h.id, h.name, h.state, h.region, h.zone, h.libvirt_uri, h.hypervisor,"
    " h.host_uuid, r.country, r.jurisdiction, r.datacenter FROM hosts h"
    " JOIN regions r ON r.code = h.region"
    " WHERE (CASE WHEN $1 ~ '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'"
    " THEN h.id = $1::uuid ELSE false END) OR ($2 AND h.name = $1)"
    " ORDER BY (h.name = $1) LIMIT 1";

enum { H_ID, H_NAME, H_STATE, H_REGION, H_ZONE, H_URI, H_HV, H_UUID, H_COUNTRY, H_JUR,
       H_DC, H__N };
static const char *const mhost_cols[H__N] = {
    [H_ID] = "id", [H_NAME] = "name", [H_STATE] = "state", [H_REGION] = "region",
    [H_ZONE] = "zone", [H_URI] = "libvirt_uri", [H_HV] = "hypervisor",
    [H_UUID] = "host_uuid", [H_COUNTRY] = "country", [H_JUR] = "jurisdiction",
    [H_DC] = "datacenter",
};

static void
fill_mhost(const PGresult *r, int i, const int *col, void *out)
{
    repo_mhost *h = out;

    memset(h, 0, sizeof(*h));
    sov_db_copy(h->id, sizeof(h->id), r, i, col[H_ID]);
    sov_db_copy(h->name, sizeof(h->name), r, i, col[H_NAME]);
    sov_db_copy(h->state, sizeof(h->state), r, i, col[H_STATE]);
    sov_db_copy(h->zone, sizeof(h->zone), r, i, col[H_ZONE]);
    sov_db_copy(h->uri, sizeof(h->uri), r, i, col[H_URI]);
    sov_db_copy(h->hypervisor, sizeof(h->hypervisor), r, i, col[H_HV]);
    sov_db_copy(h->host_uuid, sizeof(h->host_uuid), r, i, col[H_UUID]);
    sov_db_copy(h->loc.host, sizeof(h->loc.host), r, i, col[H_NAME]);
    sov_db_copy(h->loc.region, sizeof(h->loc.region), r, i, col[H_REGION]);
    sov_db_copy(h->loc.country, sizeof(h->loc.country), r, i, col[H_COUNTRY]);
    sov_db_copy(h->loc.jurisdiction, sizeof(h->loc.jurisdiction), r, i, col[H_JUR]);
    sov_db_copy(h->loc.datacenter, sizeof(h->loc.datacenter), r, i, col[H_DC]);
}

static const sov_db_rowmap row_mhost = { mhost_cols, H__N, fill_mhost };

int
sov_repo_mhost_get(sov_dbconn *c, const char *id_or_name, bool by_name, repo_mhost *ret,
                   sov_error *err)
{
    const char *params[] = { id_or_name, by_name ? "true" : "false" };

    return sov_db_one(c, SQL_MHOST_GET, 2, params, &row_mhost, ret, "host", id_or_name, err);
}

/* ---- instance_migrations ---- */

#define MIGRATION_COLS                                                                   \
    "m.id, m.instance_id, m.operation_id, m.live,"                                       \
    " coalesce(m.source_host_id::text, '') AS source_host_id,"                           \
    " coalesce(m.target_host_id::text, '') AS target_host_id, m.source_host,"            \
    " m.target_host, m.state, m.state_reason, coalesce(m.data_total, -1) AS data_total,"  \
    " coalesce(m.data_processed, -1) AS data_processed,"                                 \
    " coalesce(m.data_remaining, -1) AS data_remaining,"                                 \
    " coalesce(m.disk_total, -1) AS disk_total,"                                         \
    " coalesce(m.disk_processed, -1) AS disk_processed,"                                 \
    " coalesce(m.downtime_ms, -1) AS downtime_ms,"                                       \
    " coalesce(m.tenant_id::text, '') AS tenant_id,"                                     \
    " coalesce(m.reservation_id::text, '') AS reservation_id,"                           \
    " " TS("m.created_at") " AS created_at, " TS("m.updated_at") " AS updated_at,"        \
    " coalesce(" TS("m.finished_at") ", '') AS finished_at"

static const char SQL_MIGRATION_INSERT[] =
    "INSERT INTO instance_migrations (id, instance_id, tenant_id, operation_id, live,"
    " source_host_id, target_host_id, source_host, target_host, reservation_id,"
    " requested_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF($10, '')::uuid,"
    " NULLIF($11, '')::uuid)";
static const char SQL_MIGRATION_BY_OP[] =
    "SELECT " MIGRATION_COLS " FROM instance_migrations m WHERE m.operation_id = $1::uuid";
static const char SQL_MIGRATION_STATE[] =
    "UPDATE instance_migrations SET state = $2, state_reason = $3,"
    " downtime_ms = CASE WHEN $4::bigint >= 0 THEN $4::bigint ELSE downtime_ms END,"
    " finished_at = CASE WHEN $2 IN ('succeeded', 'failed') THEN now() ELSE NULL END,"
    " updated_at = now() WHERE id = $1 AND state NOT IN ('succeeded', 'failed')";
static const char SQL_MIGRATION_PROGRESS[] =
    "UPDATE instance_migrations SET data_total = NULLIF($2::bigint, -1),"
    " data_processed = NULLIF($3::bigint, -1), data_remaining = NULLIF($4::bigint, -1),"
    " disk_total = NULLIF($5::bigint, -1), disk_processed = NULLIF($6::bigint, -1),"
    " updated_at = now() WHERE id = $1 AND state NOT IN ('succeeded', 'failed')";
static const char SQL_MIGRATION_RESERVATION_CLEAR[] =
    "UPDATE instance_migrations SET reservation_id = NULL, updated_at = now() WHERE id = $1";
/* Oldest first; the cursor is the last row's id, its created_at looked up. */
static const char SQL_MIGRATION_LIST[] =
    "SELECT " MIGRATION_COLS " FROM instance_migrations m WHERE m.instance_id = $1::uuid"
    " AND ($2::uuid IS NULL OR (m.created_at, m.id) > (SELECT a.created_at, a.id"
    " FROM instance_migrations a WHERE a.id = $2::uuid)) ORDER BY m.created_at, m.id"
    " LIMIT $3";
static const char SQL_INSTANCE_MOVE_HOST[] =
    "UPDATE instances SET host_id = $2::uuid, region = $3, zone = $4, state = $5,"
    " state_reason = '', updated_at = now(),"
    " addresses = CASE WHEN $5 = 'running' THEN addresses ELSE '' END"
    " WHERE id = $1 AND state = 'migrating' RETURNING id";

enum { M_ID, M_INSTANCE, M_OP, M_LIVE, M_SRC_ID, M_DST_ID, M_SRC, M_DST, M_STATE, M_REASON,
       M_DTOTAL, M_DPROC, M_DREM, M_KTOTAL, M_KPROC, M_DOWN, M_TENANT, M_RES, M_CREATED,
       M_UPDATED, M_FINISHED, M__N };
static const char *const migration_cols[M__N] = {
    [M_ID] = "id", [M_INSTANCE] = "instance_id", [M_OP] = "operation_id", [M_LIVE] = "live",
    [M_SRC_ID] = "source_host_id", [M_DST_ID] = "target_host_id",
    [M_SRC] = "source_host", [M_DST] = "target_host", [M_STATE] = "state",
    [M_REASON] = "state_reason", [M_DTOTAL] = "data_total", [M_DPROC] = "data_processed",
    [M_DREM] = "data_remaining", [M_KTOTAL] = "disk_total", [M_KPROC] = "disk_processed",
    [M_DOWN] = "downtime_ms", [M_TENANT] = "tenant_id", [M_RES] = "reservation_id",
    [M_CREATED] = "created_at", [M_UPDATED] = "updated_at", [M_FINISHED] = "finished_at",
};

static void
fill_migration(const PGresult *r, int i, const int *col, void *out)
{
    sov_instance_migration *m = out;

    memset(m, 0, sizeof(*m));
    sov_db_copy(m->id, sizeof(m->id), r, i, col[M_ID]);
    sov_db_copy(m->instance_id, sizeof(m->instance_id), r, i, col[M_INSTANCE]);
    sov_db_copy(m->operation_id, sizeof(m->operation_id), r, i, col[M_OP]);
    m->live = sov_db_flag(r, i, col[M_LIVE]);
    sov_db_copy(m->source_host_id, sizeof(m->source_host_id), r, i, col[M_SRC_ID]);
    sov_db_copy(m->target_host_id, sizeof(m->target_host_id), r, i, col[M_DST_ID]);
    sov_db_copy(m->source_host, sizeof(m->source_host), r, i, col[M_SRC]);
    sov_db_copy(m->target_host, sizeof(m->target_host), r, i, col[M_DST]);
    sov_db_copy(m->state, sizeof(m->state), r, i, col[M_STATE]);
    sov_db_copy(m->state_reason, sizeof(m->state_reason), r, i, col[M_REASON]);
    m->data_total = sov_db_num(r, i, col[M_DTOTAL]);
    m->data_processed = sov_db_num(r, i, col[M_DPROC]);
    m->data_remaining = sov_db_num(r, i, col[M_DREM]);
    m->disk_total = sov_db_num(r, i, col[M_KTOTAL]);
    m->disk_processed = sov_db_num(r, i, col[M_KPROC]);
    m->downtime_ms = sov_db_num(r, i, col[M_DOWN]);
    sov_db_copy(m->created_at, sizeof(m->created_at), r, i, col[M_CREATED]);
    sov_db_copy(m->updated_at, sizeof(m->updated_at), r, i, col[M_UPDATED]);
    sov_db_copy(m->finished_at, sizeof(m->finished_at), r, i, col[M_FINISHED]);
}

/* The worker's view: the row and its tenant and reservation. */
static void
fill_repo_migration(const PGresult *r, int i, const int *col, void *out)
{
    repo_migration *m = out;

    fill_migration(r, i, col, &m->m);
    sov_db_copy(m->tenant_id, sizeof(m->tenant_id), r, i, col[M_TENANT]);
    sov_db_copy(m->reservation_id, sizeof(m->reservation_id), r, i, col[M_RES]);
}

static const sov_db_rowmap row_migration = { migration_cols, M__N, fill_migration };
static const sov_db_rowmap row_repo_migration = { migration_cols, M__N, fill_repo_migration };

int
sov_repo_migration_insert(sov_dbconn *c, const repo_migration *m, const char *requested_by,
                          sov_error *err)
{
    const sov_instance_migration *x = &m->m;
    const char *params[] = { x->id, x->instance_id, m->tenant_id, x->operation_id,
                             x->live ? "true" : "false", x->source_host_id, x->target_host_id,
                             x->source_host, x->target_host, m->reservation_id,
                             requested_by ? requested_by : "" };

    if (sov_db_query(c, SQL_MIGRATION_INSERT, 11, params, NULL, err) < 0) {
        /* instance_migrations_running: one migration at a time per instance. */
        if (err->code == SOV_E_CONFLICT)
            return sov_error_set(err, SOV_E_CONFLICT,
                                 "the instance is already migrating; wait for it to end");
        return -1;
    }
    return 0;
}

int
sov_repo_migration_by_op(sov_dbconn *c, const char *op_id, repo_migration *ret,
                         sov_error *err)
{
    const char *params[] = { op_id };

    return sov_db_one(c, SQL_MIGRATION_BY_OP, 1, params, &row_repo_migration, ret,
                      "migration of operation", op_id, err);
}

int
sov_repo_migration_set_state(sov_dbconn *c, const char *id, const char *state,
                             const char *reason, long long downtime_ms, sov_error *err)
{
    char down[24];
    const char *params[] = { id, state, reason ? reason : "", down };

    snprintf(down, sizeof(down), "%lld", downtime_ms);
    return sov_db_query(c, SQL_MIGRATION_STATE, 4, params, NULL, err);
}

int
sov_repo_migration_progress(sov_dbconn *c, const char *id, const sov_hv_job *job,
                            sov_error *err)
{
    char v[5][24];
    const char *params[] = { id, v[0], v[1], v[2], v[3], v[4] };

    snprintf(v[0], sizeof(v[0]), "%lld", job->data_total);
    snprintf(v[1], sizeof(v[1]), "%lld", job->data_processed);
    snprintf(v[2], sizeof(v[2]), "%lld", job->data_remaining);
    snprintf(v[3], sizeof(v[3]), "%lld", job->disk_total);
    snprintf(v[4], sizeof(v[4]), "%lld", job->disk_processed);
    return sov_db_query(c, SQL_MIGRATION_PROGRESS, 6, params, NULL, err);
}

int
sov_repo_migration_reservation_clear(sov_dbconn *c, const char *id, sov_error *err)
{
    const char *params[] = { id };

    return sov_db_query(c, SQL_MIGRATION_RESERVATION_CLEAR, 1, params, NULL, err);
}

int
sov_repo_migration_list(sov_dbconn *c, const char *instance_id, const char *after,
                        unsigned limit, sov_instance_migration_page *ret, sov_error *err)
{
    char lim[16];
    const char *params[] = { instance_id, after, lim };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_MIGRATION_LIST, 3, params, sizeof(*ret->items), &row_migration,
                       limit, "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_repo_instance_move_host(sov_dbconn *c, const char *id, const repo_mhost *host,
                            const char *state, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id, host->id, host->loc.region, host->zone, state };

    if (sov_db_query(c, SQL_INSTANCE_MOVE_HOST, 5, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "instance '%s' is not migrating", id);
    return 0;
}
