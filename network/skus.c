/* skus.c: network SKUs, the bandwidth classes of SECA's network provider (issue 20), and
 * what a SECA network or subnet names beside its /v1 row (its SKU, its route table). The
 * catalogue is operators' data (network_skus, seeded by migration 0018); a network records
 * its class at create (networks.sku), a subnet its route table and class. */
#include <stdio.h>
#include <string.h>

#include "network_int.h"

int
sov_network_sku_list(sov_ctx *ctx, sov_network_sku **ret, size_t *n, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_sku_list(c, ret, n, err);
}

int
sov_network_sku_get(sov_ctx *ctx, const char *name, sov_network_sku *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!name || !*name || strlen(name) > SOV_NAME_MAX)
        return sov_error_set(err, SOV_E_NOT_FOUND, "network SKU '%.64s' does not exist",
                             name ? name : "");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_sku_get(c, name, NULL, ret, err);
}

/* The first of the names that is set, else the default. */
static int
sku_pick(sov_dbconn *c, const char *a, const char *b, const char *d, sov_network_sku *ret,
         sov_error *err)
{
    const char *name = a && *a ? a : b && *b ? b : d && *d ? d : SOV_NETWORK_SKU_DEFAULT;

    return sov_repo_sku_get(c, name, NULL, ret, err);
}

int
sov_network_sku_of(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                   sov_network_sku *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_network n;
    char sku[SOV_NAME_MAX + 1];

    if (sov_network_get(ctx, tenant_id, network_id, &n, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_sku_names(c, n.id, NULL, sku, NULL, sizeof(sku), NULL, 0, err) < 0)
        return -1;
    return sku_pick(c, sku, NULL, NULL, ret, err);
}

int
sov_port_sku(sov_ctx *ctx, const char *tenant_id, const char *port_id, const char *sku,
             sov_network_sku *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_port p;
    char net_sku[SOV_NAME_MAX + 1], sub_sku[SOV_NAME_MAX + 1], own[SOV_NAME_MAX + 1];

    if (sov_port_get(ctx, tenant_id, port_id, &p, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_sku_names(c, p.network_id, p.subnet_id, net_sku, sub_sku, sizeof(net_sku),
                           NULL, 0, err) < 0 ||
        sov_repo_port_sku(c, p.id, own, sizeof(own), err) < 0)
        return -1;
    if (sku && *sku)
        return sku_pick(c, sku, NULL, NULL, ret, err);
    return sku_pick(c, own, sub_sku, net_sku, ret, err);
}

int
sov_subnet_seca(sov_ctx *ctx, const char *tenant_id, const char *subnet_id,
                char *route_table, size_t rt_size, char *sku, size_t sku_size,
                sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_subnet s;
    char k[SOV_NAME_MAX + 1];

    if (sov_subnet_get(ctx, tenant_id, subnet_id, &s, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_sku_names(c, NULL, s.id, NULL, k, sizeof(k), route_table, rt_size, err) < 0)
        return -1;
    if (sku)
        snprintf(sku, sku_size, "%s", k);
    return 0;
}

int
sov_subnet_seca_route_table(sov_ctx *ctx, const char *tenant_id, const char *subnet_id,
                            const char *route_table, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_subnet s;

    if (sov_subnet_get(ctx, tenant_id, subnet_id, &s, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_subnet_set_route_table(c, s.id, route_table, err);
}

int
sov_network_route_table_user(sov_ctx *ctx, const char *tenant_id, const char *network_id,
                             const char *route_table, char *ret, size_t size, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_network n;

    if (sov_network_get(ctx, tenant_id, network_id, &n, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_route_table_user(c, n.id, route_table, ret, size, err);
}
