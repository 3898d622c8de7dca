/* ops.h: long work as operations, queued in PostgreSQL and carried out by workers.
 *
 * A request that changes infrastructure commits its intent and an operation in one
 * transaction (sov_op_enqueue) and answers 202; a worker thread claims the operation with
 * SELECT ... FOR UPDATE SKIP LOCKED, holding it under a lease it renews while it works, and
 * runs the handler registered for its kind. Workers wake on NOTIFY sov_ops, and poll once a
 * second besides. A handler failing with SOV_E_UNAVAILABLE (a hypervisor away) is retried
 * with exponential backoff up to max_attempts; other errors fail the operation with their
 * message. When a sovd dies mid-operation, the lease runs out and another worker (or the
 * restarted one) runs it again: handlers are written to be run twice. A step that outlives
 * its timeout fails the operation. */
#ifndef SOV_OPS_H
#define SOV_OPS_H

#include <stdbool.h>

#include "sov/ctx.h"
#include "sov/identity.h"
#include "sov/log.h"

typedef struct sov_op {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char kind[64];              /* "instance.create", ... */
    char resource_type[32];
    char resource_id[SOV_UUID_LEN + 1];
    char state[16];             /* queued, running, succeeded, failed */
    int progress;               /* 0..100 */
    char step[128];
    char error[512];
    char error_code[32];
    int attempts, max_attempts;
    char arg[256];              /* a small argument (e.g. the action) */
    char request_id[80];
    char parent_id[SOV_UUID_LEN + 1];   /* the operation that made this one; "" for none */
    char created_at[40], started_at[40], finished_at[40], updated_at[40];
} sov_op;

typedef SOV_PAGE(sov_op) sov_op_page;

/* Queue an operation in the caller's transaction (and NOTIFY the workers at commit). */
int sov_op_enqueue(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *kind,
                   const char *resource_type, const char *resource_id, const char *arg,
                   sov_op *ret, sov_error *err);

/* The same, as a child of parent_id (an evacuation's migration of one instance): GET of the
 * parent lists its children. */
int sov_op_enqueue_child(sov_dbconn *c, sov_ctx *ctx, const char *parent_id,
                         const char *tenant_id, const char *kind, const char *resource_type,
                         const char *resource_id, const char *arg, sov_op *ret,
                         sov_error *err);
/* On c: the children of parent_id, oldest first; ret->items is the caller's to free(). */
int sov_op_children(sov_dbconn *c, const char *parent_id, sov_op_page *ret, sov_error *err);
/* The children of parent_id the caller may see (an operator: all; else its tenant's), oldest
 * first, at most max, and how many there are in all into *ret_total (GET of a parent shows
 * the first ones; ?parent= lists them all). ret->items is the caller's to free(). */
int sov_op_children_seen(sov_ctx *ctx, const char *parent_id, unsigned max, sov_op_page *ret,
                         size_t *ret_total, sov_error *err);
/* An operation's result (a JSON document its kind writes: an evacuation's moved, stayed and
 * failed instances) as text into *ret (the caller's to free()), NULL when it has none;
 * SOV_E_NOT_FOUND as sov_op_get. */
int sov_op_result(sov_ctx *ctx, const char *id, char **ret, sov_error *err);

/* One log line about op (msg, its ids, error unless NULL): created (logged by sov_ctx_tx once
 * the enqueue committed), started, succeeded, failed. */
void sov_op_log(sov_log_level level, const char *msg, const sov_op *op, const char *error);
/* In the caller's transaction: a queued or running operation that operation by_id (just
 * enqueued) makes moot ends now as failed, error "superseded by <by_id> (<by_what>)",
 * error_code "superseded"; its worker, if any, stops at its next step. Already finished:
 * nothing changes. */
int sov_op_supersede(sov_dbconn *c, const char *id, const char *by_id, const char *by_what,
                     sov_error *err);

