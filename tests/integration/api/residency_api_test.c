/* Regions, residency policies and the placement dry run through HTTP, against a real sovd
 * and PostgreSQL: operators manage regions (country checked and upper-cased, jurisdiction
 * derived, a region or zone with hosts kept), everyone reads them; a tenant's policy is the
 * EU by default, an operator may widen it and a tenant admin only narrow it, each change
 * audited and recorded in the append-only residency records; the dry run answers where a
 * request would land, or 409 naming why not, and claims nothing. Hosts are plain rows. */
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static char *db;
static tl_sovd sovd;
static char *op;
static tl_tenant acme;

static void
setup(void)
{
    db = tl_db_create();
    tl_sovd_start(&sovd, db, NULL);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
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

/* SQL on the test database; the first value as a number (0 when none). */
static long long __attribute__((format(printf, 1, 2)))
sql_ll(const char *fmt, ...)
{
    char *text = NULL, *v;
    va_list ap;
    long long n;

    va_start(ap, fmt);
    ck_assert(vasprintf(&text, fmt, ap) > 0);
    va_end(ap);
    v = tl_db_exec(db, text);
    n = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    free(text);
    return n;
}

static void
make_region(const char *code, const char *country, const char *zones_json)
{
    char body[512];

    snprintf(body, sizeof(body),
             "{\"code\":\"%s\",\"name\":\"Region %s\",\"country\":\"%s\","
             "\"datacenter\":\"DC %s\",\"zones\":%s}",
             code, code, country, code, zones_json);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op, body, 201));
}

/* A host row: placement needs no hypervisor. */
static void
make_host(const char *name, const char *region, const char *zone, int cpus,
          long long memory_mib)
{
    char *sql = NULL;

    ck_assert(asprintf(&sql,
                       "INSERT INTO hosts (name, region, zone, libvirt_uri, hypervisor, cpus,"
                       " cpu_allocation_ratio, memory_mib, storage_gib) VALUES ('%s', '%s', '%s',"
                       " 'test:///default', 'test', %d, 1.0, %lld, 1000)",
                       name, region, zone, cpus, memory_mib) > 0);
    free(tl_db_exec(db, sql));
    free(sql);
}

static const char *
str_of(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    ck_assert_msg(v, "no string '%s'", key);
    return v;
}

/* The list j[key] as "a,b,c". */
static void
list_of(const json_t *j, const char *key, char *buf, size_t size)
{
    json_t *list = json_object_get(j, key), *v;
    size_t i, n = 0;

    ck_assert_msg(json_is_array(list), "'%s' is no array", key);
    buf[0] = '\0';
    json_array_foreach(list, i, v) {
        ck_assert(json_is_string(v));
        n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "%s%s", i ? "," : "",
                               json_string_value(v));
    }
}

/* The first string of the list j[key]. */
static const char *
first_of(const json_t *j, const char *key)
{
    const char *v = json_string_value(json_array_get(json_object_get(j, key), 0));
    ck_assert_msg(v, "'%s' has no first string", key);
    return v;
}

static void
assert_invalid(const tl_resp *r, const char *field, const char *what)
{
    json_t *e;

    tl_assert_problem(r, 400, "/problems/invalid-request");
    e = json_array_get(json_object_get(r->json, "errors"), 0);
    ck_assert_msg(e, "%s: no errors[]: %s", what, r->body);
    ck_assert_msg(strcmp(str_of(e, "field"), field) == 0, "%s: field %s, want %s", what,
                  str_of(e, "field"), field);
}

static void
policy_path(const char *tenant_id, char *buf, size_t size)
{
    snprintf(buf, size, "/v1/tenants/%s/residency-policy", tenant_id);
}

/* GET the policy as "jurisdictions|countries|regions". */
static void
policy_of(const char *tenant_id, const char *token, char *buf, size_t size)
{
    char path[128], j[64], c[256], r[512];
    json_t *p;

    policy_path(tenant_id, path, sizeof(path));
    p = tl_call_ok(&sovd, "GET", path, token, NULL, 200);
    list_of(p, "jurisdictions", j, sizeof(j));
    list_of(p, "countries", c, sizeof(c));
    list_of(p, "regions", r, sizeof(r));
    snprintf(buf, size, "%s|%s|%s", j, c, r);
    json_decref(p);
}

static long
put_policy(const char *tenant_id, const char *token, const char *body, tl_resp *ret)
{
    char path[128];

    policy_path(tenant_id, path, sizeof(path));
    tl_call(&sovd, "PUT", path, token, body, ret);
    return ret->status;
}

static void
put_policy_ok(const char *tenant_id, const char *token, const char *body)
{
    tl_resp r;

    ck_assert_msg(put_policy(tenant_id, token, body, &r) == 200, "PUT %s: %ld %s", body,
                  r.status, r.body);
    tl_resp_free(&r);
}

static void
dry_run(const char *token, const char *body, tl_resp *ret)
{
    tl_call(&sovd, "POST", "/v1/placement/dry-run", token, body, ret);
}

/* Two EU regions with hosts, one EEA and one OTHER region with one host each. h-de is
 * part used, so spread ranks it after the French hosts (2 vCPUs of 4 are taken). */
static void
make_world(void)
{
    make_region("fr-par-1", "FR", "[\"a\",\"b\"]");
    make_region("de-fra-1", "DE", "[\"a\"]");
    make_region("no-osl-1", "NO", "[\"a\"]");
    make_region("ch-zrh-1", "CH", "[\"a\"]");
    make_host("h-fr-a", "fr-par-1", "a", 16, 32768);
    make_host("h-fr-b", "fr-par-1", "b", 8, 16384);
    make_host("h-de", "de-fra-1", "a", 4, 8192);
    make_host("h-no", "no-osl-1", "a", 64, 131072);
    make_host("h-ch", "ch-zrh-1", "a", 64, 131072);
    free(tl_db_exec(db, "UPDATE hosts SET vcpus_used = 2 WHERE name = 'h-de'"));
}

/* ---- regions ---- */

