/* repo/db_pq.h: queries and their libpq results, for *_repo.c and core/ only; api/ never
 * includes it, and no header directly in include/sov/ does.
 *
 * include/sov/repo/ holds the headers that name libpq's types (PGconn, PGresult): what a
 * repository needs to run SQL and read its rows. Everything else reaches the database through
 * a repository or through the libpq-free part in sov/db.h (pool, transactions, LISTEN). */
#ifndef SOV_REPO_DB_PQ_H
#define SOV_REPO_DB_PQ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sov/cleanup.h"
#include "sov/db.h"
#include "sov/error.h"

SOV_DEFINE_AUTOPTR(PGresult, PQclear)

/* SQL text rendering a timestamptz column as RFC 3339 UTC with seconds: TS("created_at"). */
#define SOV_SQL_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Copy a result value into a fixed buffer (truncating); "" for NULL. */
void sov_db_copy(char *dst, size_t size, const PGresult *res, int row, int col);

PGconn *sov_db_conn(sov_dbconn *c);
/* Route a connection's server notices to the debug log instead of stderr. */
void sov_db_quiet(PGconn *conn);

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

/* A result's "id" column into a char[SOV_UUID_LEN + 1]: the map of every by-name lookup. */
extern const sov_db_rowmap sov_db_row_id;

/* Fill out from row `row` of res by map, looking its columns up first (for a result read
 * once; a loop over rows looks them up once with sov_db_cols and calls map->fill). */
int sov_db_fill(const PGresult *res, int row, const sov_db_rowmap *map, void *out,
                sov_error *err);

/* A fill's readers of a column of row i: a whole number (0 when NULL), a boolean ('t'). */
static inline long long
sov_db_num(const PGresult *res, int i, int col)
{
    return strtoll(PQgetvalue(res, i, col), NULL, 10);
}

static inline bool
sov_db_flag(const PGresult *res, int i, int col)
{
    return PQgetvalue(res, i, col)[0] == 't';
}

/* Run a query expected to return one row, mapped by map into out; no row is SOV_E_NOT_FOUND
 * "<what> '<key>' does not exist". */
int sov_db_one(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
               const sov_db_rowmap *map, void *out, const char *what, const char *key,
               sov_error *err);

/* Run a query into a new array of all its rows (*items, to free(), *count rows of
 * item_size, one zeroed item past the end), each mapped by map. */
int sov_db_all(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
               size_t item_size, const sov_db_rowmap *map, void **items, size_t *count,
               sov_error *err);

/* Run a list query into a new array (*items, to free(), *count rows of item_size), each
 * mapped by map. When the page is full (limit rows), next gets column key_col (a name) of the
 * last row: the keyset cursor of the next page; else "". */
int sov_db_page(sov_dbconn *c, const char *sql, int nparams, const char *const *params,
                size_t item_size, const sov_db_rowmap *map, unsigned limit,
                const char *key_col, void **items, size_t *count, char *next,
                size_t next_size, sov_error *err);

/* Run a state change of one row: sql's parameters are $1 id, $2 state, $3 reason, $4 the
 * operation's id ("" for NULL), $5 the states it may leave (a text[]; NULL: any, from NULL)
 * and it returns the row when it changed. No row: SOV_E_CONFLICT "<what> '<id>' is no
 * longer in a state that allows <state>". */
int sov_db_set_state(sov_dbconn *c, const char *sql, const char *what, const char *id,
                     const char *const *from, const char *state, const char *reason,
                     const char *op_id, sov_error *err);

/* Map a failed result (or a dead connection when res is NULL) to a sov_error:
 * unique/foreign-key violations -> CONFLICT, data exceptions -> INVALID, connection loss,
 * shutdown and timeouts -> UNAVAILABLE, the rest -> INTERNAL. SQLSTATE and the server's
 * message go to err->detail. Returns -1. */
int sov_db_error(PGconn *conn, const PGresult *res, sov_error *err);

#endif
