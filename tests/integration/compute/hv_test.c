/* The libvirt driver behind include/sov/hv.h, against real libvirt: discovery on the test
 * driver's default host and on per-host XML files of different sizes (with a storage pool,
 * PCI devices and GPUs), on the machine's real qemu:///system (compared with what /proc,
 * /sys and sysconf say, KVM or TCG decided independently here), failures to connect carrying
 * libvirt's message, and a private libvirtd that goes away and comes back. Needs no
 * PostgreSQL. Storage pools made on the system libvirtd have a name of this test process and
 * a folder in its tmpdir, and are removed however the test ends. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "sov/compute.h"
#include "sov/hv.h"
#include "sov/registry.h"
#include "testlib.h"

#define SYSTEM_URI "qemu:///system"

static char *tmp;
static char pool[64];       /* unique per test process: runs never share a pool */
static char pool_path[600];
static sov_hv *hv;
static tl_libvirtd lvd;
static bool system_pool;    /* this test made `pool` on qemu:///system */

static void
setup(void)
{
    tmp = tl_tmpdir();
    snprintf(pool, sizeof(pool), "sovtest-%d", (int) getpid());
    snprintf(pool_path, sizeof(pool_path), "%s/pool", tmp);
    hv = NULL;
    system_pool = false;
    memset(&lvd, 0, sizeof(lvd));
    /* What sovd's main does through its module list (compute/'s part: the drivers). */
    sov_hv_faulty_uninstall();
    sov_registry_reset();
    ck_assert_int_eq(sov_hv_register_libvirt(NULL), 0);
}

static void
teardown(void)
{
    sov_hv_close(hv);
    hv = NULL;
    sov_hv_faulty_uninstall();
    if (system_pool)
        tl_sh("virsh -q -c %s pool-destroy '%s' >/dev/null 2>&1; "
              "virsh -q -c %s pool-undefine '%s' >/dev/null 2>&1", SYSTEM_URI, pool,
              SYSTEM_URI, pool);
    tl_libvirtd_discard(&lvd);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* ---- helpers ---- */

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_msg(f, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void
open_ok(const char *uri)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_hv_open(uri, &hv, &err) == 0, "open %s: %s", uri, err.msg);
}

static void
discover_ok(sov_hv_node *n)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_hv_discover(hv, pool, pool_path, n, &err) == 0, "discover: %s (%s)",
                  err.msg, err.detail);
}

/* A host for the test driver: nodes x sockets x cores x threads CPUs, memory in KiB, and
 * the PCI devices given (each a <device> element). */
static void
write_host(const char *path, int nodes, int sockets, int cores, int threads,
           long long memory_kib, const char *devices)
{
    char xml[8192];

    snprintf(xml, sizeof(xml),
             "<node>\n"
             "  <cpu><nodes>%d</nodes><sockets>%d</sockets><cores>%d</cores>"
             "<threads>%d</threads><mhz>2600</mhz><model>x86_64</model></cpu>\n"
             "  <memory>%lld</memory>\n"
             "  <device><name>computer</name><capability type='system'><hardware>"
             "<vendor>Libvirt</vendor><version>Test</version><serial>1</serial>"
             "<uuid>11111111-2222-3333-4444-555555555555</uuid></hardware><firmware>"
             "<vendor>Libvirt</vendor><version>Test</version>"
             "<release_date>01/22/2007</release_date></firmware></capability></device>\n"
             "%s"
             "</node>\n",
             nodes, sockets, cores, threads, memory_kib, devices);
    write_file(path, xml);
}

/* A PCI <device> of the given class; product "" has no name, only ids. */
static void
pci_device(char *buf, size_t size, const char *name, const char *cls, int bus,
           const char *product)
{
    size_t n = strlen(buf);

    snprintf(buf + n, size - n,
             "  <device><name>%s</name><parent>computer</parent><capability type='pci'>"
             "<class>%s</class><domain>0</domain><bus>%d</bus><slot>0</slot>"
             "<function>0</function><product id='0x20b5'>%s</product>"
             "<vendor id='0x10de'>NVIDIA Corporation</vendor></capability></device>\n",
             name, cls, bus, product);
}

static long long
meminfo_total_mib(void)
{
    char *text = tl_read_file("/proc/meminfo");
    char *p = text ? strstr(text, "MemTotal:") : NULL;
    long long kib;

    ck_assert_msg(p, "no MemTotal in /proc/meminfo");
    kib = strtoll(p + strlen("MemTotal:"), NULL, 10);
    free(text);
    return kib / 1024;
}

/* NUMA nodes as the kernel lists them (1 without the node folder). */
static int
kernel_numa_nodes(void)
{
    DIR *d = opendir("/sys/devices/system/node");
    struct dirent *e;
    int n = 0;

    if (!d)
        return 1;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9')
            n++;
    closedir(d);
    return n > 0 ? n : 1;
}

/* Display-class PCI devices, straight from sysfs. */
static int
sysfs_display_devices(void)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char path[512], *cls;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", e->d_name);
        cls = tl_read_file(path);
        if (cls && strncmp(cls, "0x03", 4) == 0)
            n++;
        free(cls);
    }
    closedir(d);
    return n;
}

/* What ../shared/PLATFORM.md says this machine's guests must use, decided here from the
 * machine itself; *why gets a word the driver's reason must contain. */
static const char *
expected_hypervisor(const char **why)
{
    *why = "";
    if (access("/dev/kvm", F_OK) != 0)
        *why = "/dev/kvm";
    else if (tl_sh("grep -qwE 'vmx|svm' /proc/cpuinfo") != 0)
        *why = "vmx";
    else if (access("/sys/module/kvm_pvm", F_OK) == 0)
        *why = "kvm_pvm";
    else if (tl_sh("virsh -q -c %s domcapabilities --virttype kvm >/dev/null 2>&1",
                   SYSTEM_URI) != 0)
        *why = "KVM";
    return (*why)[0] ? "qemu" : "kvm";
}

