/* The HTTP core, served for real on a loopback port with a route table of its own:
 * problem+json for every error class, body limits, content types, request ids, keep-alive,
 * CORS, TLS, metrics, the access log and draining at shutdown. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sov/api.h"
#include "sov/buf.h"
#include "testlib.h"

static enum MHD_Result
h_echo(sov_request *req)
{
    sov_request_add_header(req, "Location", "/items/1");
    return sov_api_reply(req, 201, req->body);
}

static enum MHD_Result
h_item(sov_request *req)
{
    const char *q = sov_request_query(req, "q");
    sov_autoptr(json_t) body = json_pack("{s:s, s:s?}", "id", sov_request_param(req, "id"),
                                         "q", q);
    return sov_api_reply(req, 200, body);
}

static enum MHD_Result
h_fail(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_error_set(&err, SOV_E_INTERNAL, "could not frobnicate");
    sov_error_detail(&err, "secret operator detail");
    return sov_api_reply_problem(req, &err);
}

static enum MHD_Result
h_unavailable(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_error_set(&err, SOV_E_UNAVAILABLE, "database is unavailable");
    return sov_api_reply_problem(req, &err);
}

static enum MHD_Result
h_invalid(sov_request *req)
{
    sov_error err = SOV_ERROR_INIT;
    sov_error_invalid(&err, "vcpus", "vcpus must be a whole number from 1 to 128");
    return sov_api_reply_problem(req, &err);
}

static enum MHD_Result
h_noreply(sov_request *req)
{
    (void) req;
    return MHD_YES;
}

static enum MHD_Result
h_slow(sov_request *req)
{
    usleep(1500000);
    sov_autoptr(json_t) body = json_pack("{s:b}", "slow", 1);
    return sov_api_reply(req, 200, body);
}

static const sov_route routes[] = {
    { "POST", "/echo", h_echo, SOV_ROUTE_PUBLIC, 0, "test", NULL },
    { "GET", "/items/{id}", h_item, SOV_ROUTE_PUBLIC, 0, "test", "q sort" },
    { "DELETE", "/items/{id}", h_item, SOV_ROUTE_PUBLIC, 0, "test", NULL },
    { "GET", "/fail", h_fail, SOV_ROUTE_PUBLIC, 0, "test", NULL },
    { "GET", "/unavailable", h_unavailable, SOV_ROUTE_PUBLIC, 0, "test", NULL },
    { "POST", "/invalid", h_invalid, SOV_ROUTE_PUBLIC, 0, "test", NULL },
    { "GET", "/noreply", h_noreply, SOV_ROUTE_PUBLIC, 0, "test", NULL },
    { "GET", "/slow", h_slow, SOV_ROUTE_PUBLIC, 0, "test", NULL },
};

static sov_config cfg;
static sov_app app;
static sov_server *server;
static char base[64];
static char *logbuf;
static size_t loglen;
static FILE *logstream;

static void
start(const char *const *extra)
{
    sov_error err = SOV_ERROR_INIT;
    char *argv[16] = { "sovd", "--port=0", "--max-body-bytes=1024", "--http-threads=2",
                       "--cors-origins=https://console.example.eu" };
    int argc = 5;
    FILE *devnull = fopen("/dev/null", "w");

    for (size_t i = 0; extra && extra[i]; i++)
        argv[argc++] = (char *) extra[i];
    ck_assert_msg(sov_config_load(&cfg, argc, argv, NULL, devnull, &err) == 0, "%s", err.msg);
    fclose(devnull);
    app.cfg = &cfg;
    ck_assert_msg(sov_server_start(&cfg, routes, SOV_N_ELEMENTS(routes), &app, &server,
                                   &err) == 0, "%s", err.msg);
    snprintf(base, sizeof(base), "%s://127.0.0.1:%u", extra ? "https" : "http",
             sov_server_port(server));
}

static void
setup(void)
{
    logstream = open_memstream(&logbuf, &loglen);
    sov_log_set_stream(logstream);
    start(NULL);
}

static void
teardown(void)
{
    sov_server_shutdown(server, 5);
    server = NULL;
    sov_config_release(&cfg);
    sov_log_set_stream(NULL);
    fclose(logstream);
    free(logbuf);
}

static void
request(const char *method, const char *path, const char *const *headers, const char *body,
        tl_resp *r)
{
    char url[256];
    tl_req q = { .method = method, .url = url, .headers = headers, .body = body,
                 .body_len = body ? strlen(body) : 0 };

    snprintf(url, sizeof(url), "%s%s", base, path);
    tl_http(&q, r);
}

static const char *const json_ct[] = { "Content-Type: application/json", NULL };

START_TEST(json_round_trip_with_generated_request_id)
{
    tl_resp r;
    char *rid, *loc;

    request("POST", "/echo", json_ct, "{\"name\":\"web-1\",\"n\":[1,2]}", &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "web-1");
    rid = tl_resp_header(&r, "X-Request-Id");
    ck_assert_msg(rid && strlen(rid) == 36, "generated request id '%s'", rid);
    loc = tl_resp_header(&r, "Location");
    ck_assert_str_eq(loc, "/items/1");
    free(rid);
    free(loc);
    tl_resp_free(&r);
}
END_TEST

START_TEST(path_and_query_parameters_reach_the_handler)
{
    tl_resp r;

    request("GET", "/items/abc-1?q=x%20y", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "id")), "abc-1");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "q")), "x y");
    tl_resp_free(&r);
}
END_TEST

/* A query parameter the route does not declare, or one given twice, is the caller's mistake:
 * 400 problem+json naming it (and what the route takes) before the handler runs; a name that
 * is not plain is refused without being echoed. A handler never reads an undeclared one. */
