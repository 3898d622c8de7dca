/* instance_reconcile.c: the reconciler's look at what hosts really run.
 *
 * For each host that is up, the domains named sov-* are compared with the instances the
 * database places there. An instance the database calls running or stopped whose domain is
 * gone becomes error, with the reason; a guest that powered itself off becomes stopped (and
 * one started behind our back running). An instance put in error because its host stayed
 * down past host_down_grace goes back to running (or stopped) when its host answers again
 * and its domain runs (or is shut off); with its domain gone it stays in error. A domain carrying our metadata that no live instance
 * owns is an orphan (a database restored from a backup, or a hand-made domain): destroyed
 * with its volumes, or left alone and reported, by orphan_policy. Instances with an
 * operation under way are the worker's business and are skipped. Usage of every host is
 * recomputed from its allocation rows. Each repair is an audit entry. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "host_repo.h"
#include "sov/audit.h"
#include "sov/log.h"

typedef struct pass {
    sov_ctx *ctx;
    unsigned repairs, orphans;
    char control_plane[SOV_UUID_LEN + 1];
} pass;

static const sov_hv_domain *
find_domain(const sov_hv_domain *doms, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(doms[i].uuid, id) == 0 || strcmp(doms[i].instance_id, id) == 0)
            return &doms[i];
    return NULL;
}

/* Whether an operation on instance id is queued or running. */
static int
busy(sov_dbconn *c, const char *id, bool *ret, sov_error *err)
{
    sov_op_page ops = { 0 };

    if (sov_op_pending(c, id, NULL, NULL, &ops, err) < 0)
        return -1;
    *ret = ops.n > 0;
    free(ops.items);
    return 0;
}

typedef struct repair_args {
    pass *p;
    const char *id, *from, *to, *reason;
    bool done;
} repair_args;

static int
repair_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    repair_args *a = arg;
    char state[16], tenant[SOV_UUID_LEN + 1];
    bool taken;

    a->done = false;
    /* The row's lock first: an operation is queued only under it, so none is queued before
     * this commits, and one queued already is seen. */
    if (sov_repo_instance_state(c, a->id, true, state, sizeof(state), err) < 0 ||
        busy(c, a->id, &taken, err) < 0)
        return -1;
    if (taken || strcmp(state, a->from) != 0)
        return 0;
    if (sov_repo_instance_repair(c, a->id, a->from, a->to, a->reason, tenant, sizeof(tenant),
                                 err) < 0)
        return -1;
    if (!tenant[0])
        return 0;
    a->p->ctx->action = "instances.reconcile";
    if (sov_audit_append(c, a->p->ctx, tenant, "instance", a->id, SOV_OUTCOME_OK, err) < 0)
        return -1;
    a->done = true;
    return 0;
}

/* Move an instance from `from` to `to` unless an operation took it meanwhile; audited. */
static void
repair(pass *p, const char *id, const char *from, const char *to, const char *reason)
{
    sov_error err = SOV_ERROR_INIT;
    repair_args a = { .p = p, .id = id, .from = from, .to = to, .reason = reason };

    if (sov_db_tx(p->ctx->db, repair_tx, &a, &err) < 0) {
        sov_log_warn("reconciler: could not repair instance %s: %s", id,
                     err.detail[0] ? err.detail : err.msg);
        return;
    }
    if (!a.done)
        return;
    p->repairs++;
    sov_log_warn("reconciler: instance %s %s -> %s: %s", id, from, to, reason);
}

