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
#include "guest_bed.h"
#include "testlib.h"
#include "ws.h"

#define URI "qemu:///system"
#define REGION "fr-e2e-1"
#define OP_WAIT_S 120
#define SHELL_WAIT_S 180        /* boot, lease and the shell: 8-25 s under TCG, more when busy */

static tl_bed bed;             /* sovd, tenant acme, the pool, network and domain */

/* ---- fixture ---- */

static void
setup(void)
{
    tl_bed_init(&bed, URI, "sovt");
}

static void
teardown(void)
{
    tl_bed_release(&bed);
}


static void
wait_op_ok(const char *id)
{
    tl_op_wait_ok(&bed.sovd, bed.tenant.token[TL_READER], id, OP_WAIT_S);
}

/* Open the instance's console as acme's member (through the subprotocol, as a browser does). */
static long
open_console(tl_ws *ws, const char *id)
{
    char path[128], proto[200];
    const char *h[] = { proto, NULL };

    snprintf(path, sizeof(path), "/v1/instances/%s/console/stream", id);
    snprintf(proto, sizeof(proto), "Sec-WebSocket-Protocol: sov.console.v1, sov.bearer.%s",
             bed.tenant.token[TL_MEMBER]);
    return tl_ws_open(ws, bed.sovd.port, path, false, h);
}

START_TEST(typing_into_a_real_guest_s_console_answers)
{
    char id[40], path[128], op_id[40], reason[128];
    tl_ws ws, other;
    double t0, t_typed;
    bool seen = false;
    json_t *j;

    tl_bed_start_world(&bed, REGION, 20);
    json_decref(tl_host_add(&bed.sovd, bed.op, "{\"name\":\"local\",\"region\":\"" REGION "\","
                                            "\"zone\":\"a\",\"libvirt_uri\":\"" URI "\"}"));
    json_decref(tl_call_ok(&bed.sovd, "POST", "/v1/flavors", bed.op,
                           "{\"name\":\"e2e-tiny\",\"vcpus\":1,\"memory_mib\":128,"
                           "\"disk_gib\":1}", 201));
    tl_bed_image_import(&bed, REGION, "guest", OP_WAIT_S);
    j = tl_call_ok(&bed.sovd, "POST", "/v1/instances", bed.tenant.token[TL_MEMBER],
                   "{\"name\":\"vm-1\",\"flavor\":\"e2e-tiny\",\"image\":\"guest\"}", 202);
    tl_bed_created(&bed, j, id);
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
                 "sov.bearer.%s", bed.tenant.token[TL_MEMBER]);
        ck_assert_int_eq(tl_ws_open(&other, bed.sovd.port, path2, false, h), 101);
        ck_assert_int_eq(tl_ws_wait_close(&ws, 30000, reason, sizeof(reason)), 4409);
        tl_assert_contains(reason, "taken over");
        tl_ws_free(&ws);
        ws = other;
        ck_assert_int_eq(tl_ws_send(&ws, 0x2, true, "echo taken-$((40+3))\n", 21), 0);
        ck_assert(tl_ws_expect(&ws, "taken-43", 10000, NULL));
    }

    /* The guest stops: its console ends, and so does the stream. */
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    j = tl_call_ok(&bed.sovd, "POST", path, bed.tenant.token[TL_MEMBER],
                   "{\"action\":\"hard_stop\"}", 202);
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
