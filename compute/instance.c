/* instance.c: the rules of instances. The API never waits on a hypervisor: creating,
 * acting on and deleting an instance commit the intent and an operation in one transaction
 * (quota, placement, the row, the residency record, the audit entry), and a worker does the
 * rest (compute/instance_ops.c).
 *
 * States: scheduling (placed, not yet built) -> building -> running <-> stopped; any but
 * deleted -> deleting -> deleted; error when an operation gave up (with its reason). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "sov/audit.h"
#include "sov/buf.h"
#include "sov/crypto.h"
#include "sov/quota.h"

#define USER_DATA_MAX (64 * 1024)
#define SSH_KEYS_MAX 32

static int
not_found(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist", id);
}

/* An SSH public key: one line of printable text, the usual key type prefixes. */
int
sov_ssh_key_check(const char *k, sov_error *err)
{
    size_t n = strlen(k);

    if (strstr(k, "PRIVATE KEY") || strncmp(k, "PuTTY-User-Key-File-", 20) == 0)
        return sov_error_invalid(err, "ssh_keys",
                                 "ssh_keys holds a private key: send only the public key "
                                 "(the .pub file), and keep the private key on its machine");
    if (n == 0 || n > SOV_SSH_KEY_MAX)
        return sov_error_invalid(err, "ssh_keys", "an SSH key is 1 to %d characters",
                                 SOV_SSH_KEY_MAX);
    if (strncmp(k, "ssh-", 4) != 0 && strncmp(k, "ecdsa-", 6) != 0 &&
        strncmp(k, "sk-", 3) != 0)
        return sov_error_invalid(err, "ssh_keys",
                                 "ssh_keys must be public keys like 'ssh-ed25519 AAAA...'");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) k[i] < 0x20 || k[i] == 0x7f)
            return sov_error_invalid(err, "ssh_keys",
                                     "an SSH key is one line without control characters");
    return 0;
}

/* 52:54:00 (QEMU's prefix) and three bytes of the instance's id: the same MAC each time the
 * domain is defined, so a redefinition keeps the guest's DHCP lease. */
static void
mac_for(const char *id, char out[18])
{
    char sum[SOV_SHA256_HEX_LEN + 1];

    sov_sha256_hex(id, strlen(id), sum);
    snprintf(out, 18, "52:54:00:%.2s:%.2s:%.2s", sum, sum + 2, sum + 4);
}

/* The checked keys as a text[] literal: a key's comment may hold quotes and backslashes. */
static int
keys_literal(const char *const *keys, size_t n, sov_buf *b, sov_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (sov_ssh_key_check(keys[i], err) < 0)
            return -1;
    sov_buf_pg_array(b, keys, n);
    return b->oom ? sov_error_set(err, SOV_E_INTERNAL, "out of memory") : 0;
}

sov_instance *
sov_instance_new(void)
{
    return calloc(1, sizeof(sov_instance));
}

void
sov_instance_release(sov_instance *x)
{
    sov_placement_free(x->placement);
    x->placement = NULL;
}

void
sov_instance_free(sov_instance *x)
{
    if (!x)
        return;
    sov_instance_release(x);
    free(x);
}

void
sov_instance_page_free(sov_instance_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        sov_instance_free(p->items[i]);
    free(p->items);
    free(p);
}

typedef struct create_args {
    sov_ctx *ctx;
    const sov_instance_create_args *a;
    sov_instance *x;
    const char *user_data;
    const char *keys;
    sov_op *op;
    sov_instance_hooks hooks;   /* the other modules' part (sov_instance_hook) */
} create_args;

static int
charge(sov_dbconn *c, const sov_instance *x, sov_error *err)
{
    /* The kinds compute/ declared for an instance (sov_compute_register), and any other module
     * declared for it. */
    return sov_quota_charge_resource(c, x->tenant_id, "instance", x, err);
}

