/* server.c: libmicrohttpd glue: request life cycle, body limits, replies, CORS, metrics.
 *
 * A request is seen by on_request() several times: once when its headers are in (route
 * matched, limits checked), once per piece of body, and once more when all is received,
 * when the handler runs. Replies go out on that last call, never the first: libmicrohttpd
 * 0.9.75 closes keep-alive connections whose reply was queued on the first call. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"
#include "sov/api.h"
#include "sov/buf.h"
#include "sov/crypto.h"
#include "sov/fault.h"
#include "sov/idempotency.h"
#include "sov/log.h"

/* Statuses counted per route; anything else lands in the last slot as "other". */
static const unsigned counted_status[] = { 101, 200, 201, 202, 204, 304, 400, 401, 403, 404, 405,
                                           409, 410, 413, 415, 422, 429, 500, 501, 503 };
#define NSTATUS (SOV_N_ELEMENTS(counted_status) + 1)
static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                  0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS SOV_N_ELEMENTS(buckets)

typedef struct route_metrics {
    atomic_ullong status[NSTATUS];
    atomic_ullong bucket[NBUCKETS];   /* not cumulative; summed when rendered */
    atomic_ullong count;
    atomic_ullong sum_us;
} route_metrics;

struct sov_server {
    struct MHD_Daemon *daemon;
    const sov_config *cfg;
    sov_app *app;
    sov_router *router;
    const sov_route *routes;
    size_t nroutes;
    route_metrics *metrics;     /* nroutes + 2: unmatched, preflight */
    atomic_uint in_flight;
    atomic_uint suspended;      /* suspended requests not yet resumed (see shutdown) */
    sov_upgrades *upgrades;     /* connections that left HTTP (upgrade.c) */
    unsigned port;
    char *tls_cert, *tls_key;
};

#define SLOT_UNMATCHED(s) ((s)->nroutes)
#define SLOT_PREFLIGHT(s) ((s)->nroutes + 1)
#define MAX_HEADERS 8
/* Past this many body bytes a request already refused is cut off without an answer. */
#define DISCARD_CAP (64ULL << 20)

typedef enum kind { K_ROUTE, K_EARLY, K_OPTIONS, K_PREFLIGHT, K_CONSOLE } kind;

struct sov_request_internal {
    struct timespec start;
    kind kind;
    size_t slot;
    char *path_copy;
    sov_route_match match;
    char resolved[SOV_MAX_PATH_PARAMS][SOV_UUID_LEN + 1];  /* ids of names in the path */
    char seca_tenant_id[SOV_UUID_LEN + 1];  /* SECA's {tenant} resolved (access.c) */
    char allow[96];
    /* K_EARLY: a problem found before the handler could run */
    sov_edge_problem early_problem;
    char early_detail[192];
    char *body;
    size_t body_len, body_cap;
    bool body_expected;
    unsigned long long received;
    bool replied;
    unsigned status;
    size_t bytes;
    size_t nheaders;
    char *hname[MAX_HEADERS], *hvalue[MAX_HEADERS];
    char source[64];
    /* Idempotency-Key: keep a copy of the reply to store it */
    bool capture;
    char *captured;
    sov_idem_hook idem;             /* req->ctx.idem while the handler runs */
    sov_api_render_fn render;       /* the handler's answer, for the hook */
    const void *render_arg;
    /* sov_request_suspend: what replies once resumed, and the handler's state */
    sov_handler then;
    void *later;
    void (*later_free)(void *);
    /* An upload refused before its body was read: the reply waits for the body (queue()) */
    bool defer;
    struct MHD_Response *deferred;
    unsigned deferred_status;
};

