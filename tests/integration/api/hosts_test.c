/* Hosts through the HTTP API of a real sovd on a real PostgreSQL: registering hosts (202 and
 * a host.register operation) on libvirt's test driver (its default host and per-host XML
 * files of other sizes) and on the machine's real qemu:///system, with what discovery found
 * in the JSON; unreachable URIs (the operation fails with libvirt's message, the host is in
 * error), one machine under two URIs (refused), a hung libvirtd blocking no request, a
 * different machine behind a host's URI (down until an operator confirms it), bad input
 * (400 naming the field), a taken name (409), other roles
 * (403); changing state and allocation ratios, deleting (and refusing to while allocations
 * remain), lists with filters and pages, the audit entries; and the reconciler marking a
 * host down when its libvirtd (a private one, run as nobody) goes away and up when it comes
 * back, leaving a disabled host alone, and one whose libvirtd hangs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define SYSTEM_URI "qemu:///system"

static char *db;
static char *tmp;
static tl_sovd sovd;
static char *op;            /* the bootstrap operator's token */
static char pool[64];       /* per test process: runs never share a pool */
static bool system_pool;    /* a host on qemu:///system made `pool` there */
static tl_libvirtd lvd;

static void
setup(void)
{
    db = tl_db_create();
    tmp = tl_tmpdir();
    memset(&sovd, 0, sizeof(sovd));
    memset(&lvd, 0, sizeof(lvd));
    op = NULL;
    system_pool = false;
    snprintf(pool, sizeof(pool), "sovtest-%d", (int) getpid());
}

static void
teardown(void)
{
    tl_sovd_discard(&sovd);
    if (system_pool)
        tl_sh("virsh -q -c %s pool-destroy '%s' >/dev/null 2>&1; "
              "virsh -q -c %s pool-undefine '%s' >/dev/null 2>&1", SYSTEM_URI, pool,
              SYSTEM_URI, pool);
    tl_libvirtd_discard(&lvd);
    free(op);
    tl_db_drop(db);
    free(db);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* sovd with this test's pool (in its tmpdir unless pool_path is given) and extra flags. */
static void
start_with(const char *pool_path, const char *extra)
{
    char pool_flag[128], path_flag[700];
    const char *args[] = { pool_flag, path_flag, extra, NULL };

    snprintf(pool_flag, sizeof(pool_flag), "--storage-pool=%s", pool);
    if (pool_path)
        snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s", pool_path);
    else
        snprintf(path_flag, sizeof(path_flag), "--storage-pool-path=%s/pool", tmp);
    tl_sovd_start(&sovd, db, args);
    op = tl_operator_token(&sovd);
    /* sovd made the schema. The regions API is someone else's: places and zones go straight
     * into the tables. */
    free(tl_db_exec(db, "INSERT INTO regions (code, name, country, jurisdiction, datacenter)"
                        " VALUES ('fr-test-1', 'Test FR', 'FR', 'EU', 'dc-fr'),"
                        " ('de-test-1', 'Test DE', 'DE', 'EU', 'dc-de')"));
    free(tl_db_exec(db, "INSERT INTO zones (region, name) VALUES ('fr-test-1', 'a'),"
                        " ('fr-test-1', 'b'), ('de-test-1', 'a')"));
}

static void
start(void)
{
    start_with(NULL, NULL);
}

/* ---- helpers ---- */

static const char *
str_at(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static long long
int_at(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    ck_assert_msg(json_is_integer(v), "'%s' is not an integer", key);
    return json_integer_value(v);
}

static double
num_at(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);

    ck_assert_msg(json_is_number(v), "'%s' is not a number", key);
    return json_number_value(v);
}

static long
status_of(const char *method, const char *path, const char *token, const char *body)
{
    tl_resp r;
    long st;

    tl_call(&sovd, method, path, token, body, &r);
    st = r.status;
    tl_resp_free(&r);
    return st;
}

/* POST /v1/hosts (202), and its host.register operation to success; extra is more JSON
 * members ("" for none). Returns the host as discovery left it. */
static json_t *
add_host(const char *name, const char *region, const char *zone, const char *uri,
         const char *extra)
{
    char body[2048];

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"%s\","
             "\"libvirt_uri\":\"%s\"%s}", name, region, zone, uri, extra);
    return tl_host_add(&sovd, op, body);
}

/* A member of a failed operation's error: "code" or "message". */
static const char *
op_error(json_t *o, const char *key)
{
    return str_at(json_object_get(o, "error"), key);
}

/* The same for a registration that fails: the failed operation; the host's path into path. */
static json_t *
add_host_fails(const char *name, const char *region, const char *zone, const char *uri,
               char *path, size_t size)
{
    char body[2048], id[40];
    json_t *o;

    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"region\":\"%s\",\"zone\":\"%s\","
             "\"libvirt_uri\":\"%s\"}", name, region, zone, uri);
    o = tl_host_add_fails(&sovd, op, body, id);
    snprintf(path, size, "/v1/hosts/%s", id);
    return o;
}

static void
host_path(json_t *h, char *buf, size_t size)
{
    snprintf(buf, size, "/v1/hosts/%s", str_at(h, "id"));
}

static void
expect_problem(const char *method, const char *path, const char *body, long status,
               const char *type, tl_resp *keep)
{
    tl_resp r;

    tl_call(&sovd, method, path, op, body, &r);
    ck_assert_msg(r.status == status, "%s %s %s: expected %ld, got %ld: %s", method, path,
                  body ? body : "", status, r.status, r.body);
    tl_assert_problem(&r, status, type);
    if (keep)
        *keep = r;
    else
        tl_resp_free(&r);
}

/* A 400 whose errors[0].field is field. */
static void
expect_invalid(const char *method, const char *path, const char *body, const char *field)
{
    tl_resp r;
    json_t *e;

    expect_problem(method, path, body, 400, "/problems/invalid-request", &r);
    e = json_array_get(json_object_get(r.json, "errors"), 0);
    ck_assert_msg(e && str_at(e, "field") && strcmp(str_at(e, "field"), field) == 0,
                  "%s: expected errors[0].field '%s': %s", body ? body : "", field, r.body);
    tl_resp_free(&r);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f, "cannot write %s", path);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A test-driver host of cpus CPUs (one socket, one thread each), memory_gib, and gpus
 * display-class PCI devices; returns its URI in uri. */
