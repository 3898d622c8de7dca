/* volume_keys.c: (being written by part "keys"). Until it lands, an encrypted volume's
 * secret cannot be opened: the operation fails with a clear reason; plain volumes never
 * call here. */
#include "storage_int.h"

int
sov_storage_secret_open(sov_ctx *ctx, sov_hv *hv, const char *table, const char *id,
                        const char *tenant_id, char *secret_uuid, sov_error *err)
{
    (void) ctx;
    (void) hv;
    (void) table;
    (void) id;
    (void) tenant_id;
    secret_uuid[0] = '\0';
    return sov_error_set(err, SOV_E_CONFLICT, "encrypted volumes are not available yet");
}

void
sov_storage_secret_close(sov_hv *hv, const char *secret_uuid)
{
    sov_error ignored = SOV_ERROR_INIT;

    if (secret_uuid && *secret_uuid)
        sov_hv_secret_undefine(hv, secret_uuid, &ignored);
}
