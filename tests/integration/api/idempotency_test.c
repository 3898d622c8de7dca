/* Idempotency-Key on creates: a retry with the same key and request answers the first
 * result and creates nothing; a different request with the key is refused; a failed
 * request frees the key; keys belong to their caller; and a sovd killed between a create's
 * commit and its reply (SOV_FAULT_POINT=idempotency.after-create) leaves the answer behind:
 * the retry, on a sovd started again, answers it and creates nothing more. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static char *db;
static tl_sovd sovd;
static char *op;

static void
setup(void)
{
    db = tl_db_create();
    const char *args[] = { "--http-threads=4", "--db-pool-size=12", NULL };
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
}

static void
teardown(void)
{
    ck_assert_int_eq(tl_sovd_stop(&sovd, SIGTERM, 20), 0);
    tl_sovd_discard(&sovd);
    free(op);
    tl_db_drop(db);
    free(db);
}

static void
post(const char *token, const char *key, const char *body, tl_resp *r)
{
    char url[256], auth[128], idem[300];
    const char *h[] = { auth, "Content-Type: application/json", idem, NULL };

    snprintf(url, sizeof(url), "%s/v1/tenants", sovd.base);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key);
    tl_req q = { .method = "POST", .url = url, .headers = h, .body = body,
                 .body_len = strlen(body) };
    tl_http(&q, r);
}

static int
tenants_named(const char *name)
{
    char sql[200], *n;
    int count;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tenants WHERE name = '%s'", name);
    n = tl_db_exec(db, sql);
    count = atoi(n);
    free(n);
    return count;
}

START_TEST(retry_with_same_key_replays_the_first_answer)
{
    tl_resp a, b;
    char *loc_a, *loc_b, *replayed;

    post(op, "key-1", "{\"name\":\"idem-one\"}", &a);
    ck_assert_int_eq(a.status, 201);
    post(op, "key-1", "{\"name\":\"idem-one\"}", &b);
    ck_assert_int_eq(b.status, 201);
    ck_assert_str_eq(json_string_value(json_object_get(a.json, "id")),
                     json_string_value(json_object_get(b.json, "id")));
    loc_a = tl_resp_header(&a, "Location");
    loc_b = tl_resp_header(&b, "Location");
    ck_assert_str_eq(loc_a, loc_b);
    replayed = tl_resp_header(&b, "Idempotent-Replayed");
    ck_assert_str_eq(replayed, "true");
    ck_assert_ptr_null(tl_resp_header(&a, "Idempotent-Replayed"));
    ck_assert_int_eq(tenants_named("idem-one"), 1);
    free(loc_a);
    free(loc_b);
    free(replayed);
    tl_resp_free(&a);
    tl_resp_free(&b);
}
END_TEST

START_TEST(same_key_for_another_request_is_refused)
{
    tl_resp a, b;

    post(op, "key-2", "{\"name\":\"idem-two\"}", &a);
    ck_assert_int_eq(a.status, 201);
    post(op, "key-2", "{\"name\":\"idem-other\"}", &b);
    tl_assert_problem(&b, 409, "/problems/conflict");
    ck_assert_ptr_nonnull(strstr(b.body, "different request"));
    ck_assert_int_eq(tenants_named("idem-other"), 0);
    tl_resp_free(&a);
    tl_resp_free(&b);
}
END_TEST

START_TEST(failed_request_frees_its_key)
{
    tl_resp a, b;

    post(op, "key-3", "{\"name\":\"Not A Slug\"}", &a);
    tl_assert_problem(&a, 400, "/problems/invalid-request");
    post(op, "key-3", "{\"name\":\"idem-three\"}", &b);
    ck_assert_int_eq(b.status, 201);
    tl_resp_free(&a);
    tl_resp_free(&b);
}
END_TEST

START_TEST(bad_keys_are_refused)
{
    tl_resp r;
    char key[300];

    memset(key, 'k', 256);
    key[256] = '\0';
    post(op, key, "{\"name\":\"idem-long\"}", &r);
    tl_assert_problem(&r, 400, "/problems/invalid-request");
    tl_resp_free(&r);
    ck_assert_int_eq(tenants_named("idem-long"), 0);
}
END_TEST

START_TEST(keys_belong_to_their_caller)
{
    tl_tenant t;
    tl_resp a, b;
    char path[128];

    tl_tenant_make(&sovd, op, "idem-owner", &t);
    snprintf(path, sizeof(path), "/v1/tenants/%s/workspaces", t.id);
    /* The same key used by two callers: two separate creates. */
    post(op, "shared-key", "{\"name\":\"idem-four\"}", &a);
    ck_assert_int_eq(a.status, 201);
    char url[256], auth[128];
    const char *h[] = { auth, "Content-Type: application/json", "Idempotency-Key: shared-key",
                        NULL };
    snprintf(url, sizeof(url), "%s%s", sovd.base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t.token[TL_ADMIN]);
    tl_req q = { .method = "POST", .url = url, .headers = h, .body = "{\"name\":\"ws\"}",
                 .body_len = 13 };
    tl_http(&q, &b);
    ck_assert_int_eq(b.status, 201);
    ck_assert_str_eq(json_string_value(json_object_get(b.json, "name")), "ws");
    tl_resp_free(&a);
    tl_resp_free(&b);
}
END_TEST

