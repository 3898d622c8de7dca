/* idempotency.h: safe retries of creates.
 *
 * A POST carrying Idempotency-Key is claimed for (caller, key) before it runs. The same key
 * with the same request within 24 hours answers the first result (status, Location, body)
 * and creates nothing; with a different request it is refused; while the first still runs,
 * a retry is told so. Failures (non-2xx) release the key so the client can try again.
 *
 * A create records its answer in its own transaction (sov_ctx_tx runs the request's
 * sov_idem_hook before COMMIT): a sovd that dies between that commit and the reply leaves the
 * answer behind, not a claim that expires and lets a retry create a second time. */
#ifndef SOV_IDEMPOTENCY_H
#define SOV_IDEMPOTENCY_H

#include "sov/ctx.h"

#define SOV_IDEMPOTENCY_KEY_MAX 255

typedef enum sov_idem_state {
    SOV_IDEM_NEW,       /* claimed: run the request, then finish or release */
    SOV_IDEM_REPLAY,    /* answered before: send ret->status, location, body */
} sov_idem_state;

typedef struct sov_idem {
    sov_idem_state state;
    int status;
    char location[512];
    char *body;         /* REPLAY: malloc'd, for the caller to free */
} sov_idem;

/* How a handler's answer looks (status, Location or "", body: malloc'd, for the caller to
 * free), rendered from what the service's transaction filled in; 0 or -1. */
typedef int (*sov_idem_render_fn)(void *arg, int *status, char *location, size_t location_size,
                                  char **body);

/* The Idempotency-Key of a running request, for the transaction that creates (ctx->idem). */
typedef struct sov_idem_hook {
    const char *key;
    sov_idem_render_fn render; /* NULL: no transaction records the answer; the caller
                                  finishes after the reply, as before */
    void *arg;
    bool recorded;              /* a committed transaction holds the answer */
} sov_idem_hook;

/* Whether key is acceptable: 1..255 visible ASCII characters. */
bool sov_idem_key_valid(const char *key);

/* Claim key for ctx's caller and this request (request_sha256 of method, path and body).
 * SOV_E_CONFLICT when the key was used for another request or its first use still runs. */
int sov_idem_begin(sov_ctx *ctx, const char *key, const char *request_sha256, sov_idem *ret,
                   sov_error *err);
/* Store the answer of a claimed key (2xx). */
int sov_idem_finish(sov_ctx *ctx, const char *key, int status, const char *location,
                    const char *body, sov_error *err);
/* Store the answer of ctx->idem's key, rendered now, in the transaction running on c. */
int sov_idem_record(sov_dbconn *c, const sov_ctx *ctx, sov_error *err);
/* Release a claimed key whose request failed. */
int sov_idem_release(sov_ctx *ctx, const char *key, sov_error *err);

#endif
