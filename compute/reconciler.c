/* reconciler.c: the reconciler role's thread.
 *
 * Every host_check_interval seconds it runs one sov_host_check_all() pass (then the
 * instances' and the interrupted uploads' passes) as sovd itself
 * (no principal; audit entries say role "system", action "hosts.check"). The first pass
 * runs at once, so a sovd started after an outage learns which hosts are gone without
 * waiting an interval. Stopping wakes the thread from its wait; a pass under way is finished
 * first, and a pass never holds a transaction across libvirt calls. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sov/compute.h"
#include "sov/log.h"
#include "sov/registry.h"

struct sov_reconciler {
    sov_db *db;
    const sov_config *cfg;
    unsigned interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;    /* on CLOCK_MONOTONIC: a clock change neither hurries nor stalls */
    bool stop;
};

/* Wait interval_s, or less if told to stop. Returns whether to stop. */
static bool
wait_or_stop(sov_reconciler *r)
{
    struct timespec until;
    bool stop;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t) r->interval_s;
    pthread_mutex_lock(&r->lock);
    while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &until) != ETIMEDOUT)
        ;
    stop = r->stop;
    pthread_mutex_unlock(&r->lock);
    return stop;
}

static void *
run(void *arg)
{
    sov_reconciler *r = arg;
    sov_ctx ctx = { .db = r->db, .cfg = r->cfg, .who = NULL, .request_id = "",
                    .action = "hosts.check" };

    do {
        sov_error err = SOV_ERROR_INIT;
        unsigned changed = 0;

        ctx.action = "hosts.check";
        if (sov_host_check_all(&ctx, &changed, &err) < 0)
            sov_log_warn("could not check hosts, trying again in %u s: %s%s%s", r->interval_s,
                         err.msg, err.detail[0] ? ": " : "", err.detail);
        sov_error_clear(&err);
        if (sov_instances_reconcile(&ctx, &changed, &err) < 0)
            sov_log_warn("could not reconcile instances, trying again in %u s: %s%s%s",
                         r->interval_s, err.msg, err.detail[0] ? ": " : "", err.detail);
        sov_error_clear(&err);
        ctx.action = "images.reconcile";
        if (sov_image_uploads_reconcile(&ctx, &changed, &err) < 0)
            sov_log_warn("could not reconcile image uploads, trying again in %u s: %s%s%s",
                         r->interval_s, err.msg, err.detail[0] ? ": " : "", err.detail);
        /* Then every other module's pass (include/sov/registry.h), in registration order. */
        const char *const *names;
        size_t npasses;
        const sov_reconcile_pass *passes = sov_registry_reconcile_passes(&names, &npasses);
        for (size_t i = 0; i < npasses; i++) {
            sov_error_clear(&err);
            ctx.action = names[i];
            if (passes[i](&ctx, &changed, &err) < 0)
                sov_log_warn("reconcile pass %s failed, trying again in %u s: %s%s%s", names[i],
                             r->interval_s, err.msg, err.detail[0] ? ": " : "", err.detail);
        }
    } while (!wait_or_stop(r));
    return NULL;
}

int
sov_reconciler_start(sov_db *db, const sov_config *cfg, sov_reconciler **ret, sov_error *err)
{
    sov_reconciler *r;
    pthread_condattr_t attr;
    int rc;

    r = calloc(1, sizeof(*r));
    if (!r)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    r->db = db;
    r->cfg = cfg;
    r->interval_s = cfg->host_check_interval > 0 ? cfg->host_check_interval : 10;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &attr);
    pthread_condattr_destroy(&attr);
    rc = pthread_create(&r->thread, NULL, run, r);
    if (rc != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return sov_error_set(err, SOV_E_INTERNAL, "could not start the reconciler: %s",
                             strerror(rc));
    }
    sov_log_info("reconciler started: checking hosts every %u s", r->interval_s);
    *ret = r;
    return 0;
}

void
sov_reconciler_stop(sov_reconciler *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
    sov_log_info("reconciler stopped");
}
