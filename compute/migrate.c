/* migrate.c: a migration's request (sov_instance_migrate, sov_instance_migrate_tx) and its
 * history (sov_instance_migrations). Contract stubs: issue 16's migrate part fills them. */
#include "compute_int.h"

int
sov_instance_migrate(sov_ctx *ctx, const char *tenant_id, const char *id,
                     const sov_migrate_args *a, sov_op *op, sov_error *err)
{
    (void) ctx, (void) tenant_id, (void) id, (void) a, (void) op;
    return sov_error_set(err, SOV_E_INTERNAL, "migration is not built yet");
}

int
sov_instance_migrate_tx(sov_dbconn *c, sov_ctx *ctx, const char *id, const sov_migrate_args *a,
                        const char *parent_op_id, sov_op *op, sov_error *err)
{
    (void) c, (void) ctx, (void) id, (void) a, (void) parent_op_id, (void) op;
    return sov_error_set(err, SOV_E_INTERNAL, "migration is not built yet");
}

int
sov_instance_migrations(sov_ctx *ctx, const char *tenant_id, const char *id, const char *after,
                        unsigned limit, sov_instance_migration_page *ret, sov_error *err)
{
    (void) ctx, (void) tenant_id, (void) id, (void) after, (void) limit, (void) ret;
    return sov_error_set(err, SOV_E_INTERNAL, "migration is not built yet");
}
