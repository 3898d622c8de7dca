/* ops.c: the operations queue and its workers.
 *
 * The queue is the operations table. A worker claims the oldest ready operation with
 * FOR UPDATE SKIP LOCKED and a lease (locked_until); every step renews the lease for that
 * step's time limit. A lease that runs out means the worker died (kill -9) or the step hung:
 * the next claim takes the operation over, runs it again while attempts remain, and fails it
 * once they are spent. Every write of a worker is fenced by (locked_by, attempts), so a
 * worker that lost its operation cannot overwrite what the next one does. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sov/audit.h"
#include "sov/buf.h"
#include "sov/crypto.h"
#include "sov/identity.h"
#include "sov/log.h"
#include "sov/ops.h"
#include "sov/repo/db_pq.h"

#define TS SOV_SQL_TS
#define OP_COLS                                                                          \
    "o.id, o.tenant_id, o.kind, o.resource_type, o.resource_id, o.state, o.progress,"    \
    " o.step, o.error, o.error_code, o.attempts, o.max_attempts, o.arg, o.request_id, "   \
    TS("o.created_at") " AS created_at, coalesce(" TS("o.started_at") ", '') AS started_at,"\
    " coalesce(" TS("o.finished_at") ", '') AS finished_at, " TS("o.updated_at")           \
    " AS updated_at, coalesce(o.parent_id::text, '') AS parent_id"

static const char SQL_ENQUEUE[] =
    "INSERT INTO operations AS o (tenant_id, kind, resource_type, resource_id, arg,"
    " request_id, created_by, parent_id) VALUES ($1, $2, $3, $4, $5, $6,"
    " NULLIF($7, '')::uuid, NULLIF($8, '')::uuid) RETURNING " OP_COLS;

/* An evacuation's children: oldest first, any tenant's (the caller is a service). */
static const char SQL_CHILDREN[] =
    "SELECT " OP_COLS " FROM operations o WHERE o.parent_id = $1::uuid"
    " ORDER BY o.created_at, o.id";

/* The children the caller sees of an operation it sees, oldest first, at most $3, and how
 * many there are in all. */
static const char SQL_CHILDREN_SEEN[] =
    "SELECT " OP_COLS ", count(*) OVER () AS total FROM operations o"
    " WHERE o.parent_id = $1::uuid AND ($2::uuid IS NULL OR o.tenant_id = $2::uuid)"
    " ORDER BY o.created_at, o.id LIMIT $3";

static const char SQL_RESULT_GET[] =
    "SELECT coalesce(o.result::text, '') AS result FROM operations o WHERE o.id = $1"
    " AND o.tenant_id IS NOT DISTINCT FROM coalesce($2::uuid, o.tenant_id)";

/* Fenced as every write of a worker is: a worker that lost its operation writes nothing. */
static const char SQL_RESULT_SET[] =
    "UPDATE operations SET result = $4::jsonb, updated_at = now()"
    " WHERE id = $1 AND locked_by = $2 AND attempts = $3::int RETURNING 1";

static const char SQL_GET[] =
    "SELECT " OP_COLS " FROM operations o WHERE o.id = $1"
    " AND o.tenant_id IS NOT DISTINCT FROM coalesce($2::uuid, o.tenant_id)";

/* Newest first: by creation time, the id breaking ties (operations made in one transaction
 * share it). The cursor is the last id of a page; the page after it starts below its
 * (created_at, id), looked up, so a cursor stays good whatever changed since. */
static const char SQL_LIST[] =
    "SELECT " OP_COLS " FROM operations o WHERE ($1::uuid IS NULL OR o.tenant_id = $1::uuid)"
    " AND ($2::text IS NULL OR o.resource_id = $2) AND ($3::text IS NULL OR o.state = $3)"
    " AND ($4::uuid IS NULL OR (o.created_at, o.id) <"
    " (SELECT a.created_at, a.id FROM operations a WHERE a.id = $4::uuid))"
    " AND ($6::uuid IS NULL OR o.parent_id = $6::uuid)"
    " ORDER BY o.created_at DESC, o.id DESC LIMIT $5";

