/* The audit log through the API, against a real sovd and PostgreSQL: every mutating request
 * and every denied or failed one leaves an entry (action, outcome, request id, caller,
 * source), readers see only their scope, filters and pagination select entries, a deleted
 * user leaves its opaque id and no personal data, /v1/audit/verify names the first entry
 * edited or deleted behind sovd's back, and concurrent appends keep the chain whole. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static char *db;
static tl_sovd sovd;
static char *op;

/* A fresh database and sovd per test: tamper cases must not see each other's edits. */
static void
setup(void)
{
    const char *args[] = { "--http-threads=8", "--db-pool-size=16", NULL };

    db = tl_db_create();
    memset(&sovd, 0, sizeof(sovd));
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
    free(op);
}

/* ---- helpers ---- */

/* tl_call with our own X-Request-Id, so the entry can be found by it. */
static void
call_rid(const char *method, const char *path, const char *token, const char *body,
         const char *rid, tl_resp *ret)
{
    char xrid[128];
    const char *headers[] = { xrid, NULL };

    snprintf(xrid, sizeof(xrid), "X-Request-Id: %s", rid);
    tl_call_h(&sovd, method, path, token, body, headers, ret);
}

/* The same, asserting the status; returns the parsed body (new reference, or NULL). */
static json_t *
call_rid_ok(const char *method, const char *path, const char *token, const char *body,
            const char *rid, long want)
{
    tl_resp r;
    json_t *j;

    call_rid(method, path, token, body, rid, &r);
    ck_assert_msg(r.status == want, "%s %s: expected %ld, got %ld: %s", method, path, want,
                  r.status, r.body);
    j = r.json ? json_incref(r.json) : NULL;
    tl_resp_free(&r);
    return j;
}

/* Every entry token may read under query ("" for none), following the next links. Checks
 * that pages hold at most page_size entries and run in strictly increasing seq order.
 * Returns a new array. */
static json_t *
audit_pages(const char *token, const char *query, unsigned page_size)
{
    json_t *all = json_array();
    char *path = NULL;
    long long last = 0;

    ck_assert(asprintf(&path, "/v1/audit?limit=%u%s%s", page_size, *query ? "&" : "",
                       query) > 0);
    for (int pages = 0; path; pages++) {
        json_t *page = tl_call_ok(&sovd, "GET", path, token, NULL, 200);
        json_t *items = json_object_get(page, "items"), *next = json_object_get(page, "next");
        size_t i;
        json_t *e;

        ck_assert_msg(pages < 10000, "the next links do not end");
        ck_assert_msg(json_is_array(items), "no items in %s", path);
        ck_assert_uint_le(json_array_size(items), page_size);
        json_array_foreach(items, i, e) {
            long long seq = json_integer_value(json_object_get(e, "seq"));
            ck_assert_msg(seq > last, "seq %lld after %lld: out of order or repeated", seq,
                          last);
            last = seq;
            json_array_append(all, e);
        }
        free(path);
        path = NULL;
        if (json_is_string(next)) {
            ck_assert_msg(strncmp(json_string_value(next), "/v1/audit?", 10) == 0,
                          "next link %s", json_string_value(next));
            path = strdup(json_string_value(next));
        } else {
            ck_assert_msg(json_is_null(next), "next is neither a link nor null");
        }
        json_decref(page);
    }
    return all;
}

static json_t *
audit_all(const char *token, const char *query)
{
    return audit_pages(token, query, 1000);
}

static const char *
str(const json_t *e, const char *key)
{
    return json_string_value(json_object_get(e, key));
}

static long long
num(const json_t *e, const char *key)
{
    return json_integer_value(json_object_get(e, key));
}

/* The one entry with this request id (borrowed); fails the test unless there is exactly one. */
static json_t *
by_rid(const json_t *items, const char *rid)
{
    json_t *found = NULL, *e;
    size_t i;
    int n = 0;

    json_array_foreach(items, i, e) {
        if (str(e, "request_id") && strcmp(str(e, "request_id"), rid) == 0) {
            found = e;
            n++;
        }
    }
    ck_assert_msg(n == 1, "%d audit entries with request id %s, want 1", n, rid);
    return found;
}

static size_t
count_where(const json_t *items, const char *key, const char *value)
{
    json_t *e;
    size_t i, n = 0;

    json_array_foreach(items, i, e) {
        if (str(e, key) && strcmp(str(e, key), value) == 0)
            n++;
    }
    return n;
}

/* Assert that every entry's key equals value (the JSON null when value is NULL). */
static void
assert_all(const json_t *items, const char *key, const char *value)
{
    json_t *e;
    size_t i;

    json_array_foreach(items, i, e) {
        json_t *v = json_object_get(e, key);
        if (!value)
            ck_assert_msg(json_is_null(v), "entry %lld: %s is not null", num(e, "seq"), key);
        else
            ck_assert_msg(json_is_string(v) && strcmp(json_string_value(v), value) == 0,
                          "entry %lld: %s is %s, want %s", num(e, "seq"), key,
                          json_is_string(v) ? json_string_value(v) : "(not a string)", value);
    }
}

