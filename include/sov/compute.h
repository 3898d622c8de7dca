/* compute.h: hosts, placement and the reconciler.
 *
 * A host is a machine running a libvirt hypervisor in a region's zone. Adding one is an
 * operation ("host.register"): the row is 'discovering' until a worker has opened its URI and
 * recorded what discovery finds, including which machine it is (one machine is one host,
 * whatever URI reaches it); the reconciler checks every host's connection periodically and moves
 * it between up and down (disabled and draining are the operator's, and stay). Placement
 * picks a host for a request inside the tenant's residency policy (narrowed, never widened,
 * by the request), filters by state, zone, capacity with allocation ratios, GPUs and
 * anti-affinity, weighs (spread, or pack by configuration) and claims the capacity in the
 * same transaction, so concurrent placements never double-book. */
#ifndef SOV_COMPUTE_H
#define SOV_COMPUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "sov/ctx.h"
#include "sov/hv.h"
#include "sov/ops.h"
#include "sov/identity.h"
#include "sov/residency.h"

/* ---- hosts ---- */

typedef struct sov_host {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    char zone[SOV_NAME_MAX + 1];
    char libvirt_uri[1024];
    char state[16];             /* discovering, up, down, disabled, draining, maintenance,
                                 * error */
    char state_reason[256];
    sov_hv_node node;           /* what discovery found */
    sov_hv_identity machine;    /* machine_id "" until discovery found it */
    sov_hv_identity machine_seen;   /* a different machine found at the URI; "" when none */
    double cpu_allocation_ratio, ram_allocation_ratio;
    int vcpus_used;
    long long memory_mib_used, disk_gib_used;
    int gpus_used;
    char checked_at[40], created_at[40], updated_at[40];
    char down_since[40];        /* since when the reconciler finds it not answering; ""
                                 * while it answers */
} sov_host;

typedef SOV_PAGE(sov_host) sov_host_page;

typedef struct sov_host_create_args {
    const char *name, *region, *zone, *libvirt_uri;
    double cpu_allocation_ratio;    /* <= 0: default 4.0 */
    double ram_allocation_ratio;    /* <= 0: default 1.0 */
} sov_host_create_args;

/* Record the host ('discovering') and queue its "host.register" operation, in one
 * transaction; nothing here asks libvirt. A URI string already registered is SOV_E_CONFLICT
 * naming that host. The worker then discovers: unreachable fails the operation
 * (unreachable, with libvirt's message), and so does a machine already registered under
 * another URI (conflict, naming that host); the host is then left in state 'error'. */
int sov_host_create(sov_ctx *ctx, const sov_host_create_args *a, sov_host *ret, sov_op *op,
                    sov_error *err);
/* The operator accepts the different machine the reconciler found behind a host's URI: it
 * becomes the host's machine (SOV_E_CONFLICT when another host is that machine, or when
 * there is nothing to confirm), and the next check may bring the host up. Audited. */
int sov_host_confirm_machine(sov_ctx *ctx, const char *id, sov_host *ret, sov_error *err);
int sov_host_get(sov_ctx *ctx, const char *id, sov_host *ret, sov_error *err);
/* Routes with a resource's {id} take its name too: these give the id of the one named (an id
 * is returned as it is). Hosts and flavors are named once in the cloud; images and
 * instances once in a tenant's workspace: the caller's tenant (operators: theirs unless
 * tenant_id names another) and workspace ("default" when NULL). ret: SOV_UUID_LEN + 1. */
int sov_host_resolve(sov_ctx *ctx, const char *id_or_name, char *ret, sov_error *err);
int sov_flavor_resolve(sov_ctx *ctx, const char *id_or_name, char *ret, sov_error *err);
int sov_image_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                      const char *id_or_name, char *ret, sov_error *err);
int sov_instance_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                         const char *id_or_name, char *ret, sov_error *err);
/* Filters may be NULL. */
int sov_host_list(sov_ctx *ctx, const char *region, const char *state, const char *after,
                  unsigned limit, sov_host_page *ret, sov_error *err);
/* state: NULL keeps it; "up", "disabled" or "draining" (down is the reconciler's word; a
 * host discovering or in error, or with an unconfirmed machine, cannot be made up).
 * Ratios <= 0 keep theirs. */
int sov_host_update(sov_ctx *ctx, const char *id, const char *state, double cpu_ratio,
                    double ram_ratio, sov_host *ret, sov_error *err);
/* Evacuate a host (operators): the host goes to maintenance (no new placements) and one
 * "host.evacuate" operation is queued, whose worker queues a live migration
 * ("instance.migrate", sov_instance_migrate_tx) of each of its running instances, as children
 * of that operation (stopped ones move cold), each target inside its tenant's policy. An
 * instance with no room inside its policy stays where it is and is listed in the operation
 * with the reason; none is ever moved outside. The operation succeeds when every child has
 * ended and each instance is either moved or listed. SOV_E_NOT_FOUND for no such host. */
