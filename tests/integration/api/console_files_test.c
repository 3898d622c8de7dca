/* The web console's files at /console/ (api/console_files.c), served for real on a loopback
 * port from a temporary folder of fake built files: cache headers, ETag and 304, the
 * client-side route fallback, gzip variants, redirects, the security headers, and paths that
 * try to leave the folder. Needs no npm and no PostgreSQL. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sov/api.h"
#include "testlib.h"

#define INDEX "<!doctype html><title>sovereign</title><script type=module src=/console/assets/"\
              "app-1a2b3c.js></script>"
#define APP_JS "console.log('app');\n"
#define SECRET "top secret outside the console folder"

static enum MHD_Result
h_ping(sov_request *req)
{
    sov_autoptr(json_t) body = json_pack("{s:b}", "pong", 1);
    return sov_api_reply(req, 200, body);
}

static const sov_route routes[] = {
    { "GET", "/v1/ping", h_ping, SOV_ROUTE_PUBLIC, 0, "test", NULL },
};

static sov_config cfg;
static sov_app app;
static sov_server *server;
static char base[64];
static char *tmp;       /* holds dist/ (the console) and secret.txt beside it */
static char dist[512];

static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    ck_assert_msg(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* The gzip variant of a file, made with gzip(1) as web/scripts/compress.mjs would. */
static void
gzip_file(const char *dir, const char *name)
{
    int rc;
    char *out = tl_sh_out(&rc, "gzip -9 -k -f '%s/%s'", dir, name);
    ck_assert_msg(rc == 0, "gzip: %s", out);
    free(out);
}

static void
start(const char *console_dir)
{
    sov_error err = SOV_ERROR_INIT;
    char opt[600];
    char *argv[] = { "sovd", "--port=0", "--http-threads=2", opt };
    FILE *devnull = fopen("/dev/null", "w");

    snprintf(opt, sizeof(opt), "--console-dir=%s", console_dir);
    ck_assert_msg(sov_config_load(&cfg, 4, argv, NULL, devnull, &err) == 0, "%s", err.msg);
    fclose(devnull);
    app.cfg = &cfg;
    ck_assert_msg(sov_server_start(&cfg, routes, SOV_N_ELEMENTS(routes), &app, &server,
                                   &err) == 0, "%s", err.msg);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", sov_server_port(server));
}

static void
stop(void)
{
    sov_server_shutdown(server, 5);
    server = NULL;
    sov_config_release(&cfg);
}

static void
setup(void)
{
    int rc;
    char *out;

    tmp = tl_tmpdir();
    snprintf(dist, sizeof(dist), "%s/dist", tmp);
    out = tl_sh_out(&rc, "mkdir -p '%s/assets' '%s/outside' '%s/dir.js' && "
                    "ln -s ../secret.txt '%s/link.txt' && ln -s ../outside '%s/linked' && "
                    "ln -s ../../secret.txt '%s/assets/up.js'",
                    dist, tmp, dist, dist, dist, dist);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    write_file(tmp, "secret.txt", SECRET);
    write_file(tmp, "outside/x.txt", SECRET);
    write_file(dist, "index.html", INDEX);
    write_file(dist, "favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    write_file(dist, ".hidden.txt", SECRET);
    write_file(dist, "assets/app-1a2b3c.js", APP_JS);
    write_file(dist, "assets/app-1a2b3c.css", "body{margin:0}");
    gzip_file(dist, "assets/app-1a2b3c.js");
    start(dist);
}

static void
teardown(void)
{
    stop();
    tl_tmpdir_remove(tmp);
    free(tmp);
}

static void
get(const char *path, const char *const *headers, tl_resp *r)
{
    char url[512];

    snprintf(url, sizeof(url), "%s%s", base, path);
    tl_req req = { .url = url, .headers = headers };
    tl_http(&req, r);
}

static void
assert_header(const tl_resp *r, const char *name, const char *want)
{
    char *v = tl_resp_header(r, name);

    ck_assert_msg(v, "no %s header in:\n%s", name, r->headers);
    ck_assert_msg(strcmp(v, want) == 0, "%s: '%s', want '%s'", name, v, want);
    free(v);
}

/* get() that must answer status; and, where not NULL, this Content-Type and Cache-Control. */
static void
get_is(const char *path, const char *const *headers, long status, const char *type,
       const char *cache, tl_resp *r)
{
    get(path, headers, r);
    ck_assert_msg(r->status == status, "GET %s: %ld, want %ld", path, r->status, status);
    if (type)
        assert_header(r, "Content-Type", type);
    if (cache)
        assert_header(r, "Cache-Control", cache);
}

static void
assert_no_header(const tl_resp *r, const char *name)
{
    char *v = tl_resp_header(r, name);

    ck_assert_msg(!v, "unexpected %s: %s", name, v);
}

static void
assert_security_headers(const tl_resp *r)
{
    assert_header(r, "Content-Security-Policy",
                  "default-src 'none'; script-src 'self'; style-src 'self'; "
                  "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    assert_header(r, "X-Content-Type-Options", "nosniff");
    assert_header(r, "Referrer-Policy", "no-referrer");
    assert_header(r, "X-Frame-Options", "DENY");
}

/* One request written by hand, byte for byte (curl would tidy "..", "//" and "%2e" away):
 * the status line and the whole answer into *ret (malloc). */
static long
raw_get(const char *target, char **ret)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(sov_server_port(server)) };
    char req[1024], buf[8192];
    size_t len = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    long status = 0;

    ck_assert(fd >= 0);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ck_assert(connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Connection: close\r\n\r\n", target);
    ck_assert(write(fd, req, (size_t) n) == n);
    while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t) n;
    close(fd);
    buf[len] = '\0';
    sscanf(buf, "HTTP/1.%*d %ld", &status);
    *ret = strdup(buf);
    return status;
}

START_TEST(index_html_is_served_revalidated_with_the_security_headers)
{
    tl_resp r;

    get_is("/console/", NULL, 200, "text/html; charset=utf-8", "no-cache", &r);
    ck_assert_str_eq(r.body, INDEX);
    assert_security_headers(&r);
    char *etag = tl_resp_header(&r, "ETag");
    ck_assert_msg(etag && etag[0] == '"', "ETag: %s", etag);
    free(etag);
    tl_resp_free(&r);

    get_is("/console/index.html", NULL, 200, NULL, NULL, &r);
    ck_assert_str_eq(r.body, INDEX);
    tl_resp_free(&r);
}
END_TEST

START_TEST(hashed_assets_are_cached_for_a_year_as_immutable)
{
    tl_resp r;

    get_is("/console/assets/app-1a2b3c.js", NULL, 200, "text/javascript; charset=utf-8",
           "public, max-age=31536000, immutable", &r);
    ck_assert_str_eq(r.body, APP_JS);
    assert_no_header(&r, "Content-Encoding");
    assert_security_headers(&r);
    tl_resp_free(&r);

    get_is("/console/assets/app-1a2b3c.css", NULL, 200, "text/css; charset=utf-8", NULL, &r);
    tl_resp_free(&r);

    /* outside assets/, a file keeps its name across builds: revalidated */
    get_is("/console/favicon.svg", NULL, 200, "image/svg+xml", "no-cache", &r);
    tl_resp_free(&r);
}
END_TEST

START_TEST(a_path_without_extension_is_a_client_route_answered_by_index_html)
{
    tl_resp r;

    get_is("/console/instances/4f0e8a52-0a4e-4c36-9d54-1f6d2c1f5a10", NULL, 200,
           "text/html; charset=utf-8", "no-cache", &r);
    ck_assert_str_eq(r.body, INDEX);
    tl_resp_free(&r);

    get_is("/console/assets", NULL, 200, NULL, NULL, &r);     /* a folder is no file */
    ck_assert_str_eq(r.body, INDEX);
    tl_resp_free(&r);

    /* a missing file with an extension is a missing file, not a page */
    get("/console/assets/app-000000.js", NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_assert_contains(r.body, "no such file");
    assert_security_headers(&r);
    assert_header(&r, "Cache-Control", "no-store");
    tl_resp_free(&r);
}
END_TEST

START_TEST(if_none_match_answers_304_until_the_file_changes)
{
    tl_resp r;
    char inm[160];

    get("/console/", NULL, &r);
    char *etag = tl_resp_header(&r, "ETag");
    ck_assert(etag);
    tl_resp_free(&r);

    snprintf(inm, sizeof(inm), "If-None-Match: \"other\", %s", etag);
    const char *h[] = { inm, NULL };
    get_is("/console/", h, 304, NULL, "no-cache", &r);
    ck_assert_int_eq(r.len, 0);
    assert_header(&r, "ETag", etag);
    assert_security_headers(&r);
    tl_resp_free(&r);

    /* a new build: another ETag, the new bytes */
    write_file(dist, "index.html", "<!doctype html><title>rebuilt</title>");
    get_is("/console/", h, 200, NULL, NULL, &r);
    ck_assert_str_eq(r.body, "<!doctype html><title>rebuilt</title>");
    char *etag2 = tl_resp_header(&r, "ETag");
    ck_assert(etag2 && strcmp(etag, etag2) != 0);
    tl_resp_free(&r);
    free(etag);
    free(etag2);
}
END_TEST

START_TEST(gzip_variant_goes_to_clients_that_accept_gzip)
{
    tl_resp r;
    char path[600];
    struct stat st;

    snprintf(path, sizeof(path), "%s/assets/app-1a2b3c.js.gz", dist);
    ck_assert(stat(path, &st) == 0);

    const char *gz[] = { "Accept-Encoding: br, gzip, deflate", NULL };
    get_is("/console/assets/app-1a2b3c.js", gz, 200, "text/javascript; charset=utf-8",
           "public, max-age=31536000, immutable", &r);
    assert_header(&r, "Content-Encoding", "gzip");
    assert_header(&r, "Vary", "Accept-Encoding");
    ck_assert_int_eq(r.len, st.st_size);
    ck_assert_int_eq((unsigned char) r.body[0], 0x1f);
    ck_assert_int_eq((unsigned char) r.body[1], 0x8b);
    char *etag_gz = tl_resp_header(&r, "ETag");
    tl_resp_free(&r);

    const char *no[] = { "Accept-Encoding: gzip;q=0, identity", NULL };
    get_is("/console/assets/app-1a2b3c.js", no, 200, NULL, NULL, &r);
    ck_assert_str_eq(r.body, APP_JS);
    assert_no_header(&r, "Content-Encoding");
    assert_header(&r, "Vary", "Accept-Encoding");
    char *etag = tl_resp_header(&r, "ETag");
    ck_assert_msg(etag && etag_gz && strcmp(etag, etag_gz) != 0, "one ETag for two bodies");
    tl_resp_free(&r);
    free(etag);
    free(etag_gz);

    /* the .gz file itself is just a file, sent as it is */
    get_is("/console/assets/app-1a2b3c.js.gz", NULL, 200, NULL, NULL, &r);
    assert_no_header(&r, "Content-Encoding");
    tl_resp_free(&r);
}
END_TEST

START_TEST(root_and_console_redirect_to_console_slash)
{
    tl_resp r;

    get_is("/", NULL, 302, NULL, NULL, &r);
    assert_header(&r, "Location", "/console/");
    assert_security_headers(&r);
    tl_resp_free(&r);

    get_is("/console", NULL, 301, NULL, NULL, &r);
    assert_header(&r, "Location", "/console/");
    tl_resp_free(&r);
}
END_TEST

START_TEST(no_path_leaves_the_console_folder)
{
    static const char *const targets[] = {
        "/console/../secret.txt",
        "/console/%2e%2e/secret.txt",
        "/console/%2E%2E%2Fsecret.txt",
        "/console/assets/..%2f..%2fsecret.txt",
        "/console/assets/../../secret.txt",
        "/console/./index.html",
        "/console//etc/passwd",
        "/console/.hidden.txt",
        "/console/link.txt",            /* a symlink to ../secret.txt */
        "/console/linked/x.txt",        /* through a symlinked folder */
        "/console/assets/up.js",        /* a symlink two levels up */
        "/console/dir.js",              /* a folder, not a regular file */
        "/console/assets%5c..%5c..%5csecret.txt",
    };

    for (size_t i = 0; i < SOV_N_ELEMENTS(targets); i++) {
        char *answer = NULL;
        long status = raw_get(targets[i], &answer);
        ck_assert_msg(status == 404 || status == 400, "%s: %ld\n%s", targets[i], status,
                      answer);
        ck_assert_msg(!strstr(answer, SECRET), "%s leaked:\n%s", targets[i], answer);
        free(answer);
    }
    /* libmicrohttpd decodes the path in place, so a %00 ends it: what is left must still be
     * a file in the folder, or nothing */
    char *answer = NULL;
    ck_assert_int_eq(raw_get("/console/index.html%00.js", &answer), 200);
    tl_assert_contains(answer, INDEX);
    free(answer);
    ck_assert_int_eq(raw_get("/console/link.txt%00.html", &answer), 404);
    ck_assert_msg(!strstr(answer, SECRET), "leaked:\n%s", answer);
    free(answer);
}
END_TEST

START_TEST(only_get_and_head_are_allowed)
{
    tl_resp r;
    char url[256];

    snprintf(url, sizeof(url), "%s/console/", base);
    tl_req head = { .method = "HEAD", .url = url };
    tl_http(&head, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.len, 0);
    char *cl = tl_resp_header(&r, "Content-Length");
    ck_assert_msg(cl && atoi(cl) == (int) strlen(INDEX), "Content-Length: %s", cl);
    free(cl);
    tl_resp_free(&r);

    static const char *const methods[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
    for (size_t i = 0; i < SOV_N_ELEMENTS(methods); i++) {
        tl_req req = { .method = methods[i], .url = url };
        tl_http(&req, &r);
        tl_assert_problem(&r, 405, "/problems/method-not-allowed");
        assert_header(&r, "Allow", "GET, HEAD");
        tl_resp_free(&r);
    }
    const char *json[] = { "Content-Type: application/json", NULL };
    tl_req post = { .method = "POST", .url = url, .headers = json, .body = "{}",
                    .body_len = 2 };
    tl_http(&post, &r);
    tl_assert_problem(&r, 405, "/problems/method-not-allowed");
    tl_resp_free(&r);
}
END_TEST

START_TEST(a_console_not_built_is_404_saying_how_to_build_it)
{
    tl_resp r;

    stop();
    start("");
    get("/console/", NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_assert_contains(r.body, "npm run build");
    tl_assert_contains(r.body, "--console-dir");
    assert_security_headers(&r);
    tl_resp_free(&r);
    get_is("/", NULL, 302, NULL, NULL, &r);     /* the redirect still points there */
    tl_resp_free(&r);

    stop();
    start(tmp);             /* a folder without index.html */
    get("/console/instances", NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_assert_contains(r.body, "npm run build");
    tl_resp_free(&r);
}
END_TEST

START_TEST(the_api_beside_it_is_unchanged)
{
    tl_resp r;

    get_is("/v1/ping", NULL, 200, NULL, "no-store", &r);
    assert_no_header(&r, "Content-Security-Policy");
    tl_resp_free(&r);

    get("/consoles", NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    assert_no_header(&r, "Content-Security-Policy");
    tl_resp_free(&r);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/console-files");
    TCase *tc = tcase_create("console-files");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, index_html_is_served_revalidated_with_the_security_headers);
    tcase_add_test(tc, hashed_assets_are_cached_for_a_year_as_immutable);
    tcase_add_test(tc, a_path_without_extension_is_a_client_route_answered_by_index_html);
    tcase_add_test(tc, if_none_match_answers_304_until_the_file_changes);
    tcase_add_test(tc, gzip_variant_goes_to_clients_that_accept_gzip);
    tcase_add_test(tc, root_and_console_redirect_to_console_slash);
    tcase_add_test(tc, no_path_leaves_the_console_folder);
    tcase_add_test(tc, only_get_and_head_are_allowed);
    tcase_add_test(tc, a_console_not_built_is_404_saying_how_to_build_it);
    tcase_add_test(tc, the_api_beside_it_is_unchanged);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