START_TEST(operators_create_read_update_and_delete_regions)
{
    static const struct {
        const char *code, *country, *want_country, *jurisdiction;
    } made[] = {
        { "fr-par-1", "fr", "FR", "EU" },  { "gr-ath-1", "gr", "GR", "EU" },
        { "no-osl-1", "NO", "NO", "EEA" }, { "li-vaduz-1", "Li", "LI", "EEA" },
        { "ch-zrh-1", "CH", "CH", "OTHER" },
    };
    char body[512], zones[64];
    tl_resp r;
    json_t *g, *list;

    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"code\":\"%s\",\"name\":\"Region\",\"country\":\"%s\","
                 "\"datacenter\":\"DC 1\",\"zones\":[\"a\",\"b\"]}",
                 made[i].code, made[i].country);
        tl_call(&sovd, "POST", "/v1/regions", op, body, &r);
        ck_assert_msg(r.status == 201, "%s: %ld %s", made[i].code, r.status, r.body);
        ck_assert_str_eq(str_of(r.json, "code"), made[i].code);
        ck_assert_str_eq(str_of(r.json, "country"), made[i].want_country);
        ck_assert_str_eq(str_of(r.json, "jurisdiction"), made[i].jurisdiction);
        list_of(r.json, "zones", zones, sizeof(zones));
        ck_assert_str_eq(zones, "a,b");
        char *loc = tl_resp_header(&r, "Location");
        snprintf(body, sizeof(body), "/v1/regions/%s", made[i].code);
        ck_assert_str_eq(loc ? loc : "", body);
        free(loc);
        tl_resp_free(&r);
    }

    /* Listed in code order, each as created; one by one too. */
    list = tl_call_ok(&sovd, "GET", "/v1/regions", op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 5);
    ck_assert_str_eq(str_of(json_array_get(json_object_get(list, "items"), 0), "code"),
                     "ch-zrh-1");
    ck_assert_str_eq(str_of(json_array_get(json_object_get(list, "items"), 4), "code"),
                     "no-osl-1");
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/regions?limit=2", op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 2);
    ck_assert(json_is_string(json_object_get(list, "next")));
    json_decref(list);
    g = tl_call_ok(&sovd, "GET", "/v1/regions/gr-ath-1", op, NULL, 200);
    ck_assert_str_eq(str_of(g, "country"), "GR");
    ck_assert_str_eq(str_of(g, "datacenter"), "DC 1");
    json_decref(g);

    /* PATCH changes name, datacenter and zones; the country is not one of them. */
    g = tl_call_ok(&sovd, "PATCH", "/v1/regions/fr-par-1", op,
                   "{\"name\":\"Paris\",\"datacenter\":\"PA3\",\"zones\":[\"a\",\"b\",\"c\"]}",
                   200);
    ck_assert_str_eq(str_of(g, "name"), "Paris");
    ck_assert_str_eq(str_of(g, "datacenter"), "PA3");
    ck_assert_str_eq(str_of(g, "country"), "FR");
    list_of(g, "zones", zones, sizeof(zones));
    ck_assert_str_eq(zones, "a,b,c");
    json_decref(g);
    g = tl_call_ok(&sovd, "PATCH", "/v1/regions/fr-par-1", op, "{\"zones\":[\"c\"]}", 200);
    list_of(g, "zones", zones, sizeof(zones));
    ck_assert_str_eq(zones, "c");
    ck_assert_str_eq(str_of(g, "name"), "Paris");
    json_decref(g);
    tl_call(&sovd, "PATCH", "/v1/regions/fr-par-1", op, "{\"country\":\"DE\"}", &r);
    assert_invalid(&r, "country", "PATCH country");
    tl_resp_free(&r);
    tl_call(&sovd, "PATCH", "/v1/regions/fr-par-1", op, "{\"zones\":[]}", &r);
    assert_invalid(&r, "zones", "PATCH no zones");
    tl_resp_free(&r);
    tl_call(&sovd, "PATCH", "/v1/regions/xx-none-1", op, "{\"name\":\"X\"}", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);

    /* An empty region goes, once. */
    json_decref(tl_call_ok(&sovd, "DELETE", "/v1/regions/gr-ath-1", op, NULL, 204));
    tl_call(&sovd, "GET", "/v1/regions/gr-ath-1", op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    tl_call(&sovd, "DELETE", "/v1/regions/gr-ath-1", op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM zones WHERE region = 'gr-ath-1'"), 0);
}
END_TEST

START_TEST(bad_regions_are_400_naming_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
#define R(code, country, zones) \
    "{\"code\":\"" code "\",\"name\":\"N\",\"country\":\"" country "\",\"datacenter\":\"D\"," \
    "\"zones\":" zones "}"
        { R("xx-1", "XX", "[\"a\"]"), "country" },
        { R("el-1", "EL", "[\"a\"]"), "country" },
        { R("gr-1", "GRC", "[\"a\"]"), "country" },
        { R("gr-1", "", "[\"a\"]"), "country" },
        { R("gr-1", "G1", "[\"a\"]"), "country" },
        { R("FR-PAR-1", "FR", "[\"a\"]"), "code" },
        { R("fr_par_1", "FR", "[\"a\"]"), "code" },
        { R("-fr-1", "FR", "[\"a\"]"), "code" },
        { R("fr-1-", "FR", "[\"a\"]"), "code" },
        { R("", "FR", "[\"a\"]"), "code" },
        { R("fr-1", "FR", "[]"), "zones" },
        { R("fr-1", "FR", "[\"A\"]"), "zones" },
        { R("fr-1", "FR", "[1]"), "zones" },
        { R("fr-1", "FR", "[\"a\",\"a\"]"), "zones" },
        { R("fr-1", "FR", "\"a\""), "zones" },
#undef R
        { "{\"code\":\"fr-1\",\"name\":\"N\",\"country\":\"FR\",\"datacenter\":\"D\"}",
          "zones" },
        { "{\"code\":\"fr-1\",\"country\":\"FR\",\"datacenter\":\"D\",\"zones\":[\"a\"]}",
          "name" },
        { "{\"code\":\"fr-1\",\"name\":\"N\",\"country\":\"FR\",\"datacenter\":5,"
          "\"zones\":[\"a\"]}",
          "datacenter" },
        { "{\"code\":\"fr-1\",\"name\":\"N\",\"country\":\"FR\",\"datacenter\":\"D\","
          "\"zones\":[\"a\"],\"jurisdiction\":\"EU\"}",
          "jurisdiction" },
    };
    tl_resp r;
    json_t *list;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tl_call(&sovd, "POST", "/v1/regions", op, bad[i].body, &r);
        assert_invalid(&r, bad[i].field, bad[i].body);
        tl_resp_free(&r);
    }
    tl_call(&sovd, "POST", "/v1/regions", op, "[", &r);
    tl_assert_problem(&r, 400, "/problems/malformed-json");
    tl_resp_free(&r);
    /* None of them left a row. */
    list = tl_call_ok(&sovd, "GET", "/v1/regions", op, NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
}
END_TEST

