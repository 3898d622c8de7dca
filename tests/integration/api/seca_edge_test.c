/* The SECA surface's shared edge through a real sovd on a real PostgreSQL: every refusal on
 * a SECA path in SECA's error form (application/json, type http://secapi.cloud/errors/...,
 * title, status, detail, instance, sources naming the field), with 401, 403, 404 and else
 * 412; {tenant} by name (another tenant's or an unknown one 404 under every provider); the
 * envelope's checks; lists' limit, skipToken and labels; regions and /.wellknown/secapi; the
 * workspace provider's lifecycle with its exact conditions, resourceVersion and
 * if-unmodified-since; and /v1 answering problem+json as before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seca_kit.h"

#define ERR TL_SECA_ERR

static char *db;
static tl_sovd sovd;
static char *op;
static tl_tenant ta, tb;        /* two tenants: "seca-a" and "seca-b" */

/* One sovd for the suite: each test names what it makes after itself. */
static void
setup_once(void)
{
    tl_seca_suite_start(&sovd, &db, &op, "{\"code\":\"fr-seca-1\",\"name\":\"Seca\","
                        "\"country\":\"FR\",\"datacenter\":\"DC 1\",\"zones\":[\"a\",\"b\"]}",
                        "seca-a", &ta, "seca-b", &tb);
}

static void
teardown_once(void)
{
    tl_seca_suite_stop(&sovd, db, op);
}

/* ---- helpers ---- */

#define str_at tl_seca_str

static void
call(const char *method, const char *path, const char *token, const char *body,
     const char *const *headers, tl_resp *r)
{
    tl_call_h(&sovd, method, path, token, body, headers, r);
}

static void
assert_json_ctype(const tl_resp *r)
{
    char *ct = tl_resp_header(r, "Content-Type");

    ck_assert_msg(ct && strcmp(ct, "application/json") == 0, "Content-Type %s: %s",
                  ct ? ct : "(none)", r->body);
    free(ct);
}

#define assert_seca_error tl_seca_assert_error

/* call, then assert_seca_error. */
static void
refused(const char *method, const char *path, const char *token, const char *body,
        const char *const *headers, long status, const char *kind, const char *pointer)
{
    tl_resp r;

    call(method, path, token, body, headers, &r);
    ck_assert_msg(r.status == status, "%s %s %s: expected %ld, got %ld: %s", method, path,
                  body ? body : "", status, r.status, r.body);
    assert_seca_error(&r, path, status, kind, pointer, NULL);
    tl_resp_free(&r);
}

static void
ws_path(char *buf, size_t size, const tl_tenant *t, const char *name)
{
    snprintf(buf, size, "/providers/seca.workspace/v1/tenants/%s/workspaces%s%s", t->name,
             name ? "/" : "", name ? name : "");
}

/* tmpl with "{t}" replaced by tenant. */
static void
tpath(char *buf, size_t size, const char *tmpl, const char *tenant)
{
    const char *at = strstr(tmpl, "{t}");

    snprintf(buf, size, "%.*s%s%s", (int) (at - tmpl), tmpl, tenant, at + 3);
}

/* Whether /v1 knows workspace name of t. */
static bool
v1_workspace_exists(const tl_tenant *t, const char *name)
{
    return tl_db_num(db, "SELECT count(*) FROM workspaces WHERE tenant_id = '%s' AND name = '%s'",
                     t->id, name) == 1;
}

#define conditions_of tl_seca_conditions

static json_t *
md(const json_t *j)
{
    return json_object_get(j, "metadata");
}

/* ---- errors ---- */

START_TEST(no_or_bad_token_is_401_in_seca_form)
{
    static const char *const bad[] = { "Authorization: Bearer sov_nothing", NULL };
    char path[256];
    tl_resp r;

    ws_path(path, sizeof(path), &ta, NULL);
    call("GET", path, NULL, NULL, NULL, &r);
    assert_seca_error(&r, path, 401, "unauthorized", NULL, NULL);
    char *www = tl_resp_header(&r, "WWW-Authenticate");
    ck_assert_msg(www && strncmp(www, "Bearer", 6) == 0, "WWW-Authenticate: %s", www);
    free(www);
    tl_resp_free(&r);
    refused("GET", path, NULL, NULL, bad, 401, "unauthorized", NULL);
    /* Who first: an anonymous caller learns nothing about the path or its body. */
    refused("PUT", "/providers/seca.workspace/v1/tenants/nobody/workspaces/x", NULL, "{", NULL,
            401, "unauthorized", NULL);
    refused("GET", "/providers/seca.region/v1/regions", NULL, NULL, NULL, 401, "unauthorized",
            NULL);
}
END_TEST