static bool
method_has_body(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

unsigned
sov_request_status(sov_request *req)
{
    return req->in->status;
}

const char *
sov_request_param(sov_request *req, const char *name)
{
    const sov_route_match *m = &req->in->match;
    size_t len = strlen(name);

    for (size_t i = 0; i < m->nparams; i++)
        if (m->name_lens[i] == len && memcmp(m->names[i], name, len) == 0)
            return m->values[i];
    return NULL;
}

int
sov_request_set_param(sov_request *req, size_t i, const char *id)
{
    sov_route_match *m = &req->in->match;

    if (i >= m->nparams || i >= SOV_MAX_PATH_PARAMS)
        return -1;
    snprintf(req->in->resolved[i], sizeof(req->in->resolved[i]), "%s", id);
    m->values[i] = req->in->resolved[i];
    return 0;
}

char *
sov_request_seca_tenant_id(sov_request *req)
{
    return req->in->seca_tenant_id;
}

const sov_route_match *
sov_request_match(sov_request *req)
{
    return &req->in->match;
}

const char *
sov_request_header(sov_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void
sov_request_add_header(sov_request *req, const char *name, const char *value)
{
    struct sov_request_internal *in = req->in;

    if (in->nheaders == MAX_HEADERS)
        return;
    in->hname[in->nheaders] = strdup(name);
    in->hvalue[in->nheaders] = strdup(value);
    if (!in->hname[in->nheaders] || !in->hvalue[in->nheaders]) {
        free(in->hname[in->nheaders]);
        free(in->hvalue[in->nheaders]);
        return;
    }
    in->nheaders++;
}

static void
add_cors(sov_request *req, struct MHD_Response *resp)
{
    const char *origin = sov_request_header(req, "Origin");

    if (!origin || !sov_config_cors_allows(req->server->cfg, origin))
        return;
    /* The exact origin, never "*" together with credentials; we use bearer tokens, so no
     * Access-Control-Allow-Credentials at all. */
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Vary", "Origin");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "X-Request-Id, Location, Retry-After, Idempotent-Replayed");
}

/* Queue resp. While in->defer, keep it until the body is in: queued mid-upload, it makes
 * libmicrohttpd close with the body unread, and the reset that follows can reach the client
 * before the reply does (it then sees no answer). */
static enum MHD_Result
queue(sov_request *req, unsigned status, struct MHD_Response *resp)
{
    enum MHD_Result r = MHD_YES;

    if (req->in->defer) {
        req->in->deferred = resp;
        req->in->deferred_status = status;
        return r;
    }
    r = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* Queue data (malloc'd, taken) as the reply. */
static enum MHD_Result
send_owned(sov_request *req, unsigned status, const char *ctype, char *data, size_t len)
{
    struct sov_request_internal *in = req->in;
    struct MHD_Response *resp;
    enum MHD_Result r;

    if (in->replied) {
        free(data);
        sov_log_error("second reply to one request (status %u) ignored", status);
        return MHD_YES;
    }
    resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    if (ctype && (len > 0 || status != 204))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < in->nheaders; i++)
        MHD_add_response_header(resp, in->hname[i], in->hvalue[i]);
    add_cors(req, resp);
    if (in->capture && !in->captured)
        in->captured = strndup(data, len);
    r = queue(req, status, resp);
    in->replied = true;
    in->status = status;
    in->bytes = len;
    return r;
}

/* A reply the handler built itself (a stream read by a callback), with the headers every
 * reply carries; len is its size for the request log. */
enum MHD_Result
sov_api_reply_response(sov_request *req, unsigned status, const char *ctype,
                       struct MHD_Response *resp, size_t len)
{
    struct sov_request_internal *in = req->in;
    enum MHD_Result r;

    if (in->replied) {
        MHD_destroy_response(resp);
        sov_log_error("second reply to one request (status %u) ignored", status);
        return MHD_YES;
    }
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (!MHD_get_response_header(resp, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < in->nheaders; i++)
        MHD_add_response_header(resp, in->hname[i], in->hvalue[i]);
    add_cors(req, resp);
    r = queue(req, status, resp);
    in->replied = true;
    in->status = status;
    in->bytes = len;
    return r;
}

enum MHD_Result
sov_api_reply_bytes(sov_request *req, unsigned status, const char *ctype, const void *data,
                    size_t len)
{
    char *copy = malloc(len ? len : 1);

    if (!copy)
        return MHD_NO;
    memcpy(copy, data, len);
    return send_owned(req, status, ctype, copy, len);
}

enum MHD_Result
sov_api_reply_json_as(sov_request *req, unsigned status, json_t *body, const char *ctype)
{
    char *text;

    if (!body)
        return send_owned(req, status, NULL, calloc(1, 1), 0);
    text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return MHD_NO;
    return send_owned(req, status, ctype, text, strlen(text));
}

enum MHD_Result
sov_api_reply(sov_request *req, unsigned status, json_t *body)
{
    return sov_api_reply_json_as(req, status, body, "application/json");
}

/* sov_idem_render_fn over the handler's sov_api_render_fn: the JSON as sov_api_reply sends it. */
static int
render_answer(void *arg, int *status, char *location, size_t location_size, char **body)
{
    sov_request *req = arg;
    unsigned st = 0;
    sov_autoptr(json_t) j = req->in->render(req->in->render_arg, &st, location, location_size);

    if (!j)
        return -1;
    *body = json_dumps(j, JSON_COMPACT);
    *status = (int) st;
    return *body ? 0 : -1;
}

void
sov_api_answer_in_tx(sov_request *req, sov_api_render_fn fn, const void *arg)
{
    req->in->render = fn;
    req->in->render_arg = arg;
    if (req->ctx.idem) {
        req->ctx.idem->render = render_answer;
        req->ctx.idem->arg = req;
    }
}

enum MHD_Result
sov_api_reply_rendered(sov_request *req, sov_api_render_fn fn, const void *arg)
{
    char location[512] = "";
    unsigned status = 0;
    sov_autoptr(json_t) body = fn(arg, &status, location, sizeof(location));

    if (!body) {
        sov_error err = SOV_ERROR_INIT;
        sov_error_set(&err, SOV_E_INTERNAL, "out of memory");
        return sov_api_reply_problem(req, &err);
    }
    if (location[0])
        sov_request_add_header(req, "Location", location);
    return sov_api_reply(req, status, body);
}

static void
early(sov_request *req, sov_edge_problem problem, const char *detail)
{
    struct sov_request_internal *in = req->in;

    if (in->kind == K_EARLY)
        return;     /* the first problem found is the one reported */
    in->kind = K_EARLY;
    in->early_problem = problem;
    snprintf(in->early_detail, sizeof(in->early_detail), "%s", detail);
    free(in->body);
    in->body = NULL;
    in->body_len = in->body_cap = 0;
}

static void
early_too_large(sov_request *req)
{
    char detail[128];

    snprintf(detail, sizeof(detail), "request body is larger than %lu bytes",
             req->server->cfg->max_body_bytes);
    early(req, SOV_EDGE_PAYLOAD_TOO_LARGE, detail);
}

static bool
json_content_type(const char *ct)
{
    size_t n = strlen("application/json");

    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static sov_request *
request_new(sov_server *s, struct MHD_Connection *conn, const char *url, const char *method)
{
    sov_request *req = calloc(1, sizeof(*req) + sizeof(struct sov_request_internal));
    struct sov_request_internal *in;
    const char *rid;

    if (!req)
        return NULL;
    in = (struct sov_request_internal *) (req + 1);
    req->in = in;
    req->server = s;
    req->app = s->app;
    req->conn = conn;
    req->method = method;
    req->path = url;
    clock_gettime(CLOCK_MONOTONIC, &in->start);
    rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (sov_api_request_id_valid(rid)) {
        snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
    } else {
        char uuid[37];
        sov_error err = SOV_ERROR_INIT;
        if (sov_uuid_v4(uuid, &err) < 0)
            snprintf(uuid, sizeof(uuid), "%s", "unknown");
        snprintf(req->request_id, sizeof(req->request_id), "%s", uuid);
    }
    in->slot = SLOT_UNMATCHED(s);
    in->path_copy = strdup(url);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *) (const void *) sa)->sin_addr,
                      in->source, sizeof(in->source));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr,
                      in->source, sizeof(in->source));
    }
    req->ctx.db = s->app ? s->app->db : NULL;
    req->ctx.auth = s->app ? s->app->auth : NULL;
    req->ctx.cfg = s->cfg;
    req->ctx.request_id = req->request_id;
    req->ctx.source = in->source;
    atomic_fetch_add(&s->in_flight, 1);
    return req;
}