/* A create as the scheduler sees it: the workspace checked, the other modules' hooks
 * prepared (volumes: a pinned host, a boot volume), the flavor (or, with none, the raw
 * sizes) and the image resolved, the image's rules applied (active, its region, its disk),
 * into r (whose strings point into a, f, img and hooks). The one place a create becomes a
 * placement request: sov_instance_create and sov_instance_dry_run both use it, so a dry run
 * decides what the create would. f and img are filled when a names them. An instance that
 * boots from a volume has no disk of its own on the host (r->disk_gib 0): its volume is
 * counted as a volume. */
static int
place_request(sov_dbconn *c, sov_ctx *ctx, const char *tenant, const char *workspace,
              const sov_instance_create_args *a, const sov_place_sizes *sizes,
              sov_instance_hooks *hooks, sov_place_request *r, sov_flavor *f, sov_image *img,
              sov_error *err)
{
    const sov_instance_prep *prep = &hooks->merged;
    const char *want = a->region;
    long long image_gib;

    memset(r, 0, sizeof(*r));
    if (sov_workspace_check(c, tenant, workspace, err) < 0)
        return -1;
    /* Where the instance will be, for hooks that make something in its region (the default
     * network): the region asked for, else its image's. An image not found is said below,
     * where its checks are. */
    if (!want && a->image) {
        if (sov_repo_image_find(c, tenant, workspace, a->image, img, err) == 0)
            want = img->region;
        else if (err->code == SOV_E_NOT_FOUND)
            sov_error_clear(err);
        else
            return -1;
    }
    if (sov_instance_hooks_prepare(c, ctx, tenant, workspace, a->ext, a->next, want, hooks,
                                   err) < 0)
        return -1;
    if (prep->boot_volume_id[0] && a->image)
        return sov_error_invalid(err, "image", "an instance that boots from a volume takes no "
                                 "image: the volume brings its system");
    if (a->flavor && sov_repo_flavor_get(c, a->flavor, f, err) < 0) {
        snprintf(err->field, sizeof(err->field), "flavor");
        return err->code == SOV_E_NOT_FOUND ? (err->code = SOV_E_INVALID, -1) : -1;
    }
    r->tenant_id = tenant;
    r->vcpus = a->flavor ? f->vcpus : (int) sizes->vcpus;
    r->memory_mib = a->flavor ? f->memory_mib : sizes->memory_mib;
    r->disk_gib = a->flavor ? f->disk_gib : sizes->has_disk_gib ? sizes->disk_gib : 0;
    r->gpus = a->flavor ? f->gpus : sizes->has_gpus ? (int) sizes->gpus : 0;
    r->region = a->region;
    r->zone = a->zone;
    r->country = a->country;
    r->anti_affinity_group = a->anti_affinity_group;
    if (prep->pin_host_id[0])
        r->pin_host_id = prep->pin_host_id;
    if (prep->boot_volume_id[0])
        r->disk_gib = 0;
    if (prep->region[0]) {
        /* A new boot volume is made from an image, which lives in its region. */
        if (a->region && strcmp(a->region, prep->region) != 0)
            return sov_error_invalid(err, "region",
                                     "the boot image is in region '%s': create the instance "
                                     "there", prep->region);
        r->image_region = prep->region;
    }
    if (!a->image)
        return 0;
    if (sov_repo_image_find(c, tenant, workspace, a->image, img, err) < 0) {
        snprintf(err->field, sizeof(err->field), "image");
        return err->code == SOV_E_NOT_FOUND ? (err->code = SOV_E_INVALID, -1) : -1;
    }
    if (strcmp(img->state, "active") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "image '%s' is %s, not active yet",
                             img->name, img->state);
    /* An image lives in its region: instances boot where it is, and data never moves
     * across regions behind the tenant's back. */
    if (a->region && strcmp(a->region, img->region) != 0)
        return sov_error_invalid(err, "region",
                                 "image '%s' is in region '%s': create the instance there, or "
                                 "import the image into '%s'", img->name, img->region,
                                 a->region);
    image_gib = (img->virtual_size_bytes + (1LL << 30) - 1) >> 30;
    if (r->disk_gib < img->min_disk_gib || r->disk_gib < image_gib) {
        if (a->flavor)
            return sov_error_invalid(err, "flavor",
                                     "flavor '%s' has a %lld GiB disk; image '%s' needs %lld "
                                     "GiB", f->name, f->disk_gib, img->name,
                                     img->min_disk_gib > image_gib ? img->min_disk_gib
                                                                   : image_gib);
        return sov_error_invalid(err, "disk_gib", "image '%s' needs %lld GiB of disk",
                                 img->name,
                                 img->min_disk_gib > image_gib ? img->min_disk_gib : image_gib);
    }
    r->image_region = img->region;
    return 0;
}

