/* seca_storage.c: the storage provider (seca.storage): storage SKUs (our volume types),
 * images (our images in the tenant's "default" workspace: SECA images are tenant-level) and
 * block storages (our volumes). Every change goes through the same services as /v1, so
 * quotas, residency policy, audit and residency records apply as they do there; the SECA
 * meta (labels, conditions, resourceVersion) is recorded after the service did its part.
 *
 * A SECA GB is our GiB: sizeGB is the volume's size_gib. A SKU's iops is its type's
 * max_iops (45000, the schema's maximum, when the type sets no limit); its type is
 * local-durable (a qcow2 file in a host's directory pool) and its minVolumeSize 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca.h"
#include "sov/compute.h"
#include "sov/storage.h"

#define PAGE 200
#define SKU_IOPS_MAX 45000
#define IMAGE_WORKSPACE "default"
#define IMAGE_SPEC_KIND "image"     /* the SECA spec members our images have no column for */

static const sov_seca_type T_SKU = { "seca.storage", "storage-sku", "skus", SOV_SECA_TENANT,
                                     true };
static const sov_seca_type T_IMAGE = { "seca.storage", "image", "images", SOV_SECA_TENANT,
                                       true };
static const sov_seca_type T_BLOCK = { "seca.storage", "block-storage", "block-storages",
                                       SOV_SECA_WORKSPACE, true };
static const sov_seca_type T_INSTANCE = { "seca.compute", "instance", "instances",
                                          SOV_SECA_WORKSPACE, true };

/* ---- shared ---- */

/* A service's field named in its /v1 terms, renamed to the SECA member it came from. */
static void
field_rename(sov_error *err, const char *from, const char *to)
{
    if (strcmp(err->field, from) == 0)
        snprintf(err->field, sizeof(err->field), "%s", to);
}

static enum MHD_Result
fail(sov_request *req, const sov_error *err, bool write)
{
    return sov_seca_reply_error(req, err, write);
}

/* ---- skus: volume types ---- */

static json_t *
sku_render(sov_request *req, const sov_volume_type *t, const char *region)
{
    long long iops = t->max_iops > 0 && t->max_iops < SKU_IOPS_MAX ? t->max_iops
                                                                   : SKU_IOPS_MAX;
    json_t *spec = json_pack("{s:I, s:s, s:I}", "iops", (json_int_t) iops, "type",
                             "local-durable", "minVolumeSize", (json_int_t) 1);

    return sov_seca_resource(req, &T_SKU, NULL, NULL, t->name, region, NULL, spec, NULL, NULL);
}