/* ---- the test driver ---- */

START_TEST(test_driver_default_host_is_discovered)
{
    sov_hv_node n;

    open_ok("test:///default");
    discover_ok(&n);
    /* What libvirt 9.0's test driver really describes: 16 CPUs in 2 cells, 3 GiB. */
    ck_assert_str_eq(n.hypervisor, "test");
    ck_assert_str_eq(n.hypervisor_reason, "");
    ck_assert_int_eq(n.cpus, 16);
    ck_assert_int_eq(n.memory_mib, 3072);
    ck_assert_int_eq(n.numa_cells, 2);
    ck_assert_str_eq(n.cpu_model, "i686");
    ck_assert_str_eq(n.storage_pool, pool);
    ck_assert_int_eq(n.storage_gib, 100);    /* the test driver's size for every pool */
    ck_assert_int_eq(n.gpus, 0);
    ck_assert_int_eq(n.ngpu_models, 0);
}
END_TEST

START_TEST(discovery_finds_the_pool_it_made_before)
{
    sov_hv_node a, b;
    sov_error err = SOV_ERROR_INIT;

    open_ok("test:///default");
    discover_ok(&a);
    discover_ok(&b);
    ck_assert_str_eq(b.storage_pool, pool);
    ck_assert_int_eq(b.storage_gib, a.storage_gib);
    /* An existing pool of another name is used as it is. */
    ck_assert_msg(sov_hv_discover(hv, "default-pool", "/elsewhere", &b, &err) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(b.storage_pool, "default-pool");
    ck_assert_int_eq(b.storage_gib, 100);
}
END_TEST

START_TEST(a_pool_on_another_pools_path_is_refused_with_libvirts_message)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node n;

    open_ok("test:///default");
    /* The test driver's own pool sits at /default-pool. */
    ck_assert_int_eq(sov_hv_discover(hv, pool, "/default-pool", &n, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.detail, "default-pool") && strstr(err.msg, err.detail),
                  "msg: %s, detail: %s", err.msg, err.detail);
}
END_TEST

START_TEST(per_host_xml_gives_each_host_its_size)
{
    char big[600], small[600], uri[700], devices[4096] = "";
    sov_hv_node n;

    snprintf(big, sizeof(big), "%s/big.xml", tmp);
    snprintf(small, sizeof(small), "%s/small.xml", tmp);
    pci_device(devices, sizeof(devices), "pci_0000_65_00_0", "0x030200", 101,
               "GA100 [A100 PCIe 80GB]");
    write_host(big, 2, 2, 8, 2, 256LL * 1024 * 1024, devices);
    write_host(small, 1, 1, 4, 2, 16LL * 1024 * 1024, "");

    snprintf(uri, sizeof(uri), "test://%s", big);
    open_ok(uri);
    discover_ok(&n);
    ck_assert_str_eq(n.hypervisor, "test");
    ck_assert_int_eq(n.cpus, 64);
    ck_assert_int_eq(n.memory_mib, 256 * 1024);
    ck_assert_int_eq(n.numa_cells, 2);
    ck_assert_str_eq(n.cpu_model, "x86_64");
    ck_assert_int_eq(n.storage_gib, 100);
    ck_assert_int_eq(n.gpus, 1);
    sov_hv_close(hv);
    hv = NULL;

    snprintf(uri, sizeof(uri), "test://%s", small);
    open_ok(uri);
    discover_ok(&n);
    ck_assert_int_eq(n.cpus, 8);
    ck_assert_int_eq(n.memory_mib, 16 * 1024);
    ck_assert_int_eq(n.numa_cells, 1);
    ck_assert_int_eq(n.gpus, 0);
}
END_TEST

START_TEST(gpus_are_pci_devices_of_display_class)
{
    char path[600], uri[700], devices[4096] = "";
    sov_hv_node n;

    pci_device(devices, sizeof(devices), "pci_0000_65_00_0", "0x030200", 101,
               "GA100 [A100 PCIe 80GB]");
    pci_device(devices, sizeof(devices), "pci_0000_66_00_0", "0x030200", 102,
               "GA100 [A100 PCIe 80GB]");
    pci_device(devices, sizeof(devices), "pci_0000_67_00_0", "0x030000", 103, "");
    pci_device(devices, sizeof(devices), "pci_0000_00_1f_2", "0x010601", 0, "SATA controller");
    pci_device(devices, sizeof(devices), "pci_0000_00_03_0", "0x020000", 3, "Ethernet");
    snprintf(path, sizeof(path), "%s/gpus.xml", tmp);
    write_host(path, 1, 1, 2, 1, 4LL * 1024 * 1024, devices);
    snprintf(uri, sizeof(uri), "test://%s", path);
    open_ok(uri);
    discover_ok(&n);
    ck_assert_int_eq(n.gpus, 3);
    /* Each model once, sorted; one without a name in the PCI database goes by its ids. */
    ck_assert_int_eq(n.ngpu_models, 2);
    ck_assert_str_eq(n.gpu_models[0], "0x10de:0x20b5");
    ck_assert_str_eq(n.gpu_models[1], "GA100 [A100 PCIe 80GB]");
}
END_TEST

START_TEST(alive_answers_on_a_live_connection)
{
    sov_error err = SOV_ERROR_INIT;

    open_ok("test:///default");
    ck_assert_msg(sov_hv_alive(hv, &err) == 0, "%s", err.msg);
}
END_TEST

/* ---- the real hypervisor ---- */

