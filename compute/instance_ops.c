/* instance_ops.c: what workers do for instances. Each handler may run twice (a retry, or a
 * takeover after a crash), so each step first looks whether it is already done: a volume
 * that exists is kept, a defined domain is redefined the same, a running one is left. A
 * handler that finds its instance being deleted stops: the delete cleans up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compute_int.h"
#include "sov/log.h"
#include "sov/quota.h"
#include "sov/registry.h"

/* Everything a handler needs about its instance and host. */
typedef struct job {
    sov_op_run *run;
    const sov_op *op;
    const char *op_id;
    sov_ctx *ctx;
    sov_instance x;
    repo_instance_host host;
    sov_hv *hv;
    char disk[96], seed[96], console[96];
} job;

static void
job_release(job *j)
{
    sov_hv_close(j->hv);
    sov_instance_release(&j->x);
}

#define job_auto SOV_CLEANUP(job_release) job

static int
load(sov_op_run *run, const sov_op *op, job *j, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    memset(j, 0, sizeof(*j));
    j->run = run;
    j->op = op;
    j->op_id = op->id;
    j->ctx = sov_op_ctx(run);
    if (sov_db_acquire(j->ctx->db, &c, err) < 0 ||
        sov_repo_instance_get(c, NULL, op->resource_id, false, &j->x, err) < 0)
        return -1;
    snprintf(j->disk, sizeof(j->disk), "sov-%s-disk", j->x.id);
    snprintf(j->seed, sizeof(j->seed), "sov-%s-seed", j->x.id);
    snprintf(j->console, sizeof(j->console), "sov-%s-console.log", j->x.id);
    if (j->x.host_id[0] && sov_repo_instance_host_get(c, j->x.host_id, &j->host, err) < 0)
        return -1;
    return 0;
}

static int
connect_host(job *j, sov_error *err)
{
    if (!j->x.host_id[0])
        return sov_error_set(err, SOV_E_INTERNAL, "instance '%s' has no host", j->x.name);
    /* A host that does not answer may come back: the queue retries. */
    if (sov_hv_open(j->host.uri, &j->hv, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        snprintf(err->msg, sizeof(err->msg), "could not connect to host '%s'", j->host.name);
        return -1;
    }
    return 0;
}

/* Move the instance, in a transaction of its own. */
static int
set_state(job *j, const char *const *from, const char *state, const char *reason,
          sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(j->ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_instance_set_state(c, j->x.id, from, state, reason, NULL, err);
}

/* Whether a delete overtook this operation: then it stops, and leaves the rest to it. */
static bool
overtaken(job *j)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_instance_release) sov_instance now = { .placement = NULL };

    if (sov_db_acquire(j->ctx->db, &c, &err) < 0 ||
        sov_repo_instance_get(c, NULL, j->x.id, false, &now, &err) < 0)
        return false;
    return strcmp(now.state, "deleting") == 0 || strcmp(now.state, "deleted") == 0;
}

static int
step(job *j, const char *what, int progress, sov_error *err)
{
    return sov_op_step(j->run, what, progress, err);
}

/* The storage pool that discovery made when the host was added may be gone since: a pool
 * removed by hand, a libvirtd reinstalled, or libvirt's test driver, which forgets everything
 * when its daemon restarts. Like the network, it is made again when missing. */
static int
ensure_pool(job *j, sov_error *err)
{
    const sov_config *cfg = j->ctx->cfg;
    char path[4096];
    sov_hv_node node;

    if (sov_hv_pool_path(j->hv, cfg->storage_pool, path, sizeof(path), err) == 0)
        return 0;
    if (err->code != SOV_E_NOT_FOUND)
        return -1;
    sov_error_clear(err);
    sov_log_warn("host '%s' has no storage pool '%s': making it again at '%s'", j->host.name,
                 cfg->storage_pool, cfg->storage_pool_path);
    return sov_hv_discover(j->hv, cfg->storage_pool, cfg->storage_pool_path, &node, err);
}