START_TEST(another_tenants_or_an_unknown_name_is_404_under_every_provider)
{
    static const char *const lists[] = {
        "/providers/seca.authorization/v1/tenants/{t}/roles",
        "/providers/seca.authorization/v1/tenants/{t}/role-assignments/x",
        "/providers/seca.workspace/v1/tenants/{t}/workspaces",
        "/providers/seca.compute/v1/tenants/{t}/skus",
        "/providers/seca.compute/v1/tenants/{t}/workspaces/default/instances",
        "/providers/seca.storage/v1/tenants/{t}/images",
        "/providers/seca.storage/v1/tenants/{t}/workspaces/default/block-storages/x",
        "/providers/seca.network/v1/tenants/{t}/skus",
        "/providers/seca.network/v1/tenants/{t}/workspaces/default/networks",
        "/providers/seca.network/v1/tenants/{t}/workspaces/default/networks/n/subnets",
        "/providers/seca.network/v1/tenants/{t}/workspaces/default/security-groups",
    };
    static const char *const writes[] = {
        "/providers/seca.authorization/v1/tenants/{t}/roles/x",
        "/providers/seca.workspace/v1/tenants/{t}/workspaces/x",
        "/providers/seca.compute/v1/tenants/{t}/workspaces/default/instances/x",
        "/providers/seca.storage/v1/tenants/{t}/images/x",
        "/providers/seca.network/v1/tenants/{t}/workspaces/default/networks/n/route-tables/x",
        "/providers/seca.network/v1/tenants/{t}/workspaces/default/nics/x",
    };
    char path[256];

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        tpath(path, sizeof(path), lists[i], tb.name);
        refused("GET", path, ta.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL);
        tpath(path, sizeof(path), lists[i], "no-such-tenant");
        refused("GET", path, ta.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL);
        refused("GET", path, op, NULL, NULL, 404, "resource-not-found", NULL);
        /* {tenant} is a name: not even the caller's own id stands for it. */
        tpath(path, sizeof(path), lists[i], ta.id);
        refused("GET", path, ta.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL);
    }
    /* Before roles: a reader's forbidden write learns nothing either. */
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        tpath(path, sizeof(path), writes[i], tb.name);
        refused("DELETE", path, ta.token[TL_READER], NULL, NULL, 404, "resource-not-found",
                NULL);
        refused("PUT", path, ta.token[TL_READER], "{}", NULL, 404, "resource-not-found", NULL);
    }
    /* The operator sees every tenant. */
    ws_path(path, sizeof(path), &tb, NULL);
    json_decref(tl_call_ok(&sovd, "GET", path, op, NULL, 200));
    json_decref(tl_call_ok(&sovd, "GET", path, tb.token[TL_READER], NULL, 200));
}
END_TEST

START_TEST(no_route_is_404_and_a_wrong_method_412_with_allow)
{
    char path[256];
    tl_resp r;

    refused("GET", "/providers/seca.nothing/v1/tenants/seca-a/things", ta.token[TL_ADMIN], NULL,
            NULL, 404, "resource-not-found", NULL);
    refused("GET", "/providers/", NULL, NULL, NULL, 404, "resource-not-found", NULL);
    refused("GET", "/providers", NULL, NULL, NULL, 404, "resource-not-found", NULL);
    refused("GET", "/.wellknown/other", NULL, NULL, NULL, 404, "resource-not-found", NULL);
    ws_path(path, sizeof(path), &ta, NULL);
    call("POST", path, ta.token[TL_ADMIN], "{}", NULL, &r);
    assert_seca_error(&r, path, 412, "precondition-failed", NULL, NULL);
    char *allow = tl_resp_header(&r, "Allow");
    ck_assert_msg(allow && strstr(allow, "GET"), "Allow: %s", allow);
    free(allow);
    tl_resp_free(&r);
    /* A body where the route takes none, and one over max_body_bytes (1 MiB). */
    refused("GET", path, ta.token[TL_ADMIN], "{}", NULL, 412, "validation-error", NULL);
    {
        size_t n = (1u << 20) + 16;
        char *big = malloc(n + 1);

        ck_assert(big);
        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        big[n] = '\0';
        ws_path(path, sizeof(path), &ta, "too-big");
        refused("PUT", path, ta.token[TL_ADMIN], big, NULL, 412, "precondition-failed", NULL);
        free(big);
        ck_assert(!v1_workspace_exists(&ta, "too-big"));
    }
}
END_TEST