static void
make_host_xml(const char *name, int cpus, int memory_gib, int gpus, char *uri, size_t size)
{
    char path[600], xml[8192];
    size_t n;

    snprintf(path, sizeof(path), "%s/%s.xml", tmp, name);
    n = (size_t) snprintf(xml, sizeof(xml),
                          "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>%d</cores>"
                          "<threads>1</threads><model>x86_64</model></cpu>"
                          "<memory>%lld</memory>"
                          "<device><name>computer</name><capability type='system'><hardware>"
                          "<vendor>Libvirt</vendor><version>Test</version><serial>1</serial>"
                          "<uuid>11111111-2222-3333-4444-555555555555</uuid></hardware>"
                          "<firmware><vendor>Libvirt</vendor><version>Test</version>"
                          "<release_date>01/22/2007</release_date></firmware></capability>"
                          "</device>",
                          cpus, (long long) memory_gib * 1024 * 1024);
    for (int i = 0; i < gpus && n < sizeof(xml); i++)
        n += (size_t) snprintf(xml + n, sizeof(xml) - n,
                               "<device><name>pci_0000_%02x_00_0</name><parent>computer"
                               "</parent><capability type='pci'><class>0x030200</class>"
                               "<domain>0</domain><bus>%d</bus><slot>0</slot><function>0"
                               "</function><product id='0x20b5'>GA100 [A100 PCIe 80GB]"
                               "</product><vendor id='0x10de'>NVIDIA Corporation</vendor>"
                               "</capability></device>", 0x60 + i, 0x60 + i);
    snprintf(xml + n, sizeof(xml) - n, "</node>");
    write_file(path, xml);
    snprintf(uri, size, "test://%s", path);
}

/* GET the host until its state is want (at most timeout_s); returns it. */
static json_t *
wait_state(const char *path, const char *want, unsigned timeout_s)
{
    json_t *h = NULL;

    for (unsigned i = 0; i < timeout_s * 5; i++) {
        json_decref(h);
        h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
        if (strcmp(str_at(h, "state"), want) == 0)
            return h;
        usleep(200000);
    }
    ck_abort_msg("%s: state %s after %u s, not %s (%s)", path, str_at(h, "state"), timeout_s,
                 want, str_at(h, "state_reason"));
    return NULL;
}

/* How many audit entries match the query (operator's view). */
static size_t
audit_count(const char *query)
{
    char path[512];
    json_t *j;
    size_t n;

    snprintf(path, sizeof(path), "/v1/audit?%s", query);
    j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    n = json_array_size(json_object_get(j, "items"));
    json_decref(j);
    return n;
}

/* What ../shared/PLATFORM.md says this machine's guests must use, decided here. */
static const char *
expected_hypervisor(void)
{
    if (access("/dev/kvm", F_OK) != 0 || tl_sh("grep -qwE 'vmx|svm' /proc/cpuinfo") != 0 ||
        access("/sys/module/kvm_pvm", F_OK) == 0 ||
        tl_sh("virsh -q -c %s domcapabilities --virttype kvm >/dev/null 2>&1", SYSTEM_URI) != 0)
        return "qemu";
    return "kvm";
}

/* A POST /v1/hosts body from literals; extra is more members, starting with a comma. */
#define HOST(name, region, zone, uri, extra)                                                 \
    "{\"name\":\"" name "\",\"region\":\"" region "\",\"zone\":\"" zone "\","               \
    "\"libvirt_uri\":\"" uri "\"" extra "}"

/* ---- adding hosts ---- */

START_TEST(a_host_on_the_test_drivers_default_is_discovered)
{
    json_t *h, *again, *cap, *use, *o;
    char path[128], oppath[128], *loc;
    tl_resp r;

    start();
    /* Registration is an operation: 202 with the host, discovering, at once. */
    tl_call(&sovd, "POST", "/v1/hosts", op,
            "{\"name\":\"node-1\",\"region\":\"fr-test-1\",\"zone\":\"a\","
            "\"libvirt_uri\":\"test:///default\"}", &r);
    ck_assert_msg(r.status == 202, "got %ld: %s", r.status, r.body);
    h = json_object_get(r.json, "host");
    o = json_object_get(r.json, "operation");
    ck_assert_str_eq(str_at(h, "state"), "discovering");
    ck_assert_str_eq(str_at(h, "hypervisor"), "");
    ck_assert_int_eq(int_at(h, "cpus"), 0);
    ck_assert_msg(json_is_null(json_object_get(h, "machine")), "machine before discovery");
    ck_assert_str_eq(str_at(o, "kind"), "host.register");
    ck_assert_str_eq(str_at(o, "resource_id"), str_at(h, "id"));
    host_path(h, path, sizeof(path));
    snprintf(oppath, sizeof(oppath), "/v1/operations/%s", str_at(o, "id"));
    loc = tl_resp_header(&r, "Location");
    ck_assert_str_eq(loc, oppath);
    free(loc);
    tl_op_wait_ok(&sovd, op, str_at(o, "id"), 30);
    tl_resp_free(&r);
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);

    ck_assert_str_eq(str_at(h, "name"), "node-1");
    ck_assert_str_eq(str_at(h, "region"), "fr-test-1");
    ck_assert_str_eq(str_at(h, "zone"), "a");
    ck_assert_str_eq(str_at(h, "libvirt_uri"), "test:///default");
    ck_assert_str_eq(str_at(h, "state"), "up");
    ck_assert_str_eq(str_at(h, "state_reason"), "");
    ck_assert_str_eq(str_at(h, "hypervisor"), "test");
    ck_assert_ptr_null(json_object_get(h, "hypervisor_reason"));
    ck_assert_str_eq(str_at(h, "cpu_model"), "i686");
    ck_assert_int_eq(int_at(h, "cpus"), 16);
    ck_assert_int_eq(int_at(h, "memory_mib"), 3072);
    ck_assert_int_eq(int_at(h, "numa_cells"), 2);
    ck_assert_str_eq(str_at(h, "storage_pool"), pool);
    ck_assert_int_eq(int_at(h, "storage_gib"), 100);
    ck_assert_int_eq(int_at(h, "gpus"), 0);
    ck_assert_int_eq(json_array_size(json_object_get(h, "gpu_models")), 0);
    /* libvirt's test driver has no host UUID: its built-in host is one machine. */
    ck_assert_str_eq(str_at(json_object_get(h, "machine"), "id"), "test:default");
    ck_assert_msg(json_is_null(json_object_get(h, "machine_seen")), "a machine seen");
    ck_assert_double_eq(num_at(h, "cpu_allocation_ratio"), 4.0);
    ck_assert_double_eq(num_at(h, "ram_allocation_ratio"), 1.0);
    use = json_object_get(h, "usage");
    ck_assert_int_eq(int_at(use, "vcpus"), 0);
    ck_assert_int_eq(int_at(use, "memory_mib"), 0);
    ck_assert_int_eq(int_at(use, "disk_gib"), 0);
    ck_assert_int_eq(int_at(use, "gpus"), 0);
    cap = json_object_get(h, "capacity");
    ck_assert_int_eq(int_at(cap, "vcpus"), 64);
    ck_assert_int_eq(int_at(cap, "memory_mib"), 3072);
    ck_assert_int_eq(int_at(cap, "disk_gib"), 100);
    ck_assert_int_eq(int_at(cap, "gpus"), 0);
    ck_assert_msg(str_at(h, "checked_at"), "no checked_at");
    ck_assert_msg(str_at(h, "created_at") && str_at(h, "updated_at"), "no timestamps");

    again = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_msg(json_equal(h, again), "GET differs from GET");
    json_decref(again);
    json_decref(h);
    /* Discovery and the pass over libvirt leave nothing behind (sanitizers report at exit). */
    ck_assert_msg(tl_sovd_stop(&sovd, SIGTERM, 30) == 0, "sovd did not stop cleanly; see %s",
                  sovd.log);
}
END_TEST