/* Oldest first; $2 (NULL: none) left out; $3 (NULL: both) 'queued' or 'running'. */
static const char SQL_PENDING[] =
    "SELECT " OP_COLS " FROM operations o WHERE o.resource_id = $1"
    " AND ($2::uuid IS NULL OR o.id <> $2::uuid) AND o.state IN ('queued', 'running')"
    " AND ($3::text IS NULL OR o.state = $3) ORDER BY o.created_at, o.id";

static const char SQL_CURSOR[] =
    "SELECT 1 FROM operations WHERE id = $2::uuid"
    " AND ($1::uuid IS NULL OR tenant_id = $1::uuid)";

static const char SQL_CLAIM[] =
    "WITH c AS (SELECT id, state AS old_state, step AS old_step,"
    " started_at IS NULL AS first_start FROM operations"
    " WHERE kind = ANY($2::text[]) AND ((state = 'queued' AND run_after <= now())"
    " OR (state = 'running' AND locked_until < now()))"
    " ORDER BY run_after, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " UPDATE operations o SET state = 'running', attempts = o.attempts + 1, locked_by = $1,"
    " locked_until = now() + make_interval(secs => $3::int),"
    " started_at = coalesce(o.started_at, now()), updated_at = now()"
    " FROM c WHERE o.id = c.id RETURNING " OP_COLS ", c.old_state, c.old_step, c.first_start";

/* Not now, and no attempt spent: the next claim counts it again. */
static const char SQL_DEFER[] =
    "UPDATE operations SET state = 'queued', run_after = now() + make_interval(secs => $4::int),"
    " attempts = attempts - 1, error = $5, error_code = $6, locked_by = NULL,"
    " locked_until = NULL, updated_at = now()"
    " WHERE id = $1 AND locked_by = $2 AND attempts = $3::int RETURNING 1";

static const char SQL_STEP[] =
    "UPDATE operations SET step = $4, progress = greatest(progress, $5::int),"
    " locked_until = now() + make_interval(secs => $6::int), updated_at = now()"
    " WHERE id = $1 AND locked_by = $2 AND attempts = $3::int RETURNING 1";

static const char SQL_FINISH[] =
    "UPDATE operations SET state = $4, progress = CASE WHEN $4 = 'succeeded' THEN 100"
    " ELSE progress END, error = $5, error_code = $6, finished_at = now(), locked_by = NULL,"
    " locked_until = NULL, updated_at = now()"
    " WHERE id = $1 AND locked_by = $2 AND attempts = $3::int RETURNING 1";

static const char SQL_RETRY[] =
    "UPDATE operations SET state = 'queued', run_after = now() + make_interval(secs => $4::int),"
    " error = $5, error_code = $6, locked_by = NULL, locked_until = NULL, updated_at = now()"
    " WHERE id = $1 AND locked_by = $2 AND attempts = $3::int RETURNING 1";

/* Superseded: failed for good, its lease dropped, so its worker's next fenced write (a
 * step, its outcome) finds it no longer its own and stops without a word. */
static const char SQL_SUPERSEDE[] =
    "UPDATE operations SET state = 'failed', error = $2, error_code = 'superseded',"
    " finished_at = now(), locked_by = NULL, locked_until = NULL, updated_at = now()"
    " WHERE id = $1 AND state IN ('queued', 'running') RETURNING 1";

enum {
    O_ID, O_TENANT_ID, O_KIND, O_RESOURCE_TYPE, O_RESOURCE_ID, O_STATE, O_PROGRESS, O_STEP,
    O_ERROR, O_ERROR_CODE, O_ATTEMPTS, O_MAX_ATTEMPTS, O_ARG, O_REQUEST_ID, O_CREATED_AT,
    O_STARTED_AT, O_FINISHED_AT, O_UPDATED_AT, O_PARENT_ID, O__N,
};
static const char *const op_cols[O__N] = {
    [O_ID] = "id", [O_TENANT_ID] = "tenant_id", [O_KIND] = "kind",
    [O_RESOURCE_TYPE] = "resource_type", [O_RESOURCE_ID] = "resource_id", [O_STATE] = "state",
    [O_PROGRESS] = "progress", [O_STEP] = "step", [O_ERROR] = "error",
    [O_ERROR_CODE] = "error_code", [O_ATTEMPTS] = "attempts", [O_MAX_ATTEMPTS] = "max_attempts",
    [O_ARG] = "arg", [O_REQUEST_ID] = "request_id", [O_CREATED_AT] = "created_at",
    [O_STARTED_AT] = "started_at", [O_FINISHED_AT] = "finished_at",
    [O_UPDATED_AT] = "updated_at", [O_PARENT_ID] = "parent_id",
};