/* The same sums as charge(), read without locking: over quota is 403 even where no host
 * has room (placement would say 409 first). A dry run asks it too, so it answers what the
 * create would. */
static int
check_quota(sov_dbconn *c, const sov_place_request *r, sov_error *err)
{
    sov_instance x;

    /* The instance as charge() will see it: the sizes are what its quota kinds count. */
    memset(&x, 0, sizeof(x));
    snprintf(x.tenant_id, sizeof(x.tenant_id), "%s", r->tenant_id);
    x.vcpus = r->vcpus;
    x.memory_mib = r->memory_mib;
    x.disk_gib = r->disk_gib;
    x.gpus = r->gpus;
    return sov_quota_check_resource(c, r->tenant_id, "instance", &x, err);
}

/* No host for a request pinned to its volumes' host: the answer says why it was pinned. */
static int
pinned_failure(const sov_instance_prep *prep, sov_error *err)
{
    size_t n = strlen(err->msg);

    if (prep->pin_host_id[0] && prep->pin_reason[0] &&
        (err->code == SOV_E_CAPACITY || err->code == SOV_E_RESIDENCY) &&
        n + 4 < sizeof(err->msg))
        snprintf(err->msg + n, sizeof(err->msg) - n, " (%s)", prep->pin_reason);
    return -1;
}

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *ca = arg;
    sov_instance *x = ca->x;
    const sov_instance_create_args *a = ca->a;
    const sov_instance_prep *prep = &ca->hooks.merged;
    sov_flavor f;
    sov_image img;
    sov_place_request r;

    if (place_request(c, ca->ctx, x->tenant_id, x->workspace, a, NULL, &ca->hooks, &r, &f,
                      &img, err) < 0)
        return -1;
    if (!a->image && !prep->image_optional)
        return sov_error_invalid(err, "image", "image is required (or boot_volume, or boot: "
                                 "an instance that boots from a volume)");
    snprintf(x->flavor_id, sizeof(x->flavor_id), "%s", f.id);
    snprintf(x->image_id, sizeof(x->image_id), "%s", a->image ? img.id : "");
    x->vcpus = f.vcpus;
    x->memory_mib = f.memory_mib;
    x->disk_gib = r.disk_gib;
    x->gpus = f.gpus;
    if (check_quota(c, &r, err) < 0)
        return -1;
    if (sov_op_enqueue(c, ca->ctx, x->tenant_id, "instance.create", "instance", x->id, "",
                       ca->op, err) < 0)
        return -1;
    r.resource_type = "instance";
    r.resource_id = x->id;
    r.operation_id = ca->op->id;
    /* A retried transaction claims again, into the placement of the try before. */
    if (!x->placement && !(x->placement = sov_placement_new()))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_placement_claim(c, ca->ctx, &r, x->placement, err) < 0)
        return pinned_failure(prep, err);
    snprintf(x->region, sizeof(x->region), "%s", x->placement->region);
    snprintf(x->zone, sizeof(x->zone), "%s", x->placement->zone);
    snprintf(x->host_id, sizeof(x->host_id), "%s", x->placement->host_id);
    snprintf(x->operation_id, sizeof(x->operation_id), "%s", ca->op->id);
    /* No module gives it NICs (tenant networks off): the host's NAT network. */
    x->nat_nic = !prep->nics;
    /* The tenant's quota rows last, just before the audit head: every create of a tenant
     * waits on them, so they stay locked for the commit only (charged first, they were held
     * through placement and the inserts: 286 creates/s for one tenant). check_quota() read
     * them before placement, unlocked, for the early answer; this charge decides. The
     * host's row comes before them here and in the delete's release: one order, no
     * deadlock. */
    if (sov_repo_instance_insert(c, x, ca->user_data, ca->keys, err) < 0)
        return -1;
    /* The other modules record their part (attachments, a boot volume to make) once the row
     * they refer to exists; the boot volume is named last, when its row exists too. */
    if (sov_instance_hooks_commit(c, ca->ctx, x, a->ext, a->next, &ca->hooks, ca->op, err) < 0 ||
        (prep->boot_volume_id[0] &&
         sov_repo_instance_set_boot_volume(c, x->id, prep->boot_volume_id, err) < 0))
        return -1;
    if (charge(c, x, err) < 0 ||
        sov_audit_append(c, ca->ctx, x->tenant_id, "instance", x->id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_instance_get(c, x->tenant_id, x->id, false, x, err);
}

int
sov_instance_create(sov_ctx *ctx, const char *tenant_id, const sov_instance_create_args *a,
                    sov_instance *ret, sov_op *op, sov_error *err)
{
    sov_buf keys = SOV_BUF_INIT;
    create_args ca = { ctx, a, ret, a->user_data, NULL, op, { .n = 0 } };
    int rc;

    sov_instance_release(ret);
    memset(ret, 0, sizeof(*ret));
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "an instance",
                             ret->tenant_id, ret->workspace, err) < 0)
        return -1;
    if (!a->flavor || !*a->flavor)
        return sov_error_invalid(err, "flavor", "flavor is required");
    if (a->image && !*a->image)
        return sov_error_invalid(err, "image", "image is an image's name or id");
    if (a->region && sov_check_slug("region", a->region, err) < 0)
        return -1;
    if (a->user_data && strlen(a->user_data) > USER_DATA_MAX)
        return sov_error_invalid(err, "user_data", "user_data is at most %d bytes",
                                 USER_DATA_MAX);
    if (a->nssh_keys > SSH_KEYS_MAX)
        return sov_error_invalid(err, "ssh_keys", "at most %d SSH keys", SSH_KEYS_MAX);
    if (keys_literal(a->ssh_keys, a->nssh_keys, &keys, err) < 0) {
        sov_buf_release(&keys);
        return -1;
    }
    snprintf(ret->name, sizeof(ret->name), "%s", a->name);
    if (sov_uuid_v4(ret->id, err) < 0) {
        sov_buf_release(&keys);
        return -1;
    }
    mac_for(ret->id, ret->mac);
    snprintf(ret->anti_affinity_group, sizeof(ret->anti_affinity_group), "%s",
             a->anti_affinity_group ? a->anti_affinity_group : "");
    ca.keys = keys.data;
    rc = sov_ctx_tx(ctx, create_tx, &ca, err);
    sov_instance_hooks_release(&ca.hooks);
    sov_buf_release(&keys);
    return rc;
}