/* The image's bytes in the host's pool (compute/image_ops.c): where the copy is, the host in
 * the instance's (and the image's) region. */
static int
ensure_image(job *j, char *volume, size_t size, char *format, size_t fsize, sov_error *err)
{
    sov_location at = j->x.residency;

    snprintf(at.host, sizeof(at.host), "%s", j->host.name);
    return sov_image_ensure_on_host(j->ctx, j->hv, j->x.image_id, j->x.host_id, &at, j->op_id,
                                    volume, size, format, fsize, err);
}

static int
ensure_seed(job *j, sov_error *err)
{
    char vpath[4096], dir[] = "/tmp/sov-seed-XXXXXX", img[4200];
    sov_autofree char *user_data = NULL;
    sov_autofree char *keys = NULL;
    const char *list[33];
    size_t n = 0;
    int rc;

    sov_domain_state defined;

    /* A seed is whole once the domain that uses it is defined; before that, one that exists
     * may be the remains of an upload cut short: made again. */
    if (sov_hv_state(j->hv, j->x.id, &defined, err) < 0)
        return -1;
    if (sov_hv_volume_path(j->hv, j->ctx->cfg->storage_pool, j->seed, vpath, sizeof(vpath),
                           err) == 0) {
        if (defined != SOV_DOMAIN_NONE)
            return 0;
        if (sov_hv_volume_delete(j->hv, j->ctx->cfg->storage_pool, j->seed, err) < 0)
            return -1;
    } else if (err->code != SOV_E_NOT_FOUND) {
        return -1;
    }
    sov_error_clear(err);
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(j->ctx->db, &c, err) < 0 ||
            sov_repo_instance_seed_input(c, j->x.id, &user_data, &keys, err) < 0)
            return -1;
    }
    for (char *k = keys; k && *k && n < 32;) {
        list[n++] = k;
        char *nl = strchr(k, '\n');
        if (!nl)
            break;
        *nl = '\0';
        k = nl + 1;
    }
    if (!mkdtemp(dir))
        return sov_error_set(err, SOV_E_INTERNAL, "could not make a folder for the seed");
    rc = sov_seed_build(dir, &j->x, user_data, list, n, img, sizeof(img), err);
    if (rc == 0)
        rc = sov_hv_volume_upload(j->hv, j->ctx->cfg->storage_pool, j->seed, "raw", img, err);
    /* What sov_seed_build leaves: the image and its two files. */
    static const char *const names[] = { "seed.img", "meta-data", "user-data" };
    for (size_t i = 0; i < SOV_N_ELEMENTS(names); i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return rc;
}

