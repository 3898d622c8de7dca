/* snapshot_ops.c: what workers do for snapshots. Each handler may run twice (a retry, or a
 * take-over after a crash), so each step is safe to repeat: a file left by a copy cut short
 * is removed and the copy made again (the row is still 'creating', so nothing trusts it), a
 * delete skips a file already gone. No pooled connection is held while libvirt works.
 *
 * snapshot.create copies the volume on its host into "sov-snap-<id>": from the running
 * guest when the volume is attached to one (sov_hv_disk_snapshot: crash-consistent, the
 * guest keeps running), from the file otherwise (sov_hv_volume_copy). An encrypted volume's
 * snapshot is encrypted with its own key: its libvirt secret is defined on the host for the
 * copy only, and undefined after it. */
#include <stdio.h>
#include <string.h>

#include "storage_int.h"
#include "sov/audit.h"
#include "sov/log.h"
#include "sov/quota.h"
#include "sov/registry.h"

/* Everything a handler needs about its snapshot, volume and host. */
typedef struct job {
    sov_op_run *run;
    const sov_op *op;
    sov_ctx *ctx;
    sov_snapshot s;
    sov_host host;
    sov_hv *hv;
} job;

static void
job_release(job *j)
{
    sov_hv_close(j->hv);
    j->hv = NULL;
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
    if (sov_db_acquire(j->ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_snapshot_get(c, NULL, op->resource_id, false, &j->s, err);
}

static int
connect_host(job *j, sov_error *err)
{
    if (!j->s.host_id[0])
        return sov_error_set(err, SOV_E_INTERNAL, "snapshot '%s' has no host", j->s.name);
    if (sov_host_get(j->ctx, j->s.host_id, &j->host, err) < 0)
        return -1;
    /* A host that does not answer may come back: the queue retries. */
    if (sov_hv_open(j->host.libvirt_uri, &j->hv, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        snprintf(err->msg, sizeof(err->msg), "could not connect to host '%s'", j->host.name);
        return -1;
    }
    return 0;
}

/* Whether the guest holding the volume runs: then the copy is taken from it, live. */
static int
copy_live(job *j, const sov_volume *v, bool *ret, sov_error *err)
{
    sov_domain_state st = SOV_DOMAIN_NONE;

    *ret = false;
    if (!v->attachment.instance_id[0] || strcmp(v->state, "available") == 0)
        return 0;
    if (sov_hv_state(j->hv, v->attachment.instance_id, &st, err) < 0)
        return -1;
    *ret = st == SOV_DOMAIN_RUNNING || st == SOV_DOMAIN_PAUSED || st == SOV_DOMAIN_OTHER;
    return 0;
}

/* The copy itself, with the secrets it needs defined around it. A copy from the file needs
 * the volume's secret too; of an attached volume (its guest stopped) that secret belongs to
 * the attachment, and is left defined after the copy. */
static int
copy_volume(job *j, const sov_volume *v, const char *snap_secret, sov_error *err)
{
    char vol_secret[SOV_UUID_LEN + 1] = "";
    bool live = false, attached = v->attachment.instance_id[0] != '\0';
    int rc;

    if (copy_live(j, v, &live, err) < 0)
        return -1;
    if (live) {
        rc = sov_hv_disk_snapshot(j->hv, v->attachment.instance_id, v->attachment.device,
                                  j->s.pool, j->s.volume, snap_secret[0] ? snap_secret : NULL,
                                  err);
        if (rc == 0 || err->code == SOV_E_UNAVAILABLE)
            return rc;
        /* The guest let go of the disk meanwhile (a detach, a stop): copy the file. */
        sov_log_warn("could not snapshot volume '%s' from its guest (%s), copying its file",
                     v->name, err->msg);
        sov_error_clear(err);
        if (sov_hv_volume_delete(j->hv, j->s.pool, j->s.volume, err) < 0)
            return -1;
    }
    if (v->encrypted && sov_storage_secret_open(j->ctx, j->hv, "volumes", v->id, v->tenant_id,
                                                vol_secret, err) < 0)
        return -1;
    rc = sov_hv_volume_copy(j->hv, j->s.pool, j->s.volume, v->volume, "qcow2",
                            vol_secret[0] ? vol_secret : NULL, j->s.size_gib,
                            snap_secret[0] ? snap_secret : NULL, err);
    if (!attached)
        sov_storage_secret_close(j->hv, vol_secret);
    return rc;
}

typedef struct made_args {
    job *j;
    bool moved;
} made_args;

static int
made_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    made_args *x = arg;
    job *j = x->j;

    if (sov_repo_snapshot_set_state(c, j->s.id, "creating", "available", "", &x->moved,
                                    err) < 0)
        return -1;
    if (!x->moved)
        return 0;
    return sov_audit_append(c, j->ctx, j->s.tenant_id, "snapshot", j->s.id, SOV_OUTCOME_OK,
                            err);
}

int
sov_snapshot_create_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;
    sov_volume v;
    char snap_secret[SOV_UUID_LEN + 1] = "";
    made_args m = { .j = &j };
    int rc;

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.s.state, "creating") != 0)
        return 0;   /* done by an earlier run, or given up on */
    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(j.ctx->db, &c, err) < 0 ||
            sov_repo_volume_get(c, NULL, j.s.volume_id, false, &v, err) < 0)
            return -1;
    }
    if (sov_op_step(run, "connecting to the host", 10, err) < 0 || connect_host(&j, err) < 0)
        return -1;
    /* What an interrupted run left is no copy of anything. */
    if (sov_op_step(run, "copying the volume", 30, err) < 0 ||
        sov_hv_volume_delete(j.hv, j.s.pool, j.s.volume, err) < 0)
        return -1;
    if (j.s.encrypted && sov_storage_secret_open(j.ctx, j.hv, "snapshots", j.s.id,
                                                 j.s.tenant_id, snap_secret, err) < 0)
        return -1;
    rc = copy_volume(&j, &v, snap_secret, err);
    sov_storage_secret_close(j.hv, snap_secret);
    explicit_bzero(snap_secret, sizeof(snap_secret));
    if (rc < 0)
        return -1;
    if (sov_op_step(run, "recording", 90, err) < 0 || sov_db_tx(j.ctx->db, made_tx, &m, err) < 0)
        return -1;
    sov_log_info("snapshot '%s' (%s) of volume '%s' made on host '%s'", j.s.name, j.s.id,
                 v.name, j.host.name);
    return 0;
}

