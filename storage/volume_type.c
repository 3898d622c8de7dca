/* volume_type.c: the kinds of volume operators offer (backend, encryption, I/O limits).
 * Everyone reads them; only operators write them (the route table says who). A type in use
 * by a live volume cannot go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sov/audit.h"
#include "storage_int.h"

#define IOPS_MAX 10000000LL
#define BYTES_PER_S_MAX (100LL << 30)

typedef struct type_args {
    sov_ctx *ctx;
    const sov_volume_type *in;
    const char *id;
    sov_volume_type *ret;
} type_args;

static int
create_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    type_args *a = arg;

    if (sov_repo_volume_type_insert(c, a->in, a->ret, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, NULL, "volume_type", a->ret->id, SOV_OUTCOME_CREATED,
                            err);
}

int
sov_volume_type_create(sov_ctx *ctx, const sov_volume_type *in, sov_volume_type *ret,
                       sov_error *err)
{
    sov_volume_type t = *in;
    type_args a = { ctx, &t, NULL, ret };

    if (sov_check_slug("name", in->name, err) < 0)
        return -1;
    /* Volumes name their type by id or name: a name that reads as an id would name two. */
    if (sov_uuid_valid(in->name))
        return sov_error_invalid(err, "name", "a volume type name cannot be a UUID");
    if (!t.backend[0])
        snprintf(t.backend, sizeof(t.backend), "libvirt-dir");
    if (strcmp(t.backend, "libvirt-dir") != 0)
        return sov_error_invalid(err, "backend", "backend must be 'libvirt-dir' (a directory "
                                 "pool of qcow2 files on each host)");
    if (t.max_iops < 0 || t.max_iops > IOPS_MAX)
        return sov_error_invalid(err, "max_iops", "max_iops must be from 1 to %lld", IOPS_MAX);
    if (t.max_bytes_per_s < 0 || t.max_bytes_per_s > BYTES_PER_S_MAX)
        return sov_error_invalid(err, "max_bytes_per_s",
                                 "max_bytes_per_s must be from 1 to %lld", BYTES_PER_S_MAX);
    return sov_ctx_tx(ctx, create_tx, &a, err);
}

int
sov_volume_type_get(sov_ctx *ctx, const char *id_or_name, sov_volume_type *ret,
                    sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_volume_type_get(c, id_or_name, ret, err);
}

int
sov_volume_type_list(sov_ctx *ctx, const char *after, unsigned limit,
                     sov_volume_type_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;

    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_volume_type_list(c, after, limit ? limit : 100, ret, err);
}

static int
seed_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    sov_volume_type_page page = { 0 };
    size_t n;

    if (sov_repo_volume_type_list(c, NULL, 1, &page, err) < 0)
        return -1;
    n = page.n;
    free(page.items);
    return n > 0 ? 0 : create_tx(c, arg, err);
}

int
sov_volume_type_seed(sov_ctx *ctx, bool *created, sov_error *err)
{
    sov_volume_type in = { 0 }, t = { 0 };
    type_args a = { ctx, &in, NULL, &t };
    bool lost;

    *created = false;
    snprintf(in.name, sizeof(in.name), "%s", ctx->cfg->default_volume_type);
    snprintf(in.backend, sizeof(in.backend), "libvirt-dir");
    if (sov_check_slug("default_volume_type", in.name, err) < 0)
        return -1;
    /* Another sovd may make it first. */
    if (sov_ctx_tx_seed(ctx, seed_tx, &a, &lost, err) < 0)
        return -1;
    *created = !lost && t.id[0] != '\0';
    return 0;
}

static int
delete_tx(sov_dbconn *c, void *arg, sov_error *err)
{
    type_args *a = arg;
    sov_volume_type t;

    if (sov_repo_volume_type_get(c, a->id, &t, err) < 0 ||
        sov_repo_volume_type_delete(c, t.id, err) < 0)
        return -1;
    return sov_audit_append(c, a->ctx, NULL, "volume_type", t.id, SOV_OUTCOME_DELETED, err);
}

int
sov_volume_type_delete(sov_ctx *ctx, const char *id, sov_error *err)
{
    type_args a = { ctx, NULL, id, NULL };

    return sov_ctx_tx(ctx, delete_tx, &a, err);
}
