/* region.c: regions and their zones. A region is a place: its jurisdiction follows from its
 * country, and it cannot move (the country never changes); only an empty region goes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "residency_repo.h"
#include "sov/audit.h"

static int
check_zones(const char (*zones)[SOV_NAME_MAX + 1], size_t n, sov_error *err)
{
    if (n == 0)
        return sov_error_invalid(err, "zones", "a region has at least one zone");
    if (n > SOV_ZONES_MAX)
        return sov_error_invalid(err, "zones", "a region has at most %d zones", SOV_ZONES_MAX);
    for (size_t i = 0; i < n; i++) {
        if (sov_check_slug("zones", zones[i], err) < 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(zones[k], zones[i]) == 0)
                return sov_error_invalid(err, "zones", "zone '%s' is listed twice", zones[i]);
    }
    return 0;
}

typedef struct region_args {
    sov_ctx *ctx;
    const sov_region *in;
    const char *code, *name, *datacenter;
    const char (*zones)[SOV_NAME_MAX + 1];
    long nzones;
    sov_region *ret;
} region_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    region_args *a = arg;

    if (sov_repo_region_insert(c, a->in, err) < 0 ||
        sov_audit_append(c, a->ctx, NULL, "region", a->in->code, SOV_OUTCOME_CREATED, err) < 0)
        return -1;
    return sov_repo_region_get(c, a->in->code, a->ret, err);
}

int
sov_region_create(sov_ctx *ctx, const sov_region *in, sov_region *ret, sov_error *err)
{
    sov_region r = *in;
    const char *j;
    region_args a = { ctx, &r, NULL, NULL, NULL, NULL, 0, ret };

    if (sov_check_slug("code", r.code, err) < 0 || sov_check_text("name", r.name, false, err) < 0 ||
        sov_check_text("datacenter", r.datacenter, false, err) < 0 ||
        check_zones(r.zones, r.nzones, err) < 0)
        return -1;
    /* Countries are upper case in ISO 3166; accept "fr" for "FR". */
    for (int i = 0; i < 2 && r.country[i]; i++)
        r.country[i] = (char) toupper((unsigned char) r.country[i]);
    j = sov_country_jurisdiction(r.country);
    if (!j)
        return sov_error_invalid(err, "country",
                                 "country must be an ISO 3166-1 alpha-2 code like FR, not '%s'",
                                 in->country);
    snprintf(r.jurisdiction, sizeof(r.jurisdiction), "%s", j);
    return sov_ctx_tx(ctx, create_tx, &a, err);
}

int
sov_region_get(sov_ctx *ctx, const char *code, sov_region *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_region_get(c, code, ret, err);
}

int
sov_region_list(sov_ctx *ctx, const char *after, unsigned limit, sov_region_page *ret,
                sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_region_list(c, after, limit ? limit : 100, ret, err);
}

static int
update_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    region_args *a = arg;

    if (sov_repo_region_update(c, a->code, a->name, a->datacenter, err) < 0)
        return -1;
    if (a->nzones >= 0 && sov_repo_zones_set(c, a->code, a->zones, (size_t) a->nzones, err) < 0)
        return -1;
    if (sov_audit_append(c, a->ctx, NULL, "region", a->code, SOV_OUTCOME_OK, err) < 0)
        return -1;
    return sov_repo_region_get(c, a->code, a->ret, err);
}

int
sov_region_update(sov_ctx *ctx, const char *code, const char *name, const char *datacenter,
                  const char (*zones)[SOV_NAME_MAX + 1], long nzones, sov_region *ret,
                  sov_error *err)
{
    region_args a = { ctx, NULL, code, name, datacenter, zones, nzones, ret };

    if ((name && sov_check_text("name", name, false, err) < 0) ||
        (datacenter && sov_check_text("datacenter", datacenter, false, err) < 0) ||
        (nzones >= 0 && check_zones(zones, (size_t) nzones, err) < 0))
        return -1;
    return sov_ctx_tx(ctx, update_tx, &a, err);
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    region_args *a = arg;

    if (sov_repo_region_blockers(c, a->code, err) < 0 ||
        sov_repo_region_delete(c, a->code, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, NULL, "region", a->code, SOV_OUTCOME_DELETED, err);
}

int
sov_region_delete(sov_ctx *ctx, const char *code, sov_error *err)
{
    region_args a = { ctx, NULL, code, NULL, NULL, NULL, 0, NULL };
    return sov_ctx_tx(ctx, delete_tx, &a, err);
}
