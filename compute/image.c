/* image.c: the rules of images, a tenant's disk templates in a region's image store.
 *
 * An image is created queued, with its residency record ("placed" in the region's image
 * store) and, when it has a source_url, the "image.import" operation, all in one transaction
 * with the audit entry; a worker then downloads it (image_ops.c). Without a source_url it
 * waits for a direct upload, streamed to the store by sov_image_upload_*. The bytes go to
 * "<path>.part" and are renamed into place under the image row's lock, in the transaction
 * that makes the image active: a delete racing with an import or upload either waits for it
 * or makes it give up, and never leaves a file that no row knows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compute_int.h"
#include "image_fetch.h"
#include "image_repo.h"
#include "sov/audit.h"
#include "sov/log.h"

#define MIN_DISK_GIB_MAX 65536

/* ---- paths and loading ---- */

void
sov_image_path(const sov_config *cfg, const sov_image *img, char *ret, size_t size)
{
    snprintf(ret, size, "%s/%s/%s.img", cfg->image_store, img->region, img->id);
}

int
sov_image_load(sov_dbconn *c, const char *id, sov_image *ret, sov_error *err)
{
    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%s' does not exist", id);
    return sov_repo_image_get(c, NULL, id, false, ret, err);
}

int
sov_image_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
               const char *id_or_name, sov_image *ret, sov_error *err)
{
    return sov_repo_image_find(c, tenant_id, workspace, id_or_name, ret, err);
}

/* ---- validation ---- */

/* The tenant a request acts for: tenant_id when given (it must be one the caller sees), else
 * any tenant for operators and sovd itself (NULL), else the caller's own. */
static int
scope(const sov_ctx *ctx, const char *tenant_id, const char **ret, sov_error *err)
{
    if (tenant_id) {
        if (!sov_uuid_valid(tenant_id) || !sov_ctx_sees_tenant(ctx, tenant_id))
            return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%.64s' does not exist",
                                 tenant_id);
        *ret = tenant_id;
    } else {
        *ret = !ctx->who || sov_ctx_is_operator(ctx) ? NULL : ctx->who->tenant_id;
    }
    return 0;
}

