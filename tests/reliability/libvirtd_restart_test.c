/* libvirtd restarted under operations: sovd (every role) with its host on libvirt's test
 * driver inside a private libvirtd. A burst of creates, deletes and actions is sent, and
 * while the workers carry it out the daemon is stopped (SIGTERM), more work is sent while it
 * is away, and it is started again (once; five times with SOV_TEST_LONG=1). The test driver
 * keeps its state in the daemon's memory, so a restart also loses every domain, pool and
 * network there: harsher than a real host, whose guests outlive libvirtd.
 *
 * Every operation must end, within 60 s of the daemon's return, succeeded or failed with a
 * clear error (a message and a code), none left queued or running; the API answers no 500
 * meanwhile (a console read while the daemon is away is a 503 problem with Retry-After);
 * once the reconciler has looked, no live instance claims a domain the host lacks, no domain
 * lacks its instance, and quotas and the host's usage agree with the rows. Prints its
 * figures.
 *
 * A second, precise case needs no daemon stopped: sovd's hypervisor calls go through the
 * fault-injecting wrapper (compute/hv_faulty.c, SOV_HV_FAULT in its environment), which
 * fails exactly the second domain start as a daemon gone would; that create retries and
 * succeeds, the others run once, and nothing leaks. A third fails a start for good (an
 * internal error, not retried): the create fails with that reason, its instance is in error,
 * and its delete gives back the domain, the quota and the host's capacity. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rel.h"
#include "sov/cleanup.h"

#define MAX_OPS 2048
#define MAX_VMS 1024

static rel_world w;
static char *db;

static char ops[MAX_OPS][40];
static size_t nops;
static char vms[MAX_VMS][40];      /* instances answered 202 */
static size_t nvms;
static unsigned serial;

static struct {
    unsigned long calls, s2xx, s4xx, s503, s500;
    char first_500[512];
} fig;

static long
call(const char *method, const char *path, const char *body, tl_resp *r)
{
    char why[256];

    tl_call(&w.sovd, method, path, w.ten.token[TL_MEMBER], body, r);
    fig.calls++;
    if (r->status >= 200 && r->status < 300) {
        fig.s2xx++;
    } else if (r->status == 503) {
        char *ra = tl_resp_header(r, "Retry-After");
        if (!ra || !rel_is_problem(r, why, sizeof(why))) {
            fig.s500++;
            snprintf(fig.first_500, sizeof(fig.first_500), "%s %s: 503 without a problem or "
                     "Retry-After: %.200s", method, path, r->body);
        } else {
            fig.s503++;
        }
        free(ra);
    } else if (r->status >= 500) {
        fig.s500++;
        if (!fig.first_500[0])
            snprintf(fig.first_500, sizeof(fig.first_500), "%s %s: %ld %.300s", method, path,
                     r->status, r->body);
    } else {
        fig.s4xx++;
    }
    return r->status;
}

static void
keep_op(const tl_resp *r)
{
    const char *id = json_string_value(json_object_get(json_object_get(r->json, "operation"),
                                                       "id"));

    if (id && nops < MAX_OPS)
        snprintf(ops[nops++], sizeof(ops[0]), "%s", id);
}

static void
create(void)
{
    char body[256];
    tl_resp r;

    snprintf(body, sizeof(body), "{\"name\":\"lv-%u\",\"flavor\":\"tiny\",\"image\":\"base\"}",
             serial++);
    if (call("POST", "/v1/instances", body, &r) == 202) {
        keep_op(&r);
        const char *id = json_string_value(json_object_get(json_object_get(r.json,
                                                                           "instance"), "id"));
        if (id && nvms < MAX_VMS)
            snprintf(vms[nvms++], sizeof(vms[0]), "%s", id);
    }
    tl_resp_free(&r);
}

static void
act(size_t i, const char *action)
{
    char path[128], body[64];
    tl_resp r;

    if (strcmp(action, "delete") == 0) {
        snprintf(path, sizeof(path), "/v1/instances/%s", vms[i]);
        if (call("DELETE", path, NULL, &r) == 202)
            keep_op(&r);
    } else if (strcmp(action, "console") == 0) {
        snprintf(path, sizeof(path), "/v1/instances/%s/console", vms[i]);
        call("GET", path, NULL, &r);
    } else {
        snprintf(path, sizeof(path), "/v1/instances/%s/actions", vms[i]);
        snprintf(body, sizeof(body), "{\"action\":\"%s\"}", action);
        if (call("POST", path, body, &r) == 202)
            keep_op(&r);
    }
    tl_resp_free(&r);
}

