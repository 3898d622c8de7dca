/* client.c: sovctl's HTTP, with libcurl. One handle per run (keep-alive across pages and
 * polls), TLS verified unless --insecure (warned), a connect timeout and a request timeout
 * (a low-speed limit instead for uploads and downloads), no redirects (the token stays with
 * the endpoint), an Idempotency-Key on creates, and retries with backoff: on 503 and on a
 * lost connection, for requests that are safe to repeat (GET, PUT, DELETE, and a POST that
 * carries an Idempotency-Key, which makes the repeat answer the first result). */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define CONNECT_TIMEOUT_S 10
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_RETRIES 3
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 8000

SOV_DEFINE_AUTOPTR(CURLU, curl_url_cleanup)

/* What one exchange collects while libcurl runs. */
typedef struct xfer {
    ctl_ctx *ctx;
    const ctl_req *req;
    ctl_resp *resp;
    size_t cap;
    bool to_file;           /* this answer's body goes to req->download */
    bool write_failed;
    double last_draw;
} xfer;

void
ctl_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;

    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n > 0)
            got += (size_t) n;
        else if (errno != EINTR)
            abort();        /* no randomness at all: nothing sensible to send */
    }
    b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

void
ctl_resp_release(ctl_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

int
ctl_query_add(char **path, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0), *out = NULL;
    int n;

    if (!esc)
        return ctl_fail(CTL_EXIT_USAGE, "could not encode '%s'", value);
    n = asprintf(&out, "%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', name, esc);
    curl_free(esc);
    if (n < 0)
        abort();
    free(*path);
    *path = out;
    return 0;
}

char *
ctl_path_join(const char *base, const char *raw, const char *suffix)
{
    char *esc = curl_easy_escape(NULL, raw, 0), *out = NULL;

    if (!esc || asprintf(&out, "%s/%s%s", base, esc, suffix) < 0)
        abort();
    curl_free(esc);
    return out;
}

/* ---- opening the handle ---- */

static bool
is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* The endpoint must be an http(s) URL; say what is wrong with it, and warn when a token
 * would cross the network in clear text. */
static int
check_endpoint(ctl_ctx *ctx)
{
    sov_autoptr(CURLU) u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;

    if (!u || curl_url_set(u, CURLUPART_URL, ctx->set.endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        rc = ctl_usage_error(ctx, "the endpoint '%s' (from %s) is not a URL", ctx->set.endpoint,
                             ctx->set.endpoint_from);
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        rc = ctl_usage_error(ctx, "the endpoint '%s' is neither http:// nor https://",
                             ctx->set.endpoint);
    else if (strcmp(scheme, "http") == 0 && ctx->set.token && !is_loopback(host))
        ctl_warn("the token goes to %s over plain HTTP: anyone on the path can read it", host);
    curl_free(scheme);
    curl_free(host);
    return rc;
}

static int
client_open(ctl_ctx *ctx)
{
    CURL *c;
    int rc;

    if (!ctx->set.endpoint)
        return ctl_usage_error(ctx, "no endpoint: run 'sovctl login --endpoint URL "
                                    "--token-file FILE', or set SOVCTL_ENDPOINT");
    if ((rc = check_endpoint(ctx)) != 0)
        return rc;
    if (!(c = curl_easy_init()))
        return ctl_fail(CTL_EXIT_CONN, "could not initialise libcurl");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sovctl/" SOV_VERSION);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT_S);
    if (ctx->set.cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, ctx->set.cacert);
    if (ctx->set.insecure) {
        ctl_warn("TLS certificates are not verified (--insecure): anyone on the path can "
                 "pose as the endpoint and read the token");
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    ctx->curl = c;
    return 0;
}

int
ctl_client_init(ctl_ctx *ctx)
{
    return ctx->curl ? 0 : client_open(ctx);
}

void
ctl_client_cleanup(ctl_ctx *ctx)
{
    if (ctx->curl)
        curl_easy_cleanup(ctx->curl);
    ctx->curl = NULL;
}

/* ---- callbacks ---- */

static size_t
on_body(char *data, size_t size, size_t n, void *p)
{
    xfer *x = p;
    ctl_resp *r = x->resp;
    size_t len = size * n;

    if (x->to_file) {
        if (fwrite(data, 1, len, x->req->download) != len) {
            x->write_failed = true;
            return 0;
        }
        return len;
    }
    if (r->len + len + 1 > x->cap) {
        x->cap = (r->len + len + 1) * 2;
        r->body = realloc(r->body, x->cap);
        if (!r->body)
            abort();
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

static void
header_copy(char *dst, size_t size, const char *value, size_t len)
{
    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' ||
                       value[len - 1] == ' '))
        len--;
    snprintf(dst, size, "%.*s", (int) len, value);
}

/* A header line. A status line starts a new answer (after a 100 Continue, say). */
static size_t
on_header(char *line, size_t size, size_t n, void *p)
{
    xfer *x = p;
    ctl_resp *r = x->resp;
    size_t len = size * n;
    const char *colon = memchr(line, ':', len), *v;
    size_t nlen;

    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        r->ctype[0] = r->location[0] = '\0';
        r->retry_after = -1;
        r->replayed = false;
        x->to_file = x->req->download && r->status >= 200 && r->status < 300;
        return len;
    }
    if (!colon)
        return len;
    nlen = (size_t) (colon - line);
    v = colon + 1;
    while (v < line + len && *v == ' ')
        v++;
#define IS(name) (nlen == strlen(name) && strncasecmp(line, name, nlen) == 0)
    if (IS("Content-Type"))
        header_copy(r->ctype, sizeof(r->ctype), v, (size_t) (line + len - v));
    else if (IS("Location"))
        header_copy(r->location, sizeof(r->location), v, (size_t) (line + len - v));
    else if (IS("X-Request-Id"))
        header_copy(r->request_id, sizeof(r->request_id), v, (size_t) (line + len - v));
    else if (IS("Idempotent-Replayed"))
        r->replayed = strncasecmp(v, "true", 4) == 0;
    else if (IS("Retry-After"))
        r->retry_after = strtol(v, NULL, 10);
#undef IS
    return len;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
draw_transfer(xfer *x, curl_off_t total, curl_off_t done)
{
    char detail[64];
    double t = now_s();

    if (t - x->last_draw < 0.1 && !(total > 0 && done == total))
        return;
    x->last_draw = t;
    snprintf(detail, sizeof(detail), "%.1f MiB", (double) done / 1048576.0);
    ctl_progress_draw(x->req->upload ? "uploading" : "downloading",
                      total > 0 ? (double) done / (double) total : -1.0, detail);
}

/* Ctrl-C while waiting ends a transfer at once; uploads and downloads draw their bar. */
static int
on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    xfer *x = p;

    if (ctl_interrupted)
        return 1;
    if (x->req->progress && x->ctx->err_tty) {
        if (x->req->upload)
            draw_transfer(x, ultotal, ulnow);
        else
            draw_transfer(x, dltotal, dlnow);
    }
    return 0;
}

/* ---- one exchange ---- */

static struct curl_slist *
make_headers(ctl_ctx *ctx, const ctl_req *req, const char *key)
{
    struct curl_slist *h = NULL;
    char line[1024];

    if (ctx->set.token && !req->anonymous) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", ctx->set.token);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Accept: application/json, application/problem+json, "
                             "text/plain;q=0.5");
    if (req->body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (req->upload)
        h = curl_slist_append(h, "Content-Type: application/octet-stream");
    if (!req->body && !req->upload)
        h = curl_slist_append(h, "Content-Type:");  /* not curl's form type on an empty POST */
    if (key) {
        snprintf(line, sizeof(line), "Idempotency-Key: %s", key);
        h = curl_slist_append(h, line);
    }
    return h;
}

static void
set_method(CURL *c, const ctl_req *req, const char *json_body)
{
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    if (req->upload) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, req->upload);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, NULL);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->upload_len);
    } else if (json_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(json_body));
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    else if (strcmp(req->method, "POST") == 0 && !json_body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
}