START_TEST(a_role_that_may_not_is_403_in_seca_form)
{
    char path[256];

    ws_path(path, sizeof(path), &ta, "by-reader");
    refused("PUT", path, ta.token[TL_READER], "{\"spec\":{}}", NULL, 403, "forbidden", NULL);
    refused("PUT", path, ta.token[TL_MEMBER], "{\"spec\":{}}", NULL, 403, "forbidden", NULL);
    refused("DELETE", path, ta.token[TL_READER], NULL, NULL, 403, "forbidden", NULL);
    ck_assert(!v1_workspace_exists(&ta, "by-reader"));
}
END_TEST

START_TEST(a_bad_envelope_is_412_naming_the_member_and_writes_nothing)
{
    static const char *const since_bad[] = { "if-unmodified-since: soon", NULL };
    static const char *const since_zero[] = { "if-unmodified-since: 0", NULL };
    char path[256], name[160], body[2200], big[1100];
    long long before = tl_db_num(db, "SELECT count(*) FROM workspaces WHERE tenant_id = '%s'",
                                 ta.id);

    ws_path(path, sizeof(path), &ta, "env-bad");
    refused("PUT", path, ta.token[TL_ADMIN], "{\"spec\":", NULL, 412, "validation-error", NULL);
    refused("PUT", path, ta.token[TL_ADMIN], "[]", NULL, 412, "validation-error", NULL);
    {
        char url[400], auth[128];
        const char *h[] = { auth, "Content-Type: text/plain", NULL };
        tl_req q = { .method = "PUT", .url = url, .headers = h, .body = "{}", .body_len = 2 };
        tl_resp r;

        snprintf(url, sizeof(url), "%s%s", sovd.base, path);
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ta.token[TL_ADMIN]);
        tl_http(&q, &r);
        assert_seca_error(&r, path, 412, "precondition-failed", NULL, NULL);
        tl_resp_free(&r);
    }
    refused("PUT", path, ta.token[TL_ADMIN], "{\"spec\":{},\"color\":\"red\"}", NULL, 412,
            "validation-error", "/color");
    refused("PUT", path, ta.token[TL_ADMIN], "{\"spec\":[]}", NULL, 412, "validation-error",
            "/spec");
    refused("PUT", path, ta.token[TL_ADMIN], "{\"spec\":{\"size\":1}}", NULL, 412,
            "validation-error", "/spec/size");
    refused("PUT", path, ta.token[TL_ADMIN], "{\"labels\":[\"x\"]}", NULL, 412,
            "validation-error", "/labels");
    refused("PUT", path, ta.token[TL_ADMIN], "{\"labels\":{\"env\":1}}", NULL, 412,
            "validation-error", "/labels/env");
    /* The pointer escapes '/' and '~' (RFC 6901). */
    refused("PUT", path, ta.token[TL_ADMIN], "{\"labels\":{\"a/b~c\":1}}", NULL, 412,
            "validation-error", "/labels/a~1b~0c");
    /* A label value of 64 characters: one over SECA's limit; the detail says the value (not
     * the key) is too long. */
    snprintf(body, sizeof(body), "{\"labels\":{\"env\":\"%064d\"}}", 0);
    {
        tl_resp r;

        call("PUT", path, ta.token[TL_ADMIN], body, NULL, &r);
        assert_seca_error(&r, path, 412, "validation-error", "/labels/env", NULL);
        ck_assert_str_eq(str_at(r.json, "detail"),
                         "labels 'env': the value is longer than 63 characters");
        tl_resp_free(&r);
    }
    memset(big, 'a', 1025);
    big[1025] = '\0';
    snprintf(body, sizeof(body), "{\"annotations\":{\"note\":\"%s\"}}", big);
    refused("PUT", path, ta.token[TL_ADMIN], body, NULL, 412, "validation-error",
            "/annotations/note");
    refused("PUT", path, ta.token[TL_ADMIN], "{\"extensions\":{\"x\":true}}", NULL, 412,
            "validation-error", "/extensions/x");
    refused("PUT", path, ta.token[TL_ADMIN], "{}", since_bad, 412, "validation-error",
            "/if-unmodified-since");
    refused("PUT", path, ta.token[TL_ADMIN], "{}", since_zero, 412, "validation-error",
            "/if-unmodified-since");
    ck_assert(!v1_workspace_exists(&ta, "env-bad"));

    /* Names: SECA's pattern, at most 128. */
    ws_path(path, sizeof(path), &ta, "Bad_Name");
    refused("PUT", path, ta.token[TL_ADMIN], "{}", NULL, 412, "validation-error",
            "/metadata/name");
    ws_path(path, sizeof(path), &ta, "-dash");
    refused("PUT", path, ta.token[TL_ADMIN], "{}", NULL, 412, "validation-error",
            "/metadata/name");
    memset(name, 'a', 129);
    name[129] = '\0';
    ws_path(path, sizeof(path), &ta, name);
    refused("PUT", path, ta.token[TL_ADMIN], "{}", NULL, 412, "validation-error",
            "/metadata/name");
    /* SECA allows these; our workspace names are slugs of at most 63 (the service says). */
    name[100] = '\0';
    ws_path(path, sizeof(path), &ta, name);
    refused("PUT", path, ta.token[TL_ADMIN], "{}", NULL, 412, "validation-error",
            "/metadata/name");
    ws_path(path, sizeof(path), &ta, "dotted.name");
    refused("PUT", path, ta.token[TL_ADMIN], "{}", NULL, 412, "validation-error",
            "/metadata/name");
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM workspaces WHERE tenant_id = '%s'",
                               ta.id), before);
}
END_TEST

