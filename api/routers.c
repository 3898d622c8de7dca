/* routers.c: /v1/routers, internet gateways: one per network, with an address of a public
 * IP pool of the network's region. A create and a delete answer 202 with the operation that
 * syncs the router into OVN. */
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "sov/network.h"

static json_t *
router_json(const sov_router *r)
{
    json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:b, s:s, s:s}", "id", r->id, "name",
                          r->name, "network", "id", r->network_id, "name", r->network_name,
                          "region", r->region, "snat", r->snat, "state", r->state,
                          "state_reason", r->state_reason);

    json_object_set_new(j, "tenant_id", sov_api_str_or_null(r->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(r->workspace));
    json_object_set_new(j, "external_ip", sov_api_str_or_null(r->external_ip));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(r->operation_id));
    json_object_set_new(j, "created_at", json_string(r->created_at));
    json_object_set_new(j, "updated_at", json_string(r->updated_at));
    return j;
}

typedef struct created {
    sov_router r;
    sov_op op;
} created;

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    return sov_api_accepted_json("router", router_json(&c->r), &c->op, status, location,
                                 location_size);
}

/* POST /v1/routers {name, network, snat?, workspace?} */
enum MHD_Result
sov_handle_router_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "network", JSON_STRING, true },
        { "snat", JSON_TRUE, false },        { "workspace", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_router_create_args a = { 0 };
    json_t *snat = json_object_get(req->body, "snat");
    created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.network = sov_api_body_str(req, "network");
    a.workspace = sov_api_body_str(req, "workspace");
    a.snat = !snat || json_is_null(snat) || json_is_true(snat);
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_router_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.r, &c.op,
                          &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* GET /v1/routers?workspace=&tenant_id= */
enum MHD_Result
sov_handle_router_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_router_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_router_list(&req->ctx, sov_request_query(req, "tenant_id"),
                        sov_request_query(req, "workspace"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, router_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/routers/{id}?tenant_id= */
enum MHD_Result
sov_handle_router_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_router r;

    if (sov_router_get(&req->ctx, sov_request_query(req, "tenant_id"),
                       sov_request_param(req, "id"), &r, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = router_json(&r);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/routers/{id}?tenant_id= */
enum MHD_Result
sov_handle_router_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_router r;
    sov_op op;

    /* The router as the delete leaves it: read first, since a quick worker may have deleted
     * it before a read after the commit. */
    if (sov_router_get(&req->ctx, tenant_id, id, &r, &err) < 0 ||
        sov_router_delete(&req->ctx, tenant_id, r.id, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(r.state, sizeof(r.state), "deleting");
    snprintf(r.operation_id, sizeof(r.operation_id), "%s", op.id);
    sov_autoptr(json_t) body = json_pack("{s:o}", "router", router_json(&r));
    return sov_api_reply_accepted(req, body, &op);
}