static void
fill_op(const PGresult *r, int i, const int *col, void *out)
{
    sov_op *o = out;

    memset(o, 0, sizeof(*o));
    sov_db_copy(o->id, sizeof(o->id), r, i, col[O_ID]);
    sov_db_copy(o->tenant_id, sizeof(o->tenant_id), r, i, col[O_TENANT_ID]);
    sov_db_copy(o->kind, sizeof(o->kind), r, i, col[O_KIND]);
    sov_db_copy(o->resource_type, sizeof(o->resource_type), r, i, col[O_RESOURCE_TYPE]);
    sov_db_copy(o->resource_id, sizeof(o->resource_id), r, i, col[O_RESOURCE_ID]);
    sov_db_copy(o->state, sizeof(o->state), r, i, col[O_STATE]);
    o->progress = atoi(PQgetvalue(r, i, col[O_PROGRESS]));
    sov_db_copy(o->step, sizeof(o->step), r, i, col[O_STEP]);
    sov_db_copy(o->error, sizeof(o->error), r, i, col[O_ERROR]);
    sov_db_copy(o->error_code, sizeof(o->error_code), r, i, col[O_ERROR_CODE]);
    o->attempts = atoi(PQgetvalue(r, i, col[O_ATTEMPTS]));
    o->max_attempts = atoi(PQgetvalue(r, i, col[O_MAX_ATTEMPTS]));
    sov_db_copy(o->arg, sizeof(o->arg), r, i, col[O_ARG]);
    sov_db_copy(o->request_id, sizeof(o->request_id), r, i, col[O_REQUEST_ID]);
    sov_db_copy(o->created_at, sizeof(o->created_at), r, i, col[O_CREATED_AT]);
    sov_db_copy(o->started_at, sizeof(o->started_at), r, i, col[O_STARTED_AT]);
    sov_db_copy(o->finished_at, sizeof(o->finished_at), r, i, col[O_FINISHED_AT]);
    sov_db_copy(o->updated_at, sizeof(o->updated_at), r, i, col[O_UPDATED_AT]);
    sov_db_copy(o->parent_id, sizeof(o->parent_id), r, i, col[O_PARENT_ID]);
}

static const sov_db_rowmap row_op = { op_cols, O__N, fill_op };

int
sov_op_enqueue(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *kind,
               const char *resource_type, const char *resource_id, const char *arg,
               sov_op *ret, sov_error *err)
{
    return sov_op_enqueue_child(c, ctx, NULL, tenant_id, kind, resource_type, resource_id, arg,
                                ret, err);
}

int
sov_op_enqueue_child(sov_dbconn *c, sov_ctx *ctx, const char *parent_id,
                     const char *tenant_id, const char *kind, const char *resource_type,
                     const char *resource_id, const char *arg, sov_op *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, kind, resource_type ? resource_type : "",
                             resource_id ? resource_id : "", arg ? arg : "",
                             ctx->request_id ? ctx->request_id : "",
                             ctx->who ? ctx->who->user_id : "", parent_id ? parent_id : "" };

    if (sov_db_query(c, SQL_ENQUEUE, 8, params, &res, err) < 0 ||
        sov_db_query(c, "NOTIFY sov_ops", 0, NULL, NULL, err) < 0)
        return -1;
    if (sov_db_fill(res, 0, &row_op, ret, err) < 0)
        return -1;
    ctx->op_queued = ret;
    return 0;
}

int
sov_op_children(sov_dbconn *c, const char *parent_id, sov_op_page *ret, sov_error *err)
{
    const char *params[] = { parent_id };

    ret->next_after[0] = '\0';
    return sov_db_all(c, SQL_CHILDREN, 1, params, sizeof(*ret->items), &row_op,
                      (void **) &ret->items, &ret->n, err);
}