START_TEST(undeclared_or_repeated_query_parameters_are_400)
{
    static const struct {
        const char *path, *want;
    } bad[] = {
        { "/items/1?stat=running",
          "unknown query parameter 'stat'; GET /items/{id} takes q sort" },
        { "/items/1?q=a&q=b", "query parameter 'q' is given more than once" },
        { "/items/1?q=a&%3Cscript%3E=1", "a query parameter is not a plain name" },
        { "/fail?x=1", "unknown query parameter 'x'; GET /fail takes none" },
    };
    tl_resp r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        request("GET", bad[i].path, NULL, NULL, &r);
        ck_assert_msg(r.status == 400, "%s: %ld %s", bad[i].path, r.status, r.body);
        ck_assert_str_eq(json_string_value(json_object_get(r.json, "type")),
                         "/problems/invalid-request");
        ck_assert_msg(strstr(json_string_value(json_object_get(r.json, "detail")), bad[i].want),
                      "%s: %s", bad[i].path, r.body);
        ck_assert_msg(!strstr(r.body, "<script>"), "%s", r.body);
        tl_resp_free(&r);
    }
    /* Declared ones pass, each once, in any order. */
    request("GET", "/items/1?sort=x&q=y", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "q")), "y");
    tl_resp_free(&r);
}
END_TEST

/* More query parameters than libmicrohttpd's per-connection memory holds: it cannot even
 * build its own 431, but the connection ends at once (it used to stay open until the
 * connection timeout), and the server goes on serving. */
START_TEST(too_many_query_parameters_end_the_connection_at_once)
{
    char *out, *query = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&query, &len);
    int rc;
    double secs = 99;
    long status = -1;
    tl_resp r;

    ck_assert(f);
    for (int n = 1; n <= 3000; n *= 5) {
        rewind(f);
        for (int i = 0; i < n; i++)
            fprintf(f, "%sa%d=b", i ? "&" : "", i);
        fputc('\0', f);
        fflush(f);
        out = tl_sh_out(&rc, "curl -s -m 10 -o /dev/null -w '%%{http_code} %%{time_total}' "
                        "'%s/items/1?%s'", base, query);
        ck_assert_msg(sscanf(out, "%ld %lf", &status, &secs) == 2, "curl: %s", out);
        ck_assert_msg(secs < 3, "%d parameters: no end after %.1f s (status %ld)", n, secs,
                      status);
        ck_assert_msg(status == 0 || (status >= 400 && status < 500), "%d parameters: %ld", n,
                      status);
        free(out);
    }
    fclose(f);
    free(query);
    request("GET", "/items/1?q=still", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
}
END_TEST

/* GET and DELETE read no body: one sent anyway is a 400 saying so, not silently dropped; an
 * empty one (Content-Length: 0) is no body. */
