/* host_check.c: the reconciler's pass over the hosts (sov_host_check_all). Each host that
 * is up or down is probed and moved to the other state when its connection says so; one in
 * an operator's state (maintenance, disabled, draining) keeps it, with down_since while it
 * does not answer; a host down past host_down_grace puts its instances in error. Probes run
 * on threads of their own, so one hung daemon costs its host a down state and one thread,
 * never the pass. No transaction is open while libvirt works. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compute_int.h"
#include "host_repo.h"
#include "sov/audit.h"
#include "sov/buf.h"
#include "sov/log.h"

/* Probes run side by side: one hypervisor that takes its time to refuse must not hold up
 * the check of hundreds of others. */
#define PROBE_THREADS 8
/* The state_reason of a host whose URI now reaches another machine. */
#define MISMATCH_REASON "a different machine answers at this URI"

/* ---- the reconciler's pass: probing ---- */

/* What became of one host's probe. */
typedef enum verdict {
    V_WAITING,      /* not started before the pass gave up: no news, nothing changes */
    V_RUNNING,      /* started and not back by the deadline: no answer is an answer */
    V_OK,
    V_FAILED,
    V_MISMATCH,     /* it answers, but it is another machine than the one registered */
    V_STUCK,        /* a probe from an earlier pass is still waiting on it */
} verdict;

/* A pass's probes, shared with its threads. A hung daemon (stopped, deadlocked, a silent
 * network) keeps a libvirt call waiting for good, and libvirt cannot cancel one: the pass
 * waits until its deadline and leaves such threads behind. So the job is reference-counted
 * and freed by whoever lets go of it last, the pass or a straggler. */
typedef struct probe_job {
    pthread_mutex_t lock;
    pthread_cond_t cv;          /* on CLOCK_MONOTONIC */
    unsigned refs;
    bool given_up;              /* the pass has its answers: take no more hosts */
    size_t n, next, pending;    /* pending: started or waiting, not yet back */
    repo_host_probe *hosts;
    verdict *verdict;
    char (*reason)[256];
    sov_hv_identity *seen;      /* which machine answered (for V_OK and V_MISMATCH) */
} probe_job;

/* Hosts whose probe is running, in any pass: a hung host gets one thread, not one a pass. */
typedef struct in_flight {
    char id[SOV_UUID_LEN + 1];
    struct in_flight *next;
} in_flight;

static pthread_mutex_t flight_lock = PTHREAD_MUTEX_INITIALIZER;
static in_flight *flights;

static bool
flight_has(const char *id)
{
    bool found = false;

    pthread_mutex_lock(&flight_lock);
    for (const in_flight *f = flights; f && !found; f = f->next)
        found = strcmp(f->id, id) == 0;
    pthread_mutex_unlock(&flight_lock);
    return found;
}

static void
flight_add(in_flight *f, const char *id)
{
    snprintf(f->id, sizeof(f->id), "%s", id);
    pthread_mutex_lock(&flight_lock);
    f->next = flights;
    flights = f;
    pthread_mutex_unlock(&flight_lock);
}

static void
flight_remove(in_flight *f)
{
    pthread_mutex_lock(&flight_lock);
    for (in_flight **p = &flights; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    pthread_mutex_unlock(&flight_lock);
}

static void
job_unref(probe_job *j)
{
    bool last;

    pthread_mutex_lock(&j->lock);
    last = --j->refs == 0;
    pthread_mutex_unlock(&j->lock);
    if (!last)
        return;
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->lock);
    free(j->hosts);
    free(j->verdict);
    free(j->reason);
    free(j->seen);
    free(j);
}

/* A fresh connection per probe: opening proves the daemon is there, a round trip that it
 * answers, and its identity that it is the machine registered there (a host is a machine:
 * another one answering at the URI, a reinstall or a reused address, must not inherit its
 * place, its country and its guests' records). libvirt's own words become the host's
 * state_reason. */
