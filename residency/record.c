/* record.c: appending residency records (the table refuses anything but INSERT). */
#include <string.h>

#include "residency_repo.h"

int
sov_residency_record(sov_dbconn *c, const char *tenant_id, const char *resource_type,
                     const char *resource_id, const char *event, const sov_location *from,
                     const sov_location *to, const sov_policy *policy, const char *reason,
                     const char *operation_id, sov_error *err)
{
    char snapshot[SOV_POLICY_MAX * (SOV_NAME_MAX + 4) * 2 + 128];

    sov_policy_json(policy, snapshot, sizeof(snapshot));
    return sov_repo_record_insert(c, tenant_id, resource_type, resource_id, event, from, to,
                                  snapshot, reason, operation_id, err);
}
