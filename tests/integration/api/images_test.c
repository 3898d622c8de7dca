/* Images through the HTTP API of real sovd processes (API and worker roles) on a real
 * PostgreSQL, with real qemu-img: imports from file:// (when allowed) and http:// (a
 * libmicrohttpd server of this test) that end active with the size, virtual size and SHA-256
 * of the file, stored in the region's image store; a wrong checksum, a wrong format and an
 * HTTP 404 that fail the operation and put the image in error; an unreachable source and one
 * answering 503, retried by the queue; direct uploads (with Content-Length and chunked) and
 * their refusals (too large, wrong format, wrong media type, not queued); residency policy,
 * other tenants, bad input; deleting (refused while an instance uses the image); lists with
 * filters and pages; the residency records and audit entries all of it leaves; and the log
 * lines of an operation (created, started, succeeded or failed). */
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"

/* The first value of a query on this test's database, as a number (testlib). */
#define sql_count(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-test-1"
#define ZERO_SHA "0000000000000000000000000000000000000000000000000000000000000000"
#define OP_WAIT_S 60

static char *db;
static char *tmp;
static tl_sovd sovd;
static char *op;            /* the bootstrap operator's token */
static tl_tenant acme;
static char store[600], qcow2[600], raw[600], big[600];
static struct MHD_Daemon *web;
static unsigned web_port;
static atomic_uint web_hits;    /* requests the test's web server saw */

/* ---- a small web server: /files/<name> from tmp, /status/<code>, /redirect/<name> ---- */

static enum MHD_Result
web_reply(struct MHD_Connection *conn, unsigned status, const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *) "",
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (location)
        MHD_add_response_header(r, "Location", location);
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result
web_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
            const char *version, const char *upload_data, size_t *upload_data_size,
            void **con_cls)
{
    char path[700], loc[700];
    struct stat st;

    (void) cls, (void) method, (void) version, (void) upload_data, (void) upload_data_size,
        (void) con_cls;
    atomic_fetch_add(&web_hits, 1);
    if (strncmp(url, "/files/", 7) == 0 && !strchr(url + 7, '/')) {
        snprintf(path, sizeof(path), "%s/%s", tmp, url + 7);
        FILE *f = fopen(path, "rb");
        if (!f || fstat(fileno(f), &st) < 0) {
            if (f)
                fclose(f);
            return web_reply(conn, 404, NULL);
        }
        /* The response owns the descriptor from here. */
        struct MHD_Response *r = MHD_create_response_from_fd((size_t) st.st_size,
                                                             dup(fileno(f)));
        fclose(f);
        enum MHD_Result rc = MHD_queue_response(conn, 200, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (strncmp(url, "/status/", 8) == 0)
        return web_reply(conn, (unsigned) atoi(url + 8), NULL);
    if (strncmp(url, "/redirect/", 10) == 0) {
        snprintf(loc, sizeof(loc), "/files/%s", url + 10);
        return web_reply(conn, 302, loc);
    }
    if (strcmp(url, "/to-file") == 0) {
        snprintf(loc, sizeof(loc), "file://%s", raw);
        return web_reply(conn, 302, loc);
    }
    return web_reply(conn, 404, NULL);
}

static void
web_start(void)
{
    const union MHD_DaemonInfo *info;

    web = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                           web_handler, NULL, MHD_OPTION_END);
    ck_assert_msg(web, "could not start the test's web server");
    info = MHD_get_daemon_info(web, MHD_DAEMON_INFO_BIND_PORT);
    ck_assert(info);
    web_port = info->port;
}

/* ---- fixture ---- */

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
    web = NULL;
    snprintf(store, sizeof(store), "%s/store", tmp);
    snprintf(qcow2, sizeof(qcow2), "%s/disk.qcow2", tmp);
    snprintf(raw, sizeof(raw), "%s/disk.raw", tmp);
    snprintf(big, sizeof(big), "%s/big.raw", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", qcow2), 0);
    ck_assert_int_eq(tl_sh("head -c 1048576 /dev/urandom > '%s'", raw), 0);
    ck_assert_int_eq(tl_sh("head -c 2097152 /dev/urandom > '%s'", big), 0);
}

static void
teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    if (web)
        MHD_stop_daemon(web);
    tl_sovd_discard(&sovd);
    tl_teardown_end(rc, db, op, tmp);
}

/* sovd as API and worker with the store in tmp and extra flags (NULL-terminated, may be
 * NULL); the operator's token, a tenant 'acme' with a user per role, and region REGION.
 * The test's web server is on 127.0.0.1: downloads may go there unless extra has its own
 * --image-allow-private-urls. */
static void
spawn(const char *const *extra)
{
    char store_flag[700];
    const char *args[16] = { store_flag };
    size_t n = 1;
    bool private_set = false, role_set = false;

    snprintf(store_flag, sizeof(store_flag), "--image-store=%s", store);
    for (size_t i = 0; extra && extra[i] && n < 13; i++) {
        private_set |= strncmp(extra[i], "--image-allow-private-urls", 26) == 0;
        role_set |= strncmp(extra[i], "--role", 6) == 0;
        args[n++] = extra[i];
    }
    if (!private_set)
        args[n++] = "--image-allow-private-urls=true";
    if (!role_set)
        args[n++] = "--role=api,worker";
    args[n] = NULL;
    tl_sovd_start(&sovd, db, args);
}

static void
start(const char *const *extra)
{
    spawn(extra);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Test\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-test\",\"zones\":[\"a\"]}", 201));
}

static void
start_allowing_files(void)
{
    const char *flags[] = { "--image-allow-file-urls=true", NULL };

    start(flags);
}

/* ---- helpers ---- */

static void
sha256_of(const char *path, char out[65])
{
    char outfile[700];
    char *text;

    snprintf(outfile, sizeof(outfile), "%s/sha.out", tmp);
    ck_assert_int_eq(tl_sh("sha256sum '%s' > '%s'", path, outfile), 0);
    text = tl_read_file(outfile);
    ck_assert(text && strlen(text) >= 64);
    snprintf(out, 65, "%.64s", text);
    free(text);
}

static long long
size_of(const char *path)
{
    struct stat st;

    ck_assert_msg(stat(path, &st) == 0, "no file %s", path);
    return (long long) st.st_size;
}

static bool
exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void
store_path(const char *id, char *out, size_t size)
{
    snprintf(out, size, "%s/%s/%s.img", store, REGION, id);
}

/* POST /v1/images with this body as token; the reply (asserting want). */
static json_t *
create(const char *token, const char *body, long want)
{
    return tl_call_ok(&sovd, "POST", "/v1/images", token, body, want);
}

