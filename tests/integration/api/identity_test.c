/* Identity through the HTTP API of a real sovd on a real PostgreSQL: the operator bootstrap
 * (a private token file, written once, never logged), tenants, workspaces, users and tokens
 * (create, read, list, change, delete, and the 400/403/404/409 answers around them), token
 * revocation and expiry, every way of failing authentication (401 with WWW-Authenticate),
 * GET /v1/me, and a tenant that still holds resources refusing to go. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static char *db;
static tl_sovd sovd, again;     /* again: a second start on the same database */
static char *op;                /* the bootstrap operator's token */

static void
setup(void)
{
    db = tl_db_create();
    memset(&sovd, 0, sizeof(sovd));
    memset(&again, 0, sizeof(again));
    op = NULL;
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_sovd_discard(&again);
    free(op);
    tl_db_drop(db);
    free(db);
}

/* Most tests: one sovd and its operator token. */
static void
start(void)
{
    tl_sovd_start(&sovd, db, NULL);
    op = tl_operator_token(&sovd);
}

/* ---- helpers ---- */

static const char *
str_at(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

/* The status of one call; the response is dropped. */
static long
status_of(const char *method, const char *path, const char *token, const char *body)
{
    tl_resp r;
    long st;

    tl_call(&sovd, method, path, token, body, &r);
    st = r.status;
    tl_resp_free(&r);
    return st;
}

/* Assert a problem+json of this status and type. */
static void
expect_problem(const char *method, const char *path, const char *token, const char *body,
               long status, const char *type)
{
    tl_resp r;

    tl_call(&sovd, method, path, token, body, &r);
    ck_assert_msg(r.status == status, "%s %s %s: expected %ld, got %ld: %s", method, path,
                  body ? body : "", status, r.status, r.body);
    tl_assert_problem(&r, status, type);
    tl_resp_free(&r);
}

/* Assert a 400 problem+json whose errors[0].field is field. */
static void
expect_invalid(const char *method, const char *path, const char *token, const char *body,
               const char *field)
{
    tl_resp r;
    json_t *e;

    tl_call(&sovd, method, path, token, body, &r);
    ck_assert_msg(r.status == 400, "%s %s %s: expected 400, got %ld: %s", method, path,
                  body ? body : "", r.status, r.body);
    tl_assert_problem(&r, 400, "/problems/invalid-request");
    e = json_array_get(json_object_get(r.json, "errors"), 0);
    ck_assert_msg(e, "%s: the problem names no field: %s", body ? body : "", r.body);
    ck_assert_msg(str_at(e, "field") && strcmp(str_at(e, "field"), field) == 0,
                  "%s: expected errors[0].field '%s': %s", body ? body : "", field, r.body);
    ck_assert_msg(json_is_string(json_object_get(e, "message")), "no message: %s", r.body);
    tl_resp_free(&r);
}

/* A 401 problem+json asking for a bearer token. */
static void
assert_unauthenticated(const tl_resp *r, const char *what)
{
    char *www = tl_resp_header(r, "WWW-Authenticate");

    ck_assert_msg(r->status == 401, "%s: expected 401, got %ld: %s", what, r->status, r->body);
    tl_assert_problem(r, 401, "/problems/unauthenticated");
    ck_assert_msg(www && strncmp(www, "Bearer", 6) == 0, "%s: WWW-Authenticate is %s", what,
                  www ? www : "(none)");
    free(www);
}

/* GET /v1/me with token must answer 401 (what names the case in a failure). */
static void
expect_me_401(const char *token, const char *what)
{
    tl_resp r;

    tl_call(&sovd, "GET", "/v1/me", token, NULL, &r);
    assert_unauthenticated(&r, what);
    tl_resp_free(&r);
}

/* GET /v1/me with one raw Authorization header (NULL: none). */
static void
me_with_header(const char *header, tl_resp *ret)
{
    char url[128];
    const char *h[] = { header, NULL };
    tl_req q = { .method = "GET", .url = url, .headers = header ? h : NULL };

    snprintf(url, sizeof(url), "%s/v1/me", sovd.base);
    tl_http(&q, ret);
}

/* The first value of a counting query. */
static long
db_count(const char *sql)
{
    char *v = tl_db_exec(db, sql), *end = NULL;
    long n;

    ck_assert_msg(v, "no row: %s", sql);
    n = strtol(v, &end, 10);
    ck_assert_msg(end && *end == '\0', "not a count: %s", v);
    free(v);
    return n;
}

static bool
ends_with(const char *s, const char *tail)
{
    size_t n = s ? strlen(s) : 0, m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static void
rfc3339(time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* j's expires_at is `days` days from now, give or take a few minutes. */
static void
expect_expiry_in_days(json_t *j, unsigned days)
{
    const char *s = str_at(j, "expires_at");
    struct tm tm;
    time_t want = time(NULL) + (time_t) days * 86400, got;

    ck_assert_msg(s, "expires_at is not a time: %s", json_dumps(j, 0));
    memset(&tm, 0, sizeof(tm));
    ck_assert_msg(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm), "expires_at '%s' is not RFC 3339", s);
    got = timegm(&tm);
    ck_assert_msg(got > want - 300 && got < want + 300, "expires_at %s is not %u days away", s,
                  days);
}

/* POST /v1/tenants as the operator; the new id goes to ret_id (40 bytes). */
static void
make_tenant(const char *name, char *ret_id)
{
    char body[256];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    j = tl_call_ok(&sovd, "POST", "/v1/tenants", op, body, 201);
    snprintf(ret_id, 40, "%s", str_at(j, "id"));
    json_decref(j);
}

/* POST /v1/tenants/{tenant}/users as token; the new id goes to ret_id (40 bytes). */
static void
make_user(const char *token, const char *tenant_id, const char *email, const char *role,
          char *ret_id)
{
    char path[128], body[512];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/tenants/%s/users", tenant_id);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"email\":\"%s\",\"role\":\"%s\"}", role,
             email, role);
    j = tl_call_ok(&sovd, "POST", path, token, body, 201);
    ck_assert_str_eq(str_at(j, "role"), role);
    snprintf(ret_id, 40, "%s", str_at(j, "id"));
    json_decref(j);
}

/* POST /v1/tokens as token, for user_id (NULL: itself), expiring at expires_at (NULL:
 * never); the secret goes to ret_secret (64 bytes), the id to ret_id (40 bytes, or NULL). */
static void
make_token(const char *token, const char *user_id, const char *expires_at, char *ret_secret,
           char *ret_id)
{
    char body[256];
    int n;
    json_t *j;

    n = snprintf(body, sizeof(body), "{\"name\":\"t\"");
    if (user_id)
        n += snprintf(body + n, sizeof(body) - (size_t) n, ",\"user_id\":\"%s\"", user_id);
    if (expires_at)
        n += snprintf(body + n, sizeof(body) - (size_t) n, ",\"expires_at\":\"%s\"",
                      expires_at);
    snprintf(body + n, sizeof(body) - (size_t) n, "}");
    j = tl_call_ok(&sovd, "POST", "/v1/tokens", token, body, 201);
    snprintf(ret_secret, 64, "%s", str_at(j, "secret"));
    if (ret_id)
        snprintf(ret_id, 40, "%s", str_at(j, "id"));
    json_decref(j);
}

/* ---- bootstrap ---- */

START_TEST(bootstrap_writes_a_private_operator_token_that_is_never_logged)
{
    char path[600];
    struct stat st;
    json_t *me;
    char *log;

    start();
    snprintf(path, sizeof(path), "%s/operator.token", sovd.state);
    ck_assert_msg(stat(path, &st) == 0, "no %s", path);
    ck_assert_msg(S_ISREG(st.st_mode), "%s is not a file", path);
    ck_assert_msg((st.st_mode & 07777) == 0600, "%s has mode %o", path, st.st_mode & 07777);
    ck_assert_uint_eq(strlen(op), 47);
    ck_assert_msg(strncmp(op, "sov_", 4) == 0, "token does not start with sov_");

    me = tl_call_ok(&sovd, "GET", "/v1/me", op, NULL, 200);
    ck_assert_str_eq(str_at(me, "role"), "operator");
    ck_assert(json_is_true(json_object_get(json_object_get(me, "tenant"), "is_operator")));
    ck_assert_str_eq(str_at(json_object_get(me, "tenant"), "name"), "operator");
    json_decref(me);

    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
    log = tl_sovd_log(&sovd);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "created the operator tenant"));
    /* Neither the token nor its random part, anywhere. */
    ck_assert_msg(!strstr(log, op + 4), "the operator token is in sovd's log");
    free(log);
}
END_TEST

