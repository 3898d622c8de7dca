/* volumes.c: /v1/volumes. Creating, acting on (attach, detach, extend) and deleting answer
 * 202 with the operation that carries the work out (Location: /v1/operations/{id}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "sov/storage.h"

/* A volume's residency as /v1 and SECA show it: where its data lives (its host), and where an
 * encrypted volume's key lives (the keystore's place). */
json_t *
sov_api_volume_residency_json(const sov_volume *v)
{
    json_t *residency = sov_api_location_json(&v->residency, v->residency_since);

    if (json_is_object(residency))
        json_object_set_new(residency, "key",
                            v->key_region[0] ? json_pack("{s:s, s:s}", "region", v->key_region,
                                                         "country", v->key_country)
                                             : json_null());
    return residency;
}

static json_t *
volume_json(const sov_volume *v)
{
    const sov_volume_attachment *a = &v->attachment;
    json_t *attachments = json_array();
    json_t *j = json_pack("{s:s, s:s, s:I, s:b, s:s, s:s, s:s, s:s}", "id", v->id, "name",
                          v->name, "size_gib", (json_int_t) v->size_gib, "encrypted",
                          v->encrypted, "state", v->state, "state_reason", v->state_reason,
                          "region", v->region, "zone", v->zone);

    /* A deleted volume outlives its type, workspace and tenant: then null. */
    json_object_set_new(j, "tenant_id", sov_api_str_or_null(v->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(v->workspace));
    json_object_set_new(j, "type", sov_api_str_or_null(v->type_name));
    json_object_set_new(j, "host", v->host_name[0]
                                       ? json_pack("{s:s, s:s}", "id", v->host_id, "name",
                                                   v->host_name)
                                       : json_null());
    if (a->instance_id[0])
        json_array_append_new(attachments,
                              json_pack("{s:s, s:s, s:s, s:b, s:s}", "instance",
                                        a->instance_id, "instance_name", a->instance_name,
                                        "device", a->device, "boot", a->boot, "attached_at",
                                        a->attached_at));
    json_object_set_new(j, "attachments", attachments);
    json_object_set_new(j, "source", v->source_type[0]
                                         ? json_pack("{s:s, s:s}", "type", v->source_type,
                                                     "id", v->source_id)
                                         : json_null());
    /* A boot volume an instance's create made goes with that instance's delete. */
    json_object_set_new(j, "created_by_instance", sov_api_str_or_null(v->created_by_instance));
    json_object_set_new(j, "residency", sov_api_volume_residency_json(v));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(v->operation_id));
    json_object_set_new(j, "created_at", json_string(v->created_at));
    json_object_set_new(j, "updated_at", json_string(v->updated_at));
    return j;
}

/* What a create fills in, and its 202: {"volume": ..., "operation": ...}. */
typedef struct created {
    sov_volume v;
    sov_op op;
} created;

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    return sov_api_accepted_json("volume", volume_json(&c->v), &c->op, status, location,
                                 location_size);
}

/* A whole number member, 0 when absent; within [lo, hi] when given. */
static int
size_field(json_t *obj, const char *name, long long lo, long long hi, long long *ret,
           sov_error *err)
{
    json_t *v = json_object_get(obj, name);

    *ret = 0;
    if (!v || json_is_null(v))
        return 0;
    if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        return sov_error_invalid(err, name, "%s must be from %lld to %lld", name, lo, hi);
    *ret = json_integer_value(v);
    return 0;
}

/* source: {"type": "image"|"snapshot"|"volume", "id": id or name}, or the short form with
 * one member named by the kind ({"snapshot": "nightly"}), or absent. */
static int
source_field(sov_request *req, sov_volume_create_args *a, sov_error *err)
{
    static const char *const kinds[] = { "image", "snapshot", "volume" };
    json_t *s = json_object_get(req->body, "source"), *v;
    const char *key;

    if (!s || json_is_null(s))
        return 0;
    json_object_foreach(s, key, v) {
        bool known = strcmp(key, "type") == 0 || strcmp(key, "id") == 0;

        for (size_t i = 0; !known && i < SOV_N_ELEMENTS(kinds); i++)
            known = strcmp(key, kinds[i]) == 0;
        if (!known)
            return sov_error_invalid(err, "source", "unknown field 'source.%.48s': a source is "
                                     "{type, id} or {image|snapshot|volume: id}", key);
        if (!json_is_string(v))
            return sov_error_invalid(err, "source", "source.%s must be a string", key);
        if (!(strcmp(key, "type") == 0 || strcmp(key, "id") == 0)) {
            if (json_object_size(s) != 1)
                return sov_error_invalid(err, "source", "source names one of image, snapshot "
                                         "or volume, alone");
            a->source_type = key;
            a->source = json_string_value(v);
            return 0;
        }
    }
    a->source_type = json_string_value(json_object_get(s, "type"));
    a->source = json_string_value(json_object_get(s, "id"));
    if (!a->source_type)
        return sov_error_invalid(err, "source", "source.type is required: image, snapshot or "
                                 "volume");
    return 0;
}