/* Create an image importing url as acme's member; 202; the image and its operation id. */
static json_t *
import(const char *name, const char *format, const char *url, const char *sha256,
       char op_id[40])
{
    char body[2048];
    json_t *r, *img;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\",\"format\":"
             "\"%s\",\"source_url\":\"%s\"%s%s%s}", name, format, url,
             sha256 ? ",\"sha256\":\"" : "", sha256 ? sha256 : "", sha256 ? "\"" : "");
    r = create(acme.token[TL_MEMBER], body, 202);
    img = json_incref(json_object_get(r, "image"));
    ck_assert_msg(img, "202 without the image: %s", json_dumps(r, 0));
    ck_assert_str_eq(tl_str(img, "state"), "queued");
    json_t *o = json_object_get(r, "operation");
    ck_assert_str_eq(tl_str(o, "kind"), "image.import");
    ck_assert_str_eq(tl_str(o, "resource_type"), "image");
    ck_assert_str_eq(tl_str(o, "resource_id"), tl_str(img, "id"));
    snprintf(op_id, 40, "%s", tl_str(o, "id"));
    json_decref(r);
    return img;
}

/* Poll an operation until it is finished (or until done says so); the last reply. */
static json_t *
wait_op(const char *id, bool (*done)(const json_t *))
{
    char path[128];
    time_t until = time(NULL) + OP_WAIT_S;

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    for (;;) {
        json_t *o = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
        const char *state = tl_str(o, "state");
        if ((done && done(o)) ||
            (!done && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0)))
            return o;
        ck_assert_msg(time(NULL) < until, "operation %s still %s after %d s: %s", id, state,
                      OP_WAIT_S, json_dumps(o, 0));
        json_decref(o);
        usleep(100 * 1000);
    }
}

static json_t *
get_image(const char *id, const char *token)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/images/%s", id);
    return tl_call_ok(&sovd, "GET", path, token, NULL, 200);
}

/* An image of acme waiting for an upload (201). */
static json_t *
queued_image(const char *name, const char *format)
{
    char body[256];
    tl_resp r;
    char *loc;
    json_t *img;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\",\"format\":\"%s\"}",
             name, format);
    tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, &r);
    ck_assert_msg(r.status == 201, "create %s: %ld %s", name, r.status, r.body);
    img = json_incref(r.json);
    ck_assert_str_eq(tl_str(img, "state"), "queued");
    ck_assert(json_is_null(json_object_get(img, "source_url")));
    ck_assert(!json_object_get(img, "operation"));
    loc = tl_resp_header(&r, "Location");
    ck_assert_msg(loc && strstr(loc, tl_str(img, "id")), "Location: %s", loc ? loc : "(none)");
    free(loc);
    tl_resp_free(&r);
    return img;
}

/* Read a whole (binary) file. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;

    ck_assert_msg(f, "cannot open %s", path);
    *len = (size_t) size_of(path);
    data = malloc(*len + 1);
    ck_assert(data);
    ck_assert_uint_eq(fread(data, 1, *len, f), *len);
    fclose(f);
    return data;
}

/* PUT the file's bytes to /v1/images/{id}/file. */
static void
upload(const char *id, const char *token, const char *path, bool chunked, const char *ctype,
       tl_resp *ret)
{
    char url[700], auth[128], ct[128];
    const char *headers[] = { auth, ct, NULL };
    size_t len;
    char *data = slurp(path, &len);

    snprintf(url, sizeof(url), "%s/v1/images/%s/file", sovd.base, id);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    tl_req q = { .method = "PUT", .url = url, .headers = headers, .body = data,
                 .body_len = len, .chunked = chunked };
    tl_http(&q, ret);
    free(data);
}

static bool
retried(const json_t *o)
{
    return tl_num(o, "attempts") >= 2 && json_is_object(json_object_get(o, "error"));
}

static void
assert_invalid_field(const tl_resp *r, const char *field)
{
    json_t *errors = json_object_get(r->json, "errors");
    const char *f = json_string_value(json_object_get(json_array_get(errors, 0), "field"));

    tl_assert_problem(r, 400, "/problems/invalid-request");
    ck_assert_msg(f && strcmp(f, field) == 0, "expected field %s: %s", field, r->body);
}

/* ---- tests ---- */

START_TEST(import_from_file_url_stores_the_image)
{
    char op_id[40], url[700], sha[65], path[900], body[1024];
    json_t *img, *o;
    tl_resp r;

    start_allowing_files();
    sha256_of(qcow2, sha);
    snprintf(url, sizeof(url), "file://%s", qcow2);

    /* With the right checksum given, and the operation's URL in Location. */
    snprintf(body, sizeof(body), "{\"name\":\"base\",\"region\":\"" REGION "\",\"format\":"
             "\"qcow2\",\"source_url\":\"%s\",\"sha256\":\"%s\",\"min_disk_gib\":2}", url, sha);
    tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, &r);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    char *loc = tl_resp_header(&r, "Location");
    snprintf(op_id, sizeof(op_id), "%s",
             tl_str(json_object_get(r.json, "operation"), "id"));
    ck_assert_msg(loc && strstr(loc, op_id), "Location %s", loc ? loc : "(none)");
    free(loc);
    img = json_incref(json_object_get(r.json, "image"));
    tl_resp_free(&r);

    o = wait_op(op_id, NULL);
    ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") == 0, "%s", json_dumps(o, 0));
    ck_assert_int_eq(tl_num(o, "progress"), 100);
    json_decref(o);

    char id[40];
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    img = get_image(id, acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(img, "state"), "active");
    ck_assert_str_eq(tl_str(img, "name"), "base");
    ck_assert_str_eq(tl_str(img, "workspace"), "default");
    ck_assert_str_eq(tl_str(img, "tenant_id"), acme.id);
    ck_assert_str_eq(tl_str(img, "format"), "qcow2");
    ck_assert_str_eq(tl_str(img, "sha256"), sha);
    ck_assert_str_eq(tl_str(img, "source_url"), url);
    ck_assert_int_eq(tl_num(img, "min_disk_gib"), 2);
    ck_assert_int_eq(tl_num(img, "size_bytes"), size_of(qcow2));
    ck_assert_int_eq(tl_num(img, "virtual_size_bytes"), 64LL << 20);
    json_t *res = json_object_get(img, "residency");
    ck_assert_str_eq(tl_str(res, "region"), REGION);
    ck_assert_str_eq(tl_str(res, "country"), "FR");
    ck_assert_str_eq(tl_str(res, "jurisdiction"), "EU");
    ck_assert(json_is_null(json_object_get(res, "host")));
    json_decref(img);

    store_path(id, path, sizeof(path));
    ck_assert_int_eq(size_of(path), size_of(qcow2));
    ck_assert_int_eq(tl_sh("cmp -s '%s' '%s'", path, qcow2), 0);
    ck_assert_int_eq(tl_sh("test ! -e '%s.part'", path), 0);

    /* Placed in the region's store, with the policy in force, in the create transaction;
     * the create (202) and the import's completion audited. */
    ck_assert_int_eq(sql_count("SELECT count(*) FROM residency_records WHERE resource_type ="
                               " 'image' AND resource_id = '%s' AND event = 'placed' AND"
                               " to_region = '" REGION "' AND to_country = 'FR' AND"
                               " to_host = '' AND operation_id = '%s' AND"
                               " policy ? 'jurisdictions'", id, op_id), 1);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'images.create'"
                               " AND resource_id = '%s' AND outcome = 202 AND tenant_id = '%s'",
                               id, acme.id), 1);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'image.import'"
                               " AND resource_id = '%s' AND outcome = 200", id), 1);
}
END_TEST

