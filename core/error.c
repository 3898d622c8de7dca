/* error.c: filling sov_error without allocating. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sov/error.h"

static const char *const names[SOV_E__COUNT] = {
    [SOV_OK] = "ok",
    [SOV_E_INVALID] = "invalid",
    [SOV_E_NOT_FOUND] = "not-found",
    [SOV_E_CONFLICT] = "conflict",
    [SOV_E_RESIDENCY] = "residency-policy",
    [SOV_E_UNAUTHENTICATED] = "unauthenticated",
    [SOV_E_FORBIDDEN] = "forbidden",
    [SOV_E_QUOTA] = "quota-exceeded",
    [SOV_E_CAPACITY] = "no-capacity",
    [SOV_E_UNREACHABLE] = "host-unreachable",
    [SOV_E_UNAVAILABLE] = "unavailable",
    [SOV_E_INTERNAL] = "internal",
};

int
sov_error_set(sov_error *err, sov_errcode code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    err->code = code;
    err->n_blocked = 0;
    err->reason = SOV_R_NONE;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int
sov_error_detail(sov_error *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return -1;
}

int
sov_error_invalid(sov_error *err, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return -1;
    err->code = SOV_E_INVALID;
    err->n_blocked = 0;
    err->reason = SOV_R_NONE;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int
sov_error_reason(sov_error *err, sov_errreason reason)
{
    if (err)
        err->reason = reason;
    return -1;
}

void
sov_error_block(sov_error *err, const char *kind, const char *id, const char *name)
{
    sov_blocker *b;

    if (!err || err->n_blocked >= SOV_ERROR_MAX_BLOCKERS)
        return;
    b = &err->blocked_by[err->n_blocked++];
    snprintf(b->kind, sizeof(b->kind), "%s", kind ? kind : "");
    snprintf(b->id, sizeof(b->id), "%s", id ? id : "");
    snprintf(b->name, sizeof(b->name), "%s", name ? name : "");
}

void
sov_error_clear(sov_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

const char *
sov_errcode_name(sov_errcode code)
{
    if ((unsigned) code >= SOV_E__COUNT || !names[code])
        return "internal";
    return names[code];
}
