/* seca_repo.c: SQL for the SECA surface's meta and objects (migrations/0016_seca.sql). */
#include <stdlib.h>
#include <string.h>

#include "sov/seca.h"

void
sov_seca_object_clear(sov_seca_object *o)
{
    json_decref(o->spec);
    memset(o, 0, sizeof(*o));
}

int
sov_seca_object_put(sov_ctx *ctx, sov_seca_object *o, bool *created, sov_error *err)
{
    (void) ctx, (void) o, (void) created;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_object_get(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                    const char *kind, const char *parent, const char *name,
                    sov_seca_object *ret, sov_error *err)
{
    (void) ctx, (void) tenant_id, (void) workspace, (void) kind, (void) parent, (void) name;
    (void) ret;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

int
sov_seca_object_list(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                     const char *kind, const char *parent, sov_seca_object **ret, size_t *n,
                     sov_error *err)
{
    (void) ctx, (void) tenant_id, (void) workspace, (void) kind, (void) parent;
    *ret = NULL;
    *n = 0;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}

void
sov_seca_objects_free(sov_seca_object *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sov_seca_object_clear(&o[i]);
    free(o);
}

int
sov_seca_object_delete(sov_ctx *ctx, const char *tenant_id, const char *workspace,
                       const char *kind, const char *parent, const char *name, sov_error *err)
{
    (void) ctx, (void) tenant_id, (void) workspace, (void) kind, (void) parent, (void) name;
    return sov_error_set(err, SOV_E_INTERNAL, "not built yet");
}
