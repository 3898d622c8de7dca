/* images.c: /v1/images. A tenant's members create images (imported from a URL by a worker,
 * or uploaded directly with PUT /v1/images/{id}/file), list, read and delete them; an operator
 * acts for another tenant with "tenant_id". The upload is a streamed route: the body goes to
 * the image store as it arrives, never into memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "internal.h"
#include "sov/compute.h"
#include "sov/storage.h"

static json_t *
image_json(const sov_image *m)
{
    json_t *j = json_object();

    json_object_set_new(j, "id", json_string(m->id));
    /* A deleted image outlives its workspace and tenant: then null. */
    json_object_set_new(j, "tenant_id", sov_api_str_or_null(m->tenant_id));
    json_object_set_new(j, "workspace", sov_api_str_or_null(m->workspace));
    json_object_set_new(j, "name", json_string(m->name));
    json_object_set_new(j, "region", json_string(m->region));
    char source[sizeof(m->source_url) + 8];

    sov_image_source_shown(m->source_url, source, sizeof(source));
    json_object_set_new(j, "source_url", sov_api_str_or_null(source));
    json_object_set_new(j, "format", json_string(m->format));
    json_object_set_new(j, "sha256", sov_api_str_or_null(m->sha256));
    json_object_set_new(j, "min_disk_gib", json_integer((json_int_t) m->min_disk_gib));
    json_object_set_new(j, "size_bytes", json_integer((json_int_t) m->size_bytes));
    json_object_set_new(j, "virtual_size_bytes",
                        json_integer((json_int_t) m->virtual_size_bytes));
    json_object_set_new(j, "state", json_string(m->state));
    json_object_set_new(j, "state_reason", json_string(m->state_reason));
    json_object_set_new(j, "residency", sov_api_location_json(&m->residency, m->created_at));
    json_object_set_new(j, "created_at", json_string(m->created_at));
    json_object_set_new(j, "updated_at", json_string(m->updated_at));
    return j;
}

/* What a create fills in, and its answer: 202 {"image": ..., "operation": ...} when an
 * import was queued, else 201 with the image, waiting for PUT /v1/images/{id}/file. */
typedef struct created {
    sov_image img;
    sov_op op;
} created;

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    if (c->op.id[0])
        return sov_api_accepted_json("image", image_json(&c->img), &c->op, status, location,
                                     location_size);
    *status = MHD_HTTP_CREATED;
    snprintf(location, location_size, "/v1/images/%s", c->img.id);
    return image_json(&c->img);
}

/* POST /v1/images {name, source_volume, workspace?, tenant_id?}: an image holding a copy of
 * an available, unencrypted volume of the same workspace, in the volume's region, as qcow2
 * (202 with its image.from-volume operation). region, format, source_url, sha256 and
 * min_disk_gib come from the volume: given beside it they are refused. */
