/* snapshot.c: the rules of snapshots, whole crash-consistent copies of a volume.
 *
 * A snapshot is a qcow2 file "sov-snap-<id>" in the pool of its volume's host (storage is
 * host-local: a restore, a new volume from the snapshot, is made there too). It is a full
 * copy, not a qcow2 internal snapshot nor an external overlay chain: the volume stays one
 * file that can be attached, extended, encrypted and deleted on its own, and a snapshot
 * outlives nothing it depends on. Taking one commits, in one transaction, the snapshot
 * (creating) with its disk claimed on the host, its quota (snapshots, storage_gib), its own
 * data key when the volume is encrypted, the residency records ("placed", and "copied" from
 * the volume) and the "snapshot.create" operation; a worker makes the copy (snapshot_ops.c):
 * live from the running guest when the volume is attached, from the file when not.
 *
 * States: creating -> available; any but deleted -> deleting -> deleted; error when the copy
 * gave up (with its reason). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage_int.h"
#include "sov/audit.h"
#include "sov/crypto.h"
#include "sov/log.h"
#include "sov/quota.h"

static int
not_found(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "snapshot '%.64s' does not exist", id);
}

/* ---- create ---- */

typedef struct create_args {
    sov_ctx *ctx;
    const sov_snapshot_create_args *a;
    sov_snapshot *s;
    sov_op *op;
} create_args;

/* The volume to copy, locked (a delete or another change of the volume waits for this
 * transaction, so a volume never goes while a snapshot of it is being recorded). Unknown:
 * 400 naming "volume", as an instance create treats an unknown image. */
