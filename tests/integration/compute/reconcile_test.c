/* The reconciler and the operations queue against a host sovd does not control alone: a real
 * sovd whose host is libvirt's test driver inside a private libvirtd (run as nobody), which
 * the test changes behind sovd's back with `virsh` on the same URI (the daemon keeps the
 * driver's state while sovd holds its connection).
 *
 * Covered: a domain removed on the host puts its instance in error, naming the host; a domain
 * powered off there makes its instance stopped (and started there, running again); a domain
 * carrying sovd's metadata that no instance owns is removed, or kept under orphan_policy
 * adopt; usage drifted in the database is recomputed from the allocations; and a create whose
 * host does not answer is retried by the queue, with the reason, until the host is back. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hosts.h"
#include "testlib.h"

/* The first value of a query on this test's database (testlib). */
#define sql_num(...) tl_db_num(db, __VA_ARGS__)

#define REGION "fr-test-1"
#define HOST "node-1"
#define FLAVOR "small"
#define IMAGE "base"
#define WAIT_S 30
#define REPAIR_S 10     /* the reconciler runs every second: a repair takes one or two */
#define RETRY_S 40      /* retries wait 2, 4, 8 and 16 s */

static char *db;
static char *tmp;
static tl_sovd sovd;
static tl_libvirtd lvd;
static char *op;                /* the bootstrap operator's token */
static tl_tenant acme;
static char uri[800];           /* the test driver inside the private libvirtd */
static char pool[64], net[64];  /* per test process: runs never share them */
static char host_id[40];

/* ---- fixture ---- */

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(&lvd, 0, sizeof(lvd));
    op = NULL;
    snprintf(pool, sizeof(pool), "sovtest-%d", (int) getpid());
    snprintf(net, sizeof(net), "sovtest%d", (int) getpid());
    tl_libvirtd_start(&lvd);
    snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s", lvd.sock);
}

static void
teardown(void)
{
    /* The pool, network and domains live in the daemon's test driver, and die with it. */
    tl_local_teardown(&sovd, &lvd, db, op, tmp);
}

/* The domain's state as `virsh domstate` says it. */
static void
assert_domstate(const char *name, const char *state)
{
    char *out = NULL;

    ck_assert_int_eq(tl_virsh(uri, &out, "domstate %s", name), 0);
    ck_assert_msg(strstr(out, state), "domain %s is not %s: %s", name, state, out);
    free(out);
}

static json_t *
get_instance(const char *id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    return tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
}

/* Wait (at most seconds) for an instance to reach state; the last reply. */
static json_t *
wait_state(const char *id, const char *state, int seconds)
{
    return tl_wait_state(&sovd, acme.token[TL_READER], "/v1/instances/", id, state, seconds);
}

static json_t *
get_op(const char *id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/operations/%s", id);
    return tl_call_ok(&sovd, "GET", path, acme.token[TL_READER], NULL, 200);
}

/* Wait (at most seconds) for an operation to succeed; the last reply. */
static json_t *
op_succeeds(const char *id, int seconds)
{
    time_t until = time(NULL) + seconds;

    for (;;) {
        json_t *o = get_op(id);
        const char *state = tl_str(o, "state");
        ck_assert_msg(strcmp(state, "failed") != 0, "operation failed: %s", json_dumps(o, 0));
        if (strcmp(state, "succeeded") == 0)
            return o;
        ck_assert_msg(time(NULL) < until, "operation %s still %s after %d s: %s", id, state,
                      seconds, json_dumps(o, 0));
        json_decref(o);
        usleep(100 * 1000);
    }
}

/* Whether sovd's log holds text. */
static bool
log_has(const char *text)
{
    char *log = tl_sovd_log(&sovd);
    bool found = log && strstr(log, text);

    free(log);
    return found;
}

/* sovd with the host's pool and network named for this test process, and extra flags
 * (NULL-terminated, may be NULL); then the operator's token, tenant acme, a region, host
 * HOST on the private daemon, flavor FLAVOR and acme's image IMAGE, active. */
