/* The contract: the OpenAPI document and the route table describe the same routes, every
 * error code has a problem status, and request ids are checked before they are echoed. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sov/api.h"
#include "testlib.h"

static json_t *
openapi(void)
{
    json_error_t e;
    json_t *doc = json_loadb(sov_openapi_json, sov_openapi_json_len, 0, &e);
    ck_assert_msg(doc, "api/openapi.json is not JSON: line %d: %s", e.line, e.text);
    return doc;
}

static void
lower(char *dst, const char *src, size_t n)
{
    size_t i;
    for (i = 0; src[i] && i < n - 1; i++)
        dst[i] = (char) tolower((unsigned char) src[i]);
    dst[i] = '\0';
}

START_TEST(document_is_openapi_3_1)
{
    json_t *doc = openapi();
    ck_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    ck_assert(json_is_object(json_object_get(doc, "paths")));
    ck_assert(json_is_object(json_object_get(json_object_get(doc, "components"), "schemas")));
    json_decref(doc);
}
END_TEST

START_TEST(every_route_is_documented)
{
    json_t *doc = openapi();
    json_t *paths = json_object_get(doc, "paths");

    for (size_t i = 0; i < sov_api_routes_count; i++) {
        const sov_route *r = &sov_api_routes[i];
        char method[16];
        lower(method, r->method, sizeof(method));
        json_t *op = json_object_get(json_object_get(paths, r->pattern), method);
        ck_assert_msg(op, "%s %s is in the route table but not in api/openapi.json", r->method,
                      r->pattern);
        ck_assert_msg(json_is_object(json_object_get(op, "responses")),
                      "%s %s has no responses in api/openapi.json", r->method, r->pattern);
    }
    json_decref(doc);
}
END_TEST

START_TEST(every_documented_operation_is_routed)
{
    json_t *doc = openapi();
    json_t *paths = json_object_get(doc, "paths");
    const char *path;
    json_t *item;

    json_object_foreach(paths, path, item) {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op) {
            bool found = false;
            if (strcmp(method, "parameters") == 0 || strcmp(method, "summary") == 0)
                continue;
            for (size_t i = 0; i < sov_api_routes_count && !found; i++) {
                char m[16];
                lower(m, sov_api_routes[i].method, sizeof(m));
                found = strcmp(m, method) == 0 && strcmp(sov_api_routes[i].pattern, path) == 0;
            }
            ck_assert_msg(found, "api/openapi.json documents %s %s, which no route serves",
                          method, path);
        }
    }
    json_decref(doc);
}
END_TEST

/* The document states each route's role policy (x-sov-roles) exactly as the table has it. */
START_TEST(documented_roles_match_the_policy)
{
    json_t *doc = openapi();
    json_t *paths = json_object_get(doc, "paths");

    for (size_t i = 0; i < sov_api_routes_count; i++) {
        const sov_route *r = &sov_api_routes[i];
        char method[16];
        unsigned documented = 0;
        size_t k;
        json_t *role;

        lower(method, r->method, sizeof(method));
        json_t *op = json_object_get(json_object_get(paths, r->pattern), method);
        json_t *roles = json_object_get(op, "x-sov-roles");
        if (r->flags & SOV_ROUTE_PUBLIC) {
            ck_assert_msg(!roles || json_array_size(roles) == 0, "%s %s is public",
                          r->method, r->pattern);
            continue;
        }
        ck_assert_msg(r->roles != 0, "%s %s has no role policy in api/routes.c", r->method,
                      r->pattern);
        ck_assert_msg(json_is_array(roles), "%s %s lacks x-sov-roles in api/openapi.json",
                      r->method, r->pattern);
        json_array_foreach(roles, k, role) {
            sov_role bit = sov_role_parse(json_string_value(role));
            ck_assert_msg(bit != SOV_ROLE_NONE, "%s %s: unknown role", r->method, r->pattern);
            documented |= bit;
        }
        ck_assert_msg(documented == r->roles,
                      "%s %s: api/openapi.json says roles 0x%x, api/routes.c 0x%x", r->method,
                      r->pattern, documented, r->roles);
    }
    json_decref(doc);
}
END_TEST

/* The query parameters a route takes (the table's list) are exactly those its operation
 * documents, so a documented filter is never refused and an undocumented one never read. */