static enum MHD_Result
image_from_volume(sov_request *req)
{
    static const char *const other[] = { "region", "format", "source_url", "sha256",
                                         "min_disk_gib" };
    sov_error err = SOV_ERROR_INIT;
    sov_volume_image_args a = { 0 };
    created c;

    for (size_t i = 0; i < SOV_N_ELEMENTS(other); i++)
        if (json_object_get(req->body, other[i])) {
            sov_error_invalid(&err, other[i], "%s comes from the volume: leave it out beside "
                              "source_volume", other[i]);
            return sov_api_reply_problem(req, &err);
        }
    a.name = sov_api_body_str(req, "name");
    a.workspace = sov_api_body_str(req, "workspace");
    a.volume = sov_api_body_str(req, "source_volume");
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_volume_image_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.img,
                                &c.op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* POST /v1/images */
enum MHD_Result
sov_handle_image_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "name", JSON_STRING, true },
        { "region", JSON_STRING, false },
        { "format", JSON_STRING, false },
        { "source_url", JSON_STRING, false },
        { "source_volume", JSON_STRING, false },
        { "sha256", JSON_STRING, false },
        { "min_disk_gib", JSON_INTEGER, false },
        { "workspace", JSON_STRING, false },
        { "tenant_id", JSON_STRING, false },
    };
    sov_error err = SOV_ERROR_INIT;
    sov_image_create_args a = { 0 };
    created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0)
        return sov_api_reply_problem(req, &err);
    if (sov_api_body_str(req, "source_volume"))
        return image_from_volume(req);
    if (!sov_api_body_str(req, "region") || !sov_api_body_str(req, "format")) {
        sov_error_invalid(&err, sov_api_body_str(req, "region") ? "format" : "region",
                          "%s is required (unless source_volume is given)",
                          sov_api_body_str(req, "region") ? "format" : "region");
        return sov_api_reply_problem(req, &err);
    }
    a.name = sov_api_body_str(req, "name");
    a.region = sov_api_body_str(req, "region");
    a.format = sov_api_body_str(req, "format");
    a.source_url = sov_api_body_str(req, "source_url");
    a.sha256 = sov_api_body_str(req, "sha256");
    a.workspace = sov_api_body_str(req, "workspace");
    a.min_disk_gib = json_integer_value(json_object_get(req->body, "min_disk_gib"));
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_image_create(&req->ctx, sov_api_body_str(req, "tenant_id"), &a, &c.img, &c.op,
                         &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* GET /v1/images?workspace=&region=&tenant_id= */
enum MHD_Result
sov_handle_image_list(sov_request *req)
{
    static const char *const keep[] = { "workspace", "region", "tenant_id", NULL };
    sov_error err = SOV_ERROR_INIT;
    sov_image_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_image_list(&req->ctx, sov_request_query(req, "tenant_id"),
                       sov_request_query(req, "workspace"), sov_request_query(req, "region"),
                       after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, image_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, keep);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/images/{id}: an id, or a name with ?workspace= (default "default"). */
enum MHD_Result
sov_handle_image_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_image img;

    if (sov_image_get(&req->ctx, sov_request_query(req, "tenant_id"),
                      sov_request_param(req, "id"), sov_request_query(req, "workspace"), &img,
                      &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = image_json(&img);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* DELETE /v1/images/{id}: 202 with the image (deleting) and the operation that removes its
 * bytes. */
enum MHD_Result
sov_handle_image_delete(sov_request *req)
{
    const char *id = sov_request_param(req, "id");
    sov_error err = SOV_ERROR_INIT;
    sov_image img;
    sov_op op;

    if (sov_image_delete(&req->ctx, NULL, id, &op, &err) < 0 ||
        sov_image_get(&req->ctx, NULL, id, NULL, &img, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = json_pack("{s:o}", "image", image_json(&img));
    return sov_api_reply_accepted(req, body, &op);
}

/* ---- PUT /v1/images/{id}/file ---- */

/* What the upload's phases share: the service's upload, and the first failure of a DATA
 * phase, which can only be answered at END. */
typedef struct upload_state {
    sov_image_upload *u;
    unsigned long long received;
    bool failed, too_large;
    sov_error err;
} upload_state;

static enum MHD_Result
reply_too_large(sov_request *req, unsigned long max)
{
    char detail[128];

    snprintf(detail, sizeof(detail), "an image may be at most %lu bytes", max);
    return sov_api_reply_status(req, SOV_EDGE_PAYLOAD_TOO_LARGE, detail);
}

/* A refusal before any byte was taken. The server audits a streamed request only after END,
 * which a refused one never reaches: record it here, once. */
static enum MHD_Result
refuse(sov_request *req, enum MHD_Result r)
{
    sov_api_audit_after(req);
    req->ctx.audited = true;
    return r;
}

static enum MHD_Result
upload_begin(sov_request *req)
{
    unsigned long max = req->app->cfg->max_image_bytes;
    const char *cl = sov_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    sov_error err = SOV_ERROR_INIT;
    upload_state *st;
    unsigned long long declared = 0;
    char *end = NULL;

    /* A declared length over the limit is refused before anything is claimed. */
    if (cl)
        declared = strtoull(cl, &end, 10);
    if (cl && *end == '\0' && declared > max)
        return refuse(req, reply_too_large(req, max));
    st = calloc(1, sizeof(*st));
    if (!st) {
        sov_error_set(&err, SOV_E_INTERNAL, "out of memory");
        return refuse(req, sov_api_reply_problem(req, &err));
    }
    if (sov_image_upload_begin(&req->ctx, NULL, sov_request_param(req, "id"), &st->u, &err) <
        0) {
        free(st);
        return refuse(req, sov_api_reply_problem(req, &err));
    }
    req->stream_state = st;
    return MHD_YES;
}

static void
upload_data(sov_request *req)
{
    upload_state *st = req->stream_state;

    if (!st || st->failed)
        return;                 /* the rest of a failed upload is read and dropped */
    st->received += req->chunk_len;
    if (sov_image_upload_write(st->u, req->chunk, req->chunk_len, &st->err) < 0) {
        st->failed = true;
        st->too_large = st->received > req->app->cfg->max_image_bytes;
    }
}

static enum MHD_Result
upload_end(sov_request *req)
{
    upload_state *st = req->stream_state;
    sov_error err = SOV_ERROR_INIT;
    enum MHD_Result r;
    sov_image img;

    req->stream_state = NULL;
    if (!st) {
        sov_error_set(&err, SOV_E_INTERNAL, "upload lost its state");
        return sov_api_reply_problem(req, &err);
    }
    if (st->failed) {
        sov_image_upload_abort(st->u);
        r = st->too_large ? reply_too_large(req, req->app->cfg->max_image_bytes)
                          : sov_api_reply_problem(req, &st->err);
    } else if (sov_image_upload_finish(st->u, &img, &err) < 0) {
        r = sov_api_reply_problem(req, &err);
    } else {
        sov_autoptr(json_t) body = image_json(&img);
        r = sov_api_reply(req, MHD_HTTP_OK, body);
    }
    free(st);
    return r;
}

static void
upload_abort(sov_request *req)
{
    upload_state *st = req->stream_state;

    req->stream_state = NULL;
    if (!st)
        return;
    sov_image_upload_abort(st->u);
    free(st);
}

/* PUT /v1/images/{id}/file (application/octet-stream): called once per phase. */
enum MHD_Result
sov_handle_image_upload(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;

    switch (req->stream_phase) {
    case SOV_STREAM_BEGIN:
        return upload_begin(req);
    case SOV_STREAM_DATA:
        upload_data(req);
        return MHD_YES;
    case SOV_STREAM_END:
        return upload_end(req);
    case SOV_STREAM_ABORT:
        upload_abort(req);
        return MHD_YES;
    default:
        sov_error_set(&err, SOV_E_INTERNAL, "upload called outside a stream");
        return sov_api_reply_problem(req, &err);
    }
}
