/* volume.c: the rules of volumes. As for instances, the API never waits on a host: a
 * create, an action or a delete commits the intent and an operation in one transaction
 * (quota, placement, the row, the residency record, the attachment, the audit entry), and a
 * worker does the rest (storage/volume_ops.c).
 *
 * States: creating -> available <-> attaching -> in-use -> detaching -> available;
 * available or in-use -> extending -> as before; available or error -> deleting -> deleted;
 * error when an operation gave up (with its reason). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/crypto.h"
#include "sov/quota.h"
#include "storage_int.h"

static int
not_found(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "volume '%s' does not exist", id);
}

/* Whether the caller may see v (and, when tenant_id is given, v is that tenant's). */
static bool
visible(const sov_ctx *ctx, const char *tenant_id, const sov_volume *v)
{
    return v->tenant_id[0] && sov_ctx_sees_tenant(ctx, v->tenant_id) &&
           (!tenant_id || strcmp(tenant_id, v->tenant_id) == 0);
}

int
sov_storage_place(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                  const char *resource_type, const char *resource_id, long long size_gib,
                  const char *region, const char *zone, const char *pin_host_id,
                  const char *operation_id, sov_volume *ret, sov_error *err)
{
    return sov_storage_place_noted(c, ctx, tenant_id, resource_type, resource_id, size_gib,
                                   region, zone, pin_host_id, operation_id, NULL, ret, err);
}

int
sov_storage_place_noted(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                        const char *resource_type, const char *resource_id,
                        long long size_gib, const char *region, const char *zone,
                        const char *pin_host_id, const char *operation_id, const char *note,
                        sov_volume *ret, sov_error *err)
{
    sov_autoptr(sov_placement) p = sov_placement_new();
    /* Disk only: a volume takes room in the host's pool, no CPU nor memory. */
    sov_place_request r = {
        .tenant_id = tenant_id, .disk_gib = size_gib, .region = region, .zone = zone,
        .pin_host_id = pin_host_id && *pin_host_id ? pin_host_id : NULL,
        .resource_type = resource_type, .resource_id = resource_id,
        .operation_id = operation_id, .note = note && *note ? note : NULL,
    };

    if (!p)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (sov_placement_claim(c, ctx, &r, p, err) < 0)
        return -1;
    snprintf(ret->region, sizeof(ret->region), "%s", p->region);
    snprintf(ret->zone, sizeof(ret->zone), "%s", p->zone);
    snprintf(ret->host_id, sizeof(ret->host_id), "%s", p->host_id);
    snprintf(ret->host_name, sizeof(ret->host_name), "%s", p->host_name);
    snprintf(ret->allocation_id, sizeof(ret->allocation_id), "%s", p->allocation_id);
    ret->residency = p->location;
    return 0;
}

/* ---- create ---- */

typedef struct create_args {
    sov_ctx *ctx;
    const sov_volume_create_args *a;
    sov_volume *v;
    sov_op *op;
} create_args;

