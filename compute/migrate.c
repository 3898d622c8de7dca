/* migrate.c: a migration's request (sov_instance_migrate, sov_instance_migrate_tx) and its
 * history (sov_instance_migrations). The request decides everything before a byte moves, in
 * one transaction: the instance locked and its state checked, the target checked against
 * the tenant's residency policy (for operators too) or chosen by the scheduler inside it,
 * the target's room reserved (an allocation, no "placed" record), the migration row, the
 * instance 'migrating' and the "instance.migrate" operation (compute/migrate_ops.c).
 *
 * Decisions: without a named host the instance stays in its region (the scheduler looks at
 * the other hosts of that region, inside the policy); an operator may name a host in any
 * region the tenant's policy allows. The state the instance returns to (running or stopped)
 * is the operation's arg ("live running", "cold stopped", ...). A delete, or any other
 * action, is refused (409) while the instance migrates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "sov/audit.h"
#include "sov/crypto.h"

typedef struct migrate_args {
    sov_ctx *ctx;
    const char *tenant_id;      /* the caller's scope (NULL: any, as the caller sees) */
    const char *id;
    const sov_migrate_args *a;
    const char *parent_op_id;
    bool any_tenant;            /* _tx: an evacuation, acting for the operator */
    sov_op *op;
} migrate_args;

static int
not_found(const char *id, sov_error *err)
{
    return sov_error_set(err, SOV_E_NOT_FOUND, "instance '%s' does not exist", id);
}

/* live as asked (1, 0, -1 for the default) against the instance's state. */
static int
check_state(const sov_instance *x, int live, bool *ret_live, sov_error *err)
{
    bool running = strcmp(x->state, "running") == 0;
    bool stopped = strcmp(x->state, "stopped") == 0;

    if (!running && !stopped)
        return sov_error_set(err, SOV_E_CONFLICT, "cannot migrate instance '%s': it is %s",
                             x->name, x->state);
    if (live < 0)
        live = running;
    if (live && !running)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "cannot live-migrate instance '%s': it is %s (a stopped "
                             "instance moves cold: live false)", x->name, x->state);
    if (live && x->gpus > 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "cannot live-migrate instance '%s': it has %d GPUs, passed "
                             "through from its host, whose state cannot move (live false "
                             "moves it cold)", x->name, x->gpus);
    *ret_live = live;
    return 0;
}

/* One operation at a time on an instance. */
static int
check_idle(sov_dbconn *c, const sov_instance *x, sov_error *err)
{
    sov_op_page ops = { 0 };
    int rc = 0;

    if (sov_op_pending(c, x->id, NULL, NULL, &ops, err) < 0)
        return -1;
    if (ops.n > 0)
        rc = sov_error_set(err, SOV_E_CONFLICT,
                           "instance '%s' has an operation in progress (%s); try again when "
                           "it is done", x->name, ops.items[0].kind);
    free(ops.items);
    return rc;
}

/* The host an operator named: inside the policy first (before anything else is said about
 * it), then not the source, then up. */
static int
check_named(sov_dbconn *c, const sov_instance *x, const char *host, const repo_mhost *src,
            const sov_policy *policy, repo_mhost *ret, sov_error *err)
{
    char pol[2048];

    if (!*host)
        return sov_error_invalid(err, "host", "host is a host's name or id");
    if (sov_repo_mhost_get(c, host, true, ret, err) < 0) {
        if (err->code == SOV_E_NOT_FOUND)
            return sov_error_invalid(err, "host", "host '%s' does not exist", host);
        return -1;
    }
    if (!sov_policy_allows(policy, ret->loc.region, ret->loc.country, ret->loc.jurisdiction)) {
        sov_policy_json(policy, pol, sizeof(pol));
        return sov_error_set(err, SOV_E_RESIDENCY,
                             "cannot migrate instance '%s' to host '%s': its region %s (%s, "
                             "%s) is outside the tenant's residency policy %s", x->name,
                             ret->name, ret->loc.region, ret->loc.country,
                             ret->loc.jurisdiction, pol);
    }
    if (strcmp(ret->id, src->id) == 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "cannot migrate instance '%s' to host '%s': it already runs "
                             "there", x->name, ret->name);
    if (strcmp(ret->state, "up") != 0)
        return sov_error_set(err, SOV_E_CONFLICT,
                             "cannot migrate instance '%s' to host '%s': the host is %s, "
                             "not up", x->name, ret->name, ret->state);
    return 0;
}