START_TEST(a_body_on_a_get_or_delete_is_400)
{
    const char *json[] = { "Content-Type: application/json", NULL };
    const char *empty[] = { "Content-Length: 0", NULL };
    tl_resp r;

    request("GET", "/items/1", json, "{\"force\":true}", &r);
    tl_assert_problem(&r, 400, "/problems/unexpected-body");
    ck_assert_msg(strstr(r.body, "GET requests take no body"), "%s", r.body);
    tl_resp_free(&r);
    request("DELETE", "/items/1", json, "{\"force\":true}", &r);
    tl_assert_problem(&r, 400, "/problems/unexpected-body");
    tl_resp_free(&r);
    request("DELETE", "/items/1", empty, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
}
END_TEST

START_TEST(sane_request_id_is_echoed_and_insane_one_replaced)
{
    tl_resp r;
    const char *good[] = { "X-Request-Id: trace-123.abc", NULL };
    const char *bad[] = { "X-Request-Id: <script>alert(1)</script>", NULL };
    char *rid;

    request("GET", "/items/1", good, NULL, &r);
    rid = tl_resp_header(&r, "X-Request-Id");
    ck_assert_str_eq(rid, "trace-123.abc");
    free(rid);
    tl_resp_free(&r);

    request("GET", "/items/1", bad, NULL, &r);
    rid = tl_resp_header(&r, "X-Request-Id");
    ck_assert_msg(rid && strlen(rid) == 36 && !strchr(rid, '<'), "request id '%s'", rid);
    free(rid);
    tl_resp_free(&r);

    /* Problems carry it in the body too. */
    request("GET", "/nowhere", good, NULL, &r);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "request_id")),
                     "trace-123.abc");
    tl_resp_free(&r);
}
END_TEST

START_TEST(unknown_route_is_404_problem)
{
    tl_resp r;

    request("GET", "/nowhere", NULL, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "instance")), "/nowhere");
    tl_resp_free(&r);
    request("POST", "/items/1/deeper", json_ct, "{}", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
    tl_resp r;
    char *allow;

    request("PUT", "/items/1", json_ct, "{}", &r);
    tl_assert_problem(&r, 405, "/problems/method-not-allowed");
    allow = tl_resp_header(&r, "Allow");
    ck_assert_str_eq(allow, "GET, DELETE");
    free(allow);
    tl_resp_free(&r);
}
END_TEST

START_TEST(body_over_the_limit_is_413)
{
    tl_resp r;
    char *big = malloc(4096);
    char url[128];

    memset(big, ' ', 4095);
    big[0] = '{';
    big[4094] = '}';
    big[4095] = '\0';
    request("POST", "/echo", json_ct, big, &r);         /* Content-Length says it all */
    tl_assert_problem(&r, 413, "/problems/payload-too-large");
    tl_resp_free(&r);

    /* Chunked: no length up front, refused once the bytes pass the limit. */
    snprintf(url, sizeof(url), "%s/echo", base);
    tl_req q = { .method = "POST", .url = url, .headers = json_ct, .body = big,
                 .body_len = 4095, .chunked = true };
    tl_http(&q, &r);
    tl_assert_problem(&r, 413, "/problems/payload-too-large");
    tl_resp_free(&r);

    /* Exactly at the limit is fine. */
    big[1023] = '}';
    big[1024] = '\0';
    request("POST", "/echo", json_ct, big, &r);
    ck_assert_int_eq(r.status, 201);
    tl_resp_free(&r);
    free(big);
}
END_TEST

START_TEST(chunked_body_within_the_limit_is_read_whole)
{
    tl_resp r;
    char url[128];
    const char *body = "{\"a\":\"0123456789012345678901234567890123456789\","
                       "\"b\":\"0123456789012345678901234567890123456789\"}";

    snprintf(url, sizeof(url), "%s/echo", base);
    tl_req q = { .method = "POST", .url = url, .headers = json_ct, .body = body,
                 .body_len = strlen(body), .chunked = true };
    tl_http(&q, &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(r.json, "b"))), 40);
    tl_resp_free(&r);
}
END_TEST

