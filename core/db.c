/* db.c: the PostgreSQL connection pool.
 *
 * A fixed number of slots, each holding at most one PGconn. Connections open on first use
 * and reopen after PostgreSQL went away, so the pool needs no supervisor: the first request
 * after an outage pays for the reconnect, requests during it get SOV_E_UNAVAILABLE (503). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sov/buf.h"
#include "sov/ctx.h"
#include "sov/db.h"
#include "sov/log.h"
#include "sov/repo/db_pq.h"

/* Statements prepared on one session, by their text: PostgreSQL parses and plans each once
 * per session instead of once per call (for GET /v1/instances/{id}, parse and plan cost
 * ten times the execution). Bounded: a text past the last slot runs unprepared. */
enum { STMT_CACHE = 128 };

typedef struct {
    uint64_t hash;
    char *sql;
} sov_stmt;

struct sov_dbconn {
    sov_db *db;
    PGconn *conn;
    bool leased;
    char sqlstate[6];
    unsigned nstmts;
    sov_stmt stmts[STMT_CACHE];
};

struct sov_db {
    sov_db_options o;
    char *url;
    char *set_role;     /* "SET ROLE \"sovereign_app\"", or NULL */
    char connect_timeout[16];
    char options[64];
    pthread_mutex_t lock;
    pthread_cond_t freed;
    sov_dbconn *slots;
    unsigned in_use;
    unsigned long long acquired, waits, timeouts, reconnects, failures;
};

int
sov_db_new(const sov_db_options *opts, sov_db **ret, sov_error *err)
{
    sov_db *db = calloc(1, sizeof(*db));
    pthread_condattr_t ca;

    if (!db)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    db->o = *opts;
    if (db->o.pool_size == 0)
        db->o.pool_size = 1;
    db->url = strdup(opts->url ? opts->url : "");
    db->o.role = NULL;
    if (opts->role && *opts->role) {
        /* The identifier quoted the way PostgreSQL reads it: "" doubles a quote. */
        size_t n = strlen(opts->role);
        db->set_role = malloc(2 * n + 16);
        if (db->set_role) {
            char *p = db->set_role + sprintf(db->set_role, "SET ROLE \"");
            for (const char *r = opts->role; *r; r++) {
                if (*r == '"')
                    *p++ = '"';
                *p++ = *r;
            }
            strcpy(p, "\"");
        }
    }
    db->slots = calloc(db->o.pool_size, sizeof(*db->slots));
    if (!db->url || !db->slots) {
        sov_db_free(db);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    for (unsigned i = 0; i < db->o.pool_size; i++)
        db->slots[i].db = db;
    snprintf(db->connect_timeout, sizeof(db->connect_timeout), "%u",
             opts->connect_timeout ? opts->connect_timeout : 5);
    /* JIT pays off for long analytical queries, never for ours: compiling a plan cost more
     * than running it (bench/placement measured 9 ms of 15 at 10,000 hosts). */
    snprintf(db->options, sizeof(db->options), "-c statement_timeout=%u -c jit=off",
             opts->statement_timeout_ms);
    pthread_mutex_init(&db->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&db->freed, &ca);
    pthread_condattr_destroy(&ca);
    *ret = db;
    return 0;
}

/* The session is gone (closed or reset): so is everything prepared on it. */
static void
stmts_forget(sov_dbconn *c)
{
    for (unsigned i = 0; i < c->nstmts; i++)
        free(c->stmts[i].sql);
    c->nstmts = 0;
}

static void
conn_close(sov_dbconn *c)
{
    if (c->conn)
        PQfinish(c->conn);
    c->conn = NULL;
    stmts_forget(c);
}

static uint64_t
fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    return h;
}

/* Optional filters ("$1::uuid IS NULL OR tenant_id = $1") are planned for their values:
 * once a prepared statement goes generic, PostgreSQL can no longer drop the filters that do
 * not apply, and a page of 100 instances joined and sorted all 1,000 of them (7.3 ms, not
 * 0.9). Such statements run unprepared, with a plan made for each call. */