/* The target's room: the instance's sizes and what its parts take (hooks), on the named host
 * or on the best other host of the instance's region, reserved for the migration. */
static int
reserve(sov_dbconn *c, migrate_args *ma, const sov_instance *x, const char *migration_id,
        const repo_mhost *named, bool live, sov_placement *p, sov_error *err)
{
    long long extra = 0;
    sov_place_request r;

    if (sov_instance_hooks_migrate_check(c, ma->ctx, x, live, named ? named->id : NULL, &extra,
                                         err) < 0)
        return -1;
    memset(&r, 0, sizeof(r));
    r.tenant_id = x->tenant_id;
    r.vcpus = x->vcpus;
    r.memory_mib = x->memory_mib;
    r.disk_gib = x->disk_gib + extra;
    r.gpus = x->gpus;
    r.region = named ? NULL : x->region;
    r.pin_host_id = named ? named->id : NULL;
    r.exclude_host_id = x->host_id;
    r.anti_affinity_group = x->anti_affinity_group[0] ? x->anti_affinity_group : NULL;
    r.resource_type = "migration";
    r.resource_id = migration_id;
    r.reserve = true;           /* no record: the operation's id is not needed (nor made) */
    if (sov_placement_claim(c, ma->ctx, &r, p, err) < 0) {
        size_t n = strlen(err->msg);
        if (named && err->code == SOV_E_CAPACITY && n + 40 < sizeof(err->msg))
            snprintf(err->msg + n, sizeof(err->msg) - n, " (host '%s' was named)",
                     named->name);
        return -1;
    }
    return 0;
}

