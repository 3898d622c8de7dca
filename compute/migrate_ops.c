/* migrate_ops.c: the "instance.migrate" worker. The request (migrate.c) reserved the
 * target's room and made the instance 'migrating'; this moves it:
 *
 *   live: the target's pool, NAT network, image copy, boot overlay (same name, backing and
 *         size) and seed (sent: libvirt copies no read-only disk), the hooks' PREPARE, then
 *         libvirt's live migration with storage copy, to the target's address.
 *   cold: the guest stopped, the target prepared, the overlay and seed sent, the hooks'
 *         PREPARE and COPY, the domain defined (and started, if it ran) on the target.
 *
 * then ONE transaction commits the move (reservation released, allocation moved, the
 * instance's host, region and zone, a "moved" residency record, the hooks' COMMIT, the
 * audit entry), and the source is cleaned (domain, disk, seed, console log; hooks' FINISH).
 * A failure before the commit undoes the target's part (hooks' ABORT, the files PREPARE
 * made; the image copy stays, recorded) and the guest stays on its source, in the state it
 * had, with the reason. Each step may run twice: the handler first looks where the domain
 * is, and a worker that died after the switch commits rather than aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compute_int.h"
#include "sov/audit.h"
#include "sov/log.h"

typedef struct mjob {
    sov_op_run *run;
    const sov_op *op;
    sov_ctx *ctx;
    sov_instance x;             /* as loaded: host_id is the source until the commit */
    repo_migration m;
    repo_mhost src, dst;
    sov_hv *shv, *dhv;
    bool live;
    char back[16];              /* the state it returns to: running or stopped */
    char disk[96], seed[96], console[96];
    char address[256];          /* the target's, from its URI */
    long long downtime_ms;
} mjob;

static void
mjob_release(mjob *j)
{
    sov_hv_close(j->shv);
    sov_hv_close(j->dhv);
    sov_instance_release(&j->x);
}

#define mjob_auto SOV_CLEANUP(mjob_release) mjob

/* The host part of a libvirt URI (qemu+tcp://user@ADDR:port/system): what QEMU's streams
 * dial (never a host name: PLATFORM.md). "" for a URI without one (test:///...). */
static void
uri_address(const char *uri, char *out, size_t size)
{
    const char *p = strstr(uri, "://"), *end;
    const char *at;

    out[0] = '\0';
    if (!p)
        return;
    p += 3;
    end = p + strcspn(p, "/?");
    at = memchr(p, '@', (size_t) (end - p));
    if (at)
        p = at + 1;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t) (end - p));
        if (close)
            snprintf(out, size, "%.*s", (int) (close - p - 1), p + 1);
        return;
    }
    end = p + strcspn(p, ":/?");
    snprintf(out, size, "%.*s", (int) (end - p), p);
}

static int
load(sov_op_run *run, const sov_op *op, mjob *j, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    char kind[8] = "", back[16] = "";

    memset(j, 0, sizeof(*j));
    j->run = run;
    j->op = op;
    j->ctx = sov_op_ctx(run);
    j->downtime_ms = -1;
    if (sscanf(op->arg, "%7s %15s", kind, back) != 2)
        return sov_error_set(err, SOV_E_INTERNAL, "migration operation %s has no arguments",
                             op->id);
    j->live = strcmp(kind, "live") == 0;
    snprintf(j->back, sizeof(j->back), "%s", strcmp(back, "running") == 0 ? "running"
                                                                          : "stopped");
    if (sov_db_acquire(j->ctx->db, &c, err) < 0 ||
        sov_repo_instance_get(c, NULL, op->resource_id, false, &j->x, err) < 0 ||
        sov_repo_migration_by_op(c, op->id, &j->m, err) < 0)
        return -1;
    if (!j->m.m.source_host_id[0] || !j->m.m.target_host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "host '%s' or '%s' was removed",
                             j->m.m.source_host, j->m.m.target_host);
    if (sov_repo_mhost_get(c, j->m.m.source_host_id, false, &j->src, err) < 0 ||
        sov_repo_mhost_get(c, j->m.m.target_host_id, false, &j->dst, err) < 0)
        return -1;
    snprintf(j->disk, sizeof(j->disk), "sov-%s-disk", j->x.id);
    snprintf(j->seed, sizeof(j->seed), "sov-%s-seed", j->x.id);
    snprintf(j->console, sizeof(j->console), "sov-%s-console.log", j->x.id);
    uri_address(j->dst.uri, j->address, sizeof(j->address));
    return 0;
}

