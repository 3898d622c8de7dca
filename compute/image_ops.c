/* image_ops.c: the image operations the workers run.
 *
 * image.import downloads an image's source_url into the region's image store, checks it
 * (sha256 when one was given, format with qemu-img) and makes the image active; image.delete
 * removes the stored file and every host's copy and marks the image deleted. Both may run
 * twice (a retry, or a take-over after a crash): an import starts over from the source, a
 * delete skips what is gone already. No pooled connection is held while bytes move or
 * libvirt works: rows are read, then released, then written in a short transaction. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compute_int.h"
#include "image_fetch.h"
#include "image_repo.h"
#include "sov/audit.h"
#include "sov/log.h"
#include "sov/registry.h"

/* How often a download reports progress (and renews the operation's lease). */
#define PROGRESS_EVERY_S 5

/* ---- copies on hosts ---- */

typedef struct copied_args {
    const sov_image *img;
    const char *host_id, *volume, *op_id;
    const sov_location *at;
    const sov_policy *policy;
} copied_args;

/* The copy's row and its "copied" residency record, together. */
static int
copied_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    const copied_args *a = arg;

    if (sov_repo_image_copy_put(c, a->img->id, a->host_id, a->volume, err) < 0)
        return -1;
    return sov_residency_record(c, a->img->tenant_id, "image", a->img->id, "copied",
                                &a->img->residency, a->at, a->policy,
                                "copied to a host's storage pool", a->op_id, err);
}

/* Once per host: a "copied" residency record says the image's data now also lives on that
 * host. Only a copy the database recorded is trusted: a volume without its record is the
 * remains of an upload cut short (a sovd killed mid-copy) and is made again. Copies of one
 * image to one host take turns (an advisory lock on a connection held meanwhile), so a
 * second user never reads a half-copied image. */
int
sov_image_ensure_on_host(sov_ctx *ctx, sov_hv *hv, const char *image_id, const char *host_id,
                         const sov_location *at, const char *op_id, char *volume, size_t size,
                         char *format, size_t fsize, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_image img;
    char path[4096], vpath[4096];
    sov_policy policy;
    bool recorded = false;
    int rc = -1;

    if (sov_db_acquire(ctx->db, &c, err) < 0 || sov_image_load(c, image_id, &img, err) < 0)
        return -1;
    snprintf(volume, size, "sov-image-%s", img.id);
    snprintf(format, fsize, "%s", img.format);
    if (sov_repo_image_copy_lock(c, img.id, host_id, err) < 0)
        return -1;
    if (sov_repo_image_copy_get(c, img.id, host_id, &recorded, err) < 0)
        goto out;
    if (sov_hv_volume_path(hv, ctx->cfg->storage_pool, volume, vpath, sizeof(vpath),
                           err) == 0) {
        if (recorded) {
            rc = 0;
            goto out;
        }
        if (sov_hv_volume_delete(hv, ctx->cfg->storage_pool, volume, err) < 0)
            goto out;
    } else if (err->code != SOV_E_NOT_FOUND) {
        goto out;
    }
    sov_error_clear(err);
    sov_image_path(ctx->cfg, &img, path, sizeof(path));
    if (sov_hv_volume_upload(hv, ctx->cfg->storage_pool, volume, img.format, path, err) < 0)
        goto out;
    /* A copy recorded before (the volume was lost since) is not a new place for the data. */
    if (recorded) {
        rc = 0;
        goto out;
    }
    {
        copied_args a = { .img = &img, .host_id = host_id, .volume = volume, .at = at,
                          .policy = &policy, .op_id = op_id };
        if (sov_policy_load(c, img.tenant_id, &policy, err) < 0 ||
            sov_db_tx_on(c, copied_tx, &a, err) < 0)
            goto out;
    }
    rc = 0;
out:
    {
        sov_error ignored = SOV_ERROR_INIT;
        sov_repo_image_copy_unlock(c, img.id, host_id, &ignored);
    }
    return rc;
}

/* ---- import ---- */