int
sov_op_children_seen(sov_ctx *ctx, const char *parent_id, unsigned max, sov_op_page *ret,
                     size_t *ret_total, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    char lim[16];
    const char *params[] = { parent_id, sov_ctx_is_operator(ctx) || !ctx->who
                                            ? NULL : ctx->who->tenant_id, lim };
    int col[O__N], total;
    sov_op *items;

    snprintf(lim, sizeof(lim), "%u", max);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_db_query(c, SQL_CHILDREN_SEEN, 3, params, &res, err) < 0 ||
        sov_db_cols(res, op_cols, col, O__N, err) < 0)
        return -1;
    total = PQfnumber(res, "total");
    items = calloc((size_t) PQntuples(res) + 1, sizeof(*items));
    if (!items)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (int i = 0; i < PQntuples(res); i++)
        fill_op(res, i, col, &items[i]);
    ret->items = items;
    ret->n = (size_t) PQntuples(res);
    ret->next_after[0] = '\0';
    *ret_total = PQntuples(res) > 0 ? strtoul(PQgetvalue(res, 0, total), NULL, 10) : 0;
    return 0;
}

int
sov_op_result(sov_ctx *ctx, const char *id, char **ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id, sov_ctx_is_operator(ctx) || !ctx->who ? NULL
                                                                        : ctx->who->tenant_id };
    char *text;

    *ret = NULL;
    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "operation '%s' does not exist", id);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_db_query(c, SQL_RESULT_GET, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "operation '%s' does not exist", id);
    if (!PQgetvalue(res, 0, 0)[0])
        return 0;
    text = strdup(PQgetvalue(res, 0, 0));
    if (!text)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    *ret = text;
    return 0;
}

void
sov_op_log(sov_log_level level, const char *msg, const sov_op *op, const char *error)
{
    const sov_log_kv kv[] = {
        SOV_KV_S("operation_id", op->id), SOV_KV_S("kind", op->kind),
        SOV_KV_S("resource_type", op->resource_type),
        SOV_KV_S("resource_id", op->resource_id), SOV_KV_S("tenant_id", op->tenant_id),
        SOV_KV_I("attempt", op->attempts), SOV_KV_S("error", error ? error : ""),
    };

    sov_log_kv_write(level, msg, kv, SOV_N_ELEMENTS(kv) - (error ? 0 : 1));
}

int
sov_op_supersede(sov_dbconn *c, const char *id, const char *by_id, const char *by_what,
                 sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    char why[sizeof(((sov_op *) 0)->error)];
    const char *params[] = { id, why };

    snprintf(why, sizeof(why), "superseded by %s (%s)", by_id, by_what);
    if (sov_db_query(c, SQL_SUPERSEDE, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) > 0)
        sov_log_info("operation %s %s", id, why);
    return 0;
}

int
sov_op_get(sov_ctx *ctx, const char *id, sov_op *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *params[] = { id, sov_ctx_is_operator(ctx) || !ctx->who ? NULL
                                                                        : ctx->who->tenant_id };

    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "operation '%s' does not exist", id);
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_db_one(c, SQL_GET, 2, params, &row_op, ret, "operation", id, err);
}

static const char SQL_TIMES[] =
    "SELECT o.state, o.error, o.error_code, coalesce(to_char(o.started_at AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '') AS started_at,"
    " coalesce(to_char(o.finished_at AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '') AS finished_at"
    " FROM operations o WHERE o.id = $1";

int
sov_op_times_get(sov_dbconn *c, const char *id, sov_op_times *ret, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id };

    memset(ret, 0, sizeof(*ret));
    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "operation '%s' does not exist", id);
    if (sov_db_query(c, SQL_TIMES, 1, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "operation '%s' does not exist", id);
    sov_db_copy(ret->state, sizeof(ret->state), res, 0, 0);
    sov_db_copy(ret->error, sizeof(ret->error), res, 0, 1);
    sov_db_copy(ret->error_code, sizeof(ret->error_code), res, 0, 2);
    sov_db_copy(ret->started_at, sizeof(ret->started_at), res, 0, 3);
    sov_db_copy(ret->finished_at, sizeof(ret->finished_at), res, 0, 4);
    return 0;
}

