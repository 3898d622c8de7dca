/* The libvirt driver's migrate and volume_send (include/sov/hv.h) between two real hosts:
 * a fleet of two libvirtd in namespaces of their own (scripts/fleet, prefix hm<pid>),
 * called directly rather than through sovd.
 *
 * - A real TCG guest (tests/support/guest.h, 128 MiB) runs on host 1 from an overlay over
 *   the guest image (a volume of each host's pool), with a read-only raw disk (present on
 *   both hosts, different bytes on each), a data disk and an encrypted disk (LUKS, its
 *   secret on both hosts) holding known patterns. A live migration with storage copy moves it
 *   to host 2: progress is reported, the domain runs on host 2 and is gone from host 1, the
 *   data disks' patterns are on host 2 (the encrypted one read with its key), the read-only disk
 *   was not copied, the downtime is known, and the guest boots again from its moved disk
 *   after a reset there. The seconds and the downtime are printed.
 * - A second migration, capped at 1 MiB/s (virsh migrate-setspeed) with a 2 s timeout, is
 *   aborted: SOV_E_CONFLICT, the guest still runs on host 2, nothing is defined on host 1.
 * - volume_send: a raw volume with a hole and a qcow2 overlay (backing file named in its
 *   header) and an encrypted one read back the same on the target (sha256 of the files), a
 *   second send replaces the target's copy, a volume a running domain writes is refused
 *   (SOV_E_CONFLICT) while its read-only disk is sent, and a pool that is one folder on both
 *   hosts is refused (the send would delete the source).
 *
 * The pool lives in /var/lib/libvirt, which each host has of its own (its mount namespace):
 * the same path on both, two files; the test reads them through the fleet's folders. The
 * fleet goes down at the end however the test ends (teardown, and a watcher at exit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "sov/compute.h"
#include "sov/hv.h"
#include "sov/registry.h"
#include "testlib.h"

#define HOSTS 2
#define GIB (1024LL * 1024 * 1024)
#define IMAGE "sov-image-hm"

typedef struct fleet_host {
    char name[64];
    char uri[128];
    char addr[64];
    char uuid[64];
    sov_hv *hv;
} fleet_host;

static char prefix[32], top[1024], pool[64], pool_path[128];
static fleet_host h[HOSTS];
static char *tmp;

static void
setup(void)
{
    snprintf(prefix, sizeof(prefix), "hm%d", (int) getpid());
    snprintf(top, sizeof(top), "%s", tl_env("SOV_SOURCE_ROOT"));
    snprintf(pool, sizeof(pool), "sov-%s", prefix);
    snprintf(pool_path, sizeof(pool_path), "/var/lib/libvirt/sov-%s", prefix);
    memset(h, 0, sizeof(h));
    tmp = tl_tmpdir();
    sov_registry_reset();
    ck_assert_int_eq(sov_hv_register_libvirt(NULL), 0);
    tl_sh_at_exit("'%s/scripts/fleet' down --prefix '%s' >/dev/null 2>&1", top, prefix);
}

static void
teardown(void)
{
    for (int i = 0; i < HOSTS; i++) {
        sov_hv_close(h[i].hv);
        h[i].hv = NULL;
    }
    tl_sh("'%s/scripts/fleet' down --prefix '%s' >/dev/null 2>&1", top, prefix);
    tl_tmpdir_remove(tmp);
    free(tmp);
}

/* ---- helpers ---- */

/* Two hosts up, each opened and with the pool. */
static void
fleet_up(void)
{
    sov_error err = SOV_ERROR_INIT;
    char *out, *line, *save = NULL;
    size_t len = strlen(prefix);
    int rc, n = 0;

    out = tl_sh_out(&rc, "'%s/scripts/fleet' up %d --prefix '%s' 2>&1", top, HOSTS, prefix);
    ck_assert_msg(rc == 0, "fleet up failed: %s", out);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, prefix, len) != 0 || strncmp(line + len, "-h", 2) != 0)
            continue;
        ck_assert_int_lt(n, HOSTS);
        ck_assert_int_eq(sscanf(line, "%63s %127s %63s %63s", h[n].name, h[n].uri, h[n].addr,
                                h[n].uuid), 4);
        n++;
    }
    free(out);
    ck_assert_int_eq(n, HOSTS);
    for (int i = 0; i < HOSTS; i++) {
        sov_hv_node node;

        ck_assert_msg(sov_hv_open(h[i].uri, &h[i].hv, &err) == 0, "open %s: %s (%s)",
                      h[i].uri, err.msg, err.detail);
        ck_assert_msg(sov_hv_discover(h[i].hv, pool, pool_path, &node, &err) == 0,
                      "discover %s: %s (%s)", h[i].uri, err.msg, err.detail);
    }
}

