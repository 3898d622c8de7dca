/* storage_int.h: what the files of storage/ share, and nothing outside it sees. Each part
 * keeps its own section. */
#ifndef SOV_STORAGE_INT_H
#define SOV_STORAGE_INT_H

#include <string.h>

#include "sov/cleanup.h"
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
 * defined. A destroyed KEK: SOV_E_CONFLICT. The secret's UUID is the volume's (snapshot's)
 * id and its usage the file's path on the host (pool path + "/" + name): one secret per
 * volume, defined again (same value) by a second open, so a leftover secret names its
 * volume. */
int sov_storage_secret_open(sov_ctx *ctx, sov_hv *hv, const char *table, const char *id,
                            const char *tenant_id, char *secret_uuid, sov_error *err);
/* Undefine it again ("" does nothing; failures are logged, the reconciler sweeps). */
void sov_storage_secret_close(sov_hv *hv, const char *secret_uuid);

/* A volume type by id or name (SOV_E_NOT_FOUND naming it). */
int sov_repo_volume_type_get(sov_dbconn *c, const char *id_or_name, sov_volume_type *ret,
                             sov_error *err);
int sov_repo_volume_type_insert(sov_dbconn *c, const sov_volume_type *in, sov_volume_type *ret,
                                sov_error *err);
int sov_repo_volume_type_list(sov_dbconn *c, const char *after, unsigned limit,
                              sov_volume_type_page *ret, sov_error *err);
/* Refused (SOV_E_CONFLICT, blocked_by naming them) while live volumes use it. */
int sov_repo_volume_type_delete(sov_dbconn *c, const char *id, sov_error *err);

/* What a new volume's row holds beyond the struct: its placement's allocation and the
 * wrapped data key (NULL when plain). */
int sov_repo_volume_insert(sov_dbconn *c, const sov_volume *v, const char *allocation_id,
                           const sov_wrapped_key *key, sov_error *err);
int sov_repo_volume_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                         const char *state, const char *instance_id, const char *after,
                         unsigned limit, sov_volume_page *ret, sov_error *err);
/* Move to state with reason (NULL keeps the reason; operation_id NULL keeps it); from: only
 * when in one of these states (NULL: any); SOV_E_CONFLICT when not. */
int sov_repo_volume_set_state(sov_dbconn *c, const char *id, const char *const *from,
                              const char *state, const char *reason, const char *operation_id,
                              sov_error *err);
int sov_repo_volume_set_size(sov_dbconn *c, const char *id, long long size_gib,
                             sov_error *err);
/* The deleted volume's row: state deleted, its host, allocation and attachment gone;
 * ret_alloc gets the allocation it held ("" none); live false when already deleted. */
int sov_repo_volume_lock_allocation(sov_dbconn *c, const char *id, bool *live, char *alloc,
                                    size_t size, sov_error *err);
int sov_repo_volume_deleted(sov_dbconn *c, const char *id, sov_error *err);
/* The snapshots (not deleted) that keep a volume: SOV_E_CONFLICT naming them. */
int sov_repo_volume_snapshot_blockers(sov_dbconn *c, const char *id, const char *what,
                                      sov_error *err);
/* Attachments. device: the first free vdX of the instance from vdc on (vda boots, vdb is the
 * cloud-init seed), chosen and inserted under the instance's row lock. */
int sov_repo_attachment_insert(sov_dbconn *c, const char *volume_id, const char *instance_id,
                               bool boot, char *ret_device, size_t size, sov_error *err);
int sov_repo_attachment_delete(sov_dbconn *c, const char *volume_id, sov_error *err);
/* The volumes attached to an instance (any state but deleted), in device order; *ret to
 * free(). */
int sov_repo_volume_of_instance(sov_dbconn *c, const char *instance_id, sov_volume **ret,
                                size_t *n, sov_error *err);
/* A host's libvirt URI and name. */
int sov_repo_volume_host(sov_dbconn *c, const char *host_id, char *uri, size_t uri_size,
                         char *name, size_t name_size, sov_error *err);
