/* The libvirt driver's migrate, xml and volume_send on libvirt's test driver: two test hosts
 * (test:///dir/a.xml and test:///dir/b.xml, each a state of its own in this process). A
 * migration moves the running domain from one to the other (progress called, statistics
 * filled), one the fault wrapper fails leaves it running where it was, a domain that is not
 * running or not there is refused; volume_send makes a volume of the source's name and
 * capacity on the target, replacing one there; xml gives the inactive definition, which
 * defines the same domain again. Needs no PostgreSQL and no daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sov/compute.h"
#include "sov/hv.h"
#include "sov/registry.h"
#include "testlib.h"

#define POOL "sov-migrate-test"
#define GIB (1024LL * 1024 * 1024)

static char *tmp;
static sov_hv *a, *b;

static void
open_host(const char *name, sov_hv **ret)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node node;
    char pool_path[1200];
    char *uri = tl_test_host_uri(tmp, name, 4, 8);

    snprintf(pool_path, sizeof(pool_path), "%s/pool-%s", tmp, name);
    ck_assert_msg(sov_hv_open(uri, ret, &err) == 0, "open %s: %s", uri, err.msg);
    ck_assert_msg(sov_hv_discover(*ret, POOL, pool_path, &node, &err) == 0, "discover: %s (%s)",
                  err.msg, err.detail);
    free(uri);
}

static void
open_hosts(void)
{
    open_host("a", &a);
    open_host("b", &b);
}

static void
setup(void)
{
    tmp = tl_tmpdir();
    a = b = NULL;
    sov_hv_faulty_uninstall();
    sov_registry_reset();
    ck_assert_int_eq(sov_hv_register_libvirt(NULL), 0);
}

static void
teardown(void)
{
    sov_hv_close(a);
    sov_hv_close(b);
    a = b = NULL;
    sov_hv_faulty_uninstall();
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* ---- helpers ---- */

static void
new_uuid(char uuid[40])
{
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    ck_assert(f && fgets(uuid, 40, f));
    fclose(f);
    uuid[strcspn(uuid, "\n")] = '\0';
}

/* A running domain of ours on hv: sov-<uuid>, 64 MiB. */
static void
domain_run(sov_hv *hv, char uuid[40])
{
    sov_error err = SOV_ERROR_INIT;
    char xml[1024];

    new_uuid(uuid);
    snprintf(xml, sizeof(xml),
             "<domain type='test'><name>sov-%s</name><uuid>%s</uuid>"
             "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os></domain>", uuid, uuid);
    ck_assert_msg(sov_hv_define(hv, xml, &err) == 0, "define: %s (%s)", err.msg, err.detail);
    ck_assert_msg(sov_hv_start(hv, uuid, &err) == 0, "start: %s (%s)", err.msg, err.detail);
}

static sov_domain_state
state_of(sov_hv *hv, const char *uuid)
{
    sov_error err = SOV_ERROR_INIT;
    sov_domain_state s;

    ck_assert_msg(sov_hv_state(hv, uuid, &s, &err) == 0, "state: %s", err.msg);
    return s;
}

/* How many of our domains hv lists. */
static size_t
domains_on(sov_hv *hv)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_domain *list = NULL;
    size_t n = 0;

    ck_assert_msg(sov_hv_list(hv, "sov-", &list, &n, &err) == 0, "list: %s", err.msg);
    free(list);
    return n;
}

typedef struct seen {
    int calls;
    sov_hv_job last;
} seen;

static void
on_progress(void *arg, const sov_hv_job *job)
{
    seen *s = arg;

    s->calls++;
    s->last = *job;
}

static long long
capacity_of(sov_hv *hv, const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    long long cap = -1, alloc = -1;

    ck_assert_msg(sov_hv_volume_info(hv, POOL, name, &cap, &alloc, &err) == 0,
                  "volume_info %s: %s", name, err.msg);
    return cap;
}

static void
fault_install(const char *call)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_hv_faulty_install("test", &err) == 0, "install: %s", err.msg);
    ck_assert_int_eq(sov_hv_faulty_set(call, 1, SOV_E_UNAVAILABLE, 0, &err), 0);
}

/* ---- migrate ---- */