static int
sku_page(sov_request *req, sov_seca_list *l, const char *after, char *next, size_t size,
         void *arg, sov_error *err)
{
    const char *region = arg;
    sov_volume_type_page page = { 0 };

    if (sov_volume_type_list(&req->ctx, after, PAGE, &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page.n; i++)
        sov_seca_list_add(l, sku_render(req, &page.items[i], region));
    free(page.items);
    snprintf(next, size, "%s", page.next_after);
    return 0;
}

/* GET .../tenants/{tenant}/skus */
enum MHD_Result
sov_seca_storage_skus_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    char region[SOV_NAME_MAX + 1];

    if (sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return fail(req, &err, false);
    return sov_seca_list_walk(req, &T_SKU, sku_page, region);
}

/* GET .../tenants/{tenant}/skus/{name} */
enum MHD_Result
sov_seca_storage_skus_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume_type t;
    char region[SOV_NAME_MAX + 1];

    if (sov_volume_type_get(&req->ctx, sov_seca_name(req), &t, &err) < 0 ||
        sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return fail(req, &err, false);
    sov_autoptr(json_t) body = sku_render(req, &t, region);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

/* ---- block storages: volumes ---- */

static sov_seca_state
volume_state(const sov_volume *v)
{
    if (strcmp(v->state, "creating") == 0)
        return SOV_SECA_CREATING;
    if (strcmp(v->state, "attaching") == 0 || strcmp(v->state, "detaching") == 0 ||
        strcmp(v->state, "extending") == 0)
        return SOV_SECA_UPDATING;
    if (strcmp(v->state, "deleting") == 0 || strcmp(v->state, "deleted") == 0)
        return SOV_SECA_DELETING;
    if (strcmp(v->state, "error") == 0)
        return SOV_SECA_ERROR;
    return SOV_SECA_ACTIVE;
}

/* The tenant's volume named {name} in {workspace}; a deleted one is not there. */
static int
volume_find(sov_request *req, const char *workspace, const char *name, sov_volume *ret,
            sov_error *err)
{
    const char *tenant = sov_seca_tenant_id(req);
    char id[SOV_UUID_LEN + 1];

    if (sov_volume_resolve(&req->ctx, tenant, workspace, name, id, err) < 0 ||
        sov_volume_get(&req->ctx, tenant, id, ret, err) < 0)
        return -1;
    if (strcmp(ret->state, "deleted") == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "block storage '%s' does not exist", name);
    return 0;
}

/* The volume as SECA shows it, its meta brought up to date. */
static int
block_json(sov_request *req, const sov_volume *v, json_t **ret, sov_error *err)
{
    sov_seca_stored st = { v->id, volume_state(v), v->created_at, NULL };
    json_t *spec = json_object(), *status = json_object();
    sov_image img;
    sov_error gone = SOV_ERROR_INIT;

    json_object_set_new(spec, "skuRef", sov_seca_ref_json(req, &T_SKU, NULL, NULL,
                                                          v->type_name));
    json_object_set_new(spec, "sizeGB", json_integer((json_int_t) v->size_gib));
    /* The source image, while it is there to be named. */
    if (strcmp(v->source_type, "image") == 0 &&
        sov_image_get(&req->ctx, sov_seca_tenant_id(req), v->source_id, NULL, &img, &gone) == 0)
        json_object_set_new(spec, "sourceImageRef",
                            sov_seca_ref_json(req, &T_IMAGE, NULL, NULL, img.name));
    json_object_set_new(status, "sizeGB", json_integer((json_int_t) v->size_gib));
    if (v->attachment.instance_id[0])
        json_object_set_new(status, "attachedTo",
                            sov_seca_ref_json(req, &T_INSTANCE, v->workspace, NULL,
                                              v->attachment.instance_name));
    *ret = sov_seca_resource_stored(req, &T_BLOCK, v->workspace, NULL, v->name, v->region, &st,
                                    spec, status, sov_api_volume_residency_json(v), err);
    return *ret ? 0 : -1;
}

static int
block_page(sov_request *req, sov_seca_list *l, const char *after, char *next, size_t size,
           void *arg, sov_error *err)
{
    sov_volume_page page = { 0 };
    json_t *item;
    int rc = 0;

    (void) arg;
    if (sov_volume_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), NULL, NULL,
                        after, PAGE, &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page.n && rc == 0; i++)
        if ((rc = block_json(req, &page.items[i], &item, err)) == 0)
            sov_seca_list_add(l, item);
    free(page.items);
    snprintf(next, size, "%s", page.next_after);
    return rc;
}

/* GET .../workspaces/{workspace}/block-storages */
enum MHD_Result
sov_seca_storage_block_storages_list(sov_request *req)
{
    return sov_seca_list_walk(req, &T_BLOCK, block_page, NULL);
}

/* GET .../workspaces/{workspace}/block-storages/{name} */
enum MHD_Result
sov_seca_storage_block_storages_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume v;
    json_t *body = NULL;

    if (volume_find(req, sov_seca_workspace(req), sov_seca_name(req), &v, &err) == 0)
        block_json(req, &v, &body, &err);
    return sov_seca_answer(req, MHD_HTTP_OK, body, &err, false);
}

/* What a block storage's PUT asks for, its references resolved. */
typedef struct block_spec {
    sov_volume_type type;
    long long size_gib;
    bool has_image;
    sov_image image;
} block_spec;

/* A block storage's spec members: references are objects or URN strings. */
static const sov_field block_members[] = {
    { "skuRef", SOV_SECA_ANY, true },
    { "sizeGB", JSON_INTEGER, true },
    { "sourceImageRef", SOV_SECA_ANY, false },
};