static int
size_range(const char *name, long long v, long long max, sov_error *err)
{
    if (v < 0 || v > max)
        return sov_error_invalid(err, name, "%s must be from 0 to %lld", name, max);
    return 0;
}

int
sov_place_sizes_check(const char *flavor, const sov_place_sizes *s, sov_error *err)
{
    if (flavor) {
        if (s->has_vcpus || s->has_memory_mib || s->has_disk_gib || s->has_gpus)
            return sov_error_invalid(err, "flavor", "give a flavor or sizes (vcpus, "
                                     "memory_mib, disk_gib, gpus), not both");
        return 0;
    }
    if (!s->has_vcpus)
        return sov_error_invalid(err, "vcpus", "vcpus is required without a flavor");
    if (!s->has_memory_mib)
        return sov_error_invalid(err, "memory_mib", "memory_mib is required without a flavor");
    if (size_range("vcpus", s->vcpus, 1024, err) < 0 ||
        size_range("memory_mib", s->memory_mib, 1LL << 32, err) < 0 ||
        size_range("disk_gib", s->has_disk_gib ? s->disk_gib : 0, 1LL << 30, err) < 0 ||
        size_range("gpus", s->has_gpus ? s->gpus : 0, 64, err) < 0)
        return -1;
    return 0;
}