static verdict
probe_one(const repo_host_probe *h, sov_hv_identity *seen, char *reason, size_t size)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_hv) hv = NULL;

    if (sov_hv_open(h->libvirt_uri, &hv, &err) == 0 && sov_hv_alive(hv, &err) == 0 &&
        sov_hv_identify(hv, seen, &err) == 0) {
        if (h->machine_id[0] && strcmp(h->machine_id, seen->machine_id) != 0) {
            snprintf(reason, size, "%s", MISMATCH_REASON);
            return V_MISMATCH;
        }
        return V_OK;
    }
    /* Cut to the reason column's size on purpose: %.*s says so to the compiler. */
    snprintf(reason, size, "%.*s", (int) (size > 0 ? size - 1 : 0),
             err.detail[0] ? err.detail : err.msg);
    return V_FAILED;
}

static void *
probe_worker(void *arg)
{
    probe_job *j = arg;

    pthread_mutex_lock(&j->lock);
    while (!j->given_up) {
        size_t i = j->next++;
        in_flight me;
        char reason[256] = "";
        sov_hv_identity seen;
        verdict v;

        if (i >= j->n)
            break;
        if (j->verdict[i] != V_WAITING)
            continue;
        j->verdict[i] = V_RUNNING;
        pthread_mutex_unlock(&j->lock);
        flight_add(&me, j->hosts[i].id);
        memset(&seen, 0, sizeof(seen));
        v = probe_one(&j->hosts[i], &seen, reason, sizeof(reason));
        flight_remove(&me);
        pthread_mutex_lock(&j->lock);
        j->verdict[i] = v;
        j->seen[i] = seen;
        snprintf(j->reason[i], sizeof(j->reason[i]), "%s", reason);
        j->pending--;
        pthread_cond_signal(&j->cv);
    }
    pthread_mutex_unlock(&j->lock);
    job_unref(j);
    return NULL;
}

static probe_job *
job_new(repo_host_probe *hosts, size_t n)
{
    probe_job *j = calloc(1, sizeof(*j));
    pthread_condattr_t attr;

    if (!j)
        return NULL;
    j->verdict = calloc(n + 1, sizeof(*j->verdict));
    j->reason = calloc(n + 1, sizeof(*j->reason));
    j->seen = calloc(n + 1, sizeof(*j->seen));
    if (!j->verdict || !j->reason || !j->seen) {
        free(j->verdict);
        free(j->reason);
        free(j->seen);
        free(j);
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &attr);
    pthread_condattr_destroy(&attr);
    j->refs = 1;
    j->hosts = hosts;
    j->n = n;
    return j;
}

/* Start the probe threads (detached: stragglers finish on their own). */
static int
job_start(probe_job *j, sov_error *err)
{
    pthread_attr_t attr;
    size_t threads = j->pending < PROBE_THREADS ? j->pending : PROBE_THREADS, started = 0;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (size_t i = 0; i < threads; i++) {
        pthread_t th;
        pthread_mutex_lock(&j->lock);
        j->refs++;
        pthread_mutex_unlock(&j->lock);
        if (pthread_create(&th, &attr, probe_worker, j) == 0) {
            started++;
        } else {
            pthread_mutex_lock(&j->lock);
            j->refs--;
            pthread_mutex_unlock(&j->lock);
        }
    }
    pthread_attr_destroy(&attr);
    if (threads > 0 && started == 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not start any probe thread");
    return 0;
}

/* Probe every host for at most timeout_s. hosts is taken (the threads may outlive this
 * call); verdicts and reasons come back in ret_verdict and ret_reason (arrays of n). */
static int
probe_all(repo_host_probe *hosts, size_t n, unsigned timeout_s, verdict **ret_verdict,
          char (**ret_reason)[256], sov_hv_identity **ret_seen, sov_error *err)
{
    probe_job *j = job_new(hosts, n);
    verdict *v = calloc(n + 1, sizeof(*v));
    char (*reason)[256] = calloc(n + 1, sizeof(*reason));
    sov_hv_identity *seen = calloc(n + 1, sizeof(*seen));
    struct timespec until;
    int rc;

    if (!j || !v || !reason || !seen) {
        if (j)
            job_unref(j);
        else
            free(hosts);
        free(v);
        free(reason);
        free(seen);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        if (flight_has(hosts[i].id))
            j->verdict[i] = V_STUCK;
        else
            j->pending++;
    rc = job_start(j, err);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t) timeout_s;
    pthread_mutex_lock(&j->lock);
    while (rc == 0 && j->pending > 0 &&
           pthread_cond_timedwait(&j->cv, &j->lock, &until) != ETIMEDOUT)
        ;
    j->given_up = true;
    memcpy(v, j->verdict, n * sizeof(*v));
    memcpy(reason, j->reason, n * sizeof(*reason));
    memcpy(seen, j->seen, n * sizeof(*seen));
    pthread_mutex_unlock(&j->lock);
    job_unref(j);
    if (rc < 0) {
        free(v);
        free(reason);
        free(seen);
        return -1;
    }
    *ret_verdict = v;
    *ret_reason = reason;
    *ret_seen = seen;
    return 0;
}

/* ---- the reconciler's pass: verdicts ---- */

typedef struct move_args {
    sov_ctx *ctx;
    const repo_host_probe *h;
    const char *to, *reason;
    bool moved;
    const sov_hv_identity *seen;
} move_args;

static int
move_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    move_args *x = arg;

    if (sov_repo_host_transition(c, x->h->id, x->h->state, x->to, x->reason, &x->moved, err) < 0)
        return -1;
    if (!x->moved)
        return 0;
    return sov_audit_append(c, x->ctx, NULL, "host", x->h->id, SOV_OUTCOME_OK, err);
}

