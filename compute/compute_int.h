/* compute_int.h: what compute/'s files share and nothing outside compute/ needs. */
#ifndef SOV_COMPUTE_INT_H
#define SOV_COMPUTE_INT_H

#include "sov/compute.h"

/* Image operations (compute/image_ops.c), run by the workers. */
int sov_image_import_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_image_delete_op(sov_op_run *run, const sov_op *op, sov_error *err);

/* Host registration (compute/host.c): discovery, run by the workers. */
int sov_host_register_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_host_register_failed(sov_op_run *run, const sov_op *op, const char *reason,
                             sov_error *err);
/* Host evacuation (compute/evacuate.c): registers "host.evacuate". */
int sov_host_evacuate_register(sov_error *err);

/* Instance operations (compute/instance_ops.c). */
int sov_instance_create_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_instance_action_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_instance_delete_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_instance_op_failed(sov_op_run *run, const sov_op *op, const char *reason,
                           sov_error *err);

/* An SSH public key as an instance create accepts it (compute/instance.c): 1 to
 * SOV_SSH_KEY_MAX characters of one line, starting "ssh-", "ecdsa-" or "sk-", no private
 * key. SOV_E_INVALID on field "ssh_keys" with a message a person can act on. */
#define SOV_SSH_KEY_MAX 8192
int sov_ssh_key_check(const char *k, sov_error *err);

/* Load an image by id whatever its tenant (workers act for sovd itself). */
int sov_image_load(sov_dbconn *c, const char *id, sov_image *ret, sov_error *err);

/* The NoCloud seed image of an instance, built in dir; its path into ret_path. */
int sov_seed_build(const char *dir, const sov_instance *inst, const char *user_data,
                   const char *const *keys, size_t nkeys, char *ret_path, size_t size,
                   sov_error *err);

/* ---- instance_hooks.c: the hooks of other modules (sov_instance_hook) ---- */

#define SOV_INSTANCE_HOOKS_MAX 8

/* One create's (or dry run's) run of every hook: each hook's prep, and their merge (the pin,
 * the boot volume, the region, image_optional) that placement and the row take. Zeroed
 * before the first prepare; released once at the end. */
typedef struct sov_instance_hooks {
    const sov_instance_hook *hooks[SOV_INSTANCE_HOOKS_MAX];
    sov_instance_prep preps[SOV_INSTANCE_HOOKS_MAX];
    size_t n;
    sov_instance_prep merged;
} sov_instance_hooks;

/* Release what a run held (a retried transaction prepares again), then every hook's prepare
 * in c's transaction, merged. Two hooks pinning two hosts: SOV_E_CONFLICT. want_region (the
 * region the request names, else its image's; NULL or "" for none) reaches each hook as
 * prep->want_region; where it is empty, the region an earlier hook required. */
int sov_instance_hooks_prepare(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                               const char *workspace, const sov_instance_ext *ext, size_t next,
                               const char *want_region, sov_instance_hooks *run,
                               sov_error *err);
/* Every prepared hook's commit, after the instance row is written (never for a dry run). */
int sov_instance_hooks_commit(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst,
                              const sov_instance_ext *ext, size_t next,
                              sov_instance_hooks *run, const sov_op *op,
                              sov_error *err);
void sov_instance_hooks_release(sov_instance_hooks *run);
/* Every hook's deleted(), in the transaction that marks the instance deleted. */
int sov_instance_hooks_deleted(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst,
                               const sov_op *op, sov_error *err);
/* Every hook's started(), after the create's worker started the domain: 0 when all are
 * done; the first other answer (SOV_OP_LATER, -1) as it came. */
int sov_instance_hooks_started(sov_ctx *ctx, const sov_instance *inst, const sov_op *op,
                               sov_error *err);

/* ---- instance_repo.c ---- */

int sov_repo_flavor_insert(sov_dbconn *c, const sov_flavor *in, sov_flavor *ret, sov_error *err);
int sov_repo_flavor_get(sov_dbconn *c, const char *id_or_name, sov_flavor *ret, sov_error *err);
int sov_repo_flavor_list(sov_dbconn *c, const char *after, unsigned limit, sov_flavor_page *ret,
                         sov_error *err);