START_TEST(migrate_moves_the_running_domain)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40];
    seen s = { 0 };
    sov_hv_job job;
    sov_hv_migrate_args args = { .dest_uri = "test:///b", .address = "192.0.2.2",
                                 .copy_storage = true, .auto_converge = true,
                                 .timeout_s = 60, .progress = on_progress, .arg = &s };

    open_hosts();
    domain_run(a, uuid);
    memset(&job, 0x55, sizeof(job));
    ck_assert_msg(sov_hv_migrate(a, b, uuid, &args, &job, &err) == 0, "migrate: %s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(state_of(b, uuid), SOV_DOMAIN_RUNNING);
    ck_assert_int_eq(state_of(a, uuid), SOV_DOMAIN_NONE);
    ck_assert_uint_eq(domains_on(a), 0);
    ck_assert_uint_eq(domains_on(b), 1);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(s.last.data_total, 0);
    ck_assert_int_eq(job.data_total, 0);
    ck_assert_int_eq(job.data_processed, 0);
    ck_assert_int_eq(job.data_remaining, 0);
    ck_assert_int_eq(job.disk_total, 0);
    ck_assert_int_eq(job.downtime_ms, 0);
    ck_assert_int_ge(job.elapsed_ms, 0);
    ck_assert_int_eq(job.percent, 100);

    /* And back again, without a progress callback. */
    args.progress = NULL;
    ck_assert_msg(sov_hv_migrate(b, a, uuid, &args, &job, &err) == 0, "migrate back: %s",
                  err.msg);
    ck_assert_int_eq(state_of(a, uuid), SOV_DOMAIN_RUNNING);
    ck_assert_int_eq(state_of(b, uuid), SOV_DOMAIN_NONE);
}
END_TEST