START_TEST(second_start_keeps_the_operator_tenant_and_token_file)
{
    char path[600], flag[600];
    struct stat before, after;
    char *text_before, *text_after, *log;
    json_t *me;

    start();
    snprintf(path, sizeof(path), "%s/operator.token", sovd.state);
    ck_assert_int_eq(stat(path, &before), 0);
    text_before = tl_read_file(path);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);

    /* Same database, same state_dir: the later flag wins over tl_sovd_start's own. */
    snprintf(flag, sizeof(flag), "--state-dir=%s", sovd.state);
    const char *args[] = { flag, NULL };
    tl_sovd_start(&again, db, args);

    ck_assert_int_eq(db_count("SELECT count(*) FROM tenants WHERE is_operator"), 1);
    ck_assert_int_eq(db_count("SELECT count(*) FROM tenants"), 1);
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE role = 'operator'"), 1);
    ck_assert_int_eq(db_count("SELECT count(*) FROM tokens"), 1);

    ck_assert_int_eq(stat(path, &after), 0);
    text_after = tl_read_file(path);
    ck_assert_str_eq(text_after, text_before);
    ck_assert_msg(after.st_ino == before.st_ino &&
                  after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
                  after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
                  "the operator token file was rewritten");
    ck_assert_int_eq(after.st_mode & 07777, 0600);

    /* The first token still works on the second process. */
    me = tl_call_ok(&again, "GET", "/v1/me", op, NULL, 200);
    ck_assert_str_eq(str_at(me, "role"), "operator");
    json_decref(me);

    ck_assert_int_eq(tl_sovd_stop(&again, SIGTERM, 20), 0);
    log = tl_sovd_log(&again);
    ck_assert_ptr_null(strstr(log, "created the operator tenant"));
    ck_assert_msg(!strstr(log, op + 4), "the operator token is in sovd's log");
    free(log);
    free(text_before);
    free(text_after);
}
END_TEST

/* ---- tenants ---- */

START_TEST(tenant_is_created_with_a_default_workspace)
{
    tl_resp r;
    char *loc, path[256], want[128];
    json_t *j;

    start();
    tl_call(&sovd, "POST", "/v1/tenants", op,
            "{\"name\":\"acme\",\"display_name\":\"Acme Industries GmbH\"}", &r);
    ck_assert_msg(r.status == 201, "expected 201, got %ld: %s", r.status, r.body);
    ck_assert_str_eq(str_at(r.json, "name"), "acme");
    ck_assert_str_eq(str_at(r.json, "display_name"), "Acme Industries GmbH");
    ck_assert(json_is_false(json_object_get(r.json, "is_operator")));
    ck_assert_uint_eq(strlen(str_at(r.json, "id")), 36);
    snprintf(want, sizeof(want), "/v1/tenants/%s", str_at(r.json, "id"));
    loc = tl_resp_header(&r, "Location");
    ck_assert_msg(ends_with(loc, want), "Location %s, expected %s", loc ? loc : "(none)", want);
    free(loc);
    tl_resp_free(&r);

    j = tl_call_ok(&sovd, "GET", want, op, NULL, 200);
    ck_assert_str_eq(str_at(j, "name"), "acme");
    json_decref(j);

    snprintf(path, sizeof(path), "%s/workspaces/default", want);
    j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_str_eq(str_at(j, "name"), "default");
    json_decref(j);
    snprintf(path, sizeof(path), "%s/workspaces", want);
    j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
}
END_TEST

START_TEST(tenant_admin_renames_it_and_the_operator_deletes_it)
{
    tl_tenant t, other;
    char path[128];
    json_t *j;

    start();
    tl_tenant_make(&sovd, op, "rename-me", &t);
    tl_tenant_make(&sovd, op, "bystander", &other);
    snprintf(path, sizeof(path), "/v1/tenants/%s", t.id);

    j = tl_call_ok(&sovd, "PATCH", path, t.token[TL_ADMIN],
                   "{\"name\":\"renamed\",\"display_name\":\"Renamed Ltd\"}", 200);
    ck_assert_str_eq(str_at(j, "name"), "renamed");
    ck_assert_str_eq(str_at(j, "display_name"), "Renamed Ltd");
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", path, t.token[TL_READER], NULL, 200);
    ck_assert_str_eq(str_at(j, "name"), "renamed");
    json_decref(j);

    /* A member may not; another tenant's admin does not even see it. */
    expect_problem("PATCH", path, t.token[TL_MEMBER], "{\"name\":\"nope\"}", 403,
                   "/problems/forbidden");
    expect_problem("PATCH", path, other.token[TL_ADMIN], "{\"name\":\"nope\"}", 404,
                   "/problems/not-found");

    /* Names are taken globally, by creation or by rename. */
    expect_problem("POST", "/v1/tenants", op, "{\"name\":\"renamed\"}", 409,
                   "/problems/conflict");
    expect_problem("PATCH", path, t.token[TL_ADMIN], "{\"name\":\"bystander\"}", 409,
                   "/problems/conflict");
    expect_problem("PATCH", path, t.token[TL_ADMIN], "{\"name\":\"operator\"}", 409,
                   "/problems/conflict");

    ck_assert_int_eq(status_of("DELETE", path, op, NULL), 204);
    expect_problem("GET", path, op, NULL, 404, "/problems/not-found");
    expect_problem("DELETE", path, op, NULL, 404, "/problems/not-found");
    ck_assert_int_eq(db_count("SELECT count(*) FROM tenants WHERE name = 'renamed'"), 0);
}
END_TEST

START_TEST(tenant_list_pages_with_next_until_null)
{
    const char *want[] = { "operator", "page-a", "page-b", "page-c" };
    char id[40], path[1024];
    tl_tenant t;
    size_t seen = 0;
    int pages = 0;

    start();
    make_tenant("page-c", id);
    make_tenant("page-a", id);
    tl_tenant_make(&sovd, op, "page-b", &t);

    snprintf(path, sizeof(path), "/v1/tenants?limit=1");
    for (;;) {
        json_t *j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
        json_t *items = json_object_get(j, "items"), *next = json_object_get(j, "next");

        ck_assert_msg(++pages <= 10, "pagination does not end");
        ck_assert_uint_le(json_array_size(items), 1);
        for (size_t i = 0; i < json_array_size(items); i++) {
            ck_assert_uint_lt(seen, 4);
            ck_assert_str_eq(str_at(json_array_get(items, i), "name"), want[seen]);
            seen++;
        }
        ck_assert_msg(next && (json_is_null(next) || json_is_string(next)),
                      "next is missing or neither a link nor null");
        if (json_is_null(next)) {
            json_decref(j);
            break;
        }
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        json_decref(j);
    }
    ck_assert_uint_eq(seen, 4);

    /* All of them in one page, and no tenant lists tenants. */
    json_t *all = tl_call_ok(&sovd, "GET", "/v1/tenants", op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(all, "items")), 4);
    ck_assert(json_is_null(json_object_get(all, "next")));
    json_decref(all);
    expect_problem("GET", "/v1/tenants", t.token[TL_ADMIN], NULL, 403, "/problems/forbidden");
}
END_TEST