/* The instance a create names as its hint: the volume goes to its host. */
static int
hint_host(sov_dbconn *c, const char *tenant, const char *workspace, const char *hint,
          char *ret, size_t size, sov_error *err)
{
    sov_volume_instance inst;

    if (sov_repo_volume_instance(c, tenant, workspace, hint, false, &inst, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            return sov_error_invalid(err, "instance_hint", "instance '%s' does not exist",
                                     hint);
        return -1;
    }
    if (!inst.host_id[0])
        return sov_error_invalid(err, "instance_hint", "instance '%s' has no host (it is %s)",
                                 inst.name, inst.state);
    snprintf(ret, size, "%s", inst.host_id);
    return 0;
}

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    create_args *ca = arg;
    const sov_volume_create_args *a = ca->a;
    sov_volume *v = ca->v;
    const char *type = a->type;
    sov_volume_type t;
    sov_volume_source src;
    sov_wrapped_key key;
    char pin[SOV_UUID_LEN + 1] = "", note[160];
    const char *region = a->region;
    int rc;

    if (sov_workspace_check(c, v->tenant_id, v->workspace, err) < 0)
        return -1;
    memset(&src, 0, sizeof(src));
    if (a->source_type && sov_volume_source_resolve(c, v->tenant_id, v->workspace,
                                                    a->source_type, a->source, &src, err) < 0)
        return -1;
    /* No type named: a copy of a volume or snapshot keeps its type, anything else takes the
     * configured default. */
    if (!type)
        type = src.type_id[0] ? src.type_id : ca->ctx->cfg->default_volume_type;
    if (!type || !*type)
        return sov_error_invalid(err, "type", "type is required (no default volume type is "
                                 "configured)");
    if (sov_repo_volume_type_get(c, type, &t, err) < 0) {
        if (err->code != SOV_E_NOT_FOUND)
            return -1;
        return sov_error_invalid(err, "type", "volume type '%s' does not exist", type);
    }
    snprintf(v->type_id, sizeof(v->type_id), "%s", t.id);
    snprintf(v->type_name, sizeof(v->type_name), "%s", t.name);
    v->encrypted = t.encrypted;
    v->size_gib = a->size_gib;
    if (a->source_type) {
        if (v->size_gib == 0)
            v->size_gib = src.size_gib;
        if (v->size_gib < src.size_gib)
            return sov_error_invalid(err, "size_gib", "size_gib must be at least %lld: the "
                                     "size of the %s it is made from", src.size_gib, src.type);
        snprintf(v->source_type, sizeof(v->source_type), "%s", src.type);
        snprintf(v->source_id, sizeof(v->source_id), "%s", src.id);
        snprintf(pin, sizeof(pin), "%s", src.host_id);
        if (src.region[0]) {
            if (region && strcmp(region, src.region) != 0)
                return sov_error_invalid(err, "region", "the %s is in region '%s': create the "
                                         "volume there", src.type, src.region);
            region = src.region;
        }
    }
    if (v->size_gib < 1)
        return sov_error_invalid(err, "size_gib", "size_gib must be from 1 to %d",
                                 SOV_VOLUME_GIB_MAX);
    if (a->instance_hint) {
        char hinted[SOV_UUID_LEN + 1];
        if (hint_host(c, v->tenant_id, v->workspace, a->instance_hint, hinted, sizeof(hinted),
                      err) < 0)
            return -1;
        if (pin[0] && strcmp(pin, hinted) != 0)
            return sov_error_invalid(err, "instance_hint", "instance '%s' is on another host "
                                     "than the %s the volume is made from", a->instance_hint,
                                     src.type);
        snprintf(pin, sizeof(pin), "%s", hinted);
    }
    /* Over quota is 403 before any placement answer (placement would say 409 first). */
    if (sov_quota_check_resource(c, v->tenant_id, "volume", v, err) < 0)
        return -1;
    if (sov_op_enqueue(c, ca->ctx, v->tenant_id, "volume.create", "volume", v->id, "", ca->op,
                       err) < 0)
        return -1;
    snprintf(v->operation_id, sizeof(v->operation_id), "%s", ca->op->id);
    /* Each encrypted volume has its own data key, stored only wrapped by the tenant's KEK;
     * a destroyed KEK refuses here (409), before anything is written. The "placed" record
     * says where the key lives. */
    memset(&key, 0, sizeof(key));
    note[0] = '\0';
    if (v->encrypted) {
        if (sov_keystore_new_key(c, ca->ctx->cfg, v->tenant_id, &key, err) < 0)
            return -1;
        snprintf(v->key_region, sizeof(v->key_region), "%s", key.region);
        snprintf(v->key_country, sizeof(v->key_country), "%s", key.country);
        sov_storage_key_note(key.region, key.country, note, sizeof(note));
    }
    if (sov_storage_place_noted(c, ca->ctx, v->tenant_id, "volume", v->id, v->size_gib, region,
                                a->zone, pin, ca->op->id, note, v, err) < 0) {
        explicit_bzero(&key, sizeof(key));
        return -1;
    }
    rc = sov_repo_volume_insert(c, v, v->allocation_id, v->encrypted ? &key : NULL, err);
    explicit_bzero(&key, sizeof(key));
    /* The quota rows last, just before the audit head, as an instance create takes them. */
    if (rc < 0 || sov_quota_charge_resource(c, v->tenant_id, "volume", v, err) < 0 ||
        sov_audit_append(c, ca->ctx, v->tenant_id, "volume", v->id, SOV_OUTCOME_ACCEPTED,
                         err) < 0)
        return -1;
    return sov_repo_volume_get(c, v->tenant_id, v->id, false, v, err);
}

