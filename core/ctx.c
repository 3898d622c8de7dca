/* ctx.c: roles and the request context services receive. */
#include <stdio.h>
#include <string.h>

#include "sov/ctx.h"
#include "sov/idempotency.h"
#include "sov/identity.h"
#include "sov/ops.h"

static const struct {
    sov_role role;
    const char *name;
} roles[] = {
    { SOV_ROLE_OPERATOR, "operator" }, { SOV_ROLE_ADMIN, "admin" },
    { SOV_ROLE_MEMBER, "member" },     { SOV_ROLE_READER, "reader" },
    { SOV_ROLE_AUDITOR, "auditor" },
};

const char *
sov_role_name(sov_role role)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (roles[i].role == role)
            return roles[i].name;
    return NULL;
}

sov_role
sov_role_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].role;
    return SOV_ROLE_NONE;
}

bool
sov_ctx_is_operator(const sov_ctx *ctx)
{
    return ctx->who && ctx->who->role == SOV_ROLE_OPERATOR && ctx->who->operator_tenant;
}

bool
sov_ctx_sees_tenant(const sov_ctx *ctx, const char *tenant_id)
{
    if (!ctx->who)
        return true;    /* sovd itself */
    return sov_ctx_is_operator(ctx) || strcmp(ctx->who->tenant_id, tenant_id) == 0;
}

int
sov_ctx_tenant(const sov_ctx *ctx, const char *tenant_id, const char **ret, sov_error *err)
{
    if (!tenant_id)
        tenant_id = ctx->who ? ctx->who->tenant_id : NULL;
    if (!tenant_id || !sov_uuid_valid(tenant_id) || !sov_ctx_sees_tenant(ctx, tenant_id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "tenant '%.64s' does not exist",
                             tenant_id ? tenant_id : "");
    *ret = tenant_id;
    return 0;
}

int
sov_ctx_create_scope(const sov_ctx *ctx, const char *tenant_id, const char *workspace,
                     const char *name, const char *noun, char *tenant, char *ret_workspace,
                     sov_error *err)
{
    const char *t = NULL;

    if (sov_ctx_tenant(ctx, tenant_id, &t, err) < 0)
        return -1;
    snprintf(tenant, SOV_UUID_LEN + 1, "%s", t);
    snprintf(ret_workspace, SOV_NAME_MAX + 1, "%s", workspace ? workspace : "default");
    if (sov_check_slug("name", name, err) < 0 ||
        sov_check_slug("workspace", ret_workspace, err) < 0)
        return -1;
    if (sov_uuid_valid(name))
        return sov_error_invalid(err, "name", "%s name cannot be a UUID", noun);
    return 0;
}

typedef struct tx_wrap {
    sov_ctx *ctx;
    sov_db_tx_fn fn;
    void *arg;
    bool recorded;      /* this attempt stored the Idempotency-Key's answer */
} tx_wrap;

static int
run_wrapped(sov_dbconn *c, void *arg, sov_error *err)
{
    tx_wrap *w = arg;

    w->ctx->audit_in_tx = false;    /* a retried transaction starts over */
    w->ctx->auth_changed = false;
    w->ctx->op_queued = NULL;
    w->recorded = false;
    if (w->fn(c, w->arg, err) < 0)
        return -1;
    /* The answer commits with what it answers: no crash can separate them. */
    if (w->ctx->idem && w->ctx->idem->render && !w->ctx->idem->recorded) {
        if (sov_idem_record(c, w->ctx, err) < 0)
            return -1;
        w->recorded = true;
    }
    return 0;
}

int
sov_ctx_tx(sov_ctx *ctx, sov_db_tx_fn fn, void *arg, sov_error *err)
{
    tx_wrap w = { ctx, fn, arg, false };

    if (sov_db_tx(ctx->db, run_wrapped, &w, err) < 0)
        return -1;
    if (w.recorded)
        ctx->idem->recorded = true;
    /* Only now: a rolled-back transaction queued nothing. */
    if (ctx->op_queued)
        sov_op_log(SOV_LOG_INFO, "operation created", SOV_TAKE_PTR(ctx->op_queued), NULL);
    if (ctx->audit_in_tx)
        ctx->audited = true;
    /* Our own NOTIFY reaches our listener a moment later: the next request on this
     * process must not find the old principal in the cache meanwhile. */
    if (ctx->auth_changed && ctx->auth)
        sov_auth_flush(ctx->auth);
    return 0;
}

int
sov_ctx_tx_seed(sov_ctx *ctx, sov_db_tx_fn fn, void *arg, bool *lost, sov_error *err)
{
    *lost = false;
    if (sov_ctx_tx(ctx, fn, arg, err) == 0)
        return 0;
    if (err->code != SOV_E_CONFLICT)
        return -1;
    sov_error_clear(err);
    *lost = true;
    return 0;
}

int
sov_ctx_resolve(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                const char *id_or_name, sov_ctx_find_fn find, char *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    const char *t = NULL;

    if (sov_uuid_valid(id_or_name)) {
        snprintf(ret, SOV_UUID_LEN + 1, "%s", id_or_name);
        return 0;
    }
    /* A name lives in one tenant's workspace: the caller's own unless an operator names
     * another. */
    if (sov_ctx_tenant(ctx, tenant_id, &t, err) < 0)
        return -1;
    if (workspace && sov_check_slug("workspace", workspace, err) < 0)
        return -1;
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return find(c, t, workspace, id_or_name, ret, err);
}