static bool
is_sha256(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static int
check_create(const sov_ctx *ctx, const sov_image_create_args *a, sov_error *err)
{
    if (sov_check_slug("name", a->name, err) < 0)
        return -1;
    if (sov_uuid_valid(a->name))
        return sov_error_invalid(err, "name", "name must not be a UUID (ids are)");
    if (sov_check_slug("workspace", a->workspace, err) < 0 ||
        sov_check_slug("region", a->region, err) < 0)
        return -1;
    if (!a->format || (strcmp(a->format, "qcow2") != 0 && strcmp(a->format, "raw") != 0))
        return sov_error_invalid(err, "format", "format must be qcow2 or raw");
    if (a->sha256 && !is_sha256(a->sha256))
        return sov_error_invalid(err, "sha256", "sha256 must be 64 lower-case hex digits");
    if (a->min_disk_gib < 0 || a->min_disk_gib > MIN_DISK_GIB_MAX)
        return sov_error_invalid(err, "min_disk_gib", "min_disk_gib must be from 0 to %d",
                                 MIN_DISK_GIB_MAX);
    if (a->source_url && sov_image_fetch_check_url(ctx->cfg, a->source_url, "source_url", err) < 0)
        return -1;
    return 0;
}

static void
store_location(const sov_image *img, sov_location *ret)
{
    *ret = img->residency;
    ret->host[0] = '\0';        /* the region's image store, not a host */
}

/* ---- create ---- */

typedef struct create_args {
    sov_ctx *ctx;
    const char *tenant_id;
    const sov_image_create_args *a;
    sov_image img;
    sov_op op;
    bool queued;
    const char *op_kind, *op_arg;   /* the operation bringing the bytes: "image.import", or
                                       another module's (sov_image_create_on) */
    sov_image *ret;             /* the caller's, filled before COMMIT (ctx->idem renders */
    sov_op *ret_op;             /* its answer from them in this transaction); may be NULL */
} create_args;

/* The region must exist and the tenant's policy must allow it. */
static int
check_region(sov_dbconn *c, const char *tenant_id, const char *code, sov_policy *ret_policy,
             sov_error *err)
{
    sov_autofree sov_region *regions = NULL;
    const sov_region *found = NULL;
    char policy[1024];
    size_t n = 0;

    if (sov_region_all(c, &regions, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n && !found; i++)
        if (strcmp(regions[i].code, code) == 0)
            found = &regions[i];
    if (!found)
        return sov_error_invalid(err, "region", "region '%s' does not exist", code);
    if (sov_policy_load(c, tenant_id, ret_policy, err) < 0)
        return -1;
    if (!sov_policy_allows(ret_policy, found->code, found->country, found->jurisdiction)) {
        sov_policy_json(ret_policy, policy, sizeof(policy));
        return sov_error_set(err, SOV_E_RESIDENCY,
                             "region '%s' (%s, %s) is outside the tenant's residency policy "
                             "%.160s",
                             code, found->country, found->jurisdiction, policy);
    }
    return 0;
}

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *x = arg;
    const sov_image_create_args *a = x->a;
    bool tenant = false, workspace = false;
    sov_policy policy;
    sov_location to;
    char reason[160];

    if (sov_repo_image_owner_exists(c, x->tenant_id, a->workspace, &tenant, &workspace, err) < 0)
        return -1;
    if (!tenant)
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", x->tenant_id);
    if (!workspace)
        return sov_error_invalid(err, "workspace", "workspace '%s' does not exist",
                                 a->workspace);
    if (check_region(c, x->tenant_id, a->region, &policy, err) < 0 ||
        sov_repo_image_insert(c, x->tenant_id, a, &x->img, err) < 0)
        return -1;
    x->queued = a->source_url != NULL || x->op_kind;
    memset(&x->op, 0, sizeof(x->op));
    if (x->queued && sov_op_enqueue(c, x->ctx, x->tenant_id,
                                    x->op_kind ? x->op_kind : "image.import", "image",
                                    x->img.id, x->op_arg, &x->op, err) < 0)
        return -1;
    store_location(&x->img, &to);
    snprintf(reason, sizeof(reason), "image stored in the image store of region %s",
             a->region);
    if (sov_residency_record(c, x->tenant_id, "image", x->img.id, "placed", NULL, &to,
                             &policy, reason, x->queued ? x->op.id : NULL, err) < 0)
        return -1;
    if (sov_audit_append(c, x->ctx, x->tenant_id, "image", x->img.id,
                         x->queued ? SOV_OUTCOME_ACCEPTED : SOV_OUTCOME_CREATED,
                         err) < 0)
        return -1;
    *x->ret = x->img;
    if (x->ret_op)
        *x->ret_op = x->op;
    return 0;
}

/* Whose image a create makes (*ret, the scoped tenant) and in which workspace (args's, or
 * "default"). Creating needs a tenant: an operator acting for nobody in particular creates
 * in its own. */
static int
create_scope(sov_ctx *ctx, const char *tenant_id, const char **ret,
             sov_image_create_args *args, sov_error *err)
{
    if (!tenant_id && ctx->who)
        tenant_id = ctx->who->tenant_id;
    if (scope(ctx, tenant_id, ret, err) < 0)
        return -1;
    if (!*ret)
        return sov_error_invalid(err, "tenant_id", "tenant_id is required");
    if (!args->workspace)
        args->workspace = "default";
    return 0;
}

int
sov_image_create(sov_ctx *ctx, const char *tenant_id, const sov_image_create_args *a,
                 sov_image *ret, sov_op *op, sov_error *err)
{
    sov_image_create_args args = *a;
    create_args x = { .ctx = ctx, .a = &args, .ret = ret, .ret_op = op };

    if (create_scope(ctx, tenant_id, &x.tenant_id, &args, err) < 0)
        return -1;
    if (check_create(ctx, &args, err) < 0 || sov_ctx_tx(ctx, create_tx, &x, err) < 0)
        return -1;
    sov_log_info("image '%s' (%s) created in %s/%s, region %s: %s", x.img.name, x.img.id,
                 x.img.tenant_id, x.img.workspace, x.img.region,
                 x.queued ? "import queued" : "waiting for an upload");
    *ret = x.img;
    if (op)
        *op = x.op;             /* all zero (id "") when nothing was queued */
    return 0;
}

int
sov_image_create_on(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                    const sov_image_create_args *a, const char *op_kind, const char *op_arg,
                    sov_image *ret, sov_op *op, sov_error *err)
{
    sov_image_create_args args = *a;
    create_args x = { .ctx = ctx, .a = &args, .op_kind = op_kind, .op_arg = op_arg,
                      .ret = ret, .ret_op = op };

    if (create_scope(ctx, tenant_id, &x.tenant_id, &args, err) < 0)
        return -1;
    args.source_url = NULL;
    if (check_create(ctx, &args, err) < 0 || create_tx(c, &x, err) < 0)
        return -1;
    /* The commit logs the operation queued: the caller's copy, x's is gone by then. */
    if (op)
        ctx->op_queued = op;
    sov_log_info("image '%s' (%s) created in %s/%s, region %s: %s queued", x.img.name,
                 x.img.id, x.img.tenant_id, x.img.workspace, x.img.region, op_kind);
    return 0;
}

/* ---- read ---- */

int
sov_image_get(sov_ctx *ctx, const char *tenant_id, const char *id_or_name,
              const char *workspace, sov_image *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *t = NULL;

    if (scope(ctx, tenant_id, &t, err) < 0)
        return -1;
    if (!id_or_name || !*id_or_name)
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '' does not exist");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (sov_uuid_valid(id_or_name))
        return sov_repo_image_get(c, t, id_or_name, false, ret, err);
    /* A name lives in one tenant: the operator's own unless it names another. */
    if (!t && ctx->who)
        t = ctx->who->tenant_id;
    if (!t)
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%.64s' does not exist", id_or_name);
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    return sov_repo_image_get_by_name(c, t, workspace ? workspace : "default", id_or_name, ret,
                                      err);
}

int
sov_image_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                  const char *id_or_name, char *ret, sov_error *err)
{
    sov_image img;

    if (sov_uuid_valid(id_or_name)) {
        snprintf(ret, SOV_UUID_LEN + 1, "%s", id_or_name);
        return 0;
    }
    if (sov_image_get(ctx, tenant_id, id_or_name, workspace, &img, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", img.id);
    return 0;
}

int
sov_image_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
               const char *region, const char *after, unsigned limit, sov_image_page *ret,
               sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *t = NULL;

    if (scope(ctx, tenant_id, &t, err) < 0)
        return -1;
    if ((workspace && sov_check_slug("workspace", workspace, err) < 0) ||
        (region && sov_check_slug("region", region, err) < 0))
        return -1;
    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_image_list(c, t, workspace, region, after,
                               limit == 0 ? 100 : limit > 1000 ? 1000 : limit, ret, err);
}

/* ---- delete ---- */

typedef struct delete_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    sov_op *op;
    bool going;                 /* already deleting: answer with that operation */
} delete_args;

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    delete_args *x = arg;
    sov_image img;
    bool moved = false;
    char what[128];

    /* The row lock keeps an import or upload from finishing while we decide. */
    if (sov_repo_image_get(c, x->tenant_id, x->id, true, &img, err) < 0)
        return -1;
    /* Deleting twice (README's status table): what is gone is 404, what is going answers
     * the same 202 with the delete already under way. */
    if (strcmp(img.state, "deleted") == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%s' does not exist", x->id);
    if (strcmp(img.state, "deleting") == 0) {
        x->going = true;
        return 0;
    }
    snprintf(what, sizeof(what), "image '%s'", img.name);
    if (sov_repo_image_blockers(c, img.id, what, err) < 0)
        return -1;
    if (sov_repo_image_transition(c, img.tenant_id, img.id, "queued,downloading,active,error",
                                  "deleting", "", NULL, &moved, err) < 0 ||
        sov_op_enqueue(c, x->ctx, img.tenant_id, "image.delete", "image", img.id, NULL, x->op,
                       err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, img.tenant_id, "image", img.id, SOV_OUTCOME_ACCEPTED, err);
}

/* The image.delete operation of an image that is deleting; gone meanwhile: 404. */
static int
pending_delete(sov_ctx *ctx, const char *id, sov_op *ret, sov_error *err)
{
    int rc = sov_op_find_pending(ctx, id, "image.delete", ret, err);

    return rc < 0 ? -1 : rc ? 0 : sov_error_set(err, SOV_E_NOT_FOUND,
                                                "image '%s' does not exist", id);
}

int
sov_image_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                 sov_error *err)
{
    delete_args x = { ctx, NULL, id, op, false };

    if (scope(ctx, tenant_id, &x.tenant_id, err) < 0)
        return -1;
    if (!id || !sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%.64s' does not exist",
                             id ? id : "");
    if (sov_ctx_tx(ctx, delete_tx, &x, err) < 0)
        return -1;
    return x.going ? pending_delete(ctx, id, op, err) : 0;
}