/* The file of a pool volume of host i, as this (the root) namespace reaches it. */
static void
host_file(int i, const char *name, char *out, size_t size)
{
    snprintf(out, size, "/run/sov-fleet/%s/h%d/lib/sov-%s/%s", prefix, i + 1, prefix, name);
}

/* A shell command in host i's mount namespace (where its pool's paths lead); its status. */
static int
in_host(int i, const char *cmd)
{
    char *pid, path[600];
    int rc;

    snprintf(path, sizeof(path), "/run/sov-fleet/%s/h%d/libvirtd.pid", prefix, i + 1);
    pid = tl_read_file(path);
    ck_assert_msg(pid, "no %s", path);
    pid[strcspn(pid, "\n")] = '\0';
    rc = tl_sh("nsenter -t %s -m sh -c \"%s\"", pid, cmd);
    free(pid);
    return rc;
}

static char *
sha256_of(const char *path)
{
    int rc;
    char *out = tl_sh_out(&rc, "sha256sum '%s' | cut -d' ' -f1", path);

    ck_assert_msg(rc == 0 && strlen(out) >= 64, "sha256sum %s: %s", path, out);
    out[64] = '\0';
    return out;
}

/* A local file of size bytes, every byte b. */
static void
file_of(const char *path, long long size, int b)
{
    ck_assert_int_eq(tl_sh("head -c %lld /dev/zero | tr '\\000' '\\%03o' > '%s'", size, b,
                           path), 0);
}

static void
upload(int i, const char *name, const char *format, const char *file)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_hv_volume_upload(h[i].hv, pool, name, format, file, &err) == 0,
                  "upload %s to %s: %s (%s)", name, h[i].name, err.msg, err.detail);
}

static void
overlay(int i, const char *name)
{
    sov_error err = SOV_ERROR_INIT;

    ck_assert_msg(sov_hv_volume_overlay(h[i].hv, pool, name, IMAGE, "qcow2", 1, &err) == 0,
                  "overlay %s on %s: %s (%s)", name, h[i].name, err.msg, err.detail);
}

static sov_domain_state
state_on(int i, const char *uuid)
{
    sov_error err = SOV_ERROR_INIT;
    sov_domain_state s;

    ck_assert_msg(sov_hv_state(h[i].hv, uuid, &s, &err) == 0, "state: %s", err.msg);
    return s;
}

/* Whether host i has a domain of that name, running or not (virsh's view). */
static bool
defined_on(int i, const char *name)
{
    char *out = NULL;
    bool there;

    ck_assert_int_eq(tl_virsh(h[i].uri, &out, "list --all --name"), 0);
    there = strstr(out, name) != NULL;
    free(out);
    return there;
}

static void
new_uuid(char uuid[40])
{
    FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

    ck_assert(f && fgets(uuid, 40, f));
    fclose(f);
    uuid[strcspn(uuid, "\n")] = '\0';
}

/* Define and start on host i a domain of 128 MiB with the given disks (vda first). */
static void
domain_start(int i, const char *uuid, const char *name, const sov_domain_disk *disks,
             size_t ndisks, const char *console)
{
    sov_error err = SOV_ERROR_INIT;
    sov_domain_spec s = { 0 };
    char *xml = NULL;

    s.uuid = uuid;
    s.name = name;
    s.virt_type = tl_env("SOV_TEST_VIRT_TYPE");
    s.vcpus = 1;
    s.memory_mib = 128;
    s.console_log = console;
    for (size_t k = 0; k < ndisks; k++)
        ck_assert(sov_domain_spec_add_disk(&s, &disks[k], &err) == 0);
    ck_assert(sov_domain_xml(&s, &xml, &err) == 0);
    sov_domain_spec_release(&s);
    ck_assert_msg(sov_hv_define(h[i].hv, xml, &err) == 0, "%s (%s)", err.msg, err.detail);
    free(xml);
    ck_assert_msg(sov_hv_start(h[i].hv, uuid, &err) == 0, "%s (%s)", err.msg, err.detail);
}