START_TEST(import_over_http_follows_redirects_and_fails_on_404)
{
    char op_id[40], url[256], sha[65], path[900];
    json_t *img, *o;

    start(NULL);
    web_start();
    sha256_of(raw, sha);

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/redirect/disk.raw", web_port);
    img = import("web", "raw", url, NULL, op_id);
    o = wait_op(op_id, NULL);
    ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") == 0, "%s", json_dumps(o, 0));
    json_decref(o);
    char id[40];
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    img = get_image(id, acme.token[TL_MEMBER]);
    ck_assert_str_eq(tl_str(img, "state"), "active");
    ck_assert_str_eq(tl_str(img, "sha256"), sha);
    ck_assert_int_eq(tl_num(img, "size_bytes"), 1 << 20);
    ck_assert_int_eq(tl_num(img, "virtual_size_bytes"), 1 << 20);
    json_decref(img);
    store_path(id, path, sizeof(path));
    ck_assert_int_eq(tl_sh("cmp -s '%s' '%s'", path, raw), 0);

    /* A 404 cannot get better: failed at once, the image in error with the reason. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/files/missing.raw", web_port);
    img = import("missing", "raw", url, NULL, op_id);
    o = wait_op(op_id, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_int_eq(tl_num(o, "attempts"), 1);
    ck_assert_msg(strstr(tl_str(json_object_get(o, "error"), "message"), "HTTP 404"), "%s",
                  json_dumps(o, 0));
    json_decref(o);
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    img = get_image(id, acme.token[TL_MEMBER]);
    ck_assert_str_eq(tl_str(img, "state"), "error");
    ck_assert_msg(strstr(tl_str(img, "state_reason"), "HTTP 404"), "%s",
                  tl_str(img, "state_reason"));
    json_decref(img);
    store_path(id, path, sizeof(path));
    ck_assert(!exists(path));

    /* A redirect may not lead to a local file, allowed or not. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/to-file", web_port);
    img = import("sneaky", "raw", url, NULL, op_id);
    o = wait_op(op_id, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_int_eq(tl_num(o, "attempts"), 1);
    ck_assert_msg(strstr(tl_str(json_object_get(o, "error"), "message"), "could not download"),
                  "%s", json_dumps(o, 0));
    json_decref(o);
    json_decref(img);
}
END_TEST

START_TEST(checksum_mismatch_fails_and_keeps_nothing)
{
    char op_id[40], url[700], sha[65], path[900], want[256];
    json_t *img, *o;

    start_allowing_files();
    sha256_of(qcow2, sha);
    snprintf(url, sizeof(url), "file://%s", qcow2);
    img = import("wrong-sum", "qcow2", url, ZERO_SHA, op_id);
    o = wait_op(op_id, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_int_eq(tl_num(o, "attempts"), 1);
    snprintf(want, sizeof(want), "sha256 mismatch: expected %s, got %s", ZERO_SHA, sha);
    ck_assert_msg(strstr(tl_str(json_object_get(o, "error"), "message"), want), "%s",
                  json_dumps(o, 0));
    json_decref(o);

    char id[40];
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    img = get_image(id, acme.token[TL_MEMBER]);
    ck_assert_str_eq(tl_str(img, "state"), "error");
    ck_assert_msg(strstr(tl_str(img, "state_reason"), want), "%s", tl_str(img, "state_reason"));
    ck_assert_int_eq(tl_num(img, "size_bytes"), 0);
    json_decref(img);
    store_path(id, path, sizeof(path));
    ck_assert(!exists(path));
    ck_assert_int_eq(tl_sh("test ! -e '%s.part'", path), 0);
}
END_TEST

/* The line of sovd's log whose msg is msg and operation_id is id (a new reference), or a
 * failed test. */
static json_t *
op_log_line(const char *log, const char *msg, const char *id)
{
    for (const char *p = log; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t) (end - p) : strlen(p);
        json_t *j = json_loadb(p, len, 0, NULL);
        if (j && json_is_string(json_object_get(j, "msg")) &&
            strcmp(json_string_value(json_object_get(j, "msg")), msg) == 0 &&
            json_is_string(json_object_get(j, "operation_id")) &&
            strcmp(json_string_value(json_object_get(j, "operation_id")), id) == 0)
            return j;
        json_decref(j);
        p = end ? end + 1 : NULL;
    }
    ck_abort_msg("no '%s' line for operation %s in sovd's log", msg, id);
    return NULL;
}

/* What every line about an operation names: the operation, its kind, resource and tenant. */
static void
assert_op_line(const char *log, const char *msg, const char *op_id, const char *image_id,
               const char *level)
{
    json_t *j = op_log_line(log, msg, op_id);

    ck_assert_str_eq(tl_str(j, "level"), level);
    ck_assert_str_eq(tl_str(j, "kind"), "image.import");
    ck_assert_str_eq(tl_str(j, "resource_type"), "image");
    ck_assert_str_eq(tl_str(j, "resource_id"), image_id);
    ck_assert_str_eq(tl_str(j, "tenant_id"), acme.id);
    json_decref(j);
}

/* sovd logs an operation's creation (with the request's id), its start, and its success or
 * failure (with the reason). */