/* Assert an entry's caller, action and outcome. user_id NULL: no principal. */
static void
assert_entry(const json_t *e, const char *action, int outcome, const char *user_id,
             const char *role)
{
    ck_assert_str_eq(str(e, "action"), action);
    ck_assert_int_eq(num(e, "outcome"), outcome);
    ck_assert_str_eq(str(e, "role"), role);
    ck_assert_str_eq(str(e, "source"), "127.0.0.1");
    if (user_id) {
        ck_assert_str_eq(str(e, "user_id"), user_id);
        ck_assert(json_is_string(json_object_get(e, "token_id")));
    } else {
        ck_assert(json_is_null(json_object_get(e, "user_id")));
        ck_assert(json_is_null(json_object_get(e, "token_id")));
    }
}

/* The caller's user and token ids. */
static void
whoami(const char *token, char user_id[40], char token_id[40])
{
    json_t *me = tl_call_ok(&sovd, "GET", "/v1/me", token, NULL, 200);

    snprintf(user_id, 40, "%s", json_string_value(json_object_get(json_object_get(me, "user"),
                                                                  "id")));
    snprintf(token_id, 40, "%s",
             json_string_value(json_object_get(json_object_get(me, "token"), "id")));
    json_decref(me);
}

static long long
sql_number(const char *sql)
{
    char *v = tl_db_exec(db, sql);
    long long n;

    ck_assert_msg(v, "no value from %s", sql);
    n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

/* GET /v1/audit/verify as the operator: ok, and the entries checked and the first broken
 * seq (0 when ok). */
static bool
verify(long long *entries, long long *broken)
{
    json_t *v = tl_call_ok(&sovd, "GET", "/v1/audit/verify", op, NULL, 200);
    json_t *fb = json_object_get(v, "first_broken");
    bool ok;

    ck_assert_msg(json_is_boolean(json_object_get(v, "ok")), "no ok in verdict");
    ok = json_is_true(json_object_get(v, "ok"));
    *entries = num(v, "entries");
    *broken = 0;
    if (ok) {
        ck_assert_msg(!fb, "an intact chain names a broken entry");
    } else {
        ck_assert_msg(json_is_object(fb), "a broken chain names no entry");
        ck_assert_msg(str(fb, "reason") && *str(fb, "reason"), "first_broken has no reason");
        *broken = num(fb, "seq");
    }
    json_decref(v);
    return ok;
}

static void
make_workspace(const char *tenant_id, const char *token, const char *name)
{
    char path[128], body[128];

    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", tenant_id);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    json_decref(tl_call_ok(&sovd, "POST", path, token, body, 201));
}

/* ---- what is recorded ---- */

START_TEST(mutating_requests_are_audited_with_action_outcome_caller_and_request_id)
{
    char uid[40], tokid[40], tenant[40], user[40], token[40], path[256];
    json_t *j, *items, *e, *prev = NULL;
    size_t i;
    static const struct {
        const char *rid, *action, *type;
        int outcome;
    } want[] = {
        { "audit-t-1", "tenants.create", "tenant", 201 },
        { "audit-t-2", "users.create", "user", 201 },
        { "audit-t-3", "workspaces.create", "workspace", 201 },
        { "audit-t-4", "tokens.create", "token", 201 },
        { "audit-t-5", "tokens.delete", "token", 204 },
    };

    whoami(op, uid, tokid);
    j = call_rid_ok("POST", "/v1/tenants", op, "{\"name\":\"acme\"}", "audit-t-1", 201);
    snprintf(tenant, sizeof(tenant), "%s", str(j, "id"));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", tenant);
    j = call_rid_ok("POST", path, op,
                    "{\"name\":\"Ada\",\"email\":\"ada@acme.example.eu\",\"role\":\"admin\"}",
                    "audit-t-2", 201);
    snprintf(user, sizeof(user), "%s", str(j, "id"));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", tenant);
    json_decref(call_rid_ok("POST", path, op, "{\"name\":\"build\"}", "audit-t-3", 201));
    snprintf(path, sizeof(path), "{\"name\":\"ci\",\"user_id\":\"%s\"}", user);
    j = call_rid_ok("POST", "/v1/tokens", op, path, "audit-t-4", 201);
    snprintf(token, sizeof(token), "%s", str(j, "id"));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/tokens/%s", token);
    json_decref(call_rid_ok("DELETE", path, op, NULL, "audit-t-5", 204));
    /* Reads are not audited. */
    json_decref(call_rid_ok("GET", "/v1/tenants", op, NULL, "audit-t-read", 200));

    items = audit_all(op, "");
    const char *rid_ids[] = { tenant, user, "build", token, token };
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        e = by_rid(items, want[i].rid);
        assert_entry(e, want[i].action, want[i].outcome, uid, "operator");
        ck_assert_str_eq(str(e, "token_id"), tokid);
        ck_assert_str_eq(str(e, "tenant_id"), tenant);
        ck_assert_str_eq(str(e, "resource_type"), want[i].type);
        ck_assert_str_eq(str(e, "resource_id"), rid_ids[i]);
        ck_assert_uint_eq(strlen(str(e, "hash")), 64);
        ck_assert_msg(str(e, "at") && strlen(str(e, "at")) >= 20, "no time on the entry");
        if (prev)
            ck_assert_int_gt(num(e, "seq"), num(prev, "seq"));
        prev = e;
    }
    ck_assert_uint_eq(count_where(items, "request_id", "audit-t-read"), 0);

    /* The first entry is sovd's own bootstrap; each entry links to the one before. */
    e = json_array_get(items, 0);
    ck_assert_int_eq(num(e, "seq"), 1);
    ck_assert_str_eq(str(e, "action"), "bootstrap");
    ck_assert_str_eq(str(e, "role"), "system");
    for (i = 1; i < json_array_size(items); i++) {
        json_t *a = json_array_get(items, i - 1), *b = json_array_get(items, i);
        ck_assert_int_eq(num(b, "seq"), num(a, "seq") + 1);
        ck_assert_str_eq(str(b, "prev_hash"), str(a, "hash"));
    }
    json_decref(items);
}
END_TEST

