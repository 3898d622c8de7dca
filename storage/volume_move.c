/* volume_move.c: a volume moved to another host (OpenStack's volume migrate): POST
 * /v1/volumes/{id}/actions {"action": "move", zone?, region?, host? (operators)}, and a SECA
 * instance whose block storages are in another zone than its own (instance_hook.c).
 *
 * Volumes are host-local (a qcow2 file in their host's pool), so a move copies the file.
 * The request, in one transaction under the volume's row lock: the volume is available and
 * not attached, has no snapshot (refused, 409 naming them: a snapshot is a file of the same
 * host that a restore uses there; move the volume, then snapshot it again), no copy, image
 * or move under way; the target is placed inside the tenant's policy, narrowed by the zone,
 * region or named host, never the volume's own host, and its room claimed as a reservation
 * (resource type "volume-move"); "volume.move" is queued with the source host, the target
 * host and the reservation as its arg. While the operation is queued or running the volume
 * refuses attach, detach, extend, snapshot, copy, image, delete and another move (409
 * "being moved to host H"): sov_repo_volume_moving answers for migrations and moves alike.
 *
 * The worker, each step harmless to repeat (a takeover after a crash):
 *   COPY    the volume still on the source: its file sent to the target (sov_hv_volume_send;
 *           a partial copy of an earlier run is replaced). An encrypted volume's file is
 *           LUKS ciphertext and moves as it is; its data key stays wrapped in the database
 *           and is defined on a host only while attached (the target defines it at attach).
 *   COMMIT  one transaction: the row's host, region and zone become the target's, the
 *           reservation is released and the volume's allocation moves there
 *           (sov_placement_move), and a "moved" residency record names both places, the
 *           operation and where an encrypted one's key lives. A row already on the target
 *           (an earlier run committed) is left alone.
 *   FINISH  the source's file removed (missing is fine).
 * A move that gives up (sov_volume_move_failed) and never committed releases the
 * reservation and removes the target's copy: the volume stays whole on its source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/log.h"
#include "storage_int.h"

int
sov_volume_move_arg_parse(const char *arg, sov_volume_move *ret, sov_error *err)
{
    char a[SOV_UUID_LEN + 1], b[SOV_UUID_LEN + 1], r[SOV_UUID_LEN + 1];

    if (!arg || sscanf(arg, "%36s %36s %36s", a, b, r) != 3 || !sov_uuid_valid(a) ||
        !sov_uuid_valid(b) || !sov_uuid_valid(r))
        return sov_error_set(err, SOV_E_INTERNAL, "a volume move's operation has a bad arg");
    snprintf(ret->source_host_id, sizeof(ret->source_host_id), "%s", a);
    snprintf(ret->target_host_id, sizeof(ret->target_host_id), "%s", b);
    snprintf(ret->reservation_id, sizeof(ret->reservation_id), "%s", r);
    return 0;
}

/* ---- the request ---- */

int
sov_volume_move_tx(sov_dbconn *c, sov_ctx *ctx, const sov_volume *v, const char *zone,
                   const char *region, const char *pin_host_id, sov_op *op,
                   sov_placement *ret, sov_error *err)
{
    char what[96], arg[160];
    sov_place_request r;

    snprintf(what, sizeof(what), "volume '%s'", v->name);
    if (v->attachment.instance_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "cannot move volume '%s': it is attached to "
                             "instance '%s' (detach it first)", v->name,
                             v->attachment.instance_name);
    if (strcmp(v->state, "available") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot move volume '%s': it is %s "
                             "(available needed)", v->name, v->state);
    if (!v->host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "cannot move volume '%s': it has no host",
                             v->name);
    if (sov_repo_volume_moving(c, v->id, what, err) < 0 ||
        sov_repo_volume_imaging(c, v->id, what, err) < 0 ||
        sov_repo_volume_copy_blockers(c, v->id, what, err) < 0 ||
        sov_repo_volume_snapshot_blockers(c, v->id, what, err) < 0)
        return -1;
    memset(&r, 0, sizeof(r));
    r.tenant_id = v->tenant_id;
    r.disk_gib = v->size_gib;
    r.zone = zone && *zone ? zone : NULL;
    r.region = region && *region ? region : NULL;
    r.pin_host_id = pin_host_id && *pin_host_id ? pin_host_id : NULL;
    r.exclude_host_id = v->host_id;
    r.resource_type = "volume-move";
    r.resource_id = v->id;
    r.reserve = true;           /* the commit writes "moved", not "placed" */
    if (sov_placement_claim(c, ctx, &r, ret, err) < 0)
        return -1;
    snprintf(arg, sizeof(arg), "%s %s %s", v->host_id, ret->host_id, ret->allocation_id);
    if (sov_op_enqueue(c, ctx, v->tenant_id, "volume.move", "volume", v->id, arg, op,
                       err) < 0)
        return -1;
    return sov_audit_append(c, ctx, v->tenant_id, "volume", v->id, SOV_OUTCOME_ACCEPTED, err);
}

/* ---- the worker ---- */

typedef struct move_job {
    sov_ctx *ctx;
    const sov_op *op;
    sov_volume v;
    sov_volume_move m;
} move_job;

static int
open_host(move_job *j, const char *host_id, sov_hv **ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    char uri[1024], name[SOV_NAME_MAX + 1];

    if (sov_db_acquire(j->ctx->db, &c, err) < 0 ||
        sov_repo_volume_host(c, host_id, uri, sizeof(uri), name, sizeof(name), err) < 0)
        return -1;
    /* A host that does not answer may come back: the queue retries. */
    if (sov_hv_open(uri, ret, err) < 0) {
        err->code = SOV_E_UNAVAILABLE;
        snprintf(err->msg, sizeof(err->msg), "could not connect to host '%s'", name);
        return -1;
    }
    return 0;
}

