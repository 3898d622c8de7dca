/* audit.c: the audit log as a SHA-256 hash chain in PostgreSQL.
 *
 * Appending locks the single audit_head row (UPDATE ... RETURNING), so appends are serial and
 * the chain never forks; the lock is held to the end of the caller's transaction, so an entry
 * commits or rolls back with the change it records. Verification recomputes every hash. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/crypto.h"
#include "sov/repo/db_pq.h"

#define TS_US(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static const char SQL_HEAD_ADVANCE[] =
    "UPDATE audit_head SET seq = seq + 1 RETURNING seq, hash, " TS_US("clock_timestamp()")
    " AS at";

static const char SQL_APPEND[] =
    "WITH entry AS ("
    " INSERT INTO audit_log (seq, at, request_id, tenant_id, user_id, token_id, role, action,"
    "  resource_type, resource_id, outcome, source, prev_hash, hash)"
    " VALUES ($1, $2::timestamptz, $3, NULLIF($4, '')::uuid, NULLIF($5, '')::uuid,"
    "  NULLIF($6, '')::uuid, $7, $8, $9, $10, $11, $12, $13, $14))"
    " UPDATE audit_head SET hash = $14";

#define ENTRY_COLUMNS                                                                   \
    "seq, " TS_US("at") " AS at, request_id, coalesce(tenant_id::text, '') AS tenant_id,"\
    " coalesce(user_id::text, '') AS user_id, coalesce(token_id::text, '') AS token_id,"\
    " role, action,"                                                                   \
    " resource_type, resource_id, outcome, source, prev_hash, hash"

static const char SQL_LIST[] =
    "SELECT " ENTRY_COLUMNS " FROM audit_log"
    " WHERE seq > $1"
    " AND ($2::uuid IS NULL OR tenant_id = $2::uuid)"
    " AND ($3::uuid IS NULL OR user_id = $3::uuid)"
    " AND ($4::text IS NULL OR action = $4)"
    " AND ($5::text IS NULL OR resource_type = $5)"
    " AND ($6::text IS NULL OR resource_id = $6)"
    " AND ($7::timestamptz IS NULL OR at >= $7::timestamptz)"
    " AND ($8::timestamptz IS NULL OR at < $8::timestamptz)"
    " ORDER BY seq LIMIT $9";

static const char SQL_PAGE[] =
    "SELECT " ENTRY_COLUMNS " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000";

static const char SQL_HEAD[] = "SELECT seq, hash FROM audit_head";

static void
put_field(char *buf, size_t size, size_t *n, const char *name, const char *value)
{
    int w = snprintf(buf + (*n < size ? *n : size), *n < size ? size - *n : 0, "%s=%zu:%s\n",
                     name, strlen(value), value);
    if (w > 0)
        *n += (size_t) w;
}

size_t
sov_audit_canonical(const sov_audit_entry *e, char *buf, size_t size)
{
    char seq[32], outcome[16];
    size_t n = 0;

    /* Length-prefixed fields in a fixed order: no two entries share a text. */
    snprintf(seq, sizeof(seq), "%lld", e->seq);
    snprintf(outcome, sizeof(outcome), "%d", e->outcome);
    put_field(buf, size, &n, "v", "1");
    put_field(buf, size, &n, "seq", seq);
    put_field(buf, size, &n, "at", e->at);
    put_field(buf, size, &n, "request_id", e->request_id);
    put_field(buf, size, &n, "tenant_id", e->tenant_id);
    put_field(buf, size, &n, "user_id", e->user_id);
    put_field(buf, size, &n, "token_id", e->token_id);
    put_field(buf, size, &n, "role", e->role);
    put_field(buf, size, &n, "action", e->action);
    put_field(buf, size, &n, "resource_type", e->resource_type);
    put_field(buf, size, &n, "resource_id", e->resource_id);
    put_field(buf, size, &n, "outcome", outcome);
    put_field(buf, size, &n, "source", e->source);
    put_field(buf, size, &n, "prev_hash", e->prev_hash);
    return n;
}