int sov_host_evacuate(sov_ctx *ctx, const char *id, sov_op *op, sov_error *err);
/* Only a host without allocations can be deleted. */
int sov_host_delete(sov_ctx *ctx, const char *id, sov_error *err);

/* One reconciler pass over the hosts: probe each that is up or down and move it to the
 * other state when its connection says so (audited). Returns how many changed. A host in an
 * operator's state (maintenance, disabled, draining) is probed too and keeps its state, but
 * gets down_since while it does not answer. A host down (down_since) for longer than
 * host_down_grace puts each of its live instances in error
 * with the reason "host down since <time>" (audited once per instance); nothing restarts
 * elsewhere (no shared storage: their disks are on that host). */
int sov_host_check_all(sov_ctx *ctx, unsigned *ret_changed, sov_error *err);

/* One reconciler pass over the instances of every up host (compute/instance_reconcile.c):
 * vanished domains, guests that powered off, orphans, addresses, usage recomputed from the
 * allocations. *ret_repairs counts what changed. */
int sov_instances_reconcile(sov_ctx *ctx, unsigned *ret_repairs, sov_error *err);

/* The reconciler role: a thread running sov_host_check_all and sov_instances_reconcile
 * every host_check_interval seconds. */
typedef struct sov_reconciler sov_reconciler;
int sov_reconciler_start(sov_db *db, const sov_config *cfg, sov_reconciler **ret,
                         sov_error *err);
void sov_reconciler_stop(sov_reconciler *r);

/* ---- placement ---- */

/* Why a host was not chosen: the first of these, in this order, that it fails. */
typedef enum sov_reject {
    SOV_REJECT_POLICY,          /* its region is outside the tenant's residency policy */
    SOV_REJECT_REGION,          /* not the region the request asked for */
    SOV_REJECT_COUNTRY,         /* not in the country the request asked for */
    SOV_REJECT_IMAGE_REGION,    /* not in the region the image lives in */
    SOV_REJECT_STATE,
    SOV_REJECT_ZONE,
    SOV_REJECT_GPU,
    SOV_REJECT_CAPACITY,
    SOV_REJECT_AFFINITY,
    SOV_REJECT_VOLUME_HOST,     /* not the host the request is pinned to (its volumes'):
                                 * checked right after the place rules (policy, region,
                                 * country, image_region), before state and capacity */
    SOV_REJECT_SOURCE_HOST,     /* the host a migration leaves (exclude_host_id): checked
                                 * right after volume_host */
    SOV_REJECT__COUNT
} sov_reject;

const char *sov_reject_name(sov_reject r);

typedef struct sov_place_request {
    const char *tenant_id;
    int vcpus;
    long long memory_mib;
    long long disk_gib;
    int gpus;
    const char *region, *zone, *country;    /* narrowing; NULL for none */
    const char *image_region;               /* where the image lives; NULL for no image */
    const char *anti_affinity_group;        /* NULL for none */
    const char *pin_host_id;                /* only this host (host-local volumes); NULL */
    const char *resource_type, *resource_id;
    const char *operation_id;               /* for the residency record; NULL for none */
    const char *note;                       /* added to the "placed" record's reason (where
                                             * an encrypted volume's key lives); NULL */
    const char *exclude_host_id;            /* never this host (a migration's source): counted
                                             * as "source_host"; NULL for none */
    bool reserve;                           /* a migration's reservation on its target: an
                                             * allocation (resource_type as given) but no
                                             * "placed" residency record (the move writes
                                             * "moved" when it commits) */
} sov_place_request;

