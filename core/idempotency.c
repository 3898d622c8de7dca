/* idempotency.c: Idempotency-Key claims, answers and expiry, as rows of idempotency_keys.
 * The rule is the INSERT ... ON CONFLICT that claims a key: only one request wins it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/idempotency.h"
#include "sov/repo/db_pq.h"

static const char SQL_CLAIM[] =
    "INSERT INTO idempotency_keys (user_id, key, request_sha256) VALUES ($1, $2, $3) "
    "ON CONFLICT (user_id, key) DO NOTHING RETURNING 1";

/* An answer older than 24 hours, or a claim left pending for a minute, is taken over: the
 * key is free again. A pending claim that old was abandoned: its sovd died, or PostgreSQL
 * went away before the request could release it (no request holds a key longer than its
 * statements may take, and those are bounded by db_statement_timeout, 30 s by default). */
static const char SQL_TAKE_OVER[] =
    "UPDATE idempotency_keys SET request_sha256 = $3, status = NULL, location = '', "
    "body = '', created_at = now() WHERE user_id = $1 AND key = $2 AND "
    "(created_at < now() - interval '24 hours' OR "
    "(status IS NULL AND created_at < now() - interval '1 minute')) RETURNING 1";

static const char SQL_GET[] =
    "SELECT request_sha256, status, location, body FROM idempotency_keys "
    "WHERE user_id = $1 AND key = $2";

static const char SQL_FINISH[] =
    "UPDATE idempotency_keys SET status = $3, location = $4, body = $5 "
    "WHERE user_id = $1 AND key = $2";

static const char SQL_RELEASE[] =
    "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL";

static const char SQL_EXPIRE[] =
    "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'";

bool
sov_idem_key_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;

    if (n == 0 || n > SOV_IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e)
            return false;
    return true;
}

int
sov_idem_begin(sov_ctx *ctx, const char *key, const char *request_sha256, sov_idem *ret,
               sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { ctx->who->user_id, key, request_sha256 };
    static const char *const names[] = { "request_sha256", "status", "location", "body" };
    static unsigned calls;
    int col[4];

    memset(ret, 0, sizeof(*ret));
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    /* Now and then, forget answers older than a day. */
    if (__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) % 256 == 0) {
        sov_error ignored = SOV_ERROR_INIT;
        sov_db_query(c, SQL_EXPIRE, 0, NULL, NULL, &ignored);
    }
    if (sov_db_query(c, SQL_CLAIM, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 1)
        return 0;
    PQclear(SOV_TAKE_PTR(res));
    if (sov_db_query(c, SQL_TAKE_OVER, 3, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 1)
        return 0;
    PQclear(SOV_TAKE_PTR(res));
    if (sov_db_query(c, SQL_GET, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)    /* released in between: the caller may simply retry */
        return sov_error_set(err, SOV_E_CONFLICT,
                             "a request with this Idempotency-Key just finished; retry");
    if (sov_db_cols(res, names, col, 4, err) < 0)
        return -1;
    if (strcmp(PQgetvalue(res, 0, col[0]), request_sha256) != 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "this Idempotency-Key was used for a different request");
    if (PQgetisnull(res, 0, col[1]))
        return sov_error_set(err, SOV_E_CONFLICT,
                             "a request with this Idempotency-Key is still running");
    ret->state = SOV_IDEM_REPLAY;
    ret->status = atoi(PQgetvalue(res, 0, col[1]));
    sov_db_copy(ret->location, sizeof(ret->location), res, 0, col[2]);
    ret->body = strdup(PQgetvalue(res, 0, col[3]));
    if (!ret->body)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    return 0;
}

int
sov_idem_finish(sov_ctx *ctx, const char *key, int status, const char *location,
                const char *body, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    char st[16];
    const char *params[] = { ctx->who->user_id, key, st, location ? location : "",
                             body ? body : "" };

    snprintf(st, sizeof(st), "%d", status);
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_db_query(c, SQL_FINISH, 5, params, NULL, err);
}

int
sov_idem_record(sov_dbconn *c, const sov_ctx *ctx, sov_error *err)
{
    sov_idem_hook *h = ctx->idem;
    sov_autofree char *body = NULL;
    char location[512] = "", st[16];
    int status = 0;
    const char *params[] = { ctx->who->user_id, h->key, st, location, NULL };

    if (h->render(h->arg, &status, location, sizeof(location), &body) < 0 || !body)
        return sov_error_set(err, SOV_E_INTERNAL, "could not render the answer to store");
    snprintf(st, sizeof(st), "%d", status);
    params[4] = body;
    return sov_db_query(c, SQL_FINISH, 5, params, NULL, err);
}

int
sov_idem_release(sov_ctx *ctx, const char *key, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *params[] = { ctx->who->user_id, key };

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_db_query(c, SQL_RELEASE, 2, params, NULL, err);
}
