/* reports.c: /v1/residency/reports and /v1/residency/signing-key. Asking for a report answers
 * 202 with the operation that builds it; a finished report's document is streamed from its
 * stored chunks (never whole in memory), its signature is the 64 raw bytes of Ed25519, and
 * the public key it verifies with is served to anyone, by key id, retired or not. The
 * private key is never served: nothing here can reach it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "sov/ops.h"
#include "sov/residency.h"

#define PEM_TYPE "application/x-pem-file"

static json_t *
report_json(const sov_report *r)
{
    json_t *j = json_object(), *scope = json_null(), *links = json_object();
    char path[160];

    if (!r->all_tenants) {
        scope = json_array();
        for (size_t i = 0; i < r->ntenants; i++)
            json_array_append_new(scope, json_string(r->tenants[i]));
    }
    json_object_set_new(j, "id", json_string(r->id));
    json_object_set_new(j, "tenant_id", json_string(r->tenant_id));
    json_object_set_new(j, "period", json_pack("{s:s, s:s}", "from", r->period_from, "to",
                                               r->period_to));
    json_object_set_new(j, "scope", scope);
    json_object_set_new(j, "format", json_string(r->format));
    json_object_set_new(j, "state", json_string(r->state));
    json_object_set_new(j, "state_reason", json_string(r->state_reason));
    json_object_set_new(j, "key_id", sov_api_str_or_null(r->key_id));
    json_object_set_new(j, "rows", json_integer((json_int_t) r->rows));
    json_object_set_new(j, "violations", json_integer((json_int_t) r->violations));
    json_object_set_new(j, "rows_sha256", sov_api_str_or_null(r->rows_sha256));
    json_object_set_new(j, "document_sha256", sov_api_str_or_null(r->document_sha256));
    json_object_set_new(j, "size_bytes", json_integer((json_int_t) r->size_bytes));
    json_object_set_new(j, "operation_id", sov_api_str_or_null(r->operation_id));
    json_object_set_new(j, "created_at", json_string(r->created_at));
    json_object_set_new(j, "finished_at", sov_api_str_or_null(r->finished_at));
    snprintf(path, sizeof(path), "/v1/residency/reports/%s", r->id);
    json_object_set_new(links, "self", json_string(path));
    snprintf(path, sizeof(path), "/v1/residency/reports/%s/document", r->id);
    json_object_set_new(links, "document", json_string(path));
    snprintf(path, sizeof(path), "/v1/residency/reports/%s/signature", r->id);
    json_object_set_new(links, "signature", json_string(path));
    if (r->key_id[0]) {
        snprintf(path, sizeof(path), "/v1/residency/signing-key?key_id=%s", r->key_id);
        json_object_set_new(links, "signing_key", json_string(path));
    }
    json_object_set_new(j, "links", links);
    return j;
}

/* tenants: a list of strings, or absent/null. */
static int
body_tenants(sov_request *req, const char **ids, size_t max, const char *const **ret,
             size_t *n, sov_error *err)
{
    json_t *list = json_object_get(req->body, "tenants");
    size_t i;
    json_t *v;

    *ret = NULL;
    *n = 0;
    if (!list || json_is_null(list))
        return 0;
    if (json_array_size(list) > max)
        return sov_error_invalid(err, "tenants", "a report names at most %zu tenants", max);
    json_array_foreach(list, i, v) {
        if (!json_is_string(v))
            return sov_error_invalid(err, "tenants", "tenants must be a list of tenant ids "
                                     "(UUIDs)");
        ids[i] = json_string_value(v);
    }
    *ret = ids;
    *n = json_array_size(list);
    return 0;
}

/* What a create fills in, and its 202: {"report": ..., "operation": ...}. */
typedef struct created {
    sov_report r;
    sov_op op;
} created;

static json_t *
created_json(const void *arg, unsigned *status, char *location, size_t location_size)
{
    const created *c = arg;

    return sov_api_accepted_json("report", report_json(&c->r), &c->op, status, location,
                                 location_size);
}

/* POST /v1/residency/reports {from, to, format, tenants?} */
enum MHD_Result
sov_handle_report_create(sov_request *req)
{
    static const sov_field fields[] = {
        { "from", JSON_STRING, true },
        { "to", JSON_STRING, true },
        { "format", JSON_STRING, true },
        { "tenants", JSON_ARRAY, false },
    };
    sov_error err = SOV_ERROR_INIT;
    const char *ids[SOV_REPORT_TENANTS_MAX];
    sov_report_args a = { 0 };
    created c;

    if (sov_api_check_body(req, fields, SOV_N_ELEMENTS(fields), &err) < 0 ||
        body_tenants(req, ids, SOV_N_ELEMENTS(ids), &a.tenants, &a.ntenants, &err) < 0)
        return sov_api_reply_problem(req, &err);
    a.from = sov_api_body_str(req, "from");
    a.to = sov_api_body_str(req, "to");
    a.format = sov_api_body_str(req, "format");
    sov_api_answer_in_tx(req, created_json, &c);
    if (sov_report_create(&req->ctx, &a, &c.r, &c.op, &err) < 0)
        return sov_api_reply_problem(req, &err);
    return sov_api_reply_rendered(req, created_json, &c);
}