static bool
plan_per_call(const char *sql)
{
    return strstr(sql, "IS NULL OR") || strstr(sql, "IS NULL THEN");
}

/* Runs SQL as the statement prepared on this session for its text, preparing it on first
 * use; unprepared when the cache is full or when it must be planned per call. A failed
 * prepare answers its own result (the error is the statement's, as if it had run). */
static PGresult *
stmt_exec(sov_dbconn *c, const char *sql, int nparams, const char *const *params)
{
    char name[16];

    uint64_t h = fnv1a(sql);
    unsigned i;

    for (i = 0; i < c->nstmts; i++)
        if (c->stmts[i].hash == h && strcmp(c->stmts[i].sql, sql) == 0)
            break;
    if (i == c->nstmts) {
        char *copy = c->nstmts < STMT_CACHE && !plan_per_call(sql) ? strdup(sql) : NULL;
        if (!copy)
            return PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        snprintf(name, sizeof(name), "s%u", i);
        PGresult *r = PQprepare(c->conn, name, sql, nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            free(copy);
            return r;
        }
        PQclear(r);
        c->stmts[i] = (sov_stmt){ h, copy };
        c->nstmts++;
    }
    snprintf(name, sizeof(name), "s%u", i);
    return PQexecPrepared(c->conn, name, nparams, params, NULL, NULL, 0);
}

void
sov_db_free(sov_db *db)
{
    if (!db)
        return;
    if (db->slots) {
        for (unsigned i = 0; i < db->o.pool_size; i++)
            conn_close(&db->slots[i]);
        pthread_mutex_destroy(&db->lock);
        pthread_cond_destroy(&db->freed);
    }
    free(db->slots);
    free(db->url);
    free(db->set_role);
    free(db);
}

/* Server notices ("relation already exists, skipping") are not errors: debug lines. */
static void
on_notice(void *arg, const char *message)
{
    (void) arg;
    sov_log_debug("postgresql: %.*s", (int) strcspn(message, "\n"), message);
}

void
sov_db_quiet(PGconn *conn)
{
    if (conn)
        PQsetNoticeProcessor(conn, on_notice, NULL);
}

/* Ours come before dbname, so a setting in the configured URL wins over our default. */
static PGconn *
open_conn(sov_db *db)
{
    const char *keys[] = { "application_name", "connect_timeout", "options", "dbname", NULL };
    const char *values[] = { "sovd", db->connect_timeout, db->options, db->url, NULL };

    PGconn *conn = PQconnectdbParams(keys, values, 1);
    sov_db_quiet(conn);
    /* sovd's sessions act as the application role: what it may not do to history (change
     * residency records or audit entries), the database refuses. */
    if (conn && PQstatus(conn) == CONNECTION_OK && db->set_role) {
        PGresult *r = PQexec(conn, db->set_role);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            sov_log_error("could not %s: %s", db->set_role, PQerrorMessage(conn));
            PQclear(r);
            PQfinish(conn);
            return NULL;
        }
        PQclear(r);
    }
    return conn;
}

static void
slot_return(sov_dbconn *c)
{
    sov_db *db = c->db;

    pthread_mutex_lock(&db->lock);
    c->leased = false;
    db->in_use--;
    pthread_cond_signal(&db->freed);
    pthread_mutex_unlock(&db->lock);
}

