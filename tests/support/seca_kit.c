/* seca_kit.c: the SECA suites' request and assertion kit (seca_kit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seca_kit.h"

void
tl_seca_suite_start(tl_sovd *s, char **db, char **op, const char *region_body,
                    const char *a_name, tl_tenant *a, const char *b_name, tl_tenant *b)
{
    *db = tl_db_create();
    memset(s, 0, sizeof(*s));
    tl_sovd_start(s, *db, NULL);
    *op = tl_operator_token(s);
    tl_tenant_make(s, *op, a_name, a);
    tl_tenant_make(s, *op, b_name, b);
    json_decref(tl_call_ok(s, "POST", "/v1/regions", *op, region_body, 201));
}

void
tl_seca_suite_stop(tl_sovd *s, char *db, char *op)
{
    int rc = tl_sovd_stop_clean(s, 30);

    tl_sovd_discard(s);
    free(op);
    tl_db_drop(db);
    free(db);
    ck_assert_msg(rc == 0, "sovd did not stop cleanly (%d)", rc);
}

const char *
tl_seca_str(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));

    return v ? v : "";
}

json_t *
tl_seca_call(tl_sovd *s, const char *method, const char *path, const char *token,
             const char *body, long want)
{
    tl_resp r;
    char *ct;
    json_t *j;

    tl_call(s, method, path, token, body, &r);
    ck_assert_msg(r.status == want, "%s %s: %ld, want %ld: %s", method, path, r.status, want,
                  r.body ? r.body : "");
    ct = tl_resp_header(&r, "Content-Type");
    ck_assert_msg(ct && strncmp(ct, "application/json", 16) == 0, "%s %s: Content-Type %s",
                  method, path, ct ? ct : "(none)");
    free(ct);
    j = r.json ? json_incref(r.json) : NULL;
    tl_resp_free(&r);
    return j;
}

void
tl_seca_refused(tl_sovd *s, const char *method, const char *path, const char *token,
                const char *body, long status, const char *pointer, const char *says)
{
    json_t *e = tl_seca_call(s, method, path, token, body, status), *src;

    ck_assert_msg(e, "%s %s: no body", method, path);
    ck_assert_msg(strncmp(tl_str(e, "type"), TL_SECA_ERR, strlen(TL_SECA_ERR)) == 0,
                  "type %s", tl_str(e, "type"));
    ck_assert_int_eq(tl_num(e, "status"), status);
    if (pointer) {
        src = json_array_get(json_object_get(e, "sources"), 0);
        ck_assert_msg(src, "no sources: %s", json_dumps(e, 0));
        ck_assert_msg(strcmp(tl_str(src, "pointer"), pointer) == 0, "pointer %s, want %s: %s",
                      tl_str(src, "pointer"), pointer, json_dumps(e, 0));
    }
    if (says)
        tl_assert_contains(json_string_value(json_object_get(e, "detail")), says);
    json_decref(e);
}

void
tl_seca_assert_error(const tl_resp *r, const char *path, long status, const char *kind,
                     const char *pointer, const char *param)
{
    char type[128], instance[512], *ct;
    const json_t *src;

    ck_assert_msg(r->status == status, "%s: expected %ld, got %ld: %s", path, status, r->status,
                  r->body);
    ct = tl_resp_header(r, "Content-Type");
    ck_assert_msg(ct && strcmp(ct, "application/json") == 0, "Content-Type %s: %s",
                  ct ? ct : "(none)", r->body);
    free(ct);
    ck_assert_msg(r->json, "%s: not JSON: %s", path, r->body);
    snprintf(type, sizeof(type), TL_SECA_ERR "%s", kind);
    ck_assert_msg(strcmp(tl_seca_str(r->json, "type"), type) == 0, "%s: type: %s", path,
                  r->body);
    ck_assert_msg(tl_seca_str(r->json, "title")[0], "no title: %s", r->body);
    ck_assert_msg(tl_seca_str(r->json, "detail")[0], "no detail: %s", r->body);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "status")), status);
    snprintf(instance, sizeof(instance), "%s", path);
    instance[strcspn(instance, "?")] = '\0';
    ck_assert_msg(strcmp(tl_seca_str(r->json, "instance"), instance) == 0, "instance: %s",
                  r->body);
    ck_assert_msg(json_is_array(json_object_get(r->json, "sources")), "sources: %s", r->body);
    ck_assert_msg(!json_object_get(r->json, "errors"), "problem+json members: %s", r->body);
    if (!pointer) {
        ck_assert_msg(json_array_size(json_object_get(r->json, "sources")) == 0, "%s", r->body);
        return;
    }
    src = json_array_get(json_object_get(r->json, "sources"), 0);
    ck_assert_msg(src && strcmp(tl_seca_str(src, "pointer"), pointer) == 0,
                  "%s: expected source %s: %s", path, pointer, r->body);
    if (!param)
        param = strrchr(pointer, '/') + 1;
    ck_assert_msg(strcmp(tl_seca_str(src, "parameter"), param) == 0, "parameter: %s", r->body);
}

void
tl_seca_conditions(const json_t *x, char *out, size_t size)
{
    json_t *list = json_object_get(json_object_get(x, "status"), "conditions"), *c;
    size_t i, used = 0;

    out[0] = '\0';
    json_array_foreach(list, i, c)
        if (used < size)
            used += (size_t) snprintf(out + used, size - used, "%s%s", i ? "," : "",
                                      tl_str(c, "state"));
}

void
tl_seca_assert_conditions(const json_t *x, const char *want)
{
    char got[512];

    tl_seca_conditions(x, got, sizeof(got));
    ck_assert_msg(strcmp(got, want) == 0, "conditions [%s], not [%s]: %s", got, want,
                  json_dumps(x, 0));
}

json_t *
tl_seca_wait_conditions(tl_sovd *s, const char *path, const char *token, const char *want,
                        int wait_s)
{
    char got[512];
    time_t until = time(NULL) + wait_s;

    for (;;) {
        json_t *x = tl_seca_call(s, "GET", path, token, NULL, 200);
        tl_seca_conditions(x, got, sizeof(got));
        if (strcmp(got, want) == 0)
            return x;
        ck_assert_msg(time(NULL) < until, "%s: conditions %s (want %s) after %d s", path, got,
                      want, wait_s);
        json_decref(x);
        usleep(100 * 1000);
    }
}

json_t *
tl_seca_wait_state(tl_sovd *s, const char *path, const char *token, const char *want,
                   int wait_s)
{
    time_t until = time(NULL) + wait_s;

    for (;;) {
        json_t *x = tl_seca_call(s, "GET", path, token, NULL, 200);
        const char *got = tl_seca_str(json_object_get(x, "status"), "state");
        if (strcmp(got, want) == 0)
            return x;
        ck_assert_msg(time(NULL) < until, "%s: state %s (want %s) after %d s", path, got, want,
                      wait_s);
        json_decref(x);
        usleep(100 * 1000);
    }
}

void
tl_seca_wait_gone(tl_sovd *s, const char *path, const char *token, int wait_s)
{
    time_t until = time(NULL) + wait_s;
    tl_resp r;

    for (;;) {
        tl_call(s, "GET", path, token, NULL, &r);
        long status = r.status;
        tl_resp_free(&r);
        if (status == 404)
            return;
        ck_assert_msg(status == 200, "GET %s: %ld", path, status);
        ck_assert_msg(time(NULL) < until, "%s still there after %d s", path, wait_s);
        usleep(100 * 1000);
    }
}