static int
migrate_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    static const char *const from[] = { "running", "stopped", NULL };
    migrate_args *ma = arg;
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    sov_autoptr(sov_placement) p = NULL;
    repo_mhost src, named;
    repo_migration m;
    sov_policy policy;
    bool live = false;
    char oparg[64];
    const char *was = ma->ctx->action;
    int rc;

    if (sov_repo_instance_get(c, NULL, ma->id, true, &x, err) < 0)
        return err->code == SOV_E_NOT_FOUND ? not_found(ma->id, err) : -1;
    if (!ma->any_tenant && (!sov_ctx_sees_tenant(ma->ctx, x.tenant_id) ||
                            (ma->tenant_id && strcmp(ma->tenant_id, x.tenant_id) != 0)))
        return not_found(ma->id, err);
    if (strcmp(x.state, "deleted") == 0)
        return not_found(ma->id, err);
    if (ma->a->host && !ma->any_tenant && !sov_ctx_is_operator(ma->ctx))
        return sov_error_set(err, SOV_E_FORBIDDEN,
                             "only operators name the target host: leave host out and the "
                             "scheduler chooses one inside your residency policy");
    if (check_state(&x, ma->a->live, &live, err) < 0 || check_idle(c, &x, err) < 0)
        return -1;
    if (!x.host_id[0])
        return sov_error_set(err, SOV_E_CONFLICT, "cannot migrate instance '%s': it has no "
                             "host", x.name);
    if (sov_repo_mhost_get(c, x.host_id, false, &src, err) < 0 ||
        sov_policy_load(c, x.tenant_id, &policy, err) < 0)
        return -1;
    if (ma->a->host && check_named(c, &x, ma->a->host, &src, &policy, &named, err) < 0)
        return -1;
    memset(&m, 0, sizeof(m));
    if (sov_uuid_v4(m.m.id, err) < 0)
        return -1;
    /* The room first: a refusal there leaves nothing queued, even in a caller's
     * transaction that goes on (an evacuation's). */
    if (!(p = sov_placement_new()))
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    if (reserve(c, ma, &x, m.m.id, ma->a->host ? &named : NULL, live, p, err) < 0)
        return -1;
    snprintf(oparg, sizeof(oparg), "%s %s", live ? "live" : "cold", x.state);
    if (ma->parent_op_id)
        rc = sov_op_enqueue_child(c, ma->ctx, ma->parent_op_id, x.tenant_id, "instance.migrate",
                                  "instance", x.id, oparg, ma->op, err);
    else
        rc = sov_op_enqueue(c, ma->ctx, x.tenant_id, "instance.migrate", "instance", x.id,
                            oparg, ma->op, err);
    if (rc < 0)
        return -1;
    snprintf(m.m.instance_id, sizeof(m.m.instance_id), "%s", x.id);
    snprintf(m.m.operation_id, sizeof(m.m.operation_id), "%s", ma->op->id);
    m.m.live = live;
    snprintf(m.m.source_host_id, sizeof(m.m.source_host_id), "%s", src.id);
    snprintf(m.m.source_host, sizeof(m.m.source_host), "%s", src.name);
    snprintf(m.m.target_host_id, sizeof(m.m.target_host_id), "%s", p->host_id);
    snprintf(m.m.target_host, sizeof(m.m.target_host), "%s", p->host_name);
    snprintf(m.tenant_id, sizeof(m.tenant_id), "%s", x.tenant_id);
    snprintf(m.reservation_id, sizeof(m.reservation_id), "%s", p->allocation_id);
    if (sov_repo_migration_insert(c, &m, ma->ctx->who ? ma->ctx->who->user_id : NULL,
                                  err) < 0 ||
        sov_repo_instance_set_state(c, x.id, from, "migrating", "", ma->op->id, err) < 0)
        return -1;
    ma->ctx->action = "instances.migrate";
    rc = sov_audit_append(c, ma->ctx, x.tenant_id, "instance", x.id, SOV_OUTCOME_ACCEPTED,
                          err);
    ma->ctx->action = was;
    return rc;
}

static int
args_check(const sov_migrate_args *a, sov_error *err)
{
    if (a->live < -1 || a->live > 1)
        return sov_error_invalid(err, "live", "live is true or false");
    if (a->host && !*a->host)
        return sov_error_invalid(err, "host", "host is a host's name or id");
    return 0;
}

int
sov_instance_migrate(sov_ctx *ctx, const char *tenant_id, const char *id,
                     const sov_migrate_args *a, sov_op *op, sov_error *err)
{
    migrate_args ma = { ctx, tenant_id, id, a, NULL, false, op };

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (args_check(a, err) < 0)
        return -1;
    return sov_ctx_tx(ctx, migrate_tx, &ma, err);
}

int
sov_instance_migrate_tx(sov_dbconn *c, sov_ctx *ctx, const char *id, const sov_migrate_args *a,
                        const char *parent_op_id, sov_op *op, sov_error *err)
{
    migrate_args ma = { ctx, NULL, id, a, parent_op_id, true, op };

    if (!sov_uuid_valid(id))
        return not_found(id, err);
    if (args_check(a, err) < 0)
        return -1;
    return migrate_tx(c, &ma, err);
}

int
sov_instance_migrations(sov_ctx *ctx, const char *tenant_id, const char *id, const char *after,
                        unsigned limit, sov_instance_migration_page *ret, sov_error *err)
{
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };
    sov_autoptr(sov_dbconn) c = NULL;

    if (after && !sov_uuid_valid(after))
        return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    /* Another tenant's instance does not exist for the caller. */
    if (sov_instance_get(ctx, tenant_id, id, &x, err) < 0 ||
        sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_migration_list(c, x.id, after, limit ? limit : 100, ret, err);
}