/* Headers are in: decide what this request is, and refuse early what can be refused. */
static void
classify(sov_server *s, sov_request *req)
{
    struct sov_request_internal *in = req->in;
    const char *method = req->method;
    unsigned status = 0;

    if (!in->path_copy) {
        early(req, SOV_EDGE_INTERNAL, "out of memory");
        return;
    }
    if (sov_console_path(req->path)) {
        in->kind = K_CONSOLE;
        return;
    }
    if (strcmp(method, "OPTIONS") == 0) {
        const char *want = sov_request_header(req, "Access-Control-Request-Method");
        sov_route_match m;
        sov_router_match(s->router, want ? want : "OPTIONS", in->path_copy, &m, &status,
                         in->allow, sizeof(in->allow));
        if (status == 404) {
            early(req, SOV_EDGE_NOT_FOUND, "no such path");
            return;
        }
        in->kind = want && sov_request_header(req, "Origin") ? K_PREFLIGHT : K_OPTIONS;
        in->slot = SLOT_PREFLIGHT(s);
        return;
    }
    req->route = sov_router_match(s->router, method, in->path_copy, &in->match, &status,
                                  in->allow, sizeof(in->allow));
    if (!req->route) {
        if (status == 405) {
            char detail[160];
            snprintf(detail, sizeof(detail), "%s is not allowed here; allowed: %s", method,
                     in->allow);
            early(req, SOV_EDGE_METHOD_NOT_ALLOWED, detail);
        } else {
            early(req, SOV_EDGE_NOT_FOUND, "no such path");
        }
        return;
    }
    in->slot = sov_router_index(s->router, req->route);
    in->kind = K_ROUTE;

    const char *cl = sov_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = sov_request_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    unsigned long long len = 0;
    if (cl) {
        char *end = NULL;
        errno = 0;
        len = strtoull(cl, &end, 10);
        if (errno || end == cl)
            len = ULLONG_MAX;
    }
    if (!method_has_body(method)) {
        /* A body where none is read would be dropped without a word: say so instead (its
         * sender meant something by it, a filter or a "force" flag). */
        if (len > 0 || te) {
            char detail[160];
            in->body_expected = true;
            snprintf(detail, sizeof(detail), "%s requests take no body; parameters go in the "
                     "path or the query", method);
            early(req, SOV_EDGE_UNEXPECTED_BODY, detail);
        }
        return;
    }
    if (req->route->flags & SOV_ROUTE_STREAM) {
        in->body_expected = true;   /* checked in stream_begin, after who is asking */
        return;
    }
    in->body_expected = len > 0 || te;
    if (len > s->cfg->max_body_bytes) {
        early_too_large(req);
        return;
    }
    if (in->body_expected && !json_content_type(sov_request_header(req, "Content-Type")))
        early(req, SOV_EDGE_UNSUPPORTED_MEDIA_TYPE, "request body must be application/json");
}

