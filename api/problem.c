/* problem.c: the one table from error codes to HTTP statuses and RFC 9457 problem types. */
#include <stdlib.h>
#include <string.h>

#include "seca.h"
#include "sov/api.h"

static const struct problem {
    unsigned status;
    const char *type, *title;
} problems[SOV_E__COUNT] = {
    [SOV_OK] = { 500, "/problems/internal", "internal error" }, /* a bug if reached */
    [SOV_E_INVALID] = { 400, "/problems/invalid-request", "request is invalid" },
    [SOV_E_NOT_FOUND] = { 404, "/problems/not-found", "resource does not exist" },
    [SOV_E_CONFLICT] = { 409, "/problems/conflict", "request conflicts with current state" },
    [SOV_E_RESIDENCY] = { 409, "/problems/residency-policy",
                          "request would break the tenant's residency policy" },
    [SOV_E_UNAUTHENTICATED] = { 401, "/problems/unauthenticated", "authentication required" },
    [SOV_E_FORBIDDEN] = { 403, "/problems/forbidden", "not allowed for this role" },
    [SOV_E_QUOTA] = { 403, "/problems/quota-exceeded", "quota exceeded" },
    [SOV_E_CAPACITY] = { 409, "/problems/no-capacity", "no host has room for the request" },
    [SOV_E_UNREACHABLE] = { 422, "/problems/host-unreachable", "hypervisor unreachable" },
    [SOV_E_UNAVAILABLE] = { 503, "/problems/unavailable", "service temporarily unavailable" },
    [SOV_E_INTERNAL] = { 500, "/problems/internal", "internal error" },
};

/* s as a JSON string. jansson refuses bytes that are not UTF-8, and a problem quotes what
 * the client sent (a path with %ff in it, a name cut at the end of a message, maybe in the
 * middle of a character): those bytes become U+FFFD rather than the whole answer a 500. */
static json_t *
text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    char *clean, *out;

    if (j)
        return j;
    clean = malloc(strlen(s) * 3 + 1);
    if (!clean)
        return NULL;
    out = clean;
    for (const unsigned char *p = (const unsigned char *) s; *p;) {
        size_t step = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
        size_t have = 0;
        json_t *seq = NULL;

        while (have < step && p[have])
            have++;
        if (step > 0 && have == step && (seq = json_stringn((const char *) p, step))) {
            json_decref(seq);
            memcpy(out, p, step);
            out += step;
            p += step;
        } else {
            memcpy(out, "\xef\xbf\xbd", 3);
            out += 3;
            p++;
        }
    }
    *out = '\0';
    j = json_string(clean);
    free(clean);
    return j;
}

static const struct problem *
lookup(sov_errcode code)
{
    if ((unsigned) code >= SOV_E__COUNT || !problems[code].type)
        return &problems[SOV_E_INTERNAL];
    return &problems[code];
}

unsigned
sov_api_error_status(sov_errcode code)
{
    return lookup(code)->status;
}

enum MHD_Result
sov_api_reply_problem(sov_request *req, const sov_error *err)
{
    return sov_api_reply_problem_with(req, err, NULL);
}