START_TEST(a_region_code_is_taken_once)
{
    tl_resp r;

    make_region("fr-par-1", "FR", "[\"a\"]");
    tl_call(&sovd, "POST", "/v1/regions", op,
            "{\"code\":\"fr-par-1\",\"name\":\"Again\",\"country\":\"DE\","
            "\"datacenter\":\"D\",\"zones\":[\"z\"]}",
            &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(str_of(r.json, "detail"), "fr-par-1"), "%s", r.body);
    tl_resp_free(&r);
    /* The first one is untouched. */
    json_t *g = tl_call_ok(&sovd, "GET", "/v1/regions/fr-par-1", op, NULL, 200);
    ck_assert_str_eq(str_of(g, "country"), "FR");
    json_decref(g);
}
END_TEST

START_TEST(a_region_or_zone_with_hosts_stays)
{
    tl_resp r;
    json_t *g;
    char zones[64];

    make_region("fr-par-1", "FR", "[\"a\",\"b\",\"c\"]");
    make_host("h-1", "fr-par-1", "b", 8, 8192);

    tl_call(&sovd, "DELETE", "/v1/regions/fr-par-1", op, NULL, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    tl_call(&sovd, "PATCH", "/v1/regions/fr-par-1", op, "{\"zones\":[\"a\",\"c\"]}", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(str_of(r.json, "detail"), "'b'"), "%s", r.body);
    tl_resp_free(&r);
    /* Zones without hosts may go. */
    g = tl_call_ok(&sovd, "PATCH", "/v1/regions/fr-par-1", op, "{\"zones\":[\"b\"]}", 200);
    list_of(g, "zones", zones, sizeof(zones));
    ck_assert_str_eq(zones, "b");
    json_decref(g);

    free(tl_db_exec(db, "DELETE FROM hosts"));
    json_decref(tl_call_ok(&sovd, "DELETE", "/v1/regions/fr-par-1", op, NULL, 204));
}
END_TEST

START_TEST(only_operators_change_regions_and_everyone_reads_them)
{
    tl_resp r;

    make_region("fr-par-1", "FR", "[\"a\"]");
    for (int role = TL_ADMIN; role < TL_ROLES; role++) {
        const char *t = acme.token[role];
        tl_call(&sovd, "POST", "/v1/regions", t,
                "{\"code\":\"de-fra-1\",\"name\":\"N\",\"country\":\"DE\","
                "\"datacenter\":\"D\",\"zones\":[\"a\"]}",
                &r);
        tl_assert_problem(&r, 403, "/problems/forbidden");
        tl_resp_free(&r);
        tl_call(&sovd, "PATCH", "/v1/regions/fr-par-1", t, "{\"name\":\"Mine\"}", &r);
        tl_assert_problem(&r, 403, "/problems/forbidden");
        tl_resp_free(&r);
        tl_call(&sovd, "DELETE", "/v1/regions/fr-par-1", t, NULL, &r);
        tl_assert_problem(&r, 403, "/problems/forbidden");
        tl_resp_free(&r);
        json_decref(tl_call_ok(&sovd, "GET", "/v1/regions", t, NULL, 200));
        json_decref(tl_call_ok(&sovd, "GET", "/v1/regions/fr-par-1", t, NULL, 200));
    }
    tl_call(&sovd, "GET", "/v1/regions", NULL, NULL, &r);
    tl_assert_problem(&r, 401, "/problems/unauthenticated");
    tl_resp_free(&r);
    json_t *g = tl_call_ok(&sovd, "GET", "/v1/regions/fr-par-1", op, NULL, 200);
    ck_assert_str_eq(str_of(g, "name"), "Region fr-par-1");
    json_decref(g);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM regions"), 1);
}
END_TEST

/* ---- policies ---- */

START_TEST(the_policy_is_the_eu_until_changed)
{
    char p[256];

    for (int role = TL_ADMIN; role < TL_ROLES; role++) {
        policy_of(acme.id, acme.token[role], p, sizeof(p));
        ck_assert_str_eq(p, "EU||");
    }
    policy_of(acme.id, op, p, sizeof(p));
    ck_assert_str_eq(p, "EU||");
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_policies"), 0);
}
END_TEST

START_TEST(an_operator_may_widen_beyond_the_eu)
{
    char p[256];

    make_world();
    put_policy_ok(acme.id, op, "{\"jurisdictions\":[\"EU\",\"EEA\"]}");
    policy_of(acme.id, acme.token[TL_READER], p, sizeof(p));
    ck_assert_str_eq(p, "EU,EEA||");
    put_policy_ok(acme.id, op, "{\"jurisdictions\":[\"OTHER\"],\"countries\":[\"CH\",\"GB\"]}");
    policy_of(acme.id, acme.token[TL_ADMIN], p, sizeof(p));
    ck_assert_str_eq(p, "OTHER|CH,GB|");
    put_policy_ok(acme.id, op, "{\"regions\":[\"ch-zrh-1\",\"no-osl-1\"],\"countries\":null}");
    policy_of(acme.id, op, p, sizeof(p));
    ck_assert_str_eq(p, "||ch-zrh-1,no-osl-1");
}
END_TEST

START_TEST(a_tenant_admin_may_narrow_but_never_widen)
{
    char p[256];
    tl_resp r;

    make_world();
    /* Narrower than the EU: France, then one region of it. */
    put_policy_ok(acme.id, acme.token[TL_ADMIN], "{\"countries\":[\"FR\"]}");
    put_policy_ok(acme.id, acme.token[TL_ADMIN], "{\"regions\":[\"fr-par-1\"]}");
    /* Back to all of France, to the EU, or out to the EEA: wider, so the operator's call. */
    static const char *const wider[] = {
        "{\"countries\":[\"FR\"]}",
        "{\"jurisdictions\":[\"EU\"]}",
        "{\"jurisdictions\":[\"EEA\"]}",
        "{\"regions\":[\"fr-par-1\",\"de-fra-1\"]}",
    };
    for (size_t i = 0; i < sizeof(wider) / sizeof(wider[0]); i++) {
        put_policy(acme.id, acme.token[TL_ADMIN], wider[i], &r);
        tl_assert_problem(&r, 403, "/problems/forbidden");
        tl_resp_free(&r);
    }
    policy_of(acme.id, acme.token[TL_ADMIN], p, sizeof(p));
    ck_assert_str_eq(p, "||fr-par-1");

    /* From the EU, an admin cannot reach the EEA either. */
    put_policy_ok(acme.id, op, "{\"jurisdictions\":[\"EU\"]}");
    put_policy(acme.id, acme.token[TL_ADMIN], "{\"jurisdictions\":[\"EU\",\"EEA\"]}", &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    /* The same policy again is not wider. */
    put_policy_ok(acme.id, acme.token[TL_ADMIN], "{\"jurisdictions\":[\"EU\"]}");

    /* Members, readers and auditors change nothing. */
    for (int role = TL_MEMBER; role < TL_ROLES; role++) {
        put_policy(acme.id, acme.token[role], "{\"countries\":[\"FR\"]}", &r);
        tl_assert_problem(&r, 403, "/problems/forbidden");
        tl_resp_free(&r);
    }
    policy_of(acme.id, op, p, sizeof(p));
    ck_assert_str_eq(p, "EU||");
}
END_TEST

START_TEST(bad_policies_are_400_naming_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{}", "jurisdictions" },
        { "{\"jurisdictions\":[]}", "jurisdictions" },
        { "{\"jurisdictions\":[\"EFTA\"]}", "jurisdictions" },
        { "{\"jurisdictions\":[\"eu\"]}", "jurisdictions" },
        { "{\"jurisdictions\":[\"EU\",\"EU\"]}", "jurisdictions" },
        { "{\"jurisdictions\":\"EU\"}", "jurisdictions" },
        { "{\"jurisdictions\":[7]}", "jurisdictions" },
        { "{\"countries\":[\"EL\"]}", "countries" },
        { "{\"countries\":[\"XX\"]}", "countries" },
        { "{\"countries\":[\"fr\"]}", "countries" },
        { "{\"countries\":[\"FRA\"]}", "countries" },
        { "{\"countries\":[\"\"]}", "countries" },
        { "{\"countries\":[\"FR\",\"FR\"]}", "countries" },
        { "{\"regions\":[\"xx-none-1\"]}", "regions" },
        { "{\"regions\":[\"fr-par-1\",\"fr-par-1\"]}", "regions" },
        { "{\"regions\":{}}", "regions" },
        { "{\"jurisdictions\":[\"EU\"],\"zones\":[\"a\"]}", "zones" },
    };
    char p[256];
    tl_resp r;

    make_world();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        put_policy(acme.id, op, bad[i].body, &r);
        assert_invalid(&r, bad[i].field, bad[i].body);
        tl_resp_free(&r);
    }
    put_policy(acme.id, op, "\"EU\"", &r);
    ck_assert_int_eq(r.status, 400);
    tl_resp_free(&r);
    policy_of(acme.id, op, p, sizeof(p));
    ck_assert_str_eq(p, "EU||");
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records"), 0);
}
END_TEST

