/* storage: the libvirt driver's storage calls on the local libvirtd, next to virsh doing the
 * same in the same run.
 *
 *     bench/storage --pool NAME --pool-path DIR [--uri URI] [--virt-type kvm|qemu]
 *                   [--rounds N] [--quick]
 *
 * NAME is a directory pool this program makes at DIR (through the driver's discovery, as a
 * host's registration does) and leaves for the caller to remove; every volume and domain it
 * makes is named "sovbench-storage-<pid>-..." and removed before it returns, however a round
 * went. Each figure is the median (and p95) of N rounds (9; 3 with --quick), after one round
 * that is not counted; the driver and virsh take turns inside each round:
 *
 *   volume create   sov_hv_volume_create of an empty 1 GiB qcow2, next to
 *                   `virsh vol-create-as POOL NAME 1G --format qcow2` (process start to exit)
 *   hot attach      sov_hv_disk_attach of a 1 GiB volume (virtio, serial, iotune, as storage/
 *                   renders it) to a running domain with a blank boot disk and no operating
 *                   system (attaching needs none), next to `virsh attach-device DOMAIN FILE
 *                   --live --config` of the same XML at another target. A guest without an OS
 *                   never releases a disk, so each round attaches at a new target and the
 *                   domain is destroyed at the end.
 *   snapshot        sov_hv_disk_snapshot of the attached 1 GiB disk (a push backup into a new
 *                   pool volume, waited for), next to `virsh vol-create-from` (qemu-img
 *                   convert) of an idle 1 GiB volume of the same contents (empty): the same
 *                   bytes copied, offline (QEMU's lock keeps qemu-img off the attached one).
 *
 * It prints each round, then medians, p95s and ratios (driver / virsh), and last one line of
 * JSON for scripts/bench. Exits non-zero when it could not measure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sov/compute.h"
#include "sov/hv.h"
#include "sov/registry.h"

#define MAX_ROUNDS 40
#define PROG "bench/storage"

static const char *uri = "qemu:///system";
static const char *pool, *pool_path, *virt = "qemu";
static sov_hv *hv;
static char prefix[64];

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* The median and p95 (nearest rank) of n figures; v is sorted. */
static void
stats(double *v, unsigned n, double *median, double *p95)
{
    unsigned r;

    qsort(v, n, sizeof(*v), cmp_double);
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    r = (unsigned) (0.95 * n + 0.999999);
    *p95 = v[(r ? r : 1) - 1];
}

/* Run argv (no shell), quiet; milliseconds from the fork to its exit, or -1 when it failed. */
static double
run_timed(char *const argv[])
{
    double t = now_ms();
    int st;
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return now_ms() - t;
}

static bool
fail(const char *what, const sov_error *err)
{
    fprintf(stderr, PROG ": %s: %s (%s)\n", what, err->msg, err->detail);
    return false;
}

static void
vol_delete(const char *name)
{
    sov_error err = SOV_ERROR_INIT;

    if (sov_hv_volume_delete(hv, pool, name, &err) < 0)
        fail("delete", &err);
}

/* ---- volume create ---- */

static bool
round_create(unsigned i, double *drv, double *ref)
{
    sov_error err = SOV_ERROR_INIT;
    char a[128], b[128];
    double t;

    snprintf(a, sizeof(a), "%s-c%u", prefix, i);
    snprintf(b, sizeof(b), "%s-v%u", prefix, i);
    t = now_ms();
    if (sov_hv_volume_create(hv, pool, a, 1, NULL, &err) < 0)
        return fail("volume create", &err);
    *drv = now_ms() - t;
    *ref = run_timed((char *const[]) { "virsh", "-q", "-c", (char *) uri, "vol-create-as",
                                       (char *) pool, b, "1G", "--format", "qcow2", NULL });
    vol_delete(a);
    vol_delete(b);
    return *ref >= 0;
}

/* ---- the domain the disks attach to ---- */

