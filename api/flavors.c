/* flavors.c: /v1/flavors, the sizes operators offer to everyone. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "sov/compute.h"

static json_t *
flavor_json(const sov_flavor *f)
{
    return json_pack("{s:s, s:s, s:i, s:I, s:I, s:i, s:s}", "id", f->id, "name", f->name,
                     "vcpus", f->vcpus, "memory_mib", (json_int_t) f->memory_mib, "disk_gib",
                     (json_int_t) f->disk_gib, "gpus", f->gpus, "created_at", f->created_at);
}

/* A whole number field within [lo, hi]. */
static int
bounded(sov_request *req, const char *name, long long lo, long long hi, long long *ret,
        sov_error *err)
{
    json_t *v = json_object_get(req->body, name);

    *ret = json_is_integer(v) ? json_integer_value(v) : 0;
    if (v && (*ret < lo || *ret > hi))
        return sov_error_invalid(err, name, "%s must be from %lld to %lld", name, lo, hi);
    return 0;
}

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const sov_flavor *f = arg;

    *status = MHD_HTTP_CREATED;
    snprintf(location, location_size, "/v1/flavors/%s", f->id);
    return flavor_json(f);
}

/* POST /v1/flavors */
enum MHD_Result
sov_handle_flavor_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "vcpus", JSON_INTEGER, true },
        { "memory_mib", JSON_INTEGER, true }, { "disk_gib", JSON_INTEGER, true },
        { "gpus", JSON_INTEGER, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_flavor in = { 0 }, f;
    long long v, m, d, g;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        bounded(req, "vcpus", 1, 1024, &v, &err) < 0 ||
        bounded(req, "memory_mib", 64, 1LL << 30, &m, &err) < 0 ||
        bounded(req, "disk_gib", 1, 65536, &d, &err) < 0 ||
        bounded(req, "gpus", 0, 64, &g, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(in.name, sizeof(in.name), "%.*s", SOV_NAME_MAX,
             sov_api_body_str(req, "name"));
    if (strlen(sov_api_body_str(req, "name")) > SOV_NAME_MAX) {
        sov_error_invalid(&err, "name", "name must be at most %d characters", SOV_NAME_MAX);
        return sov_api_reply_problem(req, &err);
    }
    in.vcpus = (int) v;
    in.memory_mib = m;
    in.disk_gib = d;
    in.gpus = (int) g;
    sov_api_answer_in_tx(req, created_json, &f);
    if (sov_flavor_create(&req->ctx, &in, &f, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &f);
}

/* GET /v1/flavors */
enum MHD_Result
sov_handle_flavor_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_flavor_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_flavor_list(&req->ctx, after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, flavor_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/flavors/{id} (an id or a name) */
enum MHD_Result
sov_handle_flavor_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_flavor f;

    if (sov_flavor_get(&req->ctx, sov_request_param(req, "id"), &f, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = flavor_json(&f);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/flavors/{id} */
enum MHD_Result
sov_handle_flavor_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_flavor_delete(&req->ctx, sov_request_param(req, "id"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
