/* volume_ops.c: what workers do for volumes, and each attached volume's part of its
 * instance's domain. Each handler may run twice (a retry, or a takeover after a crash), so
 * each step is harmless to repeat: a volume file already there is kept (volume_create and
 * volume_copy leave it), a disk already attached at its dev is left, a detached one is fine.
 * A handler that finds its volume no longer in the state its operation set stops: something
 * else (a reconcile, an operator) settled it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/log.h"
#include "sov/quota.h"
#include "storage_int.h"

typedef struct job {
    sov_op_run *run;
    const sov_op *op;
    sov_ctx *ctx;
    sov_volume v;
    char uri[1024];
    char host[SOV_NAME_MAX + 1];
    sov_hv *hv;
    char secret[SOV_UUID_LEN + 1];  /* defined by this job; "" none */
    bool keep_secret;               /* leave it defined (an attached volume's) */
} job;

static void
job_release(job *j)
{
    if (j->hv && j->secret[0] && !j->keep_secret)
        sov_storage_secret_close(j->hv, j->secret);
    sov_hv_close(j->hv);
}

#define job_auto SOV_CLEANUP(job_release) job

static int
load(sov_op_run *run, const sov_op *op, job *j, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    memset(j, 0, sizeof(*j));
    j->run = run;
    j->op = op;
    j->ctx = sov_op_ctx(run);
    if (sov_db_acquire(j->ctx->db, &c, err) < 0 ||
        sov_repo_volume_get(c, NULL, op->resource_id, false, &j->v, err) < 0)
        return -1;
    if (j->v.host_id[0] && sov_repo_volume_host(c, j->v.host_id, j->uri, sizeof(j->uri),
                                                j->host, sizeof(j->host), err) < 0)
        return -1;
    return 0;
}

static int
connect_host(job *j, sov_error *err)
{
    if (!j->v.host_id[0])
        return sov_error_set(err, SOV_E_INTERNAL, "volume '%s' has no host", j->v.name);
    /* A host that does not answer may come back: the queue retries. */
    if (sov_hv_open(j->uri, &j->hv, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        snprintf(err->msg, sizeof(err->msg), "could not connect to host '%s'", j->host);
        return -1;
    }
    return 0;
}

/* The data key of an encrypted volume as a libvirt secret of the host (nothing for a plain
 * one): closed when the job ends unless keep_secret. */
static int
open_secret(job *j, sov_error *err)
{
    if (!j->v.encrypted || j->secret[0])
        return 0;
    return sov_storage_secret_open(j->ctx, j->hv, "volumes", j->v.id, j->v.tenant_id,
                                   j->secret, err);
}

static int
step(job *j, const char *what, int progress, sov_error *err)
{
    return sov_op_step(j->run, what, progress, err);
}

static int
set_state(job *j, const char *const *from, const char *state, const char *reason,
          sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(j->ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_volume_set_state(c, j->v.id, from, state, reason, NULL, err);
}

/* The state moved on under the job (a reconcile settled it): nothing left to do. */
static int
moved_on(sov_error *err)
{
    if (err->code != SOV_E_CONFLICT)
        return -1;
    sov_error_clear(err);
    return 0;
}

void
sov_volume_disk(const sov_volume *v, const sov_volume_type *t, const char *secret_uuid,
                sov_domain_disk *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->pool = v->pool;
    ret->volume = v->volume;
    ret->format = "qcow2";
    ret->dev = v->attachment.device;
    /* The guest finds it as /dev/disk/by-id/virtio-<the first 20 characters of the id>. */
    ret->serial = v->id;
    ret->secret_uuid = secret_uuid && *secret_uuid ? secret_uuid : NULL;
    ret->iops_max = t ? t->max_iops : 0;
    ret->bytes_per_s_max = t ? t->max_bytes_per_s : 0;
}

/* ---- create ---- */

int
sov_volume_create_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    static const char *const from[] = { "creating", NULL };
    job_auto j;
    const char *pool;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.v.state, "creating") != 0)
        return 0;   /* done by an earlier run, or settled since */
    pool = j.v.pool;
    if (step(&j, "connecting to the host", 10, err) < 0 || connect_host(&j, err) < 0)
        return -1;
    if (step(&j, "key", 20, err) < 0 || open_secret(&j, err) < 0)
        return -1;
    if (j.v.source_type[0]) {
        if (step(&j, "copying the source", 30, err) < 0 ||
            sov_volume_source_copy(j.ctx, j.hv, &j.v, j.secret, err) < 0)
            return -1;
    } else if (step(&j, "creating the volume", 30, err) < 0 ||
               sov_hv_volume_create(j.hv, pool, j.v.volume, j.v.size_gib,
                                    j.secret[0] ? j.secret : NULL, err) < 0) {
        return -1;
    }
    /* A boot volume made by an instance create is attached from the start: in-use. */
    if (set_state(&j, from, j.v.attachment.instance_id[0] ? "in-use" : "available", "",
                  err) < 0)
        return moved_on(err);
    return 0;
}