int
sov_instance_dry_run(sov_ctx *ctx, const char *tenant_id, const sov_instance_create_args *a,
                     const sov_place_sizes *sizes, sov_placement *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL, *workspace = a->workspace ? a->workspace : "default";
    sov_place_request r;
    sov_flavor f;
    sov_image img;
    sov_policy *policy = ret->policy;     /* kept: the placement fills it again */
    SOV_CLEANUP(sov_instance_hooks_release) sov_instance_hooks hooks = { .n = 0 };

    memset(ret, 0, sizeof(*ret));
    ret->policy = policy;
    if (sov_place_sizes_check(a->flavor, sizes, err) < 0 ||
        sov_ctx_tenant(ctx, tenant_id, &tenant, err) < 0 ||
        sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (a->flavor && !*a->flavor)
        return sov_error_invalid(err, "flavor", "flavor is a flavor's name or id");
    if (a->image && !*a->image)
        return sov_error_invalid(err, "image", "image is an image's name or id");
    if (a->region && sov_check_slug("region", a->region, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        place_request(c, ctx, tenant, workspace, a, sizes, &hooks, &r, &f, &img, err) < 0)
        return -1;
    /* A create's body (a flavor) meets the quota first, as the create does; raw sizes ask
     * where such a machine would fit, a capacity question no create asks. */
    if (a->flavor && check_quota(c, &r, err) < 0)
        return -1;
    if (sov_placement_peek(c, ctx, &r, ret, err) < 0)
        return pinned_failure(&hooks.merged, err);
    return 0;
}

int
sov_instance_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_instance *ret,
                 sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_instance_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    /* Another tenant's instance does not exist for this caller. */
    if (!sov_ctx_sees_tenant(ctx, ret->tenant_id) ||
        (tenant_id && strcmp(tenant_id, ret->tenant_id) != 0))
        return not_found(id, err);
    return 0;
}

/* sov_ctx_resolve's lookup of an instance by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    return sov_repo_instance_id_by_name(c, tenant_id, workspace ? workspace : "default", name,
                                        ret, err);
}

int
sov_instance_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                     const char *id_or_name, char *ret, sov_error *err)
{
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

int
sov_instance_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                  const char *region, const char *state, const char *name, const char *after,
                  unsigned limit, sov_instance_page **ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;

    /* Operators list every tenant's unless they name one. */
    if (tenant_id || !sov_ctx_is_operator(ctx)) {
        if (sov_ctx_tenant(ctx, tenant_id, &tenant, err) < 0)
            return -1;
    }
    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    if (state && strcmp(state, "scheduling") != 0 && strcmp(state, "building") != 0 &&
        strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0 &&
        strcmp(state, "migrating") != 0 && strcmp(state, "deleting") != 0 &&
        strcmp(state, "deleted") != 0 && strcmp(state, "error") != 0)
        return sov_error_invalid(err, "state", "state must be scheduling, building, running, "
                                               "stopped, migrating, deleting, deleted or "
                                               "error");
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_instance_list(c, tenant, workspace, region, state, name, after,
                                  limit ? limit : 100, ret, err);
}

typedef struct action_args {
    sov_ctx *ctx;
    const char *tenant_id, *id, *action;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];     /* a delete already under way: its operation */
} action_args;

/* What each action needs the instance to be, and what the API says otherwise. */
static int
allowed(const sov_instance *x, const char *action, sov_error *err)
{
    const char *s = x->state;
    bool ok;

    if (strcmp(action, "start") == 0)
        ok = strcmp(s, "stopped") == 0;
    else if (strcmp(action, "delete") == 0 && strcmp(s, "migrating") == 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot delete instance '%s': it is "
                             "migrating; delete it when its migration has ended", x->name);
    else if (strcmp(action, "delete") == 0)
        ok = strcmp(s, "deleting") != 0 && strcmp(s, "deleted") != 0;
    else
        ok = strcmp(s, "running") == 0;
    if (!ok)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot %s instance '%s': it is %s",
                             action, x->name, s);
    return 0;
}

