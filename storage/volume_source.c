/* volume_source.c: a new volume made from something that holds data: an image, a snapshot
 * (a restore) or another volume.
 *
 * Storage is host-local, so the copy is made on one host: a snapshot's or a volume's own
 * (the new volume is placed there), and for an image any host of the image's region, where
 * the image is copied first (once per host, as an instance's boot disk gets it: compute's
 * sov_image_ensure_on_host). The new volume is at least as large as its source, and grown
 * to its own size after the copy. Each end is encrypted, or not, with its own key: the
 * source's secret and the target's are both defined on the host for the copy. Every copy
 * writes a "copied" residency record, from the source's place to the new volume's. */
#include <stdio.h>
#include <string.h>

#include "storage_int.h"
#include "sov/log.h"

#define GIB (1024LL * 1024 * 1024)

static int
invalid_source(const char *type, const char *id_or_name, sov_error *err)
{
    return sov_error_invalid(err, "source", "%s '%.64s' does not exist", type, id_or_name);
}

/* The image's region must be one the tenant's policy allows: a volume is never made where
 * the tenant may not keep data, even from an image imported under an older policy. */
static int
image_allowed(sov_dbconn *c, const char *tenant_id, const sov_image *img, sov_error *err)
{
    sov_autofree sov_region *regions = NULL;
    sov_autoptr(sov_policy) policy = sov_policy_new();
    size_t n = 0;

    if (!policy)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_region_all(c, &regions, &n, err) < 0 || sov_policy_load(c, tenant_id, policy, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(regions[i].code, img->region) == 0) {
            if (sov_policy_allows(policy, regions[i].code, regions[i].country,
                                  regions[i].jurisdiction))
                return 0;
            return sov_error_set(err, SOV_E_RESIDENCY,
                                 "image '%s' is in region '%s' (%s), outside the tenant's "
                                 "residency policy", img->name, img->region,
                                 regions[i].country);
        }
    return sov_error_set(err, SOV_E_CONFLICT, "image '%s' is in region '%s', which no longer "
                         "exists", img->name, img->region);
}