static char dom_uuid[37];

static bool
domain_start(void)
{
    sov_error err = SOV_ERROR_INIT;
    sov_domain_spec s = { 0 };
    char name[128], boot[128], *xml = NULL;
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    if (!f || !fgets(dom_uuid, sizeof(dom_uuid), f)) {
        fprintf(stderr, PROG ": no UUID\n");
        return false;
    }
    fclose(f);
    snprintf(name, sizeof(name), "%s-dom", prefix);
    snprintf(boot, sizeof(boot), "%s-boot", prefix);
    if (sov_hv_volume_create(hv, pool, boot, 1, NULL, &err) < 0)
        return fail("boot volume", &err);
    s.uuid = dom_uuid;
    s.name = name;
    s.virt_type = virt;
    s.vcpus = 1;
    s.memory_mib = 128;
    if (sov_domain_spec_add_disk(&s, &(sov_domain_disk) { .pool = pool, .volume = boot,
            .format = "qcow2", .dev = "vda" }, &err) < 0 ||
        sov_domain_xml(&s, &xml, &err) < 0) {
        sov_domain_spec_release(&s);
        return fail("domain XML", &err);
    }
    sov_domain_spec_release(&s);
    if (sov_hv_define(hv, xml, &err) < 0 || sov_hv_start(hv, dom_uuid, &err) < 0) {
        free(xml);
        return fail("domain start", &err);
    }
    free(xml);
    return true;
}

static void
domain_remove(void)
{
    sov_error err = SOV_ERROR_INIT;
    char boot[128];

    if (dom_uuid[0] && sov_hv_undefine(hv, dom_uuid, &err) < 0)
        fail("domain undefine", &err);
    snprintf(boot, sizeof(boot), "%s-boot", prefix);
    vol_delete(boot);
}

/* Target devs vdb, vdc, ... vdz, vdaa, ...: a new one for every attach. */
static void
dev_name(unsigned k, char *out, size_t size)
{
    k += 1;     /* vda is the boot disk */
    if (k < 26)
        snprintf(out, size, "vd%c", 'a' + k);
    else
        snprintf(out, size, "vd%c%c", 'a' + k / 26 - 1, 'a' + k % 26);
}

static char *
disk_xml(const char *vol, const char *dev)
{
    sov_error err = SOV_ERROR_INIT;
    char *xml = NULL;

    if (sov_domain_disk_xml(&(sov_domain_disk) { .pool = pool, .volume = vol,
            .format = "qcow2", .cache = "none", .dev = dev, .serial = vol, .iops_max = 5000,
            .bytes_per_s_max = 500LL * 1024 * 1024 }, &xml, &err) < 0)
        fail("disk XML", &err);
    return xml;
}

/* ---- hot attach ---- */

static unsigned next_dev;

static bool
round_attach(unsigned i, double *drv, double *ref, char *attached, size_t size)
{
    sov_error err = SOV_ERROR_INIT;
    char a[128], b[128], dev_a[16], dev_b[16], file[256];
    char *xa = NULL, *xb = NULL;
    double t;
    FILE *f;
    bool ok = false;

    snprintf(a, sizeof(a), "%s-a%u", prefix, i);
    snprintf(b, sizeof(b), "%s-b%u", prefix, i);
    dev_name(next_dev++, dev_a, sizeof(dev_a));
    dev_name(next_dev++, dev_b, sizeof(dev_b));
    snprintf(file, sizeof(file), "/tmp/%s-b%u.xml", prefix, i);
    if (sov_hv_volume_create(hv, pool, a, 1, NULL, &err) < 0 ||
        sov_hv_volume_create(hv, pool, b, 1, NULL, &err) < 0)
        return fail("volume create", &err);
    xa = disk_xml(a, dev_a);
    xb = disk_xml(b, dev_b);
    f = xb ? fopen(file, "w") : NULL;
    if (!xa || !f || fputs(xb, f) < 0 || fclose(f) != 0)
        goto out;
    t = now_ms();
    if (sov_hv_disk_attach(hv, dom_uuid, xa, &err) < 0) {
        fail("disk attach", &err);
        goto out;
    }
    *drv = now_ms() - t;
    *ref = run_timed((char *const[]) { "virsh", "-q", "-c", (char *) uri, "attach-device",
                                       dom_uuid, file, "--live", "--config", NULL });
    ok = *ref >= 0;
    if (!ok)
        fprintf(stderr, PROG ": virsh attach-device failed\n");
    /* The last round's disk stays for the snapshots. */
    snprintf(attached, size, "%s", dev_a);
out:
    if (f)
        unlink(file);
    free(xa);
    free(xb);
    return ok;
}