int
sov_volume_create(sov_ctx *ctx, const char *tenant_id, const sov_volume_create_args *a,
                  sov_volume *ret, sov_op *op, sov_error *err)
{
    create_args ca = { ctx, a, ret, op };

    memset(ret, 0, sizeof(*ret));
    if (sov_ctx_create_scope(ctx, tenant_id, a->workspace, a->name, "a volume",
                             ret->tenant_id, ret->workspace, err) < 0)
        return -1;
    if (a->size_gib < 0 || a->size_gib > SOV_VOLUME_GIB_MAX ||
        (a->size_gib == 0 && !a->source_type))
        return sov_error_invalid(err, "size_gib", "size_gib must be from 1 to %d",
                                 SOV_VOLUME_GIB_MAX);
    if (a->type && !*a->type)
        return sov_error_invalid(err, "type", "type is a volume type's name or id");
    if (a->region && sov_check_slug("region", a->region, err) < 0)
        return -1;
    if (a->zone && sov_check_slug("zone", a->zone, err) < 0)
        return -1;
    if (a->source_type && strcmp(a->source_type, "image") != 0 &&
        strcmp(a->source_type, "snapshot") != 0 && strcmp(a->source_type, "volume") != 0)
        return sov_error_invalid(err, "source", "a source is an image, a snapshot or a volume");
    if (a->source_type && (!a->source || !*a->source))
        return sov_error_invalid(err, "source", "the source's id or name is required");
    if (a->instance_hint && !*a->instance_hint)
        return sov_error_invalid(err, "instance_hint", "instance_hint is an instance's name "
                                 "or id");
    snprintf(ret->name, sizeof(ret->name), "%s", a->name);
    if (sov_uuid_v4(ret->id, err) < 0)
        return -1;
    snprintf(ret->pool, sizeof(ret->pool), "%s", ctx->cfg->storage_pool);
    snprintf(ret->volume, sizeof(ret->volume), "sov-vol-%s", ret->id);
    return sov_ctx_tx(ctx, create_tx, &ca, err);
}

int
sov_volume_create_on(sov_dbconn *c, sov_ctx *ctx, const sov_volume_create_args *a,
                     sov_volume *v, sov_op *op, sov_error *err)
{
    create_args ca = { ctx, a, v, op };
    const struct sov_op *outer = ctx->op_queued;
    int rc;

    snprintf(v->pool, sizeof(v->pool), "%s", ctx->cfg->storage_pool);
    snprintf(v->volume, sizeof(v->volume), "sov-vol-%s", v->id);
    rc = create_tx(c, &ca, err);
    /* The operation the caller's transaction queued stays the one its commit logs: op is
     * the caller's, and may be gone by then (a local of a hook). */
    ctx->op_queued = outer;
    return rc;
}

/* ---- reads ---- */

int
sov_volume_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_volume *ret,
               sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_volume_get(c, NULL, id, false, ret, err) < 0)
        return -1;
    /* Another tenant's volume does not exist for this caller. */
    if (!visible(ctx, tenant_id, ret))
        return not_found(id, err);
    return 0;
}

int
sov_instance_volumes(sov_ctx *ctx, const char *tenant_id, const char *instance_id,
                     sov_volume **ret, size_t *n, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    sov_autofree sov_volume *all = NULL;
    size_t count = 0, kept = 0;

    if (!sov_uuid_valid(instance_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist",
                             instance_id);
    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_volume_of_instance(c, instance_id, &all, &count, err) < 0)
        return -1;
    /* An attached volume is its instance's tenant's; the check costs nothing and keeps a
     * caller from ever seeing another tenant's volume through an instance. */
    for (size_t i = 0; i < count; i++)
        if (visible(ctx, tenant_id, &all[i])) {
            if (kept != i)
                all[kept] = all[i];
            kept++;
        }
    *n = kept;
    *ret = SOV_TAKE_PTR(all);
    return 0;
}