START_TEST(tenant_bad_input_is_400_naming_the_field_and_writes_nothing)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{}", "name" },
        { "{\"display_name\":\"No Name\"}", "name" },
        { "{\"name\":\"\"}", "name" },
        { "{\"name\":\"Acme\"}", "name" },
        { "{\"name\":\"with space\"}", "name" },
        { "{\"name\":\"-leading-dash\"}", "name" },
        { "{\"name\":\"trailing-dash-\"}", "name" },
        { "{\"name\":\"0bd77627-3883-42bb-8c6f-e3a2e3f22d7d\"}", "name" },
        { "{\"name\":\"x'; DROP TABLE tenants; --\"}", "name" },
        { "{\"name\":\"robert'); DELETE FROM users; --\"}", "name" },
        { "{\"name\":\"ok\",\"colour\":\"red\"}", "colour" },
        { "{\"name\":5}", "name" },
        { "{\"name\":null}", "name" },
        { "{\"name\":[\"a\"]}", "name" },
        { "{\"name\":\"ok\",\"display_name\":\"bell\\u0007here\"}", "display_name" },
        { "{\"name\":\"ok\",\"display_name\":\"line\\nbreak\"}", "display_name" },
        { "{\"name\":\"ok\",\"display_name\":7}", "display_name" },
    };
    char name64[80], name63[80], body[160], id[40];
    long tenants, users;

    start();
    tenants = db_count("SELECT count(*) FROM tenants");
    users = db_count("SELECT count(*) FROM users");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid("POST", "/v1/tenants", op, bad[i].body, bad[i].field);

    memset(name64, 'a', 64);
    name64[64] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name64);
    expect_invalid("POST", "/v1/tenants", op, body, "name");

    expect_problem("POST", "/v1/tenants", op, "{\"name\":", 400, "/problems/malformed-json");
    expect_problem("POST", "/v1/tenants", op, "{\"name\":\"a\",}", 400,
                   "/problems/malformed-json");
    expect_problem("POST", "/v1/tenants", op, "[\"name\"]", 400, "/problems/malformed-json");

    /* Nothing was written, and the tables are all still there. */
    ck_assert_int_eq(db_count("SELECT count(*) FROM tenants"), tenants);
    ck_assert_int_eq(db_count("SELECT count(*) FROM users"), users);
    ck_assert_int_eq(db_count("SELECT count(*) FROM workspaces"), tenants);

    /* The same rules on rename. */
    make_tenant("bad-input", id);
    snprintf(body, sizeof(body), "/v1/tenants/%s", id);
    expect_invalid("PATCH", body, op, "{\"name\":\"Bad Input\"}", "name");
    expect_invalid("PATCH", body, op, "{\"colour\":\"red\"}", "colour");

    /* 63 characters is the most a name may have. */
    memset(name63, 'b', 63);
    name63[63] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name63);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/tenants", op, body, 201));
}
END_TEST

START_TEST(operator_tenant_cannot_be_deleted)
{
    json_t *me;
    char path[128];

    start();
    me = tl_call_ok(&sovd, "GET", "/v1/me", op, NULL, 200);
    snprintf(path, sizeof(path), "/v1/tenants/%s", str_at(json_object_get(me, "tenant"), "id"));
    json_decref(me);
    expect_problem("DELETE", path, op, NULL, 409, "/problems/conflict");
    json_decref(tl_call_ok(&sovd, "GET", path, op, NULL, 200));
    ck_assert_int_eq(db_count("SELECT count(*) FROM tenants WHERE is_operator"), 1);
}
END_TEST

START_TEST(tenant_holding_resources_cannot_be_deleted)
{
    char id[40], path[128], sql[256];
    tl_resp r;

    start();
    make_tenant("holder", id);
    snprintf(path, sizeof(path), "/v1/tenants/%s", id);
    snprintf(sql, sizeof(sql),
             "UPDATE quotas SET used = 2 WHERE tenant_id = '%s' AND resource = 'instances'", id);
    free(tl_db_exec(db, sql));

    tl_call(&sovd, "DELETE", path, op, NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(str_at(r.json, "detail"), "2 instances"), "detail: %s", r.body);
    tl_resp_free(&r);
    json_decref(tl_call_ok(&sovd, "GET", path, op, NULL, 200));

    snprintf(sql, sizeof(sql),
             "UPDATE quotas SET used = 0 WHERE tenant_id = '%s' AND resource = 'instances'", id);
    free(tl_db_exec(db, sql));
    ck_assert_int_eq(status_of("DELETE", path, op, NULL), 204);
    expect_problem("GET", path, op, NULL, 404, "/problems/not-found");
}
END_TEST

/* A live image in a workspace keeps it (and its tenant), named in blocked_by; a deleted one
 * does not, and stays as a row. Deleting the tenant takes its users and tokens along. */