/* ---- snapshot ---- */

static bool
round_snapshot(unsigned i, const char *dev, const char *vol, double *drv, double *ref)
{
    sov_error err = SOV_ERROR_INIT;
    char a[128], b[128], file[256];
    double t;
    FILE *f;

    snprintf(a, sizeof(a), "%s-s%u", prefix, i);
    snprintf(b, sizeof(b), "%s-r%u", prefix, i);
    snprintf(file, sizeof(file), "/tmp/%s-r%u.xml", prefix, i);
    t = now_ms();
    if (sov_hv_disk_snapshot(hv, dom_uuid, dev, pool, a, NULL, &err) < 0)
        return fail("disk snapshot", &err);
    *drv = now_ms() - t;
    f = fopen(file, "w");
    if (!f || fprintf(f, "<volume><name>%s</name><capacity unit='GiB'>1</capacity>"
                         "<target><format type='qcow2'/></target></volume>", b) < 0 ||
        fclose(f) != 0)
        return false;
    *ref = run_timed((char *const[]) { "virsh", "-q", "-c", (char *) uri, "vol-create-from",
                                       (char *) pool, file, (char *) vol, "--inputpool",
                                       (char *) pool, NULL });
    unlink(file);
    vol_delete(a);
    vol_delete(b);
    if (*ref < 0)
        fprintf(stderr, PROG ": virsh vol-create-from failed\n");
    return *ref >= 0;
}

/* ---- main ---- */

typedef struct series {
    const char *key, *label, *ref_label;
    double drv[MAX_ROUNDS], ref[MAX_ROUNDS];
    double drv_median, drv_p95, ref_median, ref_p95;
} series;

static void
report(series *s, unsigned n)
{
    stats(s->drv, n, &s->drv_median, &s->drv_p95);
    stats(s->ref, n, &s->ref_median, &s->ref_p95);
    printf("%s, %u rounds: driver median %.1f ms, p95 %.1f ms; %s median %.1f ms, p95 %.1f ms;"
           " ratio %.2f\n", s->label, n, s->drv_median, s->drv_p95, s->ref_label, s->ref_median,
           s->ref_p95, s->ref_median > 0 ? s->drv_median / s->ref_median : 0);
}

