/* placement_repo.c: the scheduler's SQL. Filters and weights are plain SQL over the hosts
 * table, so a decision is two statements whatever the number of hosts; the claim locks the
 * chosen row (skipping rows a concurrent claim holds), and a row locked after a wait is
 * re-checked against the filters before the UPDATE, so capacity is never given twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "placement_repo.h"
#include "sov/repo/db_pq.h"

/* What a host has left (vcpus_free, memory_mib_free, ...) and how empty it is
 * (placement_weight) are generated columns (migrations/0006): the filters compare integers
 * and the best host comes first in the hosts_spread or hosts_pack index, without a sort. */
#define AFFINITY_TAKEN                                                                   \
    "EXISTS (SELECT 1 FROM host_allocations a WHERE a.host_id = h.id"                   \
    " AND a.tenant_id = $10::uuid AND a.anti_affinity_group = $9)"

#define ELIGIBLE                                                                         \
    "h.region = ANY($1::text[]) AND h.state = 'up' AND ($2::text IS NULL OR h.zone = $2)"\
    " AND h.gpus_free >= $6::int AND h.vcpus_free >= $3::int"                            \
    " AND h.memory_mib_free >= $4::bigint AND h.disk_gib_free >= $5::bigint"             \
    " AND ($7::uuid IS NULL OR h.id = $7::uuid)"                                         \
    " AND ($8::uuid IS NULL OR h.id <> $8::uuid)"                                        \
    " AND ($9::text IS NULL OR NOT " AFFINITY_TAKEN ")"

#define SPREAD "h.placement_weight DESC, h.name"
#define PACK "h.placement_weight, h.name"

/* The first reason, in this order, each host fails for ('' when it is eligible), per region:
 * a host outside the allowed regions is 'place', and the caller knows why its region is
 * (policy, the request's region or country, the image's region). A request pinned to one
 * host ($7: its volumes' host) counts every other host in an allowed place as 'volume_host';
 * a migration's source ($8) counts as 'source_host' right after.
 * Without an anti-affinity group there is no 'affinity' and no join to pay for on every host
 * ($9 and $10 are not sent). With one, the group's hosts come from a join, not a subquery per host: priced per
 * host, that subquery pushed the plan's cost past jit_above_cost at a few thousand hosts,
 * and compiling the plan took longer than running it. */
#define COUNTS(affinity, join)                                                           \
    "SELECT h.region, CASE"                                                              \
    " WHEN NOT (h.region = ANY($1::text[])) THEN 'place'"                                \
    " WHEN $7::uuid IS NOT NULL AND h.id <> $7::uuid THEN 'volume_host'"                 \
    " WHEN $8::uuid IS NOT NULL AND h.id = $8::uuid THEN 'source_host'"                  \
    " WHEN h.state <> 'up' THEN 'state'"                                                 \
    " WHEN $2::text IS NOT NULL AND h.zone <> $2 THEN 'zone'"                            \
    " WHEN h.gpus_free < $6::int THEN 'gpu'"                                             \
    " WHEN h.vcpus_free < $3::int OR h.memory_mib_free < $4::bigint"                     \
    " OR h.disk_gib_free < $5::bigint THEN 'capacity'" affinity                          \
    " ELSE '' END AS reason, count(*) AS hosts FROM hosts h" join " GROUP BY 1, 2"

static const char SQL_COUNTS[] = COUNTS("", "");
static const char SQL_COUNTS_GROUP[] =
    COUNTS(" WHEN g.host_id IS NOT NULL THEN 'affinity'",
           " LEFT JOIN (SELECT DISTINCT a.host_id FROM host_allocations a"
           " WHERE a.tenant_id = $10::uuid AND a.anti_affinity_group = $9) g"
           " ON g.host_id = h.id");

#define PICK_COLS "h.id, h.name, h.region, h.zone, r.country, r.jurisdiction, r.datacenter"

/* The region's place is joined to the one host chosen, not to every candidate. */
#define PEEK(order)                                                                      \
    "SELECT " PICK_COLS " FROM (SELECT h.id, h.name, h.region, h.zone FROM hosts h"      \
    " WHERE " ELIGIBLE " ORDER BY " order " LIMIT 1) h JOIN regions r ON r.code = h.region"

static const char SQL_PEEK_SPREAD[] = PEEK(SPREAD);
static const char SQL_PEEK_PACK[] = PEEK(PACK);

#define CLAIM_UPDATE                                                                     \
    " UPDATE hosts h SET vcpus_used = h.vcpus_used + $3::int,"                           \
    " memory_mib_used = h.memory_mib_used + $4::bigint,"                                 \
    " disk_gib_used = h.disk_gib_used + $5::bigint, gpus_used = h.gpus_used + $6::int"   \
    " FROM pick, regions r WHERE h.id = pick.id AND r.code = h.region"                   \
    " RETURNING " PICK_COLS

