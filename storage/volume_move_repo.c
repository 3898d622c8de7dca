/* volume_move_repo.c: the SQL of a volume's move (volume_move.c): whether a volume has a
 * move under way (a "volume.move" operation queued or running; its arg names the source
 * host, the target host and the target's reservation), and a host's place, for the
 * "moved" residency record. */
#include <stdio.h>
#include <string.h>

#include "storage_int.h"

static const char SQL_MOVE_PENDING[] =
    "SELECT o.id::text AS id, o.arg, coalesce(h.name, '') AS host FROM operations o"
    " LEFT JOIN hosts h ON h.id::text = split_part(o.arg, ' ', 2)"
    " WHERE o.kind = 'volume.move' AND o.resource_id = $1 AND o.state IN ('queued', 'running')"
    " ORDER BY o.created_at LIMIT 1";

int
sov_repo_volume_move_pending(sov_dbconn *c, const char *volume_id, sov_volume_move *ret,
                             bool *found, sov_error *err)
{
    const char *params[] = { volume_id };
    sov_autoptr(PGresult) res = NULL;
    enum { M_ID, M_ARG, M_HOST, M__N };
    static const char *const names[M__N] = { "id", "arg", "host" };
    int col[M__N];

    *found = false;
    if (!volume_id || !volume_id[0])
        return 0;
    if (sov_db_query(c, SQL_MOVE_PENDING, 1, params, &res, err) < 0 ||
        sov_db_cols(res, names, col, M__N, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->op_id, sizeof(ret->op_id), res, 0, col[M_ID]);
    sov_db_copy(ret->target_host_name, sizeof(ret->target_host_name), res, 0, col[M_HOST]);
    if (sov_volume_move_arg_parse(PQgetvalue(res, 0, col[M_ARG]), ret, err) < 0)
        return -1;
    *found = true;
    return 0;
}

static const char SQL_HOST_PLACE[] =
    "SELECT h.name, h.region, r.country, r.jurisdiction, r.datacenter"
    " FROM hosts h JOIN regions r ON r.code = h.region WHERE h.id = $1::uuid";

int
sov_repo_host_place(sov_dbconn *c, const char *host_id, sov_location *ret, sov_error *err)
{
    const char *params[] = { host_id };
    sov_autoptr(PGresult) res = NULL;
    enum { P_NAME, P_REGION, P_COUNTRY, P_JURISDICTION, P_DATACENTER, P__N };
    static const char *const names[P__N] = { "name", "region", "country", "jurisdiction",
                                             "datacenter" };
    int col[P__N];

    if (sov_db_query(c, SQL_HOST_PLACE, 1, params, &res, err) < 0 ||
        sov_db_cols(res, names, col, P__N, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", host_id);
    memset(ret, 0, sizeof(*ret));
    sov_db_copy(ret->host, sizeof(ret->host), res, 0, col[P_NAME]);
    sov_db_copy(ret->region, sizeof(ret->region), res, 0, col[P_REGION]);
    sov_db_copy(ret->country, sizeof(ret->country), res, 0, col[P_COUNTRY]);
    sov_db_copy(ret->jurisdiction, sizeof(ret->jurisdiction), res, 0, col[P_JURISDICTION]);
    sov_db_copy(ret->datacenter, sizeof(ret->datacenter), res, 0, col[P_DATACENTER]);
    return 0;
}
