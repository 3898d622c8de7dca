/* registry.c: the tables modules register (drivers by URI scheme, operation kinds).
 *
 * Small fixed arrays under one mutex: a handful of registrations at start, a lookup per
 * hypervisor connection opened, nothing on a hot path that a linear scan would slow. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sov/registry.h"

typedef struct driver_entry {
    char prefix[32];
    const void *table;
} driver_entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static driver_entry drivers[SOV_DRIVER__COUNT][SOV_REGISTRY_DRIVERS_MAX];
static size_t ndrivers[SOV_DRIVER__COUNT];
static sov_op_kind op_kinds[SOV_REGISTRY_OP_KINDS_MAX + 1];
static size_t nop_kinds;
static sov_quota_use quota_uses[SOV_REGISTRY_QUOTA_USES_MAX];
static size_t nquota_uses;
static sov_reconcile_pass passes[SOV_REGISTRY_RECONCILE_MAX];
static const char *pass_names[SOV_REGISTRY_RECONCILE_MAX];
static size_t npasses;

int
sov_registry_add_driver(sov_driver_kind kind, const char *scheme_prefix, const void *table,
                        sov_error *err)
{
    int rc = 0;

    if ((unsigned) kind >= SOV_DRIVER__COUNT || !table || !scheme_prefix)
        return sov_error_set(err, SOV_E_INVALID, "no driver table or scheme");
    if (strpbrk(scheme_prefix, ":/") || strlen(scheme_prefix) >= sizeof(drivers[0][0].prefix))
        return sov_error_set(err, SOV_E_INVALID, "'%s' is no URI scheme", scheme_prefix);
    pthread_mutex_lock(&lock);
    if (ndrivers[kind] == SOV_REGISTRY_DRIVERS_MAX) {
        rc = sov_error_set(err, SOV_E_INTERNAL, "the driver registry is full");
    } else {
        driver_entry *e = &drivers[kind][ndrivers[kind]++];
        snprintf(e->prefix, sizeof(e->prefix), "%s", scheme_prefix);
        e->table = table;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

bool
sov_registry_remove_driver(sov_driver_kind kind, const char *scheme_prefix, const void *table)
{
    bool found = false;

    if ((unsigned) kind >= SOV_DRIVER__COUNT || !scheme_prefix)
        return false;
    pthread_mutex_lock(&lock);
    for (size_t i = ndrivers[kind]; i-- > 0;) {
        driver_entry *e = &drivers[kind][i];
        if (e->table == table && strcmp(e->prefix, scheme_prefix) == 0) {
            memmove(e, e + 1, (ndrivers[kind] - i - 1) * sizeof(*e));
            ndrivers[kind]--;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

const void *
sov_registry_driver(sov_driver_kind kind, const char *uri)
{
    const void *best = NULL;
    size_t best_len = 0, scheme_len;
    const char *colon;

    if ((unsigned) kind >= SOV_DRIVER__COUNT || !uri)
        return NULL;
    /* No ':' at all: no scheme, only the default ("") may serve it. */
    colon = strchr(uri, ':');
    scheme_len = colon ? (size_t) (colon - uri) : 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < ndrivers[kind]; i++) {
        const driver_entry *e = &drivers[kind][i];
        size_t len = strlen(e->prefix);
        /* >=: among equal prefixes the last registered wins (a test's wrapper). */
        if (len <= scheme_len && strncmp(uri, e->prefix, len) == 0 &&
            (!best || len >= best_len)) {
            best = e->table;
            best_len = len;
        }
    }
    pthread_mutex_unlock(&lock);
    return best;
}

int
sov_registry_add_op_kinds(const sov_op_kind *kinds, sov_error *err)
{
    size_t n = 0;
    int rc = 0;

    if (!kinds)
        return sov_error_set(err, SOV_E_INVALID, "no operation kinds");
    while (kinds[n].kind)
        n++;
    pthread_mutex_lock(&lock);
    if (nop_kinds + n > SOV_REGISTRY_OP_KINDS_MAX) {
        rc = sov_error_set(err, SOV_E_INTERNAL, "the operation kind registry is full");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!kinds[i].handler) {
            rc = sov_error_set(err, SOV_E_INVALID, "operation kind '%s' has no handler",
                               kinds[i].kind);
            goto out;
        }
        for (size_t j = 0; j < nop_kinds; j++)
            if (strcmp(op_kinds[j].kind, kinds[i].kind) == 0) {
                rc = sov_error_set(err, SOV_E_CONFLICT,
                                   "operation kind '%s' is registered twice", kinds[i].kind);
                goto out;
            }
        for (size_t j = 0; j < i; j++)
            if (strcmp(kinds[j].kind, kinds[i].kind) == 0) {
                rc = sov_error_set(err, SOV_E_CONFLICT,
                                   "operation kind '%s' is registered twice", kinds[i].kind);
                goto out;
            }
    }
    memcpy(&op_kinds[nop_kinds], kinds, n * sizeof(*kinds));
    nop_kinds += n;
    memset(&op_kinds[nop_kinds], 0, sizeof(op_kinds[0]));
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

const sov_op_kind *
sov_registry_op_kinds(void)
{
    return op_kinds;
}

int
sov_registry_add_quota_uses(const sov_quota_use *uses, size_t n, sov_error *err)
{
    int rc = 0;

    if (!uses && n > 0)
        return sov_error_set(err, SOV_E_INVALID, "no quota uses");
    pthread_mutex_lock(&lock);
    if (nquota_uses + n > SOV_REGISTRY_QUOTA_USES_MAX) {
        rc = sov_error_set(err, SOV_E_INTERNAL, "the quota use registry is full");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!uses[i].resource_type || !uses[i].amount || uses[i].quota < 0) {
            rc = sov_error_set(err, SOV_E_INVALID, "a quota use without resource or amount");
            goto out;
        }
        for (size_t j = 0; j < nquota_uses + i; j++) {
            const sov_quota_use *u = j < nquota_uses ? &quota_uses[j] : &uses[j - nquota_uses];
            if (u->quota == uses[i].quota &&
                strcmp(u->resource_type, uses[i].resource_type) == 0) {
                rc = sov_error_set(err, SOV_E_CONFLICT,
                                   "a %s already counts against quota %d",
                                   uses[i].resource_type, uses[i].quota);
                goto out;
            }
        }
    }
    memcpy(&quota_uses[nquota_uses], uses, n * sizeof(*uses));
    nquota_uses += n;
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

const sov_quota_use *
sov_registry_quota_uses(size_t *n)
{
    *n = nquota_uses;
    return quota_uses;
}

int
sov_registry_add_reconcile_pass(const char *name, sov_reconcile_pass fn, sov_error *err)
{
    int rc = 0;

    if (!name || !*name || !fn)
        return sov_error_set(err, SOV_E_INVALID, "a reconcile pass needs a name and a function");
    pthread_mutex_lock(&lock);
    if (npasses == SOV_REGISTRY_RECONCILE_MAX)
        rc = sov_error_set(err, SOV_E_INTERNAL, "too many reconcile passes ('%s')", name);
    else {
        pass_names[npasses] = name;
        passes[npasses++] = fn;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

const sov_reconcile_pass *
sov_registry_reconcile_passes(const char *const **names, size_t *n)
{
    *n = npasses;
    if (names)
        *names = pass_names;
    return passes;
}

void
sov_registry_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(ndrivers, 0, sizeof(ndrivers));
    memset(op_kinds, 0, sizeof(op_kinds));
    nop_kinds = 0;
    nquota_uses = 0;
    npasses = 0;
    pthread_mutex_unlock(&lock);
}
