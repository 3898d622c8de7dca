/* placement_repo.c: the scheduler's SQL. Filters and weights are plain SQL over the hosts
 * table, so a decision is two statements whatever the number of hosts; the claim locks the
 * chosen row (skipping rows a concurrent claim holds) and re-checks its room in the UPDATE,
 * so capacity is never given twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement_repo.h"

#define CAP_VCPUS "floor(h.cpus * h.cpu_allocation_ratio)"
#define CAP_MEM "floor(h.memory_mib * h.ram_allocation_ratio)"
#define AFFINITY_TAKEN                                                                   \
    "EXISTS (SELECT 1 FROM host_allocations a WHERE a.host_id = h.id"                   \
    " AND a.tenant_id = $8::uuid AND a.anti_affinity_group = $7)"

#define ELIGIBLE                                                                         \
    "h.region = ANY($1::text[]) AND h.state = 'up' AND ($2::text IS NULL OR h.zone = $2)"\
    " AND h.gpus - h.gpus_used >= $6::int"                                               \
    " AND " CAP_VCPUS " - h.vcpus_used >= $3::int"                                       \
    " AND " CAP_MEM " - h.memory_mib_used >= $4::bigint"                                 \
    " AND h.storage_gib - h.disk_gib_used >= $5::bigint"                                 \
    " AND ($7::text IS NULL OR NOT " AFFINITY_TAKEN ")"

/* Free share of vCPUs plus free share of memory: 0 (full) to 2 (empty). */
#define WEIGHT                                                                           \
    "((" CAP_VCPUS " - h.vcpus_used) / greatest(" CAP_VCPUS ", 1)"                       \
    " + (" CAP_MEM " - h.memory_mib_used) / greatest(" CAP_MEM ", 1))"

/* The first reason, in this order, each host fails for; 6 when it is eligible. */
static const char SQL_COUNTS[] =
    "SELECT CASE"
    " WHEN NOT (h.region = ANY($1::text[])) THEN 0"
    " WHEN h.state <> 'up' THEN 1"
    " WHEN $2::text IS NOT NULL AND h.zone <> $2 THEN 2"
    " WHEN h.gpus - h.gpus_used < $6::int THEN 3"
    " WHEN " CAP_VCPUS " - h.vcpus_used < $3::int OR " CAP_MEM " - h.memory_mib_used < "
    "$4::bigint OR h.storage_gib - h.disk_gib_used < $5::bigint THEN 4"
    " WHEN $7::text IS NOT NULL AND " AFFINITY_TAKEN " THEN 5"
    " ELSE 6 END AS bucket, count(*) FROM hosts h GROUP BY 1";

#define PICK_COLS "h.id, h.name, h.region, h.zone, r.country, r.jurisdiction, r.datacenter"

static const char SQL_PEEK_SPREAD[] =
    "SELECT " PICK_COLS " FROM hosts h JOIN regions r ON r.code = h.region WHERE " ELIGIBLE
    " ORDER BY " WEIGHT " DESC, h.name LIMIT 1";
static const char SQL_PEEK_PACK[] =
    "SELECT " PICK_COLS " FROM hosts h JOIN regions r ON r.code = h.region WHERE " ELIGIBLE
    " ORDER BY " WEIGHT " ASC, h.name LIMIT 1";

#define CLAIM_UPDATE                                                                     \
    " UPDATE hosts h SET vcpus_used = h.vcpus_used + $3::int,"                           \
    " memory_mib_used = h.memory_mib_used + $4::bigint,"                                 \
    " disk_gib_used = h.disk_gib_used + $5::bigint, gpus_used = h.gpus_used + $6::int"   \
    " FROM pick, regions r WHERE h.id = pick.id AND r.code = h.region"                   \
    " RETURNING " PICK_COLS

#define CLAIM(order)                                                                     \
    "WITH pick AS (SELECT h.id FROM hosts h WHERE " ELIGIBLE " ORDER BY " WEIGHT " "     \
    order ", h.name LIMIT 1 FOR UPDATE OF h SKIP LOCKED)" CLAIM_UPDATE

/* Waiting, lock the one best host and no other: FOR UPDATE under ORDER BY ... LIMIT 1
 * would go on down the list while a host it waited for turns out full, keeping each lock,
 * and two claims that sorted two hosts differently would each hold what the other waits
 * for (a deadlock, seen under 50 concurrent claims). The row is re-checked once locked. */
#define CLAIM_ONE(order)                                                                 \
    "WITH best AS MATERIALIZED (SELECT h.id FROM hosts h WHERE " ELIGIBLE " ORDER BY "   \
    WEIGHT " " order ", h.name LIMIT 1), pick AS (SELECT h.id FROM hosts h JOIN best"    \
    " ON best.id = h.id WHERE " ELIGIBLE " FOR UPDATE OF h)" CLAIM_UPDATE

static const char SQL_CLAIM_SPREAD[] = CLAIM("DESC");
static const char SQL_CLAIM_PACK[] = CLAIM("ASC");
static const char SQL_CLAIM_SPREAD_WAIT[] = CLAIM_ONE("DESC");
static const char SQL_CLAIM_PACK_WAIT[] = CLAIM_ONE("ASC");

static const char SQL_ALLOC_INSERT[] =
    "INSERT INTO host_allocations (host_id, tenant_id, resource_type, resource_id, vcpus,"
    " memory_mib, disk_gib, gpus, anti_affinity_group) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9) RETURNING id";