/* sov_ctx_resolve's lookup of a volume by name. */
static int
find_id(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *name,
        char *ret, sov_error *err)
{
    sov_volume v;

    if (sov_repo_volume_find(c, tenant_id, workspace, name, &v, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", v.id);
    return 0;
}

int
sov_volume_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                   const char *id_or_name, char *ret, sov_error *err)
{
    return sov_ctx_resolve(ctx, tenant_id, workspace, id_or_name, find_id, ret, err);
}

int
sov_volume_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                const char *state, const char *instance_id, const char *after,
                unsigned limit, sov_volume_page *ret, sov_error *err)
{
    static const char *const states[] = { "creating", "available", "attaching", "in-use",
                                          "detaching", "extending", "deleting", "deleted",
                                          "error", NULL };
    sov_autoptr(sov_dbconn) c = NULL;
    const char *tenant = NULL;
    char inst[SOV_UUID_LEN + 1];
    bool known = !state;

    /* Operators list every tenant's unless they name one. */
    if ((tenant_id || !sov_ctx_is_operator(ctx)) && sov_ctx_tenant(ctx, tenant_id, &tenant, err) < 0)
        return -1;
    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    for (size_t i = 0; state && states[i]; i++)
        known = known || strcmp(state, states[i]) == 0;
    if (!known)
        return sov_error_invalid(err, "state", "state must be creating, available, attaching, "
                                 "in-use, detaching, extending, deleting, deleted or error");
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    if (instance_id) {
        sov_volume_instance x;
        if (sov_repo_volume_instance(c, tenant, workspace, instance_id, false, &x, err) < 0 ||
            !sov_ctx_sees_tenant(ctx, x.tenant_id)) {
            if (err->code != SOV_E_NOT_FOUND && err->code != SOV_OK)
                return -1;
            return sov_error_invalid(err, "instance", "instance '%s' does not exist",
                                     instance_id);
        }
        snprintf(inst, sizeof(inst), "%s", x.id);
        instance_id = inst;
    }
    return sov_repo_volume_list(c, tenant, workspace, state, instance_id, after,
                                limit ? limit : 100, ret, err);
}

/* ---- delete ---- */

typedef struct act_args {
    sov_ctx *ctx;
    const char *tenant_id, *id;
    const sov_volume_action_args *a;
    sov_op *op;
    char pending[SOV_UUID_LEN + 1];     /* a delete already under way: its operation */
    char host_id[SOV_UUID_LEN + 1];     /* move: the host an operator named; "" none */
} act_args;