/* An operator's state stays whatever the probe says; whether the host answers is kept as
 * down_since, so the grace rule reaches the instances of a host that died in maintenance. */
static int
reachable_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    move_args *x = arg;

    if (sov_repo_host_reachable(c, x->h->id, x->h->state, x->reason == NULL, &x->moved,
                                err) < 0)
        return -1;
    if (!x->moved)
        return 0;
    return sov_audit_append(c, x->ctx, NULL, "host", x->h->id, SOV_OUTCOME_OK, err);
}

static int
apply_held(sov_ctx *ctx, const repo_host_probe *h, bool ok, const char *reason,
           sov_error *err)
{
    move_args x = { ctx, h, h->state, ok ? NULL : reason, false, NULL };

    if (sov_ctx_tx(ctx, reachable_tx, &x, err) < 0)
        return -1;
    if (x.moved && ok)
        sov_log_info("host '%s' (%s) answers again at '%s'", h->name, h->state,
                     h->libvirt_uri);
    else if (x.moved)
        sov_log_warn("host '%s' (%s) does not answer: %s; its instances go to error after "
                     "host_down_grace", h->name, h->state, reason);
    return 0;
}

/* Apply one verdict: a transition (audited, logged), or nothing. */
static int
apply(sov_ctx *ctx, const repo_host_probe *h, bool ok, const char *reason, bool *ret_moved,
      sov_error *err)
{
    bool up = strcmp(h->state, "up") == 0;
    move_args x = { ctx, h, up ? "down" : "up", ok ? "" : reason, false, NULL };

    *ret_moved = false;
    if (up != ok && sov_ctx_tx(ctx, move_tx, &x, err) < 0)
        return -1;
    if (!x.moved)
        return 0;   /* no change, or an operator took it out of up/down meanwhile */
    if (ok)
        sov_log_info("host '%s' answers again at '%s': up", h->name, h->libvirt_uri);
    else
        sov_log_warn("host '%s' is down, it receives no placements until it answers: %s",
                     h->name, reason);
    *ret_moved = true;
    return 0;
}

static int
mismatch_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    move_args *x = arg;

    if (sov_repo_host_mismatch(c, x->h->id, x->seen, x->reason, &x->moved, err) < 0)
        return -1;
    if (!x->moved)
        return 0;
    return sov_audit_append(c, x->ctx, NULL, "host", x->h->id, SOV_OUTCOME_OK, err);
}

/* Another machine answers: the host goes down (or stays down, now for this reason) and
 * receives nothing until an operator confirms the machine or the registered one is back. */
static int
apply_mismatch(sov_ctx *ctx, const repo_host_probe *h, const sov_hv_identity *seen,
               bool *ret_moved, sov_error *err)
{
    move_args x = { ctx, h, "down", MISMATCH_REASON, false, seen };

    *ret_moved = false;
    if (sov_ctx_tx(ctx, mismatch_tx, &x, err) < 0)
        return -1;
    if (!x.moved)
        return 0;
    sov_log_warn("host '%s' is down: a different machine (%s) answers at '%s', not %s; it "
                 "receives no placements until an operator confirms it "
                 "(POST /v1/hosts/%s/confirm-machine)", h->name, seen->machine_id,
                 h->libvirt_uri, h->machine_id, h->id);
    *ret_moved = true;
    return 0;
}