typedef struct sov_placement {
    char id[SOV_UUID_LEN + 1];              /* "" for a dry run */
    char allocation_id[SOV_UUID_LEN + 1];   /* "" for a dry run */
    char host_id[SOV_UUID_LEN + 1];
    char host_name[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    char zone[SOV_NAME_MAX + 1];
    sov_location location;                  /* the host's place, for residency */
    int considered;
    int rejected[SOV_REJECT__COUNT];
    char strategy[8];                       /* spread or pack */
    sov_policy *policy;                     /* the policy in force, owned; NULL: none yet */
} sov_placement;

/* A placement on the heap, zeroed (no policy); NULL when out of memory. The functions below
 * fill one given to them (from sov_placement_new(), or zeroed), replacing the policy it
 * held. sov_placement_free() frees its policy too; sov_placement_free(NULL) does nothing. */
sov_placement *sov_placement_new(void);
void sov_placement_free(sov_placement *p);
SOV_DEFINE_AUTOPTR(sov_placement, sov_placement_free)

/* Check a request's shape (positive sizes, known zone/region/country names). */
int sov_place_request_check(const sov_place_request *r, sov_error *err);

/* Decide without claiming anything (POST /v1/placement/dry-run). No candidate:
 * SOV_E_RESIDENCY when nothing the policy allows has hosts (detail names the policy),
 * SOV_E_CAPACITY otherwise; ret holds the counts either way. */
int sov_placement_dry_run(sov_ctx *ctx, const sov_place_request *r, sov_placement *ret,
                          sov_error *err);
/* The same decision on the caller's connection (inside its transaction, if any). */
int sov_placement_peek(sov_dbconn *c, sov_ctx *ctx, const sov_place_request *r,
                       sov_placement *ret, sov_error *err);
/* Decide and claim in the caller's transaction on c: the host's usage goes up, and an
 * allocation row, the decision and a "placed" residency record are stored. */
int sov_placement_claim(sov_dbconn *c, sov_ctx *ctx, const sov_place_request *r,
                        sov_placement *ret, sov_error *err);
/* Give an allocation's capacity back, in the caller's transaction. */
int sov_placement_release(sov_dbconn *c, const char *allocation_id, sov_error *err);
/* Move an allocation to host_id, in the caller's transaction: the usage leaves its host and
 * lands on host_id (checked against nothing: the caller released a reservation of at least
 * that size on host_id in the same transaction). A migration's commit. */
int sov_placement_move(sov_dbconn *c, const char *allocation_id, const char *host_id,
                       sov_error *err);
/* Grow an allocation's disk by disk_gib (negative: give some back), its host's usage with it,
 * in the caller's transaction: *ret false, nothing changed, when the host has not that room
 * (a volume's extend). */
int sov_placement_grow(sov_dbconn *c, const char *allocation_id, long long disk_gib,
                       bool *ret, sov_error *err);

/* ---- flavors ---- */

typedef struct sov_flavor {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    int vcpus;
    long long memory_mib;
    long long disk_gib;
    int gpus;
    char created_at[40];
} sov_flavor;

typedef SOV_PAGE(sov_flavor) sov_flavor_page;

int sov_flavor_create(sov_ctx *ctx, const sov_flavor *in, sov_flavor *ret, sov_error *err);
/* By id or by name. */
int sov_flavor_get(sov_ctx *ctx, const char *id_or_name, sov_flavor *ret, sov_error *err);
int sov_flavor_list(sov_ctx *ctx, const char *after, unsigned limit, sov_flavor_page *ret,
                    sov_error *err);
/* At start (cfg seed_flavors): when no flavor exists at all, SECA's smallest general
 * purpose tiers as flavors, named as slugs: seca-d2xs (1 vCPU, 1 GiB), seca-dxs (1, 2 GiB),
 * seca-ds (2, 4 GiB), seca-dm (4, 8 GiB), each with a 10 GiB disk; audited. *created says
 * whether this call made them (another sovd starting beside it may have). An operator who
 * deletes every flavor gets them back at the next start. */
int sov_flavor_seed(sov_ctx *ctx, bool *created, sov_error *err);
/* Refused (SOV_E_CONFLICT) while instances use it. */
int sov_flavor_delete(sov_ctx *ctx, const char *id, sov_error *err);

/* ---- images ---- */

typedef struct sov_image {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    char source_url[2048];
    char format[8];             /* qcow2 or raw */
    char sha256[65];            /* expected (given) or computed */
    long long min_disk_gib;
    long long size_bytes, virtual_size_bytes;
    char state[16];             /* queued, downloading, active, error, deleting, deleted */
    char state_reason[512];
    sov_location residency;     /* the region's image store */
    char created_at[40], updated_at[40];
} sov_image;

typedef SOV_PAGE(sov_image) sov_image_page;

/* A source URL as it may be shown (API answers, errors, logs): scheme, host and path, without
 * user name or password, and "?..." in place of a query or fragment (signed URLs carry their
 * secrets there). The worker downloads the URL as given. */
void sov_image_source_shown(const char *url, char *out, size_t size);

typedef struct sov_image_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name, *region, *source_url, *format, *sha256;
    long long min_disk_gib;
} sov_image_create_args;

/* Record the image (queued) and its residency, and queue the import ("image.import"); with
 * no source_url the image waits for an upload instead (sov_image_upload_*). */
int sov_image_create(sov_ctx *ctx, const char *tenant_id, const sov_image_create_args *a,
                     sov_image *ret, sov_op *op, sov_error *err);
/* By id, or by name within the workspace (NULL: default). */
int sov_image_get(sov_ctx *ctx, const char *tenant_id, const char *id_or_name,
                  const char *workspace, sov_image *ret, sov_error *err);
int sov_image_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                   const char *region, const char *after, unsigned limit, sov_image_page *ret,
                   sov_error *err);
/* Refused while instances use it; queues "image.delete" (store file and host copies). */
int sov_image_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                     sov_error *err);

/* A direct upload, streamed to the image store: begin (checks the image waits for bytes),
 * write as bytes come, then finish (checksum, format check with qemu-img, active) or abort. */
typedef struct sov_image_upload sov_image_upload;
int sov_image_upload_begin(sov_ctx *ctx, const char *tenant_id, const char *id,
                           sov_image_upload **ret, sov_error *err);
int sov_image_upload_write(sov_image_upload *u, const void *data, size_t len, sov_error *err);
int sov_image_upload_finish(sov_image_upload *u, sov_image *ret, sov_error *err);
void sov_image_upload_abort(sov_image_upload *u);