START_TEST(operations_are_logged_when_created_started_and_finished)
{
    char good_op[40], bad_op[40], good_id[40], bad_id[40], url[700], sha[65];
    json_t *img, *o, *j;
    char *log;

    start_allowing_files();
    sha256_of(qcow2, sha);
    snprintf(url, sizeof(url), "file://%s", qcow2);
    img = import("logged-good", "qcow2", url, sha, good_op);
    snprintf(good_id, sizeof(good_id), "%s", tl_str(img, "id"));
    json_decref(img);
    img = import("logged-bad", "qcow2", url, ZERO_SHA, bad_op);
    snprintf(bad_id, sizeof(bad_id), "%s", tl_str(img, "id"));
    json_decref(img);
    o = wait_op(good_op, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "succeeded");
    json_decref(o);
    o = wait_op(bad_op, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    json_decref(o);

    log = tl_sovd_log(&sovd);
    assert_op_line(log, "operation created", good_op, good_id, "info");
    assert_op_line(log, "operation started", good_op, good_id, "info");
    assert_op_line(log, "operation succeeded", good_op, good_id, "info");
    assert_op_line(log, "operation created", bad_op, bad_id, "info");
    assert_op_line(log, "operation started", bad_op, bad_id, "info");
    assert_op_line(log, "operation failed", bad_op, bad_id, "warn");
    j = op_log_line(log, "operation created", good_op);
    ck_assert_int_gt(strlen(tl_str(j, "request_id")), 0);
    json_decref(j);
    j = op_log_line(log, "operation failed", bad_op);
    ck_assert_msg(strstr(tl_str(j, "error"), "sha256 mismatch"), "%s", tl_str(j, "error"));
    json_decref(j);
    j = op_log_line(log, "operation succeeded", good_op);
    ck_assert_ptr_null(json_object_get(j, "error"));
    json_decref(j);
    free(log);
}
END_TEST

START_TEST(format_mismatch_fails_the_import)
{
    char op_id[40], url[700];
    json_t *img, *o;

    start_allowing_files();
    snprintf(url, sizeof(url), "file://%s", raw);
    img = import("not-qcow2", "qcow2", url, NULL, op_id);
    o = wait_op(op_id, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_msg(strstr(tl_str(json_object_get(o, "error"), "message"),
                         "format mismatch: declared qcow2, qemu-img finds raw"),
                  "%s", json_dumps(o, 0));
    json_decref(o);
    char id[40];
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    img = get_image(id, acme.token[TL_MEMBER]);
    ck_assert_str_eq(tl_str(img, "state"), "error");
    json_decref(img);

    /* And the other way round: a qcow2 declared raw is no raw image. */
    snprintf(url, sizeof(url), "file://%s", qcow2);
    img = import("not-raw", "raw", url, NULL, op_id);
    o = wait_op(op_id, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    json_decref(o);
    json_decref(img);
}
END_TEST

START_TEST(file_urls_are_refused_unless_allowed)
{
    char body[1024];
    tl_resp r;

    start(NULL);
    snprintf(body, sizeof(body), "{\"name\":\"local\",\"region\":\"" REGION "\",\"format\":"
             "\"raw\",\"source_url\":\"file://%s\"}", raw);
    tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, &r);
    assert_invalid_field(&r, "source_url");
    ck_assert_msg(strstr(r.body, "file://"), "%s", r.body);
    /* The refusal shows the way that works everywhere: an upload. */
    ck_assert_msg(strstr(r.body, "PUT /v1/images/{id}/file"), "%s", r.body);
    tl_resp_free(&r);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM images"), 0);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM operations"), 0);
    /* The refusal is audited as such. */
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'images.create'"
                               " AND outcome = 400"), 1);
}
END_TEST

/* Downloads connect to public addresses only (unless image_allow_private_urls): a literal
 * internal address is refused at once, a name that resolves inside fails the operation
 * without a retry and without a single request reaching the server; a URL's user,
 * password and query never appear in what sovd says. */
START_TEST(internal_addresses_are_refused_unless_allowed)
{
    static const char *const strict[] = { "--image-allow-private-urls=false", NULL };
    static const struct {
        const char *url, *kind;
    } literal[] = {
        { "http://127.0.0.1:%u/files/disk.raw", "loopback" },
        { "http://169.254.169.254/latest/meta-data/", "link-local" },
        { "http://[::1]:%u/files/disk.raw", "loopback" },
        { "https://10.1.2.3/disk.raw", "private" },
        { "http://user:pw@192.168.1.1:%u/disk.raw", "private" },
        { "http://[::ffff:127.0.0.1]/disk.raw", "loopback" },
        { "http://100.64.0.1/disk.raw", "shared" },
    };
    char url[512], body[1024], op_id[40], *log;
    json_t *img, *o;
    tl_resp r;

    start(strict);
    web_start();
    for (size_t i = 0; i < sizeof(literal) / sizeof(literal[0]); i++) {
        /* "%u" in the table stands for the web server's port. */
        const char *pct = strstr(literal[i].url, "%u");
        if (pct)
            snprintf(url, sizeof(url), "%.*s%u%s", (int) (pct - literal[i].url),
                     literal[i].url, web_port, pct + 2);
        else
            snprintf(url, sizeof(url), "%s", literal[i].url);
        snprintf(body, sizeof(body), "{\"name\":\"in-%zu\",\"region\":\"" REGION "\","
                 "\"format\":\"raw\",\"source_url\":\"%s\"}", i, url);
        tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, &r);
        assert_invalid_field(&r, "source_url");
        ck_assert_msg(strstr(r.body, literal[i].kind), "%s: %s", url, r.body);
        ck_assert_msg(!strstr(r.body, ":pw@"), "%s", r.body);
        tl_resp_free(&r);
    }
    ck_assert_int_eq(sql_count("SELECT count(*) FROM images"), 0);

    /* A name: checked where the connection is made, after DNS. */
    snprintf(url, sizeof(url), "http://alice:s3cret@localhost:%u/files/disk.raw?sig=t0ken",
             web_port);
    img = import("by-name", "raw", url, NULL, op_id);
    o = wait_op(op_id, NULL);
    ck_assert_str_eq(tl_str(o, "state"), "failed");
    ck_assert_int_eq(tl_num(o, "attempts"), 1);
    json_t *e = json_object_get(o, "error");
    ck_assert_str_eq(tl_str(e, "code"), "invalid");
    ck_assert_msg(strstr(tl_str(e, "message"), "(loopback)") &&
                      strstr(tl_str(e, "message"), "public addresses only"),
                  "%s", tl_str(e, "message"));
    ck_assert_msg(strstr(tl_str(e, "message"), "http://localhost:"), "%s",
                  tl_str(e, "message"));
    ck_assert_uint_eq(atomic_load(&web_hits), 0);
    json_t *now = get_image(tl_str(img, "id"), acme.token[TL_MEMBER]);
    ck_assert_str_eq(tl_str(now, "state"), "error");
    /* Neither the user, the password nor the signed query: not to the tenant, not to the log. */
    log = tl_sovd_log(&sovd);
    const char *said[] = { json_dumps(o, 0), json_dumps(now, 0), log };
    ck_assert_msg(strstr(tl_str(now, "source_url"), "http://localhost:") &&
                      strstr(tl_str(now, "source_url"), "/files/disk.raw?..."),
                  "source_url %s", tl_str(now, "source_url"));
    for (size_t i = 0; i < 3; i++)
        ck_assert_msg(said[i] && !strstr(said[i], "s3cret") && !strstr(said[i], "t0ken") &&
                          !strstr(said[i], "alice"),
                      "a secret of the URL is shown: %s", said[i]);
    free((void *) said[0]);
    free((void *) said[1]);
    free(log);
    json_decref(now);
    json_decref(o);
    json_decref(img);
}
END_TEST