/* Creates, and deletes, actions and console reads of instances made before. */
static void
burst(unsigned creates)
{
    static const char *const actions[] = { "delete", "stop", "reboot", "console", "start" };
    size_t before = nvms;

    for (unsigned i = 0; i < creates; i++) {
        create();
        if (before > 0)
            act((size_t) rand() % before, actions[i % SOV_N_ELEMENTS(actions)]);
    }
}

static void
setup(void)
{
    db = tl_db_create();
    memset(&fig, 0, sizeof(fig));
    nops = nvms = 0;
    srand((unsigned) getpid());
    rel_world_start(&w, db, (const char *const[]){ "--operation-step-timeout=20", NULL });
}

static void
teardown(void)
{
    rel_world_discard(&w);
    tl_db_drop(db);
    free(db);
}

/* The world, with sovd's hypervisor calls through the faulty wrapper (rules as
 * SOV_HV_FAULT spells them). The environment is sovd's only: unset again at once. */
static void
setup_faulty_with(const char *rules)
{
    setenv("SOV_HV_FAULT", rules, 1);
    setup();
    unsetenv("SOV_HV_FAULT");
}

static void
setup_faulty(void)
{
    setup_faulty_with("start:2:unavailable");
}

static void
setup_faulty_for_good(void)
{
    setup_faulty_with("start:1:internal");
}

static long long
count_domains(void)
{
    char *domains = rel_world_domains(&w);
    long long n = 0;

    for (char *p = domains; *p;) {
        size_t len = strcspn(p, "\n");
        if (len == 40 && strncmp(p, "sov-", 4) == 0)
            n++;
        p += len + (p[len] ? 1 : 0);
    }
    free(domains);
    return n;
}

#define SQL(...) rel_sql_num(db, __VA_ARGS__)

