/* flavor.c: the sizes operators offer. A flavor in use cannot go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "sov/audit.h"

typedef struct flavor_args {
    sov_ctx *ctx;
    const sov_flavor *in;
    const char *id;
    sov_flavor *ret;
} flavor_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    flavor_args *a = arg;

    if (sov_repo_flavor_insert(c, a->in, a->ret, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, NULL, "flavor", a->ret->id, SOV_OUTCOME_CREATED, err);
}

int
sov_flavor_create(sov_ctx *ctx, const sov_flavor *in, sov_flavor *ret, sov_error *err)
{
    flavor_args a = { ctx, in, NULL, ret };

    if (sov_check_slug("name", in->name, err) < 0)
        return -1;
    /* Flavors are named by id or name (instances take either): a name that reads as an id
     * would make "flavor": "<uuid>" mean two flavors. */
    if (sov_uuid_valid(in->name))
        return sov_error_invalid(err, "name", "a flavor name cannot be a UUID");
    if (in->vcpus < 1 || in->vcpus > 1024)
        return sov_error_invalid(err, "vcpus", "vcpus must be from 1 to 1024");
    if (in->memory_mib < 64 || in->memory_mib > (1LL << 30))
        return sov_error_invalid(err, "memory_mib", "memory_mib must be from 64 to %lld",
                                 1LL << 30);
    if (in->disk_gib < 1 || in->disk_gib > 65536)
        return sov_error_invalid(err, "disk_gib", "disk_gib must be from 1 to 65536");
    if (in->gpus < 0 || in->gpus > 64)
        return sov_error_invalid(err, "gpus", "gpus must be from 0 to 64");
    return sov_ctx_tx(ctx, create_tx, &a, err);
}

int
sov_flavor_get(sov_ctx *ctx, const char *id_or_name, sov_flavor *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_flavor_get(c, id_or_name, ret, err);
}

int
sov_flavor_resolve(sov_ctx *ctx, const char *id_or_name, char *ret, sov_error *err)
{
    sov_flavor f;

    if (sov_flavor_get(ctx, id_or_name, &f, err) < 0)
        return -1;
    snprintf(ret, SOV_UUID_LEN + 1, "%s", f.id);
    return 0;
}

int
sov_flavor_list(sov_ctx *ctx, const char *after, unsigned limit, sov_flavor_page *ret,
                sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_flavor_list(c, after, limit ? limit : 100, ret, err);
}

/* SECA's D tiers (foundation.compute's SKU table), the smallest four. */
static const sov_flavor seeds[] = {
    { .name = "seca-d2xs", .vcpus = 1, .memory_mib = 1024, .disk_gib = 10 },
    { .name = "seca-dxs", .vcpus = 1, .memory_mib = 2048, .disk_gib = 10 },
    { .name = "seca-ds", .vcpus = 2, .memory_mib = 4096, .disk_gib = 10 },
    { .name = "seca-dm", .vcpus = 4, .memory_mib = 8192, .disk_gib = 10 },
};

typedef struct seed_args {
    sov_ctx *ctx;
    bool created;
} seed_args;

static int
seed_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    seed_args *a = arg;
    sov_flavor_page page = { 0 };
    size_t n;

    if (sov_repo_flavor_list(c, NULL, 1, &page, err) < 0)
        return -1;
    n = page.n;
    free(page.items);
    if (n > 0)
        return 0;
    for (size_t i = 0; i < SOV_N_ELEMENTS(seeds); i++) {
        sov_flavor f;
        flavor_args fa = { a->ctx, &seeds[i], NULL, &f };
        if (create_tx(c, &fa, err) < 0)
            return -1;
    }
    a->created = true;
    return 0;
}

int
sov_flavor_seed(sov_ctx *ctx, bool *created, sov_error *err)
{
    seed_args a = { ctx, false };
    bool lost;

    /* Another sovd starting beside this one may make them first: its names are taken. */
    if (sov_ctx_tx_seed(ctx, seed_tx, &a, &lost, err) < 0)
        return -1;
    *created = !lost && a.created;
    return 0;
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    flavor_args *a = arg;

    if (sov_repo_flavor_delete(c, a->id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, NULL, "flavor", a->id, SOV_OUTCOME_DELETED, err);
}

int
sov_flavor_delete(sov_ctx *ctx, const char *id, sov_error *err)
{
    flavor_args a = { ctx, NULL, id, NULL };

    if (!sov_uuid_valid(id))
        return sov_error_set(err, SOV_E_NOT_FOUND, "flavor '%s' does not exist", id);
    return sov_ctx_tx(ctx, delete_tx, &a, err);
}