START_TEST(denied_and_failed_requests_are_audited)
{
    tl_tenant acme, globex;
    char path[256], ws_path[160];
    json_t *items, *e;
    tl_resp r;

    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    snprintf(ws_path, sizeof(ws_path), "/v1/tenants/%s/workspaces", acme.id);

    /* No token, and a token that is none. */
    call_rid("POST", ws_path, NULL, "{\"name\":\"x\"}", "deny-1", &r);
    tl_assert_problem(&r, 401, "/problems/unauthenticated");
    tl_resp_free(&r);
    call_rid("POST", "/v1/tenants", "sov_not-a-token", "{\"name\":\"x\"}", "deny-2", &r);
    tl_assert_problem(&r, 401, "/problems/unauthenticated");
    tl_resp_free(&r);
    /* A role the route does not allow: a write, and a read. */
    call_rid("POST", ws_path, acme.token[TL_MEMBER], "{\"name\":\"x\"}", "deny-3", &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", acme.id);
    call_rid("GET", path, acme.token[TL_READER], NULL, "deny-4", &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    /* Another tenant's id. */
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", globex.id);
    call_rid("GET", path, acme.token[TL_ADMIN], NULL, "deny-5", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    /* Failed: invalid input, broken JSON, a conflict, and a quota. */
    call_rid("POST", ws_path, acme.token[TL_ADMIN], "{\"name\":\"Not A Slug\"}", "fail-1", &r);
    tl_assert_problem(&r, 400, "/problems/invalid-request");
    tl_resp_free(&r);
    call_rid("POST", ws_path, acme.token[TL_ADMIN], "{\"name\":", "fail-2", &r);
    tl_assert_problem(&r, 400, "/problems/malformed-json");
    tl_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces/default", acme.id);
    call_rid("DELETE", path, acme.token[TL_ADMIN], NULL, "fail-3", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/tenants/%s/quotas", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"workspaces\":1}", 200));
    call_rid("POST", ws_path, acme.token[TL_ADMIN], "{\"name\":\"over\"}", "fail-4", &r);
    tl_assert_problem(&r, 403, "/problems/quota-exceeded");
    tl_resp_free(&r);

    /* by_rid asserts exactly one entry each: a refused create left no 201 entry behind. */
    items = audit_all(op, "");
    /* A denied request is filed under the caller's own tenant, none when anonymous: the
     * tenant named in the path learns nothing of who probed it. */
    e = by_rid(items, "deny-1");
    assert_entry(e, "workspaces.create", 401, NULL, "anonymous");
    ck_assert(json_is_null(json_object_get(e, "tenant_id")));
    e = by_rid(items, "deny-2");
    assert_entry(e, "tenants.create", 401, NULL, "anonymous");
    ck_assert(json_is_null(json_object_get(e, "tenant_id")));
    e = by_rid(items, "deny-3");
    assert_entry(e, "workspaces.create", 403, acme.user_id[TL_MEMBER], "member");
    ck_assert_str_eq(str(e, "tenant_id"), acme.id);
    e = by_rid(items, "deny-4");
    assert_entry(e, "users.list", 403, acme.user_id[TL_READER], "reader");
    e = by_rid(items, "deny-5");
    assert_entry(e, "workspaces.list", 404, acme.user_id[TL_ADMIN], "admin");
    ck_assert_str_eq(str(e, "tenant_id"), acme.id);
    e = by_rid(items, "fail-1");
    assert_entry(e, "workspaces.create", 400, acme.user_id[TL_ADMIN], "admin");
    ck_assert_str_eq(str(e, "tenant_id"), acme.id);
    e = by_rid(items, "fail-2");
    assert_entry(e, "workspaces.create", 400, acme.user_id[TL_ADMIN], "admin");
    e = by_rid(items, "fail-3");
    assert_entry(e, "workspaces.delete", 409, acme.user_id[TL_ADMIN], "admin");
    e = by_rid(items, "fail-4");
    assert_entry(e, "workspaces.create", 403, acme.user_id[TL_ADMIN], "admin");
    json_decref(items);

    /* globex's own readers do not see acme's probe of its id. */
    items = audit_all(globex.token[TL_AUDITOR], "");
    ck_assert_uint_eq(count_where(items, "request_id", "deny-5"), 0);
    assert_all(items, "tenant_id", globex.id);
    json_decref(items);
}
END_TEST

/* ---- who reads what ---- */

START_TEST(tenant_admins_and_auditors_see_only_their_tenant)
{
    tl_tenant acme, globex, optenant;
    json_t *admin_view, *auditor_view, *all, *e;
    char query[128];
    size_t i;
    tl_resp r;

    tl_operator_tenant(&sovd, &optenant);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    make_workspace(acme.id, acme.token[TL_ADMIN], "acme-ws");
    make_workspace(globex.id, globex.token[TL_ADMIN], "globex-ws");

    admin_view = audit_all(acme.token[TL_ADMIN], "");
    ck_assert_uint_gt(json_array_size(admin_view), 0);
    assert_all(admin_view, "tenant_id", acme.id);
    ck_assert_uint_eq(count_where(admin_view, "resource_id", "acme-ws"), 1);
    ck_assert_uint_eq(count_where(admin_view, "resource_id", "globex-ws"), 0);

    auditor_view = audit_all(acme.token[TL_AUDITOR], "");
    ck_assert_uint_eq(json_array_size(auditor_view), json_array_size(admin_view));
    json_array_foreach(auditor_view, i, e) {
        ck_assert_int_eq(num(e, "seq"), num(json_array_get(admin_view, i), "seq"));
    }
    json_decref(auditor_view);

    /* Asking for another tenant's entries finds none rather than widening the scope. */
    snprintf(query, sizeof(query), "tenant_id=%s", globex.id);
    auditor_view = audit_all(acme.token[TL_AUDITOR], query);
    ck_assert_uint_eq(json_array_size(auditor_view), 0);
    json_decref(auditor_view);

    /* Members and readers may not read the log at all. */
    tl_call(&sovd, "GET", "/v1/audit", acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/audit", acme.token[TL_READER], NULL, &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/audit", NULL, NULL, &r);
    tl_assert_problem(&r, 401, "/problems/unauthenticated");
    tl_resp_free(&r);

    /* The operator tenant's admin is a tenant admin like any other. */
    auditor_view = audit_all(optenant.token[TL_ADMIN], "");
    ck_assert_uint_gt(json_array_size(auditor_view), 0);
    assert_all(auditor_view, "tenant_id", optenant.id);
    json_decref(auditor_view);

    /* The operator tenant's auditor sees every tenant, as the operator does. The denials
     * above are acme's entries too: read acme's view again to compare. */
    json_decref(admin_view);
    admin_view = audit_all(acme.token[TL_ADMIN], "");
    all = audit_all(op, "");
    auditor_view = audit_all(optenant.token[TL_AUDITOR], "");
    ck_assert_uint_eq(json_array_size(auditor_view), json_array_size(all));
    ck_assert_uint_gt(count_where(auditor_view, "tenant_id", acme.id), 0);
    ck_assert_uint_gt(count_where(auditor_view, "tenant_id", globex.id), 0);
    ck_assert_uint_gt(count_where(auditor_view, "tenant_id", optenant.id), 0);
    ck_assert_uint_eq(count_where(auditor_view, "tenant_id", acme.id),
                      json_array_size(admin_view));
    json_decref(auditor_view);
    json_decref(all);

    /* and may narrow it to one tenant. */
    auditor_view = audit_all(optenant.token[TL_AUDITOR], query);
    ck_assert_uint_gt(json_array_size(auditor_view), 0);
    assert_all(auditor_view, "tenant_id", globex.id);
    json_decref(auditor_view);
    json_decref(admin_view);
}
END_TEST

START_TEST(filters_select_by_action_user_resource_and_time)
{
    tl_tenant acme;
    json_t *all, *sel;
    char query[256], since[64], until[64];
    long long mid_seq;
    size_t n, mid;

    tl_tenant_make(&sovd, op, "acme", &acme);
    make_workspace(acme.id, acme.token[TL_ADMIN], "ws-1");
    make_workspace(acme.id, acme.token[TL_ADMIN], "ws-2");
    make_workspace(acme.id, acme.token[TL_ADMIN], "ws-3");

    sel = audit_all(op, "action=workspaces.create");
    ck_assert_uint_eq(json_array_size(sel), 3);
    assert_all(sel, "action", "workspaces.create");
    json_decref(sel);

    snprintf(query, sizeof(query), "user_id=%s", acme.user_id[TL_ADMIN]);
    sel = audit_all(op, query);
    ck_assert_uint_eq(json_array_size(sel), 3);
    assert_all(sel, "user_id", acme.user_id[TL_ADMIN]);
    json_decref(sel);

    sel = audit_all(op, "resource_type=workspace");
    ck_assert_uint_eq(json_array_size(sel), 3);
    assert_all(sel, "resource_type", "workspace");
    json_decref(sel);

    sel = audit_all(op, "resource_type=user");
    ck_assert_uint_eq(json_array_size(sel), 4);      /* the four users tl_tenant_make made */
    assert_all(sel, "action", "users.create");
    json_decref(sel);

    sel = audit_all(op, "resource_type=workspace&resource_id=ws-2");
    ck_assert_uint_eq(json_array_size(sel), 1);
    json_decref(sel);

    snprintf(query, sizeof(query), "action=tokens.create&user_id=%s",
             acme.user_id[TL_ADMIN]);
    sel = audit_all(op, query);
    ck_assert_uint_eq(json_array_size(sel), 0);     /* the operator made those tokens */
    json_decref(sel);

    /* Time: since is inclusive, until exclusive, both on the entries' own times. */
    all = audit_all(op, "");
    n = json_array_size(all);
    ck_assert_uint_ge(n, 10);
    mid = n / 2;
    mid_seq = num(json_array_get(all, mid), "seq");
    snprintf(since, sizeof(since), "%s", str(json_array_get(all, mid), "at"));
    snprintf(until, sizeof(until), "%s", str(json_array_get(all, mid + 2), "at"));

    snprintf(query, sizeof(query), "since=%s", since);
    sel = audit_all(op, query);
    ck_assert_uint_eq(json_array_size(sel), n - mid);
    ck_assert_int_eq(num(json_array_get(sel, 0), "seq"), mid_seq);
    json_decref(sel);

    snprintf(query, sizeof(query), "until=%s", since);
    sel = audit_all(op, query);
    ck_assert_uint_eq(json_array_size(sel), mid);
    ck_assert_int_eq(num(json_array_get(sel, mid - 1), "seq"), mid_seq - 1);
    json_decref(sel);

    snprintf(query, sizeof(query), "since=%s&until=%s", since, until);
    sel = audit_all(op, query);
    ck_assert_uint_eq(json_array_size(sel), 2);
    ck_assert_int_eq(num(json_array_get(sel, 0), "seq"), mid_seq);
    ck_assert_int_eq(num(json_array_get(sel, 1), "seq"), mid_seq + 1);
    json_decref(sel);

    sel = audit_all(op, "since=2999-01-01T00:00:00Z");
    ck_assert_uint_eq(json_array_size(sel), 0);
    json_decref(sel);
    sel = audit_all(op, "until=2000-01-01T00:00:00Z");
    ck_assert_uint_eq(json_array_size(sel), 0);
    json_decref(sel);
    sel = audit_all(op, "since=2000-01-01T00:00:00Z");
    ck_assert_uint_eq(json_array_size(sel), n);
    json_decref(sel);
    json_decref(all);
}
END_TEST

START_TEST(pages_follow_next_to_the_end_in_seq_order)
{
    tl_tenant acme;
    json_t *all, *paged, *sel;
    size_t users;

    tl_tenant_make(&sovd, op, "acme", &acme);
    make_workspace(acme.id, acme.token[TL_ADMIN], "ws-1");
    all = audit_all(op, "");
    ck_assert_uint_ge(json_array_size(all), 10);

    /* audit_pages checks page sizes, order and no repeats; here: nothing is lost either. */
    for (unsigned size = 1; size <= 5; size += 2) {
        paged = audit_pages(op, "", size);
        ck_assert_uint_eq(json_array_size(paged), json_array_size(all));
        for (size_t i = 0; i < json_array_size(all); i++)
            ck_assert_int_eq(num(json_array_get(paged, i), "seq"),
                             num(json_array_get(all, i), "seq"));
        json_decref(paged);
    }

    /* The next link keeps the filters. */
    users = count_where(all, "action", "users.create");
    ck_assert_uint_eq(users, 4);
    sel = audit_pages(op, "action=users.create", 3);
    ck_assert_uint_eq(json_array_size(sel), users);
    assert_all(sel, "action", "users.create");
    json_decref(sel);
    json_decref(all);
}
END_TEST

START_TEST(bad_filters_are_400_naming_the_parameter)
{
    static const struct {
        const char *query, *field;
    } bad[] = {
        { "since=yesterday", "since" },
        { "since=2026-13-01T00:00:00Z", "since" },
        { "until=2026-01-01", "until" },
        { "limit=0", "limit" },
        { "limit=5000", "limit" },
        { "limit=-1", "limit" },
        { "limit=ten", "limit" },
        { "user_id=not-a-uuid", "user_id" },
        { "tenant_id=acme", "tenant_id" },
        { "after=nonsense", "after" },
    };
    char path[256];
    tl_resp r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/v1/audit?%s", bad[i].query);
        tl_call(&sovd, "GET", path, op, NULL, &r);
        tl_assert_problem(&r, 400, "/problems/invalid-request");
        json_t *e = json_array_get(json_object_get(r.json, "errors"), 0);
        ck_assert_msg(e && str(e, "field") && strcmp(str(e, "field"), bad[i].field) == 0,
                      "%s: want field %s: %s", bad[i].query, bad[i].field, r.body);
        tl_resp_free(&r);
    }
}
END_TEST

/* ---- personal data ---- */

START_TEST(a_deleted_user_leaves_its_id_and_no_personal_data)
{
    tl_tenant acme;
    char path[256], body[256], user[40], *text;
    json_t *j, *items;
    tl_resp r;
    static const char *const traces[] = { "Erika", "erika", "Mustermann", "mustermann" };

    tl_tenant_make(&sovd, op, "acme", &acme);
    snprintf(path, sizeof(path), "/v1/tenants/%s/users", acme.id);
    j = tl_call_ok(&sovd, "POST", path, op,
                   "{\"name\":\"Erika Mustermann\","
                   "\"email\":\"Erika.Mustermann@acme.example.eu\",\"role\":\"admin\"}",
                   201);
    snprintf(user, sizeof(user), "%s", str(j, "id"));
    json_decref(j);
    snprintf(body, sizeof(body), "{\"name\":\"laptop\",\"user_id\":\"%s\"}", user);
    j = tl_call_ok(&sovd, "POST", "/v1/tokens", op, body, 201);
    char secret[128];
    snprintf(secret, sizeof(secret), "%s", str(j, "secret"));
    json_decref(j);
    /* She acts (audited under her id), renames herself, and fails once. */
    make_workspace(acme.id, secret, "laptop-ws");
    snprintf(path, sizeof(path), "/v1/tenants/%s/users/%s", acme.id, user);
    json_decref(tl_call_ok(&sovd, "PATCH", path, secret, "{\"name\":\"Erika M.\"}", 200));
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", acme.id);
    tl_call(&sovd, "POST", path, secret, "{\"name\":\"Erika Mustermann\"}", &r);
    ck_assert_int_eq(r.status, 400);
    tl_resp_free(&r);

    snprintf(path, sizeof(path), "/v1/tenants/%s/users/%s", acme.id, user);
    json_decref(tl_call_ok(&sovd, "DELETE", path, op, NULL, 204));

    /* The row is gone, and her tokens with it. */
    ck_assert_int_eq(sql_number("SELECT count(*) FROM users WHERE lower(email) = "
                                "'erika.mustermann@acme.example.eu' OR name ILIKE '%erika%'"),
                     0);
    snprintf(body, sizeof(body), "SELECT count(*) FROM tokens WHERE user_id = '%s'", user);
    ck_assert_int_eq(sql_number(body), 0);
    tl_call(&sovd, "GET", "/v1/me", secret, NULL, &r);
    tl_assert_problem(&r, 401, "/problems/unauthenticated");
    tl_resp_free(&r);

    /* No audit row holds her name or email, in any column. */
    ck_assert_int_eq(sql_number("SELECT count(*) FROM audit_log a WHERE a::text ILIKE "
                                "'%erika%' OR a::text ILIKE '%mustermann%'"),
                     0);
    tl_call(&sovd, "GET", "/v1/audit?limit=1000", op, NULL, &r);
    ck_assert_int_eq(r.status, 200);
    for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++)
        ck_assert_msg(!strstr(r.body, traces[i]), "audit log mentions %s", traces[i]);
    tl_resp_free(&r);

    /* Her opaque id stays on what she did and on what was done to her. */
    snprintf(path, sizeof(path), "user_id=%s", user);
    items = audit_all(op, path);
    ck_assert_uint_eq(count_where(items, "action", "workspaces.create"), 2);  /* 201, 400 */
    ck_assert_uint_eq(count_where(items, "action", "users.update"), 1);
    json_decref(items);
    snprintf(path, sizeof(path), "resource_type=user&resource_id=%s", user);
    items = audit_all(op, path);
    ck_assert_uint_eq(count_where(items, "action", "users.create"), 1);
    ck_assert_uint_eq(count_where(items, "action", "users.delete"), 1);
    json_decref(items);

    text = tl_sovd_log(&sovd);
    ck_assert_msg(text && !strstr(text, "Mustermann"), "sovd's log names the user");
    free(text);
}
END_TEST