START_TEST(wrong_content_type_is_415)
{
    tl_resp r;
    const char *form[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
    const char *none[] = { "Content-Type:", NULL };
    const char *charset[] = { "Content-Type: application/json; charset=utf-8", NULL };

    request("POST", "/echo", form, "a=b", &r);
    tl_assert_problem(&r, 415, "/problems/unsupported-media-type");
    tl_resp_free(&r);
    request("POST", "/echo", none, "{}", &r);
    tl_assert_problem(&r, 415, "/problems/unsupported-media-type");
    tl_resp_free(&r);
    request("POST", "/echo", charset, "{}", &r);
    ck_assert_int_eq(r.status, 201);
    tl_resp_free(&r);
}
END_TEST

START_TEST(malformed_json_is_400)
{
    static const char *const bodies[] = {
        "{\"name\":",                   /* truncated */
        "{\"name\": \"x\",}",           /* trailing comma */
        "[1, 2]",                       /* not an object */
        "\"text\"",
        "{\"a\":1,\"a\":2}",            /* duplicate key */
        "{\"a\":\"nul\\u0000byte\"}",   /* NUL */
        "{\"a\":\"\xff\xfe\"}",         /* invalid UTF-8 */
        "{} {}",                        /* trailing garbage */
        "{'a': 1}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        tl_resp r;
        request("POST", "/echo", json_ct, bodies[i], &r);
        tl_assert_problem(&r, 400, "/problems/malformed-json");
        tl_resp_free(&r);
    }
}
END_TEST

START_TEST(deep_nesting_is_refused_not_crashed)
{
    size_t depth = 1000;    /* within the body limit? no: 2000 bytes > 1024, so 413 */
    char *b = malloc(2 * depth + 1);
    tl_resp r;

    for (size_t i = 0; i < depth; i++) {
        b[i] = '[';
        b[2 * depth - 1 - i] = ']';
    }
    b[2 * depth] = '\0';
    request("POST", "/echo", json_ct, b, &r);
    ck_assert_int_eq(r.status, 413);
    tl_resp_free(&r);
    /* 500 levels fit in the limit: refused as not an object, never a crash. */
    memmove(b, b + 500, 1000);
    b[1000] = '\0';
    request("POST", "/echo", json_ct, b, &r);
    tl_assert_problem(&r, 400, "/problems/malformed-json");
    tl_resp_free(&r);
    free(b);
}
END_TEST

START_TEST(server_errors_hide_their_detail)
{
    tl_resp r;
    char *rid;

    request("GET", "/fail", NULL, NULL, &r);
    tl_assert_problem(&r, 500, "/problems/internal");
    ck_assert_ptr_null(strstr(r.body, "secret operator detail"));
    ck_assert_ptr_null(strstr(r.body, "frobnicate"));
    rid = tl_resp_header(&r, "X-Request-Id");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(r.json, "detail")), rid));
    /* ... while the log has it, with the request id. */
    fflush(logstream);
    ck_assert_ptr_nonnull(strstr(logbuf, "secret operator detail"));
    ck_assert_ptr_nonnull(strstr(logbuf, rid));
    free(rid);
    tl_resp_free(&r);
}
END_TEST

START_TEST(unavailable_is_503_with_retry_after)
{
    tl_resp r;
    char *ra;

    request("GET", "/unavailable", NULL, NULL, &r);
    tl_assert_problem(&r, 503, "/problems/unavailable");
    ra = tl_resp_header(&r, "Retry-After");
    ck_assert_str_eq(ra, "1");
    free(ra);
    tl_resp_free(&r);
}
END_TEST

START_TEST(handler_without_reply_is_500)
{
    tl_resp r;

    request("GET", "/noreply", NULL, NULL, &r);
    tl_assert_problem(&r, 500, "/problems/internal");
    tl_resp_free(&r);
}
END_TEST

START_TEST(validation_problem_names_the_field)
{
    tl_resp r;
    json_t *e;

    request("POST", "/invalid", json_ct, "{\"vcpus\":\"many\"}", &r);
    tl_assert_problem(&r, 400, "/problems/invalid-request");
    e = json_array_get(json_object_get(r.json, "errors"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "vcpus");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "message")), "1 to 128"));
    tl_resp_free(&r);
}
END_TEST

