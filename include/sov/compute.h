/* compute.h: hosts, placement and the reconciler.
 *
 * A host is a libvirt hypervisor in a region's zone. Adding one opens its URI and records
 * what discovery finds; the reconciler checks every host's connection periodically and moves
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
#include "sov/identity.h"
#include "sov/residency.h"

/* ---- hosts ---- */

typedef struct sov_host {
    char id[SOV_UUID_LEN + 1];
    char name[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    char zone[SOV_NAME_MAX + 1];
    char libvirt_uri[1024];
    char state[16];             /* up, down, disabled, draining */
    char state_reason[256];
    sov_hv_node node;           /* what discovery found */
    double cpu_allocation_ratio, ram_allocation_ratio;
    int vcpus_used;
    long long memory_mib_used, disk_gib_used;
    int gpus_used;
    char checked_at[40], created_at[40], updated_at[40];
} sov_host;

typedef SOV_PAGE(sov_host) sov_host_page;

typedef struct sov_host_create_args {
    const char *name, *region, *zone, *libvirt_uri;
    double cpu_allocation_ratio;    /* <= 0: default 4.0 */
    double ram_allocation_ratio;    /* <= 0: default 1.0 */
} sov_host_create_args;

/* Open the URI and discover: unreachable is SOV_E_UNREACHABLE with libvirt's message. */
int sov_host_create(sov_ctx *ctx, const sov_host_create_args *a, sov_host *ret,
                    sov_error *err);
int sov_host_get(sov_ctx *ctx, const char *id, sov_host *ret, sov_error *err);
/* Filters may be NULL. */
int sov_host_list(sov_ctx *ctx, const char *region, const char *state, const char *after,
                  unsigned limit, sov_host_page *ret, sov_error *err);
/* state: NULL keeps it; "up", "disabled" or "draining" (down is the reconciler's word).
 * Ratios <= 0 keep theirs. */
int sov_host_update(sov_ctx *ctx, const char *id, const char *state, double cpu_ratio,
                    double ram_ratio, sov_host *ret, sov_error *err);
/* Only a host without allocations can be deleted. */
int sov_host_delete(sov_ctx *ctx, const char *id, sov_error *err);

/* One reconciler pass over the hosts: probe each that is up or down and move it to the
 * other state when its connection says so (audited). Returns how many changed. */
int sov_host_check_all(sov_ctx *ctx, unsigned *ret_changed, sov_error *err);

/* The reconciler role: a thread running sov_host_check_all every interval_s seconds. */
typedef struct sov_reconciler sov_reconciler;
int sov_reconciler_start(sov_db *db, const sov_config *cfg, sov_reconciler **ret,
                         sov_error *err);
void sov_reconciler_stop(sov_reconciler *r);

/* ---- placement ---- */

typedef enum sov_reject {
    SOV_REJECT_POLICY,
    SOV_REJECT_STATE,
    SOV_REJECT_ZONE,
    SOV_REJECT_GPU,
    SOV_REJECT_CAPACITY,
    SOV_REJECT_AFFINITY,
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
    const char *anti_affinity_group;        /* NULL for none */
    const char *resource_type, *resource_id;
    const char *operation_id;               /* for the residency record; NULL for none */
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
    sov_policy policy;                      /* the policy in force */
} sov_placement;

/* Check a request's shape (positive sizes, known zone/region/country names). */
int sov_place_request_check(const sov_place_request *r, sov_error *err);

/* Decide without claiming anything (POST /v1/placement/dry-run). No candidate:
 * SOV_E_RESIDENCY when nothing the policy allows has hosts (detail names the policy),
 * SOV_E_CAPACITY otherwise; ret holds the counts either way. */
int sov_placement_dry_run(sov_ctx *ctx, const sov_place_request *r, sov_placement *ret,
                          sov_error *err);
/* Decide and claim in the caller's transaction on c: the host's usage goes up, and an
 * allocation row, the decision and a "placed" residency record are stored. */
int sov_placement_claim(sov_dbconn *c, sov_ctx *ctx, const sov_place_request *r,
                        sov_placement *ret, sov_error *err);
/* Give an allocation's capacity back, in the caller's transaction. */
int sov_placement_release(sov_dbconn *c, const char *allocation_id, sov_error *err);

#endif