START_TEST(workspace_and_tenant_are_kept_only_by_live_resources)
{
    tl_tenant t;
    char path[192], sql[512], *image;
    json_t *b;
    tl_resp r;

    start();
    tl_tenant_make(&sovd, op, "keeper", &t);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", t.id);
    json_decref(tl_call_ok(&sovd, "POST", path, t.token[TL_ADMIN], "{\"name\":\"ws\"}", 201));
    free(tl_db_exec(db, "INSERT INTO regions (code, name, country, jurisdiction, datacenter)"
                        " VALUES ('fr-keep-1', 'Keep', 'FR', 'EU', 'dc')"));
    snprintf(sql, sizeof(sql), "INSERT INTO images (tenant_id, workspace, name, region, format,"
             " state) VALUES ('%s', 'ws', 'disk', 'fr-keep-1', 'raw', 'active') RETURNING id",
             t.id);
    image = tl_db_exec(db, sql);

    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces/ws", t.id);
    tl_call(&sovd, "DELETE", path, t.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    b = json_array_get(json_object_get(r.json, "blocked_by"), 0);
    ck_assert_msg(b && strcmp(str_at(b, "kind"), "image") == 0 &&
                      strcmp(str_at(b, "name"), "disk") == 0 &&
                      strcmp(str_at(b, "id"), image) == 0,
                  "blocked_by does not name the image: %s", r.body);
    ck_assert_msg(strstr(str_at(r.json, "detail"), "image 'disk'"), "%s", r.body);
    tl_resp_free(&r);
    snprintf(sql, sizeof(sql), "/v1/tenants/%s", t.id);
    tl_call(&sovd, "DELETE", sql, op, NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(json_array_size(json_object_get(r.json, "blocked_by")) == 1, "%s", r.body);
    tl_resp_free(&r);

    snprintf(sql, sizeof(sql), "UPDATE images SET state = 'deleted' WHERE id = '%s'", image);
    free(tl_db_exec(db, sql));
    ck_assert_int_eq(status_of("DELETE", path, t.token[TL_ADMIN], NULL), 204);
    /* The deleted image is still its tenant's history, in no workspace now. */
    snprintf(sql, sizeof(sql), "/v1/images/%s", image);
    json_t *j = tl_call_ok(&sovd, "GET", sql, t.token[TL_ADMIN], NULL, 200);
    ck_assert_str_eq(str_at(j, "state"), "deleted");
    ck_assert_str_eq(str_at(j, "tenant_id"), t.id);
    ck_assert(json_is_null(json_object_get(j, "workspace")));
    json_decref(j);
    snprintf(sql, sizeof(sql), "/v1/tenants/%s", t.id);
    ck_assert_int_eq(status_of("DELETE", sql, op, NULL), 204);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM images WHERE id = '%s' AND"
             " tenant_id IS NULL AND workspace IS NULL", image);
    ck_assert_int_eq(db_count(sql), 1);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM users WHERE tenant_id = '%s'", t.id);
    ck_assert_int_eq(db_count(sql), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE tenant_id = '%s'", t.id);
    ck_assert_int_eq(db_count(sql), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE tenant_id = '%s'", t.id);
    ck_assert_int_gt(db_count(sql), 0);
    free(image);
}
END_TEST

/* ---- workspaces ---- */

START_TEST(workspace_is_created_read_listed_updated_and_deleted)
{
    tl_tenant t;
    tl_resp r;
    char base[128], path[192], *loc;
    json_t *j, *items;

    start();
    tl_tenant_make(&sovd, op, "ws-life", &t);
    snprintf(base, sizeof(base), "/v1/tenants/%s/workspaces", t.id);
    snprintf(path, sizeof(path), "%s/web", base);

    tl_call(&sovd, "POST", base, t.token[TL_ADMIN],
            "{\"name\":\"web\",\"description\":\"front end\"}", &r);
    ck_assert_msg(r.status == 201, "expected 201, got %ld: %s", r.status, r.body);
    ck_assert_str_eq(str_at(r.json, "name"), "web");
    ck_assert_str_eq(str_at(r.json, "tenant_id"), t.id);
    loc = tl_resp_header(&r, "Location");
    ck_assert_msg(ends_with(loc, path), "Location %s", loc ? loc : "(none)");
    free(loc);
    tl_resp_free(&r);

    j = tl_call_ok(&sovd, "GET", path, t.token[TL_READER], NULL, 200);
    ck_assert_str_eq(str_at(j, "description"), "front end");
    json_decref(j);

    j = tl_call_ok(&sovd, "GET", base, t.token[TL_MEMBER], NULL, 200);
    items = json_object_get(j, "items");
    ck_assert_uint_eq(json_array_size(items), 2);
    ck_assert_str_eq(str_at(json_array_get(items, 0), "name"), "default");
    ck_assert_str_eq(str_at(json_array_get(items, 1), "name"), "web");
    json_decref(j);

    j = tl_call_ok(&sovd, "PATCH", path, t.token[TL_ADMIN], "{\"description\":\"the shop\"}",
                   200);
    ck_assert_str_eq(str_at(j, "description"), "the shop");
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", path, t.token[TL_ADMIN], NULL, 200);
    ck_assert_str_eq(str_at(j, "description"), "the shop");
    json_decref(j);

    expect_problem("POST", base, t.token[TL_ADMIN], "{\"name\":\"web\"}", 409,
                   "/problems/conflict");
    expect_invalid("POST", base, t.token[TL_ADMIN], "{\"name\":\"Web Shop\"}", "name");
    expect_invalid("PATCH", path, t.token[TL_ADMIN], "{\"name\":\"renamed\"}", "name");
    expect_problem("POST", base, t.token[TL_READER], "{\"name\":\"nope\"}", 403,
                   "/problems/forbidden");

    ck_assert_int_eq(status_of("DELETE", path, t.token[TL_ADMIN], NULL), 204);
    expect_problem("GET", path, t.token[TL_ADMIN], NULL, 404, "/problems/not-found");
    expect_problem("DELETE", path, t.token[TL_ADMIN], NULL, 404, "/problems/not-found");
}
END_TEST

START_TEST(default_workspace_cannot_be_deleted)
{
    tl_tenant t;
    char path[192];

    start();
    tl_tenant_make(&sovd, op, "ws-default", &t);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces/default", t.id);
    expect_problem("DELETE", path, t.token[TL_ADMIN], NULL, 409, "/problems/conflict");
    expect_problem("DELETE", path, op, NULL, 409, "/problems/conflict");
    json_decref(tl_call_ok(&sovd, "GET", path, t.token[TL_ADMIN], NULL, 200));
}
END_TEST

START_TEST(workspace_name_is_unique_per_tenant_only)
{
    char a[40], b[40], path_a[128], path_b[128], get[192];
    json_t *j;

    start();
    make_tenant("ws-one", a);
    make_tenant("ws-two", b);
    snprintf(path_a, sizeof(path_a), "/v1/tenants/%s/workspaces", a);
    snprintf(path_b, sizeof(path_b), "/v1/tenants/%s/workspaces", b);

    json_decref(tl_call_ok(&sovd, "POST", path_a, op, "{\"name\":\"shared\"}", 201));
    json_decref(tl_call_ok(&sovd, "POST", path_b, op, "{\"name\":\"shared\"}", 201));
    expect_problem("POST", path_a, op, "{\"name\":\"shared\"}", 409, "/problems/conflict");

    snprintf(get, sizeof(get), "%s/shared", path_b);
    j = tl_call_ok(&sovd, "GET", get, op, NULL, 200);
    ck_assert_str_eq(str_at(j, "tenant_id"), b);
    json_decref(j);
    /* Deleting one leaves the other. */
    snprintf(get, sizeof(get), "%s/shared", path_a);
    ck_assert_int_eq(status_of("DELETE", get, op, NULL), 204);
    snprintf(get, sizeof(get), "%s/shared", path_b);
    json_decref(tl_call_ok(&sovd, "GET", get, op, NULL, 200));
}
END_TEST

/* ---- users ---- */

START_TEST(user_is_created_with_each_role)
{
    static const char *roles[] = { "admin", "member", "reader", "auditor" };
    char tenant[40], path[128], body[256], want[256];
    tl_resp r;
    json_t *j;

    start();
    make_tenant("roles-co", tenant);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", tenant);
    for (size_t i = 0; i < 4; i++) {
        char *loc, secret[64];
        json_t *me;

        snprintf(body, sizeof(body),
                 "{\"name\":\"Ada %s\",\"email\":\"%s@roles-co.example.eu\",\"role\":\"%s\"}",
                 roles[i], roles[i], roles[i]);
        tl_call(&sovd, "POST", path, op, body, &r);
        ck_assert_msg(r.status == 201, "%s: expected 201, got %ld: %s", roles[i], r.status,
                      r.body);
        ck_assert_str_eq(str_at(r.json, "role"), roles[i]);
        ck_assert_str_eq(str_at(r.json, "tenant_id"), tenant);
        snprintf(want, sizeof(want), "%s/%s", path, str_at(r.json, "id"));
        loc = tl_resp_header(&r, "Location");
        ck_assert_msg(ends_with(loc, want), "Location %s", loc ? loc : "(none)");
        free(loc);

        j = tl_call_ok(&sovd, "GET", want, op, NULL, 200);
        ck_assert_str_eq(str_at(j, "role"), roles[i]);
        ck_assert_str_eq(str_at(j, "name"), str_at(r.json, "name"));
        json_decref(j);

        /* And the role is what its token carries. */
        make_token(op, str_at(r.json, "id"), NULL, secret, NULL);
        me = tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200);
        ck_assert_str_eq(str_at(me, "role"), roles[i]);
        json_decref(me);
        tl_resp_free(&r);
    }
    j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 4);
    json_decref(j);
}
END_TEST

START_TEST(user_email_is_unique_per_tenant)
{
    char a[40], b[40], path_a[128], path_b[128], id[40], upath[192];

    start();
    make_tenant("mail-a", a);
    make_tenant("mail-b", b);
    snprintf(path_a, sizeof(path_a), "/v1/tenants/%s/users", a);
    snprintf(path_b, sizeof(path_b), "/v1/tenants/%s/users", b);

    make_user(op, a, "ada@example.eu", "member", id);
    expect_problem("POST", path_a, op,
                   "{\"name\":\"Ada Two\",\"email\":\"ada@example.eu\",\"role\":\"reader\"}", 409,
                   "/problems/conflict");
    expect_problem("POST", path_a, op,
                   "{\"name\":\"Ada Three\",\"email\":\"ADA@Example.EU\",\"role\":\"reader\"}",
                   409, "/problems/conflict");
    /* Another tenant may have the same address. */
    json_decref(tl_call_ok(&sovd, "POST", path_b, op,
                           "{\"name\":\"Ada\",\"email\":\"ada@example.eu\",\"role\":\"admin\"}",
                           201));
    /* Nor may a change of address take one. */
    make_user(op, a, "bob@example.eu", "reader", id);
    snprintf(upath, sizeof(upath), "%s/%s", path_a, id);
    expect_problem("PATCH", upath, op, "{\"email\":\"ada@example.eu\"}", 409,
                   "/problems/conflict");
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE lower(email) = "
                              "'ada@example.eu'"),
                     2);
}
END_TEST