int
sov_db_acquire(sov_db *db, sov_dbconn **ret, sov_error *err)
{
    struct timespec deadline;
    sov_dbconn *c = NULL;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += db->o.acquire_timeout_ms / 1000;
    deadline.tv_nsec += (long) (db->o.acquire_timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&db->lock);
    for (;;) {
        sov_dbconn *empty = NULL;
        for (unsigned i = 0; i < db->o.pool_size && !c; i++) {
            sov_dbconn *s = &db->slots[i];
            if (s->leased)
                continue;
            if (s->conn)
                c = s;              /* an open connection is cheapest */
            else if (!empty)
                empty = s;
        }
        if (!c)
            c = empty;
        if (c)
            break;
        db->waits++;
        if (pthread_cond_timedwait(&db->freed, &db->lock, &deadline) == ETIMEDOUT) {
            db->timeouts++;
            pthread_mutex_unlock(&db->lock);
            sov_error_set(err, SOV_E_UNAVAILABLE, "database is busy, try again");
            return sov_error_detail(err, "no pooled connection free within %u ms (pool of %u)",
                                    db->o.acquire_timeout_ms, db->o.pool_size);
        }
    }
    c->leased = true;
    db->in_use++;
    db->acquired++;
    pthread_mutex_unlock(&db->lock);

    c->sqlstate[0] = '\0';
    if (c->conn && PQstatus(c->conn) != CONNECTION_OK)
        conn_close(c);
    if (!c->conn) {
        c->conn = open_conn(db);
        if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
            sov_error_set(err, SOV_E_UNAVAILABLE, "database is unavailable");
            sov_error_detail(err, "could not connect to PostgreSQL: %s",
                             c->conn ? PQerrorMessage(c->conn) : "out of memory");
            if (c->conn)
                PQfinish(c->conn);
            c->conn = NULL;
            pthread_mutex_lock(&db->lock);
            db->failures++;
            pthread_mutex_unlock(&db->lock);
            slot_return(c);
            return -1;
        }
        pthread_mutex_lock(&db->lock);
        db->reconnects++;
        pthread_mutex_unlock(&db->lock);
    }
    *ret = c;
    return 0;
}

void
sov_db_release(sov_dbconn *c)
{
    if (!c)
        return;
    if (c->conn) {
        PGTransactionStatusType ts = PQtransactionStatus(c->conn);
        if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
            PGresult *r = PQexec(c->conn, "ROLLBACK");
            PQclear(r);
        } else if (ts != PQTRANS_IDLE) {
            /* Busy or broken: a fresh connection is safer than guessing its state. */
            conn_close(c);
        }
    }
    slot_return(c);
}

PGconn *
sov_db_conn(sov_dbconn *c)
{
    return c->conn;
}

void
sov_db_get_stats(sov_db *db, sov_db_stats *ret)
{
    pthread_mutex_lock(&db->lock);
    ret->size = db->o.pool_size;
    ret->in_use = db->in_use;
    ret->idle = 0;
    for (unsigned i = 0; i < db->o.pool_size; i++)
        if (!db->slots[i].leased && db->slots[i].conn)
            ret->idle++;
    ret->acquired = db->acquired;
    ret->waits = db->waits;
    ret->timeouts = db->timeouts;
    ret->reconnects = db->reconnects;
    ret->failures = db->failures;
    pthread_mutex_unlock(&db->lock);
}

static bool
sqlstate_is(const char *state, const char *prefix)
{
    return strncmp(state, prefix, strlen(prefix)) == 0;
}

int
sov_db_error(PGconn *conn, const PGresult *res, sov_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;

    if (!state) {
        /* No SQLSTATE: libpq itself failed, nearly always a lost connection. */
        sov_error_set(err, SOV_E_UNAVAILABLE, "database is unavailable");
        return sov_error_detail(err, "%s", conn ? PQerrorMessage(conn) : "no connection");
    }
    sov_error_detail(err, "SQLSTATE %s%s%s: %s", state, constraint ? " constraint " : "",
                     constraint ? constraint : "", primary ? primary : "");
    if (strcmp(state, "23505") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "conflicts with an existing resource");
    if (strcmp(state, "23503") == 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "refers to a resource that does not exist or is still in use");
    if (sqlstate_is(state, "22") || sqlstate_is(state, "23"))
        return sov_error_set(err, SOV_E_INVALID, "invalid value");
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "could not complete the change because of concurrent updates");
    if (sqlstate_is(state, "08") || sqlstate_is(state, "57") || sqlstate_is(state, "53"))
        return sov_error_set(err, SOV_E_UNAVAILABLE, "database is unavailable");
    return sov_error_set(err, SOV_E_INTERNAL, "database error");
}

