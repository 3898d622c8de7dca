/* The SECA edge's pure parts (api/seca.c): SECA's name pattern, and references (Reference
 * objects and URNs in their long and short forms) resolved against the request's tenant,
 * workspace and network. */
#include <string.h>

#include "seca.h"
#include "testlib.h"

START_TEST(names_follow_secas_pattern_and_length)
{
    static const char *const good[] = { "a", "web-1", "a.b", "x1.y-2.z", "0", "a-b-c" };
    static const char *const bad[] = { "", "-a", "a-", "A", "a_b", "a..b", ".a", "a.",
                                       "a.-b", "a b", "é" };
    char long_name[200];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(sov_seca_name_valid(good[i], SOV_SECA_NAME_MAX), "'%s' refused", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!sov_seca_name_valid(bad[i], SOV_SECA_NAME_MAX), "'%s' taken", bad[i]);
    memset(long_name, 'a', 129);
    long_name[128] = '\0';
    ck_assert(sov_seca_name_valid(long_name, SOV_SECA_NAME_MAX));
    long_name[128] = 'a';
    long_name[129] = '\0';
    ck_assert(!sov_seca_name_valid(long_name, SOV_SECA_NAME_MAX));
}
END_TEST

/* Parse text (JSON) as a reference to plural from tenant "tn", workspace "ws" and network
 * "net" (each NULL when nets is false). */
static int
parse(const char *text, const char *plural, bool nets, sov_seca_ref *r, sov_error *err)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    int rc;

    ck_assert_msg(j, "bad test JSON %s: %s", text, jerr.text);
    rc = sov_seca_ref_parse("tn", "ws", nets ? "net" : NULL, j, plural, "/spec/ref", r, err);
    json_decref(j);
    return rc;
}

static void
expect(const char *text, const char *plural, bool nets, const char *ws, const char *net,
       const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_ref r;

    ck_assert_msg(parse(text, plural, nets, &r, &err) == 0, "%s refused: %s", text, err.msg);
    ck_assert_str_eq(r.tenant, "tn");
    ck_assert_msg(strcmp(r.workspace, ws) == 0, "%s: workspace '%s'", text, r.workspace);
    ck_assert_msg(strcmp(r.network, net) == 0, "%s: network '%s'", text, r.network);
    ck_assert_msg(strcmp(r.name, name) == 0, "%s: name '%s'", text, r.name);
}

static void
refuse(const char *text, const char *plural, bool nets)
{
    sov_error err = SOV_ERROR_INIT;
    sov_seca_ref r;

    ck_assert_msg(parse(text, plural, nets, &r, &err) < 0, "%s taken", text);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, "/spec/ref");
}

START_TEST(urns_in_every_form_resolve_in_the_requests_scope)
{
    expect("\"block-storages/disk\"", "block-storages", false, "ws", "", "disk");
    expect("\"workspaces/other/block-storages/disk\"", "block-storages", false, "other", "",
           "disk");
    expect("\"tenants/tn/workspaces/other/instances/vm\"", "instances", false, "other", "",
           "vm");
    expect("\"seca.compute/v1/tenants/tn/workspaces/w2/instances/vm.1\"", "instances", false,
           "w2", "", "vm.1");
    expect("\"seca.storage/v1/tenants/tn/images/ubuntu\"", "images", false, "", "", "ubuntu");
    expect("\"images/ubuntu\"", "images", false, "", "", "ubuntu");
    expect("\"skus/m1\"", "skus", false, "", "", "m1");
    expect("\"seca.network/v1/tenants/tn/skus/n1\"", "skus", false, "", "", "n1");
    expect("\"networks/n1/subnets/s1\"", "subnets", false, "ws", "n1", "s1");
    expect("\"subnets/s1\"", "subnets", true, "ws", "net", "s1");
    expect("\"seca.network/v1/tenants/tn/workspaces/w/networks/n/route-tables/rt\"",
           "route-tables", false, "w", "n", "rt");
    expect("\"workspaces/w1\"", "workspaces", false, "", "", "w1");
    expect("\"roles/admin\"", "roles", false, "", "", "admin");
}
END_TEST