static void
set_timeouts(ctl_ctx *ctx, CURL *c, const ctl_req *req)
{
    long t = ctx->opts.timeout_s > 0 ? ctx->opts.timeout_s : DEFAULT_TIMEOUT_S;

    if (req->upload || req->download) {
        /* A large file may take long; a stalled one may not. */
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 0L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, t);
    } else {
        curl_easy_setopt(c, CURLOPT_TIMEOUT, t);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 0L);
    }
}

static void
reset_attempt(const ctl_req *req, ctl_resp *r, xfer *x)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
    r->status = 0;
    r->retry_after = -1;
    x->cap = 0;
    x->to_file = false;
    x->write_failed = false;
    if (req->upload)
        fseeko(req->upload, 0, SEEK_SET);
    if (req->download) {
        fflush(req->download);
        if (ftruncate(fileno(req->download), 0) == 0)
            fseeko(req->download, 0, SEEK_SET);
    }
}

static bool
idempotent(const ctl_req *req)
{
    const char *m = req->method;

    return strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 ||
           (strcmp(m, "POST") == 0 && req->create);
}

static bool
transient(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return true;
    default:
        return false;
    }
}

/* Sleep before attempt n (1, 2, ...): doubling, with jitter, at least Retry-After. */
static void
backoff(ctl_ctx *ctx, unsigned attempt, long retry_after, const char *why)
{
    long ms = BACKOFF_FIRST_MS << (attempt - 1 < 6 ? attempt - 1 : 6);
    unsigned char r;
    struct timespec ts;

    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    if (getrandom(&r, 1, 0) == 1)
        ms = ms * 3 / 4 + (ms / 2) * r / 255;
    if (retry_after > 0 && retry_after * 1000 > ms)
        ms = (retry_after > 30 ? 30 : retry_after) * 1000;
    if (ctx->opts.verbose)
        fprintf(stderr, "* %s; retrying in %.2f s\n", why, (double) ms / 1000.0);
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !ctl_interrupted)
        ;
}