/* ---- upload ---- */

/* An upload says it is alive every UPLOAD_TOUCH_S seconds while bytes come; one silent for
 * UPLOAD_STALE_S (its sovd died mid-way) is put back to queued by the reconciler. Longer
 * than the HTTP connection timeout would allow a live upload to stay silent. */
#define UPLOAD_TOUCH_S 10
#define UPLOAD_STALE_S 90

struct sov_image_upload {
    sov_ctx *ctx;
    sov_image img;
    image_sink sink;
    char path[4096], part[4096 + 8];
    char failure[256];          /* why a write failed: the reason abort records */
    struct timespec touched;    /* when the row last said the upload is alive */
};

typedef struct upload_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    sov_image *img;             /* the image after the change */
    const char *sha256;
    long long size, vsize;
    const char *part, *path;
} upload_args;

static int
upload_claim_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    upload_args *x = arg;
    bool claimed = false;

    if (sov_repo_image_upload_claim(c, x->tenant_id, x->id, x->img, &claimed, err) < 0)
        return -1;
    if (claimed)
        return 0;
    if (sov_repo_image_get(c, x->tenant_id, x->id, false, x->img, err) < 0)
        return -1;
    if (x->img->source_url[0])
        return sov_error_set(err, SOV_E_CONFLICT,
                             "image '%s' is imported from its source_url; it takes no upload",
                             x->img->name);
    return sov_error_set(err, SOV_E_CONFLICT,
                         "image '%s' is %s; only a queued image takes an upload",
                         x->img->name, x->img->state);
}