int
sov_instance_create_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    static const char *const building_from[] = { "scheduling", "building", NULL };
    static const char *const running_from[] = { "building", NULL };
    job_auto j;
    char image_vol[96], image_fmt[8], pool_path[4096], log_path[4300];
    sov_autofree char *xml = NULL;
    int rc;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.x.state, "deleting") == 0 || strcmp(j.x.state, "deleted") == 0)
        return 0;
    if (strcmp(j.x.state, "running") == 0)
        return 0;   /* done by an earlier run of this operation */
    if (set_state(&j, building_from, "building", "", err) < 0) {
        /* A delete that came since load() owns the instance now: it cleans up. */
        if (err->code == SOV_E_CONFLICT && overtaken(&j)) {
            sov_error_clear(err);
            return 0;
        }
        return -1;
    }
    if (step(&j, "connecting to the host", 5, err) < 0 || connect_host(&j, err) < 0)
        return -1;
    if (step(&j, "network", 10, err) < 0 ||
        sov_hv_network_ensure(j.hv, j.ctx->cfg->nat_network, j.ctx->cfg->nat_cidr, err) < 0)
        return -1;
    if (step(&j, "storage pool", 15, err) < 0 || ensure_pool(&j, err) < 0)
        return -1;
    /* An instance that boots from a volume has no image copy nor overlay: its boot disk is
     * the volume, which storage/'s contributor adds (and waits for while it is made). */
    if (!j.x.boot_volume_id[0] &&
        (step(&j, "copying the image", 20, err) < 0 ||
         ensure_image(&j, image_vol, sizeof(image_vol), image_fmt, sizeof(image_fmt), err) < 0))
        return -1;
    if (overtaken(&j))
        return 0;
    if (!j.x.boot_volume_id[0] && step(&j, "boot disk", 50, err) < 0)
        return -1;
    if (!j.x.boot_volume_id[0] &&
        sov_hv_volume_path(j.hv, j.ctx->cfg->storage_pool, j.disk, pool_path,
                           sizeof(pool_path), err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
        if (sov_hv_volume_overlay(j.hv, j.ctx->cfg->storage_pool, j.disk, image_vol,
                                  image_fmt, j.x.disk_gib, err) < 0)
            return -1;
    }
    if (step(&j, "cloud-init seed", 60, err) < 0 || ensure_seed(&j, err) < 0)
        return -1;
    if (step(&j, "defining the domain", 70, err) < 0 ||
        sov_hv_pool_path(j.hv, j.ctx->cfg->storage_pool, pool_path, sizeof(pool_path), err) < 0)
        return -1;
    snprintf(log_path, sizeof(log_path), "%s/%s", pool_path, j.console);
    char name[64];
    snprintf(name, sizeof(name), "sov-%s", j.x.id);
    char cp[SOV_UUID_LEN + 1];
    if (sov_control_plane_id(j.ctx->db, cp, err) < 0)
        return -1;
    SOV_CLEANUP(sov_domain_spec_release) sov_domain_spec spec = {
        .uuid = j.x.id, .name = name, .tenant_id = j.x.tenant_id, .control_plane = cp,
        .virt_type = strcmp(j.host.hypervisor, "qemu") == 0 ? "qemu" : "kvm",
        .vcpus = j.x.vcpus, .memory_mib = j.x.memory_mib, .console_log = log_path,
    };
    /* The disks and NICs: compute's boot disk (j.disk), seed (j.seed) and NAT NIC, then
     * what other modules contribute. */
    rc = sov_domain_spec_build(j.ctx, &j.x, &spec, err);
    if (rc == SOV_OP_LATER) {
        /* A part is not ready (a boot volume being made): run again in a moment, no
         * attempt spent. Said on the operation meanwhile. */
        if (step(&j, "waiting for the boot volume", 65, err) < 0)
            return -1;
        return SOV_OP_LATER;
    }
    if (rc < 0 || sov_domain_xml(&spec, &xml, err) < 0 || sov_hv_define(j.hv, xml, err) < 0)
        return -1;
    if (overtaken(&j))
        return 0;
    if (step(&j, "starting", 85, err) < 0 || sov_hv_start(j.hv, j.x.id, err) < 0)
        return -1;
    /* What other modules' parts need once the domain runs (its ports up in OVN). */
    rc = sov_instance_hooks_started(j.ctx, &j.x, j.op, err);
    if (rc == SOV_OP_LATER)
        return step(&j, "waiting for the network ports", 90, err) < 0 ? -1 : SOV_OP_LATER;
    if (rc < 0)
        return -1;
    if (set_state(&j, running_from, "running", "", err) == 0)
        return 0;
    /* A delete that came meanwhile finds a running domain and destroys it: fine. */
    if (err->code != SOV_E_CONFLICT)
        return -1;
    sov_error_clear(err);
    return 0;
}

/* The action's last word: the state it leads to. A delete accepted meanwhile made the
 * instance deleting, and it goes away: the action is moot, not failed (as for a create). */
