/* seca_compute.c: the compute provider (seca.compute): instance SKUs (our flavors) and
 * instances (booting from a block storage).
 *
 * SKUs are the flavors every tenant sees (flavors are global): spec {vCPU, ram} with ram in
 * GiB as SECA's schema counts it (our MiB rounded up, at least 1), in the tenant's default
 * region. Instances are our instances, made by sov_instance_create exactly as POST
 * /v1/instances makes them (quota, residency policy, audit, residency records), always
 * booting from an existing block storage (our volume) named by spec.bootVolume.deviceRef;
 * dataVolumes are attached at create, primaryNicRef and additionalNicRefs are existing NICs
 * (our ports), zone is our zone and the instance's region is where placement put it.
 * start, stop and restart are our start, stop and reboot actions; DELETE is our delete.
 * Every refusal of a write names the spec member as a JSON pointer ("/spec/zone"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca.h"
#include "sov/compute.h"
#include "sov/network.h"
#include "sov/storage.h"

#define SSH_KEYS_MAX 32
#define SSH_KEY_LEN_MAX 4096
#define USER_DATA_MAX 65536
#define ZONE_MAX 32
#define AAG_MAX 64
#define ADDITIONAL_NICS_MAX 16
#define DATA_VOLUMES_MAX 64
#define LIST_PAGE 500

static const sov_seca_type SKU_T = { "seca.compute", "instance-sku", "skus", SOV_SECA_TENANT,
                                     true };
static const sov_seca_type INSTANCE_T = { "seca.compute", "instance", "instances",
                                          SOV_SECA_WORKSPACE, true };
static const sov_seca_type BLOCK_T = { "seca.storage", "block-storage", "block-storages",
                                       SOV_SECA_WORKSPACE, true };
static const sov_seca_type NIC_T = { "seca.network", "nic", "nics", SOV_SECA_WORKSPACE, true };
static const sov_seca_type SG_T = { "seca.network", "security-group", "security-groups",
                                    SOV_SECA_WORKSPACE, true };

/* ---- SKUs ---- */

#define SKU_VCPU_MAX 60
#define SKU_RAM_GIB_MAX 65536

/* SECA's ram is GiB, at least 1: a flavor under 1 GiB shows as 1. */
static long long
ram_gib(const sov_flavor *f)
{
    long long gib = (f->memory_mib + 1023) / 1024;

    return gib < 1 ? 1 : gib;
}

/* A flavor SECA can show: sizes within InstanceSkuSpec's bounds (a flavor's name, a slug,
 * is always a SECA name). Another is no SKU. */
static bool
sku_shown(const sov_flavor *f)
{
    return f->vcpus >= 1 && f->vcpus <= SKU_VCPU_MAX && ram_gib(f) <= SKU_RAM_GIB_MAX;
}

static json_t *
sku_json(sov_request *req, const sov_flavor *f, const char *region)
{
    json_t *spec = json_pack("{s:i, s:I}", "vCPU", f->vcpus, "ram", (json_int_t) ram_gib(f));

    return sov_seca_resource(req, &SKU_T, NULL, NULL, f->name, region, NULL, spec, NULL, NULL);
}