/* A reconciler pass over uploads: those whose sovd stopped saying they are alive (it died
 * mid-upload) go back to queued, their partial file removed, each audited. */
int sov_image_uploads_reconcile(sov_ctx *ctx, unsigned *ret_reset, sov_error *err);

/* Where the image store keeps an image's bytes: <image_store>/<region>/<id>.img. */
void sov_image_path(const sov_config *cfg, const sov_image *img, char *ret, size_t size);

/* For other modules (storage/'s volumes made from an image): a tenant's image by id, or by
 * name in workspace (not deleted), read on c (inside its transaction, if any). */
int sov_image_find(sov_dbconn *c, const char *tenant_id, const char *workspace,
                   const char *id_or_name, sov_image *ret, sov_error *err);
/* For other modules (storage/'s images made from a volume): an image recorded queued on c,
 * in the caller's transaction, as sov_image_create records it (its "placed" record, the audit
 * entry), with the operation op_kind (resource "image", arg op_arg) queued to bring its bytes
 * (a->source_url is ignored). That operation's handler calls sov_image_fill, its failure
 * handler sov_image_op_failed. */
int sov_image_create_on(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                        const sov_image_create_args *a, const char *op_kind,
                        const char *op_arg, sov_image *ret, sov_op *op, sov_error *err);
/* Write the image's bytes to path (a file in the image store that fill creates). */
typedef int (*sov_image_fill_fn)(void *arg, const char *path, sov_error *err);
/* The bytes of op's image (queued or downloading): fill writes them, then they are checked
 * (format with qemu-img, a file of their own), hashed, stored and the image made active with
 * a "copied" residency record from `from` (reason as its text), as an import does. An image
 * active already is left. Harmless to repeat. */
int sov_image_fill(sov_op_run *run, const sov_op *op, sov_image_fill_fn fill, void *arg,
                   const sov_location *from, const char *reason, sov_error *err);
/* An image operation failed for good: the image, still waiting for its bytes, is in error. */
int sov_image_op_failed(sov_op_run *run, const sov_op *op, const char *reason,
                        sov_error *err);
/* The image's bytes in host_id's storage pool (hv is that host), uploaded once per host and
 * recorded (image_copies, a "copied" residency record to at, the host's place, under op_id):
 * its volume's name ("sov-image-<id>") into volume and its format into format. Copies of
 * one image to one host take turns, so no caller reads a half-copied image. */
int sov_image_ensure_on_host(sov_ctx *ctx, sov_hv *hv, const char *image_id, const char *host_id,
                             const sov_location *at, const char *op_id, char *volume,
                             size_t size, char *format, size_t fsize, sov_error *err);

/* ---- instances ---- */

typedef struct sov_instance {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];
    char workspace[SOV_NAME_MAX + 1];
    char name[SOV_NAME_MAX + 1];
    char flavor_id[SOV_UUID_LEN + 1];
    char image_id[SOV_UUID_LEN + 1];    /* "" when it boots from a volume */
    char boot_volume_id[SOV_UUID_LEN + 1];  /* "" when it boots from its image */
    int vcpus;
    long long memory_mib, disk_gib;
    int gpus;
    char region[SOV_NAME_MAX + 1];
    char zone[SOV_NAME_MAX + 1];
    char host_id[SOV_UUID_LEN + 1];
    char host_name[SOV_NAME_MAX + 1];
    char anti_affinity_group[SOV_NAME_MAX + 1];
    char mac[18];
    bool nat_nic;               /* on the host's libvirt NAT network (made before tenant
                                 * networks, or without OVN); false: network/ gives its NICs */
    char addresses[256];
    char state[16];
    char state_reason[512];
    char operation_id[SOV_UUID_LEN + 1];
    sov_location residency;
    char residency_since[40];
    sov_placement *placement;   /* the decision (considered, rejected, strategy), owned;
                                 * NULL until read or claimed (never placed: strategy "");
                                 * its policy is not kept (NULL) */
    char created_at[40], updated_at[40];
} sov_instance;

/* An instance on the heap, zeroed; NULL when out of memory. sov_instance_release() frees
 * what one embedded in another struct (or zeroed on the stack) holds: its placement.
 * The functions below fill an instance given to them (from sov_instance_new(), or zeroed),
 * replacing the placement it held. sov_instance_free(NULL) does nothing. */
sov_instance *sov_instance_new(void);
void sov_instance_release(sov_instance *x);
void sov_instance_free(sov_instance *x);
SOV_DEFINE_AUTOPTR(sov_instance, sov_instance_free)

/* A page of instances: pointers, each its own heap object. */
typedef SOV_PAGE(sov_instance *) sov_instance_page;
/* Frees the items, the array and the page; sov_instance_page_free(NULL) does nothing. */
void sov_instance_page_free(sov_instance_page *p);
SOV_DEFINE_AUTOPTR(sov_instance_page, sov_instance_page_free)

