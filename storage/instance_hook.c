/* instance_hook.c: instances and volumes. An instance create may boot from an existing
 * volume (boot_volume), from a new volume made from an image (boot: {image, size_gib,
 * type}), and attach existing volumes (volumes); compute/ knows none of it and runs this
 * hook (sov_instance_hook, include/sov/compute.h) inside the create's transaction:
 *
 *   prepare: every named volume is the tenant's, in the workspace (another tenant's, or none
 *            of that name: 400 naming the field, as an unknown image is), available and not
 *            attached (409), and all on one host (409 naming each host): the instance is
 *            pinned to that host. A boot volume makes the image optional; a new boot volume's
 *            image decides the region. With follow_zone (SECA) the volumes outside that zone
 *            are moved into it first ("volume.move" queued here, see follow_zone below) and
 *            the instance is pinned to their target host; its build waits for the moves.
 *   commit:  the attachments (the boot volume as vda, boot = true; the others vdc, vdd, ...
 *            in the order given) and the volumes in-use at once: the domain the create's
 *            worker defines holds them (storage's domain contributor), and a create that
 *            fails leaves them attached to an instance in error, whose delete gives them
 *            back. A new boot volume is made here too: its row (creating, created_by_instance,
 *            placed on the instance's host) and its "volume.create" from the image, which
 *            leaves it in-use (it is attached); the instance's build waits for it meanwhile
 *            (storage's domain contributor, volume_ops.c, answers SOV_OP_LATER for a volume
 *            still creating, and adds every attached volume at its device: the boot one as
 *            vda, which the build puts first).
 *   deleted: in the transaction where the instance's delete marks it deleted: attachments
 *            removed, volumes available again, and a boot volume the create made queued for
 *            deletion ("volume.delete"); every other volume is kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "sov/crypto.h"
#include "storage_int.h"

#define HOOK_VOLUMES_MAX 16

/* What prepare found, for commit. */
typedef struct hook_state {
    sov_volume boot;                        /* boot_volume: the existing volume */
    bool has_boot;
    sov_volume vols[HOOK_VOLUMES_MAX];      /* volumes, in the order given */
    size_t nvols;
    char new_boot_id[SOV_UUID_LEN + 1];     /* boot {image}: the id its volume will have */
} hook_state;

/* A volume the create names: the tenant's, in the workspace, locked, usable. */
static int
usable(sov_dbconn *c, const char *tenant_id, const char *workspace, const char *field,
       const char *id_or_name, sov_volume *ret, sov_error *err)
{
    sov_volume found;

    if (!id_or_name || !*id_or_name)
        return sov_error_invalid(err, field, "%s must be a volume's name or id", field);
    if (sov_repo_volume_find(c, tenant_id, workspace, id_or_name, &found, err) < 0 ||
        sov_repo_volume_get(c, tenant_id, found.id, true, ret, err) < 0) {
        /* As an unknown image is: the request names something that is not there. */
        if (err->code == SOV_E_NOT_FOUND)
            return sov_error_invalid(err, field, "volume '%s' does not exist", id_or_name);
        return -1;
    }
    if (strcmp(ret->state, "deleted") == 0)
        return sov_error_invalid(err, field, "volume '%s' does not exist", id_or_name);
    if (ret->attachment.instance_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is attached to instance '%s': "
                             "detach it first", ret->name, ret->attachment.instance_name);
    if (strcmp(ret->state, "available") != 0)
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' is %s, not available",
                             ret->name, ret->state);
    if (!ret->host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "volume '%s' has no host", ret->name);
    {
        char what[96];
        snprintf(what, sizeof(what), "volume '%s'", ret->name);
        return sov_repo_volume_moving(c, ret->id, what, err);
    }
}

/* follow_zone (SECA): every volume outside the zone is moved into it, all to one host (the
 * host of a volume already there, else the first move's target), in this transaction: the
 * instance is pinned there and its build waits for the moves (the domain contributor). A
 * move that cannot happen refuses the create, naming the volume's field. */