/* ---- delete ---- */

typedef struct gone_args {
    job *j;
} gone_args;

/* The row deleted, the host's disk and the tenant's quota given back, and the residency
 * record closed, in one transaction. */
static int
gone_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    gone_args *x = arg;
    job *j = x->j;
    sov_snapshot now;
    sov_policy policy;
    char alloc[SOV_UUID_LEN + 1], note[160], reason[256];
    bool moved = false;

    if (sov_repo_snapshot_get(c, NULL, j->s.id, true, &now, err) < 0)
        return -1;
    if (sov_repo_snapshot_set_state(c, now.id, "deleting", "deleted", "", &moved, err) < 0)
        return -1;
    if (!moved)
        return 0;
    sov_storage_key_note(now.key_region, now.key_country, note, sizeof(note));
    snprintf(reason, sizeof(reason), "deleted: the snapshot's file removed from the host%s%s%s",
             note[0] ? "; its data key erased (" : "", note, note[0] ? ")" : "");
    if (sov_repo_snapshot_allocation(c, now.id, alloc, err) < 0 ||
        (alloc[0] && sov_placement_release(c, alloc, err) < 0))
        return -1;
    if (sov_quota_release_resource(c, now.tenant_id, "snapshot", &now, err) < 0 ||
        sov_policy_load(c, now.tenant_id, &policy, err) < 0 ||
        sov_residency_record(c, now.tenant_id, "snapshot", now.id, "deleted", &now.residency,
                             NULL, &policy, reason, j->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, j->ctx, now.tenant_id, "snapshot", now.id, SOV_OUTCOME_DELETED,
                            err);
}

int
sov_snapshot_delete_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    job_auto j;
    gone_args g = { .j = &j };

    if (load(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.s.state, "deleting") != 0)
        return 0;
    /* A snapshot whose host was removed has no file left to remove. */
    if (j.s.host_id[0]) {
        if (sov_op_step(run, "connecting to the host", 10, err) < 0 ||
            connect_host(&j, err) < 0)
            return -1;
        if (sov_op_step(run, "removing the file", 40, err) < 0 ||
            sov_hv_volume_delete(j.hv, j.s.pool, j.s.volume, err) < 0)
            return -1;
    }
    if (sov_op_step(run, "recording", 90, err) < 0 || sov_db_tx(j.ctx->db, gone_tx, &g, err) < 0)
        return -1;
    sov_log_info("snapshot '%s' (%s) deleted", j.s.name, j.s.id);
    return 0;
}

/* ---- failure ---- */

typedef struct failed_args {
    const sov_op *op;
    const char *reason;
} failed_args;

static int
failed_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    failed_args *x = arg;
    const char *from = strcmp(x->op->kind, "snapshot.delete") == 0 ? "deleting" : "creating";

    return sov_repo_snapshot_set_state(c, x->op->resource_id, from, "error", x->reason, NULL,
                                       err);
}

int
sov_snapshot_op_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err)
{
    failed_args x = { .op = op, .reason = reason };

    return sov_db_tx(sov_op_ctx(run)->db, failed_tx, &x, err);
}

/* ---- registration ---- */

static long long
count_one(const void *s)
{
    (void) s;
    return 1;
}

static long long
count_size(const void *s)
{
    return ((const sov_snapshot *) s)->size_gib;
}

int
sov_snapshot_register(sov_error *err)
{
    static const sov_quota_use uses[] = {
        { "snapshot", SOV_QUOTA_SNAPSHOTS, count_one, false },
        { "snapshot", SOV_QUOTA_STORAGE_GIB, count_size, false },
    };
    static const sov_op_kind kinds[] = {
        { "snapshot.create", sov_snapshot_create_op, 600, sov_snapshot_op_failed },
        { "snapshot.delete", sov_snapshot_delete_op, 120, sov_snapshot_op_failed },
        { NULL, NULL, 0, NULL },
    };

    if (sov_registry_add_quota_uses(uses, SOV_N_ELEMENTS(uses), err) < 0)
        return -1;
    return sov_registry_add_op_kinds(kinds, err);
}