typedef struct sov_instance_create_args {
    const char *workspace;      /* NULL: "default" */
    const char *name, *flavor, *image;      /* flavor and image: id or name */
    const char *region, *zone, *country, *anti_affinity_group;
    const char *user_data;
    const char *const *ssh_keys;
    size_t nssh_keys;
    /* Other modules' members, each for the hook of that name (sov_instance_hook); none: 0. */
    const struct sov_instance_ext *ext;
    size_t next;
} sov_instance_create_args;

/* One module's members of an instance create: the hook named `hook` receives args as its
 * ext (a hook with no entry receives NULL). What args is, the module's header says
 * (storage.h: sov_instance_storage_args; network.h: sov_instance_network_args). */
typedef struct sov_instance_ext {
    const char *hook;           /* "storage", "network" */
    const void *args;
} sov_instance_ext;

/* Quota-check, place and record the instance (scheduling) and queue "instance.create", in
 * one transaction. */
int sov_instance_create(sov_ctx *ctx, const char *tenant_id, const sov_instance_create_args *a,
                        sov_instance *ret, sov_op *op, sov_error *err);
/* Raw sizes, for a dry run that names no flavor, as the request gave them: has_* says a
 * number was given (not absent, not null). */
typedef struct sov_place_sizes {
    long long vcpus, memory_mib, disk_gib, gpus;
    bool has_vcpus, has_memory_mib, has_disk_gib, has_gpus;
} sov_place_sizes;
/* The dry run's rule on them: with a flavor, none given; without, vcpus and memory_mib
 * required, each in its range (bounded before any is narrowed to an int). SOV_E_INVALID
 * naming the field. */
int sov_place_sizes_check(const char *flavor, const sov_place_sizes *s, sov_error *err);
/* POST /v1/placement/dry-run: where the create a would be placed now, and why, claiming
 * nothing. a->flavor NULL: the sizes are sizes; a->image NULL: no image's rules. The create
 * and the dry run turn their input into a placement request with one function, so they
 * decide alike (the scheduler's order ends in the host's unique name: the same state gives
 * the same host). With a flavor the quota is checked as the create checks it, first (over
 * it: 403 before any placement answer); raw sizes are a capacity question and meet no
 * quota. name, user_data and ssh_keys are not read. No candidate: as sov_placement_dry_run, ret holding the counts. */
int sov_instance_dry_run(sov_ctx *ctx, const char *tenant_id, const sov_instance_create_args *a,
                         const sov_place_sizes *sizes, sov_placement *ret, sov_error *err);
int sov_instance_get(sov_ctx *ctx, const char *tenant_id, const char *id, sov_instance *ret,
                     sov_error *err);
/* Filters may be NULL; deleted instances are listed only when state asks for them. *ret: a
 * page to sov_instance_page_free(). */
int sov_instance_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                      const char *region, const char *state, const char *name,
                      const char *after, unsigned limit, sov_instance_page **ret,
                      sov_error *err);
/* start, stop, reboot, hard_stop: queued as "instance.action"; a conflict with the state
 * (start a deleting instance) is SOV_E_CONFLICT. tenant_id (NULL: any the caller sees), as
 * for sov_instance_get: an instance of another tenant is SOV_E_NOT_FOUND. */
int sov_instance_action(sov_ctx *ctx, const char *tenant_id, const char *id,
                        const char *action, sov_op *op, sov_error *err);
int sov_instance_delete(sov_ctx *ctx, const char *tenant_id, const char *id, sov_op *op,
                        sov_error *err);
/* Migrate an instance (POST /v1/instances/{id}/actions {action: migrate, live?, host?}):
 * checked, the target chosen and its room reserved, and "instance.migrate" queued, in one
 * transaction; the instance becomes 'migrating'. live (default: true for a running
 * instance) needs a running instance and no GPUs (SOV_E_CONFLICT with the reason); cold
 * (live false) takes a running or stopped one, which ends in the state it had. host (id or
 * name; operators only, else SOV_E_FORBIDDEN) names the target; without it, placement
 * chooses, as for a create, among the hosts of the tenant's policy other than the source.
 * A target outside the policy is SOV_E_RESIDENCY naming the policy and the target, for
 * operators too, before anything moves; the source host, a host not up, or one without
 * room: SOV_E_CONFLICT naming it. */
typedef struct sov_migrate_args {
    int live;                       /* 1, 0, or -1 for the default */
    const char *host;               /* NULL: placement chooses */
} sov_migrate_args;
int sov_instance_migrate(sov_ctx *ctx, const char *tenant_id, const char *id,
                         const sov_migrate_args *a, sov_op *op, sov_error *err);
/* The same in the caller's transaction, for any tenant's instance (an evacuation, acting
 * for the operator): the operation is queued as a child of parent_op_id (NULL: none). */
int sov_instance_migrate_tx(sov_dbconn *c, sov_ctx *ctx, const char *id,
                            const sov_migrate_args *a, const char *parent_op_id, sov_op *op,
                            sov_error *err);