START_TEST(unreachable_source_is_retried)
{
    char op_id[40], op503[40], url[256];
    json_t *img, *o;
    int held = -1;
    unsigned port = tl_refused_port(&held);     /* nothing listens there, nor will */

    start(NULL);
    web_start();
    /* A server answering 503 may do better later too. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/status/503", web_port);
    json_decref(import("busy", "raw", url, NULL, op503));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/disk.raw", port);
    img = import("far-away", "raw", url, NULL, op_id);
    o = wait_op(op503, retried);
    ck_assert_msg(strstr(tl_str(json_object_get(o, "error"), "message"), "HTTP 503"), "%s",
                  json_dumps(o, 0));
    json_decref(o);
    o = wait_op(op_id, retried);
    ck_assert_msg(strcmp(tl_str(o, "state"), "failed") != 0, "%s", json_dumps(o, 0));
    ck_assert_str_eq(tl_str(json_object_get(o, "error"), "code"), "unavailable");
    ck_assert_msg(strstr(tl_str(json_object_get(o, "error"), "message"), "could not download"),
                  "%s", json_dumps(o, 0));
    json_decref(o);
    json_t *now = get_image(tl_str(img, "id"), acme.token[TL_MEMBER]);
    ck_assert_msg(strcmp(tl_str(now, "state"), "downloading") == 0 ||
                      strcmp(tl_str(now, "state"), "queued") == 0,
                  "%s", tl_str(now, "state"));
    json_decref(now);
    json_decref(img);
    close(held);
}
END_TEST

START_TEST(upload_with_length_or_chunked_makes_the_image_active)
{
    char sha[65], path[900], id[40];
    json_t *img;
    tl_resp r;

    start(NULL);
    sha256_of(raw, sha);

    img = queued_image("uploaded", "raw");
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    upload(id, acme.token[TL_MEMBER], raw, false, "application/octet-stream", &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tl_str(r.json, "state"), "active");
    ck_assert_str_eq(tl_str(r.json, "sha256"), sha);
    ck_assert_int_eq(tl_num(r.json, "size_bytes"), 1 << 20);
    ck_assert_int_eq(tl_num(r.json, "virtual_size_bytes"), 1 << 20);
    tl_resp_free(&r);
    store_path(id, path, sizeof(path));
    ck_assert_int_eq(tl_sh("cmp -s '%s' '%s'", path, raw), 0);
    /* Audited once, by the service, with 200. */
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'images.upload'"
                               " AND resource_id = '%s' AND outcome = 200", id), 1);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'images.upload'"),
                     1);

    /* An active image takes no second upload. */
    upload(id, acme.token[TL_MEMBER], raw, false, "application/octet-stream", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'images.upload'"
                               " AND outcome = 409"), 1);

    /* Chunked, a qcow2 with the checksum declared up front. */
    char body[512];
    sha256_of(qcow2, sha);
    snprintf(body, sizeof(body), "{\"name\":\"chunked\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"sha256\":\"%s\"}", sha);
    img = create(acme.token[TL_ADMIN], body, 201);
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    upload(id, acme.token[TL_ADMIN], qcow2, true, "application/octet-stream", &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tl_str(r.json, "state"), "active");
    ck_assert_str_eq(tl_str(r.json, "sha256"), sha);
    ck_assert_int_eq(tl_num(r.json, "virtual_size_bytes"), 64LL << 20);
    tl_resp_free(&r);

    /* Bytes must come as application/octet-stream. */
    img = queued_image("typed", "raw");
    upload(tl_str(img, "id"), acme.token[TL_MEMBER], raw, false, "application/json", &r);
    tl_assert_problem(&r, 415, "/problems/unsupported-media-type");
    tl_resp_free(&r);
    json_decref(img);

    /* A reader may not upload. */
    img = queued_image("read-only", "raw");
    upload(tl_str(img, "id"), acme.token[TL_READER], raw, false, "application/octet-stream", &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    json_t *again = get_image(tl_str(img, "id"), acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(again, "state"), "queued");
    json_decref(again);
    json_decref(img);
}
END_TEST

/* An upload whose sovd dies mid-way does not leave the image downloading for good: a live
 * upload says so every few seconds, and the reconciler puts a silent one back to queued
 * (partial file removed, audited), so the tenant can upload again. */