START_TEST(real_qemu_system_is_discovered)
{
    const char *why;
    const char *want = expected_hypervisor(&why);
    struct statvfs fs;
    struct stat st;
    sov_hv_node n, again;

    tl_libvirt_pool_cleanup_at_exit(SYSTEM_URI, pool);
    system_pool = true;
    open_ok(SYSTEM_URI);
    discover_ok(&n);

    ck_assert_int_eq(n.cpus, sysconf(_SC_NPROCESSORS_ONLN));
    ck_assert_msg(llabs(n.memory_mib - meminfo_total_mib()) <= 1, "memory %lld MiB, "
                  "/proc/meminfo says %lld", n.memory_mib, meminfo_total_mib());
    ck_assert_int_eq(n.numa_cells, kernel_numa_nodes());
    ck_assert_msg(n.cpu_model[0], "no CPU model");
    ck_assert_msg(strcmp(n.hypervisor, want) == 0, "hypervisor %s (%s), this machine says %s "
                  "(%s)", n.hypervisor, n.hypervisor_reason, want, why);
    if (strcmp(want, "qemu") == 0)
        ck_assert_msg(strstr(n.hypervisor_reason, why), "reason '%s' does not mention %s",
                      n.hypervisor_reason, why);
    else
        ck_assert_str_eq(n.hypervisor_reason, "");
    ck_assert_int_eq(n.gpus, sysfs_display_devices());

    /* The pool was made: a directory, started, autostarted, as big as its filesystem. */
    ck_assert_str_eq(n.storage_pool, pool);
    ck_assert_msg(stat(pool_path, &st) == 0 && S_ISDIR(st.st_mode), "no directory %s",
                  pool_path);
    ck_assert_int_eq(statvfs(pool_path, &fs), 0);
    ck_assert_int_eq(n.storage_gib, (long long) (((unsigned long long) fs.f_blocks *
                                                   fs.f_frsize) >> 30));
    ck_assert_int_eq(tl_sh("virsh -q -c %s pool-info '%s' | grep -Eq 'Autostart: +yes'",
                           SYSTEM_URI, pool), 0);
    ck_assert_int_eq(tl_sh("virsh -q -c %s pool-info '%s' | grep -Eq 'State: +running'",
                           SYSTEM_URI, pool), 0);

    /* Discovering again finds the same pool and the same host. */
    discover_ok(&again);
    ck_assert_int_eq(again.cpus, n.cpus);
    ck_assert_int_eq(again.storage_gib, n.storage_gib);
    ck_assert_str_eq(again.hypervisor, n.hypervisor);
}
END_TEST

/* ---- failures ---- */

START_TEST(unknown_scheme_is_unavailable_with_libvirts_message_in_detail)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(sov_hv_open("nosuchdriver:///system", &hv, &err), -1);
    ck_assert_ptr_null(hv);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.detail, "no connection driver available"), "detail: %s",
                  err.detail);
    /* libvirt's words stay in the detail (operators only); the message says what failed. */
    ck_assert_msg(strstr(err.msg, "nosuchdriver:///system") && !strstr(err.msg, err.detail),
                  "msg: %s", err.msg);
}
END_TEST

/* A start that fails says why in libvirt's words (the later "is it running?" call must not
 * wipe them): here a disk that is not there, on the real qemu:///system. */
START_TEST(a_failed_start_carries_libvirts_reason_in_detail)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40] = "", xml[2048], missing[700];
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    ck_assert(f && fgets(uuid, sizeof(uuid), f));
    fclose(f);
    uuid[strcspn(uuid, "\n")] = '\0';
    /* A unique name, removed however the test ends. */
    tl_sh_at_exit("virsh -q -c %s undefine 'sovtest-%s' >/dev/null 2>&1", SYSTEM_URI, uuid);
    snprintf(missing, sizeof(missing), "%s/no-such-disk.qcow2", tmp);
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'><name>sovtest-%s</name><uuid>%s</uuid>"
             "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os><devices>"
             "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
             "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
             "</devices></domain>", uuid, uuid, missing);
    open_ok(SYSTEM_URI);
    ck_assert_msg(sov_hv_define(hv, xml, &err) == 0, "define: %s (%s)", err.msg, err.detail);
    ck_assert_int_eq(sov_hv_start(hv, uuid, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.msg, uuid), "msg: %s", err.msg);
    ck_assert_msg(strstr(err.detail, missing), "detail does not name the missing disk: %s",
                  err.detail);
    sov_error_clear(&err);
    ck_assert_int_eq(sov_hv_undefine(hv, uuid, &err), 0);
}
END_TEST

START_TEST(missing_socket_is_unavailable_with_libvirts_message_in_detail)
{
    sov_error err = SOV_ERROR_INIT;
    char uri[700];

    snprintf(uri, sizeof(uri), "qemu+unix:///system?socket=%s/no-such.sock", tmp);
    ck_assert_int_eq(sov_hv_open(uri, &hv, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.detail, "no-such.sock") && strstr(err.msg, "could not connect"),
                  "msg: %s, detail: %s", err.msg, err.detail);
}
END_TEST

START_TEST(missing_test_driver_file_is_unavailable)
{
    sov_error err = SOV_ERROR_INIT;
    char uri[700];

    snprintf(uri, sizeof(uri), "test://%s/no-such-host.xml", tmp);
    ck_assert_int_eq(sov_hv_open(uri, &hv, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.detail, "no-such-host.xml"), "detail: %s", err.detail);
}
END_TEST