/* One migration, as GET /v1/instances/{id}/migrations shows it. */
typedef struct sov_instance_migration {
    char id[SOV_UUID_LEN + 1];
    char instance_id[SOV_UUID_LEN + 1];
    char operation_id[SOV_UUID_LEN + 1];
    bool live;
    char source_host_id[SOV_UUID_LEN + 1], target_host_id[SOV_UUID_LEN + 1];
    char source_host[SOV_NAME_MAX + 1], target_host[SOV_NAME_MAX + 1];
    char state[16];                 /* queued, preparing, copying, switching, committing,
                                     * cleaning, succeeded, failed */
    char state_reason[512];
    long long data_total, data_processed, data_remaining, disk_total, disk_processed;
                                    /* -1: not known */
    long long downtime_ms;          /* -1: not known */
    char created_at[40], updated_at[40], finished_at[40];
} sov_instance_migration;

typedef SOV_PAGE(sov_instance_migration) sov_instance_migration_page;

/* The migrations of an instance the caller sees, oldest first (keyset on created_at, id). */
int sov_instance_migrations(sov_ctx *ctx, const char *tenant_id, const char *id,
                            const char *after, unsigned limit, sov_instance_migration_page *ret,
                            sov_error *err);

/* The tail of the serial console log (at most max bytes), read so that a hung host never
 * holds the caller (compute/instance_console.c): open finds the instance and its host and
 * takes one of console_max_concurrent slots (SOV_E_UNAVAILABLE, at once, when none is free);
 * start asks the host on a thread of its own and calls notify(arg) exactly once, from another
 * thread, when the text is there, the host failed, or console_timeout_ms passed; result then
 * gives the text (*ret to free()) or the error (SOV_E_UNAVAILABLE: no answer in time). */
typedef struct sov_console_read sov_console_read;
int sov_instance_console_open(sov_ctx *ctx, const char *tenant_id, const char *id, size_t max,
                              sov_console_read **ret, sov_error *err);
void sov_console_read_start(sov_console_read *r, void (*notify)(void *arg), void *arg);
int sov_console_read_result(sov_console_read *r, char **ret, size_t *len, sov_error *err);
void sov_console_read_free(sov_console_read *r);

/* An interactive session on the serial console (compute/console_stream.c). attach finds the
 * instance (SOV_E_NOT_FOUND for another tenant's), requires it running (SOV_E_CONFLICT), and
 * writes the audit entry (ctx->action, outcome SOV_OUTCOME_SWITCHED); it asks no host.
 * connect, on the caller's own thread (it waits on the host), opens the console on the
 * instance's host: SOV_E_CONFLICT when another session holds it and force is false; with
 * force, that session is taken over (its read says so). fd is polled for POLLIN; read gives
 * bytes (> 0), -2 when none are there yet, 0 when the console ended, -1 on a host failure;
 * taken_over says whether the end came from another session's force. One thread uses a
 * stream at a time, except taken_over. */
typedef struct sov_console_stream sov_console_stream;
int sov_instance_console_attach(sov_ctx *ctx, const char *tenant_id, const char *id,
                                bool force, sov_console_stream **ret, sov_error *err);
int sov_console_stream_connect(sov_console_stream *s, sov_error *err);
int sov_console_stream_fd(sov_console_stream *s);
long sov_console_stream_read(sov_console_stream *s, void *buf, size_t size, sov_error *err);
int sov_console_stream_write(sov_console_stream *s, const void *buf, size_t len,
                             sov_error *err);
bool sov_console_stream_taken_over(sov_console_stream *s);
/* The instance's id (for logs). */
const char *sov_console_stream_instance(sov_console_stream *s);
void sov_console_stream_free(sov_console_stream *s);
SOV_DEFINE_AUTOPTR(sov_console_stream, sov_console_stream_free)

/* What a domain is made of; sov_domain_xml renders it. Pure, for tests too.
 *
 * A disk or NIC is given with borrowed strings; sov_domain_spec_add_disk/_add_nic copy them
 * into the spec, which owns them until sov_domain_spec_release. Disks render in the order
 * added (the first is the boot disk), then NICs. */
typedef struct sov_domain_disk {
    const char *pool, *volume;  /* a volume of a libvirt storage pool, or */
    const char *path;           /* a file (pool and volume NULL) */
    const char *format;         /* "qcow2" or "raw" */
    const char *cache;          /* the driver's cache mode ("none"); NULL: libvirt's default */
    const char *bus;            /* NULL: "virtio" */
    const char *dev;            /* target dev: "vda", "vdb", ... */
    const char *serial;         /* what the guest sees (/dev/disk/by-id); NULL: none */
    bool readonly;
    const char *secret_uuid;    /* LUKS passphrase, a libvirt secret; NULL: not encrypted */
    long long iops_max;         /* <iotune> total_iops_sec; 0: no limit */
    long long bytes_per_s_max;  /* <iotune> total_bytes_sec; 0: no limit */
} sov_domain_disk;

