/* snapshots.c: /v1/snapshots. A tenant's members take snapshots of their volumes (a whole,
 * crash-consistent copy, also of an attached volume), list, read and delete them; readers
 * read them. A restore is a new volume from a snapshot (POST /v1/volumes with source
 * {"snapshot": ...}). Every change is an operation (202). An operator acts for another
 * tenant with "tenant_id". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "internal.h"
#include "sov/storage.h"

static json_t *
snapshot_json(const sov_snapshot *s)
{
    json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:s, s:s, s:s, s:s}", "id", s->id, "name",
                          s->name, "size_gib", (json_int_t) s->size_gib, "encrypted",
                          s->encrypted, "state", s->state, "state_reason", s->state_reason,
                          "region", s->region, "zone", s->zone);
    json_t *residency = sov_api_location_json(&s->residency, s->residency_since);

    /* A deleted snapshot outlives its volume, workspace and tenant: then null. */
    json_object_set_new(j, "tenant_id", sov_api_str_or_null(s->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(s->workspace));
    json_object_set_new(j, "volume", sov_api_str_or_null(s->volume_id));
    json_object_set_new(j, "volume_name", sov_api_str_or_null(s->volume_name));
    json_object_set_new(j, "host", s->host_name[0]
                                       ? json_pack("{s:s, s:s}", "id", s->host_id, "name",
                                                   s->host_name)
                                       : json_null());
    /* An encrypted snapshot's data is only as resident as its key: where that lives. */
    if (json_is_object(residency))
        json_object_set_new(residency, "key",
                            s->encrypted && s->key_region[0]
                                ? json_pack("{s:s, s:s}", "region", s->key_region, "country",
                                            s->key_country)
                                : json_null());
    json_object_set_new(j, "residency", residency);
    json_object_set_new(j, "operation_id", sov_api_str_or_null(s->operation_id));
    json_object_set_new(j, "created_at", json_string(s->created_at));
    json_object_set_new(j, "updated_at", json_string(s->updated_at));
    return j;
}

typedef struct created {
    sov_snapshot s;
    sov_op op;
} created;

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    return sov_api_accepted_json("snapshot", snapshot_json(&c->s), &c->op, status, location,
                                 location_size);
}

/* POST /v1/snapshots {name, volume, workspace?, tenant_id?} */
enum MHD_Result
sov_handle_snapshot_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },
        { "volume", JSON_STRING, true },
        { "workspace", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_snapshot_create_args a = { 0 };
    created c;

    memset(&c, 0, sizeof(c));
    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.volume = sov_api_body_str(req, "volume");
    a.workspace = sov_api_body_str(req, "workspace");
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_snapshot_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.s, &c.op,
                            &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* GET /v1/snapshots?workspace=&volume=&tenant_id= */
enum MHD_Result
sov_handle_snapshot_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "volume", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_snapshot_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_snapshot_list(&req->ctx, sov_request_query(req, "tenant_id"),
                          sov_request_query(req, "workspace"), sov_request_query(req, "volume"),
                          after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, snapshot_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/snapshots/{id}: an id, or a name with ?workspace= (the router resolved it). */
enum MHD_Result
sov_handle_snapshot_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_snapshot s;

    if (sov_snapshot_get(&req->ctx, sov_request_query(req, "tenant_id"),
                         sov_request_param(req, "id"), &s, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = snapshot_json(&s);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/snapshots/{id}: 202 with the snapshot (deleting) and the operation that
 * removes its file. */
enum MHD_Result
sov_handle_snapshot_delete(sov_request *req)
{
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_error err = SOV_ERROR_INIT;
    sov_snapshot s;
    sov_op op;

    if (sov_snapshot_delete(&req->ctx, tenant_id, id, &op, &err) < 0 ||
        sov_snapshot_get(&req->ctx, tenant_id, id, &s, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "snapshot", snapshot_json(&s));
    return sov_api_reply_accepted(req, body, &op);
}