/* Back to queued, so the client may try again; reason says why the last try failed. */
static void
upload_release(sov_ctx *ctx, const sov_image *img, const char *reason)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_error err = SOV_ERROR_INIT;
    bool moved = false;

    if (sov_db_acquire(ctx->db, &c, &err) < 0 ||
        sov_repo_image_transition(c, img->tenant_id, img->id, "downloading", "queued", reason,
                                  NULL, &moved, &err) < 0)
        sov_log_warn("could not put image %s back to queued after a failed upload, it stays "
                     "downloading: %s", img->id, err.detail[0] ? err.detail : err.msg);
}

static void
upload_free(sov_image_upload *u)
{
    sov_image_sink_release(&u->sink);
    free(u);
}

int
sov_image_upload_begin(sov_ctx *ctx, const char *tenant_id, const char *id,
                       sov_image_upload **ret, sov_error *err)
{
    sov_image_upload *u;
    upload_args x = { .ctx = ctx, .id = id };

    if (scope(ctx, tenant_id, &x.tenant_id, err) < 0)
        return -1;
    if (!id || !sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%.64s' does not exist",
                             id ? id : "");
    u = calloc(1, sizeof(*u));
    if (!u)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    u->ctx = ctx;
    u->sink.fd = -1;
    x.img = &u->img;
    /* Claimed in a statement of its own: of two uploads racing, one finds it queued. */
    if (sov_ctx_tx(ctx, upload_claim_tx, &x, err) < 0) {
        free(u);
        return -1;
    }
    sov_image_path(ctx->cfg, &u->img, u->path, sizeof(u->path));
    snprintf(u->part, sizeof(u->part), "%s.part", u->path);
    if (sov_image_fetch_store_dir(ctx->cfg, u->img.region, err) < 0 ||
        sov_image_sink_open(&u->sink, u->part, ctx->cfg->max_image_bytes, err) < 0) {
        upload_release(ctx, &u->img, "");
        upload_free(u);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &u->touched);
    *ret = u;
    return 0;
}

/* Tell the database the upload is alive, at most every UPLOAD_TOUCH_S seconds. A failure
 * costs nothing now: at worst the reconciler takes the upload for dead and its finish finds
 * the image queued (409). */
static void
upload_touch(sov_image_upload *u)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_error err = SOV_ERROR_INIT;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - u->touched.tv_sec < UPLOAD_TOUCH_S)
        return;
    u->touched = now;
    if (sov_db_acquire(u->ctx->db, &c, &err) < 0 ||
        sov_repo_image_upload_touch(c, u->img.id, &err) < 0)
        sov_log_warn("could not mark the upload of image %s alive: %s", u->img.id,
                     err.detail[0] ? err.detail : err.msg);
}

int
sov_image_upload_write(sov_image_upload *u, const void *data, size_t len, sov_error *err)
{
    if (sov_image_sink_write(&u->sink, data, len, err) < 0) {
        snprintf(u->failure, sizeof(u->failure), "%s", err->msg);
        return -1;
    }
    upload_touch(u);
    return 0;
}