typedef enum sov_nic_kind {
    SOV_NIC_NETWORK,            /* a libvirt network: the NAT network of today */
    SOV_NIC_OVS,                /* a port on an Open vSwitch bridge (OVN's br-int) */
} sov_nic_kind;

typedef struct sov_domain_nic {
    sov_nic_kind kind;
    const char *network;        /* SOV_NIC_NETWORK: the libvirt network's name */
    const char *bridge;         /* SOV_NIC_OVS: NULL: "br-int" */
    const char *interface_id;   /* SOV_NIC_OVS: the port's iface-id (OVN logical port) */
    const char *mac;
    unsigned mtu;               /* 0: the network's */
} sov_domain_nic;

typedef struct sov_domain_spec {
    const char *uuid;           /* the instance id, also the domain's UUID */
    const char *name;           /* "sov-<uuid>" */
    const char *tenant_id;
    const char *control_plane;  /* this deployment's id (control_plane table) */
    const char *virt_type;      /* "kvm" or "qemu" (TCG, no host CPU mode) */
    int vcpus;
    long long memory_mib;
    const char *console_log;    /* a file the serial console is logged to, or NULL */
    sov_domain_disk *disks;     /* owned: sov_domain_spec_add_disk */
    size_t ndisks;
    sov_domain_nic *nics;       /* owned: sov_domain_spec_add_nic */
    size_t nnics;
} sov_domain_spec;

/* Copy a disk or NIC (and its strings) into s. A disk needs pool and volume or a path, a
 * format and a dev; a NIC a MAC and its network (NAT) or interface id (OVS): else
 * SOV_E_INTERNAL, a caller's bug. */
int sov_domain_spec_add_disk(sov_domain_spec *s, const sov_domain_disk *d, sov_error *err);
int sov_domain_spec_add_nic(sov_domain_spec *s, const sov_domain_nic *n, sov_error *err);
/* Free what the adds copied; the borrowed top-level fields stay the caller's. */
void sov_domain_spec_release(sov_domain_spec *s);

/* The libvirt domain XML (malloc'd). */
int sov_domain_xml(const sov_domain_spec *s, char **ret, sov_error *err);
/* One <disk> element as sov_domain_xml renders it, for a hot attach (malloc'd). */
int sov_domain_disk_xml(const sov_domain_disk *d, char **ret, sov_error *err);
/* One <interface> element as sov_domain_xml renders it, for a hot attach (malloc'd). An OVS
 * NIC turns checksum and segmentation offload off (OVS's userspace datapath forwards what
 * the guest left for a NIC to fill in). */
int sov_domain_nic_xml(const sov_domain_nic *n, char **ret, sov_error *err);

/* ---- what other modules add to an instance create ----
 *
 * storage/ lets a create take volumes (boot from one, attach others) without compute/
 * knowing volumes: the handler passes the request's storage members through
 * sov_instance_create_args.ext (an opaque pointer compute/ never reads), and each
 * registered hook runs inside the create's (and the dry run's) transaction:
 *   prepare: before placement; may pin the request to one host (the host of the volumes:
 *            placement then rejects every other host as "volume_host", which the dry run
 *            shows), say the instance boots from a volume (no image overlay of its own), and
 *            refuse the create (a 4xx naming the field);
 *   commit:  after the instance row is written (not called for a dry run): record what it
 *            adds (attachments, a boot volume to make) in the same transaction.
 * A hook whose ext members are absent does nothing. */
typedef struct sov_instance_prep {
    char pin_host_id[SOV_UUID_LEN + 1];     /* "" for any host */
    char pin_reason[128];                   /* "volume 'data' is on host 'h1'" */
    char boot_volume_id[SOV_UUID_LEN + 1];  /* "" boots from the image */
    bool image_optional;                    /* the boot volume brings the OS: image not
                                             * required */
    char region[SOV_NAME_MAX + 1];          /* the region the instance must be in (where a
                                             * new boot volume's image lives); "" any */
    bool nics;                              /* the hook gives the instance its NICs (a
                                             * network module): no NAT NIC of compute's */
    /* In, set before prepare: the region the request names, else its image's, else one an
     * earlier hook required; "" when none is known. A hook that makes something in a
     * region (network/: the workspace's default network) makes it there. */
    char want_region[SOV_NAME_MAX + 1];
    void *state;                            /* the hook's own, from prepare to commit */
} sov_instance_prep;