/* A host registered before machine identities: its first check records its machine. Two
 * such hosts on one machine were both accepted then; neither is taken out of service behind
 * the operator's back (its guests run there): the second stays without a machine, and the
 * log says so at every pass until an operator deletes one of them. */
static int
adopt(sov_ctx *ctx, const repo_host_probe *h, const sov_hv_identity *seen, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    char owner[SOV_NAME_MAX + 1] = "";

    if (!seen->machine_id[0])
        return 0;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (sov_repo_host_adopt(c, h->id, seen, err) == 0)
        return 0;
    if (err->code != SOV_E_CONFLICT)
        return -1;
    sov_error_clear(err);
    if (sov_repo_host_machine_owner(c, seen->machine_id, h->id, owner, sizeof(owner), err) < 0)
        return -1;
    sov_log_warn("host '%s' at '%s' is the same machine (%s) as host '%s', both registered "
                 "before machines were told apart; delete one of them", h->name,
                 h->libvirt_uri, seen->machine_id, owner);
    return 0;
}

/* checked_at for the hosts not left out (moved ones have it, unprobed ones keep theirs),
 * in one statement. */
static int
touch_unchanged(sov_ctx *ctx, const repo_host_probe *hosts, const bool *skip, size_t n,
                sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autofree const char **ids = calloc(n ? n : 1, sizeof(*ids));
    sov_buf list = SOV_BUF_INIT;
    size_t k = 0;
    int rc;

    if (!ids)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!skip[i])
            ids[k++] = hosts[i].id;
    if (k == 0)
        return 0;
    sov_buf_pg_array(&list, ids, k);
    if (list.oom)
        rc = sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    else if ((rc = sov_db_acquire(ctx->db, &c, err)) == 0)
        rc = sov_repo_host_touch(c, list.data, err);
    sov_buf_release(&list);
    return rc;
}

/* ---- the reconciler's pass: hosts down past host_down_grace ---- */

typedef struct expire_args {
    sov_ctx *ctx;
    const repo_host_down_instance *x;
    char reason[128];
    bool done;
} expire_args;

static int
expire_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    expire_args *a = arg;
    sov_op_page ops = { 0 };
    char state[16], tenant[SOV_UUID_LEN + 1];
    bool busy;

    a->done = false;
    /* The row's lock first: operations are queued under it. One under way (a delete, a
     * migration, a create retrying) owns the instance: it fails against the host and sets
     * the state itself. */
    if (sov_repo_instance_state(c, a->x->id, true, state, sizeof(state), err) < 0 ||
        sov_op_pending(c, a->x->id, NULL, NULL, &ops, err) < 0)
        return -1;
    busy = ops.n > 0;
    free(ops.items);
    if (busy || strcmp(state, a->x->state) != 0)
        return 0;
    if (sov_repo_instance_repair(c, a->x->id, state, "error", a->reason, tenant, sizeof(tenant),
                                 err) < 0)
        return -1;
    if (!tenant[0])
        return 0;
    a->ctx->action = "instances.host-down";
    if (sov_audit_append(c, a->ctx, tenant, "instance", a->x->id, SOV_OUTCOME_OK, err) < 0)
        return -1;
    a->done = true;
    return 0;
}

/* The instances of every host down for longer than host_down_grace go to error, with the
 * reason "host down since <time>", each audited once (it is in error afterwards, and no
 * longer chosen). Nothing restarts elsewhere: their disks are on that host (compute/README,
 * "Shared storage"). */