static void
take_body(sov_server *s, sov_request *req, const char *data, size_t size)
{
    struct sov_request_internal *in = req->in;

    if (in->kind != K_ROUTE)
        return;     /* refused already, or a method whose body we ignore */
    if (!method_has_body(req->method))
        return;
    if (in->body_len + size > s->cfg->max_body_bytes) {
        early_too_large(req);
        return;
    }
    if (in->body_len + size + 1 > in->body_cap) {
        size_t cap = in->body_cap ? in->body_cap : 4096;
        while (cap < in->body_len + size + 1)
            cap *= 2;
        char *p = realloc(in->body, cap);
        if (!p) {
            early(req, SOV_EDGE_UNAVAILABLE, "out of memory");
            return;
        }
        in->body = p;
        in->body_cap = cap;
    }
    memcpy(in->body + in->body_len, data, size);
    in->body_len += size;
}

static enum MHD_Result
reply_early(sov_request *req)
{
    struct sov_request_internal *in = req->in;

    if (in->early_problem == SOV_EDGE_METHOD_NOT_ALLOWED)
        sov_request_add_header(req, "Allow", in->allow);
    return sov_api_reply_status(req, in->early_problem, in->early_detail);
}

static enum MHD_Result
reply_options(sov_request *req)
{
    struct sov_request_internal *in = req->in;
    const char *origin = sov_request_header(req, "Origin");

    if (in->kind == K_OPTIONS) {
        sov_request_add_header(req, "Allow", in->allow);
        return send_owned(req, 204, NULL, calloc(1, 1), 0);
    }
    if (!sov_config_cors_allows(req->server->cfg, origin))
        return sov_api_reply_status(req, SOV_EDGE_CORS_ORIGIN,
                                    "this origin is not in cors_origins");
    sov_request_add_header(req, "Access-Control-Allow-Methods", in->allow);
    sov_request_add_header(req, "Access-Control-Allow-Headers",
                           "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
    sov_request_add_header(req, "Access-Control-Max-Age", "600");
    return send_owned(req, 204, NULL, calloc(1, 1), 0);
}

/* Parse the body, if any: 0, or -1 with a 400 queued. */
static int
parse_body(sov_request *req)
{
    struct sov_request_internal *in = req->in;
    json_error_t jerr;
    char detail[256];

    if (in->body_len == 0)
        return 0;
    req->body = json_loadb(in->body, in->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req->body) {
        snprintf(detail, sizeof(detail), "malformed JSON at line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        sov_api_reply_status(req, SOV_EDGE_MALFORMED_JSON, detail);
        return -1;
    }
    if (!json_is_object(req->body)) {
        sov_api_reply_status(req, SOV_EDGE_MALFORMED_JSON,
                             "request body must be a JSON object");
        return -1;
    }
    return 0;
}

void
sov_request_suspend(sov_request *req, sov_handler then, void *state,
                    void (*state_free)(void *))
{
    req->in->then = then;
    req->in->later = state;
    req->in->later_free = state_free;
    atomic_fetch_add(&req->server->suspended, 1);
    MHD_suspend_connection(req->conn);
}

void
sov_request_resume(sov_request *req)
{
    sov_server *s = req->server;

    /* Once resumed, req may be gone at any moment: nothing of it is touched after. */
    MHD_resume_connection(req->conn);
    atomic_fetch_sub(&s->suspended, 1);
}

void
sov_request_set_later(sov_request *req, void *state, void (*state_free)(void *))
{
    req->in->later = state;
    req->in->later_free = state_free;
}

sov_upgrades *
sov_server_upgrades(sov_server *s)
{
    return s->upgrades;
}

void *
sov_request_later_state(sov_request *req)
{
    return req->in->later;
}

static enum MHD_Result
run_handler(sov_request *req)
{
    enum MHD_Result r = req->route->handler(req);

    if (req->in->then)
        return r;   /* suspended: its reply comes once resumed (resume_handler) */
    if (!req->in->replied) {
        sov_error err = SOV_ERROR_INIT;
        sov_error_set(&err, SOV_E_INTERNAL, "handler gave no reply");
        sov_error_detail(&err, "%s %s returned without replying", req->route->method,
                         req->route->pattern);
        r = sov_api_reply_problem(req, &err);
    }
    return r;
}

static const char *
pending_header(sov_request *req, const char *name)
{
    for (size_t i = 0; i < req->in->nheaders; i++)
        if (strcasecmp(req->in->hname[i], name) == 0)
            return req->in->hvalue[i];
    return NULL;
}

/* A POST with Idempotency-Key: claim the key, then run once, or answer what the first
 * request with it was answered. */
static enum MHD_Result
run_idempotent(sov_request *req, const char *key)
{
    struct sov_request_internal *in = req->in;
    sov_error err = SOV_ERROR_INIT;
    sov_idem idem;
    char sum[SOV_SHA256_HEX_LEN + 1];
    sov_buf b = SOV_BUF_INIT;
    enum MHD_Result r;

    if (!sov_idem_key_valid(key)) {
        sov_error_invalid(&err, "Idempotency-Key",
                          "Idempotency-Key must be 1 to %d visible ASCII characters",
                          SOV_IDEMPOTENCY_KEY_MAX);
        return sov_api_reply_problem(req, &err);
    }
    sov_buf_printf(&b, "%s\n%s\n", req->method, req->path);
    if (in->body_len)
        sov_buf_append(&b, in->body, in->body_len);
    sov_sha256_hex(b.data ? b.data : "", b.len, sum);
    sov_buf_release(&b);
    if (sov_idem_begin(&req->ctx, key, sum, &idem, &err) < 0)
        return sov_api_reply_problem(req, &err);
    if (idem.state == SOV_IDEM_REPLAY) {
        if (idem.location[0])
            sov_request_add_header(req, "Location", idem.location);
        sov_request_add_header(req, "Idempotent-Replayed", "true");
        r = sov_api_reply_bytes(req, (unsigned) idem.status, "application/json", idem.body,
                                strlen(idem.body));
        free(idem.body);
        return r;
    }
    in->capture = true;
    in->idem.key = key;
    req->ctx.idem = &in->idem;
    r = run_handler(req);
    req->ctx.idem = NULL;
    sov_fault_point("idempotency.after-create");
    /* Recorded: the create's own transaction stored the answer with what it created. */
    if (!in->idem.recorded && in->status >= 200 && in->status < 300)
        sov_idem_finish(&req->ctx, key, (int) in->status, pending_header(req, "Location"),
                        in->captured, &err);
    else if (!in->idem.recorded)
        sov_idem_release(&req->ctx, key, &err);
    if (err.code != SOV_OK)
        sov_log_warn("could not record Idempotency-Key outcome: %s", err.msg);
    return r;
}

/* A suspended request resumed: what the handler left to do replies now. */
static enum MHD_Result
resume_handler(sov_request *req)
{
    sov_handler then = req->in->then;
    enum MHD_Result r;

    req->in->then = NULL;
    r = then(req);
    if (!req->in->replied) {
        sov_error err = SOV_ERROR_INIT;
        sov_error_set(&err, SOV_E_INTERNAL, "handler gave no reply");
        sov_error_detail(&err, "%s %s returned without replying once resumed",
                         req->route->method, req->route->pattern);
        r = sov_api_reply_problem(req, &err);
    }
    sov_api_audit_after(req);
    return r;
}

static enum MHD_Result
dispatch(sov_request *req)
{
    struct sov_request_internal *in = req->in;
    enum MHD_Result r = MHD_YES;
    const char *key;

    if (in->kind == K_EARLY)
        return reply_early(req);
    if (in->kind == K_OPTIONS || in->kind == K_PREFLIGHT)
        return reply_options(req);
    if (in->kind == K_CONSOLE)
        return sov_console_reply(req);
    req->ctx.action = req->route->action;
    /* Who first: an anonymous caller learns nothing, not even that its JSON is broken. */
    if (!(req->route->flags & SOV_ROUTE_PUBLIC) && sov_api_authorize(req) < 0)
        return MHD_YES;
    if (sov_api_check_query(req) == 0 && parse_body(req) == 0) {
        key = sov_request_header(req, "Idempotency-Key");
        if (key && strcmp(req->method, "POST") == 0 && req->ctx.who)
            r = run_idempotent(req, key);
        else
            r = run_handler(req);
    }
    if (!in->then)
        sov_api_audit_after(req);   /* else once resumed */
    return r;
}

/* Headers in: authorize, then let the handler begin (it may refuse by replying). */
static enum MHD_Result
stream_begin(sov_request *req)
{
    const char *ct = sov_request_header(req, "Content-Type");
    enum MHD_Result r;

    req->ctx.action = req->route->action;
    if (sov_api_authorize(req) < 0)
        return MHD_YES;
    if (!ct || strncasecmp(ct, "application/octet-stream", 24) != 0) {
        r = sov_api_reply_status(req, SOV_EDGE_UNSUPPORTED_MEDIA_TYPE,
                                 "the upload must be application/octet-stream");
        sov_api_audit_after(req);
        return r;
    }
    req->stream_phase = SOV_STREAM_BEGIN;
    r = req->route->handler(req);
    /* Refused at the start: audited now, since END never comes. */
    if (req->in->replied)
        sov_api_audit_after(req);
    return r;
}

static enum MHD_Result
stream_data(sov_request *req, const char *data, size_t size)
{
    if (req->in->replied)
        return MHD_YES;     /* refused at BEGIN: the rest is dropped */
    req->stream_phase = SOV_STREAM_DATA;
    req->chunk = data;
    req->chunk_len = size;
    req->route->handler(req);
    req->chunk = NULL;
    req->chunk_len = 0;
    return MHD_YES;
}

static enum MHD_Result
stream_end(sov_request *req)
{
    enum MHD_Result r;

    req->stream_phase = SOV_STREAM_END;
    r = run_handler(req);
    req->stream_phase = SOV_STREAM_NONE;
    sov_api_audit_after(req);
    return r;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **con_cls)
{
    sov_server *s = cls;
    sov_request *req = *con_cls;
    enum MHD_Result r = MHD_YES;

    if (!req) {
        req = request_new(s, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        sov_log_set_request_id(req->request_id);
        classify(s, req);
        /* Refused before a body we do not want: answer now, so it is never read (the
         * connection closes after). Without a body, wait for the next call: keep-alive. */
        if (req->in->kind == K_EARLY && req->in->body_expected)
            r = reply_early(req);
        else if (req->in->kind == K_ROUTE && (req->route->flags & SOV_ROUTE_STREAM)) {
            /* A client that waits for "100 Continue" has sent no body: answer it now. */
            const char *e = sov_request_header(req, "Expect");
            req->in->defer = !e || strcasecmp(e, "100-continue") != 0;
            r = stream_begin(req);
            req->in->defer = false;
        }
        sov_log_set_request_id(NULL);
        return r;
    }
    sov_log_set_request_id(req->request_id);
    if (req->in->then && !req->in->replied) {
        r = resume_handler(req);
    } else if (*upload_data_size > 0) {
        /* libmicrohttpd takes no reply while a body streams in: a body found too large
         * midway (chunked) is read to its end and dropped, up to a hard cap. */
        bool streaming = req->in->kind == K_ROUTE && (req->route->flags & SOV_ROUTE_STREAM);
        req->in->received += *upload_data_size;
        if (streaming)
            stream_data(req, upload_data, *upload_data_size);
        else
            take_body(s, req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* A refused upload is read and dropped only so far. */
        if (req->in->received > DISCARD_CAP && (!streaming || req->in->replied))
            r = MHD_NO;
    } else if (req->in->kind == K_ROUTE && (req->route->flags & SOV_ROUTE_STREAM)) {
        if (req->in->deferred) {
            r = MHD_queue_response(conn, req->in->deferred_status, req->in->deferred);
            MHD_destroy_response(req->in->deferred);
            req->in->deferred = NULL;
        } else if (!req->in->replied) {
            r = stream_end(req);
        }
    } else if (!req->in->replied) {
        r = dispatch(req);
    }
    sov_log_set_request_id(NULL);
    return r;
}

static size_t
status_slot(unsigned status)
{
    for (size_t i = 0; i < SOV_N_ELEMENTS(counted_status); i++)
        if (counted_status[i] == status)
            return i;
    return NSTATUS - 1;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    sov_server *s = cls;
    sov_request *req = *con_cls;
    struct sov_request_internal *in;
    struct timespec now;
    double secs;

    if (!req)
        return;
    in = req->in;
    clock_gettime(CLOCK_MONOTONIC, &now);
    secs = (double) (now.tv_sec - in->start.tv_sec) +
           (double) (now.tv_nsec - in->start.tv_nsec) / 1e9;

    route_metrics *m = &s->metrics[in->slot];
    atomic_fetch_add(&m->status[status_slot(in->status)], 1);
    atomic_fetch_add(&m->count, 1);
    atomic_fetch_add(&m->sum_us, (unsigned long long) (secs * 1e6));
    for (size_t b = 0; b < NBUCKETS; b++)
        if (secs <= buckets[b]) {
            atomic_fetch_add(&m->bucket[b], 1);
            break;
        }

    sov_log_set_request_id(req->request_id);
    const char *route = req->route ? req->route->pattern
                        : in->slot == SLOT_PREFLIGHT(s) ? "(options)" : "(unmatched)";
    sov_log_kv kv[] = {
        SOV_KV_S("method", req->method), SOV_KV_S("route", route),
        SOV_KV_S("path", req->path), SOV_KV_I("status", in->status),
        SOV_KV_I("bytes", in->bytes), SOV_KV_F("latency_ms", secs * 1000.0),
        SOV_KV_S("outcome", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted"),
    };
    sov_log_kv_write(SOV_LOG_INFO, "request", kv, SOV_N_ELEMENTS(kv));
    sov_log_set_request_id(NULL);

    /* An upload the client gave up on: the handler cleans up what it began. */
    if (req->stream_state && req->route) {
        req->stream_phase = SOV_STREAM_ABORT;
        req->route->handler(req);
    }
    if (in->later && in->later_free)
        in->later_free(in->later);
    if (in->deferred)
        MHD_destroy_response(in->deferred);
    json_decref(req->body);
    free(in->captured);
    free(in->body);
    free(in->path_copy);
    for (size_t i = 0; i < in->nheaders; i++) {
        free(in->hname[i]);
        free(in->hvalue[i]);
    }
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    sov_log_warn("libmicrohttpd: %s", msg);
}

static char *
read_file(const char *path, sov_error *err)
{
    FILE *f = fopen(path, "rb");
    sov_buf b = SOV_BUF_INIT;
    char chunk[4096];
    size_t n;

    if (!f) {
        sov_error_set(err, SOV_E_INVALID, "could not read '%s': %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sov_buf_append(&b, chunk, n);
    fclose(f);
    if (b.oom) {
        sov_buf_release(&b);
        sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        return NULL;
    }
    return sov_buf_steal(&b, NULL);
}

static void
server_free(sov_server *s)
{
    if (!s)
        return;
    sov_router_free(s->router);
    sov_upgrades_free(s->upgrades);
    free(s->metrics);
    free(s->tls_cert);
    free(s->tls_key);
    free(s);
}

int
sov_server_start(const sov_config *cfg, const sov_route *routes, size_t nroutes, sov_app *app,
                 sov_server **ret, sov_error *err)
{
    sov_server *s = calloc(1, sizeof(*s));
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    char port[16];
    /* poll(), not epoll: with epoll or select, libmicrohttpd 0.9.75 leaves a connection
     * it gave up on (too many query parameters for its memory pool) open until the
     * connection timeout; with poll it closes at once. Same throughput here (bench). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE;
    struct MHD_OptionItem opts[16];
    size_t n = 0;
    int rc;

    if (!s)
        return sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    s->cfg = cfg;
    s->app = app;
    s->routes = routes;
    s->nroutes = nroutes;
    s->metrics = calloc(nroutes + 2, sizeof(*s->metrics));
    if (!s->metrics || sov_upgrades_new(&s->upgrades) < 0 ||
        sov_router_new(routes, nroutes, &s->router, err) < 0) {
        server_free(s);
        return err->code ? -1 : sov_error_set(err, SOV_E_INTERNAL, "out of memory");
    }

    snprintf(port, sizeof(port), "%u", cfg->port);
    rc = getaddrinfo(cfg->listen_address, port, &hints, &ai);
    if (rc != 0) {
        server_free(s);
        return sov_error_invalid(err, "listen_address", "cannot listen on '%s': %s",
                                 cfg->listen_address, gai_strerror(rc));
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;

    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, ai->ai_addr };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
                                         (intptr_t) on_completed, s };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
                                         (intptr_t) cfg->http_connection_timeout, NULL };
    if (cfg->http_threads > 1)
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE,
                                             (intptr_t) cfg->http_threads, NULL };
    if (cfg->tls_cert && cfg->tls_cert[0]) {
        s->tls_cert = read_file(cfg->tls_cert, err);
        s->tls_key = s->tls_cert ? read_file(cfg->tls_key, err) : NULL;
        if (!s->tls_key) {
            freeaddrinfo(ai);
            server_free(s);
            return -1;
        }
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key };
    }
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

    /* The logger first, or libmicrohttpd prints its own lines while reading the options. */
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
                                 MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->daemon) {
        int e = errno;
        server_free(s);
        sov_error_set(err, SOV_E_INVALID, "could not listen on %s port %u: %s",
                      cfg->listen_address, cfg->port, e ? strerror(e) : "see log");
        snprintf(err->field, sizeof(err->field), "port");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *ret = s;
    return 0;
}

unsigned
sov_server_port(sov_server *s)
{
    return s->port;
}

unsigned
sov_server_in_flight(sov_server *s)
{
    return atomic_load(&s->in_flight);
}

unsigned
sov_server_shutdown(sov_server *s, unsigned timeout_s)
{
    struct timespec start, now, tick = { 0, 10000000L };
    unsigned left, abandoned;

    if (!s)
        return 0;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    /* Upgraded connections (console streams) last until told: told first, and waited for;
     * any left behind (their host hung) count as in flight until libmicrohttpd stops. */
    abandoned = sov_upgrades_shutdown(s->upgrades);
    clock_gettime(CLOCK_MONOTONIC, &start);
    while ((left = atomic_load(&s->in_flight)) > abandoned) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= (time_t) timeout_s)
            break;
        nanosleep(&tick, NULL);
    }
    /* libmicrohttpd must not stop with a connection suspended; whoever suspended one
     * resumes it within its own deadline (a console read: console_timeout_ms). */
    while (atomic_load(&s->suspended) > 0)
        nanosleep(&tick, NULL);
    MHD_stop_daemon(s->daemon);
    server_free(s);
    return left;
}

static void
metrics_route(sov_buf *b, const char *route, const char *method, const route_metrics *m)
{
    for (size_t i = 0; i < NSTATUS; i++) {
        unsigned long long v = atomic_load(&m->status[i]);
        if (v == 0)
            continue;
        if (i < NSTATUS - 1)
            sov_buf_printf(b,
                           "sov_http_requests_total{route=\"%s\",method=\"%s\","
                           "status=\"%u\"} %llu\n",
                           route, method, counted_status[i], v);
        else
            sov_buf_printf(b,
                           "sov_http_requests_total{route=\"%s\",method=\"%s\","
                           "status=\"other\"} %llu\n",
                           route, method, v);
    }
}

static void
metrics_histogram(sov_buf *b, const char *route, const char *method, const route_metrics *m)
{
    unsigned long long cum = 0, count = atomic_load(&m->count);

    if (count == 0)
        return;
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += atomic_load(&m->bucket[i]);
        sov_buf_printf(b,
                       "sov_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                       "le=\"%g\"} %llu\n",
                       route, method, buckets[i], cum);
    }
    sov_buf_printf(b,
                   "sov_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                   "le=\"+Inf\"} %llu\n",
                   route, method, count);
    sov_buf_printf(b,
                   "sov_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n",
                   route, method, (double) atomic_load(&m->sum_us) / 1e6);
    sov_buf_printf(b,
                   "sov_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} "
                   "%llu\n",
                   route, method, count);
}

void
sov_server_metrics(sov_server *s, sov_buf *b)
{
    sov_buf_puts(b, "# HELP sov_http_requests_total HTTP requests answered, by route, method "
                    "and status.\n# TYPE sov_http_requests_total counter\n");
    for (size_t i = 0; i < s->nroutes; i++)
        metrics_route(b, s->routes[i].pattern, s->routes[i].method, &s->metrics[i]);
    metrics_route(b, "(unmatched)", "any", &s->metrics[SLOT_UNMATCHED(s)]);
    metrics_route(b, "(options)", "OPTIONS", &s->metrics[SLOT_PREFLIGHT(s)]);

    sov_buf_puts(b, "# HELP sov_http_request_duration_seconds Time from request headers to "
                    "reply sent.\n# TYPE sov_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < s->nroutes; i++)
        metrics_histogram(b, s->routes[i].pattern, s->routes[i].method, &s->metrics[i]);
    metrics_histogram(b, "(unmatched)", "any", &s->metrics[SLOT_UNMATCHED(s)]);
    metrics_histogram(b, "(options)", "OPTIONS", &s->metrics[SLOT_PREFLIGHT(s)]);

    sov_buf_printf(b, "# HELP sov_http_requests_in_flight Requests received and not yet "
                      "answered.\n# TYPE sov_http_requests_in_flight gauge\n"
                      "sov_http_requests_in_flight %u\n",
                   atomic_load(&s->in_flight));
}
