/* volume_reconcile.c: the reconciler's look at what the hosts' pools really hold.
 *
 * For each host that is up, the files of the pool named sov-vol-* and sov-snap-* are
 * compared with the volumes (and snapshots) the database places there:
 *   - a live volume whose file is missing becomes error, "its file is missing from pool P on
 *     host H" (audited);
 *   - a volume left in a transitional state with no operation queued or running (its sovd
 *     died, and the operation ended without settling it) is settled by what the host says:
 *     creating with its file -> available (without -> error), attaching and detaching ->
 *     in-use when the instance's domain has the disk at its device, else available (the
 *     attachment goes), extending -> back to in-use or available (the reason says whether
 *     the file reached the size);
 *   - a file of our prefixes that no live row places on this host is an orphan (a row of its
 *     name on another host counts only while the two hosts are its instance's migration's
 *     source and target): logged and audited once per sovd, never deleted. Its name carries no deployment id (another control plane may
 *     share the pool), and it may be the only copy of data a database restored from a
 *     backup forgot: an operator decides (virsh vol-delete);
 *   - a libvirt secret of ours (its UUID the volume's id, its usage the file's path) of a
 *     volume that is not attached is undefined (a snapshot's always: none outlives its copy),
 *     and an attached encrypted volume whose secret is gone (a libvirtd restart: secrets
 *     are ephemeral) has it defined again, so its domain can start. Secrets are left alone
 *     while any volume or snapshot operation is under way (a copy may hold one for a
 *     moment), and while an instance migrates (its volumes' secrets are defined on the
 *     target, whose rows do not name the volumes until the move commits).
 * A migration's copies are no orphans while it runs: the file on the target before the
 * commit, and the one on the source until its finish (storage/migrate.c); a copy left behind
 * by a migration that ended (its clean-up failed) is one. The volumes stay in-use meanwhile,
 * and their file on the host the rows name is there.
 * Each repair is an audit entry. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/log.h"
#include "storage_int.h"

typedef struct pass {
    sov_ctx *ctx;
    unsigned repairs;
} pass;

/* Orphan files, remembered so each is reported once per sovd. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen[256][96];
static size_t nseen;

static bool
first_sighting(const char *name)
{
    bool first = true;

    pthread_mutex_lock(&seen_lock);
    for (size_t i = 0; i < nseen && first; i++)
        first = strcmp(seen[i], name) != 0;
    if (first)
        snprintf(seen[nseen++ % 256], sizeof(seen[0]), "%s", name);
    if (nseen > 256)
        nseen = 256;
    pthread_mutex_unlock(&seen_lock);
    return first;
}

static bool
listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

typedef struct settle_args {
    pass *p;
    const sov_volume *v;
    const char *from, *to, *reason;
    bool detach;                /* the attachment goes too */
    long long size_gib;         /* > 0: the size it has */
    bool done;
} settle_args;

static int
settle_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    settle_args *a = arg;
    const char *const from[] = { a->from, NULL };
    sov_volume now;
    sov_op_page ops = { 0 };
    bool busy;

    a->done = false;
    /* The row's lock first: an operation is queued only under it, so none is queued before
     * this commits, and one queued already is seen. */
    if (sov_repo_volume_get(c, NULL, a->v->id, true, &now, err) < 0 ||
        sov_op_pending(c, a->v->id, NULL, NULL, &ops, err) < 0)
        return -1;
    busy = ops.n > 0;
    free(ops.items);
    if (busy || strcmp(now.state, a->from) != 0)
        return 0;
    if (sov_repo_volume_set_state(c, a->v->id, from, a->to, a->reason, NULL, err) < 0)
        return -1;
    if (a->detach && sov_repo_attachment_delete(c, a->v->id, err) < 0)
        return -1;
    a->p->ctx->action = "volumes.reconcile";
    if (sov_audit_append(c, a->p->ctx, now.tenant_id[0] ? now.tenant_id : NULL, "volume",
                         a->v->id, SOV_OUTCOME_OK, err) < 0)
        return -1;
    a->done = true;
    return 0;
}