/* ---- attach ---- */

/* The volume's type for its <iotune>: a type deleted since leaves no limits. */
static void
load_type(job *j, sov_volume_type *t)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_error ignored = SOV_ERROR_INIT;

    memset(t, 0, sizeof(*t));
    if (j->v.type_id[0] && sov_db_acquire(j->ctx->db, &c, &ignored) == 0)
        sov_repo_volume_type_get(c, j->v.type_id, t, &ignored);
}

int
sov_volume_attach_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    static const char *const from[] = { "attaching", NULL };
    job_auto j;
    sov_volume_type t;
    sov_domain_disk d;
    sov_autofree char *xml = NULL;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.v.state, "attaching") != 0 || !j.v.attachment.instance_id[0])
        return 0;
    if (step(&j, "connecting to the host", 10, err) < 0 || connect_host(&j, err) < 0)
        return -1;
    /* QEMU reads the key when it opens the image, and libvirt again at each start of the
     * domain: the secret stays defined while the volume is attached. */
    j.keep_secret = true;
    if (step(&j, "key", 20, err) < 0 || open_secret(&j, err) < 0)
        return -1;
    load_type(&j, &t);
    sov_volume_disk(&j.v, &t, j.secret, &d);
    if (step(&j, "attaching the disk", 50, err) < 0 || sov_domain_disk_xml(&d, &xml, err) < 0 ||
        sov_hv_disk_attach(j.hv, j.v.attachment.instance_id, xml, err) < 0) {
        j.keep_secret = false;
        return -1;
    }
    if (set_state(&j, from, "in-use", "", err) < 0)
        return moved_on(err);
    return 0;
}

/* ---- detach ---- */

/* The guest did not let the disk go: pull the plug, take the disk out of the definition and
 * start the instance again if it ran. */
static int
power_cycle(job *j, const char *inst, const char *dev, sov_error *err)
{
    sov_domain_state s;
    char what[192];

    if (sov_hv_state(j->hv, inst, &s, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "the guest did not release %s within %u s: power-cycling "
             "instance '%s'", dev, j->ctx->cfg->volume_detach_timeout_s,
             j->v.attachment.instance_name);
    sov_log_info("volume %s: %s", j->v.id, what);
    if (step(j, what, 60, err) < 0 || sov_hv_stop(j->hv, inst, true, err) < 0 ||
        sov_hv_disk_detach(j->hv, inst, dev, 0, err) < 0)
        return -1;
    if (s == SOV_DOMAIN_RUNNING && sov_hv_start(j->hv, inst, err) < 0)
        return -1;
    return step(j, s == SOV_DOMAIN_RUNNING ? "detached by power-cycling the instance (the "
                "guest did not release the disk)" : "detached from the stopped instance",
                80, err);
}

typedef struct detached_args {
    const char *id;
} detached_args;

static int
detached_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    static const char *const from[] = { "detaching", NULL };
    const detached_args *a = arg;

    if (sov_repo_volume_set_state(c, a->id, from, "available", "", NULL, err) < 0)
        return -1;
    return sov_repo_attachment_delete(c, a->id, err);
}

int
sov_volume_detach_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;
    unsigned timeout_ms;
    const char *inst, *dev;
    detached_args a;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.v.state, "detaching") != 0 || !j.v.attachment.instance_id[0])
        return 0;
    inst = j.v.attachment.instance_id;
    dev = j.v.attachment.device;
    timeout_ms = j.ctx->cfg->volume_detach_timeout_s * 1000u;
    if (step(&j, "connecting to the host", 10, err) < 0 || connect_host(&j, err) < 0)
        return -1;
    if (step(&j, "waiting for the guest to release the disk", 30, err) < 0)
        return -1;
    if (sov_hv_disk_detach(j.hv, inst, dev, timeout_ms, err) < 0) {
        if (err->code != SOV_E_CONFLICT)
            return -1;
        if (strcmp(op->arg, "force") != 0) {
            /* Failed for good (no retry): the volume goes back to in-use. */
            return sov_error_set(err, SOV_E_CONFLICT, "the guest did not release %s of "
                                 "instance '%s' within %u s: unmount it in the guest, or "
                                 "detach with force", dev, j.v.attachment.instance_name,
                                 j.ctx->cfg->volume_detach_timeout_s);
        }
        sov_error_clear(err);
        if (power_cycle(&j, inst, dev, err) < 0)
            return -1;
    }
    /* The secret served the attachment: it goes with it. */
    if (j.v.encrypted)
        sov_storage_secret_close(j.hv, j.v.id);
    a.id = j.v.id;
    if (sov_db_tx(j.ctx->db, detached_tx, &a, err) < 0)
        return moved_on(err);
    return 0;
}

