/* policy_service.c: reading and changing a tenant's residency policy.
 *
 * An operator sets any policy, including one beyond the EU; a tenant admin may only narrow
 * the policy in force. A policy that would leave some of the tenant's data outside it is
 * refused: data never lives outside the policy in force, so the residency report's list of
 * violations stays empty. Every change is audited and recorded as policy-changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "residency_repo.h"
#include "sov/audit.h"

int
sov_policy_load(sov_dbconn *c, const char *tenant_id, sov_policy *ret, sov_error *err)
{
    bool found = false;

    if (sov_repo_policy_get(c, tenant_id, ret, &found, err) < 0)
        return -1;
    if (!found)
        sov_policy_default(ret);
    return 0;
}

int
sov_policy_get(sov_ctx *ctx, const char *tenant_id, sov_policy *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_tenant t;

    if (sov_tenant_get(ctx, tenant_id, &t, err) < 0 || sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_policy_load(c, tenant_id, ret, err);
}

typedef struct set_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const sov_policy *p;
    sov_policy *ret;
} set_args;

/* Every region the tenant holds data in must stay allowed. */
static int
keeps_data_inside(sov_dbconn *c, const char *tenant_id, const sov_policy *p,
                  const sov_region *regions, size_t n, sov_error *err)
{
    sov_autofree char *held = NULL;
    const char *s;

    if (sov_repo_tenant_regions(c, tenant_id, &held, err) < 0)
        return -1;
    s = held;
    while (*s) {
        size_t len = strcspn(s, ",");
        for (size_t i = 0; i < n; i++)
            if (strlen(regions[i].code) == len && strncmp(regions[i].code, s, len) == 0 &&
                !sov_policy_allows(p, regions[i].code, regions[i].country,
                                   regions[i].jurisdiction))
                return sov_error_set(err, SOV_E_CONFLICT,
                                     "the tenant has data in region '%.*s', which this policy "
                                     "does not allow; move or delete it first",
                                     (int) len, s);
        s += len;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int
set_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    set_args *a = arg;
    sov_autofree sov_region *regions = NULL;
    size_t n = 0;
    sov_policy old;
    /* Sized for the largest policy: 64 regions of 63 characters, quoted, in each list. */
    char before[SOV_POLICY_MAX * (SOV_NAME_MAX + 4) + 512];
    char after[sizeof(before)], reason[2 * sizeof(before) + 64];

    if (sov_region_all(c, &regions, &n, err) < 0 || sov_policy_check(a->p, regions, n, err) < 0 ||
        sov_policy_load(c, a->tenant_id, &old, err) < 0)
        return -1;
    if (a->ctx->who && !sov_ctx_is_operator(a->ctx) &&
        !sov_policy_within(a->p, &old, regions, n))
        return sov_error_set(err, SOV_E_FORBIDDEN,
                             "a tenant admin may only narrow the residency policy; widening "
                             "it is an operator's decision");
    if (keeps_data_inside(c, a->tenant_id, a->p, regions, n, err) < 0)
        return -1;
    if (sov_repo_policy_put(c, a->tenant_id, a->p, err) < 0)
        return -1;
    sov_policy_json(&old, before, sizeof(before));
    sov_policy_json(a->p, after, sizeof(after));
    snprintf(reason, sizeof(reason), "policy changed by %s from %s to %s",
             a->ctx->who ? sov_role_name(a->ctx->who->role) : "system", before, after);
    if (sov_residency_record(c, a->tenant_id, "tenant", a->tenant_id, "policy-changed", NULL,
                             NULL, a->p, reason, NULL, err) < 0 ||
        sov_audit_append(c, a->ctx, a->tenant_id, "residency-policy", a->tenant_id, SOV_OUTCOME_OK,
                         err) < 0)
        return -1;
    *a->ret = *a->p;
    return 0;
}

int
sov_policy_set(sov_ctx *ctx, const char *tenant_id, const sov_policy *p, sov_policy *ret,
               sov_error *err)
{
    set_args a = { ctx, tenant_id, p, ret };
    sov_tenant t;

    if (sov_tenant_get(ctx, tenant_id, &t, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, set_tx, &a, err);
}
