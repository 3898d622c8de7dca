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

#include "sov/cleanup.h"
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

/* A policy on the heap (4 KB: placements hold theirs through a pointer), zeroed; NULL when
 * out of memory. sov_policy_free(NULL) does nothing. */
sov_policy *sov_policy_new(void);
void sov_policy_free(sov_policy *p);
SOV_DEFINE_AUTOPTR(sov_policy, sov_policy_free)

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

/* ---- history ---- */

/* One residency record of a resource, as GET /v1/{collection}/{id}/residency shows it. */
typedef struct sov_residency_event {
    long long seq;
    char at[40];                /* RFC 3339 UTC, with microseconds when it has them */
    char event[16];             /* placed, moved, copied, deleted */
    sov_location from, to;      /* all "" for none */
    sov_policy policy;          /* the policy in force when it was written */
    char reason[512];
    char operation_id[SOV_UUID_LEN + 1];    /* "" for none */
} sov_residency_event;

typedef SOV_PAGE(sov_residency_event) sov_residency_event_page;

/* The records of one resource of tenant_id in the order they were written (keyset: seq >
 * after, a decimal). The caller has made sure the principal sees the resource. */
int sov_residency_history(sov_ctx *ctx, const char *tenant_id, const char *resource_type,
                          const char *resource_id, const char *after, unsigned limit,
                          sov_residency_event_page *ret, sov_error *err);

/* ---- reports ----
 *
 * A residency report lists, for every resource in scope, where its data lived during a
 * period (intervals clipped to it), the resource-hours per country and jurisdiction, and
 * every interval the tenant's policy in force at the time did not allow. A worker builds it
 * from one consistent snapshot of the records, streamed through a server-side cursor, writes
 * it as CSV or JSON, signs it with this control plane's Ed25519 key and stores it in chunks
 * that any sovd can serve. */

#define SOV_KEY_ID_LEN 16               /* hex: the first 8 bytes of SHA-256(DER public key) */
#define SOV_SIGNATURE_LEN 64            /* an Ed25519 signature */
#define SOV_REPORT_TENANTS_MAX 64       /* tenants one report may name */
#define SOV_REPORT_CHUNK (1024 * 1024)  /* bytes per stored chunk of a document */

/* A published signing key: only its public half ever leaves the state folder. */
typedef struct sov_signing_key {
    char key_id[SOV_KEY_ID_LEN + 1];
    char algorithm[16];         /* "ed25519" */
    char public_pem[512];
    char created_at[40];
    char retired_at[40];        /* "" while in use */
} sov_signing_key;

/* Load the newest key this state folder holds (<state_dir>/signing/<key_id>.pem, 0600 in a
 * 0700 folder) or make one, and publish its public half in signing_keys. Once per process,
 * after migrations, before workers start; sov_signing_release() at exit. */
int sov_signing_init(sov_db *db, const char *state_dir, sov_error *err);
void sov_signing_release(void);
/* The key this process signs with now. */
int sov_signing_key_current(sov_ctx *ctx, sov_signing_key *ret, sov_error *err);
/* A published key by id, retired or not; SOV_E_NOT_FOUND otherwise. */
int sov_signing_key_get(sov_ctx *ctx, const char *key_id, sov_signing_key *ret,
                        sov_error *err);
/* Make a new key in this process's state folder, publish it, retire the one it replaces
 * (its public half stays served) and sign with the new one from now on. Audited. */
int sov_signing_rotate(sov_ctx *ctx, sov_signing_key *ret, sov_error *err);

/* The key one document is signed with, held from the header (its key id) to the signature
 * even if the process rotates meanwhile. */
typedef struct sov_signer sov_signer;
int sov_signer_get(sov_signer **ret, sov_error *err);
const char *sov_signer_key_id(const sov_signer *s);
/* Ed25519 over exactly msg[0..len). */
int sov_signer_sign(sov_signer *s, const void *msg, size_t len,
                    unsigned char sig[SOV_SIGNATURE_LEN], sov_error *err);