START_TEST(an_interrupted_upload_goes_back_to_queued)
{
    static const char *const flags[] = { "--role=api,worker,reconciler",
                                          "--host-check-interval=1", NULL };
    char id[40], part[900], *v;
    long long claimed_at, now_at;
    json_t *img;
    tl_resp r;
    double until;

    start(flags);
    img = queued_image("slow", "raw");
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    /* 2 MiB at 64 KiB/s: half a minute of upload, cut short below. */
    ck_assert_int_eq(tl_sh("curl -s -X PUT --limit-rate 64K -H 'Authorization: Bearer %s' "
                           "-H 'Content-Type: application/octet-stream' --data-binary @'%s' "
                           "'%s/v1/images/%s/file' >/dev/null 2>&1 &",
                           acme.token[TL_MEMBER], big, sovd.base, id), 0);
    for (until = tl_now() + 15;; usleep(100 * 1000)) {
        v = tl_db_value(db, "SELECT state FROM images WHERE id = '%s'", id);
        bool downloading = strcmp(v, "downloading") == 0;
        free(v);
        if (downloading)
            break;
        ck_assert_msg(tl_now() < until, "the upload did not begin");
    }
    claimed_at = sql_count("SELECT extract(epoch FROM updated_at)::bigint FROM images "
                           "WHERE id = '%s'", id);
    /* Alive: the row says so while bytes come (and the reconciler leaves it alone). */
    for (until = tl_now() + 20;; sleep(1)) {
        now_at = sql_count("SELECT extract(epoch FROM updated_at)::bigint FROM images "
                           "WHERE id = '%s' AND state = 'downloading'", id);
        if (now_at >= claimed_at + 9)
            break;
        ck_assert_msg(tl_now() < until, "a live upload did not say so (updated_at %lld, "
                      "claimed at %lld)", now_at, claimed_at);
    }
    snprintf(part, sizeof(part), "%s/%s/%s.img.part", store, REGION, id);
    ck_assert_msg(exists(part), "no partial file %s", part);

    /* sovd dies mid-upload; time passes (the row ages); another sovd's reconciler finds it. */
    tl_sovd_stop(&sovd, SIGKILL, 5);
    tl_sovd_discard(&sovd);
    free(tl_db_exec(db, "UPDATE images SET updated_at = now() - interval '10 minutes' "
                        "WHERE state = 'downloading'"));
    spawn(flags);
    for (until = tl_now() + 15;; usleep(200 * 1000)) {
        v = tl_db_value(db, "SELECT state FROM images WHERE id = '%s'", id);
        bool queued = strcmp(v, "queued") == 0;
        free(v);
        if (queued)
            break;
        ck_assert_msg(tl_now() < until, "the interrupted upload is still downloading");
    }
    img = get_image(id, acme.token[TL_READER]);
    ck_assert_msg(strstr(tl_str(img, "state_reason"), "upload was interrupted"), "%s",
                  tl_str(img, "state_reason"));
    json_decref(img);
    ck_assert_msg(!exists(part), "the partial file %s is still there", part);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = "
                               "'images.reconcile' AND resource_id = '%s'", id), 1);

    /* And it takes an upload again. */
    upload(id, acme.token[TL_MEMBER], raw, false, "application/octet-stream", &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tl_str(r.json, "state"), "active");
    tl_resp_free(&r);
}
END_TEST

/* An upload refused before its body is read (here: no such image) is answered once its
 * body is in: answered at once, the connection closed with the body unread, and the reset
 * that followed could reach the client before the answer did (a transport failure, now and
 * then). Many tries, to see the race if it comes back. */
START_TEST(an_upload_refused_at_its_start_is_answered_after_its_body)
{
    tl_resp r;

    start(NULL);
    for (int i = 0; i < 40; i++) {
        upload("00000000-0000-4000-8000-000000000000", acme.token[TL_MEMBER], raw, i % 2,
               "application/octet-stream", &r);
        tl_assert_problem(&r, 404, "/problems/not-found");
        tl_resp_free(&r);
    }
    ck_assert_int_eq(sql_count("SELECT count(*) FROM images"), 0);
}
END_TEST