/* POST path on s with key and body as token; a transport failure (a sovd that died) is
 * status 0. */
static void
post_to(const tl_sovd *s, const char *path, const char *token, const char *key,
        const char *body, tl_resp *r)
{
    char url[256], auth[128], idem[300];
    const char *h[] = { auth, "Content-Type: application/json", idem, NULL };

    snprintf(url, sizeof(url), "%s%s", s->base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key);
    tl_req q = { .method = "POST", .url = url, .headers = h, .body = body,
                 .body_len = strlen(body) };
    tl_http_try(&q, r);
}

/* Send the create to a sovd that kills itself once the create committed, before it could
 * answer or finish the key; then start sovd again on the same database and send the same
 * request with the same key: its answer (want_status, Idempotent-Replayed). */
static void
crash_then_retry(const char *path, const char *token, const char *key, const char *body,
                 long want_status, tl_resp *retry)
{
    tl_sovd dying, again;
    tl_resp first;
    char *replayed;

    memset(&dying, 0, sizeof(dying));
    memset(&again, 0, sizeof(again));
    setenv("SOV_FAULT_POINT", "idempotency.after-create", 1);
    tl_sovd_start(&dying, db, NULL);
    unsetenv("SOV_FAULT_POINT");
    post_to(&dying, path, token, key, body, &first);
    ck_assert_msg(first.status == 0, "sovd answered %ld instead of dying: %s", first.status,
                  first.body);
    ck_assert_int_eq(tl_sovd_stop(&dying, SIGKILL, 10), 128 + SIGKILL);
    tl_resp_free(&first);
    tl_sovd_discard(&dying);

    tl_sovd_start(&again, db, NULL);
    post_to(&again, path, token, key, body, retry);
    ck_assert_msg(retry->status == want_status, "retry: %ld %s", retry->status, retry->body);
    replayed = tl_resp_header(retry, "Idempotent-Replayed");
    ck_assert_msg(replayed && strcmp(replayed, "true") == 0, "retry was not a replay");
    free(replayed);
    ck_assert_int_eq(tl_sovd_stop(&again, SIGTERM, 20), 0);
    tl_sovd_discard(&again);
}

