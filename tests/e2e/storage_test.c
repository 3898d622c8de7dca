/* Block storage end to end, on the machine's own libvirtd (qemu:///system) with real guests:
 * volumes made, attached, detached, extended, snapshotted and restored through the API, and
 * what the guest sees read from its serial console.
 *
 * Every guest runs the same user-data script (GUEST_SCRIPT): it watches its virtio disks
 * that have a serial (the volumes: sovd sets a volume's serial to its id, the guest sees the
 * first 20 characters) and prints, for each one as it appears, "DISK <serial> <first bytes
 * as text, or 'empty'>" and "SIZE <serial> <512-byte sectors>", and "SIZE ..." again when it
 * grows. Told so, it writes a marker on a blank volume, or overwrites SOV-MARK-1 with
 * SOV-MARK-2 on one volume, and prints "WROTE <serial> <what it reads back>" after a sync
 * and with the page cache dropped, so the bytes come back from the device.
 *
 * One test bed serves the cases (an unchecked fixture, made once in the runner's process):
 * one sovd, the local libvirtd as its one host, the guest image, a flavor, a plain and an
 * encrypted volume type. At most two guests run at a time.
 *
 *  - volumes: guest A writes SOV-MARK-1 on volume V (attached at create); a live snapshot S
 *    of V; V detached and A deleted; guest B, created with V, reads SOV-MARK-1 and writes
 *    SOV-MARK-2 over it; V extended online: B sees the new size; S restored into a new
 *    volume R and R hot-attached to B: B reads SOV-MARK-1 from R. V cannot be deleted
 *    while S exists (409 naming it).
 *  - encrypted: guest C writes a marker on encrypted volume E (attached at create) and reads
 *    it back; a live snapshot of E restored into a new encrypted volume and hot-attached
 *    holds it too; after the detaches, the marker is absent from the qcow2 files of E, its
 *    snapshot and the restored volume on the host (and present in a plain volume's file, so
 *    the search itself is shown to work); after DELETE /v1/tenants/{id}/kek, attaching E
 *    or the restored volume is refused with a 409 naming the reason.
 *  - boot from a volume: an instance created with boot {image, size_gib, type} runs from the
 *    new volume (the domain's vda is that volume of the pool, the instance has no overlay of
 *    its own, the guest sees the volume's serial on vda and writes a file into the FAT file
 *    system there); the volume is listed in-use, attached at vda as the boot disk; the
 *    instance's delete deletes it (state deleted, file gone, a "deleted" residency record).
 *    Then an instance created with boot_volume, an existing volume made from the image, runs
 *    from it and writes into it; after the instance's delete the volume is available again,
 *    and its file holds what the guest wrote.
 *
 * Every libvirt object has a name of this run and is removed when the runner exits. */
#include <errno.h>
#include <fcntl.h>
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

#define URI "qemu:///system"
#define REGION "fr-e2e-2"
#define OP_WAIT_S 180           /* an operation on a real host, TCG on a busy machine */
#define CONSOLE_WAIT_S 150      /* a line on a guest's console */
#define SERIAL_LEN 20           /* what virtio-blk shows of a serial */

static tl_bed bed;              /* sovd, the operator's token, tenant acme, pool, network */
static char pool_path[600];

/* The guest's user-data: BLANK is written on a blank volume ("" none), OVER is the serial
 * whose SOV-MARK-1 becomes SOV-MARK-2 ("" none). */
