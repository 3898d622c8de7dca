/* volume_keys.c: a volume's key on its host, as a libvirt secret, for as long as the host
 * needs it (an attach, a create or copy by the control plane) and no longer.
 *
 * The data key is unwrapped by the tenant's KEK (keystore.c), handed to libvirt as the value
 * of an ephemeral, private secret (kept in libvirtd's memory only, never shown back) and
 * wiped here at once. The secret's UUID is the volume's (or snapshot's) id, and its usage the
 * path of the volume's file on the host, as the driver wants it (hv.h: libvirt finds an
 * encrypted volume's secret by that path after a pool refresh): one secret per volume, which
 * a second open defines again with the same value, and which the reconciler can tie back to
 * its volume when a crash leaves it defined (its description starts "sovereign " + the
 * pool's path). */
#include <stdio.h>
#include <string.h>

#include "sov/log.h"
#include "storage_int.h"

int
sov_storage_secret_open(sov_ctx *ctx, sov_hv *hv, const char *table, const char *id,
                        const char *tenant_id, char *secret_uuid, sov_error *err)
{
    SOV_KEY_WIPED unsigned char key[SOV_KEY_LEN];
    sov_autoptr(sov_dbconn) c = NULL;
    sov_wrapped_key wk;
    char pool[64], volume[96], dir[1024], usage[1200];

    if (sov_db_acquire(ctx->db, &c, err) < 0 ||
        sov_repo_key_file(c, table, id, &wk, pool, volume, err) < 0)
        return -1;
    if (wk.len == 0) {
        secret_uuid[0] = '\0';
        return 0;
    }
    if (sov_keystore_unwrap(c, ctx->cfg, tenant_id, wk.bytes, wk.len, key, err) < 0)
        return -1;
    /* The host may take its time: give the connection back before asking it. */
    sov_db_release(SOV_TAKE_PTR(c));
    if (sov_hv_pool_path(hv, pool, dir, sizeof(dir), err) < 0)
        return -1;
    snprintf(usage, sizeof(usage), "%s/%s", dir, volume);
    if (sov_hv_secret_define(hv, id, usage, key, sizeof(key), err) < 0)
        return -1;
    snprintf(secret_uuid, SOV_UUID_LEN + 1, "%s", id);
    return 0;
}

void
sov_storage_secret_close(sov_hv *hv, const char *secret_uuid)
{
    sov_error err = SOV_ERROR_INIT;

    if (!secret_uuid || !secret_uuid[0])
        return;
    if (sov_hv_secret_undefine(hv, secret_uuid, &err) < 0)
        sov_log_warn("could not undefine the volume secret %s on its host, leaving it to the "
                     "reconciler: %s", secret_uuid, err.detail[0] ? err.detail : err.msg);
}