START_TEST(hosts_of_other_sizes_come_from_their_own_xml)
{
    char big_uri[700], small_uri[700];
    json_t *big, *small, *cap, *models;

    start();
    make_host_xml("big", 64, 256, 2, big_uri, sizeof(big_uri));
    make_host_xml("small", 8, 16, 0, small_uri, sizeof(small_uri));
    big = add_host("big-1", "fr-test-1", "a", big_uri,
                   ",\"cpu_allocation_ratio\":2.5,\"ram_allocation_ratio\":1.5");
    small = add_host("small-1", "fr-test-1", "b", small_uri, "");

    ck_assert_int_eq(int_at(big, "cpus"), 64);
    ck_assert_int_eq(int_at(big, "memory_mib"), 256 * 1024);
    ck_assert_int_eq(int_at(big, "gpus"), 2);
    models = json_object_get(big, "gpu_models");
    ck_assert_int_eq(json_array_size(models), 1);
    ck_assert_str_eq(json_string_value(json_array_get(models, 0)), "GA100 [A100 PCIe 80GB]");
    ck_assert_double_eq(num_at(big, "cpu_allocation_ratio"), 2.5);
    ck_assert_double_eq(num_at(big, "ram_allocation_ratio"), 1.5);
    cap = json_object_get(big, "capacity");
    ck_assert_int_eq(int_at(cap, "vcpus"), 160);
    ck_assert_int_eq(int_at(cap, "memory_mib"), 256 * 1024 * 3 / 2);
    ck_assert_int_eq(int_at(cap, "gpus"), 2);

    ck_assert_int_eq(int_at(small, "cpus"), 8);
    ck_assert_int_eq(int_at(small, "memory_mib"), 16 * 1024);
    ck_assert_int_eq(int_at(small, "numa_cells"), 1);
    ck_assert_int_eq(int_at(json_object_get(small, "capacity"), "vcpus"), 32);
    json_decref(big);
    json_decref(small);
}
END_TEST

START_TEST(the_real_qemu_system_is_discovered)
{
    const char *want = expected_hypervisor();
    json_t *h;

    start();
    tl_libvirt_pool_cleanup_at_exit(SYSTEM_URI, pool);
    system_pool = true;
    h = add_host("real-1", "fr-test-1", "a", SYSTEM_URI, "");
    ck_assert_str_eq(str_at(h, "hypervisor"), want);
    if (strcmp(want, "qemu") == 0)
        ck_assert_msg(str_at(h, "hypervisor_reason") && str_at(h, "hypervisor_reason")[0],
                      "qemu without a reason");
    ck_assert_int_eq(int_at(h, "cpus"), sysconf(_SC_NPROCESSORS_ONLN));
    ck_assert_int_gt(int_at(h, "memory_mib"), 0);
    ck_assert_msg(str_at(h, "cpu_model")[0], "no cpu model");
    ck_assert_str_eq(str_at(h, "storage_pool"), pool);
    ck_assert_int_gt(int_at(h, "storage_gib"), 0);
    ck_assert_int_eq(tl_sh("virsh -q -c %s pool-info '%s' >/dev/null 2>&1", SYSTEM_URI, pool),
                     0);
    json_decref(h);
}
END_TEST

/* ---- refusals ---- */

START_TEST(an_unreachable_uri_fails_the_registration_with_libvirts_message)
{
    char uri[1024], path[128];
    json_t *o, *h, *list;

    start();
    snprintf(uri, sizeof(uri), "qemu+unix:///system?socket=%s/no-such.sock", tmp);
    o = add_host_fails("gone-1", "fr-test-1", "a", uri, path, sizeof(path));
    ck_assert_str_eq(op_error(o, "code"), "host-unreachable");
    ck_assert_msg(strstr(op_error(o, "message"), "Failed to connect socket") &&
                      strstr(op_error(o, "message"), "no-such.sock"),
                  "error without libvirt's message: %s", op_error(o, "message"));
    json_decref(o);
    /* The host stays, in error with the reason, and is never offered to placement. */
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "error");
    ck_assert_msg(strstr(str_at(h, "state_reason"), "no-such.sock"), "reason: %s",
                  str_at(h, "state_reason"));
    ck_assert_int_eq(status_of("PATCH", path, op, "{\"state\":\"up\"}"), 409);
    json_decref(h);
    o = add_host_fails("gone-2", "fr-test-1", "a", "nosuchdriver:///system", path,
                       sizeof(path));
    ck_assert_str_eq(op_error(o, "code"), "host-unreachable");
    ck_assert_msg(strstr(op_error(o, "message"), "no connection driver available"),
                  "error without libvirt's message: %s", op_error(o, "message"));
    json_decref(o);
    list = tl_call_ok(&sovd, "GET", "/v1/hosts?state=error", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 2);
    json_decref(list);
    list = tl_call_ok(&sovd, "GET", "/v1/hosts?state=up", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(list, "items")), 0);
    json_decref(list);
    ck_assert_uint_eq(audit_count("action=hosts.create"), 2);
    /* A host in error holds its URI no more: deleted, or not, it may be registered again. */
    ck_assert_int_eq(status_of("DELETE", path, op, NULL), 204);
}
END_TEST

