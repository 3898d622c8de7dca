/* The serial console of a real guest, interactive, through sovd's WebSocket (GET
 * /v1/instances/{id}/console/stream) on the machine's own libvirtd (qemu:///system, KVM or TCG
 * as scripts/test detected): the guest (scripts/guest-image) gives a root shell on ttyS0 once
 * booted; the test types "echo hello-console" and reads "hello-console" back, checks that a
 * second session is refused (4409), that one with force=true takes the console over (the first
 * is closed with 4409, "taken over"), and that stopping the instance ends the stream with 1000.
 * It goes through libvirt's console stream (virDomainOpenConsole), as it would for a remote
 * host: a fleet host (tests/support/fleet.h) is left to e2e/fleet's set-up, which costs
 * minutes, for a path that differs only in the URI. Every libvirt object has a name of this
 * run (pool sovtest-<pid>-<rand>, network sovt<pid>, domain sov-<instance id>) and is removed
 * when the test process exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "testlib.h"
#include "ws.h"

#define URI "qemu:///system"
#define REGION "fr-e2e-1"
#define OP_WAIT_S 120
#define SHELL_WAIT_S 180        /* boot, lease and the shell: 8-25 s under TCG, more when busy */

static char *db;
static char *tmp;
static char *image;
static char *op;
static tl_sovd sovd;
static tl_tenant acme;
static char pool[64], net[16], subnet[16], cidr[32];
static char domain[64];

/* ---- small helpers ---- */

static void
domain_cleanup_now(const char *name)
{
    tl_sh("virsh -q -c " URI " destroy '%s' >/dev/null 2>&1", name);
    tl_sh("virsh -q -c " URI " undefine --nvram '%s' >/dev/null 2>&1 ||"
          " virsh -q -c " URI " undefine '%s' >/dev/null 2>&1", name, name);
}

static void
network_cleanup_now(void)
{
    tl_sh("virsh -q -c " URI " net-destroy '%s' >/dev/null 2>&1", net);
    tl_sh("virsh -q -c " URI " net-undefine '%s' >/dev/null 2>&1", net);
}

static void
pool_cleanup_now(void)
{
    tl_sh("virsh -q -c " URI " pool-destroy '%s' >/dev/null 2>&1", pool);
    tl_sh("virsh -q -c " URI " pool-undefine '%s' >/dev/null 2>&1", pool);
}

/* ---- fixture ---- */

static void
setup(void)
{
    unsigned seed = (unsigned) getpid() ^ (unsigned) time(NULL);
    char cmd[1024];
    int rc;
    char *out;

    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    op = NULL;
    image = NULL;
    domain[0] = '\0';
    /* libvirt-qemu reads the disks in tmp/pool (DAC: libvirt chowns the image files to it,
     * never the folders), so every folder above must let others through. */
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    tl_assert_traversable(tmp);
    snprintf(pool, sizeof(pool), "sovtest-%d-%04x", (int) getpid(),
             (unsigned) rand_r(&seed) & 0xffff);
    snprintf(net, sizeof(net), "sovt%d", (int) getpid());
    ck_assert_msg(strlen(net) < 15, "network name '%s' too long for libvirt", net);
    out = tl_sh_out(&rc, "virsh -q -c " URI " net-info '%s'", net);
    ck_assert_msg(rc != 0, "a network '%s' exists already on " URI ": %s", net, out);
    free(out);
    tl_free_subnet(URI, cidr, subnet);
    /* Registered before anything exists, so a failure at any point leaves nothing. */
    tl_libvirt_pool_cleanup_at_exit(URI, pool);
    snprintf(cmd, sizeof(cmd), "virsh -q -c " URI " net-destroy '%s';"
             " virsh -q -c " URI " net-undefine '%s'; rm -rf '%s'", net, net, tmp);
    tl_sh_at_exit("%s", cmd);
}

static void
teardown(void)
{
    int rc = tl_sovd_stop_clean(&sovd, 30);

    if (domain[0])
        domain_cleanup_now(domain);
    network_cleanup_now();
    pool_cleanup_now();
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


static void
wait_op_ok(const char *id)
{
    tl_op_wait_ok(&sovd, acme.token[TL_READER], id, OP_WAIT_S);
}

/* Import file as image name (file://, allowed in this sovd), and wait until it is active. */
static void
import_image(const char *name, const char *file)
{
    char body[1024];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", name, file);
    j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, 202);
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

/* An instance create's 202 j: its id into id (40 bytes), its domain name into domain, and
 * the domain destroyed at exit whatever the test's outcome. */
static void
created(const json_t *j, char *id)
{
    char cmd[512];

    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(domain, sizeof(domain), "sov-%s", id);
    snprintf(cmd, sizeof(cmd), "virsh -q -c " URI " destroy '%s';"
             " virsh -q -c " URI " undefine --nvram '%s' || virsh -q -c " URI
             " undefine '%s'", domain, domain, domain);
    tl_sh_at_exit("%s", cmd);
}

/* sovd on this test's pool, NAT network and image store (stop_timeout in seconds), the
 * operator's token, tenant acme and the region: what every case starts from. */
static void
start_world(int stop_timeout)
{
    char pool_path[600], store[600], pool_flag[128], path_flag[700], net_flag[64],
        cidr_flag[64], store_flag[700], stop_flag[64];

    snprintf(pool_path, sizeof(pool_path), "%s/pool", tmp);
    snprintf(store, sizeof(store), "%s/store", tmp);
    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s", pool_path);
    snprintf(net_flag, sizeof(net_flag), "--nat-network=%s", net);
    snprintf(cidr_flag, sizeof(cidr_flag), "--nat-cidr=%s", cidr);
    snprintf(store_flag, sizeof(store_flag), "--image-store=%s", store);
    snprintf(stop_flag, sizeof(stop_flag), "--stop-timeout=%d", stop_timeout);
    const char *args[] = { pool_flag, path_flag, net_flag, cidr_flag, store_flag,
                           "--image-allow-file-urls=true", "--host-check-interval=2",
                           stop_flag, NULL };
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"E2E\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-e2e\",\"zones\":[\"a\"]}", 201));
}