#define CLAIM(order)                                                                     \
    "WITH pick AS (SELECT h.id FROM hosts h WHERE " ELIGIBLE " ORDER BY " order          \
    " LIMIT 1 FOR UPDATE OF h SKIP LOCKED)" CLAIM_UPDATE

/* Waiting, lock the one best host and no other: FOR UPDATE under ORDER BY ... LIMIT 1
 * would go on down the list while a host it waited for turns out full, keeping each lock,
 * and two claims that sorted two hosts differently would each hold what the other waits
 * for (a deadlock, seen under 50 concurrent claims). The row is re-checked once locked. */
#define CLAIM_ONE(order)                                                                 \
    "WITH best AS MATERIALIZED (SELECT h.id FROM hosts h WHERE " ELIGIBLE " ORDER BY "   \
    order " LIMIT 1), pick AS (SELECT h.id FROM hosts h JOIN best ON best.id = h.id"     \
    " WHERE " ELIGIBLE " FOR UPDATE OF h)" CLAIM_UPDATE

static const char SQL_CLAIM_SPREAD[] = CLAIM(SPREAD);
static const char SQL_CLAIM_PACK[] = CLAIM(PACK);
static const char SQL_CLAIM_SPREAD_WAIT[] = CLAIM_ONE(SPREAD);
static const char SQL_CLAIM_PACK_WAIT[] = CLAIM_ONE(PACK);

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
    { (q)->regions, (q)->zone, (q)->vcpus, (q)->memory, (q)->disk, (q)->gpus,           \
      (q)->pin_host_id, (q)->exclude_host_id, (q)->group, (q)->tenant_id }

/* The bucket of a row of SQL_COUNTS: a reason's index, SOV_REJECT__COUNT for eligible. */
static int
bucket_of(const place_q *q, const char *region, const char *reason)
{
    if (strcmp(reason, "place") == 0) {
        for (size_t i = 0; i < q->nwhy; i++)
            if (strcmp(q->why[i].region, region) == 0)
                return (int) q->why[i].reject;
        return SOV_REJECT_POLICY;
    }
    for (int i = 0; i < SOV_REJECT__COUNT; i++)
        if (strcmp(reason, sov_reject_name((sov_reject) i)) == 0)
            return i;
    return SOV_REJECT__COUNT;
}

int
sov_repo_place_counts(sov_dbconn *c, const place_q *q, int counts[SOV_REJECT__COUNT + 1],
                      sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = PARAMS(q);
    int col_region, col_reason, col_hosts;

    memset(counts, 0, sizeof(int) * (SOV_REJECT__COUNT + 1));
    if (sov_db_query(c, q->group ? SQL_COUNTS_GROUP : SQL_COUNTS, q->group ? 10 : 8, params,
                     &res, err) < 0)
        return -1;
    col_region = PQfnumber(res, "region");
    col_reason = PQfnumber(res, "reason");
    col_hosts = PQfnumber(res, "hosts");
    for (int i = 0; i < PQntuples(res); i++)
        counts[bucket_of(q, PQgetvalue(res, i, col_region), PQgetvalue(res, i, col_reason))] +=
            atoi(PQgetvalue(res, i, col_hosts));
    return 0;
}

int
sov_repo_place_pick(sov_dbconn *c, const place_q *q, place_mode mode, sov_placement *ret,
                    bool *found, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = PARAMS(q);
    enum { P_ID, P_NAME, P_REGION, P_ZONE, P_COUNTRY, P_JURISDICTION, P_DATACENTER, P__N };
    static const char *const names[P__N] = { "id", "name", "region", "zone", "country",
                                             "jurisdiction", "datacenter" };
    int col[P__N];
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
    if (sov_db_query(c, sql, 10, params, &res, err) < 0)
        return -1;
    *found = PQntuples(res) > 0;
    if (!*found)
        return 0;
    if (sov_db_cols(res, names, col, P__N, err) < 0)
        return -1;
    sov_db_copy(ret->host_id, sizeof(ret->host_id), res, 0, col[P_ID]);
    sov_db_copy(ret->host_name, sizeof(ret->host_name), res, 0, col[P_NAME]);
    sov_db_copy(ret->region, sizeof(ret->region), res, 0, col[P_REGION]);
    sov_db_copy(ret->zone, sizeof(ret->zone), res, 0, col[P_ZONE]);
    sov_db_copy(ret->location.host, sizeof(ret->location.host), res, 0, col[P_NAME]);
    sov_db_copy(ret->location.region, sizeof(ret->location.region), res, 0, col[P_REGION]);
    sov_db_copy(ret->location.country, sizeof(ret->location.country), res, 0, col[P_COUNTRY]);
    sov_db_copy(ret->location.jurisdiction, sizeof(ret->location.jurisdiction), res, 0,
                col[P_JURISDICTION]);
    sov_db_copy(ret->location.datacenter, sizeof(ret->location.datacenter), res, 0,
                col[P_DATACENTER]);
    return 0;
}

