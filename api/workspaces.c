/* workspaces.c: /v1/tenants/{id}/workspaces, the projects inside a tenant where resources
 * live and are named uniquely. */
#include <stdio.h>

#include "handlers.h"

static json_t *
workspace_json(const sov_workspace *w)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "tenant_id", w->tenant_id, "name", w->name,
                     "description", w->description, "created_at", w->created_at,
                     "updated_at", w->updated_at);
}

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const sov_workspace *w = arg;

    *status = MHD_HTTP_CREATED;
    snprintf(location, location_size, "/v1/tenants/%s/workspaces/%s", w->tenant_id, w->name);
    return workspace_json(w);
}

/* POST /v1/tenants/{id}/workspaces */
enum MHD_Result
sov_handle_workspace_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },
        { "description", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_workspace w;

    if (sov_api_check_body(req, fields, 2, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_api_answer_in_tx(req, created_json, &w);
    if (sov_workspace_create(&req->ctx, sov_request_param(req, "id"),
                             sov_api_body_str(req, "name"),
                             sov_api_body_str(req, "description"), &w, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &w);
}

/* GET /v1/tenants/{id}/workspaces */
enum MHD_Result
sov_handle_workspace_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_workspace_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_workspace_list(&req->ctx, sov_request_param(req, "id"), after, limit, &page,
                           &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, workspace_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/tenants/{id}/workspaces/{name} */
enum MHD_Result
sov_handle_workspace_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_workspace w;

    if (sov_workspace_get(&req->ctx, sov_request_param(req, "id"),
                          sov_request_param(req, "name"), &w, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = workspace_json(&w);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* PATCH /v1/tenants/{id}/workspaces/{name} */
enum MHD_Result
sov_handle_workspace_update(sov_request *req)
{
    static const sov_field fields[] = { { "description", JSON_STRING, false } };
    sov_error err = SOV_ERROR_INIT;
    sov_workspace w;

    if (sov_api_check_body(req, fields, 1, &err) < 0 ||
        sov_workspace_update(&req->ctx, sov_request_param(req, "id"),
                             sov_request_param(req, "name"),
                             sov_api_body_str(req, "description"), &w, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = workspace_json(&w);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/tenants/{id}/workspaces/{name} */
enum MHD_Result
sov_handle_workspace_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_workspace_delete(&req->ctx, sov_request_param(req, "id"),
                             sov_request_param(req, "name"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
