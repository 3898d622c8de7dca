/* The serial console over a WebSocket (GET /v1/instances/{id}/console/stream) against a real
 * sovd and PostgreSQL, with its host in a private libvirtd whose test driver has no consoles:
 * sovd's stand-in for it prints a banner and echoes what it is sent, through the same
 * service, session registry and bridge as a real guest's console.
 *
 * Covered: the handshake with the token in Authorization and as the subprotocol (never
 * echoed), the refusals before the upgrade (400, 401, 403 by role and by Origin, 404 for
 * another tenant, 409 for a stopped instance), bytes both ways, ping, the close handshake,
 * one session at a time (4409) and force taking over (the first gets 4409 "taken over"), the
 * audit entry, forbidden frames (unmasked: 1002, too large: 1009), a host that fails
 * (1011, through SOV_HV_FAULT), sovd's shutdown (1001), and a shutdown that a session
 * stuck opening on a hung host does not hold. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"
#include "ws.h"

#define REGION "fr-test-1"
#define HOST "node-1"
#define FLAVOR "small"
#define IMAGE "base"
#define WAIT_S 30
#define ACCEPT_OF_SAMPLE "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="    /* RFC 6455's own example */

static char *db;
static char *tmp;
static tl_sovd sovd;
static tl_libvirtd lvd;
static char *op;
static tl_tenant acme, globex;
static char uri[800];
static char pool[64], net[64];
static char inst[40];           /* acme's running instance */

static tl_local_flags f;
static const char *args[16] = { "--role=api,worker,reconciler", "--host-check-interval=1",
                                "--worker-threads=2", "--image-allow-file-urls=true",
                                "--operation-step-timeout=10", "--stop-timeout=5", f.store,
                                f.pool, f.path, f.net, f.cidr, NULL };

static void
setup(void)
{
    char body[2048];
    json_t *j;

    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(&lvd, 0, sizeof(lvd));
    snprintf(pool, sizeof(pool), "sovtest-%d", (int) getpid());
    snprintf(net, sizeof(net), "sovtest%d", (int) getpid());
    tl_libvirtd_start(&lvd);
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", lvd.sock);
    tl_local_flags_init(&f, tmp, pool, net);
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    tl_tenant_make(&sovd, op, "globex", &globex);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Test FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    snprintf(body, sizeof(body), "{\"name\":\"" HOST "\",\"region\":\"" REGION "\",\"zone\":"
             "\"a\",\"libvirt_uri\":\"%s\"}", uri);
    json_decref(tl_host_add(&sovd, op, body));
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    tl_image_from_qcow2(&sovd, acme.token[TL_MEMBER], tmp, IMAGE, REGION, WAIT_S);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER],
                   "{\"name\":\"web-1\",\"flavor\":\"" FLAVOR "\",\"image\":\"" IMAGE "\"}",
                   202);
    snprintf(inst, sizeof(inst), "%s", tl_str(json_object_get(j, "instance"), "id"));
    tl_op_wait_ok(&sovd, acme.token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  WAIT_S);
    json_decref(j);
    json_decref(tl_wait_state(&sovd, acme.token[TL_READER], "/v1/instances/", inst, "running",
                              WAIT_S));
}

/* sovd with its hypervisor calls wrapped (hv_faulty): opening a console fails as a host that
 * cannot be reached does; everything else goes through. */
static void
setup_faulty(void)
{
    setenv("SOV_HV_FAULT", "console_open:0:unavailable", 1);
    setup();
    unsetenv("SOV_HV_FAULT");
}

static void
teardown(void)
{
    tl_local_teardown(&sovd, &lvd, db, op, tmp);
}

static const char *
stream_path(const char *query)
{
    static char path[256];

    snprintf(path, sizeof(path), "/v1/instances/%s/console/stream%s", inst, query);
    return path;
}

/* Open the stream as token (in Authorization), with more headers; the status. */
static long
open_as(tl_ws *ws, const char *token, const char *query, const char *extra)
{
    char auth[160];
    const char *h[3] = { auth, extra, NULL };

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    return tl_ws_open(ws, sovd.port, stream_path(query), false, h);
}

