/* tenants.c: /v1/tenants. Operators create, list and delete tenants; a tenant's own users
 * read it, and its admin may rename it (the route table holds that policy). */
#include <stdio.h>

#include "handlers.h"
#include "sov/storage.h"

static json_t *
tenant_json(const sov_tenant *t)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "id", t->id, "name", t->name,
                     "display_name", t->display_name, "is_operator", t->is_operator,
                     "created_at", t->created_at, "updated_at", t->updated_at);
}

static const sov_field tenant_fields[] = {
    { "name", JSON_STRING, true },
    { "display_name", JSON_STRING, false },
};

/* POST /v1/tenants */
static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const sov_tenant *t = arg;

    *status = MHD_HTTP_CREATED;
    snprintf(location, location_size, "/v1/tenants/%s", t->id);
    return tenant_json(t);
}

enum MHD_Result
sov_handle_tenant_create(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_tenant t;

    if (sov_api_check_body(req, tenant_fields, 2, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_api_answer_in_tx(req, created_json, &t);
    if (sov_tenant_create(&req->ctx, sov_api_body_str(req, "name"),
                          sov_api_body_str(req, "display_name"), &t, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &t);
}

/* GET /v1/tenants */
enum MHD_Result
sov_handle_tenant_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_tenant_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_tenant_list(&req->ctx, after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, tenant_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/tenants/{id} */
enum MHD_Result
sov_handle_tenant_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_tenant t;

    if (sov_tenant_get(&req->ctx, sov_request_param(req, "id"), &t, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = tenant_json(&t);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* PATCH /v1/tenants/{id} */
enum MHD_Result
sov_handle_tenant_update(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, false },
        { "display_name", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_tenant t;

    if (sov_api_check_body(req, fields, 2, &err) < 0 ||
        sov_tenant_update(&req->ctx, sov_request_param(req, "id"),
                          sov_api_body_str(req, "name"), sov_api_body_str(req, "display_name"),
                          &t, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = tenant_json(&t);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/tenants/{id} */
enum MHD_Result
sov_handle_tenant_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_tenant_delete(&req->ctx, sov_request_param(req, "id"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}

/* DELETE /v1/tenants/{id}/kek: crypto-shredding (operator only, its own audit action). */
enum MHD_Result
sov_handle_tenant_kek_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_tenant_kek_destroy(&req->ctx, sov_request_param(req, "id"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
