/* storage.h: block storage: volume types, volumes, snapshots, attachments and the keys of
 * encrypted volumes.
 *
 * A volume is a qcow2 file in a host's libvirt storage pool (the first backend,
 * "libvirt-dir": the pool every host already has, cfg->storage_pool), named
 * "sov-vol-<id>"; a snapshot is a whole, crash-consistent copy in the same pool,
 * "sov-snap-<id>". Storage is host-local: a volume is placed on a host when it is created
 * (placement inside the tenant's residency policy, as an instance is; with instance_hint on
 * that instance's host), an attach needs the instance on the same host, and an instance
 * created with volumes is placed on theirs. Every change to infrastructure is an operation
 * (202); the states are explicit (a volume: creating, available, attaching, in-use,
 * detaching, extending, deleting, deleted, error).
 *
 * Encrypted volume types use QEMU's native LUKS: each volume has its own 32-byte data key,
 * stored only wrapped by its tenant's key-encryption key (KEK); the KEK is kept in the
 * keystore (table tenant_keks) wrapped by the control plane's master key. A host learns a
 * volume's key as a libvirt secret (ephemeral, private) only while the volume is attached or
 * being written by the control plane, and the secret is undefined afterwards. Keys appear in
 * no log, answer or error; buffers holding them are wiped with explicit_bzero. */
#ifndef SOV_STORAGE_H
#define SOV_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "sov/ctx.h"
#include "sov/identity.h"
#include "sov/ops.h"
#include "sov/residency.h"

#define SOV_VOLUME_GIB_MAX 65536

/* ---- volume types (operator) ---- */

typedef struct sov_volume_type {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char backend[32];           /* "libvirt-dir" */
    bool encrypted;
    long long max_iops;         /* 0: no limit */
    long long max_bytes_per_s;  /* 0: no limit */
    char created_at[40];
} sov_volume_type;

typedef SOV_PAGE(sov_volume_type) sov_volume_type_page;

int sov_volume_type_create(sov_ctx *ctx, const sov_volume_type *in, sov_volume_type *ret,
                           sov_error *err);
/* By id or by name. */
int sov_volume_type_get(sov_ctx *ctx, const char *id_or_name, sov_volume_type *ret,
                        sov_error *err);
int sov_volume_type_list(sov_ctx *ctx, const char *after, unsigned limit,
                         sov_volume_type_page *ret, sov_error *err);
/* At start (cfg seed_volume_type): the type named cfg default_volume_type (libvirt-dir,
 * unencrypted, no limits) when no volume type exists at all; *created says whether this call
 * made it (another sovd starting beside it may have). An operator who deletes every type
 * gets it back at the next start. */
int sov_volume_type_seed(sov_ctx *ctx, bool *created, sov_error *err);
/* Refused (SOV_E_CONFLICT, naming them) while live volumes use it. */
int sov_volume_type_delete(sov_ctx *ctx, const char *id, sov_error *err);

/* ---- volumes ---- */

typedef struct sov_volume_attachment {
    char instance_id[SOV_UUID_LEN + 1];     /* "" when not attached */
    char instance_name[SOV_NAME_MAX + 1];
    char device[8];             /* "vdc": the guest sees /dev/disk/by-id/virtio-<id prefix> */
    bool boot;
    char attached_at[40];
} sov_volume_attachment;

typedef struct sov_volume {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char type_id[SOV_UUID_LEN + 1];
    char type_name[SOV_NAME_MAX + 1];
    long long size_gib;
    bool encrypted;
    char state[16];
    char state_reason[512];
    char region[SOV_NAME_MAX + 1];
    char zone[SOV_NAME_MAX + 1];
    char host_id[SOV_UUID_LEN + 1];
    char host_name[SOV_NAME_MAX + 1];
    char pool[64];
    char volume[96];            /* the file's name in the pool */
    char allocation_id[SOV_UUID_LEN + 1];   /* its placement's claim (sov_storage_place) */
    char source_type[16];       /* "image", "snapshot", "volume"; "" for an empty volume */
    char source_id[SOV_UUID_LEN + 1];
    char created_by_instance[SOV_UUID_LEN + 1];
    sov_volume_attachment attachment;
    char key_region[SOV_NAME_MAX + 1];      /* where its key lives; "" when plain */
    char key_country[3];
    char operation_id[SOV_UUID_LEN + 1];
    sov_location residency;
    char residency_since[40];
    char created_at[40], updated_at[40];
} sov_volume;

typedef SOV_PAGE(sov_volume) sov_volume_page;