START_TEST(another_tenants_policy_does_not_exist_for_the_caller)
{
    tl_tenant globex;
    char path[128];
    tl_resp r;

    tl_tenant_make(&sovd, op, "globex", &globex);
    policy_path(globex.id, path, sizeof(path));
    tl_call(&sovd, "GET", path, acme.token[TL_ADMIN], NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    put_policy(globex.id, acme.token[TL_ADMIN], "{\"countries\":[\"FR\"]}", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    policy_path("00000000-0000-4000-8000-000000000000", path, sizeof(path));
    tl_call(&sovd, "GET", path, op, NULL, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    put_policy("00000000-0000-4000-8000-000000000000", op, "{\"countries\":[\"FR\"]}", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_policies"), 0);
}
END_TEST

START_TEST(every_policy_change_is_audited_and_recorded)
{
    char path[256];
    json_t *list, *e;
    size_t i;
    int changes = 0, refused = 0;
    tl_resp r;

    make_world();
    put_policy_ok(acme.id, op, "{\"jurisdictions\":[\"EU\",\"EEA\"]}");
    put_policy_ok(acme.id, acme.token[TL_ADMIN], "{\"countries\":[\"NO\",\"FR\"]}");
    put_policy_ok(acme.id, acme.token[TL_ADMIN], "{\"regions\":[\"no-osl-1\"]}");
    put_policy(acme.id, acme.token[TL_ADMIN], "{\"jurisdictions\":[\"OTHER\"]}", &r);
    ck_assert_int_eq(r.status, 403);
    tl_resp_free(&r);

    snprintf(path, sizeof(path), "/v1/audit?action=residency-policy.set&limit=1000");
    list = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    json_array_foreach(json_object_get(list, "items"), i, e) {
        ck_assert_str_eq(str_of(e, "action"), "residency-policy.set");
        ck_assert_str_eq(str_of(e, "tenant_id"), acme.id);
        if (json_integer_value(json_object_get(e, "outcome")) == 200) {
            changes++;
            ck_assert_str_eq(str_of(e, "resource_id"), acme.id);
        } else {
            refused++;
        }
    }
    json_decref(list);
    ck_assert_int_eq(changes, 3);
    ck_assert_int_eq(refused, 1);

    /* The tenant's residency records hold each change, with the policy then in force. */
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records WHERE tenant_id = '%s'"
                            " AND event = 'policy-changed' AND resource_type = 'tenant'",
                            acme.id),
                     3);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records WHERE tenant_id = '%s'"
                            " AND policy = '{\"jurisdictions\":[],\"countries\":[],"
                            "\"regions\":[\"no-osl-1\"]}'::jsonb"
                            " AND reason LIKE 'policy changed by admin%%'",
                            acme.id),
                     1);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records WHERE tenant_id = '%s'"
                            " AND reason LIKE 'policy changed by operator%%'",
                            acme.id),
                     1);
    /* The tenant's own auditor sees the trail too. */
    list = tl_call_ok(&sovd, "GET", path, acme.token[TL_AUDITOR], NULL, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 4);
    json_decref(list);
}
END_TEST