START_TEST(crash_after_a_tenant_create_replays_the_first_answer)
{
    tl_resp r;
    char *loc, want[96];

    crash_then_retry("/v1/tenants", op, "crash-tenant", "{\"name\":\"idem-crash\"}", 201, &r);
    ck_assert_int_eq(tenants_named("idem-crash"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "idem-crash");
    snprintf(want, sizeof(want), "/v1/tenants/%s",
             json_string_value(json_object_get(r.json, "id")));
    loc = tl_resp_header(&r, "Location");
    ck_assert_str_eq(loc, want);
    free(loc);
    tl_resp_free(&r);
}
END_TEST

/* A token's secret is never stored, not even for a replay: the stored answer is the token
 * without it, and a retry with the same key answers the same token, secret left out. */
START_TEST(a_token_create_keeps_no_secret_for_its_replay)
{
    tl_resp first, again;
    char *stored, *replayed;
    const char *body = "{\"name\":\"idem-token\"}";

    post_to(&sovd, "/v1/tokens", op, "token-key", body, &first);
    ck_assert_msg(first.status == 201, "%ld %s", first.status, first.body);
    const char *secret = tl_str(first.json, "secret");
    ck_assert_int_eq(strncmp(secret, "sov_", 4), 0);
    stored = tl_db_value(db, "SELECT body FROM idempotency_keys WHERE key = 'token-key'");
    ck_assert_msg(stored && strstr(stored, tl_str(first.json, "id")), "stored: %s", stored);
    ck_assert_msg(!strstr(stored, secret), "the secret was stored: %s", stored);
    free(stored);

    post_to(&sovd, "/v1/tokens", op, "token-key", body, &again);
    ck_assert_msg(again.status == 201, "%ld %s", again.status, again.body);
    replayed = tl_resp_header(&again, "Idempotent-Replayed");
    ck_assert_msg(replayed && strcmp(replayed, "true") == 0, "retry was not a replay");
    free(replayed);
    ck_assert_str_eq(tl_str(again.json, "id"), tl_str(first.json, "id"));
    ck_assert_ptr_null(json_object_get(again.json, "secret"));
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM tokens WHERE name = 'idem-token'"), 1);
    tl_resp_free(&first);
    tl_resp_free(&again);
}
END_TEST

/* A host registration (a 202 whose discovery a worker does later) is answered once too. */
START_TEST(crash_after_a_host_registration_replays_the_first_answer)
{
    tl_resp r;
    char *loc, want[96];

    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"fr-idem-2\",\"name\":\"Idem FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    crash_then_retry("/v1/hosts", op, "crash-host",
                     "{\"name\":\"idem-crash\",\"region\":\"fr-idem-2\",\"zone\":\"a\","
                     "\"libvirt_uri\":\"test:///default\"}", 202, &r);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM hosts WHERE name = 'idem-crash'"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations"
                                   " WHERE kind = 'host.register'"), 1);
    ck_assert_str_eq(tl_str(json_object_get(r.json, "host"), "name"), "idem-crash");
    snprintf(want, sizeof(want), "/v1/operations/%s",
             tl_str(json_object_get(r.json, "operation"), "id"));
    loc = tl_resp_header(&r, "Location");
    ck_assert_str_eq(loc, want);
    free(loc);
    tl_resp_free(&r);
}
END_TEST

/* Region, host (libvirt's test driver), flavor and an image made active by hand: what an
 * instance create needs. */
static void
instance_prerequisites(tl_tenant *t)
{
    json_t *j;

    tl_tenant_make(&sovd, op, "idem-vm", t);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"fr-idem-1\",\"name\":\"Idem FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    json_decref(tl_host_add(&sovd, op,
                           "{\"name\":\"idem-node\",\"region\":\"fr-idem-1\",\"zone\":\"a\","
                           "\"libvirt_uri\":\"test:///default\"}"));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"idem-small\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    j = tl_call_ok(&sovd, "POST", "/v1/images", t->token[TL_MEMBER],
                   "{\"name\":\"idem-base\",\"region\":\"fr-idem-1\",\"format\":\"qcow2\"}",
                   201);
    free(tl_db_value(db, "UPDATE images SET state = 'active', size_bytes = 1048576,"
                         " virtual_size_bytes = 1048576 WHERE id = '%s'", tl_str(j, "id")));
    json_decref(j);
}