/* ---- one machine, one host ---- */

START_TEST(one_machine_is_one_host_whatever_the_uri)
{
    char uri[700], other[800], path[128];
    json_t *h, *o;
    tl_resp r;

    start();
    make_host_xml("m1", 4, 8, 0, uri, sizeof(uri));
    h = add_host("m-fr", "fr-test-1", "a", uri, "");
    ck_assert_msg(strncmp(str_at(json_object_get(h, "machine"), "id"), "test:", 5) == 0,
                  "machine %s", str_at(json_object_get(h, "machine"), "id"));
    json_decref(h);
    /* The same URI string: refused at once, naming the host. */
    snprintf(other, sizeof(other), "{\"name\":\"m-de\",\"region\":\"de-test-1\","
             "\"zone\":\"a\",\"libvirt_uri\":\"%s\"}", uri);
    expect_problem("POST", "/v1/hosts", other, 409, "/problems/conflict", &r);
    ck_assert_msg(strstr(str_at(r.json, "detail"), "'m-fr'"), "detail: %s", r.body);
    tl_resp_free(&r);
    /* Another spelling of the same file is the same machine: the worker refuses it. */
    snprintf(other, sizeof(other), "test://%s/./m1.xml", tmp);
    o = add_host_fails("m-de", "de-test-1", "a", other, path, sizeof(path));
    ck_assert_str_eq(op_error(o, "code"), "conflict");
    ck_assert_msg(strstr(op_error(o, "message"), "'m-fr'"), "error: %s", op_error(o, "message"));
    json_decref(o);
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "error");
    ck_assert_msg(json_is_null(json_object_get(h, "machine")), "the twin got a machine");
    json_decref(h);
    h = tl_call_ok(&sovd, "GET", "/v1/hosts?state=up", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(h, "items")), 1);
    json_decref(h);
    /* test:///default is registered once. */
    json_decref(add_host("default-1", "fr-test-1", "a", "test:///default", ""));
    expect_problem("POST", "/v1/hosts", HOST("default-2", "de-test-1", "a", "test:///default",
                                             ""), 409, "/problems/conflict", NULL);
    /* Two registrations racing for one machine cannot both win (the unique index). */
    ck_assert_int_eq(tl_db_num(db, "SELECT count(*) FROM hosts WHERE machine_id IS NOT NULL"
                                   " GROUP BY machine_id ORDER BY 1 DESC LIMIT 1"), 1);
}
END_TEST


START_TEST(bad_input_is_400_naming_the_field)
{
    char body[2048], uri[1100];

    start();
    expect_invalid("POST", "/v1/hosts", HOST("n1", "xx-none-1", "a", "test:///default", ""),
                   "region");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "de-test-1", "b", "test:///default", ""),
                   "zone");
    expect_invalid("POST", "/v1/hosts", HOST("Bad_Name", "fr-test-1", "a", "test:///default",
                                             ""), "name");
    expect_invalid("POST", "/v1/hosts", HOST("0bd77627-3883-42bb-8c6f-e3a2e3f22d7d",
                                             "fr-test-1", "a", "test:///default", ""), "name");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "fr-test-1", "a", "", ""), "libvirt_uri");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "fr-test-1", "a", "test:///default\\u0001",
                                             ""), "libvirt_uri");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "fr-test-1", "a", "test:///default",
                                             ",\"cpu_allocation_ratio\":0"),
                   "cpu_allocation_ratio");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "fr-test-1", "a", "test:///default",
                                             ",\"cpu_allocation_ratio\":-1"),
                   "cpu_allocation_ratio");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "fr-test-1", "a", "test:///default",
                                             ",\"cpu_allocation_ratio\":\"4\""),
                   "cpu_allocation_ratio");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "fr-test-1", "a", "test:///default",
                                             ",\"ram_allocation_ratio\":100.5"),
                   "ram_allocation_ratio");
    expect_invalid("POST", "/v1/hosts", HOST("n1", "fr-test-1", "a", "test:///default",
                                             ",\"colour\":\"blue\""), "colour");
    expect_invalid("POST", "/v1/hosts",
                   "{\"name\":\"n1\",\"region\":\"fr-test-1\",\"zone\":\"a\"}", "libvirt_uri");
    memset(uri, 'x', sizeof(uri) - 1);
    uri[sizeof(uri) - 1] = '\0';
    memcpy(uri, "test:///", 8);
    snprintf(body, sizeof(body), "{\"name\":\"n1\",\"region\":\"fr-test-1\",\"zone\":\"a\","
             "\"libvirt_uri\":\"%s\"}", uri);
    expect_invalid("POST", "/v1/hosts", body, "libvirt_uri");
    expect_invalid("GET", "/v1/hosts?state=sleeping", NULL, "state");
    expect_invalid("GET", "/v1/hosts?limit=0", NULL, "limit");
}
END_TEST

START_TEST(a_taken_name_is_409)
{
    json_t *h;

    start();
    h = add_host("twin", "fr-test-1", "a", "test:///default", "");
    json_decref(h);
    expect_problem("POST", "/v1/hosts",
                   "{\"name\":\"twin\",\"region\":\"de-test-1\",\"zone\":\"a\","
                   "\"libvirt_uri\":\"test:///default\"}", 409, "/problems/conflict", NULL);
}
END_TEST

START_TEST(only_operators_reach_hosts)
{
    tl_tenant t, opt;
    const tl_tenant *who[] = { &t, &opt };
    char path[128];
    json_t *h;

    start();
    tl_tenant_make(&sovd, op, "acme", &t);
    tl_operator_tenant(&sovd, &opt);
    h = add_host("guarded", "fr-test-1", "a", "test:///default", "");
    host_path(h, path, sizeof(path));
    for (size_t k = 0; k < 2; k++)
        for (int role = TL_ADMIN; role < TL_ROLES; role++) {
            const char *tok = who[k]->token[role];
            ck_assert_int_eq(status_of("POST", "/v1/hosts", tok,
                                       "{\"name\":\"x\",\"region\":\"fr-test-1\",\"zone\":"
                                       "\"a\",\"libvirt_uri\":\"test:///default\"}"), 403);
            ck_assert_int_eq(status_of("GET", "/v1/hosts", tok, NULL), 403);
            ck_assert_int_eq(status_of("GET", path, tok, NULL), 403);
            ck_assert_int_eq(status_of("PATCH", path, tok, "{\"state\":\"disabled\"}"), 403);
            ck_assert_int_eq(status_of("DELETE", path, tok, NULL), 403);
        }
    ck_assert_int_eq(status_of("GET", "/v1/hosts", NULL, NULL), 401);
    /* Untouched by all that. */
    json_decref(h);
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "up");
    json_decref(h);
}
END_TEST

