/* history.c: GET /v1/{collection}/{id}/residency: where a resource's data has lived, record
 * by record, oldest first (keyset pages). Whoever sees the resource sees its history; for
 * anyone else it does not exist (404), exactly as the resource itself. */
#include <stdlib.h>

#include "handlers.h"
#include "sov/compute.h"
#include "sov/network.h"
#include "sov/residency.h"
#include "sov/storage.h"

static json_t *
place_json(const sov_location *l)
{
    json_t *j = sov_api_location_json(l, NULL);

    /* A record is a moment: "since" belongs to a resource's current residency only. */
    if (json_is_object(j))
        json_object_del(j, "since");
    return j;
}

static json_t *
event_json(const sov_residency_event *e)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t) e->seq, "at", e->at,
                          "event", e->event, "reason", e->reason);

    json_object_set_new(j, "from", place_json(&e->from));
    json_object_set_new(j, "to", place_json(&e->to));
    json_object_set_new(j, "policy", sov_api_policy_json(&e->policy));
    json_object_set_new(j, "operation_id",
                        e->operation_id[0] ? json_string(e->operation_id) : json_null());
    return j;
}

static enum MHD_Result
reply_history(sov_request *req, const char *tenant_id, const char *type, const char *id)
{
    sov_error err = SOV_ERROR_INIT;
    sov_residency_event_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_residency_history(&req->ctx, tenant_id, type, id, after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, event_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/instances/{id}/residency */
enum MHD_Result
sov_handle_instance_residency(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    SOV_CLEANUP(sov_instance_release) sov_instance x = { .placement = NULL };

    if (sov_instance_get(&req->ctx, NULL, sov_request_param(req, "id"), &x, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_history(req, x.tenant_id, "instance", x.id);
}

/* GET /v1/images/{id}/residency */
enum MHD_Result
sov_handle_image_residency(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_image img;

    if (sov_image_get(&req->ctx, NULL, sov_request_param(req, "id"), NULL, &img, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_history(req, img.tenant_id, "image", img.id);
}

/* GET /v1/snapshots/{id}/residency */
enum MHD_Result
sov_handle_snapshot_residency(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_snapshot s;

    if (sov_snapshot_get(&req->ctx, sov_request_query(req, "tenant_id"),
                         sov_request_param(req, "id"), &s, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_history(req, s.tenant_id, "snapshot", s.id);
}

/* GET /v1/volumes/{id}/residency */
enum MHD_Result
sov_handle_volume_residency(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume v;

    if (sov_volume_get(&req->ctx, NULL, sov_request_param(req, "id"), &v, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_history(req, v.tenant_id, "volume", v.id);
}

/* GET /v1/networks/{id}/residency */
enum MHD_Result
sov_handle_network_residency(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;

    if (sov_network_get(&req->ctx, NULL, sov_request_param(req, "id"), &n, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_history(req, n.tenant_id, "network", n.id);
}

/* GET /v1/public-ips/{id}/residency */
enum MHD_Result
sov_handle_public_ip_residency(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip ip;

    if (sov_public_ip_get(&req->ctx, sov_request_query(req, "tenant_id"),
                          sov_request_param(req, "id"), &ip, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_history(req, ip.tenant_id, "public_ip", ip.id);
}
