/* volume_types.c: /v1/volume-types, the kinds of volume operators offer to everyone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "sov/storage.h"

static json_t *
type_json(const sov_volume_type *t)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:s}", "id", t->id, "name", t->name, "backend",
                          t->backend, "encrypted", t->encrypted, "created_at", t->created_at);

    json_object_set_new(j, "max_iops", t->max_iops > 0 ? json_integer(t->max_iops)
                                                       : json_null());
    json_object_set_new(j, "max_bytes_per_s", t->max_bytes_per_s > 0
                                                  ? json_integer(t->max_bytes_per_s)
                                                  : json_null());
    return j;
}

/* A limit given: a whole number of at least 1. */
static int
limit_field(sov_request *req, const char *name, long long *ret, sov_error *err)
{
    json_t *v = json_object_get(req->body, name);

    *ret = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_integer_value(v) < 1)
        return sov_error_invalid(err, name, "%s must be at least 1 (leave it out for no limit)",
                                 name);
    *ret = json_integer_value(v);
    return 0;
}

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const sov_volume_type *t = arg;

    *status = MHD_HTTP_CREATED;
    snprintf(location, location_size, "/v1/volume-types/%s", t->id);
    return type_json(t);
}

/* POST /v1/volume-types */
enum MHD_Result
sov_handle_volume_type_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "backend", JSON_STRING, false },
        { "encrypted", JSON_TRUE, false },   { "max_iops", JSON_INTEGER, false },
        { "max_bytes_per_s", JSON_INTEGER, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_volume_type in = { 0 }, t;
    const char *name, *backend;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        limit_field(req, "max_iops", &in.max_iops, &err) < 0 ||
        limit_field(req, "max_bytes_per_s", &in.max_bytes_per_s, &err) < 0)
        return sov_api_reply_problem(req, &err);
    name = sov_api_body_str(req, "name");
    backend = sov_api_body_str(req, "backend");
    if (strlen(name) > SOV_NAME_MAX) {
        sov_error_invalid(&err, "name", "name must be at most %d characters", SOV_NAME_MAX);
        return sov_api_reply_problem(req, &err);
    }
    /* Absent or null: the default; anything else must name a backend. */
    if (backend && strcmp(backend, "libvirt-dir") != 0) {
        sov_error_invalid(&err, "backend", "backend must be 'libvirt-dir'");
        return sov_api_reply_problem(req, &err);
    }
    snprintf(in.name, sizeof(in.name), "%s", name);
    snprintf(in.backend, sizeof(in.backend), "%s", backend ? backend : "");
    in.encrypted = json_is_true(json_object_get(req->body, "encrypted"));
    sov_api_answer_in_tx(req, created_json, &t);
    if (sov_volume_type_create(&req->ctx, &in, &t, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &t);
}

/* GET /v1/volume-types */
enum MHD_Result
sov_handle_volume_type_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume_type_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_volume_type_list(&req->ctx, after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, type_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/volume-types/{id} (an id or a name) */
enum MHD_Result
sov_handle_volume_type_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume_type t;

    if (sov_volume_type_get(&req->ctx, sov_request_param(req, "id"), &t, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = type_json(&t);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/volume-types/{id} (an id or a name) */
enum MHD_Result
sov_handle_volume_type_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_volume_type_delete(&req->ctx, sov_request_param(req, "id"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