START_TEST(user_bad_input_is_400_naming_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{\"name\":\"A\",\"email\":\"not-an-email\",\"role\":\"member\"}", "email" },
        { "{\"name\":\"A\",\"email\":\"a@b\",\"role\":\"member\"}", "email" },
        { "{\"name\":\"A\",\"email\":\"@example.eu\",\"role\":\"member\"}", "email" },
        { "{\"name\":\"A\",\"email\":\"a b@example.eu\",\"role\":\"member\"}", "email" },
        { "{\"name\":\"A\",\"email\":\"\",\"role\":\"member\"}", "email" },
        { "{\"name\":\"A\",\"email\":\"a@example.eu\",\"role\":\"operator\"}", "role" },
        { "{\"name\":\"A\",\"email\":\"a@example.eu\",\"role\":\"root\"}", "role" },
        { "{\"name\":\"A\",\"email\":\"a@example.eu\",\"role\":\"Admin\"}", "role" },
        { "{\"name\":\"A\",\"email\":\"a@example.eu\"}", "role" },
        { "{\"name\":\"\",\"email\":\"a@example.eu\",\"role\":\"member\"}", "name" },
        { "{\"email\":\"a@example.eu\",\"role\":\"member\"}", "name" },
        { "{\"name\":\"A\",\"email\":\"a@example.eu\",\"role\":\"member\",\"admin\":true}",
          "admin" },
    };
    char tenant[40], path[128], id[40], upath[192];

    start();
    make_tenant("bad-users", tenant);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", tenant);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid("POST", path, op, bad[i].body, bad[i].field);
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE email = 'a@example.eu'"), 0);

    make_user(op, tenant, "c@example.eu", "member", id);
    snprintf(upath, sizeof(upath), "%s/%s", path, id);
    expect_invalid("PATCH", upath, op, "{\"role\":\"operator\"}", "role");
    expect_invalid("PATCH", upath, op, "{\"role\":\"boss\"}", "role");
    expect_invalid("PATCH", upath, op, "{\"email\":\"nobody\"}", "email");
}
END_TEST

START_TEST(only_an_operator_grants_operator)
{
    tl_tenant o;
    char path[128], upath[192], id[40], secret[64];
    json_t *me;

    start();
    tl_operator_tenant(&sovd, &o);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", o.id);

    expect_problem("POST", path, o.token[TL_ADMIN],
                   "{\"name\":\"Eve\",\"email\":\"eve@example.eu\",\"role\":\"operator\"}", 403,
                   "/problems/forbidden");
    snprintf(upath, sizeof(upath), "%s/%s", path, o.user_id[TL_MEMBER]);
    expect_problem("PATCH", upath, o.token[TL_ADMIN], "{\"role\":\"operator\"}", 403,
                   "/problems/forbidden");
    snprintf(upath, sizeof(upath), "%s/%s", path, o.user_id[TL_ADMIN]);
    expect_problem("PATCH", upath, o.token[TL_ADMIN], "{\"role\":\"operator\"}", 403,
                   "/problems/forbidden");
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE role = 'operator'"), 1);

    /* An operator may, and the new operator's token carries the role. */
    make_user(o.token[TL_OPERATOR], o.id, "second-op@example.eu", "operator", id);
    make_token(o.token[TL_OPERATOR], id, NULL, secret, NULL);
    me = tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200);
    ck_assert_str_eq(str_at(me, "role"), "operator");
    json_decref(me);
}
END_TEST

START_TEST(user_role_is_changed_with_patch)
{
    tl_tenant t;
    char path[192], admin[192], users[128];
    json_t *j;

    start();
    tl_tenant_make(&sovd, op, "promote", &t);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users/%s", t.id, t.user_id[TL_MEMBER]);
    snprintf(admin, sizeof(admin), "/v1/tenants/%s/users/%s", t.id, t.user_id[TL_ADMIN]);
    snprintf(users, sizeof(users), "/v1/tenants/%s/users", t.id);

    j = tl_call_ok(&sovd, "PATCH", path, t.token[TL_ADMIN], "{\"role\":\"reader\"}", 200);
    ck_assert_str_eq(str_at(j, "role"), "reader");
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", path, t.token[TL_ADMIN], NULL, 200);
    ck_assert_str_eq(str_at(j, "role"), "reader");
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_MEMBER], NULL, 200);
    ck_assert_str_eq(str_at(j, "role"), "reader");
    json_decref(j);

    /* The new role is what the token may do from the next request on: an admin made member
     * no longer lists users, made admin again it does. */
    json_decref(tl_call_ok(&sovd, "GET", users, t.token[TL_ADMIN], NULL, 200));
    json_decref(tl_call_ok(&sovd, "PATCH", admin, op, "{\"role\":\"member\"}", 200));
    expect_problem("GET", users, t.token[TL_ADMIN], NULL, 403, "/problems/forbidden");
    json_decref(tl_call_ok(&sovd, "PATCH", admin, op, "{\"role\":\"admin\"}", 200));
    json_decref(tl_call_ok(&sovd, "GET", users, t.token[TL_ADMIN], NULL, 200));
}
END_TEST

START_TEST(last_operator_cannot_be_deleted_or_demoted)
{
    tl_tenant o;
    char self[192], path[192], id[40];

    start();
    tl_operator_tenant(&sovd, &o);
    snprintf(self, sizeof(self), "/v1/tenants/%s/users/%s", o.id, o.user_id[TL_OPERATOR]);

    expect_problem("DELETE", self, op, NULL, 409, "/problems/conflict");
    expect_problem("PATCH", self, op, "{\"role\":\"admin\"}", 409, "/problems/conflict");
    json_decref(tl_call_ok(&sovd, "PATCH", self, op, "{\"role\":\"operator\"}", 200));
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE role = 'operator'"), 1);

    /* With a second operator, either may go (but not by an admin's hand); then the rule
     * holds again. */
    make_user(op, o.id, "op-two@example.eu", "operator", id);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users/%s", o.id, id);
    expect_problem("DELETE", path, o.token[TL_ADMIN], NULL, 403, "/problems/forbidden");
    expect_problem("PATCH", path, o.token[TL_ADMIN], "{\"role\":\"admin\"}", 403,
                   "/problems/forbidden");
    json_decref(tl_call_ok(&sovd, "PATCH", path, op, "{\"role\":\"admin\"}", 200));
    expect_problem("PATCH", self, op, "{\"role\":\"member\"}", 409, "/problems/conflict");
    json_decref(tl_call_ok(&sovd, "PATCH", path, op, "{\"role\":\"operator\"}", 200));
    ck_assert_int_eq(status_of("DELETE", path, op, NULL), 204);
    expect_problem("DELETE", self, op, NULL, 409, "/problems/conflict");
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", op, NULL, 200));
}
END_TEST

