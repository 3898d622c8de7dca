/* domain_spec.c: an instance's domain, assembled from its parts. Each module contributes its
 * disks and NICs through a step of its own (sov_domain_contrib_add), so network/ and storage/
 * add theirs without editing compute/. Compute's own parts come first, in the order the
 * guest has always seen them: the boot disk (vda; none for an instance that boots from a
 * volume, whose vda storage/ adds and which is moved first), the cloud-init seed (vdb,
 * read-only) and the NIC on the NAT network. A contributor whose part is not ready yet (a
 * boot volume still being made) returns SOV_OP_LATER, and so does the build. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "compute_int.h"
#include "sov/cleanup.h"
#include "sov/log.h"

#define CONTRIBS_MAX 16

typedef struct contrib {
    const char *name;
    sov_domain_contrib_fn fn;
} contrib;

static pthread_mutex_t contribs_lock = PTHREAD_MUTEX_INITIALIZER;
static contrib contribs[CONTRIBS_MAX];
static size_t ncontribs;

/* The qcow2 overlay on the image (instance_ops.c makes it as "sov-<id>-disk"). An instance
 * that boots from a volume has none: storage/ adds that volume as vda. */
static int
boot_disk(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec, sov_error *err)
{
    char volume[96];

    if (inst->boot_volume_id[0])
        return 0;
    snprintf(volume, sizeof(volume), "sov-%s-disk", inst->id);
    return sov_domain_spec_add_disk(spec, &(sov_domain_disk) {
        .pool = ctx->cfg->storage_pool, .volume = volume, .format = "qcow2",
        .cache = "none", .dev = "vda",
    }, err);
}

/* The raw NoCloud seed (instance_ops.c builds it as "sov-<id>-seed"). */
static int
seed_disk(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec, sov_error *err)
{
    char volume[96];

    snprintf(volume, sizeof(volume), "sov-%s-seed", inst->id);
    return sov_domain_spec_add_disk(spec, &(sov_domain_disk) {
        .pool = ctx->cfg->storage_pool, .volume = volume, .format = "raw", .dev = "vdb",
        .readonly = true,
    }, err);
}

/* The host's NAT network, with the MAC derived from the id: instances made before tenant
 * networks (or without OVN) are on it; the others have network/'s ports instead. */
static int
nat_nic(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec, sov_error *err)
{
    if (!inst->nat_nic)
        return 0;
    return sov_domain_spec_add_nic(spec, &(sov_domain_nic) {
        .kind = SOV_NIC_NETWORK, .network = ctx->cfg->nat_network, .mac = inst->mac,
    }, err);
}

static const contrib compute_contribs[] = {
    { "compute.boot-disk", boot_disk },
    { "compute.seed", seed_disk },
    { "compute.nat-nic", nat_nic },
};

int
sov_domain_contrib_add(const char *name, sov_domain_contrib_fn fn, sov_error *err)
{
    int rc = 0;

    pthread_mutex_lock(&contribs_lock);
    if (ncontribs == CONTRIBS_MAX)
        rc = sov_error_set(err, SOV_E_INTERNAL, "too many domain contributors ('%s')", name);
    else
        contribs[ncontribs++] = (contrib) { name, fn };
    pthread_mutex_unlock(&contribs_lock);
    return rc;
}

/* The boot disk (vda) renders first, whoever added it: a boot volume comes from storage/'s
 * contributor, after compute's seed (vdb); the others keep their order. */
static void
boot_disk_first(sov_domain_spec *spec)
{
    for (size_t i = 1; i < spec->ndisks; i++) {
        if (!spec->disks[i].dev || strcmp(spec->disks[i].dev, "vda") != 0)
            continue;
        sov_domain_disk boot = spec->disks[i];
        memmove(&spec->disks[1], &spec->disks[0], i * sizeof(spec->disks[0]));
        spec->disks[0] = boot;
        return;
    }
}

int
sov_domain_spec_build(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec,
                      sov_error *err)
{
    contrib list[CONTRIBS_MAX];
    size_t n;

    for (size_t i = 0; i < SOV_N_ELEMENTS(compute_contribs); i++)
        if (compute_contribs[i].fn(ctx, inst, spec, err) < 0)
            return -1;
    /* A snapshot: contributors run without the lock (they may be slow, or add). */
    pthread_mutex_lock(&contribs_lock);
    n = ncontribs;
    memcpy(list, contribs, n * sizeof(*list));
    pthread_mutex_unlock(&contribs_lock);
    for (size_t i = 0; i < n; i++) {
        int rc = list[i].fn(ctx, inst, spec, err);
        if (rc == SOV_OP_LATER) {
            sov_log_debug("domain contributor '%s': a part is not ready yet", list[i].name);
            return SOV_OP_LATER;
        }
        if (rc < 0) {
            sov_log_debug("domain contributor '%s' failed: %s", list[i].name, err->msg);
            return -1;
        }
    }
    boot_disk_first(spec);
    return 0;
}