static void
start(const char *const *extra)
{
    tl_local_flags f;
    char body[2048], qcow2[600];
    const char *args[32] = { "--host-check-interval=1", "--worker-threads=4",
                             "--image-allow-file-urls=true", "--operation-step-timeout=10",
                             "--stop-timeout=5", f.store, f.pool, f.path, f.net, f.cidr };
    size_t n = 10;
    json_t *j;

    tl_local_flags_init(&f, tmp, pool, net);
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    tl_tenant_make(&sovd, op, "acme", &acme);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/regions", op,
                           "{\"code\":\"" REGION "\",\"name\":\"Test FR\",\"country\":\"FR\","
                           "\"datacenter\":\"dc-fr\",\"zones\":[\"a\"]}", 201));
    snprintf(body, sizeof(body), "{\"name\":\"" HOST "\",\"region\":\"" REGION "\",\"zone\":"
             "\"a\",\"libvirt_uri\":\"%s\"}", uri);
    j = tl_host_add(&sovd, op, body);
    snprintf(host_id, sizeof(host_id), "%s", tl_str(j, "id"));
    json_decref(j);
    json_decref(tl_call_ok(&sovd, "POST", "/v1/flavors", op,
                           "{\"name\":\"" FLAVOR "\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));

    snprintf(qcow2, sizeof(qcow2), "%s/base.qcow2", tmp);
    ck_assert_int_eq(tl_sh("qemu-img create -q -f qcow2 '%s' 64M", qcow2), 0);
    snprintf(body, sizeof(body), "{\"name\":\"" IMAGE "\",\"region\":\"" REGION "\","
             "\"format\":\"qcow2\",\"source_url\":\"file://%s\"}", qcow2);
    j = tl_call_ok(&sovd, "POST", "/v1/images", acme.token[TL_MEMBER], body, 202);
    json_decref(op_succeeds(tl_str(json_object_get(j, "operation"), "id"), WAIT_S));
    json_decref(j);
}

/* All three roles, with the given orphan policy flag (or none). */
static void
start_all(const char *orphan_flag)
{
    const char *extra[] = { "--role=api,worker,reconciler", orphan_flag, NULL };

    start(extra);
}

/* POST /v1/instances as acme's member: the instance's id and its operation's. */
static void
launch(const char *name, char id[40], char op_id[40])
{
    char body[256];
    json_t *j;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"flavor\":\"" FLAVOR "\",\"image\":"
             "\"" IMAGE "\"}", name);
    j = tl_call_ok(&sovd, "POST", "/v1/instances", acme.token[TL_MEMBER], body, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(op_id, 40, "%s", tl_str(json_object_get(j, "operation"), "id"));
    json_decref(j);
}

static void
launch_running(const char *name, char id[40])
{
    char op_id[40];

    launch(name, id, op_id);
    json_decref(op_succeeds(op_id, WAIT_S));
    json_decref(wait_state(id, "running", WAIT_S));
}

/* An orphan: a copy of instance id's domain under a new UUID (and name, volumes and
 * metadata to match), defined and started on the host behind sovd's back. */
static void
make_orphan(const char *id, char orphan[40])
{
    char xml[600];
    char *uuid, *text;
    FILE *f;

    uuid = tl_read_file("/proc/sys/kernel/random/uuid");
    ck_assert(uuid);
    snprintf(orphan, 40, "%.36s", uuid);
    free(uuid);
    snprintf(xml, sizeof(xml), "%s/orphan.xml", tmp);
    ck_assert_int_eq(tl_virsh(uri, &text, "dumpxml --inactive sov-%s", id), 0);
    f = fopen(xml, "w");
    ck_assert(f && fputs(text, f) >= 0 && fclose(f) == 0);
    free(text);
    ck_assert_int_eq(tl_sh("sed -i 's/%s/%s/g' '%s'", id, orphan, xml), 0);
    ck_assert_int_eq(tl_sh("grep -q '<sov:id>%s</sov:id>' '%s'", orphan, xml), 0);
    ck_assert_int_eq(tl_virsh(uri, NULL, "define '%s'", xml), 0);
    /* The reconciler may take it between the two: its removal is what the test waits for. */
    tl_virsh(uri, NULL, "start sov-%s", orphan);
}

/* ---- tests ---- */

START_TEST(a_vanished_domain_puts_the_instance_in_error_naming_the_host)
{
    char id[40], path[128], op_id[40];
    json_t *x, *acc;

    start_all(NULL);
    launch_running("web-1", id);
    ck_assert_int_eq(tl_virsh(uri, NULL, "destroy sov-%s", id), 0);
    ck_assert_int_eq(tl_virsh(uri, NULL, "undefine sov-%s", id), 0);

    x = wait_state(id, "error", REPAIR_S);
    ck_assert_msg(strstr(tl_str(x, "state_reason"), "gone") &&
                  strstr(tl_str(x, "state_reason"), HOST), "reason: %s", tl_str(x, "state_reason"));
    json_decref(x);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.reconcile' AND resource_type = 'instance' AND"
                             " resource_id = '%s' AND tenant_id = '%s'", id, acme.id), 1);
    /* Once: an instance in error is not repaired again on the next passes. */
    sleep(2);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.reconcile' AND resource_id = '%s'", id), 1);

    /* It can still be deleted, giving its capacity back. */
    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    acc = tl_call_ok(&sovd, "DELETE", path, acme.token[TL_MEMBER], NULL, 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(acc, "operation"), "id"));
    json_decref(acc);
    json_decref(op_succeeds(op_id, WAIT_S));
    json_decref(wait_state(id, "deleted", WAIT_S));
    ck_assert_int_eq(sql_num("SELECT vcpus_used FROM hosts WHERE id = '%s'", host_id), 0);
}
END_TEST