static int
action_state(job *j, const char *state, const char *reason, sov_error *err)
{
    static const char *const from_any[] = { "running", "stopped", NULL };

    if (set_state(j, from_any, state, reason, err) == 0)
        return 0;
    if (err->code != SOV_E_CONFLICT || !overtaken(j))
        return -1;
    sov_error_clear(err);
    return 0;
}

/* Say how long a graceful stop has waited, on the operation (its step, which also renews
 * the lease and finds out whether a hard_stop or a delete superseded it) and on the
 * instance (state_reason). -1 when the operation is no longer ours: stop then. */
static int
say_waiting(job *j, unsigned waited, unsigned limit, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_error ignored = SOV_ERROR_INIT;
    char what[128];

    snprintf(what, sizeof(what), "waiting for the guest to power off: %u s of %u", waited,
             limit);
    if (step(j, what, 40 + (int) (limit ? 50 * waited / limit : 0), err) < 0)
        return -1;
    /* The reason is a courtesy: a failure to write it does not stop the stop. */
    if (sov_db_acquire(j->ctx->db, &c, &ignored) == 0)
        sov_repo_instance_set_reason(c, j->x.id, what, j->op_id, &ignored);
    return 0;
}

/* Wait (bounded by stop_timeout) for the guest to power off after the ACPI button: 1 when it
 * did, 0 when the time ran out, -1 on failure or when the stop was superseded (a hard_stop
 * or a delete took over: err says it is no longer ours, and the operation ends silently). */
static int
wait_power_off(job *j, sov_error *err)
{
    unsigned limit = j->ctx->cfg->stop_timeout;
    struct timespec start, now;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned tick = 0;; tick++) {
        sov_domain_state s;
        unsigned waited;

        clock_gettime(CLOCK_MONOTONIC, &now);
        waited = (unsigned) (now.tv_sec - start.tv_sec);
        if (tick % 5 == 0 && say_waiting(j, waited, limit, err) < 0)
            return -1;
        if (sov_hv_state(j->hv, j->x.id, &s, err) < 0)
            return -1;
        if (s == SOV_DOMAIN_STOPPED || s == SOV_DOMAIN_NONE)
            return 1;
        if (waited >= limit)
            return 0;
        struct timespec t = { 0, 200000000L };
        nanosleep(&t, NULL);
    }
}

/* A stop that failed: when a hard_stop or a delete superseded it meanwhile (the delete may
 * have removed the domain under it), that is what ends it, silently, not the failure. */
static int
stop_failed(job *j, sov_error *err)
{
    sov_error mine = SOV_ERROR_INIT;

    if (step(j, "stopping", 40, &mine) < 0 && mine.code == SOV_E_CONFLICT)
        *err = mine;
    return -1;
}

int
sov_instance_action_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;
    const char *action = op->arg;
    char reason[128] = "";
    int off;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.x.state, "deleting") == 0 || strcmp(j.x.state, "deleted") == 0)
        return 0;
    if (step(&j, action, 10, err) < 0 || connect_host(&j, err) < 0)
        return -1;
    if (strcmp(action, "start") == 0) {
        if (sov_hv_start(j.hv, j.x.id, err) < 0)
            return -1;
        return action_state(&j, "running", "", err);
    }
    if (strcmp(action, "reboot") == 0) {
        if (sov_hv_reboot(j.hv, j.x.id, err) < 0)
            return -1;
        return action_state(&j, "running", "", err);
    }
    /* stop asks the guest first and pulls the plug after stop_timeout; hard_stop at once. A
     * hard_stop or a delete meanwhile supersedes the stop (sov_op_supersede): it ends at its
     * next step, touching nothing. */
    if (strcmp(action, "stop") == 0) {
        if (sov_hv_stop(j.hv, j.x.id, false, err) < 0 || (off = wait_power_off(&j, err)) < 0)
            return stop_failed(&j, err);
        if (off == 0) {
            sov_log_info("instance %s did not shut down within %u s: powering it off",
                         j.x.id, j.ctx->cfg->stop_timeout);
            snprintf(reason, sizeof(reason), "powered off: the guest did not shut down "
                     "within %u s", j.ctx->cfg->stop_timeout);
        }
        if (step(&j, off ? "the guest powered off" : "powering off", 90, err) < 0)
            return -1;
    }
    if (sov_hv_stop(j.hv, j.x.id, true, err) < 0)
        return strcmp(action, "stop") == 0 ? stop_failed(&j, err) : -1;
    return action_state(&j, "stopped", reason, err);
}