START_TEST(documented_query_parameters_match_the_table)
{
    json_t *doc = openapi();
    json_t *paths = json_object_get(doc, "paths");
    json_t *shared = json_object_get(json_object_get(doc, "components"), "parameters");

    for (size_t i = 0; i < sov_api_routes_count; i++) {
        const sov_route *r = &sov_api_routes[i];
        char method[16], documented[512] = " ", table[512];
        size_t k;
        json_t *p;

        lower(method, r->method, sizeof(method));
        json_t *item = json_object_get(paths, r->pattern);
        json_t *lists[] = { json_object_get(item, "parameters"),
                            json_object_get(json_object_get(item, method), "parameters") };
        for (size_t l = 0; l < 2; l++)
            json_array_foreach(lists[l], k, p) {
                const char *ref = json_string_value(json_object_get(p, "$ref"));
                if (ref) {
                    const char *name = strrchr(ref, '/');
                    p = json_object_get(shared, name ? name + 1 : ref);
                    ck_assert_msg(p, "%s %s: %s does not resolve", r->method, r->pattern, ref);
                }
                const char *in = json_string_value(json_object_get(p, "in"));
                if (in && strcmp(in, "query") == 0) {
                    size_t n = strlen(documented);
                    snprintf(documented + n, sizeof(documented) - n, "%s ",
                             json_string_value(json_object_get(p, "name")));
                }
            }
        snprintf(table, sizeof(table), " %s ", r->query ? r->query : "");
        /* The same names, in any order: each side's names are in the other. */
        for (int side = 0; side < 2; side++) {
            const char *from = side ? table : documented, *to = side ? documented : table;
            for (const char *w = from + strspn(from, " "); *w; w += strspn(w, " ")) {
                char word[66];
                size_t n = strcspn(w, " ");
                snprintf(word, sizeof(word), " %.*s ", (int) n, w);
                ck_assert_msg(strstr(to, word), "%s %s: query parameter%s is %s api/routes.c "
                              "(\"%s\") but %s api/openapi.json (\"%s\")", r->method,
                              r->pattern, word, side ? "in" : "not in", table,
                              side ? "not in" : "in", documented);
                w += n;
            }
        }
    }
    json_decref(doc);
}
END_TEST

START_TEST(every_error_code_maps_to_a_status)
{
    static const unsigned want[SOV_E__COUNT] = {
        [SOV_OK] = 500, [SOV_E_INVALID] = 400, [SOV_E_NOT_FOUND] = 404,
        [SOV_E_CONFLICT] = 409, [SOV_E_RESIDENCY] = 409, [SOV_E_UNAUTHENTICATED] = 401,
        [SOV_E_FORBIDDEN] = 403, [SOV_E_QUOTA] = 403, [SOV_E_CAPACITY] = 409,
        [SOV_E_UNREACHABLE] = 422, [SOV_E_UNAVAILABLE] = 503,
        [SOV_E_INTERNAL] = 500,
    };
    for (int c = 0; c < SOV_E__COUNT; c++)
        ck_assert_msg(sov_api_error_status((sov_errcode) c) == want[c], "%s -> %u",
                      sov_errcode_name((sov_errcode) c), sov_api_error_status((sov_errcode) c));
    ck_assert_uint_eq(sov_api_error_status((sov_errcode) 999), 500);
}
END_TEST

START_TEST(request_ids_are_checked)
{
    char long_id[100];

    ck_assert(sov_api_request_id_valid("abc-123_X.y:z"));
    ck_assert(sov_api_request_id_valid("f320f2e1-666b-402e-aa73-b2c4cf948317"));
    ck_assert(!sov_api_request_id_valid(""));
    ck_assert(!sov_api_request_id_valid(NULL));
    ck_assert(!sov_api_request_id_valid("has space"));
    ck_assert(!sov_api_request_id_valid("quote\""));
    ck_assert(!sov_api_request_id_valid("new\nline"));
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    ck_assert(!sov_api_request_id_valid(long_id));
    long_id[SOV_REQUEST_ID_MAX] = '\0';
    ck_assert(sov_api_request_id_valid(long_id));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/contract");
    TCase *tc = tcase_create("contract");

    tcase_add_test(tc, document_is_openapi_3_1);
    tcase_add_test(tc, every_route_is_documented);
    tcase_add_test(tc, every_documented_operation_is_routed);
    tcase_add_test(tc, documented_roles_match_the_policy);
    tcase_add_test(tc, documented_query_parameters_match_the_table);
    tcase_add_test(tc, every_error_code_maps_to_a_status);
    tcase_add_test(tc, request_ids_are_checked);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