/* GET /v1/residency/reports */
enum MHD_Result
sov_handle_report_list(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_report_page page = { 0 };
    unsigned limit;
    const char *after;

    if (sov_api_page(req, &limit, &after, &err) < 0 ||
        sov_report_list(&req->ctx, after, limit, &page, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < page.n; i++)
        json_array_append_new(items, report_json(&page.items[i]));
    free(page.items);
    sov_autoptr(json_t) body = sov_api_list(req, items, page.next_after, NULL);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* GET /v1/residency/reports/{id} */
enum MHD_Result
sov_handle_report_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_report r;

    if (sov_report_get(&req->ctx, sov_request_param(req, "id"), &r, &err) < 0)
        return sov_api_reply_problem(req, &err);
    sov_autoptr(json_t) body = report_json(&r);
    return sov_api_reply(req, MHD_HTTP_OK, body);
}

/* libmicrohttpd asks for the next bytes as the client takes them. */
static ssize_t
document_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    sov_error err = SOV_ERROR_INIT;
    long n = sov_report_read(cls, pos, buf, max, &err);

    if (n < 0) {
        /* Headers are gone already: all that is left is to cut the connection. */
        sov_log_error("could not stream a residency report: %s %s", err.msg, err.detail);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t) n;
}

static void
document_done(void *cls)
{
    sov_report_reader_free(cls);
}

/* GET /v1/residency/reports/{id}/document: the signed bytes, exactly. */
enum MHD_Result
sov_handle_report_document(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_report_reader *reader = NULL;
    struct MHD_Response *resp;
    sov_report r;
    char disposition[128];
    bool json;

    if (sov_report_open(&req->ctx, sov_request_param(req, "id"), &r, &reader, &err) < 0)
        return sov_api_reply_problem(req, &err);
    json = strcmp(r.format, "json") == 0;
    /* The response owns the reader until it is done; the reader holds no pooled connection
     * while the client is slow to read. */
    resp = MHD_create_response_from_callback((uint64_t) r.size_bytes, 64 * 1024,
                                             document_read, reader, document_done);
    if (!resp) {
        sov_report_reader_free(reader);
        sov_error_set(&err, SOV_E_INTERNAL, "could not start the download");
        return sov_api_reply_problem(req, &err);
    }
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"residency-report-%s.%s\"",
             r.id, json ? "json" : "csv");
    MHD_add_response_header(resp, "Content-Disposition", disposition);
    return sov_api_reply_response(req, MHD_HTTP_OK,
                                  json ? "application/json" : "text/csv; charset=utf-8", resp,
                                  (size_t) r.size_bytes);
}

/* GET /v1/residency/reports/{id}/signature: 64 raw bytes of Ed25519 over the document. */
enum MHD_Result
sov_handle_report_signature(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    unsigned char sig[SOV_SIGNATURE_LEN];
    char disposition[128];
    sov_report r;

    if (sov_report_signature(&req->ctx, sov_request_param(req, "id"), sig, &r, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(disposition, sizeof(disposition), "attachment; filename=\"residency-report-%s.sig\"",
             r.id);
    sov_request_add_header(req, "Content-Disposition", disposition);
    sov_request_add_header(req, "X-Sov-Key-Id", r.key_id);
    return sov_api_reply_bytes(req, MHD_HTTP_OK, "application/octet-stream", sig, sizeof(sig));
}

static json_t *
key_json(const sov_signing_key *k)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "key_id", k->key_id, "algorithm",
                          k->algorithm, "public_key_pem", k->public_pem, "created_at",
                          k->created_at);
    json_object_set_new(j, "retired_at", sov_api_str_or_null(k->retired_at));
    return j;
}

/* Whether the client asked for the PEM itself. */
static bool
wants_pem(sov_request *req)
{
    const char *accept = sov_request_header(req, "Accept");

    return accept && strstr(accept, PEM_TYPE);
}

static enum MHD_Result
reply_key(sov_request *req, unsigned status, const sov_signing_key *k)
{
    if (wants_pem(req)) {
        sov_request_add_header(req, "X-Sov-Key-Id", k->key_id);
        return sov_api_reply_bytes(req, status, PEM_TYPE, k->public_pem, strlen(k->public_pem));
    }
    sov_autoptr(json_t) body = key_json(k);
    return sov_api_reply(req, status, body);
}

/* GET /v1/residency/signing-key?key_id= : this sovd's key, or any published one by id. */
enum MHD_Result
sov_handle_signing_key_get(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    const char *id = sov_request_query(req, "key_id");
    sov_signing_key k;

    if ((id ? sov_signing_key_get(&req->ctx, id, &k, &err)
            : sov_signing_key_current(&req->ctx, &k, &err)) < 0)
        return sov_api_reply_problem(req, &err);
    return reply_key(req, MHD_HTTP_OK, &k);
}

/* POST /v1/residency/signing-key/rotate */
enum MHD_Result
sov_handle_signing_key_rotate(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_signing_key k;
    char loc[96];

    if (sov_api_check_body(req, NULL, 0, &err) < 0 || sov_signing_rotate(&req->ctx, &k, &err) < 0)
        return sov_api_reply_problem(req, &err);
    snprintf(loc, sizeof(loc), "/v1/residency/signing-key?key_id=%s", k.key_id);
    sov_request_add_header(req, "Location", loc);
    return reply_key(req, MHD_HTTP_CREATED, &k);
}
