/* db.h: a pool of libpq connections, parameterized queries and transactions.
 *
 * Every query goes through sov_db_query() with $n parameters: no SQL text is ever built from
 * input. A lost connection is reported as SOV_E_UNAVAILABLE (the API answers 503) and is
 * reopened on next use, so sovd recovers by itself when PostgreSQL comes back. */
#ifndef SOV_DB_H
#define SOV_DB_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "sov/cleanup.h"
#include "sov/error.h"

SOV_DEFINE_AUTOPTR(PGresult, PQclear)

typedef struct sov_db sov_db;
typedef struct sov_dbconn sov_dbconn;   /* a connection lent by the pool */

typedef struct sov_db_options {
    const char *url;
    unsigned pool_size;
    unsigned connect_timeout;       /* seconds */
    unsigned acquire_timeout_ms;
    unsigned statement_timeout_ms;  /* 0: none */
    const char *role;               /* SET ROLE after connecting; NULL or "" for none */
} sov_db_options;

typedef struct sov_db_stats {
    unsigned size, in_use, idle;
    unsigned long long acquired, waits, timeouts, reconnects, failures;
} sov_db_stats;

/* SQL text rendering a timestamptz column as RFC 3339 UTC with seconds: TS("created_at"). */
#define SOV_SQL_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Copy a result value into a fixed buffer (truncating); "" for NULL. */
void sov_db_copy(char *dst, size_t size, const PGresult *res, int row, int col);

/* Create the pool; connections open lazily, so this succeeds while PostgreSQL is down. */
int sov_db_new(const sov_db_options *opts, sov_db **ret, sov_error *err);
void sov_db_free(sov_db *db);
SOV_DEFINE_AUTOPTR(sov_db, sov_db_free)

/* Borrow a live connection (opening or reopening one if needed); wait at most
 * acquire_timeout_ms for one to be free. */
int sov_db_acquire(sov_db *db, sov_dbconn **ret, sov_error *err);
/* Return it; a connection left inside a transaction is rolled back first. */
void sov_db_release(sov_dbconn *c);
SOV_DEFINE_AUTOPTR(sov_dbconn, sov_db_release)

PGconn *sov_db_conn(sov_dbconn *c);
/* Route a connection's server notices to the debug log instead of stderr. */
void sov_db_quiet(PGconn *conn);
void sov_db_get_stats(sov_db *db, sov_db_stats *ret);

/* Run one statement with text parameters. On success *ret holds a TUPLES_OK or COMMAND_OK
 * result (ret may be NULL to discard it). Outside a transaction, a connection found dead is
 * reopened and the statement retried once. Errors are mapped by sov_db_error().
 * Each distinct text is prepared once per session (up to 128 per connection, the rest run
 * unprepared): PostgreSQL parses and plans it once, not on every call. Texts with optional
 * filters ("$1 IS NULL OR ...", "CASE WHEN $1 IS NULL THEN ...") run unprepared: their
 * plan depends on which filters apply, and a generic plan would apply none. */
int sov_db_query(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
                 PGresult **ret, sov_error *err);

/* Look up columns by name, once per result: idx[k] is the index of names[k] in res (names
 * in a result are unique: expressions carry an alias; asked in SELECT order, each is found at
 * once). A name the result lacks is a bug in the statement: SOV_E_INTERNAL naming the column,
 * and -1. */
int sov_db_cols(const PGresult *res, const char *const *names, int *idx, size_t n,
                sov_error *err);

#define SOV_DB_MAX_COLS 64

/* How rows of one kind are read: the columns the filler needs, by name (at most
 * SOV_DB_MAX_COLS), and the filler, which fills item out from row i of a result; col[k] is the
 * index of names[k] in that result, looked up once per result, not per row. */
typedef struct sov_db_rowmap {
    const char *const *names;
    size_t ncols;
    void (*fill)(const PGresult *res, int row, const int *col, void *out);
} sov_db_rowmap;

/* Fill out from row `row` of res by map, looking its columns up first (for a result read
 * once; a loop over rows looks them up once with sov_db_cols and calls map->fill). */
