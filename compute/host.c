/* host.c: the rules of hosts, and the reconciler's pass over them.
 *
 * Adding a host records it ('discovering') with a "host.register" operation; a worker opens
 * its libvirt URI and records what discovery finds, including which machine it is: one
 * machine is one host, whatever URI reaches it. No HTTP thread ever waits on libvirt, and no
 * transaction is held open while libvirt works (a slow hypervisor must not pin a pooled
 * connection or the audit chain's lock). Each change and its audit entry commit together.
 * Hosts belong to the cloud, not to a tenant: their audit entries carry no tenant of their
 * own and are filed under the operator's. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compute_int.h"
#include "sov/buf.h"
#include "host_repo.h"
#include "sov/audit.h"
#include "sov/log.h"

#define DEFAULT_CPU_RATIO 4.0
#define DEFAULT_RAM_RATIO 1.0
#define URI_MAX 1000
/* Probes run side by side: one hypervisor that takes its time to refuse must not hold up
 * the check of hundreds of others. */
#define PROBE_THREADS 8
/* The state_reason of a host whose URI now reaches another machine. */
#define MISMATCH_REASON "a different machine answers at this URI"

/* ---- validation ---- */

static int
not_found(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "host '%s' does not exist", id);
}

static int
check_uri(const char *uri, sov_error *err)
{
    size_t n = uri ? strlen(uri) : 0;

    if (n == 0)
        return sov_error_invalid(err, "libvirt_uri", "libvirt_uri is required");
    if (n > URI_MAX)
        return sov_error_invalid(err, "libvirt_uri", "libvirt_uri must be at most %d characters",
                                 URI_MAX);
    for (const unsigned char *p = (const unsigned char *) uri; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return sov_error_invalid(err, "libvirt_uri",
                                     "libvirt_uri must not contain control characters");
    return 0;
}

/* v <= 0 means "not given"; a given ratio must survive the column's two decimals. */
static int
check_ratio(const char *field, double v, sov_error *err)
{
    if (v > 0 && (v < 0.01 || v > 100))
        return sov_error_invalid(err, field, "%s must be a number from 0.01 to 100", field);
    return 0;
}

static void
ratio_text(double v, char *buf, size_t size)
{
    snprintf(buf, size, "%.6f", v);
}

static const char *
pool_name(const sov_ctx *ctx)
{
    return ctx->cfg && ctx->cfg->storage_pool ? ctx->cfg->storage_pool : "sovereign";
}

static const char *
pool_path(const sov_ctx *ctx)
{
    return ctx->cfg && ctx->cfg->storage_pool_path ? ctx->cfg->storage_pool_path
                                                   : "/var/lib/sovereign/pool";
}

static unsigned
clamp_limit(unsigned limit)
{
    return limit == 0 ? 100 : limit > 1000 ? 1000 : limit;
}

/* ---- create: the request ---- */

typedef struct create_args {
    sov_ctx *ctx;
    const sov_host_create_args *a;
    char cpu_ratio[32], ram_ratio[32];
    sov_host host;
    sov_op op;
    sov_host *ret;      /* the caller's, filled inside the transaction: an Idempotency-Key's */
    sov_op *ret_op;     /* answer is rendered from them before COMMIT */
} create_args;

/* The host's row and its operation commit together: a worker finds every 'discovering' host
 * with its operation, and a crash leaves no host without one. Hosts belong to the cloud:
 * the operation is filed under the operator's own tenant. */
static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *x = arg;
    const char *tenant = x->ctx->who ? x->ctx->who->tenant_id : NULL;

    if (!tenant)
        return sov_error_set(err, SOV_E_INTERNAL, "no operator to file the operation under");
    if (sov_repo_host_insert_discovering(c, x->a, x->cpu_ratio, x->ram_ratio, &x->host, err) < 0 ||
        sov_op_enqueue(c, x->ctx, tenant, "host.register", "host", x->host.id, NULL, &x->op,
                       err) < 0)
        return -1;
    if (sov_audit_append(c, x->ctx, NULL, "host", x->host.id, SOV_OUTCOME_ACCEPTED, err) < 0)
        return -1;
    *x->ret = x->host;
    *x->ret_op = x->op;
    return 0;
}