/* ---- migration (compute/migrate.c: the request; migrate_ops.c: the worker) ----
 *
 * A migration moves an instance and everything it owns to another host of the tenant's
 * policy. Its worker ("instance.migrate") calls every hook's migrate() at each phase, in
 * the order hooks were added:
 *   PREPARE  before any byte moves, outside transactions (c NULL), both hosts open: make what
 *            the target needs (storage/: each host-local volume made empty on the target, its
 *            LUKS secret defined there; network/: each port's logical port may be bound on
 *            both chassis, requested-chassis "source,target", so the guest keeps its
 *            addresses through a live switch).
 *   COPY     cold only, the guest stopped, outside transactions: copy the bytes
 *            (storage/: each volume through sov_hv_volume_send).
 *   COMMIT   in the transaction that commits the move (c given): record it (storage/:
 *            each volume's host and allocation move to the target, a "moved" residency
 *            record per volume with the instance's migration as its reason).
 *   FINISH   after the commit, outside transactions: clean the source (storage/: the
 *            source's volume files and secrets; network/: requested-chassis the target only).
 *   ABORT    after a failure before the commit, outside transactions: undo PREPARE and COPY
 *            on the target (storage/: the target's copies; network/: back to the source).
 * A failure in PREPARE or COPY aborts the migration (the guest stays on the source); one in
 * COMMIT rolls the transaction back and is retried; one in FINISH is retried (the move has
 * happened). */
typedef enum sov_migrate_phase {
    SOV_MIGRATE_PREPARE,
    SOV_MIGRATE_COPY,
    SOV_MIGRATE_COMMIT,
    SOV_MIGRATE_FINISH,
    SOV_MIGRATE_ABORT,
} sov_migrate_phase;

/* What a hook sees of one migration. */
typedef struct sov_instance_move {
    const sov_instance *inst;       /* as before the move: host_id is the source */
    const char *migration_id;
    const sov_op *op;
    bool live;
    const char *source_host_id, *target_host_id;
    const char *source_host_name, *target_host_name;
    const char *source_machine, *target_machine;    /* libvirt host UUIDs (OVN chassis
                                                     * names); "" when unknown */
    sov_hv *source, *target;        /* open in PREPARE, COPY, FINISH and ABORT; else NULL */
    const sov_location *from, *to;  /* the hosts' places, for residency records */
    const sov_policy *policy;       /* the tenant's policy in force (COMMIT) */
} sov_instance_move;

typedef struct sov_instance_hook {
    const char *name;
    int (*prepare)(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id, const char *workspace,
                   const void *ext, sov_instance_prep *prep, sov_error *err);
    int (*commit)(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, const void *ext,
                  sov_instance_prep *prep, const sov_op *op, sov_error *err);
    void (*release)(sov_instance_prep *prep);   /* frees prep->state; optional */
    /* In the transaction where the delete's worker marks the instance deleted (its domain
     * gone): give back what the instance held (detach its volumes; delete the boot volume
     * its create made). Optional. */
    int (*deleted)(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, const sov_op *op,
                   sov_error *err);
    /* After the create's worker started the domain, before the instance is running (outside
     * any transaction): wait, bounded, for what the module's parts need (network/: its ports
     * up in OVN's Southbound). SOV_OP_LATER: not yet, the worker runs again in a moment
     * without spending an attempt; another failure fails the step. Optional. */
    int (*started)(sov_ctx *ctx, const sov_instance *inst, const sov_op *op, sov_error *err);
    /* ---- migration: what the module's parts of the instance need to move with it ----
     * In the request's transaction (sov_instance_migrate, also for each instance of an
     * evacuation): refuse the move (a 4xx naming the reason: a volume that cannot move)
     * or add to *extra_disk_gib the room its parts take on the target besides the instance
     * (host-local volumes), which the reservation on the target claims too. Optional. */
    int (*migrate_check)(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst, bool live,
                         const char *target_host_id, long long *extra_disk_gib,
                         sov_error *err);
    /* The worker's phases (sov_migrate_phase), each may run twice. Optional. */
    int (*migrate)(sov_dbconn *c, sov_ctx *ctx, sov_migrate_phase phase,
                   const struct sov_instance_move *m, sov_error *err);
} sov_instance_hook;

/* Add a hook, at start (kept, not copied). */
int sov_instance_hook_add(const sov_instance_hook *hook, sov_error *err);

/* A module's part of an instance's domain: its disks and NICs added to spec (whose top-level
 * fields the build has set). Called by each build of a domain (a create, later a redefine),
 * so it must give the same parts for the same instance. A failure fails the build. */
typedef int (*sov_domain_contrib_fn)(sov_ctx *ctx, const sov_instance *inst,
                                     sov_domain_spec *spec, sov_error *err);
/* A contributor returns SOV_OP_LATER (include/sov/ops.h) when a part is not ready yet (a boot
 * volume still being made): the build stops, and the create's worker runs again in a
 * moment without spending an attempt. */
/* Add a contributor, at start before any worker runs (network/, storage/). Compute's own
 * (boot disk, cloud-init seed, NAT NIC) come first, then these in the order added. */
int sov_domain_contrib_add(const char *name, sov_domain_contrib_fn fn, sov_error *err);
/* Call every contributor, in order, on spec. */
int sov_domain_spec_build(sov_ctx *ctx, const sov_instance *inst, sov_domain_spec *spec,
                          sov_error *err);

/* Module registration (include/sov/registry.h), called from sovd's main through its list:
 * compute/'s hypervisor drivers and instance and host operation kinds; the images' kinds. */
int sov_compute_register(sov_error *err);
int sov_image_register(sov_error *err);

#endif