/* The database itself refuses to rewrite history: observed over libpq, not through sovd. */
START_TEST(residency_records_refuse_update_and_delete)
{
    static const char *const writes[] = {
        "UPDATE residency_records SET reason = 'rewritten'",
        "DELETE FROM residency_records",
        "TRUNCATE residency_records",
    };
    PGconn *c;

    put_policy_ok(acme.id, op, "{\"countries\":[\"FR\"]}");
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records"), 1);
    c = PQconnectdb(db);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        PGresult *res = PQexec(c, writes[i]);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR, "%s was allowed", writes[i]);
        ck_assert_str_eq(state ? state : "", "42501");
        ck_assert_msg(strstr(PQresultErrorMessage(res), "append-only"), "%s: %s", writes[i],
                      PQresultErrorMessage(res));
        PQclear(res);
    }
    PQfinish(c);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records"
                            " WHERE reason LIKE 'policy changed by operator%%'"),
                     1);
}
END_TEST

START_TEST(a_policy_that_would_strand_data_is_refused)
{
    char p[256], *sql = NULL;
    tl_resp r;

    make_world();
    ck_assert(asprintf(&sql,
                       "INSERT INTO host_allocations (host_id, tenant_id, resource_type, vcpus,"
                       " memory_mib, disk_gib, gpus) SELECT id, '%s', 'instance', 1, 1024, 0, 0"
                       " FROM hosts WHERE name = 'h-fr-a'",
                       acme.id) > 0);
    free(tl_db_exec(db, sql));
    free(sql);
    put_policy(acme.id, op, "{\"countries\":[\"DE\"]}", &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(str_of(r.json, "detail"), "fr-par-1"), "%s", r.body);
    tl_resp_free(&r);
    policy_of(acme.id, op, p, sizeof(p));
    ck_assert_str_eq(p, "EU||");
    put_policy_ok(acme.id, acme.token[TL_ADMIN], "{\"countries\":[\"FR\"]}");
}
END_TEST

/* ---- the dry run ---- */

START_TEST(a_dry_run_answers_where_and_claims_nothing)
{
    tl_resp r;
    json_t *p, *rej;

    make_world();
    dry_run(acme.token[TL_MEMBER], "{\"vcpus\":2,\"memory_mib\":2048,\"disk_gib\":10}", &r);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    p = json_object_get(r.json, "placement");
    /* Spread: the emptiest host the EU allows. */
    ck_assert_str_eq(str_of(p, "host"), "h-fr-a");
    ck_assert_str_eq(str_of(p, "region"), "fr-par-1");
    ck_assert_str_eq(str_of(p, "zone"), "a");
    ck_assert_str_eq(str_of(p, "country"), "FR");
    ck_assert_str_eq(str_of(p, "jurisdiction"), "EU");
    ck_assert_str_eq(str_of(p, "datacenter"), "DC fr-par-1");
    ck_assert_uint_eq(strlen(str_of(p, "host_id")), 36);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "considered")), 5);
    rej = json_object_get(r.json, "rejected");
    ck_assert_uint_eq(json_object_size(rej), 11);
    ck_assert_int_eq(json_integer_value(json_object_get(rej, "policy")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(rej, "capacity")), 0);
    ck_assert_str_eq(str_of(r.json, "strategy"), "spread");
    ck_assert(json_is_false(json_object_get(r.json, "claimed")));
    ck_assert_str_eq(first_of(json_object_get(r.json, "policy"), "jurisdictions"), "EU");
    tl_resp_free(&r);
    ck_assert_int_eq(sql_ll("SELECT sum(vcpus_used + memory_mib_used + disk_gib_used)"
                            " FROM hosts"),
                     2);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM host_allocations"), 0);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM placements"), 0);
    ck_assert_int_eq(sql_ll("SELECT count(*) FROM residency_records"), 0);
}
END_TEST

START_TEST(a_dry_run_without_a_candidate_is_409_naming_why)
{
    tl_resp r;
    json_t *rej;

    make_world();
    free(tl_db_exec(db, "DELETE FROM hosts WHERE region = 'ch-zrh-1'"));
    /* Allowed: Switzerland, which has a region but no host left. */
    put_policy_ok(acme.id, op, "{\"countries\":[\"CH\"]}");
    dry_run(acme.token[TL_MEMBER], "{\"vcpus\":1,\"memory_mib\":512}", &r);
    tl_assert_problem(&r, 409, "/problems/residency-policy");
    ck_assert_msg(strstr(str_of(r.json, "detail"), "{\"jurisdictions\":[],\"countries\":"
                                                   "[\"CH\"],\"regions\":[]}"),
                  "%s", r.body);
    ck_assert_str_eq(first_of(json_object_get(r.json, "policy"), "countries"), "CH");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "considered")), 4);
    tl_resp_free(&r);

    /* Inside the EU there are hosts, but none this big. */
    put_policy_ok(acme.id, op, "{\"jurisdictions\":[\"EU\"]}");
    dry_run(acme.token[TL_MEMBER], "{\"vcpus\":17,\"memory_mib\":512}", &r);
    tl_assert_problem(&r, 409, "/problems/no-capacity");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "considered")), 4);
    rej = json_object_get(r.json, "rejected");
    ck_assert_int_eq(json_integer_value(json_object_get(rej, "policy")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(rej, "capacity")), 3);
    ck_assert_msg(strstr(str_of(r.json, "detail"), "4 hosts considered"), "%s", r.body);
    tl_resp_free(&r);

    /* GPUs nobody has. */
    dry_run(acme.token[TL_MEMBER], "{\"vcpus\":1,\"memory_mib\":512,\"gpus\":1}", &r);
    tl_assert_problem(&r, 409, "/problems/no-capacity");
    rej = json_object_get(r.json, "rejected");
    ck_assert_int_eq(json_integer_value(json_object_get(rej, "gpu")), 3);
    tl_resp_free(&r);
}
END_TEST