/* Cheap refusals first, before anything is written. */
static int
create_precheck(sov_ctx *ctx, const sov_host_create_args *a, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    bool region = false, zone = false, taken = false;
    char owner[SOV_NAME_MAX + 1];

    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_zone_exists(c, a->region, a->zone, &region, &zone, err) < 0)
        return -1;
    if (!region)
        return sov_error_invalid(err, "region", "region '%s' does not exist", a->region);
    if (!zone)
        return sov_error_invalid(err, "zone", "zone '%s' does not exist in region '%s'",
                                 a->zone, a->region);
    if (sov_repo_host_name_taken(c, a->name, &taken, err) < 0)
        return -1;
    if (taken)
        return sov_error_set(err, SOV_E_CONFLICT, "host name '%s' is taken", a->name);
    /* The same URI string is the same machine for sure: no need to ask libvirt. Another
     * URI reaching the same machine is the worker's to find (unique index on machine_id). */
    if (sov_repo_host_uri_owner(c, a->libvirt_uri, owner, sizeof(owner), err) < 0)
        return -1;
    if (owner[0])
        return sov_error_set(err, SOV_E_CONFLICT,
                             "'%.200s' is already registered as host '%s'; a machine is one "
                             "host", a->libvirt_uri, owner);
    return 0;
}

int
sov_host_create(sov_ctx *ctx, const sov_host_create_args *a, sov_host *ret, sov_op *op,
                sov_error *err)
{
    create_args x = { .ctx = ctx, .a = a, .ret = ret, .ret_op = op };

    if (sov_check_slug("name", a->name, err) < 0 ||
        sov_check_slug("region", a->region, err) < 0 ||
        sov_check_slug("zone", a->zone, err) < 0 || check_uri(a->libvirt_uri, err) < 0 ||
        check_ratio("cpu_allocation_ratio", a->cpu_allocation_ratio, err) < 0 ||
        check_ratio("ram_allocation_ratio", a->ram_allocation_ratio, err) < 0)
        return -1;
    /* Host routes take a name for the id: a name that reads as an id would name two. */
    if (sov_uuid_valid(a->name))
        return sov_error_invalid(err, "name", "a host name cannot be a UUID");
    ratio_text(a->cpu_allocation_ratio > 0 ? a->cpu_allocation_ratio : DEFAULT_CPU_RATIO,
               x.cpu_ratio, sizeof(x.cpu_ratio));
    ratio_text(a->ram_allocation_ratio > 0 ? a->ram_allocation_ratio : DEFAULT_RAM_RATIO,
               x.ram_ratio, sizeof(x.ram_ratio));
    if (create_precheck(ctx, a, err) < 0 || sov_ctx_tx(ctx, create_tx, &x, err) < 0)
        return -1;
    sov_log_info("host '%s' (%s) registered in %s/%s at '%s': discovery queued as operation "
                 "%s", x.host.name, x.host.id, x.host.region, x.host.zone,
                 x.host.libvirt_uri, x.op.id);
    return 0;
}

/* ---- create: the worker's discovery ---- */

/* How long discovery may take. libvirt cannot cancel a call to a daemon that hangs (stopped,
 * deadlocked): the call runs on a thread of its own, and the worker gives up on it. */
#define DISCOVER_TIMEOUT_S 30

typedef struct discovery {
    pthread_mutex_t lock;
    pthread_cond_t cv;          /* on CLOCK_MONOTONIC */
    unsigned refs;
    bool done;
    char uri[1024], pool[256], pool_path[4096];
    sov_hv_node node;
    sov_hv_identity machine;
    sov_error err;
} discovery;

static void
discovery_unref(discovery *d)
{
    bool last;

    pthread_mutex_lock(&d->lock);
    last = --d->refs == 0;
    pthread_mutex_unlock(&d->lock);
    if (!last)
        return;
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static void *
discovery_main(void *arg)
{
    discovery *d = arg;
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node node;
    sov_hv_identity machine;

    memset(&node, 0, sizeof(node));
    memset(&machine, 0, sizeof(machine));
    {
        sov_autoptr(sov_hv) hv = NULL;
        if (sov_hv_open(d->uri, &hv, &err) == 0 &&
            sov_hv_discover(hv, d->pool, d->pool_path, &node, &err) == 0)
            sov_hv_identify(hv, &machine, &err);
    }
    pthread_mutex_lock(&d->lock);
    d->node = node;
    d->machine = machine;
    d->err = err;
    d->done = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->lock);
    discovery_unref(d);
    return NULL;
}

