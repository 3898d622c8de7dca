/* The router: literal and {param} segments, most literal match wins, 404 and 405 with the
 * methods the path allows. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sov/api.h"
#include "testlib.h"

static enum MHD_Result
nop(sov_request *req)
{
    (void) req;
    return MHD_YES;
}

static const sov_route routes[] = {
    { "GET", "/v1/tenants", nop, 0, 0, "x", NULL },
    { "POST", "/v1/tenants", nop, 0, 0, "x", NULL },
    { "GET", "/v1/tenants/{id}", nop, 0, 0, "x", NULL },
    { "DELETE", "/v1/tenants/{id}", nop, 0, 0, "x", NULL },
    { "GET", "/v1/tenants/me", nop, 0, 0, "x", NULL },
    { "GET", "/v1/tenants/{id}/users/{uid}", nop, 0, 0, "x", NULL },
};

static sov_router *router;

static void
setup(void)
{
    sov_error err = SOV_ERROR_INIT;
    ck_assert_msg(sov_router_new(routes, SOV_N_ELEMENTS(routes), &router, &err) == 0, "%s",
                  err.msg);
}

static void
teardown(void)
{
    sov_router_free(router);
}

static const sov_route *
match(const char *method, const char *path, sov_route_match *m, unsigned *status, char *allow)
{
    static char copy[256];
    snprintf(copy, sizeof(copy), "%s", path);
    return sov_router_match(router, method, copy, m, status, allow, 64);
}

START_TEST(literal_route_matches)
{
    sov_route_match m;
    unsigned status;
    char allow[64];

    ck_assert_ptr_eq(match("GET", "/v1/tenants", &m, &status, allow), &routes[0]);
    ck_assert_uint_eq(m.nparams, 0);
    ck_assert_ptr_eq(match("POST", "/v1/tenants", &m, &status, allow), &routes[1]);
    ck_assert_uint_eq(sov_router_index(router, &routes[1]), 1);
}
END_TEST

START_TEST(params_are_captured_by_name)
{
    sov_route_match m;
    unsigned status;
    char allow[64];

    ck_assert_ptr_eq(match("GET", "/v1/tenants/abc/users/u-1", &m, &status, allow),
                     &routes[5]);
    ck_assert_uint_eq(m.nparams, 2);
    ck_assert_int_eq(strncmp(m.names[0], "id", m.name_lens[0]), 0);
    ck_assert_str_eq(m.values[0], "abc");
    ck_assert_int_eq(strncmp(m.names[1], "uid", m.name_lens[1]), 0);
    ck_assert_str_eq(m.values[1], "u-1");
}
END_TEST

START_TEST(most_literal_match_wins)
{
    sov_route_match m;
    unsigned status;
    char allow[64];

    ck_assert_ptr_eq(match("GET", "/v1/tenants/me", &m, &status, allow), &routes[4]);
    ck_assert_ptr_eq(match("GET", "/v1/tenants/mee", &m, &status, allow), &routes[2]);
}
END_TEST

START_TEST(unknown_path_is_404)
{
    sov_route_match m;
    unsigned status;
    char allow[64];

    ck_assert_ptr_null(match("GET", "/v1/nothing", &m, &status, allow));
    ck_assert_uint_eq(status, 404);
    ck_assert_ptr_null(match("GET", "/v1/tenants/", &m, &status, allow));  /* empty segment */
    ck_assert_uint_eq(status, 404);
    ck_assert_ptr_null(match("GET", "/v1//tenants", &m, &status, allow));
    ck_assert_uint_eq(status, 404);
    ck_assert_ptr_null(match("GET", "v1/tenants", &m, &status, allow));
    ck_assert_uint_eq(status, 404);
    ck_assert_ptr_null(match("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", &m, &status,
                             allow));
    ck_assert_uint_eq(status, 404);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
    sov_route_match m;
    unsigned status;
    char allow[64];

    ck_assert_ptr_null(match("PUT", "/v1/tenants/x", &m, &status, allow));
    ck_assert_uint_eq(status, 405);
    ck_assert_str_eq(allow, "GET, DELETE");
    ck_assert_ptr_null(match("PATCH", "/v1/tenants", &m, &status, allow));
    ck_assert_str_eq(allow, "GET, POST");
}
END_TEST

START_TEST(duplicate_and_malformed_routes_are_refused)
{
    sov_error err = SOV_ERROR_INIT;
    sov_router *r = NULL;
    const sov_route dup[] = { { "GET", "/a/{x}", nop, 0, 0, "x", NULL },
                              { "GET", "/a/{x}", nop, 0, 0, "x", NULL } };
    const sov_route bad[] = { { "GET", "a", nop, 0, 0, "x", NULL } };

    ck_assert_int_eq(sov_router_new(dup, 2, &r, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    ck_assert_int_eq(sov_router_new(bad, 1, &r, &err), -1);
}
END_TEST

/* What the edge answers before a route runs: the statuses problem.c's table gives them. */
START_TEST(edge_problems_have_their_statuses)
{
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_NOT_FOUND), 404);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_METHOD_NOT_ALLOWED), 405);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_UNEXPECTED_BODY), 400);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_MALFORMED_JSON), 400);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_CORS_ORIGIN), 403);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_PAYLOAD_TOO_LARGE), 413);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_UNSUPPORTED_MEDIA_TYPE), 415);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_UNAVAILABLE), 503);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE_INTERNAL), 500);
    ck_assert_uint_eq(sov_api_edge_status(SOV_EDGE__COUNT), 500);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/router");
    TCase *tc = tcase_create("router");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, literal_route_matches);
    tcase_add_test(tc, params_are_captured_by_name);
    tcase_add_test(tc, most_literal_match_wins);
    tcase_add_test(tc, unknown_path_is_404);
    tcase_add_test(tc, wrong_method_is_405_with_allow);
    tcase_add_test(tc, duplicate_and_malformed_routes_are_refused);
    tcase_add_test(tc, edge_problems_have_their_statuses);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