START_TEST(a_domain_powered_off_on_the_host_makes_the_instance_stopped)
{
    char id[40], name[64], path[128], op_id[40];
    json_t *x, *acc;

    start_all(NULL);
    launch_running("web-1", id);
    ck_assert_int_eq(tl_virsh(uri, NULL, "destroy sov-%s", id), 0);
    x = wait_state(id, "stopped", REPAIR_S);
    ck_assert_msg(strstr(tl_str(x, "state_reason"), "powered itself off"), "reason: %s",
                  tl_str(x, "state_reason"));
    json_decref(x);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.reconcile' AND resource_id = '%s'", id), 1);
    /* sovd leaves the domain as the host has it. */
    snprintf(name, sizeof(name), "sov-%s", id);
    assert_domstate(name, "shut off");

    /* Started on the host, it is running again; and the API's actions still work on it. */
    ck_assert_int_eq(tl_virsh(uri, NULL, "start sov-%s", id), 0);
    x = wait_state(id, "running", REPAIR_S);
    ck_assert_msg(strstr(tl_str(x, "state_reason"), "started on the host"), "reason: %s",
                  tl_str(x, "state_reason"));
    json_decref(x);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.reconcile' AND resource_id = '%s'", id), 2);
    snprintf(path, sizeof(path), "/v1/instances/%s/actions", id);
    acc = tl_call_ok(&sovd, "POST", path, acme.token[TL_MEMBER], "{\"action\":\"stop\"}", 202);
    snprintf(op_id, sizeof(op_id), "%s", tl_str(json_object_get(acc, "operation"), "id"));
    json_decref(acc);
    json_decref(op_succeeds(op_id, WAIT_S));
    x = wait_state(id, "stopped", WAIT_S);
    ck_assert_str_eq(tl_str(x, "state_reason"), "");
    json_decref(x);
    assert_domstate(name, "shut off");
}
END_TEST

START_TEST(an_orphan_domain_is_removed_by_default)
{
    char id[40], orphan[40], name[64];
    time_t until;

    start_all(NULL);
    launch_running("web-1", id);
    make_orphan(id, orphan);

    until = time(NULL) + REPAIR_S;
    while (tl_virsh(uri, NULL, "dominfo sov-%s", orphan) == 0) {
        ck_assert_msg(time(NULL) < until, "orphan sov-%s still defined after %d s", orphan,
                      REPAIR_S);
        usleep(200 * 1000);
    }
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.orphan-removed' AND resource_type = 'domain' AND"
                             " resource_id = '%s' AND tenant_id = '%s'", orphan, acme.id), 1);
    /* The instance it was copied from is untouched, and nothing was made of the orphan. */
    snprintf(name, sizeof(name), "sov-%s", id);
    assert_domstate(name, "running");
    json_t *x = get_instance(id);
    ck_assert_str_eq(tl_str(x, "state"), "running");
    json_decref(x);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM instances"), 1);
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.reconcile'"), 0);
}
END_TEST

START_TEST(an_orphan_domain_is_kept_under_orphan_policy_adopt)
{
    char id[40], orphan[40], name[64], line[160];
    time_t until;

    start_all("--orphan-policy=adopt");
    launch_running("web-1", id);
    make_orphan(id, orphan);

    /* The reconciler has seen it (and says so) ... */
    snprintf(line, sizeof(line), "domain sov-%s on host " HOST " belongs to no instance; kept",
             orphan);
    until = time(NULL) + REPAIR_S;
    while (!log_has(line)) {
        ck_assert_msg(time(NULL) < until, "no '%s' in %s after %d s", line, sovd.log,
                      REPAIR_S);
        usleep(200 * 1000);
    }
    /* ... and leaves it alone, pass after pass. */
    sleep(2);
    snprintf(name, sizeof(name), "sov-%s", orphan);
    assert_domstate(name, "running");
    ck_assert_int_eq(sql_num("SELECT count(*) FROM audit_log WHERE action ="
                             " 'instances.orphan-removed'"), 0);
    snprintf(name, sizeof(name), "sov-%s", id);
    assert_domstate(name, "running");
}
END_TEST