int
sov_db_blockers(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
                const char *what, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char list[200];
    size_t len = 0;
    int n, shown, kind, id, name;

    if (sov_db_query(c, sql, nparams, params, &res, err) < 0)
        return -1;
    n = PQntuples(res);
    if (n == 0)
        return 0;
    kind = PQfnumber(res, "kind");
    id = PQfnumber(res, "id");
    name = PQfnumber(res, "name");
    if (kind < 0 || id < 0 || name < 0)
        return sov_error_set(err, SOV_E_INTERNAL, "blocker query lacks kind, id or name");
    shown = n < SOV_ERROR_MAX_BLOCKERS ? n : SOV_ERROR_MAX_BLOCKERS;
    list[0] = '\0';
    for (int i = 0; i < shown && i < 3 && len < sizeof(list); i++) {
        int w = snprintf(list + len, sizeof(list) - len, "%s%s '%s'", i ? ", " : "",
                         PQgetvalue(res, i, kind), PQgetvalue(res, i, name));
        if (w > 0)
            len += (size_t) w;
    }
    sov_error_set(err, SOV_E_CONFLICT, "%s is still used by %s%s; delete %s first", what, list,
                  n > 3 ? " and more" : "", n == 1 ? "it" : "them");
    for (int i = 0; i < shown; i++)
        sov_error_block(err, PQgetvalue(res, i, kind), PQgetvalue(res, i, id),
                        PQgetvalue(res, i, name));
    return -1;
}

const char *
sov_db_last_sqlstate(sov_dbconn *c)
{
    return c->sqlstate;
}

static void
note_sqlstate(sov_dbconn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
}

/* A reset session starts over: it must take the application role again. A session that
 * cannot is closed (the next acquire opens a fresh one, or reports why not). */
static bool
reapply_role(sov_dbconn *c)
{
    PGresult *r;
    bool ok;

    if (!c->db->set_role)
        return true;
    r = PQexec(c->conn, c->db->set_role);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
}

int
sov_db_query(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
             PGresult **ret, sov_error *err)
{
    bool idle = PQtransactionStatus(c->conn) == PQTRANS_IDLE;
    sov_autoptr(PGresult) res = NULL;
    ExecStatusType st;

    c->sqlstate[0] = '\0';
    for (int attempt = 0;; attempt++) {
        res = stmt_exec(c, sql, nparams, params);
        st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            if (ret)
                *ret = SOV_TAKE_PTR(res);
            return 0;
        }
        /* A connection that died while idle in the pool (PostgreSQL restarted): nothing
         * of ours ran on it, so reopening and running the statement again is safe. */
        if (attempt == 0 && idle && PQstatus(c->conn) == CONNECTION_BAD) {
            PQclear(SOV_TAKE_PTR(res));
            PQreset(c->conn);
            stmts_forget(c);
            if (PQstatus(c->conn) == CONNECTION_OK && reapply_role(c)) {
                pthread_mutex_lock(&c->db->lock);
                c->db->reconnects++;
                pthread_mutex_unlock(&c->db->lock);
                continue;
            }
        }
        break;
    }
    note_sqlstate(c, res);
    return sov_db_error(c->conn, res, err);
}

static bool
retryable(const char *state)
{
    return strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0;
}

static int
tx_run(sov_dbconn *c, const char *begin, sov_db_tx_fn fn, void *arg, sov_error *err)
{
    enum { ATTEMPTS = 5 };

    for (int attempt = 1;; attempt++) {
        if (sov_db_query(c, begin, 0, NULL, NULL, err) < 0)
            return -1;
        if (fn(c, arg, err) == 0 && sov_db_query(c, "COMMIT", 0, NULL, NULL, err) == 0)
            return 0;
        if (PQstatus(c->conn) == CONNECTION_OK &&
            PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
            PGresult *r = PQexec(c->conn, "ROLLBACK");
            PQclear(r);
        }
        if (attempt >= ATTEMPTS || !retryable(c->sqlstate))
            return -1;
        sov_log_debug("transaction hit SQLSTATE %s, retrying (attempt %d)", c->sqlstate,
                      attempt + 1);
        sov_error_clear(err);
        /* Back off a little, more each time, so colliding transactions spread out. */
        struct timespec ts = { 0, (long) attempt * 2000000L };
        nanosleep(&ts, NULL);
    }
}