/* The live (not deleted) volumes of a host, every tenant; *ret to free(). */
int sov_repo_volume_on_host(sov_dbconn *c, const char *host_id, sov_volume **ret, size_t *n,
                            sov_error *err);
/* Of names ("sov-vol-<id>", "sov-snap-<id>") found on host_id, which the database does not
 * place there (no row, a deleted one, or one on another host that is not moving between
 * the two with its instance's migration): known[i] false for those. */
int sov_repo_storage_known(sov_dbconn *c, const char *host_id, char *const *names, size_t n,
                           bool *known, sov_error *err);
/* An instance as attach sees it: its tenant, state, host and name (lock: FOR UPDATE). */
typedef struct sov_volume_instance {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char state[16];
    char host_id[SOV_UUID_LEN + 1];
    char host_name[SOV_NAME_MAX + 1];
} sov_volume_instance;
/* By id, or by name in workspace (NULL: "default"), of tenant_id (NULL: any, by id only);
 * another tenant's is SOV_E_NOT_FOUND. */
int sov_repo_volume_instance(sov_dbconn *c, const char *tenant_id, const char *workspace,
                             const char *id_or_name, bool lock, sov_volume_instance *ret,
                             sov_error *err);

/* The hosts that are up, for the reconciler; *ret to free(). */
typedef struct sov_storage_host {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char uri[1024];
} sov_storage_host;
int sov_repo_storage_hosts_up(sov_dbconn *c, sov_storage_host **ret, size_t *n,
                              sov_error *err);
/* Whether any volume, snapshot or migration operation is queued or running (anywhere): a
 * migration defines a moving volume's secret on its target. */
int sov_repo_storage_ops_pending(sov_dbconn *c, bool *ret, sov_error *err);

/* The operation kinds of volumes (volume_ops.c), the domain contributor and the reconcile
 * pass (volume_reconcile.c), registered by sov_storage_register. */
int sov_volume_create_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_volume_attach_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_volume_detach_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_volume_extend_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_volume_delete_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_volume_image_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_volume_op_failed(sov_op_run *run, const sov_op *op, const char *reason,
                         sov_error *err);
int sov_volume_contrib(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec,
                       sov_error *err);
int sov_volumes_reconcile(sov_ctx *ctx, unsigned *ret_repairs, sov_error *err);
/* The <disk> of an attached volume (strings borrowed from v and secret_uuid). */
void sov_volume_disk(const sov_volume *v, const sov_volume_type *t, const char *secret_uuid,
                     sov_domain_disk *ret);

/* Place a new volume (or snapshot) of size_gib on a host, inside the tenant's policy,
 * claiming its disk in c's transaction: pin_host_id forces that host (NULL: any; zone and
 * region narrow); fills region, zone, host and the residency "placed" record. */
int sov_storage_place(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                      const char *resource_type, const char *resource_id, long long size_gib,
                      const char *region, const char *zone, const char *pin_host_id,
                      const char *operation_id, sov_volume *ret, sov_error *err);
/* The same with note added to the "placed" record's reason (NULL: none): where an encrypted
 * one's key lives (sov_storage_key_note). */
int sov_storage_place_noted(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                            const char *resource_type, const char *resource_id,
                            long long size_gib, const char *region, const char *zone,
                            const char *pin_host_id, const char *operation_id,
                            const char *note, sov_volume *ret, sov_error *err);

/* ---- keys (keystore.c, keystore_repo.c, volume_keys.c) ----
 *
 * The pure parts of the keystore, exposed for storage/ and its unit tests. Every buffer that
 * holds a key (master key, KEK, data key) is the caller's, and the caller wipes it with
 * explicit_bzero (SOV_KEY_WIPED does it at scope exit). */
#define SOV_KEY_LEN 32
#define SOV_KEK_NONCE_LEN 12
#define SOV_KEK_TAG_LEN 16
#define SOV_KEK_SEALED_LEN (SOV_KEK_NONCE_LEN + SOV_KEY_LEN + SOV_KEK_TAG_LEN)
#define SOV_MASTER_KEY_ID_LEN 16