START_TEST(wrappers_refuse_missing_arguments)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node n;

    ck_assert_int_eq(sov_hv_open("", &hv, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_int_eq(sov_hv_open(NULL, &hv, &err), -1);
    ck_assert_int_eq(sov_hv_alive(NULL, &err), -1);
    ck_assert_int_eq(sov_hv_discover(NULL, pool, pool_path, &n, &err), -1);
    open_ok("test:///default");
    ck_assert_int_eq(sov_hv_discover(hv, "", pool_path, &n, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    sov_hv_close(NULL);     /* a no-op */
}
END_TEST

/* A table that counts and forwards: how tests wrap the real driver. */
static int forwarded;

static int
count_open(const char *uri, sov_hv **ret, sov_error *err)
{
    forwarded++;
    return sov_hv_libvirt_domain_ops.open(uri, ret, err);
}

static void
count_close(sov_hv *h)
{
    forwarded++;
    sov_hv_libvirt_domain_ops.close(h);
}

static int
count_alive(sov_hv *h, sov_error *err)
{
    forwarded++;
    return sov_hv_libvirt_domain_ops.alive(h, err);
}

static int
count_discover(sov_hv *h, const char *p, const char *path, sov_hv_node *ret, sov_error *err)
{
    forwarded++;
    return sov_hv_libvirt_domain_ops.discover(h, p, path, ret, err);
}

static const sov_hv_domain_ops counting = {
    .name = "counting",
    .open = count_open,
    .close = count_close,
    .alive = count_alive,
    .discover = count_discover,
};

START_TEST(calls_go_through_the_table_opened_with)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node n;

    forwarded = 0;
    ck_assert_int_eq(sov_hv_open_with(&counting, "test:///default", &hv, &err), 0);
    ck_assert_ptr_eq(hv->domain, &counting);
    ck_assert_int_eq(sov_hv_alive(hv, &err), 0);
    ck_assert_int_eq(sov_hv_discover(hv, pool, pool_path, &n, &err), 0);
    sov_hv_close(hv);
    hv = NULL;
    ck_assert_int_eq(forwarded, 4);
}
END_TEST

/* ---- the fault-injecting wrapper (hv_faulty.c) on test:///default ---- */

static void
test_domain_xml(char uuid[40], char *xml, size_t size)
{
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    ck_assert(f && fgets(uuid, 40, f));
    fclose(f);
    uuid[strcspn(uuid, "\n")] = '\0';
    snprintf(xml, size,
             "<domain type='test'><name>sovtest-%s</name><uuid>%s</uuid>"
             "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os></domain>", uuid, uuid);
}

static long
ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

START_TEST(faulty_fails_the_nth_start_and_forwards_the_rest)
{
    sov_error err = SOV_ERROR_INIT;
    sov_domain_state st;
    char uuid[40], xml[1024];

    ck_assert_int_eq(sov_hv_faulty_install("test", &err), 0);
    open_ok("test:///default");
    ck_assert_str_eq(hv->domain->name, "faulty");
    test_domain_xml(uuid, xml, sizeof(xml));
    ck_assert_msg(sov_hv_define(hv, xml, &err) == 0, "define: %s (%s)", err.msg, err.detail);
    ck_assert_int_eq(sov_hv_faulty_set("start", 2, SOV_E_UNAVAILABLE, 0, &err), 0);

    ck_assert_msg(sov_hv_start(hv, uuid, &err) == 0, "start 1: %s", err.msg);
    ck_assert_int_eq(sov_hv_stop(hv, uuid, true, &err), 0);
    /* The second start fails as a daemon gone would, and never reaches libvirt. */
    ck_assert_int_eq(sov_hv_start(hv, uuid, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.detail, "injected fault"), "detail: %s", err.detail);
    ck_assert_int_eq(sov_hv_state(hv, uuid, &st, &err), 0);
    ck_assert_int_eq(st, SOV_DOMAIN_STOPPED);
    /* The third goes through again. */
    sov_error_clear(&err);
    ck_assert_msg(sov_hv_start(hv, uuid, &err) == 0, "start 3: %s", err.msg);
    ck_assert_int_eq(sov_hv_state(hv, uuid, &st, &err), 0);
    ck_assert_int_eq(st, SOV_DOMAIN_RUNNING);
    ck_assert_uint_eq(sov_hv_faulty_calls("start"), 3);
    ck_assert_uint_eq(sov_hv_faulty_calls("define"), 1);
    ck_assert_int_eq(sov_hv_undefine(hv, uuid, &err), 0);
    ck_assert_int_eq(sov_hv_state(hv, uuid, &st, &err), 0);
    ck_assert_int_eq(st, SOV_DOMAIN_NONE);

    /* Storage and network calls go through the wrapper too. */
    ck_assert_int_eq(sov_hv_faulty_set("network_ensure", 0, SOV_E_INTERNAL, 0, &err), 0);
    ck_assert_int_eq(sov_hv_network_ensure(hv, "sovtest-net", "10.231.7.0/24", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_int_eq(sov_hv_faulty_set("volume_path", 1, SOV_E_UNAVAILABLE, 0, &err), 0);
    ck_assert_int_eq(sov_hv_volume_path(hv, "default-pool", "x", xml, sizeof(xml), &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_uint_eq(sov_hv_faulty_calls("volume_path"), 1);

    /* Handles are counted: none leaks. */
    ck_assert_int_eq(sov_hv_faulty_open_handles(), 1);
    sov_hv_close(hv);
    hv = NULL;
    ck_assert_int_eq(sov_hv_faulty_open_handles(), 0);
}
END_TEST

START_TEST(faulty_delays_a_call_and_fails_an_open)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40], xml[1024];
    long t0;

    ck_assert_int_eq(sov_hv_faulty_install("test", &err), 0);
    ck_assert_int_eq(sov_hv_faulty_parse("define:1:ok:300,open:2:unavailable", &err), 0);
    open_ok("test:///default");
    test_domain_xml(uuid, xml, sizeof(xml));
    t0 = ms_now();
    ck_assert_msg(sov_hv_define(hv, xml, &err) == 0, "define: %s", err.msg);
    ck_assert_int_ge(ms_now() - t0, 300);
    ck_assert_int_eq(sov_hv_undefine(hv, uuid, &err), 0);

    /* The second open fails, leaving no handle behind. */
    sov_hv *second = NULL;
    ck_assert_int_eq(sov_hv_open("test:///default", &second, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_ptr_null(second);
    ck_assert_int_eq(sov_hv_faulty_open_handles(), 1);

    /* Other schemes are not wrapped; uninstalled, test is not either. */
    sov_hv_close(hv);
    hv = NULL;
    sov_hv_faulty_uninstall();
    open_ok("test:///default");
    ck_assert_str_eq(hv->domain->name, "libvirt");
    ck_assert_uint_eq(sov_hv_faulty_calls("open"), 0);
}
END_TEST

START_TEST(faulty_refuses_unknown_calls_and_bad_rules)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_int_eq(sov_hv_faulty_install("nosuch", &err), 0);     /* wraps the default */
    ck_assert_int_eq(sov_hv_faulty_set("teleport", 1, SOV_E_UNAVAILABLE, 0, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_int_eq(sov_hv_faulty_set("start", 1, SOV_OK, 0, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_int_eq(sov_hv_faulty_parse("start:1", &err), -1);
    ck_assert_int_eq(sov_hv_faulty_parse("start:1:sometimes", &err), -1);
    ck_assert_msg(strstr(err.msg, "sometimes"), "msg: %s", err.msg);
}
END_TEST

/* The registry chooses by scheme: a driver registered for "test" serves test:///default and
 * nothing else; taken back, the default serves it again. */
START_TEST(the_registry_chooses_the_domain_driver_by_scheme)
{
    sov_error err = SOV_ERROR_INIT;

    forwarded = 0;
    ck_assert_int_eq(sov_registry_add_domain_driver("test", &counting, &err), 0);
    open_ok("test:///default");
    ck_assert_ptr_eq(hv->domain, &counting);
    ck_assert_ptr_eq(hv->storage, &sov_hv_libvirt_storage_ops);
    ck_assert_ptr_eq(hv->network, &sov_hv_libvirt_network_ops);
    sov_hv_close(hv);
    hv = NULL;
    ck_assert_int_eq(forwarded, 2);
    ck_assert(sov_registry_remove_driver(SOV_DRIVER_DOMAIN, "test", &counting));
    open_ok("test:///default");
    ck_assert_ptr_eq(hv->domain, &sov_hv_libvirt_domain_ops);
    sov_hv_close(hv);
    hv = NULL;
    /* No driver at all for a URI: unavailable, in our words. */
    sov_registry_reset();
    ck_assert_int_eq(sov_hv_open("test:///default", &hv, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_ptr_null(hv);
}
END_TEST

/* ---- a real daemon that goes away ---- */

START_TEST(a_daemon_that_goes_away_is_not_alive_until_it_returns)
{
    sov_error err = SOV_ERROR_INIT;

    tl_libvirtd_start(&lvd);
    open_ok(lvd.uri);
    ck_assert_msg(sov_hv_alive(hv, &err) == 0, "%s", err.msg);

    tl_libvirtd_stop(&lvd);
    ck_assert_int_eq(sov_hv_alive(hv, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(err.detail[0], "no libvirt message");
    sov_hv_close(hv);
    hv = NULL;
    sov_error_clear(&err);
    ck_assert_int_eq(sov_hv_open(lvd.uri, &hv, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.detail, "libvirt-sock"), "detail: %s", err.detail);

    tl_libvirtd_restart(&lvd);
    open_ok(lvd.uri);
    ck_assert_msg(sov_hv_alive(hv, &err) == 0, "%s", err.msg);
}
END_TEST

START_TEST(a_pool_that_cannot_be_built_is_not_left_defined)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node n;
    char locked[600], path[700];

    /* The private daemon runs as nobody: a folder only root may enter stops the build. */
    snprintf(locked, sizeof(locked), "%s/locked", tmp);
    ck_assert_int_eq(mkdir(locked, 0700), 0);
    snprintf(path, sizeof(path), "%s/pool", locked);
    tl_libvirtd_start(&lvd);
    open_ok(lvd.uri);
    ck_assert_int_eq(sov_hv_discover(hv, pool, path, &n, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_msg(strstr(err.msg, pool) && strstr(err.detail, "Permission denied"),
                  "msg: %s, detail: %s", err.msg, err.detail);
    ck_assert_int_ne(tl_sh("virsh -q -c '%s' pool-list --all --name | grep -qx '%s'",
                           lvd.uri, pool), 0);

    /* With a folder it may use, the same daemon gets its pool (its hypervisor: TCG). */
    snprintf(path, sizeof(path), "%s/pool", lvd.dir);
    sov_error_clear(&err);
    ck_assert_msg(sov_hv_discover(hv, pool, path, &n, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(n.storage_pool, pool);
    ck_assert_str_eq(n.hypervisor, "qemu");
    ck_assert_msg(n.hypervisor_reason[0], "no reason for qemu");
    ck_assert_int_eq(n.cpus, sysconf(_SC_NPROCESSORS_ONLN));
}
END_TEST

/* ---- storage/'s calls on the test driver (its stand-ins where libvirt's lacks them) ---- */

#define TEST_POOL "default-pool"
#define TEST_DOMAIN "6695eb01-f6a4-8304-79aa-97f2502e193f"   /* the default host's "test" */
#define GIB (1024LL * 1024 * 1024)

static long long
capacity_of(const char *name)
{
    sov_error err = SOV_ERROR_INIT;
    long long cap = -1, alloc = -1;

    ck_assert_msg(sov_hv_volume_info(hv, TEST_POOL, name, &cap, &alloc, &err) == 0, "%s: %s",
                  name, err.msg);
    return cap;
}

static bool
listed(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

START_TEST(volumes_are_created_copied_grown_and_listed_on_the_test_driver)
{
    sov_error err = SOV_ERROR_INIT;
    char **names = NULL;
    size_t n = 0;
    long long cap, alloc;

    open_ok("test:///default");
    ck_assert_msg(sov_hv_volume_create(hv, TEST_POOL, "sovt-a", 2, NULL, &err) == 0, "%s (%s)",
                  err.msg, err.detail);
    ck_assert_int_eq(capacity_of("sovt-a"), 2 * GIB);
    /* A rerun finds it made and leaves it alone. */
    ck_assert_int_eq(sov_hv_volume_create(hv, TEST_POOL, "sovt-a", 5, NULL, &err), 0);
    ck_assert_int_eq(capacity_of("sovt-a"), 2 * GIB);
    ck_assert_int_eq(sov_hv_volume_create(hv, TEST_POOL, "sovt-z", 0, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, "size_gib");

    /* A copy grows to the size asked, never below its source's. */
    ck_assert_msg(sov_hv_volume_copy(hv, TEST_POOL, "sovt-b", "sovt-a", "qcow2", NULL, 3, NULL,
                                     &err) == 0, "%s (%s)", err.msg, err.detail);
    ck_assert_int_eq(capacity_of("sovt-b"), 3 * GIB);
    ck_assert_int_eq(sov_hv_volume_copy(hv, TEST_POOL, "sovt-c", "sovt-a", "qcow2", NULL, 1,
                                        NULL, &err), 0);
    ck_assert_int_eq(capacity_of("sovt-c"), 2 * GIB);
    ck_assert_int_eq(sov_hv_volume_copy(hv, TEST_POOL, "sovt-d", "sovt-nothing", "qcow2", NULL,
                                        1, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);

    /* Grow, never shrink. */
    ck_assert_msg(sov_hv_volume_resize(hv, TEST_POOL, "sovt-a", 4, NULL, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(capacity_of("sovt-a"), 4 * GIB);
    ck_assert_int_eq(sov_hv_volume_resize(hv, TEST_POOL, "sovt-a", 4, NULL, &err), 0);
    ck_assert_int_eq(sov_hv_volume_resize(hv, TEST_POOL, "sovt-a", 1, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);
    ck_assert_str_eq(err.field, "size_gib");
    ck_assert_int_eq(capacity_of("sovt-a"), 4 * GIB);

    ck_assert_int_eq(sov_hv_volume_info(hv, TEST_POOL, "sovt-nothing", &cap, &alloc, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(sov_hv_volume_info(hv, "no-such-pool", "sovt-a", &cap, &alloc, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);

    ck_assert_msg(sov_hv_volume_list(hv, TEST_POOL, "sovt-", &names, &n, &err) == 0, "%s",
                  err.msg);
    ck_assert_uint_eq(n, 3);
    ck_assert(listed(names, n, "sovt-a") && listed(names, n, "sovt-b") &&
              listed(names, n, "sovt-c"));
    sov_hv_names_free(names, n);
    for (const char *const *v = (const char *const[]) { "sovt-a", "sovt-b", "sovt-c", NULL };
         *v; v++)
        ck_assert_int_eq(sov_hv_volume_delete(hv, TEST_POOL, *v, &err), 0);
    ck_assert_int_eq(sov_hv_volume_list(hv, TEST_POOL, "sovt-", &names, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    sov_hv_names_free(names, n);
}
END_TEST

START_TEST(secrets_are_defined_listed_and_undefined_on_the_test_driver)
{
    sov_error err = SOV_ERROR_INIT;
    const unsigned char key[32] = { 1, 2, 3 };
    const char *u1 = "0b5e0000-1111-4222-8333-000000000001";
    const char *u2 = "0b5e0000-1111-4222-8333-000000000002";
    char **names = NULL;
    size_t n = 0;

    open_ok("test:///default");
    ck_assert_msg(sov_hv_secret_define(hv, u1, "/pool/sovt-vol-1", key, sizeof(key), &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(sov_hv_secret_define(hv, u1, "/pool/sovt-vol-1", key, sizeof(key), &err),
                     0);
    ck_assert_int_eq(sov_hv_secret_define(hv, u2, "/other/x", key, sizeof(key), &err), 0);
    ck_assert_int_eq(sov_hv_secret_list(hv, "/pool/sovt-", &names, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], u1);
    sov_hv_names_free(names, n);
    ck_assert_int_eq(sov_hv_secret_undefine(hv, u1, &err), 0);
    ck_assert_int_eq(sov_hv_secret_undefine(hv, u1, &err), 0);     /* missing is fine */
    ck_assert_int_eq(sov_hv_secret_undefine(hv, u2, &err), 0);
    ck_assert_int_eq(sov_hv_secret_list(hv, "", &names, &n, &err), 0);
    ck_assert(!listed(names, n, u1) && !listed(names, n, u2));
    sov_hv_names_free(names, n);
    ck_assert_int_eq(sov_hv_secret_define(hv, "not-a-uuid", "/x", key, sizeof(key), &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
}
END_TEST

START_TEST(disks_are_attached_grown_snapshotted_and_detached_on_the_test_driver)
{
    sov_error err = SOV_ERROR_INIT;
    const char *disk = "<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
                       "<source pool='" TEST_POOL "' volume='sovt-disk'/>"
                       "<target dev='vdb' bus='virtio'/><serial>sovt-disk</serial></disk>";

    open_ok("test:///default");
    ck_assert_int_eq(sov_hv_volume_create(hv, TEST_POOL, "sovt-disk", 1, NULL, &err), 0);
    ck_assert_int_eq(sov_hv_disk_present(hv, TEST_DOMAIN, "vdb", &err), 0);
    ck_assert_msg(sov_hv_disk_attach(hv, TEST_DOMAIN, disk, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    ck_assert_int_eq(sov_hv_disk_present(hv, TEST_DOMAIN, "vdb", &err), 1);
    ck_assert_int_eq(sov_hv_disk_attach(hv, TEST_DOMAIN, disk, &err), 0);   /* rerun */

    ck_assert_msg(sov_hv_disk_resize(hv, TEST_DOMAIN, "vdb", 3, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(capacity_of("sovt-disk"), 3 * GIB);
    ck_assert_int_eq(sov_hv_disk_resize(hv, TEST_DOMAIN, "vdb", 2, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INVALID);

    ck_assert_msg(sov_hv_disk_snapshot(hv, TEST_DOMAIN, "vdb", TEST_POOL, "sovt-snap", NULL,
                                       &err) == 0, "%s", err.msg);
    ck_assert_int_eq(capacity_of("sovt-snap"), 3 * GIB);

    ck_assert_msg(sov_hv_disk_detach(hv, TEST_DOMAIN, "vdb", 1000, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sov_hv_disk_present(hv, TEST_DOMAIN, "vdb", &err), 0);
    ck_assert_int_eq(sov_hv_disk_detach(hv, TEST_DOMAIN, "vdb", 1000, &err), 0);  /* gone */

    ck_assert_int_eq(sov_hv_disk_present(hv, "00000000-0000-4000-8000-000000000000", "vdb",
                                         &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(sov_hv_disk_present(hv, TEST_DOMAIN, "vd'b", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_int_eq(sov_hv_volume_delete(hv, TEST_POOL, "sovt-disk", &err), 0);
    ck_assert_int_eq(sov_hv_volume_delete(hv, TEST_POOL, "sovt-snap", &err), 0);
}
END_TEST

/* The test domain's persistent definition, read beside the driver (the test driver's default
 * host is one per process while a connection holds it). */
static char *
test_domain_config(void)
{
    virConnectPtr c = virConnectOpen("test:///default");
    virDomainPtr d;
    char *xml;

    ck_assert_ptr_nonnull(c);
    d = virDomainLookupByUUIDString(c, TEST_DOMAIN);
    ck_assert_ptr_nonnull(d);
    xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
    ck_assert_ptr_nonnull(xml);
    virDomainFree(d);
    virConnectClose(c);
    return xml;
}

static int
count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* network/'s ports: an OVS NIC as sov_domain_nic_xml renders it goes into the definition
 * once (a rerun leaves it), with the offloads off; the detach finds it by MAC whatever its
 * case, and a second detach finds nothing to do. Through the faulty wrapper, which counts. */
START_TEST(nics_are_attached_and_detached_on_the_test_driver)
{
    sov_error err = SOV_ERROR_INIT;
    const sov_domain_nic nic = {
        .kind = SOV_NIC_OVS, .interface_id = "a1b2c3d4-0000-4000-8000-000000000001",
        .mac = "fa:16:3e:0a:0b:0c", .mtu = 1442 };
    sov_autofree char *nic_xml = NULL;
    char *xml;

    ck_assert_int_eq(sov_hv_faulty_install("test", &err), 0);
    open_ok("test:///default");
    ck_assert_int_eq(sov_domain_nic_xml(&nic, &nic_xml, &err), 0);
    ck_assert_msg(sov_hv_nic_attach(hv, TEST_DOMAIN, nic_xml, &err) == 0, "%s (%s)", err.msg,
                  err.detail);
    ck_assert_int_eq(sov_hv_nic_attach(hv, TEST_DOMAIN, nic_xml, &err), 0);    /* rerun */
    xml = test_domain_config();
    ck_assert_int_eq(count_of(xml, "<mac address='fa:16:3e:0a:0b:0c'/>"), 1);
    ck_assert_ptr_nonnull(strstr(xml, "interfaceid='a1b2c3d4-0000-4000-8000-000000000001'"));
    ck_assert_ptr_nonnull(strstr(xml, "<source bridge='br-int'/>"));
    ck_assert_ptr_nonnull(strstr(xml, "csum='off'"));
    ck_assert_ptr_nonnull(strstr(xml, "<mtu size='1442'/>"));
    ck_assert_ptr_nonnull(strstr(xml, "aa:bb:cc:dd:ee:ff"));   /* its own NIC stays */
    free(xml);

    ck_assert_msg(sov_hv_nic_detach(hv, TEST_DOMAIN, "FA:16:3E:0A:0B:0C", &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(sov_hv_nic_detach(hv, TEST_DOMAIN, "fa:16:3e:0a:0b:0c", &err), 0);
    xml = test_domain_config();
    ck_assert_ptr_null(strstr(xml, "fa:16:3e:0a:0b:0c"));
    ck_assert_ptr_nonnull(strstr(xml, "aa:bb:cc:dd:ee:ff"));
    free(xml);
    ck_assert_uint_eq(sov_hv_faulty_calls("nic_attach"), 2);
    ck_assert_uint_eq(sov_hv_faulty_calls("nic_detach"), 2);

    /* No such domain; a MAC that is none (it would go into XPath); an injected fault. */
    ck_assert_int_eq(sov_hv_nic_attach(hv, "00000000-0000-4000-8000-000000000000", nic_xml,
                                       &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(sov_hv_nic_detach(hv, TEST_DOMAIN, "fa:16:3e:0a:0b:0c' or '1", &err), -1);
    ck_assert_int_eq(err.code, SOV_E_INTERNAL);
    ck_assert_int_eq(sov_hv_faulty_set("nic_attach", 1, SOV_E_UNAVAILABLE, 0, &err), 0);
    ck_assert_int_eq(sov_hv_nic_attach(hv, TEST_DOMAIN, nic_xml, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    xml = test_domain_config();
    ck_assert_ptr_null(strstr(xml, "fa:16:3e:0a:0b:0c"));
    free(xml);
}
END_TEST

/* The wrapper knows every storage call by its table field, and fails the one picked. */
START_TEST(faulty_wraps_the_storage_and_disk_calls)
{
    sov_error err = SOV_ERROR_INIT;
    static const char *const calls[] = {
        "volume_create", "volume_copy", "volume_resize", "volume_info", "volume_list",
        "secret_define", "secret_undefine", "secret_list", "disk_attach", "disk_detach",
        "disk_present", "disk_resize", "disk_snapshot",
    };
    long long cap, alloc;

    ck_assert_int_eq(sov_hv_faulty_install("test", &err), 0);
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        ck_assert_msg(sov_hv_faulty_set(calls[i], 0, SOV_E_CONFLICT, 0, &err) == 0, "%s: %s",
                      calls[i], err.msg);
        sov_hv_faulty_clear();
    }
    ck_assert_int_eq(sov_hv_faulty_parse("volume_create:2:unavailable,disk_snapshot:1:conflict",
                                         &err), 0);
    open_ok("test:///default");
    ck_assert_int_eq(sov_hv_volume_create(hv, TEST_POOL, "sovt-f", 1, NULL, &err), 0);
    ck_assert_int_eq(sov_hv_volume_create(hv, TEST_POOL, "sovt-g", 1, NULL, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err.detail, "injected fault"));
    ck_assert_int_eq(sov_hv_volume_info(hv, TEST_POOL, "sovt-g", &cap, &alloc, &err), -1);
    ck_assert_int_eq(err.code, SOV_E_NOT_FOUND);
    ck_assert_int_eq(sov_hv_disk_snapshot(hv, TEST_DOMAIN, "vda", TEST_POOL, "sovt-s", NULL,
                                          &err), -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    ck_assert_uint_eq(sov_hv_faulty_calls("volume_create"), 2);
    ck_assert_uint_eq(sov_hv_faulty_calls("volume_info"), 1);
    ck_assert_uint_eq(sov_hv_faulty_calls("disk_snapshot"), 1);
    ck_assert_int_eq(sov_hv_volume_delete(hv, TEST_POOL, "sovt-f", &err), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("compute/hv");
    /* A daemon that goes away leaves libvirt writing to a closed socket; sovd ignores
     * SIGPIPE for the same reason. */
    signal(SIGPIPE, SIG_IGN);
    TCase *td = tcase_create("test-driver");
    TCase *real = tcase_create("qemu-system");
    TCase *fail = tcase_create("failures");
    TCase *daemon = tcase_create("private-daemon");

    tcase_add_checked_fixture(td, setup, teardown);
    tcase_add_test(td, test_driver_default_host_is_discovered);
    tcase_add_test(td, discovery_finds_the_pool_it_made_before);
    tcase_add_test(td, a_pool_on_another_pools_path_is_refused_with_libvirts_message);
    tcase_add_test(td, per_host_xml_gives_each_host_its_size);
    tcase_add_test(td, gpus_are_pci_devices_of_display_class);
    tcase_add_test(td, alive_answers_on_a_live_connection);
    tcase_add_test(td, calls_go_through_the_table_opened_with);
    tcase_add_test(td, faulty_fails_the_nth_start_and_forwards_the_rest);
    tcase_add_test(td, faulty_delays_a_call_and_fails_an_open);
    tcase_add_test(td, faulty_refuses_unknown_calls_and_bad_rules);
    tcase_add_test(td, the_registry_chooses_the_domain_driver_by_scheme);
    tcase_add_test(td, volumes_are_created_copied_grown_and_listed_on_the_test_driver);
    tcase_add_test(td, secrets_are_defined_listed_and_undefined_on_the_test_driver);
    tcase_add_test(td, disks_are_attached_grown_snapshotted_and_detached_on_the_test_driver);
    tcase_add_test(td, faulty_wraps_the_storage_and_disk_calls);
    tcase_add_test(td, nics_are_attached_and_detached_on_the_test_driver);
    suite_add_tcase(s, td);

    tcase_add_checked_fixture(real, setup, teardown);
    tcase_add_test(real, real_qemu_system_is_discovered);
    suite_add_tcase(s, real);

    tcase_add_checked_fixture(fail, setup, teardown);
    tcase_add_test(fail, unknown_scheme_is_unavailable_with_libvirts_message_in_detail);
    tcase_add_test(fail, missing_socket_is_unavailable_with_libvirts_message_in_detail);
    tcase_add_test(fail, missing_test_driver_file_is_unavailable);
    tcase_add_test(fail, a_failed_start_carries_libvirts_reason_in_detail);
    tcase_add_test(fail, wrappers_refuse_missing_arguments);
    suite_add_tcase(s, fail);

    tcase_add_checked_fixture(daemon, setup, teardown);
    tcase_set_timeout(daemon, 180);
    tcase_add_test(daemon, a_daemon_that_goes_away_is_not_alive_until_it_returns);
    tcase_add_test(daemon, a_pool_that_cannot_be_built_is_not_left_defined);
    suite_add_tcase(s, daemon);
    return tl_run_suite(s);
}