START_TEST(a_failed_migrate_leaves_the_domain_where_it_was)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40];
    seen s = { 0 };
    sov_hv_job job = { 0 };
    sov_hv_migrate_args args = { .dest_uri = "test:///b", .address = "192.0.2.2",
                                 .progress = on_progress, .arg = &s };

    fault_install("migrate");
    open_hosts();
    domain_run(a, uuid);
    ck_assert_int_eq(sov_hv_migrate(a, b, uuid, &args, &job, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_int_eq(state_of(a, uuid), SOV_DOMAIN_RUNNING);
    ck_assert_int_eq(state_of(b, uuid), SOV_DOMAIN_NONE);
    ck_assert_int_eq(s.calls, 0);
    ck_assert_uint_eq(sov_hv_faulty_calls("migrate"), 1);

    /* The rule was for one call: the next one moves it. */
    sov_error_clear(&err);
    ck_assert_msg(sov_hv_migrate(a, b, uuid, &args, &job, &err) == 0, "migrate: %s", err.msg);
    ck_assert_int_eq(state_of(b, uuid), SOV_DOMAIN_RUNNING);
    ck_assert_int_eq(state_of(a, uuid), SOV_DOMAIN_NONE);
}
END_TEST

START_TEST(migrate_refuses_a_stopped_or_missing_domain)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40], other[40];
    sov_hv_job job = { 0 };
    sov_hv_migrate_args args = { .dest_uri = "test:///b", .address = "192.0.2.2" };

    open_hosts();
    domain_run(a, uuid);
    ck_assert_int_eq(sov_hv_stop(a, uuid, true, &err), 0);
    ck_assert_int_eq(sov_hv_migrate(a, b, uuid, &args, &job, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    tl_assert_contains(err.msg, "not running");
    ck_assert_int_eq(state_of(a, uuid), SOV_DOMAIN_STOPPED);
    ck_assert_int_eq(state_of(b, uuid), SOV_DOMAIN_NONE);

    sov_error_clear(&err);
    new_uuid(other);
    ck_assert_int_eq(sov_hv_migrate(a, b, other, &args, &job, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);

    sov_error_clear(&err);
    ck_assert_int_eq(sov_hv_migrate(a, NULL, uuid, &args, &job, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
}
END_TEST

/* ---- xml ---- */

START_TEST(xml_gives_the_definition_that_defines_it_again)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40], name[64];
    char *xml = NULL, *again = NULL;

    open_hosts();
    domain_run(a, uuid);
    ck_assert_msg(sov_hv_xml(a, uuid, &xml, &err) == 0, "xml: %s", err.msg);
    snprintf(name, sizeof(name), "<name>sov-%s</name>", uuid);
    tl_assert_contains(xml, name);
    tl_assert_contains(xml, uuid);
    tl_assert_contains(xml, "<memory unit='KiB'>65536</memory>");
    ck_assert_msg(sov_hv_define(b, xml, &err) == 0, "define: %s (%s)", err.msg, err.detail);
    ck_assert_int_eq(state_of(b, uuid), SOV_DOMAIN_STOPPED);
    ck_assert_msg(sov_hv_xml(b, uuid, &again, &err) == 0, "xml: %s", err.msg);
    ck_assert_str_eq(xml, again);
    free(xml);
    free(again);

    new_uuid(uuid);
    xml = NULL;
    ck_assert_int_eq(sov_hv_xml(a, uuid, &xml, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_ptr_null(xml);
}
END_TEST

/* ---- volume_send ---- */

START_TEST(volume_send_makes_the_volume_on_the_target)
{
    sov_error err = SOV_ERROR_INIT;
    char **names = NULL;
    size_t n = 0;

    open_hosts();
    ck_assert_int_eq(sov_hv_volume_create(a, POOL, "sov-vol-one", 3, NULL, &err), 0);
    ck_assert_int_eq(sov_hv_volume_create(a, POOL, "sov-vol-two", 2, NULL, &err), 0);
    /* An earlier run's volume of that name, of another size, is replaced. */
    ck_assert_int_eq(sov_hv_volume_create(b, POOL, "sov-vol-two", 1, NULL, &err), 0);

    ck_assert_msg(sov_hv_volume_send(a, POOL, "sov-vol-one", b, &err) == 0, "send: %s (%s)",
                  err.msg, err.detail);
    ck_assert_msg(sov_hv_volume_send(a, POOL, "sov-vol-two", b, &err) == 0, "send: %s",
                  err.msg);
    ck_assert_int_eq(capacity_of(b, "sov-vol-one"), 3 * GIB);
    ck_assert_int_eq(capacity_of(b, "sov-vol-two"), 2 * GIB);
    /* The source keeps its own. */
    ck_assert_int_eq(capacity_of(a, "sov-vol-one"), 3 * GIB);
    ck_assert_int_eq(sov_hv_volume_list(b, POOL, "sov-vol-", &names, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    sov_hv_names_free(names, n);

    /* A volume the source does not have. */
    ck_assert_int_eq(sov_hv_volume_send(a, POOL, "sov-vol-none", b, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
}
END_TEST

START_TEST(a_failed_volume_send_makes_nothing)
{
    sov_error err = SOV_ERROR_INIT;
    char **names = NULL;
    size_t n = 0;

    fault_install("volume_send");
    open_hosts();
    ck_assert_int_eq(sov_hv_volume_create(a, POOL, "sov-vol-one", 3, NULL, &err), 0);
    ck_assert_int_eq(sov_hv_volume_send(a, POOL, "sov-vol-one", b, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_int_eq(sov_hv_volume_list(b, POOL, "sov-vol-", &names, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    sov_hv_names_free(names, n);
    ck_assert_uint_eq(sov_hv_faulty_calls("volume_send"), 1);
    sov_error_clear(&err);
    ck_assert_int_eq(sov_hv_volume_send(a, POOL, "sov-vol-one", b, &err), 0);
    ck_assert_int_eq(capacity_of(b, "sov-vol-one"), 3 * GIB);
}
END_TEST

START_TEST(faulty_wraps_xml)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40];
    char *xml = NULL;

    fault_install("xml");
    open_hosts();
    domain_run(a, uuid);
    ck_assert_int_eq(sov_hv_xml(a, uuid, &xml, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_ptr_null(xml);
    sov_error_clear(&err);
    ck_assert_int_eq(sov_hv_xml(a, uuid, &xml, &err), 0);
    ck_assert_ptr_nonnull(xml);
    free(xml);
    ck_assert_int_eq(sov_hv_faulty_parse("migrate:1:conflict,volume_send:2:internal", &err), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/hv-migrate");
    TCase *tc = tcase_create("hv-migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, migrate_moves_the_running_domain);
    tcase_add_test(tc, a_failed_migrate_leaves_the_domain_where_it_was);
    tcase_add_test(tc, migrate_refuses_a_stopped_or_missing_domain);
    tcase_add_test(tc, xml_gives_the_definition_that_defines_it_again);
    tcase_add_test(tc, volume_send_makes_the_volume_on_the_target);
    tcase_add_test(tc, a_failed_volume_send_makes_nothing);
    tcase_add_test(tc, faulty_wraps_xml);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