static inline void
sov_key_wipe(unsigned char (*k)[SOV_KEY_LEN])
{
    explicit_bzero(*k, sizeof(*k));
}
/* A key-sized buffer wiped when it leaves scope: SOV_KEY_WIPED unsigned char k[SOV_KEY_LEN]. */
#define SOV_KEY_WIPED SOV_CLEANUP(sov_key_wipe)

/* The master key from its file (path), made there at first use: 32 random bytes, 0600, its
 * folder made 0700 if missing; two processes making it at once agree on one (written to a
 * temporary file, then linked into place without replacing). A file group or others may
 * read, or one that is not 32 bytes, is refused (SOV_E_INTERNAL naming the path, never the
 * bytes). id: the first 16 hex digits of the key's SHA-256 (sha256sum shows it too). */
int sov_keystore_master_load(const char *path, unsigned char key[SOV_KEY_LEN],
                             char id[SOV_MASTER_KEY_ID_LEN + 1], sov_error *err);
/* Seal a KEK under the master key: AES-256-GCM, a random nonce, the tenant id as associated
 * data (a sealed KEK moved to another tenant's row does not open); out: nonce || ct || tag. */
int sov_keystore_seal(const unsigned char master[SOV_KEY_LEN], const char *tenant_id,
                      const unsigned char kek[SOV_KEY_LEN],
                      unsigned char out[SOV_KEK_SEALED_LEN], sov_error *err);
/* Open it again; a wrong key, tenant or altered bytes: SOV_E_INTERNAL. */
int sov_keystore_unseal(const unsigned char master[SOV_KEY_LEN], const char *tenant_id,
                        const unsigned char *sealed, size_t len,
                        unsigned char kek[SOV_KEY_LEN], sov_error *err);
/* AES-256 key wrap with padding (RFC 5649) of a data key under a KEK: 40 bytes into out
 * (SOV_WRAPPED_KEY_MAX), its length into *len. */
int sov_keystore_wrap(const unsigned char kek[SOV_KEY_LEN], const unsigned char key[SOV_KEY_LEN],
                      unsigned char *out, size_t *len, sov_error *err);
/* Unwrap it; a wrong KEK or altered bytes fail the RFC 5649 integrity check: SOV_E_INTERNAL
 * ("could not unwrap the volume's key", no detail). */
int sov_keystore_unwrap_with(const unsigned char kek[SOV_KEY_LEN], const unsigned char *wrapped,
                             size_t len, unsigned char key[SOV_KEY_LEN], sov_error *err);

/* A tenant's row of tenant_keks. */
typedef struct sov_kek_row {
    unsigned char sealed[SOV_KEK_SEALED_LEN];
    size_t len;                 /* 0 once destroyed */
    char master_key_id[SOV_MASTER_KEY_ID_LEN + 1];
    char region[SOV_NAME_MAX + 1];
    char country[3];
    char created_at[40];
    char destroyed_at[40];      /* "" while it lives */
} sov_kek_row;

/* 0 unless the tenant's KEK was destroyed (SOV_E_CONFLICT, as every use of it answers); a
 * tenant without a KEK yet is fine. */
int sov_keystore_check(sov_dbconn *c, const char *tenant_id, sov_error *err);
/* The tenant's KEK row (FOR SHARE when lock: a destroy waits for the caller's transaction,
 * so no key is wrapped by a KEK being destroyed); SOV_E_NOT_FOUND when it has none. */
int sov_repo_kek_get(sov_dbconn *c, const char *tenant_id, bool lock, sov_kek_row *ret,
                     sov_error *err);
/* Insert the tenant's KEK unless one is there (ON CONFLICT DO NOTHING): the caller reads the
 * row after, so two concurrent first uses agree on one KEK. */
int sov_repo_kek_insert(sov_dbconn *c, const char *tenant_id, const unsigned char *sealed,
                        size_t len, const char *master_key_id, const char *region,
                        const char *country, sov_error *err);
/* Erase the tenant's KEK (wrapped NULL, destroyed_at now). The tenant unknown:
 * SOV_E_NOT_FOUND "tenant ..."; no KEK or one already destroyed: SOV_E_NOT_FOUND saying so. */