/* The spec, its members checked by sov_seca_input_read, resolved. */
static int
block_spec_read(sov_request *req, const json_t *spec, block_spec *ret, sov_error *err)
{
    const char *tenant = sov_seca_tenant_id(req);
    json_t *image = json_object_get(spec, "sourceImageRef");
    sov_seca_ref r;

    memset(ret, 0, sizeof(*ret));
    ret->size_gib = json_integer_value(json_object_get(spec, "sizeGB"));
    /* GB are GiB here; our volumes reach SOV_VOLUME_GIB_MAX, SECA's 1000000. */
    if (ret->size_gib < 1 || ret->size_gib > SOV_VOLUME_GIB_MAX)
        return sov_error_invalid(err, "/spec/sizeGB", "spec.sizeGB must be from 1 to %d",
                                 SOV_VOLUME_GIB_MAX);
    if (sov_seca_ref_read(req, json_object_get(spec, "skuRef"), "skus", "/spec/skuRef", &r,
                          err) < 0)
        return -1;
    if (sov_volume_type_get(&req->ctx, r.name, &ret->type, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            sov_error_invalid(err, "/spec/skuRef", "sku '%s' does not exist", r.name);
        return -1;
    }
    if (!image || json_is_null(image))
        return 0;
    if (sov_seca_ref_read(req, image, "images", "/spec/sourceImageRef", &r, err) < 0)
        return -1;
    if (sov_image_get(&req->ctx, tenant, r.name, IMAGE_WORKSPACE, &ret->image, err) < 0 ||
        strcmp(ret->image.state, "deleted") == 0) {
        if (err->code == SOV_E_NOT_FOUND || err->code == SOV_OK)
            sov_error_invalid(err, "/spec/sourceImageRef", "image '%s' does not exist", r.name);
        return -1;
    }
    ret->has_image = true;
    return 0;
}

static enum MHD_Result
block_answer(sov_request *req, unsigned status, const char *id)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume v;
    json_t *body = NULL;

    if (sov_volume_get(&req->ctx, sov_seca_tenant_id(req), id, &v, &err) == 0)
        block_json(req, &v, &body, &err);
    return sov_seca_answer(req, status, body, &err, true);
}

/* A block storage's PUT: what it asks for, and the volume it names when there is one. */
typedef struct block_put {
    block_spec s;
    sov_volume v;
} block_put;

static int
block_find(sov_request *req, void *arg, char id[SOV_UUID_LEN + 1], sov_error *err)
{
    block_put *p = arg;

    if (volume_find(req, sov_seca_workspace(req), sov_seca_name(req), &p->v, err) < 0)
        return -1;
    snprintf(id, SOV_UUID_LEN + 1, "%s", p->v.id);
    return 0;
}

static enum MHD_Result
block_create(sov_request *req, const sov_seca_input *in, void *arg)
{
    const block_spec *s = &((block_put *) arg)->s;
    sov_error err = SOV_ERROR_INIT;
    sov_volume_create_args a = {
        .workspace = sov_seca_workspace(req),
        .name = sov_seca_name(req),
        .size_gib = s->size_gib,
        .type = s->type.id,
        .source_type = s->has_image ? "image" : NULL,
        .source = s->has_image ? s->image.id : NULL,
    };
    sov_volume v;
    sov_op op;

    if (sov_volume_create(&req->ctx, sov_seca_tenant_id(req), &a, &v, &op, &err) < 0) {
        field_rename(&err, "size_gib", "/spec/sizeGB");
        field_rename(&err, "type", "/spec/skuRef");
        field_rename(&err, "source", "/spec/sourceImageRef");
        return fail(req, &err, true);
    }
    if (sov_seca_record(req, &T_BLOCK, v.id, v.tenant_id, SOV_SECA_CREATED, in, op.id, NULL,
                        &err) < 0)
        return fail(req, &err, true);
    return block_answer(req, MHD_HTTP_CREATED, v.id);
}