static void
entry_hash(const sov_audit_entry *e, char out[65])
{
    char buf[2048];
    size_t n = sov_audit_canonical(e, buf, sizeof(buf));

    sov_sha256_hex(buf, n < sizeof(buf) ? n : sizeof(buf) - 1, out);
}

/* The one place an outcome becomes the number stored (the status its request answers). */
static const int outcome_codes[SOV_OUTCOME__COUNT] = {
    [SOV_OUTCOME_OK] = 200,
    [SOV_OUTCOME_CREATED] = 201,
    [SOV_OUTCOME_ACCEPTED] = 202,
    [SOV_OUTCOME_DELETED] = 204,
    [SOV_OUTCOME_SWITCHED] = 101,
};

int
sov_audit_outcome_code(sov_outcome outcome)
{
    if ((unsigned) outcome >= SOV_OUTCOME__COUNT)
        return 500;     /* a bug if reached */
    return outcome_codes[outcome];
}

static int
append(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *resource_type,
       const char *resource_id, int outcome, sov_error *err)
{
    sov_audit_entry e;
    sov_autoptr(PGresult) head = NULL;
    char seq[32], out[16];
    const sov_principal *who = ctx->who;
    static const char *const names[] = { "seq", "hash", "at" };
    int col[3];

    memset(&e, 0, sizeof(e));
    if (sov_db_query(c, SQL_HEAD_ADVANCE, 0, NULL, &head, err) < 0 ||
        sov_db_cols(head, names, col, 3, err) < 0)
        return -1;
    e.seq = strtoll(PQgetvalue(head, 0, col[0]), NULL, 10);
    sov_db_copy(e.prev_hash, sizeof(e.prev_hash), head, 0, col[1]);
    sov_db_copy(e.at, sizeof(e.at), head, 0, col[2]);
    snprintf(e.request_id, sizeof(e.request_id), "%s", ctx->request_id ? ctx->request_id : "");
    snprintf(e.tenant_id, sizeof(e.tenant_id), "%s",
             tenant_id ? tenant_id : who ? who->tenant_id : "");
    if (who) {
        snprintf(e.user_id, sizeof(e.user_id), "%s", who->user_id);
        snprintf(e.token_id, sizeof(e.token_id), "%s", who->token_id);
        snprintf(e.role, sizeof(e.role), "%s", sov_role_name(who->role) ?: "");
    } else {
        /* No principal: a request that failed to authenticate, or sovd itself. */
        snprintf(e.role, sizeof(e.role), "%s",
                 ctx->source && *ctx->source ? "anonymous" : "system");
    }
    snprintf(e.action, sizeof(e.action), "%s", ctx->action ? ctx->action : "");
    snprintf(e.resource_type, sizeof(e.resource_type), "%s", resource_type ?: "");
    snprintf(e.resource_id, sizeof(e.resource_id), "%s", resource_id ?: "");
    e.outcome = outcome;
    snprintf(e.source, sizeof(e.source), "%s", ctx->source ? ctx->source : "");
    entry_hash(&e, e.hash);

    snprintf(seq, sizeof(seq), "%lld", e.seq);
    snprintf(out, sizeof(out), "%d", e.outcome);
    const char *params[] = { seq, e.at, e.request_id, e.tenant_id, e.user_id, e.token_id,
                             e.role, e.action, e.resource_type, e.resource_id, out, e.source,
                             e.prev_hash, e.hash };
    if (sov_db_query(c, SQL_APPEND, 14, params, NULL, err) < 0)
        return -1;
    ctx->audit_in_tx = true;
    return 0;
}

int
sov_audit_append(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                 const char *resource_type, const char *resource_id, sov_outcome outcome,
                 sov_error *err)
{
    return append(c, ctx, tenant_id, resource_type, resource_id,
                  sov_audit_outcome_code(outcome), err);
}

