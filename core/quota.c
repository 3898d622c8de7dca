/* quota.c: limits and usage per tenant, counted inside the transactions that create and
 * delete resources. The rows are the repository; the rule is one UPDATE that locks the row
 * and checks the limit, so it lives here beside its SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/quota.h"
#include "sov/registry.h"
#include "sov/repo/db_pq.h"

static const char *const names[SOV_QUOTA__COUNT] = {
    [SOV_QUOTA_INSTANCES] = "instances", [SOV_QUOTA_VCPUS] = "vcpus",
    [SOV_QUOTA_MEMORY_MIB] = "memory_mib", [SOV_QUOTA_GPUS] = "gpus",
    [SOV_QUOTA_VOLUMES] = "volumes", [SOV_QUOTA_STORAGE_GIB] = "storage_gib",
    [SOV_QUOTA_WORKSPACES] = "workspaces",
    [SOV_QUOTA_SNAPSHOTS] = "snapshots",
    [SOV_QUOTA_NETWORKS] = "networks", [SOV_QUOTA_SUBNETS] = "subnets",
    [SOV_QUOTA_PORTS] = "ports", [SOV_QUOTA_SECURITY_GROUPS] = "security_groups",
    [SOV_QUOTA_SECURITY_GROUP_RULES] = "security_group_rules",
    [SOV_QUOTA_PUBLIC_IPS] = "public_ips",
};

static const char SQL_INIT[] =
    "INSERT INTO quotas (tenant_id, resource, max) VALUES ($1, $2, $3)";

/* The row lock taken here is held to commit: the next create waits, then sees our usage. */
static const char SQL_CHARGE[] =
    "UPDATE quotas SET used = used + $3 WHERE tenant_id = $1 AND resource = $2 "
    "AND used + $3 <= max RETURNING used";

static const char SQL_ONE[] =
    "SELECT max, used FROM quotas WHERE tenant_id = $1 AND resource = $2";

static const char SQL_RELEASE[] =
    "UPDATE quotas SET used = greatest(used - $3, 0) WHERE tenant_id = $1 AND resource = $2";

static const char SQL_GET[] =
    "SELECT resource, max, used FROM quotas WHERE tenant_id = $1";

static const char SQL_SET[] =
    "UPDATE quotas SET max = $3 WHERE tenant_id = $1 AND resource = $2";

static const char SQL_TENANT_EXISTS[] = "SELECT 1 FROM tenants WHERE id = $1";

const char *
sov_quota_name(sov_quota_resource r)
{
    return (unsigned) r < SOV_QUOTA__COUNT ? names[r] : "unknown";
}

