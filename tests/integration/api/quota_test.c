/* Tenant quotas through the API, against a real sovd and PostgreSQL: GET shows each limit
 * (configured defaults) and its usage, PUT (operators only) sets the limits given and refuses
 * bad input naming the field, 50 concurrent workspace creates against room for 10 admit
 * exactly 10, deleting a workspace gives its quota back, and an instance over its vCPU quota
 * is 403 even where no host has room for it (409 no-capacity otherwise). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* Enough HTTP threads and pooled connections that concurrent requests really overlap. */
#define SOVD_ARGS "--http-threads=8", "--db-pool-size=16"

static const char *const quota_names[] = { "instances", "vcpus", "memory_mib", "gpus",
                                           "volumes", "storage_gib", "workspaces",
                                           "snapshots", "networks", "subnets", "ports",
                                           "security_groups", "security_group_rules",
                                           "public_ips" };
#define NQUOTAS (sizeof(quota_names) / sizeof(quota_names[0]))

static char *db;
static tl_sovd sovd;
static char *op;
static tl_tenant acme;

/* A fresh database per test; each test starts sovd with the flags it needs. */
static void
setup(void)
{
    db = tl_db_create();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    tl_db_drop(db);
    free(db);
    free(op);
}

/* sovd with extra flags (NULL-terminated, may be NULL), its operator token and a tenant
 * 'acme' with a user per role. */
static void
start(const char *const *extra)
{
    const char *args[16] = { SOVD_ARGS };
    size_t n = 2;

    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
}

static void
quotas_path(const char *tenant_id, char *buf, size_t size)
{
    snprintf(buf, size, "/v1/tenants/%s/quotas", tenant_id);
}

/* One quota's limit and usage from a quotas reply; fails the test when it is not there. */
static void
quota_of(const json_t *reply, const char *name, long long *limit, long long *used)
{
    json_t *q = json_object_get(json_object_get(reply, "quotas"), name);

    ck_assert_msg(q, "no quota '%s' in reply", name);
    ck_assert_msg(json_is_integer(json_object_get(q, "limit")), "%s.limit is no integer", name);
    ck_assert_msg(json_is_integer(json_object_get(q, "used")), "%s.used is no integer", name);
    *limit = json_integer_value(json_object_get(q, "limit"));
    *used = json_integer_value(json_object_get(q, "used"));
}

static json_t *
get_quotas(const char *tenant_id, const char *token)
{
    char path[128];

    quotas_path(tenant_id, path, sizeof(path));
    return tl_call_ok(&sovd, "GET", path, token, NULL, 200);
}

static long long
workspaces_used(void)
{
    json_t *q = get_quotas(acme.id, op);
    long long limit, used;

    quota_of(q, "workspaces", &limit, &used);
    json_decref(q);
    return used;
}

static void
set_quotas(const char *tenant_id, const char *body)
{
    char path[128];

    quotas_path(tenant_id, path, sizeof(path));
    json_decref(tl_call_ok(&sovd, "PUT", path, op, body, 200));
}

static long
create_workspace(const char *token, const char *name, tl_resp *ret)
{
    char path[128], body[128];

    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", acme.id);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    tl_call(&sovd, "POST", path, token, body, ret);
    return ret->status;
}

/* Assert a quota-exceeded problem and its members. */
static void
assert_quota_exceeded(const tl_resp *r, const char *quota, long long limit, long long used,
                      long long requested)
{
    tl_assert_problem(r, 403, "/problems/quota-exceeded");
    ck_assert_str_eq(json_string_value(json_object_get(r->json, "quota")), quota);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "limit")), limit);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "used")), used);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "requested")), requested);
}

START_TEST(quotas_show_configured_limits_and_usage)
{
    const char *flags[] = { "--quota-instances=7", "--quota-gpus=3", "--quota-workspaces=5",
                            "--quota-snapshots=9", NULL };
    /* The configured defaults, and the built-in ones for the keys not given. */
    const long long want[NQUOTAS] = { 7, 80, 163840, 3, 40, 2000, 5, 9, 10, 40, 200, 20,
                                      400, 10 };
    json_t *q;
    long long limit, used;

    start(flags);
    q = get_quotas(acme.id, op);
    ck_assert_str_eq(json_string_value(json_object_get(q, "tenant_id")), acme.id);
    ck_assert_int_eq(json_object_size(json_object_get(q, "quotas")), NQUOTAS);
    for (size_t i = 0; i < NQUOTAS; i++) {
        quota_of(q, quota_names[i], &limit, &used);
        ck_assert_msg(limit == want[i], "%s: limit %lld, want %lld", quota_names[i], limit,
                      want[i]);
        /* Only the default workspace is in use in a new tenant. */
        ck_assert_msg(used == (strcmp(quota_names[i], "workspaces") == 0 ? 1 : 0),
                      "%s: used %lld", quota_names[i], used);
    }
    json_decref(q);

    /* Every role of the tenant reads its own quotas. */
    for (int r = TL_ADMIN; r < TL_ROLES; r++) {
        q = get_quotas(acme.id, acme.token[r]);
        quota_of(q, "workspaces", &limit, &used);
        ck_assert_int_eq(limit, 5);
        ck_assert_int_eq(used, 1);
        json_decref(q);
    }
}
END_TEST

