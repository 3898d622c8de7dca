/* instance_hooks.c: what other modules add to an instance create and delete
 * (sov_instance_hook, include/sov/compute.h). storage/ lets a create boot from a volume and
 * attach volumes without compute/ knowing volumes: each hook added at start runs inside the
 * create's (and the dry run's) transaction before placement (prepare), after the instance
 * row is written (commit), and in the transaction where the delete's worker marks the
 * instance deleted (deleted). Hooks are kept as given, in the order added, like the domain
 * contributors of domain_spec.c. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "compute_int.h"
#include "sov/log.h"

static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;
static const sov_instance_hook *hooks[SOV_INSTANCE_HOOKS_MAX];
static size_t nhooks;

int
sov_instance_hook_add(const sov_instance_hook *hook, sov_error *err)
{
    int rc = 0;

    if (!hook || !hook->name || !hook->prepare)
        return sov_error_set(err, SOV_E_INTERNAL, "an instance hook needs a name and prepare");
    pthread_mutex_lock(&hooks_lock);
    if (nhooks == SOV_INSTANCE_HOOKS_MAX)
        rc = sov_error_set(err, SOV_E_INTERNAL, "too many instance hooks ('%s')", hook->name);
    else
        hooks[nhooks++] = hook;
    pthread_mutex_unlock(&hooks_lock);
    return rc;
}

/* A snapshot of the table: hooks run without the lock. */
static size_t
snapshot(const sov_instance_hook **out)
{
    size_t n;

    pthread_mutex_lock(&hooks_lock);
    n = nhooks;
    memcpy(out, hooks, n * sizeof(*out));
    pthread_mutex_unlock(&hooks_lock);
    return n;
}

/* Fold one hook's answer into the merged one: two hooks may not pin two hosts, nor give two
 * boot volumes (a create's bug, or two modules' disagreement: a conflict either way). */
static int
merge(sov_instance_prep *into, const sov_instance_prep *p, sov_error *err)
{
    if (p->pin_host_id[0]) {
        if (into->pin_host_id[0] && strcmp(into->pin_host_id, p->pin_host_id) != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "the instance cannot be on two hosts: "
                                 "%s; %s", into->pin_reason, p->pin_reason);
        snprintf(into->pin_host_id, sizeof(into->pin_host_id), "%s", p->pin_host_id);
        snprintf(into->pin_reason, sizeof(into->pin_reason), "%s", p->pin_reason);
    }
    if (p->boot_volume_id[0]) {
        if (into->boot_volume_id[0])
            return sov_error_set(err, SOV_E_CONFLICT, "the instance has two boot volumes");
        snprintf(into->boot_volume_id, sizeof(into->boot_volume_id), "%s", p->boot_volume_id);
    }
    if (p->region[0]) {
        if (into->region[0] && strcmp(into->region, p->region) != 0)
            return sov_error_set(err, SOV_E_CONFLICT, "the instance cannot be in regions '%s' "
                                 "and '%s' at once", into->region, p->region);
        snprintf(into->region, sizeof(into->region), "%s", p->region);
    }
    into->image_optional = into->image_optional || p->image_optional;
    into->nics = into->nics || p->nics;
    return 0;
}

/* The members of the create meant for hook h: the entry of its name, NULL when none. */
static const void *
ext_for(const sov_instance_hook *h, const sov_instance_ext *ext, size_t next)
{
    for (size_t i = 0; i < next; i++)
        if (ext[i].hook && strcmp(ext[i].hook, h->name) == 0)
            return ext[i].args;
    return NULL;
}

int
sov_instance_hooks_prepare(sov_dbconn *c, sov_ctx *ctx, const char *tenant_id,
                           const char *workspace, const sov_instance_ext *ext, size_t next,
                           const char *want_region, sov_instance_hooks *run, sov_error *err)
{
    sov_instance_hooks_release(run);
    run->n = snapshot(run->hooks);
    for (size_t i = 0; i < run->n; i++) {
        const char *want = run->merged.region[0] && !(want_region && *want_region)
                               ? run->merged.region : want_region;
        snprintf(run->preps[i].want_region, sizeof(run->preps[i].want_region), "%s",
                 want ? want : "");
        if (run->hooks[i]->prepare(c, ctx, tenant_id, workspace, ext_for(run->hooks[i], ext, next),
                                   &run->preps[i], err) < 0)
            return -1;
        if (merge(&run->merged, &run->preps[i], err) < 0)
            return -1;
    }
    return 0;
}

int
sov_instance_hooks_commit(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst,
                          const sov_instance_ext *ext, size_t next, sov_instance_hooks *run,
                          const sov_op *op, sov_error *err)
{
    for (size_t i = 0; i < run->n; i++)
        if (run->hooks[i]->commit &&
            run->hooks[i]->commit(c, ctx, inst, ext_for(run->hooks[i], ext, next),
                                  &run->preps[i], op, err) < 0)
            return -1;
    return 0;
}

void
sov_instance_hooks_release(sov_instance_hooks *run)
{
    for (size_t i = 0; i < run->n; i++)
        if (run->hooks[i]->release)
            run->hooks[i]->release(&run->preps[i]);
    memset(run, 0, sizeof(*run));
}

int
sov_instance_hooks_deleted(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst,
                           const sov_op *op, sov_error *err)
{
    const sov_instance_hook *list[SOV_INSTANCE_HOOKS_MAX];
    size_t n = snapshot(list);

    for (size_t i = 0; i < n; i++)
        if (list[i]->deleted && list[i]->deleted(c, ctx, inst, op, err) < 0) {
            sov_log_debug("instance hook '%s' failed on delete: %s", list[i]->name, err->msg);
            return -1;
        }
    return 0;
}

int
sov_instance_hooks_started(sov_ctx *ctx, const sov_instance *inst, const sov_op *op,
                           sov_error *err)
{
    const sov_instance_hook *list[SOV_INSTANCE_HOOKS_MAX];
    size_t n = snapshot(list);

    for (size_t i = 0; i < n; i++)
        if (list[i]->started) {
            int rc = list[i]->started(ctx, inst, op, err);

            if (rc != 0)
                return rc;
        }
    return 0;
}

int
sov_instance_hooks_migrate_check(sov_dbconn *c, sov_ctx *ctx, const sov_instance *inst,
                                 bool live, const char *target_host_id,
                                 long long *extra_disk_gib, sov_error *err)
{
    const sov_instance_hook *hs[SOV_INSTANCE_HOOKS_MAX];
    size_t n = snapshot(hs);

    for (size_t i = 0; i < n; i++)
        if (hs[i]->migrate_check &&
            hs[i]->migrate_check(c, ctx, inst, live, target_host_id, extra_disk_gib, err) < 0)
            return -1;
    return 0;
}

/* ABORT walks every hook even after one failed (each undoes its own part); the other
 * phases stop at the first failure. */
int
sov_instance_hooks_migrate(sov_dbconn *c, sov_ctx *ctx, sov_migrate_phase phase,
                           const sov_instance_move *m, sov_error *err)
{
    const sov_instance_hook *hs[SOV_INSTANCE_HOOKS_MAX];
    size_t n = snapshot(hs);
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        sov_error mine = SOV_ERROR_INIT;
        if (!hs[i]->migrate || hs[i]->migrate(c, ctx, phase, m, &mine) == 0)
            continue;
        sov_log_warn("instance %s: the %s part of migration %s failed: %s", m->inst->id,
                     hs[i]->name, m->migration_id, mine.msg);
        if (rc == 0)
            *err = mine;
        rc = -1;
        if (phase != SOV_MIGRATE_ABORT)
            break;
    }
    return rc;
}