/* Load the image and mark it downloading. *ret_done when an earlier run finished it. */
static int
import_start(sov_ctx *ctx, const char *id, sov_image *ret, bool *ret_done, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    bool moved = false;

    *ret_done = false;
    if (sov_db_acquire(ctx->db, &c, err) < 0 || sov_image_load(c, id, ret, err) < 0)
        return -1;
    if (strcmp(ret->state, "active") == 0) {
        *ret_done = true;
        return 0;
    }
    if (sov_repo_image_transition(c, NULL, id, "queued,downloading", "downloading", "", ret,
                                  &moved, err) < 0)
        return -1;
    if (!moved)
        return sov_error_set(err, SOV_E_CONFLICT, "image '%s' is %s; nothing to import",
                             ret->name, ret->state);
    return 0;
}

typedef struct progress {
    sov_op_run *run;
    struct timespec last;
} progress;

static int
on_progress(void *arg, long long now, long long total, sov_error *err)
{
    progress *p = arg;
    struct timespec t;
    int pct = 10;

    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - p->last.tv_sec < PROGRESS_EVERY_S)
        return 0;
    p->last = t;
    /* Downloading is 10..80 % of the operation. */
    if (total > 0 && now <= total)
        pct = 10 + (int) (70 * now / total);
    return sov_op_step(p->run, "downloading", pct, err) < 0 ? 1 : 0;
}

typedef struct finish_args {
    sov_ctx *ctx;
    const sov_image *img;
    const char *part, *path, *sha256;
    long long size, vsize;
    sov_image after;
    /* Bytes copied from a place we hold (sov_image_fill): its "copied" record. */
    const sov_location *from;
    const char *reason, *op_id;
} finish_args;

/* The copy's "copied" residency record, from where its bytes were to the image store. */
static int
copied_from(sov_dbconn *c, const finish_args *x, const sov_image *now, sov_error *err)
{
    sov_policy policy;
    sov_location to = now->residency;

    to.host[0] = '\0';         /* the region's image store, not a host */
    if (sov_policy_load(c, now->tenant_id, &policy, err) < 0)
        return -1;
    return sov_residency_record(c, now->tenant_id, "image", now->id, "copied", x->from, &to,
                                &policy, x->reason, x->op_id, err);
}

/* Rename into place and activate under the row lock: a delete that came meanwhile wins. */
static int
import_finish_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    finish_args *x = arg;
    sov_image now;
    bool moved = false;

    if (sov_repo_image_get(c, NULL, x->img->id, true, &now, err) < 0)
        return -1;
    if (strcmp(now.state, "downloading") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "image '%s' became %s during the import",
                             now.name, now.state);
    /* A retried transaction finds the file renamed already. */
    if (rename(x->part, x->path) < 0 && !(errno == ENOENT && access(x->path, F_OK) == 0)) {
        sov_error_set(err, SOV_E_INTERNAL, "could not store the image");
        return sov_error_detail(err, "rename %s: %s", x->part, strerror(errno));
    }
    if (sov_repo_image_activate(c, now.id, x->size, x->vsize, x->sha256, &x->after, &moved,
                                err) < 0)
        return -1;
    if (x->from && copied_from(c, x, &now, err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, now.tenant_id, "image", now.id, SOV_OUTCOME_OK, err);
}

/* Download into part and check it; the caller removes part when this fails. */
static int
download(sov_op_run *run, const sov_image *img, const char *part, char sha[65],
         long long *size, image_info *info, sov_error *err)
{
    const sov_config *cfg = sov_op_ctx(run)->cfg;
    progress p = { .run = run };
    image_sink sink;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &p.last);
    if (sov_image_fetch_store_dir(cfg, img->region, err) < 0 ||
        sov_image_sink_open(&sink, part, cfg->max_image_bytes, err) < 0)
        return -1;
    rc = sov_image_fetch_url(cfg, img->source_url, &sink, on_progress, &p, err);
    if (rc == 0)
        rc = sov_image_sink_finish(&sink, sha, size, err);
    sov_image_sink_release(&sink);
    if (rc < 0 || sov_op_step(run, "verifying", 80, err) < 0)
        return -1;
    return sov_image_fetch_verify(part, img->format, img->sha256, sha, info, err);
}

/* The checked file x->part becomes the image's (import_finish_tx); the part goes on any
 * failure. how says how the bytes came, for the log. */