static const char GUEST_SCRIPT[] =
    "#!/bin/sh\n"
    "BLANK='%s'\n"
    "OVER='%s'\n"
    "mark() { dd if=/dev/$1 bs=512 count=1 2>/dev/null | tr -dc 'A-Za-z0-9-' | head -c 40; }\n"
    "put() {\n"
    "    printf '%%s' \"$2\" | dd of=/dev/$1 bs=512 count=1 conv=sync 2>/dev/null\n"
    "    sync; blockdev --flushbufs /dev/$1; echo 3 > /proc/sys/vm/drop_caches\n"
    "}\n"
    "mkdir -p /run/seen\n"
    "while :; do\n"
    "    for d in /sys/block/vd*; do\n"
    "        n=${d##*/}\n"
    "        s=$(cat $d/serial 2>/dev/null) || continue\n"
    "        [ -n \"$s\" ] || continue\n"
    "        z=$(cat $d/size)\n"
    "        if [ ! -f /run/seen/$n ]; then\n"
    "            m=$(mark $n)\n"
    "            echo \"DISK $s ${m:-empty}\"\n"
    "            if [ -z \"$m\" ] && [ -n \"$BLANK\" ]; then\n"
    "                put $n \"$BLANK\"; echo \"WROTE $s $(mark $n)\"\n"
    "            fi\n"
    "            if [ \"$s\" = \"$OVER\" ] && [ \"$m\" = SOV-MARK-1 ]; then\n"
    "                put $n SOV-MARK-2; echo \"WROTE $s $(mark $n)\"\n"
    "            fi\n"
    "            echo \"SIZE $s $z\"; echo \"$z\" > /run/seen/$n\n"
    "        elif [ \"$(cat /run/seen/$n)\" != \"$z\" ]; then\n"
    "            echo \"SIZE $s $z\"; echo \"$z\" > /run/seen/$n\n"
    "        fi\n"
    "    done\n"
    "    for f in /run/seen/*; do\n"
    "        [ -e \"$f\" ] && [ ! -e \"/sys/block/${f##*/}\" ] && rm -f \"$f\"\n"
    "    done\n"
    "    sleep 0.5\n"
    "done\n";

/* ---- the bed ---- */

static void
bed_up(void)
{
    const char *extra[] = { "--stop-timeout=10", NULL };
    json_t *h;

    tl_bed_init(&bed, URI, "sovs");
    /* Secrets of this run's volumes are undefined by sovd; any left (a failed run) go too. */

    snprintf(pool_path, sizeof(pool_path), "%s/pool", bed.tmp);
    /* The default host check (every 10 s, a probe may take 10 s): with 2 s, a probe that
     * meets libvirtd busy formatting a LUKS volume (qemu-img's key derivation takes about
     * 2 s) marks the host down for a pass, and the next create finds no host. */
    tl_bed_start(&bed, REGION, extra);
    h = tl_host_add(&bed.sovd, bed.op, "{\"name\":\"local\",\"region\":\"" REGION "\","
                                       "\"zone\":\"a\",\"libvirt_uri\":\"" URI "\"}");
    ck_assert_str_eq(tl_str(h, "state"), "up");
    json_decref(h);
    json_decref(tl_call_ok(&bed.sovd, "POST", "/v1/flavors", bed.op,
                           "{\"name\":\"e2e-tiny\",\"vcpus\":1,\"memory_mib\":256,"
                           "\"disk_gib\":1}", 201));
    json_decref(tl_call_ok(&bed.sovd, "POST", "/v1/volume-types", bed.op,
                           "{\"name\":\"plain\",\"backend\":\"libvirt-dir\"}", 201));
    json_decref(tl_call_ok(&bed.sovd, "POST", "/v1/volume-types", bed.op,
                           "{\"name\":\"enc\",\"backend\":\"libvirt-dir\",\"encrypted\":true}",
                           201));

    tl_bed_image_import(&bed, REGION, "guest", OP_WAIT_S);
}

static void
bed_down(void)
{
    tl_bed_release(&bed);
}

/* ---- the API ---- */

/* The bed's host is up at the start of each case; else the host and sovd's log say why. */
static void
assert_host_up(void)
{
    json_t *list = tl_call_ok(&bed.sovd, "GET", "/v1/hosts", bed.op, NULL, 200);
    json_t *h = json_array_get(json_object_get(list, "items"), 0);

    if (!h || strcmp(tl_str(h, "state"), "up") != 0) {
        char *log = tl_sovd_log(&bed.sovd);
        size_t n = log ? strlen(log) : 0;
        fprintf(stderr, "sovd's log ends:\n%s\n", log ? log + (n > 6000 ? n - 6000 : 0) : "");
        ck_abort_msg("the host is not up: %.1500s", json_dumps(list, 0));
    }
    json_decref(list);
}

/* A 202's operation, followed to success; the answer's member (a resource) id in id. */
static void
accepted(json_t *j, const char *member, char id[40])
{
    const json_t *res = member ? json_object_get(j, member) : NULL;

    if (id)
        snprintf(id, 40, "%s", tl_str(res ? res : j, "id"));
    tl_op_wait_ok(&bed.sovd, bed.tenant.token[TL_READER],
                  tl_str(json_object_get(j, "operation"), "id"), OP_WAIT_S);
    json_decref(j);
}

static json_t *
volume_get(const char *id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/volumes/%s", id);
    return tl_call_ok(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, 200);
}