int sov_repo_flavor_delete(sov_dbconn *c, const char *id, sov_error *err);

/* What the worker needs besides the instance: where it runs. */
typedef struct repo_instance_host {
    char uri[1024];
    char hypervisor[8];
    char name[SOV_NAME_MAX + 1];
} repo_instance_host;

int sov_repo_instance_insert(sov_dbconn *c, const sov_instance *i, const char *user_data,
                             const char *ssh_keys_literal, sov_error *err);
/* tenant_id NULL: any tenant (workers). lock: FOR UPDATE. */
/* The id (SOV_UUID_LEN + 1 bytes) of the live instance called name in a tenant's workspace. */
int sov_repo_instance_id_by_name(sov_dbconn *c, const char *tenant_id, const char *workspace,
                                 const char *name, char *ret, sov_error *err);
/* ret: from sov_instance_new(), or zeroed; the placement it held is replaced. */
int sov_repo_instance_get(sov_dbconn *c, const char *tenant_id, const char *id, bool lock,
                          sov_instance *ret, sov_error *err);
/* user_data and SSH keys ('\n'-joined) of an instance, for its seed (malloc'd). */
int sov_repo_instance_seed_input(sov_dbconn *c, const char *id, char **user_data, char **keys,
                                 sov_error *err);
int sov_repo_instance_host_get(sov_dbconn *c, const char *host_id, repo_instance_host *ret,
                       sov_error *err);
int sov_repo_instance_list(sov_dbconn *c, const char *tenant_id, const char *workspace,
                           const char *region, const char *state, const char *name,
                           const char *after, unsigned limit, sov_instance_page **ret,
                           sov_error *err);
/* Move to state (and reason, operation when not NULL); from: only when in one of these
 * states (NULL: any). Returns SOV_E_CONFLICT when the state did not allow it. */
int sov_repo_instance_set_state(sov_dbconn *c, const char *id, const char *const *from,
                                const char *state, const char *reason, const char *operation_id,
                                sov_error *err);
int sov_repo_instance_set_addresses(sov_dbconn *c, const char *id, const char *addresses,
                                    sov_error *err);
/* The reason of a running instance while operation_id still runs (a stop waiting for its
 * guest); nothing once the operation ended or was superseded, or the instance moved on. */
int sov_repo_instance_set_reason(sov_dbconn *c, const char *id, const char *reason,
                                 const char *operation_id, sov_error *err);
int sov_repo_instance_deleted(sov_dbconn *c, const char *id, sov_error *err);
/* The volume an instance boots from (written after the create's hooks made it). */
int sov_repo_instance_set_boot_volume(sov_dbconn *c, const char *id, const char *volume_id,
                                      sov_error *err);
/* Lock a live (not deleted) instance's row: live false when there is none; its placement
 * allocation's id into alloc ("" when none). */
int sov_repo_instance_lock_allocation(sov_dbconn *c, const char *id, bool *live, char *alloc,
                                      size_t size, sov_error *err);
/* The reconciler's view of a live instance. */
typedef struct repo_instance_brief {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char state[16];
    bool nat_nic;               /* false: its addresses are its ports', not NAT leases */
    char name[SOV_NAME_MAX + 1];
    bool host_down;             /* in error because its host stayed down past host_down_grace */
} repo_instance_brief;
/* The state_reason the reconciler gives the instances of a host down past host_down_grace,
 * followed by the RFC 3339 time it went down. */
#define SOV_HOST_DOWN_REASON "host down since "
/* The live (not deleted) instances of a host, oldest first; *ret is an array to free(). */
int sov_repo_instance_on_host(sov_dbconn *c, const char *host_id, repo_instance_brief **ret,
                              size_t *ret_n, sov_error *err);
/* The state of an instance, deleted ones too; "" when there is no such row. lock: FOR
 * UPDATE, which operations on an instance also take before they are queued. */
int sov_repo_instance_state(sov_dbconn *c, const char *id, bool lock, char *ret, size_t size,
                            sov_error *err);
/* Move an instance from `from` to `to` with reason (its addresses go unless running);
 * ret_tenant its tenant, or "" when it was no longer in `from`. */