static int
lock_volume(sov_dbconn *c, const char *tenant, const char *workspace, const char *volume,
            sov_volume *v, sov_error *err)
{
    if (sov_repo_volume_find(c, tenant, workspace, volume, v, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            return sov_error_invalid(err, "volume", "volume '%.64s' does not exist", volume);
        return -1;
    }
    if (sov_repo_volume_get(c, tenant, v->id, true, v, err) < 0)
        return -1;
    if (strcmp(v->state, "available") != 0 && strcmp(v->state, "in-use") != 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "volume '%s' is %s: a snapshot needs it available or in-use",
                             v->name, v->state);
    /* Its file is being copied to another host (its instance migrates): after the move,
     * the snapshot would be on the wrong host. */
    {
        char what[96];

        snprintf(what, sizeof(what), "volume '%s'", v->name);
        return sov_repo_volume_moving(c, v->id, what, err);
    }
}

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *x = arg;
    sov_snapshot *s = x->s;
    sov_volume v, placed;
    sov_wrapped_key key;
    sov_policy policy;
    sov_location from, to;
    char reason[320], note[160] = "";

    memset(&key, 0, sizeof(key));
    memset(&placed, 0, sizeof(placed));
    if (sov_workspace_check(c, s->tenant_id, s->workspace, err) < 0 ||
        lock_volume(c, s->tenant_id, s->workspace, x->a->volume, &v, err) < 0)
        return -1;
    snprintf(s->volume_id, sizeof(s->volume_id), "%s", v.id);
    snprintf(s->volume_name, sizeof(s->volume_name), "%s", v.name);
    s->size_gib = v.size_gib;
    s->encrypted = v.encrypted;
    snprintf(s->pool, sizeof(s->pool), "%s", v.pool);
    snprintf(s->volume, sizeof(s->volume), "sov-snap-%s", s->id);
    /* An early, unlocked answer before placement; the charge below decides. */
    if (sov_quota_check_resource(c, s->tenant_id, "snapshot", s, err) < 0)
        return -1;
    if (sov_op_enqueue(c, x->ctx, s->tenant_id, "snapshot.create", "snapshot", s->id, "",
                       x->op, err) < 0)
        return -1;
    snprintf(s->operation_id, sizeof(s->operation_id), "%s", x->op->id);
    /* The copy is made where the volume is: its disk is claimed on that host. */
    if (!v.host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' has lost its host", v.name);
    /* Its own data key: a snapshot outlives nothing of its volume's, its key included. Its
     * records say where that key lives. */
    if (v.encrypted) {
        if (sov_keystore_new_key(c, x->ctx->cfg, s->tenant_id, &key, err) < 0)
            return -1;
        sov_storage_key_note(key.region, key.country, note, sizeof(note));
    }
    if (sov_storage_place_noted(c, x->ctx, s->tenant_id, "snapshot", s->id, s->size_gib,
                                v.region, v.zone, v.host_id, x->op->id, note[0] ? note : NULL,
                                &placed, err) < 0) {
        explicit_bzero(&key, sizeof(key));
        return -1;
    }
    /* The claim must be the volume's host: the copy is made there, and nowhere else. */
    if (strcmp(placed.host_id, v.host_id) != 0) {
        explicit_bzero(&key, sizeof(key));
        return sov_error_set(err, SOV_E_INTERNAL, "snapshot of volume '%s' placed on host "
                             "'%s', not on the volume's '%s'", v.name, placed.host_name,
                             v.host_name);
    }
    snprintf(s->region, sizeof(s->region), "%s", v.region);
    snprintf(s->zone, sizeof(s->zone), "%s", v.zone);
    snprintf(s->host_id, sizeof(s->host_id), "%s", v.host_id);
    if (sov_repo_snapshot_insert(c, s, v.encrypted ? &key : NULL, err) < 0) {
        explicit_bzero(&key, sizeof(key));
        return -1;
    }
    explicit_bzero(&key, sizeof(key));
    from = v.residency;
    if (!from.region[0])
        from = placed.residency;
    to = placed.residency.region[0] ? placed.residency : from;
    snprintf(reason, sizeof(reason), "snapshot of volume '%s' (%s), copied on its host%s%s",
             v.name, v.id, note[0] ? "; " : "", note);
    if (sov_policy_load(c, s->tenant_id, &policy, err) < 0 ||
        sov_residency_record(c, s->tenant_id, "snapshot", s->id, "copied", &from, &to, &policy,
                             reason, x->op->id, err) < 0)
        return -1;
    /* The quota rows last, just before the audit head, as an instance create does. */
    if (sov_quota_charge_resource(c, s->tenant_id, "snapshot", s, err) < 0 ||
        sov_audit_append(c, x->ctx, s->tenant_id, "snapshot", s->id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_snapshot_get(c, s->tenant_id, s->id, false, s, err);
}

int
sov_snapshot_create(sov_ctx *ctx, const char *tenant_id, const sov_snapshot_create_args *a,
                    sov_snapshot *ret, sov_op *op, sov_error *err)
{
    create_args x = { .ctx = ctx, .a = a, .s = ret, .op = op };

    memset(ret, 0, sizeof(*ret));
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a snapshot",
                             ret->tenant_id, ret->workspace, err) < 0)
        return -1;
    if (!a->volume || !*a->volume)
        return sov_error_invalid(err, "volume", "volume is required: a volume's name or id");
    if (strlen(a->volume) > SOV_NAME_MAX && !sov_uuid_valid(a->volume))
        return sov_error_invalid(err, "volume", "volume is a volume's name or id");
    snprintf(ret->name, sizeof(ret->name), "%s", a->name);
    if (sov_uuid_v4(ret->id, err) < 0 || sov_ctx_tx(ctx, create_tx, &x, err) < 0)
        return -1;
    sov_log_info("snapshot '%s' (%s) of volume '%s' queued in %s/%s", ret->name, ret->id,
                 ret->volume_name, ret->tenant_id, ret->workspace);
    return 0;
}

/* ---- read ---- */

int
sov_snapshot_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_snapshot *ret,
                 sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!id || !sov_uuid_valid(id))
        return not_found(id ? id : "", err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_snapshot_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    /* Another tenant's snapshot does not exist for this caller. */
    if (!sov_ctx_sees_tenant(ctx, ret->tenant_id) ||
        (tenant_id && strcmp(tenant_id, ret->tenant_id) != 0))
        return not_found(id, err);
    return 0;
}