enum MHD_Result
sov_api_reply_problem_with(sov_request *req, const sov_error *err, json_t *members)
{
    sov_autoptr(json_t) extra = members;
    const struct problem *p = lookup(err->code);
    sov_autoptr(json_t) body = NULL;
    char detail[sizeof(err->msg) + 96];

    /* The SECA surface answers every refusal in its own form (api/seca.c). */
    if (sov_seca_path(req->path))
        return sov_seca_reply_error(req, err, false);
    if (p->status >= 500) {
        /* The client sees only what lets an operator find the log line. */
        sov_log_kv kv[] = { SOV_KV_S("code", sov_errcode_name(err->code)),
                            SOV_KV_S("error", err->msg), SOV_KV_S("detail", err->detail) };
        sov_log_kv_write(SOV_LOG_ERROR, "request failed", kv, SOV_N_ELEMENTS(kv));
        if (err->code == SOV_E_UNAVAILABLE)
            snprintf(detail, sizeof(detail), "%s (request id %s)", err->msg, req->request_id);
        else
            snprintf(detail, sizeof(detail), "request id %s", req->request_id);
        if (err->code == SOV_E_UNAVAILABLE)
            sov_request_add_header(req, "Retry-After", "1");
    } else {
        snprintf(detail, sizeof(detail), "%s", err->msg[0] ? err->msg : p->title);
        if (err->detail[0])
            sov_log_debug("request refused: %s (%s)", err->msg, err->detail);
    }
    if (err->code == SOV_E_UNAUTHENTICATED)
        sov_request_add_header(req, "WWW-Authenticate", "Bearer");
    body = json_pack("{s:s, s:s, s:i, s:o, s:o, s:s}", "type", p->type, "title", p->title,
                     "status", (int) p->status, "detail", text(detail), "instance",
                     text(req->path), "request_id", req->request_id);
    /* A request member named by a refusal other than bad input (another tenant's group in
     * a rule: 404; a region outside the policy: 403; no address left there: 409) too. */
    if (body && err->field[0] &&
        (err->code == SOV_E_INVALID || err->code == SOV_E_NOT_FOUND ||
         err->code == SOV_E_CONFLICT || err->code == SOV_E_RESIDENCY))
        json_object_set_new(body, "errors",
                            json_pack("[{s:o, s:o}]", "field", text(err->field), "message",
                                      text(err->msg)));
    if (body && err->code == SOV_E_QUOTA)
        json_object_update_new(body, json_pack("{s:o, s:I, s:I, s:I}", "quota", text(err->field),
                                               "limit", (json_int_t) err->quota.limit,
                                               "used", (json_int_t) err->quota.used,
                                               "requested",
                                               (json_int_t) err->quota.requested));
    if (body && err->code == SOV_E_CONFLICT && err->n_blocked > 0) {
        json_t *arr = json_array();
        for (unsigned i = 0; i < err->n_blocked && i < SOV_ERROR_MAX_BLOCKERS; i++)
            json_array_append_new(arr, json_pack("{s:o, s:o, s:o}", "kind",
                                                 text(err->blocked_by[i].kind), "id",
                                                 text(err->blocked_by[i].id), "name",
                                                 text(err->blocked_by[i].name)));
        json_object_set_new(body, "blocked_by", arr);
    }
    /* Extension members never replace the standard ones. */
    if (body && extra && p->status < 500)
        json_object_update_missing(body, extra);
    if (!body)
        return sov_api_reply_bytes(req, 500, "application/problem+json", "{}", 2);
    return sov_api_reply_json_as(req, p->status, body, "application/problem+json");
}

static const struct problem edge_problems[SOV_EDGE__COUNT] = {
    [SOV_EDGE_INTERNAL] = { 500, "/problems/internal", "internal error" },
    [SOV_EDGE_NOT_FOUND] = { 404, "/problems/not-found", "resource does not exist" },
    [SOV_EDGE_METHOD_NOT_ALLOWED] = { 405, "/problems/method-not-allowed",
                                      "method not allowed" },
    [SOV_EDGE_UNEXPECTED_BODY] = { 400, "/problems/unexpected-body", "request takes no body" },
    [SOV_EDGE_MALFORMED_JSON] = { 400, "/problems/malformed-json",
                                  "request body is not valid JSON" },
    [SOV_EDGE_CORS_ORIGIN] = { 403, "/problems/cors-origin", "origin not allowed" },
    [SOV_EDGE_PAYLOAD_TOO_LARGE] = { 413, "/problems/payload-too-large",
                                     "request body too large" },
    [SOV_EDGE_UNSUPPORTED_MEDIA_TYPE] = { 415, "/problems/unsupported-media-type",
                                          "unsupported media type" },
    [SOV_EDGE_UNAVAILABLE] = { 503, "/problems/unavailable", "service temporarily unavailable" },
};

static const struct problem *
edge_lookup(sov_edge_problem p)
{
    if ((unsigned) p >= SOV_EDGE__COUNT || !edge_problems[p].type)
        return &edge_problems[SOV_EDGE_INTERNAL];
    return &edge_problems[p];
}

unsigned
sov_api_edge_status(sov_edge_problem p)
{
    return edge_lookup(p)->status;
}

enum MHD_Result
sov_api_reply_status(sov_request *req, sov_edge_problem problem, const char *detail)
{
    const struct problem *p = edge_lookup(problem);
    unsigned status = p->status;
    sov_autoptr(json_t) body = NULL;

    if (sov_seca_path(req->path))
        return sov_seca_reply_status(req, status, detail, NULL);
    body = json_pack("{s:s, s:s, s:i, s:o, s:o, s:s}", "type", p->type,
                                         "title", p->title, "status", (int) status, "detail",
                                         text(detail), "instance", text(req->path),
                                         "request_id", req->request_id);
    if (!body)
        return sov_api_reply_bytes(req, 500, "application/problem+json", "{}", 2);
    return sov_api_reply_json_as(req, status, body, "application/problem+json");
}

/* A client's X-Request-Id is kept (and quoted in problems) only when it is this safe. */
bool
sov_api_request_id_valid(const char *id)
{
    size_t n = 0;

    if (!id)
        return false;
    for (; id[n]; n++) {
        char c = id[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
        if (n >= SOV_REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}
