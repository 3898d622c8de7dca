/* networks.c: /v1/networks, /v1/subnets and /v1/ports. Every change answers 202 with the
 * resource and the operation that brings OVN to it (Location: /v1/operations/{id}).
 * Without OVN configured (ovn_nb) these routes answer 503: tenant networks need OVN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "sov/network.h"

#define LIST_MAX 16

/* ---- JSON ---- */

static json_t *
network_json(const sov_network *n)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "id", n->id, "name", n->name,
                          "cidr", n->cidr, "region", n->region, "is_default", n->is_default,
                          "state", n->state, "state_reason", n->state_reason);

    /* A deleted network outlives its workspace and tenant: then null. */
    json_object_set_new(j, "tenant_id", sov_api_str_or_null(n->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(n->workspace));
    json_object_set_new(j, "router", sov_api_str_or_null(n->router_id));
    json_object_set_new(j, "residency", sov_api_location_json(&n->residency,
                                                              n->residency_since));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(n->operation_id));
    json_object_set_new(j, "created_at", json_string(n->created_at));
    json_object_set_new(j, "updated_at", json_string(n->updated_at));
    return j;
}

static json_t *
subnet_json(const sov_subnet *s)
{
    json_t *dns = json_array();
    json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:I, s:I, s:s, s:s}", "id",
                          s->id, "name", s->name, "network", "id", s->network_id, "name",
                          s->network_name, "cidr", s->cidr, "gateway", s->gateway,
                          "addresses_total", (json_int_t) s->addresses_total,
                          "addresses_used", (json_int_t) s->addresses_used, "state",
                          s->state, "state_reason", s->state_reason);

    for (size_t i = 0; i < s->ndns_servers; i++)
        json_array_append_new(dns, json_string(s->dns_servers[i]));
    json_object_set_new(j, "dns_servers", dns);
    json_object_set_new(j, "zone", sov_api_str_or_null(s->zone));
    json_object_set_new(j, "tenant_id", sov_api_str_or_null(s->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(s->workspace));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(s->operation_id));
    json_object_set_new(j, "created_at", json_string(s->created_at));
    json_object_set_new(j, "updated_at", json_string(s->updated_at));
    return j;
}

static json_t *
port_json(const sov_port *p)
{
    json_t *groups = json_array();
    json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:s, s:b, s:s, s:s}",
                          "id", p->id, "name", p->name, "network", "id", p->network_id, "name",
                          p->network_name, "subnet", "id", p->subnet_id, "name",
                          p->subnet_name, "ip", p->ip, "mac", p->mac, "up", p->up, "state",
                          p->state, "state_reason", p->state_reason);

    for (size_t i = 0; i < p->nsecurity_groups; i++)
        json_array_append_new(groups, json_string(p->security_groups[i]));
    json_object_set_new(j, "security_groups", groups);
    json_object_set_new(j, "instance", p->instance_id[0]
                                           ? json_pack("{s:s, s:s}", "id", p->instance_id,
                                                       "name", p->instance_name)
                                           : json_null());
    json_object_set_new(j, "device_index", p->device_index >= 0
                                               ? json_integer(p->device_index)
                                               : json_null());
    json_object_set_new(j, "chassis", sov_api_str_or_null(p->chassis));
    json_object_set_new(j, "public_ip", sov_api_str_or_null(p->public_ip));
    /* A port an instance's create made goes with that instance's delete. */
    json_object_set_new(j, "created_by_instance", sov_api_str_or_null(p->created_by_instance));
    json_object_set_new(j, "tenant_id", sov_api_str_or_null(p->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(p->workspace));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(p->operation_id));
    json_object_set_new(j, "created_at", json_string(p->created_at));
    json_object_set_new(j, "updated_at", json_string(p->updated_at));
    return j;
}

/* A member that is an array of strings (at most LIST_MAX) into out; absent or null: *n 0
 * and *given false. */
static int
str_list(sov_request *req, const char *name, const char **out, size_t *n, bool *given,
         sov_error *err)
{
    json_t *arr = req->body ? json_object_get(req->body, name) : NULL, *v;
    size_t i;

    *n = 0;
    if (given)
        *given = arr && !json_is_null(arr);
    if (!arr || json_is_null(arr))
        return 0;
    if (json_array_size(arr) > LIST_MAX)
        return sov_error_invalid(err, name, "%s has at most %d entries", name, LIST_MAX);
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return sov_error_invalid(err, name, "%s[%zu] must be a string", name, i);
        out[i] = json_string_value(v);
    }
    *n = json_array_size(arr);
    return 0;
}

/* ---- networks ---- */