int
sov_db_tx_on(sov_dbconn *c, sov_db_tx_fn fn, void *arg, sov_error *err)
{
    return tx_run(c, "BEGIN", fn, arg, err);
}

int
sov_db_tx_snapshot_on(sov_dbconn *c, sov_db_tx_fn fn, void *arg, sov_error *err)
{
    return tx_run(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn, arg, err);
}

int
sov_db_tx(sov_db *db, sov_db_tx_fn fn, void *arg, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(db, &c, err) < 0)
        return -1;
    return sov_db_tx_on(c, fn, arg, err);
}

void
sov_db_copy(char *dst, size_t size, const PGresult *res, int row, int col)
{
    if (size == 0)
        return;
    if (PQgetisnull(res, row, col)) {
        dst[0] = '\0';
        return;
    }
    snprintf(dst, size, "%s", PQgetvalue(res, row, col));
}

int
sov_db_cols(const PGresult *res, const char *const *names, int *idx, size_t n, sov_error *err)
{
    int next = 0, nfields = PQnfields(res);

    for (size_t k = 0; k < n; k++) {
        /* Names are mostly asked for in the order of the SELECT list: look right after the
         * last one found first, so a row map of 31 columns costs 31 comparisons, not 500. */
        if (next < nfields && strcmp(PQfname(res, next), names[k]) == 0)
            idx[k] = next;
        else
            idx[k] = PQfnumber(res, names[k]);
        if (idx[k] < 0)
            return sov_error_set(err, SOV_E_INTERNAL, "result has no column '%s'", names[k]);
        next = idx[k] + 1;
    }
    return 0;
}

static int
rowmap_cols(const PGresult *res, const sov_db_rowmap *map, int *col, sov_error *err)
{
    if (map->ncols > SOV_DB_MAX_COLS)
        return sov_error_set(err, SOV_E_INTERNAL, "row map of %zu columns", map->ncols);
    return sov_db_cols(res, map->names, col, map->ncols, err);
}

static const char *const id_cols[] = { "id" };

static void
fill_id(const PGresult *r, int i, const int *col, void *out)
{
    sov_db_copy(out, SOV_UUID_LEN + 1, r, i, col[0]);
}

const sov_db_rowmap sov_db_row_id = { id_cols, 1, fill_id };

int
sov_db_fill(const PGresult *res, int row, const sov_db_rowmap *map, void *out, sov_error *err)
{
    int col[SOV_DB_MAX_COLS];

    if (rowmap_cols(res, map, col, err) < 0)
        return -1;
    map->fill(res, row, col, out);
    return 0;
}

int
sov_db_one(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
           const sov_db_rowmap *map, void *out, const char *what, const char *key,
           sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, sql, nparams, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "%s '%s' does not exist", what, key);
    return sov_db_fill(res, 0, map, out, err);
}

int
sov_db_set_state(sov_dbconn *c, const char *sql, const char *what, const char *id,
                 const char *const *from, const char *state, const char *reason,
                 const char *op_id, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    sov_buf list = SOV_BUF_INIT;
    size_t n = 0;
    int rc;

    while (from && from[n])
        n++;
    if (from)
        sov_buf_pg_array(&list, from, n);
    if (list.oom)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    {
        const char *params[] = { id, state, reason, op_id ? op_id : "",
                                 from ? list.data : NULL };
        rc = sov_db_query(c, sql, 5, params, &res, err);
    }
    sov_buf_release(&list);
    if (rc < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "%s '%s' is no longer in a state that "
                             "allows %s", what, id, state);
    return 0;
}

