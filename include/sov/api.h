/* api.h: the HTTP edge. A libmicrohttpd server, a route table, problem+json replies.
 *
 * The route table is the single source of truth for method, path and handler (and, with
 * identity, the roles allowed): the router, the OpenAPI check and the role matrix test all
 * iterate it. Handlers parse and shape; they call one service function and render. */
#ifndef SOV_API_H
#define SOV_API_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "sov/cleanup.h"
#include "sov/config.h"
#include "sov/ctx.h"
#include "sov/db.h"
#include "sov/error.h"
#include "sov/identity.h"
#include "sov/log.h"

SOV_DEFINE_AUTOPTR(json_t, json_decref)

typedef struct sov_server sov_server;
typedef struct sov_request sov_request;

/* What handlers reach through req->app: the process's shared services. */
typedef struct sov_app {
    const sov_config *cfg;
    sov_db *db;
    sov_auth *auth;
} sov_app;

typedef enum MHD_Result (*sov_handler)(sov_request *req);

enum {
    SOV_ROUTE_PUBLIC = 1u << 0,     /* no token needed (health, metrics, the contract) */
    SOV_ROUTE_TENANT = 1u << 1,     /* {id} is a tenant: others' answer 404 before roles */
    SOV_ROUTE_STREAM = 1u << 2,     /* an upload: the body goes to the handler as it comes */
    SOV_ROUTE_UPGRADE = 1u << 3,    /* a WebSocket: the token may come as the subprotocol
                                       "sov.bearer.<token>" (browsers cannot set headers) */
    SOV_ROUTE_SECA = 1u << 4,       /* the SECA surface (api/seca.h): {tenant} is a tenant's
                                       name, others' answer 404 before roles; refusals take
                                       SECA's error form */
};

/* For SOV_ROUTE_STREAM routes the handler is called once per phase: BEGIN when the headers
 * are in and the caller is authorized (reply now to refuse), DATA for each piece of body
 * (no reply possible: remember a failure), END when all is in (reply), and ABORT when the
 * client went away before END (clean up, no reply). req->stream_state is the handler's:
 * ABORT comes only while it is not NULL, so END sets it back to NULL once it is done. */
typedef enum sov_stream_phase {
    SOV_STREAM_NONE,
    SOV_STREAM_BEGIN,
    SOV_STREAM_DATA,
    SOV_STREAM_END,
    SOV_STREAM_ABORT,
} sov_stream_phase;

/* One row of the route table: the router, the role policy and the audit log read it.
 * roles is the policy: the sov_role bits allowed (0 only for public routes). */
typedef struct sov_route {
    const char *method;     /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern;    /* "/v1/tenants/{id}/users/{uid}" */
    sov_handler handler;
    unsigned flags;
    unsigned roles;
    const char *action;     /* the audit log's name for it: "tenants.create" */
    const char *query;      /* the query parameters it takes, space-separated ("limit after
                               state"), as api/openapi.json documents them; NULL: none. Any
                               other, or one given twice, is a 400 before the handler runs. */
} sov_route;

#define SOV_REQUEST_ID_MAX 64

struct sov_request {
    sov_server *server;
    sov_app *app;
    struct MHD_Connection *conn;
    const sov_route *route;
    const char *method;
    const char *path;
    char request_id[SOV_REQUEST_ID_MAX + 1];
    json_t *body;           /* the parsed JSON object, or NULL when no body was sent */
    sov_principal who;      /* the authenticated caller (non-public routes) */
    sov_ctx ctx;            /* what services receive: db, caller, request id, audit */
    sov_stream_phase stream_phase;  /* SOV_ROUTE_STREAM routes only */
    const char *chunk;      /* DATA: this piece of the body */
    size_t chunk_len;
    void *stream_state;
    /* the rest belongs to the server */
    struct sov_request_internal *in;
};

/* Answer later, holding no HTTP thread meanwhile: a handler whose answer another thread
 * brings (a console read waiting on its host) calls sov_request_suspend and returns MHD_YES
 * without replying. The connection sleeps until sov_request_resume(req), called once from
 * any thread (and promptly: sovd's shutdown waits for it); then `then` runs on an HTTP thread
 * and replies. state is the handler's (sov_request_later_state), given to state_free when
 * the request ends, whatever the reply. */
void sov_request_suspend(sov_request *req, sov_handler then, void *state,
                         void (*state_free)(void *));
void sov_request_resume(sov_request *req);
void *sov_request_later_state(sov_request *req);

/* The routes sovd serves, defined in api/routes.c. */
extern const sov_route sov_api_routes[];
extern const size_t sov_api_routes_count;

/* Everything sovd serves: sov_api_routes, then the SECA surface's (api/seca_routes.c).
 * Built once; NULL when out of memory. */
const sov_route *sov_served_routes(size_t *n);

/* The OpenAPI document, compiled in from api/openapi.json. */
extern const char sov_openapi_json[];
extern const size_t sov_openapi_json_len;

/* Start listening; handlers run on libmicrohttpd's thread pool (cfg->http_threads). */
int sov_server_start(const sov_config *cfg, const sov_route *routes, size_t nroutes,
                     sov_app *app, sov_server **ret, sov_error *err);
/* The bound TCP port (useful when cfg->port was 0). */
unsigned sov_server_port(sov_server *s);
/* Graceful stop: close the listening socket, let in-flight requests finish for at most
 * timeout_s, then close every connection and free the server. Returns how many requests
 * were still running when the time ran out. */