START_TEST(drifted_usage_is_recomputed_from_the_allocations)
{
    char id[40], path[128];
    time_t until;
    json_t *h, *usage;

    start_all(NULL);
    launch_running("web-1", id);
    free(tl_db_exec(db, "UPDATE hosts SET vcpus_used = 99, memory_mib_used = 99999,"
                        " disk_gib_used = 42"));

    snprintf(path, sizeof(path), "/v1/hosts/%s", host_id);
    until = time(NULL) + REPAIR_S;
    for (;;) {
        h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
        usage = json_object_get(h, "usage");
        if (tl_num(usage, "vcpus") == 1)
            break;
        ck_assert_msg(time(NULL) < until, "usage not recomputed after %d s: %s", REPAIR_S,
                      json_dumps(h, 0));
        json_decref(h);
        usleep(200 * 1000);
    }
    ck_assert_int_eq(tl_num(usage, "memory_mib"), 256);
    ck_assert_int_eq(tl_num(usage, "disk_gib"), 1);
    ck_assert_int_eq(tl_num(usage, "gpus"), 0);
    json_decref(h);
    ck_assert_msg(log_has("usage of host " HOST " recomputed from its allocations"),
                  "no warning in %s", sovd.log);
    /* What is real was not touched. */
    json_t *x = get_instance(id);
    ck_assert_str_eq(tl_str(x, "state"), "running");
    json_decref(x);
}
END_TEST

/* Without the reconciler, so the host stays up for the placement while its daemon is away:
 * only the worker meets the outage. */
START_TEST(a_create_on_an_unreachable_host_is_retried_until_it_answers)
{
    const char *const extra[] = { "--role=api,worker", NULL };
    char id[40], op_id[40], name[64];
    time_t until;
    json_t *o, *x;

    start(extra);
    tl_libvirtd_stop(&lvd);
    launch("web-1", id, op_id);

    /* Tried twice, failed for a reason that says the host could not be reached, queued
     * again (queued with two attempts: the error is the second's, when the connection kept
     * from adding the host has been found dead and a new one refused). */
    until = time(NULL) + RETRY_S;
    for (;;) {
        o = get_op(op_id);
        ck_assert_msg(strcmp(tl_str(o, "state"), "failed") != 0 &&
                      strcmp(tl_str(o, "state"), "succeeded") != 0, "operation finished: %s",
                      json_dumps(o, 0));
        if (tl_num(o, "attempts") >= 2 && strcmp(tl_str(o, "state"), "queued") == 0)
            break;
        ck_assert_msg(time(NULL) < until, "no second attempt after %d s: %s", RETRY_S,
                      json_dumps(o, 0));
        json_decref(o);
        usleep(200 * 1000);
    }
    json_t *e = json_object_get(o, "error");
    ck_assert_str_eq(tl_str(e, "code"), "unavailable");
    ck_assert_msg(strstr(tl_str(e, "message"), "could not connect"), "error: %s",
                  tl_str(e, "message"));
    json_decref(o);
    x = get_instance(id);
    ck_assert_msg(strcmp(tl_str(x, "state"), "building") == 0 ||
                  strcmp(tl_str(x, "state"), "scheduling") == 0, "instance: %s", json_dumps(x, 0));
    json_decref(x);

    /* The daemon is back (with a fresh test driver: the host lost its pool and network). */
    tl_libvirtd_restart(&lvd);
    o = op_succeeds(op_id, RETRY_S);
    ck_assert_int_ge(tl_num(o, "attempts"), 3);
    ck_assert_int_eq(tl_num(o, "progress"), 100);
    ck_assert(json_is_null(json_object_get(o, "error")));
    json_decref(o);
    x = wait_state(id, "running", WAIT_S);
    json_decref(x);
    snprintf(name, sizeof(name), "sov-%s", id);
    assert_domstate(name, "running");
    /* The worker made the pool and network again, and the disk is in it. */
    ck_assert_int_eq(tl_virsh(uri, NULL, "net-info %s", net), 0);
    char *out = NULL;
    ck_assert_int_eq(tl_virsh(uri, &out, "vol-list %s", pool), 0);
    snprintf(name, sizeof(name), "sov-%s-disk", id);
    ck_assert_msg(strstr(out, name), "no %s in pool %s: %s", name, pool, out);
    free(out);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/reconcile");
    TCase *tc = tcase_create("reconcile");

    /* A daemon that goes away leaves libvirt writing to a closed socket. */
    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_vanished_domain_puts_the_instance_in_error_naming_the_host);
    tcase_add_test(tc, a_domain_powered_off_on_the_host_makes_the_instance_stopped);
    tcase_add_test(tc, an_orphan_domain_is_removed_by_default);
    tcase_add_test(tc, an_orphan_domain_is_kept_under_orphan_policy_adopt);
    tcase_add_test(tc, drifted_usage_is_recomputed_from_the_allocations);
    tcase_add_test(tc, a_create_on_an_unreachable_host_is_retried_until_it_answers);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
