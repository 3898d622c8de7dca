/* net_common.c: what networks, subnets, ports and public IPs share: whether tenant networks
 * are on (ovn_nb configured), and which region a new regional resource goes to. A region
 * the request names must exist (400) and lie inside the tenant's residency policy
 * (SOV_E_RESIDENCY naming the field); none named: the first region the policy allows that
 * has a host up, in placement's order, since a network is only of use where instances can
 * run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sov/ops.h"
#include "network_int.h"

bool
sov_network_enabled(const sov_config *cfg)
{
    return cfg && cfg->ovn_nb && *cfg->ovn_nb;
}

int
sov_net_check_enabled(const sov_config *cfg, sov_error *err)
{
    if (!sov_network_enabled(cfg))
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "tenant networks need OVN: ovn_nb is not configured");
    return 0;
}

static int
outside_policy(const sov_region *g, const sov_policy *policy, const char *field,
               sov_error *err)
{
    char text[1024];

    sov_policy_json(policy, text, sizeof(text));
    sov_error_set(err, SOV_E_RESIDENCY, "region '%s' (%s, %s) is outside the tenant's "
                  "residency policy %.160s", g->code, g->country, g->jurisdiction, text);
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "region");
    return -1;
}

int
sov_net_region(sov_dbconn *c, const char *tenant_id, const char *region, const char *field,
               char *ret, size_t size, sov_error *err)
{
    sov_autoptr(sov_policy) policy = sov_policy_new();
    sov_autofree sov_region *regions = NULL;
    sov_autofree const char **allowed = NULL;
    size_t n = 0, nallowed = 0;
    bool found = false;
    char text[1024];

    if (!policy)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_policy_load(c, tenant_id, policy, err) < 0 ||
        sov_region_all(c, &regions, &n, err) < 0)
        return -1;
    if (region) {
        for (size_t i = 0; i < n; i++) {
            const sov_region *g = &regions[i];
            if (strcmp(g->code, region) != 0)
                continue;
            if (!sov_policy_allows(policy, g->code, g->country, g->jurisdiction))
                return outside_policy(g, policy, field, err);
            snprintf(ret, size, "%s", g->code);
            return 0;
        }
        return sov_error_invalid(err, field ? field : "region", "region '%s' does not exist",
                                 region);
    }
    allowed = calloc(n ? n : 1, sizeof(*allowed));
    if (!allowed)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (sov_policy_allows(policy, regions[i].code, regions[i].country,
                              regions[i].jurisdiction))
            allowed[nallowed++] = regions[i].code;
    if (sov_repo_net_host_region(c, allowed, nallowed, ret, size, &found, err) < 0)
        return -1;
    if (!found) {
        sov_policy_json(policy, text, sizeof(text));
        return sov_error_set(err, SOV_E_RESIDENCY, "no region allowed by the residency policy "
                             "%.160s has hosts up: name a region", text);
    }
    return 0;
}

int
sov_net_region_place(sov_dbconn *c, const char *tenant_id, const char *region,
                     sov_location *ret, sov_policy *policy, sov_error *err)
{
    sov_autofree sov_region *regions = NULL;
    size_t n = 0;

    if (sov_policy_load(c, tenant_id, policy, err) < 0 ||
        sov_region_all(c, &regions, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(regions[i].code, region) == 0) {
            memset(ret, 0, sizeof(*ret));
            snprintf(ret->region, sizeof(ret->region), "%s", regions[i].code);
            snprintf(ret->country, sizeof(ret->country), "%s", regions[i].country);
            snprintf(ret->jurisdiction, sizeof(ret->jurisdiction), "%s",
                     regions[i].jurisdiction);
            snprintf(ret->datacenter, sizeof(ret->datacenter), "%s", regions[i].datacenter);
            return 0;
        }
    return sov_error_set(err, SOV_E_INTERNAL, "region '%s' is gone", region);
}

int
sov_net_check_zone(sov_dbconn *c, const char *region, const char *zone, sov_error *err)
{
    sov_autofree sov_region *regions = NULL;
    size_t n = 0;

    if (sov_region_all(c, &regions, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(regions[i].code, region) != 0)
            continue;
        for (size_t z = 0; z < regions[i].nzones; z++)
            if (strcmp(regions[i].zones[z], zone) == 0)
                return 0;
    }
    return sov_error_invalid(err, "zone", "zone '%s' is not a zone of region '%s', the "
                             "network's", zone, region);
}


int
sov_net_list_tenant(sov_ctx *ctx, const char *tenant_id, const char *after, const char **ret,
                    sov_error *err)
{
    /* Operators list every tenant's unless they name one. */
    if ((tenant_id || !sov_ctx_is_operator(ctx)) && sov_ctx_tenant(ctx, tenant_id, ret, err) < 0)
        return -1;
    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    return 0;
}

int
sov_net_delete(sov_ctx *ctx, const char *what, const char *id, sov_db_tx_fn tx, void *arg,
               const char *pending, sov_op *op, sov_error *err)
{
    if (sov_net_check_enabled(ctx->cfg, err) < 0)
        return -1;
    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "%s '%s' does not exist", what, id);
    if (sov_ctx_tx(ctx, tx, arg, err) < 0)
        return -1;
    return pending[0] ? sov_op_get(ctx, pending, op, err) : 0;
}

int
sov_net_create_op(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *type,
                  const char *id, sov_op *op, char *op_id, sov_error *err)
{
    char kind[64];

    if (!op)
        return 0;
    snprintf(kind, sizeof(kind), "%s.create", type);
    if (sov_op_enqueue(c, ctx, tenant_id, kind, type, id, "", op, err) < 0)
        return -1;
    snprintf(op_id, SOV_UUID_LEN + 1, "%s", op->id);
    return 0;
}

double
sov_net_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1000.0 + (double) ts.tv_nsec / 1e6;
}