/* Move a volume from `from` to `to` unless an operation took it meanwhile; audited. */
static void
settle(pass *p, const sov_volume *v, const char *to, const char *reason, bool detach)
{
    sov_error err = SOV_ERROR_INIT;
    settle_args a = { .p = p, .v = v, .from = v->state, .to = to, .reason = reason,
                      .detach = detach };

    if (sov_db_tx(p->ctx->db, settle_tx, &a, &err) < 0) {
        sov_log_warn("reconciler: could not settle volume %s: %s", v->id,
                     err.detail[0] ? err.detail : err.msg);
        return;
    }
    if (!a.done)
        return;
    p->repairs++;
    sov_log_warn("reconciler: volume %s %s -> %s%s%s", v->id, v->state, to,
                 reason[0] ? ": " : "", reason);
}

/* Whether the instance's domain has the volume's disk: 1, 0, or -1 when the host could not
 * say (then nothing is settled). */
static int
disk_there(sov_hv *hv, const sov_volume *v)
{
    sov_error err = SOV_ERROR_INIT;
    int rc = sov_hv_disk_present(hv, v->attachment.instance_id, v->attachment.device, &err);

    if (rc < 0 && err.code == SOV_E_NOT_FOUND)
        return 0;   /* no domain: no disk */
    return rc;
}

static void
check_volume(pass *p, sov_hv *hv, const char *host, const sov_volume *v, bool present)
{
    char reason[512];
    const char *s = v->state;
    bool attached = v->attachment.instance_id[0] != '\0';
    int there;

    /* A volume in error keeps the reason its operation gave; a deleting one is going. */
    if (strcmp(s, "error") == 0 || strcmp(s, "deleting") == 0)
        return;
    if (!present) {
        snprintf(reason, sizeof(reason), "its file is missing from pool %s on host %s",
                 v->pool, host);
        settle(p, v, "error", reason, false);
        return;
    }
    if (strcmp(s, "creating") == 0) {
        settle(p, v, "available", "", false);
    } else if (strcmp(s, "attaching") == 0 || strcmp(s, "detaching") == 0) {
        if ((there = disk_there(hv, v)) < 0)
            return;
        settle(p, v, there ? "in-use" : "available",
               there ? "" : "the disk is not on the instance", !there);
    } else if (strcmp(s, "extending") == 0) {
        long long cap = 0, alloc = 0;
        sov_error err = SOV_ERROR_INIT;
        if (sov_hv_volume_info(hv, v->pool, v->volume, &cap, &alloc, &err) < 0)
            return;
        if (cap >= (v->size_gib << 30))
            snprintf(reason, sizeof(reason), "%s", "");
        else
            snprintf(reason, sizeof(reason), "the extend to %lld GiB did not complete: the "
                     "file holds %lld GiB; extend again", v->size_gib, cap >> 30);
        settle(p, v, attached ? "in-use" : "available", reason, false);
    }
}

/* Secrets of ours for volumes that are not attached go; attached encrypted volumes get
 * theirs back when the host lost it. */
static void
check_secrets(pass *p, sov_hv *hv, const char *host, const sov_volume *vols, size_t n)
{
    sov_error err = SOV_ERROR_INIT;
    char **uuids = NULL, **snaps = NULL, dir[1024], prefix[1200];
    size_t nu = 0, ns = 0;

    /* A secret's usage is the path of its file (volume_keys.c): ours are those of the pool's
     * sov-vol-* and sov-snap-* files. */
    if (sov_hv_pool_path(hv, p->ctx->cfg->storage_pool, dir, sizeof(dir), &err) < 0)
        return;
    snprintf(prefix, sizeof(prefix), "%s/sov-snap-", dir);
    if (sov_hv_secret_list(hv, prefix, &snaps, &ns, &err) < 0)
        return;
    /* A snapshot's secret serves its copy only: none outlives its operation. */
    for (size_t i = 0; i < ns; i++) {
        sov_storage_secret_close(hv, snaps[i]);
        p->repairs++;
        p->ctx->action = "volumes.secret-removed";
        sov_audit_append_alone(p->ctx, NULL, "secret", snaps[i], SOV_OUTCOME_OK, &err);
    }
    sov_hv_names_free(snaps, ns);
    snprintf(prefix, sizeof(prefix), "%s/sov-vol-", dir);
    if (sov_hv_secret_list(hv, prefix, &uuids, &nu, &err) < 0) {
        sov_log_debug("reconciler: secrets of host %s not checked: %s", host, err.msg);
        return;
    }
    for (size_t i = 0; i < nu; i++) {
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++)
            keep = strcmp(vols[k].id, uuids[i]) == 0 && vols[k].encrypted &&
                   vols[k].attachment.instance_id[0];
        if (keep)
            continue;
        sov_storage_secret_close(hv, uuids[i]);
        p->repairs++;
        p->ctx->action = "volumes.secret-removed";
        sov_audit_append_alone(p->ctx, NULL, "secret", uuids[i], SOV_OUTCOME_OK, &err);
        sov_log_warn("reconciler: removed libvirt secret %s on host %s (no attached volume "
                     "needs it)", uuids[i], host);
    }
    for (size_t k = 0; k < n; k++) {
        const sov_volume *v = &vols[k];
        char secret[SOV_UUID_LEN + 1];
        if (!v->encrypted || strcmp(v->state, "in-use") != 0 ||
            listed(uuids, nu, v->id))
            continue;
        sov_error_clear(&err);
        if (sov_storage_secret_open(p->ctx, hv, "volumes", v->id, v->tenant_id, secret,
                                    &err) < 0) {
            sov_log_warn("reconciler: could not define the secret of attached volume %s on "
                         "host %s again: %s", v->id, host, err.msg);
            continue;
        }
        p->repairs++;
        sov_log_info("reconciler: defined the secret of attached volume %s on host %s again",
                     v->id, host);
    }
    sov_hv_names_free(uuids, nu);
}

