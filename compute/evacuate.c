/* evacuate.c: host evacuation ("host.evacuate").
 *
 * POST /v1/hosts/{id}/evacuate puts the host in maintenance (no new placements) and queues
 * one "host.evacuate" operation, in one transaction. Its worker runs in two phases, each run
 * of it safe to repeat (a worker may die anywhere):
 *   1. queue: for each live instance on the host, in a transaction of its own, a migration
 *      (sov_instance_migrate_tx) as a child of the evacuation: running instances live,
 *      stopped ones cold, each target chosen by placement inside the instance's tenant's
 *      policy. An instance that already has a child is skipped (a second run queues nothing
 *      twice); one already migrating (its own migration) is waited for; one in error,
 *      building or being deleted stays, and so does one with no room inside its policy
 *      (placement's SOV_E_RESIDENCY or SOV_E_CAPACITY): nothing is ever moved outside.
 *      What phase 1 decided is written to the operation's result before phase 2 starts.
 *   2. wait: SOV_OP_LATER until every child has ended (progress: ended / all), then the
 *      result lists what moved, what stayed (with the reason) and what failed (with the
 *      child's error). The evacuation succeeds once every child ended, whatever they did:
 *      the result says what became of each instance; the host stays in maintenance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compute_int.h"
#include "host_repo.h"
#include "sov/audit.h"
#include "sov/log.h"
#include "sov/registry.h"

#define EVACUATE_KIND "host.evacuate"

SOV_DEFINE_AUTOPTR(json_t, json_decref)

/* ---- the request ---- */

typedef struct evacuate_args {
    sov_ctx *ctx;
    const char *id;
    sov_op op;
    bool again;         /* an evacuation of this host was already under way: that one */
} evacuate_args;

/* The evacuation of host id already queued or running, into ret: found or not. */
static int
pending_evacuation(sov_dbconn *c, const char *id, sov_op *ret, bool *found, sov_error *err)
{
    sov_op_page ops = { 0 };

    *found = false;
    if (sov_op_pending(c, id, NULL, NULL, &ops, err) < 0)
        return -1;
    for (size_t i = 0; i < ops.n && !*found; i++)
        if (strcmp(ops.items[i].kind, EVACUATE_KIND) == 0) {
            *ret = ops.items[i];
            *found = true;
        }
    free(ops.items);
    return 0;
}

static int
evacuate_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    evacuate_args *x = arg;
    const char *tenant = x->ctx->who ? x->ctx->who->tenant_id : NULL;
    sov_host h, after;

    if (!tenant)
        return sov_error_set(err, SOV_E_INTERNAL, "no operator to file the operation under");
    /* The row's lock: a placement on it, or a second evacuation, waits for this one. */
    if (sov_repo_host_get(c, x->id, true, &h, err) < 0)
        return -1;
    /* A down host cannot send its guests anywhere (their disks are on it): refused; its
     * instances meet host_down_grace instead. */
    if (strcmp(h.state, "discovering") == 0 || strcmp(h.state, "error") == 0 ||
        strcmp(h.state, "down") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "host '%s' is %s; it cannot be evacuated%s",
                             h.name, h.state,
                             strcmp(h.state, "down") == 0
                                 ? " (its instances go to error after host_down_grace)"
                                 : "");
    if (pending_evacuation(c, x->id, &x->op, &x->again, err) < 0)
        return -1;
    if (!x->again &&
        (sov_repo_host_update(c, x->id, "maintenance", "evacuation requested by an operator",
                              NULL, NULL, &after, err) < 0 ||
         sov_op_enqueue(c, x->ctx, tenant, EVACUATE_KIND, "host", x->id, NULL, &x->op,
                        err) < 0))
        return -1;
    return sov_audit_append(c, x->ctx, NULL, "host", x->id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_host_evacuate(sov_ctx *ctx, const char *id, sov_op *op, sov_error *err)
{
    evacuate_args x = { .ctx = ctx, .id = id };

    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", id);
    if (sov_ctx_tx(ctx, evacuate_tx, &x, err) < 0)
        return -1;
    if (x.again)
        sov_log_info("host %s: an evacuation is already under way (operation %s)", id,
                     x.op.id);
    else
        sov_log_info("host %s in maintenance, evacuation queued as operation %s", id,
                     x.op.id);
    *op = x.op;
    return 0;
}

/* ---- the worker ---- */

/* A decision about one instance, as the result lists it. */
static json_t *
entry(const repo_instance_brief *x, const char *reason)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "instance_id", x->id, "tenant_id",
                     x->tenant_id, "name", x->name, "state", x->state, "reason", reason);
}