int sov_repo_kek_destroy(sov_dbconn *c, const char *tenant_id, sov_error *err);
/* sov_repo_wrapped_key, and the file the key opens: its pool and its name there (either may
 * be NULL). A table other than "volumes" or "snapshots": SOV_E_INTERNAL. */
int sov_repo_key_file(sov_dbconn *c, const char *table, const char *id, sov_wrapped_key *ret,
                      char pool[64], char volume[96], sov_error *err);
/* The keystore's place: region (cfg keystore_region; "" for the first host's region, else
 * the first region created) and its country. */
int sov_repo_keystore_place(sov_dbconn *c, const char *region, char ret_region[SOV_NAME_MAX + 1],
                            char ret_country[3], sov_error *err);

/* The residency note of an encrypted volume or snapshot: "key in <region> (<country>)"; ""
 * for a plain one (region ""). For the reason of its residency records. */
void sov_storage_key_note(const char *key_region, const char *key_country, char *out,
                          size_t size);

/* ---- snapshots (snapshot.c, snapshot_repo.c, snapshot_ops.c) ---- */

/* A new snapshot row (creating) from s (id, tenant, workspace, name, volume, size, place,
 * pool, file, operation); key: its wrapped data key, NULL (or len 0) for a plain one. A
 * taken name is SOV_E_CONFLICT. */
int sov_repo_snapshot_insert(sov_dbconn *c, const sov_snapshot *s, const sov_wrapped_key *key,
                             sov_error *err);
/* A snapshot's row on c (tenant_id NULL: any tenant), FOR UPDATE when lock. */
int sov_repo_snapshot_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                          sov_snapshot *ret, sov_error *err);
/* By id or by name in the workspace (NULL: default); SOV_E_NOT_FOUND naming what. */
int sov_repo_snapshot_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                           const char *id_or_name, sov_snapshot *ret, sov_error *err);
/* Snapshots not deleted; tenant_id, workspace, volume_id and after may be NULL. */
int sov_repo_snapshot_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                           const char *volume_id, const char *after, unsigned limit,
                           sov_snapshot_page *ret, sov_error *err);
/* Move the snapshot to `to` (with reason) only from one of `from` ("creating,error");
 * *ret_moved (may be NULL) says whether it did. */
int sov_repo_snapshot_set_state(sov_dbconn *c, const char *id, const char *from,
                                const char *to, const char *reason, bool *ret_moved,
                                sov_error *err);
/* SOV_E_CONFLICT naming the volumes being made from snapshot id (what: "snapshot 'x'"). */
int sov_repo_snapshot_blockers(sov_dbconn *c, const char *id, const char *what,
                               sov_error *err);
/* The host allocation that holds the snapshot's disk, into ret (SOV_UUID_LEN + 1; "" when
 * none). */
int sov_repo_snapshot_allocation(sov_dbconn *c, const char *id, char *ret, sov_error *err);

/* The workers of snapshots (snapshot_ops.c). */
int sov_snapshot_create_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_snapshot_delete_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_snapshot_op_failed(sov_op_run *run, const sov_op *op, const char *reason,
                           sov_error *err);
/* Snapshots' registration, from sov_storage_register: the operation kinds "snapshot.create"
 * and "snapshot.delete", and the quota uses of a snapshot (snapshots 1, storage_gib its
 * size). */
int sov_snapshot_register(sov_error *err);

/* ---- volume sources (volume_source.c) ---- */