/* Open as acme's member and read the stand-in's banner. */
static void
open_ok(tl_ws *ws, const char *query)
{
    long st = open_as(ws, acme.token[TL_MEMBER], query, NULL);

    ck_assert_msg(st == 101, "status %ld: %s", st, ws->body ? ws->body : "");
    ck_assert(tl_ws_expect(ws, "sovereign test console", 10000, NULL));
}

static void
assert_refused(tl_ws *ws, long status, const char *type)
{
    ck_assert_msg(ws->status == status, "status %ld, want %ld: %s", ws->status, status,
                  ws->body ? ws->body : "");
    tl_assert_contains(ws->body, type);
    tl_ws_free(ws);
}

START_TEST(header_token_opens_and_echoes)
{
    tl_ws ws;
    char *accept, *proto, *upgrade;

    open_ok(&ws, "");
    accept = tl_ws_header(&ws, "Sec-WebSocket-Accept");
    upgrade = tl_ws_header(&ws, "Upgrade");
    proto = tl_ws_header(&ws, "Sec-WebSocket-Protocol");
    ck_assert_str_eq(accept, ACCEPT_OF_SAMPLE);
    ck_assert_str_eq(upgrade, "websocket");
    ck_assert_ptr_null(proto);      /* none offered, none answered */
    /* What a browser checks: Connection names Upgrade, and no body framing follows. */
    {
        char *conn = tl_ws_header(&ws, "Connection");
        ck_assert_msg(conn && strcasestr(conn, "upgrade"), "Connection: %s", conn);
        free(conn);
        ck_assert_ptr_null(strcasestr(ws.head, "Transfer-Encoding"));
        ck_assert_ptr_null(strcasestr(ws.head, "Content-Length"));
    }
    free(accept);
    free(upgrade);
    ck_assert_int_eq(tl_ws_send(&ws, 0x2, true, "echo hello-console\n", 19), 0);
    ck_assert(tl_ws_expect(&ws, "echo hello-console", 5000, NULL));
    /* Text frames are input too; fragments are passed on as they come. */
    ck_assert_int_eq(tl_ws_send(&ws, 0x1, false, "frag", 4), 0);
    ck_assert_int_eq(tl_ws_send(&ws, 0x0, true, "mented", 6), 0);
    ck_assert(tl_ws_expect(&ws, "fragmented", 5000, NULL));
    /* A ping gets its pong, with the same payload. */
    {
        unsigned opc;
        char *p = NULL;
        size_t len;
        ck_assert_int_eq(tl_ws_send(&ws, 0x9, true, "are-you-there", 13), 0);
        ck_assert_int_eq(tl_ws_recv(&ws, 5000, &opc, &p, &len), 0);
        ck_assert_uint_eq(opc, 0xA);
        ck_assert_str_eq(p, "are-you-there");
        free(p);
    }
    /* The close handshake: our code comes back, and the connection ends. */
    ck_assert_int_eq(tl_ws_send(&ws, 0x8, true, "\x03\xe8", 2), 0);
    ck_assert_int_eq(tl_ws_wait_close(&ws, 5000, NULL, 0), 1000);
    ck_assert(tl_ws_eof(&ws, 5000));
    tl_ws_free(&ws);
    /* The session ended: the console is free for the next one. */
    open_ok(&ws, "");
    tl_ws_free(&ws);
    /* Counted as switched in the metrics. */
    {
        static const char want[] = "sov_http_requests_total{route=\"/v1/instances/{id}/console/"
                                   "stream\",method=\"GET\",status=\"101\"}";
        time_t until = time(NULL) + 10;
        bool found = false;
        while (!found && time(NULL) < until) {
            tl_resp r;
            tl_get(sovd.base, "/metrics", &r);
            found = strstr(r.body, want) != NULL;
            tl_resp_free(&r);
            if (!found)
                usleep(100 * 1000);
        }
        ck_assert_msg(found, "no %s in /metrics", want);
    }
}
END_TEST

START_TEST(bytes_sent_before_the_101_are_not_lost)
{
    tl_ws ws;
    char auth[160];
    const char *h[] = { auth, NULL };
    /* One masked binary frame, "early!", right behind the request. */
    uint8_t frame[] = { 0x82, 0x86, 1, 2, 3, 4, 'e' ^ 1, 'a' ^ 2, 'r' ^ 3, 'l' ^ 4, 'y' ^ 1,
                        '!' ^ 2 };

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", acme.token[TL_MEMBER]);
    ck_assert_int_eq(tl_ws_open_early(&ws, sovd.port, stream_path(""), false, h, frame,
                                      sizeof(frame)), 101);
    ck_assert(tl_ws_expect(&ws, "early!", 10000, NULL));
    tl_ws_free(&ws);
}
END_TEST