/* Lock the volume and make sure the caller sees it. */
static int
lock_visible(sov_dbconn *c, act_args *a, sov_volume *v, sov_error *err)
{
    if (sov_repo_volume_get(c, NULL, a->id, true, v, err) < 0)
        return -1;
    if (!visible(a->ctx, a->tenant_id, v))
        return not_found(a->id, err);
    return 0;
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    sov_volume v;
    char what[128];

    if (lock_visible(c, a, &v, err) < 0)
        return -1;
    /* Deleting twice: what is gone is 404, what is going answers the same 202. */
    if (strcmp(v.state, "deleted") == 0)
        return not_found(a->id, err);
    if (strcmp(v.state, "deleting") == 0 && v.operation_id[0]) {
        snprintf(a->pending, sizeof(a->pending), "%s", v.operation_id);
        return 0;
    }
    if (v.attachment.instance_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is attached to instance '%s': "
                             "detach it first", v.name, v.attachment.instance_name);
    if (strcmp(v.state, "available") != 0 && strcmp(v.state, "error") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot delete volume '%s': it is %s; try "
                             "again when it is done", v.name, v.state);
    snprintf(what, sizeof(what), "volume '%s'", v.name);
    if (sov_repo_volume_snapshot_blockers(c, v.id, what, err) < 0 ||
        sov_repo_volume_imaging(c, v.id, what, err) < 0 ||
        sov_repo_volume_moving(c, v.id, what, err) < 0)
        return -1;
    if (sov_op_enqueue(c, a->ctx, v.tenant_id, "volume.delete", "volume", v.id, "", a->op,
                       err) < 0 ||
        sov_repo_volume_set_state(c, v.id, NULL, "deleting", "", a->op->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, v.tenant_id, "volume", v.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_volume_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                  sov_error *err)
{
    act_args a = { ctx, tenant_id, id, NULL, op, "", "" };

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (sov_ctx_tx(ctx, delete_tx, &a, err) < 0)
        return -1;
    return a.pending[0] ? sov_op_get(ctx, a.pending, op, err) : 0;
}

/* ---- actions ---- */

/* A volume that moves with its migrating instance is left alone until the move ends (the
 * migration's request locked it and checked it settled; its file is being copied). */
static int
moving(sov_dbconn *c, const sov_volume *v, sov_error *err)
{
    char what[96];

    snprintf(what, sizeof(what), "volume '%s'", v->name);
    return sov_repo_volume_moving(c, v->id, what, err);
}

static int
attach_tx(sov_dbconn *c, act_args *a, sov_volume *v, sov_error *err)
{
    static const char *const from[] = { "available", NULL };
    sov_volume_instance x;
    char dev[8];

    /* The instance is looked for in the volume's tenant: another tenant's does not exist. */
    if (sov_repo_volume_instance(c, v->tenant_id, v->workspace, a->a->instance, true, &x,
                                 err) < 0)
        return -1;
    if (strcmp(v->state, "available") != 0) {
        if (v->attachment.instance_id[0])
            return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is %s: attached to instance "
                                 "'%s'", v->name, v->state, v->attachment.instance_name);
        return sov_error_set(err, SOV_E_CONFLICT, "cannot attach volume '%s': it is %s",
                             v->name, v->state);
    }
    if (moving(c, v, err) < 0)
        return -1;
    if (strcmp(x.state, "running") != 0 && strcmp(x.state, "stopped") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot attach volume '%s' to instance '%s': "
                             "the instance is %s (running or stopped needed)", v->name, x.name,
                             x.state);
    /* Storage is host-local: a disk is a file of the instance's own host. */
    if (strcmp(v->host_id, x.host_id) != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is on host '%s' and instance "
                             "'%s' is on host '%s': a volume attaches only to an instance on "
                             "its own host", v->name, v->host_name, x.name,
                             x.host_name[0] ? x.host_name : "(none)");
    if (v->encrypted && sov_keystore_check(c, v->tenant_id, err) < 0) {
        char why[sizeof(err->msg)];

        snprintf(why, sizeof(why), "%s", err->msg);
        return sov_error_set(err, err->code, "cannot attach encrypted volume '%s': %s", v->name,
                             why);
    }
    if (sov_repo_attachment_insert(c, v->id, x.id, false, dev, sizeof(dev), err) < 0 ||
        sov_op_enqueue(c, a->ctx, v->tenant_id, "volume.attach", "volume", v->id, "", a->op,
                       err) < 0)
        return -1;
    return sov_repo_volume_set_state(c, v->id, from, "attaching", "", a->op->id, err);
}

static int
detach_tx(sov_dbconn *c, act_args *a, sov_volume *v, sov_error *err)
{
    static const char *const from[] = { "in-use", NULL };
    char arg[16];

    if (!v->attachment.instance_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is not attached", v->name);
    if (a->a->instance) {
        sov_volume_instance x;
        if (sov_repo_volume_instance(c, v->tenant_id, v->workspace, a->a->instance, false, &x,
                                     err) < 0)
            return -1;
        if (strcmp(x.id, v->attachment.instance_id) != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is not attached to "
                                 "instance '%s' (it is attached to '%s')", v->name, x.name,
                                 v->attachment.instance_name);
    }
    if (v->attachment.boot)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is the boot disk of instance "
                             "'%s': it leaves with the instance", v->name,
                             v->attachment.instance_name);
    if (strcmp(v->state, "in-use") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot detach volume '%s': it is %s",
                             v->name, v->state);
    if (moving(c, v, err) < 0)
        return -1;
    snprintf(arg, sizeof(arg), "%s", a->a->force ? "force" : "");
    if (sov_op_enqueue(c, a->ctx, v->tenant_id, "volume.detach", "volume", v->id, arg, a->op,
                       err) < 0)
        return -1;
    return sov_repo_volume_set_state(c, v->id, from, "detaching", "", a->op->id, err);
}

static int
extend_tx(sov_dbconn *c, act_args *a, sov_volume *v, sov_error *err)
{
    static const char *const from[] = { "available", "in-use", NULL };
    long long size = a->a->size_gib;
    char arg[64];

    if (size <= v->size_gib)
        return sov_error_invalid(err, "size_gib", "size_gib must be larger than the volume's "
                                 "%lld GiB: volumes grow, never shrink", v->size_gib);
    if (strcmp(v->state, "available") != 0 && strcmp(v->state, "in-use") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot extend volume '%s': it is %s",
                             v->name, v->state);
    if (moving(c, v, err) < 0)
        return -1;
    /* The host's room first (its row before the quota rows, the order a create takes
     * them in): a volume grows in its host's pool. */
    if (v->allocation_id[0]) {
        bool room;
        if (sov_placement_grow(c, v->allocation_id, size - v->size_gib, &room, err) < 0)
            return -1;
        if (!room)
            return sov_error_set(err, SOV_E_CAPACITY, "host '%s' has no room to grow volume "
                                 "'%s' by %lld GiB", v->host_name, v->name,
                                 size - v->size_gib);
    }
    if (sov_quota_charge(c, v->tenant_id, SOV_QUOTA_STORAGE_GIB, size - v->size_gib, err) < 0)
        return -1;
    /* The arg keeps what to go back to if the extend fails: the size and the state. */
    snprintf(arg, sizeof(arg), "%lld %s", v->size_gib, v->state);
    if (sov_op_enqueue(c, a->ctx, v->tenant_id, "volume.extend", "volume", v->id, arg, a->op,
                       err) < 0 ||
        sov_repo_volume_set_size(c, v->id, size, err) < 0)
        return -1;
    return sov_repo_volume_set_state(c, v->id, from, "extending", "", a->op->id, err);
}

/* The move itself is volume_move.c's; the action returns once it is queued. */
static int
move_tx(sov_dbconn *c, act_args *a, sov_volume *v, sov_error *err)
{
    sov_autoptr(sov_placement) p = sov_placement_new();

    if (!p)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    return sov_volume_move_tx(c, a->ctx, v, a->a->zone, a->a->region, a->host_id, a->op, p,
                              err);
}

static int
action_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    act_args *a = arg;
    const char *what = a->a->action;
    sov_volume v;
    int rc;

    if (lock_visible(c, a, &v, err) < 0)
        return -1;
    if (strcmp(v.state, "deleted") == 0)
        return not_found(a->id, err);
    /* An image being copied from its file: no guest writes it, no growth moves it meanwhile. */
    if (strcmp(what, "detach") != 0) {
        char name[96];
        snprintf(name, sizeof(name), "volume '%s'", v.name);
        if (sov_repo_volume_imaging(c, v.id, name, err) < 0)
            return -1;
    }
    if (strcmp(what, "attach") == 0)
        rc = attach_tx(c, a, &v, err);
    else if (strcmp(what, "detach") == 0)
        rc = detach_tx(c, a, &v, err);
    else if (strcmp(what, "move") == 0)
        rc = move_tx(c, a, &v, err);
    else
        rc = extend_tx(c, a, &v, err);
    if (rc < 0)
        return -1;
    return sov_audit_append(c, a->ctx, v.tenant_id, "volume", v.id, SOV_OUTCOME_ACCEPTED, err);
}

