/* db.h: a pool of libpq connections, parameterized queries and transactions.
 *
 * Every query goes through sov_db_query() with $n parameters: no SQL text is ever built from
 * input. A lost connection is reported as SOV_E_UNAVAILABLE (the API answers 503) and is
 * reopened on next use, so sovd recovers by itself when PostgreSQL comes back.
 *
 * This is the part without libpq's types, which api/ and services see (through ctx.h): the
 * pool, transactions, LISTEN. Queries and their results (PGresult, sov_db_query, row mappers)
 * are in sov/repo/db_pq.h, for *_repo.c and core/ only. */
#ifndef SOV_DB_H
#define SOV_DB_H

#include <stdatomic.h>
#include <stdbool.h>

#include "sov/cleanup.h"
#include "sov/error.h"

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

void sov_db_get_stats(sov_db *db, sov_db_stats *ret);

/* Split "a,b,c" (array_to_string of a text[]) into fixed slots of stride bytes; returns how
 * many were filled (at most nslots). */
size_t sov_db_split(const char *s, char *slots, size_t nslots, size_t stride);

/* The live resources that keep `what` (e.g. "flavor 'small'") from being deleted: sql returns
 * columns kind, id and name, at most SOV_ERROR_MAX_BLOCKERS + 1 rows, live rows only (a
 * soft-deleted row never blocks). None: 0. Some: SOV_E_CONFLICT naming them, with
 * err->blocked_by filled (the API's blocked_by), and -1. */
int sov_db_blockers(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
                    const char *what, sov_error *err);

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
