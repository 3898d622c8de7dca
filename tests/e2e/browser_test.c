/* The web console in a real browser: this launcher starts sovd (API, worker, reconciler) with
 * console_dir = web/dist on a database of its own and the machine's libvirtd (qemu:///system,
 * a private storage pool and NAT network; no OVN: a chassis would need this machine's own
 * Open vSwitch, so tenant networks are off and their routes answer 503, which run.mjs is
 * told through SOV_BROWSER_OVN=off), prepares what the walkthrough needs through the
 * API (region, the local host, a flavor, tenants A and B with admin tokens, A's image of the
 * tiny guest, a libvirt test-driver host for the operator to add, a file to upload), then runs
 * tests/browser/run.mjs (playwright-core driving Debian's Chromium) and asserts it printed
 * "N passed, 0 failed" and exited 0. Its output, with every failure and the first load to
 * interactive, is in this test's log; screenshots go to build-test/meson-logs/browser/ (or
 * SOV_BROWSER_ARTIFACTS).
 *
 * Needs web/dist built and web/node_modules installed (scripts/test does both) and
 * /usr/bin/chromium (or SOV_BROWSER_CHROMIUM). Every libvirt object has a name of this run
 * and is removed at exit, however the test ends: the system libvirtd is shared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "hosts.h"
#include "testlib.h"

#define URI "qemu:///system"
#define REGION "fr-web-1"
#define ZONE "a"
#define FLAVOR "web-tiny"
#define IMAGE "guest"
#define OP_WAIT_S 120
#define RUN_TIMEOUT_S 480

static char *db;
static char *tmp;
static char *image;
static char *op;
static tl_sovd sovd;
static tl_tenant a, b;
static char pool[64], net[16];

/* The shell that removes what this run made on the shared libvirtd: every domain whose disks
 * are in this test's folder (the browser made them: only their files say whose they are),
 * the NAT network and the pool; then the folder. One command, so the steps keep their order. */
static char *
cleanup_command(void)
{
    char *cmd = NULL;

    ck_assert(asprintf(&cmd,
                       "for d in $(virsh -q -c " URI " list --all --name | grep '^sov-'); do"
                       " virsh -q -c " URI " dumpxml \"$d\" 2>/dev/null | grep -q '%s/' &&"
                       " { virsh -q -c " URI " destroy \"$d\";"
                       " virsh -q -c " URI " undefine --nvram \"$d\" ||"
                       " virsh -q -c " URI " undefine \"$d\"; };"
                       " done >/dev/null 2>&1;"
                       " virsh -q -c " URI " net-destroy '%s' >/dev/null 2>&1;"
                       " virsh -q -c " URI " net-undefine '%s' >/dev/null 2>&1;"
                       " virsh -q -c " URI " pool-destroy '%s' >/dev/null 2>&1;"
                       " virsh -q -c " URI " pool-undefine '%s' >/dev/null 2>&1; true",
                       tmp, net, net, pool, pool) > 0);
    return cmd;
}

static void
setup(void)
{
    char *cmd;

    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
    image = NULL;
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    tl_assert_traversable(tmp);
    snprintf(pool, sizeof(pool), "sovweb-%d", (int) getpid());
    snprintf(net, sizeof(net), "sovw%d", (int) getpid());
    ck_assert_msg(strlen(net) < 15, "network name '%s' too long for libvirt", net);
    /* Registered before anything exists, so a failure at any point (Check's child exits
     * without its teardown) leaves nothing on the shared libvirtd. */
    cmd = cleanup_command();
    tl_sh_at_exit("%s; rm -rf '%s'", cmd, tmp);
    free(cmd);
}

static void
teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);
    char *cmd = cleanup_command();

    tl_sh("%s", cmd);
    free(cmd);
    tl_sovd_discard(&sovd);
    tl_guest_image_remove(image);
    free(image);
    tl_db_drop(db);
    free(db);
    free(op);
    tl_tmpdir_remove(tmp);
    free(tmp);
    ck_assert_msg(rc == 0, "sovd exited with %d on SIGTERM (its log's tail is above)", rc);
}

/* BUILD/meson-logs/browser for the build this test binary is in (BUILD/tests/e2e/), so the
 * screenshots sit beside meson's own logs; ROOT/build-test/... when that cannot be told. */
static void
artifacts_dir(char *out, size_t size, const char *root)
{
    char exe[600];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *cut;

    if (n > 0) {
        exe[n] = '\0';
        cut = strstr(exe, "/tests/e2e/");
        if (cut) {
            *cut = '\0';
            snprintf(out, size, "%s/meson-logs/browser", exe);
            return;
        }
    }
    snprintf(out, size, "%s/build-test/meson-logs/browser", root);
}