START_TEST(subprotocol_token_opens_and_is_never_echoed)
{
    tl_ws ws;
    char proto[200];
    const char *h[] = { proto, "Origin: http://127.0.0.1:0", NULL };
    char *answer;
    char origin[80];

    snprintf(proto, sizeof(proto), "Sec-WebSocket-Protocol: sov.console.v1, sov.bearer.%s",
             acme.token[TL_ADMIN]);
    /* The page's own origin is this host. */
    snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%u", sovd.port);
    h[1] = origin;
    ck_assert_int_eq(tl_ws_open(&ws, sovd.port, stream_path(""), false, h), 101);
    answer = tl_ws_header(&ws, "Sec-WebSocket-Protocol");
    ck_assert_str_eq(answer, "sov.console.v1");
    ck_assert_ptr_null(strstr(ws.head, acme.token[TL_ADMIN]));
    free(answer);
    ck_assert(tl_ws_expect(&ws, "sovereign test console", 10000, NULL));
    ck_assert_int_eq(tl_ws_send(&ws, 0x1, true, "via-subprotocol", 15), 0);
    ck_assert(tl_ws_expect(&ws, "via-subprotocol", 5000, NULL));
    tl_ws_free(&ws);
}
END_TEST

START_TEST(refusals_come_before_the_upgrade_as_problems)
{
    tl_ws ws;
    char bad_proto[200];
    const char *none[] = { NULL };

    /* No token, a wrong one, a wrong one as the subprotocol. */
    tl_ws_open(&ws, sovd.port, stream_path(""), false, none);
    assert_refused(&ws, 401, "/problems/unauthenticated");
    open_as(&ws, "sov_not-a-real-token", "", NULL);
    assert_refused(&ws, 401, "/problems/unauthenticated");
    {
        const char *h[] = { "Sec-WebSocket-Protocol: sov.console.v1, sov.bearer.sov_nope",
                            NULL };
        tl_ws_open(&ws, sovd.port, stream_path(""), false, h);
        assert_refused(&ws, 401, "/problems/unauthenticated");
    }
    /* Roles that may not type into a guest. */
    open_as(&ws, acme.token[TL_READER], "", NULL);
    assert_refused(&ws, 403, "/problems/forbidden");
    open_as(&ws, acme.token[TL_AUDITOR], "", NULL);
    assert_refused(&ws, 403, "/problems/forbidden");
    /* Another tenant's instance does not exist. */
    open_as(&ws, globex.token[TL_MEMBER], "", NULL);
    assert_refused(&ws, 404, "/problems/not-found");
    open_as(&ws, globex.token[TL_ADMIN], "", NULL);
    assert_refused(&ws, 404, "/problems/not-found");
    {
        /* Even without a handshake: existence does not leak through a 400. */
        char auth[160];
        const char *h[] = { auth, NULL };
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", globex.token[TL_MEMBER]);
        tl_ws_open(&ws, sovd.port, stream_path(""), true, h);
        assert_refused(&ws, 404, "/problems/not-found");
    }
    /* Not a WebSocket handshake at all, and handshakes gone wrong. */
    {
        char auth[160];
        const char *h[] = { auth, NULL };
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", acme.token[TL_MEMBER]);
        tl_ws_open(&ws, sovd.port, stream_path(""), true, h);
        assert_refused(&ws, 400, "Upgrade");
    }
    {
        char auth[160];
        const char *h[] = { auth, "Upgrade: websocket", "Connection: Upgrade",
                            "Sec-WebSocket-Version: 8",
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", NULL };
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", acme.token[TL_MEMBER]);
        tl_ws_open(&ws, sovd.port, stream_path(""), true, h);
        assert_refused(&ws, 400, "Sec-WebSocket-Version");
    }
    {
        char auth[160];
        const char *h[] = { auth, "Upgrade: websocket", "Connection: Upgrade",
                            "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: short", NULL };
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", acme.token[TL_MEMBER]);
        tl_ws_open(&ws, sovd.port, stream_path(""), true, h);
        assert_refused(&ws, 400, "Sec-WebSocket-Key");
    }
    snprintf(bad_proto, sizeof(bad_proto), "Sec-WebSocket-Protocol: chat");
    open_as(&ws, acme.token[TL_MEMBER], "", bad_proto);
    assert_refused(&ws, 400, "Sec-WebSocket-Protocol");
    open_as(&ws, acme.token[TL_MEMBER], "?force=maybe", NULL);
    assert_refused(&ws, 400, "force");
    /* A page of another site. */
    open_as(&ws, acme.token[TL_MEMBER], "", "Origin: https://evil.example");
    assert_refused(&ws, 403, "origin");
}
END_TEST

START_TEST(a_stopped_instance_is_409)
{
    tl_ws ws;
    char path[128];
    json_t *j;

    snprintf(path, sizeof(path), "/v1/instances/%s/actions", inst);
    j = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"stop\"}", 202);
    tl_op_wait_ok(&sovd, acme.token[TL_READER], tl_str(json_object_get(j, "operation"), "id"),
                  WAIT_S);
    json_decref(j);
    json_decref(tl_wait_state(&sovd, acme.token[TL_READER], "/v1/instances/", inst, "stopped",
                              WAIT_S));
    open_as(&ws, acme.token[TL_MEMBER], "", NULL);
    assert_refused(&ws, 409, "/problems/conflict");
}
END_TEST