/* Why an instance in this state is not moved; NULL when it is (running, stopped) or is
 * waited for (migrating). */
static const char *
staying_reason(const char *state)
{
    if (strcmp(state, "error") == 0)
        return "the instance is in error: repair or delete it";
    if (strcmp(state, "scheduling") == 0 || strcmp(state, "building") == 0)
        return "the instance is still being built";
    if (strcmp(state, "deleting") == 0)
        return "the instance is being deleted";
    if (strcmp(state, "running") == 0 || strcmp(state, "stopped") == 0 ||
        strcmp(state, "migrating") == 0)
        return NULL;
    return "the instance is in a state that cannot move";
}

typedef struct queue_args {
    sov_ctx *ctx;
    const char *parent_id;
    const repo_instance_brief *x;
    sov_migrate_args m;
    sov_op child;
} queue_args;

static int
queue_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    queue_args *q = arg;

    return sov_instance_migrate_tx(c, q->ctx, q->x->id, &q->m, q->parent_id, &q->child, err);
}

/* Whether instance id has a child of the evacuation already. */
static bool
has_child(const sov_op_page *kids, const char *id)
{
    for (size_t i = 0; i < kids->n; i++)
        if (strcmp(kids->items[i].resource_id, id) == 0)
            return true;
    return false;
}

/* Queue one instance's migration, or list it as staying (or waited for) with the reason.
 * Only a database away fails the phase (to be run again). */
static int
queue_one(sov_ctx *ctx, const sov_op *op, const repo_instance_brief *x, json_t *doc,
          sov_error *err)
{
    const char *why = staying_reason(x->state);
    queue_args q = { .ctx = ctx, .parent_id = op->id, .x = x };
    sov_error e = SOV_ERROR_INIT;

    if (why) {
        json_array_append_new(json_object_get(doc, "stayed"), entry(x, why));
        return 0;
    }
    if (strcmp(x->state, "migrating") == 0) {
        json_array_append_new(json_object_get(doc, "waited"),
                              entry(x, "already migrating (its own migration): waited for"));
        return 0;
    }
    q.m.live = strcmp(x->state, "running") == 0 ? 1 : 0;
    q.m.host = NULL;
    if (sov_ctx_tx(ctx, queue_tx, &q, &e) < 0) {
        if (e.code == SOV_E_UNAVAILABLE) {
            *err = e;
            return -1;
        }
        /* No room inside its policy (residency, capacity), or a state it left meanwhile:
         * it stays where it is, never moved outside. */
        sov_log_info("evacuation %s: instance %s stays on its host: %s", op->id, x->id, e.msg);
        json_array_append_new(json_object_get(doc, "stayed"), entry(x, e.msg));
        return 0;
    }
    json_array_append_new(json_object_get(doc, "queued"),
                          json_pack("{s:s, s:s, s:s, s:s, s:b}", "instance_id", x->id,
                                    "tenant_id", x->tenant_id, "name", x->name,
                                    "operation_id", q.child.id, "live", q.m.live == 1));
    return 0;
}

static int
save(sov_op_run *run, json_t *doc, sov_error *err)
{
    sov_autofree char *text = json_dumps(doc, JSON_COMPACT);

    if (!text)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    return sov_op_set_result(run, text, err);
}