static void
assert_volume_state(const char *id, const char *want)
{
    json_t *v = volume_get(id);

    ck_assert_msg(strcmp(tl_str(v, "state"), want) == 0, "volume %s is %s, not %s: %s", id,
                  tl_str(v, "state"), want, json_dumps(v, 0));
    json_decref(v);
}

/* POST /v1/volumes {body}; waits until it is made; its id. */
static void
volume_create(const char *body, char id[40])
{
    tl_resp r;

    tl_call(&bed.sovd, "POST", "/v1/volumes", bed.tenant.token[TL_MEMBER], body, &r);
    if (r.status != 202) {
        json_t *hosts = tl_call_ok(&bed.sovd, "GET", "/v1/hosts", bed.op, NULL, 200);
        char *log = tl_sovd_log(&bed.sovd);
        size_t n = log ? strlen(log) : 0;
        /* Check carries a short message only: the rest goes to stderr. */
        fprintf(stderr, "hosts: %s\nsovd's log ends:\n%s\n", json_dumps(hosts, 0),
                log ? log + (n > 8000 ? n - 8000 : 0) : "");
        ck_abort_msg("POST /v1/volumes %s: %ld %.600s", body, r.status, r.body);
    }
    accepted(json_loads(r.body, 0, NULL), "volume", id);
    tl_resp_free(&r);
    assert_volume_state(id, "available");
}

/* POST /v1/volumes/{id}/actions {body}, waited for; the state it must end in. */
static void
volume_act(const char *id, const char *body, const char *want)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", id);
    accepted(tl_call_ok(&bed.sovd, "POST", path, bed.tenant.token[TL_MEMBER], body, 202), NULL,
             NULL);
    assert_volume_state(id, want);
}

/* An instance of the guest image running GUEST_SCRIPT(blank, over) with volumes (a JSON
 * array text, may be "[]"); waits until it runs. Its domain goes at exit whatever happens. */
static void
instance_create(const char *name, const char *blank, const char *over, const char *volumes,
                char id[40])
{
    char script[sizeof(GUEST_SCRIPT) + 128], cmd[512];
    json_t *body, *j;
    char *text;

    snprintf(script, sizeof(script), GUEST_SCRIPT, blank, over);
    body = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", name, "flavor", "e2e-tiny", "image",
                     "guest", "user_data", script, "volumes", json_loads(volumes, 0, NULL));
    ck_assert(body);
    text = json_dumps(body, 0);
    j = tl_call_ok(&bed.sovd, "POST", "/v1/instances", bed.tenant.token[TL_MEMBER], text, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(cmd, sizeof(cmd), "virsh -q -c " URI " destroy 'sov-%s';"
             " virsh -q -c " URI " undefine 'sov-%s'", id, id);
    tl_sh_at_exit("%s", cmd);
    accepted(j, NULL, NULL);
    free(text);
    json_decref(body);
}

static void
instance_delete(const char *id)
{
    char path[128];

    snprintf(path, sizeof(path), "/v1/instances/%s", id);
    accepted(tl_call_ok(&bed.sovd, "DELETE", path, bed.tenant.token[TL_MEMBER], NULL, 202), NULL,
             NULL);
}

/* ---- the guest's console ---- */

static char *
console_read(void *arg)
{
    char path[128];
    char *text = NULL;
    tl_resp r;

    snprintf(path, sizeof(path), "/v1/instances/%s/console", (const char *) arg);
    tl_call(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, &r);
    if (r.status == 200 && r.body)
        text = strdup(r.body);
    tl_resp_free(&r);
    return text;
}

/* Wait for a console line "WHAT <serial of volume> ..." of instance inst; the rest of it. */
static char *
expect_line(const char *inst, const char *what, const char *volume_id)
{
    char marker[64];

    snprintf(marker, sizeof(marker), "%s %.*s ", what, SERIAL_LEN, volume_id);
    return tl_console_expect(console_read, (void *) inst, marker, CONSOLE_WAIT_S);
}

static void
expect_text(const char *inst, const char *what, const char *volume_id, const char *want)
{
    char *got = expect_line(inst, what, volume_id);

    ck_assert_msg(strcmp(got, want) == 0, "%s of %s in the guest: '%s', not '%s'", what,
                  volume_id, got, want);
    free(got);
}