START_TEST(keep_alive_reuses_the_connection)
{
    void *c = curl_easy_init();
    char url[128];
    tl_resp r;

    snprintf(url, sizeof(url), "%s/items/1", base);
    tl_req q = { .method = "GET", .url = url, .curl = c };
    tl_http(&q, &r);
    ck_assert_int_eq(r.connects, 1);
    tl_resp_free(&r);
    for (int i = 0; i < 5; i++) {
        tl_http(&q, &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(r.connects == 0, "request %d opened a new connection", i);
        tl_resp_free(&r);
    }
    curl_easy_cleanup(c);
}
END_TEST

START_TEST(cors_preflight_and_simple_requests)
{
    tl_resp r;
    char *v;
    const char *pre_ok[] = { "Origin: https://console.example.eu",
                             "Access-Control-Request-Method: DELETE",
                             "Access-Control-Request-Headers: authorization", NULL };
    const char *pre_bad[] = { "Origin: https://evil.example.com",
                              "Access-Control-Request-Method: DELETE", NULL };
    const char *simple_ok[] = { "Origin: https://console.example.eu", NULL };
    const char *simple_bad[] = { "Origin: https://evil.example.com", NULL };

    request("OPTIONS", "/items/7", pre_ok, NULL, &r);
    ck_assert_int_eq(r.status, 204);
    v = tl_resp_header(&r, "Access-Control-Allow-Origin");
    ck_assert_str_eq(v, "https://console.example.eu");
    free(v);
    v = tl_resp_header(&r, "Access-Control-Allow-Methods");
    ck_assert_str_eq(v, "GET, DELETE");
    free(v);
    v = tl_resp_header(&r, "Access-Control-Allow-Headers");
    ck_assert_ptr_nonnull(strstr(v, "Authorization"));
    free(v);
    ck_assert_ptr_null(tl_resp_header(&r, "Access-Control-Allow-Credentials"));
    tl_resp_free(&r);

    request("OPTIONS", "/items/7", pre_bad, NULL, &r);
    tl_assert_problem(&r, 403, "/problems/cors-origin");
    ck_assert_ptr_null(tl_resp_header(&r, "Access-Control-Allow-Origin"));
    tl_resp_free(&r);

    request("OPTIONS", "/nowhere", pre_ok, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);

    request("GET", "/items/7", simple_ok, NULL, &r);
    v = tl_resp_header(&r, "Access-Control-Allow-Origin");
    ck_assert_str_eq(v, "https://console.example.eu");
    free(v);
    v = tl_resp_header(&r, "Vary");
    ck_assert_str_eq(v, "Origin");
    free(v);
    tl_resp_free(&r);

    request("GET", "/items/7", simple_bad, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(tl_resp_header(&r, "Access-Control-Allow-Origin"));
    tl_resp_free(&r);

    /* Plain OPTIONS (not a preflight) lists the methods. */
    request("OPTIONS", "/echo", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 204);
    v = tl_resp_header(&r, "Allow");
    ck_assert_str_eq(v, "POST");
    free(v);
    tl_resp_free(&r);
}
END_TEST

START_TEST(metrics_count_by_route_and_status)
{
    tl_resp r;
    sov_buf b = SOV_BUF_INIT;

    for (int i = 0; i < 3; i++) {
        request("GET", "/items/1", NULL, NULL, &r);
        tl_resp_free(&r);
    }
    request("GET", "/nowhere", NULL, NULL, &r);
    tl_resp_free(&r);
    usleep(100000);     /* completion callbacks run just after the reply is sent */
    sov_server_metrics(server, &b);
    ck_assert_msg(strstr(b.data, "sov_http_requests_total{route=\"/items/{id}\",method=\"GET\","
                                 "status=\"200\"} 3\n"), "%s", b.data);
    ck_assert_ptr_nonnull(strstr(b.data, "route=\"(unmatched)\",method=\"any\",status=\"404\"} 1"));
    ck_assert_ptr_nonnull(strstr(b.data, "sov_http_request_duration_seconds_count{route="
                                         "\"/items/{id}\",method=\"GET\"} 3"));
    ck_assert_ptr_nonnull(strstr(b.data, "le=\"+Inf\"} 3"));
    sov_buf_release(&b);
}
END_TEST

START_TEST(access_log_has_one_json_line_per_request)
{
    tl_resp r;
    const char *h[] = { "X-Request-Id: access-log-test", NULL };
    bool found = false;

    request("DELETE", "/items/9", h, NULL, &r);
    tl_resp_free(&r);
    usleep(100000);
    fflush(logstream);
    for (char *line = logbuf; line && *line;) {
        char *end = strchr(line, '\n');
        json_t *j = json_loadb(line, end ? (size_t) (end - line) : strlen(line), 0, NULL);
        ck_assert_msg(j, "log line is not JSON: %.*s", (int) (end - line), line);
        if (strcmp(json_string_value(json_object_get(j, "msg")), "request") == 0 &&
            json_object_get(j, "request_id") &&
            strcmp(json_string_value(json_object_get(j, "request_id")), "access-log-test") ==
                0) {
            ck_assert_str_eq(json_string_value(json_object_get(j, "method")), "DELETE");
            ck_assert_str_eq(json_string_value(json_object_get(j, "route")), "/items/{id}");
            ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 200);
            ck_assert(json_integer_value(json_object_get(j, "bytes")) > 0);
            ck_assert(json_is_real(json_object_get(j, "latency_ms")));
            found = true;
        }
        json_decref(j);
        line = end ? end + 1 : NULL;
    }
    ck_assert_msg(found, "no access log line for the request: %s", logbuf);
}
END_TEST

static void *
slow_request(void *arg)
{
    tl_resp *r = arg;
    request("GET", "/slow", NULL, NULL, r);
    return NULL;
}

START_TEST(shutdown_lets_in_flight_requests_finish)
{
    pthread_t t;
    tl_resp r;
    tl_resp after;
    char url[128];

    ck_assert_int_eq(pthread_create(&t, NULL, slow_request, &r), 0);
    for (int i = 0; i < 100 && sov_server_in_flight(server) == 0; i++)
        usleep(10000);
    ck_assert_uint_eq(sov_server_in_flight(server), 1);
    snprintf(url, sizeof(url), "%s/items/1", base);
    ck_assert_uint_eq(sov_server_shutdown(server, 10), 0);
    server = NULL;
    pthread_join(t, NULL);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    /* And nothing is accepted any more. */
    tl_req q = { .url = url };
    ck_assert_int_eq(tl_http_try(&q, &after), -1);
    tl_resp_free(&after);
    sov_config_release(&cfg);
    start(NULL);    /* for teardown */
}
END_TEST

START_TEST(https_with_a_generated_certificate)
{
    char *dir = tl_tmpdir(), cert[512], key[512], certflag[600], keyflag[600];
    tl_resp r;
    char url[128];

    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    ck_assert_int_eq(tl_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                           "-nodes -days 1 -subj /CN=127.0.0.1 "
                           "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s "
                           ">/dev/null 2>&1",
                           key, cert),
                     0);
    sov_server_shutdown(server, 5);
    sov_config_release(&cfg);
    snprintf(certflag, sizeof(certflag), "--tls-cert=%s", cert);
    snprintf(keyflag, sizeof(keyflag), "--tls-key=%s", key);
    const char *extra[] = { certflag, keyflag, NULL };
    start(extra);

    snprintf(url, sizeof(url), "%s/items/tls", base);
    tl_req q = { .url = url, .cacert = cert };
    tl_http(&q, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "id")), "tls");
    tl_resp_free(&r);

    /* Without trusting the certificate, the client refuses; plain HTTP gets no answer. */
    tl_req untrusted = { .url = url };
    ck_assert_int_eq(tl_http_try(&untrusted, &r), -1);
    tl_resp_free(&r);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/items/tls", sov_server_port(server));
    tl_req plain = { .url = url };
    ck_assert(tl_http_try(&plain, &r) == -1 || r.status != 200);
    tl_resp_free(&r);
    tl_tmpdir_remove(dir);
    free(dir);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/http");
    TCase *tc = tcase_create("http");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, json_round_trip_with_generated_request_id);
    tcase_add_test(tc, path_and_query_parameters_reach_the_handler);
    tcase_add_test(tc, undeclared_or_repeated_query_parameters_are_400);
    tcase_add_test(tc, too_many_query_parameters_end_the_connection_at_once);
    tcase_add_test(tc, a_body_on_a_get_or_delete_is_400);
    tcase_add_test(tc, sane_request_id_is_echoed_and_insane_one_replaced);
    tcase_add_test(tc, unknown_route_is_404_problem);
    tcase_add_test(tc, wrong_method_is_405_with_allow);
    tcase_add_test(tc, body_over_the_limit_is_413);
    tcase_add_test(tc, chunked_body_within_the_limit_is_read_whole);
    tcase_add_test(tc, wrong_content_type_is_415);
    tcase_add_test(tc, malformed_json_is_400);
    tcase_add_test(tc, deep_nesting_is_refused_not_crashed);
    tcase_add_test(tc, server_errors_hide_their_detail);
    tcase_add_test(tc, unavailable_is_503_with_retry_after);
    tcase_add_test(tc, handler_without_reply_is_500);
    tcase_add_test(tc, validation_problem_names_the_field);
    tcase_add_test(tc, keep_alive_reuses_the_connection);
    tcase_add_test(tc, cors_preflight_and_simple_requests);
    tcase_add_test(tc, metrics_count_by_route_and_status);
    tcase_add_test(tc, access_log_has_one_json_line_per_request);
    tcase_add_test(tc, shutdown_lets_in_flight_requests_finish);
    tcase_add_test(tc, https_with_a_generated_certificate);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