/* qemu-io on an encrypted volume's file, opened with the passphrase (the key's hex, as the
 * driver gives it to libvirt); shared: beside a running guest. 0 when the command reads or
 * writes what it asks. */
static int
qemu_io_luks(const char *path, const char *hexkey, const char *cmd, bool shared)
{
    return tl_sh("qemu-io %s --object secret,id=k,data=%s --image-opts "
                 "driver=qcow2,file.filename=%s,encrypt.key-secret=k -c '%s' | "
                 "grep -qE '^(read|wrote) '", shared ? "-r -U" : "", hexkey, path, cmd);
}

typedef struct seen {
    int calls, with_data;
    sov_hv_job last;
    const char *uri, *uuid;     /* where to ask the running job's maximum downtime */
    long long max_downtime_ms;  /* as virsh read it during the job; -1: not read */
} seen;

/* On the watcher's thread: no test assertions here (popen, not tl_sh_out). */
static void
on_progress(void *arg, const sov_hv_job *job)
{
    seen *s = arg;

    s->calls++;
    if (job->data_total > 0)
        s->with_data++;
    s->last = *job;
    if (s->uri && s->max_downtime_ms < 0 && job->percent < 100) {
        char cmd[512], line[64] = "";
        FILE *p;

        snprintf(cmd, sizeof(cmd), "virsh -q -c '%s' migrate-getmaxdowntime %s 2>/dev/null",
                 s->uri, s->uuid);
        p = popen(cmd, "r");
        if (p) {
            if (fgets(line, sizeof(line), p))
                s->max_downtime_ms = strtoll(line, NULL, 10);
            pclose(p);
        }
    }
}

/* ---- live migration ---- */