START_TEST(deleting_a_user_erases_it_and_stops_its_tokens_at_once)
{
    tl_tenant t;
    char path[192], sql[256], secret[64];
    json_t *j;

    start();
    tl_tenant_make(&sovd, op, "erase", &t);
    make_token(t.token[TL_MEMBER], NULL, NULL, secret, NULL);
    /* Used, and so cached, before it goes. */
    for (int i = 0; i < 3; i++) {
        json_decref(tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_MEMBER], NULL, 200));
        json_decref(tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200));
    }

    snprintf(path, sizeof(path), "/v1/tenants/%s/users/%s", t.id, t.user_id[TL_MEMBER]);
    ck_assert_int_eq(status_of("DELETE", path, t.token[TL_ADMIN], NULL), 204);
    expect_me_401(t.token[TL_MEMBER], "token of a deleted user");
    expect_me_401(secret, "second token of a deleted user");

    ck_assert_int_eq(db_count("SELECT count(*) FROM users "
                              "WHERE email = 'member@erase.example.eu'"),
                     0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM users WHERE name = 'member erase'"), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE user_id = '%s'",
             t.user_id[TL_MEMBER]);
    ck_assert_int_eq(db_count(sql), 0);
    expect_problem("GET", path, t.token[TL_ADMIN], NULL, 404, "/problems/not-found");
    expect_problem("DELETE", path, t.token[TL_ADMIN], NULL, 404, "/problems/not-found");

    /* The others are untouched. */
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", t.id);
    j = tl_call_ok(&sovd, "GET", path, t.token[TL_ADMIN], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 3);
    json_decref(j);
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_READER], NULL, 200));
}
END_TEST

/* ---- tokens ---- */

START_TEST(token_secret_is_answered_once_with_a_hint)
{
    tl_tenant t;
    tl_resp r;
    char secret[64], id[40], hint[32];
    json_t *j, *items, *me;
    bool listed = false;

    start();
    tl_tenant_make(&sovd, op, "tok-once", &t);
    j = tl_call_ok(&sovd, "POST", "/v1/tokens", t.token[TL_MEMBER], "{\"name\":\"laptop\"}",
                   201);
    ck_assert_ptr_nonnull(str_at(j, "secret"));
    snprintf(secret, sizeof(secret), "%s", str_at(j, "secret"));
    snprintf(id, sizeof(id), "%s", str_at(j, "id"));
    snprintf(hint, sizeof(hint), "%s", str_at(j, "hint") ? str_at(j, "hint") : "");
    ck_assert_uint_eq(strlen(secret), 47);
    ck_assert_msg(strncmp(secret, "sov_", 4) == 0, "secret %.8s... lacks sov_", secret);
    ck_assert_uint_eq(strspn(secret + 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_"),
                      43);
    ck_assert_msg(strlen(hint) > 4 && strlen(hint) < 20 && strncmp(secret, hint,
                                                                   strlen(hint)) == 0,
                  "hint '%s' is not a short prefix of the secret", hint);
    ck_assert_str_eq(str_at(j, "user_id"), t.user_id[TL_MEMBER]);
    ck_assert_str_eq(str_at(j, "tenant_id"), t.id);
    ck_assert_str_eq(str_at(j, "name"), "laptop");
    expect_expiry_in_days(j, 90);
    json_decref(j);

    me = tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200);
    ck_assert_str_eq(str_at(json_object_get(me, "token"), "id"), id);
    json_decref(me);

    /* Listed, with its hint, never with its secret. */
    tl_call(&sovd, "GET", "/v1/tokens", t.token[TL_MEMBER], NULL, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(!strstr(r.body, secret + 4), "the list shows a secret");
    items = json_object_get(r.json, "items");
    ck_assert_uint_eq(json_array_size(items), 2);
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        ck_assert_ptr_null(json_object_get(it, "secret"));
        if (strcmp(str_at(it, "id"), id) == 0) {
            ck_assert_str_eq(str_at(it, "hint"), hint);
            ck_assert_str_eq(str_at(it, "name"), "laptop");
            listed = true;
        }
    }
    ck_assert_msg(listed, "the new token is not listed: %s", r.body);
    tl_resp_free(&r);

    /* Another token is another secret. */
    j = tl_call_ok(&sovd, "POST", "/v1/tokens", t.token[TL_MEMBER], "{\"name\":\"phone\"}", 201);
    ck_assert_str_ne(str_at(j, "secret"), secret);
    json_decref(j);
    expect_invalid("POST", "/v1/tokens", t.token[TL_MEMBER], "{}", "name");
    expect_invalid("POST", "/v1/tokens", t.token[TL_MEMBER], "{\"name\":\"x\",\"scope\":\"all\"}",
                   "scope");
}
END_TEST

START_TEST(token_for_another_user_needs_its_admin_or_an_operator)
{
    tl_tenant a, b;
    char body[256], secret[64], path[192];
    json_t *j, *me;

    start();
    tl_tenant_make(&sovd, op, "tok-a", &a);
    tl_tenant_make(&sovd, op, "tok-b", &b);

    /* The tenant's admin may. */
    snprintf(body, sizeof(body), "{\"name\":\"ci\",\"user_id\":\"%s\"}", a.user_id[TL_MEMBER]);
    j = tl_call_ok(&sovd, "POST", "/v1/tokens", a.token[TL_ADMIN], body, 201);
    ck_assert_str_eq(str_at(j, "user_id"), a.user_id[TL_MEMBER]);
    snprintf(secret, sizeof(secret), "%s", str_at(j, "secret"));
    json_decref(j);
    me = tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200);
    ck_assert_str_eq(str_at(json_object_get(me, "user"), "id"), a.user_id[TL_MEMBER]);
    ck_assert_str_eq(str_at(me, "role"), "member");
    json_decref(me);

    /* A member may not, even in its own tenant. */
    snprintf(body, sizeof(body), "{\"name\":\"ci\",\"user_id\":\"%s\"}", a.user_id[TL_READER]);
    expect_problem("POST", "/v1/tokens", a.token[TL_MEMBER], body, 403, "/problems/forbidden");
    /* Nobody but an operator reaches another tenant's user. */
    snprintf(body, sizeof(body), "{\"name\":\"ci\",\"user_id\":\"%s\"}", a.user_id[TL_MEMBER]);
    expect_problem("POST", "/v1/tokens", b.token[TL_ADMIN], body, 404, "/problems/not-found");
    expect_problem("POST", "/v1/tokens", b.token[TL_MEMBER], body, 404, "/problems/not-found");
    j = tl_call_ok(&sovd, "POST", "/v1/tokens", op, body, 201);
    ck_assert_str_eq(str_at(j, "user_id"), a.user_id[TL_MEMBER]);
    json_decref(j);
    /* Unknown and malformed ids do not exist. */
    expect_problem("POST", "/v1/tokens", op,
                   "{\"name\":\"ci\",\"user_id\":\"00000000-0000-0000-0000-000000000000\"}", 404,
                   "/problems/not-found");
    expect_problem("POST", "/v1/tokens", a.token[TL_ADMIN],
                   "{\"name\":\"ci\",\"user_id\":\"x' OR '1'='1\"}", 404, "/problems/not-found");

    /* The same rules for listing them. */
    snprintf(path, sizeof(path), "/v1/tokens?user_id=%s", a.user_id[TL_MEMBER]);
    j = tl_call_ok(&sovd, "GET", path, a.token[TL_ADMIN], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 3);
    json_decref(j);
    expect_problem("GET", path, a.token[TL_READER], NULL, 403, "/problems/forbidden");
    expect_problem("GET", path, b.token[TL_ADMIN], NULL, 404, "/problems/not-found");
}
END_TEST