/* ---- changing and deleting ---- */

START_TEST(patch_moves_state_and_ratios)
{
    char path[128];
    json_t *h;

    start();
    h = add_host("node-p", "fr-test-1", "a", "test:///default", "");
    host_path(h, path, sizeof(path));
    json_decref(h);

    h = tl_call_ok(&sovd, "PATCH", path, op, "{\"state\":\"disabled\"}", 200);
    ck_assert_str_eq(str_at(h, "state"), "disabled");
    ck_assert_msg(str_at(h, "state_reason")[0], "no reason for disabled");
    json_decref(h);
    h = tl_call_ok(&sovd, "PATCH", path, op, "{\"state\":\"draining\"}", 200);
    ck_assert_str_eq(str_at(h, "state"), "draining");
    json_decref(h);
    h = tl_call_ok(&sovd, "PATCH", path, op, "{\"state\":\"up\"}", 200);
    ck_assert_str_eq(str_at(h, "state"), "up");
    ck_assert_str_eq(str_at(h, "state_reason"), "");
    json_decref(h);

    h = tl_call_ok(&sovd, "PATCH", path, op,
                   "{\"cpu_allocation_ratio\":8,\"ram_allocation_ratio\":1.25}", 200);
    ck_assert_double_eq(num_at(h, "cpu_allocation_ratio"), 8.0);
    ck_assert_double_eq(num_at(h, "ram_allocation_ratio"), 1.25);
    ck_assert_int_eq(int_at(json_object_get(h, "capacity"), "vcpus"), 128);
    ck_assert_int_eq(int_at(json_object_get(h, "capacity"), "memory_mib"), 3840);
    ck_assert_str_eq(str_at(h, "state"), "up");
    json_decref(h);
    /* Only the fields given change. */
    h = tl_call_ok(&sovd, "PATCH", path, op, "{\"ram_allocation_ratio\":2}", 200);
    ck_assert_double_eq(num_at(h, "cpu_allocation_ratio"), 8.0);
    ck_assert_double_eq(num_at(h, "ram_allocation_ratio"), 2.0);
    json_decref(h);

    expect_invalid("PATCH", path, "{\"state\":\"down\"}", "state");
    expect_invalid("PATCH", path, "{\"state\":\"asleep\"}", "state");
    expect_invalid("PATCH", path, "{\"cpu_allocation_ratio\":0}", "cpu_allocation_ratio");
    expect_invalid("PATCH", path, "{\"name\":\"other\"}", "name");
    expect_problem("PATCH", "/v1/hosts/00000000-0000-0000-0000-000000000000",
                   "{\"state\":\"up\"}", 404, "/problems/not-found", NULL);
    expect_problem("PATCH", "/v1/hosts/not-a-uuid", "{\"state\":\"up\"}", 404,
                   "/problems/not-found", NULL);
    expect_problem("GET", "/v1/hosts/not-a-uuid", NULL, 404, "/problems/not-found", NULL);
}
END_TEST

START_TEST(delete_refuses_while_allocations_remain)
{
    char path[128], sql[512];
    json_t *h;

    start();
    h = add_host("node-d", "fr-test-1", "a", "test:///default", "");
    host_path(h, path, sizeof(path));
    snprintf(sql, sizeof(sql), "INSERT INTO host_allocations (host_id, tenant_id, "
             "resource_type, vcpus, memory_mib, disk_gib, gpus) VALUES ('%s', "
             "gen_random_uuid(), 'instance', 2, 2048, 10, 0)", str_at(h, "id"));
    free(tl_db_exec(db, sql));
    expect_problem("DELETE", path, NULL, 409, "/problems/conflict", NULL);
    ck_assert_int_eq(status_of("GET", path, op, NULL), 200);

    snprintf(sql, sizeof(sql), "DELETE FROM host_allocations WHERE host_id = '%s'",
             str_at(h, "id"));
    free(tl_db_exec(db, sql));
    ck_assert_int_eq(status_of("DELETE", path, op, NULL), 204);
    expect_problem("GET", path, NULL, 404, "/problems/not-found", NULL);
    expect_problem("DELETE", path, NULL, 404, "/problems/not-found", NULL);
    json_decref(h);
}
END_TEST

START_TEST(create_update_delete_are_audited)
{
    char path[128], query[256];
    json_t *h, *j, *e;

    start();
    h = add_host("node-a", "fr-test-1", "a", "test:///default", "");
    host_path(h, path, sizeof(path));
    json_decref(tl_call_ok(&sovd, "PATCH", path, op, "{\"state\":\"disabled\"}", 200));
    ck_assert_int_eq(status_of("DELETE", path, op, NULL), 204);

    snprintf(query, sizeof(query), "/v1/audit?resource_type=host&resource_id=%s",
             str_at(h, "id"));
    j = tl_call_ok(&sovd, "GET", query, op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 4);
    e = json_array_get(json_object_get(j, "items"), 0);
    ck_assert_str_eq(str_at(e, "action"), "hosts.create");
    ck_assert_int_eq(int_at(e, "outcome"), 202);
    ck_assert_str_eq(str_at(e, "role"), "operator");
    ck_assert_msg(str_at(e, "tenant_id"), "filed under no tenant");
    /* The worker's discovery is sovd's own entry. */
    e = json_array_get(json_object_get(j, "items"), 1);
    ck_assert_str_eq(str_at(e, "action"), "host.register");
    ck_assert_int_eq(int_at(e, "outcome"), 200);
    e = json_array_get(json_object_get(j, "items"), 2);
    ck_assert_str_eq(str_at(e, "action"), "hosts.update");
    ck_assert_int_eq(int_at(e, "outcome"), 200);
    e = json_array_get(json_object_get(j, "items"), 3);
    ck_assert_str_eq(str_at(e, "action"), "hosts.delete");
    ck_assert_int_eq(int_at(e, "outcome"), 204);
    json_decref(j);
    json_decref(h);
    j = tl_call_ok(&sovd, "GET", "/v1/audit/verify", op, NULL, 200);
    ck_assert_msg(json_is_true(json_object_get(j, "ok")), "audit chain broken");
    json_decref(j);
}
END_TEST

/* ---- lists ---- */

