/* residency.h: where a tenant's data may live, and the record of where it has lived.
 *
 * A region is a place: a code (fr-mougins-1), an ISO 3166-1 country, the jurisdiction that
 * country belongs to (EU for the 27 member states, EEA for Iceland, Liechtenstein and Norway,
 * OTHER for the rest), a datacenter, and zones. A tenant's policy lists allowed jurisdictions,
 * countries and regions; an empty list constrains nothing, the allowed set is the
 * intersection of the lists given, and without a policy of its own a tenant gets the EU.
 * Residency records are append-only (the database refuses UPDATE and DELETE). */
#ifndef SOV_RESIDENCY_H
#define SOV_RESIDENCY_H

#include <stdbool.h>
#include <stddef.h>

#include "sov/ctx.h"
#include "sov/identity.h"

/* ---- countries and jurisdictions ---- */

/* Whether code is an assigned ISO 3166-1 alpha-2 code (upper case). */
bool sov_country_valid(const char *code);
/* "EU", "EEA" or "OTHER" for a valid code; NULL otherwise. */
const char *sov_country_jurisdiction(const char *code);
/* Every assigned code, for tests and policy comparison. */
const char *const *sov_country_all(size_t *n);
/* Whether j names a jurisdiction: "EU", "EEA" or "OTHER". */
bool sov_jurisdiction_valid(const char *j);

/* ---- regions ---- */

#define SOV_ZONES_MAX 32

typedef struct sov_region {
    char code[SOV_NAME_MAX + 1];
    char name[SOV_TEXT_MAX * 4 + 1];
    char country[3];
    char jurisdiction[8];
    char datacenter[SOV_TEXT_MAX * 4 + 1];
    size_t nzones;
    char zones[SOV_ZONES_MAX][SOV_NAME_MAX + 1];
    char created_at[40], updated_at[40];
} sov_region;

typedef SOV_PAGE(sov_region) sov_region_page;

/* Create from code, name, country, datacenter and zones of in; the jurisdiction is derived.
 * A region has at least one zone. */
int sov_region_create(sov_ctx *ctx, const sov_region *in, sov_region *ret, sov_error *err);
int sov_region_get(sov_ctx *ctx, const char *code, sov_region *ret, sov_error *err);
int sov_region_list(sov_ctx *ctx, const char *after, unsigned limit, sov_region_page *ret,
                    sov_error *err);
/* NULL name or datacenter keep theirs; zones (when nzones >= 0) replaces the list, and a
 * zone that still has hosts cannot go (SOV_E_CONFLICT). The country cannot change. */
int sov_region_update(sov_ctx *ctx, const char *code, const char *name,
                      const char *datacenter, const char (*zones)[SOV_NAME_MAX + 1],
                      long nzones, sov_region *ret, sov_error *err);
/* Only an empty region (no hosts) can be deleted. */
int sov_region_delete(sov_ctx *ctx, const char *code, sov_error *err);
/* Every region, for policy evaluation (small: regions are places). *ret to free(). */
int sov_region_all(sov_dbconn *c, sov_region **ret, size_t *n, sov_error *err);

/* ---- policies ---- */

#define SOV_POLICY_MAX 64

typedef struct sov_policy {
    size_t njurisdictions, ncountries, nregions;
    char jurisdictions[3][8];
    char countries[SOV_POLICY_MAX][3];
    char regions[SOV_POLICY_MAX][SOV_NAME_MAX + 1];
} sov_policy;

/* The default policy: {jurisdictions: ["EU"]}. */
void sov_policy_default(sov_policy *p);
/* Whether p allows a region with this code, country and jurisdiction. */
bool sov_policy_allows(const sov_policy *p, const char *code, const char *country,
                       const char *jurisdiction);
/* Whether everything inner allows, outer allows too: checked on every known region and on
 * a region yet to be built in every country (whose code no policy names). */
bool sov_policy_within(const sov_policy *inner, const sov_policy *outer,
                       const sov_region *regions, size_t nregions);
/* Check p's entries: known jurisdictions, valid countries, existing regions, no duplicates,
 * at least one list given. SOV_E_INVALID naming the field. */
int sov_policy_check(const sov_policy *p, const sov_region *regions, size_t nregions,
                     sov_error *err);
/* {"jurisdictions":[...],"countries":[...],"regions":[...]} into buf; returns its length. */
size_t sov_policy_json(const sov_policy *p, char *buf, size_t size);

/* The tenant's policy (the default when it has none of its own). */
int sov_policy_get(sov_ctx *ctx, const char *tenant_id, sov_policy *ret, sov_error *err);
int sov_policy_load(sov_dbconn *c, const char *tenant_id, sov_policy *ret, sov_error *err);
/* Replace it. A tenant admin may only narrow the policy in force; an operator may set any,
 * including one reaching beyond the EU. Audited, and written to the tenant's residency
 * records as policy-changed. */
int sov_policy_set(sov_ctx *ctx, const char *tenant_id, const sov_policy *p, sov_policy *ret,
                   sov_error *err);

/* ---- records ---- */

/* Where data is: a host and the place it belongs to. All "" for "nowhere". */
typedef struct sov_location {
    char host[SOV_NAME_MAX + 1];
    char region[SOV_NAME_MAX + 1];
    char country[3];
    char jurisdiction[8];
    char datacenter[SOV_TEXT_MAX * 4 + 1];
} sov_location;

/* Append a residency record in the caller's transaction. event: placed, moved, copied,
 * deleted, policy-changed. operation_id may be NULL. */
int sov_residency_record(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                         const char *resource_id, const char *event,
                         const sov_location *from, const sov_location *to,
                         const sov_policy *policy, const char *reason,
                         const char *operation_id, sov_error *err);

#endif
