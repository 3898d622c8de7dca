/* migrate.c: storage/'s part of a migration. Volumes are host-local (a qcow2 file in the
 * pool of their host), so an instance's attached volumes move with it, and so do their
 * snapshots: a snapshot is a file in the same pool on the same host, and leaving it behind
 * would split a volume from its snapshots (a restore is made on the snapshot's host, and
 * the volume could no longer be deleted there). Refusing to move an instance whose volumes
 * have snapshots would make such instances impossible to evacuate; moving them costs a
 * copy of each snapshot's file, which is not in use and can be sent at any time.
 *
 * compute/'s migration (include/sov/compute.h, above sov_migrate_phase) calls, through the
 * storage instance hook (instance_hook.c):
 *   migrate_check  in the request's transaction: each attached volume and each of their
 *                  snapshots is locked and must be settled (a volume in-use, a snapshot
 *                  available: 409 naming the one that is not, or the volumes being copied
 *                  from them), the tenant's KEK alive when one is encrypted (the target
 *                  needs its key), and their sizes are added to the room the target must
 *                  have (extra_disk_gib).
 *   PREPARE        live: each encrypted volume's secret defined on the target (its data key
 *                  unwrapped as for an attach), and an empty volume of the same name and
 *                  capacity made there (encrypted with that secret): libvirt's storage copy
 *                  fills it; the snapshots' files are sent (volume_send: no guest writes
 *                  them). Cold: the secrets only (the domain starts on the target).
 *   COPY           cold: each volume's and snapshot's file sent to the target.
 *   COMMIT         in the move's transaction: each row's host, region and zone are the
 *                  target's, its allocation moves there (sov_placement_move: the
 *                  reservation compute releases in the same transaction held the room), and
 *                  a "moved" residency record per volume and snapshot names the migration.
 *   FINISH         the source's files and secrets removed.
 *   ABORT          the target's copies and secrets removed.
 * Every phase reads the rows again and acts only on what the move has or has not reached
 * (a row still on the source, or already on the target), so each may run twice, and no
 * phase ever deletes the copy the database calls the volume's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/log.h"
#include "storage_int.h"

/* Snapshots of one volume that a migration moves at most. */
#define MIGRATE_SNAPSHOTS_MAX 500

/* What moves: the instance's attached volumes and their snapshots, as the rows say now. */
typedef struct moving {
    sov_volume *vols;
    size_t nvols;
    sov_snapshot *snaps;
    size_t nsnaps;
} moving;

static void
moving_free(moving *mv)
{
    free(mv->vols);
    free(mv->snaps);
    memset(mv, 0, sizeof(*mv));
}

/* The snapshots (not deleted) of volume v appended to mv. */
static int
add_snapshots(sov_dbconn *c, const sov_volume *v, moving *mv, sov_error *err)
{
    sov_snapshot_page page = { 0 };
    sov_snapshot *all;

    if (sov_repo_snapshot_list(c, NULL, NULL, v->id, NULL, MIGRATE_SNAPSHOTS_MAX, &page,
                               err) < 0)
        return -1;
    if (page.next_after[0]) {
        free(page.items);
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' has more than %d snapshots: "
                             "delete some before migrating", v->name, MIGRATE_SNAPSHOTS_MAX);
    }
    if (page.n == 0) {
        free(page.items);
        return 0;
    }
    all = realloc(mv->snaps, (mv->nsnaps + page.n) * sizeof(*all));
    if (!all) {
        free(page.items);
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }
    memcpy(all + mv->nsnaps, page.items, page.n * sizeof(*all));
    mv->snaps = all;
    mv->nsnaps += page.n;
    free(page.items);
    return 0;
}