START_TEST(lists_filter_and_page)
{
    static const struct {
        const char *name, *region, *zone;
    } hosts[] = {
        { "h-e", "fr-test-1", "a" }, { "h-a", "fr-test-1", "b" }, { "h-d", "de-test-1", "a" },
        { "h-c", "fr-test-1", "a" }, { "h-b", "de-test-1", "a" }, { "h-f", "fr-test-1", "b" },
        { "h-g", "fr-test-1", "a" },
    };
    char uri[700], path[512], disabled[128];
    json_t *j;
    size_t seen = 0;

    start();
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        make_host_xml(hosts[i].name, 2 + (int) i, 4, 0, uri, sizeof(uri));
        j = add_host(hosts[i].name, hosts[i].region, hosts[i].zone, uri, "");
        if (strcmp(hosts[i].name, "h-c") == 0)
            host_path(j, disabled, sizeof(disabled));
        json_decref(j);
    }
    json_decref(tl_call_ok(&sovd, "PATCH", disabled, op, "{\"state\":\"disabled\"}", 200));

    /* Pages of 3 in name order, following the next links. */
    snprintf(path, sizeof(path), "/v1/hosts?limit=3");
    for (int page = 0; page < 10; page++) {
        json_t *items, *next;
        j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
        items = json_object_get(j, "items");
        for (size_t i = 0; i < json_array_size(items); i++) {
            char want[8];
            snprintf(want, sizeof(want), "h-%c", (char) ('a' + seen));
            ck_assert_str_eq(str_at(json_array_get(items, i), "name"), want);
            seen++;
        }
        next = json_object_get(j, "next");
        if (json_is_null(next)) {
            json_decref(j);
            break;
        }
        snprintf(path, sizeof(path), "%s", json_string_value(next));
        json_decref(j);
    }
    ck_assert_uint_eq(seen, 7);

    j = tl_call_ok(&sovd, "GET", "/v1/hosts?region=de-test-1", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 2);
    ck_assert_str_eq(str_at(json_array_get(json_object_get(j, "items"), 0), "name"), "h-b");
    json_decref(j);
    /* The next link keeps the filter. */
    j = tl_call_ok(&sovd, "GET", "/v1/hosts?region=fr-test-1&limit=2", op, NULL, 200);
    ck_assert_msg(strstr(str_at(j, "next"), "region=fr-test-1"), "next: %s", str_at(j, "next"));
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", "/v1/hosts?state=disabled", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 1);
    ck_assert_str_eq(str_at(json_array_get(json_object_get(j, "items"), 0), "name"), "h-c");
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", "/v1/hosts?state=up&region=fr-test-1", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 4);
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", "/v1/hosts?region=nowhere", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(j, "items")), 0);
    json_decref(j);
}
END_TEST

/* Two registrations of one machine under two URIs, at the same moment, on workers side by
 * side: exactly one wins (the unique index on the machine), the other names it. */
START_TEST(two_registrations_racing_for_one_machine_cannot_both_win)
{
    start();
    for (int round = 0; round < 4; round++) {
        char name[32], uri[700], body[2][1200], ops[2][64];
        int won = 0, lost = 0;

        snprintf(name, sizeof(name), "race-%d", round);
        make_host_xml(name, 2, 2, 0, uri, sizeof(uri));
        snprintf(body[0], sizeof(body[0]), "{\"name\":\"%s-fr\",\"region\":\"fr-test-1\","
                 "\"zone\":\"a\",\"libvirt_uri\":\"%s\"}", name, uri);
        snprintf(body[1], sizeof(body[1]), "{\"name\":\"%s-de\",\"region\":\"de-test-1\","
                 "\"zone\":\"a\",\"libvirt_uri\":\"test://%s/./%s.xml\"}", name, tmp,
                 name);
        for (int i = 0; i < 2; i++) {
            json_t *j = tl_call_ok(&sovd, "POST", "/v1/hosts", op, body[i], 202);
            snprintf(ops[i], sizeof(ops[i]), "%s", str_at(json_object_get(j, "operation"), "id"));
            json_decref(j);
        }
        for (int i = 0; i < 2; i++) {
            json_t *o = tl_op_wait_done(&sovd, op, ops[i], 30);
            if (strcmp(str_at(o, "state"), "succeeded") == 0) {
                won++;
            } else {
                lost++;
                ck_assert_str_eq(op_error(o, "code"), "conflict");
                ck_assert_msg(strstr(op_error(o, "message"), name), "%s",
                              op_error(o, "message"));
            }
            json_decref(o);
        }
        ck_assert_int_eq(won, 1);
        ck_assert_int_eq(lost, 1);
    }
}
END_TEST

/* ---- the reconciler ---- */

/* The private daemon runs as nobody: its pool goes in its own folder. */
static const char *
lvd_pool(void)
{
    static char dir[700];

    snprintf(dir, sizeof(dir), "%s/pool", lvd.dir);
    return dir;
}

START_TEST(a_host_whose_libvirtd_goes_away_is_down_until_it_returns)
{
    char live[128], off[128], steady[128], pool_dir[700], query[256];
    json_t *h;

    tl_libvirtd_start(&lvd);
    /* The private daemon runs as nobody: its pool goes in its own folder. */
    snprintf(pool_dir, sizeof(pool_dir), "%s/pool", lvd.dir);
    start_with(pool_dir, "--host-check-interval=1");
    h = add_host("live", "fr-test-1", "a", lvd.uri, "");
    ck_assert_str_eq(str_at(h, "hypervisor"), "qemu");     /* nobody cannot use /dev/kvm */
    host_path(h, live, sizeof(live));
    json_decref(h);
    /* A disabled host on the same daemon: one machine is one host, so this one goes
     * straight into the table, as a host registered before identities would be. */
    {
        char *id = tl_db_value(db, "INSERT INTO hosts (name, region, zone, libvirt_uri,"
                                   " state, hypervisor, cpus, memory_mib) VALUES ('off',"
                                   " 'fr-test-1', 'a', '%s', 'disabled', 'qemu', 1, 1024)"
                                   " RETURNING id", lvd.uri);
        snprintf(off, sizeof(off), "/v1/hosts/%s", id);
        free(id);
    }
    h = add_host("steady", "fr-test-1", "b", "test:///default", "");
    host_path(h, steady, sizeof(steady));
    json_decref(h);

    tl_libvirtd_stop(&lvd);
    h = wait_state(live, "down", 15);
    ck_assert_msg(strstr(str_at(h, "state_reason"), "libvirt-sock"),
                  "reason without libvirt's message: %s", str_at(h, "state_reason"));
    json_decref(h);
    h = tl_call_ok(&sovd, "GET", "/v1/hosts?state=down", op, NULL, 200);
    ck_assert_int_eq(json_array_size(json_object_get(h, "items")), 1);
    json_decref(h);
    h = tl_call_ok(&sovd, "GET", off, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "disabled");
    json_decref(h);
    h = tl_call_ok(&sovd, "GET", steady, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "up");
    json_decref(h);

    tl_libvirtd_restart(&lvd);
    h = wait_state(live, "up", 15);
    ck_assert_str_eq(str_at(h, "state_reason"), "");
    json_decref(h);
    h = tl_call_ok(&sovd, "GET", off, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "disabled");
    json_decref(h);

    /* Both moves are audited as sovd's own. */
    snprintf(query, sizeof(query), "action=hosts.check&resource_type=host&resource_id=%s",
             live + strlen("/v1/hosts/"));
    ck_assert_uint_eq(audit_count(query), 2);
    /* The reconciler stops promptly and cleanly with sovd. */
    ck_assert_msg(tl_sovd_stop(&sovd, SIGTERM, 30) == 0, "sovd did not stop cleanly; see %s",
                  sovd.log);
}
END_TEST