/* ---- the chain ---- */

START_TEST(verify_answers_ok_on_an_intact_chain)
{
    tl_tenant acme, optenant;
    long long entries, broken;
    char sql[160];
    json_t *v;
    tl_resp r;

    tl_operator_tenant(&sovd, &optenant);
    tl_tenant_make(&sovd, op, "acme", &acme);
    make_workspace(acme.id, acme.token[TL_ADMIN], "ws-1");

    v = tl_call_ok(&sovd, "GET", "/v1/audit/verify", op, NULL, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    ck_assert_int_eq(num(v, "entries"), sql_number("SELECT count(*) FROM audit_log"));
    ck_assert_ptr_null(json_object_get(v, "first_broken"));
    json_decref(v);

    ck_assert(verify(&entries, &broken));
    ck_assert_int_ge(entries, 15);
    v = tl_call_ok(&sovd, "GET", "/v1/audit/verify", optenant.token[TL_AUDITOR], NULL, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    ck_assert_int_eq(num(v, "entries"), entries);
    json_decref(v);

    /* A tenant's admin and auditor verify the chain their entries hang in, counting theirs. */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE tenant_id = '%s'",
             acme.id);
    for (int k = 0; k < 2; k++) {
        v = tl_call_ok(&sovd, "GET", "/v1/audit/verify",
                       acme.token[k == 0 ? TL_ADMIN : TL_AUDITOR], NULL, 200);
        ck_assert(json_is_true(json_object_get(v, "ok")));
        ck_assert_int_eq(num(v, "entries"), sql_number(sql));
        ck_assert_int_lt(num(v, "entries"), entries);
        json_decref(v);
    }
    tl_call(&sovd, "GET", "/v1/audit/verify", acme.token[TL_MEMBER], NULL, &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
}
END_TEST

/* Some history to tamper with: a tenant with four users and tokens, and two workspaces.
 * Returns the last seq. */
static long long
history(void)
{
    tl_tenant acme;
    long long entries, broken;

    tl_tenant_make(&sovd, op, "acme", &acme);
    make_workspace(acme.id, acme.token[TL_ADMIN], "ws-1");
    make_workspace(acme.id, acme.token[TL_ADMIN], "ws-2");
    ck_assert_msg(verify(&entries, &broken), "chain broken before any tampering");
    ck_assert_int_eq(entries, sql_number("SELECT max(seq) FROM audit_log"));
    ck_assert_int_ge(entries, 10);
    return entries;
}

START_TEST(verify_names_an_edited_outcome)
{
    long long last = history(), k = last / 2, entries, broken, outcome;
    char sql[160];

    snprintf(sql, sizeof(sql), "SELECT outcome FROM audit_log WHERE seq = %lld", k);
    outcome = sql_number(sql);
    ck_assert_int_ne(outcome, 200);
    snprintf(sql, sizeof(sql), "UPDATE audit_log SET outcome = 200 WHERE seq = %lld", k);
    free(tl_db_exec(db, sql));
    ck_assert(!verify(&entries, &broken));
    ck_assert_int_eq(broken, k);
    ck_assert_int_eq(entries, k - 1);

    /* New entries after it do not hide it. */
    tl_tenant other;
    tl_tenant_make(&sovd, op, "globex", &other);
    ck_assert(!verify(&entries, &broken));
    ck_assert_int_eq(broken, k);

    /* Put the true value back and the chain is whole again: the verdict is about content. */
    snprintf(sql, sizeof(sql), "UPDATE audit_log SET outcome = %lld WHERE seq = %lld", outcome,
             k);
    free(tl_db_exec(db, sql));
    ck_assert(verify(&entries, &broken));
    ck_assert_int_eq(entries, sql_number("SELECT max(seq) FROM audit_log"));
}
END_TEST

START_TEST(verify_names_a_deleted_middle_entry)
{
    long long last = history(), k = last / 2, entries, broken;
    char sql[160];

    snprintf(sql, sizeof(sql), "DELETE FROM audit_log WHERE seq = %lld", k);
    free(tl_db_exec(db, sql));
    ck_assert(!verify(&entries, &broken));
    ck_assert_int_eq(broken, k);
}
END_TEST

START_TEST(verify_names_a_deleted_last_entry)
{
    long long last = history(), entries, broken;
    char sql[160];

    snprintf(sql, sizeof(sql), "DELETE FROM audit_log WHERE seq = %lld", last);
    free(tl_db_exec(db, sql));
    ck_assert(!verify(&entries, &broken));
    ck_assert_int_eq(broken, last);
    ck_assert_int_eq(entries, last - 1);
}
END_TEST

START_TEST(verify_names_an_entry_whose_hash_was_replaced)
{
    long long last = history(), k = last / 2, entries, broken;
    char sql[160];

    snprintf(sql, sizeof(sql), "UPDATE audit_log SET hash = repeat('f', 64) WHERE seq = %lld",
             k);
    free(tl_db_exec(db, sql));
    ck_assert(!verify(&entries, &broken));
    ck_assert_int_eq(broken, k);
}
END_TEST

START_TEST(verify_names_a_rewritten_last_entry)
{
    long long last = history(), entries, broken;
    char sql[160];

    /* The last entry has no successor to link to it: the head row must catch this. */
    snprintf(sql, sizeof(sql), "UPDATE audit_log SET hash = repeat('e', 64) WHERE seq = %lld",
             last);
    free(tl_db_exec(db, sql));
    ck_assert(!verify(&entries, &broken));
    ck_assert_int_eq(broken, last);
}
END_TEST

#define WRITERS 20

typedef struct writer {
    pthread_barrier_t *go;
    char url[256];
    char auth[128];     /* empty: no token */
    char body[64];
    char xrid[64];
    int transport_failed;
    long status;
} writer;

/* One create, fired when all writers are ready. No Check asserts off the main thread. */
static void *
write_one(void *arg)
{
    writer *me = arg;
    const char *headers[] = { me->xrid, "Content-Type: application/json",
                              me->auth[0] ? me->auth : NULL, NULL };
    tl_req q = { .method = "POST", .url = me->url, .headers = headers, .body = me->body,
                 .body_len = strlen(me->body) };
    tl_resp r;

    pthread_barrier_wait(me->go);
    me->transport_failed = tl_http_try(&q, &r) < 0;
    me->status = r.status;
    tl_resp_free(&r);
    return NULL;
}

/* 20 workspace creates at once, each in its own tenant so that no quota row serialises
 * them, and 20 anonymous creates that are denied and audited alone: only the chain's head
 * orders these appends. */
START_TEST(concurrent_appends_keep_the_chain_whole)
{
    static writer writers[2 * WRITERS];
    static char tenants[WRITERS][40];
    pthread_t threads[2 * WRITERS];
    pthread_barrier_t go;
    char body[64], rid[32];
    long long entries, broken;
    json_t *items, *j;

    for (int i = 0; i < WRITERS; i++) {
        snprintf(body, sizeof(body), "{\"name\":\"t-%d\"}", i);
        j = tl_call_ok(&sovd, "POST", "/v1/tenants", op, body, 201);
        snprintf(tenants[i], sizeof(tenants[i]), "%s", str(j, "id"));
        json_decref(j);
    }

    ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2 * WRITERS), 0);
    for (int i = 0; i < 2 * WRITERS; i++) {
        writer *w = &writers[i];
        memset(w, 0, sizeof(*w));
        w->go = &go;
        snprintf(w->url, sizeof(w->url), "%s/v1/tenants/%s/workspaces", sovd.base,
                 tenants[i % WRITERS]);
        if (i < WRITERS)
            snprintf(w->auth, sizeof(w->auth), "Authorization: Bearer %s", op);
        snprintf(w->body, sizeof(w->body), "{\"name\":\"c-%d\"}", i);
        snprintf(w->xrid, sizeof(w->xrid), "X-Request-Id: conc-%d", i);
        ck_assert_int_eq(pthread_create(&threads[i], NULL, write_one, w), 0);
    }
    for (int i = 0; i < 2 * WRITERS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 2 * WRITERS; i++) {
        ck_assert_msg(!writers[i].transport_failed, "create %d: transport failure", i);
        ck_assert_msg(writers[i].status == (i < WRITERS ? 201 : 401), "create %d: %ld", i,
                      writers[i].status);
    }

    ck_assert(verify(&entries, &broken));
    ck_assert_int_eq(entries, sql_number("SELECT count(*) FROM audit_log"));
    /* No gaps, no fork: seq runs 1..n and no two entries share a predecessor. */
    ck_assert_int_eq(sql_number("SELECT max(seq) - count(*) FROM audit_log"), 0);
    ck_assert_int_eq(sql_number("SELECT min(seq) FROM audit_log"), 1);
    ck_assert_int_eq(sql_number("SELECT count(*) FROM (SELECT prev_hash FROM audit_log "
                                "GROUP BY prev_hash HAVING count(*) > 1) forks"),
                     0);
    ck_assert_int_eq(sql_number("SELECT seq FROM audit_head"), entries);

    /* Every request left its one entry. */
    items = audit_all(op, "action=workspaces.create");
    ck_assert_uint_eq(json_array_size(items), 2 * WRITERS);
    for (int i = 0; i < 2 * WRITERS; i++) {
        snprintf(rid, sizeof(rid), "conc-%d", i);
        json_t *e = by_rid(items, rid);
        if (i < WRITERS)
            ck_assert_int_eq(num(e, "outcome"), 201);
        else
            assert_entry(e, "workspaces.create", 401, NULL, "anonymous");
    }
    json_decref(items);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/audit");
    TCase *rec = tcase_create("recording");
    TCase *read = tcase_create("reading");
    TCase *chain = tcase_create("chain");

    tcase_add_checked_fixture(rec, setup, teardown);
    tcase_set_timeout(rec, 300);
    tcase_add_test(rec, mutating_requests_are_audited_with_action_outcome_caller_and_request_id);
    tcase_add_test(rec, denied_and_failed_requests_are_audited);
    tcase_add_test(rec, a_deleted_user_leaves_its_id_and_no_personal_data);
    suite_add_tcase(s, rec);

    tcase_add_checked_fixture(read, setup, teardown);
    tcase_set_timeout(read, 300);
    tcase_add_test(read, tenant_admins_and_auditors_see_only_their_tenant);
    tcase_add_test(read, filters_select_by_action_user_resource_and_time);
    tcase_add_test(read, pages_follow_next_to_the_end_in_seq_order);
    tcase_add_test(read, bad_filters_are_400_naming_the_parameter);
    suite_add_tcase(s, read);

    tcase_add_checked_fixture(chain, setup, teardown);
    tcase_set_timeout(chain, 300);
    tcase_add_test(chain, verify_answers_ok_on_an_intact_chain);
    tcase_add_test(chain, verify_names_an_edited_outcome);
    tcase_add_test(chain, verify_names_a_deleted_middle_entry);
    tcase_add_test(chain, verify_names_a_deleted_last_entry);
    tcase_add_test(chain, verify_names_an_entry_whose_hash_was_replaced);
    tcase_add_test(chain, verify_names_a_rewritten_last_entry);
    tcase_add_test(chain, concurrent_appends_keep_the_chain_whole);
    suite_add_tcase(s, chain);
    return tl_run_suite(s);
}