/* POST /v1/volumes */
enum MHD_Result
sov_handle_volume_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },       { "size_gib", JSON_INTEGER, false },
        { "type", JSON_STRING, false },      { "workspace", JSON_STRING, false },
        { "region", JSON_STRING, false },    { "zone", JSON_STRING, false },
        { "source", JSON_OBJECT, false },    { "instance_hint", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_volume_create_args a = { 0 };
    created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        size_field(req->body, "size_gib", 1, SOV_VOLUME_GIB_MAX, &a.size_gib, &err) < 0 ||
        source_field(req, &a, &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.name = sov_api_body_str(req, "name");
    a.type = sov_api_body_str(req, "type");
    a.workspace = sov_api_body_str(req, "workspace");
    a.region = sov_api_body_str(req, "region");
    a.zone = sov_api_body_str(req, "zone");
    a.instance_hint = sov_api_body_str(req, "instance_hint");
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_volume_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.v, &c.op,
                          &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* GET /v1/volumes?workspace=&state=&instance=&tenant_id= */
enum MHD_Result
sov_handle_volume_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "state", "instance", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_volume_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_volume_list(&req->ctx, sov_request_query(req, "tenant_id"),
                        sov_request_query(req, "workspace"), sov_request_query(req, "state"),
                        sov_request_query(req, "instance"), after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, volume_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/volumes/{id}?tenant_id= */
enum MHD_Result
sov_handle_volume_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_volume v;

    if (sov_volume_get(&req->ctx, sov_request_query(req, "tenant_id"),
                       sov_request_param(req, "id"), &v, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = volume_json(&v);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* POST /v1/volumes/{id}/actions?tenant_id= {action: attach|detach|extend|move, instance?,
 * force?, size_gib?, zone?, region?, host?} */
enum MHD_Result
sov_handle_volume_action(sov_request *req)
{
    static const sov_field fields[] = {
        { "action", JSON_STRING, true },     { "instance", JSON_STRING, false },
        { "force", JSON_TRUE, false },       { "size_gib", JSON_INTEGER, false },
        { "zone", JSON_STRING, false },      { "region", JSON_STRING, false },
        { "host", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_volume_action_args a = { 0 };
    sov_volume v;
    sov_op op;

    /* Another tenant's volume is not there, whatever the body says: look first. */
    if (sov_volume_get(&req->ctx, tenant_id, id, &v, &err) < 0 ||
        sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        size_field(req->body, "size_gib", 1, SOV_VOLUME_GIB_MAX, &a.size_gib, &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.action = sov_api_body_str(req, "action");
    a.instance = sov_api_body_str(req, "instance");
    a.force = json_is_true(json_object_get(req->body, "force"));
    a.zone = sov_api_body_str(req, "zone");
    a.region = sov_api_body_str(req, "region");
    a.host = sov_api_body_str(req, "host");
    if (sov_volume_action(&req->ctx, tenant_id, id, &a, &op, &err) < 0 ||
        sov_volume_get(&req->ctx, tenant_id, id, &v, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "volume", volume_json(&v));
    return sov_api_reply_accepted(req, body, &op);
}

/* DELETE /v1/volumes/{id}?tenant_id= */
enum MHD_Result
sov_handle_volume_delete(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_param(req, "id");
    const char *tenant_id = sov_request_query(req, "tenant_id");
    sov_volume v;
    sov_op op;

    if (sov_volume_delete(&req->ctx, tenant_id, id, &op, &err) < 0 ||
        sov_volume_get(&req->ctx, tenant_id, id, &v, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "volume", volume_json(&v));
    return sov_api_reply_accepted(req, body, &op);
}
