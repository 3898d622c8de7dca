/* users.c: /v1/tenants/{id}/users. Deleting a user erases its name and email. */
#include <stdio.h>

#include "handlers.h"

static json_t *
user_json(const sov_user *u)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", u->id, "tenant_id",
                     u->tenant_id, "name", u->name, "email", u->email, "role",
                     sov_role_name(u->role) ? sov_role_name(u->role) : "", "created_at",
                     u->created_at, "updated_at", u->updated_at);
}

/* The role field, if given, must name a role. */
static int
body_role(sov_request *req, bool required, sov_role *ret, sov_error *err)
{
    const char *r = sov_api_body_str(req, "role");

    *ret = SOV_ROLE_NONE;
    if (!r && !required)
        return 0;
    *ret = sov_role_parse(r);
    if (*ret == SOV_ROLE_NONE)
        return sov_error_invalid(err, "role",
                                 "role must be one of operator, admin, member, reader, auditor");
    return 0;
}

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const sov_user *u = arg;

    *status = MHD_HTTP_CREATED;
    snprintf(location, location_size, "/v1/tenants/%s/users/%s", u->tenant_id, u->id);
    return user_json(u);
}

/* POST /v1/tenants/{id}/users */
enum MHD_Result
sov_handle_user_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },
        { "email", JSON_STRING, true },
        { "role", JSON_STRING, true },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_role role;
    sov_user u;

    if (sov_api_check_body(req, fields, 3, &err) < 0 || body_role(req, true, &role, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_api_answer_in_tx(req, created_json, &u);
    if (sov_user_create(&req->ctx, sov_request_param(req, "id"), sov_api_body_str(req, "name"),
                        sov_api_body_str(req, "email"), role, &u, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &u);
}

/* GET /v1/tenants/{id}/users */
enum MHD_Result
sov_handle_user_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_user_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_user_list(&req->ctx, sov_request_param(req, "id"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, user_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/tenants/{id}/users/{uid} */
enum MHD_Result
sov_handle_user_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_user u;

    if (sov_user_get(&req->ctx, sov_request_param(req, "id"), sov_request_param(req, "uid"),
                     &u, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = user_json(&u);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* PATCH /v1/tenants/{id}/users/{uid} */
enum MHD_Result
sov_handle_user_update(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, false },
        { "email", JSON_STRING, false },
        { "role", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_role role;
    sov_user u;

    if (sov_api_check_body(req, fields, 3, &err) < 0 || body_role(req, false, &role, &err) < 0 ||
        sov_user_update(&req->ctx, sov_request_param(req, "id"), sov_request_param(req, "uid"),
                        sov_api_body_str(req, "name"), sov_api_body_str(req, "email"), role,
                        &u, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = user_json(&u);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/tenants/{id}/users/{uid} */
enum MHD_Result
sov_handle_user_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_user_delete(&req->ctx, sov_request_param(req, "id"), sov_request_param(req, "uid"),
                        &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