int
sov_quota_parse(const char *name)
{
    for (int i = 0; name && i < SOV_QUOTA__COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

long long
sov_quota_default(const sov_config *cfg, sov_quota_resource r)
{
    _Static_assert(sizeof(cfg->quota_default) / sizeof(cfg->quota_default[0]) ==
                   SOV_QUOTA__COUNT, "a default for every quota kind");
    return (long long) cfg->quota_default[r];
}

int
sov_quota_init_tenant(sov_dbconn *c, const sov_config *cfg, const char *tenant_id,
                      sov_error *err)
{
    for (int r = 0; r < SOV_QUOTA__COUNT; r++) {
        char max[32];
        const char *params[] = { tenant_id, names[r], max };
        snprintf(max, sizeof(max), "%lld", sov_quota_default(cfg, (sov_quota_resource) r));
        if (sov_db_query(c, SQL_INIT, 3, params, NULL, err) < 0)
            return -1;
    }
    return 0;
}

/* The max and used of the one row of SQL_ONE. */
static int
max_used(const PGresult *res, long long *max, long long *used, sov_error *err)
{
    static const char *const cols[] = { "max", "used" };
    int col[2];

    if (sov_db_cols(res, cols, col, 2, err) < 0)
        return -1;
    *max = strtoll(PQgetvalue(res, 0, col[0]), NULL, 10);
    *used = strtoll(PQgetvalue(res, 0, col[1]), NULL, 10);
    return 0;
}

/* SOV_E_QUOTA from the (max, used) row of SQL_ONE, or NOT_FOUND when there is none. */
static int
exceeded(const PGresult *res, const char *tenant_id, sov_quota_resource r, long long amount,
         sov_error *err)
{
    long long max, used;

    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", tenant_id);
    if (max_used(res, &max, &used, err) < 0)
        return -1;
    err->quota.limit = max;
    err->quota.used = used;
    err->quota.requested = amount;
    snprintf(err->field, sizeof(err->field), "%s", names[r]);
    return sov_error_set(err, SOV_E_QUOTA,
                         "quota '%s' exceeded: limit %lld, in use %lld, requested %lld",
                         names[r], err->quota.limit, err->quota.used, amount);
}

int
sov_quota_charge(sov_dbconn *c, const char *tenant_id, sov_quota_resource r, long long amount,
                 sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char n[32];
    const char *params[] = { tenant_id, names[r], n };

    snprintf(n, sizeof(n), "%lld", amount);
    if (sov_db_query(c, SQL_CHARGE, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 1)
        return 0;
    PQclear(SOV_TAKE_PTR(res));
    if (sov_db_query(c, SQL_ONE, 2, params, &res, err) < 0)
        return -1;
    return exceeded(res, tenant_id, r, amount, err);
}

int
sov_quota_check(sov_dbconn *c, const char *tenant_id, sov_quota_resource r, long long amount,
                sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, names[r] };
    long long max, used;

    if (sov_db_query(c, SQL_ONE, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 1) {
        if (max_used(res, &max, &used, err) < 0)
            return -1;
        if (used + amount <= max)
            return 0;
    }
    return exceeded(res, tenant_id, r, amount, err);
}

int
sov_quota_release(sov_dbconn *c, const char *tenant_id, sov_quota_resource r, long long amount,
                  sov_error *err)
{
    char n[32];
    const char *params[] = { tenant_id, names[r], n };

    snprintf(n, sizeof(n), "%lld", amount);
    return sov_db_query(c, SQL_RELEASE, 3, params, NULL, err);
}

static int
load(sov_dbconn *c, const char *tenant_id, sov_quota ret[SOV_QUOTA__COUNT], sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id };
    static const char *const cols[] = { "resource", "max", "used" };
    int col[3];

    if (sov_db_query(c, SQL_GET, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", tenant_id);
    if (sov_db_cols(res, cols, col, 3, err) < 0)
        return -1;
    memset(ret, 0, sizeof(sov_quota) * SOV_QUOTA__COUNT);
    for (int i = 0; i < PQntuples(res); i++) {
        int r = sov_quota_parse(PQgetvalue(res, i, col[0]));
        if (r < 0)
            continue;
        ret[r].max = strtoll(PQgetvalue(res, i, col[1]), NULL, 10);
        ret[r].used = strtoll(PQgetvalue(res, i, col[2]), NULL, 10);
    }
    return 0;
}

int
sov_quota_get(sov_ctx *ctx, const char *tenant_id, sov_quota ret[SOV_QUOTA__COUNT],
              sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_ctx_sees_tenant(ctx, tenant_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", tenant_id);
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return load(c, tenant_id, ret, err);
}

typedef struct set_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const long long *max;
    sov_quota *ret;
} set_args;

static int
set_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    set_args *a = arg;
    sov_autoptr(PGresult) res = NULL;
    const char *tp[] = { a->tenant_id };

    if (sov_db_query(c, SQL_TENANT_EXISTS, 1, tp, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", a->tenant_id);
    for (int r = 0; r < SOV_QUOTA__COUNT; r++) {
        char max[32];
        const char *params[] = { a->tenant_id, names[r], max };
        if (a->max[r] < 0)
            continue;
        snprintf(max, sizeof(max), "%lld", a->max[r]);
        if (sov_db_query(c, SQL_SET, 3, params, NULL, err) < 0)
            return -1;
    }
    if (sov_audit_append(c, a->ctx, a->tenant_id, "quota", a->tenant_id, SOV_OUTCOME_OK, err) < 0)
        return -1;
    return load(c, a->tenant_id, a->ret, err);
}

int
sov_quota_set(sov_ctx *ctx, const char *tenant_id, const long long max[SOV_QUOTA__COUNT],
              sov_quota ret[SOV_QUOTA__COUNT], sov_error *err)
{
    set_args a = { ctx, tenant_id, max, ret };

    if (!sov_ctx_sees_tenant(ctx, tenant_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", tenant_id);
    return sov_ctx_tx(ctx, set_tx, &a, err);
}

/* What the modules declared for resource_type, charged, checked or released one by one. */
typedef int (*quota_step)(sov_dbconn *c, const char *tenant_id, sov_quota_resource r,
                          long long amount, sov_error *err);

static int
each_use(sov_dbconn *c, const char *tenant_id, const char *resource_type, const void *resource,
         quota_step fn, sov_error *err)
{
    size_t n;
    const sov_quota_use *uses = sov_registry_quota_uses(&n);

    for (size_t i = 0; i < n; i++) {
        long long amount;

        if (strcmp(uses[i].resource_type, resource_type) != 0)
            continue;
        amount = uses[i].amount(resource);
        if (amount == 0 && uses[i].skip_zero)
            continue;
        if (fn(c, tenant_id, (sov_quota_resource) uses[i].quota, amount, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_quota_charge_resource(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                          const void *resource, sov_error *err)
{
    return each_use(c, tenant_id, resource_type, resource, sov_quota_charge, err);
}

int
sov_quota_check_resource(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                         const void *resource, sov_error *err)
{
    return each_use(c, tenant_id, resource_type, resource, sov_quota_check, err);
}

int
sov_quota_release_resource(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                           const void *resource, sov_error *err)
{
    return each_use(c, tenant_id, resource_type, resource, sov_quota_release, err);
}