START_TEST(crash_after_an_instance_create_replays_the_first_answer)
{
    tl_tenant t;
    tl_resp r;
    const json_t *x, *o;
    char *loc, *id, want[96];

    instance_prerequisites(&t);
    crash_then_retry("/v1/instances", t.token[TL_MEMBER], "crash-vm",
                     "{\"name\":\"vm-1\",\"flavor\":\"idem-small\",\"image\":\"idem-base\"}",
                     202, &r);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM instances WHERE name = 'vm-1'"), 1);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM operations"
                                   " WHERE kind = 'instance.create'"), 1);
    x = json_object_get(r.json, "instance");
    o = json_object_get(r.json, "operation");
    ck_assert_str_eq(tl_str(x, "name"), "vm-1");
    ck_assert_str_eq(tl_str(x, "state"), "scheduling");
    id = tl_db_value(db, "SELECT id FROM instances WHERE name = 'vm-1'");
    ck_assert_str_eq(tl_str(x, "id"), id);
    free(id);
    ck_assert_str_eq(tl_str(o, "resource_id"), tl_str(x, "id"));
    snprintf(want, sizeof(want), "/v1/operations/%s", tl_str(o, "id"));
    loc = tl_resp_header(&r, "Location");
    ck_assert_str_eq(loc, want);
    free(loc);
    tl_resp_free(&r);
}
END_TEST

START_TEST(crash_after_an_image_create_replays_the_first_answer)
{
    tl_tenant t;
    tl_resp r;

    tl_tenant_make(&sovd, op, "idem-img", &t);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"fr-idem-2\",\"name\":\"Idem FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    crash_then_retry("/v1/images", t.token[TL_MEMBER], "crash-image",
                     "{\"name\":\"img-1\",\"region\":\"fr-idem-2\",\"format\":\"qcow2\"}", 201,
                     &r);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM images WHERE name = 'img-1'"), 1);
    ck_assert_str_eq(tl_str(r.json, "name"), "img-1");
    tl_resp_free(&r);
}
END_TEST

typedef struct racer {
    tl_resp r;
} racer;

static void *
race(void *arg)
{
    racer *x = arg;
    post(op, "race-key", "{\"name\":\"idem-race\"}", &x->r);
    return NULL;
}

START_TEST(concurrent_retries_create_once)
{
    enum { N = 8 };
    pthread_t t[N];
    racer x[N];
    int created = 0;

    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &x[i]), 0);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(x[i].r.status == 201 || x[i].r.status == 409, "status %ld: %s",
                      x[i].r.status, x[i].r.body);
        if (x[i].r.status == 201)
            created++;
        tl_resp_free(&x[i].r);
    }
    ck_assert_int_ge(created, 1);
    ck_assert_int_eq(tenants_named("idem-race"), 1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/idempotency");
    TCase *tc = tcase_create("idempotency");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, retry_with_same_key_replays_the_first_answer);
    tcase_add_test(tc, same_key_for_another_request_is_refused);
    tcase_add_test(tc, failed_request_frees_its_key);
    tcase_add_test(tc, bad_keys_are_refused);
    tcase_add_test(tc, keys_belong_to_their_caller);
    tcase_add_test(tc, concurrent_retries_create_once);
    tcase_add_test(tc, crash_after_a_tenant_create_replays_the_first_answer);
    tcase_add_test(tc, crash_after_an_instance_create_replays_the_first_answer);
    tcase_add_test(tc, crash_after_an_image_create_replays_the_first_answer);
    tcase_add_test(tc, crash_after_a_host_registration_replays_the_first_answer);
    tcase_add_test(tc, a_token_create_keeps_no_secret_for_its_replay);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