static enum MHD_Result
block_update(sov_request *req, const sov_seca_input *in, void *arg)
{
    const block_spec *s = &((block_put *) arg)->s;
    const sov_volume *v = &((block_put *) arg)->v;
    sov_error err = SOV_ERROR_INIT;
    sov_op op = { 0 };

    if (strcmp(s->type.id, v->type_id) != 0) {
        sov_error_invalid(&err, "/spec/skuRef", "spec.skuRef cannot change: block storage '%s' "
                          "is of sku '%s'", v->name, v->type_name);
        return fail(req, &err, true);
    }
    if (s->has_image && (strcmp(v->source_type, "image") != 0 ||
                         strcmp(v->source_id, s->image.id) != 0)) {
        sov_error_invalid(&err, "/spec/sourceImageRef", "spec.sourceImageRef cannot change: "
                          "block storage '%s' was made from another source", v->name);
        return fail(req, &err, true);
    }
    if (s->size_gib < v->size_gib) {
        sov_error_invalid(&err, "/spec/sizeGB", "spec.sizeGB cannot decrease: block storage "
                          "'%s' has %lld GB", v->name, v->size_gib);
        return fail(req, &err, true);
    }
    if (s->size_gib > v->size_gib) {
        sov_volume_action_args a = { .action = "extend", .size_gib = s->size_gib };
        if (sov_volume_action(&req->ctx, sov_seca_tenant_id(req), v->id, &a, &op, &err) < 0) {
            field_rename(&err, "size_gib", "/spec/sizeGB");
            return fail(req, &err, true);
        }
    }
    if (sov_seca_record(req, &T_BLOCK, v->id, v->tenant_id, SOV_SECA_UPDATED, in, op.id, NULL,
                        &err) < 0)
        return fail(req, &err, true);
    return block_answer(req, MHD_HTTP_OK, v->id);
}

/* PUT .../workspaces/{workspace}/block-storages/{name}: create, or grow. */
enum MHD_Result
sov_seca_storage_block_storages_put(sov_request *req)
{
    static const sov_seca_put_ops ops = { block_find, block_create, block_update };
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    block_put p;

    if (sov_seca_input_read(req, block_members, SOV_N_ELEMENTS(block_members), true, &in,
                            &err) < 0 ||
        block_spec_read(req, in.spec, &p.s, &err) < 0)
        return fail(req, &err, true);
    return sov_seca_put(req, &in, &ops, &p);
}

/* DELETE .../workspaces/{workspace}/block-storages/{name}: 202, as /v1's delete (refused
 * while attached or while snapshots of it exist). */
enum MHD_Result
sov_seca_storage_block_storages_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume v;
    sov_op op;

    if (volume_find(req, sov_seca_workspace(req), sov_seca_name(req), &v, &err) < 0 ||
        sov_volume_delete(&req->ctx, sov_seca_tenant_id(req), v.id, &op, &err) < 0)
        return fail(req, &err, false);
    return sov_seca_reply_deleted(req, &T_BLOCK, v.id, v.tenant_id, op.id);
}

/* ---- images: the tenant's images in its "default" workspace ---- */

static sov_seca_state
image_state(const sov_image *img)
{
    if (strcmp(img->state, "queued") == 0 || strcmp(img->state, "downloading") == 0)
        return SOV_SECA_CREATING;
    if (strcmp(img->state, "deleting") == 0 || strcmp(img->state, "deleted") == 0)
        return SOV_SECA_DELETING;
    if (strcmp(img->state, "error") == 0)
        return SOV_SECA_ERROR;
    return SOV_SECA_ACTIVE;
}

static int
image_find(sov_request *req, const char *name, sov_image *ret, sov_error *err)
{
    if (sov_image_get(&req->ctx, sov_seca_tenant_id(req), name, IMAGE_WORKSPACE, ret, err) < 0)
        return -1;
    if (strcmp(ret->state, "deleted") == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "image '%s' does not exist", name);
    return 0;
}

/* The SECA spec members kept beside the image (an object of kind "image" named as it, for
 * this image's id only: a /v1 image of the same name made later has none). NULL: none. */