int
sov_repo_allocation_insert(sov_dbconn *c, const place_q *q, const sov_place_request *r,
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
sov_repo_placement_insert(sov_dbconn *c, const sov_place_request *r, const sov_placement *p,
                          sov_error *err, char *ret_id)
{
    sov_autoptr(PGresult) res = NULL;
    sov_autofree char *rejected = NULL;
    char considered[16];
    json_t *o = json_object();

    snprintf(considered, sizeof(considered), "%d", p->considered);
    for (int i = 0; o && i < SOV_REJECT__COUNT; i++)
        if (json_object_set_new(o, sov_reject_name((sov_reject) i),
                                json_integer(p->rejected[i])) < 0)
            break;
    rejected = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!rejected)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
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
sov_repo_place_group_lock(sov_dbconn *c, const char *tenant_id, const char *group, sov_error *err)
{
    const char *params[] = { tenant_id, group };

    return sov_db_query(c, "SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2))", 2,
                        params, NULL, err);
}

int
sov_repo_place_try(sov_dbconn *c, const place_q *q, place_mode mode, sov_placement *ret,
                   bool *found, sov_error *err)
{
    if (sov_db_query(c, "SAVEPOINT place_try", 0, NULL, NULL, err) < 0 ||
        sov_repo_place_pick(c, q, mode, ret, found, err) < 0)
        return -1;
    return sov_db_query(c, *found ? "RELEASE SAVEPOINT place_try"
                                  : "ROLLBACK TO SAVEPOINT place_try",
                        0, NULL, NULL, err);
}

/* An allocation's disk grows (or shrinks back) by $2 GiB, its host's usage with it, only
 * while the host has that room: the host's row first, as a claim takes it. */
static const char SQL_ALLOCATION_GROW[] =
    "WITH h AS (UPDATE hosts SET disk_gib_used = greatest(disk_gib_used + $2::bigint, 0)"
    " WHERE id = (SELECT host_id FROM host_allocations WHERE id = $1::uuid)"
    " AND ($2::bigint <= 0 OR disk_gib_free >= $2::bigint) RETURNING id)"
    " UPDATE host_allocations SET disk_gib = greatest(disk_gib + $2::bigint, 0)"
    " WHERE id = $1::uuid AND EXISTS (SELECT 1 FROM h) RETURNING id";

int
sov_repo_allocation_grow(sov_dbconn *c, const char *allocation_id, long long gib, bool *ret,
                         sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char n[24];
    const char *params[] = { allocation_id, n };

    snprintf(n, sizeof(n), "%lld", gib);
    if (sov_db_query(c, SQL_ALLOCATION_GROW, 2, params, &res, err) < 0)
        return -1;
    *ret = PQntuples(res) > 0;
    return 0;
}

/* The usage leaves the old host (never below 0, as a release) and lands on the new one, in
 * one statement; the allocation names its new host. The old host's row first, the order of
 * a release. Nothing is checked on the new host: the caller released a reservation of at
 * least that size there in the same transaction. */
static const char SQL_ALLOC_MOVE[] =
    "WITH a AS (SELECT id, host_id, vcpus, memory_mib, disk_gib, gpus FROM host_allocations"
    " WHERE id = $1::uuid FOR UPDATE),"
    " src_h AS (UPDATE hosts h SET vcpus_used = greatest(h.vcpus_used - a.vcpus, 0),"
    " memory_mib_used = greatest(h.memory_mib_used - a.memory_mib, 0),"
    " disk_gib_used = greatest(h.disk_gib_used - a.disk_gib, 0),"
    " gpus_used = greatest(h.gpus_used - a.gpus, 0) FROM a"
    " WHERE h.id = a.host_id AND a.host_id <> $2::uuid RETURNING h.id),"
    " dst_h AS (UPDATE hosts h SET vcpus_used = h.vcpus_used + a.vcpus,"
    " memory_mib_used = h.memory_mib_used + a.memory_mib,"
    " disk_gib_used = h.disk_gib_used + a.disk_gib, gpus_used = h.gpus_used + a.gpus FROM a"
    " WHERE h.id = $2::uuid AND a.host_id <> $2::uuid RETURNING h.id)"
    " UPDATE host_allocations x SET host_id = $2::uuid FROM a"
    " WHERE x.id = a.id AND EXISTS (SELECT 1 FROM hosts WHERE id = $2::uuid)"
    " RETURNING x.id, (SELECT count(*) FROM src_h) + (SELECT count(*) FROM dst_h) AS moved";

int
sov_repo_allocation_move(sov_dbconn *c, const char *allocation_id, const char *host_id,
                         sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { allocation_id, host_id };

    if (sov_db_query(c, SQL_ALLOC_MOVE, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "allocation '%s' or host '%s' does not "
                             "exist", allocation_id, host_id);
    return 0;
}

int
sov_repo_allocation_release(sov_dbconn *c, const char *allocation_id, sov_error *err)
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