/* Open, discover and identify, for at most timeout_s. Whatever keeps us from knowing the
 * host fails its registration, told with libvirt's words: SOV_E_UNREACHABLE. */
static int
discover(sov_ctx *ctx, const char *uri, unsigned timeout_s, sov_hv_node *ret,
         sov_hv_identity *ret_machine, sov_error *err)
{
    discovery *d = calloc(1, sizeof(*d));
    pthread_condattr_t ca;
    pthread_attr_t attr;
    pthread_t th;
    struct timespec until;
    bool done;

    if (!d)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    d->refs = 2;
    snprintf(d->uri, sizeof(d->uri), "%s", uri);
    snprintf(d->pool, sizeof(d->pool), "%s", pool_name(ctx));
    snprintf(d->pool_path, sizeof(d->pool_path), "%s", pool_path(ctx));
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, discovery_main, d) != 0) {
        pthread_attr_destroy(&attr);
        d->refs = 1;
        discovery_unref(d);
        return sov_error_set(err, SOV_E_INTERNAL, "could not start a discovery thread");
    }
    pthread_attr_destroy(&attr);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t) timeout_s;
    pthread_mutex_lock(&d->lock);
    while (!d->done && pthread_cond_timedwait(&d->cv, &d->lock, &until) != ETIMEDOUT)
        ;
    done = d->done;
    if (done) {
        *ret = d->node;
        *ret_machine = d->machine;
        *err = d->err;
    }
    pthread_mutex_unlock(&d->lock);
    discovery_unref(d);
    if (!done)
        return sov_error_set(err, SOV_E_UNREACHABLE,
                             "the hypervisor at '%.200s' did not answer discovery within %u s",
                             uri, timeout_s);
    if (err->code == SOV_OK)
        return 0;
    if (err->code == SOV_E_UNAVAILABLE)
        err->code = SOV_E_UNREACHABLE;
    /* Hosts are an operator's business: libvirt's own words are what they need. */
    if (err->detail[0] && !strstr(err->msg, err->detail)) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%.*s: %.*s", 120, err->msg, 128, err->detail);
        snprintf(err->msg, sizeof(err->msg), "%s", msg);
    }
    return -1;
}

typedef struct discovered_args {
    sov_ctx *ctx;
    const sov_host *host;
    const sov_hv_node *node;
    const sov_hv_identity *machine;
    sov_host after;
} discovered_args;

static int
machine_taken(const sov_host *h, const char *owner, sov_error *err)
{
    sov_error_set(err, SOV_E_CONFLICT,
                  "the machine at '%.200s' is already host '%s'; a machine is one host",
                  h->libvirt_uri, owner);
    return sov_error_reason(err, SOV_R_MACHINE_TAKEN);
}

static int
discovered_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    discovered_args *x = arg;
    char owner[SOV_NAME_MAX + 1];

    if (sov_repo_host_machine_owner(c, x->machine->machine_id, x->host->id, owner, sizeof(owner),
                                    err) < 0)
        return -1;
    if (owner[0])
        return machine_taken(x->host, owner, err);
    if (sov_repo_host_discovered(c, x->host->id, x->node, x->machine, &x->after, err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, NULL, "host", x->host->id, SOV_OUTCOME_OK, err);
}

/* A registration racing ours for the same machine committed first: name it. */
static int
name_winner(sov_ctx *ctx, const sov_host *h, const char *machine_id, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_error e2 = SOV_ERROR_INIT;
    char owner[SOV_NAME_MAX + 1] = "";

    if (sov_db_acquire(ctx->db, &c, &e2) == 0)
        sov_repo_host_machine_owner(c, machine_id, h->id, owner, sizeof(owner), &e2);
    sov_error_clear(err);
    return machine_taken(h, owner[0] ? owner : "(another)", err);
}