START_TEST(a_running_guest_moves_live_with_its_disks_and_an_aborted_move_leaves_it)
{
    sov_error err = SOV_ERROR_INIT;
    char uuid[40], name[80], console[256], file[512], seed[700], data_a[600], data_b[600];
    char log_a[600], log_b[600], luks_a[600], luks_b[600], secret[40], luks_usage[300];
    char hexkey[65];
    const unsigned char key[32] = { 0x5e, 0xc7, 0x37, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    char *image, *up, *out = NULL;
    seen s = { .max_downtime_ms = -1 };
    sov_hv_job job;
    sov_hv_domain *list = NULL;
    size_t n = 0;
    double t0, secs;
    int b = 0;
    FILE *f;

    fleet_up();
    image = tl_guest_image();
    new_uuid(uuid);
    snprintf(name, sizeof(name), "sovtest-hm-%d-%.8s", (int) getpid(), uuid);
    snprintf(console, sizeof(console), "%s/%s.log", pool_path, name);
    new_uuid(secret);
    snprintf(luks_usage, sizeof(luks_usage), "%s/sov-hm-luks", pool_path);
    for (size_t k = 0; k < sizeof(key); k++)
        snprintf(hexkey + 2 * k, 3, "%02x", key[k]);
    for (int i = 0; i < HOSTS; i++) {
        upload(i, IMAGE, "qcow2", image);
        overlay(i, "sov-hm-disk");
        /* The read-only disk: there already on each host, its bytes each host's own. */
        snprintf(seed, sizeof(seed), "%s/seed-%d", tmp, i);
        file_of(seed, 1 << 20, i == 0 ? 0x11 : 0x22);
        upload(i, "sov-hm-seed", "raw", seed);
        ck_assert_int_eq(sov_hv_volume_create(h[i].hv, pool, "sov-hm-data", 1, NULL, &err), 0);
        /* An encrypted volume, its secret on each host (storage/'s volumes). */
        ck_assert_msg(sov_hv_secret_define(h[i].hv, secret, luks_usage, key, sizeof(key),
                                           &err) == 0, "secret: %s (%s)", err.msg, err.detail);
        ck_assert_msg(sov_hv_volume_create(h[i].hv, pool, "sov-hm-luks", 1, secret, &err) == 0,
                      "create: %s (%s)", err.msg, err.detail);
    }
    host_file(0, "sov-hm-data", data_a, sizeof(data_a));
    host_file(1, "sov-hm-data", data_b, sizeof(data_b));
    host_file(0, "sov-hm-luks", luks_a, sizeof(luks_a));
    host_file(1, "sov-hm-luks", luks_b, sizeof(luks_b));
    ck_assert_int_eq(tl_sh("qemu-io -f qcow2 -c 'write -P 0x5a 0 4M' '%s' >/dev/null", data_a),
                     0);
    ck_assert_int_eq(qemu_io_luks(luks_a, hexkey, "write -P 0x6b 1M 2M", false), 0);
    domain_start(0, uuid, name, (sov_domain_disk[]) {
        { .pool = pool, .volume = "sov-hm-disk", .format = "qcow2", .dev = "vda" },
        { .pool = pool, .volume = "sov-hm-seed", .format = "raw", .dev = "vdb",
          .readonly = true },
        { .pool = pool, .volume = "sov-hm-data", .format = "qcow2", .dev = "vdc" },
        { .pool = pool, .volume = "sov-hm-luks", .format = "qcow2", .dev = "vdd",
          .secret_uuid = secret },
    }, 4, console);
    host_file(0, strrchr(console, '/') + 1, log_a, sizeof(log_a));
    host_file(1, strrchr(console, '/') + 1, log_b, sizeof(log_b));
    up = tl_console_expect(tl_console_file_read, log_a, TL_GUEST_UP, 120);
    free(up);

    /* Live, with the writable disks copied, to host 2's address. */
    sov_hv_migrate_args args = { .dest_uri = h[1].uri, .address = h[1].addr,
                                 .copy_storage = true, .auto_converge = true,
                                 .timeout_s = 300, .max_downtime_ms = 300,
                                 .progress = on_progress, .arg = &s };
    s.uri = h[0].uri;
    s.uuid = uuid;
    t0 = tl_now();
    ck_assert_msg(sov_hv_migrate(h[0].hv, h[1].hv, uuid, &args, &job, &err) == 0,
                  "migrate: %s (%s)", err.msg, err.detail);
    secs = tl_now() - t0;
    fprintf(stderr, "hv-migrate: live migration of a 128 MiB TCG guest with storage copy "
            "took %.2f s, downtime %lld ms, %lld bytes (%lld of disks), %d progress calls "
            "(%d with data), max downtime read during the job %lld ms\n", secs, job.downtime_ms,
            job.data_total, job.disk_total, s.calls, s.with_data, s.max_downtime_ms);
    ck_assert_int_ge(s.with_data, 1);
    /* Set on the running job (seen when a look came while it ran). */
    if (s.calls > 1)
        ck_assert_int_eq(s.max_downtime_ms, 300);
    ck_assert_int_gt(s.last.data_total, 0);
    ck_assert_int_ge(job.downtime_ms, 0);
    ck_assert_int_gt(job.data_total, 0);
    ck_assert_int_eq(job.percent, 100);
    ck_assert_int_eq(state_on(1, uuid), SOV_DOMAIN_RUNNING);
    ck_assert_int_eq(state_on(0, uuid), SOV_DOMAIN_NONE);
    ck_assert_int_eq(sov_hv_list(h[0].hv, "sovtest-hm-", &list, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    free(list);
    ck_assert_int_eq(sov_hv_list(h[1].hv, "sovtest-hm-", &list, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].uuid, uuid);
    free(list);
    ck_assert_msg(!defined_on(0, name), "%s still defined on the source", name);
    /* The target keeps the definition as the source had it: disks of the pool. */
    ck_assert_int_eq(tl_virsh(h[1].uri, &out, "dumpxml --inactive %s", uuid), 0);
    tl_assert_contains(out, "<source pool='sov-hm");
    ck_assert_msg(!strstr(out, "<disk type='file'"), "file disks on the target: %s", out);
    free(out);

    /* The data disk's bytes came along; the read-only disk was not copied. */
    ck_assert_msg(tl_sh("qemu-io -r -U -f qcow2 -c 'read -P 0x5a 0 4M' '%s' | "
                        "grep -q 'read 4194304'", data_b) == 0,
                  "the data disk's pattern is not on the target");
    ck_assert_msg(qemu_io_luks(luks_b, hexkey, "read -P 0x6b 1M 2M", true) == 0,
                  "the encrypted disk's pattern is not on the target");
    host_file(1, "sov-hm-seed", file, sizeof(file));
    f = fopen(file, "rb");
    ck_assert_msg(f, "%s: %s", file, strerror(errno));
    b = fgetc(f);
    fclose(f);
    ck_assert_int_eq(b, 0x22);

    /* The guest runs on host 2 from its moved disk: reset, it boots there again. */
    ck_assert_int_eq(sov_hv_reboot(h[1].hv, uuid, &err), 0);
    up = tl_console_expect(tl_console_file_read, log_b, TL_GUEST_UP, 120);
    free(up);

    /* Capped at 1 MiB/s with a 2 s timeout: aborted, the guest stays on host 2. */
    ck_assert_int_eq(tl_virsh(h[1].uri, NULL, "migrate-setspeed %s 1", uuid), 0);
    sov_hv_migrate_args slow = { .dest_uri = h[0].uri, .address = h[0].addr,
                                 .copy_storage = true, .timeout_s = 2 };
    t0 = tl_now();
    ck_assert_int_eq(sov_hv_migrate(h[1].hv, h[0].hv, uuid, &slow, &job, &err), -1);
    secs = tl_now() - t0;
    fprintf(stderr, "hv-migrate: the capped migration was aborted after %.2f s: %s (%s)\n",
            secs, err.msg, err.detail);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    tl_assert_contains(err.msg, "migration aborted after 2 s");
    ck_assert_msg(secs < 60, "the abort took %.1f s", secs);
    ck_assert_int_eq(state_on(1, uuid), SOV_DOMAIN_RUNNING);
    ck_assert_int_eq(state_on(0, uuid), SOV_DOMAIN_NONE);
    ck_assert_msg(!defined_on(0, name), "%s defined on the target after the abort", name);

    /* A target nobody answers at (an unused address of the fleet's /24): a host away. */
    {
        char away[64], away_uri[128];
        char *dot;

        snprintf(away, sizeof(away), "%s", h[0].addr);
        dot = strrchr(away, '.');
        ck_assert_ptr_nonnull(dot);
        snprintf(dot + 1, sizeof(away) - (size_t) (dot + 1 - away), "%s", "99");
        snprintf(away_uri, sizeof(away_uri), "qemu+tcp://%s/system", away);
        sov_hv_migrate_args gone = { .dest_uri = away_uri, .address = away,
                                     .copy_storage = true, .timeout_s = 60 };
        sov_error_clear(&err);
        ck_assert_int_eq(tl_virsh(h[1].uri, NULL, "migrate-setspeed %s 8796093022207", uuid),
                         0);
        ck_assert_int_eq(sov_hv_migrate(h[1].hv, h[0].hv, uuid, &gone, &job, &err), -1);
        fprintf(stderr, "hv-migrate: to an address nobody answers at: %s (%s)\n", err.msg,
                err.detail);
        ck_assert_int_eq(err.code, SOV_E_UNAVAILABLE);
        ck_assert_int_eq(state_on(1, uuid), SOV_DOMAIN_RUNNING);
    }
    tl_guest_image_remove(image);
    free(image);
}
END_TEST

/* ---- volume_send ---- */

START_TEST(a_volume_sent_reads_back_the_same_on_the_target)
{
    sov_error err = SOV_ERROR_INIT;
    char raw[600], a[600], b[600], uuid[40], name[80], cmd[800], *want, *got, *out;
    char *image;
    long long cap_a = -1, cap_b = -1, alloc = -1;
    double t0;
    int rc;

    fleet_up();
    /* 16 MiB of random bytes, a 64 MiB hole, 1 MiB more. */
    snprintf(raw, sizeof(raw), "%s/raw", tmp);
    ck_assert_int_eq(tl_sh("head -c 16M /dev/urandom > '%s' && truncate -s 80M '%s' && "
                           "head -c 1M /dev/urandom >> '%s'", raw, raw, raw), 0);
    upload(0, "sov-hm-raw", "raw", raw);
    host_file(0, "sov-hm-raw", a, sizeof(a));
    host_file(1, "sov-hm-raw", b, sizeof(b));
    /* The upload wrote the zeros: the source's hole is dug again. */
    ck_assert_int_eq(tl_sh("fallocate --dig-holes '%s' && test \"$(du -k '%s' | cut -f1)\" "
                           "-lt 40000", a, a), 0);
    want = sha256_of(raw);
    got = sha256_of(a);
    ck_assert_str_eq(got, want);
    free(got);
    t0 = tl_now();
    ck_assert_msg(sov_hv_volume_send(h[0].hv, pool, "sov-hm-raw", h[1].hv, &err) == 0,
                  "send: %s (%s)", err.msg, err.detail);
    fprintf(stderr, "hv-migrate: volume_send of a raw volume of 81 MiB (17 MiB of data, a "
            "64 MiB hole) took %.2f s\n", tl_now() - t0);
    ck_assert_msg(tl_sh("test \"$(du -k '%s' | cut -f1)\" -lt 40000", b) == 0,
                  "the hole was not kept on the target");
    got = sha256_of(b);
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
    ck_assert_int_eq(sov_hv_volume_info(h[1].hv, pool, "sov-hm-raw", &cap_b, &alloc, &err), 0);
    ck_assert_int_eq(cap_b, 81 << 20);

    /* A qcow2 overlay: its header names the backing file, which the target has too. */
    image = tl_guest_image();
    for (int i = 0; i < HOSTS; i++)
        upload(i, IMAGE, "qcow2", image);
    overlay(0, "sov-hm-ovl");
    host_file(0, "sov-hm-ovl", a, sizeof(a));
    host_file(1, "sov-hm-ovl", b, sizeof(b));
    /* qemu-io in host 1's mount namespace, where the backing file's path leads. */
    snprintf(cmd, sizeof(cmd), "qemu-io -f qcow2 -c 'write -P 0x33 1M 2M' '%s/sov-hm-ovl' "
             ">/dev/null", pool_path);
    ck_assert_int_eq(in_host(0, cmd), 0);
    ck_assert_msg(sov_hv_volume_send(h[0].hv, pool, "sov-hm-ovl", h[1].hv, &err) == 0,
                  "send: %s (%s)", err.msg, err.detail);
    want = sha256_of(a);
    got = sha256_of(b);
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
    ck_assert_int_eq(sov_hv_volume_info(h[0].hv, pool, "sov-hm-ovl", &cap_a, &alloc, &err), 0);
    ck_assert_int_eq(sov_hv_volume_info(h[1].hv, pool, "sov-hm-ovl", &cap_b, &alloc, &err), 0);
    ck_assert_int_eq(cap_b, cap_a);
    ck_assert_int_eq(cap_b, GIB);
    ck_assert_int_eq(tl_virsh(h[1].uri, &out, "vol-dumpxml --pool %s sov-hm-ovl", pool), 0);
    tl_assert_contains(out, "<format type='qcow2'/>");
    tl_assert_contains(out, "/sov-image-hm</path>");
    free(out);

    /* Sent again after a change: the target's copy is replaced. */
    snprintf(cmd, sizeof(cmd), "qemu-io -f qcow2 -c 'write -P 0x44 8M 1M' '%s/sov-hm-ovl' "
             ">/dev/null", pool_path);
    ck_assert_int_eq(in_host(0, cmd), 0);
    ck_assert_int_eq(sov_hv_volume_send(h[0].hv, pool, "sov-hm-ovl", h[1].hv, &err), 0);
    want = sha256_of(a);
    got = sha256_of(b);
    ck_assert_str_eq(got, want);
    free(got);

    /* An encrypted volume: its LUKS header goes as it is; the target reads its size. */
    {
        char secret[40], usage[700];
        const unsigned char key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

        new_uuid(secret);
        snprintf(usage, sizeof(usage), "%s/sov-hm-luks", pool_path);
        ck_assert_msg(sov_hv_secret_define(h[0].hv, secret, usage, key, sizeof(key), &err) == 0,
                      "secret: %s (%s)", err.msg, err.detail);
        ck_assert_msg(sov_hv_volume_create(h[0].hv, pool, "sov-hm-luks", 1, secret, &err) == 0,
                      "create: %s (%s)", err.msg, err.detail);
        ck_assert_msg(sov_hv_volume_send(h[0].hv, pool, "sov-hm-luks", h[1].hv, &err) == 0,
                      "send: %s (%s)", err.msg, err.detail);
        char fa[600], fb[600], *wa, *ga;

        host_file(0, "sov-hm-luks", fa, sizeof(fa));
        host_file(1, "sov-hm-luks", fb, sizeof(fb));
        wa = sha256_of(fa);
        ga = sha256_of(fb);
        ck_assert_str_eq(ga, wa);
        free(ga);
        free(wa);
        ck_assert_int_eq(sov_hv_volume_info(h[1].hv, pool, "sov-hm-luks", &cap_b, &alloc, &err),
                         0);
        ck_assert_int_eq(cap_b, GIB);
        ck_assert_int_eq(tl_virsh(h[1].uri, &out, "vol-dumpxml --pool %s sov-hm-luks", pool),
                         0);
        tl_assert_contains(out, "<encryption format='luks'");
        free(out);
    }

    /* Two hosts with one folder as their pool: the target's volume is the source's file,
     * which a send would delete. Refused, the file as it was. */
    {
        char shared[600], sfile[700], *before, *after;

        snprintf(shared, sizeof(shared), "%s/shared", tmp);
        tl_assert_traversable(tmp);
        for (int i = 0; i < HOSTS; i++) {
            sov_hv_node node;
            ck_assert_msg(sov_hv_discover(h[i].hv, "sov-hm-shared", shared, &node, &err) == 0,
                          "discover: %s (%s)", err.msg, err.detail);
        }
        ck_assert_msg(sov_hv_volume_upload(h[0].hv, "sov-hm-shared", "sov-hm-one", "raw", raw,
                                           &err) == 0, "upload: %s (%s)", err.msg, err.detail);
        snprintf(sfile, sizeof(sfile), "%s/sov-hm-one", shared);
        before = sha256_of(sfile);
        ck_assert_int_eq(sov_hv_volume_send(h[0].hv, "sov-hm-shared", "sov-hm-one", h[1].hv,
                                            &err), -1);
        ck_assert_int_eq(err.code, SOV_E_CONFLICT);
        tl_assert_contains(err.msg, "own folder");
        after = sha256_of(sfile);
        ck_assert_str_eq(after, before);
        free(before);
        free(after);
    }

    /* A volume a running domain writes is not sent; the target's copy stays. */
    new_uuid(uuid);
    snprintf(name, sizeof(name), "sovtest-hm-%d-%.8s", (int) getpid(), uuid);
    domain_start(0, uuid, name, (sov_domain_disk[]) {
        { .pool = pool, .volume = "sov-hm-ovl", .format = "qcow2", .dev = "vda" },
        { .pool = pool, .volume = "sov-hm-raw", .format = "raw", .dev = "vdb",
          .readonly = true },
    }, 2, NULL);
    rc = sov_hv_volume_send(h[0].hv, pool, "sov-hm-ovl", h[1].hv, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(err.code, SOV_E_CONFLICT);
    tl_assert_contains(err.msg, "in use");
    tl_assert_contains(err.msg, name);
    got = sha256_of(b);
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
    /* Its read-only disk is only read: it may be sent. */
    sov_error_clear(&err);
    ck_assert_msg(sov_hv_volume_send(h[0].hv, pool, "sov-hm-raw", h[1].hv, &err) == 0,
                  "send of a read-only disk: %s (%s)", err.msg, err.detail);
    ck_assert_int_eq(sov_hv_undefine(h[0].hv, uuid, &err), 0);
    tl_guest_image_remove(image);
    free(image);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/hv-migrate");
    TCase *tc = tcase_create("hv-migrate");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 540);
    tcase_add_test(tc, a_running_guest_moves_live_with_its_disks_and_an_aborted_move_leaves_it);
    tcase_add_test(tc, a_volume_sent_reads_back_the_same_on_the_target);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