/* Every row of res into a new array of item_size items, by map. */
static int
fill_all(const PGresult *res, const sov_db_rowmap *map, size_t item_size, void **items,
         size_t *count, sov_error *err)
{
    int col[SOV_DB_MAX_COLS];
    char *arr;

    if (rowmap_cols(res, map, col, err) < 0)
        return -1;
    arr = calloc((size_t) PQntuples(res) + 1, item_size);
    if (!arr)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (int i = 0; i < PQntuples(res); i++)
        map->fill(res, i, col, arr + (size_t) i * item_size);
    *items = arr;
    *count = (size_t) PQntuples(res);
    return 0;
}

int
sov_db_all(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
           size_t item_size, const sov_db_rowmap *map, void **items, size_t *count,
           sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;

    if (sov_db_query(c, sql, nparams, params, &res, err) < 0)
        return -1;
    return fill_all(res, map, item_size, items, count, err);
}

int
sov_db_page(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
            size_t item_size, const sov_db_rowmap *map, unsigned limit, const char *key_col,
            void **items, size_t *count, char *next, size_t next_size, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    int key = -1;

    if (sov_db_query(c, sql, nparams, params, &res, err) < 0 ||
        sov_db_cols(res, &key_col, &key, 1, err) < 0 ||
        fill_all(res, map, item_size, items, count, err) < 0)
        return -1;
    next[0] = '\0';
    if (limit > 0 && (unsigned) PQntuples(res) == limit)
        sov_db_copy(next, next_size, res, PQntuples(res) - 1, key);
    return 0;
}

size_t
sov_db_split(const char *s, char *slots, size_t nslots, size_t stride)
{
    size_t n = 0;

    while (s && *s && n < nslots) {
        size_t len = strcspn(s, ",");
        snprintf(slots + n * stride, stride, "%.*s", (int) len, s);
        n++;
        s += len;
        if (*s == ',')
            s++;
    }
    return n;
}

/* ---- LISTEN ---- */

static PGconn *
listen_connect(const sov_db_listener *l)
{
    const char *keys[] = { "application_name", "connect_timeout", "dbname", NULL };
    const char *values[] = { l->application_name, "5", l->url, NULL };
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    PGresult *r = NULL;
    char *ident = NULL, sql[128];

    sov_db_quiet(conn);
    /* LISTEN takes no parameters: the channel goes in as a quoted identifier. */
    if (PQstatus(conn) == CONNECTION_OK &&
        (ident = PQescapeIdentifier(conn, l->channel, strlen(l->channel))) &&
        (size_t) snprintf(sql, sizeof(sql), "LISTEN %s", ident) < sizeof(sql))
        r = PQexec(conn, sql);
    PQfreemem(ident);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        PQclear(r);
        PQfinish(conn);
        return NULL;
    }
    PQclear(r);
    return conn;
}

void
sov_db_listen(const sov_db_listener *l)
{
    PGconn *conn = NULL;

    while (!atomic_load(l->stop)) {
        if (!conn) {
            conn = listen_connect(l);
            if (!conn) {
                struct timespec ts = { l->retry_ms / 1000,
                                       (long) (l->retry_ms % 1000) * 1000000L };
                l->on_event(l->arg, SOV_DB_LISTEN_DOWN);
                nanosleep(&ts, NULL);
                continue;
            }
            l->on_event(l->arg, SOV_DB_LISTEN_UP);
        }
        struct pollfd p = { .fd = PQsocket(conn), .events = POLLIN };
        int rc = poll(&p, 1, 200);
        if (rc > 0 && PQconsumeInput(conn) == 0)
            rc = -1;
        if (rc >= 0 && PQstatus(conn) == CONNECTION_OK) {
            PGnotify *n;
            bool any = false;
            while ((n = PQnotifies(conn))) {
                any = true;
                PQfreemem(n);
            }
            if (any)
                l->on_event(l->arg, SOV_DB_LISTEN_NOTIFIED);
            continue;
        }
        PQfinish(conn);
        conn = NULL;
        l->on_event(l->arg, SOV_DB_LISTEN_LOST);
    }
    if (conn)
        PQfinish(conn);
}