static const char SQL_PLACEMENT_INSERT[] =
    "INSERT INTO placements (tenant_id, resource_type, resource_id, allocation_id, host_id,"
    " host_name, region, zone, considered, rejected, strategy) VALUES ($1, $2, $3,"
    " NULLIF($4, '')::uuid, $5, $6, $7, $8, $9, $10::jsonb, $11) RETURNING id";

static const char SQL_ALLOC_RELEASE[] =
    "WITH a AS (DELETE FROM host_allocations WHERE id = $1"
    " RETURNING host_id, vcpus, memory_mib, disk_gib, gpus)"
    " UPDATE hosts h SET vcpus_used = greatest(h.vcpus_used - a.vcpus, 0),"
    " memory_mib_used = greatest(h.memory_mib_used - a.memory_mib, 0),"
    " disk_gib_used = greatest(h.disk_gib_used - a.disk_gib, 0),"
    " gpus_used = greatest(h.gpus_used - a.gpus, 0) FROM a WHERE h.id = a.host_id"
    " RETURNING h.id";

#define PARAMS(q)                                                                        \
    { (q)->regions, (q)->zone, (q)->vcpus, (q)->memory, (q)->disk, (q)->gpus, (q)->group,\
      (q)->tenant_id }

int
repo_place_counts(sov_dbconn *c, const place_q *q, int counts[SOV_REJECT__COUNT + 1],
                  sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = PARAMS(q);

    memset(counts, 0, sizeof(int) * (SOV_REJECT__COUNT + 1));
    if (sov_db_query(c, SQL_COUNTS, 8, params, &res, err) < 0)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        int bucket = atoi(PQgetvalue(res, i, 0));
        if (bucket >= 0 && bucket <= SOV_REJECT__COUNT)
            counts[bucket] = atoi(PQgetvalue(res, i, 1));
    }
    return 0;
}

int
repo_place_pick(sov_dbconn *c, const place_q *q, place_mode mode, sov_placement *ret,
                bool *found, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = PARAMS(q);
    const char *sql;

    switch (mode) {
    case PLACE_PEEK:
        sql = q->pack ? SQL_PEEK_PACK : SQL_PEEK_SPREAD;
        break;
    case PLACE_CLAIM:
        sql = q->pack ? SQL_CLAIM_PACK : SQL_CLAIM_SPREAD;
        break;
    default:
        sql = q->pack ? SQL_CLAIM_PACK_WAIT : SQL_CLAIM_SPREAD_WAIT;
        break;
    }
    if (sov_db_query(c, sql, 8, params, &res, err) < 0)
        return -1;
    *found = PQntuples(res) > 0;
    if (!*found)
        return 0;
    sov_db_copy(ret->host_id, sizeof(ret->host_id), res, 0, 0);
    sov_db_copy(ret->host_name, sizeof(ret->host_name), res, 0, 1);
    sov_db_copy(ret->region, sizeof(ret->region), res, 0, 2);
    sov_db_copy(ret->zone, sizeof(ret->zone), res, 0, 3);
    sov_db_copy(ret->location.host, sizeof(ret->location.host), res, 0, 1);
    sov_db_copy(ret->location.region, sizeof(ret->location.region), res, 0, 2);
    sov_db_copy(ret->location.country, sizeof(ret->location.country), res, 0, 4);
    sov_db_copy(ret->location.jurisdiction, sizeof(ret->location.jurisdiction), res, 0, 5);
    sov_db_copy(ret->location.datacenter, sizeof(ret->location.datacenter), res, 0, 6);
    return 0;
}

int
repo_allocation_insert(sov_dbconn *c, const place_q *q, const sov_place_request *r,
                       const char *host_id, char *ret_id, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { host_id, r->tenant_id, r->resource_type ? r->resource_type : "",
                             r->resource_id ? r->resource_id : "", q->vcpus, q->memory,
                             q->disk, q->gpus, q->group };

    if (sov_db_query(c, SQL_ALLOC_INSERT, 9, params, &res, err) < 0)
        return -1;
    sov_db_copy(ret_id, SOV_UUID_LEN + 1, res, 0, 0);
    return 0;
}

int
repo_placement_insert(sov_dbconn *c, const sov_place_request *r, const sov_placement *p,
                      sov_error *err, char *ret_id)
{
    sov_autoptr(PGresult) res = NULL;
    char considered[16], rejected[256];
    size_t n = 0;

    snprintf(considered, sizeof(considered), "%d", p->considered);
    n += (size_t) snprintf(rejected, sizeof(rejected), "{");
    for (int i = 0; i < SOV_REJECT__COUNT; i++)
        n += (size_t) snprintf(rejected + n, sizeof(rejected) - n, "%s\"%s\":%d", i ? "," : "",
                               sov_reject_name((sov_reject) i), p->rejected[i]);
    snprintf(rejected + n, sizeof(rejected) - n, "}");
    const char *params[] = { r->tenant_id, r->resource_type ? r->resource_type : "",
                             r->resource_id ? r->resource_id : "", p->allocation_id,
                             p->host_id, p->host_name, p->region, p->zone, considered,
                             rejected, p->strategy };
    if (sov_db_query(c, SQL_PLACEMENT_INSERT, 11, params, &res, err) < 0)
        return -1;
    sov_db_copy(ret_id, SOV_UUID_LEN + 1, res, 0, 0);
    return 0;
}

int
repo_allocation_release(sov_dbconn *c, const char *allocation_id, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { allocation_id };

    if (sov_db_query(c, SQL_ALLOC_RELEASE, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "allocation '%s' does not exist",
                             allocation_id);
    return 0;
}