static int
down_expired(sov_ctx *ctx, sov_error *err)
{
    sov_autofree repo_host_down_instance *xs = NULL;
    unsigned grace = ctx->cfg && ctx->cfg->host_down_grace ? ctx->cfg->host_down_grace : 300;
    const char *action = ctx->action;
    size_t n = 0;

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_host_down_expired(c, grace, &xs, &n, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        expire_args a = { .ctx = ctx, .x = &xs[i] };
        sov_error e = SOV_ERROR_INIT;

        snprintf(a.reason, sizeof(a.reason), SOV_HOST_DOWN_REASON "%s", xs[i].down_since);
        if (sov_ctx_tx(ctx, expire_tx, &a, &e) < 0)
            sov_log_warn("reconciler: could not put instance %s of down host '%s' in error: %s",
                         xs[i].id, xs[i].host, e.detail[0] ? e.detail : e.msg);
        else if (a.done)
            sov_log_warn("reconciler: instance %s %s -> error: host '%s' down since %s, longer "
                         "than host_down_grace (%u s); it restarts nowhere else (its disks are "
                         "on that host)", xs[i].id, xs[i].state, xs[i].host, xs[i].down_since,
                         grace);
    }
    ctx->action = action;
    return 0;
}

/* A probe gets as long as the pause between passes, within 2 to 10 s: enough for a remote
 * daemon across a slow link, short enough that a pass (and a stop) never drags on. */
static unsigned
probe_timeout(const sov_ctx *ctx)
{
    unsigned t = ctx->cfg && ctx->cfg->host_check_interval ? ctx->cfg->host_check_interval : 10;

    return t < 2 ? 2 : t > 10 ? 10 : t;
}

int
sov_host_check_all(sov_ctx *ctx, unsigned *ret_changed, sov_error *err)
{
    sov_autofree repo_host_probe *hosts = NULL, *copy = NULL;
    sov_autofree verdict *v = NULL;
    sov_autofree char(*reason)[256] = NULL;
    sov_autofree sov_hv_identity *seen = NULL;
    sov_autofree bool *skip = NULL;     /* checked_at stays: moved, or never probed */
    unsigned timeout = probe_timeout(ctx), changed = 0;
    size_t n = 0;

    {
        /* The connection goes back to the pool before libvirt is asked anything. */
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_host_probe_list(c, &hosts, &n, err) < 0)
            return -1;
    }
    /* The probe threads get a copy of their own: they may outlive this pass. */
    copy = malloc((n + 1) * sizeof(*copy));
    skip = calloc(n + 1, sizeof(*skip));
    if (!copy || !skip)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    memcpy(copy, hosts, n * sizeof(*copy));
    if (probe_all(SOV_TAKE_PTR(copy), n, timeout, &v, &reason, &seen, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == V_WAITING) {
            skip[i] = true;
            continue;
        }
        if (strcmp(hosts[i].state, "up") != 0 && strcmp(hosts[i].state, "down") != 0) {
            if (v[i] == V_RUNNING)
                snprintf(reason[i], sizeof(reason[i]), "no answer within %u s", timeout);
            else if (v[i] == V_STUCK)
                snprintf(reason[i], sizeof(reason[i]), "still no answer to an earlier check");
            else if (v[i] == V_MISMATCH)
                snprintf(reason[i], sizeof(reason[i]), "%s", MISMATCH_REASON);
            skip[i] = true;     /* checked_at is set with down_since */
            if (apply_held(ctx, &hosts[i], v[i] == V_OK, reason[i], err) < 0)
                return -1;
            continue;
        }
        if (v[i] == V_OK && !hosts[i].machine_id[0] && adopt(ctx, &hosts[i], &seen[i], err) < 0)
            return -1;
        if (v[i] == V_MISMATCH) {
            if (apply_mismatch(ctx, &hosts[i], &seen[i], &skip[i], err) < 0)
                return -1;
            changed += skip[i] ? 1 : 0;
            continue;
        }
        if (v[i] == V_RUNNING)
            snprintf(reason[i], sizeof(reason[i]), "no answer within %u s", timeout);
        else if (v[i] == V_STUCK)
            snprintf(reason[i], sizeof(reason[i]), "still no answer to an earlier check");
        if (apply(ctx, &hosts[i], v[i] == V_OK, reason[i], &skip[i], err) < 0)
            return -1;
        changed += skip[i] ? 1 : 0;
    }
    if (touch_unchanged(ctx, hosts, skip, n, err) < 0 || down_expired(ctx, err) < 0)
        return -1;
    sov_log_debug("checked %zu hosts, %u changed state", n, changed);
    *ret_changed = changed;
    return 0;
}
