/* storage_int.h: what the files of storage/ share, and nothing outside it sees. Each part
 * keeps its own section. */
#ifndef SOV_STORAGE_INT_H
#define SOV_STORAGE_INT_H

#include "sov/compute.h"
#include "sov/repo/db_pq.h"
#include "sov/storage.h"

/* ---- volumes (volume.c, volume_repo.c, volume_ops.c, volume_keys.c) ---- */

/* A volume's row on c (tenant_id NULL: any tenant), FOR UPDATE when lock. */
int sov_repo_volume_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                        sov_volume *ret, sov_error *err);
/* By id or by name in the workspace; SOV_E_NOT_FOUND naming what. */
int sov_repo_volume_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *id_or_name, sov_volume *ret, sov_error *err);
/* The wrapped data key of an encrypted volume (or snapshot: table "snapshots"). */
int sov_repo_wrapped_key(sov_dbconn *c, const char *table, const char *id,
                         sov_wrapped_key *ret, sov_error *err);

/* Define on hv the libvirt secret holding the data key of an encrypted volume or snapshot
 * (table "volumes" or "snapshots"), its UUID into secret_uuid (SOV_UUID_LEN + 1); the key is
 * unwrapped, handed to libvirt and wiped. For a plain one secret_uuid is "" and nothing is
 * defined. A destroyed KEK: SOV_E_CONFLICT. */
int sov_storage_secret_open(sov_ctx *ctx, sov_hv *hv, const char *table, const char *id,
                            const char *tenant_id, char *secret_uuid, sov_error *err);
/* Undefine it again ("" does nothing; failures are logged, the reconciler sweeps). */
void sov_storage_secret_close(sov_hv *hv, const char *secret_uuid);

/* Place a new volume (or snapshot) of size_gib on a host, inside the tenant's policy,
 * claiming its disk in c's transaction: pin_host_id forces that host (NULL: any; zone and
 * region narrow); fills region, zone, host and the residency "placed" record. */
int sov_storage_place(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                      const char *resource_type, const char *resource_id, long long size_gib,
                      const char *region, const char *zone, const char *pin_host_id,
                      const char *operation_id, sov_volume *ret, sov_error *err);

/* ---- volume sources (volume_source.c) ---- */

typedef struct sov_volume_source {
    char type[16];              /* image, snapshot, volume */
    char id[SOV_UUID_LEN + 1];
    long long size_gib;         /* the smallest the new volume may be */
    char host_id[SOV_UUID_LEN + 1];     /* a snapshot's or volume's host: the copy is made
                                         * there; "" for an image (any host of its region) */
    char region[SOV_NAME_MAX + 1];      /* an image's region */
} sov_volume_source;

/* Resolve a create's source in its transaction: it exists in the tenant's workspace, is
 * whole (active image, available snapshot, available or in-use volume), and fits. */
int sov_volume_source_resolve(sov_dbconn *c, const char *tenant_id, const char *workspace,
                              const char *type, const char *id_or_name,
                              sov_volume_source *ret, sov_error *err);
/* The volume.create worker's copy step on the volume's host: fill v (not yet there) from its
 * source, encrypted with secret_uuid ("" plain); writes the "copied" residency record. */
int sov_volume_source_copy(sov_ctx *ctx, sov_hv *hv, const sov_volume *v,
                           const char *secret_uuid, sov_error *err);

#endif