int
sov_snapshot_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                     const char *id_or_name, char *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *t = NULL;
    sov_snapshot s;

    if (sov_uuid_valid(id_or_name)) {
        snprintf(ret, SOV_UUID_LEN + 1, "%s", id_or_name);
        return 0;
    }
    /* A name lives in one tenant's workspace: the caller's own unless an operator names
     * another. */
    if (sov_ctx_tenant(ctx, tenant_id, &t, err) < 0)
        return -1;
    if ((workspace && sov_check_slug("workspace", workspace, err) < 0) ||
        sov_check_slug("name", id_or_name, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_snapshot_find(c, t, workspace, id_or_name, &s, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", s.id);
    return 0;
}

int
sov_snapshot_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                  const char *volume_id, const char *after, unsigned limit,
                  sov_snapshot_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *t = NULL;

    memset(ret, 0, sizeof(*ret));
    /* Operators list every tenant's unless they name one. */
    if (tenant_id || !sov_ctx_is_operator(ctx)) {
        if (sov_ctx_tenant(ctx, tenant_id, &t, err) < 0)
            return -1;
    }
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (volume_id && !sov_uuid_valid(volume_id)) {
        sov_volume v;
        /* A volume's name lives in a workspace of one tenant. */
        if (!t)
            return sov_error_invalid(err, "volume", "volume must be a volume's id here");
        if (sov_repo_volume_find(c, t, workspace, volume_id, &v, err) < 0) {
            if (err->code == SOV_E_NOT_FOUND)
                return sov_error_invalid(err, "volume", "volume '%.64s' does not exist",
                                         volume_id);
            return -1;
        }
        return sov_repo_snapshot_list(c, t, workspace, v.id, after,
                                      limit == 0 ? 100 : limit > 1000 ? 1000 : limit, ret, err);
    }
    return sov_repo_snapshot_list(c, t, workspace, volume_id, after,
                                  limit == 0 ? 100 : limit > 1000 ? 1000 : limit, ret, err);
}

/* ---- delete ---- */

typedef struct delete_args {
    sov_ctx *ctx;
    const char *id;
    sov_op *op;
    bool going;                 /* already deleting: answer with that operation */
} delete_args;

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    delete_args *x = arg;
    sov_snapshot s;
    bool moved = false;
    char what[128];

    if (sov_repo_snapshot_get(c, NULL, x->id, true, &s, err) < 0)
        return -1;
    if (!sov_ctx_sees_tenant(x->ctx, s.tenant_id) || strcmp(s.state, "deleted") == 0)
        return not_found(x->id, err);
    if (strcmp(s.state, "deleting") == 0) {
        x->going = true;
        return 0;
    }
    /* The copy being made holds the file and the host's secret: it finishes (or fails)
     * first, and a delete of what it left follows. */
    if (strcmp(s.state, "creating") == 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "snapshot '%s' is creating: delete it once it is available",
                             s.name);
    /* A volume being made from it still reads its file. */
    snprintf(what, sizeof(what), "snapshot '%s'", s.name);
    if (sov_repo_snapshot_blockers(c, s.id, what, err) < 0)
        return -1;
    /* Its file is being copied to another host with its volume's migrating instance. */
    if (sov_repo_volume_moving(c, s.volume_id, what, err) < 0)
        return -1;
    if (sov_repo_snapshot_set_state(c, s.id, "available,error", "deleting", "", &moved,
                                    err) < 0)
        return -1;
    if (!moved)
        return sov_error_set(err, SOV_E_CONFLICT, "snapshot '%s' is %s", s.name, s.state);
    if (sov_op_enqueue(c, x->ctx, s.tenant_id, "snapshot.delete", "snapshot", s.id, "", x->op,
                       err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, s.tenant_id, "snapshot", s.id, SOV_OUTCOME_ACCEPTED,
                            err);
}

/* The snapshot.delete operation of a snapshot that is deleting. */
static int
pending_delete(sov_ctx *ctx, const char *id, sov_op *ret, sov_error *err)
{
    int rc = sov_op_find_pending(ctx, id, "snapshot.delete", ret, err);

    /* None: it finished between our read and now, and the snapshot is gone. */
    return rc < 0 ? -1 : rc ? 0 : not_found(id, err);
}

int
sov_snapshot_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                    sov_error *err)
{
    delete_args x = { .ctx = ctx, .id = id, .op = op };
    sov_snapshot s;

    /* The caller's view first: another tenant's snapshot is not found. */
    if (sov_snapshot_get(ctx, tenant_id, id, &s, err) < 0)
        return -1;
    if (sov_ctx_tx(ctx, delete_tx, &x, err) < 0)
        return -1;
    if (x.going)
        return pending_delete(ctx, id, op, err);
    sov_log_info("snapshot '%s' (%s) deleting", s.name, s.id);
    return 0;
}