typedef struct net_created {
    sov_network n;
    sov_op op;
} net_created;

static json_t *
network_created_json(const void *arg, unsigned *status, char *location, size_t size)
{
    const net_created *c = arg;

    return sov_api_accepted_json("network", network_json(&c->n), &c->op, status, location,
                                 size);
}

/* POST /v1/networks */
enum MHD_Result
sov_handle_network_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "cidr", JSON_STRING, true },
        { "workspace", JSON_STRING, false }, { "region", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_network_create_args a = { 0 };
    net_created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.cidr = sov_api_body_str(req, "cidr");
    a.workspace = sov_api_body_str(req, "workspace");
    a.region = sov_api_body_str(req, "region");
    sov_api_answer_in_tx(req, network_created_json, &c);
    if (sov_network_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.n, &c.op,
                           &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, network_created_json, &c);
}

/* GET /v1/networks?workspace=&region=&state=&tenant_id= */
enum MHD_Result
sov_handle_network_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "region", "state", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_network_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_network_list(&req->ctx, sov_request_query(req, "tenant_id"),
                         sov_request_query(req, "workspace"), sov_request_query(req, "region"),
                         sov_request_query(req, "state"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, network_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/networks/{id}?tenant_id= */
enum MHD_Result
sov_handle_network_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_network n;

    if (sov_network_get(&req->ctx, sov_request_query(req, "tenant_id"),
                        sov_request_param(req, "id"), &n, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = network_json(&n);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/networks/{id}?tenant_id= */
enum MHD_Result
sov_handle_network_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_network n;
    sov_op op;

    /* The network as the delete leaves it: read first, since a quick worker may have
     * deleted it before a read after the commit. */
    if (sov_network_get(&req->ctx, tenant_id, id, &n, &err) < 0 ||
        sov_network_delete(&req->ctx, tenant_id, n.id, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(n.state, sizeof(n.state), "deleting");
    snprintf(n.operation_id, sizeof(n.operation_id), "%s", op.id);
    sov_autoptr(json_t) body = json_pack("{s:o}", "network", network_json(&n));
    return sov_api_reply_accepted(req, body, &op);
}

/* ---- subnets ---- */

typedef struct subnet_created {
    sov_subnet s;
    sov_op op;
} subnet_created;

static json_t *
subnet_created_json(const void *arg, unsigned *status, char *location, size_t size)
{
    const subnet_created *c = arg;

    return sov_api_accepted_json("subnet", subnet_json(&c->s), &c->op, status, location,
                                 size);
}

/* POST /v1/subnets */
enum MHD_Result
sov_handle_subnet_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },          { "network", JSON_STRING, true },
        { "cidr", JSON_STRING, true },          { "workspace", JSON_STRING, false },
        { "zone", JSON_STRING, false },         { "gateway", JSON_STRING, false },
        { "dns_servers", JSON_ARRAY, false },   { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_subnet_create_args a = { 0 };
    const char *dns[LIST_MAX];
    subnet_created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        str_list(req, "dns_servers", dns, &a.ndns_servers, NULL, &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.network = sov_api_body_str(req, "network");
    a.cidr = sov_api_body_str(req, "cidr");
    a.workspace = sov_api_body_str(req, "workspace");
    a.zone = sov_api_body_str(req, "zone");
    a.gateway = sov_api_body_str(req, "gateway");
    a.dns_servers = dns;
    sov_api_answer_in_tx(req, subnet_created_json, &c);
    if (sov_subnet_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.s, &c.op,
                          &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, subnet_created_json, &c);
}

/* GET /v1/subnets?workspace=&network=&state=&tenant_id= */
enum MHD_Result
sov_handle_subnet_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "network", "state", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_subnet_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_subnet_list(&req->ctx, sov_request_query(req, "tenant_id"),
                        sov_request_query(req, "workspace"), sov_request_query(req, "network"),
                        sov_request_query(req, "state"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, subnet_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/subnets/{id}?tenant_id= */
enum MHD_Result
sov_handle_subnet_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_subnet s;

    if (sov_subnet_get(&req->ctx, sov_request_query(req, "tenant_id"),
                       sov_request_param(req, "id"), &s, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = subnet_json(&s);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/subnets/{id}?tenant_id= */
enum MHD_Result
sov_handle_subnet_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_subnet s;
    sov_op op;

    /* The subnet as the delete leaves it: read first, since a quick worker may have
     * deleted it before a read after the commit. */
    if (sov_subnet_get(&req->ctx, tenant_id, id, &s, &err) < 0 ||
        sov_subnet_delete(&req->ctx, tenant_id, s.id, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(s.state, sizeof(s.state), "deleting");
    snprintf(s.operation_id, sizeof(s.operation_id), "%s", op.id);
    sov_autoptr(json_t) body = json_pack("{s:o}", "subnet", subnet_json(&s));
    return sov_api_reply_accepted(req, body, &op);
}

/* ---- ports ---- */

typedef struct port_created {
    sov_port p;
    sov_op op;
} port_created;

static json_t *
port_created_json(const void *arg, unsigned *status, char *location, size_t size)
{
    const port_created *c = arg;

    return sov_api_accepted_json("port", port_json(&c->p), &c->op, status, location, size);
}

/* POST /v1/ports */
enum MHD_Result
sov_handle_port_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "subnet", JSON_STRING, true },           { "name", JSON_STRING, false },
        { "ip", JSON_STRING, false },              { "mac", JSON_STRING, false },
        { "security_groups", JSON_ARRAY, false },  { "workspace", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_port_create_args a = { 0 };
    const char *groups[LIST_MAX];
    port_created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        str_list(req, "security_groups", groups, &a.nsecurity_groups, NULL, &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.subnet = sov_api_body_str(req, "subnet");
    a.name = sov_api_body_str(req, "name");
    a.ip = sov_api_body_str(req, "ip");
    a.mac = sov_api_body_str(req, "mac");
    a.workspace = sov_api_body_str(req, "workspace");
    a.security_groups = groups;
    sov_api_answer_in_tx(req, port_created_json, &c);
    if (sov_port_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.p, &c.op,
                        &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, port_created_json, &c);
}

/* GET /v1/ports?workspace=&network=&subnet=&instance=&state=&tenant_id= */
enum MHD_Result
sov_handle_port_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "network", "subnet", "instance", "state",
                                        "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_port_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_port_list(&req->ctx, sov_request_query(req, "tenant_id"),
                      sov_request_query(req, "workspace"), sov_request_query(req, "network"),
                      sov_request_query(req, "subnet"), sov_request_query(req, "instance"),
                      sov_request_query(req, "state"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, port_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/ports/{id}?tenant_id= */
enum MHD_Result
sov_handle_port_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_port p;

    if (sov_port_get(&req->ctx, sov_request_query(req, "tenant_id"),
                     sov_request_param(req, "id"), &p, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = port_json(&p);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/ports/{id}?tenant_id= */
enum MHD_Result
sov_handle_port_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_port p;
    sov_op op;

    /* The port as the delete leaves it: read first, since a quick worker may have
     * deleted it before a read after the commit. */
    if (sov_port_get(&req->ctx, tenant_id, id, &p, &err) < 0 ||
        sov_port_delete(&req->ctx, tenant_id, p.id, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(p.state, sizeof(p.state), "deleting");
    snprintf(p.operation_id, sizeof(p.operation_id), "%s", op.id);
    sov_autoptr(json_t) body = json_pack("{s:o}", "port", port_json(&p));
    return sov_api_reply_accepted(req, body, &op);
}

/* PUT /v1/ports/{id}/security-groups?tenant_id= {security_groups: [id or name, ...]}: the
 * whole list replaces the port's ([] none). */
enum MHD_Result
sov_handle_port_security_groups(sov_request *req)
{
    static const sov_field fields[] = { { "security_groups", JSON_ARRAY, true } };
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    const char *groups[LIST_MAX];
    size_t n = 0;
    sov_port p;
    sov_op op;

    /* Another tenant's port is not there, whatever the body says: look first. */
    if (sov_port_get(&req->ctx, tenant_id, id, &p, &err) < 0 ||
        sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        str_list(req, "security_groups", groups, &n, NULL, &err) < 0 ||
        sov_port_set_security_groups(&req->ctx, tenant_id, id, groups, n, &p, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "port", port_json(&p));
    return sov_api_reply_accepted(req, body, &op);
}

/* POST /v1/ports/{id}/actions?tenant_id= {action: attach|detach, instance?} */
enum MHD_Result
sov_handle_port_action(sov_request *req)
{
    static const sov_field fields[] = {
        { "action", JSON_STRING, true }, { "instance", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_port_action_args a = { 0 };
    sov_port p;
    sov_op op;

    if (sov_port_get(&req->ctx, tenant_id, id, &p, &err) < 0 ||
        sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.action = sov_api_body_str(req, "action");
    a.instance = sov_api_body_str(req, "instance");
    if (sov_port_action(&req->ctx, tenant_id, id, &a, &p, &op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "port", port_json(&p));
    return sov_api_reply_accepted(req, body, &op);
}
