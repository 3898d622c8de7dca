/* instance_console.c: reading an instance's serial console log without letting its host
 * hold the caller. The log lives in the host's storage pool and is read through libvirt, and
 * a hung libvirtd (stopped, or a host gone silent) never answers: so the libvirt part runs on
 * a thread of its own, and a second thread calls the caller back when the text is there or
 * console_timeout_ms has passed, whichever comes first. A read that timed out keeps its
 * thread (libvirt cannot be interrupted) and its slot of console_max_concurrent until the
 * host answers: a hung host costs at most that many threads, and reads over the limit are
 * refused at once (SOV_E_UNAVAILABLE), never queued. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compute_int.h"
#include "sov/log.h"

/* Reads in flight in this process, those that timed out and still wait on a host included. */
static atomic_uint in_flight;

struct sov_console_read {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* CLOCK_MONOTONIC: signalled when the reader is done */
    unsigned refs;              /* the caller, the reader thread, the waiter thread */
    bool done;                  /* the reader finished: rc, text, len and err are set */
    bool slot;                  /* holds one of console_max_concurrent */
    unsigned timeout_ms;
    char uri[1024], host[128], pool[128], volume[128];
    size_t max;
    int rc;
    char *text;
    size_t len;
    sov_error err;
    void (*notify)(void *arg);
    void *arg;
};

static void
unref(sov_console_read *r)
{
    bool last;

    pthread_mutex_lock(&r->lock);
    last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (!last)
        return;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r->text);
    free(r);
}

static void
finish(sov_console_read *r, int rc, char *text, size_t len, const sov_error *err)
{
    pthread_mutex_lock(&r->lock);
    r->rc = rc;
    r->text = text;
    r->len = len;
    if (err)
        r->err = *err;
    r->done = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* The libvirt part: may wait for as long as the host does. */
static void *
reader_main(void *arg)
{
    sov_console_read *r = arg;
    sov_error err = SOV_ERROR_INIT;
    sov_autoptr(sov_hv) hv = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    rc = sov_hv_open(r->uri, &hv, &err);
    if (rc == 0)
        rc = sov_hv_volume_tail(hv, r->pool, r->volume, r->max, &text, &len, &err);
    if (rc < 0 && r->host[0])
        sov_log_debug("console of host '%s' not read: %s", r->host,
                      err.detail[0] ? err.detail : err.msg);
    finish(r, rc, text, len, &err);
    if (r->slot)
        atomic_fetch_sub(&in_flight, 1);
    unref(r);
    return NULL;
}

/* Wait for the reader until the deadline, then tell the caller either way. */
static void *
waiter_main(void *arg)
{
    sov_console_read *r = arg;
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += r->timeout_ms / 1000;
    until.tv_nsec += (long) (r->timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    while (!r->done)
        if (pthread_cond_timedwait(&r->cond, &r->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&r->lock);
    r->notify(r->arg);
    unref(r);
    return NULL;
}

static int
spawn(void *(*fn)(void *), sov_console_read *r)
{
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&r->lock);
    r->refs++;
    pthread_mutex_unlock(&r->lock);
    rc = pthread_create(&t, &attr, fn, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_lock(&r->lock);
        r->refs--;
        pthread_mutex_unlock(&r->lock);
    }
    return rc;
}

int
sov_instance_console_open(sov_ctx *ctx, const char *tenant_id, const char *id, size_t max,
                          sov_console_read **ret, sov_error *err)
{
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    repo_instance_host h;
    sov_console_read *r;
    pthread_condattr_t ca;

    if (sov_instance_get(ctx, tenant_id, id, &x, err) < 0)
        return -1;
    memset(&h, 0, sizeof(h));
    if (x.host_id[0]) {
        sov_autoptr(sov_dbconn) c = NULL;
        if (sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_repo_instance_host_get(c, x.host_id, &h, err) < 0)
            return -1;
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    r->refs = 1;
    r->timeout_ms = ctx->cfg->console_timeout_ms ? ctx->cfg->console_timeout_ms : 2000;
    r->max = max;
    if (!x.host_id[0]) {
        /* Never placed: nothing was ever logged, and no host to ask. */
        r->text = calloc(1, 1);
        if (!r->text) {
            sov_console_read_free(r);
            return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        }
        r->done = true;
        *ret = r;
        return 0;
    }
    if (atomic_fetch_add(&in_flight, 1) >= ctx->cfg->console_max_concurrent) {
        atomic_fetch_sub(&in_flight, 1);
        sov_console_read_free(r);
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "too many console reads at once (a host may not be answering); "
                             "try again in a moment");
    }
    r->slot = true;
    snprintf(r->uri, sizeof(r->uri), "%s", h.uri);
    snprintf(r->host, sizeof(r->host), "%s", h.name);
    snprintf(r->pool, sizeof(r->pool), "%s", ctx->cfg->storage_pool);
    snprintf(r->volume, sizeof(r->volume), "sov-%s-console.log", x.id);
    *ret = r;
    return 0;
}

void
sov_console_read_start(sov_console_read *r, void (*notify)(void *arg), void *arg)
{
    sov_error err = SOV_ERROR_INIT;
    bool reader = false;

    r->notify = notify;
    r->arg = arg;
    if (!r->done) {
        reader = spawn(reader_main, r) == 0;
        if (!reader) {
            sov_error_set(&err, SOV_E_UNAVAILABLE, "could not read the console now");
            finish(r, -1, NULL, 0, &err);
            if (r->slot)
                atomic_fetch_sub(&in_flight, 1);
        }
    }
    /* Without a waiter thread, wait here for the reader's outcome, still bounded. */
    if (spawn(waiter_main, r) != 0) {
        pthread_mutex_lock(&r->lock);
        r->refs++;
        pthread_mutex_unlock(&r->lock);
        waiter_main(r);
    }
}

int
sov_console_read_result(sov_console_read *r, char **ret, size_t *len, sov_error *err)
{
    int rc;

    pthread_mutex_lock(&r->lock);
    if (!r->done) {
        pthread_mutex_unlock(&r->lock);
        return sov_error_set(err, SOV_E_UNAVAILABLE,
                             "the host of this instance did not answer within %u ms; try "
                             "again later", r->timeout_ms);
    }
    rc = r->rc;
    if (rc == 0) {
        *ret = r->text;
        *len = r->len;
        r->text = NULL;
    } else {
        *err = r->err;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void
sov_console_read_free(sov_console_read *r)
{
    if (r)
        unref(r);
}