int
sov_op_pending(sov_dbconn *c, const char *resource_id, const char *except_id,
               const char *state, sov_op_page *ret, sov_error *err)
{
    const char *params[] = { resource_id, except_id, state };

    return sov_db_page(c, SQL_PENDING, 3, params, sizeof(*ret->items), &row_op, 0, "id",
                       (void **) &ret->items, &ret->n, ret->next_after, sizeof(ret->next_after),
                       err);
}

/* The operation an after cursor names exists and is the caller's to see. */
static int
cursor_check(sov_dbconn *c, const char *tenant_id, const char *after, sov_error *err)
{
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { tenant_id, after };

    if (sov_db_query(c, SQL_CURSOR, 2, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0)
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link: "
                                 "operation '%s' does not exist", after);
    return 0;
}

int
sov_op_find_pending(sov_ctx *ctx, const char *resource_id, const char *kind, sov_op *ret,
                    sov_error *err)
{
    static const char *const states[] = { "running", "queued" };

    for (size_t s = 0; s < SOV_N_ELEMENTS(states); s++) {
        sov_op_page page = { 0 };
        bool found = false;

        if (sov_op_list(ctx, resource_id, states[s], NULL, 20, &page, err) < 0)
            return -1;
        for (size_t i = 0; i < page.n && !found; i++)
            if (strcmp(page.items[i].kind, kind) == 0) {
                *ret = page.items[i];
                found = true;
            }
        free(page.items);
        if (found)
            return 1;
    }
    return 0;
}

int
sov_op_list(sov_ctx *ctx, const char *resource_id, const char *state, const char *after,
            unsigned limit, sov_op_page *ret, sov_error *err)
{
    return sov_op_list_children(ctx, NULL, resource_id, state, after, limit, ret, err);
}

int
sov_op_list_children(sov_ctx *ctx, const char *parent_id, const char *resource_id,
                     const char *state, const char *after, unsigned limit, sov_op_page *ret,
                     sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    char lim[16];
    const char *params[] = { sov_ctx_is_operator(ctx) || !ctx->who ? NULL : ctx->who->tenant_id,
                             resource_id, state, after, lim, parent_id };

    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    if (parent_id && !sov_uuid_valid(parent_id))
        return sov_error_invalid(err, "parent", "parent must be an operation id");
    snprintf(lim, sizeof(lim), "%u", limit ? limit : 100);
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (after && cursor_check(c, params[0], after, err) < 0)
        return -1;
    return sov_db_page(c, SQL_LIST, 6, params, sizeof(*ret->items), &row_op,
                       limit ? limit : 100, "id", (void **) &ret->items, &ret->n, ret->next_after,
                       sizeof(ret->next_after), err);
}

/* ---- workers ---- */

struct sov_op_run {
    sov_workers *w;
    const sov_op_kind *kind;
    sov_op op;
    char worker_id[96];
    char attempts[16];
    sov_ctx ctx;
};

struct sov_workers {
    sov_db *db;
    const sov_config *cfg;
    const sov_op_kind *kinds;
    char kinds_literal[1024];
    char *url;
    unsigned threads;
    pthread_t *tids;
    pthread_t listener;
    bool listener_started;
    atomic_bool stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    unsigned long long wakeups;
    char boot[16];
};

static const sov_op_kind *
find_kind(sov_workers *w, const char *kind)
{
    for (const sov_op_kind *k = w->kinds; k->kind; k++)
        if (strcmp(k->kind, kind) == 0)
            return k;
    return NULL;
}

/* A step's time limit: the kind's own, unless configuration sets one for all. */
static unsigned
step_timeout(const sov_workers *w, const sov_op_kind *k)
{
    if (w->cfg->operation_step_timeout > 0)
        return w->cfg->operation_step_timeout;
    return k && k->step_timeout_s > 0 ? k->step_timeout_s : 300;
}

sov_ctx *
sov_op_ctx(sov_op_run *run)
{
    return &run->ctx;
}