static json_t *
image_spec_load(sov_request *req, const sov_image *img)
{
    sov_seca_object o;
    sov_error err = SOV_ERROR_INIT;
    json_t *spec = NULL;

    if (sov_seca_object_get(&req->ctx, sov_seca_tenant_id(req), "", IMAGE_SPEC_KIND, "",
                            img->name, &o, &err) < 0)
        return NULL;
    if (json_is_object(o.spec) &&
        strcmp(json_string_value(json_object_get(o.spec, "imageId")) ?: "", img->id) == 0)
        spec = json_incref(o.spec);
    sov_seca_object_clear(&o);
    return spec;
}

/* The image as SECA shows it, its meta brought up to date. */
static int
image_json(sov_request *req, const sov_image *img, json_t **ret, sov_error *err)
{
    sov_seca_stored st = { img->id, image_state(img), img->created_at, NULL };
    sov_autoptr(json_t) kept = image_spec_load(req, img);
    json_t *spec = json_object(), *status = json_object();
    static const char *const members[] = { "blockStorageRef", "cpuArchitecture", "boot",
                                           "initializer" };
    long long bytes = img->virtual_size_bytes > 0 ? img->virtual_size_bytes : img->size_bytes;

    /* An image made through /v1 has no block storage behind it: x86_64 guests booted by
     * BIOS, as our hosts run them, with no initializer named. */
    json_object_set_new(spec, "cpuArchitecture", json_string("amd64"));
    json_object_set_new(spec, "boot", json_string("BIOS"));
    json_object_set_new(spec, "initializer", json_string("none"));
    for (size_t i = 0; kept && i < SOV_N_ELEMENTS(members); i++)
        if (json_object_get(kept, members[i]))
            json_object_set(spec, members[i], json_object_get(kept, members[i]));
    /* MB as MiB, rounded up: what a disk made from it needs (its virtual size). */
    if (bytes > 0)
        json_object_set_new(status, "sizeMB", json_integer((bytes + (1 << 20) - 1) >> 20));
    *ret = sov_seca_resource_stored(req, &T_IMAGE, NULL, NULL, img->name, img->region, &st, spec,
                                    status, sov_api_location_json(&img->residency,
                                                                  img->created_at), err);
    return *ret ? 0 : -1;
}

static int
image_page(sov_request *req, sov_seca_list *l, const char *after, char *next, size_t size,
           void *arg, sov_error *err)
{
    sov_image_page page = { 0 };
    json_t *item;
    int rc = 0;

    (void) arg;
    if (sov_image_list(&req->ctx, sov_seca_tenant_id(req), IMAGE_WORKSPACE, NULL, after, PAGE,
                       &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page.n && rc == 0; i++)
        if (strcmp(page.items[i].state, "deleted") != 0 &&
            (rc = image_json(req, &page.items[i], &item, err)) == 0)
            sov_seca_list_add(l, item);
    free(page.items);
    snprintf(next, size, "%s", page.next_after);
    return rc;
}

/* GET .../tenants/{tenant}/images */
enum MHD_Result
sov_seca_storage_images_list(sov_request *req)
{
    return sov_seca_list_walk(req, &T_IMAGE, image_page, NULL);
}

/* GET .../tenants/{tenant}/images/{name} */
enum MHD_Result
sov_seca_storage_images_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_image img;
    json_t *body = NULL;

    if (image_find(req, sov_seca_name(req), &img, &err) == 0)
        image_json(req, &img, &body, &err);
    return sov_seca_answer(req, MHD_HTTP_OK, body, &err, false);
}

/* SECA images are tenant-level, block storages live in workspaces: a reference from an
 * image that names no workspace ({"resource": "block-storages/b"}, "block-storages/b") names
 * the default workspace's, as the image is the default workspace's. A new reference. */
static json_t *
ref_in_default(json_t *ref)
{
    const char *s = json_string_value(ref);
    char text[512];

    if (json_is_object(ref) && !json_object_get(ref, "workspace")) {
        json_t *copy = json_copy(ref);
        json_object_set_new(copy, "workspace", json_string(IMAGE_WORKSPACE));
        return copy;
    }
    if (s && strncmp(s, "block-storages/", 15) == 0 && strlen(s) < 400) {
        snprintf(text, sizeof(text), "workspaces/%s/%s", IMAGE_WORKSPACE, s);
        return json_string(text);
    }
    return json_incref(ref);
}