typedef struct sov_volume_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;
    long long size_gib;         /* 0 with a source: the source's size */
    const char *type;           /* id or name; NULL: the type named by cfg default_volume_type */
    const char *zone;           /* NULL: any the policy allows */
    const char *region;         /* NULL: any the policy allows */
    const char *source_type;    /* NULL, "image", "snapshot" or "volume" */
    const char *source;         /* id or name of that source */
    const char *instance_hint;  /* id or name: place the volume on that instance's host */
} sov_volume_create_args;

/* Quota-check (volumes, storage_gib), place (a host with room, inside the policy, narrowed
 * by zone, region, the source's host or the hinted instance's host), record the volume
 * (creating) with its residency, wrap a new data key for an encrypted type, and queue
 * "volume.create", in one transaction. */
int sov_volume_create(sov_ctx *ctx, const char *tenant_id, const sov_volume_create_args *a,
                      sov_volume *ret, sov_op *op, sov_error *err);
int sov_volume_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_volume *ret,
                   sov_error *err);
/* By id, or by name within the workspace (NULL: default). ret: SOV_UUID_LEN + 1. */
int sov_volume_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                       const char *id_or_name, char *ret, sov_error *err);
/* Filters may be NULL; deleted volumes only when state asks for them. */
int sov_volume_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                    const char *state, const char *instance_id, const char *after,
                    unsigned limit, sov_volume_page *ret, sov_error *err);
/* The volumes attached to an instance (not deleted), in device order (vda, vdc, ..., vdaa);
 * only those the caller may see, and with tenant_id only that tenant's. *ret to free(). */
int sov_instance_volumes(sov_ctx *ctx, const char *tenant_id, const char *instance_id,
                         sov_volume **ret, size_t *n, sov_error *err);
/* Refused while attached, and while snapshots of it exist (SOV_E_CONFLICT naming them);
 * queues "volume.delete". */
int sov_volume_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                      sov_error *err);

typedef struct sov_volume_action_args {
    const char *action;         /* "attach", "detach", "extend" */
    const char *instance;       /* attach, detach: id or name */
    bool force;                 /* detach: take it away if the guest does not release it */
    long long size_gib;         /* extend: the new size, larger than the current */
    const char *zone;           /* move: narrow the target to this zone; NULL: any */
    const char *region;         /* move: narrow the target to this region; NULL: any */
    const char *host;           /* move: this host, id or name (operators); NULL: placement */
} sov_volume_action_args;

/* attach (available -> attaching -> in-use; same host as the instance, else SOV_E_CONFLICT
 * naming both hosts; another tenant's instance is SOV_E_NOT_FOUND), detach (in-use ->
 * detaching -> available), extend (available or in-use -> extending -> as before):
 * "volume.attach", "volume.detach", "volume.extend"; move (an available volume without
 * snapshots to another host inside the tenant's policy, narrowed by zone, region or host;
 * it stays available and refuses every other change until "volume.move" ends). */
int sov_volume_action(sov_ctx *ctx, const char *tenant_id, const char *id,
                      const sov_volume_action_args *a, sov_op *op, sov_error *err);

/* ---- images made from a volume (storage/volume_image.c) ---- */

struct sov_image;

typedef struct sov_volume_image_args {
    const char *workspace;          /* the image's; NULL: "default" */
    const char *name;               /* the image's */
    const char *volume_workspace;   /* NULL: workspace */
    const char *volume;             /* id or name */
} sov_volume_image_args;

/* An image holding a copy of a volume's content: the volume must be available (not attached:
 * a running guest's disk is not a consistent image) and not encrypted (SOV_E_INVALID naming
 * "source_volume": its bytes are ciphertext under a key of its own). In one transaction the
 * image is recorded (queued, in the volume's region, format qcow2, min_disk_gib the volume's
 * size) with its "placed" record and "image.from-volume" is queued; the worker copies the
 * volume from its host's pool into the region's image store and makes the image active with
 * a "copied" residency record from the volume's place. */
int sov_volume_image_create(sov_ctx *ctx, const char *tenant_id,
                            const sov_volume_image_args *a, struct sov_image *ret, sov_op *op,
                            sov_error *err);

/* ---- snapshots ---- */

