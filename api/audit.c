/* audit.c: /v1/audit (the log, scoped to what the caller may read) and /v1/audit/verify
 * (walk the hash chain). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "sov/audit.h"
#include "sov/timeutil.h"

static json_t *
entry_json(const sov_audit_entry *e)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s}",
                          "seq", (json_int_t) e->seq, "at", e->at, "request_id", e->request_id,
                          "role", e->role, "action", e->action, "resource_type",
                          e->resource_type, "resource_id", e->resource_id, "source", e->source,
                          "outcome", e->outcome, "prev_hash", e->prev_hash, "hash", e->hash,
                          "tenant_id", e->tenant_id);
    json_object_set_new(j, "user_id", e->user_id[0] ? json_string(e->user_id) : json_null());
    json_object_set_new(j, "token_id", e->token_id[0] ? json_string(e->token_id) : json_null());
    if (!e->tenant_id[0])
        json_object_set_new(j, "tenant_id", json_null());
    return j;
}

static int
time_param(sov_request *req, const char *name, const char **ret, sov_error *err)
{
    const char *v = sov_request_query(req, name);
    time_t t;

    *ret = NULL;
    if (!v)
        return 0;
    if (sov_rfc3339_parse(v, &t) < 0)
        return sov_error_invalid(err, name, "%s must be an RFC 3339 time like "
                                            "2026-11-22T10:00:00Z", name);
    *ret = v;
    return 0;
}

/* GET /v1/audit?since=&until=&user_id=&action=&resource_type=&resource_id=&tenant_id= */
enum MHD_Result
sov_handle_audit_list(sov_request *req)
{
    static const char *const keep[] = { "since", "until", "user_id", "action",
                                         "resource_type", "resource_id", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_audit_filter f = { 0 };
    sov_audit_entry *items = NULL;
    size_t n = 0;
    const char *after = NULL, *tenant = sov_request_query(req, "tenant_id");
    char next[32] = "";

    if (sov_api_page(req, &f.limit, &after, &err) < 0 ||
        time_param(req, "since", &f.since, &err) < 0 ||
        time_param(req, "until", &f.until, &err) < 0)
        return sov_api_reply_problem(req, &err);
    if (after) {
        char *end = NULL;
        f.after = strtoll(after, &end, 10);
        if (*end || f.after < 0) {
            sov_error_invalid(&err, "after", "after must be the cursor of a 'next' link");
            return sov_api_reply_problem(req, &err);
        }
    }
    f.user_id = sov_request_query(req, "user_id");
    if (f.user_id && !sov_uuid_valid(f.user_id)) {
        sov_error_invalid(&err, "user_id", "user_id must be a user id");
        return sov_api_reply_problem(req, &err);
    }
    if (tenant && !sov_uuid_valid(tenant)) {
        sov_error_invalid(&err, "tenant_id", "tenant_id must be a tenant id");
        return sov_api_reply_problem(req, &err);
    }
    f.action = sov_request_query(req, "action");
    f.resource_type = sov_request_query(req, "resource_type");
    f.resource_id = sov_request_query(req, "resource_id");
    /* The caller's scope wins over the filter: a tenant sees its own entries only. */
    f.tenant_id = sov_audit_scope(&req->ctx);
    if (!f.tenant_id)
        f.tenant_id = tenant;
    else if (tenant && strcmp(tenant, f.tenant_id) != 0)
        f.tenant_id = "00000000-0000-0000-0000-000000000000";
    if (sov_audit_list(&req->ctx, &f, &items, &n, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, entry_json(&items[i]));
    if (n == f.limit && n > 0)
        snprintf(next, sizeof(next), "%lld", items[n - 1].seq);
    free(items);
    sov_autoptr(json_t) body = sov_api_list(req, arr, next, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/audit/verify */
enum MHD_Result
sov_handle_audit_verify(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_audit_verdict v;

    if (sov_audit_verify(&req->ctx, &v, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:b, s:I}", "ok", v.ok, "entries",
                                         (json_int_t) v.entries);
    if (!v.ok)
        json_object_update_new(body, json_pack("{s:{s:I, s:s}}", "first_broken", "seq",
                                               (json_int_t) v.broken_seq, "reason", v.reason));
    return sov_api_reply(req, MHD_HTTP_OK, body);
}