/* The rows on c; lock: each FOR UPDATE (the request and the commit). */
static int
load_on(sov_dbconn *c, const char *instance_id, bool lock, moving *mv, sov_error *err)
{
    memset(mv, 0, sizeof(*mv));
    if (sov_repo_volume_of_instance(c, instance_id, &mv->vols, &mv->nvols, err) < 0)
        return -1;
    for (size_t i = 0; i < mv->nvols; i++) {
        if (lock && sov_repo_volume_get(c, NULL, mv->vols[i].id, true, &mv->vols[i], err) < 0)
            return -1;
        if (add_snapshots(c, &mv->vols[i], mv, err) < 0)
            return -1;
    }
    for (size_t i = 0; lock && i < mv->nsnaps; i++)
        if (sov_repo_snapshot_get(c, NULL, mv->snaps[i].id, true, &mv->snaps[i], err) < 0)
            return -1;
    return 0;
}

/* The rows outside a transaction (the phases that talk to hosts). */
static int
load(sov_ctx *ctx, const char *instance_id, moving *mv, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (load_on(c, instance_id, false, mv, err) < 0) {
        moving_free(mv);
        return -1;
    }
    return 0;
}

/* ---- the request ---- */

static int
check_volume(sov_dbconn *c, const sov_instance *inst, const sov_volume *v, sov_error *err)
{
    char what[160];

    if (strcmp(v->state, "in-use") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot migrate instance '%s': its volume "
                             "'%s' is %s (in-use needed: wait for its operation to end)",
                             inst->name, v->name, v->state);
    if (strcmp(v->host_id, inst->host_id) != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot migrate instance '%s': its volume "
                             "'%s' is on host '%s', not on the instance's", inst->name,
                             v->name, v->host_name[0] ? v->host_name : "(none)");
    if (v->encrypted && sov_keystore_check(c, v->tenant_id, err) < 0) {
        char why[sizeof(err->msg)];

        snprintf(why, sizeof(why), "%s", err->msg);
        return sov_error_set(err, err->code, "cannot migrate instance '%s' with encrypted "
                             "volume '%s': %s", inst->name, v->name, why);
    }
    snprintf(what, sizeof(what), "volume '%s'", v->name);
    return sov_repo_volume_copy_blockers(c, v->id, what, err);
}

static int
check_snapshot(sov_dbconn *c, const sov_instance *inst, const sov_snapshot *s,
               sov_error *err)
{
    char what[200];

    if (strcmp(s->state, "available") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot migrate instance '%s': snapshot '%s' "
                             "of its volume '%s' is %s (available needed: it moves with the "
                             "volume)", inst->name, s->name, s->volume_name, s->state);
    if (strcmp(s->host_id, inst->host_id) != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot migrate instance '%s': snapshot '%s' "
                             "of its volume '%s' is on host '%s', not on the instance's",
                             inst->name, s->name, s->volume_name,
                             s->host_name[0] ? s->host_name : "(none)");
    snprintf(what, sizeof(what), "snapshot '%s' of volume '%s'", s->name, s->volume_name);
    return sov_repo_snapshot_blockers(c, s->id, what, err);
}

int
sov_storage_migrate_check(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, bool live,
                          const char *target_host_id, long long *extra_disk_gib,
                          sov_error *err)
{
    moving mv;
    long long gib = 0;
    int rc = -1;

    (void) ctx, (void) live, (void) target_host_id;
    if (load_on(c, inst->id, true, &mv, err) < 0)
        goto out;
    for (size_t i = 0; i < mv.nvols; i++) {
        if (check_volume(c, inst, &mv.vols[i], err) < 0)
            goto out;
        gib += mv.vols[i].size_gib;
    }
    for (size_t i = 0; i < mv.nsnaps; i++) {
        if (check_snapshot(c, inst, &mv.snaps[i], err) < 0)
            goto out;
        gib += mv.snaps[i].size_gib;
    }
    *extra_disk_gib += gib;
    rc = 0;
out:
    moving_free(&mv);
    return rc;
}

/* ---- the phases that talk to hosts ---- */

/* Whether the row is still on the move's source (not yet moved), or on its target. */
static bool
on_host(const char *row_host, const char *host_id)
{
    return host_id && strcmp(row_host, host_id) == 0;
}