int
sov_host_register_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    sov_ctx *ctx = sov_op_ctx(run);
    sov_host h;
    sov_hv_node node;
    sov_hv_identity machine;
    discovered_args x = { .ctx = ctx, .host = &h, .node = &node, .machine = &machine };

    memset(&node, 0, sizeof(node));
    memset(&machine, 0, sizeof(machine));
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_host_get(c, op->resource_id, false, &h, err) < 0)
            return -1;
    }
    if (strcmp(h.state, "discovering") != 0)
        return 0;   /* an earlier run finished it */
    if (sov_op_step(run, "discovering", 10, err) < 0 ||
        discover(ctx, h.libvirt_uri, DISCOVER_TIMEOUT_S, &node, &machine, err) < 0)
        return -1;
    if (sov_op_step(run, "recording", 80, err) < 0)
        return -1;
    if (sov_ctx_tx(ctx, discovered_tx, &x, err) < 0) {
        if (err->code == SOV_E_CONFLICT && err->reason != SOV_R_MACHINE_TAKEN)
            return name_winner(ctx, &h, machine.machine_id, err);
        return -1;
    }
    sov_log_info("host '%s' discovered at '%s' (machine %s): %s%s%s, %d cpus, %lld MiB, "
                 "%lld GiB in pool '%s', %d GPUs", h.name, h.libvirt_uri, machine.machine_id,
                 node.hypervisor, node.hypervisor_reason[0] ? " because " : "",
                 node.hypervisor_reason, node.cpus, node.memory_mib, node.storage_gib,
                 node.storage_pool, node.gpus);
    return 0;
}

/* The registration failed for good: the host stays, in state 'error' with the reason, for
 * the operator to read and delete; placement never uses it. */
int
sov_host_register_failed(sov_op_run *run, const sov_op *op, const char *reason,
                         sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(sov_op_ctx(run)->db, &c, err) < 0)
        return -1;
    return sov_repo_host_discovery_failed(c, op->resource_id, reason, err);
}

/* ---- read ---- */

int
sov_host_get(sov_ctx *ctx, const char *id, sov_host *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_host_get(c, id, false, ret, err);
}

int
sov_host_resolve(sov_ctx *ctx, const char *id_or_name, char *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_uuid_valid(id_or_name)) {
        snprintf(ret, SOV_UUID_LEN + 1, "%s", id_or_name);
        return 0;
    }
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_host_id_by_name(c, id_or_name, ret, err);
}

static bool
state_known(const char *s)
{
    return strcmp(s, "up") == 0 || strcmp(s, "down") == 0 || strcmp(s, "disabled") == 0 ||
           strcmp(s, "draining") == 0 || strcmp(s, "maintenance") == 0 ||
           strcmp(s, "discovering") == 0 || strcmp(s, "error") == 0;
}

int
sov_host_list(sov_ctx *ctx, const char *region, const char *state, const char *after,
              unsigned limit, sov_host_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (state && !state_known(state))
        return sov_error_invalid(err, "state", "state must be up, down, disabled, draining, "
                                               "maintenance, discovering or error");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_host_list(c, region, state, after, clamp_limit(limit), ret, err);
}

/* ---- update, delete ---- */

typedef struct change_args {
    sov_ctx *ctx;
    const char *id, *state, *reason;
    char cpu_ratio[32], ram_ratio[32];
    sov_host host;
} change_args;

static int
update_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    change_args *x = arg;
    sov_host now;

    /* Only a host that is known can be offered to placement. */
    if (x->state && (sov_repo_host_get(c, x->id, true, &now, err) < 0))
        return -1;
    if (x->state && (strcmp(now.state, "discovering") == 0 || strcmp(now.state, "error") == 0))
        return sov_error_set(err, SOV_E_CONFLICT, "host '%s' is %s; its state cannot be set",
                             now.name, now.state);
    if (x->state && strcmp(x->state, "up") == 0 && now.machine_seen.machine_id[0])
        return sov_error_set(err, SOV_E_CONFLICT,
                             "a different machine answers at the URI of host '%s'; confirm "
                             "it first (POST /v1/hosts/%s/confirm-machine)", now.name, now.id);
    if (sov_repo_host_update(c, x->id, x->state, x->reason, x->cpu_ratio[0] ? x->cpu_ratio : NULL,
                             x->ram_ratio[0] ? x->ram_ratio : NULL, &x->host, err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, NULL, "host", x->id, SOV_OUTCOME_OK, err);
}