START_TEST(a_different_machine_behind_the_uri_is_down_until_an_operator_confirms_it)
{
    char path[128], want[64], other[1024], twin[128], query[256];
    json_t *h, *o;

    tl_libvirtd_start(&lvd);
    start_with(lvd_pool(), "--host-check-interval=1");
    h = add_host("kvm-fr", "fr-test-1", "a", lvd.uri, "");
    snprintf(want, sizeof(want), "uuid:%s", lvd.host_uuid);
    ck_assert_str_eq(str_at(json_object_get(h, "machine"), "id"), want);
    ck_assert_str_eq(str_at(json_object_get(h, "machine"), "host_uuid"), lvd.host_uuid);
    host_path(h, path, sizeof(path));
    json_decref(h);
    /* The same daemon through another spelling of its socket: the same machine, refused by
     * the worker, naming the host it is. */
    snprintf(other, sizeof(other), "qemu+unix:///session?socket=%s/run/libvirt/../libvirt/"
             "libvirt-sock", lvd.dir);
    o = add_host_fails("kvm-se", "de-test-1", "a", other, twin, sizeof(twin));
    ck_assert_str_eq(op_error(o, "code"), "conflict");
    ck_assert_msg(strstr(op_error(o, "message"), "'kvm-fr'"), "error: %s", op_error(o, "message"));
    json_decref(o);

    /* Another machine answers at the URI now (a reinstall, an address reused). */
    tl_libvirtd_set_host_uuid(&lvd, "0badc0de-0000-4000-8000-000000000001");
    tl_libvirtd_restart(&lvd);
    h = wait_state(path, "down", 20);
    ck_assert_str_eq(str_at(h, "state_reason"), "a different machine answers at this URI");
    ck_assert_str_eq(str_at(json_object_get(h, "machine"), "id"), want);
    ck_assert_str_eq(str_at(json_object_get(h, "machine_seen"), "id"),
                     "uuid:0badc0de-0000-4000-8000-000000000001");
    json_decref(h);
    /* It stays down, and an operator cannot simply put it back. */
    sleep(3);
    h = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "down");
    json_decref(h);
    ck_assert_int_eq(status_of("PATCH", path, op, "{\"state\":\"up\"}"), 409);
    /* The operator confirms the machine: it becomes the host's, and the next check
     * brings the host up. */
    snprintf(query, sizeof(query), "%s/confirm-machine", path);
    h = tl_call_ok(&sovd, "POST", query, op, NULL, 200);
    ck_assert_str_eq(str_at(json_object_get(h, "machine"), "id"),
                     "uuid:0badc0de-0000-4000-8000-000000000001");
    ck_assert_msg(json_is_null(json_object_get(h, "machine_seen")), "still a machine seen");
    json_decref(h);
    json_decref(wait_state(path, "up", 20));
    ck_assert_int_eq(status_of("POST", query, op, NULL), 409);     /* nothing to confirm */
    snprintf(query, sizeof(query), "action=hosts.confirm_machine&resource_type=host"
             "&resource_id=%s", path + strlen("/v1/hosts/"));
    ck_assert_uint_eq(audit_count(query), 1);
}
END_TEST

/* A hung hypervisor holds no HTTP thread: registration answers at once, and everything else
 * too, while a worker waits on libvirt. */
START_TEST(registering_a_hung_host_answers_at_once_and_blocks_nothing)
{
    char body[1024], path[128], oppath[128];
    json_t *j;
    double t0, worst = 0;

    tl_libvirtd_start(&lvd);
    start_with(lvd_pool(), NULL);
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    snprintf(body, sizeof(body), "{\"name\":\"hung\",\"region\":\"fr-test-1\","
             "\"zone\":\"a\",\"libvirt_uri\":\"%s\"}", lvd.uri);
    t0 = tl_now();
    j = tl_call_ok(&sovd, "POST", "/v1/hosts", op, body, 202);
    t0 = tl_now() - t0;
    ck_assert_msg(t0 < 1.0, "POST /v1/hosts took %.3f s", t0);
    snprintf(path, sizeof(path), "/v1/hosts/%s", str_at(json_object_get(j, "host"), "id"));
    snprintf(oppath, sizeof(oppath), "/v1/operations/%s",
             str_at(json_object_get(j, "operation"), "id"));
    json_decref(j);
    /* Two more: as many as sovd has HTTP threads. */
    ck_assert_int_eq(status_of("POST", "/v1/hosts", op, HOST("bad name", "fr-test-1", "a",
                                                              "test:///default", "")), 400);
    json_decref(tl_host_add(&sovd, op, HOST("steady", "fr-test-1", "b", "test:///default",
                                            "")));
    for (int i = 0; i < 20; i++) {
        const char *paths[] = { path, "/v1/hosts", oppath, "/readyz" };
        double t = tl_now(), took;
        json_decref(tl_call_ok(&sovd, "GET", paths[i % 4], op, NULL, 200));
        took = tl_now() - t;
        worst = took > worst ? took : worst;
    }
    ck_assert_msg(worst < 0.1, "a request took %.0f ms while a host hangs", worst * 1000);
    printf("hung host: POST /v1/hosts answered 202 in %.1f ms; worst of 20 other requests "
           "%.1f ms\n", t0 * 1000, worst * 1000);
    j = tl_call_ok(&sovd, "GET", path, op, NULL, 200);
    ck_assert_str_eq(str_at(j, "state"), "discovering");
    json_decref(j);
    j = tl_call_ok(&sovd, "GET", oppath, op, NULL, 200);
    ck_assert_str_eq(str_at(j, "state"), "running");
    ck_assert_str_eq(str_at(j, "step"), "discovering");
    json_decref(j);
    /* Back: the worker's discovery finishes, and the host is up. */
    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    tl_op_wait_ok(&sovd, op, oppath + strlen("/v1/operations/"), 30);
    json_decref(wait_state(path, "up", 5));
}
END_TEST

