/* public_ips.c: /v1/regions/{code}/public-ip-pools (operators: a region's public addresses)
 * and /v1/public-ips (a tenant's addresses, attachable to a port whose network has a
 * router). Pools change at once (audited); public IPs answer 202 with their operation. */
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "sov/network.h"

static json_t *
pool_json(const sov_public_ip_pool *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "id", p->id,
                     "region", p->region, "name", p->name, "cidr", p->cidr, "gateway",
                     p->gateway, "first_ip", p->first_ip, "last_ip", p->last_ip,
                     "physical_network", p->physical_network, "total", (json_int_t) p->total,
                     "used", (json_int_t) p->used, "created_at", p->created_at);
}

/* POST /v1/regions/{code}/public-ip-pools {name, cidr, gateway?, first_ip?, last_ip?,
 * physical_network?} */
enum MHD_Result
sov_handle_public_ip_pool_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "cidr", JSON_STRING, true },
        { "gateway", JSON_STRING, false },   { "first_ip", JSON_STRING, false },
        { "last_ip", JSON_STRING, false },   { "physical_network", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip_pool_args a = { 0 };
    sov_public_ip_pool p;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.cidr = sov_api_body_str(req, "cidr");
    a.gateway = sov_api_body_str(req, "gateway");
    a.first_ip = sov_api_body_str(req, "first_ip");
    a.last_ip = sov_api_body_str(req, "last_ip");
    a.physical_network = sov_api_body_str(req, "physical_network");
    if (sov_public_ip_pool_create(&req->ctx, sov_request_param(req, "code"), &a, &p,
                                  &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = pool_json(&p);
    return sov_api_reply(req, MHD_HTTP_CREATED, body);
}

/* GET /v1/regions/{code}/public-ip-pools */
enum MHD_Result
sov_handle_public_ip_pool_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip_pool_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_public_ip_pool_list(&req->ctx, sov_request_param(req, "code"), after, limit,
                                &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, pool_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/regions/{code}/public-ip-pools/{id} (id or name) */
enum MHD_Result
sov_handle_public_ip_pool_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip_pool p;

    if (sov_public_ip_pool_get(&req->ctx, sov_request_param(req, "code"),
                               sov_request_param(req, "id"), &p, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = pool_json(&p);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/regions/{code}/public-ip-pools/{id} */
enum MHD_Result
sov_handle_public_ip_pool_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_public_ip_pool_delete(&req->ctx, sov_request_param(req, "code"),
                                  sov_request_param(req, "id"), &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_NO_CONTENT, NULL);
}

static json_t *
ip_json(const sov_public_ip *ip)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", ip->id, "name", ip->name,
                          "region", ip->region, "address", ip->address, "state", ip->state,
                          "state_reason", ip->state_reason);

    json_object_set_new(j, "tenant_id", sov_api_str_or_null(ip->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(ip->workspace));
    json_object_set_new(j, "pool_id", sov_api_str_or_null(ip->pool_id));
    json_object_set_new(j, "port", ip->port_id[0]
                                       ? json_pack("{s:s, s:s}", "id", ip->port_id, "ip",
                                                   ip->port_ip)
                                       : json_null());
    json_object_set_new(j, "residency", sov_api_location_json(&ip->residency,
                                                              ip->residency_since));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(ip->operation_id));
    json_object_set_new(j, "created_at", json_string(ip->created_at));
    json_object_set_new(j, "updated_at", json_string(ip->updated_at));
    return j;
}

typedef struct created {
    sov_public_ip ip;
    sov_op op;
} created;

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    return sov_api_accepted_json("public_ip", ip_json(&c->ip), &c->op, status, location,
                                 location_size);
}

/* POST /v1/public-ips {name, region?, port?, workspace?} */
enum MHD_Result
sov_handle_public_ip_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "region", JSON_STRING, false },
        { "port", JSON_STRING, false },      { "workspace", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip_create_args a = { 0 };
    created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.region = sov_api_body_str(req, "region");
    a.port = sov_api_body_str(req, "port");
    a.workspace = sov_api_body_str(req, "workspace");
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_public_ip_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.ip, &c.op,
                             &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* GET /v1/public-ips?workspace=&tenant_id= */
enum MHD_Result
sov_handle_public_ip_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_public_ip_list(&req->ctx, sov_request_query(req, "tenant_id"),
                           sov_request_query(req, "workspace"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, ip_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/public-ips/{id}?tenant_id= */
enum MHD_Result
sov_handle_public_ip_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_public_ip ip;

    if (sov_public_ip_get(&req->ctx, sov_request_query(req, "tenant_id"),
                          sov_request_param(req, "id"), &ip, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = ip_json(&ip);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* POST /v1/public-ips/{id}/actions?tenant_id= {action: attach|detach, port?} */
enum MHD_Result
sov_handle_public_ip_action(sov_request *req)
{
    static const sov_field fields[] = {
        { "action", JSON_STRING, true },     { "port", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_public_ip ip;
    sov_op op;

    /* Another tenant's address is not there, whatever the body says: look first. */
    if (sov_public_ip_get(&req->ctx, tenant_id, id, &ip, &err) < 0 ||
        sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        sov_public_ip_action(&req->ctx, tenant_id, id, sov_api_body_str(req, "action"),
                             sov_api_body_str(req, "port"), &ip, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "public_ip", ip_json(&ip));
    return sov_api_reply_accepted(req, body, &op);
}

/* DELETE /v1/public-ips/{id}?tenant_id= */
enum MHD_Result
sov_handle_public_ip_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_public_ip ip;
    sov_op op;

    /* The address as the delete leaves it: read first, since a quick worker may have deleted
     * it before a read after the commit. */
    if (sov_public_ip_get(&req->ctx, tenant_id, id, &ip, &err) < 0 ||
        sov_public_ip_delete(&req->ctx, tenant_id, ip.id, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(ip.state, sizeof(ip.state), "deleting");
    snprintf(ip.operation_id, sizeof(ip.operation_id), "%s", op.id);
    sov_autoptr(json_t) body = json_pack("{s:o}", "public_ip", ip_json(&ip));
    return sov_api_reply_accepted(req, body, &op);
}