/* Phase 1: decide about every instance on the host, queue the migrations, and write the
 * decisions (the phase is done once they are written). */
static int
phase_queue(sov_op_run *run, const sov_op *op, json_t **ret, sov_error *err)
{
    sov_ctx *ctx = sov_op_ctx(run);
    sov_autofree repo_instance_brief *xs = NULL;
    sov_op_page kids = { 0 };
    sov_autoptr(json_t) doc = json_pack("{s:s, s:s, s:[], s:[], s:[]}", "host_id",
                                        op->resource_id, "phase", "migrating", "queued",
                                        "stayed", "waited");
    size_t n = 0;
    int rc = 0;

    if (!doc)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_op_step(run, "queueing migrations", 5, err) < 0)
        return -1;
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_instance_on_host(c, op->resource_id, &xs, &n, err) < 0 ||
            sov_op_children(c, op->id, &kids, err) < 0)
            return -1;
    }
    /* Children of an earlier run (it died before writing its decisions) stay the
     * instances' migrations: listed as queued, never queued twice. */
    for (size_t i = 0; i < kids.n; i++)
        json_array_append_new(json_object_get(doc, "queued"),
                              json_pack("{s:s, s:s, s:s, s:s, s:n}", "instance_id",
                                        kids.items[i].resource_id, "tenant_id",
                                        kids.items[i].tenant_id, "name", "",
                                        "operation_id", kids.items[i].id, "live"));
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!has_child(&kids, xs[i].id))
            rc = queue_one(ctx, op, &xs[i], doc, err);
    free(kids.items);
    if (rc < 0 || save(run, doc, err) < 0)
        return -1;
    sov_log_info("evacuation %s of host %s: %zu migrations queued, %zu instances stay, %zu "
                 "waited for", op->id, op->resource_id,
                 json_array_size(json_object_get(doc, "queued")),
                 json_array_size(json_object_get(doc, "stayed")),
                 json_array_size(json_object_get(doc, "waited")));
    *ret = SOV_TAKE_PTR(doc);
    return 0;
}

/* The decisions of phase 1 when they were written: NULL when phase 1 is still to run. */
static int
load_decisions(sov_op_run *run, const sov_op *op, json_t **ret, sov_error *err)
{
    sov_autofree char *text = NULL;
    json_t *doc;

    *ret = NULL;
    if (sov_op_result(sov_op_ctx(run), op->id, &text, err) < 0)
        return -1;
    if (!text)
        return 0;
    doc = json_loads(text, 0, NULL);
    if (doc && json_is_array(json_object_get(doc, "queued")))
        *ret = doc;
    else
        json_decref(doc);
    return 0;
}

static const sov_op *
find_child(const sov_op_page *kids, const char *id)
{
    for (size_t i = 0; i < kids->n; i++)
        if (strcmp(kids->items[i].id, id) == 0)
            return &kids->items[i];
    return NULL;
}

/* Whether an instance waited for has ended its own migration: no longer migrating. */
static int
waited_done(sov_dbconn *c, json_t *w, bool *ret, sov_error *err)
{
    char state[16];

    if (sov_repo_instance_state(c, json_string_value(json_object_get(w, "instance_id")), false,
                                state, sizeof(state), err) < 0)
        return -1;
    *ret = strcmp(state, "migrating") != 0;
    if (*ret)
        json_object_set_new(w, "state", json_string(state[0] ? state : "deleted"));
    return 0;
}