START_TEST(refused_uploads_leave_the_image_queued)
{
    const char *flags[] = { "--max-image-bytes=1048576", NULL };
    char path[900], id[40], small[700];
    json_t *img;
    tl_resp r;

    start(flags);
    img = queued_image("huge", "raw");
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    store_path(id, path, sizeof(path));

    /* Too large, told by Content-Length, then found out while streaming chunks. */
    for (int chunked = 0; chunked < 2; chunked++) {
        upload(id, acme.token[TL_MEMBER], big, chunked, "application/octet-stream", &r);
        tl_assert_problem(&r, 413, "/problems/payload-too-large");
        tl_resp_free(&r);
        img = get_image(id, acme.token[TL_MEMBER]);
        ck_assert_str_eq(tl_str(img, "state"), "queued");
        json_decref(img);
        ck_assert(!exists(path));
        ck_assert_int_eq(tl_sh("test ! -e '%s.part'", path), 0);
    }
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'images.upload'"
                               " AND outcome = 413"), 2);

    /* Not the declared format: 400, queued again, and why. */
    upload(id, acme.token[TL_MEMBER], qcow2, false, "application/octet-stream", &r);
    tl_assert_problem(&r, 400, "/problems/invalid-request");
    ck_assert_msg(strstr(r.body, "format mismatch"), "%s", r.body);
    tl_resp_free(&r);
    img = get_image(id, acme.token[TL_MEMBER]);
    ck_assert_str_eq(tl_str(img, "state"), "queued");
    ck_assert_msg(strstr(tl_str(img, "state_reason"), "format mismatch"), "%s",
                  tl_str(img, "state_reason"));
    json_decref(img);

    /* The client tries again with bytes that fit. */
    snprintf(small, sizeof(small), "%s/small.raw", tmp);
    ck_assert_int_eq(tl_sh("head -c 524288 /dev/urandom > '%s'", small), 0);
    upload(id, acme.token[TL_MEMBER], small, true, "application/octet-stream", &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_str_eq(tl_str(r.json, "state"), "active");
    ck_assert_str_eq(tl_str(r.json, "state_reason"), "");
    tl_resp_free(&r);

    /* An imported image takes no upload. */
    char body[512];
    snprintf(body, sizeof(body), "{\"name\":\"imported\",\"region\":\"" REGION "\","
             "\"format\":\"raw\",\"source_url\":\"http://127.0.0.1:%u/x\"}", tl_free_port());
    json_t *acc = create(acme.token[TL_MEMBER], body, 202);
    upload(tl_str(json_object_get(acc, "image"), "id"), acme.token[TL_MEMBER], small, false,
           "application/octet-stream", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    json_decref(acc);
}
END_TEST

START_TEST(residency_policy_and_tenancy_are_enforced)
{
    tl_tenant other;
    char path[256], id[40];
    json_t *img, *list;
    tl_resp r;

    start(NULL);
    tl_tenant_make(&sovd, op, "globex", &other);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"ch-zrh-1\",\"name\":\"Zurich\",\"country\":\"CH\","
                           "\"datacenter\":\"dc-zrh\",\"zones\":[\"a\"]}", 201));

    /* Outside the default EU policy: refused, naming the policy, nothing written. */
    tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER],
            "{\"name\":\"swiss\",\"region\":\"ch-zrh-1\",\"format\":\"raw\"}", &r);
    tl_assert_problem(&r, 409, "/problems/residency-policy");
    ck_assert_msg(strstr(r.body, "residency policy") && strstr(r.body, "EU"), "%s", r.body);
    tl_resp_free(&r);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM images"), 0);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM residency_records WHERE resource_type ="
                               " 'image'"), 0);

    img = queued_image("mine", "raw");
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);

    /* Another tenant's image does not exist for globex, whatever it asks. */
    snprintf(path, sizeof(path), "/v1/images/%s", id);
    tl_call(&sovd, "GET", path, other.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&sovd, "DELETE", path, other.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    upload(id, other.token[TL_MEMBER], raw, false, "application/octet-stream", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/images?tenant_id=%s", acme.id);
    tl_call(&sovd, "GET", path, other.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    list = tl_call_ok(&sovd, "GET", "/v1/images", other.token[TL_ADMIN], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    /* Nor may globex create in acme. */
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"intruder\",\"region\":\"" REGION "\","
             "\"format\":\"raw\",\"tenant_id\":\"%s\"}", acme.id);
    tl_call(&sovd, "POST", "/v1/images", other.token[TL_ADMIN], body, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);

    /* The operator sees it, and creates for globex. */
    img = get_image(id, op);
    ck_assert_str_eq(tl_str(img, "tenant_id"), acme.id);
    json_decref(img);
    snprintf(body, sizeof(body), "{\"name\":\"for-globex\",\"region\":\"" REGION "\","
             "\"format\":\"raw\",\"tenant_id\":\"%s\"}", other.id);
    img = create(op, body, 201);
    ck_assert_str_eq(tl_str(img, "tenant_id"), other.id);
    json_decref(img);
    snprintf(path, sizeof(path), "/v1/images?tenant_id=%s", other.id);
    list = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/images", other.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 1);
    json_decref(list);

    /* A policy allowing Switzerland lets the image go there. */
    snprintf(path, sizeof(path), "/v1/tenants/%s/residency-policy", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"countries\":[\"CH\",\"FR\"]}", 200));
    img = create(acme.token[TL_MEMBER],
                 "{\"name\":\"swiss\",\"region\":\"ch-zrh-1\",\"format\":\"raw\"}", 201);
    ck_assert_str_eq(tl_str(json_object_get(img, "residency"), "country"), "CH");
    json_decref(img);
}
END_TEST

START_TEST(bad_input_is_400_naming_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"size\":1}", "size" },
        { "{\"region\":\"" REGION "\",\"format\":\"raw\"}", "name" },
        { "{\"name\":\"Not A Slug\",\"region\":\"" REGION "\",\"format\":\"raw\"}", "name" },
        { "{\"name\":\"0b5a1f6e-8d3c-4a7b-9e2f-1c2d3e4f5a6b\",\"region\":\"" REGION "\","
          "\"format\":\"raw\"}", "name" },
        { "{\"name\":7,\"region\":\"" REGION "\",\"format\":\"raw\"}", "name" },
        { "{\"name\":\"a\",\"format\":\"raw\"}", "region" },
        { "{\"name\":\"a\",\"region\":\"nowhere-1\",\"format\":\"raw\"}", "region" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\"}", "format" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"vmdk\"}", "format" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"sha256\":\"abc\"}",
          "sha256" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"sha256\":"
          "\"" "0000000000000000000000000000000000000000000000000000000000000ABC" "\"}",
          "sha256" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"min_disk_gib\":-1}",
          "min_disk_gib" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\","
          "\"min_disk_gib\":65537}", "min_disk_gib" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"min_disk_gib\":\"1\"}",
          "min_disk_gib" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"source_url\":"
          "\"ftp://example.eu/x.raw\"}", "source_url" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"source_url\":"
          "\"https://\"}", "source_url" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"source_url\":"
          "\"http://example.eu/a b\"}", "source_url" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\",\"source_url\":\"\"}",
          "source_url" },
        { "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\","
          "\"workspace\":\"missing\"}", "workspace" },
    };
    char body[4096], longurl[2100];
    tl_resp r;

    start(NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], bad[i].body, &r);
        ck_assert_msg(r.status == 400, "%s: %ld %s", bad[i].body, r.status, r.body);
        assert_invalid_field(&r, bad[i].field);
        tl_resp_free(&r);
    }
    /* A URL of more than 2000 characters. */
    memset(longurl, 'a', sizeof(longurl) - 1);
    longurl[sizeof(longurl) - 1] = '\0';
    memcpy(longurl, "https://example.eu/", 19);
    snprintf(body, sizeof(body), "{\"name\":\"a\",\"region\":\"" REGION "\",\"format\":\"raw\","
             "\"source_url\":\"%s\"}", longurl);
    tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, &r);
    assert_invalid_field(&r, "source_url");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM images"), 0);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM operations"), 0);

    /* Query parameters too. */
    tl_call(&sovd, "GET", "/v1/images?limit=0", acme.token[TL_READER], NULL, &r);
    assert_invalid_field(&r, "limit");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/images?after=not-an-id", acme.token[TL_READER], NULL, &r);
    assert_invalid_field(&r, "after");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/images?workspace=Bad!", acme.token[TL_READER], NULL, &r);
    assert_invalid_field(&r, "workspace");
    tl_resp_free(&r);

    /* A taken name is a conflict; an unknown id is not found. */
    json_decref(queued_image("taken", "raw"));
    tl_call(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER],
            "{\"name\":\"taken\",\"region\":\"" REGION "\",\"format\":\"qcow2\"}", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/images/00000000-0000-4000-8000-000000000000",
            acme.token[TL_READER], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&sovd, "DELETE", "/v1/images/not-an-id", acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    /* By name. */
    json_t *img = get_image("taken", acme.token[TL_READER]);
    ck_assert_str_eq(tl_str(img, "name"), "taken");
    json_decref(img);
}
END_TEST