unsigned sov_server_shutdown(sov_server *s, unsigned timeout_s);
/* Requests received and not yet answered. */
unsigned sov_server_in_flight(sov_server *s);
/* Append the HTTP metrics (Prometheus text) to buf. */
struct sov_buf;
void sov_server_metrics(sov_server *s, struct sov_buf *buf);

/* Path parameter by name ("id" for "{id}"); NULL if the route has none of that name. */
const char *sov_request_param(sov_request *req, const char *name);
/* Query parameter; NULL when absent, and NULL for a name the route does not declare (its
 * query list): a handler reads only what the contract says it takes. */
const char *sov_request_query(sov_request *req, const char *name);
/* Request header; NULL when absent. */
const char *sov_request_header(sov_request *req, const char *name);

/* Add a header to the reply still to come (e.g. Location). Copied. */
void sov_request_add_header(sov_request *req, const char *name, const char *value);

/* Reply with JSON (body may be NULL for an empty body; the reference is not taken). */
enum MHD_Result sov_api_reply(sov_request *req, unsigned status, json_t *body);
/* The same with another JSON media type (application/problem+json). */
enum MHD_Result sov_api_reply_json_as(sov_request *req, unsigned status, json_t *body,
                                      const char *ctype);
/* Reply with bytes of the given content type; data is copied. */
enum MHD_Result sov_api_reply_bytes(sov_request *req, unsigned status, const char *ctype,
                                    const void *data, size_t len);
/* Reply with a response the handler made (e.g. MHD_create_response_from_callback, for a
 * document streamed as it is read), adding the headers every reply carries. Takes resp,
 * also on failure; len is its size, for the request log. */
enum MHD_Result sov_api_reply_response(sov_request *req, unsigned status, const char *ctype,
                                       struct MHD_Response *resp, size_t len);
/* A create's answer (status, Location when written, body: a new reference), rendered from
 * what the service filled into arg. */
typedef json_t *(*sov_api_render_fn)(const void *arg, unsigned *status, char *location,
                                     size_t location_size);
/* Call before the create's service: with Idempotency-Key, the service's transaction stores
 * what fn renders from arg then, so a crash after its commit cannot lose the answer. */
void sov_api_answer_in_tx(sov_request *req, sov_api_render_fn fn, const void *arg);
/* Reply with what fn renders from arg (the answer sov_api_answer_in_tx had stored). */
enum MHD_Result sov_api_reply_rendered(sov_request *req, sov_api_render_fn fn, const void *arg);
/* Reply with the problem+json for err (status from its code). A 5xx logs err->detail with
 * the request id and shows the client only the request id. */
enum MHD_Result sov_api_reply_problem(sov_request *req, const sov_error *err);
/* The same with extension members (RFC 9457 section 3.2) added to a 4xx problem: members
 * is a JSON object, taken (also on failure); a 5xx shows none of them. */
enum MHD_Result sov_api_reply_problem_with(sov_request *req, const sov_error *err,
                                           json_t *members);
/* A problem the HTTP edge itself detects (413, 415, 405, ...), before any service runs. */
typedef enum sov_edge_problem {
    SOV_EDGE_INTERNAL = 0,          /* 500 */
    SOV_EDGE_NOT_FOUND,             /* 404: no such route */
    SOV_EDGE_METHOD_NOT_ALLOWED,    /* 405 */
    SOV_EDGE_UNEXPECTED_BODY,       /* 400: a body where the route takes none */
    SOV_EDGE_MALFORMED_JSON,        /* 400 */
    SOV_EDGE_CORS_ORIGIN,           /* 403 */
    SOV_EDGE_PAYLOAD_TOO_LARGE,     /* 413 */
    SOV_EDGE_UNSUPPORTED_MEDIA_TYPE, /* 415 */
    SOV_EDGE_UNAVAILABLE,           /* 503 */
    SOV_EDGE__COUNT
} sov_edge_problem;
/* Its HTTP status. */
unsigned sov_api_edge_status(sov_edge_problem p);
enum MHD_Result sov_api_reply_status(sov_request *req, sov_edge_problem p, const char *detail);

/* JSON body checks for handlers: unknown fields, wrong types and missing required fields
 * are SOV_E_INVALID naming the field. type is a json_type; JSON null is accepted for
 * optional fields and means "not given". */
typedef struct sov_field {
    const char *name;
    json_type type;
    bool required;
} sov_field;
int sov_api_check_body(sov_request *req, const sov_field *fields, size_t n, sov_error *err);
/* Whether v is of type want (JSON_TRUE or JSON_FALSE: a boolean; JSON_REAL: any number), and
 * want as a message says it ("a whole number"): sov_api_check_body's, shared with SECA's. */
bool sov_api_json_type_matches(json_t *v, json_type want);
const char *sov_api_json_type_name(json_type t);
/* A string member, NULL when absent or null. */
const char *sov_api_body_str(sov_request *req, const char *name);
/* A new JSON string of s, or JSON null when s is NULL or empty (unset optional columns). */
json_t *sov_api_str_or_null(const char *s);

/* ?limit= (1..1000, default 100) and ?after=; a bad limit is SOV_E_INVALID. */
int sov_api_page(sov_request *req, unsigned *limit, const char **after, sov_error *err);
/* {"items": items, "next": link or null}; the link repeats the request's path and the query
 * parameters named in keep (NULL-terminated), with after=next_after. Takes items. */
json_t *sov_api_list(sov_request *req, json_t *items, const char *next_after,
                     const char *const *keep);

/* Status and problem type of an error code (the table every reply goes through). */
unsigned sov_api_error_status(sov_errcode code);

/* Whether a client-sent X-Request-Id is sane enough to echo and log. */
bool sov_api_request_id_valid(const char *id);

#endif
