/* migrate.h: the schema, as numbered SQL files applied in order.
 *
 * migrations/NNNN_name.sql are compiled into sovd. At start each file not yet applied runs in
 * its own transaction and is recorded in schema_migrations with its SHA-256; the whole run
 * holds a PostgreSQL advisory lock, so several replicas may start together. A recorded file
 * whose checksum differs from the compiled one (edited after landing), or a recorded version
 * this binary does not know (a newer sovd migrated the database), stops the start. */
#ifndef SOV_MIGRATE_H
#define SOV_MIGRATE_H

#include <stddef.h>

#include "sov/db.h"
#include "sov/error.h"

typedef struct sov_migration {
    int version;
    const char *name;   /* "0001_init.sql" */
    const char *sql;
    size_t len;
} sov_migration;

extern const sov_migration sov_migrations[];
extern const size_t sov_migrations_count;

/* Apply the missing ones of list[0..n) on c; *ret_applied counts those applied now. */
int sov_migrate(sov_dbconn *c, const sov_migration *list, size_t n, unsigned *ret_applied,
                sov_error *err);

/* How many migrations the database has recorded (0 if the table does not exist yet). */
int sov_migrate_count_applied(sov_dbconn *c, long *ret, sov_error *err);

/* Ready means: PostgreSQL answers and every compiled migration is applied. *ret_applied gets
 * the number applied; SOV_E_UNAVAILABLE otherwise. */
int sov_migrate_ready(sov_db *db, long *ret_applied, sov_error *err);

#endif
