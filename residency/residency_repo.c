/* residency_repo.c: the SQL of regions, zones, residency policies and records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "residency_repo.h"
#include "sov/buf.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS
#define REGION_COLS                                                                      \
    "r.code, r.name, r.country, r.jurisdiction, r.datacenter, "                          \
    "coalesce((SELECT string_agg(z.name, ',' ORDER BY z.name) FROM zones z "             \
    "WHERE z.region = r.code), '') AS zones, " TS("r.created_at") " AS created_at, "      \
    TS("r.updated_at") " AS updated_at"

static const char SQL_REGION_INSERT[] =
    "INSERT INTO regions (code, name, country, jurisdiction, datacenter) "
    "VALUES ($1, $2, $3, $4, $5)";
static const char SQL_ZONE_INSERT[] =
    "INSERT INTO zones (region, name) VALUES ($1, $2) ON CONFLICT DO NOTHING";
static const char SQL_REGION_GET[] =
    "SELECT " REGION_COLS " FROM regions r WHERE r.code = $1";
static const char SQL_REGION_LIST[] =
    "SELECT " REGION_COLS " FROM regions r WHERE r.code > $1 ORDER BY r.code LIMIT $2";
static const char SQL_REGION_UPDATE[] =
    "UPDATE regions SET name = coalesce($2, name), datacenter = coalesce($3, datacenter),"
    " updated_at = now() WHERE code = $1 RETURNING code";
static const char SQL_ZONES_DROP[] =
    "DELETE FROM zones WHERE region = $1 AND NOT (name = ANY($2::text[]))";
static const char SQL_ZONES_BUSY[] =
    "SELECT DISTINCT zone FROM hosts WHERE region = $1 AND NOT (zone = ANY($2::text[])) "
    "ORDER BY zone LIMIT 1";
static const char SQL_REGION_LOCK[] = "SELECT code FROM regions WHERE code = $1 FOR UPDATE";
static const char SQL_REGION_BLOCKERS[] =
    "SELECT kind, id, name FROM ("
    " SELECT 'host' AS kind, id::text AS id, name, created_at FROM hosts WHERE region = $1"
    " UNION ALL SELECT 'image', id::text, name, created_at FROM images"
    "  WHERE region = $1 AND state <> 'deleted'"
    " UNION ALL SELECT 'instance', id::text, name, created_at FROM instances"
    "  WHERE region = $1 AND state <> 'deleted') b ORDER BY created_at, id LIMIT 9";
static const char SQL_REGION_DELETE[] = "DELETE FROM regions WHERE code = $1 RETURNING code";

static const char SQL_POLICY_GET[] =
    "SELECT array_to_string(jurisdictions, ',') AS jurisdictions,"
    " array_to_string(countries, ',') AS countries,"
    " array_to_string(regions, ',') AS regions FROM residency_policies WHERE tenant_id = $1";
static const char SQL_POLICY_PUT[] =
    "INSERT INTO residency_policies (tenant_id, jurisdictions, countries, regions) "
    "VALUES ($1, $2::text[], $3::text[], $4::text[]) ON CONFLICT (tenant_id) DO UPDATE SET "
    "jurisdictions = EXCLUDED.jurisdictions, countries = EXCLUDED.countries, "
    "regions = EXCLUDED.regions, updated_at = now()";
static const char SQL_TENANT_REGIONS[] =
    "SELECT string_agg(DISTINCT h.region, ',') FROM host_allocations a "
    "JOIN hosts h ON h.id = a.host_id WHERE a.tenant_id = $1";

static const char SQL_RECORD_INSERT[] =
    "INSERT INTO residency_records (tenant_id, resource_type, resource_id, event,"
    " from_host, from_region, from_country, from_jurisdiction, from_datacenter,"
    " to_host, to_region, to_country, to_jurisdiction, to_datacenter, policy, reason,"
    " operation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
    " $15::jsonb, $16, NULLIF($17, '')::uuid)";

enum {
    G_CODE, G_NAME, G_COUNTRY, G_JURISDICTION, G_DATACENTER, G_ZONES, G_CREATED_AT,
    G_UPDATED_AT, G__N,
};
static const char *const region_cols[G__N] = {
    [G_CODE] = "code", [G_NAME] = "name", [G_COUNTRY] = "country",
    [G_JURISDICTION] = "jurisdiction", [G_DATACENTER] = "datacenter", [G_ZONES] = "zones",
    [G_CREATED_AT] = "created_at", [G_UPDATED_AT] = "updated_at",
};

static void
fill_region(const PGresult *r, int i, const int *col, void *out)
{
    sov_region *g = out;

    memset(g, 0, sizeof(*g));
    sov_db_copy(g->code, sizeof(g->code), r, i, col[G_CODE]);
    sov_db_copy(g->name, sizeof(g->name), r, i, col[G_NAME]);
    sov_db_copy(g->country, sizeof(g->country), r, i, col[G_COUNTRY]);
    sov_db_copy(g->jurisdiction, sizeof(g->jurisdiction), r, i, col[G_JURISDICTION]);
    sov_db_copy(g->datacenter, sizeof(g->datacenter), r, i, col[G_DATACENTER]);
    g->nzones = sov_db_split(PQgetvalue(r, i, col[G_ZONES]), g->zones[0], SOV_ZONES_MAX,
                             sizeof(g->zones[0]));
    sov_db_copy(g->created_at, sizeof(g->created_at), r, i, col[G_CREATED_AT]);
    sov_db_copy(g->updated_at, sizeof(g->updated_at), r, i, col[G_UPDATED_AT]);
}

static const sov_db_rowmap row_region = { region_cols, G__N, fill_region };

/* A PostgreSQL array literal of n codes stored stride bytes apart (sov/buf.h's encoder). */
static void
array_literal(char *buf, size_t size, const char *list, size_t n, size_t stride)
{
    sov_pg_array_format(buf, size, list, n, stride);
}