static int
open_one(const repo_mhost *h, sov_hv **hv, sov_error *err)
{
    if (*hv)
        return 0;
    /* A host that does not answer may come back: the queue retries. */
    if (sov_hv_open(h->uri, hv, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        snprintf(err->msg, sizeof(err->msg), "could not connect to host '%s'", h->name);
        return -1;
    }
    return 0;
}

static int
open_hosts(mjob *j, sov_error *err)
{
    return open_one(&j->src, &j->shv, err) < 0 || open_one(&j->dst, &j->dhv, err) < 0 ? -1 : 0;
}

static int
step(mjob *j, const char *what, int progress, sov_error *err)
{
    return sov_op_step(j->run, what, progress, err);
}

static int
mig_state(mjob *j, const char *state, const char *reason, long long downtime_ms,
          sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(j->ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_migration_set_state(c, j->m.m.id, state, reason, downtime_ms, err);
}

/* What the hooks see of this migration; hosts only in the phases outside transactions. */
static void
move_of(mjob *j, bool hosts, const sov_policy *policy, sov_instance_move *mv)
{
    memset(mv, 0, sizeof(*mv));
    mv->inst = &j->x;
    mv->migration_id = j->m.m.id;
    mv->op = j->op;
    mv->live = j->live;
    mv->source_host_id = j->src.id;
    mv->target_host_id = j->dst.id;
    mv->source_host_name = j->src.name;
    mv->target_host_name = j->dst.name;
    mv->source_machine = j->src.host_uuid;
    mv->target_machine = j->dst.host_uuid;
    mv->source = hosts ? j->shv : NULL;
    mv->target = hosts ? j->dhv : NULL;
    mv->from = &j->src.loc;
    mv->to = &j->dst.loc;
    mv->policy = policy;
}

static int
hooks(mjob *j, sov_migrate_phase phase, sov_error *err)
{
    sov_instance_move mv;

    move_of(j, true, NULL, &mv);
    return sov_instance_hooks_migrate(NULL, j->ctx, phase, &mv, err);
}

/* ---- the target's part ---- */

static int
ensure_pool(mjob *j, sov_error *err)
{
    const sov_config *cfg = j->ctx->cfg;
    char path[4096];
    sov_hv_node node;

    if (sov_hv_pool_path(j->dhv, cfg->storage_pool, path, sizeof(path), err) == 0)
        return 0;
    if (err->code != SOV_E_NOT_FOUND)
        return -1;
    sov_error_clear(err);
    return sov_hv_discover(j->dhv, cfg->storage_pool, cfg->storage_pool_path, &node, err);
}

static bool
volume_exists(sov_hv *hv, const char *pool, const char *name, sov_error *err)
{
    char path[4096];

    if (sov_hv_volume_path(hv, pool, name, path, sizeof(path), err) == 0)
        return true;
    if (err->code == SOV_E_NOT_FOUND)
        sov_error_clear(err);
    return false;
}

/* What the domain needs on the target before it comes: the pool, the NAT network, the
 * image's copy (recorded: "copied"), the boot disk (live: an empty overlay of the same
 * name, backing and size, which the migration fills; cold: the source's, sent) and the
 * seed (sent: read-only, libvirt copies it in neither case). */
static int
prepare_target(mjob *j, sov_error *err)
{
    const sov_config *cfg = j->ctx->cfg;
    char vol[96], fmt[8];

    if (step(j, "preparing the target host", 15, err) < 0 ||
        mig_state(j, "preparing", "", -1, err) < 0)
        return -1;
    if (j->x.nat_nic && sov_hv_network_ensure(j->dhv, cfg->nat_network, cfg->nat_cidr, err) < 0)
        return -1;
    if (ensure_pool(j, err) < 0)
        return -1;
    /* The seed first: its send refuses a target pool that is the source's own folder (hosts
     * sharing one), before anything below deletes or replaces a file there. */
    if (step(j, "cloud-init seed on the target", 20, err) < 0 ||
        sov_hv_volume_send(j->shv, cfg->storage_pool, j->seed, j->dhv, err) < 0)
        return -1;
    if (j->x.image_id[0] && !j->x.boot_volume_id[0]) {
        if (sov_image_ensure_on_host(j->ctx, j->dhv, j->x.image_id, j->dst.id, &j->dst.loc,
                                     j->op->id, vol, sizeof(vol), fmt, sizeof(fmt), err) < 0)
            return -1;
        if (step(j, "boot disk on the target", 25, err) < 0)
            return -1;
        if (j->live) {
            /* A fresh overlay, always: the storage copy writes only what the source's top
             * layer holds, so an earlier attempt's file would keep blocks the guest never
             * wrote. The guest runs on the source (the caller looked), so nothing on the
             * target has it open. */
            if (sov_hv_volume_delete(j->dhv, cfg->storage_pool, j->disk, err) < 0 ||
                sov_hv_volume_overlay(j->dhv, cfg->storage_pool, j->disk, vol, fmt,
                                      j->x.disk_gib, err) < 0)
                return -1;
        } else if (sov_hv_volume_send(j->shv, cfg->storage_pool, j->disk, j->dhv, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The files prepare_target made on the target (not the image's copy: recorded, shared). */
static void
remove_target_files(mjob *j)
{
    const char *pool = j->ctx->cfg->storage_pool;
    sov_error ignored = SOV_ERROR_INIT;

    if (!j->dhv)
        return;
    sov_hv_volume_delete(j->dhv, pool, j->disk, &ignored);
    sov_hv_volume_delete(j->dhv, pool, j->seed, &ignored);
    sov_hv_volume_delete(j->dhv, pool, j->console, &ignored);
}

/* ---- live ---- */

static void
on_progress(void *arg, const sov_hv_job *job)
{
    mjob *j = arg;
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    char what[128];
    int pct = job->percent < 0 ? 0 : job->percent > 100 ? 100 : job->percent;

    /* Another thread: a connection of its own; the step renews the operation's lease. */
    if (sov_db_acquire(j->ctx->db, &c, &err) == 0)
        sov_repo_migration_progress(c, j->m.m.id, job, &err);
    sov_db_release(SOV_TAKE_PTR(c));
    snprintf(what, sizeof(what), "copying memory and disks: %d%%", pct);
    step(j, what, 35 + pct / 2, &err);
}

static int
live_copy(mjob *j, sov_error *err)
{
    const sov_config *cfg = j->ctx->cfg;
    sov_hv_job job;
    sov_hv_migrate_args a = {
        .dest_uri = j->dst.uri, .address = j->address, .copy_storage = true,
        .auto_converge = cfg->migration_auto_converge, .timeout_s = cfg->migration_timeout_s,
        .max_downtime_ms = cfg->migration_max_downtime_ms, .progress = on_progress, .arg = j,
    };

    if (step(j, "copying memory and disks", 35, err) < 0 ||
        mig_state(j, "copying", "", -1, err) < 0)
        return -1;
    memset(&job, 0, sizeof(job));
    job.downtime_ms = -1;
    if (sov_hv_migrate(j->shv, j->dhv, j->x.id, &a, &job, err) < 0)
        return -1;
    j->downtime_ms = job.downtime_ms;
    on_progress(j, &job);
    return 0;
}

/* ---- cold ---- */

/* The guest off: the ACPI button, then, after stop_timeout, the plug. */
static int
stop_source(mjob *j, sov_error *err)
{
    unsigned limit = j->ctx->cfg->stop_timeout;
    struct timespec start, now;
    sov_domain_state s;

    if (sov_hv_state(j->shv, j->x.id, &s, err) < 0)
        return -1;
    if (s == SOV_DOMAIN_STOPPED || s == SOV_DOMAIN_NONE)
        return 0;
    if (step(j, "stopping the guest", 10, err) < 0 ||
        sov_hv_stop(j->shv, j->x.id, false, err) < 0)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec t = { 0, 200000000L };
        if (sov_hv_state(j->shv, j->x.id, &s, err) < 0)
            return -1;
        if (s == SOV_DOMAIN_STOPPED || s == SOV_DOMAIN_NONE)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((unsigned) (now.tv_sec - start.tv_sec) >= limit)
            break;
        nanosleep(&t, NULL);
    }
    sov_log_info("instance %s did not shut down within %u s: powering it off for its "
                 "migration", j->x.id, limit);
    return sov_hv_stop(j->shv, j->x.id, true, err);
}

/* The domain on the target, built again for its virt type and pool. */
static int
define_target(mjob *j, sov_error *err)
{
    char pool_path[4096], log_path[4300], name[64], cp[SOV_UUID_LEN + 1];
    sov_autofree char *xml = NULL;
    sov_instance there = j->x;
    int rc;

    there.placement = NULL;     /* a shallow copy: the placement stays j->x's */
    snprintf(there.host_id, sizeof(there.host_id), "%s", j->dst.id);
    snprintf(there.host_name, sizeof(there.host_name), "%s", j->dst.name);
    if (sov_hv_pool_path(j->dhv, j->ctx->cfg->storage_pool, pool_path, sizeof(pool_path),
                         err) < 0 ||
        sov_control_plane_id(j->ctx->db, cp, err) < 0)
        return -1;
    snprintf(log_path, sizeof(log_path), "%s/%s", pool_path, j->console);
    snprintf(name, sizeof(name), "sov-%s", j->x.id);
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec spec = {
        .uuid = j->x.id, .name = name, .tenant_id = j->x.tenant_id, .control_plane = cp,
        .virt_type = strcmp(j->dst.hypervisor, "qemu") == 0 ? "qemu" : "kvm",
        .vcpus = j->x.vcpus, .memory_mib = j->x.memory_mib, .console_log = log_path,
    };
    rc = sov_domain_spec_build(j->ctx, &there, &spec, err);
    if (rc == SOV_OP_LATER)
        return sov_error_set(err, SOV_E_CONFLICT, "a part of the instance is not ready");
    if (rc < 0 || sov_domain_xml(&spec, &xml, err) < 0)
        return -1;
    return sov_hv_define(j->dhv, xml, err);
}

static int
cold_copy(mjob *j, sov_error *err)
{
    sov_domain_state s;

    if (step(j, "copying disks", 40, err) < 0 || mig_state(j, "copying", "", -1, err) < 0 ||
        hooks(j, SOV_MIGRATE_COPY, err) < 0)
        return -1;
    if (step(j, "defining the domain on the target", 70, err) < 0 ||
        mig_state(j, "switching", "", -1, err) < 0 || define_target(j, err) < 0)
        return -1;
    if (strcmp(j->back, "running") != 0)
        return 0;
    if (sov_hv_state(j->dhv, j->x.id, &s, err) < 0)
        return -1;
    if (s == SOV_DOMAIN_RUNNING)
        return 0;
    return step(j, "starting on the target", 80, err) < 0 ? -1
                                                           : sov_hv_start(j->dhv, j->x.id, err);
}

/* ---- commit ---- */

static int
commit_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    mjob *j = arg;
    char alloc[SOV_UUID_LEN + 1], state[16], reason[512];
    sov_instance_move mv;
    sov_policy policy;
    const char *was = j->ctx->action;
    bool live_row;
    int rc;

    if (sov_repo_instance_lock_allocation(c, j->x.id, &live_row, alloc, sizeof(alloc), err) < 0 ||
        sov_repo_instance_state(c, j->x.id, false, state, sizeof(state), err) < 0)
        return -1;
    if (!live_row || strcmp(state, "migrating") != 0)
        return 0;   /* committed by an earlier run */
    if (j->m.reservation_id[0] &&
        (sov_placement_release(c, j->m.reservation_id, err) < 0 ||
         sov_repo_migration_reservation_clear(c, j->m.m.id, err) < 0))
        return -1;
    if (alloc[0] && sov_placement_move(c, alloc, j->dst.id, err) < 0)
        return -1;
    if (sov_repo_instance_move_host(c, j->x.id, &j->dst, j->back, err) < 0 ||
        sov_policy_load(c, j->x.tenant_id, &policy, err) < 0)
        return -1;
    snprintf(reason, sizeof(reason), "%s migration %s from host %s to host %s",
             j->live ? "live" : "cold", j->m.m.id, j->src.name, j->dst.name);
    if (sov_residency_record(c, j->x.tenant_id, "instance", j->x.id, "moved", &j->src.loc,
                             &j->dst.loc, &policy, reason, j->op->id, err) < 0)
        return -1;
    move_of(j, false, &policy, &mv);
    if (sov_instance_hooks_migrate(c, j->ctx, SOV_MIGRATE_COMMIT, &mv, err) < 0 ||
        sov_repo_migration_set_state(c, j->m.m.id, "cleaning", "", j->downtime_ms, err) < 0)
        return -1;
    j->ctx->action = "instances.migrate";
    rc = sov_audit_append(c, j->ctx, j->x.tenant_id, "instance", j->x.id, SOV_OUTCOME_OK, err);
    j->ctx->action = was;
    return rc;
}

static int
commit(mjob *j, sov_error *err)
{
    if (step(j, "recording the move", 90, err) < 0 ||
        mig_state(j, "committing", "", j->downtime_ms, err) < 0)
        return -1;
    return sov_db_tx(j->ctx->db, commit_tx, j, err);
}

/* The source's copy goes: its domain (libvirt undefined it after a live switch; a cold
 * move undefines it here), boot disk, seed and console logs; then the hooks' FINISH. */
static int
finish(mjob *j, sov_error *err)
{
    const char *pool = j->ctx->cfg->storage_pool;
    sov_domain_state s;
    char name[128];

    if (step(j, "cleaning the source host", 95, err) < 0 || open_hosts(j, err) < 0 ||
        sov_hv_state(j->shv, j->x.id, &s, err) < 0)
        return -1;
    if (s != SOV_DOMAIN_NONE && sov_hv_undefine(j->shv, j->x.id, err) < 0)
        return -1;
    if (sov_hv_volume_delete(j->shv, pool, j->disk, err) < 0 ||
        sov_hv_volume_delete(j->shv, pool, j->seed, err) < 0 ||
        sov_hv_volume_delete(j->shv, pool, j->console, err) < 0)
        return -1;
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof(name), "%s.%d", j->console, i);
        if (!volume_exists(j->shv, pool, name, err))
            break;
        if (sov_hv_volume_delete(j->shv, pool, name, err) < 0)
            return -1;
    }
    if (err->code != SOV_OK || hooks(j, SOV_MIGRATE_FINISH, err) < 0)
        return -1;
    return mig_state(j, "succeeded", "", -1, err);
}

/* ---- abort ---- */

typedef struct abort_args {
    mjob *j;
    const char *reason;
    bool stranded;      /* the guest runs on the target only: never undone */
} abort_args;

static int
abort_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    static const char *const from[] = { "migrating", NULL };
    abort_args *a = arg;
    mjob *j = a->j;
    char reason[512];

    if (j->m.reservation_id[0] && !a->stranded) {
        if (sov_placement_release(c, j->m.reservation_id, err) < 0) {
            if (err->code != SOV_E_NOT_FOUND)
                return -1;
            sov_error_clear(err);
        }
        if (sov_repo_migration_reservation_clear(c, j->m.m.id, err) < 0)
            return -1;
    }
    if (a->stranded)
        snprintf(reason, sizeof(reason), "migration to host %s could not be recorded: %s; the "
                 "guest runs on host %s", j->dst.name, a->reason, j->dst.name);
    else
        snprintf(reason, sizeof(reason), "migration to host %s failed: %s; the guest stays on "
                 "host %s", j->dst.name, a->reason, j->src.name);
    if (sov_repo_instance_set_state(c, j->x.id, from, a->stranded ? "error" : j->back, reason,
                                    NULL, err) < 0) {
        if (err->code != SOV_E_CONFLICT)
            return -1;
        sov_error_clear(err);
    }
    return sov_repo_migration_set_state(c, j->m.m.id, "failed", a->reason, -1, err);
}

/* Everything before the commit undone, best effort, and recorded: the guest stays (or runs
 * again) on its source. A guest found on the target only is left there, in error. */
static int
abort_move(mjob *j, const char *reason, sov_error *err)
{
    sov_error ignored = SOV_ERROR_INIT;
    sov_domain_state s_src = SOV_DOMAIN_OTHER, s_dst = SOV_DOMAIN_NONE;
    abort_args a = { j, reason, false };
    int rc;

    open_one(&j->src, &j->shv, &ignored);
    open_one(&j->dst, &j->dhv, &ignored);
    if (j->shv)
        sov_hv_state(j->shv, j->x.id, &s_src, &ignored);
    if (j->dhv)
        sov_hv_state(j->dhv, j->x.id, &s_dst, &ignored);
    a.stranded = j->shv && s_src == SOV_DOMAIN_NONE && s_dst != SOV_DOMAIN_NONE;
    if (!a.stranded) {
        if (j->dhv && s_dst != SOV_DOMAIN_NONE)
            sov_hv_undefine(j->dhv, j->x.id, &ignored);
        remove_target_files(j);
        if (j->shv && strcmp(j->back, "running") == 0 && s_src == SOV_DOMAIN_STOPPED)
            sov_hv_start(j->shv, j->x.id, &ignored);
    }
    rc = sov_db_tx(j->ctx->db, abort_tx, &a, err);
    /* The hooks' ABORT once the migration is recorded failed: network/ brings the ports back
     * to the source's chassis by syncing what the rows say, which is "source and target"
     * while the migration is under way; storage/ removes the target's copies, its domain
     * gone first. */
    if (!a.stranded) {
        sov_instance_move mv;
        move_of(j, true, NULL, &mv);
        sov_instance_hooks_migrate(NULL, j->ctx, SOV_MIGRATE_ABORT, &mv, &ignored);
    }
    return rc;
}

/* A failure before the commit ends the migration here, with the reason (the guest stays on
 * its source), rather than retrying a copy: the operation fails saying why. */
static int
failed(mjob *j, sov_error *err)
{
    sov_error mine = SOV_ERROR_INIT;
    char reason[512];

    if (err->code == SOV_E_CONFLICT && err->reason == SOV_R_OP_LOST)
        return -1;      /* no longer ours: whoever owns it now decides */
    snprintf(reason, sizeof(reason), "%s", err->msg);
    if (abort_move(j, reason, &mine) < 0) {
        sov_log_warn("instance %s: could not record the failed migration %s: %s", j->x.id,
                     j->m.m.id, mine.msg);
        return -1;
    }
    if (err->code == SOV_E_UNAVAILABLE)
        err->code = SOV_E_CONFLICT;     /* undone: nothing left to retry */
    return -1;
}

int
sov_instance_migrate_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    mjob_auto j;
    sov_domain_state s_src, s_dst;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.m.m.state, "succeeded") == 0 || strcmp(j.m.m.state, "failed") == 0)
        return 0;
    /* Committed by an earlier run: only the source's cleaning is left. */
    if (strcmp(j.m.m.state, "cleaning") == 0 || strcmp(j.x.host_id, j.dst.id) == 0)
        return finish(&j, err);
    if (strcmp(j.x.state, "migrating") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "instance '%s' is %s, not migrating",
                             j.x.name, j.x.state);
    if (step(&j, "connecting to the hosts", 5, err) < 0 || open_hosts(&j, err) < 0 ||
        sov_hv_state(j.shv, j.x.id, &s_src, err) < 0 ||
        sov_hv_state(j.dhv, j.x.id, &s_dst, err) < 0)
        return -1;
    /* The switch happened (an earlier run died after it): commit, never abort. */
    if (s_src == SOV_DOMAIN_NONE && s_dst != SOV_DOMAIN_NONE) {
        if (commit(&j, err) < 0)
            return -1;
        return finish(&j, err);
    }
    if (s_src == SOV_DOMAIN_NONE) {
        sov_error_set(err, SOV_E_CONFLICT, "instance '%s' has no domain on host %s", j.x.name,
                      j.src.name);
        return failed(&j, err);
    }
    if (!j.live && stop_source(&j, err) < 0)
        return failed(&j, err);
    if (prepare_target(&j, err) < 0 || hooks(&j, SOV_MIGRATE_PREPARE, err) < 0)
        return failed(&j, err);
    if (j.live ? live_copy(&j, err) < 0 : cold_copy(&j, err) < 0)
        return failed(&j, err);
    if (j.live && mig_state(&j, "switching", "", j.downtime_ms, err) < 0)
        return -1;
    if (commit(&j, err) < 0)
        return -1;  /* retried: the domain is on the target, the next run commits */
    return finish(&j, err);
}

int
sov_instance_migrate_failed(sov_op_run *run, const sov_op *op, const char *reason,
                            sov_error *err)
{
    mjob_auto j;
    sov_error ignored = SOV_ERROR_INIT;

    if (load(run, op, &j, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? (sov_error_clear(err), 0) : -1;
    if (strcmp(j.m.m.state, "succeeded") == 0 || strcmp(j.m.m.state, "failed") == 0)
        return 0;
    /* Moved, but the source could not be cleaned: the move stands, said in the row. */
    if (strcmp(j.m.m.state, "cleaning") == 0 || strcmp(j.x.host_id, j.dst.id) == 0) {
        char why[512];
        snprintf(why, sizeof(why), "moved; the source host was not cleaned: %s", reason);
        mig_state(&j, "succeeded", why, -1, &ignored);
        return 0;
    }
    return abort_move(&j, reason, err);
}