static int
load_job(sov_op_run *run, const sov_op *op, move_job *j, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    memset(j, 0, sizeof(*j));
    j->ctx = sov_op_ctx(run);
    j->op = op;
    if (sov_volume_move_arg_parse(op->arg, &j->m, err) < 0 ||
        sov_db_acquire(j->ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_volume_get(c, NULL, op->resource_id, false, &j->v, err);
}

static int
commit_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    move_job *j = arg;
    const sov_volume_move *m = &j->m;
    sov_volume v;
    sov_location from, to;
    sov_policy policy;
    char reason[512], note[160];

    if (sov_repo_volume_get(c, NULL, j->v.id, true, &v, err) < 0)
        return -1;
    if (strcmp(v.host_id, m->target_host_id) == 0)
        return 0;   /* committed by an earlier run: nothing twice */
    if (strcmp(v.host_id, m->source_host_id) != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' left host %s during its move",
                             v.name, m->source_host_id);
    /* The host's rows first, the order a create takes them in. */
    if (sov_placement_release(c, m->reservation_id, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
    }
    if (sov_repo_host_place(c, m->source_host_id, &from, err) < 0 ||
        sov_repo_host_place(c, m->target_host_id, &to, err) < 0 ||
        sov_repo_storage_move(c, "volumes", v.id, m->target_host_id, err) < 0 ||
        (v.allocation_id[0] &&
         sov_placement_move(c, v.allocation_id, m->target_host_id, err) < 0) ||
        sov_policy_load(c, v.tenant_id, &policy, err) < 0)
        return -1;
    sov_storage_key_note(v.key_region, v.key_country, note, sizeof(note));
    snprintf(reason, sizeof(reason), "volume move %s from host '%s' to host '%s'%s%s",
             j->op->id, from.host, to.host, note[0] ? "; " : "", note);
    return sov_residency_record(c, v.tenant_id, "volume", v.id, "moved", &from, &to, &policy,
                                reason, j->op->id, err);
}

int
sov_volume_move_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    move_job j;
    sov_autoptr(sov_hv) src = NULL;
    sov_autoptr(sov_hv) dst = NULL;

    if (load_job(run, op, &j, err) < 0)
        return -1;
    if (strcmp(j.v.state, "deleted") == 0)
        return 0;
    if (strcmp(j.v.host_id, j.m.target_host_id) != 0) {
        if (strcmp(j.v.host_id, j.m.source_host_id) != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is on neither host of its "
                                 "move", j.v.name);
        if (sov_op_step(run, "connecting to both hosts", 10, err) < 0 ||
            open_host(&j, j.m.source_host_id, &src, err) < 0 ||
            open_host(&j, j.m.target_host_id, &dst, err) < 0)
            return -1;
        if (sov_op_step(run, "copying the volume's file", 30, err) < 0 ||
            sov_hv_volume_send(src, j.v.pool, j.v.volume, dst, err) < 0)
            return -1;
        if (sov_op_step(run, "moving the volume's row and allocation", 80, err) < 0 ||
            sov_db_tx(j.ctx->db, commit_tx, &j, err) < 0)
            return -1;
    }
    /* FINISH: the source's copy goes; the database names the target's. */
    if (sov_op_step(run, "removing the source's copy", 90, err) < 0 ||
        (!src && open_host(&j, j.m.source_host_id, &src, err) < 0) ||
        sov_hv_volume_delete(src, j.v.pool, j.v.volume, err) < 0)
        return -1;
    if (j.v.encrypted)
        sov_storage_secret_close(src, j.v.id);
    return 0;
}

/* ---- failure ---- */

/* Still on the source: the reservation goes back; *ret true then (the target's copy is
 * removed after the commit). */
typedef struct failed_move {
    move_job *j;
    bool undo;
} failed_move;

static int
failed_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    failed_move *f = arg;
    sov_volume v;

    if (sov_repo_volume_get(c, NULL, f->j->v.id, true, &v, err) < 0)
        return -1;
    if (strcmp(v.host_id, f->j->m.source_host_id) != 0)
        return 0;   /* moved after all: the source's file is an orphan the reconciler reports */
    f->undo = true;
    if (sov_placement_release(c, f->j->m.reservation_id, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_clear(err);
    }
    return 0;
}

int
sov_volume_move_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err)
{
    move_job j;
    failed_move f = { &j, false };
    sov_autoptr(sov_hv) dst = NULL;
    sov_error e = SOV_ERROR_INIT;

    if (load_job(run, op, &j, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND || err->code == SOV_E_INTERNAL) {
            sov_error_clear(err);   /* nothing to give back */
            return 0;
        }
        return -1;
    }
    if (sov_db_tx(j.ctx->db, failed_tx, &f, err) < 0)
        return -1;
    if (!f.undo)
        return 0;
    sov_log_warn("volume %s stays on its host: its move failed: %s", j.v.id, reason);
    if (open_host(&j, j.m.target_host_id, &dst, &e) < 0 ||
        sov_hv_volume_delete(dst, j.v.pool, j.v.volume, &e) < 0)
        sov_log_warn("could not remove volume %s's partial copy on host %s: %s", j.v.id,
                     j.m.target_host_id, e.detail[0] ? e.detail : e.msg);
    return 0;
}
