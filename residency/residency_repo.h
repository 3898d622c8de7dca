/* residency_repo.h: SQL for regions, zones, policies and residency records (private). */
#ifndef SOV_RESIDENCY_REPO_H
#define SOV_RESIDENCY_REPO_H

#include "sov/residency.h"

int sov_repo_region_insert(sov_dbconn *c, const sov_region *r, sov_error *err);
int sov_repo_region_get(sov_dbconn *c, const char *code, sov_region *ret, sov_error *err);
int sov_repo_region_list(sov_dbconn *c, const char *after, unsigned limit, sov_region_page *ret,
                         sov_error *err);
int sov_repo_region_update(sov_dbconn *c, const char *code, const char *name,
                           const char *datacenter, sov_error *err);
/* Make the zone list exactly zones[0..n): add the new, drop the gone (a zone with hosts
 * cannot be dropped: SOV_E_CONFLICT naming it). */
int sov_repo_zones_set(sov_dbconn *c, const char *region, const char (*zones)[SOV_NAME_MAX + 1],
                       size_t n, sov_error *err);
/* SOV_E_CONFLICT naming the hosts, live images and live instances in region code. */
int sov_repo_region_blockers(sov_dbconn *c, const char *code, sov_error *err);
int sov_repo_region_delete(sov_dbconn *c, const char *code, sov_error *err);

/* found: false when the tenant has no policy of its own. */
int sov_repo_policy_get(sov_dbconn *c, const char *tenant_id, sov_policy *ret, bool *found,
                        sov_error *err);
int sov_repo_policy_put(sov_dbconn *c, const char *tenant_id, const sov_policy *p,
                        sov_error *err);
/* Regions where the tenant holds allocations now, comma-separated (malloc'd). */
int sov_repo_tenant_regions(sov_dbconn *c, const char *tenant_id, char **ret, sov_error *err);

int sov_repo_record_insert(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                           const char *resource_id, const char *event, const sov_location *from,
                           const sov_location *to, const char *policy_json, const char *reason,
                           const char *operation_id, sov_error *err);

#endif