static int
store(sov_op_run *run, finish_args *x, const image_info *info, const char *how, sov_error *err)
{
    x->vsize = info->virtual_size;
    if (sov_op_step(run, "storing", 95, err) < 0 ||
        sov_ctx_tx(x->ctx, import_finish_tx, x, err) < 0) {
        sov_image_fetch_unlink(x->part);
        return -1;
    }
    sov_log_info("image '%s' (%s) %s: %lld bytes, %s, virtual size %lld, sha256 %s",
                 x->img->name, x->img->id, how, x->size, info->format, x->vsize, x->sha256);
    return 0;
}

int
sov_image_import_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    sov_ctx *ctx = sov_op_ctx(run);
    sov_image img;
    char path[4096], part[4096 + 8], sha[65];
    finish_args x = { .ctx = ctx, .img = &img, .part = part, .path = path, .sha256 = sha };
    image_info info;
    bool done = false;

    if (import_start(ctx, op->resource_id, &img, &done, err) < 0)
        return -1;
    if (done)
        return 0;
    if (sov_op_step(run, "downloading", 10, err) < 0)
        return -1;
    sov_image_path(ctx->cfg, &img, path, sizeof(path));
    snprintf(part, sizeof(part), "%s.part", path);
    if (download(run, &img, part, sha, &x.size, &info, err) < 0) {
        sov_image_fetch_unlink(part);
        return -1;
    }
    return store(run, &x, &info, "imported", err);
}

int
sov_image_fill(sov_op_run *run, const sov_op *op, sov_image_fill_fn fill, void *arg,
               const sov_location *from, const char *reason, sov_error *err)
{
    sov_ctx *ctx = sov_op_ctx(run);
    sov_image img;
    char path[4096], part[4096 + 8], sha[65];
    finish_args x = { .ctx = ctx, .img = &img, .part = part, .path = path, .sha256 = sha,
                      .from = from, .reason = reason, .op_id = op->id };
    image_info info;
    bool done = false;

    if (import_start(ctx, op->resource_id, &img, &done, err) < 0)
        return -1;
    if (done)
        return 0;
    if (sov_op_step(run, "copying", 10, err) < 0 ||
        sov_image_fetch_store_dir(ctx->cfg, img.region, err) < 0)
        return -1;
    sov_image_path(ctx->cfg, &img, path, sizeof(path));
    snprintf(part, sizeof(part), "%s.part", path);
    sov_image_fetch_unlink(part);
    if (fill(arg, part, err) < 0 || sov_op_step(run, "verifying", 80, err) < 0 ||
        sov_image_file_sha256(part, sha, &x.size, err) < 0 ||
        sov_image_fetch_verify(part, img.format, "", sha, &info, err) < 0) {
        sov_image_fetch_unlink(part);
        return -1;
    }
    return store(run, &x, &info, "filled", err);
}

int
sov_image_op_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err)
{
    sov_ctx *ctx = sov_op_ctx(run);
    sov_autoptr(sov_dbconn) c = NULL;
    sov_image img;
    char path[4096], part[4096 + 8];
    bool moved = false;

    if (sov_db_acquire(ctx->db, &c, err) < 0 || sov_image_load(c, op->resource_id, &img,
                                                               err) < 0)
        return -1;
    /* Only an image still waiting for its bytes: one being deleted stays so. */
    if (sov_repo_image_transition(c, NULL, img.id, "queued,downloading", "error", reason, NULL,
                                  &moved, err) < 0)
        return -1;
    sov_image_path(ctx->cfg, &img, path, sizeof(path));
    snprintf(part, sizeof(part), "%s.part", path);
    sov_image_fetch_unlink(part);
    if (moved)
        sov_log_info("image '%s' (%s) is in error: %s", img.name, img.id, reason);
    return 0;
}

/* ---- delete ---- */

static int
remove_file(const char *path, sov_error *err)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        sov_error_set(err, SOV_E_INTERNAL, "could not remove the image from the store");
        return sov_error_detail(err, "unlink %s: %s", path, strerror(errno));
    }
    return 0;
}

/* Delete one host's copy of the image, then forget it. An unreachable host is
 * SOV_E_UNAVAILABLE: the operation is retried later. */
typedef struct copy_removed_args {
    const sov_image *img;
    const repo_image_copy *copy;
    const sov_location *from;
    const sov_policy *policy;
} copy_removed_args;