/* Open the instance's console as acme's member (through the subprotocol, as a browser does). */
static long
open_console(tl_ws *ws, const char *id)
{
    char path[128], proto[200];
    const char *h[] = { proto, NULL };

    snprintf(path, sizeof(path), "/v1/instances/%s/console/stream", id);
    snprintf(proto, sizeof(proto), "Sec-WebSocket-Protocol: sov.console.v1, sov.bearer.%s",
             acme.token[TL_MEMBER]);
    return tl_ws_open(ws, sovd.port, path, false, h);
}

START_TEST(typing_into_a_real_guest_s_console_answers)
{
    char id[40], path[128], op_id[40], reason[128];
    tl_ws ws, other;
    double t0, t_typed;
    bool seen = false;
    json_t *j;

    start_world(20);
    json_decref(tl_host_add(&sovd, op, "{\"name\":\"local\",\"region\":\"" REGION "\","
                            "\"zone\":\"a\",\"libvirt_uri\":\"" URI "\"}"));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"e2e-tiny\",\"vcpus\":1,\"memory_mib\":128,"
                           "\"disk_gib\":1}", 201));
    image = tl_guest_image();
    {
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", image);
        tl_sh_at_exit("%s", cmd);
    }
    import_image("guest", image);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
                   "{\"name\":\"vm-1\",\"flavor\":\"e2e-tiny\",\"image\":\"guest\"}", 202);
    created(j, id);
    wait_op_ok(tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);

    /* The stream opens while the guest boots; its output comes through it. */
    t0 = tl_now();
    ck_assert_int_eq(open_console(&ws, id), 101);
    /* Type until the shell answers: input typed before it runs is lost. The answer is on a
     * line of its own ("\nhello-console"), not the echo of what was typed. */
    while (!seen && tl_now() - t0 < SHELL_WAIT_S) {
        unsigned code = 0;
        ck_assert_int_eq(tl_ws_send(&ws, 0x2, true, "echo hello-console\n", 19), 0);
        seen = tl_ws_expect(&ws, "\nhello-console", 5000, &code);
        ck_assert_msg(code == 0, "the console closed with %u", code);
    }
    t_typed = tl_now() - t0;
    ck_assert_msg(seen, "no answer from the guest's shell in %d s", SHELL_WAIT_S);
    printf("console: the guest's shell answered %.1f s after the stream opened\n", t_typed);

    /* One session at a time. */
    ck_assert_int_eq(open_console(&other, id), 101);
    ck_assert_int_eq(tl_ws_wait_close(&other, 30000, reason, sizeof(reason)), 4409);
    tl_ws_free(&other);
    ck_assert_int_eq(tl_ws_send(&ws, 0x2, true, "echo still-$((40+2))\n", 21), 0);
    ck_assert(tl_ws_expect(&ws, "still-42", 10000, NULL));

    /* force=true takes it over: the first session is told, the new one types. */
    {
        char path2[160], proto[200];
        const char *h[] = { proto, NULL };
        snprintf(path2, sizeof(path2), "/v1/instances/%s/console/stream?force=true", id);
        snprintf(proto, sizeof(proto), "Sec-WebSocket-Protocol: sov.console.v1, "
                 "sov.bearer.%s", acme.token[TL_MEMBER]);
        ck_assert_int_eq(tl_ws_open(&other, sovd.port, path2, false, h), 101);
        ck_assert_int_eq(tl_ws_wait_close(&ws, 30000, reason, sizeof(reason)), 4409);
        tl_assert_contains(reason, "taken over");
        tl_ws_free(&ws);
        ws = other;
        ck_assert_int_eq(tl_ws_send(&ws, 0x2, true, "echo taken-$((40+3))\n", 21), 0);
        ck_assert(tl_ws_expect(&ws, "taken-43", 10000, NULL));
    }

    /* The guest stops: its console ends, and so does the stream. */
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"hard_stop\"}",
                   202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
    ck_assert_int_eq(tl_ws_wait_close(&ws, OP_WAIT_S * 1000, reason, sizeof(reason)), 1000);
    tl_ws_free(&ws);
    wait_op_ok(op_id);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/console");
    TCase *tc = tcase_create("console");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 560);
    tcase_add_test(tc, typing_into_a_real_guest_s_console_answers);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