/* Hosts registered before machines were told apart get theirs at their next check; two of
 * them on one machine are both left in service (guests run there), the log says which. */
START_TEST(hosts_registered_before_machines_get_theirs_at_the_next_check)
{
    char uri[700], path[2][128], *log;
    json_t *h = NULL;

    start_with(NULL, "--host-check-interval=1");
    make_host_xml("old", 2, 2, 0, uri, sizeof(uri));
    for (int i = 0; i < 2; i++) {
        char *id = tl_db_value(db, "INSERT INTO hosts (name, region, zone, libvirt_uri,"
                                   " hypervisor, cpus, memory_mib) VALUES ('old-%d',"
                                   " 'fr-test-1', 'a', '%s', 'test', 2, 2048) RETURNING id",
                               i, uri);
        snprintf(path[i], sizeof(path[i]), "/v1/hosts/%s", id);
        free(id);
    }
    for (int t = 0; t < 50; t++) {
        json_decref(h);
        h = tl_call_ok(&sovd, "GET", path[0], op, NULL, 200);
        if (!json_is_null(json_object_get(h, "machine")))
            break;
        usleep(200000);
    }
    ck_assert_msg(strncmp(str_at(json_object_get(h, "machine"), "id"), "test:", 5) == 0,
                  "old-0 got no machine");
    json_decref(h);
    sleep(2);
    h = tl_call_ok(&sovd, "GET", path[1], op, NULL, 200);
    ck_assert_msg(json_is_null(json_object_get(h, "machine")), "old-1 took old-0's machine");
    ck_assert_str_eq(str_at(h, "state"), "up");
    json_decref(h);
    log = tl_sovd_log(&sovd);
    ck_assert_msg(strstr(log, "is the same machine"), "no warning about old-0 and old-1");
    free(log);
}
END_TEST

START_TEST(a_host_whose_libvirtd_hangs_is_down_and_sovd_still_stops)
{
    char live[128], steady[128], pool_dir[700];
    json_t *h;

    tl_libvirtd_start(&lvd);
    snprintf(pool_dir, sizeof(pool_dir), "%s/pool", lvd.dir);
    start_with(pool_dir, "--host-check-interval=1");
    h = add_host("hung", "fr-test-1", "a", lvd.uri, "");
    host_path(h, live, sizeof(live));
    json_decref(h);
    h = add_host("steady", "fr-test-1", "b", "test:///default", "");
    host_path(h, steady, sizeof(steady));
    json_decref(h);

    /* A stopped daemon still accepts connections and never answers: libvirt would wait for
     * good, the reconciler does not. */
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    h = wait_state(live, "down", 20);
    ck_assert_msg(strstr(str_at(h, "state_reason"), "no answer"), "reason: %s",
                  str_at(h, "state_reason"));
    json_decref(h);
    h = tl_call_ok(&sovd, "GET", steady, op, NULL, 200);
    ck_assert_str_eq(str_at(h, "state"), "up");
    json_decref(h);

    ck_assert_int_eq(kill(lvd.pid, SIGCONT), 0);
    json_decref(wait_state(live, "up", 20));

    /* Hung again: sovd stops anyway, and cleanly, with a probe still waiting. */
    ck_assert_int_eq(kill(lvd.pid, SIGSTOP), 0);
    json_decref(wait_state(live, "down", 20));
    ck_assert_msg(tl_sovd_stop(&sovd, SIGTERM, 20) == 0, "sovd did not stop cleanly; see %s",
                  sovd.log);
    kill(lvd.pid, SIGCONT);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("api/hosts");
    TCase *add = tcase_create("add");
    TCase *refuse = tcase_create("refusals");
    TCase *change = tcase_create("change");
    TCase *recon = tcase_create("reconciler");

    /* A libvirtd that goes away leaves libvirt writing to a closed socket. */
    signal(SIGPIPE, SIG_IGN);

    tcase_add_checked_fixture(add, setup, teardown);
    tcase_add_test(add, a_host_on_the_test_drivers_default_is_discovered);
    tcase_add_test(add, hosts_of_other_sizes_come_from_their_own_xml);
    tcase_add_test(add, the_real_qemu_system_is_discovered);
    suite_add_tcase(s, add);

    tcase_add_checked_fixture(refuse, setup, teardown);
    tcase_add_test(refuse, an_unreachable_uri_fails_the_registration_with_libvirts_message);
    tcase_add_test(refuse, one_machine_is_one_host_whatever_the_uri);
    tcase_add_test(refuse, two_registrations_racing_for_one_machine_cannot_both_win);
    tcase_add_test(refuse, bad_input_is_400_naming_the_field);
    tcase_add_test(refuse, a_taken_name_is_409);
    tcase_add_test(refuse, only_operators_reach_hosts);
    suite_add_tcase(s, refuse);

    tcase_add_checked_fixture(change, setup, teardown);
    tcase_add_test(change, patch_moves_state_and_ratios);
    tcase_add_test(change, delete_refuses_while_allocations_remain);
    tcase_add_test(change, create_update_delete_are_audited);
    tcase_add_test(change, lists_filter_and_page);
    suite_add_tcase(s, change);

    tcase_add_checked_fixture(recon, setup, teardown);
    tcase_set_timeout(recon, 180);
    tcase_add_test(recon, a_host_whose_libvirtd_goes_away_is_down_until_it_returns);
    tcase_add_test(recon, a_host_whose_libvirtd_hangs_is_down_and_sovd_still_stops);
    tcase_add_test(recon,
                   a_different_machine_behind_the_uri_is_down_until_an_operator_confirms_it);
    tcase_add_test(recon, registering_a_hung_host_answers_at_once_and_blocks_nothing);
    tcase_add_test(recon, hosts_registered_before_machines_get_theirs_at_the_next_check);
    suite_add_tcase(s, recon);
    return tl_run_suite(s);
}
