/* network/ovsdb: the OVSDB client against a real ovsdb-server holding OVN's Northbound
 * schema (a server of each test's own, in a temporary folder), and against a fake server on
 * a socketpair that sends what a real one never would. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ovsdb.h"
#include "ovsdb_server.h"
#include "sov/network.h"
#include "testlib.h"

#define NB "OVN_Northbound"

static tl_ovsdb srv;

static void
setup(void)
{
    tl_ovsdb_start(&srv, true);
}

static void
teardown(void)
{
    tl_ovsdb_discard(&srv);
}

static sov_ovsdb *
connect_ok(const char *remote, unsigned timeout_ms)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = NULL;

    ck_assert_msg(sov_ovsdb_connect(remote, timeout_ms, &c, &err) == 0, "%s: %s (%s)", remote,
                  err.msg, err.detail);
    return c;
}

static bool
has_nb(sov_ovsdb *c)
{
    sov_error err = SOV_ERROR_INIT;
    bool found = false;

    ck_assert_msg(sov_ovsdb_has_db(c, NB, &found, &err) == 0, "%s (%s)", err.msg, err.detail);
    return found;
}

/* A name no other test (nor run) has. */
static void
unique(char *buf, size_t size, const char *prefix)
{
    static unsigned n;
    snprintf(buf, size, "%s-%d-%u", prefix, (int) getpid(), n++);
}

/* The rows a one-operation select returns (a new reference). */
static json_t *
select_rows(sov_ovsdb *c, const char *table, json_t *where, json_t *columns)
{
    sov_error err = SOV_ERROR_INIT;
    json_t *results = NULL, *rows;

    ck_assert_msg(sov_ovsdb_transact(c, NB, json_pack("[o]", sov_ovsdb_op_select(table, where,
                                                                                 columns)),
                                     &results, &err) == 0,
                  "%s (%s)", err.msg, err.detail);
    rows = json_incref(sov_ovsdb_result_rows(results, 0));
    json_decref(results);
    ck_assert_ptr_nonnull(rows);
    return rows;
}

static json_t *
where_name(const char *name)
{
    return json_pack("[o]", sov_ovsdb_cond("name", "==", json_string(name)));
}

START_TEST(list_dbs_has_ovn_northbound_on_unix_and_tcp)
{
    sov_ovsdb *u = connect_ok(srv.remote, 2000);
    sov_ovsdb *t = connect_ok(srv.tcp_remote, 2000);

    ck_assert(has_nb(u));
    ck_assert(has_nb(t));
    sov_ovsdb_close(u);
    sov_ovsdb_close(t);
}
END_TEST