/* Orphans kept under orphan_policy adopt, remembered so each is reported once. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static char kept[256][37];
static size_t nkept;

static bool
first_sighting(const char *uuid)
{
    bool first = true;

    pthread_mutex_lock(&kept_lock);
    for (size_t i = 0; i < nkept && first; i++)
        first = strcmp(kept[i], uuid) != 0;
    if (first)
        snprintf(kept[nkept++ % 256], sizeof(kept[0]), "%s", uuid);
    if (nkept > 256)
        nkept = 256;
    pthread_mutex_unlock(&kept_lock);
    return first;
}

static void
orphan(pass *p, sov_hv *hv, const char *host, const sov_hv_domain *d)
{
    sov_error err = SOV_ERROR_INIT;
    char vol[128];
    static const char *const suffix[] = { "disk", "seed", "console.log" };
    sov_domain_state now;

    /* Listed a moment ago, and maybe removed since by the delete that made its instance
     * deleted: only a domain still there is an orphan (else every such race is reported,
     * audited and "removed" again). */
    if (sov_hv_state(hv, d->uuid, &now, &err) == 0 && now == SOV_DOMAIN_NONE)
        return;
    sov_error_clear(&err);
    if (strcmp(p->ctx->cfg->orphan_policy, "adopt") == 0) {
        /* Said once per domain and sovd, not on every pass. */
        if (first_sighting(d->uuid)) {
            sov_log_warn("reconciler: domain %s on host %s belongs to no instance; kept "
                         "(orphan_policy adopt)", d->name, host);
            p->ctx->action = "instances.orphan-kept";
            sov_audit_append_alone(p->ctx, sov_uuid_valid(d->tenant_id) ? d->tenant_id : NULL,
                                   "domain", d->uuid, SOV_OUTCOME_OK, &err);
        }
        return;
    }
    if (sov_hv_undefine(hv, d->uuid, &err) < 0) {
        sov_log_warn("reconciler: could not remove orphan domain %s on host %s: %s", d->name,
                     host, err.msg);
        return;
    }
    for (size_t i = 0; i < SOV_N_ELEMENTS(suffix); i++) {
        snprintf(vol, sizeof(vol), "sov-%s-%s", d->uuid, suffix[i]);
        sov_hv_volume_delete(hv, p->ctx->cfg->storage_pool, vol, &err);
    }
    p->orphans++;
    p->ctx->action = "instances.orphan-removed";
    sov_audit_append_alone(p->ctx, sov_uuid_valid(d->tenant_id) ? d->tenant_id : NULL,
                           "domain", d->uuid, SOV_OUTCOME_OK, &err);
    sov_log_warn("reconciler: removed orphan domain %s on host %s (no instance owns it)",
                 d->name, host);
}

/* A domain whose instance the database does not know, or knows as deleted. */
static bool
is_orphan(pass *p, const sov_hv_domain *d)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    const char *id = d->instance_id[0] ? d->instance_id : d->uuid;
    char state[16];
    bool taken;

    /* Only what this deployment made can be its orphan: another sovereign sharing the host
     * (or a domain that only looks like ours) is none of its business. */
    if (strcmp(d->control_plane, p->control_plane) != 0)
        return false;
    if (!sov_uuid_valid(id) || sov_db_acquire(p->ctx->db, &c, &err) < 0 ||
        sov_repo_instance_state(c, id, false, state, sizeof(state), &err) < 0)
        return false;   /* unsure: leave it */
    if (!state[0])
        return true;
    if (strcmp(state, "deleted") != 0 || busy(c, id, &taken, &err) < 0)
        return false;
    return !taken;
}

/* The live instances of a host, and whether an operation is under way for each. */
static int
host_instances(pass *p, const char *host_id, repo_instance_brief **ret, bool **ret_busy,
               size_t *ret_n, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autofree repo_instance_brief *xs = NULL;
    sov_autofree bool *taken = NULL;
    size_t n = 0;

    if (sov_db_acquire(p->ctx->db, &c, err) < 0 ||
        sov_repo_instance_on_host(c, host_id, &xs, &n, err) < 0)
        return -1;
    taken = calloc(n + 1, sizeof(*taken));
    if (!taken)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (busy(c, xs[i].id, &taken[i], err) < 0)
            return -1;
    *ret = SOV_TAKE_PTR(xs);
    *ret_busy = SOV_TAKE_PTR(taken);
    *ret_n = n;
    return 0;
}