static int
follow_zone(sov_dbconn *c, sov_ctx *ctx, const char *zone, hook_state *s, sov_error *err)
{
    sov_volume *all[HOOK_VOLUMES_MAX + 1];
    const char *fields[HOOK_VOLUMES_MAX + 1];
    const struct sov_op *outer = ctx->op_queued;
    char target[SOV_UUID_LEN + 1] = "";
    size_t n = 0;
    int rc = 0;

    if (s->has_boot) {
        fields[n] = "boot_volume";
        all[n++] = &s->boot;
    }
    for (size_t i = 0; i < s->nvols; i++) {
        fields[n] = "volumes";
        all[n++] = &s->vols[i];
    }
    for (size_t i = 0; i < n && !target[0]; i++)
        if (strcmp(all[i]->zone, zone) == 0)
            snprintf(target, sizeof(target), "%s", all[i]->host_id);
    for (size_t i = 0; i < n && rc == 0; i++) {
        sov_volume *v = all[i];
        sov_autoptr(sov_placement) p = sov_placement_new();
        sov_op op;

        if (target[0] && strcmp(v->host_id, target) == 0)
            continue;
        if (!p) {
            rc = sov_error_set(err, SOV_E_INTERNAL, "out of memory");
            break;
        }
        rc = sov_volume_move_tx(c, ctx, v, zone, NULL, target[0] ? target : NULL, &op, p,
                                err);
        if (rc < 0) {
            char why[sizeof(err->msg)];
            snprintf(why, sizeof(why), "%s", err->msg);
            sov_error_set(err, err->code, "volume '%s' cannot move to zone '%s': %s", v->name,
                          zone, why);
            /* A zone that does not exist is the zone's fault; anything else the volume's. */
            if (err->code != SOV_E_INVALID || !err->field[0])
                snprintf(err->field, sizeof(err->field), "%s", fields[i]);
            break;
        }
        /* The row moves when the move commits; the instance goes where it is going. */
        snprintf(target, sizeof(target), "%s", p->host_id);
        snprintf(v->host_id, sizeof(v->host_id), "%s", p->host_id);
        snprintf(v->host_name, sizeof(v->host_name), "%s", p->host_name);
        snprintf(v->zone, sizeof(v->zone), "%s", p->zone);
    }
    /* The create's own operation stays the one its commit logs. */
    ctx->op_queued = outer;
    return rc;
}

/* Every volume on one host: the instance goes there. */
static int
one_host(const hook_state *s, sov_instance_prep *prep, sov_error *err)
{
    const sov_volume *first = s->has_boot ? &s->boot : s->nvols > 0 ? &s->vols[0] : NULL;
    char list[200];
    size_t n = 0;
    bool split = false;

    if (!first)
        return 0;
    for (size_t i = 0; i < s->nvols; i++)
        if (strcmp(s->vols[i].host_id, first->host_id) != 0)
            split = true;
    if (split) {
        /* Name each volume's host: the tenant moves or re-creates one to fix it. */
        list[0] = '\0';
        if (s->has_boot)
            n += (size_t) snprintf(list, sizeof(list), "'%s' on host '%s'", s->boot.name,
                                   s->boot.host_name);
        for (size_t i = 0; i < s->nvols && n < sizeof(list); i++)
            n += (size_t) snprintf(list + n, sizeof(list) - n, "%s'%s' on host '%s'",
                                   n ? ", " : "", s->vols[i].name, s->vols[i].host_name);
        return sov_error_set(err, SOV_E_CONFLICT, "the volumes are on different hosts (%s): "
                             "an instance and its volumes share one host", list);
    }
    snprintf(prep->pin_host_id, sizeof(prep->pin_host_id), "%s", first->host_id);
    snprintf(prep->pin_reason, sizeof(prep->pin_reason), "volume '%.40s' is on host '%.40s'",
             first->name, first->host_name);
    return 0;
}

/* boot {image, size_gib, type}: the image is whole and fits; the instance goes to its
 * region. The volume itself is made in commit, once the instance has a host. */