/* Each snapshot's file on the source host sent to the target (prepare when live, copy when
 * cold). */
static int
send_snapshots(const sov_instance_move *m, const moving *mv, sov_error *err)
{
    for (size_t i = 0; i < mv->nsnaps; i++) {
        const sov_snapshot *s = &mv->snaps[i];

        if (on_host(s->host_id, m->source_host_id) &&
            sov_hv_volume_send(m->source, s->pool, s->volume, m->target, err) < 0)
            return -1;
    }
    return 0;
}

/* live: each volume made empty on the target (its secret first when encrypted) and each
 * snapshot sent; cold: the secrets only. */
static int
prepare(sov_ctx *ctx, const sov_instance_move *m, const moving *mv, sov_error *err)
{
    for (size_t i = 0; i < mv->nvols; i++) {
        const sov_volume *v = &mv->vols[i];
        char secret[SOV_UUID_LEN + 1] = "";

        if (!on_host(v->host_id, m->source_host_id))
            continue;
        if (v->encrypted && sov_storage_secret_open(ctx, m->target, "volumes", v->id,
                                                    v->tenant_id, secret, err) < 0)
            return -1;
        /* Made afresh: the storage copy may skip what the source never wrote, so an
         * earlier attempt's file could keep stale blocks. compute sent the seed first, whose
         * send refuses a target pool that is the source's own folder, so this deletes a
         * file of the target only. */
        if (m->live && (sov_hv_volume_delete(m->target, v->pool, v->volume, err) < 0 ||
                        sov_hv_volume_create(m->target, v->pool, v->volume, v->size_gib,
                                             secret[0] ? secret : NULL, err) < 0))
            return -1;
    }
    return m->live ? send_snapshots(m, mv, err) : 0;
}

/* cold: every file, the guest stopped. */
static int
copy(const sov_instance_move *m, const moving *mv, sov_error *err)
{
    for (size_t i = 0; i < mv->nvols; i++) {
        const sov_volume *v = &mv->vols[i];

        if (on_host(v->host_id, m->source_host_id) &&
            sov_hv_volume_send(m->source, v->pool, v->volume, m->target, err) < 0)
            return -1;
    }
    return send_snapshots(m, mv, err);
}

/* Remove the files (and the volumes' secrets) from hv of the rows on row_host: the source's
 * once the move committed (FINISH), the target's while it has not (ABORT). Every removal is
 * tried; the first failure is returned (the phase runs again). */
static int
remove_copies(sov_hv *hv, const char *row_host, const moving *mv, const char *where,
              sov_error *err)
{
    sov_error e = SOV_ERROR_INIT;
    int rc = 0;

    for (size_t i = 0; i < mv->nvols; i++) {
        const sov_volume *v = &mv->vols[i];

        if (!on_host(v->host_id, row_host))
            continue;
        if (sov_hv_volume_delete(hv, v->pool, v->volume, &e) < 0 ||
            (v->encrypted && sov_hv_secret_undefine(hv, v->id, &e) < 0)) {
            sov_log_warn("could not remove volume %s's copy on the %s host: %s", v->id, where,
                         e.detail[0] ? e.detail : e.msg);
            if (rc == 0)
                *err = e;
            rc = -1;
            sov_error_clear(&e);
        }
    }
    for (size_t i = 0; i < mv->nsnaps; i++) {
        const sov_snapshot *s = &mv->snaps[i];

        if (!on_host(s->host_id, row_host))
            continue;
        if (sov_hv_volume_delete(hv, s->pool, s->volume, &e) < 0) {
            sov_log_warn("could not remove snapshot %s's copy on the %s host: %s", s->id,
                         where, e.detail[0] ? e.detail : e.msg);
            if (rc == 0)
                *err = e;
            rc = -1;
            sov_error_clear(&e);
        }
    }
    return rc;
}