void sov_signer_free(sov_signer *s);
SOV_DEFINE_AUTOPTR(sov_signer, sov_signer_free)

typedef struct sov_report {
    char id[SOV_UUID_LEN + 1];
    char tenant_id[SOV_UUID_LEN + 1];       /* whose request it was */
    char requested_by[SOV_UUID_LEN + 1];    /* "" for sovd itself */
    long long from_us, to_us;               /* the period, microseconds since 1970 */
    char period_from[40], period_to[40];    /* the same, RFC 3339 UTC */
    bool all_tenants;                       /* else the tenants listed */
    size_t ntenants;
    char tenants[SOV_REPORT_TENANTS_MAX][SOV_UUID_LEN + 1];
    char format[8];                         /* csv or json */
    char state[16];                         /* queued, running, succeeded, failed */
    char state_reason[512];
    char operation_id[SOV_UUID_LEN + 1];
    char key_id[SOV_KEY_ID_LEN + 1];        /* "" until signed */
    long long rows, violations, size_bytes;
    char rows_sha256[65], document_sha256[65];
    char created_at[40], finished_at[40];
} sov_report;

typedef SOV_PAGE(sov_report) sov_report_page;

typedef struct sov_report_args {
    const char *from, *to;          /* RFC 3339; from < to, at most ten years apart */
    const char *format;             /* "csv" or "json" */
    /* NULL: the caller's own tenant, or every tenant for operators and auditors of the
     * operator tenant; they alone may name other tenants than their own. */
    const char *const *tenants;
    size_t ntenants;
} sov_report_args;

/* Record the report (queued) and its "residency.report" operation in one transaction. */
struct sov_op;
int sov_report_create(sov_ctx *ctx, const sov_report_args *a, sov_report *ret,
                      struct sov_op *op, sov_error *err);
/* Reports of the caller's tenant (any for operators); another's is SOV_E_NOT_FOUND. */
int sov_report_get(sov_ctx *ctx, const char *id, sov_report *ret, sov_error *err);
int sov_report_list(sov_ctx *ctx, const char *after, unsigned limit, sov_report_page *ret,
                    sov_error *err);
/* The signature of a finished report (SOV_E_CONFLICT while it is not). */
int sov_report_signature(sov_ctx *ctx, const char *id, unsigned char sig[SOV_SIGNATURE_LEN],
                         sov_report *meta, sov_error *err);

/* A finished report's document, read a piece at a time from its stored chunks. The reader
 * holds no pooled connection between reads (each chunk borrows one for its SELECT), so a
 * slow client never pins the pool; it holds one chunk (SOV_REPORT_CHUNK) in memory. */
typedef struct sov_report_reader sov_report_reader;
int sov_report_open(sov_ctx *ctx, const char *id, sov_report *meta, sov_report_reader **ret,
                    sov_error *err);
/* Up to max bytes from pos into buf: how many (0 past the end), or -1. */
long sov_report_read(sov_report_reader *r, unsigned long long pos, char *buf, size_t max,
                     sov_error *err);
void sov_report_reader_free(sov_report_reader *r);

/* Build report id: what the worker does, callable directly (bench/report). progress, when
 * not NULL, is told each step; returning -1 stops the build (the operation is not ours any
 * more). Run twice, it builds the same report again and replaces the first. */
typedef int (*sov_report_progress_fn)(void *arg, const char *step, int progress,
                                      sov_error *err);
int sov_report_build(sov_ctx *ctx, const char *id, sov_report_progress_fn progress,
                     void *arg, sov_error *err);

/* The operation kind "residency.report" (listed in compute/'s table of kinds). */
struct sov_op_run;
int sov_report_op(struct sov_op_run *run, const struct sov_op *op, sov_error *err);
int sov_report_op_failed(struct sov_op_run *run, const struct sov_op *op, const char *reason,
                         sov_error *err);
/* residency/'s registration (include/sov/registry.h): the report's operation kind. */
int sov_residency_register(sov_error *err);

#endif