typedef struct sov_volume_source {
    char type[16];              /* image, snapshot, volume */
    char id[SOV_UUID_LEN + 1];
    long long size_gib;         /* the smallest the new volume may be */
    char host_id[SOV_UUID_LEN + 1];     /* a snapshot's or volume's host: the copy is made
                                         * there; "" for an image (any host of its region) */
    char region[SOV_NAME_MAX + 1];      /* an image's region */
    char type_id[SOV_UUID_LEN + 1];     /* a volume's type, or a snapshot's volume's: the
                                         * new volume's when the create names none; "" for
                                         * an image */
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

/* ---- instances and volumes (instance_hook.c) ---- */

/* The instance create hook (boot_volume, boot, volumes; sov_instance_hook): registered by
 * sov_storage_register. */
int sov_instance_hook_register(sov_error *err);
/* sov_volume_create's transaction on c (volume.c), for a volume another create makes (an
 * instance's new boot volume): v holds its tenant, workspace, id, name and
 * created_by_instance; a's checks are the caller's. Queues "volume.create" into op. */
int sov_volume_create_on(sov_dbconn *c, sov_ctx *ctx, const sov_volume_create_args *a,
                         sov_volume *v, sov_op *op, sov_error *err);

/* ---- migrations (migrate.c, migrate_repo.c) ---- */

/* The storage hook's migration members (sov_instance_hook.migrate_check and .migrate,
 * include/sov/compute.h): an instance's attached volumes and their snapshots move with it. */
int sov_storage_migrate_check(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, bool live,
                              const char *target_host_id, long long *extra_disk_gib,
                              sov_error *err);
int sov_storage_migrate(sov_dbconn *c, sov_ctx *ctx, sov_migrate_phase phase,
                        const sov_instance_move *m, sov_error *err);
/* A volume's or snapshot's row (table "volumes" or "snapshots") on host_id: its host, and
 * the host's region and zone. */
int sov_repo_storage_move(sov_dbconn *c, const char *table, const char *id, const char *host_id,
                          sov_error *err);
/* SOV_E_CONFLICT naming the volumes being copied from volume id (what: "volume 'x'"). */
int sov_repo_volume_copy_blockers(sov_dbconn *c, const char *id, const char *what,
                                  sov_error *err);
/* SOV_E_CONFLICT when volume_id ("" or NULL: none) is attached to an instance that is
 * migrating, or has a move of its own under way (volume_move.c; what names the volume or
 * snapshot in the message): nothing may change a volume or read its file while it moves. */
/* SOV_E_CONFLICT naming what while an image is being made from the volume. */
int sov_repo_volume_imaging(sov_dbconn *c, const char *volume_id, const char *what,
                            sov_error *err);
int sov_repo_volume_moving(sov_dbconn *c, const char *volume_id, const char *what,
                           sov_error *err);

/* ---- a volume's move to another host (volume_move.c, volume_move_repo.c) ---- */

/* A move under way, as its operation's arg says: "<source host> <target host> <reservation>"
 * (the target's claim, released by the commit, or by the failure). */
typedef struct sov_volume_move {
    char op_id[SOV_UUID_LEN + 1];
    char source_host_id[SOV_UUID_LEN + 1];
    char target_host_id[SOV_UUID_LEN + 1];
    char reservation_id[SOV_UUID_LEN + 1];
    char target_host_name[SOV_NAME_MAX + 1];    /* filled by the repo's read only */
} sov_volume_move;

int sov_volume_move_arg_parse(const char *arg, sov_volume_move *ret, sov_error *err);
/* The move under way of volume_id: *found false when none (ret untouched). */
int sov_repo_volume_move_pending(sov_dbconn *c, const char *volume_id, sov_volume_move *ret,
                                 bool *found, sov_error *err);
/* A host's place (name, region, country, jurisdiction, datacenter), for residency records. */
int sov_repo_host_place(sov_dbconn *c, const char *host_id, sov_location *ret, sov_error *err);
/* Queue the move of volume v (locked by the caller, the tenant's) in the caller's
 * transaction: v must be available (or, with attached_ok, attached to an instance whose
 * create waits for it), unattached, with no snapshot, no copy, no image and no move under
 * way (SOV_E_CONFLICT naming it); the target is placed inside the tenant's policy, narrowed
 * by zone, region or pin_host_id, never v's own host (SOV_E_CAPACITY / SOV_E_RESIDENCY when
 * none), and claimed as a reservation; "volume.move" queued into op. ret: the target's
 * host id and name, its zone. */
int sov_volume_move_tx(sov_dbconn *c, sov_ctx *ctx, const sov_volume *v, const char *zone,
                       const char *region, const char *pin_host_id, sov_op *op,
                       sov_placement *ret, sov_error *err);
int sov_volume_move_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_volume_move_failed(sov_op_run *run, const sov_op *op, const char *reason,
                           sov_error *err);

#endif
