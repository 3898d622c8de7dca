/* audit.h: the tamper-evident audit log.
 *
 * Every mutating request, and every denied one, appends an entry: time, request id, tenant,
 * user, token, role, action, resource, outcome (HTTP status) and source address. Entries form
 * a SHA-256 chain: each hash covers the entry's canonical content and the previous hash, and a
 * single locked head row serialises appends, so the chain never forks. A row edited or
 * deleted behind sovd's back is found by sov_audit_verify(). No personal data: users are
 * named by their opaque id only. */
#ifndef SOV_AUDIT_H
#define SOV_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "sov/ctx.h"

typedef struct sov_audit_entry {
    long long seq;
    char at[40];                /* RFC 3339 with microseconds, UTC */
    char request_id[80];
    char tenant_id[SOV_UUID_LEN + 1];
    char user_id[SOV_UUID_LEN + 1];
    char token_id[SOV_UUID_LEN + 1];
    char role[16];
    char action[64];
    char resource_type[32];
    char resource_id[160];
    int outcome;
    char source[64];
    char prev_hash[65];
    char hash[65];
} sov_audit_entry;

/* What a service did, as its audit entry says. The entry stores it as the HTTP status the
 * request answers (sov_audit_outcome_code), so GET /v1/audit and the hash chain read as
 * before; services never name a status. */
typedef enum sov_outcome {
    SOV_OUTCOME_OK = 0,     /* done: changed in place (200) */
    SOV_OUTCOME_CREATED,    /* a new resource exists (201) */
    SOV_OUTCOME_ACCEPTED,   /* queued: an operation carries it out (202) */
    SOV_OUTCOME_DELETED,    /* gone (204) */
    SOV_OUTCOME_SWITCHED,   /* a stream opened: the connection switched protocols (101) */
    SOV_OUTCOME__COUNT
} sov_outcome;

/* The number an entry stores for an outcome. */
int sov_audit_outcome_code(sov_outcome outcome);

/* Append an entry for ctx's request inside the caller's transaction on c. tenant_id is the
 * tenant the action concerns (NULL: the principal's). Sets ctx->audit_in_tx. */
int sov_audit_append(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                     const char *resource_type, const char *resource_id, sov_outcome outcome,
                     sov_error *err);

/* The same in a transaction of its own, for work that changed nothing else. */
int sov_audit_append_alone(sov_ctx *ctx, const char *tenant_id, const char *resource_type,
                           const char *resource_id, sov_outcome outcome, sov_error *err);

/* The HTTP edge's own: a request it denied or that failed, in a transaction of its own,
 * stored with the status it answered. */
int sov_audit_append_refusal(sov_ctx *ctx, const char *tenant_id, const char *resource_type,
                             const char *resource_id, unsigned status, sov_error *err);

typedef struct sov_audit_filter {
    const char *tenant_id;      /* NULL: every tenant (operator, operator auditors) */
    const char *user_id;
    const char *action;
    const char *resource_type;
    const char *resource_id;
    const char *since;          /* RFC 3339, inclusive */
    const char *until;          /* RFC 3339, exclusive */
    long long after;            /* keyset: entries with seq > after */
    unsigned limit;
} sov_audit_filter;

/* Entries in seq order; *ret is an array to free(). Scope is decided by the caller's filter:
 * sov_audit_scope() gives the tenant a principal may read. */
int sov_audit_list(sov_ctx *ctx, const sov_audit_filter *f, sov_audit_entry **ret,
                   size_t *ret_n, sov_error *err);

/* The tenant whose entries ctx's principal may read: NULL for all (operator, or an auditor
 * of the operator tenant), else its own. */
const char *sov_audit_scope(const sov_ctx *ctx);

typedef struct sov_audit_verdict {
    bool ok;
    long long entries;      /* entries checked: the caller's scope's (sov_audit_scope) */
    long long broken_seq;   /* the first entry that does not fit, when !ok */
    char reason[160];
} sov_audit_verdict;

/* Walk the whole chain in order, in pages, checking sequence, links and hashes, and the
 * head row against the last entry. Every entry is checked whoever asks (a tenant's entries
 * are only as sound as the chain they hang in); entries counts those of the caller's scope,
 * sov_audit_scope(): a tenant admin or auditor verifies its own tenant's. */
int sov_audit_verify(sov_ctx *ctx, sov_audit_verdict *ret, sov_error *err);

/* The canonical text an entry's hash covers (exposed for tests). Returns its length. */
size_t sov_audit_canonical(const sov_audit_entry *e, char *buf, size_t size);

#endif