START_TEST(get_schema_gives_the_schema_and_unknown_db_is_not_found)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = connect_ok(srv.remote, 2000);
    json_t *schema = NULL;

    ck_assert_int_eq(sov_ovsdb_get_schema(c, NB, &schema, &err), 0);
    ck_assert_str_eq(json_string_value(json_object_get(schema, "name")), NB);
    ck_assert_ptr_nonnull(json_object_get(json_object_get(schema, "tables"), "Logical_Switch"));
    json_decref(schema);
    ck_assert_int_eq(sov_ovsdb_get_schema(c, "No_Such_DB", &schema, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    /* The connection stays usable after an error answer. */
    ck_assert(has_nb(c));
    sov_ovsdb_close(c);
}
END_TEST

/* A switch, two ports and the DHCP options both ports use, all named by uuid-name in one
 * transaction: ovn-nbctl sees them, and so does a select through the client. */
START_TEST(switch_and_ports_land_whole_by_named_uuid)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = connect_ok(srv.remote, 2000);
    char ls[64], p1[64], p2[64], ls_id[37], p1_id[37], p2_id[37], dhcp_id[37];
    const char *tag[] = { "sovereign:test", "ovsdb", NULL };
    const char *opts[] = { "lease_time", "3600", "router", "10.0.0.1", "server_id",
                           "10.0.0.1", "server_mac", "02:00:00:00:00:01", NULL };
    json_t *ops, *results = NULL, *rows, *ports;
    char *out;
    int rc;

    unique(ls, sizeof(ls), "ls");
    unique(p1, sizeof(p1), "lsp-a");
    unique(p2, sizeof(p2), "lsp-b");
    ops = json_pack(
        "[o, o, o, o]",
        sov_ovsdb_op_insert("DHCP_Options",
                            json_pack("{s:s, s:o}", "cidr", "10.0.0.0/24", "options",
                                      sov_ovsdb_map_strings(opts)),
                            "dhcp"),
        sov_ovsdb_op_insert("Logical_Switch_Port",
                            json_pack("{s:s, s:s, s:o}", "name", p1, "addresses",
                                      "02:00:00:00:00:0a 10.0.0.10", "dhcpv4_options",
                                      sov_ovsdb_named_uuid("dhcp")),
                            "p1"),
        sov_ovsdb_op_insert("Logical_Switch_Port",
                            json_pack("{s:s, s:s, s:o}", "name", p2, "addresses",
                                      "02:00:00:00:00:0b 10.0.0.11", "dhcpv4_options",
                                      sov_ovsdb_named_uuid("dhcp")),
                            "p2"),
        sov_ovsdb_op_insert("Logical_Switch",
                            json_pack("{s:s, s:o, s:o}", "name", ls, "ports",
                                      sov_ovsdb_set(json_pack("[o, o]",
                                                              sov_ovsdb_named_uuid("p1"),
                                                              sov_ovsdb_named_uuid("p2"))),
                                      "external_ids", sov_ovsdb_map_strings(tag)),
                            "ls"));
    ck_assert_ptr_nonnull(ops);
    ck_assert_msg(sov_ovsdb_transact(c, NB, json_incref(ops), &results, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(sov_ovsdb_result_uuid(ops, results, "ls", ls_id, &err), 0);
    ck_assert_int_eq(sov_ovsdb_result_uuid(ops, results, "p1", p1_id, &err), 0);
    ck_assert_int_eq(sov_ovsdb_result_uuid(ops, results, "p2", p2_id, &err), 0);
    ck_assert_int_eq(sov_ovsdb_result_uuid(ops, results, "dhcp", dhcp_id, &err), 0);
    json_decref(ops);
    json_decref(results);

    /* ovn-nbctl, OVN's own client, sees the switch with both ports. */
    out = tl_sh_out(&rc, "ovn-nbctl --db=%s show", srv.remote);
    ck_assert_msg(rc == 0, "ovn-nbctl show: %s", out);
    ck_assert_msg(strstr(out, ls) && strstr(out, ls_id), "switch missing: %s", out);
    ck_assert_msg(strstr(out, p1) && strstr(out, p2), "ports missing: %s", out);
    free(out);
    out = tl_sh_out(&rc, "ovn-nbctl --db=%s lsp-get-dhcpv4-options %s", srv.remote, p2);
    ck_assert_msg(rc == 0 && strstr(out, dhcp_id) && strstr(out, "10.0.0.0/24"), "%s", out);
    free(out);

    /* And a select through the client finds the switch holding exactly those two ports. */
    rows = select_rows(c, "Logical_Switch", where_name(ls),
                       json_pack("[s, s, s]", "_uuid", "ports", "external_ids"));
    ck_assert_uint_eq(json_array_size(rows), 1);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(json_array_get(rows, 0), "_uuid"), 1)), ls_id);
    ports = json_array_get(json_object_get(json_array_get(rows, 0), "ports"), 1);
    ck_assert_uint_eq(json_array_size(ports), 2);
    char *ports_text = json_dumps(ports, JSON_COMPACT);
    ck_assert_msg(strstr(ports_text, p1_id) && strstr(ports_text, p2_id), "%s", ports_text);
    free(ports_text);
    json_decref(rows);
    sov_ovsdb_close(c);
}
END_TEST

/* One bad operation, or a commit the database refuses, and nothing of the transaction is
 * there: not the switch inserted before it. */