START_TEST(one_session_at_a_time_and_force_takes_over)
{
    tl_ws a, b, c;
    char reason[128];

    open_ok(&a, "");
    /* A second session is told who holds the console. */
    ck_assert_int_eq(open_as(&b, acme.token[TL_ADMIN], "", NULL), 101);
    ck_assert_int_eq(tl_ws_wait_close(&b, 10000, reason, sizeof(reason)), 4409);
    tl_assert_contains(reason, "force=true");
    tl_ws_free(&b);
    /* The first still works. */
    ck_assert_int_eq(tl_ws_send(&a, 0x2, true, "still-mine", 10), 0);
    ck_assert(tl_ws_expect(&a, "still-mine", 5000, NULL));
    /* force=true takes it over: the first is told, the new one works. */
    open_ok(&c, "?force=true");
    ck_assert_int_eq(tl_ws_wait_close(&a, 10000, reason, sizeof(reason)), 4409);
    tl_assert_contains(reason, "taken over");
    tl_ws_free(&a);
    ck_assert_int_eq(tl_ws_send(&c, 0x2, true, "now-mine", 8), 0);
    ck_assert(tl_ws_expect(&c, "now-mine", 5000, NULL));
    tl_ws_free(&c);
}
END_TEST

START_TEST(opening_is_audited)
{
    tl_ws ws;
    time_t until = time(NULL) + 10;

    open_ok(&ws, "");
    tl_ws_free(&ws);
    while (tl_db_num(db, "SELECT count(*) FROM audit_log WHERE action = "
                         "'instances.console.attach' AND outcome = 101 AND "
                         "resource_type = 'instance' AND resource_id = '%s' AND "
                         "tenant_id = '%s' AND user_id = '%s'",
                     inst, acme.id, acme.user_id[TL_MEMBER]) != 1)
        ck_assert_msg(time(NULL) < until, "no audit entry for the console's opening");
    /* A refused one is audited too (403), under the caller's tenant. */
    open_as(&ws, acme.token[TL_READER], "", NULL);
    assert_refused(&ws, 403, "/problems/forbidden");
    ck_assert_int_ge(tl_db_num(db, "SELECT count(*) FROM audit_log WHERE action = "
                                   "'instances.console.attach' AND outcome = 403"), 1);
    /* The chain still verifies. */
    json_t *v = tl_call_ok(&sovd, "GET", "/v1/audit/verify", op, NULL, 200);
    ck_assert(json_is_true(json_object_get(v, "ok")));
    json_decref(v);
}
END_TEST