static int
copy_removed_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    const copy_removed_args *a = arg;

    if (sov_repo_image_copy_delete(c, a->img->id, a->copy->host_id, err) < 0)
        return -1;
    return sov_residency_record(c, a->img->tenant_id, "image", a->img->id, "deleted", a->from,
                                NULL, a->policy, "image copy removed from a host's storage pool",
                                NULL, err);
}

/* One host's copy: the volume goes, then its row and a "deleted" residency record for that
 * place, together, so a report never shows the image still on a host it has left. */
static int
remove_copy(sov_ctx *ctx, const sov_image *img, const repo_image_copy *copy, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_policy policy;
    sov_location from = img->residency;
    copy_removed_args a = { .img = img, .copy = copy };

    {
        sov_autoptr(sov_hv) hv = NULL;
        if (sov_hv_open(copy->libvirt_uri, &hv, err) < 0 ||
            sov_hv_volume_delete(hv, ctx->cfg->storage_pool, copy->volume, err) < 0) {
            char why[sizeof(err->detail)];
            snprintf(why, sizeof(why), "%s", err->detail);
            return sov_error_detail(err, "host %s, volume %.100s: %.300s", copy->host_name,
                                    copy->volume, why);
        }
    }
    snprintf(from.host, sizeof(from.host), "%s", copy->host_name);
    a.from = &from;
    a.policy = &policy;
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_policy_load(c, img->tenant_id, &policy, err) < 0)
        return -1;
    return sov_db_tx_on(c, copy_removed_tx, &a, err);
}

static int
remove_copies(sov_ctx *ctx, const sov_image *img, sov_error *err)
{
    sov_autofree repo_image_copy *copies = NULL;
    size_t n = 0;

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_image_copies(c, img->id, &copies, &n, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (remove_copy(ctx, img, &copies[i], err) < 0)
            return -1;
    return 0;
}

typedef struct gone_args {
    sov_ctx *ctx;
    const sov_op *op;
    const sov_image *img;
} gone_args;

static int
delete_finish_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    gone_args *x = arg;
    sov_policy policy;
    sov_location from;
    char reason[160];
    bool moved = false;

    if (sov_repo_image_transition(c, NULL, x->img->id, "deleting", "deleted", "", NULL, &moved,
                                  err) < 0)
        return -1;
    if (!moved)
        return 0;               /* a run before this one got here first */
    from = x->img->residency;
    from.host[0] = '\0';
    snprintf(reason, sizeof(reason), "image deleted from the image store of region %s",
             x->img->region);
    if (sov_policy_load(c, x->img->tenant_id, &policy, err) < 0 ||
        sov_residency_record(c, x->img->tenant_id, "image", x->img->id, "deleted", &from,
                             NULL, &policy, reason, x->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, x->img->tenant_id, "image", x->img->id, SOV_OUTCOME_OK,
                            err);
}

int
sov_image_delete_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    sov_ctx *ctx = sov_op_ctx(run);
    sov_image img;
    char path[4096], part[4096 + 8];
    gone_args x = { ctx, op, &img };

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_image_load(c, op->resource_id, &img, err) < 0)
            return -1;
    }
    if (strcmp(img.state, "deleted") == 0)
        return 0;
    if (strcmp(img.state, "deleting") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "image '%s' is %s, not deleting", img.name,
                             img.state);
    if (sov_op_step(run, "removing", 10, err) < 0)
        return -1;
    sov_image_path(ctx->cfg, &img, path, sizeof(path));
    snprintf(part, sizeof(part), "%s.part", path);
    if (remove_file(path, err) < 0 || remove_file(part, err) < 0)
        return -1;
    if (sov_op_step(run, "removing host copies", 40, err) < 0 ||
        remove_copies(ctx, &img, err) < 0)
        return -1;
    if (sov_ctx_tx(ctx, delete_finish_tx, &x, err) < 0)
        return -1;
    sov_log_info("image '%s' (%s) deleted", img.name, img.id);
    return 0;
}

/* The images' part of the registry: their operation kinds. */
int
sov_image_register(sov_error *err)
{
    static const sov_op_kind kinds[] = {
        { "image.import", sov_image_import_op, 1800, sov_image_op_failed },
        { "image.delete", sov_image_delete_op, 300, sov_image_op_failed },
        { NULL, NULL, 0, NULL },
    };

    return sov_registry_add_op_kinds(kinds, err);
}