static int
prepare_boot_image(sov_dbconn *c, const char *tenant_id, const char *workspace,
                   const sov_instance_storage_args *a, hook_state *s, sov_instance_prep *prep,
                   sov_error *err)
{
    sov_volume_source src;

    if (!*a->boot_image)
        return sov_error_invalid(err, "boot.image", "boot.image must be an image's name or id");
    if (a->boot_size_gib < 0 || a->boot_size_gib > SOV_VOLUME_GIB_MAX)
        return sov_error_invalid(err, "boot.size_gib", "boot.size_gib must be from 1 to %d",
                                 SOV_VOLUME_GIB_MAX);
    if (a->boot_type && !*a->boot_type)
        return sov_error_invalid(err, "boot.type", "boot.type is a volume type's name or id");
    if (sov_volume_source_resolve(c, tenant_id, workspace, "image", a->boot_image, &src,
                                  err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            err->code = SOV_E_INVALID;
        if (err->code == SOV_E_INVALID)
            snprintf(err->field, sizeof(err->field), "boot.image");
        return -1;
    }
    if (a->boot_size_gib > 0 && a->boot_size_gib < src.size_gib)
        return sov_error_invalid(err, "boot.size_gib", "boot.size_gib must be at least %lld: "
                                 "the image's size", src.size_gib);
    if (sov_uuid_v4(s->new_boot_id, err) < 0)
        return -1;
    snprintf(prep->region, sizeof(prep->region), "%s", src.region);
    return 0;
}

static int
prepare(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *workspace,
        const void *ext, sov_instance_prep *prep, sov_error *err)
{
    const sov_instance_storage_args *a = ext;
    hook_state *s;

    if (!a || (!a->boot_volume && !a->boot_image && a->nvolumes == 0))
        return 0;
    if (a->boot_volume && a->boot_image)
        return sov_error_invalid(err, "boot", "give boot_volume (an existing volume) or boot "
                                 "(a new volume from an image), not both");
    if (a->nvolumes > HOOK_VOLUMES_MAX)
        return sov_error_invalid(err, "volumes", "at most %d volumes at create",
                                 HOOK_VOLUMES_MAX);
    if (!(s = calloc(1, sizeof(*s))))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    prep->state = s;
    if (a->boot_volume) {
        if (usable(c, tenant_id, workspace, "boot_volume", a->boot_volume, &s->boot, err) < 0)
            return -1;
        s->has_boot = true;
    }
    for (size_t i = 0; i < a->nvolumes; i++) {
        sov_volume *v = &s->vols[i];
        if (usable(c, tenant_id, workspace, "volumes", a->volumes[i], v, err) < 0)
            return -1;
        if (s->has_boot && strcmp(v->id, s->boot.id) == 0)
            return sov_error_invalid(err, "volumes", "volume '%s' is the boot volume: give it "
                                     "once", v->name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->vols[k].id, v->id) == 0)
                return sov_error_invalid(err, "volumes", "volume '%s' is given twice",
                                         v->name);
        s->nvols = i + 1;
    }
    if (a->follow_zone && *a->follow_zone &&
        follow_zone(c, ctx, a->follow_zone, s, err) < 0)
        return -1;
    if (one_host(s, prep, err) < 0)
        return -1;
    if (a->boot_image && prepare_boot_image(c, tenant_id, workspace, a, s, prep, err) < 0)
        return -1;
    if (s->has_boot || s->new_boot_id[0]) {
        snprintf(prep->boot_volume_id, sizeof(prep->boot_volume_id), "%s",
                 s->has_boot ? s->boot.id : s->new_boot_id);
        prep->image_optional = true;
    }
    return 0;
}

/* The new boot volume's name: "<instance>-boot", within a name's 63 characters. */
static void
boot_name(const char *instance, char *out, size_t size)
{
    int n = (int) strlen(instance);

    if (n > 58)
        n = 58;
    while (n > 0 && instance[n - 1] == '-')
        n--;
    snprintf(out, size, "%.*s-boot", n, instance);
}