int sov_db_fill(const PGresult *res, int row, const sov_db_rowmap *map, void *out,
                sov_error *err);

/* Run a query expected to return one row, mapped by map into out; no row is SOV_E_NOT_FOUND
 * "<what> '<key>' does not exist". */
int sov_db_one(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
               const sov_db_rowmap *map, void *out, const char *what, const char *key,
               sov_error *err);

/* Run a list query into a new array (*items, to free(), *count rows of item_size), each
 * mapped by map. When the page is full (limit rows), next gets column key_col (a name) of the
 * last row: the keyset cursor of the next page; else "". */
int sov_db_page(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
                size_t item_size, const sov_db_rowmap *map, unsigned limit,
                const char *key_col, void **items, size_t *count, char *next,
                size_t next_size, sov_error *err);

/* Split "a,b,c" (array_to_string of a text[]) into fixed slots of stride bytes; returns how
 * many were filled (at most nslots). */
size_t sov_db_split(const char *s, char *slots, size_t nslots, size_t stride);

/* The live resources that keep `what` (e.g. "flavor 'small'") from being deleted: sql returns
 * columns kind, id and name, at most SOV_ERROR_MAX_BLOCKERS + 1 rows, live rows only (a
 * soft-deleted row never blocks). None: 0. Some: SOV_E_CONFLICT naming them, with
 * err->blocked_by filled (the API's blocked_by), and -1. */
int sov_db_blockers(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
                    const char *what, sov_error *err);

/* Map a failed result (or a dead connection when res is NULL) to a sov_error:
 * unique/foreign-key violations -> CONFLICT, data exceptions -> INVALID, connection loss,
 * shutdown and timeouts -> UNAVAILABLE, the rest -> INTERNAL. SQLSTATE and the server's
 * message go to err->detail. Returns -1. */
int sov_db_error(PGconn *conn, const PGresult *res, sov_error *err);

/* The SQLSTATE of the last error mapped on this connection ("" if none). */
const char *sov_db_last_sqlstate(sov_dbconn *c);

/* Run fn inside BEGIN ... COMMIT on one pooled connection. fn returns 0 to commit or -1 to
 * roll back. Serialization failures and deadlocks are retried (fn must be re-runnable). */
typedef int (*sov_db_tx_fn)(sov_dbconn *c, void *arg, sov_error *err);
int sov_db_tx(sov_db *db, sov_db_tx_fn fn, void *arg, sov_error *err);
/* The same on a connection the caller already holds. */
int sov_db_tx_on(sov_dbconn *c, sov_db_tx_fn fn, void *arg, sov_error *err);
/* The same read-only, in one snapshot (REPEATABLE READ): what fn reads is consistent however
 * long it takes, while writers go on. */
int sov_db_tx_snapshot_on(sov_dbconn *c, sov_db_tx_fn fn, void *arg, sov_error *err);

/* What a LISTEN loop tells its owner. */
typedef enum sov_db_listen_event {
    SOV_DB_LISTEN_UP,       /* (re)connected and listening: what was cached may be stale */
    SOV_DB_LISTEN_NOTIFIED, /* one or more notifications arrived */
    SOV_DB_LISTEN_DOWN,     /* could not connect or LISTEN; tried again after retry_ms */
    SOV_DB_LISTEN_LOST,     /* the listening connection broke; reconnecting at once */
} sov_db_listen_event;

typedef struct sov_db_listener {
    const char *url;                /* a connection of its own, outside the pool */
    const char *application_name;   /* as pg_stat_activity shows it */
    const char *channel;            /* an identifier: "sov_auth" */
    unsigned retry_ms;              /* pause after a failed connect or LISTEN */
    const atomic_bool *stop;        /* the loop returns once true (looked at every 200 ms) */
    void (*on_event)(void *arg, sov_db_listen_event ev);
    void *arg;
} sov_db_listener;

/* The one LISTEN loop (token revocations, worker wake-ups): runs on the calling thread until
 * *l->stop, reconnecting as needed; events are delivered on that thread. */
void sov_db_listen(const sov_db_listener *l);

#endif