START_TEST(a_dry_run_may_narrow_but_never_widen)
{
    static const struct {
        const char *body, *host;
    } narrowed[] = {
        { "{\"vcpus\":1,\"memory_mib\":512,\"region\":\"de-fra-1\"}", "h-de" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"country\":\"DE\"}", "h-de" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"zone\":\"b\"}", "h-fr-b" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"region\":\"fr-par-1\",\"zone\":\"b\"}", "h-fr-b" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"country\":\"FR\",\"zone\":\"a\"}", "h-fr-a" },
    };
    static const char *const outside[] = {
        "{\"vcpus\":1,\"memory_mib\":512,\"region\":\"no-osl-1\"}",
        "{\"vcpus\":1,\"memory_mib\":512,\"country\":\"CH\"}",
        "{\"vcpus\":1,\"memory_mib\":512,\"country\":\"DE\",\"region\":\"fr-par-1\"}",
    };
    tl_resp r;

    make_world();
    for (size_t i = 0; i < sizeof(narrowed) / sizeof(narrowed[0]); i++) {
        dry_run(acme.token[TL_MEMBER], narrowed[i].body, &r);
        ck_assert_msg(r.status == 200, "%s: %ld %s", narrowed[i].body, r.status, r.body);
        ck_assert_str_eq(str_of(json_object_get(r.json, "placement"), "host"),
                         narrowed[i].host);
        tl_resp_free(&r);
    }
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        dry_run(acme.token[TL_MEMBER], outside[i], &r);
        tl_assert_problem(&r, 409, "/problems/residency-policy");
        tl_resp_free(&r);
    }
    /* Places that do not exist are bad requests, not policy outcomes. */
    dry_run(acme.token[TL_MEMBER], "{\"vcpus\":1,\"memory_mib\":512,\"region\":\"xx-none-1\"}",
            &r);
    assert_invalid(&r, "region", "unknown region");
    tl_resp_free(&r);
    dry_run(acme.token[TL_MEMBER], "{\"vcpus\":1,\"memory_mib\":512,\"zone\":\"q\"}", &r);
    assert_invalid(&r, "zone", "unknown zone");
    tl_resp_free(&r);
    dry_run(acme.token[TL_MEMBER],
            "{\"vcpus\":1,\"memory_mib\":512,\"region\":\"de-fra-1\",\"zone\":\"b\"}", &r);
    assert_invalid(&r, "zone", "zone of another region");
    tl_resp_free(&r);
}
END_TEST

START_TEST(bad_dry_run_requests_are_400_naming_the_field)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        { "{\"memory_mib\":512}", "vcpus" },
        { "{\"vcpus\":\"2\",\"memory_mib\":512}", "vcpus" },
        { "{\"vcpus\":0,\"memory_mib\":512}", "vcpus" },
        { "{\"vcpus\":-3,\"memory_mib\":512}", "vcpus" },
        { "{\"vcpus\":1099511627777,\"memory_mib\":512}", "vcpus" },
        { "{\"vcpus\":1.5,\"memory_mib\":512}", "vcpus" },
        { "{\"vcpus\":1}", "memory_mib" },
        { "{\"vcpus\":1,\"memory_mib\":0}", "memory_mib" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":-1}", "disk_gib" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"gpus\":true}", "gpus" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"region\":5}", "region" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"region\":\"Paris\"}", "region" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"country\":\"EL\"}", "country" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"anti_affinity_group\":\"a b\"}",
          "anti_affinity_group" },
        { "{\"vcpus\":1,\"memory_mib\":512,\"flavor\":\"m1.small\"}", "flavor" },
    };
    tl_resp r;

    make_world();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dry_run(acme.token[TL_MEMBER], bad[i].body, &r);
        assert_invalid(&r, bad[i].field, bad[i].body);
        tl_resp_free(&r);
    }
    dry_run(acme.token[TL_MEMBER], "{\"vcpus\":1,", &r);
    tl_assert_problem(&r, 400, "/problems/malformed-json");
    tl_resp_free(&r);
    dry_run(acme.token[TL_MEMBER], NULL, &r);
    assert_invalid(&r, "vcpus", "no body");
    tl_resp_free(&r);
}
END_TEST

START_TEST(members_and_admins_dry_run_and_readers_and_auditors_do_not)
{
    const char *body = "{\"vcpus\":1,\"memory_mib\":512}";
    tl_resp r;

    make_world();
    json_decref(tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER], body,
                           200));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_ADMIN], body,
                           200));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", op, body, 200));
    dry_run(acme.token[TL_READER], body, &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    dry_run(acme.token[TL_AUDITOR], body, &r);
    tl_assert_problem(&r, 403, "/problems/forbidden");
    tl_resp_free(&r);
    dry_run(NULL, body, &r);
    tl_assert_problem(&r, 401, "/problems/unauthenticated");
    tl_resp_free(&r);
}
END_TEST

START_TEST(an_operator_dry_runs_for_another_tenant_under_its_policy)
{
    tl_tenant globex;
    char body[256];
    tl_resp r;
    json_t *j;

    make_world();
    tl_tenant_make(&sovd, op, "globex", &globex);
    put_policy_ok(acme.id, op, "{\"countries\":[\"NO\"]}");

    snprintf(body, sizeof(body), "{\"vcpus\":1,\"memory_mib\":512,\"tenant_id\":\"%s\"}",
             acme.id);
    j = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", op, body, 200);
    ck_assert_str_eq(str_of(json_object_get(j, "placement"), "host"), "h-no");
    json_decref(j);
    /* For itself, the operator's tenant has the EU. */
    j = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", op,
                   "{\"vcpus\":1,\"memory_mib\":512}", 200);
    ck_assert_str_eq(str_of(json_object_get(j, "placement"), "jurisdiction"), "EU");
    json_decref(j);
    /* Acme's own member gets the same answer without naming the tenant, or naming itself. */
    j = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER], body, 200);
    ck_assert_str_eq(str_of(json_object_get(j, "placement"), "host"), "h-no");
    json_decref(j);
    /* Another tenant's people cannot ask about acme: it does not exist for them. */
    dry_run(globex.token[TL_ADMIN], body, &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
    dry_run(op, "{\"vcpus\":1,\"memory_mib\":512,\"tenant_id\":\"not-a-uuid\"}", &r);
    tl_assert_problem(&r, 404, "/problems/not-found");
    tl_resp_free(&r);
}
END_TEST

/* ---- the dry run takes what a create takes ---- */

