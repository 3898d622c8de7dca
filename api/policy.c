/* policy.c: /v1/tenants/{id}/residency-policy. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "sov/residency.h"

json_t *
sov_api_policy_json(const sov_policy *p)
{
    json_t *j = json_array(), *c = json_array(), *r = json_array();

    for (size_t i = 0; i < p->njurisdictions; i++)
        json_array_append_new(j, json_string(p->jurisdictions[i]));
    for (size_t i = 0; i < p->ncountries; i++)
        json_array_append_new(c, json_string(p->countries[i]));
    for (size_t i = 0; i < p->nregions; i++)
        json_array_append_new(r, json_string(p->regions[i]));
    return json_pack("{s:o, s:o, s:o}", "jurisdictions", j, "countries", c, "regions", r);
}

/* One list of the body into fixed slots. */
static int
body_list(sov_request *req, const char *name, size_t max, char *slots, size_t stride,
          size_t *n, sov_error *err)
{
    json_t *list = json_object_get(req->body, name);
    size_t i;
    json_t *v;

    *n = 0;
    if (!list || json_is_null(list))
        return 0;
    if (json_array_size(list) > max)
        return sov_error_invalid(err, name, "%s has at most %zu entries", name, max);
    json_array_foreach(list, i, v) {
        if (!json_is_string(v) || json_string_length(v) >= stride ||
            json_string_length(v) == 0)
            return sov_error_invalid(err, name, "%s must be a list of codes", name);
        snprintf(slots + i * stride, stride, "%s", json_string_value(v));
    }
    *n = json_array_size(list);
    return 0;
}

/* GET /v1/tenants/{id}/residency-policy */
enum MHD_Result
sov_handle_policy_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_policy p;

    if (sov_policy_get(&req->ctx, sov_request_param(req, "id"), &p, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = sov_api_policy_json(&p);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* PUT /v1/tenants/{id}/residency-policy {jurisdictions?, countries?, regions?} */
enum MHD_Result
sov_handle_policy_set(sov_request *req)
{
    static const sov_field fields[] = {
        { "jurisdictions", JSON_ARRAY, false },
        { "countries", JSON_ARRAY, false },
        { "regions", JSON_ARRAY, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_policy p, out;

    memset(&p, 0, sizeof(p));
    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        body_list(req, "jurisdictions", 3, p.jurisdictions[0], sizeof(p.jurisdictions[0]),
                  &p.njurisdictions, &err) < 0 ||
        body_list(req, "countries", SOV_POLICY_MAX, p.countries[0], sizeof(p.countries[0]),
                  &p.ncountries, &err) < 0 ||
        body_list(req, "regions", SOV_POLICY_MAX, p.regions[0], sizeof(p.regions[0]),
                  &p.nregions, &err) < 0 ||
        sov_policy_set(&req->ctx, sov_request_param(req, "id"), &p, &out, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = sov_api_policy_json(&out);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}