/* Capacity, quota, what other modules gave it (volumes: detached, a boot volume its create
 * made queued for deletion), the row and the residency record, together. */
static int
forget_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    const job *j = arg;
    const sov_instance *x = &j->x;
    char alloc[SOV_UUID_LEN + 1];
    sov_policy policy;
    bool live;

    if (sov_repo_instance_lock_allocation(c, x->id, &live, alloc, sizeof(alloc), err) < 0)
        return -1;
    if (!live)
        return 0;   /* already forgotten by an earlier run */
    /* The host's row before the quota rows, the order sov_instance_create takes them in:
     * the other order deadlocks with concurrent creates (PostgreSQL breaks the cycle only
     * after deadlock_timeout, and the delete loses an attempt). */
    if (alloc[0] && sov_placement_release(c, alloc, err) < 0)
        return -1;
    if (sov_quota_release_resource(c, x->tenant_id, "instance", x, err) < 0 ||
        sov_policy_load(c, x->tenant_id, &policy, err) < 0)
        return -1;
    if (x->residency.region[0] &&
        sov_residency_record(c, x->tenant_id, "instance", x->id, "deleted", &x->residency,
                             NULL, &policy,
                             "deleted: domain, disks and seed removed from the host", NULL,
                             err) < 0)
        return -1;
    if (sov_instance_hooks_deleted(c, j->ctx, x, j->op, err) < 0)
        return -1;
    return sov_repo_instance_deleted(c, x->id, err);
}

static int
forget(job *j, sov_error *err)
{
    return sov_db_tx(j->ctx->db, forget_tx, j, err);
}

/* The console log is appended to across boots and virtlogd rotates it by size into
 * <log>.0, .1, ... (max_backups in virtlogd.conf, 3 by default): those go too. They are
 * numbered without gaps, and deleting the log refreshed the pool: the first missing ends it. */
#define CONSOLE_BACKUPS_MAX 32