/* An image of acme's in region, in state ("active" to boot from). */
static void
make_image(const char *name, const char *region, const char *state)
{
    char *sql = NULL;

    ck_assert(asprintf(&sql, "INSERT INTO images (tenant_id, workspace, name, region, format,"
                             " state) VALUES ('%s', 'default', '%s', '%s', 'qcow2', '%s')",
                       acme.id, name, region, state) > 0);
    free(tl_db_exec(db, sql));
    free(sql);
}

static void
make_flavor(const char *name, int vcpus, int memory_mib, int disk_gib, int gpus)
{
    char body[256];

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"vcpus\":%d,\"memory_mib\":%d,"
             "\"disk_gib\":%d,\"gpus\":%d}", name, vcpus, memory_mib, disk_gib, gpus);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op, body, 201));
}

static long long
rejected_of(const json_t *j, const char *reason)
{
    json_t *v = json_object_get(json_object_get(j, "rejected"), reason);

    ck_assert_msg(json_is_integer(v), "no rejected.%s", reason);
    return json_integer_value(v);
}

/* A host in Sweden, inside the EU policy, is not where an image in France can boot: that
 * is counted as image_region, not as policy (the policy allows Sweden). The create records
 * the same counts as its dry run. */
START_TEST(image_region_rejections_have_their_own_counter)
{
    const char *create = "{\"name\":\"vm-1\",\"flavor\":\"f1\",\"image\":\"img-fr\"}";
    json_t *j, *x;
    tl_resp r;

    make_world();
    make_region("se-sto-1", "SE", "[\"a\"]");
    make_host("h-se", "se-sto-1", "a", 64, 131072);
    make_image("img-fr", "fr-par-1", "active");
    make_flavor("f1", 1, 512, 1, 0);

    j = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER], create, 200);
    ck_assert_str_eq(str_of(json_object_get(j, "placement"), "host"), "h-fr-a");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "considered")), 6);
    ck_assert_int_eq(rejected_of(j, "policy"), 2);          /* h-no, h-ch */
    ck_assert_int_eq(rejected_of(j, "image_region"), 2);    /* h-de, h-se */
    ck_assert_int_eq(rejected_of(j, "region"), 0);
    ck_assert_int_eq(rejected_of(j, "country"), 0);
    json_decref(j);
    /* Raw sizes instead of the flavor: the same decision. */
    j = tl_call_ok(&sovd, "POST", "/v1/placement/dry-run", acme.token[TL_MEMBER],
                   "{\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":1,\"image\":\"img-fr\"}", 200);
    ck_assert_int_eq(rejected_of(j, "image_region"), 2);
    json_decref(j);

    /* Narrowed to Sweden: France is the country's rule, Sweden the image's. */
    dry_run(acme.token[TL_MEMBER],
            "{\"flavor\":\"f1\",\"image\":\"img-fr\",\"country\":\"SE\"}", &r);
    tl_assert_problem(&r, 409, "/problems/residency-policy");
    ck_assert_int_eq(rejected_of(r.json, "policy"), 2);
    ck_assert_int_eq(rejected_of(r.json, "country"), 3);
    ck_assert_int_eq(rejected_of(r.json, "image_region"), 1);
    ck_assert_msg(strstr(str_of(r.json, "detail"), "where the image lives: fr-par-1"), "%s",
                  r.body);
    tl_resp_free(&r);
    /* The image's own rules are the create's: a region that is not the image's is 400. */
    dry_run(acme.token[TL_MEMBER], "{\"flavor\":\"f1\",\"image\":\"img-fr\",\"region\":"
            "\"de-fra-1\"}", &r);
    assert_invalid(&r, "region", "another region than the image's");
    tl_resp_free(&r);

    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], create, 202);
    x = json_object_get(json_object_get(j, "instance"), "placement");
    ck_assert_str_eq(str_of(x, "host"), "h-fr-a");
    ck_assert_int_eq(rejected_of(x, "policy"), 2);
    ck_assert_int_eq(rejected_of(x, "image_region"), 2);
    json_decref(j);
    ck_assert_int_eq(sql_ll("SELECT (rejected->>'image_region')::int FROM placements"), 2);
}
END_TEST

/* The outcome of a dry run or a create as one comparable line: the decision (host, region,
 * zone, considered, every counter) or the refusal (status, type, field, detail). */
static void
outcome(const tl_resp *r, const json_t *placement, char *out, size_t size)
{
    size_t n = 0;

    if (placement) {
        n += (size_t) snprintf(out, size, "placed %s %s %s considered %lld",
                               str_of(placement, "host"), str_of(placement, "region"),
                               str_of(placement, "zone"),
                               (long long) json_integer_value(json_object_get(placement,
                                                                              "considered")));
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(placement, "rejected"), k, v)
            n += (size_t) snprintf(out + n, n < size ? size - n : 0, " %s %lld", k,
                                   (long long) json_integer_value(v));
        return;
    }
    json_t *e = json_array_get(json_object_get(r->json, "errors"), 0);
    snprintf(out, size, "refused %ld %s %s: %s", r->status, str_of(r->json, "type"),
             e ? str_of(e, "field") : "-", str_of(r->json, "detail"));
}

/* 50 random creates (flavor, image, region, zone, country, anti-affinity group), each first
 * sent as it is to the dry run: the dry run's answer is the create's placement, or its
 * refusal, exactly. The scheduler's order ends in the host's unique name, so the same state
 * gives the same host: the host itself is compared. Only the API role runs, so nothing but
 * the creates changes the state between two requests. SOV_TEST_SEED repeats a run. */