int
main(int argc, char **argv)
{
    sov_error err = SOV_ERROR_INIT;
    sov_hv_node node;
    unsigned rounds = 9;
    bool quick = false, ok = true;
    char dev[16] = "", vol[128] = "";
    series s[3] = {
        { .key = "create", .label = "volume create (empty, 1 GiB)",
          .ref_label = "virsh vol-create-as" },
        { .key = "attach", .label = "hot attach", .ref_label = "virsh attach-device" },
        { .key = "snapshot", .label = "snapshot of an attached 1 GiB disk",
          .ref_label = "virsh vol-create-from" },
    };

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            quick = true;
            continue;
        }
        if (!v)
            goto usage;
        i++;
        if (strcmp(a, "--pool") == 0)
            pool = v;
        else if (strcmp(a, "--pool-path") == 0)
            pool_path = v;
        else if (strcmp(a, "--uri") == 0)
            uri = v;
        else if (strcmp(a, "--virt-type") == 0)
            virt = v;
        else if (strcmp(a, "--rounds") == 0) {
            char *end;
            unsigned long r = strtoul(v, &end, 10);
            if (*end || r < 1 || r > MAX_ROUNDS - 1)
                goto usage;
            rounds = (unsigned) r;
        } else
            goto usage;
    }
    if (!pool || !pool_path)
        goto usage;
    if (quick && rounds == 9)
        rounds = 3;
    snprintf(prefix, sizeof(prefix), "sovbench-storage-%d", (int) getpid());
    if (sov_hv_register_libvirt(&err) < 0 || sov_hv_open(uri, &hv, &err) < 0 ||
        sov_hv_discover(hv, pool, pool_path, &node, &err) < 0)
        return fail("open", &err), 1;
    printf(PROG ": %s, pool '%s', guests under %s; %u rounds after one warm-up\n", uri, pool,
           strcmp(virt, "kvm") == 0 ? "KVM" : "TCG", rounds);

    for (unsigned i = 0; ok && i <= rounds; i++) {
        double d, r;
        ok = round_create(i, &d, &r);
        if (ok && i > 0) {
            s[0].drv[i - 1] = d;
            s[0].ref[i - 1] = r;
            printf("  create   round %-3u driver %8.1f ms   virsh %8.1f ms\n", i, d, r);
        }
    }
    if (ok)
        report(&s[0], rounds);

    ok = ok && domain_start();
    for (unsigned i = 0; ok && i <= rounds; i++) {
        double d, r;
        ok = round_attach(i, &d, &r, dev, sizeof(dev));
        if (ok && i > 0) {
            s[1].drv[i - 1] = d;
            s[1].ref[i - 1] = r;
            printf("  attach   round %-3u driver %8.1f ms   virsh %8.1f ms\n", i, d, r);
        }
    }
    if (ok)
        report(&s[1], rounds);
    snprintf(vol, sizeof(vol), "%s-idle", prefix);
    if (ok && sov_hv_volume_create(hv, pool, vol, 1, NULL, &err) < 0)
        ok = fail("volume create", &err);
    for (unsigned i = 0; ok && i <= rounds; i++) {
        double d, r;
        ok = round_snapshot(i, dev, vol, &d, &r);
        if (ok && i > 0) {
            s[2].drv[i - 1] = d;
            s[2].ref[i - 1] = r;
            printf("  snapshot round %-3u driver %8.1f ms   virsh %8.1f ms\n", i, d, r);
        }
    }
    if (ok)
        report(&s[2], rounds);

    /* Whatever went wrong: the domain first (it holds the volumes), then every volume. */
    domain_remove();
    {
        char **names = NULL;
        size_t n = 0;
        if (sov_hv_volume_list(hv, pool, prefix, &names, &n, &err) == 0)
            for (size_t i = 0; i < n; i++)
                vol_delete(names[i]);
        sov_hv_names_free(names, n);
    }
    sov_hv_close(hv);
    if (!ok) {
        fprintf(stderr, PROG ": could not measure\n");
        return 1;
    }
    printf("{\"virt_type\":\"%s\",\"rounds\":%u", virt, rounds);
    for (int k = 0; k < 3; k++)
        printf(",\"%s_median_ms\":%.1f,\"%s_p95_ms\":%.1f,\"%s_virsh_median_ms\":%.1f,"
               "\"%s_virsh_p95_ms\":%.1f", s[k].key, s[k].drv_median, s[k].key, s[k].drv_p95,
               s[k].key, s[k].ref_median, s[k].key, s[k].ref_p95);
    printf("}\n");
    return 0;
usage:
    fprintf(stderr, "usage: " PROG " --pool NAME --pool-path DIR [--uri URI] "
                    "[--virt-type kvm|qemu] [--rounds N] [--quick]\n");
    return 2;
}