typedef struct uploads_reset {
    sov_ctx *ctx;
    repo_image_ref *refs;
    size_t n;
} uploads_reset;

static int
uploads_reset_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    uploads_reset *x = arg;

    free(x->refs);
    x->refs = NULL;
    x->n = 0;
    if (sov_repo_image_uploads_reset(c, UPLOAD_STALE_S, "the upload was interrupted (sovd "
                                     "stopped during it); upload the file again", &x->refs, &x->n,
                                     err) < 0)
        return -1;
    for (size_t i = 0; i < x->n; i++)
        if (sov_audit_append(c, x->ctx, x->refs[i].tenant_id, "image", x->refs[i].id,
                             SOV_OUTCOME_OK, err) < 0)
            return -1;
    return 0;
}

int
sov_image_uploads_reconcile(sov_ctx *ctx, unsigned *ret_reset, sov_error *err)
{
    uploads_reset x = { ctx, NULL, 0 };
    char path[4096 + 8];

    *ret_reset = 0;
    if (sov_ctx_tx(ctx, uploads_reset_tx, &x, err) < 0) {
        free(x.refs);
        return -1;
    }
    for (size_t i = 0; i < x.n; i++) {
        sov_image img = { 0 };
        snprintf(img.id, sizeof(img.id), "%s", x.refs[i].id);
        snprintf(img.region, sizeof(img.region), "%s", x.refs[i].region);
        sov_image_path(ctx->cfg, &img, path, sizeof(path) - 8);
        strcat(path, ".part");
        sov_image_fetch_unlink(path);
        sov_log_info("image %s: an interrupted upload was put back to queued", img.id);
    }
    *ret_reset = (unsigned) x.n;
    free(x.refs);
    return 0;
}

/* Rename into place and activate under the row lock (see the top of this file). */
static int
upload_finish_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    upload_args *x = arg;
    sov_image img;
    bool moved = false;

    if (sov_repo_image_get(c, x->tenant_id, x->id, true, &img, err) < 0)
        return -1;
    if (strcmp(img.state, "downloading") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "image '%s' became %s during the upload",
                             img.name, img.state);
    /* A retried transaction finds the file renamed already. */
    if (rename(x->part, x->path) < 0 && !(errno == ENOENT && access(x->path, F_OK) == 0)) {
        sov_error_set(err, SOV_E_INTERNAL, "could not store the image");
        return sov_error_detail(err, "rename %s: %s", x->part, strerror(errno));
    }
    if (sov_repo_image_activate(c, x->id, x->size, x->vsize, x->sha256, x->img, &moved, err) < 0)
        return -1;
    return sov_audit_append(c, x->ctx, img.tenant_id, "image", img.id, SOV_OUTCOME_OK, err);
}

int
sov_image_upload_finish(sov_image_upload *u, sov_image *ret, sov_error *err)
{
    sov_image after;
    upload_args x = { .ctx = u->ctx, .tenant_id = u->img.tenant_id, .id = u->img.id,
                      .img = &after, .part = u->part, .path = u->path };
    char sha[65];
    image_info info;
    int rc = -1;

    if (sov_image_sink_finish(&u->sink, sha, &x.size, err) == 0 &&
        sov_image_fetch_verify(u->part, u->img.format, u->img.sha256, sha, &info, err) == 0) {
        x.sha256 = sha;
        x.vsize = info.virtual_size;
        rc = sov_ctx_tx(u->ctx, upload_finish_tx, &x, err);
    }
    if (rc < 0) {
        /* Whatever stays of the bytes is of no use: the client uploads them all again. */
        sov_image_fetch_unlink(u->part);
        if (err->code != SOV_E_CONFLICT)
            upload_release(u->ctx, &u->img, err->msg);
        sov_log_info("upload of image %s refused: %s", u->img.id, err->msg);
    } else {
        sov_log_info("image '%s' (%s) uploaded: %lld bytes, sha256 %s", after.name, after.id,
                     after.size_bytes, after.sha256);
        *ret = after;
    }
    upload_free(u);
    return rc;
}

void
sov_image_upload_abort(sov_image_upload *u)
{
    if (!u)
        return;
    sov_image_sink_release(&u->sink);
    sov_image_fetch_unlink(u->part);
    upload_release(u->ctx, &u->img, u->failure[0] ? u->failure : "the upload was interrupted");
    upload_free(u);
}