START_TEST(delete_removes_the_file_and_records_it)
{
    char path[900], id[40], op_id[40], url[128];
    json_t *img, *acc, *o;
    tl_resp r;

    start(NULL);
    img = queued_image("doomed", "raw");
    snprintf(id, sizeof(id), "%s", tl_str(img, "id"));
    json_decref(img);
    upload(id, acme.token[TL_MEMBER], raw, false, "application/octet-stream", &r);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    store_path(id, path, sizeof(path));
    ck_assert(exists(path));

    /* In use by an instance (straight into the tables): refused. */
    free(tl_db_exec(db, "INSERT INTO flavors (name, vcpus, memory_mib, disk_gib)"
                        " VALUES ('tiny', 1, 512, 1)"));
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO instances (id, tenant_id, workspace, name, flavor_id, image_id,"
             " vcpus, memory_mib, disk_gib, gpus, region, zone, mac, state) SELECT"
             " gen_random_uuid(), '%s', 'default', 'user', f.id, '%s', 1, 512, 1, 0,"
             " '" REGION "', 'a', '52:54:00:00:00:01', 'running' FROM flavors f", acme.id, id);
    free(tl_db_exec(db, sql));
    snprintf(url, sizeof(url), "/v1/images/%s", id);
    tl_call(&sovd, "DELETE", url, acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(r.body, "used by instance 'user'"), "%s", r.body);
    json_t *b = json_array_get(json_object_get(r.json, "blocked_by"), 0);
    ck_assert_msg(b && strcmp(tl_str(b, "kind"), "instance") == 0 &&
                      strcmp(tl_str(b, "name"), "user") == 0 && strlen(tl_str(b, "id")) == 36,
                  "blocked_by does not name the instance: %s", r.body);
    tl_resp_free(&r);
    free(tl_db_exec(db, "UPDATE instances SET state = 'deleted'"));

    tl_call(&sovd, "DELETE", url, acme.token[TL_MEMBER], NULL, &r);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    acc = json_incref(r.json);
    tl_resp_free(&r);
    ck_assert_str_eq(tl_str(json_object_get(acc, "image"), "state"), "deleting");
    o = json_object_get(acc, "operation");
    ck_assert_str_eq(tl_str(o, "kind"), "image.delete");
    snprintf(op_id, sizeof(op_id), "%s", tl_str(o, "id"));
    json_decref(acc);

    o = wait_op(op_id, NULL);
    ck_assert_msg(strcmp(tl_str(o, "state"), "succeeded") == 0, "%s", json_dumps(o, 0));
    json_decref(o);
    img = get_image(id, acme.token[TL_MEMBER]);
    ck_assert_str_eq(tl_str(img, "state"), "deleted");
    ck_assert(json_is_null(json_object_get(img, "residency")));
    json_decref(img);
    ck_assert(!exists(path));
    ck_assert_int_eq(sql_count("SELECT count(*) FROM residency_records WHERE resource_id ="
                               " '%s' AND event = 'deleted' AND from_region = '" REGION "'"
                               " AND from_host = '' AND to_region = '' AND operation_id = '%s'",
                               id, op_id), 1);
    ck_assert_int_eq(sql_count("SELECT count(*) FROM audit_log WHERE action = 'images.delete'"
                               " AND resource_id = '%s' AND outcome = 202", id), 1);

    /* Gone from lists, gone for another delete (404), and the name is free again. */
    json_t *list = tl_call_ok(&sovd, "GET", "/v1/images", acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    tl_call(&sovd, "DELETE", url, acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    json_decref(queued_image("doomed", "raw"));
}
END_TEST

START_TEST(lists_filter_and_page)
{
    static const char *const keys[] = { "id", "name", "region", "format", "state",
                                        "residency", "created_at", "updated_at" };
    char path[256], body[256];
    json_t *list;
    size_t total = 0;

    start(NULL);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"de-fra-1\",\"name\":\"Frankfurt\",\"country\":\"DE\","
                           "\"datacenter\":\"dc-fra\",\"zones\":[\"a\"]}", 201));
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", acme.id);
    json_decref(tl_call_ok(&sovd, "POST", path, acme.token[TL_ADMIN], "{\"name\":\"dev\"}",
                           201));
    for (int i = 0; i < 5; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"img-%d\",\"region\":\"%s\",\"format\":"
                 "\"raw\"}", i, i < 3 ? REGION : "de-fra-1");
        json_decref(create(acme.token[TL_MEMBER], body, 201));
    }
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"img-%d\",\"region\":\"" REGION "\","
                 "\"format\":\"qcow2\",\"workspace\":\"dev\"}", i);
        json_decref(create(acme.token[TL_MEMBER], body, 201));
    }

    /* Pages of 3 by id, following next links, each id once and in order. */
    char last[40] = "";
    snprintf(path, sizeof(path), "/v1/images?limit=3");
    for (;;) {
        list = tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
        json_t *items = json_object_get(list, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *it = json_array_get(items, i);
            for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
                ck_assert_msg(json_object_get(it, keys[k]), "item without %s", keys[k]);
            ck_assert_msg(strcmp(tl_str(it, "id"), last) > 0, "ids out of order");
            snprintf(last, sizeof(last), "%s", tl_str(it, "id"));
            total++;
        }
        json_t *next = json_object_get(list, "next");
        if (json_is_null(next)) {
            json_decref(list);
            break;
        }
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        json_decref(list);
    }
    ck_assert_uint_eq(total, 7);

    list = tl_call_ok(&sovd, "GET", "/v1/images?workspace=dev", acme.token[TL_READER], NULL,
                      200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/images?region=de-fra-1", acme.token[TL_READER], NULL,
                      200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/images?region=" REGION "&workspace=default&limit=2",
                      acme.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    const char *next = json_string_value(json_object_get(list, "next"));
    ck_assert_msg(next && strstr(next, "region=" REGION) && strstr(next, "workspace=default"),
                  "next %s", next ? next : "(null)");
    json_decref(list);
    /* The operator lists every tenant's, or one tenant's. */
    list = tl_call_ok(&sovd, "GET", "/v1/images", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 7);
    json_decref(list);
    /* By name in a workspace. */
    json_t *img = tl_call_ok(&sovd, "GET", "/v1/images/img-1?workspace=dev",
                             acme.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(img, "workspace"), "dev");
    ck_assert_str_eq(tl_str(img, "format"), "qcow2");
    json_decref(img);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/images");
    TCase *tc = tcase_create("images");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, import_from_file_url_stores_the_image);
    tcase_add_test(tc, internal_addresses_are_refused_unless_allowed);
    tcase_add_test(tc, import_over_http_follows_redirects_and_fails_on_404);
    tcase_add_test(tc, checksum_mismatch_fails_and_keeps_nothing);
    tcase_add_test(tc, operations_are_logged_when_created_started_and_finished);
    tcase_add_test(tc, format_mismatch_fails_the_import);
    tcase_add_test(tc, file_urls_are_refused_unless_allowed);
    tcase_add_test(tc, unreachable_source_is_retried);
    tcase_add_test(tc, upload_with_length_or_chunked_makes_the_image_active);
    tcase_add_test(tc, an_interrupted_upload_goes_back_to_queued);
    tcase_add_test(tc, an_upload_refused_at_its_start_is_answered_after_its_body);
    tcase_add_test(tc, refused_uploads_leave_the_image_queued);
    tcase_add_test(tc, residency_policy_and_tenancy_are_enforced);
    tcase_add_test(tc, bad_input_is_400_naming_the_field);
    tcase_add_test(tc, delete_removes_the_file_and_records_it);
    tcase_add_test(tc, lists_filter_and_page);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
