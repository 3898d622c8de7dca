/* error.h: how every fallible function reports failure.
 *
 * A function that can fail returns 0 or -1 and fills a sov_error owned by the caller.
 * Reporting never allocates. Only the HTTP edge (api/) maps codes to problem+json. */
#ifndef SOV_ERROR_H
#define SOV_ERROR_H

typedef enum sov_errcode {
    SOV_OK = 0,
    SOV_E_INVALID,          /* the request itself is wrong */
    SOV_E_NOT_FOUND,        /* also for other tenants' resources: never confirm they exist */
    SOV_E_CONFLICT,         /* state or uniqueness clash */
    SOV_E_RESIDENCY,        /* placement would break the tenant's residency policy */
    SOV_E_UNAUTHENTICATED,  /* no token, or a bad, expired or revoked one */
    SOV_E_FORBIDDEN,        /* authenticated, but the role may not do this */
    SOV_E_QUOTA,            /* a tenant quota would be exceeded */
    SOV_E_CAPACITY,         /* no host has room for the request (inside the policy) */
    SOV_E_UNREACHABLE,      /* a hypervisor named in the request cannot be reached */
    SOV_E_UNAVAILABLE,      /* database or hypervisor unreachable; retrying may work */
    SOV_E_INTERNAL,         /* a bug or an unexpected failure */
    SOV_E__COUNT
} sov_errcode;

/* Why, where callers must tell one failure of a code from another without reading msg. */
typedef enum sov_errreason {
    SOV_R_NONE = 0,
    SOV_R_OP_LOST,          /* SOV_E_CONFLICT: the operation's lease is someone else's now */
    SOV_R_MACHINE_TAKEN,    /* SOV_E_CONFLICT: the machine is already another host */
    SOV_R_REF_MISSING,      /* SOV_E_INVALID: field names a resource that does not exist */
} sov_errreason;

/* A live resource that keeps a deletion back (SOV_E_CONFLICT): the API's blocked_by. */
#define SOV_ERROR_MAX_BLOCKERS 8
typedef struct sov_blocker {
    char kind[24];      /* "instance", "image", "host", ... */
    char id[40];
    char name[64];
} sov_blocker;

typedef struct sov_error {
    sov_errcode code;
    char msg[256];      /* short, lower case, no final period; safe to show the tenant */
    char detail[512];   /* operators only: host names, SQLSTATEs, libvirt messages */
    char field[64];     /* SOV_E_INVALID: the offending input field, e.g. "vcpus";
                           SOV_E_QUOTA: the quota, e.g. "instances" */
    struct {
        long long limit, used, requested;
    } quota;            /* SOV_E_QUOTA only */
    sov_blocker blocked_by[SOV_ERROR_MAX_BLOCKERS]; /* SOV_E_CONFLICT of a deletion only */
    unsigned n_blocked; /* reset by every sov_error_set() and sov_error_invalid() */
    sov_errreason reason; /* SOV_R_NONE unless sov_error_reason() named one; reset likewise */
} sov_error;

#define SOV_ERROR_INIT { .code = SOV_OK }

/* Set code and message; always returns -1 so callers can `return sov_error_set(...)`. */
int sov_error_set(sov_error *err, sov_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the operator-only detail; returns -1. */
int sov_error_detail(sov_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* SOV_E_INVALID naming the offending field; returns -1. */
int sov_error_invalid(sov_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Name why (after sov_error_set(), which resets it); returns -1. */
int sov_error_reason(sov_error *err, sov_errreason reason);

/* Name one more live resource that blocks a deletion (beyond SOV_ERROR_MAX_BLOCKERS: ignored).
 * Call after sov_error_set(), which forgets earlier ones. */
void sov_error_block(sov_error *err, const char *kind, const char *id, const char *name);

/* Forget a previous error, e.g. before a retry. */
void sov_error_clear(sov_error *err);

/* "invalid", "not-found", ...: a stable name for logs and problem types. */
const char *sov_errcode_name(sov_errcode code);

#endif