/* On c (any tenant, for services): the operations of a resource not yet finished, oldest
 * first; except_id (NULL: none) left out; state NULL, "queued" or "running". ret->items is
 * the caller's to free(). */
int sov_op_pending(sov_dbconn *c, const char *resource_id, const char *except_id,
                   const char *state, sov_op_page *ret, sov_error *err);

int sov_op_get(sov_ctx *ctx, const char *id, sov_op *ret, sov_error *err);
/* On c (any tenant, for services): where an operation stands, its times in milliseconds
 * (the SECA surface's conditions follow it). SOV_E_NOT_FOUND when there is none. */
typedef struct sov_op_times {
    char state[16];             /* queued, running, succeeded, failed */
    char error[512];
    char error_code[32];        /* "superseded": another operation made it moot */
    char started_at[40];        /* RFC 3339 UTC with milliseconds; "" not yet */
    char finished_at[40];       /* "" not yet */
} sov_op_times;
int sov_op_times_get(sov_dbconn *c, const char *id, sov_op_times *ret, sov_error *err);
/* The operation of kind on resource_id that is running (else queued), as the caller may see
 * it, into ret: 1 when there is one, 0 when there is none (it finished meanwhile). */
int sov_op_find_pending(sov_ctx *ctx, const char *resource_id, const char *kind, sov_op *ret,
                        sov_error *err);
/* The caller's tenant's (all for operators); filters may be NULL. */
int sov_op_list(sov_ctx *ctx, const char *resource_id, const char *state, const char *after,
                unsigned limit, sov_op_page *ret, sov_error *err);
/* The same, also filtered on the parent (GET /v1/operations?parent=ID; NULL: any). */
int sov_op_list_children(sov_ctx *ctx, const char *parent_id, const char *resource_id,
                         const char *state, const char *after, unsigned limit,
                         sov_op_page *ret, sov_error *err);

/* ---- workers ---- */

typedef struct sov_op_run sov_op_run;   /* a running operation, as its handler sees it */

/* A handler: 0 when done; -1 with err to fail (SOV_E_UNAVAILABLE: retry later, counting an
 * attempt); SOV_OP_LATER when it must wait for something else first (run again in a
 * moment, no attempt spent). */
#define SOV_OP_LATER 1
typedef int (*sov_op_handler)(sov_op_run *run, const sov_op *op, sov_error *err);

typedef struct sov_op_kind {
    const char *kind;
    sov_op_handler handler;
    unsigned step_timeout_s;    /* a step running longer than this is taken over */
    /* Called once when the operation fails for good (its handler gave up, or its last
     * attempt timed out): put the resource in its error state, with the reason. */
    int (*on_fail)(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err);
} sov_op_kind;

/* Record progress and the step now starting; renews the lease. Returns -1 (with err) when
 * the operation is no longer ours (its lease was lost or it timed out): stop then. */
int sov_op_step(sov_op_run *run, const char *step, int progress, sov_error *err);
/* Record the operation's result (a JSON document, as text; what it found, for people to read
 * once it ended), fenced by the lease as sov_op_step is. */
int sov_op_set_result(sov_op_run *run, const char *json, sov_error *err);
/* What the handler may use: the pool, configuration and a system ctx for audit entries. */
sov_ctx *sov_op_ctx(sov_op_run *run);

typedef struct sov_workers sov_workers;
/* Start `threads` workers running the given kinds (a NULL-kind-terminated table). */
int sov_workers_start(sov_db *db, const sov_config *cfg, const sov_op_kind *kinds,
                      unsigned threads, sov_workers **ret, sov_error *err);
/* Stop taking work and join the workers: an idle one at once, one running a handler when the
 * handler returns, waiting at most timeout_s seconds in all (at least 1). Returns how many
 * were still running then: those are left running (and w with them, not freed), their
 * operations to their leases; the caller must then not free what they use (the pool). */
unsigned sov_workers_stop(sov_workers *w, unsigned timeout_s);

#endif