int
sov_op_set_result(sov_op_run *run, const char *json, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { run->op.id, run->worker_id, run->attempts, json };

    if (sov_db_acquire(run->w->db, &c, err) < 0 ||
        sov_db_query(c, SQL_RESULT_SET, 4, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0) {
        sov_error_set(err, SOV_E_CONFLICT, "operation %s is no longer ours", run->op.id);
        return sov_error_reason(err, SOV_R_OP_LOST);
    }
    return 0;
}

int
sov_op_step(sov_op_run *run, const char *step, int progress, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    char prog[16], secs[16];
    const char *params[] = { run->op.id, run->worker_id, run->attempts, step, prog, secs };

    snprintf(prog, sizeof(prog), "%d", progress);
    snprintf(secs, sizeof(secs), "%u", step_timeout(run->w, run->kind));
    if (sov_db_acquire(run->w->db, &c, err) < 0 ||
        sov_db_query(c, SQL_STEP, 6, params, &res, err) < 0)
        return -1;
    if (PQntuples(res) == 0) {
        sov_error_set(err, SOV_E_CONFLICT, "operation %s is no longer ours", run->op.id);
        return sov_error_reason(err, SOV_R_OP_LOST);
    }
    sov_log_debug("operation %s (%s): %s, %d%%", run->op.id, run->op.kind, step, progress);
    return 0;
}

/* How long a worker keeps trying to write an outcome while PostgreSQL is unavailable. */
#define SETTLE_PATIENCE_MS 60000

/* Write the outcome, fenced by our lease; a lost lease means someone else owns it now. */
static void
settle(sov_op_run *run, const char *sql, const char *state_or_delay, const char *error,
       const char *code)
{
    const char *params[] = { run->op.id, run->worker_id, run->attempts, state_or_delay,
                             error, code };
    struct timespec start, now;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        sov_error err = SOV_ERROR_INIT;
        sov_autoptr(sov_dbconn) c = NULL;
        sov_autoptr(PGresult) res = NULL;
        struct timespec tick = { 0, 500 * 1000000L };

        if (sov_db_acquire(run->w->db, &c, &err) == 0 &&
            sov_db_query(c, sql, 6, params, &res, &err) == 0) {
            if (PQntuples(res) == 0)
                sov_log_warn("operation %s was taken over while it ran; its outcome here is "
                             "dropped", run->op.id);
            return;
        }
        /* PostgreSQL away for a moment (a restart, a failover, often what failed the step):
         * the outcome is known, so wait for its return rather than leave the operation
         * running until its lease runs out, minutes later. Stopping, or away for long: the
         * lease will run out and the operation will be taken over; nothing is lost. */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (err.code != SOV_E_UNAVAILABLE || atomic_load(&run->w->stop) ||
            (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
                SETTLE_PATIENCE_MS) {
            sov_log_warn("could not record the outcome of operation %s: %s", run->op.id,
                         err.detail[0] ? err.detail : err.msg);
            return;
        }
        nanosleep(&tick, NULL);
    }
}

static void
fail(sov_op_run *run, const char *reason, const char *code)
{
    sov_error err = SOV_ERROR_INIT;

    if (run->kind->on_fail && run->kind->on_fail(run, &run->op, reason, &err) < 0)
        sov_log_warn("operation %s: could not mark its resource failed: %s", run->op.id,
                     err.msg);
    settle(run, SQL_FINISH, "failed", reason, code);
    /* warn, not info: an operator wants to see what gave up, even with info lines off. */
    sov_op_log(SOV_LOG_WARN, "operation failed", &run->op, reason);
}

static void
execute(sov_op_run *run, bool taken_over, const char *old_step)
{
    sov_error err = SOV_ERROR_INIT;
    char reason[sizeof(err.msg) + sizeof(err.detail) + 4];
    char delay[16];

    if (taken_over && run->op.attempts > run->op.max_attempts) {
        snprintf(reason, sizeof(reason), "step '%s' did not finish within its time limit",
                 old_step[0] ? old_step : "start");
        fail(run, reason, "timeout");
        return;
    }
    if (taken_over)
        sov_log_warn("operation %s (%s) taken over after its lease ran out in step '%s'",
                     run->op.id, run->op.kind, old_step);
    int rc = run->kind->handler(run, &run->op, &err);
    if (rc == 0) {
        settle(run, SQL_FINISH, "succeeded", "", "");
        sov_op_log(SOV_LOG_INFO, "operation succeeded", &run->op, NULL);
        return;
    }
    if (rc == SOV_OP_LATER) {
        settle(run, SQL_DEFER, "2", "", "");
        return;
    }
    if (err.code == SOV_E_CONFLICT && err.reason == SOV_R_OP_LOST)
        return;
    /* The operation is the tenant's to read: only the message goes there; the detail (host
     * names, paths, libvirt's words) goes to the log, for operators. */
    snprintf(reason, sizeof(reason), "%s", err.msg);
    if (err.detail[0])
        sov_log_warn("operation %s (%s), attempt %d: %s: %s", run->op.id, run->op.kind,
                     run->op.attempts, err.msg, err.detail);
    if (err.code == SOV_E_UNAVAILABLE && run->op.attempts < run->op.max_attempts) {
        /* 2, 4, 8, ... seconds, at most a minute. */
        unsigned d = 1u << (run->op.attempts < 6 ? run->op.attempts : 6);
        snprintf(delay, sizeof(delay), "%u", d > 60 ? 60 : d);
        sov_log_info("operation %s (%s) will retry in %s s: %s", run->op.id, run->op.kind,
                     delay, reason);
        settle(run, SQL_RETRY, delay, reason, sov_errcode_name(err.code));
        return;
    }
    fail(run, reason, sov_errcode_name(err.code));
}

/* Claim one ready operation; 1 when one ran, 0 when none was ready, -1 on trouble. */
static int
work_once(sov_workers *w, unsigned index)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(PGresult) res = NULL;
    sov_op_run run;
    char worker[96], lease[16];
    const char *params[] = { worker, w->kinds_literal, lease };
    enum { C_OLD_STATE, C_OLD_STEP, C_FIRST_START, C__N };
    static const char *const claim_cols[C__N] = { "old_state", "old_step", "first_start" };
    int col[O__N], claim[C__N];

    snprintf(worker, sizeof(worker), "%.60s:%d:%u:%s", "sovd", (int) getpid(), index, w->boot);
    /* Until its first step the operation is leased for the longest step time there is. */
    snprintf(lease, sizeof(lease), "%u", step_timeout(w, NULL));
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(w->db, &c, &err) < 0 ||
            sov_db_query(c, SQL_CLAIM, 3, params, &res, &err) < 0)
            return -1;
    }
    if (PQntuples(res) == 0)
        return 0;
    if (sov_db_cols(res, op_cols, col, O__N, &err) < 0 ||
        sov_db_cols(res, claim_cols, claim, C__N, &err) < 0)
        return -1;
    memset(&run, 0, sizeof(run));
    run.w = w;
    fill_op(res, 0, col, &run.op);
    snprintf(run.worker_id, sizeof(run.worker_id), "%s", worker);
    snprintf(run.attempts, sizeof(run.attempts), "%d", run.op.attempts);
    run.kind = find_kind(w, run.op.kind);
    run.ctx.db = w->db;
    run.ctx.cfg = w->cfg;
    run.ctx.request_id = run.op.request_id;
    run.ctx.action = run.op.kind;
    sov_log_set_request_id(run.op.request_id[0] ? run.op.request_id : NULL);
    if (!run.kind) {
        fail(&run, "no worker knows this kind of operation", "internal");
    } else {
        bool taken_over = strcmp(PQgetvalue(res, 0, claim[C_OLD_STATE]), "running") == 0;
        /* Once: a deferred or retried operation is claimed again, not started again. */
        if (strcmp(PQgetvalue(res, 0, claim[C_FIRST_START]), "t") == 0)
            sov_op_log(SOV_LOG_INFO, "operation started", &run.op, NULL);
        execute(&run, taken_over, PQgetvalue(res, 0, claim[C_OLD_STEP]));
    }
    sov_log_set_request_id(NULL);
    return 1;
}