START_TEST(forbidden_frames_close_with_1002_and_1009)
{
    tl_ws ws;
    uint8_t unmasked[] = { 0x82, 0x03, 'a', 'b', 'c' };
    uint8_t reserved[] = { 0xC2, 0x80, 0, 0, 0, 0 };
    char *big;

    open_ok(&ws, "");
    ck_assert_int_eq(tl_ws_send_raw(&ws, unmasked, sizeof(unmasked)), 0);
    ck_assert_int_eq(tl_ws_wait_close(&ws, 5000, NULL, 0), 1002);
    ck_assert(tl_ws_eof(&ws, 5000));
    tl_ws_free(&ws);

    open_ok(&ws, "");
    ck_assert_int_eq(tl_ws_send_raw(&ws, reserved, sizeof(reserved)), 0);
    ck_assert_int_eq(tl_ws_wait_close(&ws, 5000, NULL, 0), 1002);
    tl_ws_free(&ws);

    open_ok(&ws, "");
    /* A continuation with no message open. */
    ck_assert_int_eq(tl_ws_send(&ws, 0x0, true, "x", 1), 0);
    ck_assert_int_eq(tl_ws_wait_close(&ws, 5000, NULL, 0), 1002);
    tl_ws_free(&ws);

    open_ok(&ws, "");
    big = calloc(1, 70000);
    ck_assert_int_eq(tl_ws_send(&ws, 0x2, true, big, 70000), 0);
    free(big);
    ck_assert_int_eq(tl_ws_wait_close(&ws, 5000, NULL, 0), 1009);
    tl_ws_free(&ws);
}
END_TEST

START_TEST(a_host_failure_closes_with_1011)
{
    tl_ws ws;
    char reason[128];

    ck_assert_msg(open_as(&ws, acme.token[TL_MEMBER], "", NULL) == 101, "%ld: %s", ws.status,
                  ws.body ? ws.body : "");
    ck_assert_int_eq(tl_ws_wait_close(&ws, 10000, reason, sizeof(reason)), 1011);
    tl_assert_contains(reason, "injected fault");
    tl_ws_free(&ws);
}
END_TEST

START_TEST(shutdown_closes_sessions_with_1001)
{
    tl_ws ws;
    char reason[128];
    int rc;

    open_ok(&ws, "");
    rc = tl_sovd_stop_clean(&sovd, 30);
    ck_assert_int_eq(tl_ws_wait_close(&ws, 10000, reason, sizeof(reason)), 1001);
    tl_assert_contains(reason, "shutting down");
    tl_ws_free(&ws);
    ck_assert_msg(rc == 0, "sovd exited with %d", rc);
}
END_TEST

START_TEST(a_hung_host_does_not_hold_shutdown)
{
    tl_ws ws;
    double t0;
    int rc;

    /* The host stops answering: the session's console never opens (libvirt waits). */
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    ck_assert_int_eq(open_as(&ws, acme.token[TL_MEMBER], "", NULL), 101);
    usleep(500 * 1000);
    t0 = tl_now();
    rc = tl_sovd_stop_clean(&sovd, 60);
    kill(lvd.pid, SIGCONT);
    tl_ws_free(&ws);
    ck_assert_msg(rc == 0, "sovd exited with %d", rc);
    {
        char *log = tl_sovd_log(&sovd);
        tl_assert_contains(log, "stopping without them");
        free(log);
    }
    ck_assert_msg(tl_now() - t0 < 30, "shutdown took %.1f s", tl_now() - t0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/console-stream");
    TCase *tc = tcase_create("console-stream");
    TCase *faulty = tcase_create("faulty-host");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, header_token_opens_and_echoes);
    tcase_add_test(tc, subprotocol_token_opens_and_is_never_echoed);
    tcase_add_test(tc, bytes_sent_before_the_101_are_not_lost);
    tcase_add_test(tc, refusals_come_before_the_upgrade_as_problems);
    tcase_add_test(tc, a_stopped_instance_is_409);
    tcase_add_test(tc, one_session_at_a_time_and_force_takes_over);
    tcase_add_test(tc, opening_is_audited);
    tcase_add_test(tc, forbidden_frames_close_with_1002_and_1009);
    tcase_add_test(tc, shutdown_closes_sessions_with_1001);
    tcase_add_test(tc, a_hung_host_does_not_hold_shutdown);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(faulty, setup_faulty, teardown);
    tcase_set_timeout(faulty, 120);
    tcase_add_test(faulty, a_host_failure_closes_with_1011);
    suite_add_tcase(s, faulty);
    return tl_run_suite(s);
}