/* ---- the commit ---- */

static void
move_reason(const sov_instance_move *m, const char *key_region, const char *key_country,
            char *out, size_t size)
{
    char note[160] = "";

    sov_storage_key_note(key_region, key_country, note, sizeof(note));
    snprintf(out, size, "%s migration %s of instance '%s' from host '%s' to host '%s'%s%s",
             m->live ? "live" : "cold", m->migration_id, m->inst->name,
             m->source_host_name ? m->source_host_name : "",
             m->target_host_name ? m->target_host_name : "", note[0] ? "; " : "", note);
}

static int
commit(sov_dbconn *c, const sov_instance_move *m, sov_error *err)
{
    moving mv;
    char reason[512], alloc[SOV_UUID_LEN + 1];
    const char *op_id = m->op ? m->op->id : NULL;
    int rc = -1;

    if (load_on(c, m->inst->id, true, &mv, err) < 0)
        goto out;
    for (size_t i = 0; i < mv.nvols; i++) {
        const sov_volume *v = &mv.vols[i];

        /* Moved already (a commit that ran before): nothing twice. */
        if (!on_host(v->host_id, m->source_host_id))
            continue;
        move_reason(m, v->key_region, v->key_country, reason, sizeof(reason));
        if (sov_repo_storage_move(c, "volumes", v->id, m->target_host_id, err) < 0 ||
            (v->allocation_id[0] &&
             sov_placement_move(c, v->allocation_id, m->target_host_id, err) < 0) ||
            sov_residency_record(c, v->tenant_id, "volume", v->id, "moved", m->from, m->to,
                                 m->policy, reason, op_id, err) < 0)
            goto out;
    }
    for (size_t i = 0; i < mv.nsnaps; i++) {
        const sov_snapshot *s = &mv.snaps[i];

        if (!on_host(s->host_id, m->source_host_id))
            continue;
        move_reason(m, s->key_region, s->key_country, reason, sizeof(reason));
        if (sov_repo_snapshot_allocation(c, s->id, alloc, err) < 0 ||
            sov_repo_storage_move(c, "snapshots", s->id, m->target_host_id, err) < 0 ||
            (alloc[0] && sov_placement_move(c, alloc, m->target_host_id, err) < 0) ||
            sov_residency_record(c, s->tenant_id, "snapshot", s->id, "moved", m->from, m->to,
                                 m->policy, reason, op_id, err) < 0)
            goto out;
    }
    rc = 0;
out:
    moving_free(&mv);
    return rc;
}

int
sov_storage_migrate(sov_dbconn *c, sov_ctx *ctx, sov_migrate_phase phase,
                    const sov_instance_move *m, sov_error *err)
{
    moving mv;
    int rc = 0;

    if (phase == SOV_MIGRATE_COMMIT)
        return c ? commit(c, m, err)
                 : sov_error_set(err, SOV_E_INTERNAL, "a migration's commit needs its "
                                 "transaction");
    if (phase == SOV_MIGRATE_COPY && m->live)
        return 0;
    if (!m->source || !m->target)
        return sov_error_set(err, SOV_E_INTERNAL, "a migration's %s needs both hosts open",
                             phase == SOV_MIGRATE_PREPARE ? "prepare" : "clean-up");
    if (load(ctx, m->inst->id, &mv, err) < 0)
        return -1;
    switch (phase) {
    case SOV_MIGRATE_PREPARE:
        rc = prepare(ctx, m, &mv, err);
        break;
    case SOV_MIGRATE_COPY:
        rc = copy(m, &mv, err);
        break;
    case SOV_MIGRATE_FINISH:
        rc = remove_copies(m->source, m->target_host_id, &mv, "source", err);
        break;
    case SOV_MIGRATE_ABORT:
        rc = remove_copies(m->target, m->source_host_id, &mv, "target", err);
        break;
    case SOV_MIGRATE_COMMIT:
        break;
    }
    moving_free(&mv);
    return rc;
}