int
sov_host_update(sov_ctx *ctx, const char *id, const char *state, double cpu_ratio,
                double ram_ratio, sov_host *ret, sov_error *err)
{
    change_args x = { .ctx = ctx, .id = id, .state = state };

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    /* down says "libvirt does not answer": only a probe may claim that, and only a probe
     * takes it back. An operator keeps a host out with disabled, draining or maintenance
     * (what an evacuation also leaves behind). */
    if (state && strcmp(state, "down") == 0)
        return sov_error_invalid(err, "state", "state 'down' is the reconciler's, set when a "
                                               "host stops answering; use disabled, draining "
                                               "or maintenance");
    if (state && strcmp(state, "up") != 0 && strcmp(state, "disabled") != 0 &&
        strcmp(state, "draining") != 0 && strcmp(state, "maintenance") != 0)
        return sov_error_invalid(err, "state",
                                 "state must be up, disabled, draining or maintenance");
    if (check_ratio("cpu_allocation_ratio", cpu_ratio, err) < 0 ||
        check_ratio("ram_allocation_ratio", ram_ratio, err) < 0)
        return -1;
    x.reason = !state || strcmp(state, "up") == 0 ? "" : "set by an operator";
    if (cpu_ratio > 0)
        ratio_text(cpu_ratio, x.cpu_ratio, sizeof(x.cpu_ratio));
    if (ram_ratio > 0)
        ratio_text(ram_ratio, x.ram_ratio, sizeof(x.ram_ratio));
    if (sov_ctx_tx(ctx, update_tx, &x, err) < 0)
        return -1;
    *ret = x.host;
    return 0;
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    change_args *x = arg;
    sov_host h;
    long n = 0;
    char what[128];

    /* The row lock keeps a placement from claiming the host while we count. */
    if (sov_repo_host_get(c, x->id, true, &h, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "host '%s'", h.name);
    if (sov_repo_host_blockers(c, x->id, what, err) < 0 ||
        sov_repo_host_allocations(c, x->id, &n, err) < 0)
        return -1;
    if (n > 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "host '%s' still holds %ld allocation%s; move or delete them first",
                             h.name, n, n == 1 ? "" : "s");
    if (sov_repo_host_delete(c, x->id, err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, NULL, "host", x->id, SOV_OUTCOME_DELETED, err);
}

int
sov_host_delete(sov_ctx *ctx, const char *id, sov_error *err)
{
    change_args x = { .ctx = ctx, .id = id };

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    return sov_ctx_tx(ctx, delete_tx, &x, err);
}

typedef struct confirm_args {
    sov_ctx *ctx;
    const char *id;
    sov_host host;
} confirm_args;

static int
confirm_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    confirm_args *x = arg;
    sov_host now;
    char owner[SOV_NAME_MAX + 1];
    bool found = false;

    if (sov_repo_host_get(c, x->id, true, &now, err) < 0)
        return -1;
    if (!now.machine_seen.machine_id[0])
        return sov_error_set(err, SOV_E_CONFLICT,
                             "host '%s' has no different machine to confirm", now.name);
    if (sov_repo_host_machine_owner(c, now.machine_seen.machine_id, now.id, owner, sizeof(owner),
                                    err) < 0)
        return -1;
    if (owner[0])
        return sov_error_set(err, SOV_E_CONFLICT,
                             "the machine now at '%.200s' is already host '%s'; a machine is "
                             "one host", now.libvirt_uri, owner);
    if (sov_repo_host_confirm(c, x->id, "machine confirmed by an operator; up at the next check",
                              &x->host, &found, err) < 0)
        return -1;
    if (!found)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "host '%s' has no different machine to confirm", now.name);
    return sov_audit_append(c, x->ctx, NULL, "host", x->id, SOV_OUTCOME_OK, err);
}

int
sov_host_confirm_machine(sov_ctx *ctx, const char *id, sov_host *ret, sov_error *err)
{
    confirm_args x = { .ctx = ctx, .id = id };

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_ctx_tx(ctx, confirm_tx, &x, err) < 0)
        return -1;
    sov_log_info("host '%s': an operator confirmed machine %s at '%s'", x.host.name,
                 x.host.machine.machine_id, x.host.libvirt_uri);
    *ret = x.host;
    return 0;
}

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
