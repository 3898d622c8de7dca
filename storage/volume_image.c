/* volume_image.c: an image made from a volume (POST /v1/images with source_volume, and a
 * SECA image's PUT from its blockStorageRef).
 *
 * The create records, in one transaction under the volume's row lock, the image (queued, in
 * the volume's region, format qcow2: a volume is a qcow2 file) with its "placed" record, and
 * the "image.from-volume" operation naming the volume. Its worker reads the volume's file out
 * of its host's pool (libvirt's volume download) into the region's image store, where
 * compute's sov_image_fill checks it with qemu-img, stores it, makes the image active and
 * writes the "copied" residency record from the volume's place (its host) to the store.
 *
 * Only an available volume: an attached one is a running guest's disk, whose file is no
 * consistent image. Not an encrypted one: its file is LUKS ciphertext under the volume's own
 * data key, which an image (kept unencrypted in the store) would need decrypted on the way;
 * refused rather than copied under a key that is not the image's. */
#include <stdio.h>
#include <string.h>

#include "storage_int.h"
#include "sov/log.h"

typedef struct image_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const sov_volume_image_args *a;
    sov_image *ret;
    sov_op *op;
} image_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    image_args *x = arg;
    const sov_volume_image_args *a = x->a;
    const char *ws = a->volume_workspace ? a->volume_workspace
                                         : a->workspace ? a->workspace : "default";
    sov_image_create_args ia = { 0 };
    sov_volume v;

    /* Gone between the two reads (deleted meanwhile) is missing too. */
    if (sov_repo_volume_find(c, x->tenant_id, ws, a->volume, &v, err) < 0 ||
        sov_repo_volume_get(c, x->tenant_id, v.id, true, &v, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        sov_error_invalid(err, "source_volume", "volume '%.64s' does not exist in "
                          "workspace '%.64s'", a->volume, ws);
        return sov_error_reason(err, SOV_R_REF_MISSING);
    }
    if (v.encrypted)
        return sov_error_invalid(err, "source_volume", "volume '%s' is encrypted: an image "
                                 "cannot be made from it (its bytes are ciphertext under its "
                                 "own key)", v.name);
    if (strcmp(v.state, "available") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is %s: an image is made from "
                             "an available volume (detach it first)", v.name, v.state);
    {
        char what[96];
        snprintf(what, sizeof(what), "volume '%s'", v.name);
        if (sov_repo_volume_moving(c, v.id, what, err) < 0)    /* its file is leaving */
            return -1;
    }
    ia.workspace = a->workspace;
    ia.name = a->name;
    ia.region = v.region;
    ia.format = "qcow2";
    ia.min_disk_gib = v.size_gib;
    return sov_image_create_on(c, x->ctx, x->tenant_id, &ia, "image.from-volume", v.id, x->ret,
                               x->op, err);
}

int
sov_volume_image_create(sov_ctx *ctx, const char *tenant_id, const sov_volume_image_args *a,
                        sov_image *ret, sov_op *op, sov_error *err)
{
    image_args x = { .ctx = ctx, .a = a, .ret = ret, .op = op };

    if (!a->volume || !*a->volume)
        return sov_error_invalid(err, "source_volume", "source_volume is a volume's id or name");
    if (sov_ctx_tenant(ctx, tenant_id, &x.tenant_id, err) < 0)
        return -1;
    if (sov_ctx_tx(ctx, create_tx, &x, err) < 0)
        return -1;
    sov_log_info("image '%s' (%s) to be made from volume '%s'", ret->name, ret->id, a->volume);
    return 0;
}

typedef struct fill_args {
    sov_hv *hv;
    const char *pool, *volume;
} fill_args;

static int
fill(void *arg, const char *path, sov_error *err)
{
    const fill_args *f = arg;

    return sov_hv_volume_download(f->hv, f->pool, f->volume, path, err);
}

/* image.from-volume: the volume's file, read from its host, becomes the image's bytes. No
 * pooled connection is held while they move. */
int
sov_volume_image_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    sov_ctx *ctx = sov_op_ctx(run);
    sov_autoptr(sov_hv) hv = NULL;
    sov_volume v;
    char uri[1024], host[SOV_NAME_MAX + 1], reason[256];
    fill_args f;

    {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_volume_get(c, NULL, op->arg, false, &v, err) < 0)
            return -1;
        if (!v.host_id[0] || strcmp(v.state, "deleted") == 0 ||
            strcmp(v.state, "deleting") == 0)
            return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is %s: nothing to copy",
                                 v.name, v.state);
        if (sov_repo_volume_host(c, v.host_id, uri, sizeof(uri), host, sizeof(host), err) < 0)
            return -1;
    }
    if (sov_hv_open(uri, &hv, err) < 0)
        return -1;
    f = (fill_args) { .hv = hv, .pool = v.pool, .volume = v.volume };
    snprintf(reason, sizeof(reason), "image copied from volume '%s' on host %s", v.name, host);
    return sov_image_fill(run, op, fill, &f, &v.residency, reason, err);
}