/* Files of our prefixes that no live row names: reported, once. */
static void
check_orphans(pass *p, sov_dbconn *c, const sov_storage_host *h, char **names, size_t n)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autofree bool *known = calloc(n + 1, sizeof(bool));

    if (!known || sov_repo_storage_known(c, h->id, names, n, known, &err) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (known[i] || !first_sighting(names[i]))
            continue;
        sov_log_warn("reconciler: file %s of pool %s on host %s belongs to no volume or "
                     "snapshot; kept (delete it by hand if it is no one's)", names[i],
                     p->ctx->cfg->storage_pool, h->name);
        p->ctx->action = "volumes.orphan-found";
        sov_audit_append_alone(p->ctx, NULL, "volume_file", names[i], SOV_OUTCOME_OK, &err);
    }
}

static void
check_host(pass *p, const sov_storage_host *h)
{
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autoptr(sov_hv) hv = NULL;
    sov_autofree sov_volume *vols = NULL;
    char **files = NULL, **snaps = NULL;
    size_t n = 0, nf = 0, ns = 0;
    bool ops_pending = true;

    /* The rows first, then the files: a create makes its file before it marks the volume
     * available, so a list taken after the rows holds the file of every volume they call
     * available. */
    if (sov_db_acquire(p->ctx->db, &c, &err) < 0 ||
        sov_repo_volume_on_host(c, h->id, &vols, &n, &err) < 0 ||
        sov_repo_storage_ops_pending(c, &ops_pending, &err) < 0)
        return;
    if (sov_hv_open(h->uri, &hv, &err) < 0 ||
        sov_hv_volume_list(hv, p->ctx->cfg->storage_pool, "sov-vol-", &files, &nf, &err) < 0 ||
        sov_hv_volume_list(hv, p->ctx->cfg->storage_pool, "sov-snap-", &snaps, &ns, &err) < 0) {
        sov_log_debug("reconciler: pool of host %s not checked: %s", h->name, err.msg);
        sov_hv_names_free(files, nf);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        sov_op_page ops = { 0 };
        bool busy;
        if (sov_op_pending(c, vols[i].id, NULL, NULL, &ops, &err) < 0)
            break;
        busy = ops.n > 0;
        free(ops.items);
        if (!busy && strcmp(vols[i].pool, p->ctx->cfg->storage_pool) == 0)
            check_volume(p, hv, h->name, &vols[i], listed(files, nf, vols[i].volume));
    }
    check_orphans(p, c, h, files, nf);
    check_orphans(p, c, h, snaps, ns);
    if (!ops_pending)
        check_secrets(p, hv, h->name, vols, n);
    sov_hv_names_free(files, nf);
    sov_hv_names_free(snaps, ns);
}

int
sov_volumes_reconcile(sov_ctx *ctx, unsigned *ret_repairs, sov_error *err)
{
    sov_autofree sov_storage_host *hosts = NULL;
    size_t n = 0;
    pass p = { ctx, 0 };

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_storage_hosts_up(c, &hosts, &n, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        check_host(&p, &hosts[i]);
    *ret_repairs = p.repairs;
    return 0;
}