static void
check_host(pass *p, const char *host_id, const char *host, const char *uri)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_hv) hv = NULL;
    sov_autofree sov_hv_domain *doms = NULL;
    sov_autofree repo_instance_brief *xs = NULL;
    sov_autofree bool *taken = NULL;
    size_t n = 0, nx = 0;

    /* The rows first, then the domains: a create defines its domain before it marks the
     * instance running, so a list taken after the rows holds the domain of every instance
     * they call running or stopped. The other order judges an instance that became running
     * meanwhile by a list from before its domain existed ("its domain is gone"). */
    if (host_instances(p, host_id, &xs, &taken, &nx, &err) < 0)
        return;
    if (sov_hv_open(uri, &hv, &err) < 0 || sov_hv_list(hv, "sov-", &doms, &n, &err) < 0) {
        sov_log_debug("reconciler: host %s not checked: %s", host, err.msg);
        return;
    }
    for (size_t i = 0; i < nx; i++) {
        const char *id = xs[i].id, *state = xs[i].state;
        const sov_hv_domain *d = find_domain(doms, n, id);
        char reason[256];

        /* Put in error while its host stayed down past host_down_grace: now that the host
         * answers, what runs there decides. A domain running or shut off takes its instance
         * back to running or stopped; a domain gone leaves it in error, as it was. */
        if (!taken[i] && xs[i].host_down && d) {
            if (d->state == SOV_DOMAIN_RUNNING)
                repair(p, id, "error", "running", "its host answers again; its domain runs");
            else if (d->state == SOV_DOMAIN_STOPPED)
                repair(p, id, "error", "stopped", "its host answers again; its domain is "
                                                  "shut off");
            continue;
        }
        if (taken[i] || (strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0))
            continue;
        if (!d) {
            snprintf(reason, sizeof(reason), "its domain is gone from host %s", host);
            repair(p, id, state, "error", reason);
        } else if (strcmp(state, "running") == 0 && d->state == SOV_DOMAIN_STOPPED) {
            repair(p, id, "running", "stopped", "the guest powered itself off");
        } else if (strcmp(state, "stopped") == 0 && d->state == SOV_DOMAIN_RUNNING) {
            repair(p, id, "stopped", "running", "the domain was started on the host");
        } else if (d->state == SOV_DOMAIN_RUNNING && xs[i].nat_nic) {
            /* Only the NAT network's leases are read from the host; an instance on tenant
             * networks shows its ports' addresses (network/ holds them). */
            char addresses[256];
            if (sov_hv_addresses(hv, id, addresses, sizeof(addresses), &err) == 0 &&
                addresses[0]) {
                sov_autoptr(sov_dbconn) c = NULL;
                if (sov_db_acquire(p->ctx->db, &c, &err) == 0)
                    sov_repo_instance_set_addresses(c, id, addresses, &err);
            }
        }
    }
    for (size_t k = 0; k < n; k++)
        if (is_orphan(p, &doms[k]))
            orphan(p, hv, host, &doms[k]);
}

int
sov_instances_reconcile(sov_ctx *ctx, unsigned *ret_repairs, sov_error *err)
{
    sov_autofree repo_host_probe *hosts = NULL;
    sov_autofree repo_host_probe *drift = NULL;
    size_t nhosts = 0, ndrift = 0;
    pass p = { ctx, 0, 0, "" };

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_host_probe_list(c, &hosts, &nhosts, err) < 0)
            return -1;
    }
    if (sov_control_plane_id(ctx->db, p.control_plane, err) < 0)
        return -1;
    for (size_t i = 0; i < nhosts; i++)
        if (strcmp(hosts[i].state, "up") == 0)
            check_host(&p, hosts[i].id, hosts[i].name, hosts[i].libvirt_uri);
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_host_recount(c, &drift, &ndrift, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < ndrift; i++) {
        sov_error ignored = SOV_ERROR_INIT;
        sov_log_warn("reconciler: usage of host %s recomputed from its allocations",
                     drift[i].name);
        ctx->action = "hosts.usage-recomputed";
        sov_audit_append_alone(ctx, NULL, "host", drift[i].id, SOV_OUTCOME_OK, &ignored);
    }
    *ret_repairs = p.repairs + p.orphans + (unsigned) ndrift;
    return 0;
}