/* The result once every child ended: moved, stayed, failed, waited. */
static json_t *
final_result(json_t *doc, const sov_op_page *kids)
{
    json_t *moved = json_array(), *failed = json_array(), *q;
    size_t i;

    json_array_foreach(json_object_get(doc, "queued"), i, q) {
        const sov_op *k = find_child(kids, json_string_value(json_object_get(q, "operation_id")));
        json_t *e = json_deep_copy(q);

        if (k && strcmp(k->state, "succeeded") == 0) {
            json_array_append_new(moved, e);
        } else {
            json_object_set_new(e, "error",
                                json_pack("{s:s, s:s}", "code",
                                          k && k->error_code[0] ? k->error_code : "internal",
                                          "message",
                                          k ? k->error : "its migration's operation is gone"));
            json_array_append_new(failed, e);
        }
    }
    return json_pack("{s:O, s:s, s:o, s:O, s:o, s:O}", "host_id",
                     json_object_get(doc, "host_id"), "phase", "done", "moved", moved,
                     "stayed", json_object_get(doc, "stayed"), "failed", failed, "waited",
                     json_object_get(doc, "waited"));
}

/* How many of the children (and of the instances waited for) have ended; the children into
 * *kids (the caller's to free()). */
static int
count_ended(sov_ctx *ctx, const sov_op *op, json_t *doc, sov_op_page *kids, size_t *ret,
            sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    json_t *w, *q;
    size_t ended = 0, i;

    if (sov_db_acquire(ctx->db, &c, err) < 0 || sov_op_children(c, op->id, kids, err) < 0)
        return -1;
    json_array_foreach(json_object_get(doc, "queued"), i, q) {
        const sov_op *k = find_child(kids, json_string_value(json_object_get(q, "operation_id")));
        if (!k || strcmp(k->state, "succeeded") == 0 || strcmp(k->state, "failed") == 0)
            ended++;
    }
    json_array_foreach(json_object_get(doc, "waited"), i, w) {
        bool done = false;
        if (waited_done(c, w, &done, err) < 0) {
            free(kids->items);
            kids->items = NULL;
            return -1;
        }
        ended += done ? 1 : 0;
    }
    *ret = ended;
    return 0;
}

/* Phase 2: wait for the children (and the instances waited for); then the result. */
static int
phase_wait(sov_op_run *run, const sov_op *op, json_t *doc, sov_error *err)
{
    sov_op_page kids = { 0 };
    json_t *queued = json_object_get(doc, "queued");
    size_t all = json_array_size(queued) + json_array_size(json_object_get(doc, "waited"));
    size_t ended = 0;
    char step[128];

    if (count_ended(sov_op_ctx(run), op, doc, &kids, &ended, err) < 0)
        return -1;
    if (ended < all) {
        free(kids.items);
        snprintf(step, sizeof(step), "waiting for migrations: %zu of %zu ended", ended, all);
        if (sov_op_step(run, step, (int) (5 + 90 * ended / all), err) < 0)
            return -1;
        return SOV_OP_LATER;
    }
    sov_autoptr(json_t) result = final_result(doc, &kids);
    free(kids.items);
    if (!result)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_op_step(run, "done", 100, err) < 0 || save(run, result, err) < 0)
        return -1;
    sov_log_info("evacuation %s of host %s ended: %zu moved, %zu stayed, %zu failed",
                 op->id, op->resource_id, json_array_size(json_object_get(result, "moved")),
                 json_array_size(json_object_get(result, "stayed")),
                 json_array_size(json_object_get(result, "failed")));
    return 0;
}

static int
evacuate_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    sov_autoptr(json_t) doc = NULL;

    if (load_decisions(run, op, &doc, err) < 0)
        return -1;
    if (doc && json_is_string(json_object_get(doc, "phase")) &&
        strcmp(json_string_value(json_object_get(doc, "phase")), "done") == 0)
        return 0;
    if (!doc && phase_queue(run, op, &doc, err) < 0)
        return -1;
    return phase_wait(run, op, doc, err);
}

int
sov_host_evacuate_register(sov_error *err)
{
    static const sov_op_kind kinds[] = {
        { EVACUATE_KIND, evacuate_op, 300, NULL },
        { NULL, NULL, 0, NULL },
    };

    return sov_registry_add_op_kinds(kinds, err);
}
