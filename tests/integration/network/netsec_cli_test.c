/* network/netsec-cli: sovctl's security-group (sg), router, public-ip and public-ip-pool
 * commands against a real sovd (sec_bed.c: real PostgreSQL and OVN Northbound), run as a
 * person runs them (SOVCTL_ENDPOINT and SOVCTL_TOKEN, HOME in a folder of the test): what
 * they send reaches the API, -o json answers parse, a refusal exits 1 naming the field. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sec_bed.h"

static char *dir;

typedef struct run {
    int status;
    char *out, *err;
    json_t *json;
} run;

static void
run_free(run *r)
{
    free(r->out);
    free(r->err);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* sovctl ARGS (a shell word list: no quoting needed here) as the holder of token. */
static void __attribute__((format(printf, 3, 4)))
sovctl(run *r, const char *token, const char *fmt, ...)
{
    char *args = NULL, path[700];
    va_list ap;

    memset(r, 0, sizeof(*r));
    va_start(ap, fmt);
    ck_assert(vasprintf(&args, fmt, ap) > 0);
    va_end(ap);
    r->status = tl_sh("cd '%s' && HOME='%s' SOVCTL_ENDPOINT='%s' SOVCTL_TOKEN='%s' '%s' %s"
                      " >out 2>err", dir, dir, sovd.base, token, tl_env("SOV_SOVCTL"), args);
    snprintf(path, sizeof(path), "%s/out", dir);
    r->out = tl_read_file(path);
    snprintf(path, sizeof(path), "%s/err", dir);
    r->err = tl_read_file(path);
    ck_assert(r->out && r->err);
    r->json = json_loads(r->out, 0, NULL);
    free(args);
}

#define OK(r, token, ...)                                                                \
    do {                                                                                 \
        sovctl((r), (token), __VA_ARGS__);                                               \
        ck_assert_msg((r)->status == 0, "sovctl failed (%d): %s%s", (r)->status,          \
                      (r)->out, (r)->err);                                               \
    } while (0)

static void
setup(void)
{
    bed_setup();
    dir = tl_tmpdir();
}

static void
teardown(void)
{
    tl_tmpdir_remove(dir);
    free(dir);
    bed_teardown();
}

START_TEST(security_groups)
{
    const char *me = acme.token[TL_MEMBER];
    char rule_id[40];
    const json_t *g;
    run r;

    OK(&r, me, "sg create --name web -o json");
    g = json_object_get(r.json, "security_group");
    ck_assert_int_eq(json_array_size(json_object_get(g, "rules")), 2);
    run_free(&r);
    OK(&r, me, "security-group create --name closed --no-rules -o json");
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(r.json, "security_group"),
                                                     "rules")), 0);
    run_free(&r);

    OK(&r, me, "sg rule-add closed --direction ingress --protocol tcp --ports 22"
       " --remote-cidr 192.0.2.0/24 --description ssh -o json");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "rule"), "ports"), "22");
    snprintf(rule_id, sizeof(rule_id), "%s", tl_str(json_object_get(r.json, "rule"), "id"));
    run_free(&r);
    OK(&r, me, "sg rule-add closed --direction ingress --remote-group web -o json");
    ck_assert_str_eq(tl_str(json_object_get(json_object_get(r.json, "rule"), "remote_group"),
                            "name"), "web");
    run_free(&r);

    /* A bad rule: exit 1, the field named on stderr, nothing added. */
    sovctl(&r, me, "sg rule-add closed --direction ingress --protocol tcp --ports 70000");
    ck_assert_int_eq(r.status, 1);
    tl_assert_contains(r.err, "ports");
    run_free(&r);

    /* The human view of show: fields, then the rules' table. */
    OK(&r, acme.token[TL_READER], "sg show closed");
    tl_assert_contains(r.out, "rules:");
    tl_assert_contains(r.out, "192.0.2.0/24");
    tl_assert_contains(r.out, "web");
    run_free(&r);
    OK(&r, acme.token[TL_READER], "security-group list -o json");
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "items")), 2);
    run_free(&r);
    OK(&r, acme.token[TL_READER], "sg list");
    tl_assert_contains(r.out, "closed");
    run_free(&r);

    OK(&r, me, "sg rule-delete closed %s -o json", rule_id);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM security_group_rules WHERE id = '%s'",
                               rule_id), 0);
    run_free(&r);
    /* web is named by closed's rule: its delete is refused, saying by what. */
    sovctl(&r, me, "sg delete web");
    ck_assert_int_eq(r.status, 1);
    tl_assert_contains(r.err, "closed");
    run_free(&r);
    /* --wait follows the delete's operation to its end. */
    OK(&r, me, "sg delete closed --wait");
    run_free(&r);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM security_groups WHERE name ="
                               " 'closed' AND state = 'deleted'"), 1);
}
END_TEST