/* Does the file hold needle anywhere? */
static bool
file_holds(const char *path, const char *needle)
{
    char *data;
    size_t len = 0, n = strlen(needle);
    bool found = false;
    FILE *f = fopen(path, "rb");

    ck_assert_msg(f, "cannot open %s: %s", path, strerror(errno));
    data = malloc(1 << 20);
    ck_assert(data);
    /* Blocks of 1 MiB with an overlap of n - 1 bytes, so no match is cut in two. */
    for (;;) {
        size_t got = fread(data + len, 1, (1 << 20) - len, f);
        if (got == 0)
            break;
        len += got;
        if (memmem(data, len, needle, n)) {
            found = true;
            break;
        }
        if (len >= n - 1) {
            memmove(data, data + len - (n - 1), n - 1);
            len = n - 1;
        }
    }
    fclose(f);
    free(data);
    return found;
}

static void
volume_file(const char *id, char *path, size_t size)
{
    snprintf(path, size, "%s/sov-vol-%s", pool_path, id);
    ck_assert_msg(access(path, R_OK) == 0, "volume %s has no file %s", id, path);
}

/* ---- the cases ---- */

START_TEST(a_volume_moves_between_guests_grows_online_and_is_restored_from_a_snapshot)
{
    char vol[40], snap[40], restored[40], a[40], b[40], list[64], body[256], path[128],
        serial[SERIAL_LEN + 1];
    double t0 = tl_now(), t_write, t_read, t_extend, t_restore;
    json_t *j;

    assert_host_up();

    volume_create("{\"name\":\"data-1\",\"size_gib\":1,\"type\":\"plain\"}", vol);

    /* Guest A writes SOV-MARK-1 on the blank volume it was created with. */
    snprintf(list, sizeof(list), "[\"%s\"]", vol);
    instance_create("vm-a", "SOV-MARK-1", "", list, a);
    j = volume_get(vol);
    ck_assert_str_eq(tl_str(j, "state"), "in-use");
    json_decref(j);
    expect_text(a, "DISK", vol, "empty");
    expect_text(a, "WROTE", vol, "SOV-MARK-1");
    t_write = tl_now() - t0;

    /* A live snapshot: taken while A has it attached. */
    snprintf(body, sizeof(body), "{\"name\":\"snap-1\",\"volume\":\"%s\"}", vol);
    accepted(tl_call_ok(&bed.sovd, "POST", "/v1/snapshots", bed.tenant.token[TL_MEMBER], body,
                        202), "snapshot", snap);
    snprintf(path, sizeof(path), "/v1/snapshots/%s", snap);
    j = tl_call_ok(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(j, "state"), "available");
    json_decref(j);

    /* Detached from A (the guest lets it go), then A goes: two guests at most. */
    snprintf(body, sizeof(body), "{\"action\":\"detach\",\"instance\":\"%s\"}", a);
    volume_act(vol, body, "available");
    instance_delete(a);

    /* Guest B, created with it, reads A's marker, then writes something else over it. */
    t0 = tl_now();
    snprintf(serial, sizeof(serial), "%.*s", SERIAL_LEN, vol);
    instance_create("vm-b", "", serial, list, b);
    expect_text(b, "DISK", vol, "SOV-MARK-1");
    t_read = tl_now() - t0;
    expect_text(b, "WROTE", vol, "SOV-MARK-2");
    expect_text(b, "SIZE", vol, "2097152");

    /* Extend online: the guest sees the new size without a reboot. */
    t0 = tl_now();
    volume_act(vol, "{\"action\":\"extend\",\"size_gib\":2}", "in-use");
    {
        char marker[64], *got;
        snprintf(marker, sizeof(marker), "SIZE %.*s 4194304", SERIAL_LEN, vol);
        got = tl_console_expect(console_read, b, marker, CONSOLE_WAIT_S);
        free(got);
    }
    t_extend = tl_now() - t0;
    j = volume_get(vol);
    ck_assert_int_eq(tl_num(j, "size_gib"), 2);
    json_decref(j);

    /* Restore: a new volume from the snapshot, hot-attached to B, holds A's marker, not the
     * one B wrote after the snapshot. */
    t0 = tl_now();
    snprintf(body, sizeof(body), "{\"name\":\"restored-1\",\"type\":\"plain\","
             "\"source\":{\"type\":\"snapshot\",\"id\":\"%s\"}}", snap);
    volume_create(body, restored);
    snprintf(body, sizeof(body), "{\"action\":\"attach\",\"instance\":\"%s\"}", b);
    volume_act(restored, body, "in-use");
    expect_text(b, "DISK", restored, "SOV-MARK-1");
    t_restore = tl_now() - t0;

    /* Detach both, delete B; the volume with a snapshot cannot go before the snapshot. */
    snprintf(body, sizeof(body), "{\"action\":\"detach\",\"instance\":\"%s\"}", b);
    volume_act(restored, body, "available");
    volume_act(vol, body, "available");
    instance_delete(b);
    {
        tl_resp r;
        snprintf(path, sizeof(path), "/v1/volumes/%s", vol);
        tl_call(&bed.sovd, "DELETE", path, bed.tenant.token[TL_MEMBER], NULL, &r);
        tl_assert_problem(&r, 409, "/problems/conflict");
        ck_assert_msg(strstr(r.body, "snap-1") || strstr(r.body, snap),
                      "the refusal does not name the snapshot: %s", r.body);
        tl_resp_free(&r);
    }

    printf("volumes: guest A wrote its marker %.1f s after the volume create; guest B read "
           "it %.1f s after its create; online extend seen in the guest after %.1f s; "
           "restore + hot attach read back after %.1f s\n", t_write, t_read, t_extend,
           t_restore);
    fflush(stdout);
}
END_TEST