/* An image's spec members. */
static const sov_field image_members[] = {
    { "blockStorageRef", SOV_SECA_ANY, true },
    { "cpuArchitecture", JSON_STRING, true },
    { "boot", JSON_STRING, false },
    { "initializer", JSON_STRING, false },
};

/* An image's PUT: spec {blockStorageRef, cpuArchitecture, boot?, initializer?}, its members
 * checked by sov_seca_input_read; the kept members (with the block storage's workspace and
 * name) into kept. */
static int
image_spec_read(sov_request *req, const json_t *spec, sov_seca_ref *bs, json_t **kept,
                sov_error *err)
{
    const char *arch, *boot, *init;

    arch = json_string_value(json_object_get(spec, "cpuArchitecture"));
    boot = json_string_value(json_object_get(spec, "boot"));
    init = json_string_value(json_object_get(spec, "initializer"));
    if (strcmp(arch, "arm64") == 0)
        return sov_error_invalid(err, "/spec/cpuArchitecture", "spec.cpuArchitecture arm64 "
                                 "cannot run here: our hosts run amd64 (x86_64) guests only");
    if (strcmp(arch, "amd64") != 0)
        return sov_error_invalid(err, "/spec/cpuArchitecture", "spec.cpuArchitecture must be "
                                 "amd64 or arm64");
    if (boot && strcmp(boot, "UEFI") != 0 && strcmp(boot, "BIOS") != 0)
        return sov_error_invalid(err, "/spec/boot", "spec.boot must be UEFI or BIOS");
    if (init && strcmp(init, "none") != 0 && strcmp(init, "cloudinit-22") != 0)
        return sov_error_invalid(err, "/spec/initializer", "spec.initializer must be none or "
                                 "cloudinit-22");
    sov_autoptr(json_t) ref = ref_in_default(json_object_get(spec, "blockStorageRef"));
    if (sov_seca_ref_read(req, ref, "block-storages", "/spec/blockStorageRef", bs, err) < 0)
        return -1;
    *kept = json_pack("{s:s, s:s, s:s}", "cpuArchitecture", arch, "boot", boot ? boot : "UEFI",
                      "initializer", init ? init : "none");
    json_object_set_new(*kept, "blockStorageRef",
                        sov_seca_ref_json(req, &T_BLOCK, bs->workspace, NULL, bs->name));
    return 0;
}

static int
image_spec_store(sov_request *req, const sov_image *img, json_t *kept, sov_error *err)
{
    sov_seca_object o = { 0 };
    bool created = false;
    int rc;

    snprintf(o.tenant_id, sizeof(o.tenant_id), "%s", img->tenant_id);
    snprintf(o.kind, sizeof(o.kind), "%s", IMAGE_SPEC_KIND);
    snprintf(o.name, sizeof(o.name), "%s", img->name);
    snprintf(o.region, sizeof(o.region), "%s", img->region);
    json_object_set_new(kept, "imageId", json_string(img->id));
    o.spec = json_incref(kept);
    rc = sov_seca_object_put(&req->ctx, &o, &created, err);
    sov_seca_object_clear(&o);
    return rc;
}

static enum MHD_Result
image_answer(sov_request *req, unsigned status, const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    sov_image img;
    json_t *body = NULL;

    if (image_find(req, name, &img, &err) == 0)
        image_json(req, &img, &body, &err);
    return sov_seca_answer(req, status, body, &err, true);
}

/* An image's PUT: the block storage it names, the spec members kept, the image when there is
 * one. */
typedef struct image_put {
    sov_seca_ref bs;
    json_t *kept;
    sov_image img;
} image_put;

static int
image_put_find(sov_request *req, void *arg, char id[SOV_UUID_LEN + 1], sov_error *err)
{
    image_put *p = arg;

    if (image_find(req, sov_seca_name(req), &p->img, err) < 0)
        return -1;
    snprintf(id, SOV_UUID_LEN + 1, "%s", p->img.id);
    return 0;
}

