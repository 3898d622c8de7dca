/* history.c: a resource's residency records, in the order they were written, for
 * GET /v1/{collection}/{id}/residency. Whether the caller sees the resource is the caller's
 * question (residency/ knows no instances or images); this only reads its records. */
#include <stdlib.h>

#include "report_repo.h"

int
sov_residency_history(sov_ctx *ctx, const char *tenant_id, const char *resource_type,
                      const char *resource_id, const char *after, unsigned limit,
                      sov_residency_event_page *ret, sov_error *err)
{
    sov_autoptr(sov_dbconn) c = NULL;
    long long seq = 0;
    char *end = NULL;

    if (after) {
        seq = strtoll(after, &end, 10);
        if (!*after || *end || seq < 0)
            return sov_error_invalid(err, "after", "after must be the cursor of a 'next' link");
    }
    if (sov_db_acquire(ctx->db, &c, err) < 0)
        return -1;
    return sov_repo_history(c, tenant_id, resource_type, resource_id, seq, limit ? limit : 100,
                            ret, err);
}