START_TEST(pools_public_ips_and_routers)
{
    const char *me = acme.token[TL_MEMBER];
    char net[40], port[40], ip_id[40];
    run r;

    /* Pools: the operator's. */
    OK(&r, op, "public-ip-pool create --region " REGION " --name public --cidr 203.0.113.0/24"
       " --first-ip 203.0.113.10 --last-ip 203.0.113.20 -o json");
    ck_assert_int_eq(tl_num(r.json, "total"), 11);
    run_free(&r);
    sovctl(&r, acme.token[TL_ADMIN], "public-ip-pool list --region " REGION);
    ck_assert_int_eq(r.status, 1);
    run_free(&r);
    sovctl(&r, op, "public-ip-pool create --region " REGION " --name bad --cidr 10.0.0.0/31");
    ck_assert_int_eq(r.status, 1);
    tl_assert_contains(r.err, "cidr");
    run_free(&r);
    OK(&r, op, "public-ip-pool list --region " REGION " -o json");
    ck_assert_int_eq(json_array_size(json_object_get(r.json, "items")), 1);
    run_free(&r);
    OK(&r, op, "public-ip-pool show public --region " REGION " -o json");
    ck_assert_str_eq(tl_str(r.json, "first_ip"), "203.0.113.10");
    run_free(&r);

    /* A router for a network (part "net"'s rows), without SNAT. */
    bed_network(&acme, "net1", REGION, net);
    bed_port(&acme, net, "p1", "10.0.0.5", port);
    OK(&r, me, "router create --name gw --network net1 --no-snat -o json");
    ck_assert(json_is_false(json_object_get(json_object_get(r.json, "router"), "snat")));
    ck_assert_str_eq(tl_str(json_object_get(r.json, "router"), "external_ip"), "203.0.113.10");
    run_free(&r);
    OK(&r, acme.token[TL_READER], "router list");
    tl_assert_contains(r.out, "203.0.113.10");
    tl_assert_contains(r.out, "net1");
    run_free(&r);

    /* A public IP, attached, its residency. */
    OK(&r, me, "public-ip create --name web -o json");
    ck_assert_str_eq(tl_str(json_object_get(r.json, "public_ip"), "address"), "203.0.113.11");
    snprintf(ip_id, sizeof(ip_id), "%s", tl_str(json_object_get(r.json, "public_ip"), "id"));
    tl_op_wait_ok(&sovd, me, tl_str(json_object_get(r.json, "operation"), "id"), 30);
    run_free(&r);
    OK(&r, me, "public-ip attach web --port p1 --wait");
    run_free(&r);
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM public_ips WHERE id = '%s' AND"
                               " port_id = '%s' AND state = 'in-use'", ip_id, port), 1);
    OK(&r, acme.token[TL_READER], "public-ip list");
    tl_assert_contains(r.out, "203.0.113.11");
    tl_assert_contains(r.out, "10.0.0.5");
    run_free(&r);
    OK(&r, acme.token[TL_AUDITOR], "public-ip residency web -o json");
    tl_assert_contains(r.out, "placed");
    run_free(&r);
    sovctl(&r, me, "router delete gw");
    ck_assert_int_eq(r.status, 1);
    tl_assert_contains(r.err, "web");
    run_free(&r);
    sovctl(&r, op, "public-ip-pool delete public --region " REGION);
    ck_assert_int_eq(r.status, 1);
    run_free(&r);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/netsec-cli");
    TCase *tc = tcase_create("netsec-cli");

    signal(SIGPIPE, SIG_IGN);
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, security_groups);
    tcase_add_test(tc, pools_public_ips_and_routers);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