START_TEST(other_tenants_quotas_do_not_exist_for_the_caller)
{
    tl_tenant other;
    char path[128];
    tl_resp r;

    start(NULL);
    tl_tenant_make(&sovd, op, "globex", &other);
    quotas_path(other.id, path, sizeof(path));
    tl_call(&sovd, "GET", path, acme.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&sovd, "GET", "/v1/tenants/00000000-0000-4000-8000-000000000000/quotas", op, NULL,
            &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
}
END_TEST

START_TEST(operator_sets_the_limits_given_and_leaves_the_others)
{
    char path[128];
    json_t *q;
    long long limit, used;
    tl_resp r;

    start(NULL);
    quotas_path(acme.id, path, sizeof(path));
    q = tl_call_ok(&sovd, "PUT", path, op, "{\"instances\":5,\"gpus\":2,\"workspaces\":0}",
                   200);
    quota_of(q, "instances", &limit, &used);
    ck_assert_int_eq(limit, 5);
    quota_of(q, "gpus", &limit, &used);
    ck_assert_int_eq(limit, 2);
    json_decref(q);

    /* A fresh read shows the same, with the untouched limits at their defaults. A limit
     * below the usage is allowed: it only stops new creates. */
    q = get_quotas(acme.id, acme.token[TL_READER]);
    const long long want[NQUOTAS] = { 5, 80, 163840, 2, 40, 2000, 0, 100, 10, 40, 200, 20,
                                      400, 10 };
    for (size_t i = 0; i < NQUOTAS; i++) {
        quota_of(q, quota_names[i], &limit, &used);
        ck_assert_msg(limit == want[i], "%s: limit %lld, want %lld", quota_names[i], limit,
                      want[i]);
    }
    quota_of(q, "workspaces", &limit, &used);
    ck_assert_int_eq(used, 1);
    json_decref(q);

    create_workspace(acme.token[TL_ADMIN], "one-more", &r);
    assert_quota_exceeded(&r, "workspaces", 0, 1, 1);
    tl_resp_free(&r);

    /* Only an operator sets limits: a tenant's admin may not raise its own. */
    tl_call(&sovd, "PUT", path, acme.token[TL_ADMIN], "{\"instances\":500}", &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    q = get_quotas(acme.id, op);
    quota_of(q, "instances", &limit, &used);
    ck_assert_int_eq(limit, 5);
    json_decref(q);
}
END_TEST

START_TEST(bad_quota_input_is_400_naming_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{\"cores\":4}", "cores" },
        { "{\"vcpus\":-1}", "vcpus" },
        { "{\"vcpus\":1.5}", "vcpus" },
        { "{\"vcpus\":\"10\"}", "vcpus" },
        { "{\"vcpus\":true}", "vcpus" },
        { "{\"instances\":4,\"volumes\":-5}", "volumes" },
        { "{\"storage_gib\":1125899906842625}", "storage_gib" },  /* 2^50 + 1 */
        { "{}", "quotas" },
    };
    char path[128];
    tl_resp r;
    json_t *q;
    long long limit, used;

    start(NULL);
    quotas_path(acme.id, path, sizeof(path));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tl_call(&sovd, "PUT", path, op, bad[i].body, &r);
        tl_assert_problem(&r, 400, "/problems/invalid-request");
        json_t *e = json_array_get(json_object_get(r.json, "errors"), 0);
        ck_assert_msg(e, "%s: no errors[]: %s", bad[i].body, r.body);
        ck_assert_msg(strcmp(json_string_value(json_object_get(e, "field")), bad[i].field) == 0,
                      "%s: field %s, want %s", bad[i].body,
                      json_string_value(json_object_get(e, "field")), bad[i].field);
        tl_resp_free(&r);
    }
    tl_call(&sovd, "PUT", path, op, "[1]", &r);
    tl_assert_problem(&r, 400, "/problems/malformed-json");
    tl_resp_free(&r);

    /* Nothing was changed by any of them, not even the valid half of a mixed body. */
    q = get_quotas(acme.id, op);
    quota_of(q, "instances", &limit, &used);
    ck_assert_int_eq(limit, 20);
    quota_of(q, "vcpus", &limit, &used);
    ck_assert_int_eq(limit, 80);
    quota_of(q, "volumes", &limit, &used);
    ck_assert_int_eq(limit, 40);
    quota_of(q, "storage_gib", &limit, &used);
    ck_assert_int_eq(limit, 2000);
    json_decref(q);
}
END_TEST