START_TEST(an_encrypted_volume_reads_in_the_guest_only_and_is_shredded_with_its_kek)
{
    static const char secret[] = "SOV-SECRET-E2E-7f3a";
    char enc[40], plain[40], c[40], snap[40], copy[40], list[128], body[256], path[128],
        file[800], snap_file[800], copy_file[800];
    json_t *j;
    tl_resp r;

    assert_host_up();
    volume_create("{\"name\":\"secret-1\",\"size_gib\":1,\"type\":\"enc\"}", enc);
    volume_create("{\"name\":\"clear-1\",\"size_gib\":1,\"type\":\"plain\"}", plain);
    j = volume_get(enc);
    ck_assert_msg(json_is_true(json_object_get(j, "encrypted")), "not encrypted: %s",
                  json_dumps(j, 0));
    json_decref(j);

    /* Guest C writes the same marker on both (blank) volumes and reads it back. */
    snprintf(list, sizeof(list), "[\"%s\",\"%s\"]", enc, plain);
    instance_create("vm-c", secret, "", list, c);
    expect_text(c, "DISK", enc, "empty");
    expect_text(c, "WROTE", enc, secret);
    expect_text(c, "WROTE", plain, secret);

    /* A live snapshot of the encrypted volume, restored into a new encrypted volume (each
     * with a key of its own) and hot-attached: the guest reads the marker there too. */
    snprintf(body, sizeof(body), "{\"name\":\"secret-snap\",\"volume\":\"%s\"}", enc);
    accepted(tl_call_ok(&bed.sovd, "POST", "/v1/snapshots", bed.tenant.token[TL_MEMBER], body,
                        202), "snapshot", snap);
    snprintf(body, sizeof(body), "{\"name\":\"secret-copy\",\"type\":\"enc\","
             "\"source\":{\"type\":\"snapshot\",\"id\":\"%s\"}}", snap);
    volume_create(body, copy);
    snprintf(body, sizeof(body), "{\"action\":\"attach\",\"instance\":\"%s\"}", c);
    volume_act(copy, body, "in-use");
    expect_text(c, "DISK", copy, secret);

    snprintf(body, sizeof(body), "{\"action\":\"detach\",\"instance\":\"%s\"}", c);
    volume_act(enc, body, "available");
    volume_act(plain, body, "available");
    volume_act(copy, body, "available");

    /* The plain volume's file holds the marker (the search works); the LUKS one does not. */
    volume_file(plain, file, sizeof(file));
    ck_assert_msg(file_holds(file, secret), "the plain volume's file %s lacks the marker",
                  file);
    volume_file(enc, file, sizeof(file));
    ck_assert_msg(!file_holds(file, secret), "the encrypted volume's file %s holds the "
                  "marker in clear", file);
    ck_assert_msg(!file_holds(file, "SOV-SECRET"), "%s holds the marker's prefix", file);
    snprintf(snap_file, sizeof(snap_file), "%s/sov-snap-%s", pool_path, snap);
    ck_assert_msg(!file_holds(snap_file, "SOV-SECRET"), "the snapshot's file %s holds the "
                  "marker in clear", snap_file);
    volume_file(copy, copy_file, sizeof(copy_file));
    ck_assert_msg(!file_holds(copy_file, "SOV-SECRET"), "the restored volume's file %s holds "
                  "the marker in clear", copy_file);

    /* Crypto-shredding: the KEK goes, and with it every way to read the volume. */
    snprintf(path, sizeof(path), "/v1/tenants/%s/kek", bed.tenant.id);
    tl_call(&bed.sovd, "DELETE", path, bed.op, NULL, &r);
    ck_assert_msg(r.status == 204, "DELETE %s: %ld %s", path, r.status, r.body);
    tl_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", enc);
    snprintf(body, sizeof(body), "{\"action\":\"attach\",\"instance\":\"%s\"}", c);
    tl_call(&bed.sovd, "POST", path, bed.tenant.token[TL_MEMBER], body, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    ck_assert_msg(strstr(r.body, "key-encryption key"), "the refusal does not say why: %s",
                  r.body);
    tl_resp_free(&r);
    assert_volume_state(enc, "available");
    snprintf(path, sizeof(path), "/v1/volumes/%s/actions", copy);
    tl_call(&bed.sovd, "POST", path, bed.tenant.token[TL_MEMBER], body, &r);
    tl_assert_problem(&r, 409, "/problems/conflict");
    tl_resp_free(&r);
    ck_assert_msg(!file_holds(file, secret), "%s holds the marker after the shredding", file);

    /* The plain volume is not the KEK's: it still attaches. */
    volume_act(plain, body, "in-use");
    instance_delete(c);
    printf("encrypted: marker read back in the guest, absent from the volume's qcow2 file; "
           "attach refused after the KEK's destruction\n");
    fflush(stdout);
}
END_TEST

/* ---- booting from a volume ---- */

/* The user-data of a guest that boots from a volume: it names its boot disk's serial (sovd
 * sets a volume's to the volume's id) and writes MARK into a file of that disk's own FAT file
 * system, reading it back after an unmount. */
static const char BOOT_SCRIPT[] =
    "#!/bin/sh\n"
    "echo \"BOOTDISK $(cat /sys/block/vda/serial)\"\n"
    "mkdir -p /run/boot\n"
    "mount -t vfat /dev/vda /run/boot || exit 3\n"
    "printf '%%s\\n' '%s' > /run/boot/sovmark.txt\n"
    "sync; umount /run/boot; blockdev --flushbufs /dev/vda\n"
    "echo 3 > /proc/sys/vm/drop_caches\n"
    "mount -t vfat -o ro /dev/vda /run/boot || exit 4\n"
    "echo \"BOOTWROTE $(cat /run/boot/sovmark.txt)\"\n"
    "umount /run/boot\n";

/* POST /v1/instances with a boot volume: boot is the members that say which (a JSON object
 * text); the guest runs BOOT_SCRIPT(mark). Waits until it runs; its domain goes at exit. */
static void
instance_boot(const char *name, const char *boot, const char *mark, char id[40])
{
    char script[sizeof(BOOT_SCRIPT) + 128], cmd[512];
    json_t *body, *j;
    char *text;

    snprintf(script, sizeof(script), BOOT_SCRIPT, mark);
    body = json_loads(boot, 0, NULL);
    ck_assert_msg(body, "bad JSON: %s", boot);
    json_object_set_new(body, "name", json_string(name));
    json_object_set_new(body, "flavor", json_string("e2e-tiny"));
    json_object_set_new(body, "user_data", json_string(script));
    text = json_dumps(body, 0);
    j = tl_call_ok(&bed.sovd, "POST", "/v1/instances", bed.tenant.token[TL_MEMBER], text, 202);
    snprintf(id, 40, "%s", tl_str(json_object_get(j, "instance"), "id"));
    snprintf(cmd, sizeof(cmd), "virsh -q -c " URI " destroy 'sov-%s';"
             " virsh -q -c " URI " undefine 'sov-%s'", id, id);
    tl_sh_at_exit("%s", cmd);
    accepted(j, NULL, NULL);
    free(text);
    json_decref(body);
}

/* The guest runs from volume vol: the domain's vda is the volume's file, the instance has no
 * overlay of its own in the pool, and the guest itself sees the volume's serial on vda and
 * wrote mark into the file system there. */
static void
assert_boots_from(const char *inst, const char *vol, const char *mark)
{
    char file[800], overlay[800], want[256], serial[SERIAL_LEN + 1], *out, *line, *next, *end,
        *got;
    int rc;

    volume_file(vol, file, sizeof(file));
    out = tl_sh_out(&rc, "virsh -q -c " URI " dumpxml 'sov-%s'", inst);
    ck_assert_msg(rc == 0, "dumpxml sov-%s: %s", inst, out);
    /* The <disk> element whose target is vda: from the last "<disk " before it. */
    end = strstr(out, "<target dev='vda'");
    ck_assert_msg(end, "the domain has no vda: %s", out);
    *end = '\0';
    line = out;
    while ((next = strstr(line + 1, "<disk ")))
        line = next;
    snprintf(want, sizeof(want), "<source pool='%s' volume='sov-vol-%s'", bed.pool, vol);
    ck_assert_msg(strstr(line, want), "vda of sov-%s is not volume %s's file in pool %s: %s",
                  inst, vol, bed.pool, line);
    free(out);
    snprintf(overlay, sizeof(overlay), "%s/sov-%s-disk", pool_path, inst);
    ck_assert_msg(access(overlay, F_OK) != 0, "an instance booted from a volume has an "
                  "overlay %s", overlay);

    free(tl_console_expect(console_read, (void *) inst, TL_GUEST_UP, CONSOLE_WAIT_S));
    free(tl_console_expect(console_read, (void *) inst, TL_GUEST_USERDATA_BEGIN,
                           CONSOLE_WAIT_S));
    snprintf(serial, sizeof(serial), "%.*s", SERIAL_LEN, vol);
    got = tl_console_expect(console_read, (void *) inst, "BOOTDISK ", CONSOLE_WAIT_S);
    ck_assert_msg(strcmp(got, serial) == 0, "the guest's vda has serial '%s', not '%s'", got,
                  serial);
    free(got);
    got = tl_console_expect(console_read, (void *) inst, "BOOTWROTE ", CONSOLE_WAIT_S);
    ck_assert_msg(strcmp(got, mark) == 0, "the guest read back '%s', not '%s'", got, mark);
    free(got);
    got = tl_console_expect(console_read, (void *) inst, TL_GUEST_USERDATA_END, CONSOLE_WAIT_S);
    ck_assert_msg(strcmp(got, "0") == 0, "the user-data ended with rc=%s", got);
    free(got);
}

/* The volume's one attachment: instance inst at vda, as its boot disk. */
static void
assert_boot_attachment(const json_t *v, const char *inst)
{
    const json_t *atts = json_object_get(v, "attachments");
    const json_t *a = json_array_get(atts, 0);

    ck_assert_msg(json_array_size(atts) == 1 && a, "not one attachment: %s", json_dumps(v, 0));
    ck_assert_str_eq(tl_str(a, "instance"), inst);
    ck_assert_str_eq(tl_str(a, "device"), "vda");
    ck_assert_msg(json_is_true(json_object_get(a, "boot")), "not the boot disk: %s",
                  json_dumps(v, 0));
    ck_assert_str_eq(tl_str(v, "state"), "in-use");
}

/* The events of a volume's residency history, joined with ','. */
static void
volume_history(const char *id, char *out, size_t size)
{
    char path[128];
    json_t *j, *e;
    size_t i, n = 0;

    snprintf(path, sizeof(path), "/v1/volumes/%s/residency", id);
    j = tl_call_ok(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, 200);
    out[0] = '\0';
    json_array_foreach(json_object_get(j, "items"), i, e)
        n += (size_t) snprintf(out + n, size - n, "%s%s", n ? "," : "", tl_str(e, "event"));
    json_decref(j);
}

START_TEST(a_guest_boots_from_a_new_volume_that_goes_with_it_and_from_a_kept_one)
{
    static const char mark_new[] = "SOV-BOOT-NEW-e2e", mark_kept[] = "SOV-BOOT-KEPT-e2e";
    char golden[40], vol[40], x[40], y[40], body[256], file[800], path[128], events[256];
    double t0 = tl_now(), t_new, t_kept;
    json_t *j, *v;
    size_t i;
    bool listed = false;
    time_t until;

    assert_host_up();

    /* An instance with boot {image, size_gib, type}: a new 2 GiB volume of the image, which
     * the guest runs from. */
    instance_boot("vm-boot", "{\"boot\":{\"image\":\"guest\",\"size_gib\":2,\"type\":\"plain\"}}",
                  mark_new, x);
    snprintf(path, sizeof(path), "/v1/instances/%s", x);
    j = tl_call_ok(&bed.sovd, "GET", path, bed.tenant.token[TL_READER], NULL, 200);
    ck_assert_str_eq(tl_str(j, "state"), "running");
    ck_assert_msg(json_is_string(json_object_get(j, "boot_volume")), "no boot_volume: %s",
                  json_dumps(j, 0));
    ck_assert_msg(json_is_null(json_object_get(j, "image_id")), "an image of its own: %s",
                  json_dumps(j, 0));
    snprintf(vol, sizeof(vol), "%s", tl_str(j, "boot_volume"));
    json_decref(j);
    assert_boots_from(x, vol, mark_new);
    t_new = tl_now() - t0;

    /* The volume is listed, in use as the instance's boot disk, of the size and type asked. */
    j = tl_call_ok(&bed.sovd, "GET", "/v1/volumes", bed.tenant.token[TL_READER], NULL, 200);
    json_array_foreach(json_object_get(j, "items"), i, v) {
        if (strcmp(tl_str(v, "id"), vol) != 0)
            continue;
        listed = true;
        assert_boot_attachment(v, x);
        ck_assert_str_eq(tl_str(v, "name"), "vm-boot-boot");
        ck_assert_int_eq(tl_num(v, "size_gib"), 2);
        ck_assert_str_eq(tl_str(v, "type"), "plain");
        ck_assert_str_eq(tl_str(json_object_get(v, "source"), "type"), "image");
    }
    ck_assert_msg(listed, "GET /v1/volumes lacks the boot volume %s: %s", vol,
                  json_dumps(j, 0));
    json_decref(j);

    /* The instance's delete takes the volume it made: state deleted, file gone, recorded. */
    volume_file(vol, file, sizeof(file));
    instance_delete(x);
    until = time(NULL) + OP_WAIT_S;
    for (;;) {
        v = volume_get(vol);
        if (strcmp(tl_str(v, "state"), "deleted") == 0)
            break;
        ck_assert_msg(time(NULL) < until, "the boot volume is not deleted %d s after its "
                      "instance: %s", OP_WAIT_S, json_dumps(v, 0));
        json_decref(v);
        usleep(200 * 1000);
    }
    ck_assert_msg(json_array_size(json_object_get(v, "attachments")) == 0, "still attached: %s",
                  json_dumps(v, 0));
    json_decref(v);
    ck_assert_msg(access(file, F_OK) != 0, "the deleted boot volume's file %s is still there",
                  file);
    volume_history(vol, events, sizeof(events));
    ck_assert_msg(strstr(events, "deleted") && strcmp(events + strlen(events) - 7, "deleted") == 0,
                  "the boot volume's residency does not end with its deletion: %s", events);

    /* boot_volume: an existing volume made from the image; the guest runs from it and writes
     * into it; the instance's delete keeps it, available, with what the guest wrote. */
    t0 = tl_now();
    volume_create("{\"name\":\"golden-1\",\"size_gib\":1,\"type\":\"plain\","
                  "\"source\":{\"image\":\"guest\"}}", golden);
    volume_file(golden, file, sizeof(file));
    ck_assert_msg(!file_holds(file, mark_kept), "%s holds the marker before any guest", file);
    snprintf(body, sizeof(body), "{\"boot_volume\":\"%s\"}", golden);
    instance_boot("vm-kept", body, mark_kept, y);
    v = volume_get(golden);
    assert_boot_attachment(v, y);
    json_decref(v);
    assert_boots_from(y, golden, mark_kept);
    t_kept = tl_now() - t0;
    instance_delete(y);
    assert_volume_state(golden, "available");
    v = volume_get(golden);
    ck_assert_msg(json_array_size(json_object_get(v, "attachments")) == 0, "still attached: %s",
                  json_dumps(v, 0));
    json_decref(v);
    volume_file(golden, file, sizeof(file));
    ck_assert_msg(file_holds(file, mark_kept), "the kept boot volume's file %s lacks what the "
                  "guest wrote", file);
    volume_history(golden, events, sizeof(events));
    ck_assert_msg(!strstr(events, "deleted"), "the kept volume's residency says deleted: %s",
                  events);

    printf("boot from volume: a new boot volume's guest wrote into it %.1f s after the "
           "instance create; an existing volume (made from the image) likewise after %.1f s "
           "from its own create\n", t_new, t_kept);
    fflush(stdout);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("e2e/storage");
    TCase *tc = tcase_create("storage");

    tcase_add_unchecked_fixture(tc, bed_up, bed_down);
    tcase_set_timeout(tc, 580);
    tcase_add_test(tc, a_volume_moves_between_guests_grows_online_and_is_restored_from_a_snapshot);
    tcase_add_test(tc, an_encrypted_volume_reads_in_the_guest_only_and_is_shredded_with_its_kek);
    tcase_add_test(tc, a_guest_boots_from_a_new_volume_that_goes_with_it_and_from_a_kept_one);
    suite_add_tcase(s, tc);
    return tl_run_suite(s);
}
