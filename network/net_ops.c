/* net_ops.c: the workers of network/'s operation kinds. Every kind does the same thing: find
 * the scopes its resource belongs to and sync them (ovn_sync.c), each sync moving its rows on
 * once OVN holds them. A resource whose rows are gone still syncs what is left of its scope.
 *
 *   network.*        the network's scope, then its router's (the router's ports follow the
 *                    network's subnets)
 *   subnet.*         the network's scope (DHCP options), then the router's (LRP, SNAT)
 *   port.*           the network's scope (LSP, the deployment's groups), then every live
 *                    security group of the tenant (the port's groups may have changed), then
 *                    the router's (public IPs on the port)
 *   security_group.* the group's scope
 *   router.*         the router's scope, then its network's (the router-type LSPs live in the
 *                    network's scope: one owner per logical switch's port list)
 *   public_ip.*      the router's scope of the network of the port it is on; a public IP on
 *                    no router's network changes nothing in OVN: its state moves alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/log.h"
#include "network_int.h"

/* An operation's step, or nothing outside an operation. */
static int
step(sov_op_run *run, const char *what, int progress, sov_error *err)
{
    return run ? sov_op_step(run, what, progress, err) : 0;
}

static int
sync_scopes(sov_op_run *run, sov_ctx *ctx, const sov_ovn_scopes *s, sov_error *err)
{
    if (s->sg_id[0])
        return step(run, "syncing the security group into OVN", 30, err) < 0 ? -1 :
               sov_ovn_sync_sg(ctx, s->sg_id, NULL, err);
    if (s->network_id[0]) {
        if (step(run, "syncing the network into OVN", 20, err) < 0 ||
            sov_ovn_sync_network(ctx, s->network_id, NULL, err) < 0)
            return -1;
    }
    if (s->all_sgs_of_tenant && s->tenant_id[0]) {
        char (*ids)[SOV_UUID_LEN + 1] = NULL;
        size_t n = 0;
        sov_autoptr(sov_dbconn) c = NULL;

        if (step(run, "syncing the security groups into OVN", 50, err) < 0 ||
            sov_db_acquire(ctx->db, &c, err) < 0 ||
            sov_ovn_repo_tenant_sgs(c, s->tenant_id, &ids, &n, err) < 0)
            return -1;
        sov_db_release(SOV_TAKE_PTR(c));
        for (size_t i = 0; i < n; i++)
            if (sov_ovn_sync_sg(ctx, ids[i], NULL, err) < 0) {
                free(ids);
                return -1;
            }
        free(ids);
    }
    if (s->router_id[0]) {
        if (step(run, "syncing the router into OVN", 70, err) < 0 ||
            sov_ovn_sync_router(ctx, s->router_id, NULL, err) < 0)
            return -1;
    }
    return 0;
}

typedef struct fip_args {
    sov_ctx *ctx;
    const char *id;
} fip_args;

static int
fip_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    fip_args *a = arg;

    return sov_ovn_repo_fip_settle(c, a->ctx, a->id, err);
}

static int
sync_resource(sov_op_run *run, sov_ctx *ctx, const char *resource_type, const char *id,
              sov_error *err)
{
    sov_ovn_scopes s;
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_ovn_repo_scopes(c, resource_type, id, &s, err) < 0)
        return -1;
    sov_db_release(SOV_TAKE_PTR(c));
    if (strcmp(resource_type, "router") == 0 && s.network_id[0]) {
        /* The router's own rows first, then the network's router-type ports. */
        if (step(run, "syncing the router into OVN", 30, err) < 0 ||
            sov_ovn_sync_router(ctx, s.router_id, NULL, err) < 0 ||
            step(run, "syncing the network into OVN", 60, err) < 0 ||
            sov_ovn_sync_network(ctx, s.network_id, NULL, err) < 0)
            return -1;
        return 0;
    }
    if (sync_scopes(run, ctx, &s, err) < 0)
        return -1;
    if (s.fip_id[0]) {
        /* What a router scope did not hold (no router, not attached) moves alone. */
        fip_args a = { ctx, s.fip_id };

        return sov_db_tx(ctx->db, fip_tx, &a, err);
    }
    return 0;
}

int
sov_net_sync_resource(sov_ctx *ctx, const char *resource_type, const char *id,
                      sov_error *err)
{
    return sync_resource(NULL, ctx, resource_type, id, err);
}

int
sov_net_sync_op(sov_op_run *run, const sov_op *op, sov_error *err)
{
    return sync_resource(run, sov_op_ctx(run), op->resource_type, op->resource_id, err);
}

typedef struct failed_args {
    const sov_op *op;
    const char *reason;
} failed_args;

static int
failed_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    failed_args *a = arg;

    return sov_ovn_repo_set_error(c, a->op->resource_type, a->op->resource_id, a->reason,
                                  err);
}

int
sov_net_op_failed(sov_op_run *run, const sov_op *op, const char *reason, sov_error *err)
{
    failed_args a = { op, reason };

    sov_log_warn("operation %s (%s) failed: %s %s goes to error", op->id, op->kind,
                 op->resource_type, op->resource_id);
    return sov_db_tx(sov_op_ctx(run)->db, failed_tx, &a, err);
}
