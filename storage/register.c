/* register.c: storage/'s one registration (include/sov/storage.h): the operation kinds of
 * volumes, what a volume counts against its tenant's quotas, each attached volume's disk in
 * its instance's domain, and the reconciler's pass over the hosts' pools. */
#include "sov/quota.h"
#include "sov/registry.h"
#include "storage_int.h"

/* What one volume counts (a sov_volume). */
static long long
count_one(const void *v)
{
    (void) v;
    return 1;
}

static long long
count_gib(const void *v)
{
    return ((const sov_volume *) v)->size_gib;
}

int
sov_storage_register(sov_error *err)
{
    static const sov_quota_use uses[] = {
        { "volume", SOV_QUOTA_VOLUMES, count_one, false },
        { "volume", SOV_QUOTA_STORAGE_GIB, count_gib, false },
    };
    static const sov_op_kind kinds[] = {
        { "volume.create", sov_volume_create_op, 600, sov_volume_op_failed },
        { "volume.attach", sov_volume_attach_op, 120, sov_volume_op_failed },
        /* A detach waits up to volume_detach_timeout_s for the guest, then may power-cycle. */
        { "volume.detach", sov_volume_detach_op, 600, sov_volume_op_failed },
        { "volume.extend", sov_volume_extend_op, 300, sov_volume_op_failed },
        { "volume.delete", sov_volume_delete_op, 300, sov_volume_op_failed },
        /* A move to another host: the file sent, then the row (volume_move.c). */
        { "volume.move", sov_volume_move_op, 1800, sov_volume_move_failed },
        /* An image from a volume: the volume's file read into the image store. */
        { "image.from-volume", sov_volume_image_op, 1800, sov_image_op_failed },
        { NULL, NULL, 0, NULL },
    };

    if (sov_registry_add_quota_uses(uses, SOV_N_ELEMENTS(uses), err) < 0 ||
        sov_registry_add_op_kinds(kinds, err) < 0 ||
        sov_domain_contrib_add("volumes", sov_volume_contrib, err) < 0)
        return -1;
    if (sov_snapshot_register(err) < 0)
        return -1;
    if (sov_instance_hook_register(err) < 0)
        return -1;
    return sov_registry_add_reconcile_pass("volumes", sov_volumes_reconcile, err);
}