START_TEST(bad_list_parameters_are_412_naming_the_parameter)
{
    static const struct {
        const char *query, *param;
    } bad[] = {
        { "limit=0", "limit" },          { "limit=10001", "limit" },
        { "limit=ten", "limit" },        { "limit=-1", "limit" },
        { "skipToken=123456", "skipToken" }, { "skipToken=A!", "skipToken" },
        { "labels=%3Dx", "labels" },     { "color=red", "color" },
        { "limit=1&limit=2", "limit" },
    };
    char base[256], path[400];

    ws_path(base, sizeof(base), &ta, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tl_resp r;
        char ptr[64];

        snprintf(path, sizeof(path), "%s?%s", base, bad[i].query);
        snprintf(ptr, sizeof(ptr), "/%s", bad[i].param);
        call("GET", path, ta.token[TL_READER], NULL, NULL, &r);
        assert_seca_error(&r, path, 412, "validation-error", ptr, bad[i].param);
        tl_resp_free(&r);
    }
    snprintf(path, sizeof(path), "/providers/seca.region/v1/regions?limit=0");
    refused("GET", path, ta.token[TL_READER], NULL, NULL, 412, "validation-error", "/limit");
}
END_TEST

START_TEST(v1_routes_still_answer_problem_json)
{
    tl_resp r;

    tl_call(&sovd, "GET", "/v1/tenants/nobody-here", op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/regions", NULL, NULL, &r);
    tl_assert_problem(&r, 401, "/problems/unauthenticated");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/nothing-here", op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/regions?color=red", op, NULL, &r);
    tl_assert_problem(&r, 400, "/problems/invalid-request");
    tl_resp_free(&r);
}
END_TEST

/* ---- regions and the well-known document ---- */

static void
assert_region(const json_t *reg, const char *verb)
{
    char url[256];
    const json_t *zones = json_object_get(json_object_get(reg, "spec"), "availableZones");
    const json_t *providers = json_object_get(json_object_get(reg, "spec"), "providers");
    const json_t *m = md(reg);
    size_t i;
    json_t *p;
    bool compute = false;

    ck_assert_str_eq(str_at(m, "name"), "fr-seca-1");
    ck_assert_str_eq(str_at(m, "provider"), "seca.region/v1");
    ck_assert_str_eq(str_at(m, "resource"), "regions/fr-seca-1");
    ck_assert_str_eq(str_at(m, "ref"), "seca.region/v1/regions/fr-seca-1");
    ck_assert_str_eq(str_at(m, "verb"), verb);
    ck_assert_str_eq(str_at(m, "apiVersion"), "v1");
    ck_assert_str_eq(str_at(m, "kind"), "region");
    ck_assert_msg(str_at(m, "createdAt")[0] && str_at(m, "lastModifiedAt")[0], "no times");
    ck_assert_int_eq(json_integer_value(json_object_get(m, "resourceVersion")), 1);
    ck_assert_msg(!json_object_get(m, "tenant") && !json_object_get(m, "region"),
                  "a region is global");
    ck_assert_int_eq(json_array_size(zones), 2);
    ck_assert_str_eq(json_string_value(json_array_get(zones, 0)), "a");
    ck_assert_str_eq(json_string_value(json_array_get(zones, 1)), "b");
    ck_assert_int_eq(json_array_size(providers), 4);
    snprintf(url, sizeof(url), "%s/providers/seca.compute", sovd.base);
    json_array_foreach(providers, i, p) {
        ck_assert_str_eq(str_at(p, "version"), "v1");
        if (strcmp(str_at(p, "name"), "seca.compute") == 0) {
            ck_assert_str_eq(str_at(p, "url"), url);
            compute = true;
        }
    }
    ck_assert_msg(compute, "no seca.compute provider");
}

