/* skus_repo.c: network SKUs (table network_skus, migration 0017) and what a SECA network or
 * subnet names (networks.sku, subnets.route_table, subnets.sku). */
#include <stdio.h>
#include <string.h>

#include "sov/repo/db_pq.h"
#include "network_int.h"

#define TS(col) SOV_SQL_TS(col)

#define SKU_COLS                                                                         \
    "name, bandwidth_mbps, packets_per_second, tier, " TS("created_at") " AS created_at"

enum { K_NAME, K_BW, K_PPS, K_TIER, K_CREATED, K__N };
static const char *const sku_cols[K__N] = {
    [K_NAME] = "name", [K_BW] = "bandwidth_mbps", [K_PPS] = "packets_per_second",
    [K_TIER] = "tier", [K_CREATED] = "created_at",
};

static void
fill_sku(const PGresult *r, int i, const int *col, void *out)
{
    sov_network_sku *k = out;

    memset(k, 0, sizeof(*k));
    sov_db_copy(k->name, sizeof(k->name), r, i, col[K_NAME]);
    k->bandwidth_mbps = sov_db_num(r, i, col[K_BW]);
    k->packets_per_second = sov_db_num(r, i, col[K_PPS]);
    sov_db_copy(k->tier, sizeof(k->tier), r, i, col[K_TIER]);
    sov_db_copy(k->created_at, sizeof(k->created_at), r, i, col[K_CREATED]);
}

static const sov_db_rowmap row_sku = { sku_cols, K__N, fill_sku };

/* One UPDATE of one row by id ($1) with one value ($2; NULL: none). */
static int
set_by_id(sov_dbconn *c, const char *sql, const char *id, const char *value, sov_error *err)
{
    const char *params[] = { id, value };

    return sov_db_query(c, sql, 2, params, NULL, err);
}

static const char SQL_SKU_LIST[] = "SELECT " SKU_COLS " FROM network_skus ORDER BY name";

int
sov_repo_sku_list(sov_dbconn *c, sov_network_sku **ret, size_t *n, sov_error *err)
{
    return sov_db_all(c, SQL_SKU_LIST, 0, NULL, sizeof(**ret), &row_sku, (void **) ret, n,
                      err);
}

static const char SQL_SKU_GET[] = "SELECT " SKU_COLS " FROM network_skus WHERE name = $1";

int
sov_repo_sku_get(sov_dbconn *c, const char *name, const char *field, sov_network_sku *ret,
                 sov_error *err)
{
    const char *params[] = { name };

    if (sov_db_one(c, SQL_SKU_GET, 1, params, &row_sku, ret, "network SKU", name, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND && field)
            snprintf(err->field, sizeof(err->field), "%s", field);
        return -1;
    }
    return 0;
}

static const char SQL_NETWORK_SKU[] = "UPDATE networks SET sku = $2 WHERE id = $1";

int
sov_repo_network_set_sku(sov_dbconn *c, const char *network_id, const char *sku,
                         sov_error *err)
{
    return set_by_id(c, SQL_NETWORK_SKU, network_id, sku, err);
}

static const char SQL_PORT_SKU[] = "UPDATE ports SET sku = $2 WHERE id = $1";

int
sov_repo_port_set_sku(sov_dbconn *c, const char *port_id, const char *sku, sov_error *err)
{
    return set_by_id(c, SQL_PORT_SKU, port_id, sku, err);
}

static const char SQL_PORT_SKU_GET[] =
    "SELECT coalesce((SELECT sku FROM ports WHERE id = $1::uuid), '') AS sku";

int
sov_repo_port_sku(sov_dbconn *c, const char *port_id, char *ret, size_t size, sov_error *err)
{
    static const char *const cols[] = { "sku" };
    const char *params[] = { port_id };
    sov_autoptr(PGresult) res = NULL;
    int col[1];

    if (sov_db_query(c, SQL_PORT_SKU_GET, 1, params, &res, err) < 0 ||
        sov_db_cols(res, cols, col, 1, err) < 0)
        return -1;
    sov_db_copy(ret, size, res, 0, col[0]);
    return 0;
}

static const char SQL_SUBNET_SECA[] =
    "UPDATE subnets SET route_table = $2, sku = $3 WHERE id = $1";

int
sov_repo_subnet_set_seca(sov_dbconn *c, const char *subnet_id, const char *route_table,
                         const char *sku, sov_error *err)
{
    const char *params[] = { subnet_id, route_table, sku };

    return sov_db_query(c, SQL_SUBNET_SECA, 3, params, NULL, err);
}

static const char SQL_SKU_NAMES[] =
    "SELECT coalesce((SELECT sku FROM networks WHERE id = $1::uuid), '') AS network_sku,"
    " coalesce((SELECT sku FROM subnets WHERE id = $2::uuid), '') AS subnet_sku,"
    " coalesce((SELECT route_table FROM subnets WHERE id = $2::uuid), '') AS route_table";

int
sov_repo_sku_names(sov_dbconn *c, const char *network_id, const char *subnet_id,
                   char *network_sku, char *subnet_sku, size_t size, char *route_table,
                   size_t rt_size, sov_error *err)
{
    static const char *const cols[] = { "network_sku", "subnet_sku", "route_table" };
    const char *params[] = { network_id && *network_id ? network_id : NULL,
                             subnet_id && *subnet_id ? subnet_id : NULL };
    sov_autoptr(PGresult) res = NULL;
    int col[3];

    if (sov_db_query(c, SQL_SKU_NAMES, 2, params, &res, err) < 0 ||
        sov_db_cols(res, cols, col, 3, err) < 0)
        return -1;
    if (network_sku)
        sov_db_copy(network_sku, size, res, 0, col[0]);
    if (subnet_sku)
        sov_db_copy(subnet_sku, size, res, 0, col[1]);
    if (route_table)
        sov_db_copy(route_table, rt_size, res, 0, col[2]);
    return 0;
}

static const char SQL_SUBNET_RT[] = "UPDATE subnets SET route_table = $2 WHERE id = $1";

int
sov_repo_subnet_set_route_table(sov_dbconn *c, const char *subnet_id, const char *route_table,
                                sov_error *err)
{
    return set_by_id(c, SQL_SUBNET_RT, subnet_id, route_table, err);
}

static const char SQL_RT_USER[] =
    "SELECT coalesce((SELECT name FROM subnets WHERE network_id = $1::uuid"
    " AND route_table = $2 AND state NOT IN ('deleting', 'deleted')"
    " ORDER BY created_at, id LIMIT 1), '') AS name";

int
sov_repo_route_table_user(sov_dbconn *c, const char *network_id, const char *route_table,
                          char *ret, size_t size, sov_error *err)
{
    static const char *const cols[] = { "name" };
    const char *params[] = { network_id, route_table };
    sov_autoptr(PGresult) res = NULL;
    int col[1];

    if (sov_db_query(c, SQL_RT_USER, 2, params, &res, err) < 0 ||
        sov_db_cols(res, cols, col, 1, err) < 0)
        return -1;
    sov_db_copy(ret, size, res, 0, col[0]);
    return 0;
}
