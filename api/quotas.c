/* quotas.c: /v1/tenants/{id}/quotas, limits and usage per resource kind. */
#include <string.h>

#include "handlers.h"
#include "sov/quota.h"

static json_t *
quotas_json(const char *tenant_id, const sov_quota q[SOV_QUOTA__COUNT])
{
    json_t *all = json_object();

    for (int r = 0; r < SOV_QUOTA__COUNT; r++)
        json_object_set_new(all, sov_quota_name((sov_quota_resource) r),
                            json_pack("{s:I, s:I}", "limit", (json_int_t) q[r].max, "used",
                                      (json_int_t) q[r].used));
    return json_pack("{s:s, s:o}", "tenant_id", tenant_id, "quotas", all);
}

/* GET /v1/tenants/{id}/quotas */
enum MHD_Result
sov_handle_quota_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_quota q[SOV_QUOTA__COUNT];
    const char *id = sov_request_param(req, "id");

    if (!sov_uuid_valid(id)) {
        sov_error_set(&err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", id);
        return sov_api_reply_problem(req, &err);
    }
    if (sov_quota_get(&req->ctx, id, q, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = quotas_json(id, q);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* PUT /v1/tenants/{id}/quotas {"instances": 10, ...}: sets the limits given. */
enum MHD_Result
sov_handle_quota_set(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_quota q[SOV_QUOTA__COUNT];
    long long max[SOV_QUOTA__COUNT];
    sov_field fields[SOV_QUOTA__COUNT];
    const char *id = sov_request_param(req, "id");

    for (int r = 0; r < SOV_QUOTA__COUNT; r++) {
        fields[r] = (sov_field){ sov_quota_name((sov_quota_resource) r), JSON_INTEGER, false };
        max[r] = -1;
    }
    if (sov_api_check_body(req, fields, SOV_QUOTA__COUNT, &err) < 0)
        return sov_api_reply_problem(req, &err);
    if (!req->body || json_object_size(req->body) == 0) {
        sov_error_invalid(&err, "quotas", "give at least one limit, e.g. {\"instances\": 10}");
        return sov_api_reply_problem(req, &err);
    }
    for (int r = 0; r < SOV_QUOTA__COUNT; r++) {
        json_t *v = json_object_get(req->body, fields[r].name);
        if (!v || json_is_null(v))
            continue;
        max[r] = json_integer_value(v);
        if (max[r] < 0 || max[r] > (1LL << 50)) {
            sov_error_invalid(&err, fields[r].name, "%s must be from 0 to %lld",
                              fields[r].name, 1LL << 50);
            return sov_api_reply_problem(req, &err);
        }
    }
    if (!sov_uuid_valid(id)) {
        sov_error_set(&err, SOV_E_NOT_FOUND, "tenant '%s' does not exist", id);
        return sov_api_reply_problem(req, &err);
    }
    if (sov_quota_set(&req->ctx, id, max, q, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = quotas_json(id, q);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}
