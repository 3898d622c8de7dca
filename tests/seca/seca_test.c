/* seca_test.c: the SECA tier's launcher (suite seca/tier). It sets up one bed for the whole
 * tier: a fresh database and folder, a private libvirtd whose test driver is host node-a
 * (zone a, with this process's storage pool and NAT network) and a test-driver host node-b
 * (zone b) of region REGION, an OVN Northbound of the test's own (tl_ovn_start, no chassis),
 * sovd (api, worker, reconciler) on them, flavors, a volume type, a public IP pool, and
 * tenants A and B with their admins, members and readers. Then it runs the runner
 * (tests/seca/seca_tier.py) against that sovd, prints its output, and fails unless the
 * runner exits 0 and its last line says "0 failed". The runner reads SECA's documents from
 * ../shared/seca/openapi (SOV_SECA_SPEC overrides); without them it fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"

#define REGION "eu-seca-1"

static char *db, *tmp, *op;
static tl_sovd sovd;
static tl_libvirtd lvd;
static tl_ovn ovn;

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    op = NULL;
    memset(&sovd, 0, sizeof(sovd));
    memset(&lvd, 0, sizeof(lvd));
    memset(&ovn, 0, sizeof(ovn));
    tl_libvirtd_start(&lvd);
    tl_ovn_start(&ovn, NULL, false);
}

static void
teardown(void)
{
    tl_local_teardown(&sovd, &lvd, db, op, tmp);
    tl_ovn_discard(&ovn);
}

static void
host_add(const char *name, const char *zone, const char *uri)
{
    char body[2048];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\",\"zone\":\"%s\","
             "\"libvirt_uri\":\"%s\"}", name, zone, uri);
    j = tl_host_add(&sovd, op, body);
    ck_assert_str_eq(tl_str(j, "state"), "up");
    json_decref(j);
}

/* sovd and the world the tier expects. */
static void
start(tl_tenant *a, tl_tenant *b)
{
    char nb[700], pool[64], net[64], uri[800], *u;
    tl_local_flags f;
    const char *args[] = { "--role=api,worker,reconciler", "--host-check-interval=3600",
                           "--worker-threads=4", "--operation-step-timeout=10",
                           "--stop-timeout=5", nb, f.store, f.pool, f.path, f.net, f.cidr,
                           NULL };

    snprintf(pool, sizeof(pool), "seca-%d", (int) getpid());
    snprintf(net, sizeof(net), "seca%d", (int) getpid());
    snprintf(nb, sizeof(nb), "--ovn-nb=%s", ovn.nb);
    tl_local_flags_init(&f, tmp, pool, net);
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"SECA EU\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-seca\",\"zones\":[\"a\",\"b\"]}", 201));
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", lvd.sock);
    host_add("node-a", "a", uri);
    u = tl_test_host_uri(tmp, "node-b", 8, 16);
    host_add("node-b", "b", u);
    free(u);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"seca-small\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"seca-medium\",\"vcpus\":2,\"memory_mib\":512,"
                           "\"disk_gib\":1}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/volume-types", op,
                           "{\"name\":\"standard\"}", 201));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions/" REGION "/public-ip-pools", op,
                           "{\"name\":\"seca-pool\",\"cidr\":\"198.51.100.0/24\"}", 201));
    tl_tenant_make(&sovd, op, "seca-a", a);
    tl_tenant_make(&sovd, op, "seca-b", b);
}

START_TEST(the_seca_tier_passes)
{
    tl_tenant a, b;
    char cmd[4096], line[8192], last[8192] = "";
    const char *root = tl_env("SOV_SOURCE_ROOT");
    /* Debian's interpreter: python3-yaml and python3-jsonschema are installed for it. */
    const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    FILE *p;
    int st;

    start(&a, &b);
    snprintf(cmd, sizeof(cmd),
             "SECA_BASE='%s' SECA_REGION='" REGION "' SECA_ZONES='a,b' "
             "SECA_TENANT_A='%s' SECA_TOKEN_A='%s' SECA_MEMBER_TOKEN_A='%s' "
             "SECA_READER_TOKEN_A='%s' SECA_SUBJECT_A='member@%s.example.eu' "
             "SECA_TENANT_B='%s' SECA_TOKEN_B='%s' SECA_MEMBER_TOKEN_B='%s' "
             "SECA_OPERATOR_TOKEN='%s' %s -B '%s/tests/seca/seca_tier.py' 2>&1",
             sovd.base, a.name, a.token[TL_ADMIN], a.token[TL_MEMBER], a.token[TL_READER], a.name,
             b.name, b.token[TL_ADMIN], b.token[TL_MEMBER], op, python, root);
    p = popen(cmd, "r");
    ck_assert_msg(p, "cannot run the tier");
    while (fgets(line, sizeof(line), p)) {
        fputs(line, stdout);
        if (line[0] != '\n')
            snprintf(last, sizeof(last), "%s", line);
    }
    fflush(stdout);
    st = pclose(p);
    last[strcspn(last, "\n")] = '\0';
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        /* What sovd said, for the failures (a crash above all). */
        char *log = tl_sovd_log(&sovd);
        size_t n = log ? strlen(log) : 0;

        fprintf(stderr, "sovd's log ends:\n%s\n", n > 12000 ? log + n - 12000 : log ? log : "");
        free(log);
    }
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the tier exited with %d: %s",
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1, last);
    ck_assert_msg(strlen(last) > 9 && strcmp(last + strlen(last) - 9, " 0 failed") == 0,
                  "the tier's last line is not \"N passed, 0 failed\": %s", last);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("seca/tier");
    TCase *tc = tcase_create("tier");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, the_seca_tier_passes);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