typedef struct sov_snapshot {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char volume_id[SOV_UUID_LEN + 1];
    char volume_name[SOV_NAME_MAX + 1];
    long long size_gib;
    bool encrypted;
    char state[16];             /* creating, available, deleting, deleted, error */
    char state_reason[512];
    char region[SOV_NAME_MAX + 1];
    char zone[SOV_NAME_MAX + 1];
    char host_id[SOV_UUID_LEN + 1];
    char host_name[SOV_NAME_MAX + 1];
    char pool[64];
    char volume[96];            /* the file's name in the pool */
    char key_region[SOV_NAME_MAX + 1];
    char key_country[3];
    char operation_id[SOV_UUID_LEN + 1];
    sov_location residency;
    char residency_since[40];
    char created_at[40], updated_at[40];
} sov_snapshot;

typedef SOV_PAGE(sov_snapshot) sov_snapshot_page;

typedef struct sov_snapshot_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name;
    const char *volume;         /* id or name */
} sov_snapshot_create_args;

/* A crash-consistent copy of the volume, taken while attached too ("snapshot.create"); the
 * volume must be available or in-use (a deleting volume: SOV_E_CONFLICT). Counts against
 * snapshots and storage_gib. */
int sov_snapshot_create(sov_ctx *ctx, const char *tenant_id, const sov_snapshot_create_args *a,
                        sov_snapshot *ret, sov_op *op, sov_error *err);
int sov_snapshot_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_snapshot *ret,
                     sov_error *err);
int sov_snapshot_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                         const char *id_or_name, char *ret, sov_error *err);
int sov_snapshot_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                      const char *volume_id, const char *after, unsigned limit,
                      sov_snapshot_page *ret, sov_error *err);
int sov_snapshot_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                        sov_error *err);

/* ---- the keystore (storage/keystore.c) ----
 *
 * KEKs are AES-256 keys, one per tenant, made on first need, kept in tenant_keks sealed by
 * the master key (AES-256-GCM; the master key is a 0600 file, cfg keystore_master_key,
 * made at first start). Data keys are 32 random bytes wrapped by the tenant's KEK with
 * AES-256 key wrap with padding (RFC 5649). The keystore's place (cfg keystore_region, or
 * the region of the first host) is where every key lives. */
#define SOV_DATA_KEY_LEN 32
#define SOV_WRAPPED_KEY_MAX 64

typedef struct sov_wrapped_key {
    unsigned char bytes[SOV_WRAPPED_KEY_MAX];
    size_t len;
    char region[SOV_NAME_MAX + 1];
    char country[3];
} sov_wrapped_key;

/* A new data key for tenant_id, wrapped, in the caller's transaction (the KEK made if the
 * tenant has none). A destroyed KEK: SOV_E_CONFLICT ("the tenant's key-encryption key was
 * destroyed"). The plain key never leaves the function. */
int sov_keystore_new_key(sov_dbconn *c, const sov_config *cfg, const char *tenant_id,
                         sov_wrapped_key *ret, sov_error *err);
/* Unwrap a data key into key[SOV_DATA_KEY_LEN]; the caller wipes it (explicit_bzero) as
 * soon as the host has it. Destroyed KEK: SOV_E_CONFLICT as above; a key that does not
 * unwrap: SOV_E_INTERNAL without detail. */
int sov_keystore_unwrap(sov_dbconn *c, const sov_config *cfg, const char *tenant_id,
                        const unsigned char *wrapped, size_t len,
                        unsigned char key[SOV_DATA_KEY_LEN], sov_error *err);
/* DELETE /v1/tenants/{id}/kek (operator, audited): crypto-shredding. The KEK row's key
 * material is erased; every key it wrapped is unreadable from now on. A tenant without a
 * KEK, or one already destroyed: SOV_E_NOT_FOUND. */
int sov_tenant_kek_destroy(sov_ctx *ctx, const char *tenant_id, sov_error *err);

/* The members a create of an instance takes for storage (sov_instance_create_args.ext; the
 * instance handler fills it): boot from an existing volume, or from a new volume made from
 * an image, and attach existing volumes. */
typedef struct sov_instance_storage_args {
    const char *boot_volume;            /* id or name; NULL: none */
    const char *boot_image;             /* boot: {image, size_gib, type}; NULL: none */
    long long boot_size_gib;
    const char *boot_type;
    const char *const *volumes;         /* ids or names to attach at create */
    size_t nvolumes;
    /* The instance's zone (SECA, where a block storage has no zone of its own): volumes in
     * another zone are moved there first ("volume.move", in the create's transaction) and
     * the instance is placed on their target host; NULL: volumes stay where they are. */
    const char *follow_zone;
} sov_instance_storage_args;

/* Module registration (include/sov/registry.h): the operation kinds, the quota uses of a
 * volume and a snapshot, the domain contributor (each attached volume as a disk), the
 * instance create hook and the reconciler's pass. */
int sov_storage_register(sov_error *err);

#endif