typedef struct alone {
    sov_ctx *ctx;
    const char *tenant_id, *rtype, *rid;
    int outcome;
} alone;

static int
append_alone(sov_dbconn *c, void *arg, sov_error *err)
{
    alone *a = arg;
    return append(c, a->ctx, a->tenant_id, a->rtype, a->rid, a->outcome, err);
}

int
sov_audit_append_alone(sov_ctx *ctx, const char *tenant_id, const char *resource_type,
                       const char *resource_id, sov_outcome outcome, sov_error *err)
{
    alone a = { ctx, tenant_id, resource_type, resource_id, sov_audit_outcome_code(outcome) };
    return sov_ctx_tx(ctx, append_alone, &a, err);
}

int
sov_audit_append_refusal(sov_ctx *ctx, const char *tenant_id, const char *resource_type,
                         const char *resource_id, unsigned status, sov_error *err)
{
    alone a = { ctx, tenant_id, resource_type, resource_id, (int) status };
    return sov_ctx_tx(ctx, append_alone, &a, err);
}

enum {
    A_SEQ, A_AT, A_REQUEST_ID, A_TENANT_ID, A_USER_ID, A_TOKEN_ID, A_ROLE, A_ACTION,
    A_RESOURCE_TYPE, A_RESOURCE_ID, A_OUTCOME, A_SOURCE, A_PREV_HASH, A_HASH, A__N,
};
static const char *const entry_cols[A__N] = {
    [A_SEQ] = "seq", [A_AT] = "at", [A_REQUEST_ID] = "request_id", [A_TENANT_ID] = "tenant_id",
    [A_USER_ID] = "user_id", [A_TOKEN_ID] = "token_id", [A_ROLE] = "role",
    [A_ACTION] = "action", [A_RESOURCE_TYPE] = "resource_type", [A_RESOURCE_ID] = "resource_id",
    [A_OUTCOME] = "outcome", [A_SOURCE] = "source", [A_PREV_HASH] = "prev_hash",
    [A_HASH] = "hash",
};

static void
row_to_entry(const PGresult *res, int row, const int *col, sov_audit_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->seq = strtoll(PQgetvalue(res, row, col[A_SEQ]), NULL, 10);
    sov_db_copy(e->at, sizeof(e->at), res, row, col[A_AT]);
    sov_db_copy(e->request_id, sizeof(e->request_id), res, row, col[A_REQUEST_ID]);
    sov_db_copy(e->tenant_id, sizeof(e->tenant_id), res, row, col[A_TENANT_ID]);
    sov_db_copy(e->user_id, sizeof(e->user_id), res, row, col[A_USER_ID]);
    sov_db_copy(e->token_id, sizeof(e->token_id), res, row, col[A_TOKEN_ID]);
    sov_db_copy(e->role, sizeof(e->role), res, row, col[A_ROLE]);
    sov_db_copy(e->action, sizeof(e->action), res, row, col[A_ACTION]);
    sov_db_copy(e->resource_type, sizeof(e->resource_type), res, row, col[A_RESOURCE_TYPE]);
    sov_db_copy(e->resource_id, sizeof(e->resource_id), res, row, col[A_RESOURCE_ID]);
    e->outcome = atoi(PQgetvalue(res, row, col[A_OUTCOME]));
    sov_db_copy(e->source, sizeof(e->source), res, row, col[A_SOURCE]);
    sov_db_copy(e->prev_hash, sizeof(e->prev_hash), res, row, col[A_PREV_HASH]);
    sov_db_copy(e->hash, sizeof(e->hash), res, row, col[A_HASH]);
}

const char *
sov_audit_scope(const sov_ctx *ctx)
{
    if (!ctx->who || sov_ctx_is_operator(ctx) ||
        (ctx->who->role == SOV_ROLE_AUDITOR && ctx->who->operator_tenant))
        return NULL;
    return ctx->who->tenant_id;
}