static int
transport_error(ctl_ctx *ctx, CURLcode code, const char *errbuf, const xfer *x)
{
    if (code == CURLE_ABORTED_BY_CALLBACK && ctl_interrupted)
        return CTL_EXIT_INTERRUPTED;
    if (code == CURLE_WRITE_ERROR && x->write_failed)
        return ctl_fail(CTL_EXIT_API, "could not write the download: %s", strerror(errno));
    return ctl_fail(CTL_EXIT_CONN, "could not reach %s: %s", ctx->set.endpoint,
                    errbuf[0] ? errbuf : curl_easy_strerror(code));
}

static void
parse_json(ctl_resp *r)
{
    if (r->body && strstr(r->ctype, "json"))
        r->json = json_loadb(r->body, r->len, 0, NULL);
}

static int
perform(ctl_ctx *ctx, const ctl_req *req, const char *url, ctl_resp *ret, xfer *x)
{
    CURL *c = ctx->curl;
    unsigned max = ctx->opts.retries >= 0 ? (unsigned) ctx->opts.retries : DEFAULT_RETRIES;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode code;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    for (unsigned attempt = 0;; attempt++) {
        double t0 = now_s();
        errbuf[0] = '\0';
        reset_attempt(req, ret, x);
        if (ctx->opts.verbose)
            fprintf(stderr, "> %s %s\n", req->method, url);
        code = curl_easy_perform(c);
        if (ctx->opts.verbose && code == CURLE_OK)
            fprintf(stderr, "< %ld %s(%.0f ms)\n", ret->status, ret->replayed ? "replayed " : "",
                    (now_s() - t0) * 1000.0);
        if (code != CURLE_OK && transient(code) && idempotent(req) && attempt < max &&
            !ctl_interrupted) {
            backoff(ctx, attempt + 1, -1, errbuf[0] ? errbuf : curl_easy_strerror(code));
            continue;
        }
        if (code != CURLE_OK)
            return transport_error(ctx, code, errbuf, x);
        if (ret->status == 503 && idempotent(req) && attempt < max && !ctl_interrupted) {
            backoff(ctx, attempt + 1, ret->retry_after, "503 Service Unavailable");
            continue;
        }
        return 0;
    }
}