START_TEST(operations_end_when_libvirtd_restarts)
{
    unsigned rounds = rel_long() ? 5 : 1;
    double t0 = rel_now(), back = 0, settled, reconciled;
    long long left, succeeded = 0, failed = 0, unclear = 0, other = 0;
    char *domains;

    /* Instances to act on. */
    burst(8);
    ck_assert_msg(rel_world_settle(&w, 60) == 0, "the first instances did not settle");
    for (unsigned k = 0; k < rounds; k++) {
        burst(16);
        usleep(300 * 1000);             /* the workers are in the middle of it */
        tl_libvirtd_stop(&w.lvd);
        burst(8);                       /* sent while the daemon is away */
        sleep(2);
        tl_libvirtd_restart(&w.lvd);
        back = rel_now();
        if (k + 1 < rounds)
            sleep(5);
    }
    left = rel_world_settle(&w, 60);
    settled = rel_now() - back;

    /* How each ended. */
    for (size_t i = 0; i < nops; i++) {
        char path[128];
        json_t *o;
        snprintf(path, sizeof(path), "/v1/operations/%s", ops[i]);
        o = tl_call_ok(&w.sovd, "GET", path, w.ten.token[TL_READER], NULL, 200);
        const char *state = json_string_value(json_object_get(o, "state"));
        const char *error = json_string_value(json_object_get(o, "error"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (state && strcmp(state, "succeeded") == 0) {
            succeeded++;
        } else if (state && strcmp(state, "failed") == 0) {
            failed++;
            /* A clear error: a message someone can act on, and a code. */
            json_t *e = json_object_get(o, "error");
            const char *msg = json_is_object(e) ? json_string_value(json_object_get(e,
                                                                                    "message"))
                                                : error;
            const char *code = json_string_value(json_object_get(e, "code"));
            if (!msg || strlen(msg) < 8 || !code || !code[0]) {
                unclear++;
                printf("UNCLEAR failure of %s: %s\n", kind, json_dumps(o, JSON_COMPACT));
            } else if (failed <= 5) {
                printf("failed %s: %s (%s)\n", kind, msg, code);
            }
        } else {
            other++;
            printf("NOT ENDED: %s\n", json_dumps(o, JSON_COMPACT));
        }
        json_decref(o);
    }

    /* The reconciler's pass: instances whose domains the restart took become error. */
    long long missing = 0, orphans = 0;
    reconciled = rel_now();
    for (;;) {
        missing = orphans = 0;
        domains = rel_world_domains(&w);
        for (size_t i = 0; i < nvms; i++)
            if (SQL("SELECT count(*) FROM instances WHERE id = '%s' AND state IN ('running', "
                    "'stopped')", vms[i]) == 1 && !strstr(domains, vms[i]))
                missing++;
        for (char *p = domains; *p;) {
            size_t len = strcspn(p, "\n");
            if (len == 40 && strncmp(p, "sov-", 4) == 0 &&
                SQL("SELECT count(*) FROM instances WHERE id = '%.36s' AND state <> 'deleted'",
                    p + 4) != 1)
                orphans++;
            p += len + (p[len] ? 1 : 0);
        }
        free(domains);
        if ((missing == 0 && orphans == 0) || rel_now() - reconciled > 30)
            break;
        sleep(1);
    }
    reconciled = rel_now() - reconciled;
    bool quotas_ok =
        SQL("SELECT used FROM quotas WHERE tenant_id = '%s' AND resource = 'instances'",
            w.ten.id) == SQL("SELECT count(*) FROM instances WHERE tenant_id = '%s' AND state "
                             "<> 'deleted'", w.ten.id) &&
        SQL("SELECT used FROM quotas WHERE tenant_id = '%s' AND resource = 'vcpus'",
            w.ten.id) == SQL("SELECT coalesce(sum(vcpus), 0) FROM instances WHERE tenant_id = "
                             "'%s' AND state <> 'deleted'", w.ten.id);
    bool capacity_ok =
        SQL("SELECT vcpus_used FROM hosts WHERE id = '%s'", w.host_id) ==
        SQL("SELECT coalesce(sum(vcpus), 0) FROM host_allocations WHERE host_id = '%s'",
            w.host_id);
    char *states = tl_db_exec(db, "SELECT string_agg(state || ' ' || n, ', ') FROM (SELECT "
                                  "state, count(*) n FROM instances GROUP BY state ORDER BY "
                                  "state) s");
    printf("libvirtd-restart figures: %u restart(s); operations %zu: succeeded %lld, failed "
           "%lld (unclear %lld), not ended %lld; all ended %.1f s after the last restart "
           "(left %lld); API calls %lu: 2xx %lu, 4xx %lu, 503 %lu, other 5xx %lu; instances "
           "%s; after the reconciler (%.1f s): missing domains %lld, orphans %lld; quotas %s, "
           "capacity %s; %.1f s in all\n",
           rounds, nops, succeeded, failed, unclear, other, settled, left, fig.calls, fig.s2xx,
           fig.s4xx, fig.s503, fig.s500, states ? states : "", reconciled, missing, orphans,
           quotas_ok ? "consistent" : "INCONSISTENT", capacity_ok ? "consistent"
                                                                  : "INCONSISTENT",
           rel_now() - t0);
    if (fig.first_500[0])
        printf("5xx: %s\n", fig.first_500);
    fflush(stdout);
    free(states);

    ck_assert_msg(nops > 0, "no operation was accepted");
    ck_assert_msg(left == 0 && other == 0, "%lld operations did not end within 60 s", other);
    ck_assert_msg(unclear == 0, "%lld operations failed without a clear error", unclear);
    ck_assert_msg(fig.s500 == 0, "the API answered 5xx other than 503 problems (above)");
    ck_assert_msg(missing == 0, "%lld live instances claim domains the host lacks", missing);
    ck_assert_msg(orphans == 0, "%lld domains have no live instance", orphans);
    ck_assert_msg(quotas_ok, "quota usage differs from the live instances");
    ck_assert_msg(capacity_ok, "host usage differs from its allocations");
    ck_assert_msg(rel_world_stop_sovd(&w) == 0, "sovd did not stop cleanly (its log is above)");
}
END_TEST

START_TEST(the_second_start_fails_once_and_its_create_retries)
{
    double t0 = rel_now();
    long long attempts[3] = { 0, 0, 0 }, running = 0, domains_n = 0;

    for (int i = 0; i < 3; i++) {
        char path[128];
        json_t *o;

        nops = 0;
        create();
        ck_assert_uint_eq(nops, 1);
        ck_assert_msg(rel_world_settle(&w, 60) == 0, "create %d did not end", i + 1);
        snprintf(path, sizeof(path), "/v1/operations/%s", ops[0]);
        o = tl_call_ok(&w.sovd, "GET", path, w.ten.token[TL_READER], NULL, 200);
        ck_assert_msg(strcmp(json_string_value(json_object_get(o, "state")), "succeeded") == 0,
                      "create %d: %s", i + 1, json_dumps(o, JSON_COMPACT));
        attempts[i] = json_integer_value(json_object_get(o, "attempts"));
        json_decref(o);
    }
    /* Only the second start failed, once: its create alone took a second attempt. */
    ck_assert_int_eq(attempts[0], 1);
    ck_assert_int_eq(attempts[1], 2);
    ck_assert_int_eq(attempts[2], 1);
    running = SQL("SELECT count(*) FROM instances WHERE tenant_id = '%s' AND state = "
                  "'running'", w.ten.id);
    ck_assert_int_eq(running, 3);
    /* Nothing leaked: one domain per instance, quotas and host usage as the rows say. */
    domains_n = count_domains();
    ck_assert_int_eq(domains_n, 3);
    ck_assert_int_eq(SQL("SELECT used FROM quotas WHERE tenant_id = '%s' AND resource = "
                         "'instances'", w.ten.id), 3);
    ck_assert_int_eq(SQL("SELECT vcpus_used FROM hosts WHERE id = '%s'", w.host_id),
                     SQL("SELECT coalesce(sum(vcpus), 0) FROM host_allocations WHERE host_id "
                         "= '%s'", w.host_id));
    printf("faulty-start figures: attempts %lld/%lld/%lld, %lld domains, %.1f s\n",
           attempts[0], attempts[1], attempts[2], domains_n, rel_now() - t0);
    fflush(stdout);
    ck_assert_msg(rel_world_stop_sovd(&w) == 0, "sovd did not stop cleanly (its log is above)");
}
END_TEST

START_TEST(a_start_failing_for_good_fails_its_create_and_its_delete_gives_all_back)
{
    char path[128];
    json_t *o, *e;
    const char *code, *msg;

    create();
    ck_assert_uint_eq(nops, 1);
    ck_assert_msg(rel_world_settle(&w, 60) == 0, "the create did not end");
    snprintf(path, sizeof(path), "/v1/operations/%s", ops[0]);
    o = tl_call_ok(&w.sovd, "GET", path, w.ten.token[TL_READER], NULL, 200);
    e = json_object_get(o, "error");
    code = json_string_value(json_object_get(e, "code"));
    msg = json_string_value(json_object_get(e, "message"));
    ck_assert_msg(strcmp(json_string_value(json_object_get(o, "state")), "failed") == 0 &&
                  code && strcmp(code, "internal") == 0 && msg && strstr(msg, "start"),
                  "create: %s", json_dumps(o, JSON_COMPACT));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "attempts")), 1);
    json_decref(o);
    ck_assert_int_eq(SQL("SELECT count(*) FROM instances WHERE id = '%s' AND state = 'error'",
                         vms[0]), 1);

    nops = 0;
    act(0, "delete");
    ck_assert_uint_eq(nops, 1);
    ck_assert_msg(rel_world_settle(&w, 60) == 0, "the delete did not end");
    snprintf(path, sizeof(path), "/v1/operations/%s", ops[0]);
    o = tl_call_ok(&w.sovd, "GET", path, w.ten.token[TL_READER], NULL, 200);
    ck_assert_msg(strcmp(json_string_value(json_object_get(o, "state")), "succeeded") == 0,
                  "delete: %s", json_dumps(o, JSON_COMPACT));
    json_decref(o);
    ck_assert_int_eq(count_domains(), 0);
    ck_assert_int_eq(SQL("SELECT used FROM quotas WHERE tenant_id = '%s' AND resource = "
                         "'instances'", w.ten.id), 0);
    ck_assert_int_eq(SQL("SELECT used FROM quotas WHERE tenant_id = '%s' AND resource = "
                         "'vcpus'", w.ten.id), 0);
    ck_assert_int_eq(SQL("SELECT vcpus_used FROM hosts WHERE id = '%s'", w.host_id), 0);
    ck_assert_msg(rel_world_stop_sovd(&w) == 0, "sovd did not stop cleanly (its log is above)");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("reliability/libvirtd-restart");
    TCase *tc = tcase_create("libvirtd-restart");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, rel_long() ? 600 : 280);
    tcase_add_test(tc, operations_end_when_libvirtd_restarts);
    suite_add_tcase(s, tc);

    TCase *faulty = tcase_create("faulty-start");
    tcase_add_checked_fixture(faulty, setup_faulty, teardown);
    tcase_set_timeout(faulty, 120);
    tcase_add_test(faulty, the_second_start_fails_once_and_its_create_retries);
    suite_add_tcase(s, faulty);

    TCase *for_good = tcase_create("faulty-start-for-good");
    tcase_add_checked_fixture(for_good, setup_faulty_for_good, teardown);
    tcase_set_timeout(for_good, 120);
    tcase_add_test(for_good,
                   a_start_failing_for_good_fails_its_create_and_its_delete_gives_all_back);
    suite_add_tcase(s, for_good);
    return tl_run_suite(s);
}