/* boot {image}: the volume made from the image on the instance's host, created by it. */
static int
commit_boot_image(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst,
                  const sov_instance_storage_args *a, const hook_state *s, sov_error *err)
{
    char name[SOV_NAME_MAX + 1];
    sov_volume v;
    sov_op op;
    const sov_volume_create_args va = {
        .workspace = inst->workspace, .name = name, .size_gib = a->boot_size_gib,
        .type = a->boot_type, .source_type = "image", .source = a->boot_image,
        .instance_hint = inst->id,
    };

    boot_name(inst->name, name, sizeof(name));
    memset(&v, 0, sizeof(v));
    snprintf(v.id, sizeof(v.id), "%s", s->new_boot_id);
    snprintf(v.tenant_id, sizeof(v.tenant_id), "%s", inst->tenant_id);
    snprintf(v.workspace, sizeof(v.workspace), "%s", inst->workspace);
    snprintf(v.name, sizeof(v.name), "%s", name);
    snprintf(v.created_by_instance, sizeof(v.created_by_instance), "%s", inst->id);
    if (sov_volume_create_on(c, ctx, &va, &v, &op, err) < 0) {
        /* The boot member's own words: its type, size and image. */
        if (err->code == SOV_E_INVALID && strcmp(err->field, "type") == 0)
            snprintf(err->field, sizeof(err->field), "boot.type");
        else if (err->code == SOV_E_INVALID && strcmp(err->field, "size_gib") == 0)
            snprintf(err->field, sizeof(err->field), "boot.size_gib");
        else if (err->code == SOV_E_INVALID && strcmp(err->field, "source") == 0)
            snprintf(err->field, sizeof(err->field), "boot.image");
        return -1;
    }
    return 0;
}

static int
attach(sov_dbconn *c, const char *volume_id, const sov_instance *inst, bool boot,
       sov_error *err)
{
    static const char *const from[] = { "available", NULL };
    char device[8];

    if (sov_repo_attachment_insert(c, volume_id, inst->id, boot, device, sizeof(device),
                                   err) < 0)
        return -1;
    return sov_repo_volume_set_state(c, volume_id, from, "in-use", "", NULL, err);
}

static int
commit(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, const void *ext,
       sov_instance_prep *prep, const sov_op *op, sov_error *err)
{
    const sov_instance_storage_args *a = ext;
    const hook_state *s = prep->state;

    (void) op;
    if (!s)
        return 0;
    if (s->new_boot_id[0]) {
        if (commit_boot_image(c, ctx, inst, a, s, err) < 0 ||
            sov_repo_attachment_insert(c, s->new_boot_id, inst->id, true,
                                       (char[8]) { 0 }, 8, err) < 0)
            return -1;
    }
    if (s->has_boot && attach(c, s->boot.id, inst, true, err) < 0)
        return -1;
    for (size_t i = 0; i < s->nvols; i++)
        if (attach(c, s->vols[i].id, inst, false, err) < 0)
            return -1;
    return 0;
}

static void
release(sov_instance_prep *prep)
{
    free(prep->state);
    prep->state = NULL;
}

/* Give back what the instance held: attachments go, its volumes are available again, and
 * the boot volume its create made is deleted with it. */
static int
deleted(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, const sov_op *op,
        sov_error *err)
{
    sov_autofree sov_volume *vols = NULL;
    size_t n = 0;

    (void) op;
    if (sov_repo_volume_of_instance(c, inst->id, &vols, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const sov_volume *v = &vols[i];
        if (sov_repo_attachment_delete(c, v->id, err) < 0)
            return -1;
        if (strcmp(v->created_by_instance, inst->id) == 0) {
            sov_op del;
            const struct sov_op *outer = ctx->op_queued;
            int rc = sov_op_enqueue(c, ctx, v->tenant_id, "volume.delete", "volume", v->id, "",
                                    &del, err);

            /* del is gone once this returns: the operation a commit logs stays the
             * caller's (as sov_volume_create_on does). */
            ctx->op_queued = outer;
            if (rc < 0 ||
                sov_repo_volume_set_state(c, v->id, NULL, "deleting",
                                          "deleted with the instance that made it", del.id,
                                          err) < 0 ||
                sov_audit_append(c, ctx, v->tenant_id, "volume", v->id, SOV_OUTCOME_ACCEPTED,
                                 err) < 0)
                return -1;
            continue;
        }
        /* Kept: available again, whatever the instance's last attach or detach left. */
        if (strcmp(v->state, "error") != 0 &&
            sov_repo_volume_set_state(c, v->id, NULL, "available", "", NULL, err) < 0)
            return -1;
    }
    return 0;
}

int
sov_instance_hook_register(sov_error *err)
{
    static const sov_instance_hook hook = {
        .name = "storage", .prepare = prepare, .commit = commit, .release = release,
        .deleted = deleted, .migrate_check = sov_storage_migrate_check,
        .migrate = sov_storage_migrate,
    };

    return sov_instance_hook_add(&hook, err);
}