int
sov_volume_action(sov_ctx *ctx, const char *tenant_id, const char *id,
                  const sov_volume_action_args *a, sov_op *op, sov_error *err)
{
    act_args aa = { ctx, tenant_id, id, a, op, "", "" };
    const char *what = a->action;

    if (!what || (strcmp(what, "attach") != 0 && strcmp(what, "detach") != 0 &&
                  strcmp(what, "extend") != 0 && strcmp(what, "move") != 0))
        return sov_error_invalid(err, "action", "action must be attach, detach, extend or "
                                 "move");
    if (strcmp(what, "move") != 0 && (a->zone || a->region || a->host))
        return sov_error_invalid(err, a->zone ? "zone" : a->region ? "region" : "host",
                                 "zone, region and host are for move only");
    if (a->zone && sov_check_slug("zone", a->zone, err) < 0)
        return -1;
    if (a->region && sov_check_slug("region", a->region, err) < 0)
        return -1;
    if (a->host) {
        /* Hosts are the operators' business: a tenant narrows by zone or region. */
        if (!sov_ctx_is_operator(ctx))
            return sov_error_set(err, SOV_E_FORBIDDEN, "only operators name a host: ask "
                                 "for a zone or a region");
        if (!*a->host || sov_host_resolve(ctx, a->host, aa.host_id, err) < 0) {
            if (err->code != SOV_OK && err->code != SOV_E_NOT_FOUND)
                return -1;
            return sov_error_invalid(err, "host", "host '%s' does not exist", a->host);
        }
    }
    if (strcmp(what, "attach") == 0 && (!a->instance || !*a->instance))
        return sov_error_invalid(err, "instance", "attach needs the instance's name or id");
    if (strcmp(what, "attach") != 0 && strcmp(what, "detach") != 0 && a->instance)
        return sov_error_invalid(err, "instance", "instance is for attach and detach only");
    if (strcmp(what, "detach") != 0 && a->force)
        return sov_error_invalid(err, "force", "force is for detach only");
    if (strcmp(what, "extend") == 0 && (a->size_gib < 1 || a->size_gib > SOV_VOLUME_GIB_MAX))
        return sov_error_invalid(err, "size_gib", "extend needs size_gib, from 1 to %d",
                                 SOV_VOLUME_GIB_MAX);
    if (strcmp(what, "extend") != 0 && a->size_gib != 0)
        return sov_error_invalid(err, "size_gib", "size_gib is for extend only");
    if (!sov_uuid_valid(id))
        return not_found(id, err);
    return sov_ctx_tx(ctx, action_tx, &aa, err);
}
