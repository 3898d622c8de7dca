/* migrate.c: applies migrations/NNNN_name.sql in order, once, under an advisory lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sov/crypto.h"
#include "sov/log.h"
#include "sov/migrate.h"
#include "sov/repo/db_pq.h"

/* Any fixed 64-bit number of our own; "sovmigr" in ASCII. */
static const char SQL_LOCK[] = "SELECT pg_advisory_lock(7237970471815792)";
static const char SQL_UNLOCK[] = "SELECT pg_advisory_unlock(7237970471815792)";

static const char SQL_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static const char SQL_APPLIED[] =
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version";

static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

static const char SQL_COUNT[] =
    "SELECT count(*) FROM pg_catalog.pg_tables "
    "WHERE schemaname = current_schema() AND tablename = 'schema_migrations'";

static const char SQL_COUNT_APPLIED[] = "SELECT count(*) FROM schema_migrations";

static int
check_applied(PGresult *res, const sov_migration *list, size_t n, sov_error *err)
{
    static const char *const cols[] = { "version", "name", "checksum" };
    int col[3];

    if (sov_db_cols(res, cols, col, 3, err) < 0)
        return -1;
    for (int row = 0; row < PQntuples(res); row++) {
        long version = strtol(PQgetvalue(res, row, col[0]), NULL, 10);
        const char *name = PQgetvalue(res, row, col[1]);
        const char *sum = PQgetvalue(res, row, col[2]);
        char want[SOV_SHA256_HEX_LEN + 1];

        if (version < 1 || (size_t) version > n) {
            sov_error_set(err, SOV_E_INTERNAL,
                          "database has migration %s that this sovd does not know", name);
            return sov_error_detail(err, "a newer sovd has migrated this database; "
                                         "upgrade this one (it knows %zu migrations)", n);
        }
        const sov_migration *m = &list[version - 1];
        sov_sha256_hex(m->sql, m->len, want);
        if (strcmp(want, sum) != 0 || strcmp(name, m->name) != 0) {
            sov_error_set(err, SOV_E_INTERNAL,
                          "migration %s was edited after it was applied", m->name);
            return sov_error_detail(err, "recorded %s sha256 %s, this build has %s sha256 %s; "
                                         "applied migrations are never edited: add a new one",
                                    name, sum, m->name, want);
        }
    }
    return 0;
}

/* One migration's run: its SQLSTATE when the script failed. */
typedef struct apply_run {
    const sov_migration *m;
    char sqlstate[8];
} apply_run;

static int
apply_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    apply_run *run = arg;
    const sov_migration *m = run->m;
    PGconn *conn = sov_db_conn(c);
    char version[16], sum[SOV_SHA256_HEX_LEN + 1];
    const char *params[] = { version, m->name, sum };
    sov_autoptr(PGresult) res = NULL;

    snprintf(version, sizeof(version), "%d", m->version);
    sov_sha256_hex(m->sql, m->len, sum);
    /* A script of several statements: simple query protocol, no parameters, our own text. */
    res = PQexec(conn, m->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        snprintf(run->sqlstate, sizeof(run->sqlstate), "%s", state ? state : "");
        sov_db_error(conn, res, err);
        return sov_error_set(err, SOV_E_INTERNAL, "migration %s failed", m->name);
    }
    return sov_db_query(c, SQL_RECORD, 3, params, NULL, err);
}

static int
apply_one(sov_dbconn *c, const sov_migration *m, sov_error *err)
{
    /* Roles are the cluster's, not the database's: two sovd migrating two databases of one
     * cluster at once may both find a role missing and both create it, and the second then
     * fails on the catalog's unique index (the advisory lock above is per database). The
     * transaction rolled back; the next try finds the role. */
    for (int attempt = 0;; attempt++) {
        apply_run run = { m, "" };
        if (sov_db_tx_on(c, apply_tx, &run, err) == 0)
            break;
        if (attempt == 4 || (strcmp(run.sqlstate, "23505") != 0 &&
                             strcmp(run.sqlstate, "42710") != 0))
            return -1;
        sov_log_info("migration %s met a concurrent change of the cluster's catalog (%s): "
                     "trying again", m->name, run.sqlstate);
        sov_error_clear(err);
        usleep(50000 * (attempt + 1));
    }
    sov_log_info("applied migration %s", m->name);
    return 0;
}

int
sov_migrate(sov_dbconn *c, const sov_migration *list, size_t n, unsigned *ret_applied,
            sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    unsigned applied = 0;
    int rc = -1;

    if (sov_db_query(c, SQL_LOCK, 0, NULL, NULL, err) < 0)
        return -1;
    if (sov_db_query(c, SQL_TABLE, 0, NULL, NULL, err) < 0 ||
        sov_db_query(c, SQL_APPLIED, 0, NULL, &res, err) < 0 ||
        check_applied(res, list, n, err) < 0)
        goto out;
    for (size_t i = (size_t) PQntuples(res); i < n; i++) {
        if (apply_one(c, &list[i], err) < 0)
            goto out;
        applied++;
    }
    rc = 0;
    if (ret_applied)
        *ret_applied = applied;
out:
    {
        sov_error ignored = SOV_ERROR_INIT;
        sov_db_query(c, SQL_UNLOCK, 0, NULL, NULL, &ignored);
    }
    return rc;
}

int
sov_migrate_count_applied(sov_dbconn *c, long *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, SQL_COUNT, 0, NULL, &res, err) < 0)
        return -1;
    if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
        *ret = 0;
        return 0;
    }
    PQclear(SOV_TAKE_PTR(res));
    if (sov_db_query(c, SQL_COUNT_APPLIED, 0, NULL, &res, err) < 0)
        return -1;
    *ret = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    return 0;
}

int
sov_migrate_ready(sov_db *db, long *ret_applied, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    long applied = 0;

    if (sov_db_acquire(db, &c, err) < 0 || sov_migrate_count_applied(c, &applied, err) < 0)
        return -1;
    if (applied < (long) sov_migrations_count)
        return sov_error_set(err, SOV_E_UNAVAILABLE, "database schema not ready (%ld of %zu "
                                                     "migrations applied)",
                             applied, sov_migrations_count);
    *ret_applied = applied;
    return 0;
}
