/* operations.c: /v1/operations, and the shapes every asynchronous answer shares: an
 * operation's JSON, a 202 Accepted with Location, a resource's residency. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "sov/ops.h"
#include "sov/residency.h"

json_t *
sov_api_op_json(const sov_op *op)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:i}", "id", op->id,
                          "tenant_id", op->tenant_id, "kind", op->kind, "resource_type",
                          op->resource_type, "resource_id", op->resource_id, "state", op->state,
                          "progress", op->progress, "step", op->step, "attempts",
                          op->attempts);
    json_object_set_new(j, "error", op->error[0] ? json_pack("{s:s, s:s}", "code",
                                                             op->error_code, "message",
                                                             op->error)
                                                 : json_null());
    json_object_set_new(j, "created_at", sov_api_str_or_null(op->created_at));
    json_object_set_new(j, "started_at", sov_api_str_or_null(op->started_at));
    json_object_set_new(j, "finished_at", sov_api_str_or_null(op->finished_at));
    json_object_set_new(j, "updated_at", sov_api_str_or_null(op->updated_at));
    json_object_set_new(j, "parent_id", sov_api_str_or_null(op->parent_id));
    return j;
}

/* How many children GET of a parent shows; an evacuation of a big host has hundreds, which
 * GET /v1/operations?parent=ID lists page by page. */
#define CHILDREN_SHOWN 100

/* A child as its parent lists it: what a person follows an evacuation by. */
static json_t *
child_json(const sov_op *op)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "id", op->id, "kind",
                          op->kind, "resource_type", op->resource_type, "resource_id",
                          op->resource_id, "state", op->state, "progress", op->progress,
                          "step", op->step);

    json_object_set_new(j, "error", op->error[0] ? json_pack("{s:s, s:s}", "code",
                                                             op->error_code, "message",
                                                             op->error)
                                                 : json_null());
    return j;
}

/* An operation as GET shows it: with its result (null when its kind writes none) and, for
 * a parent, its first children and their count. */
static int
op_full_json(sov_request *req, const sov_op *op, json_t **ret, sov_error *err)
{
    sov_autoptr(json_t) j = sov_api_op_json(op);
    sov_autofree char *result = NULL;
    sov_op_page kids = { 0 };
    size_t total = 0;
    json_t *items, *doc = NULL;

    if (sov_op_result(&req->ctx, op->id, &result, err) < 0 ||
        sov_op_children_seen(&req->ctx, op->id, CHILDREN_SHOWN, &kids, &total, err) < 0)
        return -1;
    if (result)
        doc = json_loads(result, 0, NULL);
    json_object_set_new(j, "result", doc ? doc : json_null());
    items = json_array();
    for (size_t i = 0; i < kids.n; i++)
        json_array_append_new(items, child_json(&kids.items[i]));
    free(kids.items);
    json_object_set_new(j, "children", items);
    json_object_set_new(j, "children_total", json_integer((json_int_t) total));
    *ret = SOV_TAKE_PTR(j);
    return 0;
}

json_t *
sov_api_location_json(const sov_location *l, const char *since)
{
    if (!l->region[0])
        return json_null();
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "region", l->region, "country", l->country,
                          "jurisdiction", l->jurisdiction, "datacenter", l->datacenter);
    json_object_set_new(j, "host", sov_api_str_or_null(l->host));
    json_object_set_new(j, "since", sov_api_str_or_null(since));
    return j;
}

json_t *
sov_api_accepted_json(const char *member, json_t *resource, const sov_op *op,
                      unsigned *status, char *location, size_t location_size)
{
    *status = MHD_HTTP_ACCEPTED;
    snprintf(location, location_size, "/v1/operations/%s", op->id);
    return json_pack("{s:o, s:o}", member, resource, "operation", sov_api_op_json(op));
}

enum MHD_Result
sov_api_reply_accepted(sov_request *req, json_t *body, const sov_op *op)
{
    char loc[96];

    snprintf(loc, sizeof(loc), "/v1/operations/%s", op->id);
    sov_request_add_header(req, "Location", loc);
    json_object_set_new(body, "operation", sov_api_op_json(op));
    return sov_api_reply(req, MHD_HTTP_ACCEPTED, body);
}

/* GET /v1/operations/{id} */
enum MHD_Result
sov_handle_operation_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_op op;
    sov_autoptr(json_t) body = NULL;

    if (sov_op_get(&req->ctx, sov_request_param(req, "id"), &op, &err) < 0 ||
        op_full_json(req, &op, &body, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/operations?resource_id=&state=&parent= */
enum MHD_Result
sov_handle_operation_list(sov_request *req)
{
    static const char *const keep[] = { "resource_id", "state", "parent", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_op_page page = { 0 };
    unsigned limit;
    const char *after, *state = sov_request_query(req, "state");

    if (state && strcmp(state, "queued") != 0 && strcmp(state, "running") != 0 &&
        strcmp(state, "succeeded") != 0 && strcmp(state, "failed") != 0) {
        sov_error_invalid(&err, "state", "state must be queued, running, succeeded or failed");
        return sov_api_reply_problem(req, &err);
    }
    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_op_list_children(&req->ctx, sov_request_query(req, "parent"),
                             sov_request_query(req, "resource_id"), state, after, limit, &page,
                             &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, sov_api_op_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}
