/* report_repo.h: the SQL of residency history, reports, their chunks and signing keys
 * (private to residency/). */
#ifndef SOV_REPORT_REPO_H
#define SOV_REPORT_REPO_H

#include "sov/repo/db_pq.h"
#include "sov/residency.h"

/* us (microseconds since 1970) as RFC 3339 UTC: whole seconds, and the fraction when there
 * is one. */
void sov_report_time_format(long long us, char out[40]);

/* ---- history ---- */

int sov_repo_history(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                     const char *resource_id, long long after, unsigned limit,
                     sov_residency_event_page *ret, sov_error *err);

/* ---- signing keys ---- */

/* Publish a public key (a key already published stays as it is). */
int sov_repo_key_publish(sov_dbconn *c, const char *key_id, const char *public_pem,
                         sov_error *err);
int sov_repo_key_get(sov_dbconn *c, const char *key_id, sov_signing_key *ret, sov_error *err);
/* Of the key ids in ids (a '{...}' literal of hex ids), the newest one not retired; *found
 * false when none is. */
int sov_repo_key_newest(sov_dbconn *c, const char *ids, char ret[SOV_KEY_ID_LEN + 1], bool *found,
                        sov_error *err);
int sov_repo_key_retire(sov_dbconn *c, const char *key_id, sov_error *err);

/* ---- reports ---- */

/* scope: a '{...}' literal of tenant ids, or NULL for every tenant. */
int sov_repo_report_insert(sov_dbconn *c, const char *id, const char *tenant_id,
                           const char *requested_by, const char *from, const char *to,
                           const char *scope, const char *format, const char *operation_id,
                           sov_error *err);
/* tenant_id NULL: any tenant's. */
int sov_repo_report_get(sov_dbconn *c, const char *tenant_id, const char *id, sov_report *ret,
                        sov_error *err);
int sov_repo_report_list(sov_dbconn *c, const char *tenant_id, const char *after, unsigned limit,
                         sov_report_page *ret, sov_error *err);
/* Move a report that has not succeeded to state (running, failed) with reason. */
int sov_repo_report_state(sov_dbconn *c, const char *id, const char *state, const char *reason,
                          sov_error *err);
int sov_repo_report_signature(sov_dbconn *c, const char *id, unsigned char sig[SOV_SIGNATURE_LEN],
                              sov_error *err);
/* In the caller's transaction: drop what an earlier run stored, store one chunk, then record
 * the outcome (succeeded, with r's figures and the signature). */
int sov_repo_report_chunks_clear(sov_dbconn *c, const char *id, sov_error *err);
int sov_repo_report_chunk_put(sov_dbconn *c, const char *id, int seq, const void *data, size_t len,
                              sov_error *err);
int sov_repo_report_finish(sov_dbconn *c, const sov_report *r,
                           const unsigned char sig[SOV_SIGNATURE_LEN], sov_error *err);
/* Chunk seq of a report as a binary result (column 0: the bytes); SOV_E_NOT_FOUND if none. */
int sov_repo_report_chunk_get(sov_dbconn *c, const char *id, int seq, PGresult **ret,
                              sov_error *err);

/* ---- building: one snapshot, a server-side cursor ---- */

/* The columns of a fetched record, by their index in the array sov_repo_build_record_cols()
 * fills: a place's five (host, region, country, jurisdiction, datacenter) stay in order. */
enum {
    REC_TYPE, REC_ID, REC_TENANT, REC_EVENT, REC_AT_US,
    REC_FROM_HOST, REC_FROM_REGION, REC_FROM_COUNTRY, REC_FROM_JURISDICTION, REC_FROM_DC,
    REC_TO_HOST, REC_TO_REGION, REC_TO_COUNTRY, REC_TO_JURISDICTION, REC_TO_DC,
    REC__COUNT
};

/* In the caller's snapshot transaction (sov_db_tx_snapshot_on): the build's settings, and
 * the snapshot's time (microseconds since 1970) into *now_us. */
int sov_repo_build_begin(sov_dbconn *c, long long *now_us, sov_error *err);
/* The policy-changed records of the tenants in r's scope before its end, by tenant and time:
 * tenant_id, at (microseconds), jurisdictions, countries, regions (comma-separated). */
int sov_repo_build_policies(sov_dbconn *c, const sov_report *r, PGresult **ret, sov_error *err);
/* Look that result's columns up, once (col: REPO_POLICY_COLS entries); then parse row i. */
#define REPO_POLICY_COLS 5
int sov_repo_build_policy_cols(const PGresult *res, int col[REPO_POLICY_COLS], sov_error *err);
void sov_repo_build_policy_row(const PGresult *res, int i, const int col[REPO_POLICY_COLS],
                               char tenant[SOV_UUID_LEN + 1], long long *at_us, sov_policy *ret);
/* DECLARE the cursor over the records of r's scope before its end (no policy changes), by
 * resource and seq; FETCH the next rows, in two halves: send asks for them and returns at
 * once, wait takes them (an empty result at the end), so the caller can work on one batch
 * while PostgreSQL gets the next ready; CLOSE (the transaction is the caller's). */
int sov_repo_build_declare(sov_dbconn *c, const sov_report *r, sov_error *err);
int sov_repo_build_fetch_send(sov_dbconn *c, sov_error *err);
int sov_repo_build_fetch_wait(sov_dbconn *c, PGresult **ret, sov_error *err);
int sov_repo_build_end(sov_dbconn *c, sov_error *err);
/* Look the columns of a fetched batch up, once, into col[REC_...]. */
int sov_repo_build_record_cols(const PGresult *res, int col[REC__COUNT], sov_error *err);

#endif