int
ctl_http(ctl_ctx *ctx, const ctl_req *req, ctl_resp *ret)
{
    sov_autofree char *url = NULL, *json_body = NULL;
    struct curl_slist *headers;
    char key[256] = "";
    xfer x = { .ctx = ctx, .req = req, .resp = ret };
    int rc;

    memset(ret, 0, sizeof(*ret));
    if ((rc = ctl_client_init(ctx)) != 0)
        return rc;
    if (asprintf(&url, "%s%s", ctx->set.endpoint, req->path) < 0)
        abort();
    if (req->body && !(json_body = json_dumps(req->body, JSON_COMPACT)))
        return ctl_fail(CTL_EXIT_USAGE, "could not encode the request");
    if (req->create) {
        const char *given = ctx->opts.idempotency_key ? ctx->opts.idempotency_key
                                                      : getenv("SOVCTL_IDEMPOTENCY_KEY");
        if (given && *given)
            snprintf(key, sizeof(key), "%s", given);
        else
            ctl_uuid(key);
    }
    headers = make_headers(ctx, req, key[0] ? key : NULL);
    set_method(ctx->curl, req, json_body);
    set_timeouts(ctx, ctx->curl, req);
    curl_easy_setopt(ctx->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(ctx->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(ctx->curl, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(ctx->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(ctx->curl, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(ctx->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(ctx->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(ctx->curl, CURLOPT_XFERINFODATA, &x);
    rc = perform(ctx, req, url, ret, &x);
    if (req->progress && ctx->err_tty)
        ctl_progress_clear();
    curl_easy_setopt(ctx->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(ctx->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(ctx->curl, CURLOPT_UPLOAD, 0L);
    curl_easy_setopt(ctx->curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    if (rc == 0)
        parse_json(ret);
    return rc;
}

/* ---- error answers ---- */

static bool
standard_member(const char *k)
{
    static const char *const std[] = { "type", "title", "status", "detail", "instance",
                                       "request_id", "errors" };

    for (size_t i = 0; i < SOV_N_ELEMENTS(std); i++)
        if (strcmp(k, std[i]) == 0)
            return true;
    return false;
}

/* The flag of the verb that fills `field`, so the error names what was typed. */
static const char *
field_flag(const ctl_ctx *ctx, const char *field, char *buf, size_t size)
{
    for (const ctl_flag *f = ctx->verb ? ctx->verb->flags : NULL; f && f->name; f++) {
        char name[64];
        snprintf(name, sizeof(name), "%s", f->field ? f->field : f->name);
        for (char *p = name; *p; p++)
            if (*p == '-')
                *p = '_';
        if (strcmp(name, field) == 0) {
            snprintf(buf, size, "--%s", f->name);
            return buf;
        }
    }
    return field;
}

static void
problem_extras(const json_t *p)
{
    const char *k;
    json_t *v;
    char text[512];

    json_object_foreach((json_t *) p, k, v) {
        if (standard_member(k))
            continue;
        if (json_is_object(v)) {
            char *s = json_dumps(v, JSON_COMPACT);
            fprintf(stderr, "  %s: %s\n", k, s ? s : "?");
            free(s);
            continue;
        }
        ctl_json_text(v, text, sizeof(text));
        fprintf(stderr, "  %s: %s\n", k, text);
    }
}

static void
problem_fields(const ctl_ctx *ctx, const json_t *errors)
{
    size_t i;
    json_t *e;
    char flag[80];

    json_array_foreach(errors, i, e) {
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "  %s: %s\n", field ? field_flag(ctx, field, flag, sizeof(flag)) : "?",
                msg ? msg : "");
    }
}

static int
not_a_problem(const ctl_resp *r)
{
    size_t n = r->body ? strcspn(r->body, "\r\n") : 0;

    if (n > 200)
        n = 200;
    return ctl_fail(CTL_EXIT_API, "the API answered %ld%s%.*s", r->status, n ? ": " : "",
                    (int) n, r->body ? r->body : "");
}

int
ctl_problem(const ctl_ctx *ctx, const ctl_resp *r)
{
    const json_t *p = r->json;
    const char *title = json_string_value(json_object_get(p, "title"));
    const char *detail = json_string_value(json_object_get(p, "detail"));
    const char *rid = json_string_value(json_object_get(p, "request_id"));

    if (!title)
        return not_a_problem(r);
    if (detail && *detail)
        fprintf(stderr, "sovctl: %s: %s\n", title, detail);
    else
        fprintf(stderr, "sovctl: %s (%ld)\n", title, r->status);
    problem_fields(ctx, json_object_get(p, "errors"));
    problem_extras(p);
    if (r->status >= 500)
        fprintf(stderr, "  request id: %s (the rest is in sovd's log)\n",
                rid ? rid : r->request_id);
    if (r->status == 401)
        fprintf(stderr, "  hint: the token is missing, expired or revoked; sovctl login "
                        "--endpoint URL --token-file FILE saves a new one\n");
    return CTL_EXIT_API;
}

int
ctl_api(ctl_ctx *ctx, const char *method, const char *path, const json_t *body, json_t **ret)
{
    ctl_req req = { .method = method, .path = path, .body = body };
    ctl_resp r;
    int rc = ctl_http(ctx, &req, &r);

    if (rc == 0 && r.status >= 400)
        rc = ctl_problem(ctx, &r);
    if (rc == 0 && ret)
        *ret = SOV_TAKE_PTR(r.json);
    ctl_resp_release(&r);
    return rc;
}
