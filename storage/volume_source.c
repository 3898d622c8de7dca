/* volume_source.c: a volume made from an image, a snapshot or another volume. Part "snap"
 * writes it; until then every source is refused, and nothing is written. */
#include "storage_int.h"

int
sov_volume_source_resolve(sov_dbconn *c, const char *tenant_id, const char *workspace,
                          const char *type, const char *id_or_name, sov_volume_source *ret,
                          sov_error *err)
{
    (void) c;
    (void) tenant_id;
    (void) workspace;
    (void) type;
    (void) id_or_name;
    (void) ret;
    return sov_error_invalid(err, "source", "volumes from a source are not yet supported");
}

int
sov_volume_source_copy(sov_ctx *ctx, sov_hv *hv, const sov_volume *v, const char *secret_uuid,
                       sov_error *err)
{
    (void) ctx;
    (void) hv;
    (void) v;
    (void) secret_uuid;
    return sov_error_set(err, SOV_E_INTERNAL, "volumes from a source are not yet supported");
}