/* sovd serving web/dist, and the world the walkthrough starts from. */
static void
start_world(const char *dist)
{
    tl_local_flags f;
    char console_flag[700], cidr[32], body[1024];
    json_t *h, *j;

    tl_local_flags_init(&f, tmp, pool, net);
    tl_free_subnet(URI, cidr, NULL);
    snprintf(f.cidr, sizeof(f.cidr), "--nat-cidr=%s", cidr);
    snprintf(console_flag, sizeof(console_flag), "--console-dir=%s", dist);
    const char *args[] = { f.store, f.pool, f.path, f.net, f.cidr, console_flag,
                           "--image-allow-file-urls=true", "--host-check-interval=2",
                           "--stop-timeout=5", NULL };
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &a);
    tl_tenant_make(&sovd, op, "globex", &b);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Web FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-web\",\"zones\":[\"" ZONE "\"]}", 201));
    h = tl_host_add(&sovd, op, "{\"name\":\"local\",\"region\":\"" REGION "\",\"zone\":\""
                    ZONE "\",\"libvirt_uri\":\"" URI "\"}");
    ck_assert_str_eq(tl_str(h, "state"), "up");
    json_decref(h);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":128,"
                           "\"disk_gib\":1}", 201));
    image = tl_guest_image();
    snprintf(body, sizeof(body), "{\"name\":\"" IMAGE "\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", image);
    j = tl_call_ok(&sovd, "POST", "/v1/images", a.token[TL_ADMIN], body, 202);
    tl_op_wait_ok(&sovd, a.token[TL_ADMIN], tl_str(json_object_get(j, "operation"), "id"),
                  OP_WAIT_S);
    json_decref(j);
}

START_TEST(the_console_walkthrough_passes_in_chromium)
{
    const char *root = tl_env("SOV_SOURCE_ROOT");
    const char *chromium = getenv("SOV_BROWSER_CHROMIUM") ? getenv("SOV_BROWSER_CHROMIUM")
                                                          : "/usr/bin/chromium";
    char dist[600], path[700], artifacts[700], upload[700], script[700];
    char *host_uri, *out, *summary;
    int rc, npass = -1, nfail = -1;
    double t0;

    snprintf(dist, sizeof(dist), "%s/web/dist", root);
    snprintf(path, sizeof(path), "%s/index.html", dist);
    ck_assert_msg(access(path, R_OK) == 0, "%s is missing: build the console (scripts/test "
                  "does; or cd web && npm ci && npm run build)", path);
    snprintf(path, sizeof(path), "%s/web/node_modules/playwright-core/package.json", root);
    ck_assert_msg(access(path, R_OK) == 0, "%s is missing: npm ci in web/", path);
    ck_assert_msg(access(chromium, X_OK) == 0, "no Chromium at %s (apt-get install chromium)",
                  chromium);
    if (getenv("SOV_BROWSER_ARTIFACTS"))
        snprintf(artifacts, sizeof(artifacts), "%s", getenv("SOV_BROWSER_ARTIFACTS"));
    else
        artifacts_dir(artifacts, sizeof(artifacts), root);
    tl_sh("rm -rf '%s'/*.png '%s'/report-tampered* 2>/dev/null; true", artifacts, artifacts);

    start_world(dist);
    host_uri = tl_test_host_uri(tmp, "browser-host", 4, 8);
    /* An image to upload: 4 MiB of random data in a qcow2, so the upload takes a moment. */
    snprintf(upload, sizeof(upload), "%s/upload.qcow2", tmp);
    ck_assert_int_eq(tl_sh("head -c 4M /dev/urandom > '%s/upload.raw' && qemu-img convert -q "
                           "-f raw -O qcow2 '%s/upload.raw' '%s'", tmp, tmp, upload), 0);

    snprintf(script, sizeof(script), "%s/tests/browser/run.mjs", root);
    t0 = tl_now();
    out = tl_sh_out(&rc,
                    "cd '%s' && SOV_BROWSER_URL='%s' SOV_BROWSER_CHROMIUM='%s' "
                    "SOV_BROWSER_ARTIFACTS='%s' SOV_BROWSER_OPERATOR_TOKEN='%s' "
                    "SOV_BROWSER_A_TOKEN='%s' SOV_BROWSER_B_TOKEN='%s' "
                    "SOV_BROWSER_A_TENANT='%s' SOV_BROWSER_REGION='" REGION "' "
                    "SOV_BROWSER_ZONE='" ZONE "' SOV_BROWSER_FLAVOR='" FLAVOR "' "
                    "SOV_BROWSER_IMAGE='" IMAGE "' SOV_BROWSER_HOST_URI='%s' "
                    "SOV_BROWSER_UPLOAD_FILE='%s' SOV_BROWSER_OVN=off timeout %d node '%s' 2>&1",
                    root, sovd.base, chromium, artifacts, op, a.token[TL_ADMIN],
                    b.token[TL_ADMIN], a.id, host_uri, upload, RUN_TIMEOUT_S, script);
    printf("%s", out);
    printf("browser suite: %.1f s\n", tl_now() - t0);
    fflush(stdout);
    summary = strstr(out, " passed, ");
    while (summary && summary > out && summary[-1] >= '0' && summary[-1] <= '9')
        summary--;
    if (summary)
        sscanf(summary, "%d passed, %d failed", &npass, &nfail);
    ck_assert_msg(rc == 0 && npass > 0 && nfail == 0,
                  "the browser suite exited %d with %d passed, %d failed (output above; "
                  "screenshots in %s)", rc, npass, nfail, artifacts);
    free(out);
    free(host_uri);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/browser");
    TCase *tc = tcase_create("browser");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, RUN_TIMEOUT_S + 120);
    tcase_add_test(tc, the_console_walkthrough_passes_in_chromium);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