static void *
worker_main(void *arg)
{
    sov_workers *w = ((void **) arg)[0];
    unsigned index = (unsigned) (uintptr_t) ((void **) arg)[1];

    free(arg);
    while (!atomic_load(&w->stop)) {
        int r = work_once(w, index);
        if (r > 0)
            continue;
        /* Nothing ready (or PostgreSQL away): sleep until a NOTIFY or a second passes. */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&w->lock);
        unsigned long long seen = w->wakeups;
        while (!atomic_load(&w->stop) && w->wakeups == seen)
            if (pthread_cond_timedwait(&w->wake, &w->lock, &until) == ETIMEDOUT)
                break;
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

static void
wake_all(sov_workers *w)
{
    pthread_mutex_lock(&w->lock);
    w->wakeups++;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

static void
on_listen(void *arg, sov_db_listen_event ev)
{
    /* A notification wakes every idle worker. */
    if (ev == SOV_DB_LISTEN_NOTIFIED)
        wake_all(arg);
}

static void *
listener_main(void *arg)
{
    sov_workers *w = arg;
    const sov_db_listener l = { .url = w->url, .application_name = "sovd-ops-listener",
                                .channel = "sov_ops", .retry_ms = 1000, .stop = &w->stop,
                                .on_event = on_listen, .arg = w };

    sov_db_listen(&l);
    return NULL;
}

int
sov_workers_start(sov_db *db, const sov_config *cfg, const sov_op_kind *kinds,
                  unsigned threads, sov_workers **ret, sov_error *err)
{
    sov_workers *w = calloc(1, sizeof(*w));
    unsigned char boot[4];
    size_t len = 0;

    if (!w)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    w->db = db;
    w->cfg = cfg;
    w->kinds = kinds;
    w->threads = threads ? threads : 1;
    w->url = strdup(cfg->database_url);
    w->tids = calloc(w->threads, sizeof(*w->tids));
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (!w->url || !w->tids || sov_random_bytes(boot, sizeof(boot), err) < 0) {
        sov_workers_stop(w, 0);
        return err->code ? -1 : sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    sov_hex_encode(boot, sizeof(boot), w->boot);
    for (const sov_op_kind *k = kinds; k->kind; k++)
        len++;
    const char **names = calloc(len ? len : 1, sizeof(*names));
    if (names) {
        sov_buf kl = SOV_BUF_INIT;
        for (size_t i = 0; i < len; i++)
            names[i] = kinds[i].kind;
        sov_buf_pg_array(&kl, names, len);
        snprintf(w->kinds_literal, sizeof(w->kinds_literal), "%s", kl.data ? kl.data : "{}");
        sov_buf_release(&kl);
        free(names);
    }
    if (pthread_create(&w->listener, NULL, listener_main, w) == 0)
        w->listener_started = true;
    for (unsigned i = 0; i < w->threads; i++) {
        void **arg = malloc(2 * sizeof(void *));
        if (!arg) {
            w->threads = i;
            break;
        }
        arg[0] = w;
        arg[1] = (void *) (uintptr_t) i;
        if (pthread_create(&w->tids[i], NULL, worker_main, arg) != 0) {
            free(arg);
            w->threads = i;
            break;
        }
    }
    *ret = w;
    return 0;
}

unsigned
sov_workers_stop(sov_workers *w, unsigned timeout_s)
{
    struct timespec until;
    unsigned left = 0;

    if (!w)
        return 0;
    atomic_store(&w->stop, true);
    wake_all(w);
    /* An idle worker notices at once; a busy one when its handler returns. At least a
     * second, so idle ones always make it. pthread_timedjoin_np reads CLOCK_REALTIME. */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_s > 0 ? timeout_s : 1;
    for (unsigned i = 0; i < w->threads; i++)
        if (pthread_timedjoin_np(w->tids[i], NULL, &until) != 0) {
            pthread_detach(w->tids[i]);
            left++;
        }
    if (w->listener_started)
        pthread_join(w->listener, NULL);    /* polls in 200 ms slices */
    if (left > 0) {
        /* Their operations keep their leases, which run out: another worker (or this sovd,
         * restarted) takes them over. w stays, for the threads still using it. */
        sov_log_warn("%u worker(s) still in a step after %u s: left to their leases", left,
                     timeout_s);
        return left;
    }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->tids);
    free(w->url);
    free(w);
    return 0;
}
