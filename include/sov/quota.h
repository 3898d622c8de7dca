/* quota.h: per-tenant limits, enforced where resources are created.
 *
 * Usage changes only inside the transaction that creates or deletes what it counts, by an
 * UPDATE that locks the tenant's row for that resource and checks the limit in the same
 * statement: concurrent creates queue on the row and cannot overshoot. */
#ifndef SOV_QUOTA_H
#define SOV_QUOTA_H

#include "sov/ctx.h"

typedef enum sov_quota_resource {
    SOV_QUOTA_INSTANCES,
    SOV_QUOTA_VCPUS,
    SOV_QUOTA_MEMORY_MIB,
    SOV_QUOTA_GPUS,
    SOV_QUOTA_VOLUMES,
    SOV_QUOTA_STORAGE_GIB,
    SOV_QUOTA_WORKSPACES,
    SOV_QUOTA_SNAPSHOTS,
    SOV_QUOTA_NETWORKS,
    SOV_QUOTA_SUBNETS,
    SOV_QUOTA_PORTS,
    SOV_QUOTA_SECURITY_GROUPS,
    SOV_QUOTA_SECURITY_GROUP_RULES,
    SOV_QUOTA_PUBLIC_IPS,
    SOV_QUOTA__COUNT
} sov_quota_resource;

typedef struct sov_quota {
    long long max, used;
} sov_quota;

const char *sov_quota_name(sov_quota_resource r);
/* -1 when name is no quota. */
int sov_quota_parse(const char *name);
/* The default limit of each resource, from configuration (quota_<name> keys). */
long long sov_quota_default(const sov_config *cfg, sov_quota_resource r);

/* Give a new tenant its rows at the configured defaults (inside its creation transaction). */
int sov_quota_init_tenant(sov_dbconn *c, const sov_config *cfg, const char *tenant_id,
                          sov_error *err);

/* Count amount more of r against the tenant's limit, in the caller's transaction. Over the
 * limit: SOV_E_QUOTA naming the quota, its limit, the usage and the request. */
int sov_quota_charge(sov_dbconn *c, const char *tenant_id, sov_quota_resource r,
                     long long amount, sov_error *err);
/* Whether amount more of r fits the tenant's limit now, read without a lock: an early
 * answer (SOV_E_QUOTA as sov_quota_charge gives) before costlier work such as placement.
 * Not the authority: sov_quota_charge, later in the same transaction, still decides. */
int sov_quota_check(sov_dbconn *c, const char *tenant_id, sov_quota_resource r,
                    long long amount, sov_error *err);
/* Give amount of r back (never below zero), in the caller's transaction. */
int sov_quota_release(sov_dbconn *c, const char *tenant_id, sov_quota_resource r,
                      long long amount, sov_error *err);

/* The same for every quota kind the modules declared for resource_type
 * (sov_registry_add_quota_uses, include/sov/registry.h), in the order declared; the first
 * that fails stops the others (the caller's transaction rolls back what came before). */
int sov_quota_charge_resource(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                              const void *resource, sov_error *err);
int sov_quota_check_resource(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                             const void *resource, sov_error *err);
int sov_quota_release_resource(sov_dbconn *c, const char *tenant_id,
                               const char *resource_type, const void *resource,
                               sov_error *err);

/* Limits and usage of a tenant the principal sees. */
int sov_quota_get(sov_ctx *ctx, const char *tenant_id, sov_quota ret[SOV_QUOTA__COUNT],
                  sov_error *err);
/* Set limits (operator): max[r] < 0 leaves r unchanged. Audited. */
int sov_quota_set(sov_ctx *ctx, const char *tenant_id, const long long max[SOV_QUOTA__COUNT],
                  sov_quota ret[SOV_QUOTA__COUNT], sov_error *err);

#endif