/* ---- extend ---- */

/* What the extend's arg says to go back to: "<size> <state>". */
static void
extend_before(const sov_op *op, long long *size, char *state, size_t size_state)
{
    char *end = NULL;

    *size = strtoll(op->arg, &end, 10);
    snprintf(state, size_state, "%s", end && *end == ' ' ? end + 1 : "available");
}

int
sov_volume_extend_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    static const char *const from[] = { "extending", NULL };
    job_auto j;
    sov_domain_state s = SOV_DOMAIN_NONE;
    long long old;
    char before[16];

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.v.state, "extending") != 0)
        return 0;
    extend_before(op, &old, before, sizeof(before));
    if (step(&j, "connecting to the host", 10, err) < 0 || connect_host(&j, err) < 0)
        return -1;
    if (j.v.attachment.instance_id[0] &&
        sov_hv_state(j.hv, j.v.attachment.instance_id, &s, err) < 0)
        return -1;
    if (s == SOV_DOMAIN_RUNNING || s == SOV_DOMAIN_PAUSED) {
        /* Online: QEMU grows the image and the guest sees the new size. */
        if (step(&j, "growing the attached disk", 50, err) < 0 ||
            sov_hv_disk_resize(j.hv, j.v.attachment.instance_id, j.v.attachment.device,
                               j.v.size_gib, err) < 0)
            return -1;
    } else {
        /* An attached volume keeps its secret (the attach's); only ours is closed. */
        j.keep_secret = j.v.attachment.instance_id[0] != '\0';
        if (step(&j, "key", 20, err) < 0 || open_secret(&j, err) < 0 ||
            step(&j, "growing the volume", 50, err) < 0 ||
            sov_hv_volume_resize(j.hv, j.v.pool, j.v.volume, j.v.size_gib,
                                 j.secret[0] ? j.secret : NULL, err) < 0)
            return -1;
    }
    if (set_state(&j, from, j.v.attachment.instance_id[0] ? "in-use" : "available", "",
                  err) < 0)
        return moved_on(err);
    return 0;
}

/* ---- delete ---- */

static int
forget_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    const job *j = arg;
    const sov_volume *v = &j->v;
    char alloc[SOV_UUID_LEN + 1];
    sov_policy policy;
    bool live;

    if (sov_repo_volume_lock_allocation(c, v->id, &live, alloc, sizeof(alloc), err) < 0)
        return -1;
    if (!live)
        return 0;   /* already forgotten by an earlier run */
    /* The host's row before the quota rows, the order a create takes them in. */
    if (alloc[0] && sov_placement_release(c, alloc, err) < 0)
        return -1;
    if (sov_quota_release_resource(c, v->tenant_id, "volume", v, err) < 0 ||
        sov_policy_load(c, v->tenant_id, &policy, err) < 0)
        return -1;
    if (v->residency.region[0]) {
        char reason[256], note[160];
        sov_storage_key_note(v->key_region, v->key_country, note, sizeof(note));
        snprintf(reason, sizeof(reason), "deleted: the volume's file removed from the host%s%s%s",
                 note[0] ? "; its data key erased (" : "", note, note[0] ? ")" : "");
        if (sov_residency_record(c, v->tenant_id, "volume", v->id, "deleted", &v->residency,
                                 NULL, &policy, reason, j->op->id, err) < 0)
            return -1;
    }
    return sov_repo_volume_deleted(c, v->id, err);
}

int
sov_volume_delete_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.v.state, "deleted") == 0)
        return 0;
    if (j.v.host_id[0]) {
        if (step(&j, "connecting to the host", 10, err) < 0 || connect_host(&j, err) < 0)
            return -1;
        if (step(&j, "removing the volume's file", 50, err) < 0 ||
            sov_hv_volume_delete(j.hv, j.v.pool, j.v.volume, err) < 0)
            return -1;
        if (j.v.encrypted)
            sov_storage_secret_close(j.hv, j.v.id);
    }
    if (step(&j, "releasing capacity and quota", 90, err) < 0)
        return -1;
    return sov_db_tx(j.ctx->db, forget_tx, &j, err);
}

/* ---- failures ---- */

typedef struct failed_args {
    const sov_op *op;
    const char *reason;
} failed_args;