int
sov_repo_region_insert(sov_dbconn *c, const sov_region *r, sov_error *err)
{
    const char *params[] = { r->code, r->name, r->country, r->jurisdiction, r->datacenter };

    if (sov_db_query(c, SQL_REGION_INSERT, 5, params, NULL, err) < 0) {
        if (err->code == SOV_E_CONFLICT)
            return sov_error_set(err, SOV_E_CONFLICT, "region '%s' already exists", r->code);
        return -1;
    }
    for (size_t i = 0; i < r->nzones; i++) {
        const char *zp[] = { r->code, r->zones[i] };
        if (sov_db_query(c, SQL_ZONE_INSERT, 2, zp, NULL, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_repo_region_get(sov_dbconn *c, const char *code, sov_region *ret, sov_error *err)
{
    const char *params[] = { code };

    return sov_db_one(c, SQL_REGION_GET, 1, params, &row_region, ret, "region", code, err);
}

int
sov_repo_region_list(sov_dbconn *c, const char *after, unsigned limit, sov_region_page *ret,
                     sov_error *err)
{
    char lim[16];
    /* limit 0: all of them (LIMIT NULL). */
    const char *params[] = { after ? after : "", limit ? lim : NULL };

    snprintf(lim, sizeof(lim), "%u", limit);
    return sov_db_page(c, SQL_REGION_LIST, 2, params, sizeof(*ret->items), &row_region, limit,
                       "code", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

int
sov_region_all(sov_dbconn *c, sov_region **ret, size_t *n, sov_error *err)
{
    sov_region_page page = { 0 };

    if (sov_repo_region_list(c, NULL, 0, &page, err) < 0)
        return -1;
    *ret = page.items;
    *n = page.n;
    return 0;
}

int
sov_repo_region_update(sov_dbconn *c, const char *code, const char *name, const char *datacenter,
                       sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { code, name, datacenter };

    if (sov_db_query(c, SQL_REGION_UPDATE, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "region '%s' does not exist", code);
    return 0;
}

int
sov_repo_zones_set(sov_dbconn *c, const char *region, const char (*zones)[SOV_NAME_MAX + 1],
                   size_t n, sov_error *err)
{
    char list[SOV_ZONES_MAX * (SOV_NAME_MAX + 3) + 4];
    const char *params[] = { region, list };
    sov_autoptr(PGresult) busy = NULL;

    array_literal(list, sizeof(list), zones[0], n, sizeof(zones[0]));
    if (sov_db_query(c, SQL_ZONES_BUSY, 2, params, &busy, err) < 0)
        return -1;
    if (PQntuples(busy) > 0)
        return sov_error_set(err, SOV_E_CONFLICT, "zone '%s' still has hosts",
                             PQgetvalue(busy, 0, 0));
    if (sov_db_query(c, SQL_ZONES_DROP, 2, params, NULL, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *zp[] = { region, zones[i] };
        if (sov_db_query(c, SQL_ZONE_INSERT, 2, zp, NULL, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_repo_region_blockers(sov_dbconn *c, const char *code, sov_error *err)
{
    const char *params[] = { code };
    char what[128];

    /* The row lock keeps an image from arriving in the region while we look. */
    if (sov_db_query(c, SQL_REGION_LOCK, 1, params, NULL, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "region '%s'", code);
    return sov_db_blockers(c, SQL_REGION_BLOCKERS, 1, params, what, err);
}

int
sov_repo_region_delete(sov_dbconn *c, const char *code, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { code };

    if (sov_db_query(c, SQL_REGION_DELETE, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "region '%s' does not exist", code);
    return 0;
}

int
sov_repo_policy_get(sov_dbconn *c, const char *tenant_id, sov_policy *ret, bool *found,
                    sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id };
    static const char *const names[] = { "jurisdictions", "countries", "regions" };
    int col[3];

    if (sov_db_query(c, SQL_POLICY_GET, 1, params, &res, err) < 0)
        return -1;
    memset(ret, 0, sizeof(*ret));
    *found = PQntuples(res) > 0;
    if (!*found)
        return 0;
    if (sov_db_cols(res, names, col, 3, err) < 0)
        return -1;
    ret->njurisdictions = sov_db_split(PQgetvalue(res, 0, col[0]), ret->jurisdictions[0], 3,
                                sizeof(ret->jurisdictions[0]));
    ret->ncountries = sov_db_split(PQgetvalue(res, 0, col[1]), ret->countries[0], SOV_POLICY_MAX,
                            sizeof(ret->countries[0]));
    ret->nregions = sov_db_split(PQgetvalue(res, 0, col[2]), ret->regions[0], SOV_POLICY_MAX,
                          sizeof(ret->regions[0]));
    return 0;
}

int
sov_repo_policy_put(sov_dbconn *c, const char *tenant_id, const sov_policy *p, sov_error *err)
{
    char j[64], k[SOV_POLICY_MAX * 6 + 4], r[SOV_POLICY_MAX * (SOV_NAME_MAX + 4) + 4];
    const char *params[] = { tenant_id, j, k, r };

    array_literal(j, sizeof(j), p->jurisdictions[0], p->njurisdictions,
                  sizeof(p->jurisdictions[0]));
    array_literal(k, sizeof(k), p->countries[0], p->ncountries, sizeof(p->countries[0]));
    array_literal(r, sizeof(r), p->regions[0], p->nregions, sizeof(p->regions[0]));
    return sov_db_query(c, SQL_POLICY_PUT, 4, params, NULL, err);
}

int
sov_repo_tenant_regions(sov_dbconn *c, const char *tenant_id, char **ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id };

    if (sov_db_query(c, SQL_TENANT_REGIONS, 1, params, &res, err) < 0)
        return -1;
    *ret = strdup(PQgetvalue(res, 0, 0));
    return *ret ? 0 : sov_error_set(err, SOV_E_INTERNAL, "out of memory");
}

int
sov_repo_record_insert(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                       const char *resource_id, const char *event, const sov_location *from,
                       const sov_location *to, const char *policy_json, const char *reason,
                       const char *operation_id, sov_error *err)
{
    static const sov_location nowhere;
    const sov_location *f = from ? from : &nowhere, *t = to ? to : &nowhere;
    const char *params[] = { tenant_id, resource_type, resource_id, event,
                             f->host, f->region, f->country, f->jurisdiction, f->datacenter,
                             t->host, t->region, t->country, t->jurisdiction, t->datacenter,
                             policy_json, reason, operation_id ? operation_id : "" };

    return sov_db_query(c, SQL_RECORD_INSERT, 17, params, NULL, err);
}