/* One operation at a time changes an instance, but a delete overtakes the others, and a
 * hard_stop or a delete supersedes a graceful stop still waiting for its guest: a guest that
 * ignores the ACPI button would otherwise hold the instance for stop_timeout. ret_stop: the
 * id of that stop ("" when there is none), superseded once the new operation exists. */
static int
busy(sov_dbconn *c, const sov_instance *x, const char *action, char *ret_stop, size_t size,
     sov_error *err)
{
    sov_op_page ops = { 0 };
    bool del = strcmp(action, "delete") == 0;
    bool supersedes = del || strcmp(action, "hard_stop") == 0;
    int rc = 0;

    ret_stop[0] = '\0';
    if (sov_op_pending(c, x->id, NULL, NULL, &ops, err) < 0)
        return -1;
    for (size_t i = 0; i < ops.n; i++) {
        const sov_op *o = &ops.items[i];
        if (supersedes && strcmp(o->kind, "instance.action") == 0 &&
            strcmp(o->arg, "stop") == 0) {
            snprintf(ret_stop, size, "%s", o->id);
            continue;
        }
        if (!del) {
            rc = sov_error_set(err, SOV_E_CONFLICT,
                               "instance '%s' has an operation in progress (%s); try again "
                               "when it is done", x->name, o->kind);
            break;
        }
    }
    free(ops.items);
    return rc;
}

static int
action_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    action_args *a = arg;
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    bool del = strcmp(a->action, "delete") == 0;
    char stop[SOV_UUID_LEN + 1];

    if (sov_repo_instance_get(c, NULL, a->id, true, &x, err) < 0)
        return -1;
    /* Another tenant's instance, or one outside the tenant asked for, does not exist. */
    if (!sov_ctx_sees_tenant(a->ctx, x.tenant_id) ||
        (a->tenant_id && strcmp(a->tenant_id, x.tenant_id) != 0))
        return not_found(a->id, err);
    /* Deleting twice (README's status table): what is gone is 404, what is going answers
     * the same 202 with the delete already under way. */
    if (del && strcmp(x.state, "deleted") == 0)
        return not_found(a->id, err);
    if (del && strcmp(x.state, "deleting") == 0 && x.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", x.operation_id);
        return 0;
    }
    if (allowed(&x, a->action, err) < 0 || busy(c, &x, a->action, stop, sizeof(stop), err) < 0)
        return -1;
    if (sov_op_enqueue(c, a->ctx, x.tenant_id, del ? "instance.delete" : "instance.action",
                       "instance", x.id, del ? "" : a->action, a->op, err) < 0)
        return -1;
    if (stop[0] && sov_op_supersede(c, stop, a->op->id, a->action, err) < 0)
        return -1;
    if (del && sov_repo_instance_set_state(c, x.id, NULL, "deleting", "", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, x.tenant_id, "instance", x.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_instance_action(sov_ctx *ctx, const char *tenant_id, const char *id, const char *action,
                    sov_op *op, sov_error *err)
{
    action_args a = { ctx, tenant_id, id, action, op, "" };

    if (!action || (strcmp(action, "start") != 0 && strcmp(action, "stop") != 0 &&
                    strcmp(action, "reboot") != 0 && strcmp(action, "hard_stop") != 0))
        return sov_error_invalid(err, "action",
                                 "action must be start, stop, reboot or hard_stop");
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    return sov_ctx_tx(ctx, action_tx, &a, err);
}

int
sov_instance_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                    sov_error *err)
{
    action_args a = { ctx, tenant_id, id, "delete", op, "" };

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_ctx_tx(ctx, action_tx, &a, err) < 0)
        return -1;
    return a.pending[0] ? sov_op_get(ctx, a.pending, op, err) : 0;
}