int sov_repo_instance_repair(sov_dbconn *c, const char *id, const char *from, const char *to,
                             const char *reason, char *ret_tenant, size_t size, sov_error *err);
/* Copies of one image to one host take turns: held by c's session until unlocked. */
int sov_repo_image_copy_lock(sov_dbconn *c, const char *image_id, const char *host_id,
                             sov_error *err);
int sov_repo_image_copy_unlock(sov_dbconn *c, const char *image_id, const char *host_id,
                               sov_error *err);
/* Whether an image copy is recorded for host. */
int sov_repo_image_copy_get(sov_dbconn *c, const char *image_id, const char *host_id, bool *found,
                            sov_error *err);
/* A tenant's image by id, or by name in workspace (not deleted). */
int sov_repo_image_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                        const char *id_or_name, sov_image *ret, sov_error *err);
int sov_repo_image_copy_put(sov_dbconn *c, const char *image_id, const char *host_id,
                            const char *volume, sov_error *err);

/* ---- migrations (migrate.c, migrate_ops.c; SQL in migrate_repo.c) ---- */

/* The "instance.migrate" worker and what its operation's failure leaves (the guest on the
 * host where it runs, the reservation released). */
int sov_instance_migrate_op(sov_op_run *run, const sov_op *op, sov_error *err);
int sov_instance_migrate_failed(sov_op_run *run, const sov_op *op, const char *reason,
                                sov_error *err);

/* Every hook's migrate_check (the room their parts take on the target, added to *extra)
 * and migrate() at one phase, in the order added; the first failure stops the walk. */
int sov_instance_hooks_migrate_check(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst,
                                     bool live, const char *target_host_id,
                                     long long *extra_disk_gib, sov_error *err);
int sov_instance_hooks_migrate(sov_dbconn *c, sov_ctx *ctx, sov_migrate_phase phase,
                               const sov_instance_move *m, sov_error *err);

/* A host as a migration sees it: where it is (for the records), how to reach it. */
typedef struct repo_mhost {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char state[16];
    char zone[SOV_NAME_MAX + 1];
    char uri[1024];
    char hypervisor[8];
    char host_uuid[64];         /* libvirt's host UUID (the OVN chassis name); "" unknown */
    sov_location loc;
} repo_mhost;

/* A host by id, or (by_name) by id or name; SOV_E_NOT_FOUND when none. */
int sov_repo_mhost_get(sov_dbconn *c, const char *id_or_name, bool by_name, repo_mhost *ret,
                       sov_error *err);

/* One migration with what the worker needs besides what the API shows. */
typedef struct repo_migration {
    sov_instance_migration m;
    char tenant_id[SOV_UUID_LEN + 1];
    char reservation_id[SOV_UUID_LEN + 1];     /* "" once released */
} repo_migration;

int sov_repo_migration_insert(sov_dbconn *c, const repo_migration *m, const char *requested_by,
                              sov_error *err);
/* The migration an operation carries out; SOV_E_NOT_FOUND when none. */
int sov_repo_migration_by_op(sov_dbconn *c, const char *op_id, repo_migration *ret,
                             sov_error *err);
/* A new state and reason; succeeded and failed also set finished_at, downtime_ms when
 * downtime_ms >= 0. A migration already finished is left as it is. */
int sov_repo_migration_set_state(sov_dbconn *c, const char *id, const char *state,
                                 const char *reason, long long downtime_ms, sov_error *err);
int sov_repo_migration_progress(sov_dbconn *c, const char *id, const sov_hv_job *job,
                                sov_error *err);
/* The reservation is gone (released in the caller's transaction). */
int sov_repo_migration_reservation_clear(sov_dbconn *c, const char *id, sov_error *err);
int sov_repo_migration_list(sov_dbconn *c, const char *instance_id, const char *after,
                            unsigned limit, sov_instance_migration_page *ret, sov_error *err);
/* The instance now lives on host (its region and zone), in state with reason: a committed
 * move. Only while it is migrating: SOV_E_CONFLICT otherwise. */
int sov_repo_instance_move_host(sov_dbconn *c, const char *id, const repo_mhost *host,
                                const char *state, sov_error *err);

#endif
