/* registry.h: the module registry, what lets modules plug in without editing each other.
 *
 * core/ keeps the tables; it never knows what is in them (core/ does not depend on
 * compute/ or any module above it). Each module has one registration function that adds its
 * drivers and its operation kinds; sovd's main calls them through one list
 * (sov_modules[] in api/main.c) before anything starts, so registration needs no lock
 * against lookups, but it takes one anyway (tests register wrappers while threads run).
 *
 * Drivers are chosen by a URI's scheme, as libvirt's virConnectDriver tables are: a driver
 * registered for "qemu" serves "qemu:///system", "qemu+tls://h/system" and "qemu+ssh://...";
 * one registered for "" serves every URI (the default). The longest registered prefix of the
 * scheme wins, and among equals the last registered: a test replaces a driver by
 * registering a wrapper for the same scheme, and takes it back with sov_registry_remove. */
#ifndef SOV_REGISTRY_H
#define SOV_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "sov/ctx.h"
#include "sov/error.h"
#include "sov/ops.h"

typedef enum sov_driver_kind {
    SOV_DRIVER_DOMAIN,      /* sov_hv_domain_ops (include/sov/hv.h) */
    SOV_DRIVER_STORAGE,     /* sov_hv_storage_ops */
    SOV_DRIVER_NETWORK,     /* sov_hv_network_ops */
    SOV_DRIVER__COUNT
} sov_driver_kind;

#define SOV_REGISTRY_DRIVERS_MAX 32
#define SOV_REGISTRY_OP_KINDS_MAX 64

/* Serve URIs whose scheme starts with scheme_prefix with table (kept, not copied).
 * SOV_E_INVALID for a prefix with ':' or '/' in it or a NULL table; SOV_E_INTERNAL when
 * full. */
int sov_registry_add_driver(sov_driver_kind kind, const char *scheme_prefix, const void *table,
                            sov_error *err);
#define sov_registry_add_domain_driver(prefix, ops, err) \
    sov_registry_add_driver(SOV_DRIVER_DOMAIN, (prefix), (ops), (err))
#define sov_registry_add_storage_driver(prefix, ops, err) \
    sov_registry_add_driver(SOV_DRIVER_STORAGE, (prefix), (ops), (err))
#define sov_registry_add_network_driver(prefix, ops, err) \
    sov_registry_add_driver(SOV_DRIVER_NETWORK, (prefix), (ops), (err))
/* Take back the last registration of table for scheme_prefix; false when there was none. */
bool sov_registry_remove_driver(sov_driver_kind kind, const char *scheme_prefix,
                                const void *table);
/* The table serving uri, NULL when none does. */
const void *sov_registry_driver(sov_driver_kind kind, const char *uri);

/* Add a module's operation kinds (a NULL-kind-terminated table, kept, not copied).
 * SOV_E_CONFLICT when a kind is already registered (nothing of the table is added). */
int sov_registry_add_op_kinds(const sov_op_kind *kinds, sov_error *err);
/* Every registered kind, in registration order, NULL-kind-terminated (for
 * sov_workers_start). Valid until the next registration. */
const sov_op_kind *sov_registry_op_kinds(void);

/* What one resource of a module counts against a quota kind (include/sov/quota.h): a
 * module declares its kinds for the resources it creates, and core/quota.c charges, checks
 * and releases what was declared (sov_quota_charge_resource, ...), so another module adds a
 * kind to a resource (a storage module's `volumes` for an instance's disks) with a
 * registration of its own, without editing the resource's module. */
typedef struct sov_quota_use {
    const char *resource_type;  /* "instance": what the module passes to sov_quota_*_resource */
    int quota;                  /* a sov_quota_resource */
    /* How much of it one resource counts; resource is the struct the module documents for
     * resource_type (an instance: a sov_instance, include/sov/compute.h). */
    long long (*amount)(const void *resource);
    bool skip_zero;             /* a resource counting 0 is not charged nor checked */
} sov_quota_use;

#define SOV_REGISTRY_QUOTA_USES_MAX 32

/* Add n uses (kept, not copied), after those registered before: charges run in that order.
 * SOV_E_CONFLICT when a resource type already counts against one of the kinds. */
int sov_registry_add_quota_uses(const sov_quota_use *uses, size_t n, sov_error *err);
/* Every registered use, in registration order; *n of them. */
const sov_quota_use *sov_registry_quota_uses(size_t *n);

/* A module's pass of the reconciler: compare what the hosts hold with the database, repair
 * or flag drift (audited), count repairs. The reconciler role runs every registered pass
 * after compute/'s own (hosts, then instances), each interval. */
typedef int (*sov_reconcile_pass)(sov_ctx *ctx, unsigned *ret_repairs, sov_error *err);
#define SOV_REGISTRY_RECONCILE_MAX 16
int sov_registry_add_reconcile_pass(const char *name, sov_reconcile_pass fn, sov_error *err);
/* Every registered pass, in order; *n of them; names[i] names passes[i]. */
const sov_reconcile_pass *sov_registry_reconcile_passes(const char *const **names, size_t *n);

/* A module's registration function, as main's list holds them. */
typedef int (*sov_module_register)(sov_error *err);

/* Forget everything (tests). */
void sov_registry_reset(void);

#endif
