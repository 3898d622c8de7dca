/* host.c: the rules of hosts (the reconciler's pass over them is host_check.c).
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