static int
resolve_image(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *id_or_name,
              sov_volume_source *ret, sov_error *err)
{
    sov_image img;
    long long gib;

    if (sov_image_find(c, tenant_id, workspace, id_or_name, &img, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? invalid_source("image", id_or_name, err) : -1;
    if (strcmp(img.state, "active") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "image '%s' is %s, not active", img.name,
                             img.state);
    if (image_allowed(c, tenant_id, &img, err) < 0)
        return -1;
    gib = (img.virtual_size_bytes + GIB - 1) / GIB;
    if (gib < img.min_disk_gib)
        gib = img.min_disk_gib;
    snprintf(ret->id, sizeof(ret->id), "%s", img.id);
    ret->size_gib = gib > 0 ? gib : 1;
    snprintf(ret->region, sizeof(ret->region), "%s", img.region);
    return 0;
}

static int
resolve_snapshot(sov_dbconn *c, const char *tenant_id, const char *workspace,
                 const char *id_or_name, sov_volume_source *ret, sov_error *err)
{
    sov_snapshot s;

    if (sov_repo_snapshot_find(c, tenant_id, workspace, id_or_name, &s, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? invalid_source("snapshot", id_or_name, err) : -1;
    /* Locked: a delete of the snapshot waits for this transaction, then sees the new
     * volume being made from it. */
    if (sov_repo_snapshot_get(c, tenant_id, s.id, true, &s, err) < 0)
        return -1;
    if (strcmp(s.state, "available") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "snapshot '%s' is %s, not available",
                             s.name, s.state);
    if (!s.host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "snapshot '%s' has lost its host", s.name);
    /* A copy is made on the source's host: not while that file moves to another. */
    {
        char what[96];

        snprintf(what, sizeof(what), "snapshot '%s'", s.name);
        if (sov_repo_volume_moving(c, s.volume_id, what, err) < 0)
            return -1;
    }
    snprintf(ret->id, sizeof(ret->id), "%s", s.id);
    ret->size_gib = s.size_gib;
    snprintf(ret->host_id, sizeof(ret->host_id), "%s", s.host_id);
    snprintf(ret->region, sizeof(ret->region), "%s", s.region);
    /* A restore is of the snapshot's volume's type unless the create names another (the
     * volume outlives none of its snapshots: it cannot be deleted while they exist). */
    if (s.volume_id[0]) {
        sov_volume v;

        if (sov_repo_volume_get(c, tenant_id, s.volume_id, false, &v, err) < 0)
            return -1;
        snprintf(ret->type_id, sizeof(ret->type_id), "%s", v.type_id);
    }
    return 0;
}

static int
resolve_volume(sov_dbconn *c, const char *tenant_id, const char *workspace,
               const char *id_or_name, sov_volume_source *ret, sov_error *err)
{
    sov_volume v;

    if (sov_repo_volume_find(c, tenant_id, workspace, id_or_name, &v, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? invalid_source("volume", id_or_name, err) : -1;
    if (sov_repo_volume_get(c, tenant_id, v.id, true, &v, err) < 0)
        return -1;
    if (strcmp(v.state, "available") != 0 && strcmp(v.state, "in-use") != 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "volume '%s' is %s: a copy needs it available or in-use", v.name,
                             v.state);
    if (!v.host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' has lost its host", v.name);
    {
        char what[96];

        snprintf(what, sizeof(what), "volume '%s'", v.name);
        if (sov_repo_volume_moving(c, v.id, what, err) < 0)
            return -1;
    }
    snprintf(ret->id, sizeof(ret->id), "%s", v.id);
    ret->size_gib = v.size_gib;
    snprintf(ret->host_id, sizeof(ret->host_id), "%s", v.host_id);
    snprintf(ret->region, sizeof(ret->region), "%s", v.region);
    snprintf(ret->type_id, sizeof(ret->type_id), "%s", v.type_id);
    return 0;
}

int
sov_volume_source_resolve(sov_dbconn *c, const char *tenant_id, const char *workspace,
                          const char *type, const char *id_or_name, sov_volume_source *ret,
                          sov_error *err)
{
    memset(ret, 0, sizeof(*ret));
    if (!type || (strcmp(type, "image") != 0 && strcmp(type, "snapshot") != 0 &&
                  strcmp(type, "volume") != 0))
        return sov_error_invalid(err, "source", "source is one of image, snapshot or volume");
    if (!id_or_name || !*id_or_name ||
        (strlen(id_or_name) > SOV_NAME_MAX && !sov_uuid_valid(id_or_name)))
        return sov_error_invalid(err, "source", "source.%s is a %s's name or id", type, type);
    snprintf(ret->type, sizeof(ret->type), "%s", type);
    if (strcmp(type, "image") == 0)
        return resolve_image(c, tenant_id, workspace, id_or_name, ret, err);
    if (strcmp(type, "snapshot") == 0)
        return resolve_snapshot(c, tenant_id, workspace, id_or_name, ret, err);
    return resolve_volume(c, tenant_id, workspace, id_or_name, ret, err);
}

/* ---- the copy ---- */

/* Where the source's bytes are, what they are, and the secret that reads them. */
typedef struct source_file {
    char volume[96];
    char format[8];
    char table[16];             /* "snapshots" or "volumes" for an encrypted one; "" plain */
    char id[SOV_UUID_LEN + 1];
    bool attached;              /* a volume attached to an instance: its secret is its own */
    char instance_id[SOV_UUID_LEN + 1];
    char device[8];
    sov_location from;
    char what[160];             /* for the record's reason */
} source_file;

static int
source_of(sov_ctx *ctx, sov_hv *hv, const sov_volume *v, source_file *f, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    memset(f, 0, sizeof(*f));
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (strcmp(v->source_type, "image") == 0) {
        sov_image img;
        sov_location at = v->residency;

        if (sov_image_find(c, v->tenant_id, NULL, v->source_id, &img, err) < 0)
            return -1;
        snprintf(at.host, sizeof(at.host), "%s", v->host_name);
        /* The image's copy on this host: uploaded (and recorded) once per host, on a
         * connection of its own (held while it copies). */
        sov_db_release(SOV_TAKE_PTR(c));
        if (sov_image_ensure_on_host(ctx, hv, img.id, v->host_id, &at, v->operation_id,
                                     f->volume, sizeof(f->volume), f->format, sizeof(f->format),
                                     err) < 0)
            return -1;
        f->from = at;
        snprintf(f->what, sizeof(f->what), "image '%s' (%s)", img.name, img.id);
        return 0;
    }
    if (strcmp(v->source_type, "snapshot") == 0) {
        sov_snapshot s;

        if (sov_repo_snapshot_get(c, v->tenant_id, v->source_id, false, &s, err) < 0)
            return -1;
        if (strcmp(s.host_id, v->host_id) != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "snapshot '%s' is on another host than "
                                 "volume '%s' (%s)", s.name, v->name, v->host_name);
        if (strcmp(s.state, "available") != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "snapshot '%s' is %s, not available",
                                 s.name, s.state);
        snprintf(f->volume, sizeof(f->volume), "%s", s.volume);
        snprintf(f->format, sizeof(f->format), "qcow2");
        snprintf(f->table, sizeof(f->table), "%s", s.encrypted ? "snapshots" : "");
        snprintf(f->id, sizeof(f->id), "%s", s.id);
        f->from = s.residency;
        snprintf(f->what, sizeof(f->what), "snapshot '%s' (%s)", s.name, s.id);
        return 0;
    }
    if (strcmp(v->source_type, "volume") == 0) {
        sov_volume src;

        if (sov_repo_volume_get(c, v->tenant_id, v->source_id, false, &src, err) < 0)
            return -1;
        if (strcmp(src.host_id, v->host_id) != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is on another host than "
                                 "volume '%s' (%s)", src.name, v->name, v->host_name);
        snprintf(f->volume, sizeof(f->volume), "%s", src.volume);
        snprintf(f->format, sizeof(f->format), "qcow2");
        snprintf(f->table, sizeof(f->table), "%s", src.encrypted ? "volumes" : "");
        snprintf(f->id, sizeof(f->id), "%s", src.id);
        f->attached = src.attachment.instance_id[0] != '\0';
        snprintf(f->instance_id, sizeof(f->instance_id), "%s", src.attachment.instance_id);
        snprintf(f->device, sizeof(f->device), "%s", src.attachment.device);
        f->from = src.residency;
        snprintf(f->what, sizeof(f->what), "volume '%s' (%s)", src.name, src.id);
        return 0;
    }
    return sov_error_set(err, SOV_E_INTERNAL, "volume '%s' has no source to copy", v->name);
}

/* A volume in use by a running guest is copied from the guest (QEMU holds the file's write
 * lock, and only it sees a consistent disk); then grown to the new volume's size. */
static int
copy_from_guest(sov_ctx *ctx, sov_hv *hv, const sov_volume *v, const source_file *f,
                const char *secret_uuid, bool *ret_done, sov_error *err)
{
    sov_domain_state st = SOV_DOMAIN_NONE;
    const char *secret = secret_uuid && *secret_uuid ? secret_uuid : NULL;

    (void) ctx;
    *ret_done = false;
    if (!f->attached || sov_hv_state(hv, f->instance_id, &st, err) < 0)
        return f->attached ? -1 : 0;
    if (st != SOV_DOMAIN_RUNNING && st != SOV_DOMAIN_PAUSED && st != SOV_DOMAIN_OTHER)
        return 0;
    if (sov_hv_disk_snapshot(hv, f->instance_id, f->device, v->pool, v->volume, secret,
                             err) < 0) {
        if (err->code == SOV_E_UNAVAILABLE)
            return -1;
        /* Detached or stopped meanwhile: the file copy below serves. */
        sov_log_warn("could not copy volume %s from its guest (%s), copying its file", f->id,
                     err->msg);
        sov_error_clear(err);
        return sov_hv_volume_delete(hv, v->pool, v->volume, err);
    }
    *ret_done = true;
    return sov_hv_volume_resize(hv, v->pool, v->volume, v->size_gib, secret, err);
}

typedef struct copied_args {
    const sov_volume *v;
    const source_file *f;
} copied_args;

static int
copied_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    copied_args *x = arg;
    sov_policy policy;
    sov_location to = x->v->residency;
    char reason[512], note[160];

    if (!to.region[0]) {
        to = x->f->from;
        snprintf(to.host, sizeof(to.host), "%s", x->v->host_name);
    }
    sov_storage_key_note(x->v->key_region, x->v->key_country, note, sizeof(note));
    snprintf(reason, sizeof(reason), "volume made from %s%s%s", x->f->what, note[0] ? "; " : "",
             note);
    if (sov_policy_load(c, x->v->tenant_id, &policy, err) < 0)
        return -1;
    return sov_residency_record(c, x->v->tenant_id, "volume", x->v->id, "copied", &x->f->from,
                                &to, &policy, reason,
                                x->v->operation_id[0] ? x->v->operation_id : NULL, err);
}

int
sov_volume_source_copy(sov_ctx *ctx, sov_hv *hv, const sov_volume *v, const char *secret_uuid,
                       sov_error *err)
{
    source_file f;
    char src_secret[SOV_UUID_LEN + 1] = "";
    bool done = false;
    copied_args a = { .v = v, .f = &f };
    int rc;

    if (source_of(ctx, hv, v, &f, err) < 0)
        return -1;
    /* The volume is 'creating': a file of its name is the remains of a copy cut short. */
    if (sov_hv_volume_delete(hv, v->pool, v->volume, err) < 0)
        return -1;
    if (copy_from_guest(ctx, hv, v, &f, secret_uuid, &done, err) < 0)
        return -1;
    if (!done) {
        if (f.table[0] && sov_storage_secret_open(ctx, hv, f.table, f.id, v->tenant_id,
                                                  src_secret, err) < 0)
            return -1;
        rc = sov_hv_volume_copy(hv, v->pool, v->volume, f.volume, f.format,
                                src_secret[0] ? src_secret : NULL, v->size_gib,
                                secret_uuid && *secret_uuid ? secret_uuid : NULL, err);
        /* An attached volume's secret belongs to its attachment: left defined. */
        if (!f.attached)
            sov_storage_secret_close(hv, src_secret);
        if (rc < 0)
            return -1;
    }
    return sov_db_tx(ctx->db, copied_tx, &a, err);
}