static int
delete_console_backups(job *j, sov_error *err)
{
    char name[128], path[4096];

    for (int i = 0; i < CONSOLE_BACKUPS_MAX; i++) {
        snprintf(name, sizeof(name), "%s.%d", j->console, i);
        if (sov_hv_volume_path(j->hv, j->ctx->cfg->storage_pool, name, path, sizeof(path),
                               err) < 0)
            return err->code == SOV_E_NOT_FOUND ? (sov_error_clear(err), 0) : -1;
        if (sov_hv_volume_delete(j->hv, j->ctx->cfg->storage_pool, name, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_instance_delete_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_op_page running = { 0 };

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.x.state, "deleted") == 0)
        return 0;
    /* A create or action still running on the instance finishes (or gives up) first. */
    if (sov_db_acquire(j.ctx->db, &c, err) < 0 ||
        sov_op_pending(c, op->resource_id, op->id, "running", &running, err) < 0)
        return -1;
    sov_db_release(SOV_TAKE_PTR(c));
    if (running.n > 0) {
        char what[128];
        sov_log_debug("instance %s: delete waits for operation %s", j.x.id,
                      running.items[0].id);
        /* Said on the operation, which goes back to queued meanwhile. */
        snprintf(what, sizeof(what), "waiting for operation %s to finish",
                 running.items[0].id);
        free(running.items);
        if (step(&j, what, 0, err) < 0)
            return -1;
        return SOV_OP_LATER;    /* not a failure: no attempt spent */
    }
    free(running.items);
    if (j.x.host_id[0]) {
        if (step(&j, "removing the domain", 20, err) < 0 || connect_host(&j, err) < 0 ||
            sov_hv_undefine(j.hv, j.x.id, err) < 0)
            return -1;
        if (step(&j, "removing disks", 60, err) < 0 ||
            sov_hv_volume_delete(j.hv, j.ctx->cfg->storage_pool, j.disk, err) < 0 ||
            sov_hv_volume_delete(j.hv, j.ctx->cfg->storage_pool, j.seed, err) < 0 ||
            sov_hv_volume_delete(j.hv, j.ctx->cfg->storage_pool, j.console, err) < 0 ||
            delete_console_backups(&j, err) < 0)
            return -1;
    }
    if (step(&j, "releasing capacity and quota", 90, err) < 0)
        return -1;
    return forget(&j, err);
}

int
sov_instance_op_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err)
{
    static const char *const any[] = { "scheduling", "building", "running", "stopped",
                                       "deleting", NULL };
    /* A create or action failing under a pending delete leaves the delete in charge. */
    static const char *const not_deleting[] = { "scheduling", "building", "running",
                                                "stopped", NULL };
    bool del = strcmp(op->kind, "instance.delete") == 0;
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(sov_op_ctx(run)->db, &c, err) < 0)
        return -1;
    if (sov_repo_instance_set_state(c, op->resource_id, del ? any : not_deleting, "error", reason,
                                    NULL, err) < 0 && err->code == SOV_E_CONFLICT) {
        sov_error_clear(err);   /* nothing to mark: deleted, or the delete owns it */
        return 0;
    }
    return err->code == SOV_OK ? 0 : -1;
}

/* What one instance counts against its tenant's quotas (a sov_instance). */
static long long
count_one(const void *x)
{
    (void) x;
    return 1;
}

static long long
count_vcpus(const void *x)
{
    return ((const sov_instance *) x)->vcpus;
}

static long long
count_memory(const void *x)
{
    return ((const sov_instance *) x)->memory_mib;
}

static long long
count_disk(const void *x)
{
    return ((const sov_instance *) x)->disk_gib;
}

static long long
count_gpus(const void *x)
{
    return ((const sov_instance *) x)->gpus;
}

/* compute/'s part of the registry: its hypervisor drivers, the kinds its instances and
 * hosts run (images register their own in image_ops.c, reports theirs in residency/), and
 * the quota kinds an instance counts against, in the order they are charged. */
int
sov_compute_register(sov_error *err)
{
    static const sov_quota_use uses[] = {
        { "instance", SOV_QUOTA_INSTANCES, count_one, false },
        { "instance", SOV_QUOTA_VCPUS, count_vcpus, false },
        { "instance", SOV_QUOTA_MEMORY_MIB, count_memory, false },
        { "instance", SOV_QUOTA_STORAGE_GIB, count_disk, false },
        /* An instance without GPUs never touches (nor waits on) the gpus row. */
        { "instance", SOV_QUOTA_GPUS, count_gpus, true },
    };
    static const sov_op_kind kinds[] = {
        { "instance.create", sov_instance_create_op, 300, sov_instance_op_failed },
        { "instance.action", sov_instance_action_op, 120, sov_instance_op_failed },
        { "instance.delete", sov_instance_delete_op, 300, sov_instance_op_failed },
        { "host.register", sov_host_register_op, 120, sov_host_register_failed },
        /* A live copy renews its lease with each progress report (about once a second). */
        { "instance.migrate", sov_instance_migrate_op, 900, sov_instance_migrate_failed },
        { NULL, NULL, 0, NULL },
    };

    if (sov_hv_register_libvirt(err) < 0 ||
        sov_registry_add_quota_uses(uses, sizeof(uses) / sizeof(uses[0]), err) < 0 ||
        sov_host_evacuate_register(err) < 0)
        return -1;
    return sov_registry_add_op_kinds(kinds, err);
}