START_TEST(one_bad_operation_changes_nothing)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = connect_ok(srv.remote, 2000);
    char ls[64], lsp[64];
    json_t *rows;
    char *out;

    unique(ls, sizeof(ls), "atomic");
    unique(lsp, sizeof(lsp), "atomic-port");
    /* The second operation names a column the table does not have. */
    ck_assert_int_eq(
        sov_ovsdb_transact(c, NB,
                           json_pack("[o, o]",
                                     sov_ovsdb_op_insert("Logical_Switch",
                                                         json_pack("{s:s}", "name", ls), "ls"),
                                     sov_ovsdb_op_insert("Logical_Switch_Port",
                                                         json_pack("{s:s, s:s}", "name", lsp,
                                                                   "no_such_column", "x"),
                                                         "p")),
                           NULL, &err),
        -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_msg(strstr(err.msg, "operation 1 (insert)"), "%s", err.msg);
    ck_assert_msg(err.detail[0], "no details from the server");

    /* Two ports with one name: every operation succeeds, the commit is refused. */
    ck_assert_int_eq(
        sov_ovsdb_transact(
            c, NB,
            json_pack("[o, o, o]",
                      sov_ovsdb_op_insert("Logical_Switch_Port",
                                          json_pack("{s:s}", "name", lsp), "p1"),
                      sov_ovsdb_op_insert("Logical_Switch_Port",
                                          json_pack("{s:s}", "name", lsp), "p2"),
                      sov_ovsdb_op_insert("Logical_Switch",
                                          json_pack("{s:s, s:o}", "name", ls, "ports",
                                                    sov_ovsdb_set(json_pack(
                                                        "[o, o]", sov_ovsdb_named_uuid("p1"),
                                                        sov_ovsdb_named_uuid("p2")))),
                                          "ls")),
            NULL, &err),
        -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_msg(strstr(err.msg, "commit") && strstr(err.msg, "constraint violation"), "%s",
                  err.msg);

    rows = select_rows(c, "Logical_Switch", where_name(ls), NULL);
    ck_assert_uint_eq(json_array_size(rows), 0);
    json_decref(rows);
    rows = select_rows(c, "Logical_Switch_Port", where_name(lsp), NULL);
    ck_assert_uint_eq(json_array_size(rows), 0);
    json_decref(rows);
    out = tl_sh_out(NULL, "ovn-nbctl --db=%s show", srv.remote);
    ck_assert_msg(!strstr(out, ls) && !strstr(out, lsp), "%s", out);
    free(out);
    sov_ovsdb_close(c);
}
END_TEST

/* The server probes an idle connection with "echo" (inactivity_probe, here 1 s on a remote
 * that NB_Global's connections add) and drops it when no answer comes: the client answers,
 * and keeps its connection, while one that nobody reads from is dropped. */
START_TEST(server_echo_is_answered)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = connect_ok(srv.remote, 2000);
    sov_ovsdb *quiet, *busy;
    unsigned port = tl_free_port();
    char target[64], remote[64];

    snprintf(target, sizeof(target), "ptcp:%u:127.0.0.1", port);
    snprintf(remote, sizeof(remote), "tcp:127.0.0.1:%u", port);
    ck_assert_msg(
        sov_ovsdb_transact(
            c, NB,
            json_pack("[o, o]",
                      sov_ovsdb_op_insert("Connection",
                                          json_pack("{s:s, s:i}", "target", target,
                                                    "inactivity_probe", 1000),
                                          "conn"),
                      sov_ovsdb_op_insert("NB_Global",
                                          json_pack("{s:o}", "connections",
                                                    sov_ovsdb_named_uuid("conn")),
                                          NULL)),
            NULL, &err) == 0,
        "%s (%s)", err.msg, err.detail);
    sov_ovsdb_close(c);

    /* The server opens the new remote on its next loop. */
    busy = NULL;
    for (int i = 0; i < 100 && !busy; i++) {
        sov_error_clear(&err);
        if (sov_ovsdb_connect(remote, 1000, &busy, &err) < 0)
            usleep(50000);
    }
    ck_assert_msg(busy, "the probed remote never opened: %s", err.msg);
    quiet = connect_ok(remote, 2000);
    ck_assert(has_nb(busy));
    ck_assert(has_nb(quiet));

    /* Idle 3.5 s, reading as the client waits for something to do (monitors will). */
    for (int i = 0; i < 7; i++)
        ck_assert_msg(sov_ovsdb_poll(busy, 500, &err) == 0, "%s (%s)", err.msg, err.detail);
    ck_assert_uint_ge(sov_ovsdb_echoes(busy), 2);
    ck_assert(sov_ovsdb_alive(busy));
    ck_assert(has_nb(busy));

    /* The connection that sat unread missed its probes and was dropped. */
    bool found;
    ck_assert_int_eq(sov_ovsdb_has_db(quiet, NB, &found, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert(!sov_ovsdb_alive(quiet));
    sov_ovsdb_close(quiet);
    sov_ovsdb_close(busy);
}
END_TEST

/* A server that stops answering costs a call its timeout, not a hang; once it answers
 * again, the connection goes on and the late answer is not taken for the next one's. */
START_TEST(stopped_server_times_out)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = connect_ok(srv.remote, 300);
    json_t *dbs = NULL, *schema = NULL;
    double t0, took;

    ck_assert(has_nb(c));
    ck_assert_int_eq(kill(srv.pid, SIGSTOP), 0);
    t0 = tl_now();
    ck_assert_int_eq(sov_ovsdb_list_dbs(c, &dbs, &err), -1);
    took = tl_now() - t0;
    ck_assert_int_eq(kill(srv.pid, SIGCONT), 0);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.msg, "did not answer within 300 ms"), "%s", err.msg);
    ck_assert_msg(took >= 0.25 && took < 2.0, "took %.2f s", took);

    sov_ovsdb_set_timeout(c, 2000);
    ck_assert_msg(sov_ovsdb_get_schema(c, NB, &schema, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(json_string_value(json_object_get(schema, "name")), NB);
    json_decref(schema);

    /* A new connection to a stopped server: the connect lands in the kernel's backlog, the
     * first call times out. */
    ck_assert_int_eq(kill(srv.pid, SIGSTOP), 0);
    sov_ovsdb *d = NULL;
    t0 = tl_now();
    if (sov_ovsdb_connect(srv.remote, 300, &d, &err) == 0) {
        ck_assert_int_eq(sov_ovsdb_list_dbs(d, &dbs, &err), -1);
        sov_ovsdb_close(d);
    }
    took = tl_now() - t0;
    ck_assert_int_eq(kill(srv.pid, SIGCONT), 0);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(took < 2.0, "took %.2f s", took);
    sov_ovsdb_close(c);
    tl_ovsdb_stop(&srv);
}
END_TEST

START_TEST(server_gone_is_unavailable)
{
    sov_error err = SOV_ERROR_INIT;
    sov_ovsdb *c = connect_ok(srv.remote, 2000), *d = NULL;
    json_t *dbs = NULL;

    ck_assert(has_nb(c));
    tl_ovsdb_stop(&srv);
    ck_assert_int_eq(sov_ovsdb_list_dbs(c, &dbs, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert(!sov_ovsdb_alive(c));
    sov_ovsdb_close(c);

    ck_assert_int_eq(sov_ovsdb_connect(srv.remote, 2000, &d, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_int_eq(sov_ovsdb_connect(srv.tcp_remote, 2000, &d, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(bad_remotes_are_invalid)
{
    const char *bad[] = { "ssl:127.0.0.1:6641", "127.0.0.1:6641", "unix:", "tcp:127.0.0.1",
                          "tcp:127.0.0.1:0", "tcp:127.0.0.1:70000", "tcp::6641", "" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sov_error err = SOV_ERROR_INIT;
        sov_ovsdb *c = NULL;
        ck_assert_int_eq(sov_ovsdb_connect(bad[i], 500, &c, &err), -1);
        ck_assert_msg(err.code == SOV_E_INVALID, "'%s': %s", bad[i], err.msg);
        ck_assert_ptr_null(c);
    }
}
END_TEST

/* The readiness probe /readyz uses: not configured, reachable, a server without
 * OVN_Northbound, and a server gone. */
START_TEST(readiness_probe_asks_the_northbound_database)
{
    sov_error err = SOV_ERROR_INIT;
    sov_config cfg;
    sov_ovn_state st = SOV_OVN_REACHABLE;
    tl_ovsdb other;

    memset(&cfg, 0, sizeof(cfg));
    cfg.ovn_nb = "";
    ck_assert_int_eq(sov_network_ready(&cfg, &st, &err), 0);
    ck_assert_int_eq(st, SOV_OVN_NOT_CONFIGURED);
    ck_assert_str_eq(sov_ovn_state_name(st), "not configured");

    cfg.ovn_nb = srv.tcp_remote;
    ck_assert_msg(sov_network_ready(&cfg, &st, &err) == 0, "%s (%s)", err.msg, err.detail);
    ck_assert_int_eq(st, SOV_OVN_REACHABLE);
    ck_assert_str_eq(sov_ovn_state_name(st), "reachable");

    /* An ovsdb-server that answers, but with Open vSwitch's database, is not OVN. */
    tl_ovsdb_start_schema(&other, "/usr/share/openvswitch/vswitch.ovsschema", false);
    cfg.ovn_nb = other.remote;
    ck_assert_int_eq(sov_network_ready(&cfg, &st, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_str_eq(err.msg, "ovn northbound database unreachable");
    ck_assert_msg(strstr(err.detail, "serves no OVN_Northbound"), "%s", err.detail);
    tl_ovsdb_discard(&other);

    cfg.ovn_nb = srv.remote;
    tl_ovsdb_stop(&srv);
    ck_assert_int_eq(sov_network_ready(&cfg, &st, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.detail, srv.remote), "%s", err.detail);
}
END_TEST

/* --- a fake server on a socketpair ------------------------------------------------------ */

typedef struct fake {
    int fd;
    const char *const *steps;   /* "<" reads one request (into got), ">text" sends text,
                                   "." closes; NULL ends */
    size_t send_len;            /* for a ">" step of binary data: its length (0: strlen) */
    char got[8192];
    size_t got_len;
} fake;

static void *
fake_run(void *arg)
{
    fake *f = arg;

    for (size_t i = 0; f->steps[i]; i++) {
        const char *st = f->steps[i];
        if (st[0] == '<') {
            ssize_t n = read(f->fd, f->got + f->got_len, sizeof(f->got) - 1 - f->got_len);
            if (n > 0)
                f->got_len += (size_t) n;
            f->got[f->got_len] = '\0';
        } else if (st[0] == '>') {
            size_t len = f->send_len ? f->send_len : strlen(st + 1);
            for (size_t off = 0; off < len;) {
                /* The client may hang up first (an oversized answer): no SIGPIPE. */
                ssize_t n = send(f->fd, st + 1 + off, len - off, MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                off += (size_t) n;
            }
        } else if (st[0] == '.') {
            break;
        }
    }
    shutdown(f->fd, SHUT_RDWR);
    close(f->fd);
    return NULL;
}

/* Run one list_dbs against a fake server playing steps; returns the call's result. */
static int
fake_call(const char *const *steps, size_t max_message, size_t send_len, sov_error *err,
          fake *ret_fake, unsigned long *ret_echoes)
{
    int sv[2];
    sov_ovsdb *c = NULL;
    pthread_t t;
    json_t *dbs = NULL;
    int rc;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    memset(ret_fake, 0, sizeof(*ret_fake));
    ret_fake->fd = sv[1];
    ret_fake->steps = steps;
    ret_fake->send_len = send_len;
    ck_assert_int_eq(sov_ovsdb_open_fd(sv[0], 2000, &c, err), 0);
    if (max_message)
        sov_ovsdb_set_max_message(c, max_message);
    ck_assert_int_eq(pthread_create(&t, NULL, fake_run, ret_fake), 0);
    rc = sov_ovsdb_list_dbs(c, &dbs, err);
    if (ret_echoes)
        *ret_echoes = sov_ovsdb_echoes(c);
    sov_ovsdb_close(c);
    pthread_join(t, NULL);
    json_decref(dbs);
    return rc;
}

START_TEST(malformed_answers_are_errors)
{
    static const struct { const char *reply; sov_errcode code; } cases[] = {
        { ">not json at all", SOV_E_INTERNAL },
        { ">{\"id\":1,\"result\":[\"a\",]}", SOV_E_INTERNAL },          /* bad JSON */
        { ">{\"id\":1,\"result\":[\"\xff\xfe\"],\"error\":null}", SOV_E_INTERNAL },  /* UTF-8 */
        { ">[1,2,3]", SOV_E_INTERNAL },                                 /* not an object */
        { ">{\"id\":1}", SOV_E_INTERNAL },                              /* no result */
        { ">{\"id\":1,\"result\":{\"not\":\"a list\"},\"error\":null}", SOV_E_INTERNAL },
        { ">{\"method\":42}", SOV_E_INTERNAL },
        { ">{\"id\":1,\"result\":[\"OVN_North", SOV_E_UNAVAILABLE },    /* cut, then closed */
        { ">", SOV_E_UNAVAILABLE },                                     /* closed at once */
        { ">{\"id\":1,\"result\":null,\"error\":\"syntax error\"}", SOV_E_INTERNAL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *steps[] = { "<", cases[i].reply, ".", NULL };
        sov_error err = SOV_ERROR_INIT;
        fake f;

        ck_assert_msg(fake_call(steps, 0, 0, &err, &f, NULL) == -1, "case %zu passed", i);
        ck_assert_msg(err.code == cases[i].code, "case %zu: %s (%s)", i, err.msg,
                      sov_errcode_name(err.code));
        ck_assert_msg(strstr(f.got, "\"method\":\"list_dbs\""), "request: %s", f.got);
    }
}
END_TEST

/* An answer over the size limit is refused as soon as the limit is passed, not buffered. */
START_TEST(oversized_message_is_refused)
{
    size_t big = 256 * 1024;
    char *reply = malloc(big + 64);
    sov_error err = SOV_ERROR_INIT;
    fake f;

    ck_assert_ptr_nonnull(reply);
    int n = snprintf(reply, 64, ">{\"id\":1,\"result\":[\"");
    memset(reply + n, 'x', big);
    memcpy(reply + n + big, "\"],\"error\":null}", 17);
    const char *steps[] = { "<", reply, ".", NULL };
    ck_assert_int_eq(fake_call(steps, 4096, strlen(reply + 1), &err, &f, NULL), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_msg(strstr(err.msg, "size limit"), "%s", err.msg);

    /* The same answer under a limit that fits is read whole. */
    ck_assert_int_eq(fake_call(steps, big * 2, strlen(reply + 1), &err, &f, NULL), 0);
    free(reply);
}
END_TEST

/* An echo before the answer is answered with its own id and params, then the answer read;
 * an unrelated notification and a stale answer on the way are skipped. */
START_TEST(echo_before_the_answer_is_answered)
{
    const char *steps[] = {
        "<",
        ">{\"id\":\"echo\",\"method\":\"echo\",\"params\":[\"ping\"]}",
        ">{\"id\":null,\"method\":\"update\",\"params\":[null,{}]}",
        ">{\"id\":999,\"result\":[\"stale\"],\"error\":null}",
        "<",
        ">{\"id\":1,\"result\":[\"OVN_Northbound\"],\"error\":null}",
        ".",
        NULL,
    };
    sov_error err = SOV_ERROR_INIT;
    unsigned long echoes = 0;
    fake f;

    ck_assert_msg(fake_call(steps, 0, 0, &err, &f, &echoes) == 0, "%s", err.msg);
    ck_assert_uint_eq(echoes, 1);
    ck_assert_msg(strstr(f.got, "{\"id\":\"echo\",\"result\":[\"ping\"],\"error\":null}"),
                  "echo answer: %s", f.got);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("network/ovsdb");
    TCase *real = tcase_create("ovsdb-server");
    TCase *fakes = tcase_create("fake server");

    tcase_add_checked_fixture(real, setup, teardown);
    tcase_add_test(real, list_dbs_has_ovn_northbound_on_unix_and_tcp);
    tcase_add_test(real, get_schema_gives_the_schema_and_unknown_db_is_not_found);
    tcase_add_test(real, switch_and_ports_land_whole_by_named_uuid);
    tcase_add_test(real, one_bad_operation_changes_nothing);
    tcase_add_test(real, server_echo_is_answered);
    tcase_add_test(real, stopped_server_times_out);
    tcase_add_test(real, server_gone_is_unavailable);
    tcase_add_test(real, readiness_probe_asks_the_northbound_database);
    suite_add_tcase(s, real);
    tcase_add_test(fakes, bad_remotes_are_invalid);
    tcase_add_test(fakes, malformed_answers_are_errors);
    tcase_add_test(fakes, oversized_message_is_refused);
    tcase_add_test(fakes, echo_before_the_answer_is_answered);
    suite_add_tcase(s, fakes);
    return tl_run_suite(s);
}