int
sov_audit_list(sov_ctx *ctx, const sov_audit_filter *f, sov_audit_entry **ret, size_t *ret_n,
               sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    char after[32], limit[16];
    sov_audit_entry *items;
    int col[A__N];

    snprintf(after, sizeof(after), "%lld", f->after);
    snprintf(limit, sizeof(limit), "%u", f->limit);
    const char *params[] = { after, f->tenant_id, f->user_id, f->action, f->resource_type,
                             f->resource_id, f->since, f->until, limit };
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_db_query(c, SQL_LIST, 9, params, &res, err) < 0 ||
        sov_db_cols(res, entry_cols, col, A__N, err) < 0)
        return -1;
    items = calloc((size_t) PQntuples(res) + 1, sizeof(*items));
    if (!items)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (int i = 0; i < PQntuples(res); i++)
        row_to_entry(res, i, col, &items[i]);
    *ret = items;
    *ret_n = (size_t) PQntuples(res);
    return 0;
}

static void __attribute__((format(printf, 3, 4)))
broken(sov_audit_verdict *v, long long seq, const char *fmt, ...)
{
    va_list ap;

    v->ok = false;
    v->broken_seq = seq;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
    va_end(ap);
}

static int
verify_on(sov_dbconn *c, const char *scope, sov_audit_verdict *v, sov_error *err)
{
    char last_hash[65];
    long long last = 0;

    memset(v, 0, sizeof(*v));
    v->ok = true;
    snprintf(last_hash, sizeof(last_hash), "%064d", 0);
    for (;;) {
        sov_autoptr(PGresult) res = NULL;
        char after[32];
        const char *params[] = { after };
        int col[A__N];

        snprintf(after, sizeof(after), "%lld", last);
        if (sov_db_query(c, SQL_PAGE, 1, params, &res, err) < 0 ||
            sov_db_cols(res, entry_cols, col, A__N, err) < 0)
            return -1;
        for (int i = 0; i < PQntuples(res); i++) {
            sov_audit_entry e;
            char want[65];

            row_to_entry(res, i, col, &e);
            if (e.seq != last + 1) {
                broken(v, last + 1, "entry %lld is missing (deleted?)", last + 1);
                return 0;
            }
            if (strcmp(e.prev_hash, last_hash) != 0) {
                broken(v, e.seq, "entry %lld does not link to the entry before it", e.seq);
                return 0;
            }
            entry_hash(&e, want);
            if (strcmp(want, e.hash) != 0) {
                broken(v, e.seq, "entry %lld does not match its hash (edited?)", e.seq);
                return 0;
            }
            last = e.seq;
            memcpy(last_hash, e.hash, sizeof(last_hash));
            if (!scope || strcmp(e.tenant_id, scope) == 0)
                v->entries++;
        }
        if (PQntuples(res) < 1000)
            break;
    }

    sov_autoptr(PGresult) head = NULL;
    static const char *const head_cols[] = { "seq", "hash" };
    int hcol[2];
    if (sov_db_query(c, SQL_HEAD, 0, NULL, &head, err) < 0 ||
        sov_db_cols(head, head_cols, hcol, 2, err) < 0)
        return -1;
    long long head_seq = strtoll(PQgetvalue(head, 0, hcol[0]), NULL, 10);
    if (head_seq != last) {
        broken(v, last + 1, "entries from %lld on are missing (deleted at the end?)", last + 1);
        return 0;
    }
    if (strcmp(PQgetvalue(head, 0, hcol[1]), last_hash) != 0)
        broken(v, last, "entry %lld does not match the chain head", last);
    return 0;
}

typedef struct verify_args {
    const char *scope;
    sov_audit_verdict *ret;
} verify_args;

static int
verify_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    verify_args *a = arg;
    return verify_on(c, a->scope, a->ret, err);
}

int
sov_audit_verify(sov_ctx *ctx, sov_audit_verdict *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    verify_args a = { sov_audit_scope(ctx), ret };

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    /* One snapshot for the walk and the head, while appends go on. */
    return sov_db_tx_snapshot_on(c, verify_tx, &a, err);
}