#define RACERS 50
#define ROOM 10

typedef struct racer {
    pthread_barrier_t *go;
    char url[256];
    char auth[128];
    char body[64];
    int transport_failed;
    tl_resp r;
} racer;

/* One create, fired when all racers are ready. No Check asserts here: the main thread
 * judges the results. */
static void *
race(void *arg)
{
    racer *me = arg;
    const char *headers[] = { me->auth, "Content-Type: application/json", NULL };
    tl_req q = { .method = "POST", .url = me->url, .headers = headers, .body = me->body,
                 .body_len = strlen(me->body) };

    pthread_barrier_wait(me->go);
    me->transport_failed = tl_http_try(&q, &me->r) < 0;
    return NULL;
}

/* The demand: 50 concurrent creates against a quota of 10 more, exactly 10 pass. */
START_TEST(fifty_concurrent_creates_against_room_for_ten_admit_exactly_ten)
{
    static racer racers[RACERS];
    pthread_t threads[RACERS];
    pthread_barrier_t go;
    char body[64], path[128];
    int created = 0, refused = 0;
    long long limit, used;
    json_t *q, *list;

    start(NULL);
    /* The default workspace is the 1 in use: room for exactly ROOM more. */
    snprintf(body, sizeof(body), "{\"workspaces\":%d}", ROOM + 1);
    set_quotas(acme.id, body);

    ck_assert_int_eq(pthread_barrier_init(&go, NULL, RACERS), 0);
    for (int i = 0; i < RACERS; i++) {
        racer *r = &racers[i];
        memset(r, 0, sizeof(*r));
        r->go = &go;
        snprintf(r->url, sizeof(r->url), "%s/v1/tenants/%s/workspaces", sovd.base, acme.id);
        snprintf(r->auth, sizeof(r->auth), "Authorization: Bearer %s", acme.token[TL_ADMIN]);
        snprintf(r->body, sizeof(r->body), "{\"name\":\"w-%d\"}", i);
        ck_assert_int_eq(pthread_create(&threads[i], NULL, race, r), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&go);

    for (int i = 0; i < RACERS; i++) {
        racer *r = &racers[i];
        ck_assert_msg(!r->transport_failed, "create %d: transport failure", i);
        if (r->r.status == 201) {
            created++;
        } else {
            assert_quota_exceeded(&r->r, "workspaces", ROOM + 1, ROOM + 1, 1);
            refused++;
        }
        tl_resp_free(&r->r);
    }
    ck_assert_int_eq(created, ROOM);
    ck_assert_int_eq(refused, RACERS - ROOM);

    q = get_quotas(acme.id, op);
    quota_of(q, "workspaces", &limit, &used);
    ck_assert_int_eq(limit, ROOM + 1);
    ck_assert_int_eq(used, limit);
    json_decref(q);

    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces?limit=1000", acme.id);
    list = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), ROOM + 1);
    ck_assert(json_is_null(json_object_get(list, "next")));
    json_decref(list);
    /* The table agrees with the counter. */
    char *rows = tl_db_exec(db, "SELECT count(*) FROM workspaces w JOIN tenants t "
                                "ON t.id = w.tenant_id WHERE t.name = 'acme'");
    ck_assert_int_eq(atoi(rows), ROOM + 1);
    free(rows);
}
END_TEST