START_TEST(reference_objects_resolve_in_the_requests_scope)
{
    expect("{\"resource\":\"instances/vm\"}", "instances", false, "ws", "", "vm");
    expect("{\"resource\":\"instances/vm\",\"workspace\":\"w9\",\"tenant\":\"tn\","
           "\"provider\":\"seca.compute/v1\",\"region\":\"fr-1\"}",
           "instances", false, "w9", "", "vm");
    expect("{\"resource\":\"networks/n/subnets/s\"}", "subnets", false, "ws", "n", "s");
    expect("{\"resource\":\"skus/m1\",\"provider\":\"seca.storage/v1\"}", "skus", false, "",
           "", "m1");
}
END_TEST

START_TEST(bad_references_are_invalid_naming_the_pointer)
{
    /* Another tenant's: refused without a word on whether it exists. */
    refuse("\"seca.compute/v1/tenants/other/workspaces/w/instances/vm\"", "instances", false);
    refuse("{\"resource\":\"instances/vm\",\"tenant\":\"other\"}", "instances", false);
    /* Another type, provider or version. */
    refuse("\"instances/vm\"", "block-storages", false);
    refuse("\"seca.storage/v1/tenants/tn/workspaces/w/instances/vm\"", "instances", false);
    refuse("\"seca.compute/v2/tenants/tn/workspaces/w/instances/vm\"", "instances", false);
    refuse("{\"resource\":\"skus/m1\",\"provider\":\"seca.region/v1\"}", "skus", false);
    /* Malformed. */
    refuse("\"\"", "instances", false);
    refuse("\"vm\"", "instances", false);
    refuse("\"instances/\"", "instances", false);
    refuse("\"instances//vm\"", "instances", false);
    refuse("\"instances/VM\"", "instances", false);
    refuse("\"things/x/instances/vm\"", "instances", false);
    refuse("\"workspaces/w/images/u\"", "images", false);
    refuse("\"subnets/s1\"", "subnets", false);     /* which network? */
    refuse("\"networks/n/instances/vm\"", "instances", false);
    refuse("42", "instances", false);
    refuse("{}", "instances", false);
    refuse("{\"resource\":\"instances/vm\",\"color\":\"red\"}", "instances", false);
    refuse("{\"resource\":7}", "instances", false);
}
END_TEST

/* Stored meta rows are keyed by these: the same text gives the same key, in every release. */
START_TEST(meta_keys_are_stable_version_8_uuids)
{
    char k[SOV_UUID_LEN + 1], k2[SOV_UUID_LEN + 1];

    sov_seca_key("seca.workspace", "0b6f3c1e-4d2a-4b8e-9c71-2f5d8a9e1c34", "default", k);
    ck_assert_str_eq(k, "58b9ba79-d3ae-8174-b1fd-677ae456c958");
    sov_seca_key("seca.authorization", "0b6f3c1e-4d2a-4b8e-9c71-2f5d8a9e1c34", "seca.admin", k);
    ck_assert_str_eq(k, "57b29968-896b-825b-a281-ab230a4aa33b");
    /* Another name: another key. */
    sov_seca_key("seca.workspace", "0b6f3c1e-4d2a-4b8e-9c71-2f5d8a9e1c34", "defaults", k2);
    ck_assert_str_ne(k2, "58b9ba79-d3ae-8174-b1fd-677ae456c958");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/seca");
    TCase *tc = tcase_create("seca");

    suite_add_tcase(s, tc);
    tcase_add_test(tc, names_follow_secas_pattern_and_length);
    tcase_add_test(tc, urns_in_every_form_resolve_in_the_requests_scope);
    tcase_add_test(tc, reference_objects_resolve_in_the_requests_scope);
    tcase_add_test(tc, bad_references_are_invalid_naming_the_pointer);
    tcase_add_test(tc, meta_keys_are_stable_version_8_uuids);
    return tl_run_suite(s);
}