START_TEST(revoked_token_answers_401_at_once)
{
    tl_tenant t, other;
    char secret[64], id[40], keep[64], keep_id[40], path[128];
    tl_resp r;
    json_t *j;

    start();
    tl_tenant_make(&sovd, op, "revoke", &t);
    tl_tenant_make(&sovd, op, "revoke-other", &other);
    make_token(t.token[TL_MEMBER], NULL, NULL, secret, id);
    make_token(t.token[TL_MEMBER], NULL, NULL, keep, keep_id);
    for (int i = 0; i < 3; i++)
        json_decref(tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200));

    /* Only the owner, its admin or an operator may revoke it. */
    snprintf(path, sizeof(path), "/v1/tokens/%s", id);
    expect_problem("DELETE", path, t.token[TL_READER], NULL, 403, "/problems/forbidden");
    expect_problem("DELETE", path, other.token[TL_ADMIN], NULL, 404, "/problems/not-found");
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200));

    ck_assert_int_eq(status_of("DELETE", path, t.token[TL_MEMBER], NULL), 204);
    tl_call(&sovd, "GET", "/v1/me", secret, NULL, &r);
    assert_unauthenticated(&r, "revoked token");
    tl_resp_free(&r);
    expect_problem("DELETE", path, t.token[TL_MEMBER], NULL, 404, "/problems/not-found");

    /* Gone from the list; the owner's other tokens still work. */
    j = tl_call_ok(&sovd, "GET", "/v1/tokens", keep, NULL, 200);
    for (size_t i = 0; i < json_array_size(json_object_get(j, "items")); i++)
        ck_assert_str_ne(str_at(json_array_get(json_object_get(j, "items"), i), "id"), id);
    json_decref(j);

    /* Its admin may revoke it too. */
    snprintf(path, sizeof(path), "/v1/tokens/%s", keep_id);
    ck_assert_int_eq(status_of("DELETE", path, t.token[TL_ADMIN], NULL), 204);
    expect_me_401(keep, "token revoked by the admin");
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_MEMBER], NULL, 200));
}
END_TEST

/* One call on a kept-alive connection (curl: a CURL handle), so that nothing but sovd's
 * own work separates two requests. */
static long
status_on(void *curl, const char *method, const char *path, const char *token)
{
    char url[256], auth[128];
    const char *h[] = { auth, NULL };
    tl_req q = { .method = method, .url = url, .headers = h, .curl = curl };
    tl_resp r;
    long st;

    snprintf(url, sizeof(url), "%s%s", sovd.base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    tl_http(&q, &r);
    st = r.status;
    tl_resp_free(&r);
    return st;
}

typedef struct busy {
    pthread_t thread;
    const char *path, *token;
    atomic_bool stop;
} busy;

/* Keep sovd busy with cached, harmless requests until told to stop. */
static void *
keep_busy(void *arg)
{
    busy *b = arg;
    void *curl = curl_easy_init();

    while (curl && !atomic_load(&b->stop))
        status_on(curl, "GET", b->path, b->token);
    curl_easy_cleanup(curl);
    return NULL;
}

/* The sovd that revokes a token must not answer from its cache a moment later. One
 * revocation can slip through a short window by luck, so fifty in a row, each checked on
 * the same connection right after the 204, on a route that does not read the token again
 * (a stale cache shows as 200 there), while other clients keep sovd busy. */
START_TEST(every_revocation_is_honoured_by_the_next_request)
{
    tl_tenant t;
    char secret[64], id[40], path[128], tenant[128];
    void *curl = curl_easy_init();
    busy load[3];
    int stale = 0;

    ck_assert_ptr_nonnull(curl);
    start();
    tl_tenant_make(&sovd, op, "revoke-many", &t);
    snprintf(tenant, sizeof(tenant), "/v1/tenants/%s", t.id);
    for (size_t i = 0; i < 3; i++) {
        load[i].path = tenant;
        load[i].token = t.token[TL_READER];
        atomic_init(&load[i].stop, false);
        ck_assert_int_eq(pthread_create(&load[i].thread, NULL, keep_busy, &load[i]), 0);
    }
    for (int i = 0; i < 50; i++) {
        make_token(t.token[TL_MEMBER], NULL, NULL, secret, id);
        for (int k = 0; k < 3; k++)
            ck_assert_int_eq(status_on(curl, "GET", tenant, secret), 200);
        snprintf(path, sizeof(path), "/v1/tokens/%s", id);
        ck_assert_int_eq(status_on(curl, "DELETE", path, t.token[TL_MEMBER]), 204);
        if (status_on(curl, "GET", tenant, secret) != 401)
            stale++;
    }
    for (size_t i = 0; i < 3; i++) {
        atomic_store(&load[i].stop, true);
        pthread_join(load[i].thread, NULL);
    }
    curl_easy_cleanup(curl);
    ck_assert_msg(stale == 0, "%d of 50 revoked tokens still worked on the next request", stale);
    expect_me_401(secret, "revoked token");
}
END_TEST

/* Left out, expires_at is the configured default; null (never) is refused unless the
 * operator allows it. */
START_TEST(token_expires_by_default_and_never_only_where_allowed)
{
    tl_tenant t;
    json_t *j;

    start();
    tl_tenant_make(&sovd, op, "ttl", &t);
    j = tl_call_ok(&sovd, "POST", "/v1/tokens", t.token[TL_MEMBER], "{\"name\":\"d\"}", 201);
    expect_expiry_in_days(j, 90);
    json_decref(j);
    expect_invalid("POST", "/v1/tokens", t.token[TL_MEMBER],
                   "{\"name\":\"never\",\"expires_at\":null}", "expires_at");
    expect_invalid("POST", "/v1/tokens", op,
                   "{\"name\":\"never\",\"expires_at\":null}", "expires_at");
    ck_assert_int_eq(db_count("SELECT count(*) FROM tokens WHERE name = 'never'"), 0);
    ck_assert_int_eq(db_count("SELECT count(*) FROM tokens WHERE expires_at IS NULL"), 1);
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);

    /* An operator who allows tokens without expiry, and a shorter default. */
    char flag[600];
    snprintf(flag, sizeof(flag), "--state-dir=%s", sovd.state);
    const char *args[] = { flag, "--token-default-ttl-days=7", "--token-allow-no-expiry=true",
                           NULL };
    tl_sovd_start(&again, db, args);
    j = tl_call_ok(&again, "POST", "/v1/tokens", t.token[TL_MEMBER], "{\"name\":\"w\"}", 201);
    expect_expiry_in_days(j, 7);
    json_decref(j);
    j = tl_call_ok(&again, "POST", "/v1/tokens", t.token[TL_MEMBER],
                   "{\"name\":\"never\",\"expires_at\":null}", 201);
    ck_assert(json_is_null(json_object_get(j, "expires_at")));
    json_decref(j);
}
END_TEST

START_TEST(token_expires_at_its_time)
{
    tl_tenant t;
    char when[40], body[128], secret[64];
    tl_resp r;
    time_t exp;
    json_t *me;

    start();
    tl_tenant_make(&sovd, op, "expiry", &t);
    expect_invalid("POST", "/v1/tokens", t.token[TL_MEMBER],
                   "{\"name\":\"old\",\"expires_at\":\"2020-01-01T00:00:00Z\"}", "expires_at");
    rfc3339(time(NULL) - 5, when, sizeof(when));
    snprintf(body, sizeof(body), "{\"name\":\"old\",\"expires_at\":\"%s\"}", when);
    expect_invalid("POST", "/v1/tokens", t.token[TL_MEMBER], body, "expires_at");
    expect_invalid("POST", "/v1/tokens", t.token[TL_MEMBER],
                   "{\"name\":\"x\",\"expires_at\":\"tomorrow\"}", "expires_at");
    expect_invalid("POST", "/v1/tokens", t.token[TL_MEMBER],
                   "{\"name\":\"x\",\"expires_at\":1893456000}", "expires_at");

    exp = time(NULL) + 2;
    rfc3339(exp, when, sizeof(when));
    make_token(t.token[TL_MEMBER], NULL, when, secret, NULL);
    me = tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200);
    ck_assert_str_eq(str_at(json_object_get(me, "token"), "expires_at"), when);
    json_decref(me);
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200));

    while (time(NULL) < exp + 1)
        usleep(100000);
    tl_call(&sovd, "GET", "/v1/me", secret, NULL, &r);
    assert_unauthenticated(&r, "expired token");
    ck_assert_msg(strstr(str_at(r.json, "detail"), "expired"), "detail: %s", r.body);
    tl_resp_free(&r);
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_MEMBER], NULL, 200));
}
END_TEST

