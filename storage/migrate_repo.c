/* migrate_repo.c: the SQL of storage/'s part of a migration (migrate.c): a volume's or
 * snapshot's row moved to another host, what keeps a volume from moving (volumes being
 * copied from it), and whether a volume moves with a migrating instance right now. */
#include <stdio.h>
#include <string.h>

#include "storage_int.h"

/* The row follows its host: region and zone are the target's (a volume's place is its
 * host's). */
static const char SQL_VOLUME_MOVE[] =
    "UPDATE volumes v SET host_id = h.id, region = h.region, zone = h.zone,"
    " updated_at = now() FROM hosts h WHERE v.id = $1::uuid AND h.id = $2::uuid"
    " RETURNING v.id::text AS id";

static const char SQL_SNAPSHOT_MOVE[] =
    "UPDATE snapshots s SET host_id = h.id, region = h.region, zone = h.zone,"
    " updated_at = now() FROM hosts h WHERE s.id = $1::uuid AND h.id = $2::uuid"
    " RETURNING s.id::text AS id";

int
sov_repo_storage_move(sov_dbconn *c, const char *table, const char *id, const char *host_id,
                      sov_error *err)
{
    const char *params[] = { id, host_id };
    sov_autoptr(PGresult) res = NULL;
    const char *sql = strcmp(table, "volumes") == 0     ? SQL_VOLUME_MOVE
                      : strcmp(table, "snapshots") == 0 ? SQL_SNAPSHOT_MOVE
                                                        : NULL;

    if (!sql)
        return sov_error_set(err, SOV_E_INTERNAL, "no such storage table '%s'", table);
    if (sov_db_query(c, sql, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "%s %s or host %s does not exist", table,
                             id, host_id);
    return 0;
}

static const char SQL_COPY_BLOCKERS[] =
    "SELECT coalesce(string_agg('''' || name || '''', ', ' ORDER BY name), '') AS names"
    " FROM volumes WHERE state = 'creating' AND source_type = 'volume'"
    " AND source_id = $1::uuid";

int
sov_repo_volume_copy_blockers(sov_dbconn *c, const char *id, const char *what, sov_error *err)
{
    const char *params[] = { id };
    sov_autoptr(PGresult) res = NULL;
    int col;

    if (sov_db_query(c, SQL_COPY_BLOCKERS, 1, params, &res, err) < 0 ||
        sov_db_cols(res, (const char *const[]) { "names" }, &col, 1, err) < 0)
        return -1;
    if (PQgetvalue(res, 0, col)[0] == '\0')
        return 0;
    return sov_error_set(err, SOV_E_CONFLICT, "%s is being copied into volume %.160s: wait "
                         "for the copy to end", what, PQgetvalue(res, 0, col));
}

/* The instance a volume is attached to, when that instance is migrating. */
static const char SQL_MOVING[] =
    "SELECT i.name FROM volume_attachments a JOIN instances i ON i.id = a.instance_id"
    " WHERE a.volume_id = $1::uuid AND i.state = 'migrating'";

int
sov_repo_volume_moving(sov_dbconn *c, const char *volume_id, const char *what, sov_error *err)
{
    const char *params[] = { volume_id };
    sov_autoptr(PGresult) res = NULL;
    sov_volume_move m;
    bool found;
    int col;

    if (!volume_id || !volume_id[0])
        return 0;
    /* A move of the volume itself (volume_move.c) keeps it as still as a migration. */
    if (sov_repo_volume_move_pending(c, volume_id, &m, &found, err) < 0)
        return -1;
    if (found)
        return sov_error_set(err, SOV_E_CONFLICT, "%s is being moved to host '%s': try again "
                             "when the move has ended", what, m.target_host_name);
    if (sov_db_query(c, SQL_MOVING, 1, params, &res, err) < 0 ||
        sov_db_cols(res, (const char *const[]) { "name" }, &col, 1, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return 0;
    return sov_error_set(err, SOV_E_CONFLICT, "%s moves with instance '%s', which is "
                         "migrating: try again when the migration has ended", what,
                         PQgetvalue(res, 0, col));
}
