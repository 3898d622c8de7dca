/* instance_reconcile.c: the reconciler's look at what hosts really run.
 *
 * For each host that is up, the domains named sov-* are compared with the instances the
 * database places there. An instance the database calls running or stopped whose domain is
 * gone becomes error, with the reason; a guest that powered itself off becomes stopped (and
 * one started behind our back running). A domain carrying our metadata that no live instance
 * owns is an orphan (a database restored from a backup, or a hand-made domain): destroyed
 * with its volumes, or left alone and reported, by orphan_policy. Instances with an
 * operation under way are the worker's business and are skipped. Usage of every host is
 * recomputed from its allocation rows. Each repair is an audit entry. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "sov/audit.h"
#include "sov/log.h"

static const char SQL_UP_HOSTS[] =
    "SELECT id, name, libvirt_uri FROM hosts WHERE state = 'up' ORDER BY name";

/* Live instances of a host, and whether an operation is under way for each. */
static const char SQL_HOST_INSTANCES[] =
    "SELECT i.id, i.tenant_id, i.state, EXISTS (SELECT 1 FROM operations o WHERE"
    " o.resource_id = i.id::text AND o.state IN ('queued', 'running'))"
    " FROM instances i WHERE i.host_id = $1 AND i.state <> 'deleted'";

/* Does the database know this instance at all (any state), and is it busy? */
static const char SQL_KNOWN[] =
    "SELECT state, EXISTS (SELECT 1 FROM operations o WHERE o.resource_id = $1"
    " AND o.state IN ('queued', 'running')) FROM instances WHERE id = $1::uuid";

static const char SQL_REPAIR[] =
    "UPDATE instances SET state = $2, state_reason = $3, updated_at = now(),"
    " addresses = CASE WHEN $2 = 'running' THEN addresses ELSE '' END"
    " WHERE id = $1 AND state = $4 AND NOT EXISTS (SELECT 1 FROM operations o"
    " WHERE o.resource_id = $1::text AND o.state IN ('queued', 'running')) RETURNING tenant_id";

/* Usage as the allocation rows say; a row differing is drift, corrected. */
static const char SQL_RECOUNT[] =
    "WITH real AS (SELECT h.id, coalesce(sum(a.vcpus), 0) AS v,"
    " coalesce(sum(a.memory_mib), 0) AS m, coalesce(sum(a.disk_gib), 0) AS d,"
    " coalesce(sum(a.gpus), 0) AS g FROM hosts h LEFT JOIN host_allocations a"
    " ON a.host_id = h.id GROUP BY h.id)"
    " UPDATE hosts h SET vcpus_used = r.v, memory_mib_used = r.m, disk_gib_used = r.d,"
    " gpus_used = r.g FROM real r WHERE h.id = r.id AND (h.vcpus_used, h.memory_mib_used,"
    " h.disk_gib_used, h.gpus_used) IS DISTINCT FROM (r.v, r.m, r.d, r.g) RETURNING h.name, h.id";

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

/* Move an instance from `from` to `to` unless an operation took it meanwhile; audited. */
static void
repair(pass *p, const char *id, const char *from, const char *to, const char *reason)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { id, to, reason, from };
    char tenant[SOV_UUID_LEN + 1];

    if (sov_db_acquire(p->ctx->db, &c, &err) < 0 ||
        sov_db_query(c, "BEGIN", 0, NULL, NULL, &err) < 0 ||
        sov_db_query(c, SQL_REPAIR, 4, params, &res, &err) < 0)
        goto fail;
    if (PQntuples(res) == 0) {
        sov_db_query(c, "ROLLBACK", 0, NULL, NULL, &err);
        return;
    }
    sov_db_copy(tenant, sizeof(tenant), res, 0, 0);
    p->ctx->action = "instances.reconcile";
    if (sov_audit_append(c, p->ctx, tenant, "instance", id, 200, &err) < 0 ||
        sov_db_query(c, "COMMIT", 0, NULL, NULL, &err) < 0)
        goto fail;
    p->repairs++;
    sov_log_warn("reconciler: instance %s %s -> %s: %s", id, from, to, reason);
    return;
fail:
    sov_log_warn("reconciler: could not repair instance %s: %s", id,
                 err.detail[0] ? err.detail : err.msg);
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
                                   "domain", d->uuid, 200, &err);
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
                           "domain", d->uuid, 200, &err);
    sov_log_warn("reconciler: removed orphan domain %s on host %s (no instance owns it)",
                 d->name, host);
}