static int
sku_page(sov_request *req, sov_seca_list *l, const char *after, char *next, size_t size,
         void *arg, sov_error *err)
{
    sov_flavor_page page = { 0 };

    if (sov_flavor_list(&req->ctx, after, LIST_PAGE, &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page.n; i++)
        if (sku_shown(&page.items[i]))
            sov_seca_list_add(l, sku_json(req, &page.items[i], arg));
    free(page.items);
    snprintf(next, size, "%s", page.next_after);
    return 0;
}

/* GET .../tenants/{tenant}/skus */
enum MHD_Result
sov_seca_compute_skus_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    char region[SOV_NAME_MAX + 1];

    if (sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_list_walk(req, &SKU_T, sku_page, region);
}

/* GET .../tenants/{tenant}/skus/{name} */
enum MHD_Result
sov_seca_compute_skus_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    char region[SOV_NAME_MAX + 1];
    const char *name = sov_seca_name(req);
    sov_flavor f;

    if (sov_flavor_get(&req->ctx, name, &f, &err) < 0 ||
        sov_seca_default_region(req, region, sizeof(region), &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    /* By name only: a flavor's id is not a SKU's name. */
    if (strcmp(f.name, name) != 0 || !sku_shown(&f)) {
        sov_error_set(&err, SOV_E_NOT_FOUND, "sku '%s' does not exist", name);
        return sov_seca_reply_error(req, &err, false);
    }
    sov_autoptr(json_t) body = sku_json(req, &f, region);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

/* ---- instances: rendering ---- */

/* The SECA state an instance's /v1 state reads as, when no operation is followed. */
static sov_seca_state
state_now(const sov_instance *x)
{
    if (strcmp(x->state, "error") == 0)
        return SOV_SECA_ERROR;
    if (strcmp(x->state, "deleting") == 0 || strcmp(x->state, "deleted") == 0)
        return SOV_SECA_DELETING;
    if (strcmp(x->state, "scheduling") == 0 || strcmp(x->state, "building") == 0)
        return SOV_SECA_CREATING;
    return SOV_SECA_ACTIVE;
}

/* spec as SECA shows it, rebuilt from the instance and what it uses. userData and sshKeys
 * are write-only (the instance keeps them for its seed only). */
static int
instance_spec(sov_request *req, const sov_instance *x, json_t **ret, sov_error *err)
{
    const char *tenant_id = sov_seca_tenant_id(req);
    sov_autofree sov_volume *vols = NULL;
    sov_autofree sov_port *ports = NULL;
    size_t nvols = 0, nports = 0;
    sov_flavor f;
    json_t *spec = json_object(), *data = json_array();

    if (x->flavor_id[0] && sov_flavor_get(&req->ctx, x->flavor_id, &f, err) == 0)
        json_object_set_new(spec, "skuRef", sov_seca_ref_json(req, &SKU_T, NULL, NULL, f.name));
    sov_error_clear(err);
    json_object_set_new(spec, "zone", json_string(x->zone));
    if (sov_instance_volumes(&req->ctx, tenant_id, x->id, &vols, &nvols, err) < 0 ||
        (!x->nat_nic &&
         sov_instance_ports(&req->ctx, tenant_id, x->id, &ports, &nports, err) < 0)) {
        json_decref(spec);
        json_decref(data);
        return -1;
    }
    for (size_t i = 0; i < nvols; i++) {
        json_t *ref = json_pack("{s:o, s:s}", "deviceRef",
                                sov_seca_ref_json(req, &BLOCK_T, x->workspace, NULL,
                                                  vols[i].name),
                                "type", "virtio");
        if (vols[i].attachment.boot)
            json_object_set_new(spec, "bootVolume", ref);
        else
            json_array_append_new(data, ref);
    }
    if (json_array_size(data) > 0)
        json_object_set_new(spec, "dataVolumes", data);
    else
        json_decref(data);
    for (size_t i = 0; i < nports; i++) {
        json_t *ref = sov_seca_ref_json(req, &NIC_T, x->workspace, NULL, ports[i].name);
        if (i == 0) {
            json_object_set_new(spec, "primaryNicRef", ref);
        } else {
            json_t *more = json_object_get(spec, "additionalNicRefs");
            if (!more) {
                more = json_array();
                json_object_set_new(spec, "additionalNicRefs", more);
            }
            json_array_append_new(more, ref);
        }
    }
    if (x->anti_affinity_group[0])
        json_object_set_new(spec, "antiAffinityGroup", json_string(x->anti_affinity_group));
    *ret = spec;
    return 0;
}

/* The instance as SECA shows it, its meta read (and brought up to date) here. */
static int
instance_render(sov_request *req, const sov_instance *x, json_t **ret, sov_error *err)
{
    sov_seca_stored st = { x->id, state_now(x), x->created_at, NULL };
    json_t *spec = NULL, *status;

    if (instance_spec(req, x, &spec, err) < 0)
        return -1;
    status = json_pack("{s:s}", "powerState", strcmp(x->state, "running") == 0 ? "on" : "off");
    *ret = sov_seca_resource_stored(req, &INSTANCE_T, x->workspace, NULL, x->name, x->region,
                                    &st, spec, status, sov_api_location_json(&x->residency,
                                                                             x->residency_since),
                                    err);
    return *ret ? 0 : -1;
}

/* The instance {name} of the path's workspace; SOV_E_NOT_FOUND when there is none (a
 * deleted one is none). */
static int
instance_find(sov_request *req, sov_instance *ret, sov_error *err)
{
    const char *tenant_id = sov_seca_tenant_id(req);
    char id[SOV_UUID_LEN + 1];

    if (sov_instance_resolve(&req->ctx, tenant_id, sov_seca_workspace(req), sov_seca_name(req),
                             id, err) < 0 ||
        sov_instance_get(&req->ctx, tenant_id, id, ret, err) < 0) {
        /* A workspace name ours cannot hold (SECA's are longer) holds no instance. */
        if (err->code == SOV_E_INVALID)
            sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist",
                          sov_seca_name(req));
        return -1;
    }
    /* A name that is a uuid resolves as an id: it must still be this workspace's name. */
    if (strcmp(ret->name, sov_seca_name(req)) != 0 ||
        strcmp(ret->workspace, sov_seca_workspace(req)) != 0 ||
        strcmp(ret->state, "deleted") == 0)
        return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist",
                             sov_seca_name(req));
    return 0;
}

static int
instance_page(sov_request *req, sov_seca_list *l, const char *after, char *next, size_t size,
              void *arg, sov_error *err)
{
    sov_autoptr(sov_instance_page) page = NULL;

    (void) arg;
    if (sov_instance_list(&req->ctx, sov_seca_tenant_id(req), sov_seca_workspace(req), NULL,
                          NULL, NULL, after, LIST_PAGE, &page, err) < 0)
        return -1;
    for (size_t i = 0; i < page->n; i++) {
        json_t *item = NULL;
        if (instance_render(req, page->items[i], &item, err) < 0)
            return -1;
        sov_seca_list_add(l, item);
    }
    snprintf(next, size, "%s", page->next_after);
    return 0;
}

/* GET .../workspaces/{workspace}/instances */
enum MHD_Result
sov_seca_compute_instances_list(sov_request *req)
{
    return sov_seca_list_walk(req, &INSTANCE_T, instance_page, NULL);
}

/* GET .../workspaces/{workspace}/instances/{name} */
enum MHD_Result
sov_seca_compute_instances_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    sov_autoptr(json_t) body = NULL;

    if (instance_find(req, &x, &err) < 0 || instance_render(req, &x, &body, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply(req, MHD_HTTP_OK, body);
}

/* ---- instances: the PUT's spec ---- */

typedef struct ispec {
    sov_seca_ref sku;
    const char *zone;
    sov_seca_ref boot;
    sov_seca_ref data[SOV_API_INSTANCE_VOLUMES_MAX];
    size_t ndata;
    sov_seca_ref nics[SOV_INSTANCE_NICS_MAX];   /* [0] the primary NIC, then additional */
    size_t nnics;
    bool has_primary;
    sov_seca_ref sg;
    bool has_sg;
    const char *user_data;
    const char *aag;
    const char *keys[SSH_KEYS_MAX];
    size_t nkeys;
    bool has_data, has_nics, has_keys, has_user_data;
} ispec;

/* A string member within [1, max] characters (min 0: may be empty). */
static int
spec_str(json_t *v, const char *pointer, size_t min, size_t max, const char **ret,
         sov_error *err)
{
    size_t n;

    if (!json_is_string(v))
        return sov_error_invalid(err, pointer, "%s must be a string", pointer);
    n = sov_seca_chars(json_string_value(v));
    if (n < min || n > max)
        return min > 0 ? sov_error_invalid(err, pointer, "%s must be %zu to %zu characters",
                                           pointer, min, max)
                       : sov_error_invalid(err, pointer, "%s must be at most %zu characters",
                                           pointer, max);
    *ret = json_string_value(v);
    return 0;
}

/* A VolumeReference {deviceRef, type?}: the block storage it names. */
static int
volume_ref(sov_request *req, json_t *v, const char *pointer, sov_seca_ref *ret, sov_error *err)
{
    char p[64];
    const char *key;
    json_t *m;

    if (!json_is_object(v))
        return sov_error_invalid(err, pointer, "%s must be an object: {deviceRef, type}",
                                 pointer);
    json_object_foreach(v, key, m) {
        if (strcmp(key, "type") == 0) {
            if (!json_is_string(m) || strcmp(json_string_value(m), "virtio") != 0) {
                snprintf(p, sizeof(p), "%s/type", pointer);
                return sov_error_invalid(err, p, "%s must be \"virtio\"", p);
            }
        } else if (strcmp(key, "deviceRef") != 0) {
            snprintf(p, sizeof(p), "%s/%.24s", pointer, key);
            return sov_error_invalid(err, p, "unknown field '%s'", p);
        }
    }
    snprintf(p, sizeof(p), "%s/deviceRef", pointer);
    m = json_object_get(v, "deviceRef");
    if (!m)
        return sov_error_invalid(err, p, "%s is required: the block storage", p);
    return sov_seca_ref_read(req, m, BLOCK_T.plural, p, ret, err);
}

static int
spec_member(sov_request *req, const char *key, json_t *v, ispec *s, sov_error *err)
{
    char p[64];
    size_t i;
    json_t *e;

    snprintf(p, sizeof(p), "/spec/%.40s", key);
    if (strcmp(key, "skuRef") == 0)
        return sov_seca_ref_read(req, v, SKU_T.plural, p, &s->sku, err);
    if (strcmp(key, "zone") == 0)
        return spec_str(v, p, 1, ZONE_MAX, &s->zone, err);
    if (strcmp(key, "bootVolume") == 0)
        return volume_ref(req, v, p, &s->boot, err);
    if (strcmp(key, "userData") == 0) {
        s->has_user_data = true;
        return spec_str(v, p, 0, USER_DATA_MAX, &s->user_data, err);
    }
    if (strcmp(key, "antiAffinityGroup") == 0)
        return spec_str(v, p, 0, AAG_MAX, &s->aag, err);
    if (strcmp(key, "securityGroupRef") == 0) {
        s->has_sg = true;
        return sov_seca_ref_read(req, v, SG_T.plural, p, &s->sg, err);
    }
    if (strcmp(key, "primaryNicRef") == 0) {
        s->has_primary = s->has_nics = true;
        return sov_seca_ref_read(req, v, NIC_T.plural, p, &s->nics[0], err);
    }
    if (strcmp(key, "sshKeys") == 0) {
        if (!json_is_array(v))
            return sov_error_invalid(err, p, "%s must be an array of strings", p);
        if (json_array_size(v) > SSH_KEYS_MAX)
            return sov_error_invalid(err, p, "at most %d SSH keys", SSH_KEYS_MAX);
        json_array_foreach(v, i, e) {
            snprintf(p, sizeof(p), "/spec/sshKeys/%zu", i);
            if (spec_str(e, p, 1, SSH_KEY_LEN_MAX, &s->keys[i], err) < 0)
                return -1;
        }
        s->nkeys = json_array_size(v);
        s->has_keys = true;
        return 0;
    }
    if (strcmp(key, "additionalNicRefs") == 0) {
        if (!json_is_array(v))
            return sov_error_invalid(err, p, "%s must be an array of references", p);
        if (json_array_size(v) > ADDITIONAL_NICS_MAX)
            return sov_error_invalid(err, p, "at most %d additional NICs",
                                     ADDITIONAL_NICS_MAX);
        if (json_array_size(v) > SOV_INSTANCE_NICS_MAX - 1)
            return sov_error_invalid(err, p, "an instance has at most %d NICs here, so at "
                                     "most %d additional ones", SOV_INSTANCE_NICS_MAX,
                                     SOV_INSTANCE_NICS_MAX - 1);
        json_array_foreach(v, i, e) {
            snprintf(p, sizeof(p), "/spec/additionalNicRefs/%zu", i);
            if (sov_seca_ref_read(req, e, NIC_T.plural, p, &s->nics[i + 1], err) < 0)
                return -1;
        }
        s->nnics = json_array_size(v) + 1;
        s->has_nics = s->has_nics || json_array_size(v) > 0;
        return 0;
    }
    if (strcmp(key, "dataVolumes") == 0) {
        if (!json_is_array(v))
            return sov_error_invalid(err, p, "%s must be an array of volume references", p);
        if (json_array_size(v) > DATA_VOLUMES_MAX)
            return sov_error_invalid(err, p, "at most %d data volumes", DATA_VOLUMES_MAX);
        if (json_array_size(v) > SOV_API_INSTANCE_VOLUMES_MAX)
            return sov_error_invalid(err, p, "at most %d data volumes at create here",
                                     SOV_API_INSTANCE_VOLUMES_MAX);
        json_array_foreach(v, i, e) {
            snprintf(p, sizeof(p), "/spec/dataVolumes/%zu", i);
            if (volume_ref(req, e, p, &s->data[i], err) < 0)
                return -1;
        }
        s->ndata = json_array_size(v);
        s->has_data = true;
        return 0;
    }
    return sov_error_invalid(err, p, "unknown field '%s'", p);
}

/* The spec's members, checked as SECA's schema says (constraints before references). */
static int
spec_read(sov_request *req, json_t *spec, ispec *s, sov_error *err)
{
    const char *key;
    json_t *v;

    if (!json_is_object(spec))
        return sov_error_invalid(err, "/spec", "spec must be an object");
    json_object_foreach(spec, key, v)
        if (!json_is_null(v) && spec_member(req, key, v, s, err) < 0)
            return -1;
    if (s->has_nics && !s->has_primary)
        return sov_error_invalid(err, "/spec/primaryNicRef", "additionalNicRefs need a "
                                 "primaryNicRef");
    if (s->has_primary && s->nnics == 0)
        s->nnics = 1;
    if (!s->sku.name[0])
        return sov_error_invalid(err, "/spec/skuRef", "spec.skuRef is required: the SKU");
    if (!s->zone)
        return sov_error_invalid(err, "/spec/zone", "spec.zone is required");
    if (!s->boot.name[0])
        return sov_error_invalid(err, "/spec/bootVolume", "spec.bootVolume is required: a "
                                 "SECA instance boots from a block storage");
    return 0;
}

/* A reference in the request's tenant and workspace (sov_seca_ref_read's check names other
 * tenants); one in another workspace is refused here: our instances use their own
 * workspace's volumes, ports and groups. */
static int
ref_here(sov_request *req, const sov_seca_ref *r, const char *pointer, sov_error *err)
{
    if (r->workspace[0] && strcmp(r->workspace, sov_seca_workspace(req)) != 0)
        return sov_error_invalid(err, pointer, "%s must be in workspace '%s'", pointer,
                                 sov_seca_workspace(req));
    return 0;
}

/* A service's error on a /v1 field, moved to the SECA member it came from. */
static void
field_to_pointer(sov_error *err)
{
    static const struct {
        const char *field, *pointer;
    } map[] = {
        { "name", "/metadata/name" },        { "flavor", "/spec/skuRef" },
        { "zone", "/spec/zone" },            { "region", "/spec/zone" },
        { "country", "/spec/zone" },         { "user_data", "/spec/userData" },
        { "ssh_keys", "/spec/sshKeys" },     { "anti_affinity_group", "/spec/antiAffinityGroup" },
        { "boot_volume", "/spec/bootVolume/deviceRef" }, { "volumes", "/spec/dataVolumes" },
        { "workspace", "/metadata/workspace" }, { "image", "/spec/bootVolume/deviceRef" },
        { "nics", "/spec/primaryNicRef" },
    };
    unsigned i;

    if (!err->field[0] || err->field[0] == '/')
        return;
    if (sscanf(err->field, "nics[%u]", &i) == 1) {
        if (i == 0)
            snprintf(err->field, sizeof(err->field), "/spec/primaryNicRef");
        else
            snprintf(err->field, sizeof(err->field), "/spec/additionalNicRefs/%u", i - 1);
        return;
    }
    for (size_t k = 0; k < SOV_N_ELEMENTS(map); k++)
        if (strcmp(err->field, map[k].field) == 0) {
            snprintf(err->field, sizeof(err->field), "%s", map[k].pointer);
            return;
        }
}

/* A missing referenced thing is SOV_E_NOT_FOUND naming its pointer (the edge answers 412
 * for a write). */
static int
missing(sov_error *err, const char *pointer)
{
    if (err->code == SOV_E_NOT_FOUND || err->code == SOV_E_INVALID)
        snprintf(err->field, sizeof(err->field), "%s", pointer);
    return -1;
}

/* Every reference resolved to what exists, in the path's workspace: the SKU (a flavor),
 * the block storages, the NICs and the security group. */
typedef struct resolved {
    char flavor_id[SOV_UUID_LEN + 1];
    char boot_id[SOV_UUID_LEN + 1];
    char data_ids[SOV_API_INSTANCE_VOLUMES_MAX][SOV_UUID_LEN + 1];
    char port_ids[SOV_INSTANCE_NICS_MAX][SOV_UUID_LEN + 1];
} resolved;

static int
spec_resolve(sov_request *req, const ispec *s, resolved *r, sov_error *err)
{
    const char *tenant_id = sov_seca_tenant_id(req), *ws = sov_seca_workspace(req);
    char p[64], sg[SOV_UUID_LEN + 1];
    sov_flavor f;

    /* By name only: a flavor's id is not a SKU's name. */
    if (sov_flavor_get(&req->ctx, s->sku.name, &f, err) < 0 ||
        strcmp(f.name, s->sku.name) != 0 || !sku_shown(&f)) {
        if (err->code == SOV_OK || err->code == SOV_E_NOT_FOUND)
            sov_error_set(err, SOV_E_NOT_FOUND, "sku '%s' does not exist", s->sku.name);
        return missing(err, "/spec/skuRef");
    }
    snprintf(r->flavor_id, sizeof(r->flavor_id), "%s", f.id);
    /* A block storage in another zone than spec.zone is moved there by the create
     * (instance_create: follow_zone), which refuses, naming it, when it cannot move. */
    if (ref_here(req, &s->boot, "/spec/bootVolume/deviceRef", err) < 0 ||
        sov_volume_resolve(&req->ctx, tenant_id, ws, s->boot.name, r->boot_id, err) < 0)
        return missing(err, "/spec/bootVolume/deviceRef");
    for (size_t i = 0; i < s->ndata; i++) {
        snprintf(p, sizeof(p), "/spec/dataVolumes/%zu/deviceRef", i);
        if (ref_here(req, &s->data[i], p, err) < 0 ||
            sov_volume_resolve(&req->ctx, tenant_id, ws, s->data[i].name, r->data_ids[i],
                               err) < 0)
            return missing(err, p);
    }
    if ((s->has_nics || s->has_sg) && !sov_network_enabled(req->ctx.cfg))
        return sov_error_invalid(err, s->has_nics ? "/spec/primaryNicRef"
                                                  : "/spec/securityGroupRef",
                                 "NICs and security groups need tenant networks, which this "
                                 "region does not run (no OVN): leave them out");
    for (size_t i = 0; i < s->nnics; i++) {
        if (i == 0)
            snprintf(p, sizeof(p), "/spec/primaryNicRef");
        else
            snprintf(p, sizeof(p), "/spec/additionalNicRefs/%zu", i - 1);
        if (ref_here(req, &s->nics[i], p, err) < 0 ||
            sov_port_resolve(&req->ctx, tenant_id, ws, s->nics[i].name, r->port_ids[i],
                             err) < 0)
            return missing(err, p);
    }
    if (s->has_sg &&
        (ref_here(req, &s->sg, "/spec/securityGroupRef", err) < 0 ||
         sov_security_group_resolve(&req->ctx, tenant_id, ws, s->sg.name, sg, err) < 0))
        return missing(err, "/spec/securityGroupRef");
    return 0;
}

/* ---- instances: create, update ---- */

static int
instance_create(sov_request *req, const ispec *s, const resolved *r, sov_instance *x,
                sov_op *op, sov_error *err)
{
    const char *vols[SOV_API_INSTANCE_VOLUMES_MAX];
    sov_instance_nic_args nics[SOV_INSTANCE_NICS_MAX];
    sov_instance_create_args a = { 0 };
    sov_instance_storage_args st = { 0 };
    sov_instance_network_args net = { 0 };

    for (size_t i = 0; i < s->ndata; i++)
        vols[i] = r->data_ids[i];
    memset(nics, 0, sizeof(nics));
    for (size_t i = 0; i < s->nnics; i++)
        nics[i].port = r->port_ids[i];
    st.boot_volume = r->boot_id;
    st.volumes = vols;
    st.nvolumes = s->ndata;
    st.follow_zone = s->zone;   /* SECA block storages have no zone: they follow the instance */
    net.nics = nics;
    net.nnics = s->nnics;
    net.has_nics = s->has_nics;
    a.workspace = sov_seca_workspace(req);
    a.name = sov_seca_name(req);
    a.flavor = r->flavor_id;
    a.zone = s->zone;
    a.user_data = s->user_data;
    a.anti_affinity_group = s->aag && *s->aag ? s->aag : NULL;
    a.ssh_keys = s->keys;
    a.nssh_keys = s->nkeys;
    /* As POST /v1/instances: network/'s entry always goes, storage/'s with the volumes. */
    sov_instance_ext ext[] = { { "network", &net }, { "storage", &st } };
    a.ext = ext;
    a.next = 2;
    if (sov_instance_create(&req->ctx, sov_seca_tenant_id(req), &a, x, op, err) < 0) {
        field_to_pointer(err);
        return -1;
    }
    return 0;
}

/* An immutable member given with another value than the instance's. */
static int
changed(const char *pointer, const char *what, sov_error *err)
{
    return sov_error_invalid(err, pointer, "%s cannot change on an existing instance (%s); "
                             "delete the instance and create it again", pointer, what);
}

/* An update may change labels, annotations and extensions; the spec must be the
 * instance's (what it can be compared with). */
static int
spec_unchanged(sov_request *req, const ispec *s, const resolved *r, const sov_instance *x,
               sov_error *err)
{
    sov_autofree sov_volume *vols = NULL;
    size_t nvols = 0, ndata = 0;

    if (strcmp(r->flavor_id, x->flavor_id) != 0)
        return changed("/spec/skuRef", "the SKU", err);
    if (strcmp(s->zone, x->zone) != 0)
        return changed("/spec/zone", "the zone", err);
    if (strcmp(r->boot_id, x->boot_volume_id) != 0)
        return changed("/spec/bootVolume", "the boot volume", err);
    if (strcmp(s->aag ? s->aag : "", x->anti_affinity_group) != 0)
        return changed("/spec/antiAffinityGroup", "the anti-affinity group", err);
    if (sov_instance_volumes(&req->ctx, sov_seca_tenant_id(req), x->id, &vols, &nvols,
                             err) < 0)
        return -1;
    for (size_t i = 0; i < nvols; i++) {
        if (vols[i].attachment.boot)
            continue;
        if (ndata >= s->ndata || strcmp(vols[i].id, r->data_ids[ndata]) != 0)
            return changed("/spec/dataVolumes", "its data volumes", err);
        ndata++;
    }
    if (ndata != s->ndata)
        return changed("/spec/dataVolumes", "its data volumes", err);
    return 0;
}

/* PUT .../workspaces/{workspace}/instances/{name} */
enum MHD_Result
sov_seca_compute_instances_put(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    SOV_CLEANUP(sov_seca_meta_clear) sov_seca_meta m = { .labels = NULL };
    sov_autofree ispec *s = calloc(1, sizeof(*s));
    sov_autofree resolved *r = calloc(1, sizeof(*r));
    sov_autoptr(json_t) body = NULL;
    sov_seca_input in;
    sov_seca_write w = { 0 };
    sov_op op;
    bool exists;

    if (!s || !r) {
        sov_error_set(&err, SOV_E_INTERNAL, "out of memory");
        return sov_seca_reply_error(req, &err, true);
    }
    if (sov_seca_input_read(req, NULL, 0, true, &in, &err) < 0 ||
        spec_read(req, in.spec, s, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (instance_find(req, &x, &err) == 0) {
        exists = true;
    } else if (err.code == SOV_E_NOT_FOUND) {
        exists = false;
        sov_error_clear(&err);
    } else {
        return sov_seca_reply_error(req, &err, true);
    }
    if (exists && in.if_version > 0 &&
        sov_seca_meta_check_version(&req->ctx, x.id, in.if_version, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (spec_resolve(req, s, r, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    w.tenant_id = sov_seca_tenant_id(req);
    w.kind = INSTANCE_T.kind;
    w.labels = in.labels;
    w.annotations = in.annotations;
    w.extensions = in.extensions;
    w.if_version = exists ? in.if_version : 0;
    if (exists) {
        if (strcmp(x.state, "deleting") == 0) {
            sov_error_set(&err, SOV_E_CONFLICT, "instance '%s' is being deleted", x.name);
            return sov_seca_reply_error(req, &err, true);
        }
        if (spec_unchanged(req, s, r, &x, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        w.change = SOV_SECA_UPDATED;
        w.op_id = NULL;
    } else {
        if (instance_create(req, s, r, &x, &op, &err) < 0)
            return sov_seca_reply_error(req, &err, true);
        w.change = SOV_SECA_CREATED;
        w.op_id = op.id;
    }
    w.resource_id = x.id;
    if (sov_seca_meta_write(&req->ctx, &w, &m, &err) < 0 ||
        instance_render(req, &x, &body, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return sov_seca_reply(req, exists ? MHD_HTTP_OK : MHD_HTTP_CREATED, body);
}

/* ---- instances: delete and actions ---- */

/* if-unmodified-since on a delete or an action (no body to read but the header): 412 when
 * the instance's resourceVersion is another; *ret the version asked for (0: none). */
static int
version_check(sov_request *req, const sov_instance *x, long long *ret, sov_error *err)
{
    sov_seca_input in;

    *ret = 0;
    if (sov_seca_input_read(req, NULL, 0, false, &in, err) < 0 ||
        (in.if_version > 0 &&
         sov_seca_meta_check_version(&req->ctx, x->id, in.if_version, err) < 0))
        return -1;
    *ret = in.if_version;
    return 0;
}

/* A delete or an action the service accepted: its meta following op_id, then 202 with the
 * instance as it is now. */
static enum MHD_Result
instance_accepted(sov_request *req, sov_instance *x, sov_seca_change change, const char *op_id,
                  bool write)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *body = NULL;

    if (sov_seca_record(req, &INSTANCE_T, x->id, sov_seca_tenant_id(req), change, NULL, op_id, NULL,
                        &err) == 0 &&
        sov_instance_get(&req->ctx, sov_seca_tenant_id(req), x->id, x, &err) == 0)
        instance_render(req, x, &body, &err);
    return sov_seca_answer(req, MHD_HTTP_ACCEPTED, body, &err, write);
}

/* DELETE .../workspaces/{workspace}/instances/{name}: 202 with no body, as SECA's document
 * says (the instance is going: its boot volume may already be detached, so a body could not
 * be a whole Instance). */
enum MHD_Result
sov_seca_compute_instances_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    sov_op op;
    long long version;

    if (instance_find(req, &x, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (version_check(req, &x, &version, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    if (sov_instance_delete(&req->ctx, sov_seca_tenant_id(req), x.id, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    return sov_seca_reply_deleted(req, &INSTANCE_T, x.id, sov_seca_tenant_id(req), op.id);
}

/* start, stop, restart: our action, the meta following its operation; 202 with the
 * instance. A power conflict (start a running instance) is SOV_E_CONFLICT: 412. */
static enum MHD_Result
instance_act(sov_request *req, const char *action)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    sov_op op;
    long long version;

    if (instance_find(req, &x, &err) < 0)
        return sov_seca_reply_error(req, &err, false);
    if (version_check(req, &x, &version, &err) < 0 ||
        sov_instance_action(&req->ctx, sov_seca_tenant_id(req), x.id, action, &op, &err) < 0)
        return sov_seca_reply_error(req, &err, true);
    return instance_accepted(req, &x, SOV_SECA_ACTED, op.id, true);
}

enum MHD_Result
sov_seca_compute_instances_start(sov_request *req)
{
    return instance_act(req, "start");
}

enum MHD_Result
sov_seca_compute_instances_stop(sov_request *req)
{
    return instance_act(req, "stop");
}

enum MHD_Result
sov_seca_compute_instances_restart(sov_request *req)
{
    return instance_act(req, "reboot");
}