START_TEST(a_dry_run_answers_what_the_create_does)
{
    /* Weighted towards what can be placed, with every kind of refusal in reach. */
    static const char *const flavors[] = { "f-s", "f-s", "f-s", "f-m", "f-m", "f-l",
                                           "f-gpu", "f-xl", "f-none" };
    static const char *const images[] = { "img-fr", "img-fr", "img-fr", "img-de", "img-se",
                                           "img-se", "img-no", "img-new" };
    static const char *const regions[] = { NULL, NULL, NULL, NULL, NULL, "fr-par-1",
                                           "de-fra-1", "se-sto-1" };
    static const char *const zones[] = { NULL, NULL, NULL, NULL, "a", "b" };
    static const char *const countries[] = { NULL, NULL, NULL, NULL, NULL, "FR", "SE", "NO" };
    static const char *const groups[] = { NULL, NULL, NULL, "g1", "g2" };
    const char *args[] = { "--role=api", NULL };
    const char *seed_env = getenv("SOV_TEST_SEED");
    unsigned seed = seed_env ? (unsigned) strtoul(seed_env, NULL, 10)
                             : (unsigned) time(NULL) ^ (unsigned) getpid();
    int placed = 0, refused = 0;
    char body[512], want[1024], got[1024];

#define PICK(list) list[(size_t) rand() % (sizeof(list) / sizeof(list[0]))]
    fprintf(stderr, "a_dry_run_answers_what_the_create_does: SOV_TEST_SEED=%u\n", seed);
    srand(seed);
    make_world();
    make_region("se-sto-1", "SE", "[\"a\"]");
    make_host("h-se", "se-sto-1", "a", 8, 8192);
    /* Room for a good share of the 50, so that most decisions are real choices. */
    free(tl_db_exec(db, "UPDATE hosts SET cpus = 2 * cpus, memory_mib = 4 * memory_mib"));
    make_image("img-fr", "fr-par-1", "active");
    make_image("img-de", "de-fra-1", "active");
    make_image("img-se", "se-sto-1", "active");
    make_image("img-no", "no-osl-1", "active");
    make_image("img-new", "fr-par-1", "queued");
    make_flavor("f-s", 1, 512, 1, 0);
    make_flavor("f-m", 2, 2048, 10, 0);
    make_flavor("f-l", 4, 8192, 20, 0);
    make_flavor("f-gpu", 1, 512, 1, 1);
    make_flavor("f-xl", 32, 4096, 1, 0);
    snprintf(body, sizeof(body), "/v1/tenants/%s/quotas", acme.id);
    json_decref(tl_call_ok(&sovd, "PUT", body, op, "{\"instances\":1000,\"vcpus\":100000,"
                           "\"memory_mib\":100000000,\"storage_gib\":100000,\"gpus\":100}",
                           200));
    /* No worker: the instances stay as placed. */
    tl_sovd_discard(&sovd);
    tl_sovd_start(&sovd, db, args);

    for (int i = 0; i < 50; i++) {
        const char *region = PICK(regions), *zone = PICK(zones), *country = PICK(countries);
        const char *group = PICK(groups);
        const char *flavor = PICK(flavors), *image = PICK(images);
        int n = snprintf(body, sizeof(body), "{\"name\":\"vm-%d\",\"flavor\":\"%s\","
                         "\"image\":\"%s\"", i, flavor, image);
        tl_resp d, c;

        if (region)
            n += snprintf(body + n, sizeof(body) - (size_t) n, ",\"region\":\"%s\"", region);
        if (zone)
            n += snprintf(body + n, sizeof(body) - (size_t) n, ",\"zone\":\"%s\"", zone);
        if (country)
            n += snprintf(body + n, sizeof(body) - (size_t) n, ",\"country\":\"%s\"", country);
        if (group)
            n += snprintf(body + n, sizeof(body) - (size_t) n,
                          ",\"anti_affinity_group\":\"%s\"", group);
        snprintf(body + n, sizeof(body) - (size_t) n, "}");

        dry_run(acme.token[TL_MEMBER], body, &d);
        tl_call(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, &c);
        ck_assert_msg(d.status == 200 || d.status == 400 || d.status == 409,
                      "dry run %s: %ld %s", body, d.status, d.body);
        if (d.status == 200) {
            /* The dry run's counters sit beside its placement, the create's inside it. */
            json_t *pl = json_object_get(d.json, "placement");
            json_object_set(pl, "considered", json_object_get(d.json, "considered"));
            json_object_set(pl, "rejected", json_object_get(d.json, "rejected"));
            outcome(&d, pl, want, sizeof(want));
        } else {
            outcome(&d, NULL, want, sizeof(want));
        }
        outcome(&c, c.status == 202 ? json_object_get(json_object_get(c.json, "instance"),
                                                      "placement")
                                    : NULL,
                got, sizeof(got));
        ck_assert_msg(strcmp(want, got) == 0, "seed %u, request %d %s:\n dry run: %s\n"
                      " create:  %s", seed, i, body, want, got);
        if (d.status == 200)
            placed++;
        else
            refused++;
        tl_resp_free(&d);
        tl_resp_free(&c);
    }
    fprintf(stderr, "a_dry_run_answers_what_the_create_does: %d placed, %d refused alike\n",
            placed, refused);
    ck_assert_int_gt(placed, 0);
    ck_assert_int_gt(refused, 0);
#undef PICK
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/residency");
    TCase *tc = tcase_create("residency");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, operators_create_read_update_and_delete_regions);
    tcase_add_test(tc, image_region_rejections_have_their_own_counter);
    tcase_add_test(tc, a_dry_run_answers_what_the_create_does);
    tcase_add_test(tc, bad_regions_are_400_naming_the_field);
    tcase_add_test(tc, a_region_code_is_taken_once);
    tcase_add_test(tc, a_region_or_zone_with_hosts_stays);
    tcase_add_test(tc, only_operators_change_regions_and_everyone_reads_them);
    tcase_add_test(tc, the_policy_is_the_eu_until_changed);
    tcase_add_test(tc, an_operator_may_widen_beyond_the_eu);
    tcase_add_test(tc, a_tenant_admin_may_narrow_but_never_widen);
    tcase_add_test(tc, bad_policies_are_400_naming_the_field);
    tcase_add_test(tc, another_tenants_policy_does_not_exist_for_the_caller);
    tcase_add_test(tc, every_policy_change_is_audited_and_recorded);
    tcase_add_test(tc, residency_records_refuse_update_and_delete);
    tcase_add_test(tc, a_policy_that_would_strand_data_is_refused);
    tcase_add_test(tc, a_dry_run_answers_where_and_claims_nothing);
    tcase_add_test(tc, a_dry_run_without_a_candidate_is_409_naming_why);
    tcase_add_test(tc, a_dry_run_may_narrow_but_never_widen);
    tcase_add_test(tc, bad_dry_run_requests_are_400_naming_the_field);
    tcase_add_test(tc, members_and_admins_dry_run_and_readers_and_auditors_do_not);
    tcase_add_test(tc, an_operator_dry_runs_for_another_tenant_under_its_policy);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