START_TEST(regions_list_their_zones_and_provider_urls)
{
    json_t *j, *items, *reg = NULL;
    size_t i;
    tl_resp r;

    call("GET", "/providers/seca.region/v1/regions", ta.token[TL_READER], NULL, NULL, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    assert_json_ctype(&r);
    items = json_object_get(r.json, "items");
    json_array_foreach(items, i, j)
        if (strcmp(str_at(md(j), "name"), "fr-seca-1") == 0)
            reg = j;
    ck_assert_msg(reg, "fr-seca-1 not listed: %s", r.body);
    assert_region(reg, "GET");
    ck_assert_str_eq(str_at(md(r.json), "provider"), "seca.region/v1");
    ck_assert_str_eq(str_at(md(r.json), "resource"), "regions");
    ck_assert_str_eq(str_at(md(r.json), "verb"), "GET");
    tl_resp_free(&r);

    j = tl_call_ok(&sovd, "GET", "/providers/seca.region/v1/regions/fr-seca-1",
                   tb.token[TL_AUDITOR], NULL, 200);
    assert_region(j, "GET");
    json_decref(j);
    refused("GET", "/providers/seca.region/v1/regions/nowhere-1", ta.token[TL_READER], NULL,
            NULL, 404, "resource-not-found", NULL);
}
END_TEST

START_TEST(wellknown_lists_every_provider_without_a_token)
{
    static const char *const want[] = { "seca.region", "seca.authorization", "seca.workspace",
                                        "seca.compute", "seca.storage", "seca.network" };
    tl_resp r;
    json_t *eps;

    call("GET", "/.wellknown/secapi", NULL, NULL, NULL, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    assert_json_ctype(&r);
    ck_assert_str_eq(str_at(r.json, "version"), "v1");
    eps = json_object_get(r.json, "endpoints");
    ck_assert_int_eq(json_array_size(eps), 6);
    for (size_t i = 0; i < 6; i++) {
        char provider[64], url[256];
        bool found = false;
        size_t k;
        json_t *e;

        snprintf(provider, sizeof(provider), "%s/v1", want[i]);
        snprintf(url, sizeof(url), "%s/providers/%s", sovd.base, want[i]);
        json_array_foreach(eps, k, e)
            found |= strcmp(str_at(e, "provider"), provider) == 0 &&
                     strcmp(str_at(e, "url"), url) == 0;
        ck_assert_msg(found, "%s at %s not listed: %s", provider, url, r.body);
    }
    tl_resp_free(&r);
    refused("PUT", "/.wellknown/secapi", NULL, "{}", NULL, 412, "precondition-failed", NULL);
}
END_TEST

/* ---- workspaces ---- */

static void
assert_workspace(const json_t *j, const char *name, const char *verb, long long version)
{
    char ref[256], res[160];
    const json_t *m = md(j);

    snprintf(ref, sizeof(ref), "seca.workspace/v1/tenants/%s/workspaces/%s", ta.name, name);
    snprintf(res, sizeof(res), "workspaces/%s", name);
    ck_assert_str_eq(str_at(m, "name"), name);
    ck_assert_str_eq(str_at(m, "provider"), "seca.workspace/v1");
    ck_assert_str_eq(str_at(m, "resource"), res);
    ck_assert_str_eq(str_at(m, "ref"), ref);
    ck_assert_str_eq(str_at(m, "verb"), verb);
    ck_assert_str_eq(str_at(m, "apiVersion"), "v1");
    ck_assert_str_eq(str_at(m, "kind"), "workspace");
    ck_assert_str_eq(str_at(m, "tenant"), ta.name);
    ck_assert_str_eq(str_at(m, "region"), "fr-seca-1");
    ck_assert_msg(str_at(m, "createdAt")[0] && str_at(m, "lastModifiedAt")[0], "no times");
    ck_assert_int_eq(json_integer_value(json_object_get(m, "resourceVersion")), version);
    ck_assert_msg(json_is_object(json_object_get(j, "spec")), "no spec");
}

START_TEST(workspace_lifecycle_keeps_conditions_versions_and_labels)
{
    static const char *const stale[] = { "if-unmodified-since: 1", NULL };
    static const char *const fresh[] = { "if-unmodified-since: 2", NULL };
    char path[256], cond[256];
    json_t *j;
    tl_resp r;

    ws_path(path, sizeof(path), &ta, "life");
    call("PUT", path, ta.token[TL_ADMIN],
         "{\"labels\":{\"env\":\"conformance\"},\"annotations\":{\"note\":\"first\"},"
         "\"extensions\":{\"x\":\"y\"},\"metadata\":{\"name\":\"ignored\"},\"spec\":{}}", NULL,
         &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    assert_json_ctype(&r);
    assert_workspace(r.json, "life", "PUT", 1);
    conditions_of(r.json, cond, sizeof(cond));
    ck_assert_str_eq(cond, "active,creating,pending");
    ck_assert_str_eq(str_at(json_object_get(r.json, "status"), "state"), "active");
    ck_assert_str_eq(str_at(json_object_get(r.json, "labels"), "env"), "conformance");
    ck_assert_str_eq(str_at(json_object_get(r.json, "annotations"), "note"), "first");
    ck_assert_str_eq(str_at(json_object_get(r.json, "extensions"), "x"), "y");
    tl_resp_free(&r);
    ck_assert(v1_workspace_exists(&ta, "life"));
    /* The identity service audited it, in the tenant's log, under the SECA route's action. */
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM audit_log WHERE tenant_id = '%s' AND "
                               "resource_type = 'workspace' AND resource_id = 'life' AND "
                               "action = 'seca.workspace.workspaces.put'", ta.id), 1);

    j = tl_call_ok(&sovd, "GET", path, ta.token[TL_READER], NULL, 200);
    assert_workspace(j, "life", "GET", 1);
    conditions_of(j, cond, sizeof(cond));
    ck_assert_str_eq(cond, "active,creating,pending");
    json_decref(j);

    call("PUT", path, ta.token[TL_ADMIN], "{\"labels\":{\"env\":\"prod\"},\"spec\":{}}", NULL,
         &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    assert_workspace(r.json, "life", "PUT", 2);
    conditions_of(r.json, cond, sizeof(cond));
    ck_assert_str_eq(cond, "active,updating,active,creating,pending");
    ck_assert_str_eq(str_at(json_object_get(r.json, "labels"), "env"), "prod");
    tl_resp_free(&r);

    /* A stale version changes nothing. */
    refused("PUT", path, ta.token[TL_ADMIN], "{\"labels\":{\"env\":\"stale\"}}", stale, 412,
            "precondition-failed", "/if-unmodified-since");
    refused("DELETE", path, ta.token[TL_ADMIN], NULL, stale, 412, "precondition-failed",
            "/if-unmodified-since");
    j = tl_call_ok(&sovd, "GET", path, ta.token[TL_READER], NULL, 200);
    assert_workspace(j, "life", "GET", 2);
    ck_assert_str_eq(str_at(json_object_get(j, "labels"), "env"), "prod");
    json_decref(j);
    ck_assert(v1_workspace_exists(&ta, "life"));

    call("PUT", path, ta.token[TL_ADMIN], "{\"labels\":{\"env\":\"fresh\"}}", fresh, &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    assert_workspace(r.json, "life", "PUT", 3);
    tl_resp_free(&r);

    call("DELETE", path, ta.token[TL_ADMIN], NULL, NULL, &r);
    ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
    tl_resp_free(&r);
    refused("GET", path, ta.token[TL_READER], NULL, NULL, 404, "resource-not-found", NULL);
    refused("DELETE", path, ta.token[TL_ADMIN], NULL, NULL, 404, "resource-not-found", NULL);
    ck_assert(!v1_workspace_exists(&ta, "life"));

    /* Made again under the same name, it starts afresh. */
    call("PUT", path, ta.token[TL_ADMIN], "{}", NULL, &r);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    assert_workspace(r.json, "life", "PUT", 1);
    ck_assert_int_eq(json_object_size(json_object_get(r.json, "labels")), 0);
    tl_resp_free(&r);
    json_decref(tl_call_ok(&sovd, "DELETE", path, ta.token[TL_ADMIN], NULL, 202));
}
END_TEST

START_TEST(workspace_list_filters_by_labels_and_pages_to_the_end)
{
    static const char *const names[] = { "page-c", "page-a", "page-b" };
    char path[256], list[400], token[16] = "";
    char seen[512] = "";
    json_t *j;
    int pages = 0;

    for (size_t i = 0; i < 3; i++) {
        char body[128];
        ws_path(path, sizeof(path), &tb, names[i]);
        snprintf(body, sizeof(body), "{\"labels\":{\"env\":\"%s\",\"tier\":\"%zu\"}}",
                 i == 1 ? "dev" : "conformance", i);
        json_decref(tl_call_ok(&sovd, "PUT", path, tb.token[TL_ADMIN], body, 201));
    }
    ws_path(path, sizeof(path), &tb, NULL);
    snprintf(list, sizeof(list), "%s?labels=env=conformance", path);
    j = tl_call_ok(&sovd, "GET", list, tb.token[TL_READER], NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 2);
    ck_assert_str_eq(str_at(md(json_array_get(json_object_get(j, "items"), 0)), "name"),
                     "page-b");
    ck_assert_str_eq(str_at(md(json_array_get(json_object_get(j, "items"), 1)), "name"),
                     "page-c");
    ck_assert_str_eq(str_at(md(j), "provider"), "seca.workspace/v1");
    ck_assert_str_eq(str_at(md(j), "resource"), "workspaces");
    ck_assert_str_eq(str_at(md(j), "verb"), "GET");
    ck_assert_msg(!json_object_get(md(j), "skipToken"), "one page only: %s",
                  json_dumps(j, 0));
    json_decref(j);

    /* limit=1, following skipToken: every workspace once, by name, then no token. */
    do {
        const char *next;
        snprintf(list, sizeof(list), "%s?limit=1%s%s", path, token[0] ? "&skipToken=" : "",
                 token);
        j = tl_call_ok(&sovd, "GET", list, tb.token[TL_READER], NULL, 200);
        ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 1);
        strncat(seen, str_at(md(json_array_get(json_object_get(j, "items"), 0)), "name"),
                sizeof(seen) - strlen(seen) - 2);
        strcat(seen, " ");
        next = json_string_value(json_object_get(md(j), "skipToken"));
        snprintf(token, sizeof(token), "%s", next ? next : "");
        json_decref(j);
        ck_assert_int_lt(++pages, 10);
    } while (token[0]);
    ck_assert_str_eq(seen, "default page-a page-b page-c ");

    for (size_t i = 0; i < 3; i++) {
        ws_path(path, sizeof(path), &tb, names[i]);
        json_decref(tl_call_ok(&sovd, "DELETE", path, tb.token[TL_ADMIN], NULL, 202));
    }
}
END_TEST

START_TEST(a_workspace_holding_resources_is_not_deleted)
{
    char path[256], *image;
    const json_t *b;
    tl_resp r;

    ws_path(path, sizeof(path), &ta, "default");
    refused("DELETE", path, ta.token[TL_ADMIN], NULL, NULL, 412, "precondition-failed", NULL);

    ws_path(path, sizeof(path), &ta, "holder");
    json_decref(tl_call_ok(&sovd, "PUT", path, ta.token[TL_ADMIN], "{}", 201));
    image = tl_db_value(db, "INSERT INTO images (tenant_id, workspace, name, region, format, "
                        "state) VALUES ('%s', 'holder', 'disk', 'fr-seca-1', 'raw', 'active') "
                        "RETURNING id", ta.id);
    call("DELETE", path, ta.token[TL_ADMIN], NULL, NULL, &r);
    assert_seca_error(&r, path, 412, "precondition-failed", NULL, NULL);
    b = json_array_get(json_object_get(json_object_get(r.json, "meta"), "blockedBy"), 0);
    ck_assert_msg(b && strcmp(str_at(b, "kind"), "image") == 0 &&
                      strcmp(str_at(b, "name"), "disk") == 0,
                  "blockedBy does not name the image: %s", r.body);
    tl_resp_free(&r);
    ck_assert(v1_workspace_exists(&ta, "holder"));
    json_decref(tl_call_ok(&sovd, "GET", path, ta.token[TL_READER], NULL, 200));

    free(tl_db_exec(db, "UPDATE images SET state = 'deleted' WHERE name = 'disk'"));
    free(image);
    json_decref(tl_call_ok(&sovd, "DELETE", path, ta.token[TL_ADMIN], NULL, 202));
}
END_TEST

START_TEST(over_quota_is_412_and_makes_nothing)
{
    tl_tenant tq;
    char path[256], quotas[128];
    tl_resp r;

    tl_tenant_make(&sovd, op, "seca-q", &tq);
    snprintf(quotas, sizeof(quotas), "/v1/tenants/%s/quotas", tq.id);
    json_decref(tl_call_ok(&sovd, "PUT", quotas, op, "{\"workspaces\":1}", 200));
    ws_path(path, sizeof(path), &tq, "one-too-many");
    call("PUT", path, tq.token[TL_ADMIN], "{}", NULL, &r);
    assert_seca_error(&r, path, 412, "precondition-failed", NULL, NULL);
    ck_assert_str_eq(str_at(json_object_get(r.json, "meta"), "quota"), "workspaces");
    tl_resp_free(&r);
    ck_assert(!v1_workspace_exists(&tq, "one-too-many"));
}
END_TEST

/* Runs last: it adds regions that sort before fr-seca-1. */
START_TEST(a_workspace_is_in_the_first_region_with_zones_its_policy_allows)
{
    tl_tenant tc;
    char path[256], pol[128];
    json_t *j, *items, *it;
    size_t i;
    bool at = false;

    tl_tenant_make(&sovd, op, "seca-c", &tc);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"at-seca-1\",\"name\":\"At\",\"country\":\"AT\","
                           "\"datacenter\":\"DC 2\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"aa-seca-1\",\"name\":\"Aa\",\"country\":\"AT\","
                           "\"datacenter\":\"DC 3\",\"zones\":[\"a\"]}", 201));
    /* A region without zones can place nothing: SECA does not see it. */
    free(tl_db_exec(db, "DELETE FROM zones WHERE region = 'aa-seca-1'"));
    refused("GET", "/providers/seca.region/v1/regions/aa-seca-1", tc.token[TL_READER], NULL,
            NULL, 404, "resource-not-found", NULL);
    j = tl_call_ok(&sovd, "GET", "/providers/seca.region/v1/regions", tc.token[TL_READER], NULL,
                   200);
    items = json_object_get(j, "items");
    json_array_foreach(items, i, it) {
        ck_assert_str_ne(str_at(md(it), "name"), "aa-seca-1");
        at |= strcmp(str_at(md(it), "name"), "at-seca-1") == 0;
    }
    ck_assert_msg(at, "at-seca-1 not listed");
    json_decref(j);

    ws_path(path, sizeof(path), &tc, "placed");
    j = tl_call_ok(&sovd, "PUT", path, tc.token[TL_ADMIN], "{}", 201);
    ck_assert_str_eq(str_at(md(j), "region"), "at-seca-1");
    json_decref(j);
    snprintf(pol, sizeof(pol), "/v1/tenants/%s/residency-policy", tc.id);
    json_decref(tl_call_ok(&sovd, "PUT", pol, tc.token[TL_ADMIN], "{\"countries\":[\"FR\"]}",
                           200));
    j = tl_call_ok(&sovd, "GET", path, tc.token[TL_READER], NULL, 200);
    ck_assert_str_eq(str_at(md(j), "region"), "fr-seca-1");
    json_decref(j);

    /* A policy no region meets: no new workspace, the old one still read and changed. */
    json_decref(tl_call_ok(&sovd, "PUT", pol, op, "{\"countries\":[\"SE\"]}", 200));
    ws_path(path, sizeof(path), &tc, "nowhere");
    refused("PUT", path, tc.token[TL_ADMIN], "{}", NULL, 412, "precondition-failed", NULL);
    ck_assert(!v1_workspace_exists(&tc, "nowhere"));
    ws_path(path, sizeof(path), &tc, "placed");
    j = tl_call_ok(&sovd, "GET", path, tc.token[TL_READER], NULL, 200);
    ck_assert_msg(!json_object_get(md(j), "region"), "region of none");
    json_decref(j);
    json_decref(tl_call_ok(&sovd, "PUT", path, tc.token[TL_ADMIN],
                           "{\"labels\":{\"k\":\"v\"}}", 200));
    json_decref(tl_call_ok(&sovd, "DELETE", path, tc.token[TL_ADMIN], NULL, 202));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/seca-edge");
    TCase *tc = tcase_create("edge");

    tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, no_or_bad_token_is_401_in_seca_form);
    tcase_add_test(tc, another_tenants_or_an_unknown_name_is_404_under_every_provider);
    tcase_add_test(tc, no_route_is_404_and_a_wrong_method_412_with_allow);
    tcase_add_test(tc, a_role_that_may_not_is_403_in_seca_form);
    tcase_add_test(tc, a_bad_envelope_is_412_naming_the_member_and_writes_nothing);
    tcase_add_test(tc, bad_list_parameters_are_412_naming_the_parameter);
    tcase_add_test(tc, v1_routes_still_answer_problem_json);
    tcase_add_test(tc, regions_list_their_zones_and_provider_urls);
    tcase_add_test(tc, wellknown_lists_every_provider_without_a_token);
    tcase_add_test(tc, workspace_lifecycle_keeps_conditions_versions_and_labels);
    tcase_add_test(tc, workspace_list_filters_by_labels_and_pages_to_the_end);
    tcase_add_test(tc, a_workspace_holding_resources_is_not_deleted);
    tcase_add_test(tc, over_quota_is_412_and_makes_nothing);
    tcase_add_test(tc, a_workspace_is_in_the_first_region_with_zones_its_policy_allows);
    return tl_run_suite(s);
}