START_TEST(bad_credentials_answer_401_asking_for_a_bearer_token)
{
    static const char *headers[] = {
        NULL,
        "Authorization:",
        "Authorization: Bearer",
        "Authorization: Bearer ",
        "Authorization: bearer",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "Authorization: Bearer sov_short",
        "Authorization: Bearer not-a-sovereign-token-at-all-but-long-enough-47",
    };
    char header[128], forged[48];
    tl_tenant t;
    tl_resp r;

    start();
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        me_with_header(headers[i], &r);
        assert_unauthenticated(&r, headers[i] ? headers[i] : "no Authorization header");
        tl_resp_free(&r);
    }
    /* Well-formed (47 characters) but never issued; then the same length with characters
     * base64url does not have. */
    memcpy(forged, "sov_", 4);
    memset(forged + 4, 'A', 43);
    forged[47] = '\0';
    expect_me_401(forged, "well-formed token never issued");
    forged[30] = '!';
    forged[31] = '\'';
    expect_me_401(forged, "token with characters outside base64url");
    /* The operator token, one character off, or with a suffix. */
    snprintf(header, sizeof(header), "Authorization: Bearer %s", op);
    header[strlen(header) - 1] = header[strlen(header) - 1] == 'A' ? 'B' : 'A';
    me_with_header(header, &r);
    assert_unauthenticated(&r, "token one character off");
    tl_resp_free(&r);
    snprintf(header, sizeof(header), "Authorization: Bearer %sA", op);
    me_with_header(header, &r);
    assert_unauthenticated(&r, "token with a suffix");
    tl_resp_free(&r);
    /* A protected route other than /v1/me says the same. */
    expect_problem("GET", "/v1/tenants", NULL, NULL, 401, "/problems/unauthenticated");

    /* A deleted tenant's tokens, used (and cached) just before. */
    tl_tenant_make(&sovd, op, "doomed", &t);
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_ADMIN], NULL, 200));
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_ADMIN], NULL, 200));
    snprintf(header, sizeof(header), "/v1/tenants/%s", t.id);
    ck_assert_int_eq(status_of("DELETE", header, op, NULL), 204);
    for (int role = TL_ADMIN; role < TL_ROLES; role++)
        expect_me_401(t.token[role], "token of a deleted tenant");
    /* The operator is not affected. */
    json_decref(tl_call_ok(&sovd, "GET", "/v1/me", op, NULL, 200));
}
END_TEST

START_TEST(me_names_user_tenant_role_and_token)
{
    tl_tenant t;
    char when[40], secret[64], id[40], *dump;
    json_t *me, *user, *tenant, *token;

    start();
    tl_tenant_make(&sovd, op, "me-co", &t);
    rfc3339(time(NULL) + 86400, when, sizeof(when));
    make_token(t.token[TL_READER], NULL, when, secret, id);

    me = tl_call_ok(&sovd, "GET", "/v1/me", secret, NULL, 200);
    user = json_object_get(me, "user");
    tenant = json_object_get(me, "tenant");
    token = json_object_get(me, "token");
    ck_assert_str_eq(str_at(user, "id"), t.user_id[TL_READER]);
    ck_assert_str_eq(str_at(user, "name"), "reader me-co");
    ck_assert_str_eq(str_at(user, "email"), "reader@me-co.example.eu");
    ck_assert_str_eq(str_at(tenant, "id"), t.id);
    ck_assert_str_eq(str_at(tenant, "name"), "me-co");
    ck_assert(json_is_false(json_object_get(tenant, "is_operator")));
    ck_assert_str_eq(str_at(me, "role"), "reader");
    ck_assert_str_eq(str_at(token, "id"), id);
    ck_assert_str_eq(str_at(token, "name"), "t");
    ck_assert_str_eq(str_at(token, "expires_at"), when);
    dump = json_dumps(me, 0);
    ck_assert_msg(dump && !strstr(dump, secret + 4), "/v1/me shows the secret");
    free(dump);
    json_decref(me);

    /* A token made without expires_at shows the default one; the bootstrap token, which
     * never expires, says so with null. */
    me = tl_call_ok(&sovd, "GET", "/v1/me", t.token[TL_AUDITOR], NULL, 200);
    ck_assert_str_eq(str_at(me, "role"), "auditor");
    expect_expiry_in_days(json_object_get(me, "token"), 90);
    json_decref(me);
    me = tl_call_ok(&sovd, "GET", "/v1/me", op, NULL, 200);
    ck_assert_msg(json_is_null(json_object_get(json_object_get(me, "token"), "expires_at")),
                  "expires_at of the bootstrap token is not null");
    json_decref(me);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/identity");
    TCase *boot = tcase_create("bootstrap");
    TCase *tenants = tcase_create("tenants");
    TCase *workspaces = tcase_create("workspaces");
    TCase *users = tcase_create("users");
    TCase *tokens = tcase_create("tokens");
    TCase *all[] = { boot, tenants, workspaces, users, tokens };

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 300);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(boot, bootstrap_writes_a_private_operator_token_that_is_never_logged);
    tcase_add_test(boot, second_start_keeps_the_operator_tenant_and_token_file);

    tcase_add_test(tenants, tenant_is_created_with_a_default_workspace);
    tcase_add_test(tenants, tenant_admin_renames_it_and_the_operator_deletes_it);
    tcase_add_test(tenants, tenant_list_pages_with_next_until_null);
    tcase_add_test(tenants, tenant_bad_input_is_400_naming_the_field_and_writes_nothing);
    tcase_add_test(tenants, operator_tenant_cannot_be_deleted);
    tcase_add_test(tenants, tenant_holding_resources_cannot_be_deleted);

    tcase_add_test(workspaces, workspace_is_created_read_listed_updated_and_deleted);
    tcase_add_test(workspaces, default_workspace_cannot_be_deleted);
    tcase_add_test(workspaces, workspace_name_is_unique_per_tenant_only);
    tcase_add_test(workspaces, workspace_and_tenant_are_kept_only_by_live_resources);

    tcase_add_test(users, user_is_created_with_each_role);
    tcase_add_test(users, user_email_is_unique_per_tenant);
    tcase_add_test(users, user_bad_input_is_400_naming_the_field);
    tcase_add_test(users, only_an_operator_grants_operator);
    tcase_add_test(users, user_role_is_changed_with_patch);
    tcase_add_test(users, last_operator_cannot_be_deleted_or_demoted);
    tcase_add_test(users, deleting_a_user_erases_it_and_stops_its_tokens_at_once);

    tcase_add_test(tokens, token_secret_is_answered_once_with_a_hint);
    tcase_add_test(tokens, token_for_another_user_needs_its_admin_or_an_operator);
    tcase_add_test(tokens, revoked_token_answers_401_at_once);
    tcase_add_test(tokens, every_revocation_is_honoured_by_the_next_request);
    tcase_add_test(tokens, token_expires_at_its_time);
    tcase_add_test(tokens, token_expires_by_default_and_never_only_where_allowed);
    tcase_add_test(tokens, bad_credentials_answer_401_asking_for_a_bearer_token);
    tcase_add_test(tokens, me_names_user_tenant_role_and_token);
    return tl_run_suite(s);
}
