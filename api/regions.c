/* regions.c: /v1/regions. Operators create and change regions; everyone may read them, to
 * know where their data can go. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "sov/residency.h"

static json_t *
region_json(const sov_region *g)
{
    json_t *zones = json_array();

    for (size_t i = 0; i < g->nzones; i++)
        json_array_append_new(zones, json_string(g->zones[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "code", g->code, "name",
                     g->name, "country", g->country, "jurisdiction", g->jurisdiction,
                     "datacenter", g->datacenter, "zones", zones, "created_at", g->created_at,
                     "updated_at", g->updated_at);
}

/* zones: an array of strings into fixed slots; *n < 0 when absent. */
static int
body_zones(sov_request *req, sov_region *into, long *n, sov_error *err)
{
    json_t *zones = json_object_get(req->body, "zones");
    size_t i;
    json_t *z;

    *n = -1;
    if (!zones || json_is_null(zones))
        return 0;
    if (json_array_size(zones) > SOV_ZONES_MAX)
        return sov_error_invalid(err, "zones", "a region has at most %d zones", SOV_ZONES_MAX);
    json_array_foreach(zones, i, z) {
        if (!json_is_string(z) || json_string_length(z) > SOV_NAME_MAX)
            return sov_error_invalid(err, "zones", "zones must be names like 'a' or 'zone-1'");
        snprintf(into->zones[i], sizeof(into->zones[i]), "%s", json_string_value(z));
    }
    into->nzones = json_array_size(zones);
    *n = (long) into->nzones;
    return 0;
}

static int
copy_field(sov_request *req, const char *name, char *dst, size_t size, sov_error *err)
{
    const char *v = sov_api_body_str(req, name);

    if (v && strlen(v) >= size)
        return sov_error_invalid(err, name, "%s is too long", name);
    snprintf(dst, size, "%s", v ? v : "");
    return 0;
}

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const sov_region *g = arg;

    *status = MHD_HTTP_CREATED;
    snprintf(location, location_size, "/v1/regions/%s", g->code);
    return region_json(g);
}

/* POST /v1/regions */
enum MHD_Result
sov_handle_region_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "code", JSON_STRING, true },   { "name", JSON_STRING, true },
        { "country", JSON_STRING, true }, { "datacenter", JSON_STRING, true },
        { "zones", JSON_ARRAY, true },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_region in, g;
    long nzones;

    memset(&in, 0, sizeof(in));
    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        copy_field(req, "code", in.code, sizeof(in.code), &err) < 0 ||
        copy_field(req, "name", in.name, sizeof(in.name), &err) < 0 ||
        copy_field(req, "country", in.country, sizeof(in.country), &err) < 0 ||
        copy_field(req, "datacenter", in.datacenter, sizeof(in.datacenter), &err) < 0 ||
        body_zones(req, &in, &nzones, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_api_answer_in_tx(req, created_json, &g);
    if (sov_region_create(&req->ctx, &in, &g, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &g);
}

/* GET /v1/regions */
enum MHD_Result
sov_handle_region_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_region_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_region_list(&req->ctx, after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, region_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/regions/{code} */
enum MHD_Result
sov_handle_region_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_region g;

    if (sov_region_get(&req->ctx, sov_request_param(req, "code"), &g, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = region_json(&g);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* PATCH /v1/regions/{code} {name?, datacenter?, zones?} */
enum MHD_Result
sov_handle_region_update(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, false },
        { "datacenter", JSON_STRING, false },
        { "zones", JSON_ARRAY, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_region in, g;
    long nzones;

    memset(&in, 0, sizeof(in));
    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        body_zones(req, &in, &nzones, &err) < 0 ||
        sov_region_update(&req->ctx, sov_request_param(req, "code"),
                          sov_api_body_str(req, "name"), sov_api_body_str(req, "datacenter"),
                          in.zones, nzones, &g, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = region_json(&g);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/regions/{code} */
enum MHD_Result
sov_handle_region_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_region_delete(&req->ctx, sov_request_param(req, "code"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}