static int
failed_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    static const char *const creating[] = { "creating", NULL };
    static const char *const attaching[] = { "attaching", NULL };
    static const char *const detaching[] = { "detaching", NULL };
    static const char *const extending[] = { "extending", NULL };
    static const char *const deleting[] = { "deleting", NULL };
    const failed_args *a = arg;
    const sov_op *op = a->op;
    const char *id = op->resource_id;
    char reason[512];
    sov_volume v;

    if (sov_repo_volume_get(c, NULL, id, true, &v, err) < 0)
        return -1;
    if (strcmp(op->kind, "volume.attach") == 0) {
        /* Not attached after all: the slot and the volume are free again. */
        snprintf(reason, sizeof(reason), "could not attach: %s", a->reason);
        if (sov_repo_volume_set_state(c, id, attaching, "available", reason, NULL, err) < 0)
            return -1;
        return sov_repo_attachment_delete(c, id, err);
    }
    if (strcmp(op->kind, "volume.detach") == 0) {
        snprintf(reason, sizeof(reason), "could not detach: %s", a->reason);
        return sov_repo_volume_set_state(c, id, detaching, "in-use", reason, NULL, err);
    }
    if (strcmp(op->kind, "volume.extend") == 0) {
        long long old;
        char before[16];
        extend_before(op, &old, before, sizeof(before));
        snprintf(reason, sizeof(reason), "could not extend to %lld GiB: %s", v.size_gib,
                 a->reason);
        if (sov_repo_volume_set_state(c, id, extending, before, reason, NULL, err) < 0)
            return -1;
        if (old > 0 && old < v.size_gib) {
            bool done;
            if ((v.allocation_id[0] &&
                 sov_placement_grow(c, v.allocation_id, old - v.size_gib, &done, err) < 0) ||
                sov_quota_release(c, v.tenant_id, SOV_QUOTA_STORAGE_GIB, v.size_gib - old,
                                  err) < 0 ||
                sov_repo_volume_set_size(c, id, old, err) < 0)
                return -1;
        }
        return 0;
    }
    return sov_repo_volume_set_state(c, id,
                                     strcmp(op->kind, "volume.delete") == 0 ? deleting
                                                                            : creating,
                                     "error", a->reason, NULL, err);
}

int
sov_volume_op_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err)
{
    failed_args a = { op, reason };

    if (sov_db_tx(sov_op_ctx(run)->db, failed_tx, &a, err) == 0)
        return 0;
    if (err->code == SOV_E_CONFLICT || err->code == SOV_E_NOT_FOUND) {
        sov_error_clear(err);   /* the volume moved on: nothing to mark */
        return 0;
    }
    return -1;
}

/* ---- the domain contributor ---- */

/* Every volume attached to the instance, as a disk of its domain. An encrypted one's secret
 * is defined on the instance's host here, before the domain is defined and started: the
 * build of a domain is the one place that runs before every start the control plane makes
 * (a create; the start of a stopped instance keeps the definition, whose secrets stay
 * defined while attached, and the reconciler defines again those a libvirtd restart lost).
 * A boot volume still being made, or a volume still moving to the instance's host, is not
 * ready: SOV_OP_LATER. */
int
sov_volume_contrib(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec,
                   sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(sov_hv) hv = NULL;
    sov_autofree sov_volume *vols = NULL;
    size_t n = 0;
    char uri[1024], host[SOV_NAME_MAX + 1];

    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_volume_of_instance(c, inst->id, &vols, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const sov_volume *v = &vols[i];
        sov_volume_type t;
        sov_domain_disk d;
        char secret[SOV_UUID_LEN + 1] = "";

        if (strcmp(v->state, "creating") == 0)
            return SOV_OP_LATER;
        /* Moved to the instance's host first (a SECA instance in another zone than its
         * block storage): the build waits for the move, then finds the file there. */
        {
            sov_volume_move m;
            bool found;
            if (sov_repo_volume_move_pending(c, v->id, &m, &found, err) < 0)
                return -1;
            if (found)
                return SOV_OP_LATER;
        }
        if (strcmp(v->state, "error") == 0 || strcmp(v->state, "deleting") == 0)
            return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' of instance '%s' is %s: %s",
                                 v->name, inst->name, v->state, v->state_reason);
        if (v->encrypted) {
            if (!hv && (sov_repo_volume_host(c, inst->host_id, uri, sizeof(uri), host,
                                             sizeof(host), err) < 0 ||
                        sov_hv_open(uri, &hv, err) < 0))
                return -1;
            if (sov_storage_secret_open(ctx, hv, "volumes", v->id, v->tenant_id, secret,
                                        err) < 0)
                return -1;
        }
        memset(&t, 0, sizeof(t));
        if (v->type_id[0] && sov_repo_volume_type_get(c, v->type_id, &t, err) < 0) {
            if (err->code != SOV_E_NOT_FOUND)
                return -1;
            sov_error_clear(err);
        }
        sov_volume_disk(v, &t, secret, &d);
        if (sov_domain_spec_add_disk(spec, &d, err) < 0)
            return -1;
    }
    return 0;
}