/* A domain whose instance the database does not know, or knows as deleted. */
static bool
is_orphan(pass *p, const sov_hv_domain *d)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(PGresult) res = NULL;
    const char *id = d->instance_id[0] ? d->instance_id : d->uuid;
    const char *params[] = { id };

    /* Only what this deployment made can be its orphan: another sovereign sharing the host
     * (or a domain that only looks like ours) is none of its business. */
    if (strcmp(d->control_plane, p->control_plane) != 0)
        return false;
    if (!sov_uuid_valid(id) || sov_db_acquire(p->ctx->db, &c, &err) < 0 ||
        sov_db_query(c, SQL_KNOWN, 1, params, &res, &err) < 0)
        return false;   /* unsure: leave it */
    if (PQntuples(res) == 0)
        return true;
    return strcmp(PQgetvalue(res, 0, 0), "deleted") == 0 && PQgetvalue(res, 0, 1)[0] == 'f';
}

static void
check_host(pass *p, const char *host_id, const char *host, const char *uri)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_hv) hv = NULL;
    sov_autofree sov_hv_domain *doms = NULL;
    size_t n = 0;
    sov_autoptr(PGresult) res = NULL;
    const char *params[] = { host_id };

    /* The rows first, then the domains: a create defines its domain before it marks the
     * instance running, so a list taken after the rows holds the domain of every instance
     * they call running or stopped. The other order judges an instance that became running
     * meanwhile by a list from before its domain existed ("its domain is gone"). */
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(p->ctx->db, &c, &err) < 0 ||
            sov_db_query(c, SQL_HOST_INSTANCES, 1, params, &res, &err) < 0)
            return;
    }
    if (sov_hv_open(uri, &hv, &err) < 0 || sov_hv_list(hv, "sov-", &doms, &n, &err) < 0) {
        sov_log_debug("reconciler: host %s not checked: %s", host, err.msg);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = PQgetvalue(res, i, 0), *state = PQgetvalue(res, i, 2);
        bool busy = PQgetvalue(res, i, 3)[0] == 't';
        const sov_hv_domain *d = find_domain(doms, n, id);
        char reason[256];

        if (busy || (strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0))
            continue;
        if (!d) {
            snprintf(reason, sizeof(reason), "its domain is gone from host %s", host);
            repair(p, id, state, "error", reason);
        } else if (strcmp(state, "running") == 0 && d->state == SOV_DOMAIN_STOPPED) {
            repair(p, id, "running", "stopped", "the guest powered itself off");
        } else if (strcmp(state, "stopped") == 0 && d->state == SOV_DOMAIN_RUNNING) {
            repair(p, id, "stopped", "running", "the domain was started on the host");
        } else if (d->state == SOV_DOMAIN_RUNNING) {
            char addresses[256];
            if (sov_hv_addresses(hv, id, addresses, sizeof(addresses), &err) == 0 &&
                addresses[0]) {
                sov_autoptr(sov_dbconn) c = NULL;
                if (sov_db_acquire(p->ctx->db, &c, &err) == 0)
                    repo_instance_set_addresses(c, id, addresses, &err);
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
    sov_autoptr(PGresult) hosts = NULL;
    sov_autoptr(PGresult) drift = NULL;
    pass p = { ctx, 0, 0, "" };

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_db_query(c, SQL_UP_HOSTS, 0, NULL, &hosts, err) < 0)
            return -1;
    }
    if (sov_control_plane_id(ctx->db, p.control_plane, err) < 0)
        return -1;
    for (int i = 0; i < PQntuples(hosts); i++)
        check_host(&p, PQgetvalue(hosts, i, 0), PQgetvalue(hosts, i, 1),
                   PQgetvalue(hosts, i, 2));
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_db_query(c, SQL_RECOUNT, 0, NULL, &drift, err) < 0)
            return -1;
    }
    for (int i = 0; i < PQntuples(drift); i++) {
        sov_error ignored = SOV_ERROR_INIT;
        sov_log_warn("reconciler: usage of host %s recomputed from its allocations",
                     PQgetvalue(drift, i, 0));
        ctx->action = "hosts.usage-recomputed";
        sov_audit_append_alone(ctx, NULL, "host", PQgetvalue(drift, i, 1), 200, &ignored);
    }
    *ret_repairs = p.repairs + p.orphans + (unsigned) PQntuples(drift);
    return 0;
}