static enum MHD_Result
image_create(sov_request *req, const sov_seca_input *in, void *arg)
{
    const sov_seca_ref *bs = &((image_put *) arg)->bs;
    json_t *kept = ((image_put *) arg)->kept;
    sov_error err = SOV_ERROR_INIT;
    sov_volume_image_args a = {
        .workspace = IMAGE_WORKSPACE, .name = sov_seca_name(req),
        .volume_workspace = bs->workspace, .volume = bs->name,
    };
    sov_image img;
    sov_op op;

    if (sov_volume_image_create(&req->ctx, sov_seca_tenant_id(req), &a, &img, &op, &err) < 0) {
        field_rename(&err, "source_volume", "/spec/blockStorageRef");
        if (err.reason == SOV_R_REF_MISSING)
            sov_error_invalid(&err, "/spec/blockStorageRef", "block storage '%s' does not "
                              "exist in workspace '%s'", bs->name, bs->workspace);
        return fail(req, &err, true);
    }
    if (image_spec_store(req, &img, kept, &err) < 0 ||
        sov_seca_record(req, &T_IMAGE, img.id, img.tenant_id, SOV_SECA_CREATED, in, op.id, NULL,
                        &err) < 0)
        return fail(req, &err, true);
    return image_answer(req, MHD_HTTP_CREATED, img.name);
}

/* An existing image: its bytes came from one block storage and stay; cpuArchitecture is what
 * they are; boot and initializer are kept as given. */
static enum MHD_Result
image_update(sov_request *req, const sov_seca_input *in, void *arg)
{
    json_t *kept = ((image_put *) arg)->kept;
    const sov_image *img = &((image_put *) arg)->img;
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(json_t) before = image_spec_load(req, img);

    if (!before || !json_equal(json_object_get(before, "blockStorageRef"),
                               json_object_get(kept, "blockStorageRef"))) {
        sov_error_invalid(&err, "/spec/blockStorageRef", "spec.blockStorageRef cannot change: "
                          "image '%s' holds the copy it was made from", img->name);
        return fail(req, &err, true);
    }
    if (image_spec_store(req, img, kept, &err) < 0 ||
        sov_seca_record(req, &T_IMAGE, img->id, img->tenant_id, SOV_SECA_UPDATED, in, NULL, NULL,
                        &err) < 0)
        return fail(req, &err, true);
    return image_answer(req, MHD_HTTP_OK, img->name);
}

/* PUT .../tenants/{tenant}/images/{name}: an image from a block storage, or its update. */
enum MHD_Result
sov_seca_storage_images_put(sov_request *req)
{
    static const sov_seca_put_ops ops = { image_put_find, image_create, image_update };
    sov_error err = SOV_ERROR_INIT;
    sov_seca_input in;
    image_put p = { .kept = NULL };

    if (sov_seca_input_read(req, image_members, SOV_N_ELEMENTS(image_members), true, &in,
                            &err) < 0 ||
        image_spec_read(req, in.spec, &p.bs, &p.kept, &err) < 0)
        return fail(req, &err, true);
    enum MHD_Result rc = sov_seca_put(req, &in, &ops, &p);
    json_decref(p.kept);
    return rc;
}

/* DELETE .../tenants/{tenant}/images/{name}: 202, as /v1's delete (refused while instances
 * use it). */
enum MHD_Result
sov_seca_storage_images_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_image img;
    sov_op op;

    if (image_find(req, sov_seca_name(req), &img, &err) < 0 ||
        sov_image_delete(&req->ctx, sov_seca_tenant_id(req), img.id, &op, &err) < 0)
        return fail(req, &err, false);
    if (sov_seca_record(req, &T_IMAGE, img.id, img.tenant_id, SOV_SECA_DELETED, NULL, op.id, NULL,
                        &err) < 0 ||
        sov_seca_object_delete(&req->ctx, img.tenant_id, "", IMAGE_SPEC_KIND, "", img.name,
                               &err) < 0) {
        if (err.code != SOV_E_NOT_FOUND)
            return fail(req, &err, false);
    }
    return sov_seca_reply(req, MHD_HTTP_ACCEPTED, NULL);
}