START_TEST(deleting_a_workspace_releases_its_quota)
{
    char path[160];
    tl_resp r;

    start(NULL);
    set_quotas(acme.id, "{\"workspaces\":3}");
    ck_assert_int_eq(create_workspace(acme.token[TL_ADMIN], "build", &r), 201);
    tl_resp_free(&r);
    ck_assert_int_eq(create_workspace(acme.token[TL_ADMIN], "staging", &r), 201);
    tl_resp_free(&r);
    ck_assert_int_eq(workspaces_used(), 3);
    create_workspace(acme.token[TL_ADMIN], "prod", &r);
    assert_quota_exceeded(&r, "workspaces", 3, 3, 1);
    tl_resp_free(&r);

    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces/staging", acme.id);
    json_decref(tl_call_ok(&sovd, "DELETE", path, acme.token[TL_ADMIN], NULL, 204));
    ck_assert_int_eq(workspaces_used(), 2);

    /* The room freed is usable at once. */
    ck_assert_int_eq(create_workspace(acme.token[TL_ADMIN], "prod", &r), 201);
    tl_resp_free(&r);
    ck_assert_int_eq(workspaces_used(), 3);

    /* A delete that fails gives nothing back. */
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces/staging", acme.id);
    tl_call(&sovd, "DELETE", path, acme.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    ck_assert_int_eq(workspaces_used(), 3);
}
END_TEST

START_TEST(default_workspace_cannot_be_deleted)
{
    char path[160];
    tl_resp r;

    start(NULL);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces/default", acme.id);
    tl_call(&sovd, "DELETE", path, acme.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    tl_call(&sovd, "DELETE", path, op, NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    ck_assert_int_eq(workspaces_used(), 1);
    json_decref(tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200));
}
END_TEST

/* Over quota is 403 even where no host has room: the quota is read before placement. The
 * one host (libvirt's test driver: 16 CPUs, 64 vCPUs at ratio 4) is too small for the flavor
 * (128 vCPUs), so a create inside the quota is 409 no-capacity, and one over the vCPU quota
 * 403, with nothing written. */
START_TEST(over_quota_is_403_even_when_no_host_has_room)
{
    char path[128], body[256];
    json_t *j;
    tl_resp r;

    start(NULL);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"fr-quota-1\",\"name\":\"Quota FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_host_add(&sovd, op,
                           "{\"name\":\"small-node\",\"region\":\"fr-quota-1\",\"zone\":\"a\","
                           "\"libvirt_uri\":\"test:///default\"}"));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"huge\",\"vcpus\":128,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER],
                   "{\"name\":\"base\",\"region\":\"fr-quota-1\",\"format\":\"qcow2\"}", 201);
    free(tl_db_value(db, "UPDATE images SET state = 'active', size_bytes = 1048576,"
                         " virtual_size_bytes = 1048576 WHERE id = '%s'", tl_str(j, "id")));
    json_decref(j);
    snprintf(body, sizeof(body), "{\"name\":\"vm-1\",\"flavor\":\"huge\",\"image\":\"base\"}");
    quotas_path(acme.id, path, sizeof(path));
    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"vcpus\":1000}", 200));

    /* Inside the quota: no host has room. */
    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, &r);
    tl_assert_problem(&r, 409, "/problems/no-capacity");
    tl_resp_free(&r);

    json_decref(tl_call_ok(&sovd, "PUT", path, op, "{\"vcpus\":100}", 200));
    tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, &r);
    assert_quota_exceeded(&r, "vcpus", 100, 0, 128);
    tl_resp_free(&r);
    /* The dry run of the same create answers what the create did. */
    tl_call(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER], body, &r);
    assert_quota_exceeded(&r, "vcpus", 100, 0, 128);
    tl_resp_free(&r);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances"), 0);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations"
                                   " WHERE kind <> 'host.register'"), 0);
    j = get_quotas(acme.id, op);
    long long limit, used;
    quota_of(j, "vcpus", &limit, &used);
    ck_assert_int_eq(used, 0);
    quota_of(j, "instances", &limit, &used);
    ck_assert_int_eq(used, 0);
    json_decref(j);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/quota");
    TCase *tc = tcase_create("quota");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, quotas_show_configured_limits_and_usage);
    tcase_add_test(tc, other_tenants_quotas_do_not_exist_for_the_caller);
    tcase_add_test(tc, operator_sets_the_limits_given_and_leaves_the_others);
    tcase_add_test(tc, bad_quota_input_is_400_naming_the_field);
    tcase_add_test(tc, fifty_concurrent_creates_against_room_for_ten_admit_exactly_ten);
    tcase_add_test(tc, deleting_a_workspace_releases_its_quota);
    tcase_add_test(tc, default_workspace_cannot_be_deleted);
    tcase_add_test(tc, over_quota_is_403_even_when_no_host_has_room);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
